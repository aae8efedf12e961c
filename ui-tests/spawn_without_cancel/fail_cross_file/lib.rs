//! Order-ingest service: wires the background workers. The loops live in other files
//! (worker.rs, pipeline.rs -> stages.rs); the spawns here detach them.

mod pipeline;
mod stages;
mod worker;

use std::path::PathBuf;
use std::sync::Arc;

use tokio::sync::mpsc;

pub use worker::Job;

pub struct Config {
    pub database_url: String,
    pub spool_dir: PathBuf,
    pub stage_names: Vec<String>,
}

pub struct Service {
    jobs: mpsc::Sender<Job>,
    pipeline: Arc<pipeline::Pipeline>,
}

impl Service {
    pub async fn start(cfg: Config) -> Result<Self, sqlx::Error> {
        let db = sqlx::PgPool::connect(&cfg.database_url).await?;
        let (jobs, job_rx) = mpsc::channel(1024);

        // Leak: `worker::run` (worker.rs) loops forever, and spins once the job channel
        // closes; the handle is dropped and no shutdown signal is passed in.
        tokio::spawn(worker::run(job_rx, db.clone())); //~ spawn_without_cancel

        let pipeline = Arc::new(pipeline::Pipeline::new(cfg.stage_names, db));
        let driver = Arc::clone(&pipeline);
        // Leak three calls deep: Pipeline::drive -> run_stages (pipeline.rs) ->
        // stages::pump (stages.rs), whose loop never ends.
        tokio::spawn(async move { driver.drive().await }); //~ spawn_without_cancel

        let spool_dir = cfg.spool_dir.clone();
        // Leak: a detached Builder thread whose loop is `worker::reap_spool` (worker.rs).
        std::thread::Builder::new()
            .name("spool-reaper".into())
            .spawn(move || worker::reap_spool(&spool_dir)) //~ spawn_without_cancel
            .expect("failed to spawn spool reaper");

        Ok(Self { jobs, pipeline })
    }

    pub async fn submit(&self, job: Job) -> bool {
        self.pipeline.note_submitted();
        self.jobs.send(job).await.is_ok()
    }
}
