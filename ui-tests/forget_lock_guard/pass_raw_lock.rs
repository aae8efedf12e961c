//! `lock_api` adapters for a ticket lock and a reader-writer spin lock (the shape of
//! spin's `lock_api` feature). `RawMutex::lock` and `RawRwLock::lock_exclusive` return
//! nothing, so the adapters take the lock through the guard-returning API and forget
//! the guard; `unlock*` rebuilds a guard and drops it. Code inside `RawMutex`/
//! `RawRwLock*` impls is the lock implementation itself: nothing here is reported.

use core::cell::UnsafeCell;
use core::hint::spin_loop;
use core::marker::PhantomData;
use core::mem;
use core::ops::{Deref, DerefMut};
use core::sync::atomic::{AtomicUsize, Ordering};

use lock_api::{GuardSend, RawMutex, RawRwLock, RawRwLockUpgrade};

/// A FIFO ticket lock.
pub struct TicketLock<T> {
    next_ticket: AtomicUsize,
    now_serving: AtomicUsize,
    data: UnsafeCell<T>,
}

unsafe impl<T: Send> Sync for TicketLock<T> {}

pub struct TicketGuard<'a, T> {
    lock: &'a TicketLock<T>,
}

impl<T> TicketLock<T> {
    pub const fn new(data: T) -> Self {
        TicketLock { next_ticket: AtomicUsize::new(0), now_serving: AtomicUsize::new(0), data: UnsafeCell::new(data) }
    }

    pub fn lock(&self) -> TicketGuard<'_, T> {
        let ticket = self.next_ticket.fetch_add(1, Ordering::Relaxed);
        while self.now_serving.load(Ordering::Acquire) != ticket {
            spin_loop();
        }
        TicketGuard { lock: self }
    }

    pub fn try_lock(&self) -> Option<TicketGuard<'_, T>> {
        let ticket = self.now_serving.load(Ordering::Relaxed);
        self.next_ticket
            .compare_exchange(ticket, ticket + 1, Ordering::Acquire, Ordering::Relaxed)
            .ok()
            .map(|_| TicketGuard { lock: self })
    }
}

impl<T> Drop for TicketGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.now_serving.fetch_add(1, Ordering::Release);
    }
}

impl<T> Deref for TicketGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        unsafe { &*self.lock.data.get() }
    }
}

unsafe impl RawMutex for TicketLock<()> {
    #[allow(clippy::declare_interior_mutable_const)]
    const INIT: Self = TicketLock::new(());

    type GuardMarker = GuardSend;

    fn lock(&self) {
        // The inherent `TicketLock::lock` (inherent methods win over trait methods).
        // Prevent the guard's destructor from running: `unlock` releases the ticket.
        mem::forget(self.lock());
    }

    fn try_lock(&self) -> bool {
        self.try_lock().map(|guard| mem::forget(guard)).is_some()
    }

    unsafe fn unlock(&self) {
        drop(TicketGuard { lock: self });
    }

    fn is_locked(&self) -> bool {
        self.next_ticket.load(Ordering::Relaxed) != self.now_serving.load(Ordering::Relaxed)
    }
}

pub type Mutex<T> = lock_api::Mutex<TicketLock<()>, T>;
pub type MutexGuard<'a, T> = lock_api::MutexGuard<'a, TicketLock<()>, T>;

const WRITER: usize = 1;
const UPGRADED: usize = 2;
const READER: usize = 4;

/// A reader-writer spin lock: bit 0 is the writer, bit 1 the upgradable reader, and
/// the rest counts readers.
pub struct SpinRwLock<T> {
    state: AtomicUsize,
    data: UnsafeCell<T>,
}

unsafe impl<T: Send + Sync> Sync for SpinRwLock<T> {}

pub struct ReadGuard<'a, T> {
    lock: &'a SpinRwLock<T>,
}

pub struct WriteGuard<'a, T> {
    lock: &'a SpinRwLock<T>,
    _not_send: PhantomData<*mut T>,
}

pub struct UpgradableGuard<'a, T> {
    lock: &'a SpinRwLock<T>,
}

impl<T> SpinRwLock<T> {
    pub const fn new(data: T) -> Self {
        SpinRwLock { state: AtomicUsize::new(0), data: UnsafeCell::new(data) }
    }

