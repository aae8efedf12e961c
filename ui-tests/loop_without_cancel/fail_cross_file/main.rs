//! A feed aggregator binary. The endless loops live in other files and are reached
//! through calls: main -> app::run -> Server::serve (server.rs), and a kept poller
//! thread -> Source::poll_loop (source.rs).

mod app;
mod metrics;
mod poller;
mod server;
mod source;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

pub struct Config {
    pub listen: SocketAddr,
    pub feed_url: String,
    pub poll_every: Duration,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt::init();
    let cfg = Config {
        listen: std::env::var("LISTEN")?.parse()?,
        feed_url: std::env::var("FEED_URL")?,
        poll_every: Duration::from_secs(30),
    };
    let registry = Arc::new(metrics::Registry::default());

    // lint 2 reports this detached task (its loop is in metrics.rs); lint 1 stays
    // silent on that loop: one finding per bug.
    tokio::spawn(metrics::flush_forever(Arc::clone(&registry))); //~ spawn_without_cancel

    // A kept OS thread (see poller.rs); its loop is reported in source.rs.
    let poller = poller::Poller::start(&cfg.feed_url, cfg.poll_every, Arc::clone(&registry));

    app::run(cfg, poller.latest(), registry).await?;
    drop(poller);
    Ok(())
}
