use std::convert::Infallible;
use std::time::Duration;

use axum::routing::get;
use axum::Router;
use http_body_util::Full;
use hyper::body::Bytes;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

async fn health() -> &'static str {
    "ok"
}

/// The admin API: axum's own accept loop, stopped by `with_graceful_shutdown`.
pub async fn serve_admin(listener: TcpListener, token: CancellationToken) -> std::io::Result<()> {
    let app = Router::new().route("/health", get(health));
    axum::serve(listener, app)
        .with_graceful_shutdown(token.cancelled_owned())
        .await
}

async fn metrics_page(_req: Request<hyper::body::Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    Ok(Response::new(Full::new(Bytes::from_static(b"relay_up 1\n"))))
}

/// A hyper-util server: the accept loop breaks on the token, then `graceful.shutdown()`
/// waits (bounded by a grace period) for the open connections.
pub async fn serve_metrics(listener: TcpListener, token: CancellationToken) {
    let graceful = GracefulShutdown::new();
    let builder = auto::Builder::new(TokioExecutor::new());
    let conns = TaskTracker::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _peer)) = accepted else { continue };
                let conn = builder.serve_connection(TokioIo::new(stream), service_fn(metrics_page));
                let conn = graceful.watch(conn.into_owned());
                conns.spawn(async move {
                    if let Err(err) = conn.await {
                        tracing::debug!(error = %err, "metrics connection failed");
                    }
                });
            }
            _ = token.cancelled() => break,
        }
    }
    tokio::select! {
        _ = graceful.shutdown() => tracing::info!("metrics connections closed"),
        _ = tokio::time::sleep(Duration::from_secs(10)) => tracing::warn!("metrics grace period elapsed"),
    }
}
