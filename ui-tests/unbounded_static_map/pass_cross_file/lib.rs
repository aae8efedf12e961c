//! Pub/sub broker: process-wide tables declared in registry.rs, filled by connections.rs,
//! and shrunk elsewhere: janitor.rs retains, clears, forgets, reloads and flushes, and
//! handle.rs removes a connection in `Drop`. Every static is bounded by a removal in a
//! file other than the one that grows it, so none is reported.

mod connections;
mod handle;
mod janitor;
mod registry;

use std::net::SocketAddr;

pub use connections::{Envelope, Watcher};
pub use handle::ConnHandle;
pub use registry::{ConnId, ConnInfo};

/// Called by the listener for each accepted socket. The returned handle lives as long
/// as the socket task; dropping it unregisters the connection.
pub fn accept(peer: SocketAddr, client_name: &str) -> ConnHandle {
    connections::connect(peer, client_name)
}

/// Called by the host's housekeeping timer every few seconds.
pub fn housekeeping() -> Vec<Envelope> {
    janitor::drop_closed_watchers();
    janitor::flush_outbox()
}

/// Called at the end of each request on the worker thread that served it.
pub fn end_of_request() {
    janitor::clear_render_cache();
}

/// Called when a client acknowledges a message.
pub fn ack(message_id: u64) {
    janitor::forget(message_id);
}

/// Called by the config watcher with the new topic -> connection routing table.
pub fn reload_routes(table: std::collections::HashMap<String, ConnId>) {
    janitor::reload_routes(table);
}
