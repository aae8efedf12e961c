use taskcheck_core::{declare_lint, Diagnostic, LintMeta};

use crate::analysis::facts::{BodyKind, CallTarget};
use crate::analysis::index::BodyRef;
use crate::analysis::spawn::Spawner;
use crate::analysis::tasks::is_singleton;
use crate::{CrateContext, Lint};

declare_lint! {
    /// ### What it does
    /// Flags a `&self`/`&mut self` method that spawns a long-running task (its work
    /// contains a loop with no normal exit) and has no guard against a second start:
    /// no `Once`/`OnceLock`/`get_or_init`, no `AtomicBool::swap`/`compare_exchange`, no
    /// check of an `Option` handle field (`self.task.is_some()`, `self.task.take()`,
    /// `if let Some(old) = &self.task`) — unless every crate-local caller of the method
    /// holds such a guard.
    ///
    /// Not flagged: methods taking `self` by value, associated fns and free fns, short
    /// tasks, scoped threads, test code.
    ///
    /// ### Why is this bad
    /// Calling `start()` twice (a reconnect, a config reload, a retry after an error)
    /// starts a second copy of the task. The first keeps running with nobody holding its
    /// handle: two watchers, two flushers, double the load, and state written by both.
    ///
    /// ### Example
    /// ```rust,ignore
    /// impl ConfigWatcher {
    ///     pub fn start(&mut self) {
    ///         let cfg = self.cfg.clone();
    ///         self.task = Some(tokio::spawn(async move { loop { cfg.reload().await; } }));
    ///     }
    /// }
    /// ```
    ///
    /// ### Use instead
    /// ```rust,ignore
    ///     pub fn start(&mut self) {
    ///         if let Some(old) = self.task.take() {
    ///             old.abort();
    ///         }
    ///         ...
    ///     }
    /// ```
    ///
    /// ### Options
    /// None. Pedantic: allow by default.
    ///
    /// ### Go analog
    /// Starting a config watcher twice, leaving the old goroutine dangling.
    ///
    /// ### Known limits
    /// A guard is recognised anywhere in the method, not proven to dominate the spawn;
    /// callers are found by name and arity over the crate's `impl` blocks.
    pub DUPLICATE_TASK_START,
    name: "duplicate_task_start",
    group: Lifecycle,
    tier: Pedantic,
    level: Allow,
    fix: None,
    summary: "a method starts a long-running task every time it is called, with no guard",
    triggers: {
        anchors: ["*spawn"],
        context: ["JoinSet", "JoinMap", "FuturesUnordered", "FuturesOrdered", "LocalSet", "TaskTracker", "Executor", "LocalExecutor", "StaticExecutor", "StaticLocalExecutor", "CancellationToken", "DropGuard", "Scope", "ScopeFifo"],
        follow: ["*spawn"],
        // Every crate-local caller of a spawning method (is the start guarded there?).
        callers: ["fn: *spawn"],
        scope: Items,
    },
}

pub struct DuplicateTaskStart;

impl Lint for DuplicateTaskStart {
    fn meta(&self) -> &'static LintMeta {
        &DUPLICATE_TASK_START
    }

    fn check(&self, cx: &CrateContext<'_>, out: &mut Vec<Diagnostic>) {
        let mut spawns: Vec<usize> = cx.tasks.long_running.iter().copied().collect();
        spawns.sort_unstable();
        for si in spawns {
            let sp = &cx.index.spawns[si];
            let owner = BodyRef { file: sp.file, body: sp.site.owner };
            let method = cx.index.body(owner);
            if method.kind != BodyKind::Method
                || !method.self_ref
                || method.start_guard
                || sp.spawner == Spawner::Scoped
                || cx.ignores_body(owner)
                || is_singleton(cx.index, sp)
            {
                continue;
            }
            let callers = callers_of(cx, owner);
            if !callers.is_empty() && callers.iter().all(|c| cx.index.body(*c).start_guard) {
                continue;
            }
            out.push(
                Diagnostic::new(
                    self.meta().name,
                    format!("`{}` starts a long-running task each time it is called", method.name),
                    sp.site.span,
                    "a second call starts a second copy of this task",
                )
                .with_label(method.span, "nothing here stops a second start")
                .with_help(
                    "guard the start: keep the handle in an `Option<JoinHandle>` field and return early (or abort the old task) when it is set, or use a `OnceLock`/`AtomicBool::swap`",
                ),
            );
        }
    }
}

/// The crate's bodies that call `target` (resolved by name and arity).
fn callers_of(cx: &CrateContext<'_>, target: BodyRef) -> Vec<BodyRef> {
    let name = &cx.index.body(target).name;
    let mut out = Vec::new();
    for (file, (_, facts)) in cx.index.files.iter().enumerate() {
        for (body, b) in facts.bodies.iter().enumerate() {
            let from = BodyRef { file, body };
            let calls_it = b.calls.iter().any(|c| {
                let named = match &c.target {
                    CallTarget::Free { name: n, .. }
                    | CallTarget::Assoc { name: n, .. }
                    | CallTarget::SelfMethod { name: n, .. }
                    | CallTarget::Method { name: n, .. } => n == name,
                    CallTarget::Body(_) => false,
                };
                named && cx.index.resolve(from, c).contains(&target)
            });
            if calls_it && from != target {
                out.push(from);
            }
        }
    }
    out
}
