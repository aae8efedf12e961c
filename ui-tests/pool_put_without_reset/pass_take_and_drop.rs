//! Puts with no reset in the putting function that are still fine: the take side resets
//! between `pop()` and hand-out, the wrapper's `Drop` resets before it puts back, the
//! actix-http response-head pool resets field by field on take and caps the put at 128,
//! `sharded_slab` resets through `clear(key)`, an integer free list has nothing to
//! reset, and `lockfree_object_pool` runs its reset closure on return. None of them is
//! reported.

use std::cell::RefCell;
use std::io::{self, BufRead};
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use bytes::{BufMut, BytesMut};
use http::{Extensions, HeaderMap, StatusCode, Version};
use lockfree_object_pool::LinearObjectPool;
use once_cell::sync::Lazy;

// ---- reset on take ----------------------------------------------------------------

pub struct LineReader {
    recycled_lines: RefCell<Vec<String>>,
}

impl LineReader {
    pub fn next_line(&self, input: &mut impl BufRead) -> io::Result<Option<String>> {
        let mut line = match self.recycled_lines.borrow_mut().pop() {
            Some(mut line) => {
                line.clear();
                line
            }
            None => String::with_capacity(256),
        };
        if input.read_line(&mut line)? == 0 {
            return Ok(None);
        }
        Ok(Some(line))
    }

    pub fn shipped(&self, line: String) {
        self.recycled_lines.borrow_mut().push(line);
    }
}

// ---- reset in the wrapper's `Drop` --------------------------------------------------

pub struct BufferPool {
    free: Mutex<Vec<BytesMut>>,
    buf_size: usize,
}

pub struct PooledBuf {
    buf: BytesMut,
    pool: Arc<BufferPool>,
}

impl BufferPool {
    pub fn get(self: &Arc<Self>) -> PooledBuf {
        let buf = self.free.lock().unwrap().pop().unwrap_or_else(|| BytesMut::with_capacity(self.buf_size));
        PooledBuf { buf, pool: Arc::clone(self) }
    }
}

impl Deref for PooledBuf {
    type Target = BytesMut;

    fn deref(&self) -> &BytesMut {
        &self.buf
    }
}

impl DerefMut for PooledBuf {
    fn deref_mut(&mut self) -> &mut BytesMut {
        &mut self.buf
    }
}

impl Drop for PooledBuf {
    fn drop(&mut self) {
        self.buf.clear();
        let buf = std::mem::take(&mut self.buf);
        self.pool.free.lock().unwrap().push(buf);
    }
}

pub fn encode_ping(pool: &Arc<BufferPool>, seq: u64) -> Vec<u8> {
    let mut buf = pool.get();
    buf.put_u8(0x09);
    buf.put_u64(seq);
    buf.to_vec()
}

// ---- field by field on take, capped put (actix-http `BoxedResponsePool`) -----------

pub struct ResponseHead {
    pub version: Version,
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub reason: Option<&'static str>,
    pub(crate) extensions: RefCell<Extensions>,
    flags: u8,
}

impl ResponseHead {
    fn new(status: StatusCode) -> Self {
        Self {
            version: Version::HTTP_11,
            status,
            headers: HeaderMap::with_capacity(12),
            reason: None,
            extensions: RefCell::new(Extensions::new()),
            flags: 0,
        }
    }
}

pub struct BoxedResponseHead {
    head: Option<Box<ResponseHead>>,
}

pub struct BoxedResponsePool(RefCell<Vec<Box<ResponseHead>>>);

thread_local! {
    static RESPONSE_POOL: BoxedResponsePool = BoxedResponsePool(RefCell::new(Vec::with_capacity(128)));
}

impl BoxedResponsePool {
    fn get_message(&self, status: StatusCode) -> BoxedResponseHead {
        if let Some(mut head) = self.0.borrow_mut().pop() {
            head.reason = None;
            head.status = status;
            head.headers.clear();
            head.flags = 0;
            BoxedResponseHead { head: Some(head) }
        } else {
            BoxedResponseHead { head: Some(Box::new(ResponseHead::new(status))) }
        }
    }

    fn release(&self, mut msg: Box<ResponseHead>) {
        let pool = &mut self.0.borrow_mut();
        if pool.len() < 128 {
            msg.extensions.get_mut().clear();
            pool.push(msg);
        }
    }
}

impl Drop for BoxedResponseHead {
    fn drop(&mut self) {
        if let Some(head) = self.head.take() {
            RESPONSE_POOL.with(move |p| p.release(head))
        }
    }
}

pub fn response(status: StatusCode) -> BoxedResponseHead {
    RESPONSE_POOL.with(|p| p.get_message(status))
}

// ---- `sharded_slab`: `clear(key)` resets the slot ------------------------------------

#[derive(Default)]
pub struct Session {
    pub user_id: u64,
    pub scratch: Vec<u8>,
}

impl sharded_slab::Clear for Session {
    fn clear(&mut self) {
        self.user_id = 0;
        self.scratch.clear();
    }
}

pub struct Sessions {
    slots: sharded_slab::Pool<Session>,
}

impl Sessions {
    pub fn open(&self, user_id: u64) -> Option<usize> {
        self.slots.create_with(|s| s.user_id = user_id)
    }

    pub fn close(&self, key: usize) -> bool {
        self.slots.clear(key)
    }
}

// ---- an integer free list (crossbeam-utils `sharded_lock` thread indices) -------------

static FREE_SHARD_INDICES: Lazy<Mutex<Vec<usize>>> = Lazy::new(|| Mutex::new(Vec::new()));
static NEXT_SHARD_INDEX: AtomicUsize = AtomicUsize::new(0);

pub fn claim_index() -> usize {
    FREE_SHARD_INDICES.lock().unwrap().pop().unwrap_or_else(|| NEXT_SHARD_INDEX.fetch_add(1, Ordering::Relaxed))
}

pub fn release_index(index: usize) {
    FREE_SHARD_INDICES.lock().unwrap().push(index);
}

// ---- `lockfree_object_pool`: the reset closure runs when the guard drops ------------

static SCRATCH: Lazy<LinearObjectPool<Vec<u8>>> =
    Lazy::new(|| LinearObjectPool::new(|| Vec::with_capacity(4096), |buf| buf.clear()));

pub fn checksum(chunks: &[&[u8]]) -> u32 {
    let mut buf = SCRATCH.pull();
    for chunk in chunks {
        buf.extend_from_slice(chunk);
    }
    buf.iter().fold(0u32, |sum, &b| sum.rotate_left(5) ^ u32::from(b))
}
