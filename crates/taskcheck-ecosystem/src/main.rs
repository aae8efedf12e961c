//! `cargo run --release -p taskcheck-ecosystem [-- OPTIONS]`: the ecosystem check, in the
//! spirit of ruff's. It gets a pinned list of real async crates and applications from
//! crates.io (`cargo info NAME@VERSION`: that package only, no dependencies), lints each
//! package with the `taskcheck` command line and the default lints in a subprocess of its
//! own (so that a panic or an abort is seen as one), once as users run it and once with
//! `--no-prefilter` (every file parsed whole, which must give the same findings), and
//! reports files, bytes, parse failures, panics and findings per lint per package.
//!
//! Writes `target/ecosystem/findings.jsonl` (every finding), `report.md` (the generated
//! Markdown), `sample.md` (the triage sample with the code around each finding) and
//! rewrites the generated part of `docs/ecosystem.md`. Exits 1 when a package could not
//! be fetched, a run panicked, a file failed to parse that is not a known broken
//! fixture, or the two runs disagree.
//!
//! Options: `--out DIR`, `--jobs N` (taskcheck's `-j`), `--only NAME` (repeatable; the
//! docs are then left alone), `--no-docs`, `--skip-whole` (no `--no-prefilter` run),
//! `--taskcheck BIN` (lint with another taskcheck binary).
//!
//! Network: run by hand, never by `cargo test`.

mod fetch;
mod packages;
mod report;
mod run;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use packages::PACKAGES;
use report::Checked;

/// The first argument of the subprocess that runs the taskcheck command line.
const AS_TASKCHECK: &str = "__taskcheck";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some(AS_TASKCHECK) {
        let mut cli: Vec<std::ffi::OsString> = vec!["taskcheck".into()];
        cli.extend(args[1..].iter().map(Into::into));
        std::process::exit(taskcheck::main_with_args(cli));
    }
    std::process::exit(check(&args));
}

fn usage(problem: &str) -> i32 {
    eprintln!(
        "error: {problem}\nusage: taskcheck-ecosystem [--out DIR] [--jobs N] [--only NAME].. [--no-docs] [--skip-whole] [--taskcheck BIN]"
    );
    2
}

