//! A method call on a local whose type the code states resolves to that type's method,
//! not to every method of the same name in the crate. Here the gateway's `Listener::run`
//! accepts forever (its owner races it against shutdown), while the `Session::run` each
//! detached task calls ends when the peer hangs up (mini-redis's shape).

use std::sync::Arc;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;

pub struct Listener {
    listener: TcpListener,
    limit: Arc<Semaphore>,
    max_frame: usize,
}

impl Listener {
    /// Accepts until an error; `serve` races it against ctrl-c.
    pub async fn run(&mut self) -> std::io::Result<()> {
        loop {
            let permit = self.limit.clone().acquire_owned().await.expect("semaphore is never closed");
            let (socket, _) = self.listener.accept().await?;
            let mut session = Session { socket, max_frame: self.max_frame };
            tokio::spawn(async move {
                if let Err(err) = session.run().await {
                    tracing::warn!(%err, "session failed");
                }
                drop(permit);
            });
        }
    }
}

pub struct Session {
    socket: TcpStream,
    max_frame: usize,
}

impl Session {
    /// Serves frames until the peer hangs up.
    pub async fn run(&mut self) -> std::io::Result<()> {
        while let Some(frame) = crate::frame::read(&mut self.socket, self.max_frame).await? {
            crate::frame::apply(frame).await;
        }
        Ok(())
    }

    pub fn new(socket: TcpStream, max_frame: usize) -> Self {
        Session { socket, max_frame }
    }
}

/// The type from a constructor: `Session::new(..)`.
pub fn adopt(socket: TcpStream) {
    let mut session = Session::new(socket, 64 * 1024);
    tokio::spawn(async move {
        let _ = session.run().await;
    });
}

/// The type from an annotation, and from a parameter.
pub fn adopt_all(sockets: Vec<TcpStream>, max_frame: usize) {
    for socket in sockets {
        let mut session: Session = Session::new(socket, max_frame);
        tokio::spawn(async move { session.run().await });
    }
}

pub fn resume(mut session: Session) {
    tokio::spawn(async move { session.run().await });
}

pub async fn serve(mut listener: Listener) -> std::io::Result<()> {
    tokio::select! {
        res = listener.run() => res,
        _ = tokio::signal::ctrl_c() => Ok(()),
    }
}
