use std::collections::HashSet;

use taskcheck_core::{declare_lint, Diagnostic, LintMeta};

use crate::analysis::cancel::is_cancel_name;
use crate::analysis::channels::Bound;
use crate::analysis::index::BodyRef;
use crate::{CrateContext, Lint};

declare_lint! {
    /// ### What it does
    /// Flags unbounded channels: `tokio::sync::mpsc::unbounded_channel()`,
    /// `std::sync::mpsc::channel()`, `crossbeam_channel::unbounded()`,
    /// `async_channel::unbounded()`, `flume::unbounded()`,
    /// `futures::channel::mpsc::unbounded()`, `kanal::unbounded()`.
    ///
    /// Not flagged: request/reply channels — the message type (from a turbofish or a
    /// `let` annotation) is a crate type carrying a `oneshot::Sender`/`SyncSender` the
    /// caller waits on, which bounds the queue to the number of callers; control
    /// channels whose sender or receiver binding has a cancellation name (`stop_rx`).
    ///
    /// ### Why is this bad
    /// When the consumer is slower than the producers (a stalled disk, a slow peer, a
    /// burst), an unbounded queue grows until the process runs out of memory, and every
    /// queued message waits longer. Nothing tells the producers to slow down.
    ///
    /// ### Example
    /// ```rust,ignore
    /// let (events_tx, mut events_rx) = tokio::sync::mpsc::unbounded_channel();
    /// ```
    ///
    /// ### Use instead
    /// ```rust,ignore
    /// let (events_tx, mut events_rx) = tokio::sync::mpsc::channel(1_024);
    /// // producers: events_tx.send(ev).await  (waits when the consumer is behind)
    /// ```
    ///
    /// ### Options
    /// None. Pedantic: allow by default.
    ///
    /// ### Go analog
    /// A goroutine per message, or a slice used as an ever-growing queue.
    ///
    /// ### Known limits
    /// The message type is known only from a turbofish or a `let` annotation; inferred
    /// request/reply types are not recognised.
    pub UNBOUNDED_CHANNEL,
    name: "unbounded_channel",
    group: Resources,
    tier: Pedantic,
    level: Allow,
    fix: None,
    summary: "an unbounded channel: a slow consumer lets the queue grow without limit",
    triggers: {
        anchors: ["channel|unbounded_channel|sync_channel|bounded|unbounded|bounded_async|unbounded_async"],
        context: ["Sender", "SyncSender"],
        follow: [],
        callers: [],
        scope: Items,
    },
}

pub struct UnboundedChannel;

impl Lint for UnboundedChannel {
    fn meta(&self) -> &'static LintMeta {
        &UNBOUNDED_CHANNEL
    }

    fn check(&self, cx: &CrateContext<'_>, out: &mut Vec<Diagnostic>) {
        let reply: HashSet<&str> =
            cx.index.files.iter().flat_map(|(_, f)| f.reply_types.iter().map(String::as_str)).collect();
        let words = cx.settings.extra_cancel_words();
        for (file, (_, facts)) in cx.index.files.iter().enumerate() {
            for ch in &facts.channels {
                if ch.bound != Bound::Unbounded || cx.ignores_body(BodyRef { file, body: ch.owner }) {
                    continue;
                }
                let control = [&ch.tx, &ch.rx].into_iter().flatten().any(|n| is_cancel_name(n, &words));
                let request_reply = ch.elem.as_deref().is_some_and(|e| reply.contains(e));
                if control || request_reply {
                    continue;
                }
                out.push(
                    Diagnostic::new(
                        self.meta().name,
                        "unbounded channel: a slow consumer lets the queue grow without limit",
                        ch.span,
                        "nothing makes producers wait when the consumer falls behind",
                    )
                    .with_help(
                        "use a bounded channel sized to the consumer (`tokio::sync::mpsc::channel(1_024)`, `crossbeam_channel::bounded(n)`) so producers get back-pressure",
                    ),
                );
            }
        }
    }
}
