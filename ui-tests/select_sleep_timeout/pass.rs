//! `select!`s with a sleep that are not hand-written timeouts: grace periods against a
//! shutdown/drain future, selects with more than two branches, fixed deadlines pinned
//! once before the loop, interval ticks, periodic sleeps whose handler stays in the
//! loop, a real `tokio::time::timeout`, and test code.

use std::io;
use std::time::Duration;

use hyper_util::server::graceful::GracefulShutdown;
use tokio::sync::{mpsc, watch};
use tokio::time::{self, interval, sleep, timeout, Instant};
use tokio_util::sync::CancellationToken;

/// Grace period (hyper-util's graceful example): wait for connections to finish, but
/// not forever. The other branch is a shutdown future, not an operation.
pub async fn shutdown_http(graceful: GracefulShutdown) {
    tokio::select! {
        _ = graceful.shutdown() => tracing::info!("all connections closed"),
        _ = sleep(Duration::from_secs(10)) => tracing::warn!("grace period over, closing the rest"),
    }
}

pub struct RpcServer {
    inflight: std::sync::atomic::AtomicUsize,
}

impl RpcServer {
    async fn drain(&self) {
        while self.inflight.load(std::sync::atomic::Ordering::Acquire) > 0 {
            tokio::task::yield_now().await;
        }
    }
}

/// Grace period against a drain future.
pub async fn stop_rpc(server: &RpcServer, grace: Duration) {
    tokio::select! {
        _ = server.drain() => tracing::info!("rpc server drained"),
        _ = time::sleep(grace) => tracing::warn!("rpc drain timed out"),
    }
}

pub struct Upstream {
    addr: String,
}

async fn connect(addr: &str) -> io::Result<Upstream> {
    Ok(Upstream { addr: addr.to_owned() })
}

/// Reconnect with backoff that shutdown can interrupt: the sleep handler stays in the
/// loop and the other branch is a shutdown signal.
pub async fn reconnect(addr: &str, mut shutdown_rx: watch::Receiver<bool>) -> Option<Upstream> {
    let mut backoff = Duration::from_millis(100);
    loop {
        match connect(addr).await {
            Ok(up) => return Some(up),
            Err(err) => tracing::warn!(error = %err, ?backoff, "connect failed"),
        }
        tokio::select! {
            _ = shutdown_rx.changed() => return None,
            _ = sleep(backoff) => {}
        }
        backoff = (backoff * 2).min(Duration::from_secs(30));
    }
}

pub struct Response {
    pub body: Vec<u8>,
}

async fn call_upstream(up: &Upstream, body: Vec<u8>) -> io::Result<Response> {
    let _ = &up.addr;
    Ok(Response { body })
}

/// Three branches: the call, a deadline and request cancellation.
pub async fn call_cancellable(up: &Upstream, body: Vec<u8>, token: CancellationToken) -> io::Result<Response> {
    tokio::select! {
        res = call_upstream(up, body) => res,
        _ = sleep(Duration::from_secs(5)) => Err(io::Error::new(io::ErrorKind::TimedOut, "upstream deadline")),
        _ = token.cancelled() => Err(io::Error::new(io::ErrorKind::Interrupted, "request cancelled")),
    }
}

pub struct Frame {
    pub bytes: Vec<u8>,
}

/// A fixed session lifetime: the deadline is created once and pinned, so traffic does
/// not push it out.
pub async fn run_session(mut inbox: mpsc::Receiver<Frame>, outbox: mpsc::Sender<Frame>, ttl: Duration) {
    let deadline = sleep(ttl);
    tokio::pin!(deadline);
    loop {
        tokio::select! {
            _ = &mut deadline => break,
            frame = inbox.recv() => match frame {
                Some(frame) => {
                    let _ = outbox.send(frame).await;
                }
                None => break,
            },
        }
    }
}

pub struct Lease {
    pub expires_at: Instant,
}

/// Leader lease renewal on an interval: the tick is not a timeout.
pub async fn hold_lease(lease: &mut Lease, mut revoked: mpsc::Receiver<u64>, ttl: Duration) -> u64 {
    let mut renew = interval(ttl / 3);
    loop {
        tokio::select! {
            _ = renew.tick() => lease.expires_at = Instant::now() + ttl,
            epoch = revoked.recv() => return epoch.unwrap_or(0),
        }
    }
}

pub struct LogBuffer {
    lines: Vec<String>,
}

impl LogBuffer {
    async fn flush(&mut self) -> io::Result<()> {
        self.lines.clear();
        Ok(())
    }
}

/// Periodic flush: the sleep handler flushes and stays in the loop.
pub async fn ship_logs(mut lines: mpsc::Receiver<String>, mut buf: LogBuffer, flush_every: Duration) -> io::Result<()> {
    loop {
        tokio::select! {
            line = lines.recv() => match line {
                Some(line) => buf.lines.push(line),
                None => break,
            },
            _ = sleep(flush_every) => buf.flush().await?,
        }
    }
    buf.flush().await
}

/// Already a real timeout.
pub async fn call_with_timeout(up: &Upstream, body: Vec<u8>, deadline: Duration) -> io::Result<Response> {
    match timeout(deadline, call_upstream(up, body)).await {
        Ok(res) => res,
        Err(_) => Err(io::Error::new(io::ErrorKind::TimedOut, "upstream deadline")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Test code: a select against a sleep is the usual "must not hang" guard.
    #[tokio::test]
    async fn session_ends_when_inbox_closes() {
        let (tx, rx) = mpsc::channel(1);
        let (out_tx, _out_rx) = mpsc::channel(1);
        drop(tx);
        tokio::select! {
            _ = run_session(rx, out_tx, Duration::from_secs(60)) => {}
            _ = sleep(Duration::from_secs(1)) => panic!("session did not end"),
        }
    }
}
