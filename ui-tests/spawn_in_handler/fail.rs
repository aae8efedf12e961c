//! Request handlers of a file-sharing service (axum, actix-web, tonic and a raw hyper
//! gateway) that start background work and forget it: the task is detached, has no
//! deadline and observes no shutdown signal, so it outlives the request. Under load, or
//! when a dependency hangs, one task per request piles up.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Extension, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::routing::{self, get, post};
use axum::{Json, Router};
use bytes::Bytes;
use once_cell::sync::Lazy;
use tokio::sync::mpsc;
use tokio::task::spawn_blocking;
use tokio::time;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status};

#[derive(Clone)]
pub struct AppState {
    pub store: Arc<ObjectStore>,
    pub scanner: Arc<VirusScanner>,
    pub dispatcher: Arc<CiDispatcher>,
    pub thumbs: Arc<ThumbnailCache>,
}

/// Process-wide clients for the handlers that do not take `State`.
static DISPATCHER: Lazy<Arc<CiDispatcher>> = Lazy::new(|| Arc::new(CiDispatcher::from_env()));
static THUMBS: Lazy<Arc<ThumbnailCache>> = Lazy::new(|| Arc::new(ThumbnailCache::with_capacity(10_000)));
static SEARCH: Lazy<Arc<SearchIndex>> = Lazy::new(|| Arc::new(SearchIndex::open("/var/lib/share/index")));

#[derive(serde::Serialize)]
pub struct UploadReceipt {
    pub key: String,
    pub size: usize,
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/buckets/:bucket/objects", post(upload))
        .route("/hooks/github", post(github_webhook))
        .route("/thumbnails", get(list_thumbnails).post(render_thumbnail))
        .route("/admin/search/reindex", routing::post(admin::reindex))
        .with_state(state)
}

/// Stores an upload and starts a virus scan of it (an axum handler by its extractors).
pub async fn upload(
    State(state): State<AppState>,
    Path(bucket): Path<String>,
    body: Bytes,
) -> Result<Json<UploadReceipt>, AppError> {
    let key = format!("{bucket}/{}", uuid::Uuid::new_v4());
    let size = body.len();
    state.store.put(&key, body.clone()).await?;
    let (scanner, store, scan_key) = (Arc::clone(&state.scanner), Arc::clone(&state.store), key.clone());
    // A scanner that hangs on one file keeps this task, and the whole upload in
    // `body`, alive long after the client got its receipt.
    tokio::spawn(async move { //~ spawn_in_handler
        match scanner.scan(&body).await {
            Ok(verdict) if verdict.infected => {
                tracing::warn!(key = %scan_key, "infected upload quarantined");
                let _ = store.quarantine(&scan_key).await;
            }
            Ok(_) => tracing::debug!(key = %scan_key, "upload clean"),
            Err(err) => tracing::error!(error = %err, key = %scan_key, "scan failed"),
        }
    });
    Ok(Json(UploadReceipt { key, size }))
}

/// A handler only because the router names it: `Bytes` is not an extractor in the list.
/// GitHub retries a webhook after 10 s, so every slow dispatch starts a second task.
pub async fn github_webhook(body: Bytes) -> StatusCode {
    let Ok(event) = serde_json::from_slice::<PushEvent>(&body) else {
        return StatusCode::BAD_REQUEST;
    };
    let dispatcher = DISPATCHER.clone();
    let _ = tokio::spawn(async move { //~ spawn_in_handler
        if let Err(err) = dispatcher.enqueue_build(event.repository, event.after).await {
            tracing::error!(error = %err, "could not enqueue CI build");
        }
    });
    StatusCode::ACCEPTED
}

pub async fn list_thumbnails(State(state): State<AppState>) -> Json<Vec<String>> {
    Json(state.thumbs.keys().await)
}

/// Routed through the chained `get(..).post(render_thumbnail)`. The blocking-pool job is
/// bound to `_render` and never used: the handle is dropped when the handler returns.
pub async fn render_thumbnail(body: Bytes) -> impl IntoResponse {
    let digest = blake3::hash(&body).to_hex().to_string();
    let thumbs = THUMBS.clone();
    let key = digest.clone();
    let _render = spawn_blocking(move || { //~ spawn_in_handler
        let img = image::load_from_memory(&body).map_err(|e| e.to_string())?;
        let small = img.thumbnail(256, 256);
        thumbs.insert_blocking(&key, small).map_err(|e| e.to_string())
    });
    (StatusCode::ACCEPTED, digest)
}

/// The OAuth callback (`Query` and `Extension` extractors, a `Redirect` response): the
/// profile sync against the identity provider is detached with no deadline.
pub async fn oauth_callback(
    Query(cb): Query<OAuthCallback>,
    Extension(idp): Extension<Arc<IdentityProvider>>,
) -> Redirect {
    let next = cb.redirect_to.clone().unwrap_or_else(|| "/dashboard".to_owned());
    tokio::spawn(async move { //~ spawn_in_handler
        if let Err(err) = idp.sync_profile(&cb.code, &cb.account).await {
            tracing::warn!(error = %err, account = %cb.account, "profile sync failed");
        }
    });
    Redirect::to(&next)
}

