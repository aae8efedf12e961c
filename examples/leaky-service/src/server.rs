//! Front doors: the POS port (line protocol over TCP) and the HTTP API.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use anyhow::{bail, Context};
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use crate::{worker, AppState, Order};

/// POS terminals number their own orders below 2^40; web orders start above.
static NEXT_WEB_ORDER_ID: AtomicU64 = AtomicU64::new(1 << 40);

/// Accept loop for the POS terminals.
pub async fn run(listener: TcpListener, state: AppState) -> anyhow::Result<()> {
    info!(addr = %listener.local_addr()?, "POS port listening");
    // BUG(loop_without_cancel): only leaves through `?`. `state.shutdown` is
    // right here, but the loop never selects on it.
    loop {
        let (socket, peer) = listener.accept().await?;
        socket.set_nodelay(true)?;
        let state = state.clone();
        tokio::spawn(async move {
            if let Err(e) = handle_conn(socket, peer, state).await {
                warn!(%peer, error = %e, "POS connection failed");
            }
        });
    }
}

async fn handle_conn(socket: TcpStream, peer: SocketAddr, state: AppState) -> anyhow::Result<()> {
    let conn_token = state.shutdown.child_token();
    let _session = PosSession { peer, opened: Instant::now(), state: state.clone() };
    // BUG(lost_cancel): meant to cancel `conn_token` when this fn returns,
    // but `let _` drops the guard at once, so the token is cancelled here.
    let _ = conn_token.clone().drop_guard();

    let (read_half, mut write_half) = socket.into_split();
    let mut lines = BufReader::new(read_half).lines();
    // ok: leaves on cancellation and on EOF.
    loop {
        tokio::select! {
            _ = conn_token.cancelled() => break,
            line = lines.next_line() => {
                let Some(line) = line? else { break };
                state.last_seen.insert(peer.to_string(), Instant::now());
                let reply = match parse_order_line(&line) {
                    Ok(order) => {
                        let id = order.id;
                        if worker::journal().try_send(order.clone()).is_err() {
                            warn!(order = id, "journal queue full, entry dropped");
                        }
                        state.reservations.hold(id);
                        state.record_order(order);
                        format!("ACK {id}\n")
                    }
                    Err(e) => {
                        debug!(%peer, error = %e, "rejected POS line");
                        format!("ERR {e}\n")
                    }
                };
                write_half.write_all(reply.as_bytes()).await?;
            }
        }
    }
    info!(%peer, "POS terminal disconnected");
    Ok(())
}

/// `ORDER <id> <customer> <sku> <qty> [phone]`
fn parse_order_line(line: &str) -> anyhow::Result<Order> {
    let fields: Vec<&str> = line.split_whitespace().collect();
    let ["ORDER", id, customer_id, sku, quantity, rest @ ..] = fields.as_slice() else {
        bail!("expected ORDER <id> <customer> <sku> <qty> [phone]");
    };
    let id = id.parse().context("bad id")?;
    if id >= 1 << 40 {
        bail!("POS order id out of range");
    }
    Ok(Order {
        id,
        customer_id: customer_id.parse().context("bad customer")?,
        sku: sku.to_string(),
        quantity: quantity.parse().context("bad quantity")?,
        phone: rest.first().map(|p| p.to_string()),
    })
}

/// ok: stops on the token (graceful shutdown), and main awaits its handle.
pub async fn serve_http(listener: TcpListener, state: AppState, token: CancellationToken) -> anyhow::Result<()> {
    let app = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/orders", post(create_order))
        .with_state(state);
    info!(addr = %listener.local_addr()?, "HTTP API listening");
    axum::serve(listener, app)
        .with_graceful_shutdown(token.cancelled_owned())
        .await
        .context("HTTP server")
}

async fn create_order(
    State(state): State<AppState>,
    Json(mut order): Json<Order>,
) -> Result<(StatusCode, Json<Order>), (StatusCode, String)> {
    if order.quantity == 0 {
        return Err((StatusCode::UNPROCESSABLE_ENTITY, "quantity must be positive".into()));
    }
    if !state.prices.read().await.contains_key(&order.sku) {
        return Err((StatusCode::NOT_FOUND, format!("unknown sku {}", order.sku)));
    }
    order.id = NEXT_WEB_ORDER_ID.fetch_add(1, Ordering::Relaxed);
    state.record_order(order.clone());
    // BUG(spawn_in_handler): one detached task per web order, with no timeout
    // and no token: when the loyalty service hangs, these pile up per request.
    let (customer_id, quantity) = (order.customer_id, order.quantity);
    tokio::spawn(async move {
        if let Err(e) = award_points(customer_id, quantity).await {
            warn!(customer_id, error = %e, "loyalty points not awarded");
        }
    });
    Ok((StatusCode::CREATED, Json(order)))
}

async fn award_points(customer_id: u64, quantity: u32) -> anyhow::Result<()> {
    let mut loyalty = TcpStream::connect("loyalty.internal:7100").await?;
    loyalty.write_all(format!("AWARD {customer_id} {}\n", quantity * 10).as_bytes()).await?;
    Ok(())
}

/// Forgets a POS terminal's last-seen time when its connection ends.
struct PosSession {
    peer: SocketAddr,
    opened: Instant,
    state: AppState,
}

impl Drop for PosSession {
    fn drop(&mut self) {
        let (peer, state, open_for) = (self.peer, self.state.clone(), self.opened.elapsed());
        // BUG(spawn_in_drop): `tokio::spawn` panics when a session is dropped
        // while the runtime shuts down, and the task outlives the session.
        tokio::spawn(async move {
            state.last_seen.remove(&peer.to_string());
            debug!(%peer, ?open_for, "POS session closed");
        });
    }
}
