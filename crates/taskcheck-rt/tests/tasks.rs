//! The task half of the check, on a small ingest service of the shape the check is for: a
//! bounded queue, a pool of workers that parse what comes in, a stats task that totals what
//! the workers report, and the background jobs such services grow (a periodic reporter, an
//! audit log that subscribes to an event bus). Tests that leak on purpose run with short
//! grace periods so that the file stays fast.

use std::error::Error;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use taskcheck_rt::{check, try_check, Config, Flavor};
use tokio::sync::mpsc;
use tokio::task::{JoinHandle, JoinSet};
use tokio_util::sync::CancellationToken;

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Stats {
    records: u64,
    rejected: u64,
    bytes: u64,
}

enum Parsed {
    Record { bytes: u64 },
    Rejected,
}

/// `key=value` lines in, stats out.
struct Ingest {
    lines: mpsc::Sender<String>,
    workers: JoinSet<()>,
    stats: JoinHandle<Stats>,
    /// Records seen so far, for the reporter.
    seen: Arc<AtomicUsize>,
}

impl Ingest {
    fn start(workers: usize) -> Ingest {
        let (lines, queue) = mpsc::channel::<String>(64);
        let (results, mut parsed) = mpsc::unbounded_channel::<Parsed>();
        let queue = Arc::new(tokio::sync::Mutex::new(queue));
        let seen = Arc::new(AtomicUsize::new(0));
        let mut pool = JoinSet::new();
        for _ in 0..workers {
            let queue = Arc::clone(&queue);
            let results = results.clone();
            let seen = Arc::clone(&seen);
            pool.spawn(async move {
                // Ends when the queue is closed and drained.
                while let Some(line) = {
                    let mut queue = queue.lock().await;
                    queue.recv().await
                } {
                    let outcome = match line.split_once('=') {
                        Some((key, value)) if !key.is_empty() => {
                            seen.fetch_add(1, Ordering::Relaxed);
                            Parsed::Record { bytes: value.len() as u64 }
                        }
                        _ => Parsed::Rejected,
                    };
                    if results.send(outcome).is_err() {
                        return;
                    }
                }
            });
        }
        drop(results);
        // Ends when every worker (every `results` sender) is gone.
        let stats = tokio::spawn(async move {
            let mut stats = Stats::default();
            while let Some(outcome) = parsed.recv().await {
                match outcome {
                    Parsed::Record { bytes } => {
                        stats.records += 1;
                        stats.bytes += bytes;
                    }
                    Parsed::Rejected => stats.rejected += 1,
                }
            }
            stats
        });
        Ingest { lines, workers: pool, stats, seen }
    }

    async fn submit(&self, line: &str) {
        self.lines.send(line.to_owned()).await.expect("the workers stopped early");
    }

    /// Starts a task that reports progress every `every`, detached: nothing ever stops it.
    fn spawn_reporter(&self, every: Duration) {
        let seen = Arc::clone(&self.seen);
        tokio::spawn(async move {
            let mut last = 0;
            loop {
                tokio::time::sleep(every).await;
                let now = seen.load(Ordering::Relaxed);
                if now != last {
                    println!("ingest: {} records", now);
                    last = now;
                }
            }
        });
    }

    /// Closes the queue, lets the workers drain it, and returns the totals.
    async fn shutdown(mut self) -> Stats {
        drop(self.lines);
        while let Some(done) = self.workers.join_next().await {
            done.expect("a worker panicked");
        }
        self.stats.await.expect("the stats task panicked")
    }
}

async fn feed(ingest: &Ingest) {
    for line in ["user=ada", "region=eu-west", "garbage", "=orphan", "plan=pro"] {
        ingest.submit(line).await;
    }
}

const FED: Stats = Stats { records: 3, rejected: 2, bytes: 3 + 7 + 3 };

// ---- Tests that must pass ----

#[taskcheck_rt::test]
async fn a_service_that_joins_its_workers_on_shutdown_passes() {
    let ingest = Ingest::start(3);
    feed(&ingest).await;
    assert_eq!(ingest.shutdown().await, FED);
}

#[taskcheck_rt::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_that_joins_its_workers_passes_on_a_multi_thread_runtime() {
    let ingest = Ingest::start(4);
    feed(&ingest).await;
    feed(&ingest).await;
    let stats = ingest.shutdown().await;
    assert_eq!(stats.records, 2 * FED.records);
    assert_eq!(stats.rejected, 2 * FED.rejected);
}

