//! `lost_cancel` (b): a `DropGuard` that is dropped in the statement that creates it.
//! `drop_guard()` is meant to cancel the token when the guard goes out of scope, but
//! `let _ = ..`, `drop(..)` and a bare expression statement drop the guard at once, so
//! the token is cancelled immediately and the tasks watching it stop before they start.
//! The safe fix is `let _guard = token.drop_guard();`.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use tokio::io::AsyncWriteExt;
use tokio::net::tcp::OwnedWriteHalf;
use tokio::net::TcpStream;
use tokio::sync::{oneshot, Mutex};
use tokio::time;
use tokio_util::codec::{FramedRead, LinesCodec};
use tokio_util::sync::CancellationToken;

async fn keepalive(writer: Arc<Mutex<OwnedWriteHalf>>, token: CancellationToken) {
    let mut ticker = time::interval(Duration::from_secs(20));
    loop {
        tokio::select! {
            _ = token.cancelled() => break,
            _ = ticker.tick() => {
                if writer.lock().await.write_all(b":keepalive\n\n").await.is_err() {
                    break;
                }
            }
        }
    }
}

/// Streams server-sent events to one subscriber until it hangs up.
pub async fn serve_event_stream(stream: TcpStream, topic: String) -> io::Result<()> {
    let token = CancellationToken::new();
    let (reader, writer) = stream.into_split();
    let writer = Arc::new(Mutex::new(writer));
    tokio::spawn(keepalive(Arc::clone(&writer), token.clone()));
    // Meant to stop the keepalive when this handler returns. `_` is not a binding: the
    // guard is dropped right here and the keepalive is cancelled before the first event.
    let _ = token.drop_guard(); //~ lost_cancel
    let mut acks = FramedRead::new(reader, LinesCodec::new());
    while let Some(line) = acks.next().await {
        let line = line.map_err(io::Error::other)?;
        tracing::trace!(%topic, ack = %line, "subscriber ack");
    }
    Ok(())
}

#[derive(Clone, Copy, Debug)]
pub struct PaymentId(pub u64);

#[derive(Debug)]
pub enum Settlement {
    Settled { amount_minor: i64 },
    Declined { reason: String },
}

#[derive(Debug)]
pub enum PspError {
    Timeout,
    PollerGone,
    Http(String),
}

pub struct PaymentProvider {
    base_url: String,
}

impl PaymentProvider {
    async fn poll_until_settled(&self, id: PaymentId) -> Result<Settlement, PspError> {
        let _ = (&self.base_url, id);
        Ok(Settlement::Settled { amount_minor: 0 })
    }
}

/// Waits up to a minute for the payment provider to settle `id`.
pub async fn await_settlement(
    psp: Arc<PaymentProvider>,
    id: PaymentId,
    parent: &CancellationToken,
) -> Result<Settlement, PspError> {
    let token = parent.child_token();
    let (done_tx, done_rx) = oneshot::channel();
    let poller_token = token.clone();
    tokio::spawn(async move {
        let outcome = tokio::select! {
            _ = poller_token.cancelled() => return,
            outcome = psp.poll_until_settled(id) => outcome,
        };
        let _ = done_tx.send(outcome);
    });
    // Meant as "cancel the poller if we stop waiting", but the guard is created and
    // dropped in one statement: the poller is cancelled at once and `done_rx` only ever
    // reports that the sender is gone.
    drop(token.drop_guard()); //~ lost_cancel
    match time::timeout(Duration::from_secs(60), done_rx).await {
        Ok(Ok(outcome)) => outcome,
        Ok(Err(_)) => Err(PspError::PollerGone),
        Err(_) => Err(PspError::Timeout),
    }
}

pub struct CrawlStats {
    pub fetched: std::sync::atomic::AtomicU64,
}

async fn report_progress(stats: Arc<CrawlStats>, token: CancellationToken) {
    let mut ticker = time::interval(Duration::from_secs(10));
    loop {
        tokio::select! {
            _ = token.cancelled() => break,
            _ = ticker.tick() => {
                let fetched = stats.fetched.load(std::sync::atomic::Ordering::Relaxed);
                tracing::info!(fetched, "crawl progress");
            }
        }
    }
}

pub struct Crawler {
    shutdown: CancellationToken,
    stats: Arc<CrawlStats>,
}

impl Crawler {
    async fn fetch_all(&self, seed: &str) -> usize {
        let _ = seed;
        0
    }

    /// Crawls one site, reporting progress every ten seconds while it runs.
    pub async fn crawl_site(&self, seed: &str) -> usize {
        let token = self.shutdown.child_token();
        tokio::spawn(report_progress(Arc::clone(&self.stats), token.clone()));
        // An expression statement: the `#[must_use]` guard is dropped at the `;`, so the
        // progress reporter is cancelled before the crawl starts.
        token.drop_guard(); //~ lost_cancel
        self.fetch_all(seed).await
    }
}

pub struct UploadJob {
    pub key: String,
    pub body: bytes::Bytes,
}

pub struct UploadSession {
    jobs: tokio::sync::mpsc::Sender<UploadJob>,
    worker: tokio::task::JoinHandle<()>,
}

async fn upload_worker(mut jobs: tokio::sync::mpsc::Receiver<UploadJob>, token: CancellationToken) {
    loop {
        tokio::select! {
            _ = token.cancelled() => break,
            job = jobs.recv() => match job {
                Some(job) => tracing::debug!(key = %job.key, len = job.body.len(), "uploaded"),
                None => break,
            },
        }
    }
}

impl UploadSession {
    /// Starts an upload worker that should stop when the session is dropped.
    pub fn start() -> Self {
        let (jobs, rx) = tokio::sync::mpsc::channel(32);
        let token = CancellationToken::new();
        let worker = tokio::spawn(upload_worker(rx, token.clone()));
        // Meant to be stored in the session ("cancel on drop"), but `let _ =` drops it
        // now: the worker is cancelled before the session is even returned.
        let _ = token.drop_guard(); //~ lost_cancel
        Self { jobs, worker }
    }

    pub async fn submit(&self, job: UploadJob) -> bool {
        !self.worker.is_finished() && self.jobs.send(job).await.is_ok()
    }
}
