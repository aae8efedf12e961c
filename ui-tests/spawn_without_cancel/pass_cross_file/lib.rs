//! A search node: wires background work whose loops live in other files. Every
//! spawn here either keeps its handle, lives in a JoinSet, is scoped, or runs a loop
//! that can end (cancellation passed in, a stop flag, a closed channel, a retry that
//! breaks with its value). None is a leak.

mod batch;
mod heartbeat;
mod ingest;
mod wal;

use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::Arc;

use tokio::sync::mpsc;
use tokio::task::{JoinHandle, JoinSet};
use tokio_util::sync::CancellationToken;

pub use ingest::{Ack, Doc, Index};

pub struct NodeConfig {
    pub peers: Vec<SocketAddr>,
    pub upstream: SocketAddr,
    pub wal_path: std::path::PathBuf,
}

pub struct Node {
    docs: mpsc::Sender<Doc>,
    outbound: mpsc::Sender<Vec<u8>>,
    acks: mpsc::Sender<Ack>,
    token: CancellationToken,
    heartbeats: JoinSet<()>,
    compactor: JoinHandle<()>,
    wal_stop: Arc<AtomicBool>,
    index: Arc<Index>,
}

impl Node {
    pub async fn start(cfg: NodeConfig) -> io::Result<Self> {
        let token = CancellationToken::new();
        let index = Arc::new(Index::default());

        // Not a leak: the token is passed to `ingest::consume` (ingest.rs), whose
        // `token.cancelled()` branch breaks the loop.
        let (docs, docs_rx) = mpsc::channel(1024);
        tokio::spawn(ingest::consume(docs_rx, Arc::clone(&index), token.clone()));

        // Not a leak: `forward_upstream` retries the connect with `break conn`, then
        // receives with `while let` and returns when the upstream write fails.
        let (outbound, outbound_rx) = mpsc::channel(256);
        tokio::spawn(ingest::forward_upstream(cfg.upstream, outbound_rx));

        // Not a leak: `collect_acks` breaks on `None` when every sender is gone.
        let (acks, acks_rx) = mpsc::channel(256);
        tokio::spawn(ingest::collect_acks(acks_rx, Arc::clone(&index)));

        // Not a leak: `beat_forever` (heartbeat.rs) never ends, but a JoinSet aborts its
        // tasks when dropped or on `abort_all`.
        let mut heartbeats = JoinSet::new();
        for peer in cfg.peers {
            heartbeats.spawn(heartbeat::beat_forever(peer));
        }

        // Not a leak: the compactor loop never ends, but its handle is kept in the
        // struct and aborted on shutdown.
        let compactor = tokio::spawn(heartbeat::run_compactor(Arc::clone(&index)));

        // Not a leak: the WAL syncer thread (wal.rs) re-checks the stop flag passed in
        // and its `while` ends when it is set.
        let wal = Arc::new(wal::Wal::open(&cfg.wal_path)?);
        let wal_stop = Arc::new(AtomicBool::new(false));
        let syncer_wal = Arc::clone(&wal);
        let syncer_stop = Arc::clone(&wal_stop);
        std::thread::Builder::new()
            .name("wal-sync".into())
            .spawn(move || wal::sync_until_stopped(&syncer_wal, &syncer_stop))
            .expect("failed to spawn wal syncer");

        // Not a leak: the segment tailer leaves its outer loop with a labelled break
        // from the inner read loop at the end-of-log marker.
        let tail_wal = Arc::clone(&wal);
        let tail_index = Arc::clone(&index);
        std::thread::spawn(move || wal::replay_segments(&tail_wal, &tail_index));

        // Not a leak: the watchdog's loop ends the process (`process::exit`) when the
        // heartbeat goes stale; that is a normal exit.
        let last_beat = Arc::new(AtomicU64::new(0));
        std::thread::spawn(move || heartbeat::watchdog(&last_beat));

        Ok(Self { docs, outbound, acks, token, heartbeats, compactor, wal_stop, index })
    }

    /// Re-indexes every shard with scoped worker threads (joined by the scope).
    pub fn reindex(&self, shards: Vec<Vec<Doc>>) -> usize {
        batch::reindex_all(&self.index, shards)
    }

    pub async fn submit(&self, doc: Doc) -> bool {
        self.docs.send(doc).await.is_ok()
    }

    pub async fn stop(mut self) {
        self.token.cancel();
        self.wal_stop.store(true, std::sync::atomic::Ordering::Release);
        self.compactor.abort();
        self.heartbeats.abort_all();
        drop((self.outbound, self.acks));
        while self.heartbeats.join_next().await.is_some() {}
    }
}
