//! PostgreSQL pool and migrations.

use std::time::Duration;

use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;
use tracing::{info, warn};

use crate::config::{CommonConfig, redact_url};

/// The schema of record: `migrations/` at the repository root, embedded at compile time.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations");

/// Connects, retrying with backoff until `config.connect_timeout`, so services can start
/// before the database is up.
pub async fn connect(config: &CommonConfig) -> anyhow::Result<PgPool> {
    let deadline = tokio::time::Instant::now() + config.connect_timeout;
    let mut delay = Duration::from_millis(200);
    loop {
        let attempt = PgPoolOptions::new()
            .max_connections(config.db_max_connections)
            .acquire_timeout(Duration::from_secs(10))
            .connect(&config.database_url)
            .await;
        match attempt {
            Ok(pool) => return Ok(pool),
            Err(error) if tokio::time::Instant::now() + delay < deadline => {
                warn!(%error, retry_in_ms = delay.as_millis() as u64, url = %redact_url(&config.database_url), "postgres not reachable");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(5));
            }
            Err(error) => {
                return Err(anyhow::anyhow!(
                    "cannot connect to PostgreSQL at {}: {error}",
                    redact_url(&config.database_url)
                ));
            }
        }
    }
}

/// Applies pending migrations. sqlx's migrator holds a PostgreSQL advisory lock while it
/// runs, so any number of replicas can start at once and exactly one applies each migration.
pub async fn migrate(pool: &PgPool) -> anyhow::Result<()> {
    MIGRATOR
        .run(pool)
        .await
        .map_err(|e| anyhow::anyhow!("applying migrations: {e}"))?;
    info!(migrations = MIGRATOR.iter().count(), "schema up to date");
    Ok(())
}
