//! Objects reset before they go back to their pool, in the same function as the put:
//! `clear()`, a crate type's `reset()`, `truncate(0)`, `fill(0)`, field by field,
//! `*x = Default::default()`, `x = T::default()`, a crate-local `recycle` helper, and a
//! pool type whose own `put` method clears what its callers hand it. Nothing here is
//! reported.

use std::io::{self, Read, Write};
use std::sync::{Arc, Mutex};

use crossbeam_queue::{ArrayQueue, SegQueue};
use once_cell::sync::Lazy;

// ---- `clear()` --------------------------------------------------------------------

static BODY_BUF_POOL: Lazy<Mutex<Vec<Vec<u8>>>> = Lazy::new(|| Mutex::new(Vec::new()));

pub fn forward_body(body: &mut impl Read, upstream: &mut impl Write) -> io::Result<u64> {
    let mut buf = BODY_BUF_POOL.lock().unwrap().pop().unwrap_or_else(|| Vec::with_capacity(64 * 1024));
    body.take(8 << 20).read_to_end(&mut buf)?;
    upstream.write_all(&buf)?;
    let n = buf.len() as u64;
    buf.clear();
    BODY_BUF_POOL.lock().unwrap().push(buf);
    Ok(n)
}

// ---- a crate type's `reset()` ----------------------------------------------------------

#[derive(Default)]
pub struct Frame {
    pub stream_id: u32,
    pub kind: u8,
    pub payload: Vec<u8>,
}

impl Frame {
    pub fn reset(&mut self) {
        self.stream_id = 0;
        self.kind = 0;
        self.payload.clear();
    }
}

pub struct FrameCodec {
    free_frames: SegQueue<Frame>,
}

impl FrameCodec {
    pub fn decode(&self, stream_id: u32, kind: u8, body: &[u8]) -> Frame {
        let mut frame = self.free_frames.pop().unwrap_or_default();
        frame.stream_id = stream_id;
        frame.kind = kind;
        frame.payload.extend_from_slice(body);
        frame
    }

    pub fn release(&self, mut frame: Frame) {
        frame.reset();
        self.free_frames.push(frame);
    }
}

// ---- `truncate(0)` on log lines -----------------------------------------------------

static RECYCLED_LINES: Mutex<Vec<String>> = Mutex::new(Vec::new());

pub fn format_line(level: &str, msg: &str) -> String {
    let mut line = RECYCLED_LINES.lock().unwrap().pop().unwrap_or_default();
    line.push_str(level);
    line.push(' ');
    line.push_str(msg);
    line
}

pub fn shipped(mut line: String) {
    line.truncate(0);
    RECYCLED_LINES.lock().unwrap().push(line);
}

// ---- `fill(0)`: key scratch blocks are zeroed, not just forgotten -----------------------

pub struct CipherScratch {
    free_blocks: ArrayQueue<Box<[u8; 4096]>>,
}

impl CipherScratch {
    pub fn block(&self) -> Box<[u8; 4096]> {
        self.free_blocks.pop().unwrap_or_else(|| Box::new([0; 4096]))
    }

    pub fn done(&self, mut block: Box<[u8; 4096]>) {
        block.fill(0);
        let _ = self.free_blocks.push(block);
    }
}

// ---- field by field ---------------------------------------------------------------------

pub struct Batch {
    pub first_seq: u64,
    pub len: usize,
    pub items: Vec<Vec<u8>>,
}

pub struct BatchRecycler {
    spare: Mutex<Vec<Batch>>,
}

impl BatchRecycler {
    pub fn take(&self, first_seq: u64) -> Batch {
        let mut batch = self.spare.lock().unwrap().pop().unwrap_or(Batch { first_seq, len: 0, items: Vec::new() });
        batch.first_seq = first_seq;
        batch
    }

    pub fn flushed(&self, mut batch: Batch) {
        batch.len = 0;
        batch.items.clear();
        self.spare.lock().unwrap().push(batch);
    }
}

// ---- `*x = Default::default()` and `x = T::default()` -----------------------------

#[derive(Default)]
pub struct RequestStats {
    pub bytes_in: u64,
    pub bytes_out: u64,
    pub status_counts: [u32; 6],
}

static FREE_STATS: Mutex<Vec<Box<RequestStats>>> = Mutex::new(Vec::new());

pub fn stats() -> Box<RequestStats> {
    FREE_STATS.lock().unwrap().pop().unwrap_or_default()
}

pub fn report(mut stats: Box<RequestStats>, totals: &mut RequestStats) {
    totals.bytes_in += stats.bytes_in;
    totals.bytes_out += stats.bytes_out;
    *stats = Default::default();
    FREE_STATS.lock().unwrap().push(stats);
}

/// Scan cursors are recycled between scans; overwriting the whole value is the reset.
#[derive(Default)]
pub struct ScanCursor {
    pub shard: u32,
    pub offset: u64,
    pub exhausted: bool,
}

static FREE_CURSORS: Mutex<Vec<ScanCursor>> = Mutex::new(Vec::new());

pub fn cursor() -> ScanCursor {
    FREE_CURSORS.lock().unwrap().pop().unwrap_or_default()
}

pub fn finish_scan(mut cursor: ScanCursor) -> u64 {
    let scanned = cursor.offset;
    cursor = ScanCursor::default();
    FREE_CURSORS.lock().unwrap().push(cursor);
    scanned
}

// ---- a crate-local `recycle` helper --------------------------------------------------

const MAX_KEPT_CAPACITY: usize = 256 * 1024;

static READ_BUF_POOL: Lazy<Mutex<Vec<Vec<u8>>>> = Lazy::new(|| Mutex::new(Vec::new()));

/// Empties a buffer and gives back the memory of an oversized one.
fn recycle(buf: &mut Vec<u8>) {
    buf.clear();
    buf.shrink_to(MAX_KEPT_CAPACITY);
}

pub fn read_frame(src: &mut impl Read, len: usize) -> io::Result<Vec<u8>> {
    let mut buf = READ_BUF_POOL.lock().unwrap().pop().unwrap_or_default();
    buf.resize(len, 0);
    src.read_exact(&mut buf)?;
    Ok(buf)
}

pub fn frame_done(mut buf: Vec<u8>) {
    recycle(&mut buf);
    READ_BUF_POOL.lock().unwrap().push(buf);
}

// ---- a pool type whose `put` clears, called from elsewhere -------------------------

pub struct StringPool {
    free: Mutex<Vec<String>>,
}

impl StringPool {
    pub fn get(&self) -> String {
        self.free.lock().unwrap().pop().unwrap_or_default()
    }

    pub fn put(&self, mut s: String) {
        s.clear();
        self.free.lock().unwrap().push(s);
    }
}

pub fn render_key(pool: &Arc<StringPool>, tenant: &str, id: u64) -> u64 {
    let mut key = pool.get();
    key.push_str(tenant);
    key.push(':');
    key.push_str(&id.to_string());
    let hash = key.bytes().fold(0u64, |h, b| h.wrapping_mul(31).wrapping_add(b as u64));
    pool.put(key);
    hash
}

// ---- `object_pool`: a detached buffer cleared before it is re-attached -------------

pub struct Renderer {
    buffers: object_pool::Pool<Vec<u8>>,
}

impl Renderer {
    pub fn render(&self, greeting: &str, name: &str) -> String {
        let (_, mut buf) = self.buffers.pull(Vec::new).detach();
        buf.clear();
        write!(buf, "{greeting}, {name}!").expect("writing to a Vec cannot fail");
        let out = String::from_utf8_lossy(&buf).into_owned();
        buf.clear();
        self.buffers.attach(buf);
        out
    }
}
