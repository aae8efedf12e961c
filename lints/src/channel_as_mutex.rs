use std::collections::{HashMap, HashSet};

use taskcheck_core::{declare_lint, Diagnostic, LintMeta, Span};

use crate::analysis::cancel::is_cancel_name;
use crate::analysis::channels::Bound;
use crate::analysis::consts::{crate_consts, eval};
use crate::analysis::facts::{Body, ChanOp, ChannelSite, Endpoint};
use crate::analysis::index::BodyRef;
use crate::{CrateContext, Lint};

declare_lint! {
    /// ### What it does
    /// Flags a bounded channel of capacity 1 carrying no data (`()`, `bool` or a unit
    /// struct) — `tokio::sync::mpsc::channel(1)`, `std::sync::mpsc::sync_channel(1)`,
    /// `crossbeam_channel::bounded(1)`, `async_channel::bounded(1)`, `flume::bounded(1)`
    /// — used as a lock: on the same channel, one fn or task sends then receives (or
    /// receives a pre-filled token, then sends it back), and the endpoints are shared:
    /// stored as fields of a struct whose method does the lock dance, or moved into
    /// spawned tasks that do it.
    ///
    /// Not flagged: send and receive in different tasks (a one-time "ready" signal, a
    /// hand-off, a shutdown/ack pair), a relay across different channels, endpoints with
    /// cancellation names, channels carrying data, `broadcast`/`watch`/`oneshot`, and
    /// `futures::channel::mpsc` (its capacity is buffer + senders).
    ///
    /// ### Why is this bad
    /// A channel is a poor mutex: the protected data is not inside it, so nothing stops
    /// code from touching the data without the "lock"; an early return or `?` between the
    /// send and the receive leaks the token and every later caller blocks forever (there
    /// is no guard that releases on drop); and a dropped receiver turns every acquire
    /// into an error or a busy loop.
    ///
    /// ### Example
    /// ```rust,ignore
    /// self.slot_tx.send(()).await?;      // acquire
    /// let res = self.gateway.submit(msg).await?;  // `?` here leaks the slot
    /// self.slot_rx.lock().await.recv().await;     // release
    /// ```
    ///
    /// ### Use instead
    /// ```rust,ignore
    /// let _permit = self.submit_slots.acquire().await?; // tokio::sync::Semaphore::new(1)
    /// let res = self.gateway.submit(msg).await?;         // released on every path
    /// ```
    /// or put the data itself in a `tokio::sync::Mutex<T>`/`std::sync::Mutex<T>`.
    ///
    /// ### Options
    /// None.
    ///
    /// ### Go analog
    /// `make(chan struct{}, 1)` as a mutex.
    ///
    /// ### Known limits
    /// The lock shape must be in one fn or task body; endpoints are matched by field or
    /// binding name, not by type.
    pub CHANNEL_AS_MUTEX,
    name: "channel_as_mutex",
    group: Resources,
    tier: Default,
    level: Warn,
    fix: None,
    summary: "a capacity-1 channel of `()` used as a lock",
    triggers: {
        anchors: ["channel|sync_channel|bounded|bounded_async"],
        context: ["send", "send_async", "try_send", "blocking_send", "send_blocking", "*recv", "*spawn"],
        follow: ["channel", "sync_channel", "bounded", "bounded_async"],
        callers: [],
        scope: Items,
    },
}

/// Channels whose `capacity` is the queue length (futures' is buffer + senders).
const LOCKABLE: &[&str] = &[
    "tokio::sync::mpsc::channel",
    "std::sync::mpsc::sync_channel",
    "crossbeam_channel::bounded",
    "async_channel::bounded",
    "async_std::channel::bounded",
    "flume::bounded",
    "kanal::bounded",
    "kanal::bounded_async",
];

pub struct ChannelAsMutex;

