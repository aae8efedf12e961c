//! An upload gateway: axum handlers in front of a blob store, replication to peers and
//! a few maintenance jobs. Every marked line calls `std::thread::sleep` from code whose
//! nearest enclosing fn-like is async (an `async fn`, an `async` block or an async
//! closure). The call parks the runtime's worker thread: every other task scheduled on
//! it (other requests, timers, the shutdown signal) stalls until the sleep returns.

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread;
// Renamed so it is not confused with `tokio::time::sleep`; the rename does not hide
// what it is.
use std::thread::sleep as std_sleep;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path as UrlPath, State};
use axum::http::StatusCode;
use futures::stream::{self, StreamExt};
use tokio::sync::{Mutex, Semaphore};
use tokio::task::JoinHandle;

const SPOOL_POLL: Duration = Duration::from_millis(250);
const COMPACTION_SETTLE: Duration = Duration::from_millis(500);

pub struct BlobStore {
    root: PathBuf,
    write_slots: Semaphore,
    write_pause: Option<Duration>,
    index: Mutex<HashMap<String, u64>>,
}

pub struct CompactionLock {
    key: String,
}

impl BlobStore {
    fn path_of(&self, key: &str) -> PathBuf {
        self.root.join(key)
    }

    pub async fn get(&self, key: &str) -> io::Result<Bytes> {
        Ok(Bytes::from(tokio::fs::read(self.path_of(key)).await?))
    }

    /// Writes one object. Write throttling was added for a slow NFS mount.
    pub async fn put(&self, key: &str, body: Bytes) -> io::Result<()> {
        let _slot = self.write_slots.acquire().await.map_err(io::Error::other)?;
        if let Some(pause) = self.write_pause {
            // Finding: a method in an `impl`, and the method is an `async fn`; the
            // renamed import still resolves to `std::thread::sleep`. Every write stalls
            // its worker while it holds a write slot.
            std_sleep(pause); //~ blocking_sleep_in_async
        }
        tokio::fs::write(self.path_of(key), &body).await?;
        self.index.lock().await.insert(key.to_owned(), body.len() as u64);
        Ok(())
    }

    pub async fn lock_for_compaction(&self, key: &str) -> io::Result<CompactionLock> {
        let _ = self.index.lock().await.get(key);
        Ok(CompactionLock { key: key.to_owned() })
    }

    pub async fn compact(&self, key: &str, lock: CompactionLock) -> io::Result<()> {
        debug_assert_eq!(lock.key, key);
        let bytes = tokio::fs::read(self.path_of(key)).await?;
        tokio::fs::write(self.path_of(key), bytes).await
    }

    pub async fn expired_keys(&self) -> io::Result<Vec<String>> {
        Ok(self.index.lock().await.keys().cloned().collect())
    }

    pub async fn remove(&self, key: &str) -> io::Result<()> {
        self.index.lock().await.remove(key);
        tokio::fs::remove_file(self.path_of(key)).await
    }
}

pub struct AppState {
    pub store: Arc<BlobStore>,
    pub max_attempts: u32,
}

/// `PUT /objects/:key`
pub async fn put_object(
    State(state): State<Arc<AppState>>,
    UrlPath(key): UrlPath<String>,
    body: Bytes,
) -> Result<StatusCode, StatusCode> {
    let mut backoff = Duration::from_millis(50);
    for attempt in 1..=state.max_attempts {
        match state.store.put(&key, body.clone()).await {
            Ok(()) => return Ok(StatusCode::CREATED),
            Err(err) if attempt < state.max_attempts => {
                tracing::warn!(error = %err, attempt, key = %key, "put failed, retrying");
                // Finding: retry backoff in a request handler. The worker sleeps
                // 50ms, 100ms, 200ms.. and every request queued on it waits too.
                thread::sleep(backoff); //~ blocking_sleep_in_async
                backoff *= 2;
            }
            Err(err) => {
                tracing::error!(error = %err, key = %key, "put failed, giving up");
                return Err(StatusCode::BAD_GATEWAY);
            }
        }
    }
    Err(StatusCode::BAD_GATEWAY)
}

/// Waits until an upload's spool file stops growing and returns its final size.
pub async fn wait_until_spooled(path: &Path) -> io::Result<u64> {
    let mut last = tokio::fs::metadata(path).await?.len();
    loop {
        // Finding: an `async fn` polling a file with a blocking sleep between polls.
        std::thread::sleep(SPOOL_POLL); //~ blocking_sleep_in_async
        let now = tokio::fs::metadata(path).await?.len();
        if now == last {
            return Ok(now);
        }
        last = now;
    }
}

/// Starts a compaction of `key` in the background. The caller keeps the handle.
pub fn start_compaction(store: Arc<BlobStore>, key: String) -> JoinHandle<io::Result<()>> {
    tokio::spawn(async move {
        let lock = store.lock_for_compaction(&key).await?;
        // Finding: `start_compaction` is sync, but the nearest fn-like of this call is
        // the `async move` block, which runs as a task on a runtime worker.
        thread::sleep(COMPACTION_SETTLE); //~ blocking_sleep_in_async
        store.compact(&key, lock).await
    })
}

