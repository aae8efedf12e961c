//! Loops that do end, found in real services: an accept loop written as a future and
//! raced in `select!` against a shutdown signal (sccache's server shape), and worker
//! loops that stop when their channel closes, written with `?` on the receive instead of
//! `while let` (the senders being dropped is how the owner tells them to stop).

use std::io;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use futures::FutureExt;
use tokio::net::TcpListener;
use tokio::sync::{mpsc as tmpsc, oneshot};

/// The ingest server: runs until the shutdown signal fires or it goes idle.
pub async fn serve_ingest(listener: TcpListener, shutdown: oneshot::Receiver<()>) -> io::Result<()> {
    let server = async move {
        loop {
            let (socket, peer) = listener.accept().await?;
            tracing::debug!(%peer, "ingest connection");
            tokio::spawn(crate::ingest::handle(socket));
        }
    };
    tokio::select! {
        res = server => res,
        _ = shutdown => Ok(()),
    }
}

/// The admin listener, raced with `futures::select!` after `.fuse()`.
pub async fn serve_admin(listener: TcpListener, stop_rx: oneshot::Receiver<()>) -> io::Result<()> {
    let admin = async move {
        loop {
            let (socket, _) = listener.accept().await?;
            tokio::spawn(crate::admin::handle(socket));
        }
    };
    let mut admin = Box::pin(admin.fuse());
    let mut stop_rx = stop_rx.fuse();
    futures::select! {
        res = admin => res,
        _ = stop_rx => Ok(()),
    }
}

#[tokio::main]
async fn main() -> io::Result<()> {
    let (stop_tx, stop_rx) = oneshot::channel();
    let (admin_stop_tx, admin_stop_rx) = oneshot::channel();
    tokio::spawn(async move {
        let _ = tokio::signal::ctrl_c().await;
        let _ = stop_tx.send(());
        let _ = admin_stop_tx.send(());
    });
    let ingest = TcpListener::bind("0.0.0.0:9900").await?;
    let admin = TcpListener::bind("127.0.0.1:9901").await?;
    tokio::try_join!(serve_ingest(ingest, stop_rx), serve_admin(admin, admin_stop_rx))?;
    Ok(())
}

pub struct Record {
    pub line: String,
}

/// The journal writer thread ends when every sender is dropped: `recv()` fails only then.
pub fn start_journal(rx: mpsc::Receiver<Record>) -> thread::JoinHandle<()> {
    thread::spawn(move || {
        if let Err(mpsc::RecvError) = write_journal(rx) {
            tracing::info!("journal closed");
        }
    })
}

fn write_journal(rx: mpsc::Receiver<Record>) -> Result<(), mpsc::RecvError> {
    loop {
        let record = rx.recv()?;
        crate::journal::append(&record.line);
    }
}

/// A detached flusher thread on a crossbeam channel: it ends with the channel too.
pub fn start_flusher(rx: crossbeam_channel::Receiver<Vec<u8>>) {
    thread::spawn(move || -> Result<(), crossbeam_channel::RecvError> {
        loop {
            let batch = rx.recv()?;
            crate::sink::flush(&batch);
            thread::sleep(Duration::from_millis(5));
        }
    });
}

/// A tokio worker whose job queue closing ends it (`recv()` returns `None`).
pub fn start_resizer(mut jobs: tmpsc::Receiver<crate::images::Job>) {
    tokio::spawn(async move {
        let resized: Option<()> = async {
            loop {
                let job = jobs.recv().await?;
                crate::images::resize(job).await;
            }
        }
        .await;
        tracing::debug!(?resized, "resizer stopped");
    });
}

/// A cancellation branch that sets the flag the `while` condition reads: the loop ends
/// at the next check (once cancelled it does not spin).
pub fn start_forwarder(mut events: tmpsc::Receiver<String>, mut shutdown: tokio::sync::watch::Receiver<bool>) {
    tokio::spawn(async move {
        let mut stopping = false;
        while !stopping {
            tokio::select! {
                _ = shutdown.changed() => stopping = true,
                Some(event) = events.recv() => crate::sink::forward(event).await,
            }
        }
    });
}
