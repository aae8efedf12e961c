use taskcheck_core::{declare_lint, Diagnostic, LintMeta};

use crate::analysis::channels::Bound;
use crate::analysis::consts::{crate_consts, eval};
use crate::analysis::index::BodyRef;
use crate::{CrateContext, Lint};

declare_lint! {
    /// ### What it does
    /// Flags a bounded channel (`tokio::sync::mpsc::channel`, `broadcast::channel`,
    /// `std::sync::mpsc::sync_channel`, `crossbeam_channel::bounded`,
    /// `async_channel::bounded`, `flume::bounded`, ...) whose capacity evaluates to at
    /// least `channel-capacity-max` (default 10_000). The capacity is evaluated from
    /// literals, `+ - * / <<`, `as` and the crate's `const` items, across files.
    ///
    /// Not flagged: capacities from runtime values, and a buffer sized exactly for what
    /// the same fn sends (`for _ in 0..CAP { tx.send(..) }`).
    ///
    /// ### Why is this bad
    /// A bounded channel exists to push back on a producer when the consumer falls
    /// behind. A 100_000-deep buffer hides a stalled consumer for minutes or hours while
    /// memory and latency climb, and crossbeam, `sync_channel`, `async_channel` and
    /// `broadcast` allocate the whole buffer up front.
    ///
    /// ### Example
    /// ```rust,ignore
    /// let (tx, rx) = tokio::sync::mpsc::channel(100_000);
    /// ```
    ///
    /// ### Use instead
    /// ```rust,ignore
    /// // Sized to absorb a burst the consumer catches up with in well under a second.
    /// let (tx, rx) = tokio::sync::mpsc::channel(1_024);
    /// ```
    ///
    /// ### Options
    /// `channel-capacity-max` (default 10_000).
    ///
    /// ### Go analog
    /// `make(chan T, 65536)` picked at random.
    ///
    /// ### Known limits
    /// Constants are matched by name across the crate (the first definition wins); a
    /// capacity computed at run time is not judged.
    pub OVERSIZED_CHANNEL_BUFFER,
    name: "oversized_channel_buffer",
    group: Resources,
    tier: Default,
    level: Warn,
    fix: None,
    summary: "a bounded channel so large it hides a slow consumer",
    triggers: {
        anchors: ["channel|sync_channel|bounded|bounded_async"],
        context: [],
        follow: ["channel", "sync_channel", "bounded", "bounded_async"],
        callers: [],
        scope: Items,
    },
}

pub struct OversizedChannelBuffer;

impl Lint for OversizedChannelBuffer {
    fn meta(&self) -> &'static LintMeta {
        &OVERSIZED_CHANNEL_BUFFER
    }

    fn check(&self, cx: &CrateContext<'_>, out: &mut Vec<Diagnostic>) {
        let max = i128::from(cx.settings.channel_capacity_max);
        let consts = crate_consts(cx.index.files.iter().map(|(_, f)| *f));
        for (file, (_, facts)) in cx.index.files.iter().enumerate() {
            for ch in &facts.channels {
                let owner = BodyRef { file, body: ch.owner };
                if ch.bound != Bound::Bounded || cx.ignores_body(owner) {
                    continue;
                }
                let Some(cap) = ch.capacity.as_ref().and_then(|c| eval(c, &consts)) else { continue };
                if cap < max {
                    continue;
                }
                // A buffer sized exactly for the items this fn sends.
                let exact = cx.index.body(owner).range_bounds.iter().any(|b| eval(b, &consts) == Some(cap));
                if exact {
                    continue;
                }
                out.push(
                    Diagnostic::new(
                        self.meta().name,
                        format!("channel buffer of {cap} messages hides a slow consumer"),
                        ch.span,
                        format!("capacity {cap} is at or above the limit of {max}"),
                    )
                    .with_help(
                        "size the buffer to a burst the consumer absorbs quickly (tens to a few thousand) and let the producer wait: that back-pressure is the point of a bounded channel",
                    ),
                );
            }
        }
    }
}
