//! Work off the async runtime: invoice rendering, spool cleanup, the order
//! journal, and the per-shard fulfilment consumers.

use std::collections::VecDeque;
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use tokio::task::JoinSet;
use tracing::{debug, error, info, warn};

use crate::cache::Reservations;
use crate::notify::Notification;
use crate::Order;

const SWEEP_EVERY: Duration = Duration::from_secs(300);
const SPOOL_MAX_AGE: Duration = Duration::from_secs(24 * 3600);
const SHARD_POLL: Duration = Duration::from_millis(250);

/// Renders invoice batches on a dedicated thread (rendering is CPU-bound).
pub fn spawn_invoice_renderer(rx: Receiver<Vec<Order>>, out_dir: PathBuf) {
    // BUG(spawn_without_cancel): detached thread, no stop flag, no exit. Once
    // every sender is gone `recv` fails at once and the loop spins.
    std::thread::spawn(move || loop {
        if let Ok(batch) = rx.recv() {
            render_batch(&batch, &out_dir);
            debug!(orders = batch.len(), "invoice batch done");
        }
    });
}

/// Invoice text buffers, reused so rendering does not allocate per invoice.
static INVOICE_BUF_POOL: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// A batch's rendering context, recycled between batches.
struct RenderJob {
    out_dir: Arc<PathBuf>,
    rendered: Vec<u64>,
}

// BUG(pool_holds_pointers): an idle job keeps its `out_dir` `Arc` (and whatever
// it would point at) alive for the life of the process.
static RENDER_JOB_POOL: Mutex<Vec<RenderJob>> = Mutex::new(Vec::new());

/// Renders a batch in parallel, a quarter of it per thread.
fn render_batch(batch: &[Order], out_dir: &Path) {
    let mut job = RENDER_JOB_POOL
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .pop()
        .unwrap_or_else(|| RenderJob { out_dir: Arc::new(out_dir.to_path_buf()), rendered: Vec::new() });
    let dir = Arc::clone(&job.out_dir);
    thread::scope(|s| {
        for chunk in batch.chunks(batch.len().div_ceil(4).max(1)) {
            let dir = Arc::clone(&dir);
            // ok: scoped thread, joined when the scope ends.
            s.spawn(move || {
                for order in chunk {
                    let path = dir.join(format!("invoice-{}.txt", order.id));
                    let mut body = INVOICE_BUF_POOL.lock().unwrap_or_else(PoisonError::into_inner).pop().unwrap_or_default();
                    body.push_str(&format!("INVOICE {}\n{} x {}\n", order.id, order.quantity, order.sku));
                    if let Err(e) = fs::write(&path, &body) {
                        error!(order = order.id, error = %e, "invoice rendering failed");
                    }
                    // BUG(pool_put_without_reset): the next invoice is appended to
                    // this one's text.
                    INVOICE_BUF_POOL.lock().unwrap_or_else(PoisonError::into_inner).push(body);
                }
            });
        }
    });
    job.rendered.clear();
    job.rendered.extend(batch.iter().map(|o| o.id));
    RENDER_JOB_POOL.lock().unwrap_or_else(PoisonError::into_inner).push(job);
}

/// Deletes spooled files older than a day. Stopped and joined on drop.
pub struct SpoolSweeper {
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
}

impl SpoolSweeper {
    pub fn start(dir: PathBuf) -> SpoolSweeper {
        let stop = Arc::new(AtomicBool::new(false));
        let stop_flag = Arc::clone(&stop);
        let handle = thread::Builder::new()
            .name("spool-sweeper".into())
            .spawn(move || {
                // ok: checks the stop flag every round and breaks.
                loop {
                    if stop_flag.load(Ordering::Acquire) {
                        break;
                    }
                    match sweep(&dir) {
                        Ok(0) => {}
                        Ok(removed) => info!(removed, "spool swept"),
                        Err(e) => warn!(dir = %dir.display(), error = %e, "spool sweep failed"),
                    }
                    thread::park_timeout(SWEEP_EVERY);
                }
            })
            .expect("failed to spawn the spool sweeper thread");
        SpoolSweeper { stop, handle: Some(handle) }
    }
}

