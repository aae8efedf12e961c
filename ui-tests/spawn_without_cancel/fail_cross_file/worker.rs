use std::path::Path;
use std::time::Duration;

use sqlx::PgPool;
use tokio::sync::mpsc;

pub struct Job {
    pub order_id: i64,
    pub payload: serde_json::Value,
}

async fn store(db: &PgPool, job: Job) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO orders (id, body) VALUES ($1, $2)")
        .bind(job.order_id)
        .bind(job.payload)
        .execute(db)
        .await
        .map(|_| ())
}

/// Consumes jobs. There is no exit: when every sender is dropped `recv()` yields `None`
/// immediately and the loop goes round again (a `while let` would have ended here).
pub async fn run(mut job_rx: mpsc::Receiver<Job>, db: PgPool) {
    loop {
        let job = match job_rx.recv().await {
            Some(job) => job,
            None => {
                tracing::warn!("job queue has no senders left");
                continue;
            }
        };
        let order_id = job.order_id;
        if let Err(err) = store(&db, job).await {
            tracing::error!(order_id, error = %err, "failed to store order");
        }
    }
}

/// Deletes spool files older than an hour, every minute, forever.
pub fn reap_spool(dir: &Path) {
    loop {
        std::thread::sleep(Duration::from_secs(60));
        let Ok(entries) = std::fs::read_dir(dir) else { continue };
        for entry in entries.flatten() {
            let stale = entry
                .metadata()
                .and_then(|m| m.modified())
                .map(|t| t.elapsed().unwrap_or_default() > Duration::from_secs(3600))
                .unwrap_or(false);
            if stale {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
}
