//! The audit log, written by its own OS thread.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvError, SyncSender};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::Duration;

pub struct Audit {
    stop: Arc<AtomicBool>,
    writer: Option<JoinHandle<()>>,
    lines: SyncSender<String>,
    drain: Option<JoinHandle<Result<(), RecvError>>>,
}

impl Audit {
    pub fn start(name: Arc<String>) -> Audit {
        let stop = Arc::new(AtomicBool::new(false));
        let stop_flag = stop.clone();
        // tasks: cancellation (flag) — the heartbeat thread checks the stop flag each
        // round; `Drop` sets it and joins the handle stored in `writer`.
        let writer = thread::spawn(move || {
            while !stop_flag.load(Ordering::Acquire) {
                tracing::info!(service = %name, "audit heartbeat");
                thread::sleep(Duration::from_secs(1));
            }
        });
        let (lines, rx) = mpsc::sync_channel::<String>(256);
        // tasks: channel close — `recv()?` fails once the sender in `lines` is dropped.
        let drain = thread::spawn(move || -> Result<(), RecvError> {
            loop {
                let line = rx.recv()?;
                tracing::info!(%line, "audit");
            }
        });
        Audit { stop, writer: Some(writer), lines, drain: Some(drain) }
    }

    pub fn record(&self, line: String) {
        let _ = self.lines.send(line);
    }
}

impl Drop for Audit {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(writer) = self.writer.take() {
            let _ = writer.join();
        }
        if let Some(drain) = self.drain.take() {
            drop(drain);
        }
    }
}
