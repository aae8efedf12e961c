//! Channels of a job scheduler that are sized on purpose: capacities below the limit
//! (even when written as shifts or products of constants), capacities that come from
//! configuration or a caller, a free-slot queue that is filled to exactly its capacity
//! in the same function, unbounded channels (another lint's business), `watch` and
//! `oneshot` (whose argument is not a capacity), and test code. Nothing is reported.

use std::sync::mpsc::sync_channel;
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::Duration;

use serde::Deserialize;
use tokio::sync::{broadcast, mpsc, oneshot, watch, Semaphore};

/// Jobs per scheduling round.
const BATCH: usize = 1024;
/// Slots of the shared scratch arena, handed out through a free list.
const ARENA_SLOTS: usize = 16_384;
/// HTTP/2's initial flow-control window.
const INITIAL_WINDOW: u32 = 65_535;

#[derive(Debug, Deserialize)]
pub struct QueueConfig {
    pub queue_depth: usize,
    pub max_concurrency: usize,
}

pub struct Job {
    pub id: u64,
    pub payload: Vec<u8>,
}

pub struct JobResult {
    pub id: u64,
    pub ok: bool,
}

/// 9_999 is just under the limit.
pub fn job_queue() -> (mpsc::Sender<Job>, mpsc::Receiver<Job>) {
    mpsc::channel(9_999)
}

/// `1 << 13` = 8_192.
pub fn result_queue() -> (crossbeam_channel::Sender<JobResult>, crossbeam_channel::Receiver<JobResult>) {
    crossbeam_channel::bounded(1 << 13)
}

/// Four rounds of look-ahead: `BATCH * 4` = 4_096.
pub fn lookahead_queue() -> (async_channel::Sender<Job>, async_channel::Receiver<Job>) {
    async_channel::bounded(BATCH * 4)
}

/// Status updates to every dashboard; 256 is plenty.
pub fn status_feed() -> broadcast::Sender<String> {
    let (tx, _rx) = broadcast::channel(256);
    tx
}

/// The depth is configuration, not a constant: an operator chose it.
pub fn configured_queue(cfg: &QueueConfig) -> (flume::Sender<Job>, flume::Receiver<Job>) {
    flume::bounded(cfg.queue_depth)
}

/// The depth is the caller's choice.
pub fn queue_with_capacity(capacity: usize) -> (mpsc::Sender<Job>, mpsc::Receiver<Job>) {
    mpsc::channel(capacity)
}

/// A free list of arena slots: the channel is created with exactly `ARENA_SLOTS`
/// places and every slot index is sent into it right away, so the buffer *is* the
/// data structure, not a queue that hides a slow consumer.
pub fn arena_free_list() -> (crossbeam_channel::Sender<usize>, crossbeam_channel::Receiver<usize>) {
    let (free_tx, free_rx) = crossbeam_channel::bounded(ARENA_SLOTS);
    for slot in 0..ARENA_SLOTS {
        free_tx.send(slot).expect("the free list has room for every slot");
    }
    (free_tx, free_rx)
}

/// Preloads every shard id for the worker threads to claim (the crossbeam
/// `select_macro` shape: capacity equals the number of sends).
pub fn start_shard_workers(workers: usize) -> Vec<JoinHandle<usize>> {
    let (tx, rx) = sync_channel(20_000);
    for shard in 0..20_000 {
        tx.send(shard).unwrap();
    }
    drop(tx);
    let rx = Arc::new(std::sync::Mutex::new(rx));
    (0..workers)
        .map(|_| {
            let rx = Arc::clone(&rx);
            thread::spawn(move || {
                let mut done = 0;
                while let Ok(shard) = rx.lock().unwrap().recv() {
                    let _ = shard;
                    done += 1;
                }
                done
            })
        })
        .collect()
}

/// Unbounded channels are `unbounded_channel`'s concern, not this lint's.
pub fn completion_events() -> (mpsc::UnboundedSender<JobResult>, mpsc::UnboundedReceiver<JobResult>) {
    mpsc::unbounded_channel()
}

/// `watch::channel`'s argument is the initial value (a window size), not a capacity.
pub fn flow_control_window() -> (watch::Sender<u32>, watch::Receiver<u32>) {
    watch::channel(INITIAL_WINDOW)
}

/// A oneshot has no capacity at all; a big permit count is not a channel.
pub async fn run_limited(job: Job, limits: Arc<Semaphore>) -> Option<JobResult> {
    let (done_tx, done_rx) = oneshot::channel();
    let _permit = limits.acquire_owned().await.ok()?;
    let id = job.id;
    let worker = tokio::spawn(async move {
        let ok = !job.payload.is_empty();
        let _ = done_tx.send(JobResult { id, ok });
    });
    let result = tokio::time::timeout(Duration::from_secs(30), done_rx).await.ok()?.ok();
    let _ = worker.await;
    result
}

pub fn global_limits() -> Arc<Semaphore> {
    Arc::new(Semaphore::new(100_000))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Test code: a huge buffer so the producer never blocks while the test inspects it.
    #[test]
    fn queue_holds_a_large_burst() {
        let (tx, rx) = crossbeam_channel::bounded(100_000);
        for id in 0..50_000u64 {
            tx.send(Job { id, payload: Vec::new() }).unwrap();
        }
        assert_eq!(rx.len(), 50_000);
    }

    #[tokio::test]
    async fn results_survive_a_slow_consumer() {
        let (tx, mut rx) = mpsc::channel(1 << 16);
        for id in 0..10_000u64 {
            tx.send(JobResult { id, ok: true }).await.unwrap();
        }
        assert!(rx.recv().await.is_some());
    }
}
