//! `taskcheck lsp` end to end: a real server process spoken to over stdin/stdout.
//! Diagnostics on open and change, cleared on close; quick fixes and suppressions as
//! code actions, applied; a cross-file finding that appears and disappears as another
//! file is edited; a buffer that stops parsing; garbage on the wire; shutdown/exit.

#[path = "support/lsp_client.rs"]
mod lsp_client;

use lsp_client::{uri, Client};
use serde_json::{json, Value};

const LEAK: &str = "pub fn start(mut interval: tokio::time::Interval) {\n    tokio::spawn(async move {\n        loop {\n            interval.tick().await;\n        }\n    });\n}\n";
const FIXED: &str = "pub fn start(mut interval: tokio::time::Interval) -> tokio::task::JoinHandle<()> {\n    tokio::spawn(async move {\n        loop {\n            interval.tick().await;\n        }\n    })\n}\n";
const GUARD: &str = "use tokio_util::sync::CancellationToken;\n\npub fn serve(token: CancellationToken) {\n    let _ = token.drop_guard();\n}\n";

fn package(files: &[(&str, &str)]) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("Cargo.toml"),
        "[package]\nname = \"svc\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
    )
    .unwrap();
    for (rel, text) in files {
        let p = tmp.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    tmp
}

fn codes(diags: &[Value]) -> Vec<String> {
    diags.iter().map(|d| d["code"].as_str().unwrap().to_string()).collect()
}

/// Applies LSP text edits (single-line ranges, ASCII) to `text`.
fn apply(text: &str, edits: &[Value]) -> String {
    let mut lines: Vec<String> = text.split('\n').map(String::from).collect();
    let mut edits = edits.to_vec();
    edits.sort_by_key(|e| {
        std::cmp::Reverse((e["range"]["start"]["line"].as_u64(), e["range"]["start"]["character"].as_u64()))
    });
    for e in edits {
        let (l, c0, c1) = (
            e["range"]["start"]["line"].as_u64().unwrap() as usize,
            e["range"]["start"]["character"].as_u64().unwrap() as usize,
            e["range"]["end"]["character"].as_u64().unwrap() as usize,
        );
        assert_eq!(e["range"]["end"]["line"], e["range"]["start"]["line"]);
        let line = &mut lines[l];
        line.replace_range(c0..c1, e["newText"].as_str().unwrap());
    }
    lines.join("\n")
}

#[test]
fn diagnostics_follow_open_change_and_close() {
    let pkg = package(&[("src/lib.rs", LEAK)]);
    let file = pkg.path().join("src/lib.rs");
    let mut c = Client::start(pkg.path(), json!({}));
    c.open(&file, LEAK);
    let diags = c.diagnostics(&file);
    assert_eq!(codes(&diags), ["spawn_without_cancel"]);
    let d = &diags[0];
    assert_eq!(d["source"], "taskcheck");
    assert_eq!(d["severity"], 2);
    assert_eq!(d["range"]["start"], json!({ "line": 1, "character": 4 }));
    assert!(d["codeDescription"]["href"].as_str().unwrap().ends_with("#spawn_without_cancel"));
    assert_eq!(d["relatedInformation"][0]["location"]["uri"], json!(uri(&file)));
    // An unsaved edit that keeps the handle: the finding goes away.
    c.change(&file, 2, FIXED);
    assert!(c.diagnostics(&file).is_empty());
    // A buffer that stops parsing: one diagnostic at the syntax error.
    c.change(&file, 3, "pub fn start( {\n");
    assert_eq!(codes(&c.diagnostics(&file)), ["parse"]);
    c.notify("textDocument/didClose", json!({ "textDocument": { "uri": uri(&file) } }));
    assert!(c.diagnostics(&file).is_empty());
    assert_eq!(c.shutdown(), 0);
}

