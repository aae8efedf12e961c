//! The `taskcheck` command line: argument parsing and wiring of the engine, the lints
//! and the renderers. Both binaries (`taskcheck`, `cargo-taskcheck`) call [`main_with_args`].

use std::ffi::OsString;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

mod cargo;
mod tasks;

use clap::{ArgMatches, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};
use taskcheck_core::engine::{self, Options, Run};
use taskcheck_core::fix::{self as fixer, FixMode};
use taskcheck_core::levels::{closest, LevelFlag, Levels, UnknownName};
use taskcheck_core::{Diagnostic, Level, LintMeta, Settings, SourceMap};
use taskcheck_lints::Linter;

/// Exit code: no deny-level finding.
pub const EXIT_OK: i32 = 0;
/// Exit code: at least one deny-level finding.
pub const EXIT_FINDINGS: i32 = 1;
/// Exit code: usage error, unreadable input, internal error.
pub const EXIT_ERROR: i32 = 2;

#[derive(Parser, Debug)]
#[command(
    name = "taskcheck",
    version,
    about = "Finds tasks and threads that never end and state that only grows",
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    check: CheckArgs,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Print the table of lints: name, default level, group, fix availability.
    Rules,
    /// Print a lint's documentation.
    Explain {
        /// The lint name, e.g. `spawn_without_cancel`.
        lint: String,
    },
    /// Run the language server on stdin/stdout (live findings and quick fixes in editors).
    Lsp,
    /// List every spawn site: what starts it, where its handle goes, and how (or whether)
    /// its work stops.
    Tasks(tasks::TasksArgs),
}

