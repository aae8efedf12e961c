//! A line-protocol gateway binary. `main` accepts connections in a loop that only ends
//! on an accept error: ctrl-c or SIGTERM kills the process in the middle of requests,
//! and the tracked connections are never drained.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use sqlx::PgPool;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::task::TaskTracker;

struct Config {
    listen: SocketAddr,
    database_url: String,
    flush_every: Duration,
    backends: Vec<SocketAddr>,
}

impl Config {
    fn from_env() -> anyhow::Result<Self> {
        Ok(Self {
            listen: std::env::var("LISTEN").unwrap_or_else(|_| "0.0.0.0:7000".into()).parse()?,
            database_url: std::env::var("DATABASE_URL")?,
            flush_every: Duration::from_secs(10),
            backends: std::env::var("BACKENDS")?
                .split(',')
                .map(str::parse)
                .collect::<Result<_, _>>()?,
        })
    }
}

#[derive(Default)]
struct Registry {
    requests: AtomicU64,
    errors: AtomicU64,
}

impl Registry {
    fn render(&self) -> String {
        format!(
            "requests={} errors={}",
            self.requests.load(Ordering::Relaxed),
            self.errors.load(Ordering::Relaxed)
        )
    }
}

struct State {
    db: PgPool,
    registry: Arc<Registry>,
}

async fn flush_metrics(registry: Arc<Registry>, every: Duration) {
    let mut ticker = tokio::time::interval(every);
    loop {
        ticker.tick().await;
        tracing::info!(target: "metrics", "{}", registry.render());
    }
}

/// Retries the first connection; the loop leaves with `break Ok(pool)` or
/// `break Err(err)` (not flagged: it has a normal exit).
async fn connect_db(url: &str) -> Result<PgPool, sqlx::Error> {
    let mut attempt = 0u32;
    loop {
        match PgPool::connect(url).await {
            Ok(pool) => break Ok(pool),
            Err(err) if attempt < 5 => {
                attempt += 1;
                tracing::warn!(attempt, error = %err, "database not ready, retrying");
                tokio::time::sleep(Duration::from_secs(1 << attempt)).await;
            }
            Err(err) => break Err(err),
        }
    }
}

/// Waits until one backend answers; returns from inside the loop (not flagged).
async fn wait_for_backend(backends: &[SocketAddr]) -> SocketAddr {
    loop {
        for backend in backends {
            if TcpStream::connect(backend).await.is_ok() {
                return *backend;
            }
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

async fn handle_conn(stream: TcpStream, peer: SocketAddr, state: Arc<State>) {
    let (rd, mut wr) = stream.into_split();
    let mut lines = BufReader::new(rd).lines();
    // `while let` ends when the client hangs up (not flagged).
    while let Ok(Some(line)) = lines.next_line().await {
        state.registry.requests.fetch_add(1, Ordering::Relaxed);
        let reply = match sqlx::query_scalar::<_, String>("SELECT value FROM kv WHERE key = $1")
            .bind(line.trim())
            .fetch_optional(&state.db)
            .await
        {
            Ok(Some(value)) => value,
            Ok(None) => String::from("-"),
            Err(err) => {
                state.registry.errors.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(%peer, error = %err, "lookup failed");
                String::from("!")
            }
        };
        if wr.write_all(format!("{reply}\n").as_bytes()).await.is_err() {
            break;
        }
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt::init();
    let cfg = Config::from_env()?;
    let registry = Arc::new(Registry::default());

    // lint 2 reports this one (one finding per bug): a detached task whose loop in
    // `flush_metrics` never ends. lint 1 must stay silent on that loop even though main
    // calls `flush_metrics(..)` to build the future.
    tokio::spawn(flush_metrics(Arc::clone(&registry), cfg.flush_every)); //~ spawn_without_cancel

    let db = connect_db(&cfg.database_url).await?;
    let backend = wait_for_backend(&cfg.backends).await;
    tracing::info!(%backend, "backend reachable");

    let state = Arc::new(State { db, registry });
    let tracker = TaskTracker::new();
    let listener = TcpListener::bind(cfg.listen).await?;
    tracing::info!(addr = %cfg.listen, "listening");

    // Leak (main): the accept loop's only exit is `?` on an accept error; there is no
    // ctrl-c branch, so shutdown never drains `tracker`.
    loop { //~ loop_without_cancel
        let (stream, peer) = listener.accept().await?;
        tracker.spawn(handle_conn(stream, peer, Arc::clone(&state)));
    }
}
