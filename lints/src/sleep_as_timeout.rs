use taskcheck_core::{declare_lint, Diagnostic, LintMeta};

use crate::analysis::index::BodyRef;
use crate::analysis::tasks::is_singleton;
use crate::{CrateContext, Lint};

declare_lint! {
    /// ### What it does
    /// Flags timeouts built from a sleep instead of a real timeout:
    /// - (a) a **detached timer task**: a detached spawn whose work first awaits
    ///   `sleep(..)`/`sleep_until(..)` and then acts (cancels, closes, removes, sends,
    ///   sets a flag);
    /// - (b) a **sleep-poll deadline loop**: an async loop that awaits a sleep, leaves on
    ///   an `elapsed()`/`Instant::now()` comparison against a deadline, and leaves on
    ///   another polled condition.
    ///
    /// Not flagged: fixed-rate scheduling (`sleep_until(next); next += period`), a timer
    /// task whose handle is kept (and aborted when the work completes), a spawn that
    /// sleeps before entering a periodic loop, retry loops bounded by an attempt count,
    /// retries whose sleep grows each time (a backoff, as in `delay = min(cap, delay * 2)`)
    /// even when a total deadline bounds them (there is no condition to await instead),
    /// sync code.
    ///
    /// ### Why is this bad
    /// (a) The timer cannot be cancelled when the guarded work finishes first: it keeps
    /// its captures (connections, maps, `Arc`s) alive until it fires, fires anyway (often
    /// acting on a newer entry with the same key), and under load such tasks pile up at
    /// rate × delay. (b) The loop wakes on every tick whether or not anything changed,
    /// reacts up to one tick late, and holds a worker busy for the whole deadline.
    ///
    /// ### Example
    /// ```rust,ignore
    /// let token = CancellationToken::new();
    /// let t = token.clone();
    /// tokio::spawn(async move {
    ///     tokio::time::sleep(REQUEST_TIMEOUT).await;
    ///     t.cancel();
    /// });
    /// run(request, token).await
    /// ```
    ///
    /// ### Use instead
    /// ```rust,ignore
    /// tokio::time::timeout(REQUEST_TIMEOUT, run(request)).await
    /// ```
    /// For (b), await the condition itself (`Notify`, a channel, `watch::Receiver::
    /// wait_for`) under `tokio::time::timeout`. For expiring entries, use
    /// `tokio_util::time::DelayQueue` or a TTL cache.
    ///
    /// ### Options
    /// None.
    ///
    /// ### Go analog
    /// `go func() { time.Sleep(d); cancel() }()` / `time.After` instead of
    /// `context.WithTimeout`.
    ///
    /// ### Known limits
    /// Shape (a) looks only at the first statement of the spawned block; shape (b) needs
    /// the deadline comparison written in the loop (not in a helper fn).
    pub SLEEP_AS_TIMEOUT,
    name: "sleep_as_timeout",
    group: Timeouts,
    tier: Default,
    level: Warn,
    fix: None,
    summary: "a timeout built from a detached sleeping task or a sleep-poll loop",
    triggers: {
        anchors: ["sleep|sleep_until|Delay|Timer"],
        context: ["*spawn", "JoinSet", "JoinMap", "FuturesUnordered", "FuturesOrdered", "LocalSet", "TaskTracker", "Executor", "LocalExecutor", "StaticExecutor", "StaticLocalExecutor", "CancellationToken", "DropGuard", "Scope", "ScopeFifo"],
        follow: [],
        callers: [],
        scope: Items,
    },
}

pub struct SleepAsTimeout;

impl Lint for SleepAsTimeout {
    fn meta(&self) -> &'static LintMeta {
        &SLEEP_AS_TIMEOUT
    }

    fn check(&self, cx: &CrateContext<'_>, out: &mut Vec<Diagnostic>) {
        for sp in &cx.index.spawns {
            let Some(sleep) = sp.site.timer else { continue };
            let owner = BodyRef { file: sp.file, body: sp.site.owner };
            if !sp.is_detached() || cx.ignores_body(owner) || is_singleton(cx.index, sp) {
                continue;
            }
            out.push(
                Diagnostic::new(
                    self.meta().name,
                    "detached timer task used as a timeout",
                    sp.site.span,
                    "this task cannot be cancelled when the work finishes first",
                )
                .with_label(sleep, "sleeps, then acts, whether or not it is still needed")
                .with_help(
                    "wrap the work in `tokio::time::timeout(d, work)`, or keep the handle and `abort()` it when the work completes (for expiring entries, `tokio_util::time::DelayQueue`)",
                ),
            );
        }
        for (file, (_, facts)) in cx.index.files.iter().enumerate() {
            for site in &facts.sleep_polls {
                if cx.ignores_body(BodyRef { file, body: site.owner }) {
                    continue;
                }
                out.push(
                    Diagnostic::new(
                        self.meta().name,
                        "sleep-poll loop used as a timeout",
                        site.span,
                        "polls a condition with a sleep until a deadline passes",
                    )
                    .with_help(
                        "await the condition itself (a `Notify`, a channel, `watch::Receiver::wait_for`) under `tokio::time::timeout(deadline, ..)`",
                    ),
                );
            }
        }
    }
}
