use taskcheck_core::{declare_lint, Applicability, Diagnostic, Fix, LintMeta};

use crate::analysis::index::BodyRef;
use crate::analysis::tokens::LostKind;
use crate::{CrateContext, Lint};

declare_lint! {
    /// ### What it does
    /// Flags a cancellation signal lost inside one fn:
    /// - (a) a `CancellationToken::new()`/`.child_token()` bound to a local whose clones
    ///   are handed to tasks while the token itself is never cancelled, stored, returned,
    ///   passed on or turned into a drop guard — those tasks can never be told to stop;
    /// - (b) `let _ = token.drop_guard();`, `token.drop_guard();` or
    ///   `drop(token.drop_guard())`: the guard is dropped at once and cancels immediately;
    /// - (c) a channel whose sender is bound to the bare `_` while its receiver is
    ///   received on (or is a shutdown receiver), and a shutdown sender passed to
    ///   `drop(..)` right after it is created: the signal is closed from the start.
    ///
    /// Not flagged: a token cancelled anywhere in the fn (also in a closure or task),
    /// stored in a struct, returned or passed to a fn; `let _guard = token.drop_guard()`;
    /// `let (_shutdown_tx, rx) = ..` (an `_name` binding lives to the end of the scope);
    /// `let (tx, _) = broadcast::channel(..)` (receivers come from `subscribe`).
    ///
    /// ### Why is this bad
    /// (a) The tasks select on `token.cancelled()`, so they look cancellable, but nobody
    /// holds a token that can fire: shutdown waits forever or abandons them. (b) The
    /// guard cancels the token the moment it is dropped, so everything watching it stops
    /// at once. (c) Every receive returns at once as closed: a `select!` shutdown branch
    /// fires immediately, and a timer or wake-up loop built on the channel spins at 100%
    /// CPU.
    ///
    /// ### Example
    /// ```rust,ignore
    /// let token = CancellationToken::new();
    /// let _ = token.drop_guard();
    /// let (_, mut wake_rx) = mpsc::channel::<()>(1);
    /// ```
    ///
    /// ### Use instead
    /// ```rust,ignore
    /// let token = CancellationToken::new();
    /// let _guard = token.clone().drop_guard();
    /// let (_wake_tx, mut wake_rx) = mpsc::channel::<()>(1);
    /// ```
    ///
    /// ### Fix safety
    /// Safe: binding the guard to `_guard` or the sender to `_tx` only moves the drop
    /// to the end of the scope, which is what the code meant.
    ///
    /// ### Options
    /// `cancellation-sources` adds names that count as shutdown senders.
    ///
    /// ### Go analog
    /// `go vet`'s `lostcancel` (`ctx, _ := context.WithCancel(..)`).
    ///
    /// ### Known limits
    /// Only one fn is looked at: a clone handed to a helper that cancels it clears the
    /// finding, whatever the helper does.
    pub LOST_CANCEL,
    name: "lost_cancel",
    group: Timeouts,
    tier: Default,
    level: Warn,
    fix: Sometimes,
    summary: "a cancellation token or shutdown sender that is lost, or fires at once",
    triggers: {
        anchors: ["CancellationToken|DropGuard|drop_guard|child_token|channel|unbounded_channel|sync_channel|bounded|unbounded|bounded_async|unbounded_async"],
        context: [],
        follow: [],
        callers: [],
        scope: Items,
    },
}

pub struct LostCancel;

impl Lint for LostCancel {
    fn meta(&self) -> &'static LintMeta {
        &LOST_CANCEL
    }

    fn check(&self, cx: &CrateContext<'_>, out: &mut Vec<Diagnostic>) {
        for (file, (_, facts)) in cx.index.files.iter().enumerate() {
            for (owner, l) in &facts.lost_cancels {
                if cx.ignores_body(BodyRef { file, body: *owner }) {
                    continue;
                }
                let (message, label, help) = match &l.kind {
                    LostKind::NeverCancelled { name } => (
                        format!("`{name}` is handed to tasks but never cancelled"),
                        "this token's clones go to tasks, and nothing ever calls `cancel()` on it".to_string(),
                        format!("call `{name}.cancel()` on shutdown (or keep it in the owner that shuts down)"),
                    ),
                    LostKind::GuardDropped => (
                        "drop guard dropped at once: the token is cancelled immediately".to_string(),
                        "the guard is dropped at the end of this statement".to_string(),
                        "bind the guard to `_guard`: it then cancels when the scope ends".to_string(),
                    ),
                    LostKind::SenderDiscarded { receiver } => (
                        format!("the sender of `{receiver}` is dropped at once"),
                        format!("`_` drops the sender here: `{receiver}` reports closed on every receive"),
                        "bind the sender to `_tx` so it lives until the scope ends (or hand it to whoever signals)"
                            .to_string(),
                    ),
                    LostKind::SenderDropped { name } => (
                        format!("shutdown sender `{name}` is dropped right after it is created"),
                        "this closes the shutdown signal before anything runs".to_string(),
                        format!("keep `{name}` until shutdown, then send on it (or drop it) there"),
                    ),
                };
                let mut d = Diagnostic::new(self.meta().name, message, l.span, label);
                match &l.fix {
                    Some(edit) => {
                        d = d.with_fix(Fix {
                            message: help,
                            applicability: Applicability::Safe,
                            edits: vec![edit.clone()],
                        })
                    }
                    None => d = d.with_help(help),
                }
                out.push(d);
            }
        }
    }
}
