//! The crate's spawn wrapper: names the task in the logs.

use std::future::Future;

use tokio::task::JoinHandle;

/// Spawns `fut` on the ambient runtime. tasks: caller's work — each call is its own row.
pub fn spawn_named<F>(name: &'static str, fut: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    tracing::debug!(task = name, "spawning");
    tokio::spawn(fut)
}
