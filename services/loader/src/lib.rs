//! Loader: consumes TransformedBatches from `etl.load` and upserts them in bulk. The batch's
//! raw page is marked processed in the same transaction, so a redelivered batch is harmless
//! and the orchestrator can tell, from the database alone, when a run is fully loaded.

mod analyze;
mod upsert;
mod upsert_github;
mod upsert_issues;

use std::time::Duration;

use prost::Message as _;
use sluice_plumbing::CommonConfig;
use sluice_plumbing::amqp::{Batching, Message, Outcome, Publisher, spawn_batch_consumers};
use sluice_plumbing::progress::{ProgressBatcher, ProgressReporter};
use sluice_proto::v1 as pb;
use sqlx::PgPool;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;
use uuid::Uuid;

#[derive(Clone, Debug)]
pub struct LoaderConfig {
    pub common: CommonConfig,
    /// Pages loaded per transaction (`SLUICE_LOAD_BATCH_PAGES`, default 16) and how long to
    /// wait for a batch to fill (`SLUICE_LOAD_BATCH_LINGER_MS`, default 20).
    pub load_batching: Batching,
    /// Transactions in flight at once (`SLUICE_LOADER_CONSUMERS`, default 4): a load spends
    /// most of its time waiting on PostgreSQL, so more than the other workers' 2 keep the
    /// database busy (2 → 4 took the 100k-issue benchmark from 1,449 to 1,813 issues/s).
    pub consumers: usize,
    /// Send loaded work items to the vectorizer (`SLUICE_VECTORIZE`, default on).
    pub vectorize: bool,
}

impl LoaderConfig {
    pub fn from_env() -> anyhow::Result<Self> {
        use sluice_plumbing::config::env_parse;
        Ok(LoaderConfig {
            common: CommonConfig::from_env()?,
            load_batching: Batching {
                max_messages: env_parse("SLUICE_LOAD_BATCH_PAGES", 16, |v| *v > 0)?,
                linger: Duration::from_millis(env_parse(
                    "SLUICE_LOAD_BATCH_LINGER_MS",
                    20,
                    |_| true,
                )?),
            },
            consumers: env_parse("SLUICE_LOADER_CONSUMERS", 4, |v| *v > 0)?,
            vectorize: sluice_plumbing::config::env_flag("SLUICE_VECTORIZE", true)?,
        })
    }
}

impl Default for LoaderConfig {
    fn default() -> Self {
        LoaderConfig {
            common: CommonConfig::default(),
            load_batching: Batching {
                max_messages: 16,
                linger: Duration::from_millis(20),
            },
            consumers: 4,
            vectorize: true,
        }
    }
}

#[derive(Clone)]
struct Loader {
    pool: PgPool,
    analyzer: std::sync::Arc<analyze::Analyzer>,
    counters: ProgressBatcher,
    vectorize: bool,
}

/// How often the loader checks whether a loaded table needs fresh statistics.
const ANALYZE_INTERVAL: Duration = Duration::from_secs(2);

pub async fn run(
    config: LoaderConfig,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let pool = sluice_plumbing::db::connect(&config.common).await?;
    sluice_plumbing::db::migrate(&pool).await?;
    let reporter = ProgressReporter::new(&config.common)?;
    let state = Loader {
        analyzer: analyze::Analyzer::new(pool.clone(), ANALYZE_INTERVAL),
        pool,
        // Loader reports also end runs (see the orchestrator's runs::report): kept frequent.
        counters: ProgressBatcher::start(reporter, Duration::from_millis(200), shutdown.clone()),
        vectorize: config.vectorize,
    };
    let topology = config.common.topology();
    let consumer_config = sluice_plumbing::CommonConfig {
        consumers: config.consumers,
        ..config.common.clone()
    };
    let consumers = spawn_batch_consumers(
        &consumer_config,
        topology.load(),
        config.load_batching,
        move |messages, publisher| {
            let state = state.clone();
            async move { state.handle_many(messages, publisher).await }
        },
        &shutdown,
    );
    tracing::info!(addr = %listener.local_addr()?, "loader listening");
    sluice_plumbing::grpc::serve(
        listener,
        tonic::service::Routes::default(),
        &[],
        shutdown.clone().cancelled_owned(),
    )
    .await?;
    for consumer in consumers {
        let _ = consumer.await;
    }
    Ok(())
}

