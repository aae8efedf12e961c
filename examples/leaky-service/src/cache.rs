//! Caches and time-limited state: customer contacts, stock holds, POS
//! sessions and the price table.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use anyhow::Context;
use dashmap::DashMap;
use once_cell::sync::Lazy;
use tokio::sync::RwLock;
use tokio::task::JoinHandle;
use tokio::time::sleep;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use crate::OrderId;

const HOLD_FOR: Duration = Duration::from_secs(15 * 60);
const SESSION_IDLE: Duration = Duration::from_secs(10 * 60);

// BUG(unbounded_static_map): phone numbers of every customer ever seen;
// nothing removes entries.
static CUSTOMER_PHONES: Lazy<Mutex<HashMap<u64, String>>> = Lazy::new(|| Mutex::new(HashMap::new()));

pub fn remember_phone(customer_id: u64, phone: String) {
    let mut phones = CUSTOMER_PHONES.lock().unwrap_or_else(PoisonError::into_inner);
    phones.insert(customer_id, phone);
}

pub fn phone_of(customer_id: u64) -> Option<String> {
    CUSTOMER_PHONES.lock().unwrap_or_else(PoisonError::into_inner).get(&customer_id).cloned()
}

/// Stock held for POS orders until their shard confirms them.
#[derive(Debug, Clone, Default)]
pub struct Reservations {
    holds: Arc<DashMap<OrderId, Instant>>,
}

impl Reservations {
    pub fn hold(&self, order_id: OrderId) {
        self.holds.insert(order_id, Instant::now());
        let holds = Arc::clone(&self.holds);
        // BUG(sleep_as_timeout): one detached timer per order that lives
        // for 15 minutes even when the hold is confirmed a second later.
        tokio::spawn(async move {
            sleep(HOLD_FOR).await;
            if holds.remove(&order_id).is_some() {
                info!(order_id, "stock hold expired");
            }
        });
    }

    pub fn confirm(&self, order_id: OrderId) {
        if let Some((_, since)) = self.holds.remove(&order_id) {
            debug!(order_id, held_for = ?since.elapsed(), "stock hold confirmed");
        }
    }
}

/// Forgets POS terminals that have been idle for `SESSION_IDLE`.
pub fn spawn_session_janitor(last_seen: Arc<DashMap<String, Instant>>, token: CancellationToken) {
    // ok: detached, but selects on `token.cancelled()` and breaks.
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        loop {
            tokio::select! {
                _ = token.cancelled() => break,
                _ = tick.tick() => last_seen.retain(|_, seen| seen.elapsed() < SESSION_IDLE),
            }
        }
        debug!("session janitor stopped");
    });
}

/// Keeps the price table fresh until dropped.
pub struct PriceRefresher {
    handle: JoinHandle<()>,
    client: reqwest::Client,
}

impl PriceRefresher {
    pub fn start(feed_url: String, prices: Arc<RwLock<HashMap<String, u64>>>) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()
            .context("building the price feed client")?;
        // ok: the handle is kept in the struct and aborted in `Drop`.
        let handle = tokio::spawn(refresh_prices(client.clone(), feed_url, prices));
        Ok(PriceRefresher { handle, client })
    }

    /// Points the refresher at another feed (after a config reload).
    pub fn switch_feed(&mut self, feed_url: String, prices: Arc<RwLock<HashMap<String, u64>>>) {
        // BUG(duplicate_task_start, pedantic): the old refresher is never
        // aborted; after a reload two tasks overwrite the price table.
        self.handle = tokio::spawn(refresh_prices(self.client.clone(), feed_url, prices));
    }
}

async fn refresh_prices(client: reqwest::Client, feed_url: String, prices: Arc<RwLock<HashMap<String, u64>>>) {
    let mut tick = tokio::time::interval(Duration::from_secs(30));
    loop {
        tick.tick().await;
        match fetch_prices(&client, &feed_url).await {
            Ok(table) => *prices.write().await = table,
            Err(e) => warn!(error = %e, "price refresh failed, keeping the old table"),
        }
    }
}

impl Drop for PriceRefresher {
    fn drop(&mut self) {
        self.handle.abort();
    }
}

async fn fetch_prices(client: &reqwest::Client, url: &str) -> anyhow::Result<HashMap<String, u64>> {
    let resp = client.get(url).send().await?.error_for_status()?;
    Ok(resp.json().await?)
}
