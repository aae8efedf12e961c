//! taskcheck's lints: one lint per file, each holding its metadata, docs and logic, and
//! the shared analysis they stand on (`analysis/`). The engine calls [`Linter`].

pub mod analysis;

mod blocking_sleep_in_async;
mod channel_as_mutex;
mod detached_task_panic;
mod duplicate_task_start;
mod forget_lock_guard;
mod http_client_without_timeout;
mod loop_without_cancel;
mod lost_cancel;
mod oversized_channel_buffer;
mod pending_forever;
mod pool_holds_pointers;
mod pool_put_without_reset;
mod select_sleep_timeout;
mod sleep_as_timeout;
mod spawn_in_drop;
mod spawn_in_handler;
mod spawn_without_cancel;
mod unbounded_channel;
mod unbounded_static_map;
mod unused_suppression;

use taskcheck_core::engine::{Analyzer, Crate, FileUnit, PerFile};
use taskcheck_core::{Diagnostic, LintMeta, Settings};

use analysis::facts::FileFacts;
use analysis::index::{BodyRef, CrateIndex, LoopRef};
use analysis::tasks::{TaskAnalysis, TaskOptions};

/// What a lint sees in the crate-wide join.
pub struct CrateContext<'a> {
    pub index: &'a CrateIndex<'a>,
    pub tasks: &'a TaskAnalysis,
    pub settings: &'a Settings,
    /// Names of the lints that run (a suppression of a lint that is off is not judged).
    pub enabled: &'a [&'static str],
}

impl CrateContext<'_> {
    /// Whether findings in this body are off: test code (unless `lint-tests`) or a build
    /// script.
    pub fn ignores_body(&self, b: BodyRef) -> bool {
        self.index.is_build_script(b.file) || !self.settings.lint_tests && self.index.is_test_body(b)
    }

    /// Whether findings on this loop are off (see [`CrateContext::ignores_body`]).
    pub fn ignores_loop(&self, l: LoopRef) -> bool {
        self.index.is_build_script(l.file) || !self.settings.lint_tests && self.index.is_test_loop(l)
    }
}

/// A lint: static metadata plus a check over the joined crate facts.
pub trait Lint: Sync {
    fn meta(&self) -> &'static LintMeta;
    fn check(&self, cx: &CrateContext<'_>, out: &mut Vec<Diagnostic>);
}

/// Every lint, in catalogue order. A test checks that each `src/<lint>.rs` is listed.
pub static LINTS: &[&dyn Lint] = &[
    &loop_without_cancel::LoopWithoutCancel,
    &spawn_without_cancel::SpawnWithoutCancel,
    &spawn_in_handler::SpawnInHandler,
    &pending_forever::PendingForever,
    &spawn_in_drop::SpawnInDrop,
    &detached_task_panic::DetachedTaskPanic,
    &duplicate_task_start::DuplicateTaskStart,
    &sleep_as_timeout::SleepAsTimeout,
    &select_sleep_timeout::SelectSleepTimeout,
    &lost_cancel::LostCancel,
    &blocking_sleep_in_async::BlockingSleepInAsync,
    &http_client_without_timeout::HttpClientWithoutTimeout,
    &channel_as_mutex::ChannelAsMutex,
    &pool_holds_pointers::PoolHoldsPointers,
    &pool_put_without_reset::PoolPutWithoutReset,
    &unbounded_static_map::UnboundedStaticMap,
    &unbounded_channel::UnboundedChannel,
    &oversized_channel_buffer::OversizedChannelBuffer,
    &forget_lock_guard::ForgetLockGuard,
    // Last: it judges the suppressions against every other lint's findings.
    &unused_suppression::UnusedSuppression,
];

/// Metadata of every lint.
pub fn all_metas() -> Vec<&'static LintMeta> {
    LINTS.iter().map(|l| l.meta()).collect()
}

/// Finds a lint's metadata by name (dashes accepted).
pub fn find(name: &str) -> Option<&'static LintMeta> {
    let name = name.replace('-', "_");
    LINTS.iter().map(|l| l.meta()).find(|m| m.name == name)
}

/// Bumped when the shape of the per-file facts changes, so that facts cached by an
/// earlier build of the same version are not read back as the new shape.
const FACTS_LAYOUT: u32 = 2;

/// The analyzer the engine runs: extracts facts per file, then runs the enabled lints
/// on each crate's joined facts.
pub struct Linter {
    lints: Vec<&'static dyn Lint>,
    settings: Settings,
    extra_words: Vec<String>,
    /// Settings that vary by directory (config files); `None`: `settings` everywhere.
    settings_for: Option<PerFile<Settings>>,
}

