use taskcheck_core::{declare_lint, Diagnostic, LintMeta};

use crate::analysis::index::BodyRef;
use crate::analysis::spawn::{Disposition, Spawner};
use crate::analysis::tasks::is_singleton;
use crate::{CrateContext, Lint};

declare_lint! {
    /// ### What it does
    /// Flags every detached spawn (the `JoinHandle` dropped, or a smol/async-task `Task`
    /// `.detach()`ed) whose task is not long-running — long-running ones are
    /// `spawn_without_cancel`'s — including `TaskTracker` spawns whose handle is
    /// discarded.
    ///
    /// Not flagged: kept handles, `JoinSet`/`FuturesUnordered` spawns, scoped threads,
    /// undetached smol `Task`s, process-lifetime singletons, test code.
    ///
    /// ### Why is this bad
    /// A panic in a detached task is caught by the runtime and reported nowhere but the
    /// panic hook: the work it was doing silently does not happen, and the caller never
    /// learns. For threads, the panic payload is dropped with the handle.
    ///
    /// ### Example
    /// ```rust,ignore
    /// tokio::spawn(async move { audit_log.write(event).await.unwrap() });
    /// ```
    ///
    /// ### Use instead
    /// ```rust,ignore
    /// self.background.spawn(async move { audit_log.write(event).await });
    /// // ... and drain the JoinSet, logging each `JoinError`:
    /// while let Some(res) = self.background.join_next().await {
    ///     if let Err(e) = res { tracing::error!(error = %e, "background task failed") }
    /// }
    /// ```
    ///
    /// ### Options
    /// None. Pedantic: allow by default (`-W detached_task_panic` or the `pedantic` group).
    ///
    /// ### Go analog
    /// A goroutine without `recover`.
    ///
    /// ### Known limits
    /// A task that catches its own panics (`catch_unwind`, `FutureExt::catch_unwind`) is
    /// still flagged.
    pub DETACHED_TASK_PANIC,
    name: "detached_task_panic",
    group: Lifecycle,
    tier: Pedantic,
    level: Allow,
    fix: None,
    summary: "a detached task's panic is silently lost",
    triggers: {
        anchors: ["*spawn"],
        context: ["JoinSet", "JoinMap", "FuturesUnordered", "FuturesOrdered", "LocalSet", "TaskTracker", "Executor", "LocalExecutor", "StaticExecutor", "StaticLocalExecutor", "CancellationToken", "DropGuard", "Scope", "ScopeFifo"],
        follow: [],
        callers: ["wrapper: *spawn"],
        scope: Items,
    },
}

pub struct DetachedTaskPanic;

impl Lint for DetachedTaskPanic {
    fn meta(&self) -> &'static LintMeta {
        &DETACHED_TASK_PANIC
    }

    fn check(&self, cx: &CrateContext<'_>, out: &mut Vec<Diagnostic>) {
        for (si, sp) in cx.index.spawns.iter().enumerate() {
            let owner = BodyRef { file: sp.file, body: sp.site.owner };
            // A discarded `TaskTracker` handle: the tracker waits, but nobody sees a panic.
            let tracked_only = sp.spawner == Spawner::Tracker && sp.disposition != Disposition::Kept;
            if !(sp.is_detached() || tracked_only)
                || cx.tasks.long_running.contains(&si)
                || cx.ignores_body(owner)
                || is_singleton(cx.index, sp)
            {
                continue;
            }
            // The spawn inside a wrapper (`fn spawn(f) { tokio::spawn(f); }`) is reported
            // at each call of the wrapper, where the work is.
            if cx.index.body(owner).wrapper.is_some() && cx.index.body(sp.body()).calls.is_empty() {
                continue;
            }
            let thread = sp.spawner.is_thread();
            let label = match sp.disposition {
                Disposition::Detached => "the task is detached here",
                _ => "the handle is dropped here",
            };
            let (message, help) = if thread {
                (
                    "detached thread: a panic in it is silently lost",
                    "keep the JoinHandle and `join()` it, handling the `Err` that carries the panic",
                )
            } else {
                (
                    "detached task: a panic in it is silently lost",
                    "keep the JoinHandle and inspect the `JoinError`, or spawn on a `JoinSet` and drain it with `join_next()`",
                )
            };
            out.push(Diagnostic::new(self.meta().name, message, sp.site.span, label).with_help(help));
        }
    }
}
