//! The pre-commit hooks, run the way pre-commit runs them: the `entry` of each hook in
//! `.pre-commit-hooks.yaml`, the README's `args`, and the staged Rust files of a git
//! repository as arguments.

use std::path::Path;
use std::process::Command;

/// `(id, entry)` of each hook (the file is a flat list of mappings).
fn hooks() -> Vec<(String, String)> {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(".pre-commit-hooks.yaml")).unwrap();
    let mut out = Vec::new();
    let mut id = None;
    for line in text.lines() {
        let line = line.trim_start_matches("- ").trim();
        if let Some(v) = line.strip_prefix("id: ") {
            id = Some(v.to_string());
        } else if let Some(v) = line.strip_prefix("entry: ") {
            out.push((id.take().expect("id before entry"), v.to_string()));
        }
    }
    out
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git").args(args).current_dir(dir).output().unwrap();
    assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// Runs a hook entry with extra args and the staged files, as pre-commit would.
fn run_hook(dir: &Path, entry: &str, args: &[&str]) -> (i32, String) {
    let staged = git(dir, &["diff", "--cached", "--name-only", "--diff-filter=ACM"]);
    let files: Vec<&str> = staged.lines().filter(|f| f.ends_with(".rs")).collect();
    let mut words = entry.split_whitespace();
    assert_eq!(words.next(), Some("taskcheck"));
    let out = Command::new(env!("CARGO_BIN_EXE_taskcheck"))
        .args(words)
        .args(args)
        .args(&files)
        .current_dir(dir)
        .env_remove("GITHUB_ACTIONS")
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    (out.status.code().unwrap(), String::from_utf8(out.stderr).unwrap())
}

#[test]
fn hooks_lint_and_fix_the_staged_files() {
    // pre-commit is a git hook: without git there is nothing to run it on.
    if Command::new("git").arg("--version").output().is_err() {
        eprintln!("skipped: git is not installed");
        return;
    }
    let hooks = hooks();
    let entry = |id: &str| hooks.iter().find(|(i, _)| i == id).map(|(_, e)| e.clone()).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    git(dir, &["init", "-q"]);
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::write(dir.join("Cargo.toml"), "[package]\nname = \"svc\"\nversion = \"0.1.0\"\nedition = \"2021\"\n")
        .unwrap();
    std::fs::write(
        dir.join("src/lib.rs"),
        "use tokio_util::sync::CancellationToken;\n\npub fn serve(token: CancellationToken) {\n    let _ = token.drop_guard();\n}\n",
    )
    .unwrap();
    std::fs::write(dir.join("src/clean.rs"), "pub fn add(a: u32, b: u32) -> u32 {\n    a + b\n}\n").unwrap();
    std::fs::write(dir.join("README.md"), "not rust\n").unwrap();
    git(dir, &["add", "."]);

    // The README's configuration passes `-D warnings`, so a finding fails the commit.
    let (code, stderr) = run_hook(dir, &entry("taskcheck"), &["-D", "warnings"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("error[lost_cancel]") && stderr.contains("src/lib.rs:4:13"), "{stderr}");

    let (code, stderr) = run_hook(dir, &entry("taskcheck-fix"), &[]);
    assert_eq!(code, 0, "{stderr}");
    let fixed = std::fs::read_to_string(dir.join("src/lib.rs")).unwrap();
    assert!(fixed.contains("let _guard = token.drop_guard();"), "{fixed}");
    // pre-commit then sees a modified file and stops the commit; after `git add`, it passes.
    git(dir, &["add", "."]);
    let (code, stderr) = run_hook(dir, &entry("taskcheck"), &["-D", "warnings"]);
    assert_eq!(code, 0, "{stderr}");
}
