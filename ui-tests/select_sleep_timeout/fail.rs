//! Hand-written timeouts: a `tokio::select!` that races one operation against a sleep
//! made inline (`tokio::time::timeout` says the same and composes), and deadlines in a
//! loop whose sleep is created afresh on every iteration, so steady traffic keeps
//! pushing the deadline out and it never fires.

use std::io;
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::time::{self, sleep, sleep_until, Instant};

#[derive(Debug)]
pub enum RpcError {
    DeadlineExceeded,
    Transport(io::Error),
    Unhealthy(&'static str),
    LeaseNotAcquired,
    FlushTimedOut,
}

pub struct Request {
    pub method: &'static str,
    pub body: Vec<u8>,
}

pub struct Response {
    pub body: Vec<u8>,
}

pub struct RpcClient {
    conn: tokio::sync::Mutex<TcpStream>,
}

impl RpcClient {
    async fn call(&self, req: Request) -> io::Result<Response> {
        let mut conn = self.conn.lock().await;
        conn.write_all(&req.body).await?;
        Ok(Response { body: Vec::new() })
    }
}

/// An RPC with a per-call deadline: a two-branch select that is exactly `timeout`.
pub async fn call_with_deadline(client: &RpcClient, req: Request, deadline: Duration) -> Result<Response, RpcError> {
    tokio::select! {
        res = client.call(req) => res.map_err(RpcError::Transport),
        _ = tokio::time::sleep(deadline) => Err(RpcError::DeadlineExceeded), //~ select_sleep_timeout
    }
}

pub enum Pong {
    Alive { load: f32 },
}

/// A health probe waits for the pong on a channel, giving up after `probe_timeout`.
pub async fn probe(pings: &mpsc::Sender<u64>, pongs: &mut mpsc::Receiver<Pong>, seq: u64) -> Result<f32, RpcError> {
    pings.send(seq).await.map_err(|_| RpcError::Unhealthy("prober gone"))?;
    let probe_timeout = Duration::from_secs(2);
    tokio::select! {
        msg = pongs.recv() => match msg {
            Some(Pong::Alive { load }) => Ok(load),
            None => Err(RpcError::Unhealthy("peer closed the probe channel")),
        },
        _ = sleep(probe_timeout) => { //~ select_sleep_timeout
            tracing::warn!(seq, "health probe timed out");
            Err(RpcError::Unhealthy("no pong"))
        }
    }
}

pub struct LockService {
    endpoint: String,
}

pub struct LeaseGrant {
    pub term: u64,
}

impl LockService {
    async fn acquire(&self, key: &str) -> io::Result<LeaseGrant> {
        let _ = (&self.endpoint, key);
        Ok(LeaseGrant { term: 1 })
    }
}

/// Leader election: campaign for the lease until an absolute deadline.
pub async fn campaign(locks: &LockService, key: &str, deadline: Instant) -> Result<LeaseGrant, RpcError> {
    tokio::select! {
        grant = locks.acquire(key) => grant.map_err(RpcError::Transport),
        _ = time::sleep_until(deadline) => return Err(RpcError::LeaseNotAcquired), //~ select_sleep_timeout
    }
}

/// A `biased;` select is still two branches: the flush or the deadline.
pub async fn flush_upstream(upstream: &mut TcpStream) -> Result<(), RpcError> {
    tokio::select! {
        biased;
        res = upstream.flush() => res.map_err(RpcError::Transport),
        _ = sleep(Duration::from_millis(500)) => Err(RpcError::FlushTimedOut), //~ select_sleep_timeout
    }
}

pub struct Record {
    pub key: String,
    pub value: Vec<u8>,
}

/// Producer batching with a linger: the batch is meant to ship at most `linger` after it
/// starts filling, but the sleep restarts with every record, so under steady traffic
/// (one record per `linger / 2`) the batch keeps growing and never ships.
pub async fn collect_batch(records: &mut mpsc::Receiver<Record>, linger: Duration) -> Vec<Record> {
    let mut batch = Vec::new();
    loop {
        tokio::select! {
            Some(rec) = records.recv() => batch.push(rec),
            _ = sleep(linger) => break, //~ select_sleep_timeout
        }
    }
    tracing::debug!(len = batch.len(), "batch ready");
    batch
}

pub enum SessionEnd {
    Expired,
}

pub struct Frame {
    pub bytes: Vec<u8>,
}

/// Session expiry: meant as an absolute lifetime, but the deadline is recomputed from
/// `now` on each iteration, so a chatty session never expires.
pub async fn run_session(mut inbox: mpsc::Receiver<Frame>, outbox: mpsc::Sender<Frame>, ttl: Duration) -> SessionEnd {
    loop {
        tokio::select! {
            Some(frame) = inbox.recv() => {
                let _ = outbox.send(frame).await;
            }
            _ = sleep_until(Instant::now() + ttl) => return SessionEnd::Expired, //~ select_sleep_timeout
        }
    }
}