#[derive(clap::Args, Debug)]
struct CheckArgs {
    /// Files or directories to lint (default: the current directory).
    paths: Vec<PathBuf>,
    /// Set lints, groups or `all` to warn.
    #[arg(short = 'W', long = "warn", value_name = "LINT")]
    warn: Vec<String>,
    /// Set lints, groups or `all` to allow (off).
    #[arg(short = 'A', long = "allow", value_name = "LINT")]
    allow: Vec<String>,
    /// Set lints, groups, `all` or `warnings` to deny (exit code 1 when found).
    #[arg(short = 'D', long = "deny", value_name = "LINT")]
    deny: Vec<String>,
    /// Output format (default: human; github when `GITHUB_ACTIONS=true`).
    #[arg(long, value_enum)]
    message_format: Option<MessageFormat>,
    /// Write the machine format to FILE; the terminal still gets human output.
    #[arg(long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Print the number of findings per lint instead of the findings.
    #[arg(long)]
    statistics: bool,
    /// When to use colors in human output.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,
    /// Number of worker threads (default: all cores).
    #[arg(short = 'j', long)]
    jobs: Option<usize>,
    /// Parse every file whole instead of only the items an enabled lint could fire on
    /// (same findings, slower; for comparing and benchmarking).
    #[arg(long)]
    no_prefilter: bool,
    /// Keep the facts of each parsed file in DIR, so that the next run does not parse
    /// the files that did not change (off unless given).
    #[arg(long, value_name = "DIR")]
    cache_dir: Option<PathBuf>,
    /// Print findings only, no summary line.
    #[arg(short, long)]
    quiet: bool,
    /// Apply safe fixes, then report what remains.
    #[arg(long)]
    fix: bool,
    /// With `--fix` or `--diff`: include unsafe fixes (they may change behaviour; review them).
    #[arg(long)]
    unsafe_fixes: bool,
    /// Print the fixes as a unified diff and change nothing (exit 1 when there is a diff).
    #[arg(long, conflicts_with = "fix")]
    diff: bool,
    /// Write a suppression comment above every current finding (reason "existing
    /// finding"), to adopt taskcheck on an existing codebase. Running it twice adds nothing.
    #[arg(long, conflicts_with_all = ["fix", "diff"])]
    add_suppressions: bool,
    /// cargo mode: lint this package of the workspace (repeatable).
    #[arg(short = 'p', long = "package", value_name = "NAME")]
    package: Vec<String>,
    /// cargo mode: lint every member of the workspace.
    #[arg(long)]
    workspace: bool,
    /// cargo mode: the `Cargo.toml` to start from (default: the one around the current directory).
    #[arg(long, value_name = "PATH")]
    manifest_path: Option<PathBuf>,
    /// Read one file from stdin, linted as if it were at this path (for editors and
    /// pre-commit). With `--fix`, the fixed text is printed on stdout.
    #[arg(long, value_name = "PATH", conflicts_with = "paths")]
    stdin_filename: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum MessageFormat {
    /// rustc-style annotated diagnostics on stderr.
    Human,
    /// `path:line:col: level[lint] message`, one line per finding, on stdout.
    Short,
    /// cargo `compiler-message` JSON lines on stdout.
    Json,
    /// GitHub Actions workflow annotations on stdout.
    Github,
    /// SARIF 2.1.0 (GitHub code scanning) on stdout.
    Sarif,
}

impl CheckArgs {
    /// The chosen format; GitHub annotations by default inside GitHub Actions.
    fn format(&self) -> MessageFormat {
        self.message_format.unwrap_or_else(|| {
            if std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true") {
                MessageFormat::Github
            } else {
                MessageFormat::Human
            }
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// Level flags in command-line order (`-A all -W spawn_without_cancel` differs from the
/// reverse), read from clap's argument indices.
fn level_flags(m: &ArgMatches) -> Vec<LevelFlag> {
    let mut flags: Vec<(usize, LevelFlag)> = Vec::new();
    for (id, level) in [("warn", Level::Warn), ("allow", Level::Allow), ("deny", Level::Deny)] {
        if let (Some(vals), Some(idx)) = (m.get_many::<String>(id), m.indices_of(id)) {
            for (v, i) in vals.zip(idx) {
                flags.push((i, LevelFlag::new(level, v.clone())));
            }
        }
    }
    flags.sort_by_key(|(i, _)| *i);
    flags.into_iter().map(|(_, f)| f).collect()
}

/// Lints `paths` with the given level flags and settings: the library entry point used
/// by the CLI and the tests.
pub fn lint_paths(
    paths: &[PathBuf],
    flags: &[LevelFlag],
    settings: Settings,
    opts: &Options,
) -> Result<Run, UnknownName> {
    let metas = taskcheck_lints::all_metas();
    let levels = Levels::resolve(&metas, flags)?;
    let linter = Linter::new(settings, |m| levels.is_enabled(m.name));
    Ok(engine::run(&linter, paths, &levels, opts))
}

/// Why a configured run could not start or finish.
#[derive(Debug)]
pub enum RunError {
    UnknownName(UnknownName),
    Config(taskcheck_core::config::ConfigError),
}

impl std::fmt::Display for RunError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RunError::UnknownName(e) => write!(f, "{e}"),
            RunError::Config(e) => write!(f, "{e}"),
        }
    }
}

/// Every name a config's `[lints]` may use: lints, groups, `all`.
fn config_names() -> Vec<&'static str> {
    taskcheck_lints::all_metas()
        .iter()
        .map(|m| m.name)
        .chain(taskcheck_core::lint::GROUP_NAMES.iter().copied())
        .collect()
}

/// Lints `paths` with the config files that govern each file (discovered upwards from
/// it; a nested config overrides its parents) under the command-line `flags`.
pub fn lint_paths_configured(paths: &[PathBuf], flags: &[LevelFlag], opts: &Options) -> Result<Run, RunError> {
    run_configured(paths, flags, opts, |linter, levels, opts| engine::run(&linter, paths, levels, opts))
}

