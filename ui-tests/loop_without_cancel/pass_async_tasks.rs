//! Async building blocks of a pub/sub broker (a library: no `main`). Their endless loops
//! are in plain async fns (whoever awaits the future can drop it), in tasks whose
//! handle is kept or owned by a JoinSet / smol `Task`, or they leave on cancellation.
//! None of them is reported.

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{broadcast, mpsc};
use tokio::task::{JoinHandle, JoinSet};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

pub struct Topic {
    pub name: String,
    pub subscribers: broadcast::Sender<Vec<u8>>,
}

async fn serve_publisher(mut stream: TcpStream, topic: Arc<Topic>) -> io::Result<()> {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        let _ = topic.subscribers.send(buf[..n].to_vec());
    }
}

pub struct PublishListener {
    listener: TcpListener,
    topic: Arc<Topic>,
    tracker: TaskTracker,
}

impl PublishListener {
    /// Accepts publishers forever (the axum `serve` shape). A plain async fn: the
    /// caller decides how long it runs by awaiting, racing or dropping this future.
    pub async fn accept_forever(self) -> io::Result<()> {
        loop {
            let (stream, peer) = self.listener.accept().await?;
            tracing::debug!(%peer, topic = %self.topic.name, "publisher connected");
            // A tracked task that ends with its connection (not long-running).
            self.tracker.spawn(serve_publisher(stream, Arc::clone(&self.topic)));
        }
    }
}

/// A subscriber connection pump with no cancellation branch: it ends when the topic is
/// gone, and otherwise whoever awaits this future stops it by dropping it.
pub async fn pump_subscriber(mut stream: TcpStream, mut feed: broadcast::Receiver<Vec<u8>>) {
    let mut ping = tokio::time::interval(Duration::from_secs(20));
    loop {
        tokio::select! {
            msg = feed.recv() => match msg {
                Ok(msg) => {
                    let _ = stream.write_all(&msg).await;
                }
                Err(broadcast::error::RecvError::Lagged(n)) => tracing::warn!(n, "subscriber lagging"),
                Err(broadcast::error::RecvError::Closed) => return,
            },
            _ = ping.tick() => {
                let _ = stream.write_all(b"PING\n").await;
            }
        }
    }
}

/// Branch names that merely contain a cancellation word as a substring are not
/// cancellation sources (`stopwatch`, `terminal`, `determine`): this is a plain async
/// loop without a cancellation branch, so nothing is reported.
pub async fn report_latency(
    mut terminal_rx: mpsc::Receiver<String>,
    mut determine_leader_rx: mpsc::Receiver<SocketAddr>,
) {
    let mut stopwatch_ticks = tokio::time::interval(Duration::from_secs(1));
    let mut started = Instant::now();
    loop {
        tokio::select! {
            _ = stopwatch_ticks.tick() => {
                tracing::trace!(elapsed = ?started.elapsed(), "stopwatch");
            }
            Some(line) = terminal_rx.recv() => {
                tracing::info!(line = %line, "terminal input");
            }
            Some(leader) = determine_leader_rx.recv() => {
                tracing::info!(%leader, "leader changed, resetting stopwatch");
                started = Instant::now();
            }
        }
    }
}

pub struct RetentionJob {
    // Kept: aborted in Drop, so the endless loop is cancellable.
    task: JoinHandle<()>,
}

impl RetentionJob {
    pub fn start(log: Arc<Mutex<Vec<(Instant, Vec<u8>)>>>, keep: Duration) -> Self {
        let task = tokio::spawn(async move {
            let mut ticker = tokio::time::interval(Duration::from_secs(10));
            loop {
                ticker.tick().await;
                log.lock().unwrap().retain(|(at, _)| at.elapsed() < keep);
            }
        });
        Self { task }
    }
}

impl Drop for RetentionJob {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub struct Replicas {
    // A JoinSet aborts its tasks when dropped.
    set: JoinSet<()>,
}

impl Replicas {
    pub fn start(followers: Vec<SocketAddr>, topic: Arc<Topic>) -> Self {
        let mut set = JoinSet::new();
        for follower in followers {
            let mut feed = topic.subscribers.subscribe();
            set.spawn(async move {
                loop {
                    let Ok(msg) = feed.recv().await else {
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    };
                    if let Ok(mut stream) = TcpStream::connect(follower).await {
                        let _ = stream.write_all(&msg).await;
                    }
                }
            });
        }
        Self { set }
    }