pub mod admin {
    use super::*;

    /// Routed as `routing::post(admin::reindex)`: rebuilding a tenant's index takes
    /// minutes, and a retried admin call starts a second, concurrent rebuild.
    pub async fn reindex(tenant: String) -> Result<String, AppError> {
        let index = SEARCH.clone();
        let name = tenant.trim().to_owned();
        tokio::task::spawn(async move { //~ spawn_in_handler
            match index.rebuild_tenant(&name).await {
                Ok(docs) => tracing::info!(tenant = %name, docs, "tenant reindexed"),
                Err(err) => tracing::error!(tenant = %name, error = %err, "reindex failed"),
            }
        });
        Ok(format!("reindex of {tenant} started"))
    }
}

pub mod reports {
    use actix_web::{get, post, web, HttpRequest, HttpResponse, Responder};

    use super::{ExportState, Invite, ReportRequest, ReportState};

    /// An actix-web route by its attribute.
    #[post("/reports")]
    pub async fn generate_report(data: web::Data<ReportState>, req: web::Json<ReportRequest>) -> impl Responder {
        let id = data.next_report_id();
        let renderer = data.renderer.clone();
        let spec = req.into_inner();
        actix_web::rt::spawn(async move { //~ spawn_in_handler
            match renderer.render_pdf(id, spec).await {
                Ok(path) => tracing::info!(id, path = %path.display(), "report ready"),
                Err(err) => tracing::error!(id, error = %err, "report failed"),
            }
        });
        HttpResponse::Accepted().json(serde_json::json!({ "report": id }))
    }

    /// Registered with `web::resource("/invites").route(web::post().to(send_invite))`:
    /// a handler because it takes `HttpRequest`/`web::Data`. The SMTP send runs on an OS
    /// thread that is detached with `drop(..)`; a stuck mail server leaks one thread each.
    pub async fn send_invite(req: HttpRequest, data: web::Data<ReportState>, form: web::Form<Invite>) -> HttpResponse {
        let mailer = data.mailer.clone();
        let to = form.email.clone();
        let from = req.connection_info().host().to_owned();
        let mail = std::thread::spawn(move || { //~ spawn_in_handler
            if let Err(err) = mailer.send_blocking(&to, &format!("You were invited to {from}")) {
                tracing::warn!(error = %err, to = %to, "invite mail failed");
            }
        });
        drop(mail);
        HttpResponse::Ok().finish()
    }

    /// `#[get]` route; the export refresh is detached with `let _ =`.
    #[get("/exports/{id}/refresh")]
    pub async fn refresh_export(path: web::Path<u64>, data: web::Data<ExportState>) -> HttpResponse {
        let id = path.into_inner();
        let exporter = data.exporter.clone();
        let _ = actix_rt::spawn(async move { //~ spawn_in_handler
            if let Err(err) = exporter.rebuild(id).await {
                tracing::error!(id, error = %err, "export refresh failed");
            }
        });
        HttpResponse::Accepted().finish()
    }
}

pub struct QuoteService {
    book: Arc<OrderBook>,
}

#[tonic::async_trait]
impl quotes_server::Quotes for QuoteService {
    type SubscribeStream = ReceiverStream<Result<Quote, Status>>;

    /// Streams quotes to one subscriber. The pump ignores send errors, so after the
    /// client disconnects it keeps polling the book every 250 ms, forever.
    async fn subscribe(&self, request: Request<SubscribeRequest>) -> Result<Response<Self::SubscribeStream>, Status> {
        let symbols = request.into_inner().symbols;
        let (tx, rx) = mpsc::channel(64);
        let book = Arc::clone(&self.book);
        tokio::spawn(async move { //~ spawn_in_handler
            let mut ticker = time::interval(Duration::from_millis(250));
            loop {
                ticker.tick().await;
                for symbol in &symbols {
                    if let Some(quote) = book.latest(symbol) {
                        let _ = tx.send(Ok(quote)).await;
                    }
                }
            }
        });
        Ok(Response::new(ReceiverStream::new(rx)))
    }
}

/// Serves one connection of the internal hyper gateway; every request is audited.
pub async fn serve_gateway_conn(stream: tokio::net::TcpStream, gateway: Arc<Gateway>) {
    let service = hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
        let gateway = Arc::clone(&gateway);
        async move {
            let entry = AuditEntry::from_request(&req);
            let audit = gateway.audit_log.clone();
            // A slow audit sink leaves one task behind per proxied request.
            tokio::task::spawn(async move { //~ spawn_in_handler
                if let Err(err) = audit.append(entry).await {
                    tracing::warn!(error = %err, "audit append failed");
                }
            });
            gateway.forward(req).await
        }
    });
    let io = hyper_util::rt::TokioIo::new(stream);
    if let Err(err) = hyper::server::conn::http1::Builder::new().serve_connection(io, service).await {
        tracing::debug!(error = %err, "gateway connection ended with an error");
    }
}
