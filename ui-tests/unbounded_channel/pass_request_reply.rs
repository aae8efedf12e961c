//! Actor handles whose requests carry a reply sender the caller waits on (the reqwest
//! blocking-client and tokio-rusqlite shapes). The queue is unbounded, but every caller
//! blocks or awaits on its own reply, so it holds at most one message per waiting
//! caller: request/reply bounds it. Nothing here is reported.

use std::collections::HashMap;
use std::io;
use std::sync::mpsc::SyncSender;
use std::thread::{self, JoinHandle};
use std::time::Duration;

use bytes::Bytes;
use tokio::runtime::Runtime;
use tokio::sync::mpsc::{self, UnboundedReceiver, UnboundedSender};
use tokio::sync::oneshot;
use tokio::task::JoinHandle as TaskHandle;

/// Commands of a key-value actor; every variant carries its reply.
#[derive(Debug)]
pub enum Command {
    Get { key: String, reply: oneshot::Sender<Option<Bytes>> },
    Set { key: String, value: Bytes, reply: oneshot::Sender<Option<Bytes>> },
    Len { reply: oneshot::Sender<usize> },
}

#[derive(Clone)]
pub struct KvHandle {
    tx: UnboundedSender<Command>,
}

impl KvHandle {
    pub fn spawn() -> (KvHandle, TaskHandle<()>) {
        let (tx, mut rx) = mpsc::unbounded_channel::<Command>();
        let actor = tokio::spawn(async move {
            let mut map: HashMap<String, Bytes> = HashMap::new();
            while let Some(cmd) = rx.recv().await {
                match cmd {
                    Command::Get { key, reply } => {
                        let _ = reply.send(map.get(&key).cloned());
                    }
                    Command::Set { key, value, reply } => {
                        let _ = reply.send(map.insert(key, value));
                    }
                    Command::Len { reply } => {
                        let _ = reply.send(map.len());
                    }
                }
            }
        });
        (KvHandle { tx }, actor)
    }

    pub async fn get(&self, key: &str) -> Option<Bytes> {
        let (reply, rx) = oneshot::channel();
        self.tx.send(Command::Get { key: key.to_owned(), reply }).ok()?;
        rx.await.ok().flatten()
    }
}

pub struct HttpRequest {
    pub url: String,
    pub body: Vec<u8>,
}

pub struct HttpResponse {
    pub status: u16,
    pub body: Vec<u8>,
}

/// A blocking facade over a runtime thread (the reqwest blocking client shape): the
/// sync caller sends a request and blocks on `SyncSender`'s receiving end for the answer.
pub struct BlockingRequest {
    pub request: HttpRequest,
    pub reply: SyncSender<io::Result<HttpResponse>>,
}

pub struct BlockingClient {
    tx: UnboundedSender<BlockingRequest>,
    runtime_thread: JoinHandle<()>,
}

impl BlockingClient {
    pub fn new(rt: Runtime) -> BlockingClient {
        let (tx, mut rx): (UnboundedSender<BlockingRequest>, UnboundedReceiver<BlockingRequest>) =
            mpsc::unbounded_channel();
        let runtime_thread = thread::spawn(move || {
            rt.block_on(async move {
                while let Some(req) = rx.recv().await {
                    let response = HttpResponse { status: 200, body: req.request.body };
                    let _ = req.reply.send(Ok(response));
                }
            })
        });
        BlockingClient { tx, runtime_thread }
    }

    pub fn execute(&self, request: HttpRequest, timeout: Duration) -> io::Result<HttpResponse> {
        let (reply, reply_rx) = std::sync::mpsc::sync_channel(1);
        self.tx
            .send(BlockingRequest { request, reply })
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "runtime thread gone"))?;
        reply_rx.recv_timeout(timeout).map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "no response"))?
    }

    pub fn close(self) {
        drop(self.tx);
        let _ = self.runtime_thread.join();
    }
}

/// Queries for a database thread (the tokio-rusqlite shape): async callers await a
/// oneshot reply from a sync thread fed by a crossbeam channel.
pub enum DbCall {
    Query { sql: String, reply: oneshot::Sender<Result<Vec<String>, String>> },
    Execute { sql: String, reply: oneshot::Sender<Result<usize, String>> },
}

pub struct Db {
    calls: crossbeam_channel::Sender<DbCall>,
}

impl Db {
    pub fn open() -> (Db, JoinHandle<()>) {
        let (calls, rx) = crossbeam_channel::unbounded::<DbCall>();
        let worker = thread::spawn(move || {
            for call in rx {
                match call {
                    DbCall::Query { sql, reply } => {
                        let _ = reply.send(Ok(vec![sql]));
                    }
                    DbCall::Execute { sql, reply } => {
                        let _ = reply.send(Ok(sql.len()));
                    }
                }
            }
        });
        (Db { calls }, worker)
    }

    pub async fn execute(&self, sql: &str) -> Result<usize, String> {
        let (reply, rx) = oneshot::channel();
        self.calls.send(DbCall::Execute { sql: sql.to_owned(), reply }).map_err(|e| e.to_string())?;
        rx.await.map_err(|e| e.to_string())?
    }
}
