use std::collections::{HashMap, HashSet};

use taskcheck_core::{declare_lint, Diagnostic, LintMeta};

use crate::analysis::index::{BodyRef, LoopRef};
use crate::analysis::spawn::Spawner;
use crate::analysis::tasks::{MAIN_CALL_DEPTH, TASK_CALL_DEPTH};
use crate::{CrateContext, Lint};

declare_lint! {
    /// ### What it does
    /// Flags `std::future::pending().await` (or `futures::future::pending().await`) that
    /// is a statement, a `let` initialiser or the tail expression of a fn or `async`
    /// block body, and an empty `loop {}` or `loop { thread::park(); }` in task context
    /// (a spawned task or thread, `main`, or a crate-local fn they call).
    ///
    /// A park loop that `loop_without_cancel` or `spawn_without_cancel` already reports
    /// (in a thread, in `main`, in a detached task) is left to them.
    ///
    /// Not flagged: `pending()` inside a `match` arm, an `if`/`else` branch, a closure, or
    /// a `select!`/`join!`/`race` operand, where it is the idiom for "this branch never
    /// fires" (tonic, axum and actix-server use it that way); a crate-local fn named
    /// `pending`; an empty loop in a fn no task reaches (a `-> !` panic handler); a
    /// `pending()` reached only from long-running async tasks whose handle is kept (a
    /// worker that does nothing in one configuration and loops forever in the other runs
    /// until its owner aborts it either way, and `loop_without_cancel` leaves its loops
    /// alone for the same reason); a `pending()` in a fn that is only ever called as a
    /// `select!` or race operand (a future that resolves on some condition "or never",
    /// raced against the real work).
    ///
    /// ### Why is this bad
    /// The task (or `main`) can never finish: nothing it awaits will ever complete, so it
    /// ends only when it is dropped or the process is killed. In `main` this usually
    /// replaces a shutdown signal, and the service cannot shut down gracefully; in a
    /// task it holds every capture forever. `loop {}` also burns a core.
    ///
    /// ### Example
    /// ```rust,ignore
    /// #[tokio::main]
    /// async fn main() {
    ///     start_workers().await;
    ///     std::future::pending::<()>().await;
    /// }
    /// ```
    ///
    /// ### Use instead
    /// ```rust,ignore
    ///     tokio::signal::ctrl_c().await?;
    ///     shutdown.cancel();
    ///     workers.wait().await;
    /// ```
    ///
    /// ### Options
    /// None.
    ///
    /// ### Go analog
    /// `select {}`.
    ///
    /// ### Known limits
    /// Only `pending` resolved to `std::future` or `futures::future` is recognised; a
    /// future that never completes for another reason is not.
    pub PENDING_FOREVER,
    name: "pending_forever",
    group: Lifecycle,
    tier: Default,
    level: Warn,
    fix: None,
    summary: "awaiting a future that never completes (or parking forever) in task context",
    triggers: {
        anchors: ["pending"],
        context: ["*spawn", "main", "JoinSet", "JoinMap", "FuturesUnordered", "FuturesOrdered", "LocalSet", "TaskTracker", "Executor", "LocalExecutor", "StaticExecutor", "StaticLocalExecutor", "CancellationToken", "DropGuard", "Scope", "ScopeFifo"],
        follow: ["*spawn", "main"],
        // The callers of a fn awaiting `pending()`: one called only as a `select!`
        // operand is the "never fires" idiom.
        callers: ["wrapper: *spawn", "fn: pending"],
        scope: Items,
    },
}

pub struct PendingForever;

impl Lint for PendingForever {
    fn meta(&self) -> &'static LintMeta {
        &PENDING_FOREVER
    }

    fn check(&self, cx: &CrateContext<'_>, out: &mut Vec<Diagnostic>) {
        let help_main = "wait for a shutdown signal instead: `tokio::signal::ctrl_c().await`, then stop the workers";
        let help_task =
            "await the real completion condition (a `CancellationToken`, a shutdown channel, the work's own end) or return";
        let mut kept_workers: Option<KeptWorkers> = None;
        for (file, (_, facts)) in cx.index.files.iter().enumerate() {
            for site in &facts.pendings {
                let owner = BodyRef { file, body: site.owner };
                if cx.ignores_body(owner) {
                    continue;
                }
                let known = kept_workers.get_or_insert_with(|| KeptWorkers::new(cx));
                if known.only_reach(owner) || known.only_raced(owner) {
                    continue;
                }
                let main = cx.index.body(owner).is_main;
                out.push(
                    Diagnostic::new(
                        self.meta().name,
                        "`pending().await` never completes",
                        site.span,
                        "this await never returns: the task can only end by being dropped",
                    )
                    .with_help(if main { help_main } else { help_task }),
                );
            }
        }
        let mut task_context: Option<HashSet<BodyRef>> = None;
        for (file, (_, facts)) in cx.index.files.iter().enumerate() {
            for site in &facts.park_loops {
                let owner = BodyRef { file, body: site.owner };
                if cx.ignores_body(owner) {
                    continue;
                }
                let ctx = task_context.get_or_insert_with(|| task_bodies(cx));
                if !ctx.contains(&owner) {
                    continue;
                }
                // One finding per bug: a park loop that the lifecycle lints already report
                // (in a thread, in `main`, in a detached task) is theirs.
                let reported = facts.loops.iter().position(|l| l.span == site.span).is_some_and(|idx| {
                    let l = LoopRef { file, idx };
                    cx.tasks.covered.contains(&l) || cx.tasks.contexts.contains_key(&l)
                });
                if reported {
                    continue;
                }
                let main = cx.index.body(owner).is_main;
                out.push(
                    Diagnostic::new(
                        self.meta().name,
                        "this loop never ends and does no work",
                        site.span,
                        "an empty (or park-only) loop keeps the thread forever",
                    )
                    .with_help(if main {
                        help_main
                    } else {
                        "block on the real stop condition (a channel `recv()`, a `Condvar`, a join) instead of spinning or parking forever"
                    }),
                );
            }
        }
    }
}

