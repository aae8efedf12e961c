//! Process signals to a `CancellationToken`.

use tokio::signal::unix::{signal, SignalKind};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tracing::info;

/// Cancels `token` on Ctrl-C or SIGTERM. `main` keeps the handle.
pub fn spawn_signal_listener(token: CancellationToken) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut sigterm = signal(SignalKind::terminate()).expect("installing the SIGTERM handler");
        tokio::select! {
            _ = tokio::signal::ctrl_c() => info!("received Ctrl-C"),
            _ = sigterm.recv() => info!("received SIGTERM"),
        }
        token.cancel();
    })
}
