//! Housekeeping: shrinks the tables that connections.rs grows.

use std::collections::HashMap;
use std::sync::RwLock;

use crate::connections::Envelope;
use crate::registry::{self, ConnId, OUTBOX, PENDING_ACKS, RENDERED, ROUTE_TABLE};

/// Drops the watchers whose receiver has gone, and topics left with none (accessor +
/// `retain`).
pub fn drop_closed_watchers() {
    registry::watchers().lock().unwrap().retain(|_, watchers| {
        watchers.retain(|w| !w.is_gone());
        !watchers.is_empty()
    });
}

/// End of request: the render cache starts empty for the next one (`with` + `clear`).
pub fn clear_render_cache() {
    RENDERED.with(|rendered| rendered.borrow_mut().clear());
}

/// An acked message stops being pending. The removal sits behind a lookup of the same
/// id, but a removal in a fn named `forget` always counts.
pub fn forget(message_id: u64) {
    let mut pending = PENDING_ACKS.lock().unwrap();
    if let Some(sent_at) = pending.get(&message_id) {
        tracing::trace!(message_id, rtt_ms = sent_at.elapsed().as_millis() as u64, "acked");
        pending.remove(&message_id);
    }
}

/// Config reload: the whole routing table is replaced (`*guard = ..` on the
/// `get_or_init` binding).
pub fn reload_routes(fresh: HashMap<String, ConnId>) {
    let table = ROUTE_TABLE.get_or_init(|| RwLock::new(HashMap::new()));
    *table.write().unwrap() = fresh;
}

/// Hands every queued message to the writer (`mem::take`).
pub fn flush_outbox() -> Vec<Envelope> {
    std::mem::take(&mut *OUTBOX.lock().unwrap())
}
