//! Detached tasks the fix can repair: a `CancellationToken` is in scope but is not moved
//! into the task, and the work is an `async move` block, so the unsafe fix runs it under
//! `token.run_until_cancelled(..)` with a clone of the token.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

const HEARTBEAT: Duration = Duration::from_secs(5);

pub struct Peers {
    addrs: Vec<std::net::SocketAddr>,
}

impl Peers {
    async fn ping_all(&self) {
        for a in &self.addrs {
            let _ = tokio::net::TcpStream::connect(a).await;
        }
    }
}

/// The token is right there, but the heartbeat never sees it.
pub fn start_heartbeat(token: CancellationToken, peers: Arc<Peers>) {
    tokio::spawn(async move { //~ spawn_without_cancel
        let mut tick = tokio::time::interval(HEARTBEAT);
        loop {
            tick.tick().await;
            peers.ping_all().await;
        }
    });
    tracing::debug!(cancelled = token.is_cancelled(), "heartbeat started");
}

pub struct Gossip {
    token: CancellationToken,
}

impl Gossip {
    /// A child token is made for the gossip loop and stored, but the loop is spawned
    /// without it.
    pub fn start(parent: &CancellationToken, peers: Arc<Peers>) -> Gossip {
        let token = parent.child_token();
        tokio::spawn(async move { //~ spawn_without_cancel
            loop {
                tokio::time::sleep(HEARTBEAT * 6).await;
                peers.ping_all().await;
            }
        });
        Gossip { token }
    }
}
