//! Loader: consumes TransformedBatches from `etl.load` and upserts them in bulk. The batch's
//! raw page is marked processed in the same transaction, so a redelivered batch is harmless
//! and the orchestrator can tell, from the database alone, when a run is fully loaded.

mod upsert;
mod upsert_issues;

use std::time::Duration;

use prost::Message as _;
use sluice_plumbing::CommonConfig;
use sluice_plumbing::amqp::{Message, Outcome, Publisher, Topology, spawn_consumers};
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
}

impl LoaderConfig {
    pub fn from_env() -> anyhow::Result<Self> {
        Ok(LoaderConfig {
            common: CommonConfig::from_env()?,
        })
    }
}

#[derive(Clone)]
struct Loader {
    pool: PgPool,
    counters: ProgressBatcher,
}

pub async fn run(
    config: LoaderConfig,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let pool = sluice_plumbing::db::connect(&config.common).await?;
    sluice_plumbing::db::migrate(&pool).await?;
    let reporter = ProgressReporter::new(&config.common.orchestrator_url)?;
    let state = Loader {
        pool,
        counters: ProgressBatcher::start(reporter, Duration::from_millis(500), shutdown.clone()),
    };
    let topology = Topology::new(&config.common.queue_prefix);
    let consumers = spawn_consumers(
        &config.common,
        topology.load(),
        config.common.prefetch,
        move |message, publisher| {
            let state = state.clone();
            async move { state.handle(message, publisher).await }
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
    async fn handle(&self, message: Message, _publisher: Publisher) -> Outcome {
        let batch = match pb::TransformedBatch::decode(message.data.as_slice()) {
            Ok(batch) => batch,
            Err(error) => {
                return Outcome::DeadLetter {
                    reason: "malformed TransformedBatch".into(),
                    error: error.to_string(),
                };
            }
        };
        let Some(run) = batch.run.clone() else {
            return Outcome::DeadLetter {
                reason: "TransformedBatch without run context".into(),
                error: "field `run` is missing".into(),
            };
        };
        let span = tracing::info_span!("load.batch", raw_id = batch.raw_id, extraction_type = %batch.extraction_type, run_id = %run.run_id);
        sluice_plumbing::telemetry::set_parent_from_payload(&span, run.trace.as_ref());
        self.load(batch, run).instrument(span).await
    }

    async fn load(&self, batch: pb::TransformedBatch, run: pb::RunContext) -> Outcome {
        let (Ok(tenant), Ok(integration), Ok(run_id)) = (
            Uuid::parse_str(&run.tenant_id),
            Uuid::parse_str(&run.integration_id),
            Uuid::parse_str(&run.run_id),
        ) else {
            return Outcome::DeadLetter {
                reason: "TransformedBatch with invalid ids".into(),
                error: format!(
                    "run context {:?}/{:?}/{:?} is not UUIDs",
                    run.tenant_id, run.integration_id, run.run_id
                ),
            };
        };
        let loaded = match self.commit(&batch, tenant, integration, run_id).await {
            Ok(Some(loaded)) => loaded,
            Ok(None) => return Outcome::Ack,
            Err(sqlx::Error::Database(error)) if error.is_foreign_key_violation() => {
                // The integration (or run) was deleted meanwhile: nothing to load into.
                tracing::info!(%error, "batch dropped: its integration or run no longer exists");
                return Outcome::Ack;
            }
            Err(error) => {
                return Outcome::Retry {
                    error: error.to_string(),
                };
            }
        };
        let report = pb::ReportProgressRequest {
            run: Some(run),
            stage: pb::Stage::Load as i32,
            step: batch.step,
            records: loaded as i64,
            batches: 1,
            raw_id: batch.raw_id,
            ..Default::default()
        };
        // Counters only, coalesced: completion is decided from run_batches, not this report.
        self.counters.add(report);
        Outcome::Ack
    }

    /// One transaction: upsert every table, mark the raw page processed. `None` when the
    /// run was cancelled (the batch is dropped) or the page was already loaded.
    async fn commit(
        &self,
        batch: &pb::TransformedBatch,
        tenant: Uuid,
        integration: Uuid,
        run_id: Uuid,
    ) -> Result<Option<u64>, sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        let status: Option<String> =
            sqlx::query_scalar("SELECT status FROM job_runs WHERE id = $1 AND tenant_id = $2")
                .bind(run_id)
                .bind(tenant)
                .fetch_optional(&mut *tx)
                .await?;
        if status.as_deref().is_none_or(|s| s == "CANCELLED") {
            return Ok(None);
        }
        let mut rows = 0;
        rows += upsert::projects(&mut tx, tenant, integration, &batch.projects).await?;
        rows +=
            upsert::work_item_types(&mut tx, tenant, integration, &batch.work_item_types).await?;
        rows += upsert::project_work_item_types(
            &mut tx,
            tenant,
            integration,
            &batch.project_work_item_types,
        )
        .await?;
        rows += upsert::statuses(&mut tx, tenant, integration, &batch.statuses).await?;
        rows +=
            upsert::project_statuses(&mut tx, tenant, integration, &batch.project_statuses).await?;
        rows += upsert_issues::custom_fields(&mut tx, tenant, integration, &batch.custom_fields)
            .await?;
        let (written, max_updated) =
            upsert_issues::work_items(&mut tx, tenant, integration, &batch.work_items).await?;
        rows += written;
        rows += upsert_issues::changelogs(&mut tx, tenant, integration, &batch.changelogs).await?;
        rows += upsert_issues::dev_status(&mut tx, tenant, integration, &batch.dev_status).await?;
        if let Some(listing) = &batch.key_listing {
            let marked = upsert_issues::key_listing(
                &mut tx,
                tenant,
                integration,
                run_id,
                batch.raw_id,
                listing,
            )
            .await?;
            if marked > 0 {
                tracing::info!(marked, project = %listing.project_key, "issues no longer in Jira marked deleted");
            }
        }
        if let Some(max_updated) = max_updated {
            // The run's cursor candidate moves in the same transaction as the rows it covers.
            sqlx::query("UPDATE job_runs SET sync_cursor = GREATEST(sync_cursor, to_timestamp($2 / 1000.0)) WHERE id = $1")
                .bind(run_id)
                .bind(max_updated)
                .execute(&mut *tx)
                .await?;
        }
        // The page is loaded for this run (Reprocess loads earlier runs' pages again).
        let first_time = sqlx::query(
            "WITH page AS (UPDATE raw_extraction_data SET processed_at = now()
                           WHERE id = $1 AND tenant_id = $2 AND processed_at IS NULL)
             UPDATE run_batches SET loaded_at = now() WHERE run_id = $3 AND raw_id = $1 AND loaded_at IS NULL",
        )
            .bind(batch.raw_id)
            .bind(tenant)
            .bind(run_id)
            .execute(&mut *tx)
            .await?
            .rows_affected()
            == 1;
        tx.commit().await?;
        tracing::debug!(rows_written = rows, "batch committed");
        let received = batch.projects.len()
            + batch.work_item_types.len()
            + batch.project_work_item_types.len()
            + batch.statuses.len()
            + batch.project_statuses.len()
            + batch.custom_fields.len()
            + batch.work_items.len()
            + batch.changelogs.len()
            + batch.dev_status.len();
        Ok(first_time.then_some(received as u64))
    }
}
