//! A job service: an accept loop, workers that drain a queue, a metrics task, a
//! blocking compressor and an audit thread. The fixture of `tests/tasks.rs`; each
//! spawn says, in a `tasks:` comment, how the inventory must classify it.

mod audit;
mod jobs;
mod rt;
mod server;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

#[tokio::main]
async fn main() {
    let token = CancellationToken::new();
    let (shutdown_tx, shutdown_rx) = watch::channel(false);
    let (job_tx, job_rx) = mpsc::channel(64);
    let tracker = TaskTracker::new();

    let server = server::Server::bind("0.0.0.0:7000").await.expect("binding the job port");
    let accept = server.start(token.clone(), job_tx.clone());
    server.spawn_reaper();

    let mut workers = Vec::new();
    for id in 0..4 {
        workers.push(jobs::spawn_worker(id, token.child_token()));
    }
    jobs::spawn_consumer(job_rx);
    let mut shards = jobs::spawn_shards(8);
    jobs::spawn_flusher(&tracker);

    // tasks: cancellation (shutdown receiver) — the metrics loop leaves when the watch
    // channel changes; spawned through the crate's wrapper, its handle aborted below.
    let metrics = rt::spawn_named("metrics", async move {
        let mut shutdown_rx = shutdown_rx;
        let mut tick = tokio::time::interval(Duration::from_secs(15));
        loop {
            tokio::select! {
                _ = shutdown_rx.changed() => break,
                _ = tick.tick() => tracing::info!("metrics flushed"),
            }
        }
    });

    // tasks: finite — a one-shot warm-up, detached.
    tokio::spawn(async move {
        jobs::warm_cache().await;
    });

    let audit = audit::Audit::start(Arc::new(server.name()));

    tokio::signal::ctrl_c().await.expect("listening for Ctrl-C");
    token.cancel();
    let _ = shutdown_tx.send(true);
    accept.await.expect("the accept loop panicked");
    for w in workers {
        let _ = w.await;
    }
    shards.shutdown().await;
    metrics.abort();
    tracker.close();
    tracker.wait().await;
    drop(audit);
}
