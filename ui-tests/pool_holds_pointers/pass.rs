//! Pools whose elements hold nothing that keeps other objects alive, or that are out of
//! the lint's scope: `&'static` fields (the tracing-subscriber `DataInner` shape), a
//! generic element (regex-automata), an integer free list (crossbeam `sharded_lock`),
//! a `Copy` descriptor, and connection pools (sqlx, deadpool, bb8, r2d2 and a
//! hand-written pool of `*Conn*`). Every put resets the element, so
//! `pool_put_without_reset` is quiet here too.

use std::collections::{HashMap, VecDeque};
use std::net::TcpStream;
use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Instant;

use once_cell::sync::Lazy;
use tracing_core::callsite::Callsite;
use tracing_core::metadata::Kind;
use tracing_core::{span::Id, subscriber::Interest, Level, Metadata};

// ---- `&'static` metadata in a sharded_slab pool (tracing-subscriber registry) --------

#[derive(Default)]
struct ExtensionsInner {
    map: HashMap<std::any::TypeId, Box<dyn std::any::Any + Send + Sync>>,
}

/// The slot of a span in the registry. `metadata` is `&'static`: it points at a
/// callsite's static metadata and keeps nothing alive.
struct DataInner {
    metadata: &'static Metadata<'static>,
    parent: Option<Id>,
    ref_count: AtomicUsize,
    extensions: RwLock<ExtensionsInner>,
}

struct NullCallsite;

impl Callsite for NullCallsite {
    fn set_interest(&self, _: Interest) {
        unreachable!("the null callsite never registers")
    }

    fn metadata(&self) -> &Metadata<'_> {
        &NULL_METADATA
    }
}

static NULL_CALLSITE: NullCallsite = NullCallsite;
static NULL_METADATA: Metadata<'static> = tracing_core::metadata! {
    name: "", target: "", level: Level::TRACE, fields: &[], callsite: &NULL_CALLSITE, kind: Kind::SPAN,
};

impl Default for DataInner {
    fn default() -> Self {
        Self {
            metadata: &NULL_METADATA,
            parent: None,
            ref_count: AtomicUsize::new(0),
            extensions: RwLock::new(ExtensionsInner::default()),
        }
    }
}

impl sharded_slab::Clear for DataInner {
    fn clear(&mut self) {
        self.parent = None;
        self.extensions.get_mut().unwrap_or_else(|l| l.into_inner()).map.clear();
    }
}

pub struct Registry {
    spans: sharded_slab::Pool<DataInner>,
}

impl Registry {
    pub fn new_span(&self, metadata: &'static Metadata<'static>, parent: Option<Id>) -> Option<usize> {
        self.spans.create_with(|data| {
            data.metadata = metadata;
            data.parent = parent;
        })
    }

    pub fn close(&self, idx: usize) -> bool {
        self.spans.clear(idx)
    }
}

// ---- `&'static str` fields in a hand-written static pool of log records --------------

pub struct LogRecord {
    pub target: &'static str,
    pub level: u8,
    pub message: String,
}

static FREE_RECORDS: Mutex<Vec<LogRecord>> = Mutex::new(Vec::new());

pub fn record(target: &'static str, level: u8, args: std::fmt::Arguments<'_>) -> LogRecord {
    use std::fmt::Write;
    let mut rec = FREE_RECORDS.lock().unwrap().pop().unwrap_or(LogRecord { target, level, message: String::new() });
    rec.target = target;
    rec.level = level;
    let _ = rec.message.write_fmt(args);
    rec
}

pub fn recycle_record(mut rec: LogRecord) {
    rec.message.clear();
    FREE_RECORDS.lock().unwrap().push(rec);
}

// ---- a generic element (regex-automata pool shape) ------------------------------------

pub trait Reset {
    fn reset(&mut self);
}

/// A pool of search caches for any `T`; the pool cannot know what `T` points to.
pub struct CachePool<T> {
    stack: Mutex<Vec<Box<T>>>,
    create: Box<dyn Fn() -> T + Send + Sync>,
}

impl<T: Reset> CachePool<T> {
    pub fn get(&self) -> Box<T> {
        self.stack.lock().unwrap().pop().unwrap_or_else(|| Box::new((self.create)()))
    }

    pub fn put(&self, mut value: Box<T>) {
        value.reset();
        self.stack.lock().unwrap().push(value);
    }
}

// ---- an integer free list (crossbeam-utils sharded_lock thread indices) --------------

static FREE_INDICES: Lazy<Mutex<Vec<usize>>> = Lazy::new(|| Mutex::new(Vec::new()));
static NEXT_INDEX: AtomicUsize = AtomicUsize::new(0);

pub fn register_thread() -> usize {
    FREE_INDICES.lock().unwrap().pop().unwrap_or_else(|| NEXT_INDEX.fetch_add(1, std::sync::atomic::Ordering::Relaxed))
}

pub fn unregister_thread(index: usize) {
    FREE_INDICES.lock().unwrap().push(index);
}

// ---- a `Copy` DMA descriptor: the raw pointer is an address, not an owner ------------

#[derive(Clone, Copy)]
pub struct IoDesc {
    addr: *mut u8,
    len: u32,
    flags: u16,
}

pub struct DmaRing {
    free_descs: Mutex<Vec<IoDesc>>,
}

impl DmaRing {
    pub fn acquire(&self) -> Option<IoDesc> {
        self.free_descs.lock().unwrap().pop()
    }

    pub fn complete(&self, mut desc: IoDesc) {
        desc.len = 0;
        desc.flags = 0;
        self.free_descs.lock().unwrap().push(desc);
    }
}

// ---- connection pools are out of scope ------------------------------------------------

pub struct UpstreamConn {
    pub stream: TcpStream,
    pub tls: Arc<rustls::ClientConfig>,
    pub read_buf: Vec<u8>,
    pub idle_since: Instant,
}

/// Keep-alive connections per upstream; each holds the shared TLS config.
pub struct UpstreamPool {
    idle: Mutex<VecDeque<UpstreamConn>>,
}

impl UpstreamPool {
    pub fn checkout(&self) -> Option<UpstreamConn> {
        self.idle.lock().unwrap().pop_front()
    }

    pub fn checkin(&self, mut conn: UpstreamConn) {
        conn.read_buf.clear();
        conn.idle_since = Instant::now();
        self.idle.lock().unwrap().push_back(conn);
    }
}

/// The database and cache pools of the service.
pub struct Pools {
    pub pg: sqlx::PgPool,
    pub redis: deadpool_redis::Pool,
    pub sessions: bb8::Pool<bb8_redis::RedisConnectionManager>,
    pub legacy: r2d2::Pool<r2d2_postgres::PostgresConnectionManager<postgres::NoTls>>,
}
