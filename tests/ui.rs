//! ui-tests: every case under `ui-tests/<lint>/` is linted twice — with only its lint
//! enabled, and with the default lints plus its own — and the set of (file, line, lint) findings
//! must equal the `//~ lint` markers exactly. The single-lint rendering is compared
//! byte for byte with `<case>.stderr`. When the lint's findings carry fixes, the text
//! after `--fix --unsafe-fixes` is compared with `<file>.fixed` beside each changed
//! file; it must parse, and re-linting it must leave none of the fixed findings.
//! `TASKCHECK_BLESS=1 cargo test --test ui` rewrites the `.stderr` and `.fixed` files;
//! review the diff.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use taskcheck_core::engine::{display_path, Options};
use taskcheck_core::levels::LevelFlag;
use taskcheck_core::{Level, Settings};

type Finding = (String, usize, String);

/// A case: one file, or one directory holding a small multi-file crate.
struct Case {
    lint: String,
    root: PathBuf,
    files: Vec<PathBuf>,
    stderr: PathBuf,
}

impl Case {
    fn is_pass(&self) -> bool {
        self.root.file_name().is_some_and(|n| n.to_string_lossy().starts_with("pass"))
    }
}

fn rs_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(rs_files(&p));
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
    out.sort();
    out
}

fn cases() -> Vec<Case> {
    let root = Path::new("ui-tests");
    let mut out = Vec::new();
    let mut lints: Vec<PathBuf> = std::fs::read_dir(root).unwrap().flatten().map(|e| e.path()).collect();
    lints.sort();
    for lint_dir in lints.into_iter().filter(|p| p.is_dir()) {
        let lint = lint_dir.file_name().unwrap().to_string_lossy().into_owned();
        let mut entries: Vec<PathBuf> = std::fs::read_dir(&lint_dir).unwrap().flatten().map(|e| e.path()).collect();
        entries.sort();
        for p in entries {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            if !(name.starts_with("fail") || name.starts_with("pass")) {
                continue;
            }
            let (files, stem) = if p.is_dir() {
                (rs_files(&p), p.clone())
            } else if name.ends_with(".rs") {
                (vec![p.clone()], p.with_extension(""))
            } else {
                continue;
            };
            out.push(Case { lint: lint.clone(), files, stderr: stem.with_extension("stderr"), root: p });
        }
    }
    out
}

fn markers(case: &Case) -> BTreeSet<Finding> {
    let mut out = BTreeSet::new();
    for f in &case.files {
        let text = std::fs::read_to_string(f).unwrap();
        for (i, line) in text.lines().enumerate() {
            if let Some((_, rest)) = line.split_once("//~") {
                for name in rest.split(|c: char| c == ',' || c.is_whitespace()).filter(|s| !s.is_empty()) {
                    out.insert((display_path(f), i + 1, name.to_string()));
                }
            }
        }
    }
    out
}

fn lint(case: &Case, flags: &[LevelFlag]) -> taskcheck_core::engine::Run {
    let opts = Options { package_context: false, ..Options::default() };
    taskcheck::lint_paths(std::slice::from_ref(&case.root), flags, Settings::default(), &opts)
        .expect("lint names are valid")
}

fn findings(run: &taskcheck_core::engine::Run) -> BTreeSet<Finding> {
    run.diagnostics
        .iter()
        .map(|d| (run.sources.get(d.primary.span.file).display.clone(), d.primary.span.lo.line, d.lint.to_string()))
        .collect()
}

fn describe(set: &BTreeSet<Finding>) -> String {
    set.iter().map(|(f, l, n)| format!("    {f}:{l} {n}\n")).collect()
}

fn check_case(case: &Case, bless: bool) -> Result<(), String> {
    let expected = markers(case);
    if case.is_pass() && !expected.is_empty() {
        return Err(format!("{}: a pass case has markers", case.root.display()));
    }
    if !case.is_pass() && expected.is_empty() {
        return Err(format!("{}: a fail case has no markers", case.root.display()));
    }
    let mut errors = Vec::new();
    // Allow every other lint by name so the rendered note keeps the lint's own default.
    let metas = taskcheck_lints::all_metas();
    let mut only: Vec<LevelFlag> =
        metas.iter().filter(|m| m.name != case.lint).map(|m| LevelFlag::new(Level::Allow, m.name)).collect();
    if metas.iter().any(|m| m.name == case.lint && m.default_level == Level::Allow) {
        only.push(LevelFlag::new(Level::Warn, &case.lint));
    }
    // `unused_suppression` judges the other lints' findings: it cannot run alone.
    if case.lint == "unused_suppression" {
        only.clear();
    }
    // The second run catches noise from the lints users get by default (pedantic and
    // nursery lints are opt-in, so their markers only count where they are enabled).
    let runs = [("only this lint", only), ("default lints", vec![LevelFlag::new(Level::Warn, &case.lint)])];
    let on_by_default =
        |name: &str| name == case.lint || metas.iter().any(|m| m.name == name && m.default_level != Level::Allow);
    let mut single_output = String::new();
    for (i, (what, flags)) in runs.iter().enumerate() {
        let run = lint(case, flags);
        if let Some(d) = run.diagnostics.iter().find(|d| d.is_input_error()) {
            return Err(format!("{}: {}", case.root.display(), d.message));
        }
        let got = findings(&run);
        let want: BTreeSet<Finding> = if i == 0 {
            expected.iter().filter(|f| f.2 == case.lint).cloned().collect()
        } else {
            expected.iter().filter(|f| on_by_default(&f.2)).cloned().collect()
        };
        if got != want {
            let missing: BTreeSet<Finding> = want.difference(&got).cloned().collect();
            let unexpected: BTreeSet<Finding> = got.difference(&want).cloned().collect();
            errors.push(format!(
                "{} ({what}):\n  missing (marked, not found):\n{}  unexpected (found, not marked):\n{}",
                case.root.display(),
                describe(&missing),
                describe(&unexpected)
            ));
        }
        if i == 0 {
            single_output = taskcheck_render::human::render(&run.sources, &run.diagnostics, false);
            if let Err(e) = check_fixes(case, &run, bless) {
                errors.push(e);
            }
        }
    }
    if bless {
        if single_output.is_empty() {
            let _ = std::fs::remove_file(&case.stderr);
        } else {
            std::fs::write(&case.stderr, &single_output).unwrap();
        }
    } else {
        let want = std::fs::read_to_string(&case.stderr).unwrap_or_default();
        if want != single_output {
            errors.push(format!(
                "{}: rendered output differs from {} (run with TASKCHECK_BLESS=1 to update):\n--- expected\n{want}\n+++ actual\n{single_output}",
                case.root.display(),
                case.stderr.display()
            ));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors.join("\n"))
    }
}