impl Loader {
    /// Loads up to a batch of messages in one transaction (one commit for many pages). If that
    /// transaction fails, each message is loaded on its own so one bad batch cannot hold back
    /// the others, and gets its own outcome.
    async fn handle_many(&self, messages: Vec<Message>, publisher: Publisher) -> Vec<Outcome> {
        let mut outcomes: Vec<Option<Outcome>> = Vec::with_capacity(messages.len());
        let mut decoded: Vec<(usize, Decoded)> = Vec::new();
        for (index, message) in messages.iter().enumerate() {
            match decode(message) {
                Ok(batch) => {
                    decoded.push((index, batch));
                    outcomes.push(None);
                }
                Err(outcome) => outcomes.push(Some(outcome)),
            }
        }
        match self.commit_all(&decoded).await {
            Ok(loaded) => {
                for ((index, batch), loaded) in decoded.iter().zip(loaded) {
                    if let Some(records) = loaded {
                        self.count(batch, records);
                    }
                    outcomes[*index] = Some(Outcome::Ack);
                }
            }
            Err(error) => {
                tracing::warn!(%error, pages = decoded.len(), "batch transaction failed; loading its pages one by one");
                for (index, batch) in &decoded {
                    outcomes[*index] = Some(self.load_one(batch).await);
                }
            }
        }
        // Loaded work items and pull requests go to the vectorizer, which embeds those whose
        // content changed.
        // A page whose request cannot be sent is retried (its load is an idempotent no-op).
        if self.vectorize {
            for (index, batch) in &decoded {
                if !matches!(outcomes[*index], Some(Outcome::Ack)) {
                    continue;
                }
                if let Err(error) = self.send_to_vectorizer(batch, &publisher).await {
                    outcomes[*index] = Some(Outcome::Retry {
                        error: format!("queueing vectorization: {error}"),
                    });
                }
            }
        }
        outcomes
            .into_iter()
            .map(|o| {
                o.unwrap_or(Outcome::Retry {
                    error: "not loaded".into(),
                })
            })
            .collect()
    }

    async fn send_to_vectorizer(
        &self,
        batch: &Decoded,
        publisher: &Publisher,
    ) -> Result<(), sluice_plumbing::amqp::AmqpError> {
        // Cloned, not taken: a retried message sends them again.
        let deleted: Vec<String> = batch
            .deleted
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let batch = &batch.batch;
        if batch.work_items.is_empty() && batch.pull_requests.is_empty() && deleted.is_empty() {
            return Ok(());
        }
        let Some(run) = batch.run.clone() else {
            return Ok(());
        };
        let entities: Vec<pb::EntityRef> = batch
            .work_items
            .iter()
            .map(|w| pb::EntityRef {
                entity_type: "work_item".into(),
                entity_id: format!("{}/{}", run.integration_id, w.external_id),
            })
            .chain(batch.pull_requests.iter().map(|p| pb::EntityRef {
                entity_type: "pull_request".into(),
                entity_id: format!("{}/{}/{}", run.integration_id, p.repository_id, p.number),
            }))
            .collect();
        let queued = entities.len() as i64;
        publisher
            .publish(
                &publisher.topology().vectorization(),
                &pb::VectorizeRequest {
                    deleted: deleted
                        .iter()
                        .map(|id| pb::EntityRef {
                            entity_type: "work_item".into(),
                            entity_id: format!("{}/{id}", run.integration_id),
                        })
                        .collect(),
                    run: Some(run.clone()),
                    entities,
                },
            )
            .await?;
        self.counters.add(pb::ReportProgressRequest {
            run: Some(run),
            stage: pb::Stage::Load as i32,
            vectors_queued: queued,
            ..Default::default()
        });
        Ok(())
    }

