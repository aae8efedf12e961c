//! Background tasks of a metrics and lease service. Each one is started on tokio and
//! then forgotten: nobody keeps its `JoinHandle` and no shutdown signal reaches it, so
//! it runs until the process dies and holds its captures (clients, registries) forever.

use std::fs::File;
use std::future::Future;
use std::io::{self, BufRead, BufReader};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::runtime::Handle;
use tokio::sync::{mpsc, watch, RwLock};
use tokio::task;
use tokio::time::{self, MissedTickBehavior};

pub struct Registry {
    counters: Mutex<Vec<(String, u64)>>,
}

impl Registry {
    fn snapshot(&self) -> Vec<(String, u64)> {
        self.counters.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

pub struct Exporter {
    endpoint: String,
}

impl Exporter {
    async fn push(&self, batch: Vec<(String, u64)>) -> io::Result<()> {
        let mut stream = TcpStream::connect(&self.endpoint).await?;
        for (name, value) in batch {
            stream.write_all(format!("{name} {value}\n").as_bytes()).await?;
        }
        stream.flush().await
    }
}

#[derive(Clone, Debug, PartialEq, serde::Deserialize)]
pub struct Config {
    pub log_level: String,
    pub upstreams: Vec<SocketAddr>,
}

impl Config {
    fn parse(raw: &str) -> Result<Config, toml::de::Error> {
        toml::from_str(raw)
    }
}

pub fn start_metrics_export(registry: Arc<Registry>, exporter: Exporter, period: Duration) {
    // Leak: the flusher ticks forever and its handle is dropped on the spot (expression
    // statement); nothing can abort it and no shutdown signal is moved in.
    tokio::spawn(async move { //~ spawn_without_cancel
        let mut ticker = time::interval(period);
        ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            let batch = registry.snapshot();
            if let Err(err) = exporter.push(batch).await {
                tracing::warn!(error = %err, "metrics export failed");
            }
        }
    });
}

pub fn watch_config(path: PathBuf, current: Arc<RwLock<Config>>) {
    // Leak: `let _ =` drops the handle at once; the poll loop has no exit at all.
    let _ = tokio::spawn(async move { //~ spawn_without_cancel
        let mut last_raw: Option<String> = None;
        loop {
            time::sleep(Duration::from_secs(5)).await;
            let raw = match tokio::fs::read_to_string(&path).await {
                Ok(raw) => raw,
                Err(err) => {
                    tracing::warn!(error = %err, path = %path.display(), "cannot read config");
                    continue;
                }
            };
            if last_raw.as_deref() == Some(raw.as_str()) {
                continue;
            }
            match Config::parse(&raw) {
                Ok(cfg) => *current.write().await = cfg,
                Err(err) => tracing::error!(error = %err, "invalid config, keeping the old one"),
            }
            last_raw = Some(raw);
        }
    });
}

pub struct Coordinator {
    endpoint: String,
}

pub struct Lease {
    pub id: u64,
    pub ttl: Duration,
}

impl Coordinator {
    async fn acquire_lease(&self, node_id: u64) -> io::Result<Lease> {
        let _ = (&self.endpoint, node_id);
        Ok(Lease { id: node_id, ttl: Duration::from_secs(30) })
    }

