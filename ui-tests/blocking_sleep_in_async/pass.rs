//! A job runner that mixes sync and async code. This file imports `std::thread::sleep`
//! at the top, and async code around it calls it a lot, but in none of these places is
//! the sleep's nearest enclosing fn-like an async fn, async block or async closure
//! (or the name does not resolve to `std::thread::sleep` there). None is a finding.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread::{self, sleep};
use std::time::Duration;

use tokio::sync::Mutex;
use tokio::task::{self, JoinHandle};

const LOCK_RETRY: Duration = Duration::from_millis(100);

pub struct Job {
    pub id: u64,
    pub input: PathBuf,
    pub output: PathBuf,
}

/// Takes an exclusive lock file, retrying while another process holds it. Sync: it is
/// meant for `spawn_blocking`, and that is how the async code below calls it.
fn acquire_lock_file(path: &Path, attempts: u32) -> io::Result<File> {
    for _ in 0..attempts {
        match OpenOptions::new().write(true).create_new(true).open(path) {
            Ok(f) => return Ok(f),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => sleep(LOCK_RETRY),
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::new(io::ErrorKind::WouldBlock, "lock file is held"))
}

/// Not a finding: the sleep is in `acquire_lock_file`, a sync fn. Calling a sync fn
/// from async code is not flagged (the lint looks at the nearest fn-like only), and
/// here it correctly runs on the blocking pool.
pub async fn run_job(job: Job) -> io::Result<()> {
    let lock_path = job.output.with_extension("lock");
    let _lock = task::spawn_blocking(move || acquire_lock_file(&lock_path, 50)).await??;
    let data = tokio::fs::read(&job.input).await?;
    tokio::fs::write(&job.output, data).await
}

/// Not a finding: a fn-local `use tokio::time::sleep` shadows the file's
/// `std::thread::sleep`, so `sleep(..)` here is tokio's timer, awaited.
pub async fn wait_for_input(job: &Job) -> io::Result<()> {
    use tokio::time::sleep;
    while !tokio::fs::try_exists(&job.input).await? {
        sleep(Duration::from_millis(200)).await;
    }
    Ok(())
}

/// Not a finding: the same shadowing in a nested block of an async fn.
pub async fn retry_upload(job: &Job, attempts: u32) -> io::Result<()> {
    let mut last_err = None;
    for attempt in 0..attempts {
        match tokio::fs::copy(&job.output, job.output.with_extension("uploaded")).await {
            Ok(_) => return Ok(()),
            Err(e) => {
                use tokio::time::sleep;
                last_err = Some(e);
                sleep(Duration::from_millis(50 << attempt)).await;
            }
        }
    }
    Err(last_err.unwrap_or_else(|| io::Error::other("no attempts")))
}

/// Not a finding: the sleep is inside the closure given to `spawn_blocking`; that
/// closure is the nearest fn-like and runs on the blocking pool.
pub async fn compress_with_pauses(paths: Vec<PathBuf>) -> io::Result<usize> {
    let handle = task::spawn_blocking(move || {
        let mut done = 0;
        for p in &paths {
            let bytes = fs::read(p)?;
            fs::write(p.with_extension("gz"), miniz_oxide::deflate::compress_to_vec(&bytes, 6))?;
            done += 1;
            // Keep the disk usable for the rest of the host.
            thread::sleep(Duration::from_millis(5));
        }
        Ok::<_, io::Error>(done)
    });
    handle.await.map_err(io::Error::other)?
}

/// Not a finding: `block_in_place` tells tokio this worker will block; the sync
/// closure is the nearest fn-like.
pub async fn wait_for_device(dev: &Path) -> bool {
    task::block_in_place(|| {
        for _ in 0..10 {
            if dev.exists() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        false
    })
}

/// Not a finding: a dedicated OS thread started from async code; its closure is sync.
/// The handle is returned, and the loop is a bounded `for`.
pub async fn start_watchdog(pid_file: PathBuf, checks: u32) -> thread::JoinHandle<bool> {
    let _ = tokio::fs::metadata(&pid_file).await;
    thread::spawn(move || {
        for _ in 0..checks {
            if !pid_file.exists() {
                return false;
            }
            sleep(Duration::from_secs(1));
        }
        true
    })
}

/// Not a finding: rayon runs the closure on its own pool, not on a runtime worker.
pub async fn schedule_thumbnail(job: Job) {
    let source = tokio::fs::read(&job.input).await.unwrap_or_default();
    rayon::spawn(move || {
        // Rate limit the thumbnailer's disk writes.
        sleep(Duration::from_millis(10));
        let _ = fs::write(&job.output, &source);
    });
}

/// Not a finding (a documented limit): the iterator closure is sync, and it is the
/// nearest fn-like. The lint does not try to prove that a sync closure is called on
/// the spot rather than handed to another thread.
pub async fn stagger_starts(jobs: &[Job]) -> Vec<u64> {
    let ids: Vec<u64> = jobs
        .iter()
        .map(|j| {
            thread::sleep(Duration::from_millis(1));
            j.id
        })
        .collect();
    tokio::task::yield_now().await;
    ids
}

/// Not a finding: a sync fn nested inside an async fn is its own fn-like.
pub async fn drain_spool(spool: PathBuf) -> io::Result<usize> {
    fn remove_with_backoff(path: &Path) -> io::Result<()> {
        for attempt in 0..3u32 {
            match fs::remove_file(path) {
                Ok(()) => return Ok(()),
                Err(_) => std::thread::sleep(Duration::from_millis(10 << attempt)),
            }
        }
        fs::remove_file(path)
    }

    let mut entries = tokio::fs::read_dir(&spool).await?;
    let mut paths = Vec::new();
    while let Some(entry) = entries.next_entry().await? {
        paths.push(entry.path());
    }
    let n = paths.len();
    task::spawn_blocking(move || paths.iter().try_for_each(|p| remove_with_backoff(p)))
        .await
        .map_err(io::Error::other)??;
    Ok(n)
}

/// Not a finding: a futures executor's `block_on` runs the async block on the calling
/// (sync) thread; no runtime worker is blocked.
pub fn flush_sync(state: Arc<Mutex<Vec<Job>>>) -> usize {
    futures::executor::block_on(async {
        let pending = state.lock().await;
        if !pending.is_empty() {
            sleep(Duration::from_millis(20));
        }
        pending.len()
    })
}

/// Not a finding: the async block is the direct argument of `Runtime::block_on`.
pub fn run_cli_job(job: Job) -> io::Result<()> {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    rt.block_on(async move {
        // Give the NFS mount a moment after the CLI created the file.
        std::thread::sleep(Duration::from_millis(100));
        run_job(job).await
    })
}

/// A clock that tests can fake.
pub trait Clock: Send + Sync {
    fn sleep(&self, d: Duration) -> futures::future::BoxFuture<'_, ()>;
}

/// Not a finding: `clock.sleep(..)` is a method call, and the trait's method is async.
pub async fn wait_between_batches(clock: &dyn Clock) {
    clock.sleep(Duration::from_secs(1)).await;
}

/// Not a finding: async-std's timer, imported in the fn.
pub async fn async_std_pause() {
    use async_std::task::sleep;
    sleep(Duration::from_millis(10)).await;
}

/// Not a finding: actix's timer through the `actix_web::rt` re-export, imported in the
/// fn.
pub async fn actix_pause() {
    use actix_web::rt::time::sleep;
    sleep(Duration::from_millis(10)).await;
}

pub struct Worker {
    jobs: Mutex<Vec<Job>>,
    handle: Option<JoinHandle<()>>,
}

impl Worker {
    /// Not a finding: a sync method; async callers are not followed.
    pub fn settle(&self) {
        sleep(Duration::from_millis(50));
    }

    pub async fn next_job(&self) -> Option<Job> {
        self.jobs.lock().await.pop()
    }
}

impl Drop for Worker {
    /// Not a finding: `drop` is sync.
    fn drop(&mut self) {
        if let Some(h) = self.handle.take() {
            h.abort();
            // Give the aborted task's destructors a moment to run.
            sleep(Duration::from_millis(10));
        }
    }
}
