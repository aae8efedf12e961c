//! `lost_cancel` (a): a `CancellationToken` is created, clones or child tokens of it are
//! handed to background tasks and threads, and then the token is forgotten. Nothing
//! calls `.cancel()` on it or on any clone, and it is not stored, returned or passed on,
//! so the tasks that select on `cancelled()` only look stoppable: nobody can stop them.

use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use bytes::Bytes;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::time::{self, MissedTickBehavior};
use tokio_util::sync::CancellationToken;

/// One outgoing webhook delivery.
pub struct Delivery {
    pub endpoint: String,
    pub body: Vec<u8>,
    pub attempt: u32,
}

pub struct WebhookSender {
    http: reqwest::Client,
}

impl WebhookSender {
    async fn deliver(&self, delivery: &Delivery) -> Result<(), reqwest::Error> {
        self.http.post(&delivery.endpoint).body(delivery.body.clone()).send().await?.error_for_status()?;
        Ok(())
    }
}

/// Starts `n` delivery workers that share one queue.
pub fn start_webhook_dispatcher(sender: Arc<WebhookSender>, queue: async_channel::Receiver<Delivery>, n: usize) {
    // Lost: every worker gets a clone and breaks on `cancelled()`, but the original is
    // dropped when this fn returns and `.cancel()` is never called on any of them.
    let shutdown = CancellationToken::new(); //~ lost_cancel
    for worker_id in 0..n {
        let token = shutdown.clone();
        let queue = queue.clone();
        let sender = Arc::clone(&sender);
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = token.cancelled() => break,
                    next = queue.recv() => {
                        let Ok(delivery) = next else { break };
                        if let Err(err) = sender.deliver(&delivery).await {
                            tracing::warn!(worker_id, attempt = delivery.attempt, error = %err, "webhook failed");
                        }
                    }
                }
            }
        });
    }
}

async fn heartbeat(frames: mpsc::Sender<Bytes>, session: CancellationToken) {
    let mut ticker = time::interval(Duration::from_secs(15));
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = session.cancelled() => break,
            _ = ticker.tick() => {
                if frames.send(Bytes::from_static(b"PING\r\n")).await.is_err() {
                    break;
                }
            }
        }
    }
}

async fn write_frames(mut writer: OwnedWriteHalf, mut frames: mpsc::Receiver<Bytes>, session: CancellationToken) {
    loop {
        tokio::select! {
            _ = session.cancelled() => break,
            frame = frames.recv() => match frame {
                Some(frame) => {
                    if writer.write_all(&frame).await.is_err() {
                        break;
                    }
                }
                None => break,
            },
        }
    }
}

async fn read_commands(reader: OwnedReadHalf, frames: mpsc::Sender<Bytes>) -> io::Result<()> {
    let mut lines = BufReader::new(reader).lines();
    while let Some(line) = lines.next_line().await? {
        let reply = format!("+OK {}\r\n", line.len());
        if frames.send(Bytes::from(reply)).await.is_err() {
            break;
        }
    }
    Ok(())
}

/// Serves one client session of the line protocol.
pub async fn handle_session(stream: TcpStream, server_shutdown: &CancellationToken) -> io::Result<()> {
    // Lost: the per-session child token was meant to stop the heartbeat and the writer
    // when the client disconnects, but it is never cancelled. Both tasks keep running
    // (and the heartbeat keeps the writer's channel open) until the whole server stops:
    // every closed session leaks two tasks and a socket half.
    let session = server_shutdown.child_token(); //~ lost_cancel
    let (reader, writer) = stream.into_split();
    let (frames_tx, frames_rx) = mpsc::channel(64);
    tokio::spawn(write_frames(writer, frames_rx, session.clone()));
    tokio::spawn(heartbeat(frames_tx.clone(), session.clone()));
    read_commands(reader, frames_tx).await
}

pub struct SegmentStore {
    compactions: AtomicU64,
}

