//! A storage node's synchronous control plane (std, parking_lot and spin locks). Each
//! function below takes a lock and then forgets or leaks the guard instead of dropping
//! it: the lock is never released, and every later `lock()`/`write()` on it blocks
//! forever (or spins forever, for spin locks). Nothing crashes; the next reload, flush
//! or request just hangs.

use std::ffi::c_void;
use std::fs::File;
use std::io::{self, Write};
use std::mem::{self, forget, ManuallyDrop};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError, RwLock, TryLockError};

#[derive(Clone, Debug, Default)]
pub struct Config {
    pub listen: String,
    pub replicas: u16,
    pub read_only: bool,
}

impl Config {
    fn parse(raw: &str) -> io::Result<Config> {
        toml::from_str(raw).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
    }
}

pub struct ConfigStore {
    current: RwLock<Config>,
    path: PathBuf,
}

impl ConfigStore {
    /// Called by the SIGHUP handler before the file is re-read. The intent is to keep
    /// readers out until `finish_reload` installs the new config, but a forgotten write
    /// guard is never released: `finish_reload` deadlocks on its own `write()`, and so
    /// does every request that reads the config from now on.
    pub fn begin_reload(&self) {
        let frozen = self.current.write().unwrap();
        tracing::info!(path = %self.path.display(), "config frozen for reload");
        mem::forget(frozen); //~ forget_lock_guard
    }

    pub fn finish_reload(&self) -> io::Result<()> {
        let raw = std::fs::read_to_string(&self.path)?;
        let cfg = Config::parse(&raw)?;
        *self.current.write().unwrap() = cfg;
        Ok(())
    }

    /// Pins the routing config for a long scan. `ManuallyDrop` keeps the read guard from
    /// ever running its destructor, so the read lock is held forever and the next
    /// reload (a writer) waits forever.
    pub fn pinned(&self) -> &Config {
        let guard = ManuallyDrop::new(self.current.read().unwrap()); //~ forget_lock_guard
        // SAFETY (claimed): the guard is never dropped, so the data stays borrowed.
        unsafe { &*(&**guard as *const Config) }
    }
}

pub struct Journal {
    file: Mutex<File>,
    sealed_at: Mutex<Option<u64>>,
}

impl Journal {
    /// Shutdown path: flush, fsync, then "stop every writer" by forgetting the guard.
    /// Writers do stop, but they stop by blocking forever inside `append`, which keeps
    /// the request threads (and the graceful-shutdown join that waits for them) stuck.
    pub fn seal(&self, last_lsn: u64) -> io::Result<()> {
        let mut file = self.file.lock().expect("journal lock poisoned");
        file.flush()?;
        file.sync_all()?;
        *self.sealed_at.lock().unwrap() = Some(last_lsn);
        std::mem::forget(file); //~ forget_lock_guard
        Ok(())
    }

    pub fn append(&self, record: &[u8]) -> io::Result<()> {
        let mut file = self.file.lock().expect("journal lock poisoned");
        file.write_all(record)
    }
}

pub struct Index {
    entries: Mutex<std::collections::BTreeMap<String, u64>>,
    compaction: Mutex<()>,
    writers: RwLock<u32>,
}

impl Index {
    /// A test helper that ended up in the library: the chaos endpoint calls it to
    /// simulate a wedged writer. It is not test code (no `#[cfg(test)]`), so in
    /// production it wedges the index for good.
    #[doc(hidden)]
    pub fn wedge_for_tests(&self) {
        let guard = self.entries.lock().unwrap();
        forget(guard); //~ forget_lock_guard
    }

    /// Marks a compaction as "in progress" by taking a lock and keeping it. The flag
    /// can never be cleared: every later compaction sees `WouldBlock` and is skipped.
    pub fn try_start_compaction(&self) -> bool {
        if let Ok(running) = self.compaction.try_lock() {
            mem::forget(running); //~ forget_lock_guard
            return true;
        }
        false
    }

    /// Maintenance mode: grab the writers lock if nobody holds it, and never give it
    /// back. Leaving maintenance mode is impossible without a restart.
    pub fn enter_maintenance(&self) -> Result<(), &'static str> {
        match self.writers.try_write() {
            Ok(exclusive) => core::mem::forget(exclusive), //~ forget_lock_guard
            Err(TryLockError::WouldBlock) => return Err("writers active"),
            Err(TryLockError::Poisoned(_)) => return Err("writers lock poisoned"),
        }
        Ok(())
    }

    /// Same idea written as a combinator: the closure parameter is the write guard.
    pub fn freeze_writers(&self) -> bool {
        self.writers.write().map(|guard| mem::forget(guard)).is_ok() //~ forget_lock_guard
    }
}

