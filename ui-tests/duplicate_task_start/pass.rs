//! Starting long-running tasks in ways that cannot start them twice: the start consumes
//! the value, is an associated constructor or a free fn, is guarded (an `Option` handle
//! checked or taken, a `OnceLock`, a `Once`, an atomic `swap`/`compare_exchange`), or only
//! ever runs behind a guarded caller. Short tasks and test code are not this lint's.

use std::io;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, Once, OnceLock};
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio::time::interval;

pub struct Coordinator {
    endpoint: String,
}

impl Coordinator {
    async fn renew(&self, lease_id: u64) -> io::Result<()> {
        let _ = (&self.endpoint, lease_id);
        Ok(())
    }

    async fn flush_acks(&self) -> io::Result<()> {
        Ok(())
    }
}

pub struct Lease {
    client: Arc<Coordinator>,
    id: u64,
    ttl: Duration,
}

/// By value: `keep_alive(self)` consumes the lease, so it can only run once.
impl Lease {
    pub fn keep_alive(self) -> JoinHandle<()> {
        tokio::spawn(async move {
            let mut tick = interval(self.ttl / 3);
            loop {
                tick.tick().await;
                let _ = self.client.renew(self.id).await;
            }
        })
    }
}

/// An associated constructor: every call builds a new poller with its own task.
pub struct HealthPoller {
    task: JoinHandle<()>,
}

impl HealthPoller {
    pub fn spawn(client: Arc<Coordinator>, every: Duration) -> Self {
        let task = tokio::spawn(async move {
            let mut tick = interval(every);
            loop {
                tick.tick().await;
                let _ = client.renew(0).await;
            }
        });
        Self { task }
    }

    pub fn stop(&self) {
        self.task.abort();
    }
}

/// A free fn: nothing to start twice on.
pub fn start_ack_flusher(client: Arc<Coordinator>) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = interval(Duration::from_millis(200));
        loop {
            tick.tick().await;
            let _ = client.flush_acks().await;
        }
    })
}

pub struct Renewer {
    client: Arc<Coordinator>,
    task: Option<JoinHandle<()>>,
    handle: Option<JoinHandle<()>>,
}

impl Renewer {
    /// Guard: returns early when a task is already running.
    pub fn start_renewing(&mut self, lease_id: u64) {
        if self.task.is_some() {
            return;
        }
        let client = Arc::clone(&self.client);
        self.task = Some(tokio::spawn(async move {
            let mut tick = interval(Duration::from_secs(10));
            loop {
                tick.tick().await;
                let _ = client.renew(lease_id).await;
            }
        }));
    }

    /// Guard: the previous task is taken and aborted before the new one starts.
    pub fn restart_renewing(&mut self, lease_id: u64) {
        if let Some(old) = self.task.take() {
            old.abort();
        }
        let client = Arc::clone(&self.client);
        self.task = Some(tokio::spawn(async move {
            let mut tick = interval(Duration::from_secs(10));
            loop {
                tick.tick().await;
                let _ = client.renew(lease_id).await;
            }
        }));
    }

    /// Guard: only starts when the slot is empty.
    pub fn ensure_acks(&mut self) {
        if self.handle.is_none() {
            let client = Arc::clone(&self.client);
            self.handle = Some(tokio::spawn(async move {
                let mut tick = interval(Duration::from_millis(500));
                loop {
                    tick.tick().await;
                    let _ = client.flush_acks().await;
                }
            }));
        }
    }
}

pub struct Gossip {
    client: Arc<Coordinator>,
    ticker: OnceLock<JoinHandle<()>>,
    init: Once,
    tasks: Mutex<Vec<JoinHandle<()>>>,
    running: AtomicBool,
    state: AtomicU8,
    inflight: Mutex<Vec<JoinHandle<io::Result<()>>>>,
}

const IDLE: u8 = 0;
const RUNNING: u8 = 1;

impl Gossip {
    /// Guard: `OnceLock::get_or_init` runs the spawn once.
    pub fn ticker(&self) -> &JoinHandle<()> {
        self.ticker.get_or_init(|| {
            let client = Arc::clone(&self.client);
            tokio::spawn(async move {
                let mut tick = interval(Duration::from_secs(2));
                loop {
                    tick.tick().await;
                    let _ = client.renew(7).await;
                }
            })
        })
    }

    /// Guard: `Once::call_once`.
    pub fn start_digest(&self) {
        self.init.call_once(|| {
            let client = Arc::clone(&self.client);
            self.tasks.lock().unwrap().push(tokio::spawn(async move {
                let mut tick = interval(Duration::from_secs(30));
                loop {
                    tick.tick().await;
                    let _ = client.flush_acks().await;
                }
            }));
        });
    }

    /// Guard: `AtomicBool::swap` lets the first caller through.
    pub fn start_probe(&self) {
        if self.running.swap(true, Ordering::AcqRel) {
            return;
        }
        let client = Arc::clone(&self.client);
        self.tasks.lock().unwrap().push(tokio::spawn(async move {
            let mut tick = interval(Duration::from_secs(5));
            loop {
                tick.tick().await;
                let _ = client.renew(1).await;
            }
        }));
    }

    /// Guard: a state machine moved with `compare_exchange`.
    pub fn start_anti_entropy(&self) -> Result<(), &'static str> {
        if self.state.compare_exchange(IDLE, RUNNING, Ordering::AcqRel, Ordering::Acquire).is_err() {
            return Err("anti-entropy already running");
        }
        let client = Arc::clone(&self.client);
        self.tasks.lock().unwrap().push(tokio::spawn(async move {
            let mut tick = interval(Duration::from_secs(60));
            loop {
                tick.tick().await;
                let _ = client.flush_acks().await;
            }
        }));
        Ok(())
    }

    /// A short task (no loop): starting it on every call is the point.
    pub fn flush_now(&self) {
        let client = Arc::clone(&self.client);
        self.inflight.lock().unwrap().push(tokio::spawn(async move { client.flush_acks().await }));
    }
}

pub struct Replicator {
    client: Arc<Coordinator>,
    started: AtomicBool,
    task: Mutex<Option<JoinHandle<()>>>,
}

impl Replicator {
    /// The only caller of `start_inner` holds the start guard.
    pub fn start(&self) {
        if !self.started.swap(true, Ordering::AcqRel) {
            self.start_inner()
        }
    }

    fn start_inner(&self) {
        let client = Arc::clone(&self.client);
        *self.task.lock().unwrap() = Some(tokio::spawn(async move {
            let mut tick = interval(Duration::from_secs(1));
            loop {
                tick.tick().await;
                let _ = client.renew(42).await;
            }
        }));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct FakeClock {
        ticks: Arc<std::sync::atomic::AtomicU64>,
        tasks: Mutex<Vec<JoinHandle<()>>>,
    }

    impl FakeClock {
        /// Test code: an unguarded start is fine here.
        fn start_ticking(&self) {
            let ticks = Arc::clone(&self.ticks);
            self.tasks.lock().unwrap().push(tokio::spawn(async move {
                loop {
                    tokio::task::yield_now().await;
                    ticks.fetch_add(1, Ordering::Relaxed);
                }
            }));
        }
    }

    #[tokio::test]
    async fn clock_ticks() {
        let clock = FakeClock { ticks: Default::default(), tasks: Mutex::new(Vec::new()) };
        clock.start_ticking();
        tokio::task::yield_now().await;
    }
}
