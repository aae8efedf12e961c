//! A metrics relay binary that shuts down cleanly. main owns a token cancelled by
//! ctrl-c/SIGTERM; every loop it starts or awaits (in the other files) either leaves on
//! a cancellation source, checks a stop flag, or is raced against the token by main.

mod admin;
mod ingest;
mod poller;
mod relay;
mod replication;
mod signals;

use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

pub struct Config {
    pub ingest_addr: SocketAddr,
    pub admin_addr: SocketAddr,
    pub metrics_addr: SocketAddr,
    pub upstream: SocketAddr,
    pub peers: Vec<SocketAddr>,
    pub poll_every: Duration,
}

impl Config {
    fn from_env() -> anyhow::Result<Self> {
        let addr = |key: &str| -> anyhow::Result<SocketAddr> { Ok(std::env::var(key)?.parse()?) };
        Ok(Self {
            ingest_addr: addr("INGEST_ADDR")?,
            admin_addr: addr("ADMIN_ADDR")?,
            metrics_addr: addr("METRICS_ADDR")?,
            upstream: addr("UPSTREAM")?,
            peers: Vec::new(),
            poll_every: Duration::from_secs(15),
        })
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt::init();
    let cfg = Config::from_env()?;
    let token = CancellationToken::new();
    let tracker = TaskTracker::new();

    // Kept (awaited at the end): cancels the token on ctrl-c or SIGTERM.
    let signals = tokio::spawn(signals::cancel_on_signal(token.clone()));

    // Kept OS thread; its loop (poller.rs) breaks once `stop()` sets the flag.
    let poller = poller::Poller::start(cfg.poll_every);

    // Tracked tasks; each loop leaves on its cancellation source:
    // replication.rs -> `token.cancelled() => break`,
    // relay.rs -> `&mut sig => break`, `samples.closed() => return`,
    // and the sample consumer breaks on the token (dropping its receiver, which in turn
    // closes the producer's channel).
    tracker.spawn(replication::replicate(cfg.peers.clone(), token.clone()));
    let (stop_relay, relay_sig) = oneshot::channel();
    tracker.spawn(relay::pump(cfg.upstream, relay_sig));
    let (samples_tx, samples_rx) = mpsc::channel(256);
    tracker.spawn(relay::produce_samples(samples_tx));
    tracker.spawn(relay::consume_samples(samples_rx, token.clone()));

    // Kept tasks: axum with `with_graceful_shutdown`, and a hyper-util server whose
    // accept loop breaks on the token (admin.rs).
    let admin_listener = TcpListener::bind(cfg.admin_addr).await?;
    let admin = tokio::spawn(admin::serve_admin(admin_listener, token.clone()));
    let metrics_listener = TcpListener::bind(cfg.metrics_addr).await?;
    let metrics = tokio::spawn(admin::serve_metrics(metrics_listener, token.clone()));

    // main's own work: the ingest accept loop (ingest.rs) has no exit of its own, but
    // main races it against the token with `run_until_cancelled`.
    let listener = TcpListener::bind(cfg.ingest_addr).await?;
    match token.run_until_cancelled(ingest::serve(listener)).await {
        Some(Err(err)) => tracing::error!(error = %err, "ingest server failed"),
        _ => tracing::info!("shutdown requested"),
    }

    token.cancel();
    let _ = stop_relay.send(());
    tracker.close();
    tracker.wait().await;
    poller.stop();
    admin.await??;
    metrics.await?;
    signals.await?;
    Ok(())
}
