use taskcheck_core::{declare_lint, Diagnostic, LintMeta};

use crate::analysis::index::BodyRef;
use crate::analysis::spawn::Disposition;
use crate::{CrateContext, Lint};

declare_lint! {
    /// ### What it does
    /// Flags a detached spawn made while serving a request, whose task is bounded by
    /// neither a timeout nor a cancellation source. A request handler is:
    /// - axum: an async fn with an extractor parameter (`State`, `Json`, `Path`, `Query`,
    ///   `Extension`, `Form`, `HeaderMap`) that returns a response type
    ///   (`impl IntoResponse`, `Json`, `Response`, `Result<..>`, ...), or any async fn a
    ///   router names (`.route("/x", get(f))`);
    /// - actix-web: a `#[get]`/`#[post]`/.. fn, or an async fn taking `HttpRequest`,
    ///   `web::Data`, `web::Json`, or named by `web::get().to(f)`;
    /// - tonic: a method taking `Request<T>` and returning `Result<Response<..>, Status>`;
    /// - hyper: the closure passed to `service_fn`.
    ///
    /// Not flagged: a fn that merely takes a `Request` (an HTTP client helper); a kept
    /// handle (awaited, stored, spawned on a `JoinSet`); work bounded by
    /// `tokio::time::timeout`; work given a cancellation token or shutdown receiver; an
    /// upgraded connection (`hyper::upgrade::on`, which must outlive the request); spawns
    /// in helpers the handler calls. It takes precedence over `spawn_without_cancel` at
    /// the same spawn.
    ///
    /// ### Why is this bad
    /// The task outlives the request that started it. When the client goes away or the
    /// request times out, the task keeps running; under load (or a retry storm) such
    /// tasks pile up faster than they finish, holding connections and memory, and
    /// shutdown cannot drain them.
    ///
    /// ### Example
    /// ```rust,ignore
    /// async fn upload(State(app): State<App>, body: Bytes) -> impl IntoResponse {
    ///     let id = app.store.put(body.clone()).await?;
    ///     tokio::spawn(async move { app.scanner.scan(id, body).await });
    ///     StatusCode::ACCEPTED
    /// }
    /// ```
    ///
    /// ### Use instead
    /// ```rust,ignore
    ///     let scan = app.scanner.scan(id, body);
    ///     let token = app.shutdown.child_token();
    ///     app.background.spawn(async move {
    ///         token.run_until_cancelled(tokio::time::timeout(SCAN_TIMEOUT, scan)).await
    ///     });
    /// ```
    /// or hand the work to a bounded queue served by a fixed pool of workers.
    ///
    /// ### Options
    /// `cancellation-sources` adds names that count as stop signals.
    ///
    /// ### Go analog
    /// A goroutine started in an `http.Handler` that is not bound to `r.Context()`.
    ///
    /// ### Known limits
    /// Only spawns written directly in the handler (or the `service_fn` closure) are
    /// seen, not spawns in the fns it calls. A timeout or cancellation source is
    /// recognised by name inside the spawned work, not proven to bound it.
    pub SPAWN_IN_HANDLER,
    name: "spawn_in_handler",
    group: Lifecycle,
    tier: Default,
    level: Warn,
    fix: None,
    summary: "a request handler spawns a detached task that can outlive the request",
    triggers: {
        anchors: ["*spawn"],
        context: ["route", "to", "JoinSet", "JoinMap", "FuturesUnordered", "FuturesOrdered", "LocalSet", "TaskTracker", "Executor", "LocalExecutor", "StaticExecutor", "StaticLocalExecutor", "CancellationToken", "DropGuard", "Scope", "ScopeFifo"],
        follow: ["*spawn"],
        callers: ["wrapper: *spawn"],
        scope: Items,
    },
}

pub struct SpawnInHandler;

impl Lint for SpawnInHandler {
    fn meta(&self) -> &'static LintMeta {
        &SPAWN_IN_HANDLER
    }

    fn check(&self, cx: &CrateContext<'_>, out: &mut Vec<Diagnostic>) {
        for &si in &cx.tasks.in_handler {
            let sp = &cx.index.spawns[si];
            let owner = BodyRef { file: sp.file, body: sp.site.owner };
            if cx.ignores_body(owner) {
                continue;
            }
            let label = match sp.disposition {
                Disposition::Detached => "the task is detached here",
                _ => "the JoinHandle is dropped here",
            };
            let mut d = Diagnostic::new(
                self.meta().name,
                "task spawned in a request handler can outlive the request",
                sp.site.span,
                label,
            );
            let body = cx.index.body(owner);
            if !sp.site.in_service_fn {
                d = d.with_label(body.span, format!("`{}` handles a request", body.name));
            }
            out.push(d.with_help(
                "bound the task: wrap its work in `tokio::time::timeout(d, ..)`, give it a `CancellationToken` tied to shutdown, or await it (or spawn it on a `JoinSet` that is drained) before responding",
            ));
        }
    }
}
