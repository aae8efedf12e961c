//! Cancellation tokens and drop guards that are wired up correctly: the token is
//! cancelled somewhere in the fn (directly, on a clone in a signal task, or in a
//! closure), or it leaves the fn (stored in a struct, returned, passed to the code that
//! owns shutdown, moved itself into a supervising task), or its drop guard is kept.
//! None of these is a lost cancellation.

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio::time;
use tokio_util::sync::{CancellationToken, DropGuard};

pub struct Sessions {
    live: std::sync::Mutex<Vec<(u64, std::time::Instant)>>,
}

impl Sessions {
    fn expire(&self, ttl: Duration) {
        self.live.lock().unwrap().retain(|(_, seen)| seen.elapsed() < ttl);
    }
}

async fn reap_sessions(sessions: Arc<Sessions>, token: CancellationToken) {
    let mut ticker = time::interval(Duration::from_secs(30));
    loop {
        tokio::select! {
            _ = token.cancelled() => break,
            _ = ticker.tick() => sessions.expire(Duration::from_secs(900)),
        }
    }
}

/// Runs the session reaper until Ctrl-C, then stops it and waits for it.
pub async fn run_until_ctrl_c(sessions: Arc<Sessions>) -> io::Result<()> {
    // Not lost: `token.cancel()` is called directly after the signal.
    let token = CancellationToken::new();
    let reaper = tokio::spawn(reap_sessions(sessions, token.clone()));
    tokio::signal::ctrl_c().await?;
    token.cancel();
    reaper.await.map_err(io::Error::other)
}

/// Starts the OAuth refreshers, one per tenant, stopped by SIGINT.
pub fn start_refreshers(tenants: Vec<String>) {
    // Not lost: a clone is cancelled from inside the signal task.
    let token = CancellationToken::new();
    let on_signal = token.clone();
    tokio::spawn(async move {
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("stopping token refreshers");
        on_signal.cancel();
    });
    for tenant in tenants {
        let refresher = token.child_token();
        tokio::spawn(async move {
            let mut ticker = time::interval(Duration::from_secs(240));
            loop {
                tokio::select! {
                    _ = refresher.cancelled() => break,
                    _ = ticker.tick() => tracing::debug!(%tenant, "refreshed access token"),
                }
            }
        });
    }
}

/// Runs the CPU-bound indexer threads until the process gets SIGTERM/SIGINT.
pub fn run_indexers(n: usize, dirty: Arc<AtomicBool>) -> Vec<thread::JoinHandle<()>> {
    // Not lost: the `ctrlc` closure cancels a clone.
    let stop = CancellationToken::new();
    let handler_stop = stop.clone();
    ctrlc::set_handler(move || handler_stop.cancel()).expect("install signal handler");
    (0..n)
        .map(|_| {
            let worker_stop = stop.clone();
            let dirty = Arc::clone(&dirty);
            thread::spawn(move || {
                while !worker_stop.is_cancelled() {
                    if dirty.swap(false, Ordering::AcqRel) {
                        tracing::debug!("reindexed");
                    }
                    thread::park_timeout(Duration::from_millis(500));
                }
            })
        })
        .collect()
}

/// Outbound webhook workers, stopped by `Dispatcher::shutdown`.
pub struct Dispatcher {
    token: CancellationToken,
    workers: Vec<JoinHandle<()>>,
}

impl Dispatcher {
    pub fn start(queue: async_channel::Receiver<Vec<u8>>, n: usize) -> Self {
        // Not lost: stored in the struct by field-init shorthand.
        let token = CancellationToken::new();
        let workers = (0..n)
            .map(|_| {
                let worker_token = token.clone();
                let queue = queue.clone();
                tokio::spawn(async move {
                    loop {
                        tokio::select! {
                            _ = worker_token.cancelled() => break,
                            msg = queue.recv() => if msg.is_err() { break },
                        }
                    }
                })
            })
            .collect();
        Self { token, workers }
    }

    pub async fn shutdown(self) {
        self.token.cancel();
        for worker in self.workers {
            let _ = worker.await;
        }
    }
}

pub struct Uploader {
    cancel: CancellationToken,
    _cancel_on_drop: DropGuard,
}

