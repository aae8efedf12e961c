//! Pools whose elements do hold pointers, but whose reset empties them: the element's
//! `reset` method run by the pool's reset closure or allocator, a `sharded_slab::Clear`
//! impl, the put code, or the take code (`= None`, `.clear()`, `.take()` on the pointer
//! fields). Also the actix-http `MessagePool`, where the `Rc` is the pooled allocation
//! itself and the head it points to owns all its data. Nothing here is reported.

use std::cell::RefCell;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::rc::{Rc, Weak};
use std::sync::{Arc, Mutex};

use http::{Extensions, HeaderMap, Method, Uri, Version};
use lockfree_object_pool::LinearObjectPool;
use once_cell::sync::Lazy;
use opool::PoolAllocator;

// ---- a reset closure that calls the element's `reset` (lockfree_object_pool) ---------

pub struct Route {
    pub prefix: String,
    pub upstream: SocketAddr,
}

/// Per-request routing context of the proxy.
#[derive(Default)]
pub struct RequestCtx {
    pub path: String,
    route: Option<Arc<Route>>,
    fallbacks: Vec<Arc<Route>>,
    on_finish: Option<Box<dyn Fn(u16) + Send + Sync>>,
}

impl RequestCtx {
    /// Runs when the context goes back to the pool: drops every pointer to the routing
    /// table and the caller's callback.
    pub fn reset(&mut self) {
        self.path.clear();
        self.route = None;
        self.fallbacks.clear();
        self.on_finish.take();
    }
}

static CONTEXTS: Lazy<LinearObjectPool<RequestCtx>> =
    Lazy::new(|| LinearObjectPool::new(RequestCtx::default, |ctx| ctx.reset()));

pub fn route(path: &str, table: &[Arc<Route>], on_finish: Box<dyn Fn(u16) + Send + Sync>) -> Option<SocketAddr> {
    let mut ctx = CONTEXTS.pull();
    ctx.path.push_str(path);
    for r in table.iter().filter(|r| path.starts_with(&r.prefix)) {
        match ctx.route {
            None => ctx.route = Some(Arc::clone(r)),
            Some(_) => ctx.fallbacks.push(Arc::clone(r)),
        }
    }
    ctx.on_finish = Some(on_finish);
    ctx.route.as_ref().map(|r| r.upstream)
}

// ---- an opool allocator whose `reset` calls the element's `reset` --------------------

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
    fn reset(&mut self) {
        self.out.clear();
        self.dict = None;
    }
}

pub struct DecoderAllocator;

impl PoolAllocator<Decoder> for DecoderAllocator {
    fn allocate(&self) -> Decoder {
        Decoder::default()
    }

    fn reset(&self, decoder: &mut Decoder) {
        decoder.reset();
    }
}

fn zstd_decode(_dict: &[u8], frame: &[u8], out: &mut Vec<u8>) {
    out.extend_from_slice(frame);
}

pub struct Decompressor {
    decoders: opool::Pool<DecoderAllocator, Decoder>,
}

impl Decompressor {
    pub fn decompress(&self, dict: &Arc<Dictionary>, frame: &[u8]) -> Vec<u8> {
        let mut decoder = self.decoders.get();
        decoder.dict = Some(Arc::clone(dict));
        zstd_decode(&dict.bytes, frame, &mut decoder.out);
        decoder.out.clone()
    }
}

// ---- a `sharded_slab::Clear` impl that empties the links (tracing `DataInner` shape) --

#[derive(Default)]
pub struct InFlight {
    msg_id: u64,
    payload: Vec<u8>,
    acker: Option<Arc<AckTracker>>,
    follows: HashMap<u64, Arc<InFlight>>,
}

pub struct AckTracker {
    pub pending: Mutex<Vec<u64>>,
}

impl sharded_slab::Clear for InFlight {
    fn clear(&mut self) {
        self.payload.clear();
        self.acker = None;
        self.follows.clear();
    }
}

