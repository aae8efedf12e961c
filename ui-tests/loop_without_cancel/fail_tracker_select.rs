//! Background work of a chat fan-out hub built on tokio-util's `TaskTracker` and
//! `CancellationToken`. A tracker only *waits* for its tasks: a tracked loop that never
//! looks at the token makes `tracker.wait()` hang at shutdown. And a `select!` branch
//! on the token that does not leave the loop turns cancellation into a busy spin.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

pub struct Message {
    pub room: String,
    pub body: String,
}

#[derive(Default)]
pub struct Presence {
    last_seen: Mutex<HashMap<u64, Instant>>,
}

impl Presence {
    fn expire_idle(&self, idle: Duration) -> usize {
        let mut last_seen = self.last_seen.lock().unwrap();
        let before = last_seen.len();
        last_seen.retain(|_, at| at.elapsed() < idle);
        before - last_seen.len()
    }
}

async fn push_rooms(peer: SocketAddr, rooms: &Mutex<Vec<String>>) -> std::io::Result<()> {
    let snapshot = rooms.lock().unwrap().join(",");
    let mut stream = TcpStream::connect(peer).await?;
    stream.write_all(snapshot.as_bytes()).await
}

async fn sync_peers(peers: Vec<SocketAddr>, rooms: Arc<Mutex<Vec<String>>>) {
    let mut ticker = tokio::time::interval(Duration::from_secs(5));
    // Leak (tracked task, reached through a call): the tracker can wait for this loop
    // but never stop it; it has no exit and ignores the hub's token.
    loop { //~ loop_without_cancel
        ticker.tick().await;
        for peer in &peers {
            if let Err(err) = push_rooms(*peer, &rooms).await {
                tracing::debug!(%peer, error = %err, "room sync failed");
            }
        }
    }
}

async fn publish_digest(rooms: Arc<Mutex<Vec<String>>>, token: CancellationToken) {
    let mut ticker = tokio::time::interval(Duration::from_secs(60));
    // Not flagged: the cancellation branch leaves the loop.
    loop {
        tokio::select! {
            _ = token.cancelled() => break,
            _ = ticker.tick() => {
                let count = rooms.lock().unwrap().len();
                tracing::info!(count, "room digest");
            }
        }
    }
}

async fn fanout_loop(
    mut inbox: mpsc::Receiver<Message>,
    mut shutdown: watch::Receiver<bool>,
    subscribers: Arc<Mutex<HashMap<String, Vec<mpsc::Sender<String>>>>>,
) {
    let mut winding_down = false;
    // Leak (cancellation branch that does not leave the loop), in a task whose handle
    // is kept: the branch only sets a flag. Once the shutdown sender is dropped,
    // `changed()` returns at once on every round and the loop spins.
    loop { //~ loop_without_cancel
        tokio::select! {
            _ = shutdown.changed() => {
                winding_down = true;
                tracing::info!("fan-out winding down");
            }
            Some(msg) = inbox.recv() => {
                if winding_down {
                    tracing::debug!(room = %msg.room, "late message during shutdown");
                }
                let targets = subscribers.lock().unwrap().get(&msg.room).cloned().unwrap_or_default();
                for target in targets {
                    let _ = target.try_send(msg.body.clone());
                }
            }
        }
    }
}

pub struct Hub {
    tracker: TaskTracker,
    token: CancellationToken,
    archiver: JoinHandle<()>,
    fanout: JoinHandle<()>,
    shutdown_tx: watch::Sender<bool>,
    inbox: mpsc::Sender<Message>,
}

impl Hub {
    pub fn start(peers: Vec<SocketAddr>, presence: Arc<Presence>) -> Self {
        let tracker = TaskTracker::new();
        let token = CancellationToken::new();
        let rooms = Arc::new(Mutex::new(Vec::new()));

        tracker.spawn(async move {
            let mut ticker = tokio::time::interval(Duration::from_secs(30));
            // Leak (tracked task, handle discarded): no exit and no token; the
            // tracker's `wait()` in `shutdown` never returns.
            loop { //~ loop_without_cancel
                ticker.tick().await;
                let expired = presence.expire_idle(Duration::from_secs(120));
                tracing::debug!(expired, "presence expired");
            }
        });

        tracker.spawn(sync_peers(peers, Arc::clone(&rooms)));

        tracker.spawn(publish_digest(Arc::clone(&rooms), token.clone()));

        // Not flagged: a tracked task whose handle is kept and aborted on shutdown.
        let archived_rooms = Arc::clone(&rooms);
        let archiver = tracker.spawn(async move {
            let mut ticker = tokio::time::interval(Duration::from_secs(300));
            loop {
                ticker.tick().await;
                let count = archived_rooms.lock().unwrap().len();
                tracing::info!(count, "rooms archived");
            }
        });

        let (inbox, inbox_rx) = mpsc::channel(1024);
        let (shutdown_tx, shutdown_rx) = watch::channel(false);
        let fanout = tokio::spawn(fanout_loop(inbox_rx, shutdown_rx, Arc::default()));

        Self { tracker, token, archiver, fanout, shutdown_tx, inbox }
    }

    pub async fn publish(&self, msg: Message) -> bool {
        self.inbox.send(msg).await.is_ok()
    }

    pub async fn shutdown(self) {
        self.token.cancel();
        let _ = self.shutdown_tx.send(true);
        self.archiver.abort();
        self.tracker.close();
        self.tracker.wait().await;
        let _ = self.fanout.await;
    }
}

pub struct Client {
    stream: TcpStream,
    pending: Vec<u8>,
}

impl Client {
    async fn flush_pending(&mut self) -> std::io::Result<()> {
        self.stream.write_all(&self.pending).await?;
        self.pending.clear();
        Ok(())
    }
}

/// Plain async fn: dropping its future would cancel it, but the loop's own cancellation
/// branch is broken.
pub async fn serve_room(mut clients: Vec<Client>, mut lines: mpsc::Receiver<String>, token: CancellationToken) {
    // Leak (cancellation branch that does not leave the loop): the `break` inside the
    // handler targets the inner `for`, not this loop; after cancellation every round
    // takes the cancelled branch again.
    loop { //~ loop_without_cancel
        tokio::select! {
            _ = token.cancelled() => {
                for client in clients.iter_mut() {
                    if client.flush_pending().await.is_err() {
                        break;
                    }
                }
            }
            Some(line) = lines.recv() => {
                for client in clients.iter_mut() {
                    client.pending.extend_from_slice(line.as_bytes());
                }
            }
        }
    }
}

/// Plain async fn that consumes typing notifications.
pub async fn relay_typing(mut typing: mpsc::Receiver<(u64, String)>, cancel: CancellationToken) {
    // Leak (cancellation branch that does not leave the loop): `continue` goes round
    // again, and `cancelled()` stays ready forever once the token is cancelled.
    loop { //~ loop_without_cancel
        tokio::select! {
            _ = cancel.cancelled() => continue,
            Some((user, room)) = typing.recv() => {
                tracing::trace!(user, room = %room, "typing");
            }
        }
    }
}

/// Plain async fn whose cancellation branch only logs.
pub async fn consume_room_events(mut events: mpsc::Receiver<Message>, token: CancellationToken) {
    let mut handled = 0u64;
    // Leak (cancellation branch that does not leave the loop): the branch logs and
    // falls through to the next round.
    loop { //~ loop_without_cancel
        tokio::select! {
            _ = token.cancelled() => {
                tracing::info!(handled, "room event consumer cancelled");
            }
            Some(event) = events.recv() => {
                handled += 1;
                tracing::trace!(room = %event.room, len = event.body.len(), "room event");
            }
        }
    }
}
