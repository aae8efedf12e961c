//! Service components whose start methods take `&self`/`&mut self` and spawn a task that
//! runs forever, with nothing that notices a second call. Each handle is kept (so the
//! task is abortable and not `spawn_without_cancel`'s), but calling the method twice —
//! on a reconnect, a config reload, a retried init — leaves two copies running, and the
//! first handle is overwritten or buried in a Vec.

use std::collections::HashMap;
use std::io;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::runtime::Handle;
use tokio::sync::RwLock;
use tokio::task::{self, JoinHandle};
use tokio::time::{self, interval};

#[derive(Clone, Debug, Default, serde::Deserialize)]
pub struct Config {
    pub upstreams: Vec<String>,
    pub sampling_enabled: bool,
}

async fn reload_config(path: &PathBuf, current: &RwLock<Config>) {
    match tokio::fs::read_to_string(path).await {
        Ok(raw) => match toml::from_str::<Config>(&raw) {
            Ok(cfg) => *current.write().await = cfg,
            Err(err) => tracing::warn!(error = %err, "invalid config, keeping the old one"),
        },
        Err(err) => tracing::warn!(error = %err, "cannot read config"),
    }
}

pub struct ConfigWatcher {
    path: PathBuf,
    current: Arc<RwLock<Config>>,
    task: Option<JoinHandle<()>>,
}

impl ConfigWatcher {
    /// `&mut self`, and the handle goes into an `Option` field that is never checked:
    /// a second `watch()` overwrites the first handle and two pollers run.
    pub fn watch(&mut self) {
        let path = self.path.clone();
        let current = Arc::clone(&self.current);
        self.task = Some(tokio::spawn(async move { //~ duplicate_task_start
            let mut tick = time::interval(Duration::from_secs(5));
            loop {
                tick.tick().await;
                reload_config(&path, &current).await;
            }
        }));
    }
}

pub struct Coordinator {
    endpoint: String,
}

impl Coordinator {
    async fn renew(&self, lease_id: u64) -> io::Result<()> {
        let _ = (&self.endpoint, lease_id);
        Ok(())
    }
}

pub struct LeaseKeeper {
    client: Arc<Coordinator>,
    lease_id: u64,
    ttl: Duration,
    tasks: Mutex<Vec<JoinHandle<()>>>,
}

impl LeaseKeeper {
    /// `&self` with interior mutability: every call pushes one more renewer for the same
    /// lease.
    pub fn start_heartbeat(&self) {
        let client = Arc::clone(&self.client);
        let (lease_id, every) = (self.lease_id, self.ttl / 3);
        self.tasks.lock().unwrap().push(tokio::spawn(async move { //~ duplicate_task_start
            let mut tick = interval(every);
            loop {
                tick.tick().await;
                if let Err(err) = client.renew(lease_id).await {
                    tracing::warn!(error = %err, lease_id, "lease renewal failed");
                }
            }
        }));
    }
}

pub struct IdleConn {
    pub id: u64,
    pub since: Instant,
}

/// The reaper loop lives in a crate-local fn; the spawn in `start_reaper` is what
/// starts it.
async fn reap_idle(idle: Arc<tokio::sync::Mutex<Vec<IdleConn>>>, max_idle: Duration) {
    let mut tick = interval(max_idle / 2);
    loop {
        tick.tick().await;
        let mut conns = idle.lock().await;
        conns.retain(|c| c.since.elapsed() < max_idle);
    }
}

pub struct ConnectionPool {
    idle: Arc<tokio::sync::Mutex<Vec<IdleConn>>>,
    max_idle: Duration,
    reaper: Option<JoinHandle<()>>,
}

impl ConnectionPool {
    pub fn start_reaper(&mut self) {
        self.reaper = Some(tokio::spawn(reap_idle(Arc::clone(&self.idle), self.max_idle))); //~ duplicate_task_start
    }
}

pub struct Connection {
    addr: String,
}

impl Connection {
    async fn ping(&self) -> io::Result<()> {
        let _ = &self.addr;
        Ok(())
    }
}

#[derive(PartialEq)]
pub enum LinkState {
    Down,
    Up,
}

pub struct Session {
    conn: Arc<Connection>,
    state: LinkState,
    keepalive: Option<JoinHandle<()>>,
}

impl Session {
    fn start_keepalive(&mut self) {
        let conn = Arc::clone(&self.conn);
        self.keepalive = Some(tokio::spawn(async move { //~ duplicate_task_start
            let mut tick = interval(Duration::from_secs(15));
            loop {
                tick.tick().await;
                let _ = conn.ping().await;
            }
        }));
    }

    /// The only caller runs on every (re)connect and checks nothing, so a reconnect
    /// starts a second pinger next to the first.
    pub async fn on_connected(&mut self) {
        self.state = LinkState::Up;
        tracing::info!("session up");
        self.start_keepalive();
    }
}

pub struct Gauges {
    values: Mutex<HashMap<&'static str, f64>>,
}

pub struct MetricsSampler {
    rt: Handle,
    gauges: Arc<Gauges>,
    config: Config,
    sampler: Mutex<Option<JoinHandle<()>>>,
}

impl MetricsSampler {
    /// The early return is about configuration, not about a running sampler; the slot is
    /// overwritten, not checked, so the previous sampler is detached and keeps going.
    pub fn start_sampling(&self, every: Duration) {
        if !self.config.sampling_enabled {
            return;
        }
        let gauges = Arc::clone(&self.gauges);
        let handle = self.rt.spawn(async move { //~ duplicate_task_start
            let mut tick = interval(every);
            loop {
                tick.tick().await;
                let load = sys_info::loadavg().map(|l| l.one).unwrap_or(0.0);
                gauges.values.lock().unwrap().insert("load1", load);
            }
        });
        *self.sampler.lock().unwrap() = Some(handle);
    }
}

pub struct StatusBar {
    label: std::rc::Rc<std::cell::RefCell<String>>,
    tasks: Vec<JoinHandle<()>>,
}

impl StatusBar {
    /// A `spawn_local` clock on the UI's `LocalSet`, collected in a Vec.
    pub fn show_clock(&mut self) {
        let label = std::rc::Rc::clone(&self.label);
        self.tasks.push(task::spawn_local(async move { //~ duplicate_task_start
            let mut tick = interval(Duration::from_secs(1));
            loop {
                tick.tick().await;
                *label.borrow_mut() = chrono::Local::now().format("%H:%M:%S").to_string();
            }
        }));
    }
}
