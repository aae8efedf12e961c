//! `pending()` one call away from its idiom. A helper that resolves on a condition "or
//! never" and is only ever raced as a `select!` operand (jsonrpsee's first-request
//! timeout); and the idle branch of a long-running prober whose owner keeps the handle
//! and aborts it on drop (shadowsocks' balancer checker): with one upstream there is
//! nothing to probe, and the task waits to be aborted like its probing branch does.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpStream;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

/// Resolves with an error when no request arrives within `limit`, otherwise never.
async fn first_request_within(received: &Notify, limit: Option<Duration>) -> io::Error {
    if let Some(limit) = limit {
        if tokio::time::timeout(limit, received.notified()).await.is_err() {
            return io::Error::new(io::ErrorKind::TimedOut, "no request in time");
        }
    }
    std::future::pending().await
}

pub async fn serve_connection(stream: TcpStream, received: Arc<Notify>) -> io::Result<()> {
    tokio::select! {
        res = crate::rpc::serve(stream, received.clone()) => res,
        err = first_request_within(&received, Some(Duration::from_secs(30))) => Err(err),
    }
}

pub async fn serve_trusted(stream: TcpStream, received: Arc<Notify>, limit: Option<Duration>) -> io::Result<()> {
    tokio::select! {
        res = crate::rpc::serve(stream, received.clone()) => res,
        err = first_request_within(&received, limit) => Err(err),
    }
}

pub struct Upstreams {
    addrs: Vec<std::net::SocketAddr>,
    best: std::sync::atomic::AtomicUsize,
}

impl Upstreams {
    async fn probe_task(self: Arc<Self>) {
        if self.addrs.len() < 2 {
            self.idle().await
        } else {
            self.probe_forever().await
        }
    }

    /// Nothing to choose between: wait until the balancer aborts the task.
    async fn idle(self: Arc<Self>) {
        futures::future::pending::<()>().await
    }

    async fn probe_forever(&self) {
        let mut tick = tokio::time::interval(Duration::from_secs(10));
        loop {
            tick.tick().await;
            let best = crate::probe::fastest(&self.addrs).await;
            self.best.store(best, std::sync::atomic::Ordering::Relaxed);
        }
    }
}

/// Owns the prober: dropping the balancer aborts it.
pub struct Balancer {
    upstreams: Arc<Upstreams>,
    prober: JoinHandle<()>,
}

impl Balancer {
    pub fn new(addrs: Vec<std::net::SocketAddr>) -> Self {
        let upstreams = Arc::new(Upstreams { addrs, best: Default::default() });
        let prober = tokio::spawn(upstreams.clone().probe_task());
        Balancer { upstreams, prober }
    }

    pub fn best(&self) -> std::net::SocketAddr {
        self.upstreams.addrs[self.upstreams.best.load(std::sync::atomic::Ordering::Relaxed)]
    }
}

impl Drop for Balancer {
    fn drop(&mut self) {
        self.prober.abort();
    }
}
