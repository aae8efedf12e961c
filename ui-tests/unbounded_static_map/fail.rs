//! Process-wide caches and registries that only ever grow, one finding per static: a
//! `static mut` Vec, a static inside a `cfg_if!` branch, a static declared in a fn body,
//! a map behind a type alias, a lazily-expired token cache, unbounded `lru`/`moka`
//! caches, and `#[cached]`/`#[memoize]` fns with no size or time bound. Every insert key
//! below comes from a request, a counter or a user, never from a finite set.

use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, ToSocketAddrs};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};

use cached::proc_macro::cached;
use dashmap::DashMap;
use lru::LruCache;
use memoize::memoize;
use once_cell::sync::Lazy;
use regex::Regex;
use rustc_hash::FxHashMap;
use serde_json::Value;

// ---- `static mut` -----------------------------------------------------------------

/// Slow queries for the `/debug/slow` page. Every slow query appends a line; the debug
/// page only reads them.
static mut SLOW_QUERIES: Vec<String> = Vec::new(); //~ unbounded_static_map

pub fn record_slow_query(sql: &str, took: Duration) {
    let line = format!("{:>6} ms  {sql}", took.as_millis());
    // SAFETY: only the single database thread calls this.
    unsafe { SLOW_QUERIES.push(line) };
}

pub fn slow_query_report() -> String {
    // SAFETY: see `record_slow_query`.
    unsafe { SLOW_QUERIES.join("\n") }
}

// ---- a static inside a `cfg_if!` branch (wasm-bindgen intern.rs shape) ------------

cfg_if::cfg_if! {
    if #[cfg(feature = "tls-resumption")] {
        /// Serialized TLS sessions per server name, for resumption. Outbound hosts come
        /// from user-supplied webhook URLs, so the key set is whatever users type.
        static TLS_SESSIONS: Lazy<Mutex<HashMap<String, Vec<u8>>>> = Lazy::new(Default::default); //~ unbounded_static_map

        pub fn store_tls_session(server_name: &str, ticket: Vec<u8>) {
            TLS_SESSIONS.lock().unwrap().insert(server_name.to_owned(), ticket);
        }

        pub fn tls_session(server_name: &str) -> Option<Vec<u8>> {
            TLS_SESSIONS.lock().unwrap().get(server_name).cloned()
        }
    } else {
        pub fn store_tls_session(_server_name: &str, _ticket: Vec<u8>) {}

        pub fn tls_session(_server_name: &str) -> Option<Vec<u8>> {
            None
        }
    }
}

// ---- a static declared inside a fn body ---------------------------------------------

/// Compiles a tenant-supplied rewrite rule, memoised in a fn-local static. Tenants edit
/// their rules at will, so every edit leaves one more compiled pattern behind.
pub fn compiled_rule(pattern: &str) -> Result<Arc<Regex>, regex::Error> {
    static COMPILED: LazyLock<Mutex<HashMap<String, Arc<Regex>>>> = LazyLock::new(Default::default); //~ unbounded_static_map
    let mut compiled = COMPILED.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(re) = compiled.get(pattern) {
        return Ok(Arc::clone(re));
    }
    let re = Arc::new(Regex::new(pattern)?);
    compiled.insert(pattern.to_owned(), Arc::clone(&re));
    Ok(re)
}

// ---- an `FxHashMap` behind a crate-local type alias ---------------------------------

pub struct Subscriber {
    pub topic: String,
    pub callback_url: String,
}

/// Live webhook subscriptions by id.
type Registry = Mutex<FxHashMap<u64, Arc<Subscriber>>>;

static NEXT_SUBSCRIPTION: AtomicU64 = AtomicU64::new(1);

/// Nothing unsubscribes: a client that re-subscribes on every reconnect adds one more
/// entry each time.
static SUBSCRIBERS: Lazy<Registry> = Lazy::new(|| Mutex::new(FxHashMap::default())); //~ unbounded_static_map

pub fn subscribe(topic: &str, callback_url: &str) -> u64 {
    let id = NEXT_SUBSCRIPTION.fetch_add(1, Ordering::Relaxed);
    let subscriber = Arc::new(Subscriber { topic: topic.to_owned(), callback_url: callback_url.to_owned() });
    SUBSCRIBERS.lock().unwrap().insert(id, subscriber);
    id
}

pub fn subscribers_of(topic: &str) -> Vec<Arc<Subscriber>> {
    SUBSCRIBERS.lock().unwrap().values().filter(|s| s.topic == topic).cloned().collect()
}

