//! A session gateway binary whose `main` shuts down cleanly: the accept loop races
//! `tokio::signal::ctrl_c()` and breaks, connections live in a JoinSet that is drained,
//! and every other loop main reaches either ends or is owned by a kept handle.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sqlx::PgPool;
use tokio::fs::OpenOptions;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinSet;

struct Config {
    listen: SocketAddr,
    database_url: String,
    audit_path: PathBuf,
}

type Sessions = Arc<Mutex<HashMap<u64, Instant>>>;

/// Retry with backoff; leaves with `break Ok(pool)` / `break Err(err)`.
async fn connect_with_retry(url: &str) -> Result<PgPool, sqlx::Error> {
    let mut delay = Duration::from_millis(200);
    let mut attempts = 0;
    loop {
        match PgPool::connect(url).await {
            Ok(pool) => break Ok(pool),
            Err(err) if attempts < 8 => {
                attempts += 1;
                tracing::warn!(attempts, error = %err, "database unavailable, retrying");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(5));
            }
            Err(err) => break Err(err),
        }
    }
}

async fn migrations_applied(db: &PgPool) -> bool {
    sqlx::query_scalar::<_, bool>("SELECT EXISTS (SELECT 1 FROM schema_version WHERE v >= 42)")
        .fetch_one(db)
        .await
        .unwrap_or(false)
}

/// Waits for the schema; main awaits it, and the loop leaves through the ctrl-c branch
/// (`return false`) or once the migrations are in (`return true`).
async fn wait_for_migrations(db: &PgPool) -> bool {
    let mut ticker = tokio::time::interval(Duration::from_secs(2));
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => return false,
            _ = ticker.tick() => {
                if migrations_applied(db).await {
                    return true;
                }
            }
        }
    }
}

/// Writes audit events until every sender is gone (`while let`).
async fn write_audit_log(mut events: mpsc::Receiver<String>, path: PathBuf) -> std::io::Result<()> {
    let mut file = OpenOptions::new().create(true).append(true).open(&path).await?;
    while let Some(event) = events.recv().await {
        file.write_all(event.as_bytes()).await?;
        file.write_all(b"\n").await?;
    }
    file.flush().await
}

/// Endless, but only ever run in a task whose handle main keeps and aborts: spawning it
/// is not the same as main awaiting it.
async fn sweep_sessions(sessions: Sessions) {
    let mut ticker = tokio::time::interval(Duration::from_secs(60));
    loop {
        ticker.tick().await;
        sessions.lock().unwrap().retain(|_, seen| seen.elapsed() < Duration::from_secs(1800));
    }
}

async fn handle_client(stream: TcpStream, peer: SocketAddr, sessions: Sessions, audit: mpsc::Sender<String>) -> std::io::Result<()> {
    let (rd, mut wr) = stream.into_split();
    let mut lines = BufReader::new(rd).lines();
    while let Some(line) = lines.next_line().await? {
        let Ok(id) = line.trim().parse::<u64>() else {
            wr.write_all(b"ERR\n").await?;
            continue;
        };
        sessions.lock().unwrap().insert(id, Instant::now());
        let _ = audit.send(format!("{peer} touched session {id}")).await;
        wr.write_all(b"OK\n").await?;
    }
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt::init();
    let cfg = Config {
        listen: std::env::var("LISTEN")?.parse()?,
        database_url: std::env::var("DATABASE_URL")?,
        audit_path: PathBuf::from("audit.log"),
    };

    let db = connect_with_retry(&cfg.database_url).await?;
    if !wait_for_migrations(&db).await {
        tracing::info!("interrupted while waiting for migrations");
        return Ok(());
    }

    let sessions: Sessions = Arc::default();
    let (audit_tx, audit_rx) = mpsc::channel(1024);
    let audit = tokio::spawn(write_audit_log(audit_rx, cfg.audit_path.clone()));
    let sweeper = tokio::spawn(sweep_sessions(Arc::clone(&sessions)));

    let listener = TcpListener::bind(cfg.listen).await?;
    let mut conns = JoinSet::new();
    // Not flagged: main's accept loop races ctrl-c, and that branch breaks.
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(pair) => pair,
                    Err(err) => {
                        tracing::warn!(error = %err, "accept failed");
                        continue;
                    }
                };
                conns.spawn(handle_client(stream, peer, Arc::clone(&sessions), audit_tx.clone()));
            }
            Some(finished) = conns.join_next() => {
                if let Ok(Err(err)) = finished {
                    tracing::debug!(error = %err, "client connection failed");
                }
            }
            _ = tokio::signal::ctrl_c() => {
                tracing::info!(open = conns.len(), "ctrl-c received, draining connections");
                break;
            }
        }
    }

    drop(listener);
    sweeper.abort();
    while conns.join_next().await.is_some() {}
    drop(audit_tx);
    audit.await??;
    db.close().await;
    Ok(())
}
