//! `cargo taskcheck` on temporary cargo projects: a virtual workspace (every member by
//! default at the root, the current member inside one, `-p`, `--workspace`), the JSON
//! `package_id`/`manifest_path` cargo itself reports, and a clear error outside any
//! cargo project.

use std::path::Path;
use std::process::Command;

#[path = "support/run.rs"]
mod run;

use run::{run, write, Output};

/// A detached endless task: one `spawn_without_cancel` finding on line 2.
const LEAK: &str = "pub fn start(mut interval: tokio::time::Interval) {\n    tokio::spawn(async move {\n        loop {\n            interval.tick().await;\n        }\n    });\n}\n";

fn cargo_taskcheck(dir: &Path, args: &[&str]) -> Output {
    let mut all = vec!["taskcheck"];
    all.extend_from_slice(args);
    run(env!("CARGO_BIN_EXE_cargo-taskcheck"), dir, &all)
}

/// A virtual workspace with members `api` and `worker`; each has the finding in `src/`,
/// `examples/` and (off by default) `tests/`.
fn workspace() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    write(root, "Cargo.toml", "[workspace]\nmembers = [\"api\", \"worker\"]\nresolver = \"2\"\n");
    for m in ["api", "worker"] {
        write(
            root,
            &format!("{m}/Cargo.toml"),
            &format!("[package]\nname = \"{m}\"\nversion = \"0.1.0\"\nedition = \"2021\"\n"),
        );
        write(root, &format!("{m}/src/lib.rs"), LEAK);
        write(root, &format!("{m}/examples/demo.rs"), &format!("{LEAK}fn main() {{}}\n"));
        write(root, &format!("{m}/tests/it.rs"), LEAK);
    }
    tmp
}

fn files(out: &Output) -> Vec<String> {
    let mut v: Vec<String> = out
        .stdout
        .lines()
        .filter(|l| l.contains("\"compiler-message\""))
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            v["message"]["spans"][0]["file_name"].as_str().unwrap().to_string()
        })
        .collect();
    v.sort();
    v
}

#[test]
fn the_root_of_a_virtual_workspace_lints_every_member() {
    let ws = workspace();
    let out = cargo_taskcheck(ws.path(), &["--message-format", "json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(files(&out), ["api/examples/demo.rs", "api/src/lib.rs", "worker/examples/demo.rs", "worker/src/lib.rs"]);
}

#[test]
fn package_selection_follows_cargo() {
    let ws = workspace();
    let only_api = cargo_taskcheck(ws.path(), &["--message-format", "json", "-p", "api"]);
    assert_eq!(files(&only_api), ["api/examples/demo.rs", "api/src/lib.rs"]);
    let inside = cargo_taskcheck(&ws.path().join("worker"), &["--message-format", "json"]);
    assert_eq!(files(&inside), ["examples/demo.rs", "src/lib.rs"]);
    let everything = cargo_taskcheck(&ws.path().join("worker"), &["--message-format", "json", "--workspace"]);
    assert_eq!(files(&everything).len(), 4);
    let typo = cargo_taskcheck(ws.path(), &["-p", "wroker"]);
    assert_eq!(typo.code, 2);
    assert!(typo.stderr.contains("did you mean `worker`?"), "{}", typo.stderr);
}

#[test]
fn json_carries_the_package_id_cargo_reports() {
    let ws = workspace();
    let meta = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["metadata", "--no-deps", "--format-version", "1"])
        .current_dir(ws.path())
        .output()
        .unwrap();
    let meta: serde_json::Value = serde_json::from_slice(&meta.stdout).unwrap();
    let api = meta["packages"].as_array().unwrap().iter().find(|p| p["name"] == "api").unwrap();
    let out = cargo_taskcheck(ws.path(), &["--message-format", "json", "-p", "api"]);
    let first: serde_json::Value = serde_json::from_str(out.stdout.lines().next().unwrap()).unwrap();
    assert_eq!(first["package_id"], api["id"]);
    assert_eq!(first["manifest_path"], api["manifest_path"]);
}

#[test]
fn outside_a_cargo_project_it_says_what_to_do() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "leak.rs", LEAK);
    let out = cargo_taskcheck(tmp.path(), &[]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("no cargo project here") && out.stderr.contains("`taskcheck PATH`"), "{}", out.stderr);
}

/// What rust-analyzer's `check.overrideCommand` reads: cargo message JSON whose
/// `file_name`s are relative to the workspace root it runs in, closed by
/// `build-finished`.
#[test]
fn rust_analyzer_can_map_the_json_stream() {
    let ws = workspace();
    let out = cargo_taskcheck(ws.path(), &["--message-format=json"]);
    let lines: Vec<serde_json::Value> =
        out.stdout.lines().map(|l| serde_json::from_str(l).expect("JSON line")).collect();
    let (last, messages) = lines.split_last().unwrap();
    assert_eq!(last["reason"], "build-finished");
    assert_eq!(messages.len(), 4);
    for m in messages {
        assert_eq!(m["reason"], "compiler-message");
        assert!(m["package_id"].is_string() && m["manifest_path"].is_string(), "{m}");
        assert!(m["target"]["kind"].is_array() && m["target"]["src_path"].is_string(), "{m}");
        let msg = &m["message"];
        assert_eq!(msg["$message_type"], "diagnostic");
        assert!(msg["rendered"].as_str().unwrap().contains("warning[spawn_without_cancel]"));
        for span in msg["spans"].as_array().unwrap() {
            let file = span["file_name"].as_str().unwrap();
            assert!(Path::new(file).is_relative() && ws.path().join(file).is_file(), "{file}");
            assert!(span["line_start"].as_u64().unwrap() >= 1 && span["column_start"].as_u64().unwrap() >= 1);
        }
    }
}
