//! Running the built binaries in end-to-end tests: colours off, outside GitHub Actions
//! unless a test asks for it, stdin closed or fed, and a panic in the output is a failure.

#![allow(dead_code)]

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// `bin ARGS` in `dir`, with extra environment `envs` and `input` on stdin.
pub fn run_with(bin: &str, dir: &Path, args: &[&str], envs: &[(&str, &str)], input: Option<&str>) -> Output {
    let mut cmd = Command::new(bin);
    cmd.args(args)
        .current_dir(dir)
        .env_remove("GITHUB_ACTIONS")
        .env("NO_COLOR", "1")
        .stdin(if input.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    if let Some(text) = input {
        child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    let out = Output {
        code: out.status.code().unwrap_or_else(|| panic!("{bin} {args:?} was killed by a signal")),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    };
    assert!(!out.stderr.contains("panicked at"), "{bin} {args:?} panicked:\n{}", out.stderr);
    out
}

/// `bin ARGS` in `dir`.
pub fn run(bin: &str, dir: &Path, args: &[&str]) -> Output {
    run_with(bin, dir, args, &[], None)
}

/// `taskcheck ARGS` in `dir`.
pub fn taskcheck(dir: &Path, args: &[&str]) -> Output {
    run(env!("CARGO_BIN_EXE_taskcheck"), dir, args)
}

/// Writes `root/rel`, creating its directories.
pub fn write(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

/// Copies a directory tree (without `target/`).
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            if p.file_name().is_some_and(|n| n != "target") {
                copy_dir(&p, &to.join(e.file_name()));
            }
        } else {
            std::fs::copy(&p, to.join(e.file_name())).unwrap();
        }
    }
}

/// Compares `actual` with the expected file `path` (relative to the package root);
/// with `TASKCHECK_BLESS=1` writes it instead (review the diff). Returns an error
/// describing the difference.
pub fn expect_file(path: &str, actual: &str) -> Result<(), String> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    if std::env::var_os("TASKCHECK_BLESS").is_some_and(|v| v == "1") {
        std::fs::write(&p, actual).unwrap();
        return Ok(());
    }
    let want = std::fs::read_to_string(&p).unwrap_or_default();
    if want == actual {
        Ok(())
    } else {
        Err(format!(
            "output differs from {path} (run with TASKCHECK_BLESS=1 to update, then review the diff):\n--- expected\n{want}\n+++ actual\n{actual}"
        ))
    }
}
