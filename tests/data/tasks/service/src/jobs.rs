//! The job queue's consumers.

use std::path::PathBuf;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::{JoinHandle, JoinSet};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

#[derive(Debug)]
pub struct Job(pub String);

/// tasks: cancellation (token) — each worker breaks out when its token is cancelled;
/// `main` pushes the returned handle into `workers` and awaits it.
pub fn spawn_worker(id: usize, token: CancellationToken) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_millis(100 * id as u64 + 100));
        loop {
            tokio::select! {
                _ = token.cancelled() => break,
                _ = tick.tick() => poll_queue(id).await,
            }
        }
    })
}

/// tasks: channel close — drains the queue until every sender is gone.
pub fn spawn_consumer(mut rx: mpsc::Receiver<Job>) {
    tokio::spawn(async move {
        while let Some(job) = rx.recv().await {
            // tasks: finite — a blocking compression per job, awaited.
            let out = tokio::task::spawn_blocking(move || compress(&job)).await;
            tracing::debug!(?out, "job done");
        }
    });
}

/// tasks: aborted — shard pollers loop forever, on a `JoinSet` that `main` shuts down.
pub fn spawn_shards(n: usize) -> JoinSet<()> {
    let mut set = JoinSet::new();
    for shard in 0..n {
        set.spawn(async move {
            loop {
                poll_shard(shard).await;
            }
        });
    }
    set
}

/// tasks: never — a tracker only waits for its tasks; this loop never ends
/// (`loop_without_cancel`), so `tracker.wait()` in `main` hangs.
pub fn spawn_flusher(tracker: &TaskTracker) {
    tracker.spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_secs(1)).await;
            flush().await;
        }
    });
}

pub async fn warm_cache() {
    tokio::time::sleep(Duration::from_millis(10)).await;
}

async fn poll_queue(_id: usize) {}

async fn poll_shard(_shard: usize) {
    tokio::time::sleep(Duration::from_millis(250)).await;
}

async fn flush() {}

fn compress(job: &Job) -> PathBuf {
    PathBuf::from(format!("{}.gz", job.0))
}

#[cfg(test)]
mod tests {
    /// Test code is not listed (unless `lint-tests = true`).
    #[tokio::test]
    async fn workers_start() {
        tokio::spawn(async {
            loop {
                tokio::task::yield_now().await;
            }
        });
    }
}
