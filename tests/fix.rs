//! Fixes, end to end: `--fix` applies safe fixes only, `--unsafe-fixes` widens it,
//! `--diff` shows and changes nothing, the bundled example is repaired into code that
//! parses and re-lints with only unfixable findings left, files that cannot be written
//! are reported and left alone, and the JSON suggestions give the same text when applied
//! with `rustfix` (the crate cargo and clippy use).

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

#[path = "support/run.rs"]
mod run;

use run::{copy_dir, run_with, taskcheck};

/// One safe fix (`let _ = token.drop_guard()`) and one unsafe fix (`mem::forget(g)`).
const MIXED: &str = "\
use std::sync::Mutex;
use tokio_util::sync::CancellationToken;

pub fn serve(token: CancellationToken, state: &Mutex<Vec<u8>>) {
    let _ = token.drop_guard();
    let guard = state.lock().unwrap();
    std::mem::forget(guard);
}
";

fn rs_texts(dir: &Path) -> BTreeMap<PathBuf, String> {
    let mut out = BTreeMap::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(rs_texts(&p));
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.insert(p.clone(), std::fs::read_to_string(&p).unwrap());
        }
    }
    out
}

fn example_copy() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    copy_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/leaky-service"), tmp.path());
    tmp
}

#[test]
fn fix_applies_safe_fixes_and_unsafe_fixes_widens_it() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("serve.rs");
    std::fs::write(&file, MIXED).unwrap();

    let safe = taskcheck(tmp.path(), &["--fix", "serve.rs"]);
    assert_eq!(safe.code, 0, "{}", safe.stderr);
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("let _guard = token.drop_guard();"), "{text}");
    assert!(text.contains("std::mem::forget(guard);"), "an unsafe fix was applied by --fix:\n{text}");
    assert!(safe.stderr.contains("fixed 1"), "{}", safe.stderr);
    assert!(safe.stderr.contains("1 more fixable with `--unsafe-fixes`"), "{}", safe.stderr);

    let all = taskcheck(tmp.path(), &["--fix", "--unsafe-fixes", "serve.rs"]);
    assert_eq!(all.code, 0, "{}", all.stderr);
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("drop(guard);") && !text.contains("forget"), "{text}");
    syn::parse_file(&text).expect("the fixed file parses");
    let again = taskcheck(tmp.path(), &["serve.rs"]);
    assert!(again.stderr.contains("taskcheck: 0 warnings"), "{}", again.stderr);
}

#[test]
fn diff_prints_the_change_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("serve.rs");
    std::fs::write(&file, MIXED).unwrap();
    let out = taskcheck(tmp.path(), &["--diff", "--unsafe-fixes", "serve.rs"]);
    assert_eq!(out.code, 1, "a diff exits 1");
    assert!(out.stdout.starts_with("--- a/serve.rs\n+++ b/serve.rs\n@@ "), "{}", out.stdout);
    assert!(
        out.stdout.contains("-    let _ = token.drop_guard();\n+    let _guard = token.drop_guard();\n"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("+    drop(guard);\n"), "{}", out.stdout);
    assert_eq!(std::fs::read_to_string(&file).unwrap(), MIXED);
    let nothing = taskcheck(tmp.path(), &["--diff", "serve.rs"]);
    assert!(nothing.stdout.contains("+    let _guard"), "--diff without --unsafe-fixes shows safe fixes");
    assert!(!nothing.stdout.contains("drop(guard)"), "{}", nothing.stdout);
}