impl SegmentStore {
    fn compact_one(&self) {
        self.compactions.fetch_add(1, Ordering::Relaxed);
    }
}

/// Compacts segment files on a dedicated OS thread (the work is CPU-bound). The caller
/// joins the returned handle during shutdown.
pub fn start_compactor(store: Arc<SegmentStore>) -> thread::JoinHandle<()> {
    // Lost: the thread checks `is_cancelled()` on its clone, but the token is never
    // cancelled, so the caller's `join()` at shutdown blocks forever.
    let stop = CancellationToken::new(); //~ lost_cancel
    let compactor_stop = stop.clone();
    thread::spawn(move || {
        while !compactor_stop.is_cancelled() {
            store.compact_one();
            thread::park_timeout(Duration::from_secs(30));
        }
    })
}

pub struct Sink {
    buffered: AtomicU64,
}

impl Sink {
    async fn ingest(&self, stream: TcpStream) {
        let _ = stream.peer_addr();
        self.buffered.fetch_add(1, Ordering::Relaxed);
    }

    async fn flush_all(&self) {
        self.buffered.store(0, Ordering::Relaxed);
    }
}

async fn accept_loop(listener: TcpListener, sink: Arc<Sink>, token: CancellationToken) {
    loop {
        tokio::select! {
            _ = token.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => sink.ingest(stream).await,
                Err(err) => tracing::warn!(error = %err, "accept failed"),
            },
        }
    }
}

/// Runs the ingest listener and the periodic flusher until shutdown is requested.
pub async fn run_ingest(listener: TcpListener, sink: Arc<Sink>) {
    // Lost: this fn waits for its own token, but nothing here (no ctrl_c task, no
    // closure, no caller) can cancel it, so `run_ingest` never returns and the final
    // flush never runs.
    let token = CancellationToken::new(); //~ lost_cancel
    let accept_token = token.child_token();
    tokio::spawn(accept_loop(listener, Arc::clone(&sink), accept_token));
    let flush_token = token.clone();
    let flusher = Arc::clone(&sink);
    tokio::spawn(async move {
        let mut ticker = time::interval(Duration::from_secs(1));
        loop {
            tokio::select! {
                _ = flush_token.cancelled() => break,
                _ = ticker.tick() => flusher.flush_all().await,
            }
        }
    });
    token.cancelled().await;
    sink.flush_all().await;
    tracing::info!("ingest stopped");
}

#[derive(Debug)]
pub enum UploadError {
    Aborted,
    Part(u16, String),
    Join(tokio::task::JoinError),
}

pub struct S3Uploader {
    bucket: String,
}

impl S3Uploader {
    async fn upload_part(&self, key: &str, part_number: u16, body: Bytes) -> Result<String, UploadError> {
        let _ = (&self.bucket, key, body.len());
        Ok(format!("etag-{part_number}"))
    }
}

/// Uploads all parts of a multipart object in parallel and returns their ETags.
pub async fn upload_parts(s3: Arc<S3Uploader>, key: String, parts: Vec<Bytes>) -> Result<Vec<String>, UploadError> {
    // Lost: each part can be aborted through its child token, but the `?` below returns
    // on the first failed part without `abort.cancel()`: the remaining parts keep
    // uploading (and billing) for an upload that has already failed.
    let abort = CancellationToken::new(); //~ lost_cancel
    let mut uploads = Vec::with_capacity(parts.len());
    for (idx, body) in parts.into_iter().enumerate() {
        let part_abort = abort.child_token();
        let s3 = Arc::clone(&s3);
        let key = key.clone();
        uploads.push(tokio::spawn(async move {
            tokio::select! {
                _ = part_abort.cancelled() => Err(UploadError::Aborted),
                etag = s3.upload_part(&key, idx as u16 + 1, body) => etag,
            }
        }));
    }
    let mut etags = Vec::with_capacity(uploads.len());
    for upload in uploads {
        etags.push(upload.await.map_err(UploadError::Join)??);
    }
    Ok(etags)
}
