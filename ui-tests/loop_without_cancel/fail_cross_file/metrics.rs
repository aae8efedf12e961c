use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

#[derive(Default)]
pub struct Registry {
    requests: AtomicU64,
    errors: AtomicU64,
}

impl Registry {
    pub fn count_request(&self) {
        self.requests.fetch_add(1, Ordering::Relaxed);
    }

    pub fn count_error(&self) {
        self.errors.fetch_add(1, Ordering::Relaxed);
    }
}

/// Spawned detached from main: reported by lint 2 at the spawn, not here.
pub async fn flush_forever(registry: Arc<Registry>) {
    let mut ticker = tokio::time::interval(Duration::from_secs(15));
    loop {
        ticker.tick().await;
        let requests = registry.requests.swap(0, Ordering::Relaxed);
        let errors = registry.errors.swap(0, Ordering::Relaxed);
        tracing::info!(requests, errors, "metrics");
    }
}
