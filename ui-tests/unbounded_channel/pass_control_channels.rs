//! Control channels of a worker pool (the actix-server `stop_rx` shape): unbounded
//! channels that carry shutdown, stop, cancel, kill, quit and close requests. A
//! control channel sees a handful of messages in its whole life, and its bindings say
//! so by name: nothing here is reported.

use std::sync::mpsc::TryRecvError;
use std::thread::{self, JoinHandle};
use std::time::Duration;

use futures::channel::mpsc as fmpsc;
use futures::StreamExt;
use tokio::sync::mpsc::{self, UnboundedSender};
use tokio::sync::oneshot;
use tokio::task::JoinHandle as TaskHandle;

pub struct Job {
    pub id: u64,
}

/// How a worker should stop, and who to tell when it has.
pub struct Stop {
    pub graceful: bool,
    pub done: oneshot::Sender<bool>,
}

/// An async worker: jobs arrive on a bounded queue, the stop request on its own
/// unbounded control channel.
pub struct AsyncWorker {
    jobs: mpsc::Sender<Job>,
    shutdown_tx: UnboundedSender<Stop>,
    task: TaskHandle<()>,
}

impl AsyncWorker {
    pub fn start() -> AsyncWorker {
        let (jobs, mut job_rx) = mpsc::channel::<Job>(256);
        let (shutdown_tx, mut shutdown_rx) = mpsc::unbounded_channel::<Stop>();
        let task = tokio::spawn(async move {
            loop {
                tokio::select! {
                    stop = shutdown_rx.recv() => {
                        if let Some(stop) = stop {
                            let _ = stop.done.send(stop.graceful);
                        }
                        break;
                    }
                    job = job_rx.recv() => match job {
                        Some(job) => tracing::debug!(job = job.id, "processing"),
                        None => break,
                    },
                }
            }
        });
        AsyncWorker { jobs, shutdown_tx, task }
    }

    pub async fn submit(&self, job: Job) -> bool {
        self.jobs.send(job).await.is_ok()
    }

    pub async fn stop(self, graceful: bool) -> bool {
        let (done, done_rx) = oneshot::channel();
        let _ = self.shutdown_tx.send(Stop { graceful, done });
        let stopped = done_rx.await.unwrap_or(false);
        let _ = self.task.await;
        stopped
    }
}

/// A thread worker polled with a stop channel between jobs.
pub fn start_thread_worker(jobs: std::sync::mpsc::Receiver<Job>) -> (std::sync::mpsc::Sender<()>, JoinHandle<u64>) {
    let (stop_tx, stop_rx) = std::sync::mpsc::channel();
    let worker = thread::spawn(move || {
        let mut done = 0;
        loop {
            match stop_rx.try_recv() {
                Ok(()) | Err(TryRecvError::Disconnected) => break,
                Err(TryRecvError::Empty) => {}
            }
            match jobs.recv_timeout(Duration::from_millis(100)) {
                Ok(_job) => done += 1,
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => continue,
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
            }
        }
        done
    });
    (stop_tx, worker)
}

/// crossbeam: a cancel channel selected next to the work queue.
pub fn start_scanner(paths: crossbeam_channel::Receiver<String>) -> (crossbeam_channel::Sender<()>, JoinHandle<()>) {
    let (cancel_tx, cancel_rx) = crossbeam_channel::unbounded::<()>();
    let scanner = thread::spawn(move || loop {
        crossbeam_channel::select! {
            recv(cancel_rx) -> _ => break,
            recv(paths) -> path => match path {
                Ok(path) => tracing::trace!(%path, "scanning"),
                Err(_) => break,
            },
        }
    });
    (cancel_tx, scanner)
}

/// flume: a supervisor can kill a child worker; the child checks between steps.
pub struct Child {
    kill_tx: flume::Sender<&'static str>,
    handle: JoinHandle<()>,
}

impl Child {
    pub fn start(steps: u32) -> Child {
        let (kill_tx, kill_rx) = flume::unbounded();
        let handle = thread::spawn(move || {
            for step in 0..steps {
                if let Ok(reason) = kill_rx.try_recv() {
                    tracing::warn!(step, reason, "child killed");
                    return;
                }
                thread::sleep(Duration::from_millis(10));
            }
        });
        Child { kill_tx, handle }
    }

    pub fn kill(self, reason: &'static str) {
        let _ = self.kill_tx.send(reason);
        let _ = self.handle.join();
    }
}

/// async-channel: only the receiving end is named for its purpose; the sender lives in
/// the handle's `quit` field.
pub struct Listener {
    quit: async_channel::Sender<()>,
    task: TaskHandle<usize>,
}

impl Listener {
    pub fn start(events: async_channel::Receiver<String>) -> Listener {
        let (tx, quit_rx) = async_channel::unbounded();
        let task = tokio::spawn(async move {
            let mut seen = 0;
            loop {
                tokio::select! {
                    _ = quit_rx.recv() => break,
                    event = events.recv() => match event {
                        Ok(_) => seen += 1,
                        Err(_) => break,
                    },
                }
            }
            seen
        });
        Listener { quit: tx, task }
    }

    pub async fn quit(self) -> usize {
        let _ = self.quit.send(()).await;
        self.task.await.unwrap_or(0)
    }
}

/// futures: the connection's close requests, consumed by its driver.
pub struct Connection {
    close_tx: fmpsc::UnboundedSender<u16>,
}

impl Connection {
    pub fn open() -> (Connection, TaskHandle<Option<u16>>) {
        let (close_tx, mut close_rx) = fmpsc::unbounded();
        let driver = tokio::spawn(async move { close_rx.next().await });
        (Connection { close_tx }, driver)
    }

    pub fn close(&self, code: u16) {
        let _ = self.close_tx.unbounded_send(code);
    }
}
