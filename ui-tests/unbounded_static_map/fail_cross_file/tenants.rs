//! Per-tenant request quotas. The map is `state::TENANT_QUOTAS`, reached through the
//! binding that `get_or_init` returns.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::RwLock;

use crate::state::TENANT_QUOTAS;

const DEFAULT_RPM: u32 = 600;

/// Requests-per-minute budget of one tenant.
#[derive(Debug)]
pub struct Quota {
    pub per_minute: u32,
    used: AtomicU32,
}

impl Quota {
    fn standard() -> Self {
        Quota { per_minute: DEFAULT_RPM, used: AtomicU32::new(0) }
    }

    fn try_acquire(&self) -> bool {
        self.used.fetch_add(1, Ordering::Relaxed) < self.per_minute
    }

    fn reset_window(&self) {
        self.used.store(0, Ordering::Relaxed);
    }
}

/// Charges one request to `tenant`. The name comes straight from the `X-Tenant` header,
/// and an unknown name gets a fresh entry rather than a rejection.
pub fn charge(tenant: &str) -> bool {
    let quotas = TENANT_QUOTAS.get_or_init(|| RwLock::new(HashMap::new()));
    if let Some(quota) = quotas.read().unwrap().get(tenant) {
        return quota.try_acquire();
    }
    quotas.write().unwrap().entry(tenant.to_owned()).or_insert_with(Quota::standard).try_acquire()
}

/// Minute timer: resets every counter, but keeps every tenant name ever seen.
pub fn roll_window() {
    if let Some(quotas) = TENANT_QUOTAS.get() {
        for quota in quotas.read().unwrap().values() {
            quota.reset_window();
        }
    }
}