#[taskcheck_rt::test(flavor = "multi_thread")]
async fn a_join_set_fan_out_passes() {
    // One lookup per shard, all joined.
    let mut lookups = JoinSet::new();
    for shard in 0..8u64 {
        lookups.spawn(async move {
            tokio::time::sleep(Duration::from_millis(shard % 3)).await;
            (shard, shard * shard)
        });
    }
    let mut total = 0;
    while let Some(done) = lookups.join_next().await {
        let (_, squared) = done.unwrap();
        total += squared;
    }
    assert_eq!(total, (0..8).map(|n| n * n).sum::<u64>());
}

#[taskcheck_rt::test]
async fn pollers_stopped_by_a_cancellation_token_pass() {
    let shutdown = CancellationToken::new();
    let polls = Arc::new(AtomicUsize::new(0));
    for _ in 0..3 {
        let shutdown = shutdown.clone();
        let polls = Arc::clone(&polls);
        // Detached on purpose: the token, not the handle, is what stops them.
        tokio::spawn(async move {
            let mut every = tokio::time::interval(Duration::from_millis(1));
            loop {
                tokio::select! {
                    _ = shutdown.cancelled() => break,
                    _ = every.tick() => { polls.fetch_add(1, Ordering::Relaxed); }
                }
            }
        });
    }
    tokio::time::sleep(Duration::from_millis(5)).await;
    shutdown.cancel();
    assert!(polls.load(Ordering::Relaxed) > 0);
}

#[taskcheck_rt::test(flavor = "multi_thread", worker_threads = 2)]
async fn pollers_stopped_by_a_cancellation_token_pass_on_a_multi_thread_runtime() {
    let shutdown = CancellationToken::new();
    let mut pollers = JoinSet::new();
    for id in 0..4 {
        let shutdown = shutdown.clone();
        pollers.spawn(async move {
            shutdown.cancelled().await;
            id
        });
    }
    shutdown.cancel();
    let mut ids: Vec<_> = pollers.join_all().await;
    ids.sort();
    assert_eq!(ids, [0, 1, 2, 3]);
}

#[taskcheck_rt::test]
async fn a_detached_task_that_finishes_within_the_grace_period_passes() {
    let flushed = Arc::new(AtomicBool::new(false));
    // A final flush, detached, that takes a while: well within the default 200ms.
    tokio::spawn({
        let flushed = Arc::clone(&flushed);
        async move {
            tokio::time::sleep(Duration::from_millis(30)).await;
            flushed.store(true, Ordering::Relaxed);
        }
    });
    assert!(!flushed.load(Ordering::Relaxed));
}

#[taskcheck_rt::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_detached_task_that_finishes_within_the_grace_period_passes_on_a_multi_thread_runtime() {
    tokio::spawn(async {
        tokio::time::sleep(Duration::from_millis(30)).await;
    });
}

#[taskcheck_rt::test(allow_leaks = 1, grace_period_ms = 50)]
async fn an_allowed_background_task_passes() {
    let ingest = Ingest::start(2);
    // The reporter is known to run for the life of the process.
    ingest.spawn_reporter(Duration::from_millis(5));
    feed(&ingest).await;
    assert_eq!(ingest.shutdown().await, FED);
}

#[taskcheck_rt::test]
async fn a_test_may_return_a_result() -> Result<(), Box<dyn Error>> {
    let ingest = Ingest::start(1);
    ingest.submit("port=8080").await;
    let stats = ingest.shutdown().await;
    let port: u16 = "8080".parse()?;
    assert_eq!((stats.records, port), (1, 8080));
    Ok(())
}

// ---- Tests that leak on purpose ----

#[taskcheck_rt::test(grace_period_ms = 50)]
#[should_panic(expected = "the test leaked 1 task; still alive after the grace period of 50ms")]
async fn a_detached_reporter_loop_is_a_leak() {
    let ingest = Ingest::start(2);
    ingest.spawn_reporter(Duration::from_millis(5));
    feed(&ingest).await;
    // The service shuts down cleanly; its reporter does not.
    assert_eq!(ingest.shutdown().await, FED);
}

#[taskcheck_rt::test(flavor = "multi_thread", worker_threads = 2)]
#[should_panic(expected = "the test leaked 1 task; still alive after the grace period of 200ms")]
async fn a_subscriber_whose_sender_stays_on_the_bus_is_a_leak() {
    // A process-wide event bus: subscribers register a sender and nobody ever removes it.
    static BUS: Mutex<Vec<mpsc::UnboundedSender<String>>> = Mutex::new(Vec::new());
    let (sender, mut events) = mpsc::unbounded_channel();
    BUS.lock().unwrap().push(sender);
    let audit_log = tokio::spawn(async move {
        let mut written = 0;
        // Waits for the next event forever: the sender is on the bus.
        while let Some(event) = events.recv().await {
            println!("audit: {event}");
            written += 1;
        }
        written
    });
    for sender in BUS.lock().unwrap().iter() {
        sender.send("ingest started".into()).unwrap();
    }
    tokio::time::sleep(Duration::from_millis(5)).await;
    assert!(!audit_log.is_finished());
}

