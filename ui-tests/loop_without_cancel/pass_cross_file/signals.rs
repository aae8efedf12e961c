use tokio::signal::unix::{signal, SignalKind};
use tokio_util::sync::CancellationToken;

/// Cancels `token` on the first ctrl-c or SIGTERM (or returns if it is cancelled
/// some other way).
pub async fn cancel_on_signal(token: CancellationToken) {
    let mut term = signal(SignalKind::terminate()).expect("cannot install SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => tracing::info!("ctrl-c received"),
        _ = term.recv() => tracing::info!("SIGTERM received"),
        _ = token.cancelled() => return,
    }
    token.cancel();
}
