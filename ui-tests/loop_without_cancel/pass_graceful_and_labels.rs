// Near-misses found in real crates: a graceful-shutdown branch on a fused, persistent
// future (axum's and tonic's per-connection loops), and an inner loop that is left by a
// labelled `break` to its outer loop (flume's `Selector::wait`).

use std::pin::pin;
use std::sync::mpsc::Receiver;
use std::thread;
use std::time::{Duration, Instant};

use futures::FutureExt;
use tokio::net::TcpStream;
use tokio::sync::watch;

pub fn serve_connection(stream: TcpStream, signal_tx: watch::Sender<()>, builder: ConnBuilder) {
    // ok: after the shutdown signal the loop keeps driving the connection to a graceful
    // end; `signal_closed` is fused, so it never fires twice, and the connection branch
    // breaks when the connection finishes.
    tokio::spawn(async move {
        let mut conn = pin!(builder.serve_connection(stream));
        let mut signal_closed = pin!(signal_tx.closed().fuse());
        loop {
            tokio::select! {
                result = conn.as_mut() => {
                    if let Err(err) = result {
                        tracing::trace!("failed to serve connection: {err:#}");
                    }
                    break;
                }
                _ = &mut signal_closed => {
                    tracing::trace!("signal received, starting graceful shutdown");
                    conn.as_mut().graceful_shutdown();
                }
            }
        }
    });
}

pub struct Selector<T> {
    signalled: Receiver<usize>,
    slots: Vec<Slot<T>>,
}

impl<T> Selector<T> {
    // ok: the parking loop inside the kept worker thread is left by `break 'outer`.
    pub fn wait_on_thread(self, deadline: Option<Instant>) -> thread::JoinHandle<Option<T>> {
        thread::spawn(move || {
            let mut me = self;
            'outer: loop {
                if let Some(v) = me.poll() {
                    break 'outer Some(v);
                }
                loop {
                    match deadline {
                        Some(d) => thread::park_timeout(d.saturating_duration_since(Instant::now())),
                        None => thread::park(),
                    }
                    if deadline.is_some_and(|d| Instant::now() >= d) {
                        break 'outer me.poll();
                    }
                    let Ok(token) = me.signalled.try_recv() else { continue };
                    if let Some(msg) = me.slots[token].poll() {
                        break 'outer Some(msg);
                    }
                }
            }
        })
    }

    fn poll(&mut self) -> Option<T> {
        self.slots.iter_mut().find_map(|s| s.poll())
    }
}

pub fn drain_with_timeout(rx: Receiver<Job>) -> thread::JoinHandle<()> {
    // ok: `while let` ends when every sender is gone.
    thread::spawn(move || {
        while let Ok(job) = rx.recv_timeout(Duration::from_secs(30)) {
            job.run();
        }
    })
}