fn check(args: &[String]) -> i32 {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let root = root.canonicalize().unwrap_or(root);
    let mut out = root.join("target/ecosystem");
    let mut jobs: Option<String> = None;
    let mut only: Vec<String> = Vec::new();
    let mut docs = true;
    let mut whole = true;
    let mut binary: Option<PathBuf> = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = |name: &str| it.next().cloned().ok_or_else(|| format!("{name} needs a value"));
        let r = match a.as_str() {
            "--out" => value("--out").map(|v| out = PathBuf::from(v)),
            "--jobs" => value("--jobs").map(|v| jobs = Some(v)),
            "--only" => value("--only").map(|v| only.push(v)),
            "--taskcheck" => value("--taskcheck").map(|v| binary = Some(PathBuf::from(v))),
            "--no-docs" => {
                docs = false;
                Ok(())
            }
            "--skip-whole" => {
                whole = false;
                Ok(())
            }
            other => Err(format!("unknown argument `{other}`")),
        };
        if let Err(e) = r {
            return usage(&e);
        }
    }
    if let Some(unknown) = only.iter().find(|n| !PACKAGES.iter().any(|p| &p.name == n)) {
        return usage(&format!("`{unknown}` is not in the pinned list"));
    }
    let selected: Vec<&packages::Package> =
        PACKAGES.iter().filter(|p| only.is_empty() || only.iter().any(|n| n == p.name)).collect();
    let docs = docs && only.is_empty();
    let triage_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("triage.tsv");
    let verdicts = match report::parse_triage(&std::fs::read_to_string(&triage_path).unwrap_or_default()) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("error: {}: {e}", triage_path.display());
            return 2;
        }
    };
    if let Err(e) = std::fs::create_dir_all(&out) {
        eprintln!("error: cannot create {}: {e}", out.display());
        return 2;
    }

    let start = Instant::now();
    let mut failed = false;
    let mut dirs = BTreeMap::new();
    for pkg in &selected {
        match fetch::fetch(pkg, &std::env::temp_dir().join("taskcheck-ecosystem-fetch")) {
            Ok(dir) => {
                dirs.insert(pkg.dir_name(), dir);
            }
            Err(e) => {
                eprintln!("error: {e}");
                failed = true;
            }
        }
    }
    if failed {
        return 1;
    }
    let fetch_secs = start.elapsed().as_secs_f64();

    let taskcheck = |extra: &[&str]| {
        let mut cmd = match &binary {
            Some(bin) => Command::new(bin),
            None => {
                let mut c = Command::new(std::env::current_exe().expect("own path"));
                c.arg(AS_TASKCHECK);
                c
            }
        };
        if let Some(j) = &jobs {
            cmd.args(["-j", j]);
        }
        cmd.args(extra);
        cmd
    };
    let mut checked = Vec::new();
    let (mut lint_secs, mut whole_secs) = (0.0, 0.0);
    for pkg in &selected {
        let dir = &dirs[&pkg.dir_name()];
        let (files, bytes) = size(dir);
        let run = run::lint_package(taskcheck(&[]), dir);
        lint_secs += run.secs;
        let second = whole.then(|| run::lint_package(taskcheck(&["--no-prefilter"]), dir));
        whole_secs += second.as_ref().map_or(0.0, |o| o.secs);
        let c = Checked { pkg, files, bytes, run, whole: second };
        println!(
            "{:<28} {:>5} files {:>6} KB  {:>3} findings  {} parse failures  {} panics  ({:.1} s)",
            pkg.dir_name(),
            files,
            bytes / 1024,
            c.run.findings.len(),
            c.input_errors().len(),
            c.panics(),
            c.run.secs
        );
        checked.push(c);
    }

    let times = report::Times {
        fetch: fetch_secs,
        lint: lint_secs,
        whole: whole.then_some(whole_secs),
        jobs: jobs.clone().unwrap_or_else(|| {
            std::thread::available_parallelism().map_or(1, |n| n.get()).to_string() + " (all cores)"
        }),
    };
    let md = report::markdown(&checked, &verdicts, &times);
    let findings: String = checked.iter().flat_map(|c| &c.run.findings).map(|f| f.to_json() + "\n").collect();
    let writes = [
        (out.join("findings.jsonl"), findings),
        (out.join("report.md"), md.clone()),
        (out.join("sample.md"), report::sample_with_code(&checked, &dirs)),
    ];
    for (path, text) in &writes {
        if let Err(e) = std::fs::write(path, text) {
            eprintln!("error: cannot write {}: {e}", path.display());
            return 2;
        }
    }
    println!("\nwrote {}", writes.iter().map(|(p, _)| p.display().to_string()).collect::<Vec<_>>().join(", "));
    if docs {
        let path = root.join("docs/ecosystem.md");
        let r = std::fs::read_to_string(&path)
            .map_err(|e| e.to_string())
            .and_then(|doc| report::splice(&doc, &md))
            .and_then(|doc| std::fs::write(&path, doc).map_err(|e| e.to_string()));
        match r {
            Ok(()) => println!("updated {}", path.display()),
            Err(e) => {
                eprintln!("error: cannot update {}: {e}", path.display());
                return 2;
            }
        }
    }
    if only.is_empty() {
        stale_verdicts(&checked, &verdicts);
    }

    let panics: usize = checked.iter().map(Checked::panics).sum();
    let unexplained = checked.iter().flat_map(|c| c.input_errors()).filter(|f| report::explained(f).is_none()).count();
    let diffs: usize = checked
        .iter()
        .map(|c| {
            let (a, b) = c.prefilter_differences();
            a.len() + b.len()
        })
        .sum();
    println!("panics: {panics}, unexplained parse failures: {unexplained}, prefilter differences: {diffs}");
    i32::from(panics > 0 || unexplained > 0 || diffs > 0)
}

/// `.rs` files and their bytes as taskcheck's walk finds them.
fn size(dir: &Path) -> (usize, u64) {
    let opts = taskcheck_core::engine::Options::default();
    let files = taskcheck_core::engine::rust_files(&[dir.to_path_buf()], &opts);
    let bytes = files.iter().filter_map(|(p, _)| std::fs::metadata(p).ok()).map(|m| m.len()).sum();
    (files.len(), bytes)
}

/// Verdicts on findings that are no longer sampled (fixed, or the sample moved): said on
/// stdout so that the triage file is pruned by hand, keeping the record in git.
fn stale_verdicts(checked: &[Checked], verdicts: &BTreeMap<(String, String), report::Verdict>) {
    let all: Vec<&run::Finding> = checked.iter().flat_map(|c| &c.run.findings).collect();
    for (lint, location) in verdicts.keys() {
        let reported = all.iter().any(|f| &f.lint == lint && &f.location() == location);
        if !reported {
            println!("note: triage.tsv judges {lint} at {location}, which is no longer reported");
        }
    }
}
