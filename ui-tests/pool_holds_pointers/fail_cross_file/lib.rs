//! Message broker core. The pooled element types are defined in message.rs; the pools
//! are declared here (a static of outbound deliveries, through the `Delivery` alias) and
//! in recycler.rs (the broker's message recycler). Both pools reset the payload bytes
//! before reuse and forget the pointer fields defined in the other file.

mod broker;
mod message;
mod recycler;

use std::sync::Mutex;

use once_cell::sync::Lazy;

pub use broker::Broker;
pub use message::{Delivery, Inbox, Message};
pub use recycler::Recycler;

/// Encoded frames waiting for a socket write. An idle delivery keeps its `on_written`
/// callback (message.rs), which owns the publisher's ack state.
static DELIVERY_POOL: Lazy<Mutex<Vec<Delivery>>> = Lazy::new(|| Mutex::new(Vec::with_capacity(512))); //~ pool_holds_pointers

pub(crate) fn delivery() -> Delivery {
    DELIVERY_POOL.lock().unwrap().pop().unwrap_or_default()
}

pub(crate) fn written(mut delivery: Delivery, n: usize) {
    delivery.complete(n);
    delivery.frame.clear();
    DELIVERY_POOL.lock().unwrap().push(delivery);
}