pub struct Peer {
    pub url: String,
    pub min_interval: Duration,
}

impl Peer {
    async fn push(&self, key: &str, body: Bytes) -> io::Result<()> {
        let _ = (&self.url, key, body);
        Ok(())
    }
}

/// Pushes every key to every peer, one at a time.
pub async fn replicate(store: &BlobStore, keys: &[String], peers: &[Peer]) -> io::Result<()> {
    let push_throttled = async |peer: &Peer, key: &str| -> io::Result<()> {
        // Finding: the nearest fn-like is an async closure; its body runs when the
        // returned future is polled, on the worker.
        thread::sleep(peer.min_interval); //~ blocking_sleep_in_async
        peer.push(key, store.get(key).await?).await
    };
    for key in keys {
        for peer in peers {
            push_throttled(peer, key).await?;
        }
    }
    Ok(())
}

/// Re-reads every object so the page cache is warm after a restart, 8 at a time.
pub async fn warm_cache(store: Arc<BlobStore>, keys: Vec<String>) {
    stream::iter(keys)
        .for_each_concurrent(8, |key| {
            let store = Arc::clone(&store);
            // The closure is sync, but it only builds the future: the nearest fn-like
            // of the sleep below is the `async move` block, polled on the worker.
            async move {
                if store.get(&key).await.is_err() {
                    // Finding: nested async block inside a sync closure inside an
                    // async fn; the async block is the nearest fn-like.
                    std::thread::sleep(Duration::from_millis(20)); //~ blocking_sleep_in_async
                }
            }
        })
        .await;
}

/// A one-shot admin command run from the CLI: builds a runtime and blocks on it.
pub fn reindex_blocking(store: Arc<BlobStore>) -> io::Result<usize> {
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(async move {
        let keys = store.expired_keys().await?;
        // Not a finding: this block is the direct argument of `block_on` and runs on
        // the calling thread. But the task spawned below is a runtime task: its
        // `async move` block is the nearest fn-like of the sleep, and it is not what
        // `block_on` was given.
        let verify = tokio::spawn(async move {
            std::thread::sleep(Duration::from_secs(1)); //~ blocking_sleep_in_async
            keys.len()
        });
        verify.await.map_err(io::Error::other)
    })
}

pub mod janitor {
    //! Ported from a thread-per-job janitor; the glob import came along with it.

    use std::thread::*;
    use std::time::Duration;

    use super::BlobStore;

    /// Removes expired objects, pausing every 100 removals to spare the disk.
    pub async fn sweep_expired(store: &BlobStore) -> std::io::Result<usize> {
        let mut removed = 0;
        for key in store.expired_keys().await? {
            store.remove(&key).await?;
            removed += 1;
            if removed % 100 == 0 {
                // Finding: bare `sleep` comes from `use std::thread::*`.
                sleep(Duration::from_millis(10)); //~ blocking_sleep_in_async
            }
        }
        Ok(removed)
    }
}

pub mod drain {
    //! Shutdown drain: this module uses tokio's timer throughout.

    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use tokio::time::sleep;

    pub struct InFlight {
        pub uploads: AtomicUsize,
    }

    /// Gives in-flight uploads a grace period. Not a finding: `sleep` is the module's
    /// `tokio::time::sleep`, awaited.
    pub async fn grace_period(grace: Duration) {
        sleep(grace).await;
    }

    /// Reports how many uploads were still running a second after shutdown started.
    pub async fn report_stragglers(in_flight: &InFlight) -> usize {
        // Copied from the sync CLI: this fn-local `use` shadows the module's
        // `use tokio::time::sleep` for the rest of this body.
        use std::thread::sleep;
        // Finding: `sleep` resolves to `std::thread::sleep` here, not to tokio's.
        sleep(Duration::from_secs(1)); //~ blocking_sleep_in_async
        in_flight.uploads.load(Ordering::Relaxed)
    }
}

pub mod legacy {
    //! An async-std edition of the gateway's spool cleaner, kept for one customer.

    use std::path::PathBuf;
    use std::time::Duration;

    use async_std::task::{self, JoinHandle};

    /// Deletes spool files left behind by crashed uploads. The caller keeps the handle.
    pub fn start_spool_cleanup(spool: Vec<PathBuf>) -> JoinHandle<usize> {
        task::spawn(async move {
            let mut removed = 0;
            for path in spool {
                if async_std::fs::remove_file(&path).await.is_ok() {
                    removed += 1;
                }
                // Finding: async-std tasks share a small worker pool just the same.
                std::thread::sleep(Duration::from_millis(5)); //~ blocking_sleep_in_async
            }
            removed
        })
    }
}
