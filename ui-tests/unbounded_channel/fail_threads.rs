//! The thread-based telemetry of a trading gateway: a log shipper, a metrics pipeline,
//! latency samples, a span exporter and cache-invalidation fan-out. All of them hand
//! data to a background thread over an unbounded channel with fire-and-forget
//! messages, so when the network or the collector is slow the backlog grows without
//! limit in the gateway's own memory, and the hot path never feels it.

use std::collections::HashMap;
use std::io::{self, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crossbeam::channel as cb;

/// Ships application log lines to the collector over TCP. A dead collector means
/// reconnect attempts, and every log line written meanwhile waits in the queue.
pub struct LogShipper {
    tx: Sender<String>,
    worker: JoinHandle<()>,
}

impl LogShipper {
    pub fn start(collector: SocketAddr) -> io::Result<LogShipper> {
        let (tx, rx) = std::sync::mpsc::channel::<String>(); //~ unbounded_channel
        let worker = thread::Builder::new().name("log-shipper".into()).spawn(move || {
            let mut conn: Option<TcpStream> = None;
            for line in rx {
                if conn.is_none() {
                    conn = TcpStream::connect_timeout(&collector, Duration::from_secs(2)).ok();
                }
                if let Some(stream) = conn.as_mut() {
                    if writeln!(stream, "{line}").is_err() {
                        conn = None;
                    }
                }
            }
        })?;
        Ok(LogShipper { tx, worker })
    }

    pub fn log(&self, line: String) {
        let _ = self.tx.send(line);
    }

    pub fn finish(self) {
        drop(self.tx);
        let _ = self.worker.join();
    }
}

/// Access-log lines for the audit file, through the bare imported `channel()`.
pub fn start_access_log(mut out: std::fs::File) -> (Sender<Vec<u8>>, JoinHandle<io::Result<()>>) {
    let (tx, rx): (Sender<Vec<u8>>, Receiver<Vec<u8>>) = channel(); //~ unbounded_channel
    let writer = thread::spawn(move || {
        while let Ok(line) = rx.recv() {
            out.write_all(&line)?;
        }
        out.flush()
    });
    (tx, writer)
}

#[derive(Debug)]
pub enum Metric {
    Counter { name: &'static str, delta: u64 },
    Gauge { name: &'static str, value: f64 },
}

/// The metrics pipeline: every request records into this queue, one thread
/// aggregates and flushes. A slow flush stalls the aggregator, not the requests.
pub fn start_metrics_pipeline(flush_every: Duration) -> (crossbeam_channel::Sender<Metric>, JoinHandle<()>) {
    let (tx, rx) = crossbeam_channel::unbounded(); //~ unbounded_channel
    let aggregator = thread::spawn(move || {
        let mut counters: HashMap<&'static str, u64> = HashMap::new();
        let mut last_flush = Instant::now();
        while let Ok(metric) = rx.recv() {
            match metric {
                Metric::Counter { name, delta } => *counters.entry(name).or_default() += delta,
                Metric::Gauge { name, value } => tracing::trace!(name, value, "gauge"),
            }
            if last_flush.elapsed() >= flush_every {
                tracing::info!(series = counters.len(), "flushing metrics");
                counters.clear();
                last_flush = Instant::now();
            }
        }
    });
    (tx, aggregator)
}

/// Order round-trip latencies. `stopwatch` contains "stop" but is not the word `stop`:
/// this is a data channel, not a control channel.
pub fn start_latency_histogram() -> (cb::Sender<Duration>, JoinHandle<Vec<Duration>>) {
    let (stopwatch_tx, stopwatch_rx) = cb::unbounded(); //~ unbounded_channel
    let histogram = thread::spawn(move || {
        let mut samples = Vec::new();
        for sample in stopwatch_rx.iter() {
            samples.push(sample);
        }
        samples.sort();
        samples
    });
    (stopwatch_tx, histogram)
}

pub struct Span {
    pub trace_id: u128,
    pub name: String,
    pub elapsed: Duration,
}

/// The tracing exporter: spans are queued for a batch exporter thread. With sampling
/// at 100% and a slow collector, this is where the memory goes.
pub struct SpanExporter {
    spans: flume::Sender<Span>,
}

impl SpanExporter {
    pub fn start(batch: usize) -> (SpanExporter, JoinHandle<()>) {
        let (spans, rx) = flume::unbounded(); //~ unbounded_channel
        let exporter = thread::spawn(move || {
            let mut pending: Vec<Span> = Vec::with_capacity(batch);
            for span in rx.iter() {
                pending.push(span);
                if pending.len() >= batch {
                    tracing::debug!(spans = pending.len(), "exporting batch");
                    pending.clear();
                }
            }
        });
        (SpanExporter { spans }, exporter)
    }

    pub fn record(&self, span: Span) {
        let _ = self.spans.send(span);
    }
}

/// Cache-invalidation fan-out to the quote cache thread.
pub fn start_invalidation_listener() -> (kanal::Sender<String>, JoinHandle<usize>) {
    let (tx, rx) = kanal::unbounded(); //~ unbounded_channel
    let listener = thread::spawn(move || {
        let mut invalidated = 0;
        while let Ok(key) = rx.recv() {
            tracing::trace!(%key, "invalidating quote");
            invalidated += 1;
        }
        invalidated
    });
    (tx, listener)
}
