//! The settings file: loaded at startup, re-read when it changes.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use anyhow::Context;
use serde::Deserialize;
use tokio::sync::watch;
use tokio::time::sleep;
use tracing::{info, warn};

const POLL_EVERY: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    pub pos_addr: SocketAddr,
    pub http_addr: SocketAddr,
    pub statsd_addr: SocketAddr,
    pub dlr_addr: SocketAddr,
    pub webhook_url: String,
    pub sms_gateway_url: String,
    pub price_feed_url: String,
    pub invoice_dir: PathBuf,
    pub spool_dir: PathBuf,
    pub audit_log: PathBuf,
    #[serde(default = "default_shards")]
    pub shards: usize,
}

fn default_shards() -> usize {
    4
}

pub async fn load(path: &Path) -> anyhow::Result<Settings> {
    let raw = tokio::fs::read(path)
        .await
        .with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_slice(&raw).with_context(|| format!("parsing {}", path.display()))
}

/// Re-reads the settings file whenever its mtime changes and publishes it.
/// Spawned detached from `main`: nothing can stop this loop (see README).
pub async fn watch_forever(path: PathBuf, settings_tx: watch::Sender<Settings>) {
    let mut last_modified: Option<SystemTime> = None;
    loop {
        sleep(POLL_EVERY).await;
        let modified = match tokio::fs::metadata(&path).await.and_then(|m| m.modified()) {
            Ok(modified) => modified,
            Err(e) => {
                warn!(path = %path.display(), error = %e, "cannot stat the settings file");
                continue;
            }
        };
        if last_modified == Some(modified) {
            continue;
        }
        match load(&path).await {
            Ok(settings) => {
                settings_tx.send_replace(settings);
                if last_modified.is_some() {
                    info!(path = %path.display(), "settings reloaded");
                }
                last_modified = Some(modified);
            }
            Err(e) => warn!(error = %e, "ignoring an invalid settings file"),
        }
    }
}
