use taskcheck_core::{declare_lint, Applicability, Diagnostic, Fix, LintMeta};

use crate::analysis::tasks::LoopContext;
use crate::{CrateContext, Lint};

declare_lint! {
    /// ### What it does
    /// Flags a long-running loop that nothing can stop from outside: a `loop` (or
    /// `while true`) that awaits or blocks, has no normal exit (`break`, a non-`Err`
    /// `return`, `process::exit`) and observes no cancellation signal, when it runs
    /// (a) in an OS thread (`thread::spawn`, `thread::Builder::spawn`, or a crate-local fn
    /// reachable from one), whether its handle is kept or not; (b) in a task spawned on a
    /// `TaskTracker` whose handle is discarded; (c) in `main`, or a crate-local fn `main`
    /// awaits or calls (3 levels), unless `main` races it against a shutdown signal.
    /// It also flags (d) any loop whose `select!` cancellation branch does not leave it.
    ///
    /// Loops in detached tasks are reported by `spawn_without_cancel` at the spawn site
    /// instead (one finding per bug).
    ///
    /// Not flagged: a loop whose receive ends it when the channel closes, written
    /// `while let Some(x) = rx.recv()`, `let Some(x) = rx.recv() else { break }` or
    /// `let x = rx.recv()?` (dropping the senders is how its owner stops it); a loop in
    /// an async block bound to a local that a `select!` races against a cancellation
    /// source (`let server = async { loop { .. } }; select! { r = server => .., _ =
    /// shutdown => .. }`); a cancellation branch that sets the flag the `while`
    /// condition reads (`_ = stop.changed() => stopping = true`).
    ///
    /// ### Why is this bad
    /// In Rust a future is cancelled by dropping it, so a loop in an `async fn` is fine as
    /// long as whoever awaits it can drop it. Threads cannot be killed, a `TaskTracker`
    /// only waits, and `main` owns the process: a loop there that never looks at a stop
    /// signal makes shutdown hang (`join()` blocks forever, `tracker.wait()` never
    /// returns, SIGTERM is ignored until the orchestrator sends SIGKILL). A cancellation
    /// branch that does not leave the loop is worse: once cancelled, `cancelled()`
    /// resolves at once on every iteration and the loop spins at 100% CPU.
    ///
    /// ### Example
    /// ```rust,ignore
    /// let reporter = std::thread::spawn(move || loop {
    ///     std::thread::sleep(Duration::from_secs(10));
    ///     metrics.flush();
    /// });
    /// ```
    ///
    /// ### Use instead
    /// ```rust,ignore
    /// let stop = Arc::new(AtomicBool::new(false));
    /// let flag = stop.clone();
    /// let reporter = std::thread::spawn(move || {
    ///     while !flag.load(Ordering::Relaxed) {
    ///         std::thread::sleep(Duration::from_secs(10));
    ///         metrics.flush();
    ///     }
    /// });
    /// // on shutdown:
    /// stop.store(true, Ordering::Relaxed);
    /// reporter.join().unwrap();
    /// ```
    /// In `main`, race the accept loop against `tokio::signal::ctrl_c()` in a `select!`
    /// that `break`s; in a `select!` loop, write `_ = token.cancelled() => break,`.
    ///
    /// ### Options
    /// `strict-async-loops = true` (Go-style) also flags every long-running loop in any
    /// async fn or block. `cancellation-sources` adds names that count as stop signals.
    ///
    /// ### Go analog
    /// `for { select { ... } }` with no `<-ctx.Done()` case.
    ///
    /// ### Fix safety
    /// Unsafe: when the loop body is a `tokio::select!` and a `CancellationToken` binding
    /// is in scope, `_ = token.cancelled() => break,` is inserted as its first branch
    /// (after `biased;`). Cancelling the token then ends the loop, which changes what
    /// runs after it; make sure that token is the one shutdown cancels.
    ///
    /// ### Known limits
    /// Calls are resolved crate-locally by name (at most 3 candidates, 3 levels from
    /// `main`, 4 from a spawn); a loop reached only through trait objects, fn pointers or
    /// another crate is not seen. A future stored in a variable and spawned later is not
    /// followed into.
    pub LOOP_WITHOUT_CANCEL,
    name: "loop_without_cancel",
    group: Lifecycle,
    tier: Default,
    level: Warn,
    fix: Sometimes,
    summary: "a long-running loop in a thread, tracker task or main that nothing can stop",
    triggers: {
        anchors: ["loop", "while & true"],
        context: ["*spawn", "main", "JoinSet", "JoinMap", "FuturesUnordered", "FuturesOrdered", "LocalSet", "TaskTracker", "Executor", "LocalExecutor", "StaticExecutor", "StaticLocalExecutor", "CancellationToken", "DropGuard", "Scope", "ScopeFifo"],
        follow: ["*spawn", "main"],
        callers: ["wrapper: *spawn"],
        scope: Items,
    },
}

