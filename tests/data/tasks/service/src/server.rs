//! The job port: one line per job.

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::jobs::Job;

#[derive(Clone)]
pub struct Server {
    listener: Arc<TcpListener>,
    sessions: Arc<tokio::sync::Mutex<Vec<String>>>,
}

impl Server {
    pub async fn bind(addr: &str) -> std::io::Result<Server> {
        let listener = Arc::new(TcpListener::bind(addr).await?);
        Ok(Server { listener, sessions: Arc::default() })
    }

    pub fn name(&self) -> String {
        format!("{:?}", self.listener.local_addr().ok())
    }

    /// tasks: cancellation (token) — `accept_loop` returns when the token is cancelled;
    /// `main` awaits the handle this method returns.
    pub fn start(&self, token: CancellationToken, jobs: mpsc::Sender<Job>) -> JoinHandle<()> {
        let me = self.clone();
        tokio::spawn(async move { me.accept_loop(token, jobs).await })
    }

    async fn accept_loop(&self, token: CancellationToken, jobs: mpsc::Sender<Job>) {
        loop {
            tokio::select! {
                _ = token.cancelled() => return,
                accepted = self.listener.accept() => {
                    let Ok((socket, _)) = accepted else { continue };
                    // tasks: finite — one connection, read to its end.
                    tokio::spawn(read_jobs(socket, jobs.clone()));
                }
            }
        }
    }

    /// tasks: never — a detached loop with no way to stop it (`spawn_without_cancel`).
    pub fn spawn_reaper(&self) {
        let sessions = self.sessions.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(60));
            loop {
                tick.tick().await;
                let sessions = sessions.clone();
                // tasks: finite — one reap, spawned from the reaper's task (its parent).
                tokio::spawn(async move {
                    sessions.lock().await.retain(|s| !s.is_empty());
                });
            }
        });
    }
}

async fn read_jobs(socket: TcpStream, jobs: mpsc::Sender<Job>) {
    let mut lines = BufReader::new(socket).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        if jobs.send(Job(line)).await.is_err() {
            break;
        }
    }
}
