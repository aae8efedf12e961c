use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use crossbeam::queue::SegQueue;

use crate::ingest::{Doc, Index};

/// Re-indexes all shards on scoped threads; the scopes join every worker before
/// returning, so none of these spawns can outlive the call.
pub fn reindex_all(index: &Index, shards: Vec<Vec<Doc>>) -> usize {
    let queue: SegQueue<Doc> = SegQueue::new();
    for doc in shards.into_iter().flatten() {
        queue.push(doc);
    }
    let indexed = AtomicUsize::new(0);
    let workers = std::thread::available_parallelism().map_or(4, |n| n.get());

    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| loop {
                let Some(doc) = queue.pop() else { break };
                index.add(doc);
                indexed.fetch_add(1, Ordering::Relaxed);
            });
        }
    });

    let (tx, rx) = crossbeam::channel::bounded::<usize>(workers);
    let totals = Mutex::new(Vec::new());
    crossbeam::scope(|scope| {
        scope.spawn(|_| {
            while let Ok(n) = rx.recv() {
                totals.lock().unwrap().push(n);
            }
        });
        for _ in 0..workers {
            let tx = tx.clone();
            scope.spawn(move |_| {
                let _ = tx.send(index.len());
            });
        }
        drop(tx);
    })
    .expect("a reindex worker panicked");

    log::debug!("index sizes seen by workers: {:?}", totals.lock().unwrap());
    indexed.into_inner()
}
