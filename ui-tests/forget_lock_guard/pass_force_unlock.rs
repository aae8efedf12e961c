//! A logging and registry library exposed to C and safe across `fork()`. Two locks are
//! taken in one call and released in another: before `fork` (released in the parent
//! and child handlers), and around a C batch API (`registry_begin_batch` /
//! `registry_end_batch`). A guard cannot cross those calls, so it is forgotten, and the
//! crate releases the same lock with parking_lot's `force_unlock`/`force_unlock_write`.
//! That is a hand-made lock protocol, not a leak: nothing here is reported.

use std::collections::BTreeMap;
use std::ffi::{c_char, c_int, CStr};
use std::io::{self, Write};
use std::mem;
use std::sync::Once;

use parking_lot::{const_mutex, const_rwlock, Mutex, RwLock};

pub struct LogSink {
    out: Option<std::fs::File>,
    buffered: usize,
}

impl LogSink {
    const fn new() -> Self {
        LogSink { out: None, buffered: 0 }
    }

    fn emit(&mut self, line: &str) -> io::Result<()> {
        match self.out.as_mut() {
            Some(out) => {
                self.buffered += line.len();
                writeln!(out, "{line}")
            }
            None => Ok(()),
        }
    }
}

static LOG_SINK: Mutex<LogSink> = const_mutex(LogSink::new());

pub fn log(line: &str) {
    let _ = LOG_SINK.lock().emit(line);
}

/// Hold the log lock across `fork` so the child never inherits it mid-write (a child
/// that inherits a held lock deadlocks on its first log line).
extern "C" fn prepare_fork() {
    mem::forget(LOG_SINK.lock());
}

extern "C" fn parent_after_fork() {
    // SAFETY: `prepare_fork` locked it in this thread and forgot the guard.
    unsafe { LOG_SINK.force_unlock() };
}

extern "C" fn child_after_fork() {
    // SAFETY: as above; the child has exactly one thread, the forking one.
    unsafe { LOG_SINK.force_unlock() };
}

pub fn install_fork_handlers() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| unsafe {
        libc::pthread_atfork(Some(prepare_fork), Some(parent_after_fork), Some(child_after_fork));
    });
}

#[derive(Default)]
pub struct Registry {
    entries: BTreeMap<String, i64>,
    generation: u64,
}

static REGISTRY: RwLock<Registry> = const_rwlock(Registry { entries: BTreeMap::new(), generation: 0 });

/// C API: start a batch of updates that readers must not see half-applied. The write
/// lock is held until `registry_end_batch`.
#[no_mangle]
pub extern "C" fn registry_begin_batch() {
    let batch = REGISTRY.write();
    mem::forget(batch);
}

/// C API: set one entry inside a batch.
///
/// # Safety
///
/// `key` must be a valid NUL-terminated string, and a batch must be open.
#[no_mangle]
pub unsafe extern "C" fn registry_batch_set(key: *const c_char, value: i64) -> c_int {
    let Ok(key) = CStr::from_ptr(key).to_str() else { return -1 };
    let registry = &mut *REGISTRY.data_ptr();
    registry.entries.insert(key.to_owned(), value);
    0
}

/// C API: remove one entry inside a batch.
///
/// # Safety
///
/// As for `registry_batch_set`.
#[no_mangle]
pub unsafe extern "C" fn registry_batch_remove(key: *const c_char) -> c_int {
    let Ok(key) = CStr::from_ptr(key).to_str() else { return -1 };
    let registry = &mut *REGISTRY.data_ptr();
    registry.entries.remove(key).map_or(1, |_| 0)
}

/// C API: end the batch opened by `registry_begin_batch`.
#[no_mangle]
pub extern "C" fn registry_end_batch() {
    // SAFETY: `registry_begin_batch` took the write lock and forgot its guard.
    unsafe {
        (*REGISTRY.data_ptr()).generation += 1;
        REGISTRY.force_unlock_write();
    }
}

pub fn registry_get(key: &str) -> Option<i64> {
    REGISTRY.read().entries.get(key).copied()
}