impl Uploader {
    pub fn new(parent: &CancellationToken) -> Self {
        // Not lost: a clone is stored as a field and the drop guard is bound and stored
        // in the struct, so the part uploads stop when the uploader is dropped.
        let token = parent.child_token();
        let cancel = token.clone();
        let guard = token.drop_guard();
        Self { cancel, _cancel_on_drop: guard }
    }

    pub fn spawn_part(&self, bucket: Arc<s3::Bucket>, key: String, part: bytes::Bytes) -> JoinHandle<Option<u16>> {
        let cancel = self.cancel.clone();
        tokio::spawn(async move {
            tokio::select! {
                _ = cancel.cancelled() => None,
                res = bucket.put_object(&key, &part) => res.ok().map(|r| r.status_code()),
            }
        })
    }
}

/// Starts the metrics pusher; the caller owns shutdown through the returned token.
pub fn start_metrics_pusher(endpoint: String) -> (CancellationToken, JoinHandle<()>) {
    // Not lost: the token is returned to the caller.
    let token = CancellationToken::new();
    let pusher = token.clone();
    let handle = tokio::spawn(async move {
        let mut ticker = time::interval(Duration::from_secs(10));
        loop {
            tokio::select! {
                _ = pusher.cancelled() => break,
                _ = ticker.tick() => tracing::trace!(%endpoint, "pushed metrics"),
            }
        }
    });
    (token, handle)
}

pub struct Server {
    listener: TcpListener,
    shutdown: CancellationToken,
}

impl Server {
    pub fn new(listener: TcpListener, shutdown: CancellationToken) -> Self {
        Self { listener, shutdown }
    }

    /// Serves until the listener fails, then cancels `shutdown` itself.
    pub async fn run(self) -> io::Result<()> {
        let result = loop {
            tokio::select! {
                _ = self.shutdown.cancelled() => break Ok(()),
                accepted = self.listener.accept() => if let Err(err) = accepted { break Err(err) },
            }
        };
        self.shutdown.cancel();
        result
    }
}

/// Runs the API server with a sidecar task tied to its lifetime.
pub async fn serve_api(listener: TcpListener, parent: &CancellationToken) -> io::Result<()> {
    // Not lost: the token is passed to `Server::new`, awaited directly, which cancels it.
    let token = parent.child_token();
    let sidecar_token = token.clone();
    tokio::spawn(async move {
        sidecar_token.cancelled().await;
        tracing::info!("api sidecar stopped");
    });
    Server::new(listener, token).run().await
}

async fn watchdog(token: CancellationToken) {
    loop {
        tokio::select! {
            _ = token.cancelled() => break,
            _ = time::sleep(Duration::from_secs(5)) => {
                if std::path::Path::new("/run/service/unhealthy").exists() {
                    token.cancel();
                }
            }
        }
    }
}

async fn shard_worker(shard: usize, token: CancellationToken) {
    let mut ticker = time::interval(Duration::from_millis(100));
    loop {
        tokio::select! {
            _ = token.cancelled() => break,
            _ = ticker.tick() => tracing::trace!(shard, "shard tick"),
        }
    }
}

/// Starts the shard workers under a watchdog that owns (and fires) the token.
pub fn start_shards(shards: usize) {
    // Not lost: the token itself (not a clone) is moved into the watchdog task.
    let token = CancellationToken::new();
    for shard in 0..shards {
        tokio::spawn(shard_worker(shard, token.child_token()));
    }
    tokio::spawn(async move { watchdog(token).await });
}

/// Streams a report while the request is alive; the guard cancels it on return.
pub async fn stream_report(rows: async_channel::Receiver<String>) -> usize {
    // Not lost: `_guard` is a binding, so the guard lives until the end of the fn.
    let token = CancellationToken::new();
    let progress = token.clone();
    tokio::spawn(async move {
        let mut ticker = time::interval(Duration::from_secs(2));
        loop {
            tokio::select! {
                _ = progress.cancelled() => break,
                _ = ticker.tick() => tracing::trace!("report still streaming"),
            }
        }
    });
    let _guard = token.drop_guard();
    let mut sent = 0;
    while let Ok(row) = rows.recv().await {
        sent += row.len();
    }
    sent
}
