//! JSON-RPC over stdio that survives bad input: a frame that is not JSON, or not a
//! message, gets a JSON-RPC error response (`id: null`) and the server reads on.
//! (lsp-server's own stdio transport stops at the first malformed frame.)

use std::io::{BufRead, Write};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};

use lsp_server::{Connection, Message};

/// The writer thread; the reader is left to end with stdin.
pub struct IoThreads {
    writer: JoinHandle<()>,
}

impl IoThreads {
    /// Waits until every queued message is written.
    pub fn join(self) {
        let _ = self.writer.join();
    }
}

type Out = Arc<Mutex<std::io::Stdout>>;

fn write_error(out: &Out, code: i32, message: &str) {
    let body =
        serde_json::json!({ "jsonrpc": "2.0", "id": null, "error": { "code": code, "message": message } }).to_string();
    let mut o = out.lock().unwrap_or_else(|p| p.into_inner());
    let _ = write!(o, "Content-Length: {}\r\n\r\n{body}", body.len());
    let _ = o.flush();
}

/// One frame's body; `Ok(None)` at end of input; `Err` for a bad header block.
fn read_frame(input: &mut impl BufRead) -> std::io::Result<Option<Result<Vec<u8>, String>>> {
    let mut length: Option<usize> = None;
    let mut bad = None;
    let mut saw_header = false;
    loop {
        let mut line = String::new();
        if input.read_line(&mut line)? == 0 {
            return Ok(None);
        }
        let line = line.trim_end_matches(['\r', '\n']);
        if line.is_empty() {
            if saw_header {
                break;
            }
            continue;
        }
        saw_header = true;
        match line.split_once(':') {
            Some((k, v)) if k.eq_ignore_ascii_case("content-length") => match v.trim().parse() {
                Ok(n) => length = Some(n),
                Err(_) => bad = Some(format!("bad Content-Length `{}`", v.trim())),
            },
            Some((k, _)) if k.eq_ignore_ascii_case("content-type") => {}
            _ => bad = Some(format!("not a header: `{}`", line.chars().take(80).collect::<String>())),
        }
    }
    match (length, bad) {
        (Some(n), None) if n <= 64 * 1024 * 1024 => {
            let mut body = vec![0; n];
            input.read_exact(&mut body)?;
            Ok(Some(Ok(body)))
        }
        (_, Some(msg)) => Ok(Some(Err(msg))),
        _ => Ok(Some(Err("missing or oversized Content-Length".into()))),
    }
}

/// A connection over stdin/stdout.
pub fn stdio() -> (Connection, IoThreads) {
    let out: Out = Arc::new(Mutex::new(std::io::stdout()));
    let (to_client, outgoing) = crossbeam_channel::unbounded::<Message>();
    let writer_out = out.clone();
    let writer = thread::spawn(move || {
        for msg in outgoing {
            let mut o = writer_out.lock().unwrap_or_else(|p| p.into_inner());
            if msg.write(&mut *o).is_err() {
                break;
            }
        }
    });
    let (from_client, incoming) = crossbeam_channel::unbounded::<Message>();
    thread::spawn(move || {
        let stdin = std::io::stdin();
        let mut input = stdin.lock();
        loop {
            match read_frame(&mut input) {
                Ok(None) | Err(_) => break,
                Ok(Some(Err(header))) => write_error(&out, -32700, &format!("parse error: {header}")),
                Ok(Some(Ok(body))) => match serde_json::from_slice::<Message>(&body) {
                    Ok(msg) => {
                        let exit = matches!(&msg, Message::Notification(n) if n.method == "exit");
                        if from_client.send(msg).is_err() || exit {
                            break;
                        }
                    }
                    Err(e) if serde_json::from_slice::<serde_json::Value>(&body).is_ok() => {
                        write_error(&out, -32600, &format!("invalid request: {e}"))
                    }
                    Err(e) => write_error(&out, -32700, &format!("parse error: {e}")),
                },
            }
        }
    });
    (Connection { sender: to_client, receiver: incoming }, IoThreads { writer })
}