/// The fixed text of every file the case's fixes change: parses, matches `<file>.fixed`,
/// and re-lints without the fixed findings.
fn check_fixes(case: &Case, run: &taskcheck_core::engine::Run, bless: bool) -> Result<(), String> {
    use taskcheck_core::fix::{plan, FixMode};
    let plans = plan(&run.sources, &run.diagnostics, FixMode::Unsafe);
    let mut errors = Vec::new();
    let mut changed = Vec::new();
    for p in &plans {
        let expected = p.path.with_extension("fixed");
        if let Some(lints) = &p.broken {
            errors.push(format!("{}: the fixes of {lints} do not parse", p.display));
            continue;
        }
        if !p.changes() {
            continue;
        }
        changed.push(expected.clone());
        if bless {
            std::fs::write(&expected, &p.fixed).unwrap();
        } else if std::fs::read_to_string(&expected).ok().as_deref() != Some(p.fixed.as_str()) {
            errors.push(format!(
                "{}: fixed text differs from {} (run with TASKCHECK_BLESS=1 to update):\n{}",
                p.display,
                expected.display(),
                p.fixed
            ));
        }
    }
    // A stale `.fixed` for a file that no longer changes.
    for f in &case.files {
        let fixed = f.with_extension("fixed");
        if fixed.exists() && !changed.contains(&fixed) {
            if bless {
                let _ = std::fs::remove_file(&fixed);
            } else {
                errors.push(format!("{}: no fix applies any more", fixed.display()));
            }
        }
    }
    if !plans.is_empty() {
        let files: Vec<(PathBuf, String)> = case
            .files
            .iter()
            .map(|f| {
                let p = plans.iter().find(|p| &p.path == f);
                (f.clone(), p.map_or_else(|| std::fs::read_to_string(f).unwrap(), |p| p.fixed.clone()))
            })
            .collect();
        let metas = taskcheck_lints::all_metas();
        let only: Vec<LevelFlag> = metas
            .iter()
            .map(|m| LevelFlag::new(if m.name == case.lint { Level::Warn } else { Level::Allow }, m.name))
            .collect();
        let again = taskcheck::lint_sources(&files, &only, Settings::default()).unwrap();
        let fixable = |r: &taskcheck_core::engine::Run| r.diagnostics.iter().filter(|d| d.fix.is_some()).count();
        if fixable(&again) > 0 {
            errors.push(format!("{}: findings with fixes remain after fixing", case.root.display()));
        }
        let applied: usize = plans.iter().map(|p| p.applied.len()).sum();
        if again.diagnostics.len() + applied != run.diagnostics.len() {
            errors.push(format!(
                "{}: {} findings before, {applied} fixed, {} after",
                case.root.display(),
                run.diagnostics.len(),
                again.diagnostics.len()
            ));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors.join("\n"))
    }
}

#[test]
fn ui() {
    let bless = std::env::var_os("TASKCHECK_BLESS").is_some_and(|v| v == "1");
    let cases = cases();
    assert!(!cases.is_empty(), "no ui-test cases found");
    let known: Vec<&str> = taskcheck_lints::all_metas().iter().map(|m| m.name).collect();
    let mut failures = Vec::new();
    for case in &cases {
        if !known.contains(&case.lint.as_str()) {
            failures.push(format!("ui-tests/{}: no such lint", case.lint));
            continue;
        }
        if let Err(e) = check_case(case, bless) {
            failures.push(e);
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} ui-test cases failed:\n\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n\n")
    );
}

/// A stale `.stderr` without its case would never be checked.
#[test]
fn no_orphan_expectations() {
    for lint_dir in std::fs::read_dir("ui-tests").unwrap().flatten() {
        for e in std::fs::read_dir(lint_dir.path()).unwrap().flatten() {
            let p = e.path();
            if p.extension().is_some_and(|x| x == "stderr" || x == "fixed") {
                let stem = p.with_extension("");
                assert!(stem.with_extension("rs").exists() || stem.is_dir(), "{} has no case beside it", p.display());
            }
        }
    }
}
