//! Process signals to a `CancellationToken`.

use std::path::PathBuf;

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

/// Removes the pid file when dropped.
struct PidFile(PathBuf);

impl Drop for PidFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Writes the pid file and holds it for the life of the process.
pub fn spawn_pid_keeper(path: PathBuf) {
    tokio::spawn(async move {
        if let Err(e) = tokio::fs::write(&path, std::process::id().to_string()).await {
            tracing::warn!(path = %path.display(), error = %e, "no pid file");
            return;
        }
        let _pid_file = PidFile(path);
        // BUG(pending_forever): parks the task forever to keep `_pid_file`
        // alive; nothing ties it to shutdown, so the file outlives a clean stop.
        std::future::pending::<()>().await;
    });
}
