//! `lost_cancel` (c): a channel whose sender is gone before anyone listens. Either the
//! sender is bound to the bare `_` pattern (dropped at once) while the receiver is
//! received on later in the same fn, or a shutdown/stop/cancel sender is passed to
//! `drop(..)` right after it is created. Every receive then returns "closed" at once:
//! timers and wake-up loops spin, servers shut down on start, listeners exit silently.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::{broadcast, mpsc, oneshot, watch};
use tokio::task::JoinHandle;
use tokio::time;
use tokio_util::sync::CancellationToken;

pub struct Span {
    pub trace_id: u128,
    pub name: String,
}

pub struct Exporter {
    endpoint: String,
}

impl Exporter {
    async fn export(&self, batch: Vec<Span>) {
        tracing::trace!(endpoint = %self.endpoint, spans = batch.len(), "exported");
    }
}

pub fn start_span_exporter(exporter: Arc<Exporter>, buffer: Arc<Mutex<Vec<Span>>>, shutdown: CancellationToken) {
    // The "flush now" sender is discarded with `_`, so `flush_now.recv()` is ready with
    // `None` on every iteration and the every-5s exporter runs in a hot loop.
    let (_, mut flush_now) = mpsc::channel::<()>(1); //~ lost_cancel
    tokio::spawn(async move {
        let mut ticker = time::interval(Duration::from_secs(5));
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = ticker.tick() => {}
                _ = flush_now.recv() => {}
            }
            let batch = std::mem::take(&mut *buffer.lock().unwrap());
            exporter.export(batch).await;
        }
    });
}

#[derive(Clone, Debug, serde::Deserialize)]
pub struct Config {
    pub upstreams: Vec<SocketAddr>,
}

async fn load_config(path: &PathBuf) -> Option<Config> {
    let raw = tokio::fs::read_to_string(path).await.ok()?;
    toml::from_str(&raw).ok()
}

/// Reloads the config file whenever a reload is requested (SIGHUP, admin endpoint).
pub async fn run_config_reloader(path: PathBuf, current: Arc<arc_swap::ArcSwap<Config>>, shutdown: CancellationToken) {
    // Nobody holds the sender, so `changed()` fails at once every time; the error is
    // ignored and the file is re-read and re-parsed as fast as the disk allows.
    let (_, mut reload_rx) = watch::channel(()); //~ lost_cancel
    loop {
        let _ = reload_rx.changed().await;
        if shutdown.is_cancelled() {
            break;
        }
        if let Some(cfg) = load_config(&path).await {
            current.store(Arc::new(cfg));
        }
    }
}

/// Serves the admin API until it is told to stop.
pub async fn serve_admin(addr: SocketAddr, router: axum::Router) -> std::io::Result<()> {
    let listener = TcpListener::bind(addr).await?;
    // The graceful-shutdown future resolves immediately (the sender is already gone),
    // so the admin server stops accepting right after it starts.
    let (_, stop_rx) = oneshot::channel::<()>(); //~ lost_cancel
    axum::serve(listener, router)
        .with_graceful_shutdown(async move {
            let _ = stop_rx.await;
        })
        .await
}

pub struct LongPoll {
    pub events: mpsc::Receiver<String>,
}

/// Collects events for a long-poll request until the batch is full or it is cancelled.
pub async fn collect_long_poll(mut poll: LongPoll, max: usize) -> Vec<String> {
    let (_, mut cancel_rx) = oneshot::channel::<()>(); //~ lost_cancel
    let mut batch = Vec::new();
    // `&mut cancel_rx` completes with `RecvError` on the first poll, so every long
    // poll returns an empty batch at once and the client re-polls in a tight loop.
    while batch.len() < max {
        tokio::select! {
            _ = &mut cancel_rx => break,
            event = poll.events.recv() => match event {
                Some(event) => batch.push(event),
                None => break,
            },
        }
    }
    batch
}

#[derive(Clone, Debug, Hash, PartialEq, Eq)]
pub struct CacheKey(pub String);

