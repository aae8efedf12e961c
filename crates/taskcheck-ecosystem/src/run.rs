//! Linting one package with the taskcheck command line in a subprocess, and reading what
//! it printed.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use serde_json::Value;

/// One diagnostic of the JSON stream: a finding, or an input error (`parse`, `io`,
/// `internal`).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Finding {
    /// `name-version` of the package.
    pub package: String,
    /// Path inside the package (`src/lib.rs`).
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub lint: String,
    pub level: String,
    pub message: String,
}

impl Finding {
    /// `name-version/path:line`, as the triage file names it.
    pub fn location(&self) -> String {
        format!("{}/{}:{}", self.package, self.file, self.line)
    }

    /// One JSON object (for `findings.jsonl`).
    pub fn to_json(&self) -> String {
        serde_json::json!({
            "package": self.package,
            "lint": self.lint,
            "level": self.level,
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "message": self.message,
        })
        .to_string()
    }
}

impl Outcome {
    /// Panics: a caught one shows both as a stderr line and as an `internal` diagnostic,
    /// so the larger of the two counts; broken output or an abnormal exit counts too.
    pub fn panics(&self) -> usize {
        self.panic_lines.len().max(self.internal.len()) + self.broken.len()
    }

    /// Everything behind [`Outcome::panics`], for the report.
    pub fn panic_details(&self) -> Vec<String> {
        self.internal.iter().chain(&self.panic_lines).chain(&self.broken).cloned().collect()
    }
}

/// Input errors are reported under these names instead of a lint's.
pub const INPUT_ERRORS: &[&str] = &["parse", "io", "internal"];

/// What one subprocess run of taskcheck on one package gave.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Lint findings, sorted.
    pub findings: Vec<Finding>,
    /// `parse`/`io` errors, sorted.
    pub input_errors: Vec<Finding>,
    /// Every `panicked at` (or stack overflow) line on stderr.
    pub panic_lines: Vec<String>,
    /// Every `internal` diagnostic: a panic the engine caught, with the file it was in.
    pub internal: Vec<String>,
    /// Output that is not the JSON stream, and an abnormal exit (a signal, or an exit
    /// code other than 0-2).
    pub broken: Vec<String>,
    /// Wall-clock seconds of the subprocess.
    pub secs: f64,
}

/// Runs `cmd` (a taskcheck command line without paths) on the package directory `dir`
/// from its parent, so that reported paths start with `name-version/`.
pub fn lint_package(mut cmd: Command, dir: &Path) -> Outcome {
    let parent = dir.parent().unwrap_or(Path::new("."));
    let name = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    cmd.args(["--message-format", "json", "--quiet", "--color", "never"]).arg(&name).current_dir(parent);
    let start = Instant::now();
    let out = match cmd.output() {
        Ok(out) => out,
        Err(e) => return Outcome { broken: vec![format!("could not start taskcheck: {e}")], ..Default::default() },
    };
    let secs = start.elapsed().as_secs_f64();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let mut outcome = parse_output(&name, &stdout, &stderr);
    // 0: no deny-level finding, 1: deny-level findings, 2: input errors; a panic that
    // escapes the engine exits with 101, a stack overflow or other abort with a signal.
    match out.status.code() {
        Some(0..=2) => {}
        Some(code) => outcome.broken.push(format!("taskcheck exited with code {code}")),
        None => outcome.broken.push(format!("taskcheck was ended by a signal ({})", out.status)),
    }
    outcome.secs = secs;
    outcome
}

/// Reads the JSON message stream and stderr of one run on package `name`.
pub fn parse_output(name: &str, stdout: &str, stderr: &str) -> Outcome {
    let mut outcome = Outcome::default();
    // The stream always ends with `build-finished`: without it the run was cut short.
    let finished =
        stdout.lines().any(|l| serde_json::from_str::<Value>(l).is_ok_and(|v| v["reason"] == "build-finished"));
    if !finished {
        outcome.broken.push("taskcheck ended without the closing `build-finished` line".to_string());
    }
    for line in stdout.lines().filter(|l| !l.trim().is_empty()) {
        let Ok(v) = serde_json::from_str::<Value>(line) else {
            outcome.broken.push(format!("taskcheck printed a line that is not JSON: {line}"));
            continue;
        };
        if v["reason"] != "compiler-message" {
            continue;
        }
        let Some(f) = finding(name, &v["message"]) else {
            outcome.broken.push(format!("taskcheck printed a diagnostic without a primary span: {line}"));
            continue;
        };
        match f.lint.as_str() {
            "internal" => outcome.internal.push(format!("{}: {}", f.location(), f.message)),
            l if INPUT_ERRORS.contains(&l) => outcome.input_errors.push(f),
            _ => outcome.findings.push(f),
        }
    }
    for line in stderr.lines().filter(|l| l.contains("panicked at") || l.contains("has overflowed its stack")) {
        outcome.panic_lines.push(line.trim().to_string());
    }
    outcome.findings.sort();
    outcome.input_errors.sort();
    outcome
}

