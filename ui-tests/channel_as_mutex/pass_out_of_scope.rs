//! Lock-shaped code in a build farm that is outside the lint: on a shared channel, one
//! task sends then receives (or receives then sends), but the capacity is not 1 (a
//! permit pool), the element carries data (a reusable buffer, a re-queued job), the
//! channel is a `broadcast`, `watch` or `oneshot`, or it is `futures::channel::mpsc`,
//! whose capacity is buffer + number of senders. Nothing is reported.

use std::io;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;

use tokio::sync::{broadcast, mpsc, oneshot, watch, Mutex};
use tokio::task::JoinSet;

/// Uploads allowed at once: the channel below is a permit pool, not a lock.
const MAX_PARALLEL_UPLOADS: usize = 4;

pub struct Artifact {
    pub name: String,
    pub bytes: Vec<u8>,
}

pub struct Store {
    pub bucket: String,
}

impl Store {
    async fn upload(&self, artifact: &Artifact) -> io::Result<String> {
        Ok(format!("{}/{}-{}", self.bucket, artifact.name, artifact.bytes.len()))
    }

    async fn commit(&self, key: &str) -> io::Result<()> {
        tracing::info!(key, "committed");
        Ok(())
    }
}

/// Capacity 4 (a crate `const`): four uploads hold a slot at once. A `Semaphore` would
/// say it better, but this is a permit pool, not a lock.
pub async fn upload_all(store: Arc<Store>, artifacts: Vec<Artifact>) -> Vec<io::Result<String>> {
    let (permit_tx, permit_rx) = mpsc::channel::<()>(MAX_PARALLEL_UPLOADS);
    let permit_rx = Arc::new(Mutex::new(permit_rx));
    let mut uploads = JoinSet::new();
    for artifact in artifacts {
        let store = Arc::clone(&store);
        let permit_tx = permit_tx.clone();
        let permit_rx = Arc::clone(&permit_rx);
        uploads.spawn(async move {
            let _ = permit_tx.send(()).await;
            let key = store.upload(&artifact).await;
            permit_rx.lock().await.recv().await;
            key
        });
    }
    let mut keys = Vec::new();
    while let Some(key) = uploads.join_next().await {
        keys.push(key.expect("upload task panicked"));
    }
    keys
}

/// The element is data: one 1 MiB scratch buffer handed from thread to thread, so the
/// workers never allocate their own.
pub fn checksum_all(batches: Vec<Vec<PathBuf>>) -> Vec<u64> {
    let (buf_tx, buf_rx) = crossbeam_channel::bounded::<Vec<u8>>(1);
    buf_tx.send(Vec::with_capacity(1 << 20)).expect("a fresh channel has room");
    let mut workers = Vec::new();
    for batch in batches {
        let buf_tx = buf_tx.clone();
        let buf_rx = buf_rx.clone();
        workers.push(thread::spawn(move || {
            let mut sum = 0u64;
            for path in batch {
                let mut buf = buf_rx.recv().expect("the buffer is never dropped");
                buf.clear();
                buf.extend(std::fs::read(&path).unwrap_or_default());
                sum = buf.iter().fold(sum, |acc, b| acc.wrapping_mul(31).wrapping_add(u64::from(*b)));
                buf_tx.send(buf).expect("the receivers are alive");
            }
            sum
        }));
    }
    workers.into_iter().map(|w| w.join().expect("checksum worker panicked")).collect()
}

#[derive(Debug)]
pub struct Job {
    pub target: String,
    pub attempts: u32,
}

async fn build(job: &Job) -> io::Result<()> {
    tracing::info!(target = %job.target, attempts = job.attempts, "building");
    Ok(())
}

/// The element is a `Job`: builders take jobs from a one-slot queue and put a failed
/// job back on the same queue for another builder to retry; the last finished job
/// closes the queue.
pub async fn run_builders(jobs: Vec<Job>, builders: usize) {
    let (job_tx, job_rx) = async_channel::bounded::<Job>(1);
    let remaining = Arc::new(AtomicUsize::new(jobs.len()));
    let mut pool = JoinSet::new();
    for _ in 0..builders {
        let job_tx = job_tx.clone();
        let job_rx = job_rx.clone();
        let remaining = Arc::clone(&remaining);
        pool.spawn(async move {
            while let Ok(mut job) = job_rx.recv().await {
                if build(&job).await.is_err() && job.attempts < 3 {
                    job.attempts += 1;
                    let _ = job_tx.send(job).await;
                } else if remaining.fetch_sub(1, Ordering::AcqRel) == 1 {
                    job_tx.close();
                }
            }
        });
    }
    for job in jobs {
        let _ = job_tx.send(job).await;
    }
    while pool.join_next().await.is_some() {}
}

/// `broadcast` of `()` with capacity 1: each builder announces its cache update to its
/// peers, then waits for the next announcement (its own included). Every receiver sees
/// every send, so no send takes a token away from anyone.
pub async fn share_cache_updates(store: Arc<Store>, builders: usize) {
    let (updated_tx, _) = broadcast::channel::<()>(1);
    let mut peers = JoinSet::new();
    for id in 0..builders {
        let store = Arc::clone(&store);
        let updated_tx = updated_tx.clone();
        let mut updated_rx = updated_tx.subscribe();
        peers.spawn(async move {
            if store.commit(&format!("cache/{id}")).await.is_ok() {
                let _ = updated_tx.send(());
            }
            let _ = updated_rx.recv().await;
            tracing::debug!(id, "peer cache changed, reloading the index");
        });
    }
    while peers.join_next().await.is_some() {}
}

/// `watch<bool>` and `oneshot`: the coordinator flips `paused` to `true`, waits for each
/// worker's one-shot ack, commits, then flips it back.
pub async fn maintenance_window(store: Arc<Store>, workers: usize) -> io::Result<()> {
    let (paused_tx, paused_rx) = watch::channel(false);
    let mut acks = Vec::new();
    let mut pool = JoinSet::new();
    for id in 0..workers {
        let mut paused_rx = paused_rx.clone();
        let (ack_tx, ack_rx) = oneshot::channel::<()>();
        acks.push(ack_rx);
        pool.spawn(async move {
            if paused_rx.wait_for(|paused| *paused).await.is_ok() {
                tracing::info!(id, "paused for maintenance");
                let _ = ack_tx.send(());
                let _ = paused_rx.wait_for(|paused| !*paused).await;
            }
        });
    }
    paused_tx.send(true).expect("workers hold receivers");
    for ack in acks {
        let _ = ack.await;
    }
    let committed = store.commit("maintenance/compacted").await;
    let _ = paused_tx.send(false);
    while pool.join_next().await.is_some() {}
    committed
}

/// `futures::channel::mpsc` (the fn-local `use` shadows tokio's): `channel(1)` with N
/// cloned senders holds up to 1 + N messages, so this is not even a one-token lock.
pub async fn rotate_keys(store: Arc<Store>, names: Vec<String>) {
    use futures::channel::mpsc;
    use futures::{SinkExt, StreamExt};
    let (tx, rx) = mpsc::channel::<()>(1);
    let rx = Arc::new(Mutex::new(rx));
    let mut rotations = JoinSet::new();
    for name in names {
        let store = Arc::clone(&store);
        let mut tx = tx.clone();
        let rx = Arc::clone(&rx);
        rotations.spawn(async move {
            let _ = tx.send(()).await;
            let _ = store.commit(&format!("keys/{name}")).await;
            rx.lock().await.next().await;
        });
    }
    while rotations.join_next().await.is_some() {}
}
