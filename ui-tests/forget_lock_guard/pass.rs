//! An event bus and plugin host that uses `mem::forget`, `ManuallyDrop` and `Box::leak`
//! on purpose, and takes plenty of locks, but never forgets a lock guard in ordinary
//! code: the forgotten values are files, wakers, libraries, maps and permits; guards
//! are dropped, or released through `ManuallyDrop::drop`/`into_inner`; the one leaked
//! guard is in an `unsafe fn` whose contract covers it; the rest is test code. Nothing
//! here is reported.

use std::collections::HashMap;
use std::fs::File;
use std::io;
use std::mem::{self, ManuallyDrop};
use std::os::fd::{FromRawFd, RawFd};
use std::sync::{Arc, Mutex, RwLock};
use std::task::{RawWaker, RawWakerVTable, Waker};
use std::time::Duration;

use tokio::sync::Semaphore;

#[derive(Clone, Debug, Default)]
pub struct Settings {
    pub region: String,
    pub max_batch: usize,
}

#[derive(Default)]
pub struct BusState {
    pub version: u64,
    pub subscribers: usize,
}

#[derive(Debug)]
pub enum Op {
    Put(String, u64),
    Delete(String),
}

#[derive(Default)]
pub struct Table {
    rows: HashMap<String, u64>,
    generation: u64,
}

impl Table {
    fn apply(&mut self, op: &Op) {
        match op {
            Op::Put(k, v) => {
                self.rows.insert(k.clone(), *v);
            }
            Op::Delete(k) => {
                self.rows.remove(k);
            }
        }
    }
}

pub struct Bus {
    state: Mutex<BusState>,
    table: RwLock<Table>,
    queue: Mutex<Vec<Op>>,
    settings: RwLock<Settings>,
    plugins: Mutex<HashMap<String, libloading::Library>>,
    parked: Mutex<Option<(*const (), &'static RawWakerVTable)>>,
    publish_permits: Arc<Semaphore>,
}

impl Bus {
    /// The usual shape: release the guard with `drop` before the slow part.
    pub fn publish(&self, topic: &str) -> u64 {
        let mut state = self.state.lock().unwrap();
        state.version += 1;
        let version = state.version;
        drop(state);
        tracing::debug!(topic, version, "published");
        version
    }

    /// The guard sits in `ManuallyDrop` so a panic in `apply` cannot hand readers a
    /// half-applied batch (the table stays locked instead); on the normal path it is
    /// released explicitly with `ManuallyDrop::drop` at the end of the function.
    pub fn apply_batch(&self, batch: &[Op]) {
        let mut table = ManuallyDrop::new(self.table.write().unwrap());
        for op in batch {
            table.apply(op);
        }
        table.generation += 1;
        // SAFETY: `table` is not used after this point.
        unsafe { ManuallyDrop::drop(&mut table) };
    }

    /// Same idea with `ManuallyDrop::into_inner`: the guard comes back out and is dropped.
    pub fn drain_into(&self, sink: &mut Vec<Op>) -> usize {
        let mut queue = ManuallyDrop::new(self.queue.lock().unwrap());
        sink.extend(queue.drain(..));
        let guard = ManuallyDrop::into_inner(queue);
        drop(guard);
        sink.len()
    }

    /// A `&'static Settings` for the request path: a *clone* of the settings is leaked
    /// (once per reload), not the read guard, which is a temporary dropped at the `;`.
    pub fn leak_settings_snapshot(&self) -> &'static Settings {
        Box::leak(Box::new(self.settings.read().unwrap().clone()))
    }

    /// Unloading a library whose thread-local destructors may still run is unsound, so
    /// removed plugins stay mapped. The forgotten value is the `Library` taken out of
    /// the map; the guard around the map is a temporary, released at the end of `if let`.
    pub fn unload_plugin(&self, name: &str) -> bool {
        if let Some(lib) = self.plugins.lock().unwrap().remove(name) {
            mem::forget(lib);
            return true;
        }
        false
    }

