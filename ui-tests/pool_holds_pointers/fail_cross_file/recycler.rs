//! The broker's message recycler. The element type, `Message`, is defined in
//! message.rs; its `reset` (also there) leaves `reply_to` set.

use std::sync::Mutex;

use crate::message::Message;

pub struct Recycler {
    spare: Mutex<Vec<Message>>, //~ pool_holds_pointers
    max_spare: usize,
}

impl Recycler {
    pub fn new(max_spare: usize) -> Self {
        Self { spare: Mutex::new(Vec::with_capacity(max_spare)), max_spare }
    }

    pub fn take(&self) -> Message {
        self.spare.lock().unwrap().pop().unwrap_or_default()
    }

    pub fn give_back(&self, mut msg: Message) {
        msg.reset();
        let mut spare = self.spare.lock().unwrap();
        if spare.len() < self.max_spare {
            spare.push(msg);
        }
    }
}
