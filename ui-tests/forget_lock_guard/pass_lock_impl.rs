//! A serial-console crate for a small runtime that ships its own spin lock. `SpinLock`
//! is defined here, and its "raw" API (lock without a guard, unlock later from another
//! call, as the C side and the panic path need) is built by forgetting guards and
//! clearing the flag by hand. A crate that defines its own lock type is implementing
//! locking, so forgetting guards is how it works: nothing in this crate is reported.

use core::cell::UnsafeCell;
use core::fmt;
use core::hint::spin_loop;
use core::mem;
use core::ops::{Deref, DerefMut};
use core::sync::atomic::{AtomicBool, Ordering};

/// A test-and-test-and-set spin lock.
pub struct SpinLock<T> {
    locked: AtomicBool,
    data: UnsafeCell<T>,
}

unsafe impl<T: Send> Sync for SpinLock<T> {}
unsafe impl<T: Send> Send for SpinLock<T> {}

pub struct SpinLockGuard<'a, T> {
    lock: &'a SpinLock<T>,
}

impl<T> SpinLock<T> {
    pub const fn new(data: T) -> Self {
        SpinLock { locked: AtomicBool::new(false), data: UnsafeCell::new(data) }
    }

    pub fn lock(&self) -> SpinLockGuard<'_, T> {
        while self.locked.compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed).is_err() {
            while self.locked.load(Ordering::Relaxed) {
                spin_loop();
            }
        }
        SpinLockGuard { lock: self }
    }

    pub fn try_lock(&self) -> Option<SpinLockGuard<'_, T>> {
        self.locked
            .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
            .ok()
            .map(|_| SpinLockGuard { lock: self })
    }

    /// Takes the lock without a guard; pair with [`SpinLock::raw_unlock`].
    pub fn raw_lock(&self) {
        mem::forget(self.lock());
    }

    /// Like `raw_lock`, but gives up when the lock is taken.
    pub fn raw_try_lock(&self) -> bool {
        self.try_lock().map(|guard| mem::forget(guard)).is_some()
    }

    /// # Safety
    ///
    /// The lock must be held through `raw_lock`/`raw_try_lock` by the caller.
    pub unsafe fn raw_unlock(&self) {
        self.locked.store(false, Ordering::Release);
    }
}

impl<T> Deref for SpinLockGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        unsafe { &*self.lock.data.get() }
    }
}

impl<T> DerefMut for SpinLockGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        unsafe { &mut *self.lock.data.get() }
    }
}

impl<T> Drop for SpinLockGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.locked.store(false, Ordering::Release);
    }
}

pub struct Uart {
    base: usize,
}

impl Uart {
    pub const fn new(base: usize) -> Self {
        Uart { base }
    }

    fn put_byte(&mut self, byte: u8) {
        unsafe { core::ptr::write_volatile(self.base as *mut u8, byte) };
    }
}

impl fmt::Write for Uart {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for byte in s.bytes() {
            self.put_byte(byte);
        }
        Ok(())
    }
}

static CONSOLE: SpinLock<Uart> = SpinLock::new(Uart::new(0x1000_0000));

/// Called by the C firmware before it prints a multi-line report; `console_release`
/// ends it. The guard cannot cross the FFI boundary, so it is forgotten here and the
/// flag is cleared there.
#[no_mangle]
pub extern "C" fn console_acquire() {
    let guard = CONSOLE.lock();
    mem::forget(guard);
}

#[no_mangle]
pub extern "C" fn console_release() {
    unsafe { CONSOLE.raw_unlock() };
}

/// The panic path takes the console for good: after a panic only the panic message
/// may be printed, and the machine halts after it.
pub fn console_for_panic() -> &'static mut SpinLockGuard<'static, Uart> {
    let guard = match CONSOLE.try_lock() {
        Some(guard) => guard,
        None => {
            // Another core died while printing: steal the lock.
            unsafe { CONSOLE.raw_unlock() };
            CONSOLE.lock()
        }
    };
    Box::leak(Box::new(guard))
}
