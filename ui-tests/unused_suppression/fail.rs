//! Suppressions that suppress nothing: the finding moved or was fixed, the lint name is
//! misspelled, or the comment names a lint that never fires there. Each one is reported,
//! and a comment whose every lint is unused is removed by the safe fix.

// taskcheck: allow-file(unbounded_static_map) -- the session registry was removed //~ unused_suppression

use std::time::Duration;

use tokio_util::sync::CancellationToken;

/// The flusher now takes a token and breaks on it: the old suppression is stale.
pub fn start_flusher(mut interval: tokio::time::Interval, token: CancellationToken) {
    // taskcheck: allow(spawn_without_cancel) -- process-lifetime flusher //~ unused_suppression
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = token.cancelled() => break,
                _ = interval.tick() => {}
            }
        }
    });
}

/// A misspelled name suppresses nothing (and would hide nothing either).
pub async fn backoff(attempt: u32) {
    // taskcheck: allow(blocking_sleep_in_asnyc) -- tiny pause //~ unused_suppression
    tokio::time::sleep(Duration::from_millis(10 << attempt)).await;
}

pub fn guard_kept(token: CancellationToken) -> tokio_util::sync::DropGuard {
    token.drop_guard() // taskcheck: allow(lost_cancel) //~ unused_suppression
}

// taskcheck: allow(forget_lock_guard) -- left over from the old shutdown path //~ unused_suppression
pub fn shutdown(token: &CancellationToken) {
    token.cancel();
}
