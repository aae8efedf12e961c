//! `taskcheck tasks` / `cargo taskcheck tasks`: the task inventory. One engine run with
//! the prefilter off (every spawn site must be parsed, not only the items some lint
//! could fire on); each crate's join builds the crate's inventory beside its findings
//! ([`InventoryLinter`]), and the findings about each task (after levels, config and
//! suppressions) are attached to it.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use clap::ValueEnum;
use taskcheck_core::engine::{self, Options};
use taskcheck_core::levels::LevelFlag;
use taskcheck_core::Diagnostic;
use taskcheck_lints::analysis::inventory::Inventory;
use taskcheck_lints::InventoryLinter;

use crate::{cargo, shown_paths, EXIT_ERROR, EXIT_OK};

#[derive(clap::Args, Debug)]
pub struct TasksArgs {
    /// Files or directories (default: the current directory); the rest of their cargo
    /// package is read for calls.
    paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = TasksFormat::Table)]
    format: TasksFormat,
    /// Set lints, groups or `all` to warn (findings shown beside each task).
    #[arg(short = 'W', long = "warn", value_name = "LINT")]
    warn: Vec<String>,
    /// Set lints, groups or `all` to allow (not shown).
    #[arg(short = 'A', long = "allow", value_name = "LINT")]
    allow: Vec<String>,
    /// Set lints, groups, `all` or `warnings` to deny.
    #[arg(short = 'D', long = "deny", value_name = "LINT")]
    deny: Vec<String>,
    /// Number of worker threads (default: all cores); the output is the same for any number.
    #[arg(short = 'j', long)]
    jobs: Option<usize>,
    /// No summary line.
    #[arg(short, long)]
    quiet: bool,
    /// cargo mode: this package of the workspace (repeatable).
    #[arg(short = 'p', long = "package", value_name = "NAME")]
    package: Vec<String>,
    /// cargo mode: every member of the workspace.
    #[arg(long)]
    workspace: bool,
    /// cargo mode: the `Cargo.toml` to start from.
    #[arg(long, value_name = "PATH")]
    manifest_path: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum TasksFormat {
    /// A table on stdout, most risky first, then a summary line.
    Table,
    /// One JSON document (schema version 1, see docs/tasks.md).
    Json,
    /// A Graphviz graph: functions -> tasks -> what stops them.
    Dot,
    /// The same graph as a Mermaid flowchart.
    Mermaid,
}

/// Runs `taskcheck tasks`; returns the exit code (0, or 2 for usage and input errors).
pub fn main(args: TasksArgs, flags: Vec<LevelFlag>, invoked_by_cargo: bool) -> i32 {
    let cargo_mode = invoked_by_cargo || !args.package.is_empty() || args.workspace || args.manifest_path.is_some();
    let sel = cargo_mode.then(|| cargo::Selection {
        packages: args.package.clone(),
        workspace: args.workspace,
        manifest_path: args.manifest_path.clone(),
    });
    let misuse = "`cargo taskcheck tasks` lists the workspace's packages (select them with `-p`); for particular paths, run `taskcheck tasks PATH`";
    let paths = match crate::input_paths(&args.paths, sel, misuse) {
        Ok(paths) => paths,
        Err(code) => return code,
    };
    // Every spawn site is listed, so every item is parsed.
    let opts = Options { jobs: args.jobs, prefilter: false, ..Options::default() };
    let result = crate::run_configured(&paths, &flags, &opts, |linter, levels, opts| {
        let inventory = InventoryLinter::new(linter);
        let run = engine::run(&inventory, &paths, levels, opts);
        (run, inventory.into_tasks())
    });
    let (run, tasks) = match result {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_ERROR;
        }
    };
    let mut inventory = Inventory::new(tasks);
    inventory.attach(&run.diagnostics);
    let rendered = match args.format {
        TasksFormat::Table => taskcheck_render::tasks::table(&inventory),
        TasksFormat::Json => taskcheck_render::tasks::json(&inventory),
        TasksFormat::Dot => taskcheck_render::tasks::dot(&inventory),
        TasksFormat::Mermaid => taskcheck_render::tasks::mermaid(&inventory),
    };
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(rendered.as_bytes());
    if args.format == TasksFormat::Table && !args.quiet {
        let _ = writeln!(out, "\n{}", taskcheck_render::tasks::summary_line(&inventory));
    }
    let _ = out.flush();
    let mut err = std::io::stderr().lock();
    let errors: Vec<Diagnostic> = run.diagnostics.iter().filter(|d| d.is_input_error()).cloned().collect();
    if !errors.is_empty() {
        let color = err.is_terminal() && std::env::var_os("NO_COLOR").is_none();
        let _ = err.write_all(taskcheck_render::human::render(&run.sources, &errors, color).as_bytes());
    }
    if run.files_linted == 0 && errors.is_empty() {
        let _ = writeln!(err, "warning: no Rust files found in {}", shown_paths(&paths));
    }
    if args.format != TasksFormat::Table && !args.quiet {
        let _ = writeln!(err, "{}", taskcheck_render::tasks::summary_line(&inventory));
    }
    if errors.is_empty() {
        EXIT_OK
    } else {
        EXIT_ERROR
    }
}
