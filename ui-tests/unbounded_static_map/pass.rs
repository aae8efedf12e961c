//! Process-wide maps that grow with request data but are bounded by a removal method.
//! Each static is filled with open-ended keys; what keeps it finite is a `remove*`/
//! `retain`/`clear`/`drain`/`pop*`/`truncate`/`split_off`/`take`/`evict*`/`extract_if`
//! call on it, or a lookup-guarded removal that still counts because it sits in `Drop`
//! or in a fn named `unregister`/`close`. None of them is reported.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, LazyLock, Mutex, RwLock};
use std::time::{Duration, Instant};

use dashmap::DashSet;
use indexmap::IndexMap;
use once_cell::sync::Lazy;

/// In-flight requests by id: inserted on start, removed on finish.
static IN_FLIGHT: Lazy<Mutex<HashMap<u64, Instant>>> = Lazy::new(Default::default);

pub fn request_started(id: u64) {
    IN_FLIGHT.lock().unwrap().insert(id, Instant::now());
}

pub fn request_finished(id: u64) -> Option<Duration> {
    IN_FLIGHT.lock().unwrap().remove(&id).map(|started| started.elapsed())
}

/// Last request time per client for the rate limiter, swept with `retain`.
static LAST_SEEN: LazyLock<RwLock<HashMap<IpAddr, Instant>>> = LazyLock::new(Default::default);

pub fn touch(ip: IpAddr) {
    LAST_SEEN.write().unwrap().insert(ip, Instant::now());
}

pub fn sweep_idle_clients(idle: Duration) {
    let mut seen = LAST_SEEN.write().unwrap();
    seen.retain(|_, at| at.elapsed() < idle);
}

/// API tokens a tenant revoked, checked on every call; also `shift_remove`d when a
/// token is re-enabled (`IndexMap` keeps revocation order for the admin page).
static REVOKED: Lazy<RwLock<IndexMap<String, Instant>>> = Lazy::new(Default::default);

pub fn revoke_token(token: &str) {
    REVOKED.write().unwrap().insert(token.to_owned(), Instant::now());
}

pub fn reenable_token(token: &str) {
    REVOKED.write().unwrap().shift_remove(token);
}

thread_local! {
    /// Ids already written in the current batch, per worker; cleared after each batch.
    static WRITTEN_IN_BATCH: std::cell::RefCell<HashSet<u64>> = Default::default();
}

pub fn write_once(id: u64, write: impl FnOnce()) {
    if WRITTEN_IN_BATCH.with_borrow_mut(|ids| ids.insert(id)) {
        write();
    }
}

pub fn finish_batch() {
    WRITTEN_IN_BATCH.with(|ids| ids.borrow_mut().clear());
}

/// Log lines waiting for the shipper, which `drain`s them on every flush.
static LOG_BUFFER: Mutex<Vec<String>> = Mutex::new(Vec::new());

pub fn log_line(line: String) {
    LOG_BUFFER.lock().unwrap().push(line);
}

pub fn ship_logs(mut send: impl FnMut(&str)) {
    for line in LOG_BUFFER.lock().unwrap().drain(..) {
        send(&line);
    }
}

/// Retry deadlines, fired by `pop`.
static RETRIES: Lazy<Mutex<BinaryHeap<Reverse<(Instant, u64)>>>> = Lazy::new(Default::default);

pub fn schedule_retry(job: u64, delay: Duration) {
    RETRIES.lock().unwrap().push(Reverse((Instant::now() + delay, job)));
}

pub fn due_retries(now: Instant) -> Vec<u64> {
    let mut heap = RETRIES.lock().unwrap();
    let mut due = Vec::new();
    while heap.peek().is_some_and(|Reverse((at, _))| *at <= now) {
        if let Some(Reverse((_, job))) = heap.pop() {
            due.push(job);
        }
    }
    due
}

/// Recent admin actions, newest first, cut back to 50 with `truncate`.
static AUDIT: Mutex<VecDeque<String>> = Mutex::new(VecDeque::new());

pub fn audit(action: String) {
    let mut audit = AUDIT.lock().unwrap();
    audit.push_front(action);
    audit.truncate(50);
}

/// Outgoing notifications, shipped in batches cut off the tail with `split_off`.
static OUTBOX: Mutex<Vec<String>> = Mutex::new(Vec::new());

pub fn enqueue_notification(body: String) {
    OUTBOX.lock().unwrap().push(body);
}

pub fn next_batch(size: usize) -> Vec<String> {
    let mut outbox = OUTBOX.lock().unwrap();
    let at = outbox.len().saturating_sub(size);
    outbox.split_off(at)
}

