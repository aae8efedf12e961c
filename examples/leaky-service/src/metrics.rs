//! Counters, a statsd flusher and a periodic log reporter.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::Duration;

use tokio::net::UdpSocket;
use tracing::{info, warn};

const FLUSH_EVERY: Duration = Duration::from_secs(10);

#[derive(Debug, Default)]
pub struct Registry {
    pub orders_accepted: AtomicU64,
    pub notifications_sent: AtomicU64,
    pub notifications_failed: AtomicU64,
}

impl Registry {
    fn snapshot(&self) -> [u64; 3] {
        [&self.orders_accepted, &self.notifications_sent, &self.notifications_failed]
            .map(|counter| counter.load(Relaxed))
    }
}

/// Pushes the counters to statsd every `FLUSH_EVERY`.
pub async fn spawn_flusher(registry: Arc<Registry>, statsd: SocketAddr) -> anyhow::Result<()> {
    let socket = UdpSocket::bind("0.0.0.0:0").await?;
    socket.connect(statsd).await?;
    // BUG(spawn_without_cancel): detached (the handle is dropped), loops
    // forever, and no token or shutdown receiver is moved in.
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(FLUSH_EVERY);
        loop {
            interval.tick().await;
            let [accepted, sent, failed] = registry.snapshot();
            let payload = format!("orders.accepted:{accepted}|g\nnotify.sent:{sent}|g\nnotify.failed:{failed}|g");
            if let Err(e) = socket.send(payload.as_bytes()).await {
                warn!(error = %e, "statsd flush failed");
            }
        }
    });
    Ok(())
}

/// Logs a summary line every interval, on its own OS thread so it keeps
/// reporting even when the runtime is wedged.
pub struct Reporter {
    handle: Option<JoinHandle<()>>,
}

impl Reporter {
    pub fn start(registry: Arc<Registry>, every: Duration) -> Reporter {
        let handle = thread::Builder::new()
            .name("metrics-reporter".into())
            .spawn(move || {
                let mut last = registry.snapshot();
                // BUG(loop_without_cancel): an OS thread cannot be killed and
                // this loop has no exit; the join in `Drop` blocks forever.
                loop {
                    thread::sleep(every);
                    let now = registry.snapshot();
                    let [accepted, sent, failed] = [0, 1, 2].map(|i| now[i].saturating_sub(last[i]));
                    info!(accepted, sent, failed, "last interval");
                    last = now;
                }
            })
            .expect("failed to spawn the metrics reporter thread");
        Reporter { handle: Some(handle) }
    }
}

impl Drop for Reporter {
    fn drop(&mut self) {
        if let Some(handle) = self.handle.take() {
            let _ = handle.join();
        }
    }
}
