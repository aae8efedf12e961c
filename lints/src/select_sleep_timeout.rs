use taskcheck_core::{declare_lint, Applicability, Diagnostic, Fix, LintMeta};

use crate::analysis::index::BodyRef;
use crate::{CrateContext, Lint};

declare_lint! {
    /// ### What it does
    /// Style, in `select!`:
    /// - (a) two branches, one an operation and the other a `sleep(..)` that gives up on
    ///   it: a hand-written `tokio::time::timeout`;
    /// - (b) a `sleep(..)` created inside a loop's `select!` whose handler leaves the
    ///   loop while another branch continues it: the deadline restarts on every
    ///   iteration.
    ///
    /// Not flagged: a sleep raced against a shutdown/drain future (a grace period), a
    /// `select!` with more branches (for (a)), a sleep created once and pinned outside
    /// the loop (`&mut deadline`), a sleep whose handler stays in the loop (a periodic
    /// flush).
    ///
    /// ### Why is this bad
    /// (a) `tokio::time::timeout(d, op)` says the same thing, composes (it is a future),
    /// and cannot be mis-edited into a select that drops `op` half-done. (b) Under steady
    /// traffic the other branch keeps firing, the sleep is re-created each time, and the
    /// "timeout" never fires — often meant as a deadline, it is an idle timer.
    ///
    /// ### Example
    /// ```rust,ignore
    /// tokio::select! {
    ///     res = client.call(req) => res,
    ///     _ = tokio::time::sleep(Duration::from_secs(5)) => Err(Error::Timeout),
    /// }
    /// ```
    ///
    /// ### Use instead
    /// ```rust,ignore
    /// match tokio::time::timeout(Duration::from_secs(5), client.call(req)).await {
    ///     Ok(res) => res,
    ///     Err(_) => Err(Error::Timeout),
    /// }
    /// ```
    /// For (b): `let deadline = sleep(d); tokio::pin!(deadline);` before the loop, and
    /// `_ = &mut deadline => break` inside it.
    ///
    /// ### Fix safety
    /// Unsafe: shape (a) in a `tokio::select!` without `biased;` or preconditions, whose
    /// sleep branch binds `_` and takes a duration, is rewritten to
    /// `match tokio::time::timeout(d, op).await { Ok(v) => .., Err(_) => .. }`. The
    /// rewrite changes when `op` is dropped relative to the handler and needs review.
    ///
    /// ### Options
    /// None. Pedantic: allow by default.
    ///
    /// ### Go analog
    /// `select { case r := <-op: case <-time.After(d): }` instead of
    /// `context.WithTimeout`.
    ///
    /// ### Known limits
    /// Only sleeps created inline in the branch are seen.
    pub SELECT_SLEEP_TIMEOUT,
    name: "select_sleep_timeout",
    group: Timeouts,
    tier: Pedantic,
    level: Allow,
    fix: Sometimes,
    summary: "a `select!` against a sleep: a hand-written (or restarting) timeout",
    triggers: {
        anchors: ["select & sleep|sleep_until|Delay|Timer"],
        context: [],
        follow: [],
        callers: [],
        scope: Items,
    },
}

pub struct SelectSleepTimeout;

impl Lint for SelectSleepTimeout {
    fn meta(&self) -> &'static LintMeta {
        &SELECT_SLEEP_TIMEOUT
    }

    fn check(&self, cx: &CrateContext<'_>, out: &mut Vec<Diagnostic>) {
        for (file, (_, facts)) in cx.index.files.iter().enumerate() {
            for s in &facts.select_sleeps {
                if cx.ignores_body(BodyRef { file, body: s.owner }) {
                    continue;
                }
                let d = if s.restarts {
                    Diagnostic::new(
                        self.meta().name,
                        "this sleep restarts on every loop iteration",
                        s.span,
                        "created afresh each time the loop selects: under steady traffic it never fires",
                    )
                    .with_help(
                        "for a fixed deadline, create it once before the loop (`let deadline = sleep(d); tokio::pin!(deadline);`) and select on `&mut deadline`",
                    )
                } else {
                    let mut d = Diagnostic::new(
                        self.meta().name,
                        "`select!` against a sleep is a hand-written timeout",
                        s.span,
                        "this branch gives up on the other one after a delay",
                    );
                    match &s.fix {
                        Some(edit) => {
                            d = d.with_fix(Fix {
                                message: "use `tokio::time::timeout`".into(),
                                applicability: Applicability::Unsafe,
                                edits: vec![edit.clone()],
                            })
                        }
                        None => d = d.with_help("use `tokio::time::timeout(d, op)` and match on its `Result`"),
                    }
                    d
                };
                out.push(d);
            }
        }
    }
}
