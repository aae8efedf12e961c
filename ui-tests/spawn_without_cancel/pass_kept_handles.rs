//! Long-running background loops whose owner keeps a way to stop them: the handle is
//! stored, awaited, aborted, returned or handed on, or the task lives in a container
//! that cancels it on drop. None of these spawns is detached, so none is a leak.

use std::cell::Cell;
use std::collections::VecDeque;
use std::io;
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::OwnedReadHalf;
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::task::{AbortHandle, JoinHandle, JoinSet};
use tokio::time::{self, MissedTickBehavior};
use tokio_util::task::AbortOnDropHandle;

/// Cached `Date` header, refreshed every 500ms (the shape of actix-http's date service).
pub struct DateService {
    current: Rc<Cell<[u8; 29]>>,
    // Kept: the ticker is aborted when the service is dropped.
    ticker: JoinHandle<()>,
}

fn render_http_date(now: SystemTime) -> [u8; 29] {
    let mut buf = [b' '; 29];
    let text = httpdate::fmt_http_date(now);
    buf[..text.len().min(29)].copy_from_slice(&text.as_bytes()[..text.len().min(29)]);
    buf
}

impl DateService {
    pub fn new() -> Self {
        let current = Rc::new(Cell::new(render_http_date(SystemTime::now())));
        let shared = Rc::clone(&current);
        // Not a leak: the handle is stored in `ticker` and aborted in Drop.
        let ticker = tokio::task::spawn_local(async move {
            let mut interval = time::interval(Duration::from_millis(500));
            loop {
                interval.tick().await;
                shared.set(render_http_date(SystemTime::now()));
            }
        });
        Self { current, ticker }
    }

    pub fn header(&self) -> [u8; 29] {
        self.current.get()
    }
}

impl Drop for DateService {
    fn drop(&mut self) {
        self.ticker.abort();
    }
}

pub struct Shard {
    pub id: usize,
    queue: Mutex<VecDeque<Vec<u8>>>,
}

impl Shard {
    fn pop_ready(&self) -> Option<Vec<u8>> {
        self.queue.lock().unwrap().pop_front()
    }
}

pub struct ShardWorkers {
    workers: Vec<JoinHandle<()>>,
}

impl ShardWorkers {
    pub fn start(shards: Vec<Arc<Shard>>) -> Self {
        let mut workers = Vec::with_capacity(shards.len());
        for shard in shards {
            // Not a leak: each handle is pushed into `workers` and aborted by
            // `abort_all`.
            let handle = tokio::spawn(async move {
                let mut idle = time::interval(Duration::from_millis(20));
                idle.set_missed_tick_behavior(MissedTickBehavior::Skip);
                loop {
                    match shard.pop_ready() {
                        Some(item) => tracing::trace!(shard = shard.id, len = item.len(), "applied"),
                        None => {
                            idle.tick().await;
                        }
                    }
                }
            });
            workers.push(handle);
        }
        Self { workers }
    }

    pub async fn abort_all(self) {
        for worker in &self.workers {
            worker.abort();
        }
        for worker in self.workers {
            let _ = worker.await;
        }
    }
}

async fn read_frames(mut rd: OwnedReadHalf, frames: mpsc::Sender<Vec<u8>>) -> io::Result<()> {
    // Only ends on a read error or when the consumer is gone (both via `?`/Err).
    loop {
        let len = rd.read_u32().await? as usize;
        let mut frame = vec![0; len];
        rd.read_exact(&mut frame).await?;
        frames
            .send(frame)
            .await
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "consumer gone"))?;
    }
}

pub async fn proxy_session(stream: TcpStream, upstream: SocketAddr) -> io::Result<()> {
    let (rd, mut wr) = stream.into_split();
    let (frames_tx, mut frames) = mpsc::channel(64);
    // Not a leak: the reader's handle is awaited below, so the session owns it.
    let reader = tokio::spawn(read_frames(rd, frames_tx));
    let mut up = TcpStream::connect(upstream).await?;
    while let Some(frame) = frames.recv().await {
        up.write_all(&frame).await?;
        wr.write_all(b"+").await?;
    }
    reader.await.map_err(io::Error::other)?
}

pub struct Counters {
    pub hits: std::sync::atomic::AtomicU64,
}

/// Returns the flusher's handle to the caller, who decides when to abort it.
pub fn spawn_counter_flusher(counters: Arc<Counters>, every: Duration) -> JoinHandle<()> {
    // Not a leak: the handle is the tail expression (returned).
    tokio::spawn(async move {
        let mut ticker = time::interval(every);
        loop {
            ticker.tick().await;
            let hits = counters.hits.swap(0, std::sync::atomic::Ordering::Relaxed);
            tracing::info!(hits, "flushed hit counter");
        }
    })
}

