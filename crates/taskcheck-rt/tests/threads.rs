//! The thread half of the check (Linux). In a file of its own, so a process of its own: the
//! threads leaked on purpose here keep running until the process exits, and the tests in
//! `tasks.rs` never share a process with them. Within this file, they must not make the other
//! tests fail either (the check attributes threads to the test that started them).

#![cfg(target_os = "linux")]

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::{Duration, Instant};

use taskcheck_rt::{try_check, Config, Flavor, LeakedThread};

/// A cache with an evictor thread that sweeps expired entries until it is told to stop: the
/// kind of thread a service starts at startup.
struct Cache {
    entries: Arc<std::sync::Mutex<Vec<(u64, Instant)>>>,
    evicted: Arc<AtomicU64>,
    stop: Option<mpsc::Sender<()>>,
    evictor: Option<thread::JoinHandle<()>>,
}

impl Cache {
    /// `stoppable: false` is the bug: the evictor has no stop channel and sweeps forever.
    fn start(name: &str, ttl: Duration, stoppable: bool) -> Cache {
        let entries: Arc<std::sync::Mutex<Vec<(u64, Instant)>>> = Arc::default();
        let evicted = Arc::new(AtomicU64::new(0));
        let (stop, stopped) = mpsc::channel::<()>();
        let sweep = {
            let entries = Arc::clone(&entries);
            let evicted = Arc::clone(&evicted);
            move || {
                let mut entries = entries.lock().unwrap();
                let before = entries.len();
                entries.retain(|(_, at)| at.elapsed() < ttl);
                evicted.fetch_add((before - entries.len()) as u64, Ordering::Relaxed);
            }
        };
        let evictor = thread::Builder::new()
            .name(name.to_owned())
            .spawn(move || {
                if stoppable {
                    // Sweeps until `stop` is sent or dropped.
                    while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(ttl / 2) {
                        sweep();
                    }
                } else {
                    loop {
                        thread::sleep(ttl / 2);
                        sweep();
                    }
                }
            })
            .unwrap();
        Cache { entries, evicted, stop: Some(stop), evictor: Some(evictor) }
    }

    fn insert(&self, key: u64) {
        self.entries.lock().unwrap().push((key, Instant::now()));
    }

    /// Stops and joins the evictor (if it can be stopped at all).
    fn close(mut self) -> u64 {
        drop(self.stop.take());
        if let Some(evictor) = self.evictor.take() {
            evictor.join().unwrap();
        }
        self.evicted.load(Ordering::Relaxed)
    }
}

fn quick() -> Config {
    Config::new().grace_period(Duration::from_millis(50))
}

fn names(threads: &[LeakedThread]) -> Vec<&str> {
    threads.iter().map(|t| t.name.as_str()).collect()
}

// ---- Tests that must pass ----

#[taskcheck_rt::test]
async fn a_thread_that_is_stopped_and_joined_passes() {
    let cache = Cache::start("cache-evictor", Duration::from_millis(4), true);
    cache.insert(1);
    tokio::time::sleep(Duration::from_millis(10)).await;
    assert_eq!(cache.close(), 1);
}

#[taskcheck_rt::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thread_that_ends_within_the_grace_period_passes() {
    // A detached thread that writes a final snapshot and ends on its own.
    thread::Builder::new().name("snapshot".into()).spawn(|| thread::sleep(Duration::from_millis(30))).unwrap();
    // Blocking pool threads are the runtime's, idle or not, until the runtime shuts down.
    let sum = tokio::task::spawn_blocking(|| (1..=10u32).sum::<u32>()).await.unwrap();
    assert_eq!(sum, 55);
}

#[taskcheck_rt::test(ignore_threads_named = "metrics-", grace_period_ms = 50)]
async fn an_ignored_thread_passes() {
    // A process-wide metrics exporter, known to run for the life of the process.
    let exporter = Cache::start("metrics-export", Duration::from_millis(20), false);
    exporter.insert(7);
}

#[test]
fn threads_that_other_tests_start_meanwhile_are_not_blamed() {
    // Stands for another test running in parallel: a thread that was not started by the
    // check, asked to start a long-lived thread while the check runs.
    let (start, requests) = mpsc::channel::<()>();
    let (started, started_rx) = mpsc::channel();
    let neighbour = thread::spawn(move || {
        for () in requests {
            started.send(Cache::start("neighbour-cache", Duration::from_millis(10), true)).unwrap();
        }
    });
    let neighbour_cache = try_check(quick(), || async {
        start.send(()).unwrap();
        let cache = started_rx.recv().unwrap();
        // The check's own work, properly stopped.
        let ours = Cache::start("our-cache", Duration::from_millis(4), true);
        tokio::time::sleep(Duration::from_millis(5)).await;
        ours.close();
        Ok::<_, ()>(cache)
    })
    .expect("the neighbour's thread is not this test's leak")
    .unwrap();
    neighbour_cache.close();
    drop(start);
    neighbour.join().unwrap();
}

