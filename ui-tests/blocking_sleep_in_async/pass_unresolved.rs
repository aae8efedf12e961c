//! A runtime-agnostic client library: `sleep` comes from wherever the enabled feature
//! puts it, or from the crate's own runtime shim. No `use` in this file names
//! `std::thread::sleep`, and a bare `sleep` is never guessed to be it. None is a
//! finding.

use std::io;
use std::time::Duration;

// The timer is picked by feature; the `use` items are inside macro tokens, so the
// bare `sleep` below is unresolved.
cfg_if::cfg_if! {
    if #[cfg(feature = "runtime-tokio")] {
        use tokio::time::sleep;
    } else if #[cfg(feature = "runtime-async-std")] {
        use async_std::task::sleep;
    }
}

pub struct Connection {
    pub addr: String,
}

impl Connection {
    async fn ping(&self) -> io::Result<()> {
        let _ = &self.addr;
        Ok(())
    }
}

/// Not a finding: `sleep` has no `use` this file can see (it is behind `cfg_if!`).
pub async fn ping_with_retry(conn: &Connection, attempts: u32) -> io::Result<()> {
    for attempt in 0..attempts {
        if conn.ping().await.is_ok() {
            return Ok(());
        }
        sleep(Duration::from_millis(20 << attempt)).await;
    }
    conn.ping().await
}

pub mod rt {
    //! The crate's runtime shim: an async sleep on whichever runtime is enabled.

    use std::time::Duration;

    pub async fn sleep(d: Duration) {
        #[cfg(feature = "runtime-tokio")]
        tokio::time::sleep(d).await;
        #[cfg(feature = "runtime-async-std")]
        async_std::task::sleep(d).await;
    }
}

pub mod keepalive {
    //! Uses the crate's runtime shim (like sqlx's `crate::rt`).

    use std::time::Duration;

    use crate::rt::*;

    /// Not a finding: `sleep` comes from a glob of this crate's own `rt` module, which
    /// is not `std::thread`.
    pub async fn idle_pause() {
        sleep(Duration::from_secs(30)).await;
    }

    /// Not a finding: a crate-local path.
    pub async fn short_pause() {
        crate::rt::sleep(Duration::from_millis(10)).await;
    }
}
