//! Tests sleep with `std::thread::sleep` to let a background task make progress or a
//! timestamp move on. Inside a test that is harmless (the test owns its runtime and
//! nothing else is scheduled on it), and lints are off in test code, so none of these
//! sleeps is reported.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

/// Counts requests per second; the window rolls over once a second has passed.
pub struct RateMeter {
    window_start: std::sync::Mutex<Instant>,
    count: AtomicU64,
}

impl RateMeter {
    pub fn new() -> Self {
        Self { window_start: std::sync::Mutex::new(Instant::now()), count: AtomicU64::new(0) }
    }

    pub async fn record(&self) -> u64 {
        let mut start = self.window_start.lock().unwrap();
        if start.elapsed() >= Duration::from_secs(1) {
            *start = Instant::now();
            self.count.store(0, Ordering::Relaxed);
        }
        self.count.fetch_add(1, Ordering::Relaxed) + 1
    }
}

#[tokio::test]
async fn window_rolls_over() {
    let meter = RateMeter::new();
    assert_eq!(meter.record().await, 1);
    // Test code: a blocking sleep in a `#[tokio::test]` async fn.
    std::thread::sleep(Duration::from_millis(1100));
    assert_eq!(meter.record().await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counts_from_spawned_tasks() {
    let meter = Arc::new(RateMeter::new());
    let m = Arc::clone(&meter);
    let h = tokio::spawn(async move {
        // Test code: inside an async block inside a test.
        thread::sleep(Duration::from_millis(10));
        m.record().await
    });
    assert_eq!(h.await.unwrap(), 1);
}

#[async_std::test]
async fn works_on_async_std() {
    let meter = RateMeter::new();
    // Test code: `#[async_std::test]` is a `*::test` attribute.
    thread::sleep(Duration::from_millis(5));
    assert_eq!(meter.record().await, 1);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::thread::sleep;

    async fn record_twice(meter: &RateMeter) -> u64 {
        meter.record().await;
        // Test code: an async helper fn inside `#[cfg(test)] mod tests`.
        sleep(Duration::from_millis(1));
        meter.record().await
    }

    #[tokio::test]
    async fn second_record_counts_two() {
        let meter = RateMeter::new();
        assert_eq!(record_twice(&meter).await, 2);
    }

    #[test]
    fn from_a_blocking_runtime() {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let meter = RateMeter::new();
        rt.block_on(async {
            // Test code, and the direct argument of `block_on` as well.
            std::thread::sleep(Duration::from_millis(1));
            meter.record().await
        });
    }
}
