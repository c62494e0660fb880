//! The loader's statements against PostgreSQL's COPY ceiling, for the same final rows, each
//! measured alone on the machine (during a sync the loader shares both cores with every
//! other stage, so its rate there says little about the loader itself).
//!
//! The run's issue and changelog pages are transformed in-process (untimed), then written
//! with the loader's own code (`sluice_loader::upsert_rows`: 16 pages per transaction, 4
//! connections, as the service runs) into a scratch integration. The ceiling is COPY of the
//! rows the sync produced (`work_items` and `work_item_changelogs`, both tables at once) into
//! fresh tables with the same indexes.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use futures_util::StreamExt;
use sluice_proto::v1 as pb;
use sqlx::PgPool;
use uuid::Uuid;

pub struct Comparison {
    pub work_items: u64,
    pub changelog_rows: u64,
    pub loader_secs: f64,
    pub copy_secs: f64,
}

impl Comparison {
    pub fn rows(&self) -> u64 {
        self.work_items + self.changelog_rows
    }
}

/// Transactions in flight and pages per transaction, as the loader service defaults.
const CONNECTIONS: usize = 4;
const PAGES_PER_TRANSACTION: usize = 16;

pub async fn compare(
    pool: &PgPool,
    tenant: Uuid,
    integration: Uuid,
    run_id: Uuid,
) -> anyhow::Result<Comparison> {
    let batches = Arc::new(transformed_pages(pool, tenant, run_id).await?);
    let scratch = Uuid::new_v4();
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..CONNECTIONS)
        .map(|_| {
            let (pool, batches, next) = (pool.clone(), Arc::clone(&batches), Arc::clone(&next));
            tokio::spawn(async move {
                let mut written = 0u64;
                loop {
                    let chunk = next.fetch_add(1, Ordering::Relaxed);
                    let Some(pages) = batches.chunks(PAGES_PER_TRANSACTION).nth(chunk) else {
                        return Ok::<_, sqlx::Error>(written);
                    };
                    let mut tx = pool.begin().await?;
                    for batch in pages {
                        let (rows, _) = sluice_loader::upsert_rows(
                            &mut tx,
                            tenant,
                            scratch,
                            batch,
                            sluice_loader::Path::Fast,
                        )
                        .await?;
                        written += rows.total();
                    }
                    tx.commit().await?;
                }
            })
        })
        .collect();
    for worker in workers {
        worker.await??;
    }
    let loader_secs = started.elapsed().as_secs_f64();
    let count = |table: &'static str, id: Uuid| {
        let pool = pool.clone();
        async move {
            sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(format!(
                "SELECT count(*) FROM {table} WHERE tenant_id = $1 AND integration_id = $2"
            )))
            .bind(tenant)
            .bind(id)
            .fetch_one(&pool)
            .await
        }
    };
    let (work_items, changelog_rows) = (
        count("work_items", scratch).await? as u64,
        count("work_item_changelogs", scratch).await? as u64,
    );
    anyhow::ensure!(
        work_items == count("work_items", integration).await? as u64
            && changelog_rows == count("work_item_changelogs", integration).await? as u64,
        "the loader's replay wrote other rows than the sync"
    );
    for table in ["work_item_changelogs", "work_items"] {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DELETE FROM {table} WHERE tenant_id = $1 AND integration_id = $2"
        )))
        .bind(tenant)
        .bind(scratch)
        .execute(pool)
        .await?;
    }
    let (items, changelogs) = tokio::join!(
        copy_table(pool, "work_items", integration),
        copy_table(pool, "work_item_changelogs", integration)
    );
    let copy_secs = items?.max(changelogs?);
    Ok(Comparison {
        work_items,
        changelog_rows,
        loader_secs,
        copy_secs,
    })
}

/// The load messages the transformer made of the run's issue and changelog pages.
async fn transformed_pages(
    pool: &PgPool,
    tenant: Uuid,
    run_id: Uuid,
) -> anyhow::Result<Vec<pb::TransformedBatch>> {
    let ids: Vec<i64> = sqlx::query_scalar(
        "SELECT id FROM raw_extraction_data WHERE run_id = $1 AND extraction_type IN
             ('jira.issues', 'jira.changelog_bulk', 'jira.issue_changelog') ORDER BY id",
    )
    .bind(run_id)
    .fetch_all(pool)
    .await?;
    let run = pb::RunContext {
        tenant_id: tenant.to_string(),
        run_id: run_id.to_string(),
        ..Default::default()
    };
    let mut pages = futures_util::stream::iter(ids)
        .map(|id| {
            let (pool, run) = (pool.clone(), run.clone());
            async move {
                let page = sluice_plumbing::raw::load(&pool, Some(tenant), id).await?;
                let rows = sluice_transformer::page_rows(&pool, &page, None)
                    .await?
                    .map_err(|e| anyhow::anyhow!("raw page {id}: {e}"))?;
                Ok::<_, anyhow::Error>(rows.into_batch(run, id, &page.extraction_type, page.step))
            }
        })
        .buffered(2);
    let mut batches = Vec::new();
    while let Some(batch) = pages.next().await {
        batches.push(batch?);
    }
    Ok(batches)
}

/// Seconds to COPY the integration's rows of `table` into a fresh table with its indexes.
async fn copy_table(pool: &PgPool, table: &str, integration: Uuid) -> anyhow::Result<f64> {
    let mut conn = pool.acquire().await?;
    let copy = format!("bench_copy_{table}");
    sqlx::query(sqlx::AssertSqlSafe(format!("DROP TABLE IF EXISTS {copy}")))
        .execute(&mut *conn)
        .await?;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "CREATE TABLE {copy} (LIKE {table} INCLUDING ALL)"
    )))
    .execute(&mut *conn)
    .await?;
    // COPY takes no parameters: the id is a parsed UUID, safe to inline.
    let mut out = conn
        .copy_out_raw(&format!(
            "COPY (SELECT * FROM {table} WHERE integration_id = '{integration}') TO STDOUT"
        ))
        .await?;
    let mut data = Vec::new();
    while let Some(chunk) = out.next().await {
        data.extend_from_slice(&chunk?);
    }
    drop(out);
    let started = Instant::now();
    let mut copy_in = conn.copy_in_raw(&format!("COPY {copy} FROM STDIN")).await?;
    copy_in.send(data.as_slice()).await?;
    copy_in.finish().await?;
    let seconds = started.elapsed().as_secs_f64();
    sqlx::query(sqlx::AssertSqlSafe(format!("DROP TABLE {copy}")))
        .execute(&mut *conn)
        .await?;
    Ok(seconds)
}
