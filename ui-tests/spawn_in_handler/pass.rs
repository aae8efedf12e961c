//! Handlers that start concurrent work the right way, and spawns that look like they
//! are in a handler but are not: the handle is awaited, kept in state or owned by a
//! `JoinSet`; the task is bounded by `tokio::time::timeout` or a shutdown token; it is
//! an upgraded connection that must outlive the request; or the spawn sits in a helper,
//! an HTTP client fn, a sync fn or `main`. None of these is reported.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Path, Query, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use axum::{Json, Router};
use bytes::Bytes;
use tokio::sync::Mutex;
use tokio::task::{JoinHandle, JoinSet};
use tokio::time::timeout;
use tokio_util::sync::CancellationToken;

#[derive(Clone)]
pub struct AppState {
    pub shards: Arc<Vec<ShardClient>>,
    pub exports: Arc<Mutex<HashMap<u64, JoinHandle<()>>>>,
    pub webhooks: Arc<WebhookClient>,
    pub search: Arc<SearchIndex>,
    pub avatars: Arc<AvatarStore>,
    pub cdn: Arc<CdnClient>,
    pub shutdown: CancellationToken,
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/uploads/digest", post(digest_upload))
        .route("/search", get(search))
        .route("/exports/:id", post(start_export))
        .route("/orders/:id/paid", post(order_paid))
        .route("/cdn/purge", post(purge_cdn))
        .route("/tenants/:tenant/reindex", post(reindex))
        .route("/users/:id/avatar", post(upload_avatar))
        .route("/tunnel", any(tunnel))
        .with_state(state)
}

/// Kept: the blocking job's handle is awaited (through `?`) before responding.
pub async fn digest_upload(body: Bytes) -> Result<String, StatusCode> {
    let digest = tokio::task::spawn_blocking(move || blake3::hash(&body).to_hex().to_string())
        .await
        .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?;
    Ok(digest)
}

/// Kept: the fan-out lives in a `JoinSet`, which is drained here and aborts whatever is
/// left if the client goes away and this future is dropped.
pub async fn search(State(state): State<AppState>, Query(q): Query<SearchQuery>) -> Json<Vec<Hit>> {
    let mut set = JoinSet::new();
    for shard in state.shards.iter().cloned() {
        let q = q.clone();
        set.spawn(async move { shard.search(&q.text, q.limit).await });
    }
    let mut hits = Vec::new();
    while let Some(res) = set.join_next().await {
        if let Ok(Ok(mut shard_hits)) = res {
            hits.append(&mut shard_hits);
        }
    }
    hits.sort_by(|a, b| b.score.total_cmp(&a.score));
    Json(hits)
}

/// Kept: the export's handle is stored in the state, where `DELETE /exports/:id` aborts it.
pub async fn start_export(State(state): State<AppState>, Path(id): Path<u64>) -> impl IntoResponse {
    let search = Arc::clone(&state.search);
    let handle = tokio::spawn(async move {
        if let Err(err) = search.export_csv(id).await {
            tracing::error!(id, error = %err, "export failed");
        }
    });
    state.exports.lock().await.insert(id, handle);
    StatusCode::ACCEPTED
}

/// Detached but bounded: the webhook delivery gives up after 10 s.
pub async fn order_paid(State(state): State<AppState>, Json(order): Json<Order>) -> StatusCode {
    let webhooks = Arc::clone(&state.webhooks);
    tokio::spawn(async move {
        match tokio::time::timeout(Duration::from_secs(10), webhooks.deliver(&order)).await {
            Ok(Ok(())) => tracing::debug!(order = order.id, "webhook delivered"),
            Ok(Err(err)) => tracing::warn!(order = order.id, error = %err, "webhook rejected"),
            Err(_) => tracing::warn!(order = order.id, "webhook delivery took too long"),
        }
    });
    StatusCode::NO_CONTENT
}

/// Detached but bounded by `timeout` (imported from `tokio::time`).
pub async fn purge_cdn(State(state): State<AppState>, Json(paths): Json<Vec<String>>) -> StatusCode {
    let cdn = Arc::clone(&state.cdn);
    tokio::spawn(async move {
        if timeout(Duration::from_secs(5), cdn.purge(&paths)).await.is_err() {
            tracing::warn!(count = paths.len(), "CDN purge abandoned after 5 s");
        }
    });
    StatusCode::ACCEPTED
}

/// Detached but stoppable: a child of the server's shutdown token is moved in.
pub async fn reindex(State(state): State<AppState>, Path(tenant): Path<String>) -> Result<StatusCode, AppError> {
    let token = state.shutdown.child_token();
    let search = Arc::clone(&state.search);
    tokio::spawn(async move {
        tokio::select! {
            _ = token.cancelled() => tracing::info!(%tenant, "reindex interrupted by shutdown"),
            res = search.rebuild_tenant(&tenant) => {
                if let Err(err) = res {
                    tracing::error!(%tenant, error = %err, "reindex failed");
                }
            }
        }
    });
    Ok(StatusCode::ACCEPTED)
}

