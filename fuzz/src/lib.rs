//! What the fuzz targets share: linting a buffer through the engine the way the CLI
//! lints a file (prefilter, outline, reduced parse, crate join, levels), rendering the
//! result in every output format, and applying the fixes the way `--fix` does.
//!
//! A panic anywhere aborts the fuzzer (libfuzzer-sys installs an aborting panic hook,
//! so the engine's `catch_unwind` does not hide it). The engine also turns panics into
//! `internal` diagnostics; the checks below treat one as a crash too, in case a panic
//! reaches the engine some other way.

pub mod gen;

use std::path::PathBuf;
use std::sync::OnceLock;

use taskcheck_core::engine::{self, Options, Run};
use taskcheck_core::fix::{self as fixer, FixMode};
use taskcheck_core::levels::{LevelFlag, Levels};
use taskcheck_core::{Level, Settings};
use taskcheck_lints::Linter;

/// One way of running the lints.
#[derive(Clone, Copy, Debug)]
pub struct Config {
    /// Every lint (`-W all`), or the default ones.
    pub all_lints: bool,
    /// `lint-tests = true`: test code is analysed too, which reaches more of the lints.
    pub lint_tests: bool,
    /// The CLI's default; off is `--no-prefilter`.
    pub prefilter: bool,
}

/// The configurations the targets run: the default run, the widest one, and the
/// widest one parsing every file whole.
pub const CONFIGS: [Config; 3] = [
    Config { all_lints: false, lint_tests: false, prefilter: true },
    Config { all_lints: true, lint_tests: true, prefilter: true },
    Config { all_lints: true, lint_tests: true, prefilter: false },
];

/// The path the input is linted as (a crate's `src/lib.rs`, no package around it).
pub fn input_path() -> PathBuf {
    PathBuf::from("src/lib.rs")
}

/// Lints `bytes` as one file, with `config`, in the engine's own thread pool (one
/// worker, as `--jobs 1`).
pub fn lint(bytes: &[u8], config: Config) -> Run {
    let (linter, levels) = linter(config);
    let opts = Options { jobs: Some(1), package_context: false, prefilter: config.prefilter, ..Options::default() };
    engine::run_bytes(linter, &[(input_path(), bytes.to_vec())], levels, &opts)
}

/// The linter and levels of `config`, made once per process.
fn linter(config: Config) -> &'static (Linter, Levels) {
    static MADE: [OnceLock<(Linter, Levels)>; 4] = [const { OnceLock::new() }; 4];
    MADE[usize::from(config.all_lints) * 2 + usize::from(config.lint_tests)].get_or_init(|| {
        let metas = taskcheck_lints::all_metas();
        let flags = if config.all_lints { vec![LevelFlag::new(Level::Warn, "all")] } else { vec![] };
        let levels = Levels::resolve(&metas, &flags).expect("known lint names");
        let settings = Settings { lint_tests: config.lint_tests, ..Settings::default() };
        (Linter::new(settings, |m| levels.is_enabled(m.name)), levels)
    })
}

/// Checks what must hold for any run: no internal error; with `render`, every output
/// format renders. Rendering (SARIF above all: it embeds every lint's documentation)
/// took most of an execution, so the targets render one run per input, the one with
/// the most findings (every lint on).
pub fn check_run(run: &Run, render: bool) {
    for d in &run.diagnostics {
        assert!(d.lint != "internal", "internal error: {}", d.message);
    }
    if !render {
        return;
    }
    let human = taskcheck_render::human::render(&run.sources, &run.diagnostics, false);
    let colored = taskcheck_render::human::render(&run.sources, &run.diagnostics, true);
    assert_eq!(human.is_empty(), run.diagnostics.is_empty());
    assert_eq!(colored.is_empty(), run.diagnostics.is_empty());
    let _ = taskcheck_render::short::render(run);
    let _ = taskcheck_render::short::render_github(run);
    let _ = taskcheck_render::short::statistics(run);
    for line in taskcheck_render::json::render_run(run).lines() {
        assert!(line.starts_with('{') && line.ends_with('}'), "not a JSON object: {line}");
    }
    let _ = taskcheck_render::sarif::render(run, &taskcheck_lints::all_metas(), "0.0.0");
}

/// Applies the run's fixes as `--fix --unsafe-fixes` would, one round, and checks the
/// result: a plan that would be written parses, and linting the fixed text again is a
/// valid run. Returns the fixed texts that would have been written.
pub fn check_fixes(run: &Run, config: Config) -> Vec<String> {
    let mut written = Vec::new();
    for mode in [FixMode::Safe, FixMode::Unsafe] {
        for plan in fixer::plan(&run.sources, &run.diagnostics, mode) {
            if !plan.changes() {
                continue;
            }
            // `--fix` writes this text: it must parse.
            if let Err(e) = parse(&plan.fixed) {
                panic!("the fixes of {:?} leave text that does not parse ({e}):\n{}", plan.applied, plan.fixed);
            }
            let again = lint(plan.fixed.as_bytes(), config);
            check_run(&again, false);
            written.push(plan.fixed);
        }
    }
    written
}

/// What each finding says and where, comparable across runs (as in `tests/prefilter.rs`).
pub fn findings(run: &Run) -> Vec<String> {
    run.diagnostics
        .iter()
        .map(|d| {
            let labels: Vec<String> = d.secondary.iter().map(|l| format!("{}:{}", l.span.lo.line, l.message)).collect();
            let fix = d.fix.as_ref().map(|f| f.edits.iter().map(|e| e.replacement.clone()).collect::<Vec<_>>());
            format!(
                "{}:{} {} {} {:?} {:?}",
                d.primary.span.lo.line, d.primary.span.lo.column, d.lint, d.message, labels, fix
            )
        })
        .collect()
}

/// `syn::parse_file`, on a thread with the engine's worker stack: the harness's own
/// checks must not overflow the fuzzer's main thread on deep inputs the engine accepts
/// (the code under test keeps running on that thread, as in the CLI).
pub fn parse(text: &str) -> Result<(), String> {
    std::thread::scope(|s| {
        std::thread::Builder::new()
            .stack_size(engine::WORKER_STACK)
            .spawn_scoped(s, || syn::parse_file(text).map(drop).map_err(|e| e.to_string()))
            .expect("a thread")
            .join()
            .expect("syn does not panic")
    })
}
