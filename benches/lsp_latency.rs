//! Latency of `taskcheck lsp`: the median time from a `didChange` of a 5,000-line file
//! to the `publishDiagnostics` it causes (debounce included), over 40 edits, and the
//! server's resident memory before and after 2,000 more edits.
//!
//! `cargo bench --bench lsp_latency`

#[path = "../tests/support/lsp_client.rs"]
mod lsp_client;

use std::time::Instant;

use lsp_client::Client;
use serde_json::json;

fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find_map(|l| l.strip_prefix("VmRSS:")).and_then(|v| v.trim().trim_end_matches(" kB").parse().ok())
}

fn main() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("Cargo.toml"),
        "[package]\nname = \"big\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
    )
    .unwrap();
    std::fs::create_dir_all(tmp.path().join("src")).unwrap();
    // 5,000 lines: 500 ten-line fns, one of them a detached endless task.
    let mut text = String::new();
    for i in 0..499 {
        text.push_str(&format!(
            "pub async fn handler_{i}(state: &State, id: u64) -> Result<u64, Error> {{\n    let row = state.db.get(id).await?;\n    if row.count > {i} {{\n        state.metrics.incr(\"big\");\n    }}\n    let total = row.count + {i};\n    state.cache.lock().unwrap().insert(id, total);\n    tracing::debug!(id, total, \"handled\");\n    Ok(total)\n}}\n"
        ));
    }
    text.push_str("pub fn start(mut i: tokio::time::Interval) {\n    tokio::spawn(async move {\n        loop {\n            i.tick().await;\n        }\n    });\n}\n\n\n");
    assert_eq!(text.lines().count(), 4999);
    let file = tmp.path().join("src/lib.rs");
    std::fs::write(&file, &text).unwrap();

    let mut c = Client::start(tmp.path(), json!({}));
    c.open(&file, &text);
    assert_eq!(c.diagnostics(&file).len(), 1);
    let mut times = Vec::new();
    for v in 0..40 {
        let edited = format!("{text}// edit {v}\n");
        let t = Instant::now();
        c.change(&file, 2 + v, &edited);
        let d = c.diagnostics(&file);
        times.push(t.elapsed());
        assert_eq!(d.len(), 1);
    }
    times.sort();
    let median = times[times.len() / 2];
    println!(
        "didChange -> publishDiagnostics, 5,000-line file: median {:.1} ms (min {:.1}, max {:.1}) over {} edits",
        median.as_secs_f64() * 1e3,
        times[0].as_secs_f64() * 1e3,
        times[times.len() - 1].as_secs_f64() * 1e3,
        times.len()
    );

    let pid = c.pid();
    let before = rss_kib(pid);
    for v in 0..2_000 {
        c.change(&file, 100 + v, &format!("{text}// more {v}\n"));
        if v % 50 == 49 {
            c.diagnostics(&file);
        }
    }
    let after = rss_kib(pid);
    if let (Some(b), Some(a)) = (before, after) {
        println!(
            "server RSS: {:.1} MiB before, {:.1} MiB after 2,000 more edits",
            b as f64 / 1024.0,
            a as f64 / 1024.0
        );
    }
    c.shutdown();
}
