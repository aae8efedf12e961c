//! Edge gateway: per-request bookkeeping kept in process-wide statics. Every static is
//! declared in state.rs and filled from another file (sessions.rs through an accessor fn,
//! tenants.rs through a `get_or_init` binding, telemetry.rs through `lazy_static!`,
//! `thread_local!` + `with_borrow_mut` and a plain `static`). Nothing anywhere in the
//! crate removes an entry, so each finding points back at a declaration in state.rs.

mod sessions;
mod state;
mod telemetry;
mod tenants;

use std::net::SocketAddr;
use std::time::Instant;

pub use sessions::{SessionId, SessionInfo};
pub use telemetry::{AgentClass, AuditEvent};
pub use tenants::Quota;

/// The parts of an incoming request the gateway looks at.
pub struct RequestMeta {
    pub tenant: String,
    pub path: String,
    pub user_agent: String,
    pub session: Option<SessionId>,
    pub peer: SocketAddr,
}

/// What the HTTP layer should do with the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Forward,
    Throttle,
    Reject(&'static str),
}

/// Called by the HTTP layer after a successful login.
pub fn login(user: &str, peer: SocketAddr) -> SessionId {
    sessions::open(user, peer)
}

/// Called by the HTTP layer on `POST /logout`.
pub fn logout(id: SessionId) -> bool {
    sessions::revoke(id)
}

/// Called once per request, before it is proxied upstream.
pub fn admit(req: &RequestMeta) -> Verdict {
    let started = Instant::now();
    let agent = telemetry::classify_agent(&req.user_agent);
    let verdict = if agent.is_blocked_bot() {
        Verdict::Reject("blocked crawler")
    } else if req.session.is_some_and(|id| !sessions::is_live(id)) {
        Verdict::Reject("stale session")
    } else if !tenants::charge(&req.tenant) {
        Verdict::Throttle
    } else {
        Verdict::Forward
    };
    if let Verdict::Reject(reason) = verdict {
        telemetry::audit_rejection(req.peer, &req.path, reason);
    }
    telemetry::observe(&req.path, started.elapsed());
    verdict
}

/// Called by the host's minute timer.
pub fn on_minute() {
    tenants::roll_window();
}