    async fn commit_all(
        &self,
        batches: &[(usize, Decoded)],
    ) -> Result<Vec<Option<u64>>, sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        let mut applied = Vec::with_capacity(batches.len());
        for (_, batch) in batches {
            let span = batch.span();
            applied.push(apply(&mut tx, batch, Path::Fast).instrument(span).await?);
        }
        tx.commit().await?;
        self.analyzer.after_commit();
        Ok(applied.into_iter().map(Applied::committed).collect())
    }

    async fn load_one(&self, batch: &Decoded) -> Outcome {
        let result = async {
            let mut tx = self.pool.begin().await?;
            // The safe path: a page that failed in a batch may have met rows the fast path
            // assumed absent (a unique violation), so nothing is assumed here.
            let applied = apply(&mut tx, batch, Path::Safe).await?;
            tx.commit().await?;
            self.analyzer.after_commit();
            Ok::<_, sqlx::Error>(applied.committed())
        }
        .instrument(batch.span())
        .await;
        match result {
            Ok(loaded) => {
                if let Some(records) = loaded {
                    self.count(batch, records);
                }
                Outcome::Ack
            }
            Err(sqlx::Error::Database(error)) if error.is_foreign_key_violation() => {
                // The integration (or run) was deleted meanwhile: nothing to load into.
                tracing::info!(%error, "batch dropped: its integration or run no longer exists");
                Outcome::Ack
            }
            Err(sqlx::Error::Database(error)) if is_permanent(error.code().as_deref()) => {
                // Retrying cannot help (the data or the schema refuses it): the page is marked
                // failed with the database's reason, which fails its run at once, and the
                // message goes to the dead letters, requeueable once the cause is fixed.
                let reason = format!(
                    "raw page {} ({}): the database refused it: {}",
                    batch.batch.raw_id,
                    batch.batch.extraction_type,
                    error.message()
                );
                if let Err(mark_error) = self.mark_failed(batch, &reason).await {
                    return Outcome::Retry {
                        error: format!("{reason}; and marking the page failed: {mark_error}"),
                    };
                }
                Outcome::DeadLetter {
                    reason: "load refused by the database".into(),
                    error: reason,
                }
            }
            Err(error) => Outcome::Retry {
                error: error.to_string(),
            },
        }
    }

    /// Records on the batch's pages why they cannot load: the orchestrator fails the run
    /// from it (even if the dead letter's own report were lost).
    async fn mark_failed(&self, batch: &Decoded, reason: &str) -> Result<(), sqlx::Error> {
        let pages: Vec<i64> = std::iter::once(batch.batch.raw_id)
            .chain(batch.batch.grouped_raw_ids.iter().copied())
            .collect();
        sqlx::query(
            "WITH page AS (UPDATE raw_extraction_data SET error_message = $3
                           WHERE id = ANY($1) AND tenant_id = $4)
             UPDATE run_batches SET error_message = $3
             WHERE raw_id = ANY($1) AND run_id = $2 AND loaded_at IS NULL",
        )
        .bind(&pages)
        .bind(batch.run_id)
        .bind(reason)
        .bind(batch.tenant)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Counters only, coalesced: completion is decided from run_batches, not this report.
    fn count(&self, batch: &Decoded, records: u64) {
        self.counters.add(pb::ReportProgressRequest {
            run: batch.batch.run.clone(),
            stage: pb::Stage::Load as i32,
            // The run's step is the connector's to move; a page of a later step loaded early
            // (dev status during the issue fetch) must not move it.
            step: 0,
            records: records as i64,
            work_items: batch.batch.work_items.len() as i64,
            batches: 1,
            raw_id: batch.batch.raw_id,
            ..Default::default()
        });
    }
}

/// Whether a database error (by SQLSTATE) will happen again however often the batch is
/// retried: data exceptions (22: text PostgreSQL cannot store, a value out of range),
/// integrity violations (23), a refused statement or missing object (42), a program limit
/// (54) and errors a trigger or function raised on purpose (P0). Connection, resource,
/// serialization and operator errors (08, 40, 53, 57, 58) may pass: they are retried.
fn is_permanent(code: Option<&str>) -> bool {
    code.is_some_and(|code| {
        ["22", "23", "42", "54", "P0"]
            .iter()
            .any(|class| code.starts_with(class))
    })
}

/// A batch with its ids parsed.
struct Decoded {
    batch: pb::TransformedBatch,
    tenant: Uuid,
    integration: Uuid,
    run_id: Uuid,
    /// Work items this batch's key listing marked deleted (for the vectorizer, once committed).
    deleted: std::sync::Mutex<Vec<String>>,
}

impl Decoded {
    fn span(&self) -> tracing::Span {
        let span = tracing::info_span!("load.batch", raw_id = self.batch.raw_id, extraction_type = %self.batch.extraction_type, run_id = %self.run_id);
        sluice_plumbing::telemetry::set_parent_from_payload(
            &span,
            self.batch.run.as_ref().and_then(|r| r.trace.as_ref()),
        );
        span
    }
}

