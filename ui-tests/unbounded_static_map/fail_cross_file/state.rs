//! Process-wide state of the gateway. Declarations only: the code that fills each static
//! lives in the file named in its doc comment, and no file ever shrinks one of them.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, RwLock};

use hdrhistogram::Histogram;
use lazy_static::lazy_static;

use crate::sessions::{SessionId, SessionInfo};
use crate::telemetry::{AgentClass, AuditEvent};
use crate::tenants::Quota;

/// Every session ever opened, by id. sessions.rs fills it through the `sessions()`
/// accessor below; logout only flips `revoked`, so entries outlive their sessions.
static SESSIONS: OnceLock<Mutex<HashMap<SessionId, SessionInfo>>> = OnceLock::new(); //~ unbounded_static_map

/// The accessor sessions.rs goes through: its tail expression is derived from
/// `SESSIONS`, so an insert on `sessions().lock()` is an insert on `SESSIONS`.
pub fn sessions() -> &'static Mutex<HashMap<SessionId, SessionInfo>> {
    SESSIONS.get_or_init(|| Mutex::new(HashMap::new()))
}

/// Quota counters per tenant name. tenants.rs creates an entry for every `X-Tenant`
/// header it sees (misspelt and forged ones included) through the binding returned by
/// `get_or_init`; the minute timer resets the counters but keeps the tenants.
pub static TENANT_QUOTAS: OnceLock<RwLock<HashMap<String, Quota>>> = OnceLock::new(); //~ unbounded_static_map

lazy_static! {
    /// Latency histogram per *raw* request path: `/users/8812/avatar` and
    /// `/users/8813/avatar` are two label values, so the label set grows with the id
    /// space (telemetry.rs, `observe`).
    pub static ref ROUTE_LATENCY: Mutex<HashMap<String, Histogram<u64>>> = Mutex::new(HashMap::new()); //~ unbounded_static_map
}

thread_local! {
    /// Parsed `User-Agent` headers per worker thread, keyed by the raw header
    /// (telemetry.rs, `with_borrow_mut`). Clients choose the key, so a single scanner
    /// rotating its agent string fills every worker's copy.
    pub static AGENT_CACHE: RefCell<HashMap<String, Arc<AgentClass>>> = RefCell::new(HashMap::new()); //~ unbounded_static_map
}

/// Audit trail of rejected requests, pushed by telemetry.rs. The exporter that was meant
/// to ship and drain it was never written, so it holds every rejection since start-up.
pub static AUDIT_TRAIL: Mutex<Vec<AuditEvent>> = Mutex::new(Vec::new()); //~ unbounded_static_map