    pub fn read(&self) -> ReadGuard<'_, T> {
        loop {
            if let Some(guard) = self.try_read() {
                return guard;
            }
            spin_loop();
        }
    }

    pub fn try_read(&self) -> Option<ReadGuard<'_, T>> {
        let prev = self.state.fetch_add(READER, Ordering::Acquire);
        if prev & (WRITER | UPGRADED) != 0 {
            self.state.fetch_sub(READER, Ordering::Release);
            None
        } else {
            Some(ReadGuard { lock: self })
        }
    }

    pub fn write(&self) -> WriteGuard<'_, T> {
        loop {
            if let Some(guard) = self.try_write() {
                return guard;
            }
            spin_loop();
        }
    }

    pub fn try_write(&self) -> Option<WriteGuard<'_, T>> {
        self.state
            .compare_exchange(0, WRITER, Ordering::Acquire, Ordering::Relaxed)
            .ok()
            .map(|_| WriteGuard { lock: self, _not_send: PhantomData })
    }

    pub fn upgradeable_read(&self) -> UpgradableGuard<'_, T> {
        loop {
            if let Some(guard) = self.try_upgradeable_read() {
                return guard;
            }
            spin_loop();
        }
    }

    pub fn try_upgradeable_read(&self) -> Option<UpgradableGuard<'_, T>> {
        if self.state.fetch_or(UPGRADED, Ordering::Acquire) & (WRITER | UPGRADED) == 0 {
            Some(UpgradableGuard { lock: self })
        } else {
            None
        }
    }
}

impl<T> Drop for ReadGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.state.fetch_sub(READER, Ordering::Release);
    }
}

impl<T> Drop for WriteGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.state.fetch_and(!(WRITER | UPGRADED), Ordering::Release);
    }
}

impl<T> Drop for UpgradableGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.state.fetch_sub(UPGRADED, Ordering::AcqRel);
    }
}

impl<T> DerefMut for WriteGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        unsafe { &mut *self.lock.data.get() }
    }
}

impl<T> Deref for WriteGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        unsafe { &*self.lock.data.get() }
    }
}

unsafe impl RawRwLock for SpinRwLock<()> {
    #[allow(clippy::declare_interior_mutable_const)]
    const INIT: Self = SpinRwLock::new(());

    type GuardMarker = GuardSend;

    fn lock_shared(&self) {
        // Prevent the guard's destructor from running.
        core::mem::forget(self.read());
    }

    fn try_lock_shared(&self) -> bool {
        self.try_read().map(|guard| core::mem::forget(guard)).is_some()
    }

    unsafe fn unlock_shared(&self) {
        drop(ReadGuard { lock: self });
    }

    fn lock_exclusive(&self) {
        core::mem::forget(self.write());
    }

    fn try_lock_exclusive(&self) -> bool {
        self.try_write().map(|guard| core::mem::forget(guard)).is_some()
    }

    unsafe fn unlock_exclusive(&self) {
        drop(WriteGuard { lock: self, _not_send: PhantomData });
    }

    fn is_locked(&self) -> bool {
        self.state.load(Ordering::Relaxed) != 0
    }
}

unsafe impl RawRwLockUpgrade for SpinRwLock<()> {
    fn lock_upgradable(&self) {
        let guard = self.upgradeable_read();
        core::mem::forget(guard);
    }

    fn try_lock_upgradable(&self) -> bool {
        self.try_upgradeable_read().map(|guard| core::mem::forget(guard)).is_some()
    }

    unsafe fn unlock_upgradable(&self) {
        drop(UpgradableGuard { lock: self });
    }

    unsafe fn upgrade(&self) {
        while self.state.compare_exchange_weak(UPGRADED, WRITER, Ordering::Acquire, Ordering::Relaxed).is_err() {
            spin_loop();
        }
    }

    unsafe fn try_upgrade(&self) -> bool {
        self.state.compare_exchange(UPGRADED, WRITER, Ordering::Acquire, Ordering::Relaxed).is_ok()
    }
}

pub type RwLock<T> = lock_api::RwLock<SpinRwLock<()>, T>;
pub type RwLockReadGuard<'a, T> = lock_api::RwLockReadGuard<'a, SpinRwLock<()>, T>;
pub type RwLockWriteGuard<'a, T> = lock_api::RwLockWriteGuard<'a, SpinRwLock<()>, T>;
