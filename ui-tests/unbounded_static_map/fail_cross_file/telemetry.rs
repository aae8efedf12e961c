//! Request telemetry: latency per path, user-agent classification and the audit trail.
//! The three collections are declared in state.rs; this file only adds to them.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use hdrhistogram::Histogram;

use crate::state::{AGENT_CACHE, AUDIT_TRAIL, ROUTE_LATENCY};

/// What a `User-Agent` header says about the client.
#[derive(Debug)]
pub enum AgentClass {
    Browser { engine: String },
    Bot { name: String, blocked: bool },
    Unknown,
}

impl AgentClass {
    fn parse(raw: &str) -> Self {
        let lower = raw.to_ascii_lowercase();
        if let Some(pos) = lower.find("bot") {
            let name = lower[..pos + 3].rsplit([' ', '/', ';']).next().unwrap_or("bot").to_owned();
            let blocked = ["ahrefsbot", "semrushbot", "mj12bot"].contains(&name.as_str());
            AgentClass::Bot { name, blocked }
        } else if lower.contains("gecko") || lower.contains("webkit") {
            let engine = if lower.contains("webkit") { "webkit" } else { "gecko" };
            AgentClass::Browser { engine: engine.to_owned() }
        } else {
            AgentClass::Unknown
        }
    }

    pub fn is_blocked_bot(&self) -> bool {
        matches!(self, AgentClass::Bot { blocked: true, .. })
    }
}

/// One rejected request.
#[derive(Debug, Clone)]
pub struct AuditEvent {
    pub at: SystemTime,
    pub peer: SocketAddr,
    pub path: String,
    pub reason: &'static str,
}

/// Records a request's latency under its raw path (a derived `lock()` binding on the
/// `lazy_static!` map, then `entry`).
pub fn observe(path: &str, elapsed: Duration) {
    let mut by_path = ROUTE_LATENCY.lock().unwrap();
    let histogram = by_path
        .entry(path.to_owned())
        .or_insert_with(|| Histogram::new_with_bounds(1, 60_000_000, 3).expect("valid histogram bounds"));
    histogram.saturating_record(elapsed.as_micros() as u64);
}

/// Classifies a `User-Agent`, memoised per worker thread in the `thread_local!` map.
pub fn classify_agent(raw: &str) -> Arc<AgentClass> {
    AGENT_CACHE.with_borrow_mut(|cache| {
        let class = cache.entry(raw.to_owned()).or_insert_with(|| Arc::new(AgentClass::parse(raw)));
        Arc::clone(class)
    })
}

/// Remembers a rejected request for the audit page.
pub fn audit_rejection(peer: SocketAddr, path: &str, reason: &'static str) {
    let event = AuditEvent { at: SystemTime::now(), peer, path: path.to_owned(), reason };
    AUDIT_TRAIL.lock().unwrap().push(event);
    tracing::info!(%peer, path, reason, "request rejected");
}

/// The audit page: a copy of the trail (read-only).
pub fn audit_page() -> Vec<AuditEvent> {
    AUDIT_TRAIL.lock().unwrap().clone()
}
