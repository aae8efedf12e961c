//! `pending()` as "this branch never fires", the idiom of tonic, actix-server and axum:
//! in a match arm, an if/else branch, a closure, a `select!` branch, an operand that is
//! raced against real work, or built and never awaited on its own. Also a crate-local
//! `pending` fn, an empty loop that no task or `main` reaches, and loops that do work.
//! None of these parks anything forever.

use std::net::SocketAddr;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use futures::future::{BoxFuture, Either, FutureExt};
use tokio::sync::{oneshot, watch};

mod grpc {
    use std::future::pending;

    use super::{oneshot, SocketAddr};

    /// tonic's shape: with no shutdown receiver the server runs until its future is dropped.
    pub async fn serve(
        router: tonic::transport::server::Router,
        addr: SocketAddr,
        stop_rx: Option<oneshot::Receiver<()>>,
    ) {
        let signal = async {
            match stop_rx {
                Some(rx) => rx.await.unwrap_or(()),
                None => pending().await,
            }
        };
        if let Err(err) = router.serve_with_shutdown(addr, signal).await {
            tracing::error!(error = %err, "gRPC server failed");
        }
    }
}

mod signals {
    use futures::future::pending;

    /// actix-server's shape: resolves on SIGTERM, or never when signals are disabled.
    pub struct Signals {
        sigterm: Option<tokio::signal::unix::Signal>,
    }

    impl Signals {
        pub async fn recv(&mut self) {
            if let Some(sigterm) = self.sigterm.as_mut() {
                sigterm.recv().await;
            } else {
                pending::<()>().await
            }
        }
    }
}

/// axum's shape: the graceful-shutdown future of `serve`.
pub async fn wait_for_signal(signal_rx: Option<watch::Receiver<()>>) {
    match signal_rx {
        Some(mut rx) => {
            let _ = rx.changed().await;
        }
        None => std::future::pending::<()>().await,
    }
}

/// In a closure: the fallback future is a value handed to the caller.
pub fn reload_events(reload_rx: Option<oneshot::Receiver<()>>) -> BoxFuture<'static, ()> {
    reload_rx.map(|rx| rx.map(|_| ()).boxed()).unwrap_or_else(|| std::future::pending().boxed())
}

/// Stored, not awaited, and used as a `select!` branch; plus a branch that never fires
/// so both builds keep the same `select!`.
pub async fn run_public_api(public: impl std::future::Future<Output = anyhow::Result<()>>) -> anyhow::Result<()> {
    #[cfg(feature = "metrics")]
    let metrics = crate::metrics::serve("0.0.0.0:9100".parse()?);
    #[cfg(not(feature = "metrics"))]
    let metrics = futures::future::pending::<()>();
    tokio::select! {
        res = public => res,
        _ = metrics => Ok(()),
        _ = futures::future::pending::<()>() => unreachable!("pending() never resolves"),
    }
}

/// `pending()` as an operand raced against the session: with no idle limit the session
/// only ends by itself.
pub async fn drive_session(session: BoxFuture<'static, ()>, idle_limit: Option<Duration>) {
    let idle: BoxFuture<'static, ()> = match idle_limit {
        Some(limit) => Box::pin(tokio::time::sleep(limit)),
        None => Box::pin(std::future::pending()),
    };
    match futures::future::select(session, idle).await {
        Either::Left(_) => tracing::debug!("session finished"),
        Either::Right(_) => tracing::debug!("session idle for too long"),
    }
}

/// The optional side of a `select(..)` is `pending()` when the admin port is disabled.
pub async fn serve_both(http: BoxFuture<'static, ()>, admin_addr: Option<SocketAddr>) {
    let admin = match admin_addr {
        Some(addr) => Either::Left(crate::admin::serve(addr)),
        None => Either::Right(futures::future::pending::<()>()),
    };
    futures::future::select(pin!(http), pin!(admin)).await;
}

/// async-global-executor's worker shape: the shared executor runs with `pending()` as
/// its main future, raced with `or(..)` against the worker's stop channel.
pub fn executor_worker(ex: Arc<async_executor::Executor<'static>>, stop_rx: async_channel::Receiver<()>) {
    let local = async move {
        let _ = stop_rx.recv().await;
    };
    let global = ex.run(futures::future::pending::<()>());
    futures_lite::future::block_on(futures_lite::future::or(local, global));
}

mod jobs {
    /// A crate-local fn that happens to be called `pending`: the jobs not yet run.
    pub async fn pending(db: &sqlx::PgPool, limit: i64) -> Result<Vec<Job>, sqlx::Error> {
        sqlx::query_as("SELECT * FROM jobs WHERE state = 'pending' ORDER BY id LIMIT $1")
            .bind(limit)
            .fetch_all(db)
            .await
    }

    pub async fn run_batch(db: &sqlx::PgPool) -> Result<usize, sqlx::Error> {
        let jobs = pending(db, 100).await?;
        for job in &jobs {
            job.run(db).await?;
        }
        Ok(jobs.len())
    }
}

/// Bare-metal build of the sensor agent: on a fatal fault the core halts. Only the
/// panic handler calls `halt`; no task, thread or `main` reaches it.
pub mod bare_metal {
    #[inline(never)]
    pub fn halt() -> ! {
        loop {}
    }

    #[cfg(target_os = "none")]
    #[panic_handler]
    fn on_panic(_info: &core::panic::PanicInfo) -> ! {
        halt()
    }
}

/// A flusher thread whose loop does work and leaves on the stop flag: not park-only.
pub struct Flusher {
    stop: Arc<AtomicBool>,
    thread: thread::JoinHandle<()>,
}

impl Flusher {
    pub fn start(buffer: Arc<crate::Buffer>) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = thread::spawn(move || loop {
            thread::park_timeout(Duration::from_secs(1));
            buffer.flush();
            if flag.load(Ordering::Acquire) {
                break;
            }
        });
        Self { stop, thread }
    }

    pub fn finish(self) {
        self.stop.store(true, Ordering::Release);
        self.thread.thread().unpark();
        let _ = self.thread.join();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn signal_future_never_fires_without_receiver() {
        let fut = wait_for_signal(None);
        assert!(tokio::time::timeout(Duration::from_millis(20), fut).await.is_err());
        tokio::spawn(async { std::future::pending::<()>().await });
    }

    #[test]
    fn parked_helper_thread() {
        let _t = thread::spawn(|| loop {});
    }
}
