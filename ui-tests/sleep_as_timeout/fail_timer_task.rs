//! Timeouts and expiries built from detached sleeping tasks: each spawn sleeps first and
//! then acts (removes, cancels, closes, sends, sets a flag). The timer cannot be called
//! off when the guarded work finishes first, it pins its captures until it fires, and
//! under load these tasks pile up (request rate × delay).

use std::collections::HashMap;
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::time;
use tokio::time::{sleep, sleep_until, Instant};
use tokio_util::sync::CancellationToken;

pub struct Session {
    pub user: String,
    pub created: Instant,
}

pub struct SessionStore {
    sessions: Arc<Mutex<HashMap<String, Session>>>,
    ttl: Duration,
}

impl SessionStore {
    /// Session expiry: one sleeping task per login. A logout does not stop it, and a
    /// re-login under the same id is evicted by the old timer.
    pub fn insert(&self, id: String, user: String) {
        self.sessions.lock().unwrap().insert(id.clone(), Session { user, created: Instant::now() });
        let sessions = Arc::clone(&self.sessions);
        let ttl = self.ttl;
        tokio::spawn(async move { //~ sleep_as_timeout
            tokio::time::sleep(ttl).await;
            sessions.lock().unwrap().remove(&id);
        });
    }
}

pub struct RequestCtx {
    pub token: CancellationToken,
    pub deadline: Duration,
}

async fn run_query(sql: &str, token: CancellationToken) -> io::Result<Vec<String>> {
    tokio::select! {
        _ = token.cancelled() => Err(io::Error::new(io::ErrorKind::TimedOut, "query cancelled")),
        rows = async { Ok(vec![sql.to_owned()]) } => rows,
    }
}

/// RPC deadline as a watchdog task: `let _ =` drops its handle, so a fast query still
/// leaves the watchdog sleeping (and holding the token) for the whole deadline.
pub async fn query_with_deadline(ctx: &RequestCtx, sql: &str) -> io::Result<Vec<String>> {
    let token = ctx.token.clone();
    let deadline = ctx.deadline;
    let _ = tokio::spawn(async move { //~ sleep_as_timeout
        sleep(deadline).await;
        token.cancel();
    });
    run_query(sql, ctx.token.clone()).await
}

pub struct PooledConn {
    stream: tokio::sync::Mutex<Option<TcpStream>>,
}

impl PooledConn {
    async fn close(&self) {
        self.stream.lock().await.take();
    }
}

/// Idle close scheduled at checkin: `_closer` is never used again, so the timer is
/// detached and closes the connection even if it was checked out again meanwhile.
pub fn checkin(conn: Arc<PooledConn>, idle: Duration) {
    let _closer = tokio::spawn(async move { //~ sleep_as_timeout
        time::sleep(idle).await;
        conn.close().await;
    });
}

pub enum ElectionEvent {
    LeaseExpired { term: u64 },
}

/// Leader election: the step-down fires at the lease deadline even if the lease was
/// renewed in between.
pub fn arm_lease_expiry(term: u64, expires_at: Instant, events: mpsc::Sender<ElectionEvent>) {
    tokio::spawn(async move { //~ sleep_as_timeout
        sleep_until(expires_at).await;
        let _ = events.send(ElectionEvent::LeaseExpired { term }).await;
    });
}

/// The async-std flavour: a request is marked as timed out by a sleeping task.
pub fn arm_request_timeout(timed_out: Arc<AtomicBool>, after: Duration) {
    async_std::task::spawn(async move { //~ sleep_as_timeout
        async_std::task::sleep(after).await;
        timed_out.store(true, Ordering::Release);
    });
}

pub struct RateLimiter {
    used: Mutex<HashMap<String, u32>>,
    window: Duration,
    limit: u32,
}

impl RateLimiter {
    fn release(&self, key: &str) {
        if let Some(n) = self.used.lock().unwrap().get_mut(key) {
            *n = n.saturating_sub(1);
        }
    }

    /// Sliding-window limiter: every admitted request spawns a task that gives the slot
    /// back after the window. At 10k req/s and a 60 s window that is 600k sleeping tasks.
    pub fn try_acquire(self: &Arc<Self>, key: String) -> bool {
        {
            let mut used = self.used.lock().unwrap();
            let n = used.entry(key.clone()).or_insert(0);
            if *n >= self.limit {
                return false;
            }
            *n += 1;
        }
        let limiter = Arc::clone(self);
        let window = self.window;
        let refill = tokio::spawn(async move { //~ sleep_as_timeout
            time::sleep(window).await;
            limiter.release(&key);
        });
        drop(refill);
        true
    }
}
