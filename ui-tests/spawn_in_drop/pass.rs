//! `Drop` impls that start cleanup work without relying on an ambient tokio runtime:
//! the value owns the runtime handle it spawns on, the spawn is guarded by
//! `Handle::try_current()` (in `drop` or in the sqlx-style `rt::spawn` it calls), or
//! the executor is global (async-std, smol). Also a method named `drop` that is not
//! `Drop::drop`, spawns in the other methods of a type that implements `Drop`, and test
//! code. None of these is reported.

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;

use tokio::runtime::{Handle, Runtime};
use tokio::task::JoinHandle;

/// The blocking client owns its runtime (the redis/etcd "sync facade" shape), so the
/// logout on drop runs on that runtime whether or not the caller has one.
pub struct BlockingClient {
    rt: Arc<Runtime>,
    inner: Arc<ClientInner>,
}

impl Drop for BlockingClient {
    fn drop(&mut self) {
        let inner = Arc::clone(&self.inner);
        self.rt.spawn(async move {
            inner.logout().await;
        });
    }
}

/// Captures the runtime handle when created and spawns on it on drop.
pub struct LeaseGuard {
    handle: Handle,
    lease_id: i64,
    client: etcd_client::LeaseClient,
}

impl LeaseGuard {
    pub fn new(lease_id: i64, client: etcd_client::LeaseClient) -> Self {
        Self { handle: Handle::current(), lease_id, client }
    }

    /// Not `drop`: other methods of a `Drop` type may spawn on the ambient runtime.
    pub fn keep_alive_once(&self) -> JoinHandle<()> {
        let (mut client, id) = (self.client.clone(), self.lease_id);
        tokio::spawn(async move {
            let _ = client.keep_alive(id).await;
        })
    }
}

impl Drop for LeaseGuard {
    fn drop(&mut self) {
        let (mut client, id) = (self.client.clone(), self.lease_id);
        self.handle.spawn(async move {
            let _ = client.revoke(id).await;
        });
    }
}

/// Returns the connection to the pool when a runtime is there, closes it otherwise.
pub struct PooledConn {
    conn: Option<AmqpChannel>,
    pool: Arc<ChannelPool>,
}

impl Drop for PooledConn {
    fn drop(&mut self) {
        let Some(conn) = self.conn.take() else { return };
        if let Ok(handle) = Handle::try_current() {
            let pool = Arc::clone(&self.pool);
            handle.spawn(async move { pool.give_back(conn).await });
        } else {
            tracing::debug!("no runtime on drop; channel discarded instead of pooled");
        }
    }
}

/// Removes its directory in the background when it can, inline when it cannot.
pub struct WorkDir {
    path: PathBuf,
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        let path = std::mem::take(&mut self.path);
        match Handle::try_current() {
            Ok(h) => {
                h.spawn_blocking(move || std::fs::remove_dir_all(&path));
            }
            Err(_) => {
                let _ = std::fs::remove_dir_all(&path);
            }
        }
    }
}

/// sqlx's `rt::spawn`: spawns on tokio only when a runtime is current, and otherwise
/// panics with a clear message instead of tokio's.
pub mod rt {
    use super::Future;

    pub fn spawn<F>(fut: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            handle.spawn(fut);
            return;
        }
        missing_rt(fut)
    }

    #[track_caller]
    fn missing_rt<T>(_unused: T) -> ! {
        panic!("this functionality requires a Tokio runtime")
    }

    /// A guarded callee that uses `tokio::spawn` after checking for a runtime.
    pub fn spawn_if_running<F>(fut: F) -> bool
    where
        F: Future<Output = ()> + Send + 'static,
    {
        if tokio::runtime::Handle::try_current().is_ok() {
            tokio::spawn(fut);
            true
        } else {
            false
        }
    }
}

/// sqlx-core's pool connection shape: `drop` returns the connection through `rt::spawn`.
pub struct PoolConnection {
    live: Option<Live>,
    pool: Arc<PoolInner>,
}

impl Drop for PoolConnection {
    fn drop(&mut self) {
        if let Some(live) = self.live.take() {
            let pool = Arc::clone(&self.pool);
            crate::rt::spawn(async move { pool.return_live(live).await });
        }
    }
}

/// Flushes buffered spans when a runtime is running; otherwise they are lost, by design.
pub struct SpanBuffer {
    spans: Vec<FinishedSpan>,
    exporter: Arc<SpanExporter>,
}

impl Drop for SpanBuffer {
    fn drop(&mut self) {
        let (spans, exporter) = (std::mem::take(&mut self.spans), Arc::clone(&self.exporter));
        if !rt::spawn_if_running(async move { exporter.export(spans).await }) {
            tracing::debug!("span buffer dropped outside a runtime");
        }
    }
}

/// redis-rs's async-std runtime shape: a global executor is always there.
pub struct AsyncStdConn {
    sink: Arc<PubSubSink>,
}

impl Drop for AsyncStdConn {
    fn drop(&mut self) {
        let sink = Arc::clone(&self.sink);
        async_std::task::spawn(async move { sink.unsubscribe_all().await });
    }
}

/// smol's global executor, detached.
pub struct SmolWatch {
    path: PathBuf,
    registry: Arc<WatchRegistry>,
}

impl Drop for SmolWatch {
    fn drop(&mut self) {
        let (path, registry) = (std::mem::take(&mut self.path), Arc::clone(&self.registry));
        smol::spawn(async move { registry.unwatch(&path).await }).detach();
    }
}

/// A database admin API: `drop` is the SQL verb, an inherent method, not `Drop::drop`.
pub struct Tables {
    db: Arc<sqlx::PgPool>,
}

impl Tables {
    pub fn drop(&self, name: &str) -> JoinHandle<Result<(), sqlx::Error>> {
        let (db, stmt) = (Arc::clone(&self.db), format!("DROP TABLE \"{name}\""));
        tokio::spawn(async move { sqlx::query(&stmt).execute(&*db).await.map(|_| ()) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A test fixture that cleans up on the test's runtime.
    struct FakeBroker {
        addr: std::net::SocketAddr,
    }

    impl Drop for FakeBroker {
        fn drop(&mut self) {
            let addr = self.addr;
            tokio::spawn(async move {
                let _ = tokio::net::TcpStream::connect(addr).await;
            });
        }
    }

    #[tokio::test]
    async fn fixture_is_dropped_on_the_runtime() {
        let broker = FakeBroker { addr: "127.0.0.1:5672".parse().unwrap() };
        let _ = broker.addr;
    }
}