impl Drop for SpoolSweeper {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(handle) = self.handle.take() {
            handle.thread().unpark();
            let _ = handle.join();
        }
    }
}

fn sweep(dir: &Path) -> std::io::Result<usize> {
    let mut removed = 0;
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        if entry.metadata()?.modified()?.elapsed().unwrap_or_default() > SPOOL_MAX_AGE {
            fs::remove_file(entry.path())?;
            removed += 1;
        }
    }
    Ok(removed)
}

static JOURNAL: OnceLock<SyncSender<Order>> = OnceLock::new();

/// Append-only journal for the nightly reconciliation, written by a single
/// thread for the whole process.
pub fn journal() -> &'static SyncSender<Order> {
    JOURNAL.get_or_init(|| {
        let (tx, rx) = mpsc::sync_channel::<Order>(1024);
        // ok: process-lifetime singleton started once by `get_or_init`; its
        // sender lives in a static, so it is meant to run until exit.
        thread::Builder::new()
            .name("order-journal".into())
            .spawn(move || {
                let mut file = OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open("orders.journal")
                    .expect("cannot open orders.journal");
                loop {
                    let order = rx.recv().expect("the journal sender lives in a static");
                    let line = serde_json::to_string(&order).unwrap_or_default();
                    if let Err(e) = writeln!(file, "{line}").and_then(|()| file.sync_data()) {
                        error!(order = order.id, error = %e, "journal write failed");
                    }
                }
            })
            .expect("failed to spawn the journal thread");
        tx
    })
}

/// Accepted orders waiting for fulfilment, one FIFO per shard.
pub struct Outbox {
    shards: Vec<Mutex<VecDeque<Order>>>,
}

impl Outbox {
    pub fn new(shards: usize) -> Outbox {
        Outbox { shards: (0..shards.max(1)).map(|_| Mutex::default()).collect() }
    }

    fn shard(&self, i: usize) -> std::sync::MutexGuard<'_, VecDeque<Order>> {
        self.shards[i].lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn push(&self, order: Order) {
        self.shard((order.id % self.shards.len() as u64) as usize).push_back(order);
    }

    /// Stops intake for good at shutdown: holds every shard's lock so late pushes wait.
    pub fn freeze(&self) {
        for shard in &self.shards {
            let guard = shard.lock().unwrap_or_else(PoisonError::into_inner);
            // BUG(forget_lock_guard): the lock is never released; any late POS
            // connection that pushes an order blocks its worker thread forever.
            std::mem::forget(guard);
        }
    }
}

/// One consumer per shard: confirms the stock hold, hands the batch to the
/// invoice renderer and queues the customer notification.
pub fn spawn_shard_consumers(
    outbox: Arc<Outbox>,
    reservations: Reservations,
    notify_tx: tokio::sync::mpsc::Sender<Notification>,
    invoice_tx: SyncSender<Vec<Order>>,
) -> JoinSet<()> {
    let mut consumers = JoinSet::new();
    for shard in 0..outbox.shards.len() {
        let (outbox, reservations) = (Arc::clone(&outbox), reservations.clone());
        let (notify_tx, invoice_tx) = (notify_tx.clone(), invoice_tx.clone());
        // ok: spawned on a JoinSet, which aborts its tasks on shutdown/drop.
        consumers.spawn(async move {
            let mut tick = tokio::time::interval(SHARD_POLL);
            loop {
                tick.tick().await;
                let batch: Vec<Order> = outbox.shard(shard).drain(..).collect();
                for order in &batch {
                    reservations.confirm(order.id);
                    if let Err(e) = notify_tx.send(Notification::order_confirmed(order)).await {
                        warn!(shard, order = order.id, error = %e, "notification queue closed");
                    }
                }
                if !batch.is_empty() && invoice_tx.try_send(batch).is_err() {
                    warn!(shard, "invoice renderer busy, batch skipped");
                }
            }
        });
    }
    consumers
}
