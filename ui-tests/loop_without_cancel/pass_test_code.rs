//! Endless loops that only test code runs: fakes started from `#[test]` and
//! `#[tokio::test]` fns, and a `#[cfg(test)]` module with its own kept threads and
//! tracked tasks. Lints are off in test code, and helpers that only tests start are
//! not in task context of any linted spawn, so nothing here is reported.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc::Receiver;
use std::time::Duration;

/// Sends one line and reads the reply.
pub fn request(addr: std::net::SocketAddr, line: &str) -> std::io::Result<String> {
    let mut stream = TcpStream::connect(addr)?;
    writeln!(stream, "{line}")?;
    let mut reply = String::new();
    BufReader::new(stream).read_line(&mut reply)?;
    Ok(reply)
}

/// Replays recorded events into `sink` forever. Not test code itself, but the only
/// caller is the test below, which runs it on a kept thread (its handle is inspected).
pub fn replay_forever(events: Receiver<String>, mut sink: TcpStream) {
    loop {
        let event = events.recv().expect("recorder hung up");
        let _ = writeln!(sink, "{event}");
    }
}

/// An async fake that answers every connection with "OK", forever; only the tokio
/// test below runs it (a plain async fn in any case).
pub async fn fake_ok_server(listener: tokio::net::TcpListener) {
    use tokio::io::AsyncWriteExt;
    loop {
        let (mut stream, _) = listener.accept().await.expect("accept");
        let _ = stream.write_all(b"OK\n").await;
    }
}

#[test]
fn replays_into_sink() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = std::sync::mpsc::sync_channel(8);
    let sink = TcpStream::connect(addr).unwrap();
    // Test code: a kept thread whose callee never returns.
    let replayer = std::thread::spawn(move || replay_forever(rx, sink));
    tx.send("hello".to_owned()).unwrap();
    let (stream, _) = listener.accept().unwrap();
    let mut line = String::new();
    BufReader::new(stream).read_line(&mut line).unwrap();
    assert_eq!(line.trim(), "hello");
    assert!(!replayer.is_finished());
}

#[tokio::test]
async fn talks_to_fake_server() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let tracker = tokio_util::task::TaskTracker::new();
    // Test code: a tracked task running an endless fake.
    tracker.spawn(fake_ok_server(listener));
    let reply = tokio::task::spawn_blocking(move || request(addr, "PING")).await.unwrap().unwrap();
    assert_eq!(reply, "OK\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::thread;

    /// A fake upstream on a kept thread; `#[cfg(test)]` makes the whole module test
    /// code.
    fn start_echo() -> (std::net::SocketAddr, thread::JoinHandle<()>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let handle = thread::spawn(move || loop {
            let (stream, _) = listener.accept().unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            (&stream).write_all(line.as_bytes()).unwrap();
        });
        (addr, handle)
    }

    #[test]
    fn echo_round_trip() {
        let (addr, _echo) = start_echo();
        assert_eq!(request(addr, "abc").unwrap(), "abc\n");
    }

    #[tokio::test]
    async fn ticker_keeps_running() {
        let tracker = tokio_util::task::TaskTracker::new();
        tracker.spawn(async {
            let mut ticker = tokio::time::interval(Duration::from_millis(10));
            loop {
                ticker.tick().await;
            }
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(tracker.len(), 1);
    }
}
