//! Broker message types. Nothing here is a pool; the pools live in lib.rs and
//! recycler.rs.

use std::sync::{Arc, Mutex};

use bytes::BytesMut;

/// A client's reply inbox: its writer half and the replies queued for it.
pub struct Inbox {
    pub client_id: u64,
    pub queued: Mutex<Vec<BytesMut>>,
}

/// A published message. `reply_to` points at the publisher's inbox for request/reply.
#[derive(Default)]
pub struct Message {
    pub topic: String,
    pub payload: BytesMut,
    pub headers: Vec<(String, String)>,
    pub reply_to: Option<Arc<Inbox>>,
}

impl Message {
    /// Empties the message's own buffers for reuse. `reply_to` is not touched, so a
    /// recycled message keeps the last publisher's inbox alive.
    pub fn reset(&mut self) {
        self.topic.clear();
        self.payload.clear();
        self.headers.clear();
    }
}

/// One encoded frame on its way to a subscriber's socket.
#[derive(Default)]
pub struct Outbound {
    pub client_id: u64,
    pub frame: BytesMut,
    pub on_written: Option<Box<dyn FnMut(usize) + Send>>,
}

impl Outbound {
    pub fn complete(&mut self, n: usize) {
        if let Some(cb) = self.on_written.as_mut() {
            cb(n);
        }
    }
}

/// The name the write path uses for an outbound frame.
pub type Delivery = Outbound;
