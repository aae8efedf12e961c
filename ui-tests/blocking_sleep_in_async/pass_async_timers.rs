//! A webhook dispatcher that uses tokio's timer everywhere. The bare `sleep` of this
//! file is `tokio::time::sleep`; only a sync helper imports `std::thread::sleep`, in
//! its own body (the shape of actix-server's tests/server.rs, where a fn-local
//! `use std::thread::sleep` shadows the file's async `sleep`). None is a finding.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::{self, sleep};

pub struct Webhook {
    pub url: String,
    pub body: Vec<u8>,
}

pub struct Client {
    pub endpoint: String,
}

impl Client {
    async fn post(&self, hook: &Webhook) -> io::Result<u16> {
        let _ = (&self.endpoint, &hook.url, hook.body.len());
        Ok(200)
    }
}

/// Not a finding: `sleep` is the file's `tokio::time::sleep`, awaited.
pub async fn deliver(client: &Client, hook: &Webhook) -> io::Result<u16> {
    let mut last = None;
    for attempt in 0..4u32 {
        match client.post(hook).await {
            Ok(status) if status < 500 => return Ok(status),
            Ok(status) => last = Some(io::Error::other(format!("status {status}"))),
            Err(e) => last = Some(e),
        }
        sleep(Duration::from_millis(100) * 2u32.pow(attempt)).await;
    }
    Err(last.unwrap_or_else(|| io::Error::other("no attempts")))
}

/// Not a finding: `time::sleep` through `use tokio::time::{self, ..}`.
pub async fn deliver_batch(client: Arc<Client>, mut hooks: mpsc::Receiver<Webhook>) -> usize {
    let mut sent = 0;
    while let Some(hook) = hooks.recv().await {
        if deliver(&client, &hook).await.is_ok() {
            sent += 1;
        }
        time::sleep(Duration::from_millis(5)).await;
    }
    sent
}

/// Not a finding: inside an `async move` block, the bare `sleep` is still tokio's.
pub fn start_delivery(client: Arc<Client>, hooks: mpsc::Receiver<Webhook>) -> tokio::task::JoinHandle<usize> {
    tokio::spawn(async move {
        sleep(Duration::from_millis(250)).await;
        deliver_batch(client, hooks).await
    })
}

/// Not a finding: async-std's timer, fully qualified.
pub async fn async_std_backoff(attempt: u32) {
    async_std::task::sleep(Duration::from_millis(10 << attempt)).await;
}

/// Waits for a local sink to come up, from the sync admin CLI. Not a finding: the
/// fn-local `use std::thread::sleep` shadows the file's tokio `sleep`, but this fn is
/// sync.
pub fn wait_for_sink_blocking(addr: std::net::SocketAddr) -> bool {
    use std::thread::sleep;
    for _ in 0..20 {
        if std::net::TcpStream::connect(addr).is_ok() {
            return true;
        }
        sleep(Duration::from_millis(100));
    }
    false
}
