//! `Drop` impls that hand async cleanup to the ambient tokio runtime: a pooled
//! connection, a session registry entry, a metrics guard, a scratch directory, a log
//! segment, a distributed lock, a multipart upload and a temp table. The task outlives
//! the value, nobody can wait for it, and `tokio::spawn`/`Handle::current()` panic when
//! the value is dropped outside a runtime (sync code, a test, or runtime shutdown).

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use tokio::runtime::Handle;
use tokio::spawn;

/// A connection checked out of the pool; it goes back to the pool on drop.
pub struct PooledConnection {
    conn: Option<PgConnection>,
    pool: Arc<PoolShared>,
}

impl Drop for PooledConnection {
    fn drop(&mut self) {
        let Some(mut conn) = self.conn.take() else { return };
        let pool = Arc::clone(&self.pool);
        // Resetting the session needs a round trip, so it goes to a task.
        tokio::spawn(async move { //~ spawn_in_drop
            if conn.execute("DISCARD ALL").await.is_ok() {
                pool.idle.lock().await.push(conn);
            }
            pool.permits.add_permits(1);
        });
    }
}

/// A websocket session that deregisters itself from the hub when it goes away.
pub struct Session {
    id: u64,
    hub: Arc<SessionHub>,
    opened: Instant,
}

impl Drop for Session {
    fn drop(&mut self) {
        let (hub, id, lived) = (Arc::clone(&self.hub), self.id, self.opened.elapsed());
        tokio::task::spawn(async move { //~ spawn_in_drop
            hub.deregister(id).await;
            tracing::debug!(id, ?lived, "session deregistered");
        });
    }
}

/// Per-request timing guard: reports the latency to statsd when the request ends.
pub struct RequestTimer {
    route: &'static str,
    started: Instant,
    sink: Arc<StatsdSink>,
}

impl RequestTimer {
    fn flush_async(&mut self) {
        let sink = Arc::clone(&self.sink);
        let line = format!("http.{}.latency_ms:{}|ms", self.route, self.started.elapsed().as_millis());
        tokio::spawn(async move {
            if let Err(err) = sink.send_line(line).await {
                tracing::debug!(error = %err, "statsd send failed");
            }
        });
    }
}

impl Drop for RequestTimer {
    fn drop(&mut self) {
        self.flush_async(); //~ spawn_in_drop
    }
}

/// Scratch space for one transcoding job, removed on drop.
pub struct ScratchDir {
    path: PathBuf,
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let path = std::mem::take(&mut self.path);
        Handle::current().spawn_blocking(move || { //~ spawn_in_drop
            if let Err(err) = std::fs::remove_dir_all(&path) {
                tracing::warn!(path = %path.display(), error = %err, "scratch dir not removed");
            }
        });
    }
}

/// A spooled log segment: fsynced and renamed to `.sealed` on drop.
pub struct SpoolSegment {
    file: Option<std::fs::File>,
    path: PathBuf,
}

impl Drop for SpoolSegment {
    fn drop(&mut self) {
        let Some(file) = self.file.take() else { return };
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || { //~ spawn_in_drop
            let sealed = path.with_extension("sealed");
            if let Err(err) = file.sync_all().and_then(|()| std::fs::rename(&path, &sealed)) {
                tracing::error!(path = %path.display(), error = %err, "segment not sealed");
            }
        });
    }
}

/// A redis lock; released by a Lua script compare-and-delete on drop.
pub struct RedisLock {
    key: String,
    fence: u64,
    conn: redis::aio::ConnectionManager,
}

impl Drop for RedisLock {
    fn drop(&mut self) {
        let mut conn = self.conn.clone();
        let (key, fence) = (std::mem::take(&mut self.key), self.fence);
        spawn(async move { //~ spawn_in_drop
            let released: redis::RedisResult<i32> =
                redis::Script::new(UNLOCK_SCRIPT).key(&key).arg(fence).invoke_async(&mut conn).await;
            if !matches!(released, Ok(1)) {
                tracing::warn!(%key, "lock was not released; it expires with its TTL");
            }
        });
    }
}

/// An S3 multipart upload that is aborted unless it was completed.
pub struct MultipartUpload {
    client: Arc<aws_sdk_s3::Client>,
    bucket: String,
    key: String,
    upload_id: String,
    completed: bool,
}

impl MultipartUpload {
    fn abort_in_background(client: Arc<aws_sdk_s3::Client>, target: AbortTarget) {
        submit_abort(client, target);
    }
}

fn submit_abort(client: Arc<aws_sdk_s3::Client>, target: AbortTarget) {
    tokio::runtime::Handle::current().spawn(async move {
        let req = client.abort_multipart_upload().bucket(target.bucket).key(target.key).upload_id(target.upload_id);
        if let Err(err) = req.send().await {
            tracing::warn!(error = %err, "multipart upload not aborted; parts keep costing storage");
        }
    });
}

impl Drop for MultipartUpload {
    fn drop(&mut self) {
        if self.completed {
            return;
        }
        let target = AbortTarget::new(&self.bucket, &self.key, &self.upload_id);
        Self::abort_in_background(Arc::clone(&self.client), target); //~ spawn_in_drop
    }
}

/// A per-test temporary table in the shared integration database.
pub struct TempTable {
    name: String,
    db: Arc<sqlx::PgPool>,
}

impl Drop for TempTable {
    fn drop(&mut self) {
        schedule_cleanup(Arc::clone(&self.db), std::mem::take(&mut self.name)); //~ spawn_in_drop
    }
}

fn schedule_cleanup(db: Arc<sqlx::PgPool>, table: String) {
    let stmt = format!("DROP TABLE IF EXISTS \"{table}\"");
    enqueue_statement(db, stmt);
}

fn enqueue_statement(db: Arc<sqlx::PgPool>, stmt: String) {
    run_detached(async move {
        if let Err(err) = sqlx::query(&stmt).execute(&*db).await {
            tracing::warn!(%stmt, error = %err, "cleanup statement failed");
        }
    });
}

/// A spawn wrapper: hands the future to the ambient runtime, with no runtime check.
fn run_detached<F>(fut: F)
where
    F: Future<Output = ()> + Send + 'static,
{
    tokio::task::spawn(fut);
}
