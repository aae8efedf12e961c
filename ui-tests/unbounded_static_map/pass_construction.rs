//! Process-wide collections that are bounded by construction: every key is drawn from a
//! finite set (literals, consts, enum variants, `TypeId`, `type_name`, `&'static`
//! callsites), the static is immutable after initialisation, or the cache has a bound
//! (`LruCache::new(cap)`, moka with `max_capacity`/TTL, quick_cache, mini_moka,
//! `SizedCache`, `#[cached(size/time)]`). Also out of scope: a map in a struct field and
//! test code. None of them is reported.

use std::any::{Any, TypeId};
use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::num::NonZeroUsize;
use std::os::raw::c_int;
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::Duration;

use cached::proc_macro::cached;
use cached::{Cached, SizedCache};
use lru::LruCache;
use memoize::memoize;
use once_cell::sync::Lazy;

// ---- finite key domains ---------------------------------------------------------------

/// ex_data indexes per Rust type (openssl ssl/mod.rs shape): one entry per `T` used.
static SSL_INDEXES: Lazy<Mutex<HashMap<TypeId, c_int>>> = Lazy::new(|| Mutex::new(HashMap::new()));

fn new_ex_index() -> c_int {
    static NEXT: std::sync::atomic::AtomicI32 = std::sync::atomic::AtomicI32::new(1);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

pub fn cached_ex_index<T: 'static + Send + Sync>() -> c_int {
    *SSL_INDEXES.lock().unwrap_or_else(|e| e.into_inner()).entry(TypeId::of::<T>()).or_insert_with(new_ex_index)
}

pub trait Callsite: Sync {
    fn name(&self) -> &'static str;
}

/// Every callsite ever hit (tracing-core callsite.rs shape): callsites are `&'static`
/// items of the program, so the Vec cannot outgrow the binary.
static LOCKED_CALLSITES: Lazy<Mutex<Vec<&'static dyn Callsite>>> = Lazy::new(Default::default);

pub fn register_callsite(callsite: &'static dyn Callsite) {
    LOCKED_CALLSITES.lock().unwrap().push(callsite);
}

type Decoder = fn(&[u8]) -> Option<Box<dyn Any + Send>>;

/// Wire decoders by Rust type name: one per registered type.
static DECODERS: Lazy<RwLock<HashMap<&'static str, Decoder>>> = Lazy::new(Default::default);

pub fn register_decoder<T: serde::de::DeserializeOwned + Send + 'static>() {
    fn decode<T: serde::de::DeserializeOwned + Send + 'static>(bytes: &[u8]) -> Option<Box<dyn Any + Send>> {
        serde_json::from_slice::<T>(bytes).ok().map(|v| Box::new(v) as Box<dyn Any + Send>)
    }
    DECODERS.write().unwrap().insert(std::any::type_name::<T>(), decode::<T>);
}

pub type Compressor = fn(&[u8]) -> Vec<u8>;

/// Content encodings, registered at start-up under literal names.
static ENCODINGS: Lazy<RwLock<HashMap<&'static str, Compressor>>> = Lazy::new(Default::default);

pub fn register_builtin_encodings(gzip: Compressor, brotli: Compressor, zstd: Compressor) {
    let mut encodings = ENCODINGS.write().unwrap();
    encodings.insert("gzip", gzip);
    encodings.insert("br", brotli);
    encodings.insert("zstd", zstd);
}

const DEFAULT_TENANT: &str = "default";
const INTERNAL_TENANT: &str = "internal";

/// Rate budgets for the two built-in tenants, keyed by consts.
static BUILTIN_BUDGETS: Mutex<BTreeMap<&'static str, u32>> = Mutex::new(BTreeMap::new());

pub fn set_builtin_budgets(default_rpm: u32, internal_rpm: u32) {
    let mut budgets = BUILTIN_BUDGETS.lock().unwrap();
    budgets.insert(DEFAULT_TENANT, default_rpm);
    budgets.insert(INTERNAL_TENANT, internal_rpm);
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Protocol {
    Http1,
    Http2,
    Other,
}

/// Handshake count and total latency per negotiated protocol: keys are enum variant paths.
static HANDSHAKES: Lazy<Mutex<HashMap<Protocol, (u64, Duration)>>> = Lazy::new(Default::default);

pub fn record_handshake(alpn: Option<&[u8]>, took: Duration) {
    let mut handshakes = HANDSHAKES.lock().unwrap();
    let slot = match alpn {
        Some(b"h2") => handshakes.entry(Protocol::Http2),
        Some(b"http/1.1") | None => handshakes.entry(Protocol::Http1),
        Some(_) => handshakes.entry(Protocol::Other),
    };
    let (count, total) = slot.or_default();
    *count += 1;
    *total += took;
}

// ---- immutable after initialisation -------------------------------------------------------

const OID_NAMES: &[(&str, &str)] =
    &[("2.5.4.3", "commonName"), ("2.5.4.6", "countryName"), ("2.5.4.10", "organizationName")];

/// OID -> name (x509-parser objects.rs shape): inserts only inside the initialiser, and
/// the static has no lock, so nothing can add to it later.
static OID_REGISTRY: Lazy<HashMap<String, &'static str>> = Lazy::new(|| {
    let mut registry = HashMap::new();
    for (oid, name) in OID_NAMES {
        registry.insert(oid.to_string(), *name);
    }
    registry
});

pub fn oid_name(oid: &str) -> Option<&'static str> {
    OID_REGISTRY.get(oid).copied()
}

