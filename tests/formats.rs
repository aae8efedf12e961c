//! The one-line formats end to end: `short`, GitHub workflow annotations (picked
//! automatically inside GitHub Actions), `--output FILE` next to human output on the
//! terminal, and `--statistics`.

use std::path::Path;

#[path = "support/run.rs"]
mod run;

use run::{run_with, Output};

/// Two findings: a detached endless task (2:5) and a blocking sleep in async code (10:5).
const TWO: &str = "\
fn start(mut interval: tokio::time::Interval) {
    tokio::spawn(async move {
        loop {
            interval.tick().await;
        }
    });
}

async fn pause() {
    std::thread::sleep(std::time::Duration::from_millis(5));
}
";

fn taskcheck(dir: &Path, args: &[&str], github: bool) -> Output {
    let envs: &[(&str, &str)] = if github { &[("GITHUB_ACTIONS", "true")] } else { &[] };
    run_with(env!("CARGO_BIN_EXE_taskcheck"), dir, args, envs, None)
}

fn project() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("two.rs"), TWO).unwrap();
    tmp
}

#[test]
fn short_is_one_line_per_finding() {
    let tmp = project();
    let out = taskcheck(tmp.path(), &["--message-format", "short", "two.rs"], false);
    assert_eq!(out.code, 0);
    assert_eq!(
        out.stdout,
        "two.rs:2:5: warning[spawn_without_cancel] detached task runs forever and cannot be cancelled\n\
         two.rs:10:5: warning[blocking_sleep_in_async] blocking `std::thread::sleep` in async code\n"
    );
    let deny = taskcheck(tmp.path(), &["--message-format", "short", "-D", "warnings", "two.rs"], false);
    assert_eq!(deny.code, 1);
    assert!(deny.stdout.starts_with("two.rs:2:5: error[spawn_without_cancel] "), "{}", deny.stdout);
}

#[test]
fn github_annotations_are_the_default_inside_actions() {
    let tmp = project();
    let out = taskcheck(tmp.path(), &["two.rs"], true);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{}", out.stdout);
    assert!(
        lines[0].starts_with(
            "::warning file=two.rs,line=2,col=5,endLine=2,endColumn=17,title=taskcheck%3A%3Aspawn_without_cancel::detached task"
        ),
        "{}",
        lines[0]
    );
    // Multi-line messages (the help) are escaped onto the one line.
    assert!(lines[0].contains("%0Ahelp: keep the JoinHandle"), "{}", lines[0]);
    // An explicit format still wins.
    let human = taskcheck(tmp.path(), &["--message-format", "human", "two.rs"], true);
    assert!(human.stdout.is_empty() && human.stderr.contains("warning[spawn_without_cancel]"));
}

#[test]
fn output_file_gets_the_machine_format_and_the_terminal_human() {
    let tmp = project();
    let out = taskcheck(tmp.path(), &["--message-format", "json", "--output", "report.json", "two.rs"], false);
    assert_eq!(out.code, 0);
    assert!(out.stdout.is_empty(), "{}", out.stdout);
    assert!(out.stderr.contains("warning[blocking_sleep_in_async]") && out.stderr.contains("taskcheck: 2 warnings"));
    let report = std::fs::read_to_string(tmp.path().join("report.json")).unwrap();
    let lines: Vec<serde_json::Value> = report.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[2]["reason"], "build-finished");
}

#[test]
fn statistics_count_findings_per_lint() {
    let tmp = project();
    std::fs::write(tmp.path().join("more.rs"), TWO).unwrap();
    let out = taskcheck(tmp.path(), &["--statistics", "."], false);
    assert_eq!(out.stdout, "2  blocking_sleep_in_async\n2  spawn_without_cancel\n");
    assert!(out.stderr.contains("taskcheck: 4 warnings"), "{}", out.stderr);
}