/// Sets up a configured run (levels, settings and excludes from config files under the
/// command-line `flags`) and hands the linter, the command line's levels and the
/// options to `go`, which runs the engine.
fn run_configured<T>(
    paths: &[PathBuf],
    flags: &[LevelFlag],
    opts: &Options,
    go: impl FnOnce(Linter, &Levels, &Options) -> T,
) -> Result<T, RunError> {
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex};
    use taskcheck_core::config::{self, Configs};
    use taskcheck_core::engine::PerFile;

    let metas = taskcheck_lints::all_metas();
    let cli_levels = Levels::resolve(&metas, flags).map_err(RunError::UnknownName)?;
    let configs = Arc::new(Configs::new(config_names()));
    // The inputs' own configs are checked before anything runs.
    for p in paths {
        let dir = if p.is_dir() { p.as_path() } else { p.parent().unwrap_or(Path::new(".")) };
        let dir = if dir.as_os_str().is_empty() { Path::new(".") } else { dir };
        configs.chain(dir).map_err(RunError::Config)?;
    }
    let errors: Arc<Mutex<Vec<config::ConfigError>>> = Arc::default();
    let chain_of = {
        let (configs, errors) = (configs.clone(), errors.clone());
        move |file: &Path| match configs.for_file(file) {
            Ok(c) => c,
            Err(e) => {
                errors.lock().expect("not poisoned").push(e);
                Vec::new()
            }
        }
    };
    let chain_of = Arc::new(chain_of);
    let cache: Arc<Mutex<HashMap<PathBuf, Arc<Levels>>>> = Arc::default();
    let file_levels = {
        let (chain_of, flags, metas, cache) = (chain_of.clone(), flags.to_vec(), metas.clone(), cache.clone());
        let fallback = Arc::new(cli_levels.clone());
        PerFile(Arc::new(move |file: &Path| {
            let dir = file.parent().unwrap_or(Path::new(".")).to_path_buf();
            if let Some(l) = cache.lock().expect("not poisoned").get(&dir) {
                return l.clone();
            }
            // Config levels first, then the command line: flags override config.
            let mut all = config::level_flags(&chain_of(file));
            all.extend(flags.iter().cloned());
            let levels = Levels::resolve(&metas, &all).map(Arc::new).unwrap_or_else(|_| fallback.clone());
            cache.lock().expect("not poisoned").insert(dir, levels.clone());
            levels
        }))
    };
    let exclude = {
        let chain_of = chain_of.clone();
        PerFile(Arc::new(move |file: &Path| config::is_excluded(&chain_of(file), file)))
    };
    let settings_for = {
        let chain_of = chain_of.clone();
        PerFile(Arc::new(move |file: &Path| config::settings(&chain_of(file))))
    };
    let opts = Options { file_levels: Some(file_levels), exclude: Some(exclude), ..opts.clone() };
    // Every lint runs; each file's levels decide what is reported.
    let linter = Linter::new(Settings::default(), |_| true).with_settings_for(settings_for);
    let out = go(linter, &cli_levels, &opts);
    if let Some(e) = errors.lock().expect("not poisoned").first() {
        return Err(RunError::Config(e.clone()));
    }
    Ok(out)
}

/// Lints in-memory files as one crate (stdin input, re-linting fixed text).
pub fn lint_sources(files: &[(PathBuf, String)], flags: &[LevelFlag], settings: Settings) -> Result<Run, UnknownName> {
    let metas = taskcheck_lints::all_metas();
    let levels = Levels::resolve(&metas, flags)?;
    let linter = Linter::new(settings, |m| levels.is_enabled(m.name));
    Ok(engine::run_sources(&linter, files, &levels))
}

/// Runs the command line; returns the exit code.
pub fn main_with_args(args: Vec<OsString>) -> i32 {
    // `cargo-taskcheck` names itself `cargo taskcheck`: it lints the cargo workspace.
    let invoked_by_cargo = args.first().is_some_and(|a| a == "cargo taskcheck");
    let matches = match Cli::command().try_get_matches_from(args) {
        Ok(m) => m,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { EXIT_ERROR } else { EXIT_OK };
        }
    };
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return EXIT_ERROR;
        }
    };
    let cargo_mode =
        invoked_by_cargo || !cli.check.package.is_empty() || cli.check.workspace || cli.check.manifest_path.is_some();
    match cli.command {
        Some(Command::Rules) => rules(),
        Some(Command::Explain { lint }) => explain(&lint),
        Some(Command::Lsp) => lsp(),
        Some(Command::Tasks(args)) => {
            let sub = matches.subcommand_matches("tasks").expect("the tasks subcommand was parsed");
            tasks::main(args, level_flags(sub), invoked_by_cargo)
        }
        None => check(cli.check, level_flags(&matches), cargo_mode),
    }
}

