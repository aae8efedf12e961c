//! Thread-based workers of an image-processing service. Their owners keep the
//! `JoinHandle`s and join them on shutdown, but the loops inside never end, so the
//! joins block forever: an OS thread cannot be cancelled from outside.

use std::collections::VecDeque;
use std::io;
use std::os::unix::net::UnixDatagram;
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

type Job = Box<dyn FnOnce() + Send + 'static>;

struct Worker {
    id: usize,
    thread: Option<JoinHandle<()>>,
}

impl Worker {
    fn new(id: usize, receiver: Arc<Mutex<Receiver<Job>>>) -> Worker {
        let thread = thread::spawn(move || {
            // Leak (kept thread): the first draft of the classic thread pool. The loop
            // only ends by panicking (`unwrap` on a disconnected channel), so the
            // `join()` in `ThreadPool::drop` waits forever.
            loop { //~ loop_without_cancel
                let job = receiver.lock().unwrap().recv().unwrap();
                log::trace!("worker {id} got a job");
                job();
            }
        });
        Worker { id, thread: Some(thread) }
    }
}

pub struct ThreadPool {
    workers: Vec<Worker>,
    sender: Option<SyncSender<Job>>,
}

impl ThreadPool {
    pub fn new(size: usize) -> ThreadPool {
        let (sender, receiver) = mpsc::sync_channel(size * 4);
        let receiver = Arc::new(Mutex::new(receiver));
        let workers = (0..size).map(|id| Worker::new(id, Arc::clone(&receiver))).collect();
        ThreadPool { workers, sender: Some(sender) }
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
        for worker in &mut self.workers {
            log::debug!("joining worker {}", worker.id);
            if let Some(thread) = worker.thread.take() {
                thread.join().unwrap();
            }
        }
    }
}

pub struct StatsReporter {
    handle: JoinHandle<()>,
}

#[derive(Default)]
pub struct Stats {
    pub processed: std::sync::atomic::AtomicU64,
}

impl StatsReporter {
    pub fn start(stats: Arc<Stats>, statsd: UnixDatagram) -> Self {
        // Kept: the Builder result is unwrapped with `.expect(..)` and stored.
        let handle = thread::Builder::new()
            .name("stats-reporter".into())
            .spawn(move || {
                // Leak (kept thread): `while true` with no break; `finish()` below joins
                // a thread that never finishes.
                while true { //~ loop_without_cancel
                    thread::sleep(Duration::from_secs(10));
                    let n = stats.processed.swap(0, std::sync::atomic::Ordering::Relaxed);
                    let _ = statsd.send(format!("images.processed:{n}|c").as_bytes());
                }
            })
            .expect("failed to spawn stats reporter");
        Self { handle }
    }

    pub fn finish(self) {
        let _ = self.handle.join();
    }
}

pub struct ResizeQueue {
    items: Mutex<VecDeque<(u64, Vec<u8>)>>,
    ready: Condvar,
}

impl ResizeQueue {
    pub fn push(&self, id: u64, image: Vec<u8>) {
        self.items.lock().unwrap().push_back((id, image));
        self.ready.notify_one();
    }
}

fn resize(image: &[u8]) -> Vec<u8> {
    image.iter().step_by(2).copied().collect()
}

pub fn start_resizer(queue: Arc<ResizeQueue>, out: SyncSender<(u64, Vec<u8>)>) -> JoinHandle<()> {
    // Kept: the handle is returned to the caller.
    thread::spawn(move || {
        // Leak (kept thread): the consumer loop waits on a condvar and has no exit; the
        // inner `while` ends, the outer `loop` never does.
        loop { //~ loop_without_cancel
            let mut items = queue.items.lock().unwrap();
            while items.is_empty() {
                items = queue.ready.wait(items).unwrap();
            }
            let (id, image) = items.pop_front().expect("checked non-empty");
            drop(items);
            let _ = out.send((id, resize(&image)));
        }
    })
}

pub struct Events {
    socket: UnixDatagram,
}

fn dispatch(buf: &[u8], seen: &mut u64) {
    *seen += 1;
    log::trace!("event #{seen}: {} bytes", buf.len());
}

fn poll_events(events: &Events) -> io::Result<()> {
    let mut buf = [0u8; 2048];
    let mut seen = 0;
    // Leak (kept thread, two calls deep: closure -> run_event_loop -> poll_events):
    // only an I/O error (`?`) ends this loop.
    loop { //~ loop_without_cancel
        let n = events.socket.recv(&mut buf)?;
        dispatch(&buf[..n], &mut seen);
    }
}

fn run_event_loop(events: Events) {
    let started = Instant::now();
    if let Err(err) = poll_events(&events) {
        log::error!("event loop failed after {:?}: {err}", started.elapsed());
    }
}

pub struct EventThread {
    handle: Option<JoinHandle<()>>,
}

impl EventThread {
    pub fn start(events: Events) -> Self {
        let handle = thread::spawn(move || run_event_loop(events));
        Self { handle: Some(handle) }
    }
}

impl Drop for EventThread {
    fn drop(&mut self) {
        if let Some(handle) = self.handle.take() {
            let _ = handle.join();
        }
    }
}

pub fn start_thumbnail_janitor(dir: std::path::PathBuf) {
    // Detached thread: lint 2 reports it at the spawn (one finding per bug), so lint 1
    // stays silent on its loop.
    thread::spawn(move || { //~ spawn_without_cancel
        loop {
            thread::sleep(Duration::from_secs(600));
            if let Ok(entries) = std::fs::read_dir(&dir) {
                for entry in entries.flatten() {
                    let _ = std::fs::remove_file(entry.path());
                }
            }
        }
    });
}

/// The builder is bound first (to name the thread), then spawned: still an OS thread,
/// and keeping its handle does not make the accept loop stoppable.
pub fn start_listener_thread(addr: std::net::SocketAddr) -> io::Result<thread::JoinHandle<()>> {
    let builder = thread::Builder::new().name("listener".into());
    builder.spawn(move || {
        let listener = std::net::TcpListener::bind(addr).expect("bind the listener");
        loop { //~ loop_without_cancel
            match listener.accept() {
                Ok((stream, _)) => crate::conn::serve(stream),
                Err(err) => log::warn!("accept failed: {err}"),
            }
        }
    })
}
