//! "Wait forever" written as `pending().await` or as an empty / park-only loop, in a
//! log-shipping agent: `main`, keep-alive tasks and threads, and helpers that park the
//! caller. Each one parks a task, a thread or `main` with no way to end it: no shutdown
//! signal is observed, so buffers are never flushed and the agent can only be killed.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::thread;

use notify::{RecursiveMode, Watcher};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::config::AgentConfig;
use crate::shipper::ShipperPool;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cfg = AgentConfig::load()?;
    let pool = ShipperPool::start(&cfg).await?;
    let _metrics = metrics::serve(cfg.metrics_addr, pool.registry());
    tracing::info!(shippers = pool.len(), "agent running");
    // `main` never returns: SIGTERM kills the agent with its batches still buffered.
    std::future::pending::<()>().await; //~ pending_forever
    pool.flush_all().await?;
    Ok(())
}

/// Keeps the mDNS advertisement registered by parking a task that owns it.
pub fn advertise(daemon: mdns_sd::ServiceDaemon, info: mdns_sd::ServiceInfo) {
    tokio::spawn(async move {
        let _registration = daemon.register(info);
        futures::future::pending::<()>().await //~ pending_forever
    });
}

/// The config watcher stops when dropped, so a thread is parked forever to own it.
pub fn watch_config_dir(dir: PathBuf, changes: mpsc::Sender<notify::Event>) -> notify::Result<()> {
    let mut watcher = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
        if let Ok(event) = res {
            let _ = changes.blocking_send(event);
        }
    })?;
    watcher.watch(&dir, RecursiveMode::Recursive)?;
    std::thread::spawn(move || { //~ spawn_without_cancel
        let _watcher = watcher;
        // The detached thread's park loop is `spawn_without_cancel`'s finding (one per bug).
        loop {
            std::thread::park();
        }
    });
    Ok(())
}

/// Puts the calling thread to sleep for good once the plugins are registered.
fn park_plugin_thread() {
    // Reached from `main`, so `loop_without_cancel` reports it (one finding per bug).
    loop { //~ loop_without_cancel
        thread::park();
    }
}

/// Plugins register callbacks on the thread that loaded them, so it must stay alive.
pub fn start_plugin_host(plugins: Vec<PathBuf>) -> thread::JoinHandle<()> {
    thread::spawn(move || {
        for path in &plugins {
            if let Err(err) = plugin::load(path) {
                tracing::error!(path = %path.display(), error = %err, "plugin failed to load");
            }
        }
        park_plugin_thread();
    })
}

/// Last resort when the on-disk journal is corrupt: wedge the writer so that the
/// supervisor's health check notices. Reached from the writer task below.
fn wedge(reason: &str) -> ! {
    tracing::error!(reason, "journal corrupt, wedging the writer");
    loop {} //~ pending_forever
}

pub fn start_journal_writer(mut entries: mpsc::Receiver<Entry>, mut journal: Journal) -> JoinHandle<()> {
    tokio::spawn(async move {
        while let Some(entry) = entries.recv().await {
            if journal.append(&entry).is_err() {
                wedge("append failed");
            }
        }
    })
}

mod relay {
    use std::convert::Infallible;
    use std::future;

    /// Forwards syslog over TCP. The accept loop runs in tasks spawned by `bind`.
    pub struct Relay {
        listeners: Vec<super::SocketAddr>,
    }

    impl Relay {
        /// Runs the relay; only returns on a startup error.
        pub async fn run(self) -> Result<Infallible, RelayError> {
            let bound = bind_all(&self.listeners).await?;
            tracing::info!(listeners = bound, "relay listening");
            let never: Infallible = future::pending().await; //~ pending_forever
            Ok(never)
        }
    }
}

mod lease {
    use futures::future::pending;

    /// Holds the leader lease. Never returns, even after the lease is lost.
    pub async fn hold(lease: etcd_client::LeaseKeeper, id: i64) {
        let _keepalive = lease;
        tracing::info!(id, "leadership acquired");
        pending::<()>().await //~ pending_forever
    }
}

mod metrics {
    use futures::future;

    use super::{Arc, JoinHandle, SocketAddr};

    /// The exporter serves from its own thread; the task only keeps it alive.
    pub fn serve(addr: SocketAddr, registry: Arc<prometheus::Registry>) -> JoinHandle<()> {
        tokio::spawn(async move {
            let exporter = prometheus_exporter::start_with_registry(addr, registry);
            tracing::info!(%addr, "metrics exporter started");
            let _exporter = exporter;
            future::pending::<()>().await; //~ pending_forever
        })
    }
}

mod ingest {
    use std::future::pending;

    /// Subscribes to the topics and lets the consumer's own threads do the work.
    pub async fn run_consumer(consumer: rdkafka::consumer::StreamConsumer, topics: &[&str]) -> anyhow::Result<()> {
        consumer.subscribe(topics)?;
        tracing::info!(?topics, "consumer subscribed");
        pending::<()>().await; //~ pending_forever
        Ok(())
    }
}
