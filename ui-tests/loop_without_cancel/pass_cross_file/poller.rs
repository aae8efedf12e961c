use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::Duration;

/// Polls the host's load average on a thread that stops when asked.
pub struct Poller {
    stop: Arc<AtomicBool>,
    load: Arc<AtomicU64>,
    handle: JoinHandle<()>,
}

fn read_loadavg() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg").ok()?.split_whitespace().next()?.parse().ok()
}

impl Poller {
    pub fn start(every: Duration) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let load = Arc::new(AtomicU64::new(0));
        let (thread_stop, thread_load) = (Arc::clone(&stop), Arc::clone(&load));
        let handle = thread::Builder::new()
            .name("load-poller".into())
            .spawn(move || loop {
                if thread_stop.load(Ordering::Acquire) {
                    break;
                }
                if let Some(avg) = read_loadavg() {
                    thread_load.store(avg.to_bits(), Ordering::Relaxed);
                }
                thread::park_timeout(every);
            })
            .expect("failed to spawn load poller");
        Self { stop, load, handle }
    }

    pub fn load(&self) -> f64 {
        f64::from_bits(self.load.load(Ordering::Relaxed))
    }

    pub fn stop(self) {
        self.stop.store(true, Ordering::Release);
        self.handle.thread().unpark();
        let _ = self.handle.join();
    }
}