impl Linter {
    /// A linter running the lints for which `enabled` says yes.
    pub fn new(settings: Settings, enabled: impl Fn(&LintMeta) -> bool) -> Self {
        Linter {
            lints: LINTS.iter().copied().filter(|l| enabled(l.meta())).collect(),
            extra_words: settings.extra_cancel_words(),
            settings,
            settings_for: None,
        }
    }

    /// Settings per file (config files): extraction uses the file's, the crate join the
    /// crate root's.
    pub fn with_settings_for(mut self, f: PerFile<Settings>) -> Self {
        self.settings_for = Some(f);
        self
    }

    /// The crate's settings: those of its root (or of its first file).
    fn crate_settings(&self, krate: &Crate<'_, FileFacts>) -> Settings {
        let anchor = krate
            .root
            .map(|r| r.join("Cargo.toml"))
            .or_else(|| krate.files.first().map(|(u, _)| u.source.path.clone()));
        match (&self.settings_for, anchor) {
            (Some(f), Some(a)) => (f.0)(&a),
            _ => self.settings.clone(),
        }
    }

    /// The task inventory of one crate (`taskcheck tasks`): every spawn site outside test
    /// code (unless `lint-tests`), build scripts and proc-macro crates, unsorted.
    fn inventory(&self, krate: &Crate<'_, FileFacts>) -> Vec<analysis::inventory::Task> {
        if krate.root.is_some_and(is_proc_macro_crate) {
            return Vec::new();
        }
        let index = CrateIndex::new(krate.files.iter().map(|(u, f)| (u, *f)).collect());
        let settings = self.crate_settings(krate);
        let opts = TaskOptions { lint_tests: settings.lint_tests, strict_async_loops: settings.strict_async_loops };
        analysis::inventory::build(&index, opts)
    }
}

/// Whether the crate at `root` is a proc-macro crate (compile-time code).
fn is_proc_macro_crate(root: &std::path::Path) -> bool {
    std::fs::read_to_string(root.join("Cargo.toml")).is_ok_and(|t| {
        t.lines().any(|l| {
            let l: String = l.chars().filter(|c| !c.is_whitespace()).collect();
            l == "proc-macro=true" || l == "proc_macro=true"
        })
    })
}

impl Analyzer for Linter {
    type Facts = FileFacts;

    fn analyze_file(&self, file: &FileUnit<'_>, ast: &syn::File) -> FileFacts {
        let words = self.settings_for.as_ref().map(|f| (f.0)(&file.source.path).extra_cancel_words());
        let pools =
            [pool_holds_pointers::POOL_HOLDS_POINTERS.name, pool_put_without_reset::POOL_PUT_WITHOUT_RESET.name];
        let walks = analysis::facts::Walks {
            // The pools read the type aliases the statics walk collects.
            statics: file.any_active(&[unbounded_static_map::UNBOUNDED_STATIC_MAP.name]) || file.any_active(&pools),
            pools: file.any_active(&pools),
        };
        let extra_words = words.as_deref().unwrap_or(&self.extra_words);
        let mut facts = analysis::facts::extract_with(file.source, file.rel_path, ast, extra_words, walks);
        // A cargo-fuzz crate (`fuzz/Cargo.toml`) is harness code, like `benches/`.
        if file.crate_root.and_then(|r| r.file_name()).is_some_and(|n| n == "fuzz") {
            facts.is_test_file = true;
        }
        facts
    }

    fn facts_key(&self, file: &FileUnit<'_>) -> u64 {
        // The extra cancellation words of the file's settings shape its facts.
        let words = self.settings_for.as_ref().map(|f| (f.0)(&file.source.path).extra_cancel_words());
        let mut h = std::collections::hash_map::DefaultHasher::new();
        std::hash::Hash::hash(&FACTS_LAYOUT, &mut h);
        std::hash::Hash::hash(words.as_deref().unwrap_or(&self.extra_words), &mut h);
        std::hash::Hasher::finish(&h)
    }