/// Which spawns reach each body, to tell a `pending()` that only long-running async
/// tasks with a kept handle reach (their owner aborts them, as their loops).
struct KeptWorkers {
    /// Body -> whether every spawn reaching it is such a task (`false` once one is not).
    reached: HashMap<BodyRef, bool>,
    main: HashSet<BodyRef>,
    /// Body -> whether every crate-local call of it is a `select!`/race operand.
    operand_calls: HashMap<BodyRef, bool>,
}

impl KeptWorkers {
    fn new(cx: &CrateContext<'_>) -> Self {
        let mut reached: HashMap<BodyRef, bool> = HashMap::new();
        for (si, sp) in cx.index.spawns.iter().enumerate() {
            if cx.ignores_body(BodyRef { file: sp.file, body: sp.site.owner }) {
                continue;
            }
            let abortable = matches!(sp.spawner, Spawner::Task | Spawner::CancelOnDrop | Spawner::Set)
                && !sp.is_detached()
                && cx.tasks.long_running.contains(&si);
            for step in cx.index.reach(sp.body(), TASK_CALL_DEPTH, |c| !c.raced) {
                *reached.entry(step.body).or_insert(true) &= abortable;
            }
        }
        let mut main = HashSet::new();
        for (file, (_, facts)) in cx.index.files.iter().enumerate() {
            for (body, b) in facts.bodies.iter().enumerate() {
                if b.is_main {
                    main.extend(
                        cx.index.reach(BodyRef { file, body }, MAIN_CALL_DEPTH, |_| true).into_iter().map(|s| s.body),
                    );
                }
            }
        }
        let mut operand_calls: HashMap<BodyRef, bool> = HashMap::new();
        for (file, (_, facts)) in cx.index.files.iter().enumerate() {
            for (body, b) in facts.bodies.iter().enumerate() {
                for call in &b.calls {
                    for callee in cx.index.resolve(BodyRef { file, body }, call) {
                        *operand_calls.entry(callee).or_insert(true) &= call.operand;
                    }
                }
            }
        }
        KeptWorkers { reached, main, operand_calls }
    }

    /// Called, and only as a `select!`/race operand.
    fn only_raced(&self, body: BodyRef) -> bool {
        self.operand_calls.get(&body) == Some(&true)
    }

    /// Reached by spawns, all of them long-running tasks with a kept handle, and not by `main`.
    fn only_reach(&self, body: BodyRef) -> bool {
        self.reached.get(&body) == Some(&true) && !self.main.contains(&body)
    }
}

/// Bodies that run as a task: spawned work, `main`, and the crate-local fns they call.
fn task_bodies(cx: &CrateContext<'_>) -> HashSet<BodyRef> {
    let mut out = HashSet::new();
    // Spawns in test code make nothing task context (a test that runs a handler in a
    // thread says nothing about production).
    for sp in cx.index.spawns.iter().filter(|sp| !cx.ignores_body(BodyRef { file: sp.file, body: sp.site.owner })) {
        out.extend(cx.index.reach(sp.body(), TASK_CALL_DEPTH, |_| true).into_iter().map(|s| s.body));
    }
    for (file, (_, facts)) in cx.index.files.iter().enumerate() {
        for (body, b) in facts.bodies.iter().enumerate() {
            if b.is_main && !cx.ignores_body(BodyRef { file, body }) {
                let main = BodyRef { file, body };
                out.extend(cx.index.reach(main, MAIN_CALL_DEPTH, |_| true).into_iter().map(|s| s.body));
            }
        }
    }
    out
}
