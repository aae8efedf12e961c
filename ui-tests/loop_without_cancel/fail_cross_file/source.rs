use std::io::Read;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use crate::metrics::Registry;

pub struct Source {
    url: String,
    every: Duration,
    registry: Arc<Registry>,
    pub items: Arc<RwLock<Vec<String>>>,
}

impl Source {
    pub fn new(url: &str, every: Duration, registry: Arc<Registry>) -> Self {
        Self { url: url.to_owned(), every, registry, items: Arc::default() }
    }

    fn fetch(&self) -> std::io::Result<Vec<String>> {
        let mut body = String::new();
        ureq::get(&self.url)
            .timeout(Duration::from_secs(10))
            .call()
            .map_err(std::io::Error::other)?
            .into_reader()
            .read_to_string(&mut body)?;
        Ok(body.lines().map(str::to_owned).collect())
    }

    /// Runs on the poller thread that `Poller` keeps and joins.
    pub fn poll_loop(&self) {
        // Leak (kept OS thread, loop in another file than the spawn): no exit and no
        // stop flag; `Poller::drop` joins a thread that never ends.
        loop { //~ loop_without_cancel
            match self.fetch() {
                Ok(items) => *self.items.write().unwrap() = items,
                Err(err) => {
                    self.registry.count_error();
                    tracing::warn!(url = %self.url, error = %err, "feed poll failed");
                }
            }
            std::thread::sleep(self.every);
        }
    }
}
