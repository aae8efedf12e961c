//! Capacity-1 channels of `()` in a deployment agent that are signals, not locks: a
//! one-time "ready" signal, a hand-off between two tasks, a flush request/ack pair on
//! two channels, a turn relayed along a chain of channels, a coalescing wake-up whose
//! send and receive live in different methods, a watcher callback feeding a loop, and a
//! stop signal passed from worker to worker (a cancellation name). Test code may use a
//! channel as a lock. Nothing is reported.

use std::fs::File;
use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::Duration;

use crossbeam_channel::RecvTimeoutError;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, Mutex};
use tokio::task::JoinSet;

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

/// A one-time "ready" signal: the server task sends once after `bind`, the caller
/// receives once. Send and receive are in different bodies.
pub async fn start_status_server(addr: SocketAddr) -> io::Result<tokio::task::JoinHandle<io::Result<()>>> {
    let (ready_tx, mut ready_rx) = mpsc::channel::<()>(1);
    let server = tokio::spawn(async move {
        let listener = TcpListener::bind(addr).await?;
        let _ = ready_tx.send(()).await;
        while let Ok((stream, peer)) = listener.accept().await {
            tracing::debug!(%peer, local = ?stream.local_addr(), "status probe");
        }
        Ok(())
    });
    ready_rx.recv().await;
    Ok(server)
}

/// A hand-off (async-task's `with-metadata` example): one task receives, the other sends.
pub async fn warm_after_upload(store: Arc<Store>, artifact: Artifact) -> io::Result<()> {
    let (uploaded_tx, uploaded_rx) = async_channel::bounded(1);
    let warmer = tokio::spawn(async move {
        if uploaded_rx.recv().await.is_ok() {
            tracing::info!("warming the CDN");
        }
    });
    let uploader = tokio::spawn(async move {
        let key = store.upload(&artifact).await?;
        let _ = uploaded_tx.send(()).await;
        store.commit(&key).await
    });
    let (uploaded, warmed) = tokio::join!(uploader, warmer);
    warmed.expect("warmer panicked");
    uploaded.expect("uploader panicked")
}

/// Request/ack on two channels (async-global-executor's shutdown/ack shape, without the
/// cancellation names): `flush` sends on one channel and receives on another.
pub struct Journal {
    flush_tx: crossbeam_channel::Sender<()>,
    flushed_rx: crossbeam_channel::Receiver<()>,
    worker: JoinHandle<()>,
}

impl Journal {
    pub fn start(file: File) -> Self {
        let (flush_tx, flush_rx) = crossbeam_channel::bounded::<()>(1);
        let (flushed_tx, flushed_rx) = crossbeam_channel::bounded::<()>(1);
        let worker = thread::spawn(move || {
            while flush_rx.recv().is_ok() {
                if let Err(err) = file.sync_all() {
                    tracing::error!(error = %err, "journal fsync failed");
                }
                if flushed_tx.send(()).is_err() {
                    break;
                }
            }
        });
        Self { flush_tx, flushed_rx, worker }
    }

    pub fn flush(&self) {
        self.flush_tx.send(()).expect("journal worker is alive");
        self.flushed_rx.recv().expect("journal worker is alive");
    }
}

/// Commits in order (async-executor's `limit.rs` shape): each task waits for its turn
/// on the previous channel and passes it on through a new one. `start_tx` and the last
/// `turn_rx` are different channels even though `turn_rx` starts as `start_rx`.
pub async fn publish_in_order(store: Arc<Store>, artifacts: Vec<Artifact>) -> io::Result<()> {
    let (start_tx, start_rx) = async_channel::bounded::<()>(1);
    let mut turn_rx = start_rx;
    start_tx.send(()).await.expect("a fresh channel has room");
    let mut publishers = JoinSet::new();
    for artifact in artifacts {
        let (next_tx, next_rx) = async_channel::bounded::<()>(1);
        let store = Arc::clone(&store);
        publishers.spawn(async move {
            let key = store.upload(&artifact).await;
            let _ = turn_rx.recv().await;
            let committed = match key {
                Ok(key) => store.commit(&key).await,
                Err(err) => Err(err),
            };
            let _ = next_tx.send(()).await;
            committed
        });
        turn_rx = next_rx;
    }
    let _ = turn_rx.recv().await;
    while let Some(done) = publishers.join_next().await {
        done.expect("publisher panicked")?;
    }
    Ok(())
}

