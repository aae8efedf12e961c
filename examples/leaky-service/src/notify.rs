//! Customer notifications: webhook and SMS delivery, SMS delivery receipts,
//! and the audit log.

use std::path::PathBuf;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Duration;

use anyhow::bail;
use dashmap::DashSet;
use serde::Serialize;
use tokio::io::AsyncWriteExt;
use tokio::net::UdpSocket;
use tokio::sync::{mpsc, watch, Mutex};
use tokio::task::JoinHandle;
use tokio::time::sleep;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use crate::config_watch::Settings;
use crate::metrics::Registry;
use crate::{cache, Order, OrderId};

/// Sized for a Black Friday burst.
const NOTIFY_BACKLOG: usize = 100_000;
const MAX_ATTEMPTS: u32 = 5;
const SMS_SUBMIT_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, Serialize)]
pub struct Notification {
    pub order_id: OrderId,
    pub customer_id: u64,
    pub text: String,
}

impl Notification {
    pub fn order_confirmed(order: &Order) -> Notification {
        let text = format!("Order {} confirmed: {} x {}", order.id, order.quantity, order.sku);
        Notification { order_id: order.id, customer_id: order.customer_id, text }
    }
}

pub fn queue() -> (mpsc::Sender<Notification>, mpsc::Receiver<Notification>) {
    // BUG(oversized_channel_buffer): a 100_000-deep queue hides a stalled
    // dispatcher for hours.
    mpsc::channel(NOTIFY_BACKLOG)
}

pub struct Notifier {
    http: reqwest::Client,
    settings: watch::Receiver<Settings>,
    /// Numbers the SMS gateway reported as dead.
    undeliverable: DashSet<String>,
    /// Ported from the Go service's `smsSlot chan struct{}`: the gateway
    /// allows one in-flight submit per account.
    sms_slot_tx: mpsc::Sender<()>,
    sms_slot_rx: Mutex<mpsc::Receiver<()>>,
    metrics: Arc<Registry>,
}

impl Notifier {
    pub fn new(settings: watch::Receiver<Settings>, metrics: Arc<Registry>) -> Notifier {
        // BUG(channel_as_mutex): capacity-1 channel of `()` used as a lock
        // in `send_sms` (send to acquire, receive to release).
        let (sms_slot_tx, sms_slot_rx) = mpsc::channel::<()>(1);
        Notifier {
            // BUG(http_client_without_timeout): one hung webhook endpoint
            // stalls the dispatcher for good.
            http: reqwest::Client::new(),
            settings,
            undeliverable: DashSet::new(),
            sms_slot_tx,
            sms_slot_rx: Mutex::new(sms_slot_rx),
            metrics,
        }
    }

    pub async fn deliver(&self, n: &Notification) -> anyhow::Result<()> {
        let (webhook, gateway) = {
            let settings = self.settings.borrow();
            (settings.webhook_url.clone(), settings.sms_gateway_url.clone())
        };
        self.post_webhook(&webhook, n).await?;
        match cache::phone_of(n.customer_id) {
            Some(phone) if !self.undeliverable.contains(&phone) => self.send_sms(&gateway, &phone, &n.text).await,
            _ => Ok(()),
        }
    }

    async fn post_webhook(&self, url: &str, n: &Notification) -> anyhow::Result<()> {
        let mut attempt = 0;
        // ok: retry loop; leaves with `break status` or an error return.
        let status = loop {
            match self.http.post(url).json(n).send().await {
                Ok(resp) if resp.status().is_success() => break resp.status(),
                Ok(resp) if attempt + 1 >= MAX_ATTEMPTS => bail!("webhook returned {}", resp.status()),
                Err(e) if attempt + 1 >= MAX_ATTEMPTS => return Err(e.into()),
                Ok(resp) => debug!(status = %resp.status(), attempt, "webhook rejected, retrying"),
                Err(e) => debug!(error = %e, attempt, "webhook failed, retrying"),
            }
            attempt += 1;
            sleep(Duration::from_millis(200) * 2u32.pow(attempt)).await;
        };
        debug!(order = n.order_id, %status, "webhook delivered");
        Ok(())
    }

