//! What ends a loop or a wait: the observations the task inventory (`taskcheck tasks`)
//! reads to say how a task stops. The per-file pass records them where an exit
//! (`break`, `return`, a diverging call) is taken because a cancellation source fired
//! or an input channel closed, and where a wait is raced against a cancellation source.

use syn::visit::{self, Visit};
use syn::Expr;
use taskcheck_core::Span;

use super::facts::BodyId;

/// What a stop observation waits on.
#[derive(serde::Serialize, serde::Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SourceKind {
    /// A `CancellationToken` (`cancelled()`, `is_cancelled()`, `run_until_cancelled`).
    Token,
    /// A process signal (`tokio::signal::ctrl_c()`, `signal(..).recv()`).
    Signal,
    /// A stop flag (`stop.load(..)`, a `done` boolean).
    Flag,
    /// A `Notify` (`shutdown.notified()`).
    Notify,
    /// A shutdown channel (`shutdown_rx.recv()`, `stop.changed()`, `&mut quit_rx`).
    ShutdownReceiver,
    /// The other side of a channel went away (`tx.closed()`, `tx.is_closed()`).
    SenderClosed,
    /// The input channel closed (`while let Some(x) = rx.recv().await`).
    Channel,
}

impl SourceKind {
    /// The stable machine name (JSON).
    pub fn id(self) -> &'static str {
        match self {
            SourceKind::Token => "token",
            SourceKind::Signal => "signal",
            SourceKind::Flag => "flag",
            SourceKind::Notify => "notify",
            SourceKind::ShutdownReceiver => "shutdown_receiver",
            SourceKind::SenderClosed => "sender_closed",
            SourceKind::Channel => "channel",
        }
    }

    /// How a person names it.
    pub fn label(self) -> &'static str {
        match self {
            SourceKind::Token => "token",
            SourceKind::Signal => "signal",
            SourceKind::Flag => "flag",
            SourceKind::Notify => "notify",
            SourceKind::ShutdownReceiver => "shutdown receiver",
            SourceKind::SenderClosed => "sender closed",
            SourceKind::Channel => "channel",
        }
    }

    /// A cancellation source (everything but the end of an input channel).
    pub fn is_cancel(self) -> bool {
        self != SourceKind::Channel
    }
}

/// An observed way for a loop or a wait to end.
#[derive(serde::Serialize, serde::Deserialize, Clone, Debug)]
pub struct EndObs {
    pub owner: BodyId,
    /// The loop it ends (an index into the file's loops); `None` for a wait raced
    /// against a cancellation source outside any loop (`select!` with a cancel branch,
    /// `run_until_cancelled`, `with_graceful_shutdown`): the whole wait ends.
    pub loop_idx: Option<usize>,
    pub kind: SourceKind,
    /// The observing expression (`token.cancelled()`, `rx.recv()`).
    pub span: Span,
    /// Its source text, whitespace collapsed.
    pub text: String,
}

/// A receive whose `None`/`Err` means the channel closed: `rx.recv()`,
/// `rx.recv_async()`, `rx.blocking_recv()`, or an awaited `stream.next()` /
/// `try_next()` (an iterator's `next()` is not one: iterators end on their own).
pub fn recv_call(e: &Expr) -> Option<&syn::ExprMethodCall> {
    let mut cur = e;
    let mut awaited = false;
    loop {
        match cur {
            Expr::Await(a) => {
                awaited = true;
                cur = &a.base;
            }
            Expr::Paren(p) => cur = &p.expr,
            Expr::Reference(r) => cur = &r.expr,
            Expr::MethodCall(m) => {
                let n = m.method.to_string();
                let recv = matches!(n.as_str(), "recv" | "recv_async" | "blocking_recv");
                let next = awaited && matches!(n.as_str(), "next" | "try_next");
                return (recv || next).then_some(m);
            }
            _ => return None,
        }
    }
}

/// Whether a pattern fails when a receive reports a closed channel: `None`, `Err(..)`
/// (a `match` arm taken on close).
pub fn is_closed_pattern(p: &syn::Pat) -> bool {
    match p {
        syn::Pat::Ident(i) => i.ident == "None" && i.subpat.is_none(),
        syn::Pat::Path(p) => p.path.is_ident("None"),
        syn::Pat::TupleStruct(t) => t.path.is_ident("Err"),
        syn::Pat::Or(o) => o.cases.iter().any(is_closed_pattern),
        _ => false,
    }
}