    async fn renew(&self, lease_id: u64) -> io::Result<()> {
        let _ = (&self.endpoint, lease_id);
        Ok(())
    }
}

pub async fn register_node(client: Arc<Coordinator>, node_id: u64) -> io::Result<Lease> {
    let lease = client.acquire_lease(node_id).await?;
    let renew_client = Arc::clone(&client);
    let lease_id = lease.id;
    let every = lease.ttl / 3;
    // Leak: `_heartbeat` is bound and never used again, so the handle is dropped when
    // this fn returns; the renew loop outlives the lease and keeps the client alive.
    let _heartbeat = tokio::spawn(async move { //~ spawn_without_cancel
        let mut ticker = time::interval(every);
        loop {
            ticker.tick().await;
            if let Err(err) = renew_client.renew(lease_id).await {
                tracing::warn!(error = %err, lease_id, "lease renewal failed");
            }
        }
    });
    Ok(lease)
}

pub fn tail_audit_log(path: PathBuf, lines: mpsc::Sender<String>) {
    // Leak: a blocking-pool thread that tails the file forever. Even when the receiver
    // is gone (`blocking_send` fails) it keeps reading; runtime shutdown waits for it.
    task::spawn_blocking(move || { //~ spawn_without_cancel
        let file = File::open(&path).expect("audit log must exist");
        let mut reader = BufReader::new(file);
        let mut line = String::new();
        loop {
            line.clear();
            match reader.read_line(&mut line) {
                Ok(0) => std::thread::sleep(Duration::from_millis(200)),
                Ok(_) => {
                    let _ = lines.blocking_send(line.trim_end().to_owned());
                }
                Err(err) => tracing::error!(error = %err, "audit log read failed"),
            }
        }
    });
}

pub struct Record {
    pub key: String,
    pub payload: Vec<u8>,
}

pub struct Sink {
    addr: SocketAddr,
}

impl Sink {
    async fn write(&self, record: Record) {
        if let Ok(mut stream) = TcpStream::connect(self.addr).await {
            let _ = stream.write_all(&record.payload).await;
        }
    }
}

pub struct Ingest {
    rt: Handle,
    queue: mpsc::Sender<Record>,
}

impl Ingest {
    pub fn new(rt: Handle, sink: Arc<Sink>) -> Self {
        let (queue, mut records) = mpsc::channel(4096);
        // Leak: spawned on a runtime handle and dropped. When every sender is gone,
        // `recv()` returns `None` at once and this `if let` loop spins at 100% CPU.
        rt.spawn(async move { //~ spawn_without_cancel
            loop {
                if let Some(record) = records.recv().await {
                    sink.write(record).await;
                }
            }
        });
        Self { rt, queue }
    }
}

pub struct AdminState {
    pub version: &'static str,
}

async fn serve_admin(mut stream: TcpStream, peer: SocketAddr, state: &AdminState) {
    let body = format!("version {} for {peer}\n", state.version);
    let _ = stream.write_all(body.as_bytes()).await;
}

pub async fn start_admin_listener(addr: SocketAddr, state: Arc<AdminState>) -> io::Result<()> {
    let listener = TcpListener::bind(addr).await?;
    // Leak: the accept loop only ends on an accept error (`?`); no normal exit and no
    // shutdown signal, and the handle is dropped.
    tokio::spawn(async move { //~ spawn_without_cancel
        loop {
            let (stream, peer) = listener.accept().await?;
            serve_admin(stream, peer, &state).await;
        }
        #[allow(unreachable_code)]
        Ok::<(), io::Error>(())
    });
    Ok(())
}

pub struct LeaseStore {
    leases: RwLock<Vec<(u64, std::time::Instant)>>,
}

impl LeaseStore {
    async fn expire_older_than(&self, age: Duration) -> usize {
        let mut leases = self.leases.write().await;
        let before = leases.len();
        leases.retain(|(_, seen)| seen.elapsed() < age);
        before - leases.len()
    }
}

pub fn start_lease_gc(store: Arc<LeaseStore>) {
    // `tokio::task::spawn` is `tokio::spawn`. Leak: the handle is bound and then handed
    // to `drop(..)`, which detaches it; the sweep loop never ends.
    let sweeper = task::spawn(async move { //~ spawn_without_cancel
        let mut ticker = time::interval(Duration::from_secs(30));
        loop {
            ticker.tick().await;
            let expired = store.expire_older_than(Duration::from_secs(90)).await;
            tracing::debug!(expired, "expired leases swept");
        }
    });
    drop(sweeper);
}

/// Spawns `fut` as a background task; the name only goes to the logs.
pub fn spawn_named<F>(name: &'static str, fut: F)
where
    F: Future<Output = ()> + Send + 'static,
{
    tracing::debug!(task = name, "spawning background task");
    tokio::spawn(fut);
}

pub fn start_gauge_sampler(registry: Arc<Registry>) {
    // Leak: `spawn_named` is a crate-local spawn wrapper (it hands its future to
    // `tokio::spawn` and drops the handle), so this call is a detached spawn of a loop
    // that never ends.
    spawn_named("gauge-sampler", async move { //~ spawn_without_cancel
        let mut ticker = time::interval(Duration::from_secs(1));
        loop {
            ticker.tick().await;
            let series = registry.snapshot().len();
            tracing::trace!(series, "sampled gauges");
        }
    });
}

pub struct Replica {
    upstream: SocketAddr,
}

impl Replica {
    async fn next_batch(&mut self) -> io::Result<Vec<u8>> {
        let _ = self.upstream;
        Ok(Vec::new())
    }

    async fn apply(&mut self, batch: Vec<u8>) {
        let _ = batch;
    }
}

async fn replicate_once(replica: &mut Replica, shutdown: &mut watch::Receiver<bool>) {
    tokio::select! {
        _ = shutdown.changed() => return,
        batch = replica.next_batch() => {
            if let Ok(batch) = batch {
                replica.apply(batch).await;
            }
        }
    }
}

pub fn start_replicator(mut replica: Replica, mut shutdown: watch::Receiver<bool>) {
    // Leak despite the moved-in `shutdown`: the loop has no exit at all (no break,
    // return, `?` or panic). `replicate_once` can only return when shutdown fires, and
    // the loop calls it again, so after shutdown it spins instead of ending.
    tokio::spawn(async move { //~ spawn_without_cancel
        loop {
            replicate_once(&mut replica, &mut shutdown).await;
        }
    });
}
