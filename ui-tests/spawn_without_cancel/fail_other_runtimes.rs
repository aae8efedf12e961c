//! Background jobs of a small edge agent that runs on smol, async-std and actix.
//! smol/async-executor `Task`s cancel on drop, so they only leak once `.detach()`ed;
//! async-std and actix `JoinHandle`s detach when dropped.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use async_executor::Executor;
use async_lock::RwLock;
use smol::net::UdpSocket;
use smol::Timer;

pub struct Inventory {
    hosts: RwLock<Vec<SocketAddr>>,
}

impl Inventory {
    async fn probe_all(&self) -> usize {
        let hosts = self.hosts.read().await;
        let mut alive = 0;
        for host in hosts.iter() {
            if smol::net::TcpStream::connect(*host).await.is_ok() {
                alive += 1;
            }
        }
        alive
    }
}

pub fn start_prober(inventory: Arc<Inventory>) {
    // Leak: `.detach()` gives up the Task, so nothing can cancel it; the probe loop
    // never ends and no shutdown signal is moved in.
    smol::spawn(async move { //~ spawn_without_cancel
        loop {
            Timer::after(Duration::from_secs(15)).await;
            let alive = inventory.probe_all().await;
            log::debug!("{alive} hosts answered the probe");
        }
    })
    .detach();
}

pub struct Telemetry {
    socket: UdpSocket,
    collector: SocketAddr,
}

impl Telemetry {
    async fn report(&self, payload: &[u8]) -> std::io::Result<()> {
        self.socket.send_to(payload, self.collector).await.map(|_| ())
    }
}

pub fn start_telemetry(telemetry: Arc<Telemetry>, node: String) {
    // Leak: async-std's JoinHandle detaches the task when dropped (expression
    // statement), and the report loop has no exit.
    async_std::task::spawn(async move { //~ spawn_without_cancel
        let mut seq = 0u64;
        loop {
            async_std::task::sleep(Duration::from_secs(10)).await;
            seq += 1;
            let line = format!("{node} alive seq={seq}");
            if let Err(err) = telemetry.report(line.as_bytes()).await {
                log::warn!("telemetry report failed: {err}");
            }
        }
    });
}

pub struct Pinger {
    peers: Vec<SocketAddr>,
}

impl Pinger {
    async fn ping_round(&self, socket: &UdpSocket) -> std::io::Result<()> {
        for peer in &self.peers {
            socket.send_to(b"ping", peer).await?;
        }
        Ok(())
    }
}

pub fn start_pinger(ex: Arc<Executor<'static>>, pinger: Pinger, socket: UdpSocket) {
    // Leak: spawned on an async-executor `Executor` and `.detach()`ed; the loop only
    // ends when a send fails (`?`), never normally.
    ex.spawn(async move { //~ spawn_without_cancel
        loop {
            pinger.ping_round(&socket).await?;
            Timer::after(Duration::from_secs(1)).await;
        }
        #[allow(unreachable_code)]
        Ok::<(), std::io::Error>(())
    })
    .detach();
}

pub struct SessionTable {
    sessions: std::sync::Mutex<Vec<(u64, std::time::Instant)>>,
}

impl SessionTable {
    fn purge_idle(&self, idle: Duration) -> usize {
        let mut sessions = self.sessions.lock().unwrap();
        let before = sessions.len();
        sessions.retain(|(_, last)| last.elapsed() < idle);
        before - sessions.len()
    }
}

pub fn start_session_purger(table: Arc<SessionTable>) {
    // Leak: actix_rt::spawn returns a tokio JoinHandle, dropped here; the purge loop
    // on the actix system never ends.
    actix_rt::spawn(async move { //~ spawn_without_cancel
        let mut interval = actix_rt::time::interval(Duration::from_secs(30));
        loop {
            interval.tick().await;
            let purged = table.purge_idle(Duration::from_secs(600));
            log::debug!("purged {purged} idle sessions");
        }
    });
}
