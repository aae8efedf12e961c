use taskcheck_core::{declare_lint, Applicability, Diagnostic, Fix, LintMeta};

use crate::analysis::http::ClientKind;
use crate::analysis::index::BodyRef;
use crate::{CrateContext, Lint};

declare_lint! {
    /// ### What it does
    /// Flags HTTP clients with no request timeout: reqwest's async
    /// `Client::new()`, `Client::default()`, `reqwest::get(..)`, and `Client::builder()`/
    /// `ClientBuilder::new()` chains that reach `.build()` with no `.timeout(..)` and no
    /// `.read_timeout(..)` — followed through `let` bindings and `builder = builder.x()`
    /// statements; and `ureq::agent()`/`AgentBuilder` with no `timeout*`.
    ///
    /// Not flagged: `reqwest::blocking` (30 s default); a client whose every request in
    /// the fn sets `.timeout(..)` on the request builder; builders of other crates
    /// (hyper-util, awc, redis); a builder returned unbuilt.
    ///
    /// ### Why is this bad
    /// reqwest's async client has no timeout by default. A peer that accepts the
    /// connection and never answers (or trickles bytes) holds the request — and the task,
    /// the connection and whatever the caller locked — forever. Under load these pile up
    /// until the service runs out of sockets or memory. `connect_timeout` alone does not
    /// bound a request, and an idle timeout only reaps unused connections.
    ///
    /// ### Example
    /// ```rust,ignore
    /// let client = reqwest::Client::new();
    /// ```
    ///
    /// ### Use instead
    /// ```rust,ignore
    /// let client = reqwest::Client::builder()
    ///     .timeout(Duration::from_secs(30))
    ///     .build()?;
    /// ```
    ///
    /// ### Fix safety
    /// Unsafe: adds `.timeout(std::time::Duration::from_secs(30))` before `.build()`, or
    /// rewrites `Client::new()` to `Client::builder().timeout(..).build().expect(..)`
    /// (the same panic behaviour as `Client::new()`). Requests that legitimately run
    /// longer than 30 s (large downloads, long polls) need a different value.
    ///
    /// ### Options
    /// None.
    ///
    /// ### Go analog
    /// `http.Client{}` with no `Timeout`.
    ///
    /// ### Known limits
    /// A client built in one fn and used in another is judged where it is built; a
    /// per-request timeout set in a helper is not seen.
    pub HTTP_CLIENT_WITHOUT_TIMEOUT,
    name: "http_client_without_timeout",
    group: Timeouts,
    tier: Default,
    level: Warn,
    fix: Sometimes,
    summary: "an HTTP client with no request timeout",
    triggers: {
        anchors: ["Client|ClientBuilder|reqwest|AgentBuilder|agent"],
        context: [],
        follow: [],
        callers: [],
        scope: Items,
    },
}

pub struct HttpClientWithoutTimeout;

impl Lint for HttpClientWithoutTimeout {
    fn meta(&self) -> &'static LintMeta {
        &HTTP_CLIENT_WITHOUT_TIMEOUT
    }

    fn check(&self, cx: &CrateContext<'_>, out: &mut Vec<Diagnostic>) {
        for (file, (_, facts)) in cx.index.files.iter().enumerate() {
            for (owner, c) in &facts.http_clients {
                if cx.ignores_body(BodyRef { file, body: *owner }) {
                    continue;
                }
                let (message, label) = match c.kind {
                    ClientKind::New => {
                        ("HTTP client without a request timeout", "reqwest's default client never times out")
                    }
                    ClientKind::Get => (
                        "`reqwest::get` has no request timeout",
                        "builds a default client with no timeout for this request",
                    ),
                    ClientKind::Builder => (
                        "HTTP client built without a request timeout",
                        "this builder reaches `.build()` with no `.timeout(..)` or `.read_timeout(..)`",
                    ),
                    ClientKind::Ureq => ("ureq agent without timeouts", "this agent has no `timeout*` set"),
                };
                let mut d = Diagnostic::new(self.meta().name, message, c.span, label);
                let help = match c.kind {
                    ClientKind::Get => "build one shared `Client` with `.timeout(..)` and send requests through it",
                    ClientKind::Ureq => "set `.timeout(Duration::from_secs(30))` on the `AgentBuilder`",
                    _ => "set a request timeout: `.timeout(Duration::from_secs(30))` on the builder",
                };
                if c.fix.is_empty() {
                    d = d.with_help(help);
                } else {
                    d = d.with_fix(Fix {
                        message: "add a request timeout".into(),
                        applicability: Applicability::Unsafe,
                        edits: c.fix.clone(),
                    });
                }
                out.push(d);
            }
        }
    }
}
