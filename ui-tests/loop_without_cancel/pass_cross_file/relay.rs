use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

/// Relays the upstream feed to stdout until `sig` fires (the tonic `&mut sig` shape).
pub async fn pump(upstream: SocketAddr, mut sig: oneshot::Receiver<()>) {
    let Ok(mut stream) = TcpStream::connect(upstream).await else {
        tracing::warn!(%upstream, "upstream unreachable, relay not started");
        return;
    };
    let mut buf = vec![0u8; 8192];
    let mut out = tokio::io::stdout();
    loop {
        tokio::select! {
            _ = &mut sig => break,
            read = stream.read(&mut buf) => match read {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    let _ = out.write_all(&buf[..n]).await;
                }
            },
        }
    }
}

/// Produces one sample per second until the consumer drops its receiver.
pub async fn produce_samples(samples: mpsc::Sender<u64>) {
    let mut ticker = tokio::time::interval(Duration::from_secs(1));
    let mut n = 0;
    loop {
        tokio::select! {
            _ = samples.closed() => return,
            _ = ticker.tick() => {
                n += 1;
                let _ = samples.try_send(n);
            }
        }
    }
}

/// Consumes samples until the token is cancelled.
pub async fn consume_samples(mut samples: mpsc::Receiver<u64>, token: CancellationToken) {
    loop {
        tokio::select! {
            _ = token.cancelled() => break,
            Some(sample) = samples.recv() => tracing::trace!(sample, "sample"),
        }
    }
}