pub struct TaskRegistry {
    tasks: Mutex<Vec<(&'static str, AbortHandle)>>,
}

impl TaskRegistry {
    pub fn abort_everything(&self) {
        for (name, task) in self.tasks.lock().unwrap().iter() {
            tracing::debug!(task = name, "aborting");
            task.abort();
        }
    }
}

fn register_task(registry: &TaskRegistry, name: &'static str, handle: JoinHandle<()>) {
    registry.tasks.lock().unwrap().push((name, handle.abort_handle()));
}

pub fn start_disk_probe(registry: &TaskRegistry, path: std::path::PathBuf) {
    // Not a leak: the handle is passed to `register_task`, which keeps its abort handle.
    let probe = tokio::spawn(async move {
        let mut ticker = time::interval(Duration::from_secs(30));
        loop {
            ticker.tick().await;
            let free = fs2::available_space(&path).unwrap_or(0);
            tracing::debug!(free, "disk probe");
        }
    });
    register_task(registry, "disk-probe", probe);
}

pub struct MultiplexedConnection {
    requests: mpsc::Sender<Vec<u8>>,
    _task_handle: JoinHandle<()>,
}

impl MultiplexedConnection {
    pub async fn connect(addr: SocketAddr) -> io::Result<Self> {
        let (mut rd, mut wr) = TcpStream::connect(addr).await?.into_split();
        let (requests, mut pending) = mpsc::channel::<Vec<u8>>(128);
        // Not a leak: `_task_handle` starts with an underscore but is used later (moved
        // into the struct by shorthand, the redis-rs shape) and aborted in Drop.
        let _task_handle = tokio::spawn(async move {
            let mut buf = vec![0u8; 4096];
            loop {
                tokio::select! {
                    Some(req) = pending.recv() => {
                        if let Err(err) = wr.write_all(&req).await {
                            tracing::warn!(error = %err, "request write failed");
                        }
                    }
                    read = rd.read(&mut buf) => match read {
                        Ok(n) => tracing::trace!(n, "response bytes"),
                        Err(err) => tracing::warn!(error = %err, "response read failed"),
                    },
                }
            }
        });
        Ok(Self { requests, _task_handle })
    }

    pub async fn send(&self, req: Vec<u8>) -> bool {
        self.requests.send(req).await.is_ok()
    }
}

impl Drop for MultiplexedConnection {
    fn drop(&mut self) {
        self._task_handle.abort();
    }
}

pub struct Gossip {
    // Not a leak: a JoinSet aborts every task it holds when it is dropped.
    tasks: JoinSet<()>,
}

impl Gossip {
    pub fn start(peers: Vec<SocketAddr>) -> Self {
        let mut tasks = JoinSet::new();
        for peer in peers {
            tasks.spawn(async move {
                let mut ticker = time::interval(Duration::from_secs(2));
                loop {
                    ticker.tick().await;
                    if let Ok(mut stream) = TcpStream::connect(peer).await {
                        let _ = stream.write_all(b"gossip").await;
                    }
                }
            });
        }
        Self { tasks }
    }

    pub fn running(&self) -> usize {
        self.tasks.len()
    }
}

pub struct LocalCache {
    entries: Arc<Mutex<Vec<(String, Instant)>>>,
    // Not a leak: a smol `Task` is cancelled when dropped; it is never `.detach()`ed.
    _expiry: smol::Task<()>,
}

impl LocalCache {
    pub fn new(ttl: Duration) -> Self {
        let entries: Arc<Mutex<Vec<(String, Instant)>>> = Arc::new(Mutex::new(Vec::new()));
        let swept = Arc::clone(&entries);
        let _expiry = smol::spawn(async move {
            loop {
                smol::Timer::after(ttl / 2).await;
                swept.lock().unwrap().retain(|(_, at)| at.elapsed() < ttl);
            }
        });
        Self { entries, _expiry }
    }

    pub fn len(&self) -> usize {
        self.entries.lock().unwrap().len()
    }
}

pub struct Watcher {
    // Not a leak: AbortOnDropHandle aborts the task when the watcher goes away.
    _poll: AbortOnDropHandle<()>,
}

impl Watcher {
    pub fn new(path: std::path::PathBuf, changes: mpsc::Sender<String>) -> Self {
        let task = tokio::spawn(async move {
            let mut last = None;
            loop {
                time::sleep(Duration::from_secs(2)).await;
                let now = tokio::fs::metadata(&path).await.and_then(|m| m.modified()).ok();
                if now != last {
                    last = now;
                    let _ = changes.send(path.display().to_string()).await;
                }
            }
        });
        Self { _poll: AbortOnDropHandle::new(task) }
    }
}