// ---- lazy expiry on re-lookup does not bound the map --------------------------------

struct CachedToken {
    value: String,
    expires_at: Instant,
}

/// OAuth access tokens per user. The only removal sits in the branch that just looked up
/// the same user: a token goes away only when its user asks again after it expired, so
/// users who never come back stay forever.
static TOKENS: Lazy<RwLock<HashMap<String, CachedToken>>> = Lazy::new(Default::default); //~ unbounded_static_map

pub fn store_token(user: &str, value: String, ttl: Duration) {
    let token = CachedToken { value, expires_at: Instant::now() + ttl };
    TOKENS.write().unwrap().insert(user.to_owned(), token);
}

pub fn cached_token(user: &str) -> Option<String> {
    let mut tokens = TOKENS.write().unwrap();
    if let Some(token) = tokens.get(user) {
        if token.expires_at <= Instant::now() {
            tokens.remove(user);
            return None;
        }
        return Some(token.value.clone());
    }
    None
}

// ---- a ring buffer that nobody pops -----------------------------------------------

/// Meant as "the last few errors" for the health page, but nothing pops the front.
static RECENT_ERRORS: Mutex<VecDeque<String>> = Mutex::new(VecDeque::new()); //~ unbounded_static_map

pub fn note_error(context: &str, err: &dyn std::error::Error) {
    RECENT_ERRORS.lock().unwrap().push_back(format!("{context}: {err}"));
}

// ---- `DashMap` keyed by client address --------------------------------------------

/// First time each client address was seen, for the abuse heuristics. IPv6 clients
/// rotate addresses freely.
static FIRST_SEEN: Lazy<DashMap<IpAddr, Instant>> = Lazy::new(DashMap::new); //~ unbounded_static_map

pub fn first_seen(ip: IpAddr) -> Instant {
    *FIRST_SEEN.entry(ip).or_insert_with(Instant::now)
}

// ---- unbounded caches ---------------------------------------------------------------

/// Resolved addresses per webhook host. `LruCache::unbounded()` never evicts, so the
/// "LRU" is a plain map.
static DNS_CACHE: Lazy<Mutex<LruCache<String, Vec<IpAddr>>>> = Lazy::new(|| Mutex::new(LruCache::unbounded())); //~ unbounded_static_map

pub fn resolve(host: &str) -> Vec<IpAddr> {
    let mut cache = DNS_CACHE.lock().unwrap();
    let addrs = cache.get_or_insert(host.to_owned(), || match (host, 443).to_socket_addrs() {
        Ok(addrs) => addrs.map(|a| a.ip()).collect(),
        Err(err) => {
            tracing::warn!(host, error = %err, "webhook host did not resolve");
            Vec::new()
        }
    });
    addrs.clone()
}

/// Parsed JSON schemas per tenant-supplied `$id`. The builder names the cache and sizes
/// its initial table, but sets no `max_capacity`, weigher, `time_to_live` or
/// `time_to_idle`: moka then never evicts (`initial_capacity` is not a bound).
static SCHEMAS: Lazy<moka::sync::Cache<String, Arc<Value>>> = //~ unbounded_static_map
    Lazy::new(|| moka::sync::Cache::builder().name("json-schemas").initial_capacity(256).build());

pub fn register_schema(schema: Value) -> Option<String> {
    let id = schema.get("$id")?.as_str()?.to_owned();
    SCHEMAS.insert(id.clone(), Arc::new(schema));
    Some(id)
}

/// Country of a client address. `#[cached]` with no `size` or `time` stores results in
/// an `UnboundCache`: one entry per distinct client address, forever.
#[cached] //~ unbounded_static_map
fn country_of(ip: IpAddr) -> Option<String> {
    geoip2_lookup::country_iso_code(ip)
}

/// Canonical form of a request path for routing. `#[memoize]` with no `Capacity` or
/// `TimeToLive` keeps every distinct path a client ever sent.
#[memoize] //~ unbounded_static_map
fn canonical_path(path: String) -> String {
    let mut out = String::with_capacity(path.len());
    for segment in path.split('/').filter(|s| !s.is_empty() && *s != ".") {
        out.push('/');
        out.push_str(&segment.to_ascii_lowercase());
    }
    if out.is_empty() {
        out.push('/');
    }
    out
}

pub fn route_key(ip: IpAddr, path: &str) -> String {
    let country = country_of(ip).unwrap_or_else(|| "--".to_owned());
    format!("{country}:{}", canonical_path(path.to_owned()))
}
