use taskcheck_core::{declare_lint, Diagnostic, LintMeta};

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
    /// to nothing at all (a bare name is never guessed), and test code.
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
    /// ### Options
    /// None.
    ///
    /// ### Go analog
    /// `time.Sleep` in a request path instead of a context-aware wait
    /// (`select { case <-time.After(d): case <-ctx.Done(): }`).
    ///
    /// ### Known limits
    /// Only direct calls are seen: a sync helper that sleeps and is called from async
    /// code is not flagged (it may be meant to run in `spawn_blocking`). The unsafe fix
    /// (`tokio::time::sleep(d).await`) is not offered yet.
    pub BLOCKING_SLEEP_IN_ASYNC,
    name: "blocking_sleep_in_async",
    group: Timeouts,
    tier: Default,
    level: Warn,
    fix: None,
    summary: "`std::thread::sleep` inside async code blocks the runtime's worker thread",
}

pub struct BlockingSleepInAsync;

impl Lint for BlockingSleepInAsync {
    fn meta(&self) -> &'static LintMeta {
        &BLOCKING_SLEEP_IN_ASYNC
    }

    fn check(&self, cx: &CrateContext<'_>, out: &mut Vec<Diagnostic>) {
        for (file, (_, facts)) in cx.index.files.iter().enumerate() {
            for site in &facts.blocking_sleeps {
                if cx.ignores_body(BodyRef { file, body: site.owner }) {
                    continue;
                }
                out.push(
                    Diagnostic::new(
                        self.meta().name,
                        "blocking `std::thread::sleep` in async code",
                        site.callee,
                        "this parks the runtime's worker thread: no other task on it runs until the sleep ends",
                    )
                    .with_help(
                        "await a timer instead: `tokio::time::sleep(d).await` (async-std: `async_std::task::sleep(d).await`)",
                    ),
                );
            }
        }
    }
}
