//! OS threads of a log-shipping agent whose handles are kept and joined, and whose
//! loops all have a way out: a stop flag, a disconnected channel, `while let`/`for`,
//! a labelled break, `process::exit`. Joining them terminates, so nothing is reported.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

type Job = Box<dyn FnOnce() + Send + 'static>;

/// The finished thread pool from the Rust book: the worker loop breaks when the job
/// channel disconnects, so `Drop` can join every worker.
pub struct ThreadPool {
    workers: Vec<(usize, Option<JoinHandle<()>>)>,
    sender: Option<SyncSender<Job>>,
}

impl ThreadPool {
    pub fn new(size: usize) -> Self {
        let (sender, receiver) = mpsc::sync_channel::<Job>(size * 4);
        let receiver = Arc::new(Mutex::new(receiver));
        let mut workers = Vec::with_capacity(size);
        for id in 0..size {
            let receiver = Arc::clone(&receiver);
            let handle = thread::spawn(move || loop {
                let message = receiver.lock().unwrap().recv();
                match message {
                    Ok(job) => job(),
                    Err(_) => {
                        log::debug!("worker {id} disconnected; shutting down");
                        break;
                    }
                }
            });
            workers.push((id, Some(handle)));
        }
        Self { workers, sender: Some(sender) }
    }

    pub fn execute<F: FnOnce() + Send + 'static>(&self, f: F) {
        if let Some(sender) = &self.sender {
            let _ = sender.send(Box::new(f));
        }
    }
}

impl Drop for ThreadPool {
    fn drop(&mut self) {
        drop(self.sender.take());
        for (_, handle) in &mut self.workers {
            if let Some(handle) = handle.take() {
                let _ = handle.join();
            }
        }
    }
}

/// Ships batched log lines; stops when `stop` is set (checked by the `while`).
pub struct Shipper {
    stop: Arc<AtomicBool>,
    handle: JoinHandle<()>,
}

impl Shipper {
    pub fn start(lines: Arc<Mutex<Vec<String>>>, collector: String) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let thread_stop = Arc::clone(&stop);
        let handle = thread::Builder::new()
            .name("log-shipper".into())
            .spawn(move || {
                while !thread_stop.load(Ordering::Acquire) {
                    thread::sleep(Duration::from_millis(500));
                    let batch = std::mem::take(&mut *lines.lock().unwrap());
                    if batch.is_empty() {
                        continue;
                    }
                    if let Ok(mut stream) = TcpStream::connect(&collector) {
                        let _ = stream.write_all(batch.join("\n").as_bytes());
                    }
                }
            })
            .expect("failed to spawn log shipper");
        Self { stop, handle }
    }

    pub fn stop(self) {
        self.stop.store(true, Ordering::Release);
        let _ = self.handle.join();
    }
}

/// Tails a file; the loop checks a `shutdown` flag each round and breaks.
pub fn spawn_tailer(path: PathBuf, shutdown: Arc<AtomicBool>, out: SyncSender<String>) -> JoinHandle<io::Result<()>> {
    thread::spawn(move || {
        let mut reader = BufReader::new(std::fs::File::open(&path)?);
        let mut line = String::new();
        loop {
            if shutdown.load(Ordering::Acquire) {
                break;
            }
            line.clear();
            if reader.read_line(&mut line)? == 0 {
                thread::sleep(Duration::from_millis(100));
                continue;
            }
            if out.send(line.clone()).is_err() {
                break;
            }
        }
        Ok(())
    })
}

/// Health endpoint: a `for` over `incoming()` always has a normal exit.
pub fn spawn_health_listener(listener: TcpListener, healthy: Arc<AtomicBool>) -> JoinHandle<()> {
    thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let body: &[u8] = if healthy.load(Ordering::Relaxed) { b"ok\n" } else { b"degraded\n" };
            let _ = stream.write_all(body);
        }
    })
}

/// Compresses rotated files until the channel disconnects (`while let`).
pub fn spawn_compressor(rotated: Receiver<PathBuf>) -> JoinHandle<()> {
    thread::spawn(move || {
        while let Ok(path) = rotated.recv() {
            if let Err(err) = compress(&path) {
                log::warn!("cannot compress {}: {err}", path.display());
            }
        }
    })
}

fn compress(path: &PathBuf) -> io::Result<()> {
    let mut data = Vec::new();
    std::fs::File::open(path)?.read_to_end(&mut data)?;
    std::fs::write(path.with_extension("gz"), data)
}

