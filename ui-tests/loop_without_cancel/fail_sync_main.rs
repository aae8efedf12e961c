//! A small key-value server built on std only: a sync `main`, a compactor thread, a
//! busy-polling replication thread. main keeps both thread handles and joins them, but
//! their loops never end, so the joins (and the server) can only be stopped by killing
//! the process.

use std::collections::HashMap;
use std::io::{self, BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::thread;
use std::time::Duration;

use crossbeam::queue::ArrayQueue;

struct Config {
    listen: SocketAddr,
    data_dir: PathBuf,
    compact_every: Duration,
}

impl Config {
    fn load() -> io::Result<Self> {
        let listen = std::env::var("KV_LISTEN").unwrap_or_else(|_| "127.0.0.1:6380".into());
        Ok(Self {
            listen: listen.parse().map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?,
            data_dir: std::env::var("KV_DATA").map(PathBuf::from).unwrap_or_else(|_| "data".into()),
            compact_every: Duration::from_secs(300),
        })
    }
}

struct Store {
    dir: PathBuf,
    map: RwLock<HashMap<String, String>>,
    version: AtomicU64,
}

impl Store {
    fn open(dir: &PathBuf) -> io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        Ok(Self { dir: dir.clone(), map: RwLock::new(HashMap::new()), version: AtomicU64::new(0) })
    }

    fn compact(&self) -> io::Result<()> {
        let map = self.map.read().unwrap();
        let mut out = std::fs::File::create(self.dir.join("snapshot.tmp"))?;
        for (k, v) in map.iter() {
            writeln!(out, "{k}\t{v}")?;
        }
        std::fs::rename(self.dir.join("snapshot.tmp"), self.dir.join("snapshot"))
    }

    fn apply(&self, key: String, value: String) {
        self.map.write().unwrap().insert(key, value);
        self.version.fetch_add(1, Ordering::Release);
    }
}

fn compact_forever(store: &Store, every: Duration) {
    // Leak (kept OS thread, reached through a call): no exit, and `thread::sleep`
    // blocks; main's `compactor.join()` can never return.
    loop { //~ loop_without_cancel
        thread::sleep(every);
        if let Err(err) = store.compact() {
            eprintln!("compaction failed: {err}");
        }
    }
}

struct Mutation {
    key: String,
    value: String,
}

fn handle_client(stream: TcpStream, store: &Store) -> io::Result<()> {
    let mut out = stream.try_clone()?;
    for line in BufReader::new(stream).lines() {
        let line = line?;
        let mut parts = line.splitn(3, ' ');
        match (parts.next(), parts.next(), parts.next()) {
            (Some("GET"), Some(key), None) => {
                let value = store.map.read().unwrap().get(key).cloned().unwrap_or_default();
                writeln!(out, "{value}")?;
            }
            (Some("SET"), Some(key), Some(value)) => {
                store.apply(key.to_owned(), value.to_owned());
                writeln!(out, "OK")?;
            }
            _ => writeln!(out, "ERR")?,
        }
    }
    Ok(())
}

fn accept_clients(listener: &TcpListener, store: &Store) -> io::Result<()> {
    // Leak (main, two calls deep: main -> serve -> accept_clients): the accept loop
    // only ends on an accept error (`?`); nothing stops it on shutdown.
    loop { //~ loop_without_cancel
        let (stream, peer) = listener.accept()?;
        if let Err(err) = handle_client(stream, store) {
            eprintln!("client {peer} failed: {err}");
        }
    }
}

fn serve(listener: TcpListener, store: &Store) -> io::Result<()> {
    eprintln!("serving on {}", listener.local_addr()?);
    accept_clients(&listener, store)
}

fn replay_journal(store: &Store) -> io::Result<usize> {
    let file = match std::fs::File::open(store.dir.join("journal")) {
        Ok(file) => file,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(0),
        Err(err) => return Err(err),
    };
    let mut lines = BufReader::new(file).lines();
    let mut replayed = 0;
    // Ends at the end of the journal (`while let`): not flagged.
    while let Some(line) = lines.next() {
        let line = line?;
        if let Some((k, v)) = line.split_once('\t') {
            store.apply(k.to_owned(), v.to_owned());
            replayed += 1;
        }
    }
    Ok(replayed)
}

fn forward_mutation(m: Mutation, peer: &SocketAddr) {
    if let Ok(mut stream) = TcpStream::connect_timeout(peer, Duration::from_millis(200)) {
        let _ = writeln!(stream, "SET {} {}", m.key, m.value);
    }
}

fn main() -> io::Result<()> {
    let cfg = Config::load()?;
    let store = Arc::new(Store::open(&cfg.data_dir)?);
    let replayed = replay_journal(&store)?;
    eprintln!("replayed {replayed} journal entries");

    let compact_store = Arc::clone(&store);
    let every = cfg.compact_every;
    let compactor = thread::Builder::new()
        .name("compactor".into())
        .spawn(move || compact_forever(&compact_store, every))
        .expect("failed to spawn compactor thread");

    let outbox: Arc<ArrayQueue<Mutation>> = Arc::new(ArrayQueue::new(4096));
    let replica_outbox = Arc::clone(&outbox);
    let replica: SocketAddr = "10.0.0.2:6380".parse().expect("static address");
    let replicator = thread::spawn(move || {
        // Leak (kept OS thread): a busy-poll loop with no exit at all (no break,
        // return, `?` or panic); its body only calls non-blocking fns, which still
        // makes it endless in a thread.
        loop { //~ loop_without_cancel
            match replica_outbox.pop() {
                Some(m) => forward_mutation(m, &replica),
                None => std::hint::spin_loop(),
            }
        }
    });

    let listener = TcpListener::bind(cfg.listen)?;
    serve(listener, &store)?;

    compactor.join().expect("compactor panicked");
    replicator.join().expect("replicator panicked");
    Ok(())
}
