//! Objects handed back to a pool with their contents still in them, and taken out again
//! without a reset. Every user appends to what it takes (`read_to_end`, `read_line`,
//! `extend_from_slice`, `insert`), so the next user of a recycled object sees, and often
//! forwards, the previous user's data; and a buffer that was once large stays large.
//! None of the elements holds a pointer: these are all plain buffers.

use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::io::{self, BufRead, Read, Write};
use std::ops::{Deref, DerefMut};
use std::sync::{Arc, Mutex};

use bytes::{BufMut, BytesMut};
use crossbeam_queue::{ArrayQueue, SegQueue};
use once_cell::sync::Lazy;

// ---- `Vec<u8>` body buffers of a reverse proxy ---------------------------------------

const MAX_BODY: u64 = 8 << 20;

static BODY_BUF_POOL: Lazy<Mutex<Vec<Vec<u8>>>> = Lazy::new(|| Mutex::new(Vec::new()));

/// `read_to_end` appends: a recycled buffer sends the previous request's body first.
pub fn forward_body(body: &mut impl Read, upstream: &mut impl Write) -> io::Result<u64> {
    let mut buf = BODY_BUF_POOL.lock().unwrap().pop().unwrap_or_else(|| Vec::with_capacity(64 * 1024));
    body.take(MAX_BODY).read_to_end(&mut buf)?;
    upstream.write_all(&buf)?;
    let n = buf.len() as u64;
    BODY_BUF_POOL.lock().unwrap().push(buf); //~ pool_put_without_reset
    Ok(n)
}

// ---- `String` lines of a log shipper ---------------------------------------------------

pub struct LineReader {
    recycled_lines: RefCell<Vec<String>>,
}

impl LineReader {
    /// `read_line` appends to whatever the recycled line still holds.
    pub fn next_line(&self, input: &mut impl BufRead) -> io::Result<Option<String>> {
        let mut line = self.recycled_lines.borrow_mut().pop().unwrap_or_default();
        if input.read_line(&mut line)? == 0 {
            return Ok(None);
        }
        Ok(Some(line))
    }

    pub fn shipped(&self, line: String) {
        self.recycled_lines.borrow_mut().push(line); //~ pool_put_without_reset
    }
}

// ---- an HTTP/2 frame with a `reset` method that nobody calls -------------------------

#[derive(Default)]
pub struct Frame {
    pub stream_id: u32,
    pub kind: u8,
    pub flags: u8,
    pub payload: Vec<u8>,
}

impl Frame {
    pub fn reset(&mut self) {
        self.stream_id = 0;
        self.kind = 0;
        self.flags = 0;
        self.payload.clear();
    }

    fn read_header(&mut self, header: &[u8; 9]) -> usize {
        self.kind = header[3];
        self.flags = header[4];
        self.stream_id = u32::from_be_bytes([header[5] & 0x7f, header[6], header[7], header[8]]);
        u32::from_be_bytes([0, header[0], header[1], header[2]]) as usize
    }
}

pub struct FrameCodec {
    free_frames: SegQueue<Frame>,
}

impl FrameCodec {
    pub fn decode(&self, header: &[u8; 9], body: &[u8]) -> Frame {
        let mut frame = self.free_frames.pop().unwrap_or_default();
        let len = frame.read_header(header);
        frame.payload.extend_from_slice(&body[..len]);
        frame
    }

    /// The frame goes back with its payload: the next DATA frame decoded into it
    /// carries the previous stream's bytes in front of its own.
    pub fn release(&self, frame: Frame) {
        self.free_frames.push(frame); //~ pool_put_without_reset
    }
}

// ---- `BytesMut` encode buffers of a broker shard (bounded `ArrayQueue`) --------------

pub struct Shard {
    recycle: ArrayQueue<BytesMut>,
    /// Shared with the flusher thread, which hands spent batches back.
    flushed_free: Arc<Mutex<Vec<Vec<u8>>>>,
}

