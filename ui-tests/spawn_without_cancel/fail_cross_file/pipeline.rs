use std::sync::atomic::{AtomicU64, Ordering};

use sqlx::PgPool;

use crate::stages::{self, Stage};

pub struct Pipeline {
    stages: Vec<Stage>,
    db: PgPool,
    submitted: AtomicU64,
}

impl Pipeline {
    pub fn new(names: Vec<String>, db: PgPool) -> Self {
        let stages = names.into_iter().map(Stage::named).collect();
        Self { stages, db, submitted: AtomicU64::new(0) }
    }

    pub fn note_submitted(&self) {
        self.submitted.fetch_add(1, Ordering::Relaxed);
    }

    /// Level 1 from the spawned task.
    pub async fn drive(&self) {
        tracing::info!(stages = self.stages.len(), "pipeline driver started");
        self.run_stages().await;
    }

    /// Level 2: hands the stages to the pump in stages.rs.
    async fn run_stages(&self) {
        stages::pump(&self.stages, &self.db).await;
    }
}