pub struct LoopWithoutCancel;

const NEVER_ENDS: &str = "this loop never ends: nothing breaks out of it and no cancellation signal is observed";
const ONLY_ON_ERROR: &str = "this loop only ends on error or panic";
const SPINS: &str = "this cancellation branch does not leave the loop: once cancelled, the loop spins";

impl Lint for LoopWithoutCancel {
    fn meta(&self) -> &'static LintMeta {
        &LOOP_WITHOUT_CANCEL
    }

    fn check(&self, cx: &CrateContext<'_>, out: &mut Vec<Diagnostic>) {
        let index = cx.index;
        let mut spinning = std::collections::HashSet::new();
        for l in index.all_loops() {
            let fact = index.loop_fact(l);
            let Some(branch) = fact.cancel_no_leave else { continue };
            if cx.ignores_loop(l) {
                continue;
            }
            spinning.insert(l);
            out.push(
                Diagnostic::new(self.meta().name, SPINS, fact.span, "this loop keeps running after cancellation")
                    .with_label(branch, "this branch observes cancellation but does not `break` or `return`")
                    .with_help("leave the loop in the cancellation branch: `_ = token.cancelled() => break,`"),
            );
        }
        for (l, ctx) in &cx.tasks.contexts {
            if cx.tasks.covered.contains(l) || spinning.contains(l) {
                continue;
            }
            let fact = index.loop_fact(*l);
            let message = if fact.error_exits.is_empty() { NEVER_ENDS } else { ONLY_ON_ERROR };
            let (label, help) = match ctx {
                LoopContext::Thread { .. } => (
                    "runs on an OS thread, which cannot be stopped from outside",
                    "check an `AtomicBool` or a channel each iteration and `break` when shutdown is requested, then `join()` the thread",
                ),
                LoopContext::Tracker { .. } => (
                    "runs in a `TaskTracker` task: the tracker waits for it but cannot stop it",
                    "select on a shutdown signal: `_ = token.cancelled() => break,`, or keep the JoinHandle and `abort()` it",
                ),
                LoopContext::Main { sync: false, .. } => (
                    "runs in `main`, which observes no shutdown signal",
                    "select on a shutdown signal: `_ = tokio::signal::ctrl_c() => break,`",
                ),
                LoopContext::Main { sync: true, .. } => (
                    "runs in `main`, which observes no shutdown signal",
                    "check a shutdown flag (set by a signal handler, e.g. the `ctrlc` crate) each iteration and `break`",
                ),
                LoopContext::StrictAsync => (
                    "runs in async code and observes no cancellation signal (`strict-async-loops`)",
                    "select on a shutdown signal: `_ = token.cancelled() => break,`",
                ),
            };
            let mut d = Diagnostic::new(self.meta().name, message, fact.span, label);
            for exit in &fact.error_exits {
                let what = if exit.panics { "ends here only on panic" } else { "ends here only on error" };
                d = d.with_label(exit.span, what);
            }
            match ctx {
                LoopContext::Thread { spawn } if !spawn.contains(&fact.span) => {
                    d = d.with_label(*spawn, "the thread is spawned here");
                }
                LoopContext::Tracker { spawn } => {
                    d = d.with_label(*spawn, "spawned on the tracker here; its JoinHandle is discarded");
                }
                LoopContext::Main { via: Some(call), .. } => {
                    d = d.with_label(*call, "`main` waits on this call");
                }
                _ => {}
            }
            out.push(match &fact.cancel_fix {
                Some(edit) => d.with_fix(Fix {
                    message: "leave the loop when the token in scope is cancelled".into(),
                    applicability: Applicability::Unsafe,
                    edits: vec![edit.clone()],
                }),
                None => d.with_help(help),
            });
        }
    }
}
