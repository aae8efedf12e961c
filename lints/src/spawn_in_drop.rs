use std::collections::HashMap;

use taskcheck_core::{declare_lint, Diagnostic, LintMeta};

use crate::analysis::index::BodyRef;
use crate::analysis::tasks::first_call;
use crate::{CrateContext, Lint};

/// Calls followed from `fn drop` to a spawn.
pub(crate) const DROP_CALL_DEPTH: usize = 3;

declare_lint! {
    /// ### What it does
    /// Flags a spawn on the ambient tokio runtime (`tokio::spawn`, `tokio::task::spawn`,
    /// `spawn_blocking`, `spawn_local`, `Handle::current().spawn(..)`) inside
    /// `impl Drop { fn drop }`, directly or through crate-local calls (3 levels).
    ///
    /// Not flagged: a spawn on a runtime handle stored in the value (`self.rt.spawn(..)`
    /// cannot panic); a spawn guarded by `Handle::try_current()` in `drop` or in the
    /// callee that spawns (sqlx's `rt::spawn` shape); runtimes with a global executor
    /// (async-std, smol); a method named `drop` outside an `impl Drop`.
    ///
    /// ### Why is this bad
    /// `tokio::spawn` panics when no runtime is running — and values are dropped during
    /// runtime shutdown, after `block_on` returns, and in plain sync code and tests. A
    /// panic inside `drop` while unwinding aborts the process. When it does not panic,
    /// the task outlives the value, nobody awaits it, and shutdown can cut it off halfway.
    ///
    /// ### Example
    /// ```rust,ignore
    /// impl Drop for Session {
    ///     fn drop(&mut self) {
    ///         let registry = self.registry.clone();
    ///         let id = self.id;
    ///         tokio::spawn(async move { registry.deregister(id).await });
    ///     }
    /// }
    /// ```
    ///
    /// ### Use instead
    /// ```rust,ignore
    /// impl Session {
    ///     pub async fn close(self) {
    ///         self.registry.deregister(self.id).await;
    ///     }
    /// }
    /// ```
    /// or, when a best-effort cleanup is enough,
    /// `if let Ok(rt) = tokio::runtime::Handle::try_current() { rt.spawn(..); }`.
    ///
    /// ### Options
    /// None.
    ///
    /// ### Go analog
    /// `defer go cleanup()`.
    ///
    /// ### Known limits
    /// Only crate-local calls are followed (at most 3 candidates per name). A guard is
    /// recognised by the presence of `Handle::try_current()` in the fn, not by proving
    /// that it dominates the spawn.
    pub SPAWN_IN_DROP,
    name: "spawn_in_drop",
    group: Lifecycle,
    tier: Default,
    level: Warn,
    fix: None,
    summary: "`Drop` spawns on the ambient tokio runtime, which panics when none is running",
    triggers: {
        anchors: ["Drop"],
        context: ["JoinSet", "JoinMap", "FuturesUnordered", "FuturesOrdered", "LocalSet", "TaskTracker", "Executor", "LocalExecutor", "StaticExecutor", "StaticLocalExecutor", "CancellationToken", "DropGuard", "Scope", "ScopeFifo"],
        follow: ["Drop => *spawn"],
        callers: [],
        scope: Items,
    },
}

pub struct SpawnInDrop;

impl Lint for SpawnInDrop {
    fn meta(&self) -> &'static LintMeta {
        &SPAWN_IN_DROP
    }

    fn check(&self, cx: &CrateContext<'_>, out: &mut Vec<Diagnostic>) {
        let mut ambient: HashMap<BodyRef, Vec<usize>> = HashMap::new();
        for (si, sp) in cx.index.spawns.iter().enumerate() {
            if sp.site.ambient {
                ambient.entry(BodyRef { file: sp.file, body: sp.site.owner }).or_default().push(si);
            }
        }
        if ambient.is_empty() {
            return;
        }
        for (file, (_, facts)) in cx.index.files.iter().enumerate() {
            for (body, b) in facts.bodies.iter().enumerate() {
                let drop = BodyRef { file, body };
                if !b.is_drop || cx.ignores_body(drop) {
                    continue;
                }
                let steps = cx.index.reach(drop, DROP_CALL_DEPTH, |_| true);
                for step in &steps {
                    let Some(sites) = ambient.get(&step.body) else { continue };
                    if b.try_current || cx.index.body(step.body).try_current {
                        continue;
                    }
                    for &si in sites {
                        let sp = &cx.index.spawns[si];
                        let mut d = match first_call(&steps, step.body, cx.index) {
                            None => Diagnostic::new(
                                self.meta().name,
                                "spawn on the ambient tokio runtime in `Drop`",
                                sp.site.span,
                                "panics if no runtime is running when the value is dropped",
                            ),
                            Some((call, name)) => Diagnostic::new(
                                self.meta().name,
                                "`Drop` spawns on the ambient tokio runtime",
                                call,
                                format!("`{name}` spawns a task; this panics if no runtime is running"),
                            )
                            .with_label(sp.site.span, "the spawn"),
                        };
                        d = d.with_help(
                            "give the type an explicit `async fn close(self)`/`shutdown()` and call it, or guard the spawn with `tokio::runtime::Handle::try_current()` and handle the error",
                        );
                        out.push(d);
                    }
                }
            }
        }
    }
}