pub struct CrashState {
    inflight: Mutex<Vec<u64>>,
}

/// Installed as the panic hook. The default hook does not abort, so only the panicking
/// thread unwinds: the forgotten guard (recovered from a poisoned lock) keeps the
/// in-flight table locked for every other thread for the rest of the process.
pub fn install_crash_hook(state: Arc<CrashState>) {
    std::panic::set_hook(Box::new(move |info| {
        let table = state.inflight.lock().unwrap_or_else(PoisonError::into_inner);
        eprintln!("panic with {} requests in flight: {info}", table.len());
        mem::forget(table); //~ forget_lock_guard
    }));
}

pub struct MetricsSink {
    endpoint: String,
    dropped: u64,
}

static METRICS_SINK: Mutex<Option<MetricsSink>> = Mutex::new(None);

/// Called when the exporter gives up: the sink is "closed" by locking it forever.
/// Every metric call site then blocks on `METRICS_SINK.lock()`, on every thread.
pub fn close_metrics_sink() {
    if let Some(sink) = METRICS_SINK.lock().unwrap().as_ref() {
        tracing::warn!(endpoint = %sink.endpoint, dropped = sink.dropped, "closing metrics sink");
    }
    mem::forget(METRICS_SINK.lock().unwrap()); //~ forget_lock_guard
}

#[repr(C)]
pub struct HandlerTable {
    on_insert: Option<extern "C" fn(*const u8, usize)>,
    on_eject: Option<extern "C" fn(u32)>,
}

static HANDLERS: parking_lot::Mutex<HandlerTable> =
    parking_lot::const_mutex(HandlerTable { on_insert: None, on_eject: None });

mod ffi {
    use std::ffi::c_void;

    extern "C" {
        pub fn device_set_context(dev: *mut c_void, ctx: *mut c_void);
        pub fn profiler_attach(stats: *mut c_void);
    }
}

/// The C driver calls back into `HandlerTable` from its own thread for as long as the
/// device is open, so the guard is leaked to get a `&'static mut` it can point at. The
/// table stays locked forever: `set_insert_handler` below never returns again.
pub fn attach_device(dev: *mut c_void) {
    let guard = HANDLERS.lock();
    let table: &'static mut parking_lot::MutexGuard<'static, _> = Box::leak(Box::new(guard)); //~ forget_lock_guard
    let ctx: *mut HandlerTable = &mut **table;
    unsafe { ffi::device_set_context(dev, ctx.cast()) };
}

pub fn set_insert_handler(cb: extern "C" fn(*const u8, usize)) {
    HANDLERS.lock().on_insert = Some(cb);
}

#[derive(Default)]
pub struct AllocStats {
    pub live: u64,
    pub peak: u64,
}

static ALLOC_STATS: parking_lot::Mutex<AllocStats> =
    parking_lot::const_mutex(AllocStats { live: 0, peak: 0 });

/// Hands the allocation counters to the C profiler, which keeps the pointer.
/// `MutexGuard::leak` turns the guard into `&'static mut` by never unlocking: the
/// allocator's own `ALLOC_STATS.lock()` on the next allocation blocks forever.
pub fn export_stats_to_profiler() {
    let guard = ALLOC_STATS.lock();
    let stats: &'static mut AllocStats = parking_lot::MutexGuard::leak(guard); //~ forget_lock_guard
    unsafe { ffi::profiler_attach((stats as *mut AllocStats).cast()) };
}

pub struct InterruptTable {
    pub handlers: [usize; 256],
}

static INTERRUPTS: spin::RwLock<InterruptTable> = spin::RwLock::new(InterruptTable { handlers: [0; 256] });

/// "After boot the table is read-only", so the write guard is leaked for a `'static`
/// reference. Every later `INTERRUPTS.read()` (the dispatcher) spins forever.
pub fn seal_interrupt_table() -> &'static mut InterruptTable {
    let table = INTERRUPTS.write();
    spin::RwLockWriteGuard::leak(table) //~ forget_lock_guard
}