/// `taskcheck lsp`: the language server, with the same config files as the command line
/// (read again on every lint, so edits to them apply at once).
fn lsp() -> i32 {
    use std::sync::Arc;
    use taskcheck_core::config::{self, Configs};
    let chain = |file: &Path| Configs::new(config_names()).for_file(file).unwrap_or_default();
    let settings_for = taskcheck_core::engine::PerFile(Arc::new(move |file: &Path| config::settings(&chain(file))));
    let host = taskcheck_lsp::Host {
        analyzer: Linter::new(Settings::default(), |_| true).with_settings_for(settings_for),
        levels_for: Box::new(|file, client| {
            let metas = taskcheck_lints::all_metas();
            let mut flags = config::level_flags(&Configs::new(config_names()).for_file(file).unwrap_or_default());
            flags.extend(client.iter().cloned());
            Arc::new(
                Levels::resolve(&metas, &flags)
                    .unwrap_or_else(|_| Levels::resolve(&metas, &[]).expect("defaults resolve")),
            )
        }),
        doc_url: Box::new(|lint| taskcheck_lints::find(lint).map(|m| m.doc_url()).unwrap_or_default()),
    };
    match taskcheck_lsp::serve_stdio(host) {
        Ok(()) => EXIT_OK,
        Err(e) => {
            eprintln!("error: language server: {e}");
            EXIT_ERROR
        }
    }
}

fn rules() -> i32 {
    let metas = taskcheck_lints::all_metas();
    let width = metas.iter().map(|m| m.name.len()).max().unwrap_or(4).max(4);
    let mut out = format!("{:width$}  {:7}  {:20}  {:9}  summary\n", "lint", "default", "group", "fix");
    for m in &metas {
        let groups: Vec<&str> = m.group_names().collect();
        out.push_str(&format!(
            "{:width$}  {:7}  {:20}  {:9}  {}\n",
            m.name,
            m.default_level.as_str(),
            groups.join(", "),
            m.fix.as_str(),
            m.summary
        ));
    }
    print!("{out}");
    EXIT_OK
}

fn explain(name: &str) -> i32 {
    match taskcheck_lints::find(name) {
        Some(m) => {
            print!("{}", explain_text(m));
            EXIT_OK
        }
        None => {
            let metas = taskcheck_lints::all_metas();
            let hint = closest(name, metas.iter().map(|m| m.name))
                .map(|s| format!("; did you mean `{s}`?"))
                .unwrap_or_default();
            eprintln!("error: unknown lint `{name}`{hint}\n  (`taskcheck rules` lists them all)");
            EXIT_ERROR
        }
    }
}

/// The generated lint reference (`docs/lints.md`, the target of each rule's help URI):
/// every lint's `explain` page, one section each.
pub fn reference_docs() -> String {
    let mut out = String::from(
        "# taskcheck lints\n\nGenerated from the lint sources (`taskcheck explain LINT` shows the same text); \
         `cargo test` checks that this file is current (`TASKCHECK_BLESS=1 cargo test --test cli` rewrites it).\n",
    );
    for m in taskcheck_lints::all_metas() {
        let page = explain_text(m).replace("\n### ", "\n#### ");
        out.push_str(&format!("\n#{}\n", page.trim_end()));
    }
    out
}

/// The `explain` page of a lint.
pub fn explain_text(m: &LintMeta) -> String {
    let groups: Vec<&str> = m.group_names().collect();
    format!(
        "# {}\n\n{}\n\ndefault level: {} · group: {} · fix: {}\n\n{}",
        m.name,
        m.summary,
        m.default_level.as_str(),
        groups.join(", "),
        m.fix.as_str(),
        m.docs_markdown()
    )
}

