//! A runtime adapter for callers without an async runtime: every future it is given runs
//! on a thread of its own under `block_on`, so its timer may block that thread. The
//! trait's `delay` is the adapter's sleep primitive (opentelemetry_sdk's `NoAsync`).

use std::future::Future;
use std::time::Duration;

pub trait Runtime: Clone + Send + Sync + 'static {
    fn spawn<F>(&self, future: F)
    where
        F: Future<Output = ()> + Send + 'static;

    fn delay(&self, duration: Duration) -> impl Future<Output = ()> + Send + 'static;
}

#[derive(Clone, Debug, Default)]
pub struct ThreadPerTask;

impl Runtime for ThreadPerTask {
    fn spawn<F>(&self, future: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        std::thread::spawn(move || futures::executor::block_on(future));
    }

    fn delay(&self, duration: Duration) -> impl Future<Output = ()> + Send + 'static {
        async move {
            std::thread::sleep(duration);
        }
    }
}
