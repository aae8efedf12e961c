use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio_util::sync::CancellationToken;

/// Pushes a replication heartbeat to every peer until the token is cancelled.
pub async fn replicate(peers: Vec<SocketAddr>, token: CancellationToken) {
    let mut ticker = tokio::time::interval(Duration::from_secs(5));
    loop {
        tokio::select! {
            _ = token.cancelled() => break,
            _ = ticker.tick() => {
                for peer in &peers {
                    if let Ok(mut stream) = TcpStream::connect(peer).await {
                        let _ = stream.write_all(b"REPL\n").await;
                    }
                }
            }
        }
    }
    tracing::info!("replication stopped");
}