    pub fn count(&self) -> usize {
        self.set.len()
    }
}

pub struct LocalStats {
    counts: Arc<Mutex<HashMap<String, u64>>>,
    // A smol Task is cancelled when dropped; it is never detached.
    _reset: smol::Task<()>,
}

impl LocalStats {
    pub fn new() -> Self {
        let counts: Arc<Mutex<HashMap<String, u64>>> = Arc::default();
        let reset_counts = Arc::clone(&counts);
        let _reset = smol::spawn(async move {
            loop {
                smol::Timer::after(Duration::from_secs(60)).await;
                reset_counts.lock().unwrap().clear();
            }
        });
        Self { counts, _reset }
    }

    pub fn bump(&self, topic: &str) {
        *self.counts.lock().unwrap().entry(topic.to_owned()).or_default() += 1;
    }
}

pub struct Broker {
    tracker: TaskTracker,
    token: CancellationToken,
    compactor: JoinHandle<()>,
}

impl Broker {
    pub fn start(topics: Arc<Mutex<Vec<Arc<Topic>>>>, mut commands: mpsc::Receiver<String>) -> Self {
        let tracker = TaskTracker::new();
        let token = CancellationToken::new();

        // Tracked task whose loop leaves on cancellation.
        let stats_token = token.clone();
        let stats_topics = Arc::clone(&topics);
        tracker.spawn(async move {
            let mut ticker = tokio::time::interval(Duration::from_secs(15));
            loop {
                tokio::select! {
                    _ = stats_token.cancelled() => break,
                    _ = ticker.tick() => {
                        let n = stats_topics.lock().unwrap().len();
                        tracing::info!(topics = n, "broker stats");
                    }
                }
            }
        });

        // Tracked task that ends when the command channel closes (`while let`).
        tracker.spawn(async move {
            while let Some(cmd) = commands.recv().await {
                tracing::debug!(cmd = %cmd, "broker command");
            }
        });

        // Tracked task with an endless loop, but its handle is kept and aborted.
        let compacted = Arc::clone(&topics);
        let compactor = tracker.spawn(async move {
            let mut ticker = tokio::time::interval(Duration::from_secs(300));
            loop {
                ticker.tick().await;
                compacted.lock().unwrap().retain(|t| t.subscribers.receiver_count() > 0);
            }
        });

        Self { tracker, token, compactor }
    }

    pub async fn close(self) {
        self.token.cancel();
        self.compactor.abort();
        self.tracker.close();
        self.tracker.wait().await;
    }
}

pub struct Outbound {
    peer: SocketAddr,
    queue: Vec<Vec<u8>>,
}

/// The cancellation branch flushes every peer, then leaves the outer loop with a
/// labelled break from inside its nested `for`.
pub async fn forward_outbound(mut peers: Vec<Outbound>, mut incoming: mpsc::Receiver<Vec<u8>>, token: CancellationToken) {
    'forward: loop {
        tokio::select! {
            _ = token.cancelled() => {
                for peer in peers.iter_mut() {
                    for msg in std::mem::take(&mut peer.queue) {
                        let Ok(mut stream) = TcpStream::connect(peer.peer).await else { break 'forward };
                        let _ = stream.write_all(&msg).await;
                    }
                }
                break 'forward;
            }
            Some(msg) = incoming.recv() => {
                for peer in peers.iter_mut() {
                    peer.queue.push(msg.clone());
                }
            }
        }
    }
}

/// The cancellation branch returns `Ok(())`: it leaves the loop.
pub async fn mirror_topic(topic: Arc<Topic>, mirror: SocketAddr, token: CancellationToken) -> io::Result<()> {
    let mut feed = topic.subscribers.subscribe();
    let mut stream = TcpStream::connect(mirror).await?;
    loop {
        tokio::select! {
            _ = token.cancelled() => {
                stream.flush().await?;
                return Ok(());
            }
            msg = feed.recv() => {
                if let Ok(msg) = msg {
                    stream.write_all(&msg).await?;
                }
            }
        }
    }
}
