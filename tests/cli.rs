//! The command line, end to end: `rules`, `explain`, level flags, exit codes, the human
//! and JSON renderings of the bundled sample `examples/leaky-service`, determinism across
//! thread counts, `--quiet`, and the `cargo-taskcheck` entry point.

use std::path::Path;

#[path = "support/run.rs"]
mod run;

use run::{run, Output};

const EXAMPLE: &str = "examples/leaky-service";

/// A file with one `spawn_without_cancel` finding, at 2:5.
const FINDING: &str = "\
fn start(mut interval: tokio::time::Interval) {
    tokio::spawn(async move {
        loop {
            interval.tick().await;
        }
    });
}
";

/// `taskcheck ARGS` in the repository root.
fn taskcheck(args: &[&str]) -> Output {
    run(env!("CARGO_BIN_EXE_taskcheck"), Path::new(env!("CARGO_MANIFEST_DIR")), args)
}

/// `taskcheck ARGS` in a temporary directory holding `finding.rs`.
fn taskcheck_on_finding(args: &[&str]) -> Output {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("finding.rs"), FINDING).unwrap();
    run(env!("CARGO_BIN_EXE_taskcheck"), tmp.path(), args)
}

/// Whether `line` is `taskcheck: N warning(s), N error(s) in N file(s) (N.NNs)`, the
/// summary line (what the regex
/// `taskcheck: \d+ warnings?, \d+ errors? in \d+ files? \(\d+\.\d\ds\)` matches).
fn is_summary(line: &str) -> bool {
    fn count<'a>(s: &'a str, word: &str) -> Option<&'a str> {
        let digits = s.len() - s.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        let rest = s[digits..].strip_prefix(' ')?.strip_prefix(word)?;
        (digits > 0).then_some(rest.strip_prefix('s').unwrap_or(rest))
    }
    let parse = || -> Option<()> {
        let rest = line.strip_prefix("taskcheck: ")?;
        let rest = count(rest, "warning")?.strip_prefix(", ")?;
        let rest = count(rest, "error")?.strip_prefix(" in ")?;
        // An optional `; fixed N` / `; N fixable with ..` tail follows the time.
        let (time, tail) = count(rest, "file")?.strip_prefix(" (")?.split_once("s)")?;
        (tail.is_empty() || tail.starts_with("; ")).then_some(())?;
        let (secs, hundredths) = time.split_once('.')?;
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        (digits(secs) && hundredths.len() == 2 && digits(hundredths)).then_some(())
    };
    parse().is_some()
}

#[test]
fn the_summary_check_matches_what_the_regex_would() {
    for ok in [
        "taskcheck: 3 warnings, 1 error in 212 files (0.08s)",
        "taskcheck: 1 warning, 0 errors in 1 file (12.30s)",
        "taskcheck: 0 warnings, 10 errors in 0 files (0.00s)",
    ] {
        assert!(is_summary(ok), "{ok}");
    }
    for bad in [
        "taskcheck: 3 warnings, 1 error in 212 files (0.1s)",
        "taskcheck: warnings, 1 error in 2 files (0.10s)",
        "taskcheck: 3 warnings 1 error in 2 files (0.10s)",
        "taskcheck: 3 warnings, 1 error in 2 files (0.10s) ",
        "taskcheck: 3 notes, 1 error in 2 files (0.10s)",
    ] {
        assert!(!is_summary(bad), "{bad}");
    }
}

