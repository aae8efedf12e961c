use std::sync::{Arc, RwLock};

use crate::metrics::Registry;
use crate::server::Server;
use crate::Config;

/// Level 1 from main: binds, warms up, then serves.
pub async fn run(cfg: Config, latest: Arc<RwLock<Vec<String>>>, registry: Arc<Registry>) -> anyhow::Result<()> {
    let server = Server::bind(cfg.listen, latest, registry).await?;
    server.warm_up().await;
    server.serve().await?;
    Ok(())
}