pub struct LocalCache {
    entries: moka::sync::Cache<CacheKey, Arc<Vec<u8>>>,
}

impl LocalCache {
    /// Listens for invalidations published by the other replicas.
    pub fn start_invalidation_listener(self: &Arc<Self>) {
        // The sender was meant to go to the pub/sub bridge; with `_` it is dropped and
        // the first `recv()` returns `Closed`: the listener exits and the cache serves
        // stale entries forever.
        let (_, mut invalidations) = broadcast::channel::<CacheKey>(256); //~ lost_cancel
        let cache = Arc::clone(self);
        tokio::spawn(async move {
            loop {
                match invalidations.recv().await {
                    Ok(key) => cache.entries.invalidate(&key),
                    Err(RecvError::Lagged(missed)) => {
                        tracing::warn!(missed, "invalidations lagged, clearing cache");
                        cache.entries.invalidate_all();
                    }
                    Err(RecvError::Closed) => break,
                }
            }
        });
    }
}

pub struct Wal {
    path: PathBuf,
}

impl Wal {
    fn fsync(&self) {
        let _ = std::fs::File::open(&self.path).and_then(|f| f.sync_all());
    }
}

/// Fsyncs the write-ahead log every 200ms on its own thread.
pub fn start_wal_syncer(wal: Arc<Wal>) -> thread::JoinHandle<()> {
    // "Sleep 200ms unless told to stop": with the sender gone, `recv_timeout` returns
    // `Disconnected` at once, which is not `Ok`, so the loop fsyncs back to back.
    let (_, stop_rx) = std::sync::mpsc::channel::<()>(); //~ lost_cancel
    thread::spawn(move || loop {
        if stop_rx.recv_timeout(Duration::from_millis(200)).is_ok() {
            break;
        }
        wal.fsync();
    })
}

/// Samples process memory once a second on a helper thread.
pub fn start_memory_sampler(samples: crossbeam_channel::Sender<u64>) -> thread::JoinHandle<()> {
    let (_, ticks) = crossbeam_channel::bounded::<()>(0); //~ lost_cancel
    thread::spawn(move || {
        // Meant as a 1s tick that can be interrupted; the receiver is disconnected from
        // the start, so this returns `Disconnected` and the sampler thread quits at once.
        while let Err(crossbeam_channel::RecvTimeoutError::Timeout) = ticks.recv_timeout(Duration::from_secs(1)) {
            let rss = memory_stats::memory_stats().map(|s| s.physical_mem as u64).unwrap_or(0);
            if samples.send(rss).is_err() {
                break;
            }
        }
    })
}

pub struct Job {
    pub id: u64,
}

/// Starts the job workers. They stop when the shutdown flag changes.
pub fn start_job_workers(jobs: async_channel::Receiver<Job>, n: usize) -> Vec<JoinHandle<()>> {
    let (shutdown_tx, shutdown_rx) = watch::channel(false);
    // Added to silence "unused variable": it closes the channel, `changed()` fails at
    // once and every worker takes its shutdown branch on the first iteration.
    drop(shutdown_tx); //~ lost_cancel
    (0..n)
        .map(|worker| {
            let mut shutdown = shutdown_rx.clone();
            let jobs = jobs.clone();
            tokio::spawn(async move {
                loop {
                    tokio::select! {
                        _ = shutdown.changed() => break,
                        job = jobs.recv() => match job {
                            Ok(job) => tracing::debug!(worker, job = job.id, "job done"),
                            Err(_) => break,
                        },
                    }
                }
            })
        })
        .collect()
}

/// Tails the audit topic into the local archive until stopped.
pub fn start_audit_tail(mut source: mpsc::Receiver<Vec<u8>>, archive: PathBuf) -> JoinHandle<()> {
    let (stop_tx, mut stop_rx) = oneshot::channel::<()>();
    drop(stop_tx); //~ lost_cancel
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = &mut stop_rx => break,
                Some(record) = source.recv() => {
                    let _ = tokio::fs::write(archive.join("last"), &record).await;
                }
                else => break,
            }
        }
    })
}
