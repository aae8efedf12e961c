//! Process-lifetime drivers: each is started at most once per process (inside a one-time
//! initialiser or behind an atomic start guard) and is meant to run until exit, like a
//! runtime's own reactor thread. Detached and endless on purpose; not leaks.

use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::{Arc, LazyLock, Mutex, Once, OnceLock};
use std::thread;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use once_cell::sync::Lazy;

pub struct Sample {
    pub name: &'static str,
    pub value: f64,
}

fn write_sample(out: &mut impl Write, sample: &Sample) {
    let _ = writeln!(out, "{} {}", sample.name, sample.value);
}

static METRICS_TX: OnceLock<SyncSender<Sample>> = OnceLock::new();

/// The process-wide metrics writer, started on first use.
pub fn metrics_sender() -> &'static SyncSender<Sample> {
    METRICS_TX.get_or_init(|| {
        let (tx, rx) = sync_channel::<Sample>(1024);
        // Not a leak: spawned inside `get_or_init`, so exactly one writer per process
        // (the async-io reactor shape). The sender lives in a static and never drops.
        thread::Builder::new()
            .name("metrics-writer".into())
            .spawn(move || {
                let mut out = std::io::stderr();
                loop {
                    let sample = rx.recv().expect("the static sender is never dropped");
                    write_sample(&mut out, &sample);
                }
            })
            .expect("failed to spawn metrics writer");
        tx
    })
}

pub struct TimerWheel {
    slots: Mutex<Vec<Vec<SyncSender<()>>>>,
    cursor: AtomicU64,
}

impl TimerWheel {
    fn turn(&self) {
        let idx = self.cursor.fetch_add(1, Ordering::Relaxed) as usize;
        let mut slots = self.slots.lock().unwrap();
        let len = slots.len();
        for waiter in std::mem::take(&mut slots[idx % len]) {
            let _ = waiter.try_send(());
        }
    }
}

/// Global timer wheel; its driver thread is started by `Lazy::new` on first access.
pub static TIMER_WHEEL: Lazy<Arc<TimerWheel>> = Lazy::new(|| {
    let wheel = Arc::new(TimerWheel {
        slots: Mutex::new((0..512).map(|_| Vec::new()).collect()),
        cursor: AtomicU64::new(0),
    });
    let driver = Arc::clone(&wheel);
    // Not a leak: one driver per process, started by the lazy initialiser.
    thread::spawn(move || loop {
        thread::sleep(Duration::from_millis(10));
        driver.turn();
    });
    wheel
});

/// A coarse wall clock in milliseconds, updated by one background thread.
pub static COARSE_NOW_MS: LazyLock<Arc<AtomicU64>> = LazyLock::new(|| {
    let now = Arc::new(AtomicU64::new(unix_millis()));
    let updater = Arc::clone(&now);
    // Not a leak: started once by `LazyLock::new`.
    thread::Builder::new()
        .name("coarse-clock".into())
        .spawn(move || loop {
            thread::sleep(Duration::from_millis(1));
            updater.store(unix_millis(), Ordering::Relaxed);
        })
        .expect("failed to spawn coarse clock");
    now
});

fn unix_millis() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

static PANIC_REPORTER: Once = Once::new();
static PANIC_TX: OnceLock<SyncSender<String>> = OnceLock::new();

fn report_panics(reports: Receiver<String>) {
    loop {
        let report = reports.recv().expect("the static sender is never dropped");
        eprintln!("panic report: {report}");
    }
}

/// Installs the panic hook and its reporter thread; safe to call many times.
pub fn install_panic_reporter() {
    PANIC_REPORTER.call_once(|| {
        let (tx, reports) = sync_channel(64);
        let _ = PANIC_TX.set(tx);
        // Not a leak: `Once::call_once` starts this thread at most once per process.
        thread::spawn(move || report_panics(reports));
        std::panic::set_hook(Box::new(|info| {
            if let Some(tx) = PANIC_TX.get() {
                let _ = tx.try_send(info.to_string());
            }
        }));
    });
}

static REAPER_RUNNING: AtomicBool = AtomicBool::new(false);

fn reap_exited_children() {
    loop {
        // SAFETY: waitpid(-1) only reaps children of this process.
        let pid = unsafe { libc::waitpid(-1, std::ptr::null_mut(), 0) };
        if pid <= 0 {
            thread::sleep(Duration::from_millis(100));
        }
    }
}

/// Starts the child reaper the first time any child process is spawned.
pub fn ensure_child_reaper() {
    if REAPER_RUNNING
        .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
        .is_err()
    {
        return;
    }
    // Not a leak: the compare_exchange guard lets only the first caller start it
    // (the async-process driver shape).
    thread::Builder::new()
        .name("child-reaper".into())
        .spawn(reap_exited_children)
        .expect("failed to spawn child reaper");
}

static GC_STARTED: AtomicBool = AtomicBool::new(false);

pub struct Arena {
    generation: AtomicU64,
}

/// Starts the arena's compaction task once per process.
pub fn ensure_arena_gc(arena: &'static Arena) {
    if GC_STARTED.swap(true, Ordering::AcqRel) {
        return;
    }
    // Not a leak: the `swap` guard makes this a singleton.
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(Duration::from_secs(5));
        loop {
            ticker.tick().await;
            arena.generation.fetch_add(1, Ordering::AcqRel);
        }
    });
}

/// Reaps zombie processes forever: runs for the whole life of the process, like
/// async-process's signal reaper. Never returns.
fn reap_zombies_forever(sigchld: Receiver<()>) -> ! {
    loop {
        let _ = sigchld.recv_timeout(Duration::from_secs(1));
        // SAFETY: WNOHANG makes this non-blocking; it only reaps our own children.
        while unsafe { libc::waitpid(-1, std::ptr::null_mut(), libc::WNOHANG) } > 0 {}
    }
}

pub fn start_zombie_reaper(sigchld: Receiver<()>) {
    // Not a leak: the task function returns `!` and is documented as running forever.
    thread::Builder::new()
        .name("zombie-reaper".into())
        .spawn(move || reap_zombies_forever(sigchld))
        .expect("failed to spawn zombie reaper");
}