impl Shard {
    pub fn encode(&self, topic: &str, payload: &[u8]) -> BytesMut {
        let mut buf = self.recycle.pop().unwrap_or_else(|| BytesMut::with_capacity(4096));
        buf.put_u16(topic.len() as u16);
        buf.put_slice(topic.as_bytes());
        buf.put_u32(payload.len() as u32);
        buf.put_slice(payload);
        buf
    }

    pub fn written(&self, buf: BytesMut) {
        // A full queue hands the buffer back and it is dropped, which is fine.
        let _ = self.recycle.push(buf); //~ pool_put_without_reset
    }

    pub fn batch_buffer(&self) -> Vec<u8> {
        self.flushed_free.lock().unwrap().pop().unwrap_or_default()
    }

    /// After a flush the whole batch of buffers goes back at once, none of them emptied.
    pub fn flushed(&self, spent: &mut Vec<Vec<u8>>) {
        self.flushed_free.lock().unwrap().append(spent); //~ pool_put_without_reset
    }
}

// ---- a wrapper whose `Drop` puts the buffer back as it is ----------------------------

pub struct BufferPool {
    free: Mutex<Vec<Vec<u8>>>,
    buf_size: usize,
}

pub struct PooledBuf {
    buf: Vec<u8>,
    pool: Arc<BufferPool>,
}

impl BufferPool {
    pub fn get(self: &Arc<Self>) -> PooledBuf {
        let buf = self.free.lock().unwrap().pop().unwrap_or_else(|| Vec::with_capacity(self.buf_size));
        PooledBuf { buf, pool: Arc::clone(self) }
    }
}

impl Deref for PooledBuf {
    type Target = Vec<u8>;

    fn deref(&self) -> &Vec<u8> {
        &self.buf
    }
}

impl DerefMut for PooledBuf {
    fn deref_mut(&mut self) -> &mut Vec<u8> {
        &mut self.buf
    }
}

impl Drop for PooledBuf {
    /// `mem::take` empties the wrapper, not the buffer it hands back.
    fn drop(&mut self) {
        let buf = std::mem::take(&mut self.buf);
        self.pool.free.lock().unwrap().push(buf); //~ pool_put_without_reset
    }
}

// ---- header maps in a `VecDeque`, with a capped put that only shrinks ----------------

const MAX_POOLED_MAPS: usize = 256;

static HEADER_MAP_POOL: Lazy<Mutex<VecDeque<HashMap<String, String>>>> = Lazy::new(Default::default);

pub fn parse_headers(raw: &str) -> HashMap<String, String> {
    let mut map = HEADER_MAP_POOL.lock().unwrap().pop_front().unwrap_or_default();
    for line in raw.lines() {
        if let Some((name, value)) = line.split_once(':') {
            map.insert(name.trim().to_ascii_lowercase(), value.trim().to_owned());
        }
    }
    map
}

/// Capping the pool and shrinking the map bound memory, but the previous request's
/// headers (cookies, `authorization`) are still in the map the next request gets.
pub fn release_headers(mut map: HashMap<String, String>) {
    map.shrink_to(32);
    let mut pool = HEADER_MAP_POOL.lock().unwrap();
    if pool.len() < MAX_POOLED_MAPS {
        pool.push_back(map); //~ pool_put_without_reset
    }
}

// ---- `object_pool`: a detached buffer re-attached as it is ---------------------------

pub struct Renderer {
    buffers: object_pool::Pool<Vec<u8>>,
}

impl Renderer {
    pub fn render(&self, template: &str, vars: &HashMap<&str, &str>) -> String {
        let (_, mut buf) = self.buffers.pull(Vec::new).detach();
        for part in template.split("{{") {
            match part.split_once("}}") {
                Some((var, rest)) => {
                    buf.extend_from_slice(vars.get(var.trim()).copied().unwrap_or("").as_bytes());
                    buf.extend_from_slice(rest.as_bytes());
                }
                None => buf.extend_from_slice(part.as_bytes()),
            }
        }
        let out = String::from_utf8_lossy(&buf).into_owned();
        self.buffers.attach(buf); //~ pool_put_without_reset
        out
    }
}