/// A coalescing wake-up stored in the struct: `mark_dirty` only sends, `run_rebuilds`
/// only receives. A full slot means "a rebuild is already pending".
pub struct SearchIndex {
    dirty_tx: mpsc::Sender<()>,
    dirty_rx: Mutex<mpsc::Receiver<()>>,
    docs: Mutex<Vec<String>>,
}

impl SearchIndex {
    pub fn new() -> Self {
        let (dirty_tx, dirty_rx) = mpsc::channel::<()>(1);
        Self { dirty_tx, dirty_rx: Mutex::new(dirty_rx), docs: Mutex::new(Vec::new()) }
    }

    pub fn mark_dirty(&self) {
        let _ = self.dirty_tx.try_send(());
    }

    pub async fn run_rebuilds(&self) {
        let mut dirty_rx = self.dirty_rx.lock().await;
        while dirty_rx.recv().await.is_some() {
            let docs = self.docs.lock().await.len();
            tracing::info!(docs, "rebuilding the search index");
        }
    }
}

/// A config watcher: the `notify` callback only sends (events coalesce into one pending
/// reload) and this fn only receives; no task or struct shares the endpoints.
pub fn follow_config(path: PathBuf, apply: impl Fn(&str)) -> notify::Result<()> {
    let (changed_tx, changed_rx) = std::sync::mpsc::sync_channel::<()>(1);
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        if event.is_ok() {
            let _ = changed_tx.try_send(());
        }
    })?;
    notify::Watcher::watch(&mut watcher, &path, notify::RecursiveMode::NonRecursive)?;
    while changed_rx.recv().is_ok() {
        match std::fs::read_to_string(&path) {
            Ok(raw) => apply(&raw),
            Err(err) => tracing::warn!(error = %err, path = %path.display(), "cannot read config"),
        }
    }
    Ok(())
}

/// A stop signal relayed from worker to worker on the same channel: cancellation names.
pub fn start_scrapers(targets: Vec<String>, workers: usize) -> (crossbeam_channel::Sender<()>, Vec<JoinHandle<()>>) {
    let (jobs_tx, jobs_rx) = crossbeam_channel::bounded::<String>(64);
    let (stop_tx, stop_rx) = crossbeam_channel::bounded::<()>(1);
    let mut handles = Vec::new();
    for _ in 0..workers {
        let (jobs_rx, stop_tx, stop_rx) = (jobs_rx.clone(), stop_tx.clone(), stop_rx.clone());
        handles.push(thread::spawn(move || loop {
            if stop_rx.try_recv().is_ok() {
                let _ = stop_tx.send(());
                break;
            }
            match jobs_rx.recv_timeout(Duration::from_millis(200)) {
                Ok(target) => tracing::debug!(%target, "scraping"),
                Err(RecvTimeoutError::Timeout) => continue,
                Err(RecvTimeoutError::Disconnected) => break,
            }
        }));
    }
    for target in targets {
        let _ = jobs_tx.send(target);
    }
    (stop_tx, handles)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Test code: a channel used as a lock on purpose, to check that the WAL survives
    /// interleaved writers. Lints are off in tests.
    #[tokio::test]
    async fn interleaved_writers_do_not_tear_records() {
        let (slot_tx, slot_rx) = mpsc::channel::<()>(1);
        let slot_rx = Arc::new(Mutex::new(slot_rx));
        let mut writers = JoinSet::new();
        for id in 0..8u8 {
            let (slot_tx, slot_rx) = (slot_tx.clone(), Arc::clone(&slot_rx));
            writers.spawn(async move {
                slot_tx.send(()).await.unwrap();
                tokio::fs::write(format!("/tmp/wal-test-{id}"), [id; 16]).await.unwrap();
                slot_rx.lock().await.recv().await;
            });
        }
        while writers.join_next().await.is_some() {}
    }
}
