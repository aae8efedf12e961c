//! A tokio session and routing service (tokio and async-lock locks). Every function
//! below acquires an async lock and then forgets or leaks the guard. An async lock is
//! released only by the guard's destructor, so the lock stays held forever: the next
//! `lock().await`/`write().await` never completes and the task awaiting it hangs with
//! everything it captured.

use std::collections::HashMap;
use std::io;
use std::mem::{self, ManuallyDrop};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use tokio::fs;
use tokio::io::AsyncWriteExt;
use tokio::sync::{Mutex, OwnedRwLockReadGuard, RwLock};

pub struct Snapshotter {
    dir: std::path::PathBuf,
}

impl Snapshotter {
    async fn persist(&self, entries: &HashMap<String, Bytes>) -> io::Result<()> {
        let mut file = fs::File::create(self.dir.join("snapshot.bin")).await?;
        for (key, value) in entries {
            file.write_all(key.as_bytes()).await?;
            file.write_all(value).await?;
        }
        file.sync_all().await
    }
}

pub struct SessionStore {
    entries: RwLock<HashMap<String, Bytes>>,
    snapshots: Snapshotter,
    leadership: Arc<Mutex<()>>,
    schema_version: Arc<RwLock<u32>>,
    compaction: Mutex<()>,
}

impl SessionStore {
    /// Graceful shutdown: persist a last snapshot, then forget the write guard "so no
    /// request can change the store after the snapshot". Requests still in flight now
    /// wait forever in `entries.write().await`, so the server's drain, which waits for
    /// them, never finishes either.
    pub async fn close(&self) -> io::Result<()> {
        let entries = self.entries.write().await;
        self.snapshots.persist(&entries).await?;
        mem::forget(entries); //~ forget_lock_guard
        Ok(())
    }

    /// Leader election on one node: "hold the leadership lock for as long as the
    /// process runs". Stepping down (or a second election round) deadlocks instead.
    pub async fn become_leader(&self) {
        std::mem::forget(Arc::clone(&self.leadership).lock_owned().await); //~ forget_lock_guard
        tracing::info!("this node is now the leader");
    }

    /// Runs a schema migration and keeps every writer out afterwards "because the old
    /// code must not write the new schema". Old and new code alike now hang on
    /// `schema_version.read().await`.
    pub async fn migrate(&self, to: u32) -> io::Result<()> {
        let mut version = Arc::clone(&self.schema_version).write_owned().await;
        if *version < to {
            *version = to;
            tracing::info!(to, "schema migrated");
        }
        mem::forget(version); //~ forget_lock_guard
        Ok(())
    }

    /// Compaction "in progress" flag built from a lock: `try_lock()?` fails for every
    /// later caller because the guard is never released, so compaction runs once per
    /// process and the store grows without bound afterwards.
    pub async fn compact(&self) -> anyhow::Result<usize> {
        let running = self.compaction.try_lock()?;
        mem::forget(running); //~ forget_lock_guard
        let mut entries = self.entries.write().await;
        let before = entries.len();
        entries.retain(|_, v| !v.is_empty());
        Ok(before - entries.len())
    }

    /// Called from the admin CLI thread (sync code) to freeze the store during a
    /// backup. `ManuallyDrop` without a later `ManuallyDrop::drop` is a forget: the
    /// backup finishes, the store stays frozen.
    pub fn freeze_for_backup(&self) -> usize {
        let entries = ManuallyDrop::new(self.entries.blocking_write()); //~ forget_lock_guard
        entries.len()
    }
}

pub struct Upstream {
    pub addr: SocketAddr,
    pub weight: u32,
}

pub struct Router {
    routes: Arc<RwLock<Vec<Upstream>>>,
    health: Mutex<HashMap<SocketAddr, Duration>>,
}

impl Router {
    /// Gives the listener a `'static` view of the route table by leaking an owned read
    /// guard. Readers are fine, but the next route update (`routes.write().await`) waits
    /// forever, and so does every reader queued behind that writer.
    pub async fn static_routes(&self) -> &'static [Upstream] {
        let guard = Arc::clone(&self.routes).read_owned().await;
        let leaked: &'static OwnedRwLockReadGuard<Vec<Upstream>> = Box::leak(Box::new(guard)); //~ forget_lock_guard
        leaked.as_slice()
    }

    /// A health probe that gives up on a slow peer and "parks" the table so nobody
    /// routes to stale data; the park is permanent.
    pub fn park_if_idle(&self) -> bool {
        match self.health.try_lock() {
            Ok(table) => {
                tracing::warn!(peers = table.len(), "parking health table");
                mem::forget(table); //~ forget_lock_guard
                true
            }
            Err(_) => false,
        }
    }

    /// Called from a `spawn_blocking` job on SIGTERM: stop health updates by keeping the
    /// table locked. The health task's next `lock().await` never returns.
    pub fn stop_health_updates(&self) {
        let table = self.health.blocking_lock();
        tracing::info!(peers = table.len(), "health updates stopped");
        mem::forget(table); //~ forget_lock_guard
    }
}

pub struct Session {
    pub user: String,
    pub expires_in: Duration,
}

pub struct Sessions {
    by_id: Arc<async_lock::Mutex<HashMap<u64, Session>>>,
    catalog: async_lock::RwLock<HashMap<String, u32>>,
    warmer: async_lock::Mutex<()>,
}

impl Sessions {
    /// Evicts expired sessions and then forgets the `Arc` guard "to keep the map pinned
    /// while the caller iterates". Every login after this waits forever.
    pub async fn evict_expired(&self) -> usize {
        let mut sessions = self.by_id.lock_arc().await;
        let before = sessions.len();
        sessions.retain(|_, s| !s.expires_in.is_zero());
        let evicted = before - sessions.len();
        mem::forget(sessions); //~ forget_lock_guard
        evicted
    }

    /// Holds an upgradable read "so no second warmer starts". async-lock allows one
    /// upgradable reader at a time and no writer while it lives: catalog updates block
    /// forever.
    pub async fn warm_catalog(&self) -> usize {
        let catalog = self.catalog.upgradable_read().await;
        let known = catalog.len();
        mem::forget(catalog); //~ forget_lock_guard
        known
    }

    /// Single-flight guard: the first caller takes the lock and never returns it.
    pub fn try_claim_warmer(&self) -> bool {
        if let Some(slot) = self.warmer.try_lock() {
            mem::forget(slot); //~ forget_lock_guard
            return true;
        }
        false
    }
}
