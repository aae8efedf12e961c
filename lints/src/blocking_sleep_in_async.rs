use taskcheck_core::{declare_lint, Applicability, Diagnostic, Edit, Fix, LintMeta};

use crate::analysis::index::BodyRef;
use crate::{CrateContext, Lint};

declare_lint! {
    /// ### What it does
    /// Flags a call that resolves (scope-aware, through `use` items and renames) to
    /// `std::thread::sleep` whose nearest enclosing fn-like is an `async fn`, an `async`
    /// block or an async closure.
    ///
    /// Not flagged: sync fns (even when async code calls them), sync closures (such as
    /// those passed to `spawn_blocking`, `block_in_place` or `thread::spawn`), an async
    /// block passed directly to `block_on`, a `sleep` that resolves to an async timer or
    /// to nothing at all (a bare name is never guessed), the `sleep`/`delay` method of a
    /// trait impl that returns a future (a runtime adapter's own timer, such as one that
    /// runs every future on a thread of its own with `block_on`), and test code.
    ///
    /// ### Why is this bad
    /// An async runtime runs many tasks on a few worker threads. `std::thread::sleep`
    /// parks the whole worker: every other task scheduled on it (timers, other requests,
    /// the shutdown signal) stalls for the duration. Under load a few such sleeps starve
    /// the runtime, latency climbs, and cancellation is not observed until the sleep ends.
    ///
    /// ### Example
    /// ```rust,ignore
    /// async fn fetch_with_retry(client: &Client, url: &str) -> Result<Bytes> {
    ///     for attempt in 0..3 {
    ///         match client.get(url).send().await {
    ///             Ok(r) => return Ok(r.bytes().await?),
    ///             Err(_) => std::thread::sleep(Duration::from_millis(100 << attempt)),
    ///         }
    ///     }
    ///     bail!("giving up on {url}")
    /// }
    /// ```
    ///
    /// ### Use instead
    /// ```rust,ignore
    ///             Err(_) => tokio::time::sleep(Duration::from_millis(100 << attempt)).await,
    /// ```
    /// (`async_std::task::sleep(d).await` on async-std); move genuinely blocking work into
    /// `tokio::task::spawn_blocking`.
    ///
    /// ### Fix safety
    /// Unsafe: `std::thread::sleep(d)` becomes `tokio::time::sleep(d).await` when the
    /// crate uses tokio (`async_std::task::sleep(d).await` when it uses async-std and
    /// not tokio). Offered only where the crate names one of them. The task now yields
    /// instead of holding its worker, so code that relied on the pause being atomic
    /// (no other task running on this thread meanwhile) changes behaviour.
    ///
    /// ### Options
    /// None.
    ///
    /// ### Go analog
    /// `time.Sleep` in a request path instead of a context-aware wait
    /// (`select { case <-time.After(d): case <-ctx.Done(): }`).
    ///
    /// ### Known limits
    /// Only direct calls are seen: a sync helper that sleeps and is called from async
    /// code is not flagged (it may be meant to run in `spawn_blocking`). The runtime for
    /// the fix is judged from the paths the crate's code names, not from `Cargo.toml`.
    pub BLOCKING_SLEEP_IN_ASYNC,
    name: "blocking_sleep_in_async",
    group: Timeouts,
    tier: Default,
    level: Warn,
    fix: Sometimes,
    summary: "`std::thread::sleep` inside async code blocks the runtime's worker thread",
    triggers: {
        // A blocking sleep in async code: the sleep and the `async` around it are in one
        // item. The runtimes the crate names choose the fix.
        anchors: ["sleep & async"],
        context: ["tokio", "async_std"],
        follow: [],
        callers: [],
        scope: Items,
    },
}

pub struct BlockingSleepInAsync;

impl Lint for BlockingSleepInAsync {
    fn meta(&self) -> &'static LintMeta {
        &BLOCKING_SLEEP_IN_ASYNC
    }

    fn check(&self, cx: &CrateContext<'_>, out: &mut Vec<Diagnostic>) {
        let uses =
            |f: fn(&crate::analysis::facts::Runtimes) -> bool| cx.index.files.iter().any(|(_, x)| f(&x.runtimes));
        let timer = if uses(|r| r.tokio) {
            Some("tokio::time::sleep")
        } else if uses(|r| r.async_std) {
            Some("async_std::task::sleep")
        } else {
            None
        };
        for (file, (_, facts)) in cx.index.files.iter().enumerate() {
            for site in &facts.blocking_sleeps {
                if cx.ignores_body(BodyRef { file, body: site.owner }) {
                    continue;
                }
                let d = Diagnostic::new(
                    self.meta().name,
                    "blocking `std::thread::sleep` in async code",
                    site.callee,
                    "this parks the runtime's worker thread: no other task on it runs until the sleep ends",
                );
                out.push(match timer {
                    Some(timer) => d.with_fix(Fix {
                        message: format!("await a timer instead: `{timer}(d).await`"),
                        applicability: Applicability::Unsafe,
                        edits: vec![
                            Edit { span: site.callee, replacement: timer.to_string() },
                            Edit { span: site.end, replacement: ".await".to_string() },
                        ],
                    }),
                    None => d.with_help(
                        "await a timer instead: `tokio::time::sleep(d).await` (async-std: `async_std::task::sleep(d).await`)",
                    ),
                });
            }
        }
    }
}
