//! Process-wide maps filled with open-ended keys and kept finite without a removal
//! method: emptied with `mem::take`/`mem::replace`/`mem::swap`, replaced wholesale with
//! `*guard = ..`, or grown only inside an `if` on `len()` or on a `limit`/`max`/`cap`
//! name (the opentelemetry cardinality-limit shape). None of them is reported.

use std::collections::{HashMap, HashSet};
use std::mem;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use once_cell::sync::Lazy;
use parking_lot::Mutex as PlMutex;

// ---- emptied by `std::mem` ----------------------------------------------------------

/// Latency samples since the last flush; the metrics flush takes the whole Vec with
/// `mem::take` (rayon-core use_current_thread.rs shape).
static SAMPLES: Mutex<Vec<u64>> = Mutex::new(Vec::new());

pub fn sample(micros: u64) {
    SAMPLES.lock().unwrap().push(micros);
}

pub fn flush_samples() -> Vec<u64> {
    std::mem::take(&mut *SAMPLES.lock().unwrap())
}

/// Cache keys written since the last replication round, swapped out with `mem::replace`.
static DIRTY_KEYS: Lazy<Mutex<HashSet<String>>> = Lazy::new(Default::default);

pub fn mark_dirty(key: &str) {
    DIRTY_KEYS.lock().unwrap().insert(key.to_owned());
}

pub fn dirty_since_last_round() -> HashSet<String> {
    let mut dirty = DIRTY_KEYS.lock().unwrap();
    mem::replace(&mut *dirty, HashSet::with_capacity(1024))
}

/// Click events double-buffered with `mem::swap` (parking_lot lock, no `unwrap`).
static CLICKS: Lazy<PlMutex<Vec<(u64, String)>>> = Lazy::new(Default::default);

pub fn record_click(user: u64, target: String) {
    CLICKS.lock().push((user, target));
}

pub fn swap_out_clicks(buffer: &mut Vec<(u64, String)>) {
    buffer.clear();
    mem::swap(buffer, &mut *CLICKS.lock());
}

// ---- replaced wholesale with `*guard = ..` -------------------------------------------

/// Upstreams per path prefix. The admin API adds routes one by one; a config reload
/// replaces the whole table.
static ROUTES: Lazy<RwLock<HashMap<String, SocketAddr>>> = Lazy::new(Default::default);

pub fn add_route(prefix: &str, upstream: SocketAddr) {
    ROUTES.write().unwrap().insert(prefix.to_owned(), upstream);
}

pub fn reload_routes(table: HashMap<String, SocketAddr>) {
    *ROUTES.write().unwrap() = table;
}

/// Addresses let through the firewall; a feed update assigns through the guard binding.
static ALLOWLIST: Lazy<RwLock<HashSet<IpAddr>>> = Lazy::new(Default::default);

pub fn allow(ip: IpAddr) {
    ALLOWLIST.write().unwrap().insert(ip);
}

pub fn apply_feed(feed: impl IntoIterator<Item = IpAddr>) {
    let fresh: HashSet<IpAddr> = feed.into_iter().collect();
    let mut allowlist = ALLOWLIST.write().unwrap();
    *allowlist = fresh;
}

// ---- grown only under a size guard ---------------------------------------------------

const DEDUP_WINDOW: usize = 100_000;

/// Message ids already delivered. Inserts stop once `len()` reaches the window.
static DELIVERED: Lazy<Mutex<HashSet<u128>>> = Lazy::new(Default::default);

/// Returns false when the message is a duplicate (or the window is full).
pub fn first_delivery(message_id: u128) -> bool {
    let mut delivered = DELIVERED.lock().unwrap();
    if delivered.len() < DEDUP_WINDOW {
        delivered.insert(message_id)
    } else {
        !delivered.contains(&message_id)
    }
}

/// Counter trackers per attribute set, capped by a cardinality limit; the overflow goes
/// to one separate counter (opentelemetry_sdk metrics/internal/mod.rs shape).
static TRACKERS: Lazy<RwLock<HashMap<Vec<(String, String)>, Arc<AtomicU64>>>> = Lazy::new(Default::default);
static SERIES: AtomicUsize = AtomicUsize::new(0);
static OVERFLOW: AtomicU64 = AtomicU64::new(0);
const CARDINALITY_LIMIT: usize = 2000;

fn is_under_cardinality_limit(series: usize) -> bool {
    series < CARDINALITY_LIMIT
}

pub fn add(attributes: &[(String, String)], value: u64) {
    if let Some(tracker) = TRACKERS.read().unwrap().get(attributes) {
        tracker.fetch_add(value, Ordering::Relaxed);
        return;
    }
    let mut trackers = TRACKERS.write().unwrap();
    if let Some(tracker) = trackers.get(attributes) {
        tracker.fetch_add(value, Ordering::Relaxed);
    } else if is_under_cardinality_limit(SERIES.load(Ordering::SeqCst)) {
        trackers.insert(attributes.to_vec(), Arc::new(AtomicU64::new(value)));
        SERIES.fetch_add(1, Ordering::SeqCst);
    } else {
        OVERFLOW.fetch_add(value, Ordering::Relaxed);
    }
}

/// Loaded plugins by name, at most `MAX_PLUGINS`.
static PLUGINS: Lazy<Mutex<HashMap<String, Arc<Plugin>>>> = Lazy::new(Default::default);
static PLUGIN_COUNT: AtomicUsize = AtomicUsize::new(0);
const MAX_PLUGINS: usize = 64;

pub struct Plugin {
    pub name: String,
    pub entry: fn(&[u8]) -> Vec<u8>,
}

pub fn load_plugin(plugin: Plugin) -> Result<(), Plugin> {
    if PLUGIN_COUNT.load(Ordering::Acquire) < MAX_PLUGINS {
        PLUGIN_COUNT.fetch_add(1, Ordering::AcqRel);
        PLUGINS.lock().unwrap().insert(plugin.name.clone(), Arc::new(plugin));
        Ok(())
    } else {
        Err(plugin)
    }
}

/// Rendered thumbnails by image hash, within a byte budget named `*_CAP_*`.
static THUMBNAILS: Lazy<Mutex<HashMap<[u8; 32], Arc<[u8]>>>> = Lazy::new(Default::default);
static THUMBNAIL_BYTES: AtomicUsize = AtomicUsize::new(0);
const THUMBNAIL_CAP_BYTES: usize = 64 << 20;

pub fn keep_thumbnail(hash: [u8; 32], png: Arc<[u8]>) {
    let used = THUMBNAIL_BYTES.load(Ordering::Relaxed);
    if used + png.len() <= THUMBNAIL_CAP_BYTES {
        THUMBNAIL_BYTES.fetch_add(png.len(), Ordering::Relaxed);
        THUMBNAILS.lock().unwrap().insert(hash, png);
    }
}
