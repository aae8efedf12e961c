use std::sync::{Arc, RwLock};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use crate::metrics::Registry;
use crate::source::Source;

/// Owns the feed-polling thread and joins it when dropped.
pub struct Poller {
    source: Arc<Source>,
    handle: Option<JoinHandle<()>>,
}

impl Poller {
    pub fn start(url: &str, every: Duration, registry: Arc<Registry>) -> Self {
        let source = Arc::new(Source::new(url, every, registry));
        let me = Arc::clone(&source);
        // Kept: `.expect(..)` unwraps the Builder result and the handle is stored.
        // The thread runs `Source::poll_loop`, defined in source.rs.
        let handle = thread::Builder::new()
            .name("feed-poller".into())
            .spawn(move || me.poll_loop())
            .expect("failed to spawn feed poller");
        Self { source, handle: Some(handle) }
    }

    pub fn latest(&self) -> Arc<RwLock<Vec<String>>> {
        Arc::clone(&self.source.items)
    }
}

impl Drop for Poller {
    fn drop(&mut self) {
        if let Some(handle) = self.handle.take() {
            // Blocks forever: poll_loop never returns.
            let _ = handle.join();
        }
    }
}