#[taskcheck_rt::test(allow_leaks = 1, grace_period_ms = 50)]
#[should_panic(expected = "the test leaked 2 tasks (1 allowed); still alive after the grace period of 50ms")]
async fn more_leaks_than_allowed_fail() {
    let first = Ingest::start(1);
    let second = Ingest::start(1);
    first.spawn_reporter(Duration::from_millis(5));
    second.spawn_reporter(Duration::from_millis(5));
    first.shutdown().await;
    second.shutdown().await;
}

#[taskcheck_rt::test(grace_period_ms = 50)]
#[should_panic(expected = "ingest: malformed line \"garbage\"")]
async fn a_panicking_body_reports_its_own_panic_not_its_leak() {
    let ingest = Ingest::start(1);
    ingest.spawn_reporter(Duration::from_millis(5));
    feed(&ingest).await;
    let stats = ingest.shutdown().await;
    if stats.rejected > 0 {
        panic!("ingest: malformed line \"garbage\"");
    }
}

#[test]
fn a_failing_body_returns_its_error_without_a_leak_check() {
    let config = Config::new().grace_period(Duration::from_millis(50));
    let outcome = check(config, || async {
        let ingest = Ingest::start(1);
        ingest.spawn_reporter(Duration::from_millis(5));
        ingest.submit("garbage").await;
        let stats = ingest.shutdown().await;
        if stats.rejected > 0 {
            return Err(format!("{} rejected", stats.rejected));
        }
        Ok(stats)
    });
    assert_eq!(outcome, Err("1 rejected".to_owned()));
}

#[test]
fn the_leak_report_in_full() {
    let config = Config::new().flavor(Flavor::MultiThread).worker_threads(2).grace_period(Duration::from_millis(30));
    let leaks = try_check(config, || async {
        let ingest = Ingest::start(1);
        ingest.spawn_reporter(Duration::from_millis(5));
        ingest.spawn_reporter(Duration::from_millis(7));
        ingest.shutdown().await;
    })
    .unwrap_err();
    assert_eq!((leaks.tasks, leaks.allowed_tasks, leaks.threads.len()), (2, 0, 0));
    assert_eq!(leaks.grace_period, Duration::from_millis(30));
    #[cfg(not(all(tokio_unstable, feature = "taskdump")))]
    assert_eq!(
        leaks.to_string(),
        "taskcheck-rt: the test leaked 2 tasks; still alive after the grace period of 30ms
  tasks: 2 still alive in the test's runtime
  hint: run `cargo taskcheck` on this crate: it points at spawns that nothing can stop
  hint: for each leaked task's trace, build with RUSTFLAGS=\"--cfg tokio_unstable\" and taskcheck-rt's `taskdump` feature"
    );
    #[cfg(all(tokio_unstable, feature = "taskdump"))]
    assert_eq!(leaks.task_traces.len(), 2);
}

#[test]
fn leaked_tasks_are_dropped_with_the_runtime() {
    // What a leaked task owns is released when the check shuts its runtime down, so one
    // test's leak does not keep running into the next.
    struct Guard(Arc<AtomicBool>);
    impl Drop for Guard {
        fn drop(&mut self) {
            self.0.store(true, Ordering::Relaxed);
        }
    }
    let dropped = Arc::new(AtomicBool::new(false));
    let leaks = try_check(Config::new().grace_period(Duration::from_millis(20)), || {
        let guard = Guard(Arc::clone(&dropped));
        async move {
            tokio::spawn(async move {
                let _guard = guard;
                std::future::pending::<()>().await;
            });
        }
    })
    .unwrap_err();
    assert_eq!(leaks.tasks, 1);
    assert!(dropped.load(Ordering::Relaxed));
}

#[tokio::test]
#[should_panic(expected = "cannot run inside one (is the test also #[tokio::test]?)")]
async fn a_check_inside_a_runtime_is_refused() {
    check(Config::new(), || async {});
}

#[test]
#[should_panic(expected = "`worker_threads` needs the multi_thread flavor")]
fn worker_threads_need_the_multi_thread_flavor() {
    check(Config::new().worker_threads(2), || async {});
}
