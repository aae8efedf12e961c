//! Which OS threads did the test start, and which of them are still running?
//!
//! Linux only. The test harness runs tests in parallel threads of one process, so "threads
//! that exist now and did not before" would blame a test for threads another test started.
//! A new thread must be *attributed* to the test instead, and Linux tracks no parent thread.
//! What a new thread does inherit from the thread that creates it is its signal mask
//! (`pthread_create`: "the new thread inherits a copy of the creating thread's signal mask").
//! So the check marks the calling thread by blocking a pattern of real-time signals while the
//! test runs; the runtime's threads, the threads the test starts, the threads those start, and
//! so on all carry the pattern (`SigBlk` in `/proc/self/task/<tid>/status`), and threads that
//! other tests start do not.
//!
//! The pattern: two of the four highest real-time signals blocked, the other two unblocked
//! (six patterns). A thread that blocks every signal or none never matches. Checks are
//! serialized by a process-wide lock, so a pattern never belongs to two running checks, and
//! each check uses the next pattern, so a thread leaked by one of the previous five checks that
//! keeps starting threads is not blamed on this one. Threads that existed before the check are
//! never reported; the runtime's own threads (workers and blocking pool) record their tids when
//! they start and are reported only if they are still running after the runtime's shutdown (a
//! `spawn_blocking` closure or a task that blocks its worker).
//!
//! glibc and musl start every thread with all signals blocked and install the inherited mask a
//! moment later, so a new thread with every one of the four blocked is *undecided*: the check
//! keeps looking (up to its grace period) until it is decided, and leaves it out if it never is
//! (some C libraries block every signal in their threads for good).
//!
//! Side effect: the four signals are blocked or unblocked in the test's threads. Few programs
//! use the highest real-time signals; a test that sends one of them to a specific thread would
//! see it stay pending.

use std::collections::HashSet;
use std::fs;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use crate::{Config, LeakedThread};

/// Serializes checks: at most one thread pattern is live at a time (see the module docs).
static CHECK_LOCK: Mutex<()> = Mutex::new(());

/// The pattern the next check uses, modulo [`PATTERNS`].
static GENERATION: AtomicUsize = AtomicUsize::new(0);

/// Indices (into the four marker signals) of the two blocked ones.
const PATTERNS: [[usize; 2]; 6] = [[0, 1], [2, 3], [0, 2], [1, 3], [0, 3], [1, 2]];

/// A thread still running when the check looked for the last time.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Found {
    pub tid: u32,
    /// `/proc/self/task/<tid>/comm`: the thread's name, cut to 15 bytes by the kernel.
    pub name: String,
}

/// The threads the test left behind, as seen at one moment.
#[derive(Debug, Default, PartialEq, Eq)]
struct Scan {
    /// Started (directly or not) by the test and not one of the runtime's own threads.
    pub started: Vec<Found>,
    /// The runtime's own threads, still running although the runtime was shut down.
    pub runtime: Vec<Found>,
    /// New threads with every signal blocked: glibc and musl start each new thread that way
    /// and install the inherited mask a moment later, so such a thread may yet turn out to be
    /// the test's. (Or it blocks everything for good, and is nobody's to report.)
    pub undecided: usize,
}

impl Scan {
    /// Nothing to report, and nothing that may still turn out to be reportable.
    pub fn is_settled(&self) -> bool {
        self.started.is_empty() && self.runtime.is_empty() && self.undecided == 0
    }
}

enum Mark {
    Marked,
    Unmarked,
    /// Every one of the four signals blocked: see [`Scan::undecided`].
    Undecided,
}

/// Marks the calling thread for the duration of one check and tells the test's threads apart.
/// Dropping it restores the calling thread's signal mask and releases the lock.
pub(crate) struct ThreadWatch {
    before: HashSet<u32>,
    runtime: Arc<Mutex<HashSet<u32>>>,
    /// The real-time signal numbers whose blocked/unblocked state is the pattern.
    signals: [i32; 4],
    blocked: [bool; 4],
    /// The calling thread's mask before the check, and with the pattern.
    old_mask: libc::sigset_t,
    marked_mask: libc::sigset_t,
    /// The calling thread's name: an unnamed thread the test starts from it inherits it.
    caller_name: String,
    _lock: MutexGuard<'static, ()>,
}

