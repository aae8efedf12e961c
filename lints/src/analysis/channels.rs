//! Channel constructors, after path resolution. Every constructor returns
//! `(sender, receiver)`.

use super::paths::Resolved;

/// Channel constructors of tokio, std, crossbeam, flume, async-channel, async-std and
/// futures.
const CHANNEL_CTORS: &[&str] = &[
    "tokio::sync::mpsc::channel",
    "tokio::sync::mpsc::unbounded_channel",
    "tokio::sync::oneshot::channel",
    "tokio::sync::watch::channel",
    "tokio::sync::broadcast::channel",
    "std::sync::mpsc::channel",
    "std::sync::mpsc::sync_channel",
    "crossbeam_channel::bounded",
    "crossbeam_channel::unbounded",
    "flume::bounded",
    "flume::unbounded",
    "async_channel::bounded",
    "async_channel::unbounded",
    "async_std::channel::bounded",
    "async_std::channel::unbounded",
    "futures_channel::mpsc::channel",
    "futures_channel::mpsc::unbounded",
    "futures_channel::oneshot::channel",
    "kanal::bounded",
    "kanal::bounded_async",
    "kanal::unbounded",
    "kanal::unbounded_async",
];

/// Whether a resolved call path creates a channel.
pub fn is_channel_ctor(path: &Resolved) -> bool {
    path.is_any(CHANNEL_CTORS)
}

/// How a channel constructor bounds its queue.
#[derive(serde::Serialize, serde::Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bound {
    /// Takes a capacity (its first argument).
    Bounded,
    /// No limit: a slow consumer lets the queue grow.
    Unbounded,
    /// One value (`oneshot`) or the latest value (`watch`).
    Single,
}

const BOUNDED: &[&str] = &[
    "tokio::sync::mpsc::channel",
    "tokio::sync::broadcast::channel",
    "std::sync::mpsc::sync_channel",
    "crossbeam_channel::bounded",
    "flume::bounded",
    "async_channel::bounded",
    "async_std::channel::bounded",
    "futures_channel::mpsc::channel",
    "kanal::bounded",
    "kanal::bounded_async",
];

const UNBOUNDED: &[&str] = &[
    "tokio::sync::mpsc::unbounded_channel",
    "std::sync::mpsc::channel",
    "crossbeam_channel::unbounded",
    "flume::unbounded",
    "async_channel::unbounded",
    "async_std::channel::unbounded",
    "futures_channel::mpsc::unbounded",
    "kanal::unbounded",
    "kanal::unbounded_async",
];

/// The bound of a resolved channel constructor.
pub fn bound_of(path: &Resolved) -> Option<Bound> {
    if path.is_any(BOUNDED) {
        Some(Bound::Bounded)
    } else if path.is_any(UNBOUNDED) {
        Some(Bound::Unbounded)
    } else if is_channel_ctor(path) {
        Some(Bound::Single)
    } else {
        None
    }
}