impl Lint for ChannelAsMutex {
    fn meta(&self) -> &'static LintMeta {
        &CHANNEL_AS_MUTEX
    }

    fn check(&self, cx: &CrateContext<'_>, out: &mut Vec<Diagnostic>) {
        let files = &cx.index.files;
        if !files.iter().any(|(_, f)| f.channels.iter().any(|c| c.bound == Bound::Bounded)) {
            return;
        }
        let consts = crate_consts(files.iter().map(|(_, f)| *f));
        let unit_structs: HashSet<&str> =
            files.iter().flat_map(|(_, f)| f.unit_structs.iter().map(String::as_str)).collect();
        let words = cx.settings.extra_cancel_words();
        // Spawned work runs on behalf of the fn that spawned it.
        let parent: HashMap<BodyRef, BodyRef> =
            cx.index.spawns.iter().map(|sp| (sp.body(), BodyRef { file: sp.file, body: sp.site.owner })).collect();
        let root = |mut b: BodyRef| {
            for _ in 0..8 {
                match parent.get(&b) {
                    Some(p) => b = *p,
                    None => break,
                }
            }
            b
        };
        for (file, (_, facts)) in files.iter().enumerate() {
            for ch in &facts.channels {
                let owner = BodyRef { file, body: ch.owner };
                if ch.bound != Bound::Bounded || !LOCKABLE.contains(&ch.path.as_str()) || cx.ignores_body(owner) {
                    continue;
                }
                if ch.capacity.as_ref().and_then(|c| eval(c, &consts)) != Some(1) {
                    continue;
                }
                let names = [&ch.tx, &ch.rx].into_iter().flatten().chain(&ch.tx_fields).chain(&ch.rx_fields);
                if names.into_iter().any(|n| is_cancel_name(n, &words)) {
                    continue;
                }
                let elem_unit = ch.elem.as_deref().map(|e| e == "()" || e == "bool" || unit_structs.contains(e));
                if elem_unit == Some(false) {
                    continue;
                }
                let found = lock_shape(cx, ch, owner, &root);
                let Some((send, recv)) = found.filter(|(send, _)| elem_unit.unwrap_or(send.unit_value)) else {
                    continue;
                };
                out.push(self.finding(ch.span, send.span, recv.span));
            }
        }
    }
}

impl ChannelAsMutex {
    fn finding(&self, ctor: Span, send: Span, recv: Span) -> Diagnostic {
        Diagnostic::new(
            self.meta().name,
            "capacity-1 channel carrying no data used as a lock",
            ctor,
            "this channel is a mutex in disguise",
        )
        .with_label(send, "a send takes (or returns) the token")
        .with_label(recv, "a receive on the same channel returns (or takes) it")
        .with_help(
            "put the data in a `tokio::sync::Mutex<T>` (or `std::sync::Mutex<T>`), or use `tokio::sync::Semaphore::new(1)` whose permit is released on every path",
        )
    }
}

/// A send and a receive on this channel's endpoints in one shared body.
fn lock_shape<'a>(
    cx: &CrateContext<'a>,
    ch: &ChannelSite,
    owner: BodyRef,
    root: &dyn Fn(BodyRef) -> BodyRef,
) -> Option<(&'a ChanOp, &'a ChanOp)> {
    let pair = |b: &'a Body, tx: &dyn Fn(&Endpoint) -> bool, rx: &dyn Fn(&Endpoint) -> bool| {
        let send = b.chan_ops.iter().find(|o| o.send && tx(&o.endpoint))?;
        let recv = b.chan_ops.iter().find(|o| !o.send && rx(&o.endpoint))?;
        Some((send, recv))
    };
    // (A) endpoints stored in fields, used together by a method.
    if !ch.tx_fields.is_empty() && !ch.rx_fields.is_empty() {
        let tx = |e: &Endpoint| matches!(e, Endpoint::Field(f) if ch.tx_fields.contains(f));
        let rx = |e: &Endpoint| matches!(e, Endpoint::Field(f) if ch.rx_fields.contains(f));
        for (_, f) in &cx.index.files {
            for b in f.bodies.iter().filter(|b| b.has_self) {
                if let Some(p) = pair(b, &tx, &rx) {
                    return Some(p);
                }
            }
        }
    }
    // (B) endpoints (or clones of them) moved into spawned work of the creating fn.
    let (Some(tx_name), Some(rx_name)) = (&ch.tx, &ch.rx) else { return None };
    let family: Vec<(BodyRef, &Body)> = cx
        .index
        .files
        .iter()
        .enumerate()
        .flat_map(|(file, (_, f))| f.bodies.iter().enumerate().map(move |(body, b)| (BodyRef { file, body }, b)))
        .filter(|(r, _)| *r != owner && r.file == owner.file && root(*r) == owner)
        .collect();
    let aliases = |start: &str| -> HashSet<String> {
        let mut set = HashSet::from([start.to_string()]);
        for _ in 0..3 {
            let own = &cx.index.body(owner).local_aliases;
            for (a, b) in own.iter().chain(family.iter().flat_map(|(_, b)| b.local_aliases.iter())) {
                if set.contains(b) {
                    set.insert(a.clone());
                }
            }
        }
        set
    };
    let (txs, rxs) = (aliases(tx_name), aliases(rx_name));
    let tx = |e: &Endpoint| matches!(e, Endpoint::Local(n) if txs.contains(n));
    let rx = |e: &Endpoint| matches!(e, Endpoint::Local(n) if rxs.contains(n));
    family.iter().find_map(|(_, b)| pair(b, &tx, &rx))
}