/// Flushes on a timer or when asked; `Disconnected` breaks out.
pub fn spawn_flusher(requests: Receiver<()>, pending: Arc<AtomicU64>) -> JoinHandle<()> {
    thread::spawn(move || loop {
        match requests.recv_timeout(Duration::from_secs(1)) {
            Ok(()) | Err(RecvTimeoutError::Timeout) => {
                let n = pending.swap(0, Ordering::AcqRel);
                log::trace!("flushed {n} pending lines");
            }
            Err(RecvTimeoutError::Disconnected) => break,
        }
    })
}

/// Reconnects and streams; the inner read loop leaves both loops with a labelled
/// break when the remote says goodbye.
pub fn spawn_remote_reader(addr: String, out: SyncSender<Vec<u8>>) -> JoinHandle<()> {
    thread::spawn(move || {
        'session: loop {
            let mut stream = match TcpStream::connect(&addr) {
                Ok(stream) => stream,
                Err(_) => {
                    thread::sleep(Duration::from_secs(1));
                    continue;
                }
            };
            let mut buf = [0u8; 4096];
            loop {
                match stream.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) if &buf[..n] == b"BYE" => break 'session,
                    Ok(n) => {
                        if out.send(buf[..n].to_vec()).is_err() {
                            break 'session;
                        }
                    }
                }
            }
        }
    })
}

/// Kills the process if the disk stays full; `process::exit` is a normal exit.
pub fn spawn_disk_guard(spool: PathBuf, full_since: Arc<Mutex<Option<Instant>>>) -> JoinHandle<()> {
    thread::spawn(move || loop {
        thread::sleep(Duration::from_secs(10));
        let full = fs2::available_space(&spool).map(|b| b < 64 << 20).unwrap_or(false);
        let mut since = full_since.lock().unwrap();
        match (*since, full) {
            (Some(at), true) if at.elapsed() > Duration::from_secs(300) => {
                eprintln!("spool disk full for 5 minutes, exiting");
                std::process::exit(75);
            }
            (None, true) => *since = Some(Instant::now()),
            (_, false) => *since = None,
            _ => {}
        }
    })
}

/// Waits on a condvar until there is work or the queue is closed.
pub struct WorkQueue {
    state: Mutex<(Vec<String>, bool)>,
    changed: Condvar,
}

pub fn spawn_queue_worker(queue: Arc<WorkQueue>) -> JoinHandle<usize> {
    thread::spawn(move || {
        let mut handled = 0;
        loop {
            let mut state = queue.state.lock().unwrap();
            while state.0.is_empty() && !state.1 {
                state = queue.changed.wait(state).unwrap();
            }
            if state.0.is_empty() && state.1 {
                return handled;
            }
            let items = std::mem::take(&mut state.0);
            drop(state);
            handled += items.len();
        }
    })
}

/// Splits a large file across scoped threads; the scope joins them all.
pub fn count_errors(lines: &[String]) -> usize {
    let chunks = lines.chunks(lines.len().max(1) / 4 + 1);
    let total = AtomicU64::new(0);
    thread::scope(|s| {
        for chunk in chunks {
            s.spawn(|| {
                let mut it = chunk.iter();
                loop {
                    let Some(line) = it.next() else { break };
                    if line.contains("ERROR") {
                        total.fetch_add(1, Ordering::Relaxed);
                    }
                }
            });
        }
    });
    total.into_inner() as usize
}

/// Rayon scope variant: the workers pull from a shared channel until it is empty.
pub fn parse_all(raw: Vec<String>) -> Vec<usize> {
    let (tx, rx) = crossbeam::channel::bounded::<String>(raw.len().max(1));
    for line in raw {
        let _ = tx.send(line);
    }
    drop(tx);
    let lengths = Mutex::new(Vec::new());
    rayon::scope(|s| {
        for _ in 0..4 {
            s.spawn(|_| {
                while let Ok(line) = rx.recv() {
                    lengths.lock().unwrap().push(line.len());
                }
            });
        }
    });
    lengths.into_inner().unwrap()
}

static STDIN_FORWARDER: OnceLock<JoinHandle<()>> = OnceLock::new();

/// Process-lifetime singleton: one forwarder per process, started in `get_or_init`
/// (its handle is even kept in the static). Endless on purpose.
pub fn ensure_stdin_forwarder(lines: Arc<Mutex<Vec<String>>>) {
    STDIN_FORWARDER.get_or_init(|| {
        thread::spawn(move || {
            let stdin = io::stdin();
            let mut line = String::new();
            loop {
                line.clear();
                match stdin.lock().read_line(&mut line) {
                    Ok(0) => thread::sleep(Duration::from_millis(200)),
                    Ok(_) => lines.lock().unwrap().push(line.trim_end().to_owned()),
                    Err(err) => eprintln!("stdin read failed: {err}"),
                }
            }
        })
    });
}
