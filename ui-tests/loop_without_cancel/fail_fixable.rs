//! Loops the fix can repair: each runs where nothing can stop it (`main`, a task on a
//! `TaskTracker` whose handle is discarded), its body is a `tokio::select!`, and a
//! `CancellationToken` is in scope, so the unsafe fix inserts
//! `_ = token.cancelled() => break,` as the first branch (after `biased;`).

use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

pub struct Sample {
    pub name: &'static str,
    pub value: f64,
}

pub struct Sink {
    buffered: Vec<Sample>,
}

impl Sink {
    fn record(&mut self, s: Sample) {
        self.buffered.push(s);
    }

    async fn flush(&mut self) {
        self.buffered.clear();
    }
}

/// Drains the metrics queue on the tracker. `TaskTracker::wait` waits for this task at
/// shutdown, but nothing ends it: the senders live as long as the process.
pub fn start_drainer(tracker: &TaskTracker, token: CancellationToken, mut rx: mpsc::Receiver<Sample>, mut sink: Sink) {
    tracker.spawn(async move {
        let mut flush = tokio::time::interval(Duration::from_secs(10));
        loop { //~ loop_without_cancel
            tokio::select! {
                Some(sample) = rx.recv() => sink.record(sample),
                _ = flush.tick() => sink.flush().await,
            }
        }
    });
}

async fn handle(socket: TcpStream, registry: Arc<Registry>) {
    registry.connections.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    drop(socket);
}

pub struct Registry {
    connections: std::sync::atomic::AtomicU64,
}

mod shutdown {
    /// Cancels the returned token on Ctrl-C.
    pub fn install() -> tokio_util::sync::CancellationToken {
        tokio_util::sync::CancellationToken::new()
    }
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let token: CancellationToken = shutdown::install();
    let registry = Arc::new(Registry { connections: Default::default() });
    let listener = TcpListener::bind("0.0.0.0:9000").await?;
    let mut report = tokio::time::interval(Duration::from_secs(30));
    // The signal handler cancels `token`, but this loop never looks at it.
    loop { //~ loop_without_cancel
        tokio::select! {
            biased;
            _ = report.tick() => tracing::info!("still accepting"),
            accepted = listener.accept() => {
                let (socket, _) = accepted?;
                handle(socket, registry.clone()).await;
            }
        }
    }
}
