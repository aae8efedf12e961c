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
];

/// Whether a resolved call path creates a channel.
pub fn is_channel_ctor(path: &Resolved) -> bool {
    path.is_any(CHANNEL_CTORS)
}
