use std::io;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::task::TaskTracker;

struct Ingest {
    listener: TcpListener,
    conns: TaskTracker,
}

async fn read_points(stream: TcpStream) {
    let mut lines = BufReader::new(stream).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        tracing::trace!(point = %line, "ingested");
    }
}

impl Ingest {
    /// No exit of its own: main stops it by racing `serve` against the token.
    async fn accept_all(&self) -> io::Result<()> {
        loop {
            let (stream, _peer) = self.listener.accept().await?;
            self.conns.spawn(read_points(stream));
        }
    }
}

/// Called (and raced against the token) by main.
pub async fn serve(listener: TcpListener) -> io::Result<()> {
    let ingest = Ingest { listener, conns: TaskTracker::new() };
    ingest.accept_all().await
}
