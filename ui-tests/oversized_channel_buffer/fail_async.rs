//! An async ingest gateway (tokio, async-channel, flume). Every queue between its
//! stages was sized "big enough to never fill": tens of thousands of slots. A buffer
//! that large never pushes back, so a slow stage is hidden until the process holds
//! hundreds of megabytes of queued events; broadcast and async-channel also allocate
//! the whole ring up front.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use tokio::net::UdpSocket;
use tokio::sync::{broadcast, mpsc};
use tokio::task::JoinHandle;

/// Batches flushed to the warehouse: 512 rows, at most 64 batches in flight.
const BATCH_ROWS: usize = 512;
const BATCHES_IN_FLIGHT: usize = 64;
/// Derived from the two above: 32_768 rows.
const ROW_QUEUE_DEPTH: usize = BATCH_ROWS * BATCHES_IN_FLIGHT;

/// 64 MiB of spool, counted in 1500-byte datagrams: 44_739 slots.
const SPOOL_BYTES: usize = 64 << 20;
const DATAGRAM_BYTES: usize = 1_500;

const MAX_PENDING_ALERTS: u32 = 25_000;

mod limits {
    /// Uploads accepted before the first one is written.
    pub const MAX_PENDING_UPLOADS: usize = 50_000;
}

#[derive(Clone, Debug)]
pub struct Event {
    pub source: SocketAddr,
    pub payload: Bytes,
}

#[derive(Clone, Debug)]
pub struct PriceTick {
    pub symbol: String,
    pub price: f64,
}

pub struct Row {
    pub table: String,
    pub values: Vec<String>,
}

pub struct Upload {
    pub key: String,
    pub body: Bytes,
}

pub struct Alert {
    pub rule: String,
    pub severity: u8,
}

pub struct Warehouse {
    dsn: String,
}

impl Warehouse {
    async fn insert(&self, rows: Vec<Row>) -> io::Result<()> {
        let _ = (&self.dsn, rows.len());
        Ok(())
    }
}

/// A UDP listener feeding a parser task. 100_000 buffered datagrams is ~150 MB before
/// anyone notices the parser is behind; the socket would have shed load instead.
pub async fn start_udp_ingest(addr: SocketAddr) -> io::Result<(JoinHandle<()>, mpsc::Receiver<Event>)> {
    let socket = UdpSocket::bind(addr).await?;
    let (tx, rx) = tokio::sync::mpsc::channel(100_000); //~ oversized_channel_buffer
    let reader = tokio::spawn(async move {
        let mut buf = vec![0u8; 65_535];
        while let Ok((n, source)) = socket.recv_from(&mut buf).await {
            let event = Event { source, payload: Bytes::copy_from_slice(&buf[..n]) };
            if tx.send(event).await.is_err() {
                break;
            }
        }
    });
    Ok((reader, rx))
}

/// Price ticks fanned out to every websocket session. A broadcast channel allocates all
/// 65_536 slots at once, and a lagging session only finds out after 65_536 ticks.
pub fn price_feed() -> broadcast::Sender<PriceTick> {
    let (tx, _initial_rx) = broadcast::channel(64 * 1024); //~ oversized_channel_buffer
    tx
}

/// Rows for the warehouse writer; the depth is a product of two constants.
pub fn start_row_writer(warehouse: Arc<Warehouse>) -> (mpsc::Sender<Row>, JoinHandle<()>) {
    let (tx, mut rx) = mpsc::channel(ROW_QUEUE_DEPTH); //~ oversized_channel_buffer
    let writer = tokio::spawn(async move {
        let mut batch = Vec::with_capacity(BATCH_ROWS);
        while let Some(row) = rx.recv().await {
            batch.push(row);
            if batch.len() == BATCH_ROWS {
                if let Err(err) = warehouse.insert(std::mem::take(&mut batch)).await {
                    tracing::error!(error = %err, "warehouse insert failed");
                }
            }
        }
        if !batch.is_empty() {
            let _ = warehouse.insert(batch).await;
        }
    });
    (tx, writer)
}

/// The replay spool sized by bytes over datagram size: still 44_739 slots.
pub fn replay_spool() -> (mpsc::Sender<Bytes>, mpsc::Receiver<Bytes>) {
    mpsc::channel(SPOOL_BYTES / DATAGRAM_BYTES) //~ oversized_channel_buffer
}

/// Uploads queue for the object-store writer; the limit lives in `limits`.
pub fn upload_queue() -> (async_channel::Sender<Upload>, async_channel::Receiver<Upload>) {
    async_channel::bounded(limits::MAX_PENDING_UPLOADS) //~ oversized_channel_buffer
}

/// Alerts for the pager integration, cast from a `u32` constant.
pub fn alert_queue() -> (flume::Sender<Alert>, flume::Receiver<Alert>) {
    flume::bounded(MAX_PENDING_ALERTS as usize) //~ oversized_channel_buffer
}

/// Audit events for compliance, sized exactly at the threshold: 10_000 slots.
pub fn start_audit_forwarder(endpoint: SocketAddr) -> (mpsc::Sender<Event>, JoinHandle<()>) {
    let (tx, mut rx) = mpsc::channel::<Event>(10_000usize); //~ oversized_channel_buffer
    let forwarder = tokio::spawn(async move {
        let socket = match UdpSocket::bind("0.0.0.0:0").await {
            Ok(socket) => socket,
            Err(err) => {
                tracing::error!(error = %err, "cannot bind audit socket");
                return;
            }
        };
        while let Some(event) = rx.recv().await {
            if let Err(err) = socket.send_to(&event.payload, endpoint).await {
                tracing::warn!(error = %err, "audit event dropped");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    });
    (tx, forwarder)
}