#[test]
fn the_example_is_repaired_into_code_that_parses() {
    let tmp = example_copy();
    let before = rs_texts(tmp.path());
    let out = taskcheck(tmp.path(), &["--fix", "--unsafe-fixes", "."]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let after = rs_texts(tmp.path());
    let changed: Vec<&PathBuf> = after.iter().filter(|(p, t)| before[*p] != **t).map(|(p, _)| p).collect();
    assert!(changed.len() >= 3, "{changed:?}");
    for (p, t) in &after {
        syn::parse_file(t).unwrap_or_else(|e| panic!("{} no longer parses: {e}", p.display()));
    }
    // What remains has no fix.
    let json = taskcheck(tmp.path(), &["--message-format", "json", "."]);
    assert!(!json.stdout.contains("\"suggested_replacement\":\""), "fixable findings remain:\n{}", json.stdout);
    assert!(json.stdout.lines().filter(|l| l.contains("compiler-message")).count() >= 10);
}

#[test]
fn unwritable_and_unparsable_results_are_reported_and_left_alone() {
    let tmp = tempfile::tempdir().unwrap();
    let locked = tmp.path().join("locked.rs");
    let open = tmp.path().join("open.rs");
    std::fs::write(&locked, MIXED).unwrap();
    std::fs::write(&open, MIXED).unwrap();
    let mut perms = std::fs::metadata(&locked).unwrap().permissions();
    perms.set_readonly(true);
    std::fs::set_permissions(&locked, perms).unwrap();
    let out = taskcheck(tmp.path(), &["--fix", "locked.rs", "open.rs"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("could not write the fixes to locked.rs"), "{}", out.stderr);
    assert_eq!(std::fs::read_to_string(&locked).unwrap(), MIXED);
    assert!(std::fs::read_to_string(&open).unwrap().contains("let _guard"), "the other file is still fixed");
}

/// Applies taskcheck's JSON suggestions with `rustfix`: the same text as
/// `--fix --unsafe-fixes`.
#[test]
fn json_suggestions_apply_with_rustfix_to_the_same_text() {
    let tmp = example_copy();
    let json = taskcheck(tmp.path(), &["--message-format", "json", "."]);
    // rustfix reads rustc diagnostics; cargo wraps each one in a `compiler-message`.
    let diagnostics: String = json
        .stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["reason"] == "compiler-message")
        .map(|v| v["message"].to_string() + "\n")
        .collect();
    let suggestions =
        rustfix::get_suggestions_from_json(&diagnostics, &HashSet::new(), rustfix::Filter::Everything).unwrap();
    assert!(suggestions.len() >= 5, "{suggestions:?}");
    let mut by_file: BTreeMap<String, Vec<rustfix::Suggestion>> = BTreeMap::new();
    for s in suggestions {
        let file = s.solutions[0].replacements[0].snippet.file_name.clone();
        by_file.entry(file).or_default().push(s);
    }
    let mut expected = BTreeMap::new();
    for (file, suggestions) in &by_file {
        let path = tmp.path().join(file);
        let code = std::fs::read_to_string(&path).unwrap();
        let fixed = rustfix::apply_suggestions(&code, suggestions).unwrap();
        expected.insert(path, fixed);
    }
    let out = taskcheck(tmp.path(), &["--fix", "--unsafe-fixes", "."]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    for (path, want) in expected {
        assert_eq!(std::fs::read_to_string(&path).unwrap(), want, "{}", path.display());
    }
}

/// `--stdin-filename` with `--fix`: the fixed text on stdout, findings on stderr.
#[test]
fn fix_on_stdin_prints_the_fixed_text() {
    let args = ["--stdin-filename", "src/serve.rs", "--fix", "--unsafe-fixes"];
    let tmp = tempfile::tempdir().unwrap();
    let out = run_with(env!("CARGO_BIN_EXE_taskcheck"), tmp.path(), &args, &[], Some(MIXED));
    let stderr = &out.stderr;
    assert_eq!(out.code, 0, "{stderr}");
    assert_eq!(
        out.stdout,
        MIXED.replace("let _ = token", "let _guard = token").replace("std::mem::forget(guard)", "drop(guard)")
    );
    assert!(stderr.contains("0 warnings") && stderr.contains("fixed 2"), "{stderr}");
}

/// `--add-suppressions` adopts the tool on an existing codebase: every finding gets a
/// suppression comment, nothing is reported afterwards, and a second run adds nothing.
#[test]
fn add_suppressions_is_idempotent() {
    let tmp = example_copy();
    let first = taskcheck(tmp.path(), &["--add-suppressions", "."]);
    assert_eq!(first.code, 0, "{}", first.stderr);
    assert!(first.stderr.contains("added 19 suppression comment(s)"), "{}", first.stderr);
    assert!(first.stderr.contains("taskcheck: 0 warnings"), "{}", first.stderr);
    let texts = rs_texts(tmp.path());
    for (p, t) in &texts {
        syn::parse_file(t).unwrap_or_else(|e| panic!("{} no longer parses: {e}", p.display()));
    }
    assert!(texts.values().any(|t| t.contains("    // taskcheck: allow(lost_cancel) -- existing finding\n")));
    let second = taskcheck(tmp.path(), &["--add-suppressions", "."]);
    assert!(second.stderr.contains("added 0 suppression comment(s)"), "{}", second.stderr);
    assert_eq!(rs_texts(tmp.path()), texts);
}

/// Found while writing the fuzz harness for fixes (the release-built fuzzer survives
/// this depth; this debug build did not): the check that the fixed text parses ran
/// `syn::parse_file` on the main thread, whose 8 MiB stack overflowed (the process
/// aborted) on a file nested as deep as the engine accepts. Every way of applying fixes
/// runs that check.
#[test]
fn deeply_nested_files_are_fixed_without_overflowing_the_stack() {
    // 250 levels of generic arguments: under the engine's limit of 256, so it is linted.
    let deep = format!("{MIXED}type T = {}u8{};\n", "Option<".repeat(250), ">".repeat(250));
    let fixed = deep.replace("let _ = token", "let _guard = token");
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("deep.rs");
    std::fs::write(&file, &deep).unwrap();

    let diff = taskcheck(tmp.path(), &["--diff", "deep.rs"]);
    assert_eq!(diff.code, 1, "{}", diff.stderr);
    assert!(diff.stdout.contains("+    let _guard = token.drop_guard();\n"), "{}", diff.stdout);

    let args = ["--stdin-filename", "deep.rs", "--fix"];
    let stdin = run_with(env!("CARGO_BIN_EXE_taskcheck"), tmp.path(), &args, &[], Some(&deep));
    assert_eq!(stdin.stdout, fixed, "{}", stdin.stderr);

    let fix = taskcheck(tmp.path(), &["--fix", "deep.rs"]);
    assert_eq!(fix.code, 0, "{}", fix.stderr);
    assert_eq!(std::fs::read_to_string(&file).unwrap(), fixed);

    // What is left (`mem::forget(guard)`, whose fix is unsafe) gets its comment.
    let suppress = taskcheck(tmp.path(), &["--add-suppressions", "deep.rs"]);
    assert!(suppress.stderr.contains("added 1 suppression comment(s)"), "{}", suppress.stderr);
}
