//! Statistics for analysts' first queries. Autovacuum analyzes a table once more rows changed
//! than `autovacuum_analyze_threshold + autovacuum_analyze_scale_factor × rows`, but only on
//! its next pass (a minute apart by default, later while it is busy): right after a bulk sync
//! the planner would still see an empty or much smaller table. After its commits the loader
//! applies the same rule itself, in the background (a load never waits for it), to the tables
//! it loads: once its commits pause, and at most once a minute while they keep coming (a
//! growing table passes the rule again and again during a sync, and each ANALYZE of a table
//! of issues with their custom fields takes the database a second or more: measured, a
//! quarter of PostgreSQL's CPU during a 20,000-issue sync when checked every 2 s). Per-table autovacuum settings (reloptions) are not
//! read: the server-wide rule decides.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use sqlx::PgPool;

/// The tables the loader writes analysts query. Only these names are ever analyzed.
const LOADED_TABLES: [&str; 14] = [
    "work_items",
    "work_item_changelogs",
    "work_item_dev_status",
    "projects",
    "projects_statuses",
    "projects_wits",
    "statuses",
    "wits",
    "repositories",
    "pull_requests",
    "pr_commits",
    "pr_reviews",
    "pr_comments",
    "pr_work_item_links",
];

pub struct Analyzer {
    pool: PgPool,
    interval: Duration,
    /// When the last commit happened (ms since `epoch`).
    last_commit_ms: AtomicU64,
    epoch: Instant,
    /// A checking task exists.
    running: AtomicBool,
    /// When the rule was last applied (ms since `epoch`).
    last_check_ms: AtomicU64,
}

/// While commits keep coming, the rule is applied at most this often (autovacuum's own
/// naptime).
const WHILE_LOADING: Duration = Duration::from_secs(60);

/// PostgreSQL's counters of changed rows trail a commit by up to about a second (a backend
/// flushes its statistics at most once a second): the last check waits this long after the
/// last commit.
const STATS_SETTLE: Duration = Duration::from_millis(1500);

impl Analyzer {
    pub fn new(pool: PgPool, interval: Duration) -> Arc<Analyzer> {
        Arc::new(Analyzer {
            pool,
            interval,
            last_commit_ms: AtomicU64::new(0),
            epoch: Instant::now(),
            running: AtomicBool::new(false),
            last_check_ms: AtomicU64::new(0),
        })
    }

    fn now_ms(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }

    /// Called after a commit. One background task checks the rule every interval while
    /// commits come, and once more when they have settled (the end of a sync is never
    /// missed); loads never wait for it.
    pub fn after_commit(self: &Arc<Self>) {
        self.last_commit_ms.store(self.now_ms(), Ordering::Release);
        if self.running.swap(true, Ordering::AcqRel) {
            return;
        }
        // Loading starts now: the first check while it goes on is a minute away.
        let _ = self.last_check_ms.compare_exchange(
            0,
            self.now_ms().max(1),
            Ordering::AcqRel,
            Ordering::Acquire,
        );
        let analyzer = Arc::clone(self);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(analyzer.interval).await;
                let last_commit = analyzer.last_commit_ms.load(Ordering::Acquire);
                let now = analyzer.now_ms();
                let settled = now.saturating_sub(last_commit) >= STATS_SETTLE.as_millis() as u64;
                let last_check = analyzer.last_check_ms.load(Ordering::Acquire);
                let checked_long_ago =
                    now.saturating_sub(last_check) >= WHILE_LOADING.as_millis() as u64;
                if !settled && !checked_long_ago {
                    continue;
                }
                analyzer.last_check_ms.store(now.max(1), Ordering::Release);
                match analyzer.analyze_due().await {
                    Ok(tables) if !tables.is_empty() => {
                        tracing::info!(?tables, "analyzed tables changed beyond autovacuum's rule");
                    }
                    Ok(_) => {}
                    Err(error) => tracing::warn!(%error, "checking table statistics failed"),
                }
                if !settled || analyzer.last_commit_ms.load(Ordering::Acquire) != last_commit {
                    continue;
                }
                analyzer.running.store(false, Ordering::Release);
                // A commit after the check above must not be left unchecked.
                if analyzer.last_commit_ms.load(Ordering::Acquire) == last_commit
                    || analyzer.running.swap(true, Ordering::AcqRel)
                {
                    return;
                }
            }
        });
    }

    /// ANALYZEs each loaded table changed by more than autovacuum's rule since its last
    /// analyze; returns their names.
    pub async fn analyze_due(&self) -> Result<Vec<String>, sqlx::Error> {
        let due: Vec<String> = sqlx::query_scalar(
            "SELECT s.relname::text FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid
             WHERE s.schemaname = current_schema() AND s.relname = ANY($1)
               AND s.n_mod_since_analyze >
                   current_setting('autovacuum_analyze_threshold')::float8
                   + current_setting('autovacuum_analyze_scale_factor')::float8
                     * greatest(c.reltuples, 0)
             ORDER BY s.relname",
        )
        .bind(&LOADED_TABLES[..])
        .fetch_all(&self.pool)
        .await?;
        let mut analyzed = Vec::new();
        for table in due {
            // The name comes from the constant list above (matched by the query), never from input.
            let Some(name) = LOADED_TABLES.iter().find(|t| **t == table) else {
                continue;
            };
            sqlx::query(sqlx::AssertSqlSafe(format!("ANALYZE {name}")))
                .execute(&self.pool)
                .await?;
            analyzed.push(table);
        }
        Ok(analyzed)
    }
}
