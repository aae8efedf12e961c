//! Capacity-1 channels of `()`, `bool` or a unit-struct token used as locks in a media and
//! storage service. Each channel is shared (stored in a struct, or cloned into tasks and
//! threads), and one code path takes the only slot, does the guarded work, then frees the
//! slot. That is a mutex without a guard: a `?` or a panic between acquire and release
//! skips the release, and every later caller blocks forever on a lock nobody holds.
//! `Mutex<T>` around the data (or a `Semaphore` for a permit) releases on drop.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::{Arc, Mutex};
use std::thread;

use tokio::sync::{mpsc, Mutex as AsyncMutex, RwLock};
use tokio::task::JoinSet;

/// Appenders allowed in the write-ahead log at once (it has no record framing lock).
const WAL_WRITERS: usize = 1;
/// Compactions allowed to rewrite the manifest at once.
const MANIFEST_WRITERS: usize = 1;

pub struct AuthClient {
    endpoint: String,
}

impl AuthClient {
    async fn fetch_token(&self) -> io::Result<String> {
        Ok(format!("token-for-{}", self.endpoint))
    }
}

/// Caches the bearer token of the upstream API and refreshes it on demand.
pub struct TokenCache {
    client: AuthClient,
    token: RwLock<Option<String>>,
    refresh_tx: mpsc::Sender<()>,
    refresh_rx: AsyncMutex<mpsc::Receiver<()>>,
}

impl TokenCache {
    pub fn new(client: AuthClient) -> Self {
        // Shape A, tokio, `()` from the turbofish: both endpoints live in the struct and
        // `refresh` sends (acquire), fetches, then receives (release). A failed fetch
        // returns early through `?`, the slot stays full and every later refresh hangs.
        let (refresh_tx, refresh_rx) = mpsc::channel::<()>(1); //~ channel_as_mutex
        Self { client, token: RwLock::new(None), refresh_tx, refresh_rx: AsyncMutex::new(refresh_rx) }
    }

    pub async fn refresh(&self) -> io::Result<String> {
        self.refresh_tx.send(()).await.expect("the receiver lives in `self`");
        let fresh = self.client.fetch_token().await?;
        *self.token.write().await = Some(fresh.clone());
        self.refresh_rx.lock().await.recv().await;
        Ok(fresh)
    }
}

/// Appends length-prefixed records to the write-ahead log shared by the ingest threads.
pub struct WalWriter {
    file: File,
    slot_tx: SyncSender<()>,
    slot_rx: Arc<Mutex<Receiver<()>>>,
}

impl WalWriter {
    pub fn open(path: &Path) -> io::Result<Self> {
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        // Shape A, std: the capacity is a crate `const` equal to 1 and the element type
        // comes from the `let` annotation. A failed write in `append` leaves the slot
        // taken, and the next appender blocks in `send` for good.
        let (tx, rx): (SyncSender<()>, Receiver<()>) = sync_channel(WAL_WRITERS); //~ channel_as_mutex
        Ok(Self { file, slot_tx: tx, slot_rx: Arc::new(Mutex::new(rx)) })
    }

    pub fn append(&self, record: &[u8]) -> io::Result<()> {
        self.slot_tx.send(()).expect("the receiver lives in `self`");
        let mut file = &self.file;
        file.write_all(&(record.len() as u32).to_le_bytes())?;
        file.write_all(record)?;
        file.sync_data()?;
        self.slot_rx.lock().unwrap().recv().expect("the sender lives in `self`");
        Ok(())
    }
}

/// The single hardware encoder on the box: whoever holds the token may feed it.
struct EncoderToken;

fn decode_frames(input: &Path) -> io::Result<Vec<u8>> {
    std::fs::read(input)
}

fn encode_on_device(frames: &[u8], output: &Path) -> io::Result<()> {
    std::fs::write(output, frames)
}

pub fn transcode_all(batches: Vec<Vec<PathBuf>>) -> Vec<io::Result<usize>> {
    // Shape B, crossbeam, a unit-struct token pre-filled once: each worker thread
    // receives it to acquire the encoder and sends it back to release. An encode error
    // returns with the token taken; the other workers block in `recv` and the `join`
    // below never returns.
    let (token_tx, token_rx) = crossbeam_channel::bounded(1); //~ channel_as_mutex
    token_tx.send(EncoderToken).expect("a fresh channel has room for the token");
    let mut workers = Vec::new();
    for batch in batches {
        let token_tx = token_tx.clone();
        let token_rx = token_rx.clone();
        workers.push(thread::spawn(move || -> io::Result<usize> {
            let mut encoded = 0;
            for input in batch {
                let frames = decode_frames(&input)?;
                token_rx.recv().expect("the token is never dropped");
                encode_on_device(&frames, &input.with_extension("h264"))?;
                token_tx.send(EncoderToken).expect("the receivers are alive");
                encoded += 1;
            }
            Ok(encoded)
        }));
    }
    workers.into_iter().map(|w| w.join().expect("encoder worker panicked")).collect()
}

#[derive(Clone)]
pub struct TenantDb {
    dsn: String,
}

impl TenantDb {
    async fn copy_rows(&self, tenant: u64) -> io::Result<u64> {
        Ok(tenant + self.dsn.len() as u64)
    }

    async fn alter_schema(&self, tenant: u64) -> io::Result<()> {
        tracing::info!(tenant, dsn = %self.dsn, "altering tenant schema");
        Ok(())
    }
}