pub struct Outbox {
    in_flight: sharded_slab::Pool<InFlight>,
}

impl Outbox {
    pub fn send(&self, msg_id: u64, payload: &[u8], acker: &Arc<AckTracker>) -> Option<usize> {
        self.in_flight.create_with(|m| {
            m.msg_id = msg_id;
            m.payload.extend_from_slice(payload);
            m.acker = Some(Arc::clone(acker));
        })
    }

    pub fn acked(&self, key: usize) -> bool {
        self.in_flight.clear(key)
    }
}

// ---- the put code empties the tree links (hand-written free list) -------------------

pub struct DomNode {
    pub name: String,
    parent: Option<Weak<RefCell<DomNode>>>,
    children: Vec<Rc<RefCell<DomNode>>>,
}

pub struct DomBuilder {
    free_nodes: RefCell<Vec<DomNode>>,
}

impl DomBuilder {
    pub fn node(&self, name: &str) -> DomNode {
        let mut node = self.free_nodes.borrow_mut().pop().unwrap_or_else(|| DomNode {
            name: String::new(),
            parent: None,
            children: Vec::new(),
        });
        node.name.push_str(name);
        node
    }

    pub fn recycle_node(&self, mut node: DomNode) {
        node.name.clear();
        node.parent = None;
        node.children.clear();
        self.free_nodes.borrow_mut().push(node);
    }
}

// ---- the take code empties the stream pointer (reset on take) ------------------------

pub struct StreamState {
    pub id: u32,
    pub window: i32,
}

#[derive(Default)]
pub struct DataFrame {
    pub data: Vec<u8>,
    stream: Option<Arc<StreamState>>,
}

static FRAME_POOL: Lazy<Mutex<Vec<DataFrame>>> = Lazy::new(|| Mutex::new(Vec::new()));

pub fn frame() -> DataFrame {
    let mut f = FRAME_POOL.lock().unwrap().pop().unwrap_or_default();
    f.stream.take();
    f.data.clear();
    f
}

pub fn frame_for(stream: &Arc<StreamState>) -> DataFrame {
    let mut f = frame();
    f.stream = Some(Arc::clone(stream));
    f
}

pub fn sent(f: DataFrame) {
    FRAME_POOL.lock().unwrap().push(f);
}

// ---- the `Rc` is the pooled allocation, reset on take (actix-http MessagePool) ------

#[derive(Default)]
pub struct RequestHead {
    pub method: Method,
    pub uri: Uri,
    pub version: Version,
    pub headers: HeaderMap,
    pub peer_addr: Option<SocketAddr>,
    extensions: RefCell<Extensions>,
}

impl RequestHead {
    fn clear(&mut self) {
        self.headers.clear();
        self.extensions.get_mut().clear();
    }
}

pub struct Message {
    head: Rc<RequestHead>,
}

pub struct MessagePool(RefCell<Vec<Rc<RequestHead>>>);

thread_local! {
    static REQUEST_POOL: MessagePool = MessagePool(RefCell::new(Vec::with_capacity(128)));
}

impl MessagePool {
    fn get_message(&self) -> Message {
        if let Some(mut msg) = self.0.borrow_mut().pop() {
            // Put in the pool only as the last copy, so it is unique when popped.
            Rc::get_mut(&mut msg).expect("Multiple copies exist").clear();
            Message { head: msg }
        } else {
            Message { head: Rc::new(RequestHead::default()) }
        }
    }

    fn release(&self, msg: Rc<RequestHead>) {
        let pool = &mut self.0.borrow_mut();
        if pool.len() < 128 {
            pool.push(msg);
        }
    }
}

impl Drop for Message {
    fn drop(&mut self) {
        REQUEST_POOL.with(|p| p.release(self.head.clone()));
    }
}

pub fn new_request() -> Message {
    REQUEST_POOL.with(MessagePool::get_message)
}
