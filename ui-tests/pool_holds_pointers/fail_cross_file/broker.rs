//! Routing: takes messages from the recycler, fans them out as deliveries, and hands
//! both back once the frames are written.

use std::collections::HashMap;
use std::sync::Arc;

use crate::message::{Inbox, Message};
use crate::recycler::Recycler;

pub struct Broker {
    recycler: Recycler,
    subscribers: HashMap<String, Vec<u64>>,
}

impl Broker {
    pub fn new() -> Self {
        Self { recycler: Recycler::new(4096), subscribers: HashMap::new() }
    }

    pub fn subscribe(&mut self, topic: &str, client_id: u64) {
        self.subscribers.entry(topic.to_owned()).or_default().push(client_id);
    }

    pub fn publish(&self, topic: &str, payload: &[u8], reply_to: Option<&Arc<Inbox>>) {
        let mut msg = self.recycler.take();
        msg.topic.push_str(topic);
        msg.payload.extend_from_slice(payload);
        msg.reply_to = reply_to.cloned();
        self.fan_out(&msg);
        self.recycler.give_back(msg);
    }

    fn fan_out(&self, msg: &Message) {
        let Some(clients) = self.subscribers.get(&msg.topic) else { return };
        for &client_id in clients {
            let mut delivery = crate::delivery();
            delivery.client_id = client_id;
            delivery.frame.extend_from_slice(&msg.payload);
            let len = delivery.frame.len();
            crate::written(delivery, len);
        }
    }
}