/// The spawn is in `schedule_resize`, a helper that is not a handler.
pub async fn upload_avatar(State(state): State<AppState>, Path(id): Path<u64>, body: Bytes) -> StatusCode {
    if state.avatars.put_original(id, &body).await.is_err() {
        return StatusCode::SERVICE_UNAVAILABLE;
    }
    schedule_resize(&state, id, body);
    StatusCode::ACCEPTED
}

fn schedule_resize(state: &AppState, id: u64, original: Bytes) {
    let avatars = Arc::clone(&state.avatars);
    tokio::spawn(async move {
        let resized = avatars.resize(&original, 128).await;
        let _ = avatars.put_resized(id, resized).await;
    });
}

/// axum's CONNECT proxy: the tunnel runs on the upgraded connection, which only exists
/// after the response is sent, so the task must outlive the request.
pub async fn tunnel(req: Request) -> Result<Response, hyper::Error> {
    let Some(target) = req.uri().authority().map(|a| a.to_string()) else {
        return Ok((StatusCode::BAD_REQUEST, "CONNECT must be to a socket address").into_response());
    };
    tokio::spawn(async move {
        match hyper::upgrade::on(req).await {
            Ok(upgraded) => {
                if let Err(err) = relay(upgraded, &target).await {
                    tracing::warn!(error = %err, %target, "tunnel closed with an error");
                }
            }
            Err(err) => tracing::warn!(error = %err, "upgrade failed"),
        }
    });
    Ok(Response::new(Body::empty()))
}

/// The raw-hyper websocket endpoint: the same upgrade shape inside `service_fn`.
pub async fn serve_ws_conn(stream: tokio::net::TcpStream, hub: Arc<Hub>) {
    let service = hyper::service::service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
        let hub = Arc::clone(&hub);
        async move {
            let accept = websocket_accept_key(req.headers());
            tokio::task::spawn(async move {
                match hyper::upgrade::on(&mut req).await {
                    Ok(upgraded) => hub.join(upgraded).await,
                    Err(err) => tracing::warn!(error = %err, "websocket upgrade failed"),
                }
            });
            Ok::<_, Infallible>(switching_protocols(accept))
        }
    });
    let io = hyper_util::rt::TokioIo::new(stream);
    let _ = hyper::server::conn::http1::Builder::new().serve_connection(io, service).with_upgrades().await;
}

/// An HTTP client helper (the smol `hyper-client` example shape): it takes a `Request`
/// and returns a `Response`, but it is a free fn that no router names. The spawned task
/// drives the client connection.
pub async fn send_upstream(
    req: hyper::Request<Body>,
    addr: std::net::SocketAddr,
) -> Result<hyper::Response<hyper::body::Incoming>, hyper::Error> {
    let stream = tokio::net::TcpStream::connect(addr).await.expect("upstream reachable");
    let (mut sender, conn) = hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream)).await?;
    tokio::spawn(async move {
        if let Err(err) = conn.await {
            tracing::debug!(error = %err, "upstream connection failed");
        }
    });
    sender.send_request(req).await
}

/// The same client shape as a method: it takes a `Request` and returns a `Response`,
/// but its error type is `hyper::Error`, not tonic's `Status`.
impl UpstreamPool {
    pub async fn call(
        &self,
        req: hyper::Request<Body>,
    ) -> Result<hyper::Response<hyper::body::Incoming>, hyper::Error> {
        let io = hyper_util::rt::TokioIo::new(self.connect().await);
        let (mut sender, conn) = hyper::client::conn::http1::handshake(io).await?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        sender.send_request(req).await
    }
}

/// Not async, so not a handler although it takes a `Request`: mirrors traffic to the
/// shadow deployment.
pub fn mirror_request(req: hyper::Request<Bytes>, shadow: Arc<ShadowClient>) {
    tokio::spawn(async move {
        let _ = shadow.replay(req).await;
    });
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let shutdown = CancellationToken::new();
    let state = AppState::connect(shutdown.clone()).await?;
    // Startup code, not a handler: warm the cache in the background.
    tokio::spawn(warm_search_cache(Arc::clone(&state.search)));
    let listener = tokio::net::TcpListener::bind("0.0.0.0:8080").await?;
    axum::serve(listener, router(state))
        .with_graceful_shutdown(async move {
            let _ = tokio::signal::ctrl_c().await;
            shutdown.cancel();
        })
        .await?;
    Ok(())
}