/// The paths a run reads: with a cargo selection (`cargo taskcheck`, `-p`,
/// `--workspace`, `--manifest-path`) the selected packages' source directories, else
/// `paths`, else `.`. Paths given together with a selection are an error (`misuse`
/// says what to run instead); errors are printed and give the exit code.
pub(crate) fn input_paths(paths: &[PathBuf], sel: Option<cargo::Selection>, misuse: &str) -> Result<Vec<PathBuf>, i32> {
    match sel {
        Some(_) if !paths.is_empty() => {
            eprintln!("error: {misuse}");
            Err(EXIT_ERROR)
        }
        Some(sel) => cargo::paths(&sel, Path::new(".")).map_err(|e| {
            eprintln!("error: {e}");
            EXIT_ERROR
        }),
        None if paths.is_empty() => Ok(vec![PathBuf::from(".")]),
        None => Ok(paths.to_vec()),
    }
}

/// Rounds of fix-then-relint (a fix can enable another).
const FIX_ROUNDS: usize = 4;

fn check(args: CheckArgs, flags: Vec<LevelFlag>, cargo_mode: bool) -> i32 {
    let start = Instant::now();
    let sel = cargo_mode.then(|| cargo::Selection {
        packages: args.package.clone(),
        workspace: args.workspace,
        manifest_path: args.manifest_path.clone(),
    });
    let misuse = "`cargo taskcheck` lints the workspace's packages (select them with `-p`); to lint particular paths, run `taskcheck PATH`";
    let paths = match input_paths(&args.paths, sel, misuse) {
        Ok(paths) => paths,
        Err(code) => return code,
    };
    let opts = Options {
        jobs: args.jobs,
        prefilter: !args.no_prefilter,
        cache_dir: args.cache_dir.clone(),
        ..Options::default()
    };
    if let Some(name) = args.stdin_filename.clone() {
        return check_stdin(&args, &flags, name, start);
    }
    let lint = || lint_paths_configured(&paths, &flags, &opts);
    let mut run = match lint() {
        Ok(run) => run,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_ERROR;
        }
    };
    let mode = if args.unsafe_fixes { FixMode::Unsafe } else { FixMode::Safe };
    if args.diff {
        return print_diff(&run, mode);
    }
    let mut fixed = 0;
    let mut fix_problems = false;
    if args.add_suppressions {
        let (added, problems) = add_suppressions(&run);
        eprintln!("taskcheck: added {added} suppression comment(s)");
        fix_problems |= problems;
        run = lint().expect("the level flags were valid a moment ago");
    }
    if args.fix {
        for _ in 0..FIX_ROUNDS {
            let (applied, problems) = apply_fixes(&run.sources, &run.diagnostics, mode);
            fixed += applied;
            fix_problems |= problems;
            if applied == 0 {
                break;
            }
            run = match lint() {
                Ok(run) => run,
                Err(_) => unreachable!("the level flags were valid a moment ago"),
            };
        }
    }
    report(&run, &args, Some(&paths), fixed, fix_problems, start)
}