pub async fn migrate_tenants(db: TenantDb, tenants: Vec<u64>) -> io::Result<u64> {
    // Shape B, tokio: the element type comes from `send(())`, and the receiver goes in
    // an `Arc<Mutex<..>>` so every task can "unlock". Row copies run in parallel, DDL one
    // tenant at a time; a failing `alter_schema` skips the `recv`, the other tasks wait
    // in `send` forever and `join_next` never finishes.
    let (ddl_tx, ddl_rx) = mpsc::channel(1); //~ channel_as_mutex
    let ddl_rx = Arc::new(AsyncMutex::new(ddl_rx));
    let mut migrations = JoinSet::new();
    for tenant in tenants {
        let db = db.clone();
        let ddl_tx = ddl_tx.clone();
        let ddl_rx = Arc::clone(&ddl_rx);
        migrations.spawn(async move {
            let rows = db.copy_rows(tenant).await?;
            ddl_tx.send(()).await.expect("the receiver is shared by every task");
            db.alter_schema(tenant).await?;
            ddl_rx.lock().await.recv().await;
            Ok::<u64, io::Error>(rows)
        });
    }
    let mut copied = 0;
    while let Some(done) = migrations.join_next().await {
        copied += done.expect("migration task panicked")?;
    }
    Ok(copied)
}

/// A GSM modem on a serial line, shared by the SMS and the USSD handlers.
pub struct Modem {
    port: File,
    line_tx: flume::Sender<bool>,
    line_rx: flume::Receiver<bool>,
}

impl Modem {
    pub fn open(device: &Path) -> io::Result<Self> {
        let port = OpenOptions::new().read(true).write(true).open(device)?;
        // Shape A, flume, `bool` from the annotation, pre-filled with `true`: `command`
        // takes the flag, talks to the modem and puts it back. A write error returns
        // with the flag taken, and every later command blocks in `recv`.
        let (line_tx, line_rx): (flume::Sender<bool>, flume::Receiver<bool>) = flume::bounded(1); //~ channel_as_mutex
        line_tx.send(true).expect("a fresh channel has room for the flag");
        Ok(Self { port, line_tx, line_rx })
    }

    pub fn command(&self, at: &str) -> io::Result<()> {
        self.line_rx.recv().expect("the sender lives in `self`");
        let mut port = &self.port;
        port.write_all(at.as_bytes())?;
        port.write_all(b"\r")?;
        port.flush()?;
        self.line_tx.send(true).expect("the receiver lives in `self`");
        Ok(())
    }
}

pub struct Shard {
    pub id: u32,
    pub dir: PathBuf,
}

async fn compact_shard(shard: &Shard) -> io::Result<Vec<PathBuf>> {
    let merged = shard.dir.join(format!("merged-{}.sst", shard.id));
    async_std::fs::write(&merged, b"").await?;
    Ok(vec![merged])
}

async fn rewrite_manifest(root: &Path, shard: u32, files: &[PathBuf]) -> io::Result<()> {
    let listing: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    async_std::fs::write(root.join(format!("MANIFEST-{shard}")), listing.join("\n")).await
}

pub async fn compact_all(root: PathBuf, shards: Vec<Shard>) -> io::Result<()> {
    // Shape B, async_channel with a `const` capacity of 1 and a `()` turbofish: shards
    // compact in parallel but serialize the manifest rewrite on cloned endpoints.
    let (manifest_tx, manifest_rx) = async_channel::bounded::<()>(MANIFEST_WRITERS); //~ channel_as_mutex
    let mut compactions = Vec::new();
    for shard in shards {
        let manifest_tx = manifest_tx.clone();
        let manifest_rx = manifest_rx.clone();
        let root = root.clone();
        compactions.push(async_std::task::spawn(async move {
            let files = compact_shard(&shard).await?;
            manifest_tx.send(()).await.expect("a receiver is alive");
            rewrite_manifest(&root, shard.id, &files).await?;
            manifest_rx.recv().await.expect("a sender is alive");
            Ok::<(), io::Error>(())
        }));
    }
    for compaction in compactions {
        compaction.await?;
    }
    Ok(())
}

pub fn build_targets(checkout: PathBuf, targets: Vec<String>) -> Vec<io::Result<()>> {
    // Shape B, std threads: the token is pre-filled and the receiver is shared through
    // `Arc<Mutex<..>>`. Each thread receives to own the working tree, checks out its
    // target, builds it and sends the token back; a failed command returns without the send.
    let (tree_tx, tree_rx) = std::sync::mpsc::sync_channel::<()>(1); //~ channel_as_mutex
    tree_tx.send(()).expect("a fresh channel has room for the token");
    let tree_rx = Arc::new(Mutex::new(tree_rx));
    let mut builders = Vec::new();
    for target in targets {
        let (checkout, tree_tx, tree_rx) = (checkout.clone(), tree_tx.clone(), Arc::clone(&tree_rx));
        builders.push(thread::spawn(move || -> io::Result<()> {
            tree_rx.lock().unwrap().recv().expect("the token is never dropped");
            Command::new("git").args(["checkout", "--quiet", &target]).current_dir(&checkout).status()?;
            Command::new("cargo").args(["build", "--release"]).current_dir(&checkout).status()?;
            tree_tx.send(()).expect("the receiver is shared by every builder");
            Ok(())
        }));
    }
    builders.into_iter().map(|b| b.join().expect("builder thread panicked")).collect()
}
