//! Order intake and notification service: an HTTP API for the web shop and a
//! line-based TCP port for the in-store POS terminals. Orders are journaled,
//! queued per fulfilment shard, invoiced and turned into notifications.
//!
//! A lint target for taskcheck, never built: README.md lists its leaks.

mod cache;
mod config_watch;
mod metrics;
mod notify;
mod server;
mod shutdown;
mod worker;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use dashmap::DashMap;
use serde::{Deserialize, Serialize};
use tokio::net::{TcpListener, UdpSocket};
use tokio::sync::{watch, RwLock};
use tokio_util::sync::CancellationToken;
use tracing::{error, info};

pub type OrderId = u64;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Order {
    #[serde(default)]
    pub id: OrderId,
    pub customer_id: u64,
    pub sku: String,
    pub quantity: u32,
    pub phone: Option<String>,
}

#[derive(Clone)]
pub struct AppState {
    pub outbox: Arc<worker::Outbox>,
    pub reservations: cache::Reservations,
    pub last_seen: Arc<DashMap<String, Instant>>,
    pub prices: Arc<RwLock<HashMap<String, u64>>>,
    pub metrics: Arc<metrics::Registry>,
    pub shutdown: CancellationToken,
}

impl AppState {
    pub fn record_order(&self, order: Order) {
        self.metrics.orders_accepted.fetch_add(1, Ordering::Relaxed);
        if let Some(phone) = &order.phone {
            cache::remember_phone(order.customer_id, phone.clone());
        }
        self.outbox.push(order);
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt().with_env_filter("info").init();
    let config_path = PathBuf::from(std::env::var("ORDERS_CONFIG").unwrap_or_else(|_| "orders.json".into()));
    let settings = config_watch::load(&config_path).await.context("loading settings")?;
    let (settings_tx, settings_rx) = watch::channel(settings.clone());

    let token = CancellationToken::new();
    let signals = shutdown::spawn_signal_listener(token.clone());
    shutdown::spawn_pid_keeper(PathBuf::from("/run/leaky-service.pid"));
    let registry = Arc::new(metrics::Registry::default());
    let state = AppState {
        outbox: Arc::new(worker::Outbox::new(settings.shards)),
        reservations: cache::Reservations::default(),
        last_seen: Arc::new(DashMap::new()),
        prices: Arc::new(RwLock::new(HashMap::new())),
        metrics: registry.clone(),
        shutdown: token.clone(),
    };

    // BUG(spawn_without_cancel): `watch_forever` polls forever; the handle is
    // dropped and no token is passed, so nothing can stop it.
    tokio::spawn(config_watch::watch_forever(config_path.clone(), settings_tx));
    metrics::spawn_flusher(registry.clone(), settings.statsd_addr).await?;
    let reporter = metrics::Reporter::start(registry.clone(), Duration::from_secs(60));

    let (invoice_tx, invoice_rx) = std::sync::mpsc::sync_channel(16);
    worker::spawn_invoice_renderer(invoice_rx, settings.invoice_dir.clone());
    let sweeper = worker::SpoolSweeper::start(settings.spool_dir.clone());

    let notifier = Arc::new(notify::Notifier::new(settings_rx, registry.clone()));
    let (notify_tx, notify_rx) = notify::queue();
    let mut shard_tasks =
        worker::spawn_shard_consumers(state.outbox.clone(), state.reservations.clone(), notify_tx, invoice_tx);
    let mut price_refresher = cache::PriceRefresher::start(settings.price_feed_url.clone(), state.prices.clone())?;
    if let Ok(feed) = std::env::var("PRICE_FEED_OVERRIDE") {
        price_refresher.switch_feed(feed, state.prices.clone());
    }
    cache::spawn_session_janitor(state.last_seen.clone(), token.clone());
    let audit_tx = notify::spawn_audit_writer(settings.audit_log.clone());
    let dispatcher = notify::spawn_dispatcher(notify_rx, notifier.clone(), audit_tx, token.clone());

    let dlr_socket = UdpSocket::bind(settings.dlr_addr).await.context("binding the receipt socket")?;
    // ok: detached, but the listener races its receive loop against the token.
    tokio::spawn(notify::run_receipt_listener(dlr_socket, notifier.clone(), token.child_token()));

    let http_listener = TcpListener::bind(settings.http_addr).await?;
    // ok: graceful shutdown on the token; the handle is awaited below.
    let http = tokio::spawn(server::serve_http(http_listener, state.clone(), token.clone()));

    let pos_listener = TcpListener::bind(settings.pos_addr).await?;
    // BUG(loop_without_cancel): `server::run` only returns on an accept error.
    // Ctrl-C cancels `token`, but nothing here races this call against it.
    if let Err(e) = server::run(pos_listener, state.clone()).await {
        error!(error = %e, "POS listener failed");
    }

    info!("shutting down");
    token.cancel();
    shard_tasks.shutdown().await;
    drop(price_refresher);
    drop(sweeper);
    drop(reporter); // joins the reporter thread, which never ends
    dispatcher.await.context("notification dispatcher panicked")?;
    http.await??;
    signals.abort();
    state.outbox.freeze();
    Ok(())
}
