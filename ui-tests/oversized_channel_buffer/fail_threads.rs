//! A thread-per-stage log indexer (std and crossbeam channels). The stages talk through
//! bounded channels whose capacities were picked as "large powers of two": with tens of
//! thousands of slots the reader threads never block, so when the indexer falls behind
//! the backlog silently fills memory instead of slowing the readers down. crossbeam's
//! and `sync_channel`'s array flavours allocate every slot when the channel is created.

use std::fs::File;
use std::io::{self, BufRead, BufReader};
use std::path::PathBuf;
use std::sync::mpsc::{self, sync_channel as bounded_queue, Receiver, SyncSender};
use std::thread::{self, JoinHandle};

use crossbeam::channel;
use crossbeam_channel::{Receiver as CbReceiver, Sender as CbSender};

/// Lines read ahead of the tokenizer. The miri build shrinks it; the real build uses
/// the default-cfg value, 131_072.
#[cfg(not(miri))]
const READ_AHEAD_LINES: usize = 1 << 17;
#[cfg(miri)]
const READ_AHEAD_LINES: usize = 64;

/// Shard hand-off queue: "just under 16 Ki".
const SHARD_QUEUE: usize = (1 << 14) - 1;

pub struct LogLine {
    pub file: usize,
    pub text: String,
}

pub struct Token {
    pub term: String,
    pub doc: u64,
}

pub struct Posting {
    pub shard: u16,
    pub term: String,
    pub docs: Vec<u64>,
}

/// One reader thread per log file, all feeding the tokenizer through one queue.
pub fn start_readers(paths: Vec<PathBuf>) -> (Vec<JoinHandle<io::Result<()>>>, Receiver<LogLine>) {
    let (tx, rx) = std::sync::mpsc::sync_channel(READ_AHEAD_LINES); //~ oversized_channel_buffer
    let mut readers = Vec::with_capacity(paths.len());
    for (file, path) in paths.into_iter().enumerate() {
        let tx = tx.clone();
        readers.push(thread::spawn(move || {
            let reader = BufReader::new(File::open(&path)?);
            for text in reader.lines() {
                if tx.send(LogLine { file, text: text? }).is_err() {
                    break;
                }
            }
            Ok(())
        }));
    }
    (readers, rx)
}

/// The tokenizer's output; `1 << 16` tokens of look-ahead for the indexer.
pub fn start_tokenizer(lines: Receiver<LogLine>) -> (JoinHandle<()>, Receiver<Token>) {
    let (tx, rx) = mpsc::sync_channel(1 << 16); //~ oversized_channel_buffer
    let tokenizer = thread::spawn(move || {
        for (doc, line) in lines.into_iter().enumerate() {
            for term in line.text.split_whitespace() {
                if tx.send(Token { term: term.to_lowercase(), doc: doc as u64 }).is_err() {
                    return;
                }
            }
        }
    });
    (tokenizer, rx)
}

/// Same constructor through a renamed import: still `std::sync::mpsc::sync_channel`.
pub fn retry_queue() -> (SyncSender<LogLine>, Receiver<LogLine>) {
    bounded_queue(20_000) //~ oversized_channel_buffer
}

/// Hand-off from the indexer to the shard writers (`crossbeam::channel` re-exports
/// `crossbeam_channel`).
pub fn shard_queue() -> (CbSender<Posting>, CbReceiver<Posting>) {
    channel::bounded(SHARD_QUEUE) //~ oversized_channel_buffer
}

/// Compaction requests. "Nobody will ever queue a million compactions"; the array
/// flavour still allocates a million slots.
pub fn start_compactor(shards: u16) -> (CbSender<u16>, JoinHandle<()>) {
    let (tx, rx) = crossbeam_channel::bounded::<u16>(1_000_000); //~ oversized_channel_buffer
    let compactor = thread::spawn(move || {
        for shard in rx {
            if shard < shards {
                tracing::info!(shard, "compacting");
            }
        }
    });
    (tx, compactor)
}
