//! Channels and drop guards near the `lost_cancel` (c) shape that are correct: an
//! underscore-prefixed sender kept alive on purpose (drop-to-signal), a discarded
//! broadcast *receiver* with `subscribe()` later, a watch receiver used only as a
//! snapshot (`borrow()`), a shutdown sender dropped after the work as the signal itself,
//! and test code that closes channels and drops guards on purpose.

use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpStream;
use tokio::sync::{broadcast, oneshot, watch};
use tokio::time;
use tokio_util::sync::CancellationToken;

pub struct Replica {
    stream: TcpStream,
    applied: Arc<AtomicUsize>,
}

impl Replica {
    async fn apply_next(&mut self) -> io::Result<bool> {
        let _ = self.stream.peer_addr()?;
        Ok(self.applied.fetch_add(1, Ordering::Relaxed) < 1_000_000)
    }

    async fn send_ack(applied: &AtomicUsize) {
        tracing::trace!(applied = applied.load(Ordering::Relaxed), "ack");
    }
}

/// Replicates from the leader. The ack task lives exactly as long as this future:
/// when it returns or is dropped, `_shutdown_tx` is dropped and the task stops.
pub async fn run_replication(mut replica: Replica) -> io::Result<()> {
    // Not flagged: `_shutdown_tx` is a binding (it lives to the end of the fn).
    let (_shutdown_tx, mut shutdown_rx) = watch::channel(());
    let applied = Arc::clone(&replica.applied);
    tokio::spawn(async move {
        let mut ticker = time::interval(Duration::from_secs(1));
        loop {
            tokio::select! {
                _ = shutdown_rx.changed() => break,
                _ = ticker.tick() => Replica::send_ack(&applied).await,
            }
        }
    });
    while replica.apply_next().await? {}
    Ok(())
}

#[derive(Clone, Debug)]
pub enum OrderEvent {
    Created(u64),
    Paid(u64),
}

/// In-process event bus: subscribers come and go, the bus owns the sender.
pub struct EventBus {
    tx: broadcast::Sender<OrderEvent>,
}

impl EventBus {
    pub fn new() -> Self {
        // Not flagged: the *receiver* is discarded; receivers are made by `subscribe()`.
        let (tx, _) = broadcast::channel(16);
        Self { tx }
    }

    pub fn publish(&self, event: OrderEvent) {
        let _ = self.tx.send(event);
    }

    pub fn subscribe(&self) -> broadcast::Receiver<OrderEvent> {
        self.tx.subscribe()
    }
}

/// Starts the bus with its audit subscriber attached.
pub fn start_bus_with_audit(token: CancellationToken) -> broadcast::Sender<OrderEvent> {
    // Not flagged: receiver discarded, the audit task subscribes from the sender.
    let (tx, _) = broadcast::channel(64);
    let mut audit = tx.subscribe();
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = token.cancelled() => break,
                event = audit.recv() => match event {
                    Ok(event) => tracing::info!(?event, "audit"),
                    Err(broadcast::error::RecvError::Lagged(n)) => tracing::warn!(n, "audit lagged"),
                    Err(broadcast::error::RecvError::Closed) => break,
                },
            }
        }
    });
    tx
}

#[derive(Clone, Debug, Default)]
pub struct Limits {
    pub max_body: usize,
    pub rps: u32,
}

/// Read side of the live config.
pub struct ConfigHandle {
    rx: watch::Receiver<Limits>,
}

impl ConfigHandle {
    /// A handle whose value never changes, for one-shot CLI commands.
    pub fn fixed(limits: Limits) -> Self {
        // Not flagged: with no sender, the receiver is a frozen snapshot; it is only
        // read with `borrow()`, never received on.
        let (_, rx) = watch::channel(limits);
        tracing::debug!(max_body = rx.borrow().max_body, "using fixed limits");
        Self { rx }
    }

    pub fn current(&self) -> Limits {
        self.rx.borrow().clone()
    }
}

pub struct Row {
    pub id: u64,
}

pub struct Db;

impl Db {
    async fn insert(&self, rows: &[Row]) -> io::Result<usize> {
        Ok(rows.len())
    }
}

/// Imports a batch of rows while a reporter logs progress.
pub async fn import_batch(db: &Db, rows: Vec<Row>) -> io::Result<usize> {
    let (shutdown_tx, mut shutdown_rx) = watch::channel(false);
    let imported = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&imported);
    let reporter = tokio::spawn(async move {
        let mut ticker = time::interval(Duration::from_secs(5));
        loop {
            tokio::select! {
                _ = shutdown_rx.changed() => break,
                _ = ticker.tick() => tracing::info!(rows = seen.load(Ordering::Relaxed), "importing"),
            }
        }
    });
    for chunk in rows.chunks(500) {
        let n = db.insert(chunk).await?;
        imported.fetch_add(n, Ordering::Relaxed);
    }
    // Not flagged: dropping the sender after the work *is* the shutdown signal.
    drop(shutdown_tx);
    let _ = reporter.await;
    Ok(imported.load(Ordering::Relaxed))
}

/// Runs a health probe until the caller's oneshot fires.
pub async fn probe_until_stopped(addr: std::net::SocketAddr) -> usize {
    let (stop_tx, mut stop_rx) = oneshot::channel::<()>();
    let probe = tokio::spawn(async move {
        let mut ok = 0;
        loop {
            tokio::select! {
                _ = &mut stop_rx => break ok,
                _ = time::sleep(Duration::from_secs(1)) => {
                    if TcpStream::connect(addr).await.is_ok() {
                        ok += 1;
                    }
                }
            }
        }
    });
    time::sleep(Duration::from_secs(30)).await;
    // Not flagged: the stop signal is sent after the probing window.
    let _ = stop_tx.send(());
    probe.await.unwrap_or(0)
}

async fn worker(token: CancellationToken) {
    token.cancelled().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn changed_fails_once_the_sender_is_gone() {
        // Test code: a closed channel is exactly what this test wants.
        let (_, mut rx) = watch::channel(false);
        assert!(rx.changed().await.is_err());
        let (shutdown_tx, shutdown_rx) = oneshot::channel::<()>();
        drop(shutdown_tx);
        assert!(shutdown_rx.await.is_err());
    }

    #[tokio::test]
    async fn drop_guard_cancels() {
        let token = CancellationToken::new();
        let child = token.clone();
        let waiter = tokio::spawn(async move { child.cancelled().await });
        let _ = token.drop_guard();
        waiter.await.unwrap();
    }

    #[tokio::test]
    async fn worker_keeps_running_without_cancel() {
        let token = CancellationToken::new();
        let handle = tokio::spawn(worker(token.clone()));
        time::sleep(Duration::from_millis(20)).await;
        assert!(!handle.is_finished());
    }
}
