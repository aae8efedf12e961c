//! The async side of an order service: a domain-event bus, an audit trail, push
//! notifications and a Postgres LISTEN relay. Each queue is unbounded, and none of its
//! messages carries a reply the producer waits for, so nothing slows the producers
//! down: when a consumer stalls (a slow projection, a dead push gateway, a slow
//! websocket) the backlog grows until the process runs out of memory.

use std::collections::HashMap;
use std::io;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use futures::channel::mpsc as fmpsc;
use futures::StreamExt;
use tokio::sync::mpsc::{self, unbounded_channel, UnboundedReceiver, UnboundedSender};
use tokio::sync::RwLock;
use tokio::task::JoinHandle;

#[derive(Clone, Debug)]
pub enum DomainEvent {
    OrderPlaced { order_id: u64, total_cents: u64 },
    OrderShipped { order_id: u64, carrier: String },
    OrderCancelled { order_id: u64, reason: String },
}

pub struct Projection {
    open_orders: RwLock<HashMap<u64, u64>>,
}

impl Projection {
    async fn apply(&self, event: DomainEvent) {
        let mut open = self.open_orders.write().await;
        match event {
            DomainEvent::OrderPlaced { order_id, total_cents } => {
                open.insert(order_id, total_cents);
            }
            DomainEvent::OrderShipped { order_id, .. } | DomainEvent::OrderCancelled { order_id, .. } => {
                open.remove(&order_id);
            }
        }
    }
}

/// The in-process event bus: request handlers publish, one projector task applies.
/// A slow `apply` (lock contention, a big rebuild) lets events pile up without limit.
pub struct EventBus {
    tx: UnboundedSender<DomainEvent>,
    projector: JoinHandle<()>,
}

impl EventBus {
    pub fn start(projection: Arc<Projection>) -> Self {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel(); //~ unbounded_channel
        let projector = tokio::spawn(async move {
            while let Some(event) = rx.recv().await {
                projection.apply(event).await;
            }
        });
        EventBus { tx, projector }
    }

    pub fn publish(&self, event: DomainEvent) {
        let _ = self.tx.send(event);
    }

    pub async fn close(self) {
        drop(self.tx);
        let _ = self.projector.await;
    }
}

/// Audit records. The message type is an enum of this file, but none of its variants
/// carries a reply sender: the producer fires and forgets.
#[derive(Debug)]
pub enum AuditEvent {
    Login { user: String, at: SystemTime },
    Refund { order_id: u64, by: String, cents: u64 },
}

pub struct AuditStore {
    table: String,
}

impl AuditStore {
    async fn append(&self, event: &AuditEvent) -> io::Result<()> {
        let _ = (&self.table, event);
        Ok(())
    }
}

pub fn start_audit_trail(store: AuditStore) -> (UnboundedSender<AuditEvent>, JoinHandle<()>) {
    let (tx, mut rx) = mpsc::unbounded_channel::<AuditEvent>(); //~ unbounded_channel
    let writer = tokio::spawn(async move {
        while let Some(event) = rx.recv().await {
            if let Err(err) = store.append(&event).await {
                tracing::error!(error = %err, ?event, "audit append failed");
            }
        }
    });
    (tx, writer)
}

/// A subscription hub. `Subscribe` does carry a sender, but it is a stream of events
/// for the subscriber, not a reply the caller waits on: nothing bounds this queue.
pub enum HubCommand {
    Subscribe { topic: String, sink: UnboundedSender<DomainEvent> },
    Publish { topic: String, event: DomainEvent },
}

pub fn start_hub() -> (UnboundedSender<HubCommand>, JoinHandle<()>) {
    let (tx, mut rx) = unbounded_channel::<HubCommand>(); //~ unbounded_channel
    let hub = tokio::spawn(async move {
        let mut subscribers: HashMap<String, Vec<UnboundedSender<DomainEvent>>> = HashMap::new();
        while let Some(cmd) = rx.recv().await {
            match cmd {
                HubCommand::Subscribe { topic, sink } => subscribers.entry(topic).or_default().push(sink),
                HubCommand::Publish { topic, event } => {
                    if let Some(sinks) = subscribers.get_mut(&topic) {
                        sinks.retain(|sink| sink.send(event.clone()).is_ok());
                    }
                }
            }
        }
    });
    (tx, hub)
}

/// Push notifications for mobile clients.
#[derive(Clone, Debug)]
pub struct Notification {
    pub device_token: String,
    pub title: String,
    pub body: String,
}

pub struct PushGateway {
    endpoint: String,
}

impl PushGateway {
    async fn deliver(&self, n: &Notification) -> io::Result<()> {
        let _ = (&self.endpoint, n);
        tokio::time::sleep(Duration::from_millis(20)).await;
        Ok(())
    }
}

/// Fan-out to a pool of push workers. When the gateway slows down the queue grows with
/// every order event, and nobody sees it until the pod is OOM-killed.
pub fn start_push_workers(
    gateway: Arc<PushGateway>,
    workers: usize,
) -> (async_channel::Sender<Notification>, Vec<JoinHandle<()>>) {
    let (tx, rx) = async_channel::unbounded(); //~ unbounded_channel
    let handles = (0..workers)
        .map(|_| {
            let rx: async_channel::Receiver<Notification> = rx.clone();
            let gateway = Arc::clone(&gateway);
            tokio::spawn(async move {
                while let Ok(n) = rx.recv().await {
                    if let Err(err) = gateway.deliver(&n).await {
                        tracing::warn!(error = %err, device = %n.device_token, "push failed");
                    }
                }
            })
        })
        .collect();
    (tx, handles)
}

/// Websocket sessions get their own queue, annotated with tokio's unbounded types. A
/// client on a slow link makes the server buffer every update for it.
pub struct Session {
    pub user: String,
    outbox: UnboundedSender<Notification>,
}

impl Session {
    pub fn open(user: String) -> (Session, UnboundedReceiver<Notification>) {
        let (outbox, inbox): (UnboundedSender<Notification>, UnboundedReceiver<Notification>) =
            unbounded_channel(); //~ unbounded_channel
        (Session { user, outbox }, inbox)
    }

    pub fn push(&self, n: Notification) -> bool {
        self.outbox.send(n).is_ok()
    }
}

/// Relays Postgres `LISTEN` notifications (the sqlx listener shape): the driver
/// buffers every notification until the application polls for it.
pub struct PgNotification {
    pub channel: String,
    pub payload: String,
}

pub struct PgListener {
    buffer_tx: fmpsc::UnboundedSender<PgNotification>,
    buffer_rx: fmpsc::UnboundedReceiver<PgNotification>,
}

impl PgListener {
    pub fn new() -> Self {
        let (buffer_tx, buffer_rx) = futures::channel::mpsc::unbounded(); //~ unbounded_channel
        PgListener { buffer_tx, buffer_rx }
    }

    pub fn on_notification(&self, channel: &str, payload: &str) {
        let notification = PgNotification { channel: channel.to_owned(), payload: payload.to_owned() };
        let _ = self.buffer_tx.unbounded_send(notification);
    }

    pub async fn recv(&mut self) -> Option<PgNotification> {
        self.buffer_rx.next().await
    }
}
