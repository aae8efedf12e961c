//! Broker state. Declarations and accessors only: connections.rs grows these tables and
//! janitor.rs / handle.rs shrink them.

use std::cell::RefCell;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::{LazyLock, Mutex, OnceLock, RwLock};
use std::time::Instant;

use dashmap::DashMap;
use lazy_static::lazy_static;

use crate::connections::{Envelope, Watcher};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ConnId(pub u64);

#[derive(Clone, Debug)]
pub struct ConnInfo {
    pub peer: SocketAddr,
    pub client_name: String,
    pub connected_at: Instant,
}

/// Live connections; handle.rs removes each one when its `ConnHandle` drops.
pub static CONNECTIONS: LazyLock<DashMap<ConnId, ConnInfo>> = LazyLock::new(DashMap::new);

/// Watchers per topic, reached through `watchers()`; janitor.rs `retain`s the open ones.
static WATCHERS: OnceLock<Mutex<HashMap<String, Vec<Watcher>>>> = OnceLock::new();

pub fn watchers() -> &'static Mutex<HashMap<String, Vec<Watcher>>> {
    WATCHERS.get_or_init(Default::default)
}

/// Topic -> connection routes; the config watcher replaces the table (janitor.rs).
pub static ROUTE_TABLE: OnceLock<RwLock<HashMap<String, ConnId>>> = OnceLock::new();

/// Messages waiting for delivery; janitor.rs takes the whole Vec on each flush.
pub static OUTBOX: Mutex<Vec<Envelope>> = Mutex::new(Vec::new());

lazy_static! {
    /// Send time per unacknowledged message id; janitor.rs `forget`s acked ids.
    pub static ref PENDING_ACKS: Mutex<HashMap<u64, Instant>> = Mutex::new(HashMap::new());
}

thread_local! {
    /// Per-thread render cache for the current request; cleared at its end (janitor.rs).
    pub static RENDERED: RefCell<HashMap<String, Rc<str>>> = RefCell::new(HashMap::new());
}
