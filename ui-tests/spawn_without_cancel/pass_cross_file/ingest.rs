use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

pub struct Doc {
    pub id: u64,
    pub body: String,
}

pub struct Ack {
    pub id: u64,
}

#[derive(Default)]
pub struct Index {
    docs: Mutex<HashMap<u64, String>>,
    acked: Mutex<Vec<u64>>,
}

impl Index {
    pub fn add(&self, doc: Doc) {
        self.docs.lock().unwrap().insert(doc.id, doc.body);
    }

    pub fn mark_acked(&self, id: u64) {
        self.acked.lock().unwrap().push(id);
    }

    pub fn len(&self) -> usize {
        self.docs.lock().unwrap().len()
    }
}

/// Indexes incoming documents until the token is cancelled or the senders are gone.
pub async fn consume(mut docs: mpsc::Receiver<Doc>, index: Arc<Index>, token: CancellationToken) {
    loop {
        tokio::select! {
            _ = token.cancelled() => break,
            doc = docs.recv() => match doc {
                Some(doc) => index.add(doc),
                None => break,
            },
        }
    }
    tracing::info!(indexed = index.len(), "ingest consumer stopped");
}

/// Forwards batches upstream. The first loop is a retry that breaks with its value.
pub async fn forward_upstream(addr: SocketAddr, mut batches: mpsc::Receiver<Vec<u8>>) {
    let mut backoff = Duration::from_millis(100);
    let mut conn = loop {
        match TcpStream::connect(addr).await {
            Ok(conn) => break conn,
            Err(err) => {
                tracing::warn!(error = %err, ?backoff, "upstream connect failed, retrying");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(10));
            }
        }
    };
    while let Some(batch) = batches.recv().await {
        if let Err(err) = conn.write_all(&batch).await {
            tracing::warn!(error = %err, "upstream write failed, giving up");
            return;
        }
    }
}

/// Records acknowledgements; ends when the channel has no senders left.
pub async fn collect_acks(mut acks: mpsc::Receiver<Ack>, index: Arc<Index>) {
    loop {
        match acks.recv().await {
            Some(ack) => index.mark_acked(ack.id),
            None => break,
        }
    }
}
