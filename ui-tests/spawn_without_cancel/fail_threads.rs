//! OS threads of a storage node, started and never joined. A thread cannot be killed
//! from outside, so a detached thread running a loop with no way out lives as long as
//! the process, pinning everything it captured.

use std::collections::HashMap;
use std::io::{self, BufRead};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

pub struct Histogram {
    buckets: Mutex<[u64; 16]>,
}

impl Histogram {
    fn record(&self, micros: u64) {
        let idx = (64 - micros.leading_zeros() as usize).min(15);
        self.buckets.lock().unwrap()[idx] += 1;
    }
}

pub fn start_latency_aggregator(samples: Receiver<u64>, histogram: Arc<Histogram>) {
    // Leak: detached thread (expression statement). The loop only ends by panicking
    // when every sender is dropped (`unwrap` on `recv`); there is no normal exit.
    thread::spawn(move || { //~ spawn_without_cancel
        loop {
            let micros = samples.recv().unwrap();
            histogram.record(micros);
        }
    });
}

pub struct BlockCache {
    entries: Mutex<HashMap<u64, (Instant, Vec<u8>)>>,
    ttl: Duration,
}

impl BlockCache {
    fn sweep_expired(&self) -> usize {
        let mut entries = self.entries.lock().unwrap();
        let before = entries.len();
        entries.retain(|_, (inserted, _)| inserted.elapsed() < self.ttl);
        before - entries.len()
    }
}

pub fn start_cache_sweeper(cache: Arc<BlockCache>, every: Duration) {
    // Leak: a named Builder thread; `.expect(..)` unwraps the spawn result and the
    // handle is then dropped. The sweep loop has no exit.
    thread::Builder::new()
        .name("block-cache-sweeper".into())
        .spawn(move || loop { //~ spawn_without_cancel
            thread::sleep(every);
            let evicted = cache.sweep_expired();
            log::debug!("evicted {evicted} cached blocks");
        })
        .expect("failed to spawn cache sweeper thread");
}

fn dispatch_admin_command(line: &str, commands: &SyncSender<String>) {
    if !line.trim().is_empty() {
        let _ = commands.send(line.trim().to_owned());
    }
}

pub fn start_stdin_console(commands: SyncSender<String>) {
    // Leak: `let _ =` detaches the thread, and `while true` has no exit: on EOF
    // `read_line` returns Ok(0) at once and the loop spins.
    let _ = thread::spawn(move || { //~ spawn_without_cancel
        let stdin = io::stdin();
        while true {
            let mut line = String::new();
            if stdin.lock().read_line(&mut line).is_err() {
                continue;
            }
            dispatch_admin_command(&line, &commands);
        }
    });
}

pub struct Spool {
    pending: Mutex<Vec<Vec<u8>>>,
}

impl Spool {
    fn take_batch(&self, max: usize) -> Vec<Vec<u8>> {
        let mut pending = self.pending.lock().unwrap();
        let keep = pending.len().saturating_sub(max);
        pending.split_off(keep)
    }
}

fn flush_spool_once(spool: &Spool, stop: &AtomicBool) {
    if stop.load(Ordering::Acquire) {
        return;
    }
    let batch = spool.take_batch(256);
    if batch.is_empty() {
        thread::sleep(Duration::from_millis(50));
        return;
    }
    for record in batch {
        log::trace!("flushed {} bytes", record.len());
    }
}

pub fn start_spool_flusher(spool: Arc<Spool>, stop: Arc<AtomicBool>) {
    // Leak despite the moved-in `stop` flag: the loop itself has no exit at all.
    // `flush_spool_once` sees the flag and returns, and the loop calls it again, so
    // once stopped the thread busy-spins forever.
    thread::spawn(move || { //~ spawn_without_cancel
        loop {
            flush_spool_once(&spool, &stop);
        }
    });
}

pub struct Heartbeat {
    pub node: u32,
    pub at: Instant,
}

fn raise_alarm(node_count: usize, timeout: Duration) {
    log::warn!("no heartbeat from {node_count} nodes within {timeout:?}");
}

fn watch_heartbeats(beats: &Receiver<Heartbeat>, timeout: Duration) {
    let mut last_seen: HashMap<u32, Instant> = HashMap::new();
    loop {
        match beats.recv_timeout(timeout) {
            Ok(beat) => {
                last_seen.insert(beat.node, beat.at);
            }
            // A disconnected channel lands here too, so the loop never ends and
            // spins once every sender is gone.
            Err(RecvTimeoutError::Timeout) | Err(RecvTimeoutError::Disconnected) => {
                raise_alarm(last_seen.len(), timeout)
            }
        }
    }
}

fn run_watchdog(beats: Receiver<Heartbeat>, timeout: Duration) {
    log::info!("watchdog started, timeout {timeout:?}");
    watch_heartbeats(&beats, timeout);
}

pub fn start_watchdog(beats: Receiver<Heartbeat>, timeout: Duration) {
    // Leak through two crate-local calls (run_watchdog -> watch_heartbeats): the
    // detached thread runs a loop with no exit.
    thread::spawn(move || run_watchdog(beats, timeout)); //~ spawn_without_cancel
}

pub struct Segments {
    dir: std::path::PathBuf,
}

impl Segments {
    fn remove_orphans(&self) -> io::Result<usize> {
        let mut removed = 0;
        for entry in std::fs::read_dir(&self.dir)? {
            let entry = entry?;
            if entry.path().extension().map_or(false, |ext| ext == "orphan") {
                std::fs::remove_file(entry.path())?;
                removed += 1;
            }
        }
        Ok(removed)
    }
}

pub fn start_orphan_reaper(segments: Arc<Segments>) {
    // Leak: `_reaper` is bound and never used again, so the handle is dropped at the
    // end of this fn (detached); the reaper loop has no exit.
    let _reaper = thread::Builder::new()
        .name("segment-reaper".to_owned())
        .spawn(move || { //~ spawn_without_cancel
            loop {
                thread::sleep(Duration::from_secs(60));
                match segments.remove_orphans() {
                    Ok(n) => log::info!("removed {n} orphaned segments"),
                    Err(err) => log::warn!("orphan sweep failed: {err}"),
                }
            }
        })
        .expect("failed to spawn segment reaper");
}