    async fn send_sms(&self, gateway: &str, phone: &str, text: &str) -> anyhow::Result<()> {
        self.sms_slot_tx.send(()).await?;
        let form = [("to", phone), ("text", text)];
        // BUG(select_sleep_timeout, pedantic): a hand-written timeout;
        // `tokio::time::timeout(SMS_SUBMIT_TIMEOUT, submit)` says the same.
        let result = tokio::select! {
            r = self.http.post(gateway).form(&form).send() => r.and_then(|r| r.error_for_status()).map_err(anyhow::Error::from),
            _ = sleep(SMS_SUBMIT_TIMEOUT) => Err(anyhow::anyhow!("SMS gateway did not answer in {SMS_SUBMIT_TIMEOUT:?}")),
        };
        // BUG(blocking_sleep_in_async): the gateway's rate limit, enforced
        // by blocking a runtime worker thread.
        std::thread::sleep(Duration::from_millis(100));
        self.sms_slot_rx.lock().await.recv().await;
        result?;
        Ok(())
    }
}

/// Delivers queued notifications until shutdown. `main` keeps the handle.
pub fn spawn_dispatcher(
    mut rx: mpsc::Receiver<Notification>,
    notifier: Arc<Notifier>,
    audit_tx: mpsc::UnboundedSender<String>,
    token: CancellationToken,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            tokio::select! {
                // BUG(loop_without_cancel): this branch logs but does not leave
                // the loop; once cancelled it is ready on every iteration, so
                // the loop spins and `main` waits on this handle forever.
                _ = token.cancelled() => {
                    info!("notification dispatcher shutting down");
                }
                Some(n) = rx.recv() => {
                    let outcome = match notifier.deliver(&n).await {
                        Ok(()) => {
                            notifier.metrics.notifications_sent.fetch_add(1, Relaxed);
                            "sent".to_string()
                        }
                        Err(e) => {
                            notifier.metrics.notifications_failed.fetch_add(1, Relaxed);
                            format!("failed: {e}")
                        }
                    };
                    let _ = audit_tx.send(format!("order={} {outcome}", n.order_id));
                }
            }
        }
    })
}

/// Listens for SMS delivery receipts (`DLR <phone> <status>`) until `token`
/// is cancelled.
pub async fn run_receipt_listener(socket: UdpSocket, notifier: Arc<Notifier>, token: CancellationToken) {
    // ok: `receive_receipts` never returns, but this select drops its future
    // as soon as the token is cancelled.
    tokio::select! {
        _ = token.cancelled() => info!("receipt listener stopped"),
        _ = receive_receipts(&socket, &notifier) => {}
    }
}

async fn receive_receipts(socket: &UdpSocket, notifier: &Notifier) {
    let mut buf = [0u8; 512];
    loop {
        match socket.recv(&mut buf).await {
            Ok(len) => {
                let receipt = String::from_utf8_lossy(&buf[..len]);
                if let ["DLR", phone, "UNDELIVERABLE"] = receipt.split_whitespace().collect::<Vec<_>>()[..] {
                    notifier.undeliverable.insert(phone.to_owned());
                }
            }
            Err(e) => warn!(error = %e, "receipt socket error"),
        }
    }
}

/// Appends one line per delivery attempt to the audit log.
pub fn spawn_audit_writer(path: PathBuf) -> mpsc::UnboundedSender<String> {
    // BUG(unbounded_channel, pedantic): if the disk stalls, the queue grows without limit.
    let (audit_tx, mut audit_rx) = mpsc::unbounded_channel::<String>();
    // ok: detached, but `while let` ends when the last sender is dropped.
    tokio::spawn(async move {
        let mut file = match tokio::fs::OpenOptions::new().create(true).append(true).open(&path).await {
            Ok(file) => file,
            Err(e) => {
                warn!(path = %path.display(), error = %e, "audit log unavailable");
                return;
            }
        };
        while let Some(line) = audit_rx.recv().await {
            if let Err(e) = file.write_all(format!("{line}\n").as_bytes()).await {
                warn!(error = %e, "audit write failed");
            }
        }
    });
    audit_tx
}