fn decode(message: &Message) -> Result<Decoded, Outcome> {
    let batch = pb::TransformedBatch::decode(message.data.as_slice()).map_err(|error| {
        Outcome::DeadLetter {
            reason: "malformed TransformedBatch".into(),
            error: error.to_string(),
        }
    })?;
    let Some(run) = batch.run.as_ref() else {
        return Err(Outcome::DeadLetter {
            reason: "TransformedBatch without run context".into(),
            error: "field `run` is missing".into(),
        });
    };
    let (Ok(tenant), Ok(integration), Ok(run_id)) = (
        Uuid::parse_str(&run.tenant_id),
        Uuid::parse_str(&run.integration_id),
        Uuid::parse_str(&run.run_id),
    ) else {
        return Err(Outcome::DeadLetter {
            reason: "TransformedBatch with invalid ids".into(),
            error: format!(
                "run context {:?}/{:?}/{:?} is not UUIDs",
                run.tenant_id, run.integration_id, run.run_id
            ),
        });
    };
    Ok(Decoded {
        batch,
        tenant,
        integration,
        run_id,
        deleted: Default::default(),
    })
}

/// How changelog rows of issues inserted by the same statement are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Path {
    /// Plainly: such an issue has no stored history (see upsert_issues::changelogs).
    Fast,
    /// With ON CONFLICT DO NOTHING, like every other row.
    Safe,
}

/// What one batch wrote, in a transaction not yet committed.
struct Applied {
    /// The rows the batch carried, counted for its run; `None` when the run was cancelled
    /// (the batch is dropped) or the page was already loaded.
    records: Option<u64>,
    tables: TableRows,
}

impl Applied {
    /// Called once the transaction committed: the rows written go to `/metrics`.
    fn committed(self) -> Option<u64> {
        let metrics = sluice_plumbing::metrics::get();
        for (table, rows) in &self.tables.0 {
            metrics.rows_upserted.add(&[table], *rows);
        }
        self.records
    }
}

