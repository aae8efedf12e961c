//! The per-connection handle. Dropping it removes the connection from
//! `registry::CONNECTIONS` (a removal in `Drop`, in a different file from the insert).

use crate::registry::{ConnId, CONNECTIONS};

pub struct ConnHandle {
    id: ConnId,
}

impl ConnHandle {
    pub(crate) fn new(id: ConnId) -> Self {
        ConnHandle { id }
    }

    pub fn id(&self) -> ConnId {
        self.id
    }

    pub fn peer(&self) -> Option<std::net::SocketAddr> {
        CONNECTIONS.get(&self.id).map(|info| info.peer)
    }
}

impl Drop for ConnHandle {
    fn drop(&mut self) {
        if let Some((_, info)) = CONNECTIONS.remove(&self.id) {
            tracing::debug!(conn = self.id.0, peer = %info.peer, "connection closed");
        }
    }
}
