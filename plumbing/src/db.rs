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

/// Keeps the planner statistics of some tables current when autovacuum does not: it can be off
/// (it is on some CI servers) and otherwise lags a bulk load by up to a minute, during which
/// plans made without statistics can scan a whole tenant per lookup. `poke` after writing;
/// at most every `interval` it ANALYZEs each listed table whose rows changed by more than
/// 50 + 10 % since its last analysis (autovacuum's default rule), in the background.
pub struct StatisticsKeeper {
    pool: PgPool,
    tables: &'static [&'static str],
    interval: Duration,
    last: std::sync::Mutex<Option<std::time::Instant>>,
    running: std::sync::atomic::AtomicBool,
}

impl StatisticsKeeper {
    pub fn new(
        pool: PgPool,
        tables: &'static [&'static str],
        interval: Duration,
    ) -> std::sync::Arc<Self> {
        std::sync::Arc::new(StatisticsKeeper {
            pool,
            tables,
            interval,
            last: std::sync::Mutex::new(None),
            running: std::sync::atomic::AtomicBool::new(false),
        })
    }

    /// Checks (in the background) unless a check ran within the interval or is running.
    pub fn poke(self: &std::sync::Arc<Self>) {
        use std::sync::atomic::Ordering;
        {
            let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
            if last.is_some_and(|at| at.elapsed() < self.interval) {
                return;
            }
            *last = Some(std::time::Instant::now());
        }
        if self.running.swap(true, Ordering::AcqRel) {
            return;
        }
        let keeper = std::sync::Arc::clone(self);
        tokio::spawn(async move {
            if let Err(error) = keeper.analyze_stale().await {
                warn!(%error, "gathering table statistics failed");
            }
            keeper.running.store(false, Ordering::Release);
        });
    }

    /// ANALYZEs the listed tables that changed enough; returns their names.
    pub async fn analyze_stale(&self) -> Result<Vec<&'static str>, sqlx::Error> {
        let stale: Vec<String> = sqlx::query_scalar(
            "SELECT relname::text FROM pg_stat_user_tables
             WHERE schemaname = current_schema() AND relname = ANY($1)
               AND n_mod_since_analyze > 50 + 0.1 * greatest(n_live_tup, 0)",
        )
        .bind(self.tables)
        .fetch_all(&self.pool)
        .await?;
        let mut analyzed = Vec::new();
        for table in self.tables.iter().filter(|t| stale.iter().any(|s| s == *t)) {
            // Names from the caller's static list, never from input.
            sqlx::query(sqlx::AssertSqlSafe(format!("ANALYZE {table}")))
                .execute(&self.pool)
                .await?;
            analyzed.push(*table);
        }
        if !analyzed.is_empty() {
            info!(tables = ?analyzed, "table statistics gathered");
        }
        Ok(analyzed)
    }
}