#[test]
fn rules_lists_the_lints_with_level_group_and_fix() {
    let out = taskcheck(&["rules"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let mut lines = out.stdout.lines();
    let header = lines.next().unwrap();
    // Columns by the header's offsets: lint, default, group, fix, summary.
    let col = |name: &str| header.find(name).unwrap_or_else(|| panic!("no `{name}` column in {header:?}"));
    let (default, group, fix, summary) = (col("default"), col("group"), col("fix"), col("summary"));
    assert!(header.starts_with("lint ") && default < group && group < fix && fix < summary, "{header}");
    let rows: Vec<(&str, &str, &str, &str)> = lines
        .map(|l| {
            let cell = |a: usize, b: usize| l.get(a..b).unwrap_or_else(|| panic!("short row {l:?}")).trim();
            (cell(0, default), cell(default, group), cell(group, fix), cell(fix, summary))
        })
        .collect();
    for lint in ["loop_without_cancel", "spawn_without_cancel"] {
        let row = rows.iter().find(|r| r.0 == lint).unwrap_or_else(|| panic!("{lint} missing:\n{}", out.stdout));
        assert_eq!(row.1, "warn", "{row:?}");
        assert!(row.2.split(", ").any(|g| g == "lifecycle"), "{row:?}");
    }
    for row in &rows {
        assert!(["allow", "warn", "deny"].contains(&row.1), "{row:?}");
        assert!(["no", "safe", "unsafe", "sometimes"].contains(&row.3), "{row:?}");
    }
    // The README's lint table is the `rules` table: every lint, its level and fix.
    let readme = std::fs::read_to_string("README.md").unwrap();
    assert_eq!(rows.len(), taskcheck_lints::all_metas().len());
    for row in &rows {
        let line = format!("| `{}` | {} | {} | {} |", row.0, row.1, row.2, row.3);
        assert!(readme.contains(&line), "README's lint table lacks or misstates {line}");
    }
}

#[test]
fn explain_prints_the_lint_docs() {
    let out = taskcheck(&["explain", "spawn_without_cancel"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.starts_with("# spawn_without_cancel\n"), "{}", out.stdout);
    assert!(out.stdout.contains("### What it does"), "{}", out.stdout);
    assert!(out.stdout.contains("Go analog"), "{}", out.stdout);
}

#[test]
fn explain_of_a_misspelled_lint_suggests_the_right_one() {
    let out = taskcheck(&["explain", "spawn_witout_cancel"]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("unknown lint `spawn_witout_cancel`"), "{}", out.stderr);
    assert!(out.stderr.contains("did you mean `spawn_without_cancel`"), "{}", out.stderr);
    assert_eq!(out.stdout, "");
}

#[test]
fn unknown_level_flags_are_usage_errors() {
    let out = taskcheck_on_finding(&["-W", "nonexistent_lint"]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.starts_with("error: unknown lint or group `nonexistent_lint`"), "{}", out.stderr);
    // Nothing was linted.
    assert!(!out.stderr.contains("spawn_without_cancel]"), "{}", out.stderr);

    for (flag, typo) in [("-W", "spawn_witout_cancel"), ("-A", "loop-without-cancl"), ("-D", "lifecycel")] {
        let out = taskcheck_on_finding(&[flag, typo]);
        assert_eq!(out.code, 2, "{flag} {typo}");
        assert!(out.stderr.contains(&format!("unknown lint or group `{typo}`")), "{}", out.stderr);
        assert!(out.stderr.contains("; did you mean `"), "{flag} {typo}: {}", out.stderr);
    }
    let out = taskcheck_on_finding(&["-W", "spawn_witout_cancel"]);
    assert!(out.stderr.contains("did you mean `spawn_without_cancel`?"), "{}", out.stderr);
}

#[test]
fn warnings_exit_0_and_deny_warnings_exits_1() {
    let out = taskcheck_on_finding(&["--color", "never"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stderr.starts_with("warning[spawn_without_cancel]: "), "{}", out.stderr);

    let out = taskcheck_on_finding(&["--color", "never", "-D", "warnings"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr.starts_with("error[spawn_without_cancel]: detached task runs forever and cannot be cancelled\n"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains(" --> finding.rs:2:5\n"), "{}", out.stderr);
    assert!(!out.stderr.contains("warning["), "{}", out.stderr);
    let summary = out.stderr.lines().last().unwrap();
    assert!(summary.starts_with("taskcheck: 0 warnings, 1 error in 1 file ("), "{summary}");

    let out = taskcheck_on_finding(&["--color", "never", "-D", "spawn_without_cancel"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stderr.starts_with("error[spawn_without_cancel]: "), "{}", out.stderr);
}

#[test]
fn allow_silences_a_lint() {
    let out = taskcheck_on_finding(&["--color", "never", "-A", "spawn_without_cancel"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(!out.stderr.contains("spawn_without_cancel"), "{}", out.stderr);
    let summary = out.stderr.lines().last().unwrap();
    assert!(summary.starts_with("taskcheck: 0 warnings, 0 errors in 1 file ("), "{summary}");

    // Flags apply in order: the later one wins.
    let out = taskcheck_on_finding(&["--color", "never", "-A", "all", "-D", "spawn_without_cancel"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let out = taskcheck_on_finding(&["--color", "never", "-D", "spawn_without_cancel", "-A", "all"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
}

/// The byte offsets' line and 1-based char column in `text`.
fn line_col(text: &str, byte: usize) -> (usize, usize) {
    let before = &text[..byte];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().unwrap().chars().count() + 1;
    (line, col)
}

#[test]
fn json_on_the_example_is_cargo_compiler_messages() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = taskcheck(&["--message-format", "json", EXAMPLE]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stderr, "", "JSON mode writes nothing to stderr");
    let lines: Vec<serde_json::Value> =
        out.stdout.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}"))).collect();
    let (last, messages) = lines.split_last().unwrap();
    assert_eq!(*last, serde_json::json!({ "reason": "build-finished", "success": true }));
    assert!(messages.len() >= 2, "{}", out.stdout);

    let mut codes = Vec::new();
    let mut spawn_callees = Vec::new();
    for m in messages {
        assert_eq!(m["reason"], "compiler-message", "{m}");
        let package_id = m["package_id"].as_str().unwrap();
        assert!(package_id.starts_with("path+file://") && package_id.contains("leaky-service"), "{package_id}");
        let manifest = m["manifest_path"].as_str().unwrap();
        assert!(manifest.ends_with("examples/leaky-service/Cargo.toml") && Path::new(manifest).is_file(), "{manifest}");
        assert!(m["target"]["kind"].is_array() && m["target"]["name"].is_string(), "{m}");
        assert!(Path::new(m["target"]["src_path"].as_str().unwrap()).is_file(), "{m}");

        let msg = &m["message"];
        let code = msg["code"]["code"].as_str().unwrap();
        assert!(code.starts_with("taskcheck::"), "{code}");
        codes.push(code.to_string());
        let level = msg["level"].as_str().unwrap();
        assert!(["warning", "error"].contains(&level), "{msg}");
        let rendered = msg["rendered"].as_str().unwrap();
        assert!(rendered.starts_with(&format!("{level}[{}]: ", &code["taskcheck::".len()..])), "{rendered}");
        assert!(
            msg["children"].as_array().unwrap().iter().any(|c| c["level"] == "help" && c["message"].is_string()),
            "no help child: {msg}"
        );

        let spans = msg["spans"].as_array().unwrap();
        assert_eq!(spans.iter().filter(|s| s["is_primary"] == true).count(), 1, "{msg}");
        for s in spans {
            for key in ["line_start", "line_end", "column_start", "column_end", "byte_start", "byte_end"] {
                assert!(s[key].is_u64(), "{key} in {s}");
            }
            assert!(s["is_primary"].is_boolean() && (s["label"].is_string() || s["label"].is_null()), "{s}");
            // The offsets slice the file to the text that the line/column fields and the
            // highlighted part of `text` show.
            let file = s["file_name"].as_str().unwrap();
            let text = std::fs::read_to_string(root.join(file)).unwrap();
            let (lo, hi) = (s["byte_start"].as_u64().unwrap() as usize, s["byte_end"].as_u64().unwrap() as usize);
            let snippet = &text[lo..hi];
            assert_eq!(
                line_col(&text, lo),
                (s["line_start"].as_u64().unwrap() as usize, s["column_start"].as_u64().unwrap() as usize)
            );
            assert_eq!(
                line_col(&text, hi),
                (s["line_end"].as_u64().unwrap() as usize, s["column_end"].as_u64().unwrap() as usize)
            );
            if s["line_start"] == s["line_end"] {
                let line = &s["text"][0];
                let chars: String = line["text"]
                    .as_str()
                    .unwrap()
                    .chars()
                    .skip(line["highlight_start"].as_u64().unwrap() as usize - 1)
                    .take(
                        (line["highlight_end"].as_u64().unwrap() - line["highlight_start"].as_u64().unwrap()) as usize,
                    )
                    .collect();
                assert_eq!(chars, snippet, "{s}");
            }
            if s["is_primary"] == true {
                assert!(s["label"].is_string(), "a finding's primary span is labelled: {s}");
                if code == "taskcheck::spawn_without_cancel" {
                    // The spawn callee: a path ending in `spawn`, right before its arguments.
                    assert!(snippet.ends_with("spawn") && text[hi..].starts_with('('), "{snippet:?} in {file}");
                    spawn_callees.push(snippet.to_string());
                }
                if code == "taskcheck::loop_without_cancel" {
                    assert_eq!(snippet, "loop", "{file}:{lo}");
                }
            }
        }
    }
    assert!(codes.iter().any(|c| c == "taskcheck::spawn_without_cancel"), "{codes:?}");
    assert!(codes.iter().any(|c| c == "taskcheck::loop_without_cancel"), "{codes:?}");
    assert!(spawn_callees.iter().any(|c| c == "tokio::spawn"), "{spawn_callees:?}");
    assert!(
        messages.iter().any(|m| m["message"]["spans"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["is_primary"] == false && s["label"].is_string())),
        "no labelled secondary span"
    );
}

#[test]
fn human_output_on_the_example() {
    let out = taskcheck(&["--color", "never", EXAMPLE]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stdout, "", "human output goes to stderr");
    let err = &out.stderr;
    assert!(err.contains("warning[spawn_without_cancel]: "), "{err}");
    assert!(err.contains("warning[loop_without_cancel]: "), "{err}");
    assert!(err.contains("  --> examples/leaky-service/src/"), "{err}");
    assert!(err.lines().any(|l| l.trim_start().starts_with("= help: ")), "{err}");
    assert!(err.lines().any(|l| l.trim_start().starts_with("= note: ")), "{err}");
    // A secondary label: a `---` underline with its message, under a `|` gutter.
    let secondary = err.lines().any(|l| {
        l.split_once(" | ").is_some_and(|(gutter, rest)| {
            gutter.trim().chars().all(|c| c.is_ascii_digit())
                && rest.trim_start().starts_with('-')
                && rest.trim_start().trim_start_matches('-').starts_with(' ')
                && rest.contains(|c: char| c.is_ascii_alphabetic())
        })
    });
    assert!(secondary, "no secondary label in:\n{err}");
    let last = err.lines().last().unwrap();
    assert!(is_summary(last), "{last:?}");
    assert!(last.contains(" 0 errors in "), "{last}");

    let quiet = taskcheck(&["--color", "never", "--quiet", EXAMPLE]);
    assert_eq!(quiet.code, 0);
    assert!(!quiet.stderr.lines().any(|l| l.starts_with("taskcheck: ")), "{}", quiet.stderr);
    assert_eq!(quiet.stderr, err.strip_suffix(&format!("{last}\n")).unwrap(), "--quiet drops only the summary line");
}

#[test]
fn output_does_not_depend_on_the_thread_count() {
    let json = |jobs: &str| taskcheck(&["--message-format", "json", "--jobs", jobs, EXAMPLE]);
    let (one, two) = (json("1"), json("2"));
    assert_eq!(one.stdout, two.stdout, "JSON differs between --jobs 1 and --jobs 2");
    assert_eq!(one.code, two.code);
    assert_eq!(json("8").stdout, one.stdout);
    // Without `--jobs`: as many threads as cores, whatever this machine has.
    let default = taskcheck(&["--message-format", "json", EXAMPLE]);
    assert_eq!(default.stdout, one.stdout, "JSON differs between --jobs 1 and the default thread count");

    let human = |jobs: &str| taskcheck(&["--color", "never", "--quiet", "--jobs", jobs, EXAMPLE]);
    let (one, two) = (human("1"), human("2"));
    assert_eq!(one.stderr, two.stderr, "human output differs between --jobs 1 and --jobs 2");
    assert!(!one.stderr.is_empty());
}

#[test]
fn cargo_taskcheck_lints_the_package_around_it() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let example = root.join(EXAMPLE);
    for args in [&["--color", "never", "--quiet"][..], &["--message-format", "json"][..]] {
        // cargo runs `cargo-taskcheck taskcheck ARGS`; the example is its own package.
        let mut cargo_args = vec!["taskcheck"];
        cargo_args.extend_from_slice(args);
        let via_cargo = run(env!("CARGO_BIN_EXE_cargo-taskcheck"), &example, &cargo_args);
        let mut direct_args = args.to_vec();
        direct_args.push("src");
        let direct = run(env!("CARGO_BIN_EXE_taskcheck"), &example, &direct_args);
        assert_eq!(via_cargo.code, direct.code, "{args:?}");
        assert_eq!(via_cargo.stdout, direct.stdout, "{args:?}");
        assert_eq!(via_cargo.stderr, direct.stderr, "{args:?}");
        assert!(!direct.stdout.is_empty() || !direct.stderr.is_empty());
    }
    // `--manifest-path` from elsewhere, and without the `taskcheck` word (run by hand).
    let manifest = example.join("Cargo.toml");
    let by_path = run(
        env!("CARGO_BIN_EXE_cargo-taskcheck"),
        root,
        &["--message-format", "json", "--manifest-path", manifest.to_str().unwrap()],
    );
    let direct = taskcheck(&["--message-format", "json", "examples/leaky-service/src"]);
    assert_eq!(by_path.stdout, direct.stdout);
    // Paths belong to plain `taskcheck`.
    let with_path = run(env!("CARGO_BIN_EXE_cargo-taskcheck"), &example, &["taskcheck", "src"]);
    assert_eq!(with_path.code, 2);
    assert!(with_path.stderr.contains("run `taskcheck PATH`"), "{}", with_path.stderr);
}

/// `docs/lints.md` is generated from the lint sources and must be current.
#[test]
fn the_lint_reference_is_current() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/lints.md");
    let want = taskcheck::reference_docs();
    if std::env::var_os("TASKCHECK_BLESS").is_some_and(|v| v == "1") {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &want).unwrap();
    }
    let got = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(got == want, "docs/lints.md is stale: run `TASKCHECK_BLESS=1 cargo test --test cli`");
    for m in taskcheck_lints::all_metas() {
        assert!(got.contains(&format!("\n## {}\n", m.name)), "no section for {}", m.name);
    }
}

#[test]
fn the_cache_dir_gives_the_findings_of_a_run_without_it() {
    let cache = tempfile::tempdir().unwrap();
    let dir = cache.path().to_str().unwrap();
    let plain = taskcheck(&["--message-format", "short", EXAMPLE]);
    let cold = taskcheck(&["--message-format", "short", "--cache-dir", dir, EXAMPLE]);
    assert!(std::fs::read_dir(cache.path()).unwrap().count() > 0, "the cold run writes its bundle");
    let warm = taskcheck(&["--message-format", "short", "--cache-dir", dir, EXAMPLE]);
    assert!(plain.stdout.contains("warning["), "{}", plain.stdout);
    assert_eq!((cold.code, &cold.stdout), (plain.code, &plain.stdout));
    assert_eq!((warm.code, &warm.stdout), (plain.code, &plain.stdout));
}
