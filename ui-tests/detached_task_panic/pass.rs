//! Background work of an object-storage gateway whose panics are observed: every handle
//! is awaited, joined, aborted, stored, returned, handed on or collected, or the task
//! lives in something that owns it (a `JoinSet`, a scope, an undetached smol `Task`), or
//! it is a process-lifetime singleton, or it is test code. Nothing here is reported.

use std::io;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc as std_mpsc;
use std::sync::{Arc, Mutex, OnceLock};
use std::thread;

use once_cell::sync::Lazy;
use tokio::task::{JoinHandle, JoinSet};

pub struct ObjectStore {
    bucket: String,
}

impl ObjectStore {
    async fn put(&self, key: &str, body: Vec<u8>) -> io::Result<()> {
        let _ = (&self.bucket, key, body);
        Ok(())
    }

    async fn get(&self, key: &str) -> io::Result<Vec<u8>> {
        Ok(key.as_bytes().to_vec())
    }
}

/// Awaited: the upload's `JoinError` (a panic) is turned into an io error.
pub async fn upload_and_confirm(store: Arc<ObjectStore>, key: String, body: Vec<u8>) -> io::Result<()> {
    let upload = tokio::spawn(async move { store.put(&key, body).await });
    tracing::debug!("upload started");
    upload.await.map_err(io::Error::other)?
}

/// Joined: the checksum thread's panic comes back as `Err` from `join()`.
pub fn checksum_file(path: PathBuf) -> io::Result<u32> {
    let worker = thread::spawn(move || std::fs::read(&path).map(|data| crc32fast::hash(&data)));
    worker.join().map_err(|_| io::Error::other("checksum thread panicked"))?
}

/// Aborted: the speculative prefetch is cancelled once the real read is done.
pub async fn read_with_prefetch(store: Arc<ObjectStore>, key: String, next: String) -> io::Result<Vec<u8>> {
    let ahead = Arc::clone(&store);
    let prefetch = tokio::spawn(async move { ahead.get(&next).await });
    let data = store.get(&key).await;
    prefetch.abort();
    data
}

/// Stored: the pending flush is kept in a field and awaited by `finish`.
pub struct MultipartWriter {
    store: Arc<ObjectStore>,
    flush: Option<JoinHandle<io::Result<()>>>,
}

impl MultipartWriter {
    pub fn flush_part(&mut self, key: String, part: Vec<u8>) {
        let store = Arc::clone(&self.store);
        self.flush = Some(tokio::spawn(async move { store.put(&key, part).await }));
    }

    pub async fn finish(&mut self) -> io::Result<()> {
        match self.flush.take() {
            Some(flush) => flush.await.map_err(io::Error::other)?,
            None => Ok(()),
        }
    }
}

/// Returned: the caller decides how to observe the export.
pub fn spawn_inventory_export(store: Arc<ObjectStore>, keys: Vec<String>) -> JoinHandle<io::Result<()>> {
    tokio::spawn(async move {
        let listing = keys.join("\n");
        store.put("inventory/latest", listing.into_bytes()).await
    })
}

