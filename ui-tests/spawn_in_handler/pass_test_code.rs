//! Handlers and router setups that exist only in tests: a fake upstream and a test
//! server spawned and never joined. Lints are off in test code, so no detached spawn
//! in a test handler or a `#[tokio::test]` fn is reported.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};

/// Production code: forwards a payment notification to the ledger.
pub async fn notify_ledger(ledger: SocketAddr, event: &PaymentEvent) -> Result<(), LedgerError> {
    let url = format!("http://{ledger}/events");
    LEDGER_CLIENT.post(url).json(event).send().await?.error_for_status()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::sync::Mutex;

    #[derive(Clone, Default)]
    struct Recorded(Arc<Mutex<Vec<PaymentEvent>>>);

    /// A fake ledger handler: records the event from a detached task so the response
    /// goes out first, like the real ledger does.
    async fn fake_ledger(State(seen): State<Recorded>, Json(ev): Json<PaymentEvent>) -> StatusCode {
        tokio::spawn(async move {
            seen.0.lock().await.push(ev);
        });
        StatusCode::ACCEPTED
    }

    async fn start_fake_ledger() -> (SocketAddr, Recorded) {
        let seen = Recorded::default();
        let app = Router::new().route("/events", post(fake_ledger)).with_state(seen.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (addr, seen)
    }

    #[tokio::test]
    async fn forwards_payment_events() {
        let (addr, seen) = start_fake_ledger().await;
        notify_ledger(addr, &PaymentEvent::paid(42)).await.unwrap();
        tokio::task::yield_now().await;
        assert_eq!(seen.0.lock().await.len(), 1);
    }
}

/// A test-only handler outside the `tests` module, behind `#[cfg(test)]`.
#[cfg(test)]
pub async fn flaky_ledger(Json(ev): Json<PaymentEvent>) -> Result<StatusCode, StatusCode> {
    let _ = tokio::spawn(async move {
        tracing::debug!(id = ev.id, "flaky ledger dropped an event");
    });
    Err(StatusCode::SERVICE_UNAVAILABLE)
}

#[tokio::test]
async fn ledger_errors_are_reported() {
    let app = Router::new().route("/events", post(flaky_ledger));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    assert!(notify_ledger(addr, &PaymentEvent::paid(7)).await.is_err());
}
