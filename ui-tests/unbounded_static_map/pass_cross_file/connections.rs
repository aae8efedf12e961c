//! Everything that adds to the broker tables. Nothing here removes; see janitor.rs and
//! handle.rs.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Instant;

use tokio::sync::mpsc;

use crate::handle::ConnHandle;
use crate::registry::{self, ConnId, ConnInfo, CONNECTIONS, OUTBOX, PENDING_ACKS, RENDERED, ROUTE_TABLE};

static NEXT_CONN: AtomicU64 = AtomicU64::new(1);
static NEXT_MESSAGE: AtomicU64 = AtomicU64::new(1);

/// A subscriber's delivery queue.
#[derive(Clone)]
pub struct Watcher {
    pub conn: ConnId,
    pub tx: mpsc::Sender<Arc<[u8]>>,
}

impl Watcher {
    pub fn is_gone(&self) -> bool {
        self.tx.is_closed()
    }
}

/// A message on its way to one connection.
#[derive(Debug, Clone)]
pub struct Envelope {
    pub id: u64,
    pub to: ConnId,
    pub body: Arc<[u8]>,
}

pub fn connect(peer: SocketAddr, client_name: &str) -> ConnHandle {
    let id = ConnId(NEXT_CONN.fetch_add(1, Ordering::Relaxed));
    let info = ConnInfo { peer, client_name: client_name.to_owned(), connected_at: Instant::now() };
    CONNECTIONS.insert(id, info);
    ConnHandle::new(id)
}

/// Subscribes through the accessor in registry.rs.
pub fn subscribe(topic: &str, watcher: Watcher) {
    registry::watchers().lock().unwrap().entry(topic.to_owned()).or_default().push(watcher);
}

/// Adds a route through the `get_or_init` binding.
pub fn route(topic: &str, conn: ConnId) {
    let table = ROUTE_TABLE.get_or_init(|| RwLock::new(HashMap::new()));
    table.write().unwrap().insert(topic.to_owned(), conn);
}

/// Queues a message and starts its ack timer.
pub fn publish(to: ConnId, body: Arc<[u8]>) -> u64 {
    let id = NEXT_MESSAGE.fetch_add(1, Ordering::Relaxed);
    PENDING_ACKS.lock().unwrap().insert(id, Instant::now());
    OUTBOX.lock().unwrap().push(Envelope { id, to, body });
    id
}

/// Renders a topic page, memoised for the rest of the request on this thread.
pub fn render_topic(topic: &str) -> Rc<str> {
    RENDERED.with_borrow_mut(|rendered| {
        let page = rendered.entry(topic.to_owned()).or_insert_with(|| Rc::from(format!("<h1>{topic}</h1>")));
        Rc::clone(page)
    })
}