/// Column positions of the CSV header, built once from the first line. A `OnceLock`
/// alone is not interior mutability: the map cannot change after `get_or_init`.
static COLUMNS: OnceLock<HashMap<String, usize>> = OnceLock::new();

pub fn column(header_line: &str, name: &str) -> Option<usize> {
    let columns = COLUMNS.get_or_init(|| {
        let mut columns = HashMap::new();
        for (i, field) in header_line.split(',').enumerate() {
            columns.insert(field.trim().to_owned(), i);
        }
        columns
    });
    columns.get(name).copied()
}

// ---- bounded caches -------------------------------------------------------------------------

/// Rendered templates, at most 512 (`LruCache::new(cap)` evicts the least recent).
static TEMPLATES: Lazy<Mutex<LruCache<String, Arc<str>>>> =
    Lazy::new(|| Mutex::new(LruCache::new(NonZeroUsize::new(512).expect("non-zero"))));

pub fn rendered(name: &str, render: impl FnOnce() -> Arc<str>) -> Arc<str> {
    Arc::clone(TEMPLATES.lock().unwrap().get_or_insert(name.to_owned(), render))
}

/// Token introspection results: moka with a size bound and a TTL.
static INTROSPECTION: Lazy<moka::sync::Cache<String, Arc<serde_json::Value>>> =
    Lazy::new(|| moka::sync::Cache::builder().max_capacity(50_000).time_to_live(Duration::from_secs(300)).build());

/// Avatars by user id: `Cache::new(cap)`.
static AVATARS: Lazy<moka::sync::Cache<u64, Arc<[u8]>>> = Lazy::new(|| moka::sync::Cache::new(10_000));

/// Password-reset nonces: no size bound, but every entry expires after 15 idle minutes.
static RESET_NONCES: Lazy<moka::sync::Cache<String, u64>> =
    Lazy::new(|| moka::sync::Cache::builder().time_to_idle(Duration::from_secs(900)).build());

/// Compiled feature-flag rules (quick_cache) and ETags (mini_moka), both sized.
static FLAG_RULES: Lazy<quick_cache::sync::Cache<String, Arc<str>>> =
    Lazy::new(|| quick_cache::sync::Cache::new(4_096));
static ETAGS: Lazy<mini_moka::sync::Cache<String, String>> = Lazy::new(|| mini_moka::sync::Cache::new(20_000));

/// Shard owner per key prefix: `cached::SizedCache` behind a lock.
static SHARD_OWNERS: Lazy<Mutex<SizedCache<String, SocketAddr>>> =
    Lazy::new(|| Mutex::new(SizedCache::with_size(2_048)));

pub fn cache_introspection(token: &str, claims: serde_json::Value) {
    INTROSPECTION.insert(token.to_owned(), Arc::new(claims));
}

pub fn cache_avatar(user: u64, png: Arc<[u8]>) {
    AVATARS.insert(user, png);
}

pub fn issue_reset_nonce(nonce: &str, user: u64) {
    RESET_NONCES.insert(nonce.to_owned(), user);
}

pub fn compile_flag_rule(source: &str) -> Arc<str> {
    let compiled: Arc<str> = Arc::from(source.trim().to_ascii_lowercase());
    FLAG_RULES.insert(source.to_owned(), Arc::clone(&compiled));
    compiled
}

pub fn remember_etag(path: &str, etag: String) {
    ETAGS.insert(path.to_owned(), etag);
}

pub fn remember_shard_owner(prefix: &str, owner: SocketAddr) {
    SHARD_OWNERS.lock().unwrap().cache_set(prefix.to_owned(), owner);
}

/// Memoised with a size bound and with a time bound.
#[cached(size = 1024)]
fn permissions_of(role: String) -> Vec<String> {
    role.split('+').map(str::to_owned).collect()
}

#[cached(time = 300)]
fn exchange_rate(currency: String) -> Option<f64> {
    rates_api::fetch(&currency).ok()
}

/// `memoize` spells its bound `Capacity`.
#[memoize(Capacity: 512)]
fn slug(title: String) -> String {
    title.to_lowercase().split_whitespace().collect::<Vec<_>>().join("-")
}

pub fn describe(role: &str, currency: &str, title: &str) -> String {
    format!("{:?} {:?} {}", permissions_of(role.to_owned()), exchange_rate(currency.to_owned()), slug(title.to_owned()))
}

// ---- never in scope -----------------------------------------------------------------------

/// A struct field map that only grows is the owner's business: it goes away with the
/// tracker, so struct fields are never in scope.
#[derive(Default)]
pub struct ConnectionTracker {
    by_peer: Mutex<HashMap<SocketAddr, u32>>,
}

impl ConnectionTracker {
    pub fn connected(&self, peer: SocketAddr) -> u32 {
        let mut by_peer = self.by_peer.lock().unwrap();
        let count = by_peer.entry(peer).or_insert(0);
        *count += 1;
        *count
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Test-only recorder: lints are off in test code.
    static SEEN: Mutex<Vec<String>> = Mutex::new(Vec::new());

    fn record(event: &str) {
        SEEN.lock().unwrap().push(event.to_owned());
    }

    #[test]
    fn records_every_connection() {
        static PEERS: Lazy<Mutex<HashMap<SocketAddr, String>>> = Lazy::new(Default::default);
        let tracker = ConnectionTracker::default();
        for port in 1000..1010 {
            let peer: SocketAddr = ([127, 0, 0, 1], port).into();
            tracker.connected(peer);
            PEERS.lock().unwrap().insert(peer, format!("peer-{port}"));
            record(&format!("connected {peer}"));
        }
        assert_eq!(SEEN.lock().unwrap().len(), 10);
    }
}
