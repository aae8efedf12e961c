//! Test code spawns endless fakes and never stops them; the test process exits when
//! the tests are done. Lints are off in test code, so none of these spawns is
//! reported, and neither are the non-test helpers that only tests spawn.

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// Forwards `payload` to `upstream` and returns the reply.
pub async fn forward_once(upstream: SocketAddr, payload: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut stream = tokio::net::TcpStream::connect(upstream).await?;
    stream.write_all(payload).await?;
    let mut reply = vec![0u8; payload.len()];
    stream.read_exact(&mut reply).await?;
    Ok(reply)
}

/// A fake upstream that echoes every connection, forever. Not test code itself, but
/// only the tests below spawn it.
pub async fn fake_echo_upstream(listener: TcpListener) {
    loop {
        let (mut stream, _) = listener.accept().await.expect("accept");
        let mut buf = [0u8; 1024];
        let n = stream.read(&mut buf).await.expect("read");
        stream.write_all(&buf[..n]).await.expect("write");
    }
}

#[tokio::test]
async fn forwards_to_upstream() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    // Test code: a detached endless fake is fine here.
    tokio::spawn(fake_echo_upstream(listener));
    let reply = forward_once(addr, b"ping").await.unwrap();
    assert_eq!(reply, b"ping");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn survives_slow_upstream() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    // Test code: an inline endless fake, detached.
    tokio::spawn(async move {
        loop {
            let (mut stream, _) = listener.accept().await.unwrap();
            tokio::time::sleep(Duration::from_millis(50)).await;
            let _ = stream.write_all(b"pong").await;
        }
    });
    let reply = forward_once(addr, b"ping").await.unwrap();
    assert_eq!(reply.len(), 4);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener as StdListener;
    use std::thread;

    fn spawn_blocking_echo() -> SocketAddr {
        let listener = StdListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        // Test code (inside `#[cfg(test)]`): a detached thread serving forever.
        thread::spawn(move || loop {
            let (mut stream, _) = listener.accept().unwrap();
            let mut buf = [0u8; 512];
            let n = stream.read(&mut buf).unwrap();
            stream.write_all(&buf[..n]).unwrap();
        });
        addr
    }

    #[tokio::test]
    async fn works_against_blocking_echo() {
        let addr = spawn_blocking_echo();
        let reply = forward_once(addr, b"hello").await.unwrap();
        assert_eq!(reply, b"hello");
    }
}