/// Uploads held for malware scanning; the scanner `take`s each one out of the set.
static QUARANTINE: Lazy<Mutex<HashSet<String>>> = Lazy::new(Default::default);

pub fn quarantine(upload_id: &str) {
    QUARANTINE.lock().unwrap().insert(upload_id.to_owned());
}

pub fn release(upload_id: &str) -> Option<String> {
    QUARANTINE.lock().unwrap().take(upload_id)
}

/// Geo lookups per address, with a crate-local `evict_older_than` extension method.
static GEO: Lazy<Mutex<HashMap<IpAddr, (Instant, String)>>> = Lazy::new(Default::default);

trait EvictOlderThan {
    fn evict_older_than(&mut self, age: Duration);
}

impl EvictOlderThan for HashMap<IpAddr, (Instant, String)> {
    fn evict_older_than(&mut self, age: Duration) {
        self.retain(|_, (at, _)| at.elapsed() < age);
    }
}

pub fn remember_country(ip: IpAddr, country: String) {
    let mut geo = GEO.lock().unwrap();
    geo.insert(ip, (Instant::now(), country));
    geo.evict_older_than(Duration::from_secs(3600));
}

/// Finished jobs are taken out with hashbrown's `extract_if`.
static JOBS: Lazy<Mutex<hashbrown::HashMap<u64, JobState>>> = Lazy::new(Default::default);

#[derive(PartialEq, Eq)]
pub enum JobState {
    Running,
    Done,
}

pub fn start_job(id: u64) {
    JOBS.lock().unwrap().insert(id, JobState::Running);
}

pub fn reap_finished() -> Vec<u64> {
    JOBS.lock().unwrap().extract_if(|_, state| *state == JobState::Done).map(|(id, _)| id).collect()
}

/// A token cache with lazy expiry on re-lookup *and* a periodic sweep: the sweep is a
/// removal that no lookup guards, so the map is bounded.
static SESSION_TOKENS: Lazy<Mutex<HashMap<String, Instant>>> = Lazy::new(Default::default);

pub fn store_session_token(token: &str, ttl: Duration) {
    SESSION_TOKENS.lock().unwrap().insert(token.to_owned(), Instant::now() + ttl);
}

pub fn session_token_valid(token: &str) -> bool {
    let mut tokens = SESSION_TOKENS.lock().unwrap();
    if let Some(expires_at) = tokens.get(token) {
        if *expires_at > Instant::now() {
            return true;
        }
        tokens.remove(token);
    }
    false
}

pub fn sweep_session_tokens() {
    let now = Instant::now();
    SESSION_TOKENS.lock().unwrap().retain(|_, expires_at| *expires_at > now);
}

/// Named locks held by clients. A lease removes its entry in `Drop` only if it still
/// owns it; a removal in `Drop` always counts, even behind a lookup of the same key.
static LEASES: Lazy<Mutex<HashMap<String, u64>>> = Lazy::new(Default::default);

pub struct Lease {
    name: String,
    owner: u64,
}

pub fn acquire(name: &str, owner: u64) -> Option<Lease> {
    let mut leases = LEASES.lock().unwrap();
    if leases.contains_key(name) {
        return None;
    }
    leases.insert(name.to_owned(), owner);
    Some(Lease { name: name.to_owned(), owner })
}

impl Drop for Lease {
    fn drop(&mut self) {
        let mut leases = LEASES.lock().unwrap();
        if let Some(owner) = leases.get(&self.name) {
            if *owner == self.owner {
                leases.remove(&self.name);
            }
        }
    }
}

/// Event handlers by name: `unregister` removes behind a lookup, which always counts.
static HANDLERS: Lazy<RwLock<HashMap<String, Arc<dyn Fn(&str) + Send + Sync>>>> = Lazy::new(Default::default);

pub fn register(name: &str, handler: Arc<dyn Fn(&str) + Send + Sync>) {
    HANDLERS.write().unwrap().insert(name.to_owned(), handler);
}

pub fn unregister(name: &str, handler: &Arc<dyn Fn(&str) + Send + Sync>) {
    let mut handlers = HANDLERS.write().unwrap();
    if let Some(current) = handlers.get(name) {
        if Arc::ptr_eq(current, handler) {
            handlers.remove(name);
        }
    }
}

/// Connected peers; `close` drops the peer behind a `contains` lookup, which counts.
static PEERS: Lazy<DashSet<SocketAddr>> = Lazy::new(DashSet::new);

pub fn open(peer: SocketAddr) {
    PEERS.insert(peer);
}

pub fn close(peer: SocketAddr) {
    if PEERS.contains(&peer) {
        PEERS.remove(&peer);
    }
}
