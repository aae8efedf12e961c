//! A minimal LSP client for end-to-end tests and the latency benchmark: it spawns
//! `taskcheck lsp`, frames JSON-RPC over its stdin/stdout, and waits for messages.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

pub struct Client {
    child: Child,
    stdin: ChildStdin,
    incoming: Receiver<Value>,
    next_id: u64,
    /// Messages received but not yet consumed by `wait`.
    backlog: Vec<Value>,
}

impl Client {
    /// Starts the server and completes `initialize` for the workspace at `root`.
    pub fn start(root: &Path, init_options: Value) -> Client {
        let mut child = Command::new(env!("CARGO_BIN_EXE_taskcheck"))
            .arg("lsp")
            .current_dir(root)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("taskcheck lsp starts");
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            let mut r = BufReader::new(stdout);
            loop {
                let mut len = 0;
                loop {
                    let mut line = String::new();
                    if r.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let line = line.trim_end();
                    if line.is_empty() {
                        break;
                    }
                    if let Some(v) = line.strip_prefix("Content-Length: ") {
                        len = v.parse().unwrap();
                    }
                }
                let mut body = vec![0; len];
                if r.read_exact(&mut body).is_err() {
                    return;
                }
                if tx.send(serde_json::from_slice(&body).expect("the server sends JSON")).is_err() {
                    return;
                }
            }
        });
        let mut c = Client { child, stdin, incoming: rx, next_id: 1, backlog: Vec::new() };
        let uri = uri(root);
        let id = c.request(
            "initialize",
            json!({ "processId": null, "rootUri": uri, "capabilities": {}, "initializationOptions": init_options }),
        );
        let init = c.response(id);
        assert!(init["result"]["capabilities"]["codeActionProvider"].is_object(), "{init}");
        c.notify("initialized", json!({}));
        c
    }

    pub fn send_raw(&mut self, body: &[u8]) {
        write!(self.stdin, "Content-Length: {}\r\n\r\n", body.len()).unwrap();
        self.stdin.write_all(body).unwrap();
        self.stdin.flush().unwrap();
    }

    pub fn send_bytes(&mut self, bytes: &[u8]) {
        self.stdin.write_all(bytes).unwrap();
        self.stdin.flush().unwrap();
    }

    pub fn notify(&mut self, method: &str, params: Value) {
        let body = json!({ "jsonrpc": "2.0", "method": method, "params": params }).to_string();
        self.send_raw(body.as_bytes());
    }

    pub fn request(&mut self, method: &str, params: Value) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        let body = json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }).to_string();
        self.send_raw(body.as_bytes());
        id
    }

    /// The first message (old or new) matching `pred`, within 20 s.
    pub fn wait(&mut self, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        if let Some(i) = self.backlog.iter().position(&pred) {
            return self.backlog.remove(i);
        }
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let msg = self
                .incoming
                .recv_timeout(left)
                .unwrap_or_else(|_| panic!("timed out waiting for {what}; got {:?}", self.backlog));
            if pred(&msg) {
                return msg;
            }
            self.backlog.push(msg);
        }
    }

    pub fn response(&mut self, id: u64) -> Value {
        self.wait(&format!("response {id}"), |m| m["id"] == json!(id) && m.get("method").is_none())
    }

    /// The next diagnostics published for `file` (older ones are dropped).
    pub fn diagnostics(&mut self, file: &Path) -> Vec<Value> {
        let uri = uri(file);
        let m = self.wait(&format!("diagnostics for {uri}"), |m| {
            m["method"] == "textDocument/publishDiagnostics" && m["params"]["uri"] == json!(uri)
        });
        m["params"]["diagnostics"].as_array().cloned().unwrap_or_default()
    }

    pub fn open(&mut self, file: &Path, text: &str) {
        self.notify(
            "textDocument/didOpen",
            json!({ "textDocument": { "uri": uri(file), "languageId": "rust", "version": 1, "text": text } }),
        );
    }

    pub fn change(&mut self, file: &Path, version: i64, text: &str) {
        self.notify(
            "textDocument/didChange",
            json!({ "textDocument": { "uri": uri(file), "version": version }, "contentChanges": [{ "text": text }] }),
        );
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn shutdown(mut self) -> i32 {
        let id = self.request("shutdown", json!(null));
        self.response(id);
        self.notify("exit", json!(null));
        drop(self.stdin);
        let status = self.child.wait().unwrap();
        status.code().unwrap_or(-1)
    }
}

pub fn uri(path: &Path) -> String {
    let abs = std::path::absolute(path).unwrap();
    format!("file://{}", abs.display())
}
