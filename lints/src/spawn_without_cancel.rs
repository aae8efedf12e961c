use taskcheck_core::{declare_lint, Applicability, Diagnostic, Fix, LintMeta};

use crate::analysis::spawn::Disposition;
use crate::analysis::tasks::loop_label;
use crate::{CrateContext, Lint};

declare_lint! {
    /// ### What it does
    /// Flags a detached spawn (async task or OS thread) whose work is long-running: its
    /// body, or a crate-local fn it calls (followed across files, 4 levels), contains a
    /// loop that awaits or blocks and has no normal exit, and no cancellation source
    /// (a `CancellationToken`, a shutdown receiver, a stop flag) is moved into or passed
    /// to the task. A stop signal moved in does not clear a loop that has no exit at all.
    ///
    /// Not flagged: spawns whose handle is kept (awaited, aborted, stored, returned,
    /// passed on), scoped spawns, `JoinSet`/`FuturesUnordered` spawns, smol/async-task
    /// `Task`s that are not `.detach()`ed (they cancel on drop), and process-lifetime
    /// singletons (a spawn inside `get_or_init`, `Lazy::new`, `call_once`, or behind a
    /// `compare_exchange`/`swap` guard). Calls are followed to the crate's definitions;
    /// `x.run()` on a local whose type the code states (`let x = Session { .. }`,
    /// `Session::new(..)`, `let x: Session`, a typed parameter) goes to that type's `run`.
    ///
    /// ### Why is this bad
    /// Once its `JoinHandle` is dropped, nothing can stop the task: it runs until the
    /// process exits, holding whatever it captured (connections, `Arc`s, buffers). Every
    /// time the spawning code runs again (a reconnect, a config reload, a test) another
    /// copy starts. Shutdown cannot drain it, and a thread keeps the process alive.
    ///
    /// ### Example
    /// ```rust,ignore
    /// tokio::spawn(async move {
    ///     let mut tick = tokio::time::interval(Duration::from_secs(5));
    ///     loop {
    ///         tick.tick().await;
    ///         flush(&metrics).await;
    ///     }
    /// });
    /// ```
    ///
    /// ### Use instead
    /// ```rust,ignore
    /// let token = shutdown.child_token();
    /// let flusher = tokio::spawn(async move {
    ///     let mut tick = tokio::time::interval(Duration::from_secs(5));
    ///     loop {
    ///         tokio::select! {
    ///             _ = token.cancelled() => break,
    ///             _ = tick.tick() => flush(&metrics).await,
    ///         }
    ///     }
    /// });
    /// ```
    /// or keep the `JoinHandle` and `abort()` it on shutdown, or spawn on a `JoinSet`.
    ///
    /// ### Options
    /// `cancellation-sources` adds names that count as stop signals.
    ///
    /// ### Go analog
    /// `go func() { for { doWork() } }()` with no context.
    ///
    /// ### Fix safety
    /// Unsafe: when a `CancellationToken` binding is in scope and the work is an
    /// `async move` block, the spawn becomes
    /// `tokio::spawn({ let token = token.clone(); async move { token.run_until_cancelled(async move { .. }).await; } })`:
    /// the task now ends when the token is cancelled, dropping its work mid-way.
    ///
    /// ### Known limits
    /// Only crate-local calls are followed (at most 3 candidates per name); a future
    /// built in a variable and spawned later (`let f = async { .. }; tokio::spawn(f)`)
    /// is not followed into. A cancellation source is recognised by name or type, not
    /// by proving that the loop observes it.
    pub SPAWN_WITHOUT_CANCEL,
    name: "spawn_without_cancel",
    group: Lifecycle,
    tier: Default,
    level: Warn,
    fix: Sometimes,
    summary: "a detached task or thread that runs forever and cannot be cancelled",
    triggers: {
        anchors: ["*spawn"],
        context: ["JoinSet", "JoinMap", "FuturesUnordered", "FuturesOrdered", "LocalSet", "TaskTracker", "Executor", "LocalExecutor", "StaticExecutor", "StaticLocalExecutor", "CancellationToken", "DropGuard", "Scope", "ScopeFifo"],
        follow: ["*spawn"],
        callers: ["wrapper: *spawn"],
        scope: Items,
    },
}

pub struct SpawnWithoutCancel;

impl Lint for SpawnWithoutCancel {
    fn meta(&self) -> &'static LintMeta {
        &SPAWN_WITHOUT_CANCEL
    }

    fn check(&self, cx: &CrateContext<'_>, out: &mut Vec<Diagnostic>) {
        for leak in &cx.tasks.detached {
            let sp = &cx.index.spawns[leak.spawn];
            let thread = sp.spawner.is_thread();
            let message = if thread {
                "detached thread runs forever and cannot be stopped"
            } else {
                "detached task runs forever and cannot be cancelled"
            };
            let label = match sp.disposition {
                Disposition::Detached => "the task is detached here",
                _ => "the JoinHandle is dropped here",
            };
            let mut d = Diagnostic::new(self.meta().name, message, sp.site.span, label);
            for l in &leak.loops {
                let fact = cx.index.loop_fact(l.at);
                if let Some((call, name)) = &l.via {
                    let owner =
                        &cx.index.body(crate::analysis::index::BodyRef { file: l.at.file, body: fact.owner }).name;
                    let text = if owner == name || owner.is_empty() {
                        format!("calls `{name}`, which never returns")
                    } else {
                        format!("calls `{name}`, which never returns (it reaches the loop in `{owner}`)")
                    };
                    d = d.with_label(*call, text);
                }
                d = d.with_label(fact.span, loop_label(fact));
            }
            let help = if thread {
                "keep the JoinHandle and, on shutdown, signal the thread to stop (an `AtomicBool` or a channel checked each iteration), then `join()` it"
            } else {
                "keep the JoinHandle and abort it on shutdown, spawn it on a `JoinSet`, or pass a `CancellationToken` and select on `token.cancelled()`"
            };
            out.push(match &sp.site.cancel_fix {
                Some(edits) if !thread => d.with_fix(Fix {
                    message: "run the task until the token in scope is cancelled".into(),
                    applicability: Applicability::Unsafe,
                    edits: edits.clone(),
                }),
                _ => d.with_help(help),
            });
        }
    }
}
