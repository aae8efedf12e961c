use std::time::Duration;

use sqlx::PgPool;

pub struct Stage {
    pub name: String,
}

impl Stage {
    pub fn named(name: String) -> Self {
        Self { name }
    }
}

async fn advance(stage: &Stage, db: &PgPool) -> Result<u64, sqlx::Error> {
    let moved = sqlx::query("UPDATE orders SET stage = stage + 1 WHERE stage = $1")
        .bind(&stage.name)
        .execute(db)
        .await?;
    Ok(moved.rows_affected())
}

/// Level 3: moves orders through every stage every second; nothing ends this loop.
pub async fn pump(stages: &[Stage], db: &PgPool) {
    let mut ticker = tokio::time::interval(Duration::from_secs(1));
    loop {
        ticker.tick().await;
        for stage in stages {
            match advance(stage, db).await {
                Ok(moved) => tracing::trace!(stage = %stage.name, moved, "stage advanced"),
                Err(err) => tracing::warn!(stage = %stage.name, error = %err, "stage failed"),
            }
        }
    }
}
