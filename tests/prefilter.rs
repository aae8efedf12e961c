//! The prefilter (spec §11) parses only the items an enabled lint could fire on. It must
//! never change a finding: these tests lint real code with it and without it and require
//! identical diagnostics, in the configurations people run (default lints; every lint
//! with test code linted too, which exercises far more of the analysis).

use std::path::{Path, PathBuf};

use taskcheck::lint_paths;
use taskcheck_core::engine::{Options, Run};
use taskcheck_core::levels::LevelFlag;
use taskcheck_core::{Level, Settings};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// What a finding says and where, comparable across runs.
fn findings(run: &Run) -> Vec<String> {
    run.diagnostics
        .iter()
        .map(|d| {
            let file = &run.sources.get(d.primary.span.file).display;
            let labels: Vec<String> = d.secondary.iter().map(|l| format!("{}:{}", l.span.lo.line, l.message)).collect();
            let fix = d.fix.as_ref().map(|f| f.edits.iter().map(|e| e.replacement.clone()).collect::<Vec<_>>());
            format!(
                "{file}:{}:{} {} {} {:?} {:?}",
                d.primary.span.lo.line, d.primary.span.lo.column, d.lint, d.message, labels, fix
            )
        })
        .collect()
}

/// Lints `paths` with and without the prefilter in two configurations; returns the
/// number of findings (with every lint on and test code linted) and the bytes the
/// prefilter kept from the parser.
fn assert_same(paths: &[PathBuf]) -> (usize, usize) {
    let configs: [(&[LevelFlag], Settings); 2] = [
        (&[], Settings::default()),
        (&[LevelFlag::new(Level::Warn, "all")], Settings { lint_tests: true, ..Settings::default() }),
    ];
    let mut out = (0, 0);
    for (flags, settings) in configs {
        let run = |prefilter| {
            let opts = Options { prefilter, ..Options::default() };
            lint_paths(paths, flags, settings.clone(), &opts).expect("known lint names")
        };
        let (with, without) = (run(true), run(false));
        assert_eq!(findings(&with), findings(&without), "findings differ with the prefilter ({flags:?})");
        assert_eq!(with.files_linted, without.files_linted);
        out = (with.diagnostics.len(), with.stats.bytes_skipped);
    }
    out
}

#[test]
fn ui_tests_and_the_example_give_the_same_findings_with_the_prefilter() {
    let (found, skipped) = assert_same(&[root().join("ui-tests"), root().join("examples")]);
    // The cases are full of findings, and the prefilter still leaves code out.
    assert!(found > 200, "{found}");
    assert!(skipped > 0);
}

/// Real crates: this workspace's own dependencies, which cargo has downloaded to build
/// it (syn, rayon, crossbeam, lsp-server, ignore, ...), found through `cargo metadata`.
#[test]
fn dependencies_give_the_same_findings_with_the_prefilter() {
    let meta = cargo_metadata::MetadataCommand::new()
        .manifest_path(root().join("Cargo.toml"))
        .other_options(vec!["--offline".to_string()])
        .exec()
        .expect("cargo metadata");
    let wanted =
        ["rayon-core", "crossbeam-channel", "crossbeam-deque", "crossbeam-utils", "lsp-server", "ignore", "syn"];
    let dirs: Vec<PathBuf> = meta
        .packages
        .iter()
        .filter(|p| p.source.is_some() && wanted.contains(&p.name.as_str()))
        .filter_map(|p| p.manifest_path.parent().map(|d| d.as_std_path().to_path_buf()))
        .filter(|d: &PathBuf| Path::new(d).is_dir())
        .collect();
    assert!(dirs.len() >= 5, "dependencies not found: {dirs:?}");
    let (found, skipped) = assert_same(&dirs);
    assert!(found > 0 && skipped > 0, "{found} findings, {skipped} bytes skipped");
}

/// Found by the `lint_generated` fuzz target: a file in which no lint can fire was not
/// parsed at all, so the stale suppression comments in it went unreported with the
/// prefilter (and were reported without it).
#[test]
fn stale_suppressions_in_a_file_no_lint_reads_are_reported_with_the_prefilter() {
    let tmp = tempfile::tempdir().unwrap();
    let text = "// taskcheck: allow-file(blocking_sleep_in_async)\n// taskcheck: allow(all)\nfn main() {}\n";
    std::fs::write(tmp.path().join("quiet.rs"), text).unwrap();
    let (found, _) = assert_same(&[tmp.path().to_path_buf()]);
    assert_eq!(found, 2, "the unused suppression and the unknown lint name");
}