    fn prefilter(&self, enabled: &[&'static str]) -> Option<taskcheck_core::prefilter::Prefilter> {
        let triggers: Vec<_> = self
            .lints
            .iter()
            .filter(|l| enabled.contains(&l.meta().name))
            .map(|l| (l.meta().name, l.meta().triggers))
            .collect();
        // As deep as any analysis follows calls from where it starts.
        let depth =
            analysis::tasks::TASK_CALL_DEPTH.max(analysis::tasks::MAIN_CALL_DEPTH).max(spawn_in_drop::DROP_CALL_DEPTH);
        let prefilter = taskcheck_core::prefilter::Prefilter::new(&triggers, depth)?;
        // A stale suppression is most often in a file where no lint can fire any more:
        // such a file must still be parsed for `unused_suppression` to see its comments.
        let judges_suppressions = triggers.iter().any(|(name, _)| *name == unused_suppression::UNUSED_SUPPRESSION.name);
        Some(if judges_suppressions { prefilter.parse_files_containing(analysis::suppress::MARKER) } else { prefilter })
    }

    fn check_crate(&self, krate: &Crate<'_, FileFacts>) -> Vec<Diagnostic> {
        if self.lints.is_empty() || krate.root.is_some_and(is_proc_macro_crate) {
            return Vec::new();
        }
        let files = krate.files.iter().map(|(u, f)| (u, *f)).collect();
        let index = CrateIndex::new(files);
        let crate_settings = self.crate_settings(krate);
        let settings = &crate_settings;
        let tasks = analysis::tasks::analyze(
            &index,
            TaskOptions { lint_tests: settings.lint_tests, strict_async_loops: settings.strict_async_loops },
        );
        // The lints that run: this linter's, unless the crate's levels allow them all over.
        let lints: Vec<&'static dyn Lint> =
            self.lints.iter().copied().filter(|l| krate.enabled.contains(&l.meta().name)).collect();
        let enabled: Vec<&'static str> = lints.iter().map(|l| l.meta().name).collect();
        let cx = CrateContext { index: &index, tasks: &tasks, settings, enabled: &enabled };
        let mut out = Vec::new();
        for lint in &lints {
            lint.check(&cx, &mut out);
        }
        // Suppression comments remove the findings they cover.
        let sups: std::collections::HashMap<_, _> = krate
            .files
            .iter()
            .filter(|(_, f)| !f.suppressions.is_empty())
            .map(|(unit, f)| (unit.source.id, (&f.suppressions, &f.items)))
            .collect();
        if !sups.is_empty() {
            out.retain(|d| match sups.get(&d.primary.span.file) {
                Some((s, items)) => !analysis::suppress::suppressed(d, s, items, &mut vec![false; s.len()]),
                None => true,
            });
        }
        out
    }
}

/// The analyzer of `taskcheck tasks`: the linter's facts and findings, plus each
/// crate's task inventory, collected as the engine joins the crates (in any order:
/// [`analysis::inventory::Inventory::new`] sorts them).
pub struct InventoryLinter {
    linter: Linter,
    tasks: std::sync::Mutex<Vec<analysis::inventory::Task>>,
}

impl InventoryLinter {
    pub fn new(linter: Linter) -> Self {
        InventoryLinter { linter, tasks: std::sync::Mutex::new(Vec::new()) }
    }

    /// The tasks of every crate joined so far.
    pub fn into_tasks(self) -> Vec<analysis::inventory::Task> {
        self.tasks.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Analyzer for InventoryLinter {
    type Facts = FileFacts;

    fn analyze_file(&self, file: &FileUnit<'_>, ast: &syn::File) -> FileFacts {
        self.linter.analyze_file(file, ast)
    }

    // No prefilter: every spawn site is listed, so every item must be parsed.

    fn check_crate(&self, krate: &Crate<'_, FileFacts>) -> Vec<Diagnostic> {
        let tasks = self.linter.inventory(krate);
        self.tasks.lock().unwrap_or_else(std::sync::PoisonError::into_inner).extend(tasks);
        self.linter.check_crate(krate)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_lint_file_is_registered_once() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".rs") && n != "lib.rs")
            .map(|n| n.trim_end_matches(".rs").to_string())
            .collect();
        files.sort();
        let mut names: Vec<String> = all_metas().iter().map(|m| m.name.to_string()).collect();
        names.sort();
        assert_eq!(files, names, "lints/src/<name>.rs and LINTS must list the same lints");
    }

    #[test]
    fn every_lint_has_the_required_docs_and_ui_tests() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        for m in all_metas() {
            for section in [
                "### What it does",
                "### Why is this bad",
                "### Example",
                "### Use instead",
                "### Go analog",
                "### Known limits",
            ] {
                assert!(m.docs.contains(section), "{} docs lack `{section}`", m.name);
            }
            let has_fix = m.fix != taskcheck_core::FixAvailability::None;
            assert_eq!(m.docs.contains("### Fix safety"), has_fix, "{}: `### Fix safety` iff it has a fix", m.name);
            let dir = root.join("ui-tests").join(m.name);
            let cases: Vec<String> = std::fs::read_dir(&dir)
                .unwrap_or_else(|_| panic!("{} has no ui-tests folder", m.name))
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect();
            assert!(cases.iter().any(|c| c.starts_with("fail")), "{} has no failing ui-test", m.name);
            assert!(cases.iter().any(|c| c.starts_with("pass")), "{} has no passing ui-test", m.name);
            if has_fix {
                assert!(cases.iter().any(|c| c.ends_with(".fixed")), "{} has a fix but no `.fixed` ui-test", m.name);
            }
        }
    }
}
