//! The `taskcheck` command line: argument parsing and wiring of the engine, the lints
//! and the renderers. Both binaries (`taskcheck`, `cargo-taskcheck`) call [`main_with_args`].

use std::ffi::OsString;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::Instant;

use clap::{ArgMatches, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};
use taskcheck_core::engine::{self, Options, Run};
use taskcheck_core::levels::{closest, LevelFlag, Levels, UnknownName};
use taskcheck_core::{Level, LintMeta, Settings};
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
    /// Output format.
    #[arg(long, value_enum, default_value_t = MessageFormat::Human)]
    message_format: MessageFormat,
    /// When to use colors in human output.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,
    /// Number of worker threads (default: all cores).
    #[arg(short = 'j', long)]
    jobs: Option<usize>,
    /// Print findings only, no summary line.
    #[arg(short, long)]
    quiet: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum MessageFormat {
    /// rustc-style annotated diagnostics on stderr.
    Human,
    /// cargo `compiler-message` JSON lines on stdout.
    Json,
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

/// Runs the command line; returns the exit code.
pub fn main_with_args(args: Vec<OsString>) -> i32 {
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
    match cli.command {
        Some(Command::Rules) => rules(),
        Some(Command::Explain { lint }) => explain(&lint),
        None => check(cli.check, level_flags(&matches)),
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

fn check(args: CheckArgs, flags: Vec<LevelFlag>) -> i32 {
    let start = Instant::now();
    let paths = if args.paths.is_empty() { vec![PathBuf::from(".")] } else { args.paths };
    let opts = Options { jobs: args.jobs, ..Options::default() };
    let run = match lint_paths(&paths, &flags, Settings::default(), &opts) {
        Ok(run) => run,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_ERROR;
        }
    };
    let color = match args.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
    };
    let input_errors = run.diagnostics.iter().any(|d| d.is_input_error());
    match args.message_format {
        MessageFormat::Human => {
            let mut err = std::io::stderr().lock();
            let _ = err.write_all(taskcheck_render::human::render(&run.sources, &run.diagnostics, color).as_bytes());
            if run.sources.is_empty() || run.files_linted == 0 && !input_errors {
                let _ = writeln!(err, "warning: no Rust files found in {}", shown_paths(&paths));
            }
            if !args.quiet {
                let _ = writeln!(err, "{}", taskcheck_render::human::run_summary(&run, start.elapsed()));
            }
        }
        MessageFormat::Json => {
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(taskcheck_render::json::render_run(&run).as_bytes());
            let success = !input_errors && run.count(Level::Deny) == 0;
            let _ = writeln!(out, "{}", taskcheck_render::json::build_finished(success));
        }
    }
    if input_errors {
        EXIT_ERROR
    } else if run.count(Level::Deny) > 0 {
        EXIT_FINDINGS
    } else {
        EXIT_OK
    }
}

fn shown_paths(paths: &[PathBuf]) -> String {
    let shown: Vec<String> = paths.iter().map(|p| format!("`{}`", p.display())).collect();
    shown.join(", ")
}