impl ThreadWatch {
    /// Takes the lock, snapshots the threads and marks the calling thread. `None` when
    /// `/proc/self/task` cannot be read (the thread check is then skipped, never failed).
    pub fn start() -> Option<ThreadWatch> {
        let lock = CHECK_LOCK.lock().unwrap_or_else(PoisonError::into_inner);
        // A thread missed here that carries this check's pattern would be blamed on it: read
        // three times; and the calling thread, which does carry it, is left out by its tid.
        let caller = current_tid();
        let mut before = list_tids(3)?;
        before.insert(caller);
        let caller_name = read_name(caller)?;
        let max = libc::SIGRTMAX();
        let signals = [max - 3, max - 2, max - 1, max];
        // Four signals out of the real-time range, which glibc and musl size at 30 or more.
        if signals[0] <= libc::SIGRTMIN() {
            return None;
        }
        let pattern = PATTERNS[GENERATION.fetch_add(1, Ordering::Relaxed) % PATTERNS.len()];
        let blocked = [0, 1, 2, 3].map(|i| pattern.contains(&i));
        // SAFETY: sigset_t is plain data (all zeroes is a valid value, overwritten by the first
        // pthread_sigmask); sigaddset/sigdelset edit a local copy with valid signal numbers;
        // pthread_sigmask only reads or changes the calling thread's mask.
        let (old_mask, marked_mask) = unsafe {
            let mut old: libc::sigset_t = std::mem::zeroed();
            if libc::pthread_sigmask(libc::SIG_SETMASK, std::ptr::null(), &mut old) != 0 {
                return None;
            }
            let mut new = old;
            for (&sig, &block) in signals.iter().zip(&blocked) {
                if block {
                    libc::sigaddset(&mut new, sig);
                } else {
                    libc::sigdelset(&mut new, sig);
                }
            }
            if libc::pthread_sigmask(libc::SIG_SETMASK, &new, std::ptr::null_mut()) != 0 {
                return None;
            }
            (old, new)
        };
        Some(ThreadWatch {
            before,
            runtime: Arc::default(),
            signals,
            blocked,
            old_mask,
            marked_mask,
            caller_name,
            _lock: lock,
        })
    }

    /// For the runtime's `on_thread_start`: records the calling thread as one of the runtime's.
    pub fn runtime_thread_registrar(&self) -> impl Fn() + Send + Sync + 'static {
        let runtime = Arc::clone(&self.runtime);
        move || {
            runtime.lock().unwrap_or_else(PoisonError::into_inner).insert(current_tid());
        }
    }

    /// The name a thread has when the test started it without naming it: the name of the
    /// thread that started it (the test's thread or a runtime thread).
    fn name_is_inherited(&self, name: &str) -> bool {
        name == self.caller_name || name.starts_with(crate::RUNTIME_THREAD_PREFIX)
    }

    /// Runs `f` with the calling thread unmarked, so that threads it starts (for the checker's
    /// own purposes) are not taken for the test's.
    #[cfg_attr(not(all(tokio_unstable, feature = "taskdump")), allow(dead_code))]
    pub fn unmarked<T>(&self, f: impl FnOnce() -> T) -> T {
        // SAFETY: as in `start`; both masks were built there for this thread.
        unsafe { libc::pthread_sigmask(libc::SIG_SETMASK, &self.old_mask, std::ptr::null_mut()) };
        let result = f();
        unsafe { libc::pthread_sigmask(libc::SIG_SETMASK, &self.marked_mask, std::ptr::null_mut()) };
        result
    }

    /// The test's threads that are running now, minus the ones `ignore` says to leave alone.
    fn scan(&self, ignore: &[String]) -> Scan {
        let mut scan = Scan::default();
        // Missing a leaked thread here would let the check pass: read twice.
        let Some(tids) = list_tids(2) else { return scan };
        let runtime = self.runtime.lock().unwrap_or_else(PoisonError::into_inner).clone();
        let mut tids: Vec<u32> = tids.into_iter().filter(|tid| !self.before.contains(tid)).collect();
        tids.sort_unstable();
        for tid in tids {
            // A thread that exits while it is looked at is gone: skip it.
            let Some(name) = read_name(tid) else { continue };
            if runtime.contains(&tid) {
                scan.runtime.push(Found { tid, name });
                continue;
            }
            match self.mark(tid) {
                Mark::Marked if !ignore.iter().any(|prefix| name_matches(&name, prefix)) => {
                    scan.started.push(Found { tid, name })
                }
                Mark::Undecided => scan.undecided += 1,
                Mark::Marked | Mark::Unmarked => {}
            }
        }
        scan
    }

    /// Waits up to the grace period for the test's threads, and the runtime's, to end; returns
    /// those still running.
    pub fn wait(&self, config: &Config) -> Vec<LeakedThread> {
        let deadline = Instant::now() + config.grace_period;
        let scan = loop {
            let scan = self.scan(&config.ignored_threads);
            if scan.is_settled() || Instant::now() >= deadline {
                break scan;
            }
            std::thread::sleep(crate::POLL);
        };
        let started = scan.started.into_iter().map(|found| LeakedThread {
            name_inherited: self.name_is_inherited(&found.name),
            tid: found.tid,
            name: found.name,
            runtime: false,
        });
        let runtime = scan.runtime.into_iter().map(|found| LeakedThread {
            tid: found.tid,
            name: found.name,
            name_inherited: false,
            runtime: true,
        });
        started.chain(runtime).collect()
    }

    fn mark(&self, tid: u32) -> Mark {
        let Some(mask) = blocked_signals(tid) else { return Mark::Unmarked };
        let blocked = self.signals.map(|sig| (mask >> (sig - 1)) & 1 == 1);
        if blocked == self.blocked {
            Mark::Marked
        } else if blocked == [true; 4] {
            Mark::Undecided
        } else {
            Mark::Unmarked
        }
    }
}

