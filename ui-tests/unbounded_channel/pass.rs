//! The same kinds of pipelines built on bounded channels (a slow consumer makes the
//! producers wait or shed load), plus `watch`/`oneshot` and test code that uses
//! unbounded channels freely. Nothing here is reported.

use std::thread::{self, JoinHandle};
use std::time::Duration;

use tokio::sync::{broadcast, mpsc, oneshot, watch};
use tokio::task::JoinHandle as TaskHandle;

#[derive(Clone, Debug)]
pub struct Event {
    pub kind: String,
    pub order_id: u64,
}

/// The event bus with back-pressure: publishers wait when the projector is behind.
pub fn start_event_bus() -> (mpsc::Sender<Event>, TaskHandle<usize>) {
    let (tx, mut rx) = mpsc::channel::<Event>(1024);
    let projector = tokio::spawn(async move {
        let mut applied = 0;
        while let Some(event) = rx.recv().await {
            tracing::trace!(kind = %event.kind, order = event.order_id, "applied");
            applied += 1;
        }
        applied
    });
    (tx, projector)
}

/// A log shipper that drops lines instead of buffering them when the collector is slow.
pub struct LogShipper {
    tx: std::sync::mpsc::SyncSender<String>,
    worker: JoinHandle<()>,
}

impl LogShipper {
    pub fn start() -> LogShipper {
        let (tx, rx) = std::sync::mpsc::sync_channel::<String>(4096);
        let worker = thread::spawn(move || {
            for line in rx {
                let _ = line.len();
            }
        });
        LogShipper { tx, worker }
    }

    pub fn log(&self, line: String) -> bool {
        self.tx.try_send(line).is_ok()
    }

    pub fn finish(self) {
        drop(self.tx);
        let _ = self.worker.join();
    }
}

/// Metrics, latency samples and spans, all bounded.
pub fn telemetry_queues() -> (
    crossbeam_channel::Sender<u64>,
    flume::Sender<Duration>,
    async_channel::Sender<String>,
    kanal::Sender<String>,
) {
    let (metrics_tx, _metrics_rx) = crossbeam_channel::bounded(8192);
    let (latency_tx, _latency_rx) = flume::bounded(2048);
    let (span_tx, _span_rx) = async_channel::bounded(512);
    let (invalidate_tx, _invalidate_rx) = kanal::bounded(256);
    (metrics_tx, latency_tx, span_tx, invalidate_tx)
}

/// Fan-out with a bounded ring, a config value and a one-shot answer.
pub fn fan_out() -> (broadcast::Sender<Event>, watch::Sender<u32>, oneshot::Receiver<u64>) {
    let (events, _) = broadcast::channel(128);
    let (config, _config_rx) = watch::channel(0u32);
    let (answer_tx, answer_rx) = oneshot::channel();
    let _ = answer_tx.send(42);
    (events, config, answer_rx)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Test code: an unbounded channel records everything the code under test emits.
    #[tokio::test]
    async fn projector_applies_every_event() {
        let (seen_tx, mut seen_rx) = mpsc::unbounded_channel();
        let (tx, projector) = start_event_bus();
        for order_id in 0..10 {
            let event = Event { kind: "placed".into(), order_id };
            seen_tx.send(event.clone()).unwrap();
            tx.send(event).await.unwrap();
        }
        drop((tx, seen_tx));
        assert_eq!(projector.await.unwrap(), 10);
        let mut count = 0;
        while seen_rx.recv().await.is_some() {
            count += 1;
        }
        assert_eq!(count, 10);
    }

    #[test]
    fn shipper_lines_are_collected() {
        let (tx, rx) = std::sync::mpsc::channel();
        let (cb_tx, cb_rx) = crossbeam_channel::unbounded();
        for i in 0..3 {
            tx.send(format!("line {i}")).unwrap();
            cb_tx.send(i).unwrap();
        }
        drop((tx, cb_tx));
        assert_eq!(rx.iter().count(), 3);
        assert_eq!(cb_rx.iter().sum::<i32>(), 3);
    }
}
