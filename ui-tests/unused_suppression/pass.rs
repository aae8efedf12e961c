//! Suppressions that do suppress something: on the finding's line, on the line above it,
//! above the item that holds it, and for the whole file. None of them is reported, and
//! neither are the findings they cover.

// taskcheck: allow-file(unbounded_channel) -- the audit queue is drained by a dedicated core

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

static STATE: Mutex<Vec<u8>> = Mutex::new(Vec::new());

pub fn audit_queue() -> (mpsc::UnboundedSender<String>, mpsc::UnboundedReceiver<String>) {
    mpsc::unbounded_channel()
}

/// The statsd flusher lives as long as the process; the runtime's shutdown ends it.
pub fn start_flusher(mut interval: tokio::time::Interval) {
    // taskcheck: allow(spawn_without_cancel) -- process-lifetime flusher, stopped with the runtime
    tokio::spawn(async move {
        loop {
            interval.tick().await;
        }
    });
}

pub fn cancel_now(token: CancellationToken) {
    let _ = token.drop_guard(); // taskcheck: allow(lost_cancel) -- cancelling at once is the point here
}

// taskcheck: allow(blocking_sleep_in_async, forget_lock_guard) -- a test double for a slow disk
async fn slow_disk() {
    std::thread::sleep(Duration::from_millis(5));
    let guard = STATE.lock().unwrap_or_else(PoisonError::into_inner);
    std::mem::forget(guard);
}