#[test]
fn a_neighbour_test_that_keeps_starting_threads() {
    // Runs in parallel with the checked tests of this file (the harness runs tests on several
    // threads): none of these threads may be taken for theirs.
    let until = Instant::now() + Duration::from_millis(300);
    let stop = Arc::new(AtomicBool::new(false));
    let mut live = Vec::new();
    while Instant::now() < until {
        let stop = Arc::clone(&stop);
        live.push(thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                thread::sleep(Duration::from_millis(2));
            }
        }));
        thread::sleep(Duration::from_millis(3));
    }
    stop.store(true, Ordering::Relaxed);
    for thread in live {
        thread.join().unwrap();
    }
}

// ---- Tests that leak on purpose ----

#[taskcheck_rt::test(grace_period_ms = 50)]
#[should_panic(expected = "the test leaked 1 thread; still alive after the grace period of 50ms")]
async fn an_endless_thread_is_a_leak() {
    let cache = Cache::start("stale-evictor", Duration::from_millis(10), false);
    cache.insert(1);
    tokio::time::sleep(Duration::from_millis(15)).await;
    // Dropped without `close`, and `close` could not stop it anyway.
}

#[test]
fn the_report_names_the_leaked_threads() {
    let leaks = try_check(quick(), || async {
        Cache::start("session-evictor-thread", Duration::from_millis(10), false);
    })
    .unwrap_err();
    assert_eq!(leaks.tasks, 0);
    // The kernel keeps 15 bytes of a thread's name.
    assert_eq!(names(&leaks.threads), ["session-evictor"]);
    let thread = &leaks.threads[0];
    assert!(!thread.runtime && !thread.name_inherited);
    let text = leaks.to_string();
    let want = format!(
        "taskcheck-rt: the test leaked 1 thread; still alive after the grace period of 50ms
  threads started by the test and still running:
    \"session-evictor\" (tid {})
  hint: run `cargo taskcheck` on this crate: it points at spawns that nothing can stop",
        thread.tid
    );
    assert_eq!(text, want);
}

#[test]
fn an_unnamed_thread_started_from_a_task_is_reported_with_the_name_it_inherited() {
    let config = quick().flavor(Flavor::MultiThread).worker_threads(2);
    let leaks = try_check(config, || async {
        // Started from a runtime worker: an unnamed thread carries its starter's name.
        tokio::spawn(async {
            thread::spawn(|| loop {
                thread::sleep(Duration::from_millis(10));
            });
        })
        .await
        .unwrap();
    })
    .unwrap_err();
    assert_eq!(leaks.threads.len(), 1, "{leaks}");
    let thread = &leaks.threads[0];
    assert!(thread.name.starts_with("tcrt-rt-"), "{leaks}");
    assert!(thread.name_inherited && !thread.runtime, "{leaks}");
    assert!(leaks.to_string().contains("unnamed, it carries the name of the thread that started it"), "{leaks}");
}

#[test]
fn threads_started_by_the_test_s_threads_are_the_test_s() {
    let leaks = try_check(quick(), || async {
        thread::Builder::new()
            .name("supervisor".into())
            .spawn(|| {
                let child = thread::Builder::new()
                    .name("supervised".into())
                    .spawn(|| loop {
                        thread::sleep(Duration::from_millis(10));
                    })
                    .unwrap();
                drop(child);
            })
            .unwrap()
            .join()
            .unwrap();
    })
    .unwrap_err();
    assert_eq!(names(&leaks.threads), ["supervised"]);
}

#[taskcheck_rt::test(grace_period_ms = 50)]
#[should_panic(expected = "runtime threads still running after the runtime shut down")]
async fn an_endless_spawn_blocking_closure_is_a_leak() {
    // The task count does not see blocking closures: the runtime's shutdown does.
    let polling = tokio::task::spawn_blocking(|| loop {
        thread::sleep(Duration::from_millis(10));
    });
    tokio::time::sleep(Duration::from_millis(5)).await;
    assert!(!polling.is_finished());
}
