//! Sleeps that are not hand-made timeouts: fixed-rate scheduling, sync waits, timers
//! whose handle is aborted when the work completes, real `timeout`s, attempt-bounded
//! retries, a delayed start of a cancellable periodic task, a pure delay, a drain loop
//! that only logs how long it takes, and test code.

use std::io;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::time::{interval, sleep, sleep_until, timeout, Instant};
use tokio_util::sync::CancellationToken;

pub struct Pool {
    idle: AtomicUsize,
    min_idle: usize,
}

impl Pool {
    async fn top_up(&self) {
        self.idle.fetch_add(1, Ordering::Relaxed);
    }
}

/// Fixed-rate maintenance (the sqlx pool shape): `sleep_until` on a moving target. The
/// `Instant::now()` comparison only skips missed periods, it never leaves the loop.
pub async fn run_maintenance(pool: Arc<Pool>, period: Duration) {
    let mut next = Instant::now() + period;
    loop {
        sleep_until(next).await;
        if pool.idle.load(Ordering::Relaxed) < pool.min_idle {
            pool.top_up().await;
        }
        next += period;
        if Instant::now() > next {
            next = Instant::now() + period;
        }
    }
}

/// Sync code: a CLI waits for the daemon's pid file with `std::thread::sleep`.
pub fn wait_for_pid_file(path: &Path, limit: Duration) -> io::Result<u32> {
    let start = std::time::Instant::now();
    loop {
        if let Ok(raw) = std::fs::read_to_string(path) {
            return raw.trim().parse().map_err(io::Error::other);
        }
        if start.elapsed() > limit {
            return Err(io::Error::new(io::ErrorKind::TimedOut, "daemon did not start"));
        }
        thread::sleep(Duration::from_millis(20));
    }
}

/// Sync timer flavour (crossbeam's `at` channel): sleep until the deadline, then fire.
pub fn fire_at(when: std::time::Instant, fire: std::sync::mpsc::SyncSender<std::time::Instant>) {
    loop {
        let now = std::time::Instant::now();
        if now >= when {
            break;
        }
        thread::sleep(when - now);
    }
    let _ = fire.send(when);
}

/// A watchdog whose handle is kept and aborted as soon as the query returns.
pub async fn query_with_watchdog(token: CancellationToken, deadline: Duration) -> io::Result<u64> {
    let trip = token.clone();
    let watchdog = tokio::spawn(async move {
        sleep(deadline).await;
        trip.cancel();
    });
    let rows = tokio::select! {
        _ = token.cancelled() => Err(io::Error::new(io::ErrorKind::TimedOut, "query cancelled")),
        n = async { Ok::<u64, io::Error>(3) } => n,
    };
    watchdog.abort();
    rows
}

pub enum Reply {
    Pong,
}

/// A real timeout around the awaited condition.
pub async fn await_reply(replies: &mut mpsc::Receiver<Reply>, wait: Duration) -> Option<Reply> {
    match timeout(wait, replies.recv()).await {
        Ok(reply) => reply,
        Err(_) => {
            tracing::warn!(?wait, "no reply");
            None
        }
    }
}

/// Retry with exponential backoff, bounded by an attempt counter, not by a clock.
pub async fn connect_with_retry(addr: &str) -> io::Result<TcpStream> {
    let mut backoff = Duration::from_millis(100);
    let mut last_err = None;
    for attempt in 0..5 {
        match TcpStream::connect(addr).await {
            Ok(stream) => return Ok(stream),
            Err(err) => {
                tracing::warn!(attempt, error = %err, "connect failed, backing off");
                last_err = Some(err);
                sleep(backoff).await;
                backoff *= 2;
            }
        }
    }
    Err(last_err.unwrap_or_else(|| io::Error::other("no attempt made")))
}

pub struct Compactor;

impl Compactor {
    async fn run_once(&self) {}
}

/// A delayed start: wait out the boot storm, then compact periodically until the token
/// fires. The sleep is a start delay, not a timeout.
pub fn start_compaction(compactor: Arc<Compactor>, token: CancellationToken, initial_delay: Duration) {
    tokio::spawn(async move {
        sleep(initial_delay).await;
        let mut ticker = interval(Duration::from_secs(300));
        loop {
            tokio::select! {
                _ = token.cancelled() => break,
                _ = ticker.tick() => compactor.run_once().await,
            }
        }
    });
}

/// Fault injection in the staging build: simulated backend latency, nothing after it.
pub fn inject_latency(jitter: Duration) {
    tokio::spawn(async move {
        sleep(jitter).await;
    });
}

/// Graceful drain: waits until in-flight requests reach zero, warning when it takes long.
/// The elapsed time is only logged; the loop never gives up on it.
pub async fn drain_inflight(inflight: &AtomicUsize) {
    let started = Instant::now();
    let mut warned = false;
    loop {
        if inflight.load(Ordering::Acquire) == 0 {
            return;
        }
        if !warned && started.elapsed() > Duration::from_secs(30) {
            tracing::warn!(left = inflight.load(Ordering::Relaxed), "drain is taking long");
            warned = true;
        }
        sleep(Duration::from_millis(100)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Test code: polling with a deadline is the usual way to wait in tests.
    #[tokio::test]
    async fn maintenance_tops_up() {
        let pool = Arc::new(Pool { idle: AtomicUsize::new(0), min_idle: 2 });
        let _task = tokio::spawn(run_maintenance(Arc::clone(&pool), Duration::from_millis(5)));
        let start = Instant::now();
        loop {
            if pool.idle.load(Ordering::Relaxed) >= 2 {
                break;
            }
            if start.elapsed() > Duration::from_secs(2) {
                panic!("pool never topped up");
            }
            sleep(Duration::from_millis(5)).await;
        }
    }

    #[tokio::test]
    async fn timer_fires() {
        let flag = Arc::new(AtomicUsize::new(0));
        let f = Arc::clone(&flag);
        tokio::spawn(async move {
            sleep(Duration::from_millis(1)).await;
            f.store(1, Ordering::Release);
        });
        sleep(Duration::from_millis(10)).await;
    }
}