impl Drop for ThreadWatch {
    fn drop(&mut self) {
        // SAFETY: restores the mask read in `start`, on the same thread (the check never
        // moves between threads).
        unsafe {
            libc::pthread_sigmask(libc::SIG_SETMASK, &self.old_mask, std::ptr::null_mut());
        }
    }
}

/// Whether `prefix` names the thread called `name`. The kernel keeps 15 bytes of a name, so a
/// longer prefix matches a 15-byte name that it starts with.
fn name_matches(name: &str, prefix: &str) -> bool {
    const KEPT: usize = 15;
    name.starts_with(prefix) || (name.len() == KEPT && prefix.as_bytes().starts_with(name.as_bytes()))
}

fn current_tid() -> u32 {
    // SAFETY: gettid has no preconditions and cannot fail.
    unsafe { libc::syscall(libc::SYS_gettid) as u32 }
}

/// The process's threads, read `reads` times and united. One read can miss threads: when the
/// thread the kernel's listing has reached exits, the listing resumes by position and skips one
/// that is still there (seen in this crate's tests, with threads of parallel tests exiting).
fn list_tids(reads: usize) -> Option<HashSet<u32>> {
    let mut tids = HashSet::new();
    for _ in 0..reads {
        let dir = fs::read_dir("/proc/self/task").ok()?;
        tids.extend(dir.filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok()));
    }
    Some(tids)
}

fn read_name(tid: u32) -> Option<String> {
    let name = fs::read_to_string(format!("/proc/self/task/{tid}/comm")).ok()?;
    Some(name.trim_end_matches('\n').to_owned())
}

/// The thread's blocked signals, bit `n - 1` for signal `n` (`SigBlk` is hex, 16 digits for
/// 64 signals; 32 on targets with 128).
fn blocked_signals(tid: u32) -> Option<u128> {
    let status = fs::read_to_string(format!("/proc/self/task/{tid}/status")).ok()?;
    let hex = status.lines().find_map(|line| line.strip_prefix("SigBlk:"))?.trim();
    u128::from_str_radix(hex, 16).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_prefixes_match_the_names_the_kernel_cut() {
        assert!(name_matches("metrics-flush", "metrics"));
        assert!(name_matches("metrics-flusher", "metrics-flusher-thread"));
        assert!(!name_matches("metrics-flush", "metrics-flusher-thread"));
        assert!(!name_matches("cache-evictor", "metrics"));
    }

    #[test]
    fn the_patterns_are_distinct_pairs() {
        let mut seen: Vec<_> = PATTERNS.iter().map(|[a, b]| (a.min(b), a.max(b))).collect();
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), PATTERNS.len());
    }

    #[test]
    fn threads_started_from_a_marked_thread_are_marked_and_others_are_not() {
        use std::sync::mpsc::{channel, Receiver, Sender};
        use std::thread::{Builder, JoinHandle};

        // A thread that says it runs (by then its mask and name are its own) and waits for
        // `stop` to be dropped.
        fn waiter(name: &str, ready: &Sender<()>, stop: &Arc<Mutex<Receiver<()>>>) -> JoinHandle<()> {
            let (ready, stop) = (ready.clone(), Arc::clone(stop));
            Builder::new()
                .name(name.into())
                .spawn(move || {
                    ready.send(()).unwrap();
                    let _ = stop.lock().unwrap().recv();
                })
                .unwrap()
        }

        let (ready, ready_rx) = channel();
        let (stop, stop_rx) = channel::<()>();
        let stop_rx = Arc::new(Mutex::new(stop_rx));
        // An unmarked thread, started before the watch, that starts a thread on request:
        // stands for another test running in parallel.
        let (request, requests) = channel::<()>();
        let (started, started_rx) = channel();
        let outsider = std::thread::spawn({
            let (ready, stop_rx) = (ready.clone(), Arc::clone(&stop_rx));
            move || {
                for () in requests {
                    started.send(waiter("outsider-child", &ready, &stop_rx)).unwrap();
                }
            }
        });

        let watch = ThreadWatch::start().expect("/proc/self/task is readable on Linux");
        let ours = waiter("ours", &ready, &stop_rx);
        request.send(()).unwrap();
        let theirs = started_rx.recv().unwrap();
        ready_rx.recv().unwrap();
        ready_rx.recv().unwrap();

        let scan = watch.scan(&[]);
        assert_eq!(scan.started.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(), ["ours"]);
        assert!(scan.runtime.is_empty());
        let ignoring = watch.scan(&["our".to_owned()]);
        assert!(ignoring.started.is_empty() && ignoring.runtime.is_empty());
        drop(watch);

        drop(request);
        // The two waiters share `stop_rx`; dropping the sender ends both.
        drop(stop);
        ours.join().unwrap();
        theirs.join().unwrap();
        outsider.join().unwrap();
    }
}