/// Renders the run in the chosen format; returns the exit code.
fn report(
    run: &Run,
    args: &CheckArgs,
    paths: Option<&[PathBuf]>,
    fixed: usize,
    fix_problems: bool,
    start: Instant,
) -> i32 {
    let color = match args.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
    };
    let input_errors = run.diagnostics.iter().any(|d| d.is_input_error());
    let success = !input_errors && run.count(Level::Deny) == 0;
    let machine = |format: MessageFormat| match format {
        MessageFormat::Human => taskcheck_render::human::render(&run.sources, &run.diagnostics, false),
        MessageFormat::Short => taskcheck_render::short::render(run),
        MessageFormat::Github => taskcheck_render::short::render_github(run),
        MessageFormat::Sarif => {
            taskcheck_render::sarif::render(run, &taskcheck_lints::all_metas(), env!("CARGO_PKG_VERSION"))
        }
        MessageFormat::Json => {
            format!("{}{}\n", taskcheck_render::json::render_run(run), taskcheck_render::json::build_finished(success))
        }
    };
    let format = args.format();
    // `--output FILE`: the chosen format goes to the file, the terminal gets human output.
    let terminal = match &args.output {
        Some(file) => {
            if let Err(e) = std::fs::write(file, machine(format)) {
                eprintln!("error[io]: cannot write {}: {e}", file.display());
                return EXIT_ERROR;
            }
            MessageFormat::Human
        }
        None => format,
    };
    if args.statistics {
        print!("{}", taskcheck_render::short::statistics(run));
    } else if terminal == MessageFormat::Human {
        let mut err = std::io::stderr().lock();
        let _ = err.write_all(taskcheck_render::human::render(&run.sources, &run.diagnostics, color).as_bytes());
    } else {
        print!("{}", machine(terminal));
    }
    if terminal == MessageFormat::Human {
        let mut err = std::io::stderr().lock();
        if let Some(paths) = paths.filter(|_| run.sources.is_empty() || run.files_linted == 0 && !input_errors) {
            let _ = writeln!(err, "warning: no Rust files found in {}", shown_paths(paths));
        }
        if !args.quiet {
            let mut line = taskcheck_render::human::run_summary(run, start.elapsed());
            if fixed > 0 {
                line.push_str(&format!("; fixed {fixed}"));
            }
            line.push_str(&fixable_note(run, args.fix, args.unsafe_fixes));
            let _ = writeln!(err, "{line}");
        }
    }
    if input_errors || fix_problems {
        EXIT_ERROR
    } else if run.count(Level::Deny) > 0 {
        EXIT_FINDINGS
    } else {
        EXIT_OK
    }
}

/// `--stdin-filename`: lint (and with `--fix`, repair) one buffer read from stdin.
fn check_stdin(args: &CheckArgs, flags: &[LevelFlag], name: PathBuf, start: Instant) -> i32 {
    if args.fix && args.format() != MessageFormat::Human {
        eprintln!("error: `--fix` with `--stdin-filename` prints the fixed text on stdout; use the human format");
        return EXIT_ERROR;
    }
    let mut text = String::new();
    if let Err(e) = std::io::Read::read_to_string(&mut std::io::stdin(), &mut text) {
        eprintln!("error[io]: cannot read stdin for {}: {e}", name.display());
        return EXIT_ERROR;
    }
    // Config and suppressions are resolved for NAME, as if the file were there.
    let chain = match taskcheck_core::config::Configs::new(config_names()).for_file(&name) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_ERROR;
        }
    };
    let mut all_flags = taskcheck_core::config::level_flags(&chain);
    all_flags.extend(flags.iter().cloned());
    let settings = taskcheck_core::config::settings(&chain);
    let lint = |text: &str| lint_sources(&[(name.clone(), text.to_string())], &all_flags, settings.clone());
    let mut run = match lint(&text) {
        Ok(run) => run,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_ERROR;
        }
    };
    let mode = if args.unsafe_fixes { FixMode::Unsafe } else { FixMode::Safe };
    if args.diff {
        return print_diff(&run, mode);
    }
    let mut fixed = 0;
    if args.fix {
        for _ in 0..FIX_ROUNDS {
            let Some(plan) = fixer::plan(&run.sources, &run.diagnostics, mode).into_iter().next() else { break };
            if let Some(lints) = &plan.broken {
                eprintln!("error: the fixes of {lints} would leave {} unparsable; it was not changed", plan.display);
                break;
            }
            if !plan.changes() {
                break;
            }
            fixed += plan.applied.len();
            text = plan.fixed;
            run = lint(&text).expect("the level flags were valid a moment ago");
        }
        print!("{text}");
    }
    report(&run, args, None, fixed, false, start)
}

/// Applies one round of fixes; returns how many were applied and whether a file could not
/// be fixed (reported on stderr).
fn apply_fixes(sources: &SourceMap, diagnostics: &[Diagnostic], mode: FixMode) -> (usize, bool) {
    let mut applied = 0;
    let mut problems = false;
    for plan in fixer::plan(sources, diagnostics, mode) {
        if let Some(lints) = &plan.broken {
            eprintln!("error: the fixes of {lints} would leave {} unparsable; the file was not changed", plan.display);
            problems = true;
            continue;
        }
        if !plan.skipped.is_empty() {
            eprintln!(
                "note: {} fix(es) in {} overlap an earlier fix and were not applied: {}",
                plan.skipped.len(),
                plan.display,
                plan.skipped.join(", ")
            );
        }
        if !plan.changes() {
            continue;
        }
        match fixer::write_atomic(&plan.path, &plan.original, &plan.fixed) {
            Ok(()) => applied += plan.applied.len(),
            Err(e) => {
                eprintln!("error: could not write the fixes to {}: {e}; the file was not changed", plan.display);
                problems = true;
            }
        }
    }
    (applied, problems)
}