/// Whether a pattern only matches an open channel's value: `Some(..)`, `Ok(..)` (a
/// `while let`/`let .. else`/`select!` branch that stops matching on close).
pub fn is_value_pattern(p: &syn::Pat) -> bool {
    match p {
        syn::Pat::TupleStruct(t) => t.path.is_ident("Some") || t.path.is_ident("Ok"),
        syn::Pat::Type(t) => is_value_pattern(&t.pat),
        _ => false,
    }
}

/// What an expression the cancellation analysis already recognised waits on, from the
/// methods and paths it mentions. `token` tells whether it names a `CancellationToken`
/// binding or field; `signal` whether it names a `tokio::signal` path.
pub fn kind_of_source(e: &Expr, token: bool, signal: bool) -> SourceKind {
    #[derive(Default)]
    struct Methods(Vec<String>);
    impl<'ast> Visit<'ast> for Methods {
        fn visit_expr_method_call(&mut self, m: &'ast syn::ExprMethodCall) {
            self.0.push(m.method.to_string());
            visit::visit_expr_method_call(self, m);
        }
    }
    let mut m = Methods::default();
    m.visit_expr(e);
    let has = |names: &[&str]| m.0.iter().any(|n| names.contains(&n.as_str()));
    if token
        || has(&["cancelled", "cancelled_owned", "is_cancelled", "run_until_cancelled", "run_until_cancelled_owned"])
    {
        SourceKind::Token
    } else if signal || has(&["ctrl_c"]) {
        SourceKind::Signal
    } else if has(&["closed", "is_closed"]) {
        SourceKind::SenderClosed
    } else if has(&["notified"]) {
        SourceKind::Notify
    } else if has(&["load"]) || m.0.is_empty() && is_plain_value(e) {
        SourceKind::Flag
    } else {
        SourceKind::ShutdownReceiver
    }
}

/// A binding, field or `!` of one: a boolean read, not a receive.
fn is_plain_value(e: &Expr) -> bool {
    match e {
        Expr::Path(_) | Expr::Field(_) => true,
        Expr::Unary(u) => is_plain_value(&u.expr),
        Expr::Paren(p) => is_plain_value(&p.expr),
        _ => false,
    }
}

/// Source text for a label: whitespace runs collapsed, long texts shortened.
pub fn short_text(snippet: &str) -> String {
    const MAX: usize = 80;
    let collapsed: String = snippet.split_whitespace().collect::<Vec<_>>().join(" ");
    if collapsed.chars().count() <= MAX {
        collapsed
    } else {
        let cut: String = collapsed.chars().take(MAX - 3).collect();
        format!("{cut}...")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(s: &str) -> Expr {
        syn::parse_str(s).unwrap()
    }

    #[test]
    fn receives_that_report_a_closed_channel() {
        assert!(recv_call(&e("rx.recv().await")).is_some());
        assert!(recv_call(&e("rx.recv()")).is_some());
        assert!(recv_call(&e("stream.next().await")).is_some());
        // An iterator's `next()` ends on its own; a timeout receive also fails on timeout.
        assert!(recv_call(&e("it.next()")).is_none());
        assert!(recv_call(&e("rx.recv_timeout(d)")).is_none());
    }

    #[test]
    fn kinds_by_what_is_observed() {
        assert_eq!(kind_of_source(&e("token.cancelled()"), false, false), SourceKind::Token);
        assert_eq!(kind_of_source(&e("stop.load(Ordering::Acquire)"), false, false), SourceKind::Flag);
        assert_eq!(kind_of_source(&e("!done"), false, false), SourceKind::Flag);
        assert_eq!(kind_of_source(&e("shutdown.notified()"), false, false), SourceKind::Notify);
        assert_eq!(kind_of_source(&e("tx.closed()"), false, false), SourceKind::SenderClosed);
        assert_eq!(kind_of_source(&e("shutdown_rx.changed()"), false, false), SourceKind::ShutdownReceiver);
        assert_eq!(kind_of_source(&e("&mut quit_rx"), false, false), SourceKind::ShutdownReceiver);
        assert_eq!(kind_of_source(&e("tokio::signal::ctrl_c()"), false, true), SourceKind::Signal);
    }

    #[test]
    fn closed_and_value_patterns() {
        let p = |s: &str| syn::parse::Parser::parse_str(syn::Pat::parse_single, s).unwrap();
        assert!(is_closed_pattern(&p("None")) && is_closed_pattern(&p("Err(_)")));
        assert!(!is_closed_pattern(&p("Some(x)")));
        assert!(is_value_pattern(&p("Some(x)")) && is_value_pattern(&p("Ok(v)")));
        assert_eq!(short_text("a\n    .b()"), "a .b()");
    }
}
