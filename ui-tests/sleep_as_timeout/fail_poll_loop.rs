//! Waiting for a condition by polling it with an async sleep until a deadline passes.
//! Each loop wakes up on a fixed cadence (adding up to one poll interval of latency and
//! constant wake-ups) when the condition could be awaited directly under
//! `tokio::time::timeout`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::bail;
use tokio::sync::RwLock;
use tokio::time::{self, sleep};

#[derive(Debug)]
pub enum StartupError {
    PoolNotReady(Duration),
    NotCached(String),
    MigrationTimedOut,
    MigrationFailed(String),
}

pub struct Pool {
    ready: std::sync::atomic::AtomicBool,
}

impl Pool {
    async fn is_ready(&self) -> bool {
        self.ready.load(std::sync::atomic::Ordering::Acquire)
    }
}

/// Startup gate: polls the pool every 50 ms, gives up after `timeout`.
pub async fn wait_until_ready(pool: &Pool, timeout: Duration) -> Result<(), StartupError> {
    let start = Instant::now();
    loop { //~ sleep_as_timeout
        if pool.is_ready().await {
            return Ok(());
        }
        if start.elapsed() > timeout {
            return Err(StartupError::PoolNotReady(timeout));
        }
        sleep(Duration::from_millis(50)).await;
    }
}

/// Read-through cache fill by another replica: the deadline is the loop condition.
pub async fn wait_for_cache_fill(
    cache: Arc<RwLock<HashMap<String, Vec<u8>>>>,
    key: &str,
    timeout: Duration,
) -> Result<Vec<u8>, StartupError> {
    let start = Instant::now();
    while start.elapsed() < timeout { //~ sleep_as_timeout
        if let Some(v) = cache.read().await.get(key) {
            return Ok(v.clone());
        }
        time::sleep(Duration::from_millis(25)).await;
    }
    Err(StartupError::NotCached(key.to_owned()))
}

pub type NodeId = u64;

pub struct Election {
    leader: RwLock<Option<NodeId>>,
}

impl Election {
    async fn leader(&self) -> Option<NodeId> {
        *self.leader.read().await
    }
}

/// Leader discovery: breaks out with the leader, bails at the deadline.
pub async fn await_leader(election: &Election, wait: Duration) -> anyhow::Result<NodeId> {
    let deadline = tokio::time::Instant::now() + wait;
    let leader = loop { //~ sleep_as_timeout
        if let Some(id) = election.leader().await {
            break id;
        }
        if tokio::time::Instant::now() >= deadline {
            bail!("no leader elected within {wait:?}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    Ok(leader)
}

pub enum MigrationStatus {
    Pending,
    Running { percent: u8 },
    Finished,
    Failed(String),
}

pub struct MigrationJob {
    id: u64,
}

impl MigrationJob {
    async fn status(&self) -> Result<MigrationStatus, StartupError> {
        let _ = self.id;
        Ok(MigrationStatus::Pending)
    }
}

/// Schema migration run by an operator job: polls its status once a second.
pub async fn wait_for_migration(job: &MigrationJob, max_wait: Duration) -> Result<(), StartupError> {
    let started = Instant::now();
    loop { //~ sleep_as_timeout
        match job.status().await? {
            MigrationStatus::Finished => return Ok(()),
            MigrationStatus::Failed(reason) => return Err(StartupError::MigrationFailed(reason)),
            MigrationStatus::Running { percent } => tracing::info!(percent, "migration running"),
            MigrationStatus::Pending => {}
        }
        if started.elapsed() >= max_wait {
            return Err(StartupError::MigrationTimedOut);
        }
        sleep(Duration::from_secs(1)).await;
    }
}

/// The async-std flavour: waits for a sidecar's socket file to appear.
pub async fn wait_for_sidecar(path: &async_std::path::Path, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    loop { //~ sleep_as_timeout
        if path.exists().await {
            break true;
        }
        if Instant::now() >= deadline {
            break false;
        }
        async_std::task::sleep(Duration::from_millis(200)).await;
    }
}