/// A finding from a rustc-shaped diagnostic object.
fn finding(package: &str, msg: &Value) -> Option<Finding> {
    let code = msg["code"]["code"].as_str()?;
    let lint = code.strip_prefix("taskcheck::").unwrap_or(code);
    let span = msg["spans"].as_array()?.iter().find(|s| s["is_primary"] == true)?;
    let file = span["file_name"].as_str()?;
    let prefix = format!("{package}/");
    Some(Finding {
        package: package.to_string(),
        file: file.strip_prefix(&prefix).unwrap_or(file).to_string(),
        line: span["line_start"].as_u64()? as usize,
        column: span["column_start"].as_u64()? as usize,
        lint: lint.to_string(),
        level: msg["level"].as_str().unwrap_or("warning").to_string(),
        message: msg["message"].as_str().unwrap_or_default().to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(lint: &str, file: &str, line: usize, text: &str) -> String {
        serde_json::json!({
            "reason": "compiler-message",
            "message": {
                "message": text,
                "code": { "code": format!("taskcheck::{lint}") },
                "level": if lint == "parse" { "error" } else { "warning" },
                "spans": [
                    { "file_name": file, "line_start": line + 5, "column_start": 1, "is_primary": false },
                    { "file_name": file, "line_start": line, "column_start": 9, "is_primary": true },
                ],
            },
        })
        .to_string()
    }

    #[test]
    fn findings_input_errors_and_panics_are_told_apart() {
        let stdout = [
            message("spawn_without_cancel", "demo-1.0.0/src/b.rs", 7, "detached task runs forever"),
            message("loop_without_cancel", "demo-1.0.0/src/a.rs", 3, "this loop never ends"),
            message("parse", "demo-1.0.0/tests/bad.rs", 1, "cannot parse"),
            message("internal", "demo-1.0.0/src/c.rs", 1, "internal error while analysing"),
            r#"{"reason":"build-finished","success":false}"#.to_string(),
        ]
        .join("\n");
        let stderr = "thread '<unnamed>' panicked at lints/src/x.rs:1:1:\nboom\n";
        let o = parse_output("demo-1.0.0", &stdout, stderr);
        let found: Vec<(String, usize, usize, String)> =
            o.findings.iter().map(|f| (f.file.clone(), f.line, f.column, f.lint.clone())).collect();
        assert_eq!(
            found,
            [
                ("src/a.rs".to_string(), 3, 9, "loop_without_cancel".to_string()),
                ("src/b.rs".to_string(), 7, 9, "spawn_without_cancel".to_string())
            ]
        );
        assert_eq!(o.input_errors.len(), 1);
        assert_eq!(o.input_errors[0].location(), "demo-1.0.0/tests/bad.rs:1");
        assert_eq!(o.panics(), 1, "one caught panic shows twice: {:?}", o.panic_details());
        assert!(o.internal[0].contains("internal error"));
        assert!(o.panic_lines[0].contains("panicked at"));
    }

    #[test]
    fn garbage_on_stdout_is_a_failure_not_silence() {
        let finished = r#"{"reason":"build-finished","success":true}"#;
        let o = parse_output("demo-1.0.0", &format!("thread main panicked\n{finished}\n"), "");
        assert_eq!(o.panics(), 1);
        assert!(o.findings.is_empty());
        // Nothing at all (the process died before writing) is not a clean run either.
        assert_eq!(parse_output("demo-1.0.0", "", "").panics(), 1);
        assert_eq!(parse_output("demo-1.0.0", finished, "").panics(), 0);
    }

    #[test]
    fn finding_json_has_every_field() {
        let f = Finding {
            package: "demo-1.0.0".into(),
            file: "src/a.rs".into(),
            line: 3,
            column: 9,
            lint: "loop_without_cancel".into(),
            level: "warning".into(),
            message: "this loop never ends".into(),
        };
        let v: Value = serde_json::from_str(&f.to_json()).unwrap();
        assert_eq!(v["package"], "demo-1.0.0");
        assert_eq!(v["file"], "src/a.rs");
        assert_eq!(v["line"], 3);
        assert_eq!(v["lint"], "loop_without_cancel");
    }
}