#[test]
fn code_actions_fix_and_suppress() {
    let pkg = package(&[("src/lib.rs", GUARD)]);
    let file = pkg.path().join("src/lib.rs");
    let mut c = Client::start(pkg.path(), json!({}));
    c.open(&file, GUARD);
    let diags = c.diagnostics(&file);
    assert_eq!(codes(&diags), ["lost_cancel"]);
    let id = c.request(
        "textDocument/codeAction",
        json!({ "textDocument": { "uri": uri(&file) }, "range": diags[0]["range"], "context": { "diagnostics": diags } }),
    );
    let actions = c.response(id)["result"].as_array().cloned().unwrap();
    let titles: Vec<&str> = actions.iter().map(|a| a["title"].as_str().unwrap()).collect();
    assert!(titles.iter().any(|t| t.starts_with("Suppress `lost_cancel`")), "{titles:?}");
    assert!(actions.iter().any(|a| a["kind"] == "source.fixAll.taskcheck"), "{titles:?}");
    let quick = actions.iter().find(|a| a["isPreferred"] == true).expect("a preferred quick fix");
    let edits = quick["edit"]["changes"][uri(&file)].as_array().unwrap();
    let fixed = apply(GUARD, edits);
    assert!(fixed.contains("let _guard = token.drop_guard();"), "{fixed}");
    c.change(&file, 2, &fixed);
    assert!(c.diagnostics(&file).is_empty());
    // Suppression, applied on the original text.
    c.change(&file, 3, GUARD);
    assert_eq!(codes(&c.diagnostics(&file)), ["lost_cancel"]);
    let suppress = actions.iter().find(|a| a["title"].as_str().unwrap().starts_with("Suppress")).unwrap();
    let suppressed = apply(GUARD, suppress["edit"]["changes"][uri(&file)].as_array().unwrap());
    assert!(suppressed.contains("    // taskcheck: allow(lost_cancel)\n    let _ = token"), "{suppressed}");
    c.change(&file, 4, &suppressed);
    assert!(c.diagnostics(&file).is_empty());
    assert_eq!(c.shutdown(), 0);
}

#[test]
fn a_cross_file_finding_follows_edits_to_the_other_file() {
    let state = "use std::collections::HashMap;\nuse std::sync::Mutex;\n\npub static SEEN: Mutex<Option<HashMap<u64, u64>>> = Mutex::new(None);\npub static CACHE: once_cell::sync::Lazy<Mutex<HashMap<u64, u64>>> = once_cell::sync::Lazy::new(Default::default);\n";
    let fill = "pub fn remember(k: u64) {\n    crate::state::CACHE.lock().unwrap().insert(k, 1);\n}\n";
    let pkg = package(&[("src/lib.rs", "mod fill;\nmod state;\n"), ("src/state.rs", state), ("src/fill.rs", fill)]);
    let (state_rs, fill_rs) = (pkg.path().join("src/state.rs"), pkg.path().join("src/fill.rs"));
    let mut c = Client::start(pkg.path(), json!({}));
    // Only state.rs is open; the insert is in fill.rs, known from the workspace index.
    c.open(&state_rs, state);
    let diags = c.diagnostics(&state_rs);
    assert_eq!(codes(&diags), ["unbounded_static_map"]);
    assert_eq!(diags[0]["range"]["start"]["line"], 4);
    // Editing fill.rs to evict entries clears the finding in state.rs.
    c.open(&fill_rs, fill);
    let evicting =
        fill.replace("insert(k, 1);", "insert(k, 1);\n    crate::state::CACHE.lock().unwrap().retain(|_, v| *v > 0);");
    c.change(&fill_rs, 2, &evicting);
    let cleared = loop {
        let d = c.diagnostics(&state_rs);
        if d.is_empty() {
            break d;
        }
    };
    assert!(cleared.is_empty());
    // And back.
    c.change(&fill_rs, 3, fill);
    loop {
        if codes(&c.diagnostics(&state_rs)) == ["unbounded_static_map"] {
            break;
        }
    }
    assert_eq!(c.shutdown(), 0);
}

#[test]
fn garbage_gets_errors_and_the_server_survives() {
    let pkg = package(&[("src/lib.rs", LEAK)]);
    let mut c = Client::start(pkg.path(), json!({ "levels": { "spawn_without_cancel": "deny" } }));
    c.send_raw(b"this is not json");
    let err = c.wait("parse error", |m| m["error"]["code"] == -32700);
    assert_eq!(err["id"], Value::Null);
    c.send_raw(br#"{"jsonrpc":"2.0","foo":1}"#);
    c.wait("invalid request", |m| m["error"]["code"] == -32600);
    c.send_bytes(b"Bogus-Header\r\n\r\n");
    c.wait("bad header", |m| {
        m["error"]["code"] == -32700 && m["error"]["message"].as_str().unwrap().contains("header")
    });
    let id = c.request("workspace/somethingNew", json!({}));
    assert_eq!(c.response(id)["error"]["code"], -32601);
    // Still working, with the client's level override.
    let file = pkg.path().join("src/lib.rs");
    c.open(&file, LEAK);
    let diags = c.diagnostics(&file);
    assert_eq!(diags[0]["severity"], 1, "initializationOptions made it deny");
    assert_eq!(c.shutdown(), 0);
}
