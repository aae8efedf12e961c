//! Session bookkeeping. The table is `state::SESSIONS`; this file only reaches it
//! through the `state::sessions()` accessor, never by name.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

use crate::state;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SessionId(pub u64);

#[derive(Clone, Debug)]
pub struct SessionInfo {
    pub user: String,
    pub peer: SocketAddr,
    pub opened_at: SystemTime,
    pub revoked: bool,
}

/// Id counter; an atomic, not a collection.
static NEXT_SESSION: AtomicU64 = AtomicU64::new(1);

/// Opens a session after login: one new entry in `state::SESSIONS` per login, keyed by
/// a fresh id, so the key space never repeats.
pub fn open(user: &str, peer: SocketAddr) -> SessionId {
    let id = SessionId(NEXT_SESSION.fetch_add(1, Ordering::Relaxed));
    let info = SessionInfo { user: user.to_owned(), peer, opened_at: SystemTime::now(), revoked: false };
    state::sessions().lock().unwrap().insert(id, info);
    tracing::debug!(session = id.0, user, "session opened");
    id
}

/// Logout marks the session revoked and keeps the entry: the `remove` that used to be
/// here was lost when revocation was added for the audit page.
pub fn revoke(id: SessionId) -> bool {
    let mut table = state::sessions().lock().unwrap();
    match table.get_mut(&id) {
        Some(info) => {
            info.revoked = true;
            true
        }
        None => false,
    }
}

/// Whether a session may still be used.
pub fn is_live(id: SessionId) -> bool {
    state::sessions().lock().unwrap().get(&id).is_some_and(|info| !info.revoked)
}

/// Sessions per user, for the admin page (read-only).
pub fn open_sessions_of(user: &str) -> Vec<SessionId> {
    let table = state::sessions().lock().unwrap();
    table.iter().filter(|(_, info)| info.user == user && !info.revoked).map(|(id, _)| *id).collect()
}
