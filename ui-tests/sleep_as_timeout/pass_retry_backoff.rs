//! Retrying an operation with a growing backoff until a total deadline passes. There is
//! no condition to await instead of sleeping (the database is not up yet, nothing will
//! notify us), so this is not a sleep-poll: bb8's `add_connection` shape.

use std::cmp::{max, min};
use std::time::{Duration, Instant};

use tokio::time::sleep;

pub struct Pool {
    connect_timeout: Duration,
    retry: bool,
}

impl Pool {
    /// Opens one more connection, retrying with exponential backoff.
    pub async fn add_connection(&self) -> Result<crate::db::Conn, crate::db::Error> {
        let start = Instant::now();
        let mut delay = Duration::ZERO;
        loop {
            match crate::db::connect().await {
                Ok(conn) => return Ok(conn),
                Err(e) => {
                    if !self.retry || start.elapsed() > self.connect_timeout {
                        return Err(e);
                    }
                    tracing::warn!(error = %e, "connect failed, retrying");
                    delay = max(Duration::from_millis(200), delay);
                    delay = min(self.connect_timeout / 2, delay * 2);
                    sleep(delay).await;
                }
            }
        }
    }
}

/// Registration with the discovery service at startup, backoff grown in place.
pub async fn register(deadline: tokio::time::Instant) -> anyhow::Result<()> {
    let mut backoff = Duration::from_millis(50);
    loop {
        if crate::discovery::register().await.is_ok() {
            return Ok(());
        }
        if tokio::time::Instant::now() >= deadline {
            anyhow::bail!("could not register before the deadline");
        }
        tokio::time::sleep(backoff).await;
        backoff *= 2;
    }
}