    /// Wakes the parked consumer without consuming the table's reference to the waker
    /// data: the reconstructed `Waker` is forgotten, the guard is dropped normally.
    pub fn wake_parked(&self) {
        let parked = self.parked.lock().unwrap();
        if let Some((data, vtable)) = *parked {
            drop(parked);
            let waker = unsafe { Waker::from_raw(RawWaker::new(data, vtable)) };
            waker.wake_by_ref();
            mem::forget(waker);
        }
    }

    /// Permanently lowers publish concurrency during an overload: `forget` on a
    /// semaphore permit is tokio's documented way to remove permits. Not a lock guard.
    pub async fn shed_publish_capacity(&self) -> Result<(), tokio::sync::AcquireError> {
        let permit = self.publish_permits.acquire().await?;
        permit.forget();
        Ok(())
    }
}

/// Flushes a descriptor the C side owns, without closing it: the `File` is forgotten.
pub fn sync_borrowed_fd(fd: RawFd) -> io::Result<()> {
    let file = unsafe { File::from_raw_fd(fd) };
    let result = file.sync_all();
    mem::forget(file);
    result
}

/// Maps the routing snapshot for the lifetime of the process.
pub fn map_routing_snapshot(path: &std::path::Path) -> io::Result<&'static [u8]> {
    let file = File::open(path)?;
    let map = unsafe { memmap2::Mmap::map(&file)? };
    let bytes: &'static [u8] = unsafe { std::slice::from_raw_parts(map.as_ptr(), map.len()) };
    mem::forget(map);
    Ok(bytes)
}

/// Process-wide settings, built once at startup and leaked on purpose.
pub fn install_settings(region: String) -> &'static Settings {
    let settings = Settings { region, max_batch: 512 };
    Box::leak(Box::new(settings))
}

#[derive(Default)]
pub struct Registry {
    pub handlers: usize,
}

static REGISTRY: parking_lot::Mutex<Registry> = parking_lot::const_mutex(Registry { handlers: 0 });

/// Hands the registry to the code that runs after `fork` in the child, just before
/// `exec`.
///
/// # Safety
///
/// Call at most once, after every other thread is gone. The registry is never locked
/// again in this process, which is why leaking the guard is part of the contract.
pub unsafe fn leak_registry_for_exec() -> &'static mut Registry {
    let guard = REGISTRY.lock();
    parking_lot::MutexGuard::leak(guard)
}

impl Bus {
    pub fn try_publish_for(&self, wait: Duration) -> Result<u64, &'static str> {
        let deadline = std::time::Instant::now() + wait;
        loop {
            if let Ok(mut state) = self.state.try_lock() {
                state.version += 1;
                return Ok(state.version);
            }
            if std::time::Instant::now() >= deadline {
                return Err("bus state is busy");
            }
            std::thread::yield_now();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bus() -> Bus {
        Bus {
            state: Mutex::new(BusState::default()),
            table: RwLock::new(Table::default()),
            queue: Mutex::new(Vec::new()),
            settings: RwLock::new(Settings::default()),
            plugins: Mutex::new(HashMap::new()),
            parked: Mutex::new(None),
            publish_permits: Arc::new(Semaphore::new(4)),
        }
    }

    /// Test code: a wedged lock is simulated by forgetting its guard.
    #[test]
    fn try_publish_gives_up_when_state_is_wedged() {
        let bus = bus();
        std::mem::forget(bus.state.lock().unwrap());
        assert!(bus.try_publish_for(Duration::from_millis(10)).is_err());
    }

    #[test]
    fn apply_batch_waits_for_a_leaked_reader() {
        let bus = Arc::new(bus());
        let reader = ManuallyDrop::new(bus.table.read().unwrap());
        assert_eq!(reader.generation, 0);
        assert!(bus.table.try_write().is_err());
    }

    #[tokio::test]
    async fn leaked_async_guard_blocks_the_next_locker() {
        let lock = Arc::new(tokio::sync::Mutex::new(0u32));
        let guard = Arc::clone(&lock).lock_owned().await;
        let _leaked = Box::leak(Box::new(guard));
        assert!(lock.try_lock().is_err());
    }
}
