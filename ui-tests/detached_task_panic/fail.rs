//! Short-lived background work of an object-storage gateway, started and forgotten. None
//! of these tasks runs forever (each ends after one job, when its channel closes, or when
//! its token fires), but nobody keeps the handle: a panic inside one is swallowed by the
//! runtime (or the thread dies quietly) and the caller never learns the work was lost.

use std::collections::HashMap;
use std::io;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use tokio::runtime::Handle;
use tokio::sync::mpsc;
use tokio::task;
use tokio::time;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

pub struct AuditEvent {
    pub actor: String,
    pub action: String,
}

pub struct ObjectStore {
    bucket: String,
}

impl ObjectStore {
    async fn append_audit(&self, event: &AuditEvent) -> io::Result<()> {
        let _ = (&self.bucket, &event.actor, &event.action);
        Ok(())
    }

    async fn prefetch(&self, key: &str) -> io::Result<usize> {
        Ok(key.len())
    }

    async fn put(&self, key: &str, body: Vec<u8>) -> io::Result<()> {
        let _ = (key, body);
        Ok(())
    }

    async fn collect_garbage(&self) -> usize {
        0
    }
}

/// Audit writes are fire-and-forget: the handle is an expression statement, so the
/// `expect` below panics into the void and the audit trail has a silent hole.
pub fn record_audit(store: Arc<ObjectStore>, event: AuditEvent) {
    tokio::spawn(async move { //~ detached_task_panic
        store.append_audit(&event).await.expect("audit bucket rejected the event");
    });
}

/// Spilled multipart chunks are deleted on the blocking pool; `let _ =` drops the handle.
pub fn discard_spill_files(paths: Vec<PathBuf>) {
    let _ = task::spawn_blocking(move || { //~ detached_task_panic
        for path in paths {
            std::fs::remove_file(&path).unwrap();
        }
    });
}

/// `_warmup` is bound and never used again, so the handle drops when this fn returns.
pub async fn open_bucket(store: Arc<ObjectStore>, hot_keys: Vec<String>) -> io::Result<Arc<ObjectStore>> {
    let warm = Arc::clone(&store);
    let _warmup = tokio::spawn(async move { //~ detached_task_panic
        for key in hot_keys {
            let bytes = warm.prefetch(&key).await.unwrap();
            tracing::trace!(%key, bytes, "prefetched");
        }
    });
    Ok(store)
}

pub struct Sample {
    pub series: String,
    pub value: f64,
}

/// Forwards samples until every sender is gone (`while let` ends, so this task is not
/// long-running); the handle is handed to `drop(..)`, which detaches it.
pub fn start_sample_forwarder(mut samples: mpsc::Receiver<Sample>, store: Arc<ObjectStore>) {
    let forwarder = tokio::spawn(async move { //~ detached_task_panic
        while let Some(sample) = samples.recv().await {
            let line = format!("{} {}\n", sample.series, sample.value);
            store.put("metrics/latest", line.into_bytes()).await.unwrap();
        }
    });
    drop(forwarder);
}

/// A smol `Task` is cancelled on drop, but `.detach()` lets it run unobserved.
pub fn notify_webhook(hook: Arc<WebhookClient>, payload: Vec<u8>) {
    smol::spawn(async move { //~ detached_task_panic
        hook.deliver(&payload).await.expect("webhook endpoint refused the delivery");
    })
    .detach();
}

pub struct WebhookClient {
    url: String,
}

impl WebhookClient {
    async fn deliver(&self, payload: &[u8]) -> io::Result<()> {
        let _ = (&self.url, payload);
        Ok(())
    }
}

/// Log rotation compresses the old file on a plain OS thread nobody joins.
pub fn compress_rotated_log(path: PathBuf) {
    thread::spawn(move || { //~ detached_task_panic
        let raw = std::fs::read(&path).expect("rotated log vanished");
        let packed = zstd::encode_all(&raw[..], 3).expect("zstd failed");
        std::fs::write(path.with_extension("log.zst"), packed).expect("cannot write archive");
        std::fs::remove_file(&path).expect("cannot remove rotated log");
    });
}

/// A named snapshot thread; `.expect(..)` only unwraps the spawn result, the handle is
/// still dropped by the expression statement.
pub fn write_snapshot(path: PathBuf, index: Vec<(String, u64)>) {
    thread::Builder::new().name("snapshot-writer".into()).spawn(move || { //~ detached_task_panic
        let body = index.iter().map(|(k, v)| format!("{k}\t{v}\n")).collect::<String>();
        std::fs::write(&path, body).unwrap();
    })
    .expect("cannot spawn snapshot writer");
}

/// The async-std flavour of the gateway compacts its manifest in the background.
pub fn compact_manifest(store: Arc<ObjectStore>) {
    async_std::task::spawn(async move { //~ detached_task_panic
        let removed = store.collect_garbage().await;
        assert!(removed < 1_000_000, "manifest compaction removed too much");
    });
}

/// Uploads go through a `TaskTracker` so that `close()` can wait for them, but the
/// discarded handle means nobody ever sees an upload that panicked.
pub struct UploadQueue {
    tracker: TaskTracker,
    store: Arc<ObjectStore>,
}

impl UploadQueue {
    pub fn enqueue(&self, key: String, body: Vec<u8>) {
        let store = Arc::clone(&self.store);
        self.tracker.spawn(async move { //~ detached_task_panic
            store.put(&key, body).await.expect("upload failed");
        });
    }

    pub async fn wait_idle(&self) {
        self.tracker.close();
        self.tracker.wait().await;
    }
}

/// Crash reports are uploaded on a runtime handle kept by the reporter; the handle of
/// each upload is dropped.
pub struct CrashReporter {
    rt: Handle,
    store: Arc<ObjectStore>,
}

impl CrashReporter {
    pub fn report(&self, id: String, dump: Vec<u8>) {
        let store = Arc::clone(&self.store);
        self.rt.spawn(async move { //~ detached_task_panic
            store.put(&format!("crashes/{id}"), dump).await.unwrap();
        });
    }
}

pub struct Lease {
    pub ttl: Duration,
}

impl Lease {
    async fn renew(&self) {}
    async fn release(&self) {}
}

/// The keeper loops, but it leaves on `token.cancelled()`, so it is not long-running:
/// its only problem is that a panic in `renew` goes unnoticed.
pub fn start_lease_keeper(lease: Arc<Lease>, token: CancellationToken) {
    tokio::spawn(async move { //~ detached_task_panic
        let mut ticker = time::interval(lease.ttl / 3);
        loop {
            tokio::select! {
                _ = token.cancelled() => break,
                _ = ticker.tick() => lease.renew().await,
            }
        }
        lease.release().await;
    });
}

/// Presigned-upload invites expire through a detached sleeping task: a timer used as a
/// timeout (`sleep_as_timeout`) whose panics are also lost.
pub fn schedule_invite_expiry(invites: Arc<Mutex<HashMap<String, String>>>, code: String, ttl: Duration) {
    tokio::spawn(async move { //~ detached_task_panic sleep_as_timeout
        time::sleep(ttl).await;
        invites.lock().unwrap().remove(&code);
    });
}

/// Detached and endless: this one belongs to `spawn_without_cancel`, not to this lint.
pub fn start_gc(store: Arc<ObjectStore>) {
    tokio::spawn(async move { //~ spawn_without_cancel
        let mut ticker = time::interval(Duration::from_secs(60));
        loop {
            ticker.tick().await;
            let freed = store.collect_garbage().await;
            tracing::debug!(freed, "garbage collected");
        }
    });
}
