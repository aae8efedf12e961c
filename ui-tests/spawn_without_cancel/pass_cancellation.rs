//! Detached background loops that can be told to stop: a cancellation source (token,
//! shutdown receiver, stop flag, a closed channel) is moved into the task and the loop
//! leaves when it fires. Detaching them is fine; none of these is a leak.

use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::sync::{broadcast, mpsc, oneshot, watch};
use tokio::time;
use tokio_util::sync::CancellationToken;

pub struct Outbox {
    pending: std::sync::Mutex<Vec<Vec<u8>>>,
    relay: SocketAddr,
}

impl Outbox {
    async fn flush_pending(&self) -> io::Result<usize> {
        let batch: Vec<Vec<u8>> = std::mem::take(&mut *self.pending.lock().unwrap());
        let mut stream = TcpStream::connect(self.relay).await?;
        for msg in &batch {
            stream.write_all(msg).await?;
        }
        Ok(batch.len())
    }
}

pub fn start_outbox_flusher(outbox: Arc<Outbox>, token: CancellationToken) {
    // Not a leak: the CancellationToken is moved in and its branch breaks the loop.
    tokio::spawn(async move {
        let mut ticker = time::interval(Duration::from_millis(250));
        loop {
            tokio::select! {
                _ = token.cancelled() => {
                    tracing::info!("outbox flusher stopping");
                    break;
                }
                _ = ticker.tick() => {
                    if let Err(err) = outbox.flush_pending().await {
                        tracing::warn!(error = %err, "outbox flush failed");
                    }
                }
            }
        }
    });
}

pub fn start_settings_poller(mut shutdown: watch::Receiver<bool>, current: Arc<AtomicU64>) {
    // Not a leak: a watch receiver named `shutdown` is moved in; its branch breaks.
    tokio::spawn(async move {
        let mut ticker = time::interval(Duration::from_secs(10));
        loop {
            tokio::select! {
                _ = shutdown.changed() => break,
                _ = ticker.tick() => {
                    let version = current.fetch_add(1, Ordering::Relaxed);
                    tracing::debug!(version, "settings polled");
                }
            }
        }
    });
}

pub fn start_keepalive(mut conn: TcpStream, mut sig: oneshot::Receiver<()>) {
    // Not a leak: `sig` (an unusual name, the tonic shape) is raced with `&mut sig` and
    // the branch leaves the loop.
    tokio::spawn(async move {
        let mut ticker = time::interval(Duration::from_secs(15));
        loop {
            tokio::select! {
                _ = &mut sig => break,
                _ = ticker.tick() => {
                    if conn.write_all(b"\0").await.is_err() {
                        break;
                    }
                }
            }
        }
    });
}

pub fn start_broadcast_fanout(
    mut updates: mpsc::Receiver<String>,
    subscribers: broadcast::Sender<String>,
    mut graceful: broadcast::Receiver<()>,
) {
    // Not a leak: `graceful` (a shutdown broadcast) is moved in and breaks the loop.
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = graceful.recv() => break,
                update = updates.recv() => match update {
                    Some(update) => {
                        let _ = subscribers.send(update);
                    }
                    None => break,
                },
            }
        }
    });
}

pub fn start_tick_producer(ticks: mpsc::Sender<u64>) {
    // Not a leak: `ticks.closed()` resolves once the consumer is gone and the branch
    // returns, so the producer ends with its consumer.
    tokio::spawn(async move {
        let mut n = 0u64;
        let mut ticker = time::interval(Duration::from_secs(1));
        loop {
            tokio::select! {
                _ = ticks.closed() => return,
                _ = ticker.tick() => {
                    n += 1;
                    let _ = ticks.try_send(n);
                }
            }
        }
    });
}

pub struct Sampler {
    pub period: Duration,
}

pub fn start_cpu_sampler(sampler: Sampler, running: Arc<AtomicBool>, gauge: Arc<AtomicU64>) {
    // Not a leak: the thread's `while` re-checks the `running` flag each round, so the
    // loop has a normal exit (and is not long-running whatever the flag is called).
    thread::spawn(move || {
        while running.load(Ordering::Acquire) {
            thread::sleep(sampler.period);
            gauge.store(procfs_cpu_jiffies(), Ordering::Relaxed);
        }
    });
}

fn procfs_cpu_jiffies() -> u64 {
    std::fs::read_to_string("/proc/stat")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        .unwrap_or(0)
}

pub fn start_log_rotator(dir: std::path::PathBuf, stop: Arc<AtomicBool>) {
    // Not a leak: the loop checks the `stop` flag every round and breaks.
    thread::Builder::new()
        .name("log-rotator".into())
        .spawn(move || loop {
            if stop.load(Ordering::Acquire) {
                break;
            }
            thread::sleep(Duration::from_secs(60));
            if let Err(err) = rotate_logs(&dir) {
                log::warn!("log rotation failed: {err}");
            }
        })
        .expect("failed to spawn log rotator");
}

fn rotate_logs(dir: &std::path::Path) -> io::Result<()> {
    let current = dir.join("service.log");
    if current.metadata()?.len() > 64 << 20 {
        std::fs::rename(&current, dir.join("service.log.1"))?;
    }
    Ok(())
}

pub fn start_cache_warmer(urls: Vec<String>, cache: Arc<AtomicU64>, token: CancellationToken) {
    // Not a leak: the whole body is raced against the token with
    // `run_until_cancelled` (the lint's own suggested fix), which drops the loop
    // when the token is cancelled.
    tokio::spawn(async move {
        token
            .run_until_cancelled(async move {
                let mut ticker = time::interval(Duration::from_secs(300));
                loop {
                    ticker.tick().await;
                    for url in &urls {
                        tracing::debug!(url = %url, "warming");
                        cache.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
            .await;
    });
}

#[derive(Debug)]
pub enum PumpError {
    ShuttingDown,
    Io(io::Error),
}

pub struct Source {
    upstream: TcpStream,
}

impl Source {
    async fn next_chunk(&mut self) -> io::Result<Vec<u8>> {
        let mut buf = vec![0u8; 8192];
        let n = tokio::io::AsyncReadExt::read(&mut self.upstream, &mut buf).await?;
        buf.truncate(n);
        Ok(buf)
    }
}

async fn pump_once(
    source: &mut Source,
    out: &mpsc::Sender<Vec<u8>>,
    shutdown: &mut broadcast::Receiver<()>,
) -> Result<(), PumpError> {
    tokio::select! {
        _ = shutdown.recv() => Err(PumpError::ShuttingDown),
        chunk = source.next_chunk() => {
            let chunk = chunk.map_err(PumpError::Io)?;
            let _ = out.send(chunk).await;
            Ok(())
        }
    }
}

pub fn start_pump(mut source: Source, out: mpsc::Sender<Vec<u8>>, mut shutdown: broadcast::Receiver<()>) {
    // Not a leak: `shutdown` is passed in, and the loop does have an exit (`?`):
    // `pump_once` turns the shutdown into an error that leaves the loop.
    tokio::spawn(async move {
        loop {
            pump_once(&mut source, &out, &mut shutdown).await?;
        }
        #[allow(unreachable_code)]
        Ok::<(), PumpError>(())
    });
}