/// Rows inserted or updated, per table.
#[derive(Debug, Default)]
pub struct TableRows(pub Vec<(&'static str, u64)>);

impl TableRows {
    fn add(&mut self, table: &'static str, rows: u64) {
        if rows > 0 {
            self.0.push((table, rows));
        }
    }

    pub fn total(&self) -> u64 {
        self.0.iter().map(|(_, rows)| rows).sum()
    }
}

/// Upserts one batch and marks its page loaded for its run, in the caller's transaction.
async fn apply(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    decoded: &Decoded,
    path: Path,
) -> Result<Applied, sqlx::Error> {
    let Decoded {
        batch,
        tenant,
        integration,
        run_id,
        ..
    } = decoded;
    let (tenant, integration, run_id) = (*tenant, *integration, *run_id);
    // The bulk tables have no per-row foreign keys: this share lock on the integration row,
    // once per page, is what keeps a concurrent DeleteIntegration from leaving rows behind
    // (it waits for this transaction; a later one finds no integration and drops the page).
    let status: Option<String> = sqlx::query_scalar(
        "SELECT r.status FROM job_runs r JOIN integrations i ON i.id = r.integration_id
         WHERE r.id = $1 AND r.tenant_id = $2 AND i.id = $3 FOR KEY SHARE OF i",
    )
    .bind(run_id)
    .bind(tenant)
    .bind(integration)
    .fetch_optional(&mut **tx)
    .await?;
    if status.as_deref().is_none_or(|s| s == "CANCELLED") {
        return Ok(Applied {
            records: None,
            tables: TableRows::default(),
        });
    }
    let (tables, max_updated) = upsert_rows(tx, tenant, integration, batch, path).await?;
    if let Some(listing) = &batch.key_listing {
        let marked = upsert_issues::key_listing(tx, tenant, integration, listing).await?;
        if !marked.is_empty() {
            tracing::info!(marked = marked.len(), project = %listing.project_key, "issues no longer in Jira marked deleted");
        }
        *decoded.deleted.lock().unwrap_or_else(|e| e.into_inner()) = marked;
    }
    // The page (with the pages grouped with it) is loaded for this run (Reprocess loads
    // earlier runs' pages again).
    let pages: Vec<i64> = std::iter::once(batch.raw_id)
        .chain(batch.grouped_raw_ids.iter().copied())
        .collect();
    let first_time = sqlx::query(
        "WITH page AS (UPDATE raw_extraction_data SET processed_at = COALESCE(processed_at, now()),
                           error_message = NULL
                       WHERE id = ANY($1) AND tenant_id = $2
                         AND (processed_at IS NULL OR error_message IS NOT NULL))
         UPDATE run_batches SET loaded_at = now(), error_message = NULL,
             -- a cursor the connector vouched for (a listing) is kept
             max_updated = COALESCE(max_updated, to_timestamp($4 / 1000.0)),
             loaded_by = $5, transformed_by = NULLIF($6, '')
         WHERE run_id = $3 AND raw_id = ANY($1) AND loaded_at IS NULL",
    )
    .bind(&pages)
    .bind(tenant)
    .bind(run_id)
    // The run's cursor candidate, committed with the rows it covers; no shared row is
    // locked here, so loaders never wait for each other or for progress reports.
    .bind(max_updated)
    .bind(sluice_plumbing::instance_id())
    .bind(&batch.transformed_by)
    .execute(&mut **tx)
    .await?
    .rows_affected()
        > 0;
    tracing::debug!(rows_written = tables.total(), "batch applied");
    let received = batch.projects.len()
        + batch.work_item_types.len()
        + batch.project_work_item_types.len()
        + batch.statuses.len()
        + batch.project_statuses.len()
        + batch.custom_fields.len()
        + batch.work_items.len()
        + batch.changelogs.len()
        + batch.dev_status.len()
        + batch.repositories.len()
        + batch.pull_requests.len()
        + batch.pr_commits.len()
        + batch.pr_reviews.len()
        + batch.pr_comments.len();
    Ok(Applied {
        records: first_time.then_some(received as u64),
        tables,
    })
}

/// Writes a batch's rows into the final tables (every table, one statement each), in the
/// caller's transaction; no run bookkeeping. Returns the rows written per table and the
/// highest `updated` among the work items. Public for the benchmark that compares it with COPY.
pub async fn upsert_rows(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    tenant: Uuid,
    integration: Uuid,
    batch: &pb::TransformedBatch,
    path: Path,
) -> Result<(TableRows, Option<i64>), sqlx::Error> {
    let mut rows = TableRows::default();
    rows.add(
        "projects",
        upsert::projects(tx, tenant, integration, &batch.projects).await?,
    );
    rows.add(
        "wits",
        upsert::work_item_types(tx, tenant, integration, &batch.work_item_types).await?,
    );
    rows.add(
        "projects_wits",
        upsert::project_work_item_types(tx, tenant, integration, &batch.project_work_item_types)
            .await?,
    );
    rows.add(
        "statuses",
        upsert::statuses(tx, tenant, integration, &batch.statuses).await?,
    );
    rows.add(
        "projects_statuses",
        upsert::project_statuses(tx, tenant, integration, &batch.project_statuses).await?,
    );
    rows.add(
        "projects_custom_fields",
        upsert_issues::custom_fields(tx, tenant, integration, &batch.custom_fields).await?,
    );
    let mut written = upsert_issues::work_items(tx, tenant, integration, &batch.work_items).await?;
    rows.add("work_items", written.rows);
    if path == Path::Safe {
        written.fresh.clear();
    }
    rows.add(
        "work_item_changelogs",
        upsert_issues::changelogs(tx, tenant, integration, &batch.changelogs, &written.fresh)
            .await?,
    );
    rows.add(
        "work_item_dev_status",
        upsert_issues::dev_status(tx, tenant, integration, &batch.dev_status).await?,
    );
    rows.add(
        "repositories",
        upsert_github::repositories(tx, tenant, integration, &batch.repositories).await?,
    );
    let (pull_requests, pr_max_updated) =
        upsert_github::pull_requests(tx, tenant, integration, &batch.pull_requests).await?;
    rows.add("pull_requests", pull_requests);
    rows.add(
        "pr_commits",
        upsert_github::pr_commits(tx, tenant, integration, &batch.pr_commits).await?,
    );
    rows.add(
        "pr_reviews",
        upsert_github::pr_reviews(tx, tenant, integration, &batch.pr_reviews).await?,
    );
    rows.add(
        "pr_comments",
        upsert_github::pr_comments(tx, tenant, integration, &batch.pr_comments).await?,
    );
    rows.add(
        "pr_work_item_links",
        upsert_github::pr_links(tx, tenant, integration, &batch.pr_links).await?,
    );
    // The run's cursor candidate: the newest `updated` this batch carried (issues or PRs).
    Ok((rows, written.max_updated.max(pr_max_updated)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_errors_a_retry_cannot_fix_are_permanent() {
        for permanent in [
            "22021", "22P05", "23514", "23502", "42703", "54000", "P0001",
        ] {
            assert!(is_permanent(Some(permanent)), "{permanent}");
        }
        for transient in ["08006", "40001", "40P01", "53100", "57P01", "58030"] {
            assert!(!is_permanent(Some(transient)), "{transient}");
        }
        assert!(!is_permanent(None));
    }
}
