use std::net::SocketAddr;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio_util::task::TaskTracker;

use crate::metrics::Registry;

pub struct Server {
    listener: TcpListener,
    latest: Arc<RwLock<Vec<String>>>,
    registry: Arc<Registry>,
    tracker: TaskTracker,
}

async fn send_feed(mut stream: TcpStream, items: Vec<String>) {
    for item in items {
        if stream.write_all(item.as_bytes()).await.is_err() {
            return;
        }
    }
}

impl Server {
    pub async fn bind(addr: SocketAddr, latest: Arc<RwLock<Vec<String>>>, registry: Arc<Registry>) -> std::io::Result<Self> {
        let listener = TcpListener::bind(addr).await?;
        Ok(Self { listener, latest, registry, tracker: TaskTracker::new() })
    }

    /// Waits (bounded) until the poller produced a first snapshot; `break`s out.
    pub async fn warm_up(&self) {
        let mut tries = 0;
        loop {
            if !self.latest.read().unwrap().is_empty() || tries == 20 {
                break;
            }
            tries += 1;
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// Level 2 from main (main -> app::run -> Server::serve).
    pub async fn serve(self) -> std::io::Result<()> {
        // Leak (work main awaits, no shutdown signal): the accept loop only ends on an
        // accept error; main does not race it against ctrl-c.
        loop { //~ loop_without_cancel
            let (stream, _peer) = self.listener.accept().await?;
            self.registry.count_request();
            let items = self.latest.read().unwrap().clone();
            self.tracker.spawn(send_feed(stream, items));
        }
    }
}
