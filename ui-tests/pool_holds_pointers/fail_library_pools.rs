//! Pools from the object-pool crates (`object_pool`, `lockfree_object_pool`,
//! `sharded_slab`, `opool`) whose element type has a pointer field that the pool's reset
//! leaves in place. These pools return an element by themselves when its guard drops,
//! and they run a reset hook (a reset closure, a `Clear` impl, an allocator `reset`),
//! but each hook below only empties the element's own data: the `Arc`/`Weak`/boxed
//! closure stays, and the idle element keeps its target alive.

use std::collections::HashMap;
use std::io;
use std::net::IpAddr;
use std::sync::{Arc, Weak};

use lockfree_object_pool::{LinearObjectPool, MutexObjectPool};
use once_cell::sync::Lazy;
use opool::PoolAllocator;
use tokio::sync::Notify;

// ---- object_pool: request envelopes in a broker (`Option<Arc<..>>`) ------------------

/// A client's reply inbox: its socket writer and up to 1 MiB of queued replies.
pub struct Inbox {
    pub client_id: u64,
    pub queued: std::sync::Mutex<Vec<Vec<u8>>>,
}

#[derive(Default)]
pub struct Envelope {
    pub body: Vec<u8>,
    pub headers: HashMap<String, String>,
    reply_to: Option<Arc<Inbox>>,
}

impl Envelope {
    fn fill(&mut self, body: &[u8], reply_to: &Arc<Inbox>) {
        self.body.clear();
        self.headers.clear();
        self.body.extend_from_slice(body);
        self.reply_to = Some(Arc::clone(reply_to));
    }
}

/// Envelopes go back to the pool when their `Reusable` drops, still holding `reply_to`:
/// a disconnected client's inbox stays allocated until its envelope is reused.
pub struct Dispatcher {
    envelopes: object_pool::Pool<Envelope>, //~ pool_holds_pointers
}

impl Dispatcher {
    pub fn new() -> Self {
        Self { envelopes: object_pool::Pool::new(1024, Envelope::default) }
    }

    pub fn request(&self, body: &[u8], reply_to: &Arc<Inbox>, send: impl Fn(&Envelope)) {
        let mut env = self.envelopes.pull(Envelope::default);
        env.fill(body, reply_to);
        send(&env);
    }
}

// ---- lockfree_object_pool behind a type alias (`Option<Box<dyn FnMut>>`) ------------

#[derive(Default)]
pub struct WriteOp {
    pub fd: i32,
    pub data: Vec<u8>,
    on_complete: Option<Box<dyn FnMut(io::Result<usize>) + Send>>,
}

impl WriteOp {
    fn prepare(&mut self, fd: i32, bytes: &[u8], done: impl FnMut(io::Result<usize>) + Send + 'static) {
        self.fd = fd;
        self.data.extend_from_slice(bytes);
        self.on_complete = Some(Box::new(done));
    }
}

/// What the I/O driver calls a queued write.
pub type PendingWrite = WriteOp;

/// The reset closure empties `data` but not `on_complete`, whose closure owns the
/// caller's response future state.
static WRITE_OPS: Lazy<LinearObjectPool<PendingWrite>> = //~ pool_holds_pointers
    Lazy::new(|| LinearObjectPool::new(PendingWrite::default, |op| op.data.clear()));

pub fn submit_write(fd: i32, bytes: &[u8], done: impl FnMut(io::Result<usize>) + Send + 'static) {
    let mut op = WRITE_OPS.pull();
    op.prepare(fd, bytes, done);
    let n = write_now(op.fd, &op.data);
    if let Some(cb) = op.on_complete.as_mut() {
        cb(n);
    }
}

fn write_now(_fd: i32, data: &[u8]) -> io::Result<usize> {
    Ok(data.len())
}

// ---- lockfree_object_pool::MutexObjectPool as a field (`Vec<Weak<..>>`) --------------

#[derive(Default)]
pub struct Lookup {
    pub name: String,
    pub answers: Vec<IpAddr>,
    waiters: Vec<Weak<Notify>>,
}

/// The resolver's in-flight lookups. `waiters` is never emptied by the reset closure,
/// so it keeps growing across reuses, and every parked lookup pins the notifiers of
/// the callers it once served.
pub struct Resolver {
    lookups: MutexObjectPool<Lookup>, //~ pool_holds_pointers
}

impl Resolver {
    pub fn new() -> Self {
        let lookups = MutexObjectPool::new(Lookup::default, |l| {
            l.name.clear();
            l.answers.clear();
        });
        Self { lookups }
    }

    pub async fn resolve(&self, name: &str, notify: &Arc<Notify>) -> Vec<IpAddr> {
        let mut lookup = self.lookups.pull();
        lookup.name.push_str(name);
        lookup.waiters.push(Arc::downgrade(notify));
        notify.notified().await;
        lookup.answers.clone()
    }
}

// ---- sharded_slab::Pool with a `Clear` impl that keeps the links (`HashMap<_, Arc>`) ---

#[derive(Default)]
pub struct SpanRecord {
    name: String,
    fields: Vec<(&'static str, String)>,
    follows_from: HashMap<u64, Arc<SpanRecord>>,
}

impl sharded_slab::Clear for SpanRecord {
    /// Empties the span's own strings; the `follows_from` links survive, so a cleared
    /// slot keeps whole chains of finished spans alive.
    fn clear(&mut self) {
        self.name.clear();
        self.fields.clear();
    }
}

pub struct SpanStore {
    spans: sharded_slab::Pool<SpanRecord>, //~ pool_holds_pointers
}

impl SpanStore {
    pub fn open(&self, name: &str, links: &[(u64, Arc<SpanRecord>)]) -> Option<usize> {
        self.spans.create_with(|span| {
            span.name.push_str(name);
            span.follows_from.extend(links.iter().cloned());
        })
    }

    pub fn close(&self, key: usize) -> bool {
        self.spans.clear(key)
    }
}

// ---- opool::Pool whose allocator's `reset` keeps a per-tenant dictionary -------------

/// A trained zstd dictionary, several MiB each, one per tenant.
pub struct Dictionary {
    pub tenant: String,
    pub bytes: Vec<u8>,
}

#[derive(Default)]
pub struct Decoder {
    out: Vec<u8>,
    dict: Option<Arc<Dictionary>>,
}

impl Decoder {
    fn load(&mut self, dict: &Arc<Dictionary>) {
        self.dict = Some(Arc::clone(dict));
    }
}

pub struct DecoderAllocator;

impl PoolAllocator<Decoder> for DecoderAllocator {
    fn allocate(&self) -> Decoder {
        Decoder::default()
    }

    fn reset(&self, decoder: &mut Decoder) {
        decoder.out.clear();
    }
}

/// Idle decoders keep the dictionary of the last tenant they served: a deleted
/// tenant's dictionary lives on in the pool.
pub struct Decompressor {
    decoders: opool::Pool<DecoderAllocator, Decoder>, //~ pool_holds_pointers
}

impl Decompressor {
    pub fn new() -> Self {
        Self { decoders: opool::Pool::new(64, DecoderAllocator) }
    }

    pub fn decompress(&self, dict: &Arc<Dictionary>, frame: &[u8]) -> Vec<u8> {
        let mut decoder = self.decoders.get();
        decoder.load(dict);
        decoder.out.extend_from_slice(frame);
        decoder.out.clone()
    }
}