/// Passed on: a supervisor logs the outcome of every task it is given.
pub struct Supervisor {
    watched: Mutex<Vec<(&'static str, JoinHandle<io::Result<()>>)>>,
}

impl Supervisor {
    fn watch(&self, name: &'static str, handle: JoinHandle<io::Result<()>>) {
        self.watched.lock().unwrap().push((name, handle));
    }
}

pub fn start_replication(supervisor: &Supervisor, store: Arc<ObjectStore>, key: String) {
    let replicate = tokio::spawn(async move {
        let body = store.get(&key).await?;
        store.put(&format!("replica/{key}"), body).await
    });
    supervisor.watch("replicate", replicate);
}

/// Pushed into a Vec and joined together.
pub async fn delete_prefix(store: Arc<ObjectStore>, keys: Vec<String>) -> io::Result<()> {
    let mut deletes = Vec::with_capacity(keys.len());
    for key in keys {
        let store = Arc::clone(&store);
        deletes.push(tokio::spawn(async move { store.put(&key, Vec::new()).await }));
    }
    for result in futures::future::join_all(deletes).await {
        result.map_err(io::Error::other)??;
    }
    Ok(())
}

/// A `JoinSet` owns its tasks; `join_next` surfaces each panic.
pub async fn verify_replicas(store: Arc<ObjectStore>, keys: Vec<String>) -> io::Result<usize> {
    let mut checks = JoinSet::new();
    for key in keys {
        let store = Arc::clone(&store);
        checks.spawn(async move { store.get(&key).await.map(|b| b.len()) });
    }
    let mut total = 0;
    while let Some(res) = checks.join_next().await {
        total += res.map_err(io::Error::other)??;
    }
    Ok(total)
}

/// Scoped threads are joined when the scope ends; a panic re-raises there.
pub fn hash_chunks(chunks: &[Vec<u8>]) -> Vec<u32> {
    let out = Mutex::new(Vec::with_capacity(chunks.len()));
    thread::scope(|s| {
        for chunk in chunks {
            s.spawn(|| out.lock().unwrap().push(crc32fast::hash(chunk)));
        }
    });
    out.into_inner().unwrap()
}

/// A smol `Task` that is awaited (never `.detach()`ed) is cancelled on drop.
pub async fn fetch_on_smol(store: Arc<ObjectStore>, key: String) -> io::Result<Vec<u8>> {
    let task = smol::spawn(async move { store.get(&key).await });
    task.await
}

/// Process-lifetime singleton: one DNS resolver thread per process, started inside
/// `get_or_init`.
pub fn resolver() -> &'static std_mpsc::SyncSender<(String, std_mpsc::SyncSender<Vec<std::net::IpAddr>>)> {
    static RESOLVER: OnceLock<std_mpsc::SyncSender<(String, std_mpsc::SyncSender<Vec<std::net::IpAddr>>)>> =
        OnceLock::new();
    RESOLVER.get_or_init(|| {
        let (tx, rx) = std_mpsc::sync_channel::<(String, std_mpsc::SyncSender<Vec<std::net::IpAddr>>)>(64);
        thread::spawn(move || {
            while let Ok((host, reply)) = rx.recv() {
                let addrs = dns_lookup::lookup_host(&host).unwrap_or_default();
                let _ = reply.send(addrs);
            }
        });
        tx
    })
}

/// Process-lifetime singleton started by `Lazy::new`: the fsync thread of the WAL.
pub static WAL_SYNCER: Lazy<std_mpsc::SyncSender<std::fs::File>> = Lazy::new(|| {
    let (tx, rx) = std_mpsc::sync_channel::<std::fs::File>(16);
    thread::spawn(move || {
        for file in rx {
            let _ = file.sync_all();
        }
    });
    tx
});

static AUDIT_FLUSHER_STARTED: AtomicBool = AtomicBool::new(false);

/// Process-lifetime singleton behind a `compare_exchange`: only the first caller starts
/// the audit flusher.
pub fn ensure_audit_flusher(store: Arc<ObjectStore>, mut batches: tokio::sync::mpsc::Receiver<Vec<u8>>) {
    if AUDIT_FLUSHER_STARTED.compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire).is_ok() {
        tokio::spawn(async move {
            while let Some(batch) = batches.recv().await {
                let _ = store.put("audit/batch", batch).await;
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Test code: a detached fake upload is fine here.
    #[tokio::test]
    async fn upload_round_trip() {
        let store = Arc::new(ObjectStore { bucket: "test".into() });
        let writer = Arc::clone(&store);
        tokio::spawn(async move {
            writer.put("k", b"v".to_vec()).await.unwrap();
        });
        tokio::task::yield_now().await;
        let _ = store.get("k").await;
    }
}