/// `--add-suppressions`: one `// taskcheck: allow(..) -- existing finding` line above
/// each line that has findings, indented like it.
fn add_suppressions(run: &Run) -> (usize, bool) {
    use std::collections::BTreeMap;
    use taskcheck_core::{Applicability, Edit, Fix};
    let mut lines: BTreeMap<(taskcheck_core::FileId, usize), Vec<&'static str>> = BTreeMap::new();
    for d in run.diagnostics.iter().filter(|d| !d.is_input_error()) {
        let lints = lines.entry((d.primary.span.file, d.primary.span.lo.line)).or_default();
        if !lints.contains(&d.lint) {
            lints.push(d.lint);
        }
    }
    let synthetic: Vec<Diagnostic> = lines
        .into_iter()
        .map(|((file, line), lints)| {
            let src = run.sources.get(file);
            let start = src.line_start(line);
            let indent: String = src.line_text(line).chars().take_while(|c| c.is_whitespace()).collect();
            let span = src.span(start, start);
            let comment = format!("{indent}// taskcheck: allow({}) -- existing finding\n", lints.join(", "));
            Diagnostic::new(lints[0], "suppress", span, "").with_fix(Fix {
                message: "suppress".into(),
                applicability: Applicability::Safe,
                edits: vec![Edit { span, replacement: comment }],
            })
        })
        .collect();
    apply_fixes(&run.sources, &synthetic, FixMode::Safe)
}

/// `--diff`: the fixes as a unified diff on stdout; exit 1 when there is one.
fn print_diff(run: &Run, mode: FixMode) -> i32 {
    let mut out = std::io::stdout().lock();
    let mut any = false;
    for plan in fixer::plan(&run.sources, &run.diagnostics, mode) {
        if let Some(lints) = &plan.broken {
            eprintln!("error: the fixes of {lints} would leave {} unparsable; not shown", plan.display);
            continue;
        }
        if !plan.changes() {
            continue;
        }
        any = true;
        let diff = similar::TextDiff::from_lines(&*plan.original, plan.fixed.as_str());
        let _ = write!(
            out,
            "{}",
            diff.unified_diff().header(&format!("a/{}", plan.display), &format!("b/{}", plan.display))
        );
    }
    if any {
        EXIT_FINDINGS
    } else {
        EXIT_OK
    }
}

/// `; 2 fixable with `--fix` (3 more with `--unsafe-fixes`)` for the summary line.
fn fixable_note(run: &Run, fix: bool, unsafe_fixes: bool) -> String {
    use taskcheck_core::Applicability;
    let count = |a: Applicability| {
        run.diagnostics.iter().filter(|d| d.fix.as_ref().is_some_and(|f| f.applicability == a)).count()
    };
    let (safe, unsafe_) = (count(Applicability::Safe), count(Applicability::Unsafe));
    match (safe, unsafe_) {
        (0, 0) => String::new(),
        _ if fix && unsafe_fixes => String::new(),
        (s, 0) => format!("; {s} fixable with `--fix`"),
        (0, u) if !fix => format!("; {u} fixable with `--fix --unsafe-fixes`"),
        (s, u) if !fix => format!("; {s} fixable with `--fix` ({u} more with `--unsafe-fixes`)"),
        (_, u) => format!("; {u} more fixable with `--unsafe-fixes`"),
    }
}

fn shown_paths(paths: &[PathBuf]) -> String {
    let shown: Vec<String> = paths.iter().map(|p| format!("`{}`", p.display())).collect();
    shown.join(", ")
}
