//! Transformer: consumes RawBatchRefs from `etl.transform`, reads the raw page, maps it to
//! typed rows and publishes a TransformedBatch on `etl.load`. A page that cannot be
//! transformed is marked failed (its run ends FAILED with the reason) and dead-lettered.

mod adf;
mod field_values;
pub mod github;
pub mod github_graphql;
pub mod jira;
pub mod jira_issues;
mod postgres_text;

use std::time::Duration;

use prost::Message as _;
use sluice_plumbing::CommonConfig;
use sluice_plumbing::amqp::{Message, Outcome, Publisher, spawn_consumers};
use sluice_plumbing::progress::{ProgressBatcher, ProgressReporter};
use sluice_plumbing::raw::{self, RawError};
use sluice_proto::v1 as pb;
use sqlx::PgPool;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;
use uuid::Uuid;

#[derive(Clone, Debug)]
pub struct TransformerConfig {
    pub common: CommonConfig,
}

impl TransformerConfig {
    pub fn from_env() -> anyhow::Result<Self> {
        Ok(TransformerConfig {
            common: CommonConfig::from_env()?,
        })
    }
}

#[derive(Clone)]
struct Transformer {
    pool: PgPool,
    reporter: ProgressReporter,
    counters: ProgressBatcher,
}

pub async fn run(
    config: TransformerConfig,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let pool = sluice_plumbing::db::connect(&config.common).await?;
    sluice_plumbing::db::migrate(&pool).await?;
    let reporter = ProgressReporter::new(&config.common)?;
    let state = Transformer {
        pool,
        reporter: reporter.clone(),
        counters: ProgressBatcher::start(reporter, Duration::from_millis(500), shutdown.clone()),
    };
    let topology = config.common.topology();
    let consumers = spawn_consumers(
        &config.common,
        topology.transform(),
        config.common.prefetch,
        move |message, publisher| {
            let state = state.clone();
            async move { state.handle(message, publisher).await }
        },
        &shutdown,
    );
    tracing::info!(addr = %listener.local_addr()?, "transformer listening");
    // Health and reflection only: the transformer's work arrives on the queue.
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

impl Transformer {
    async fn handle(&self, message: Message, publisher: Publisher) -> Outcome {
        let reference = match pb::RawBatchRef::decode(message.data.as_slice()) {
            Ok(reference) => reference,
            Err(error) => {
                return Outcome::DeadLetter {
                    reason: "malformed RawBatchRef".into(),
                    error: error.to_string(),
                };
            }
        };
        let Some(run) = reference.run.clone() else {
            return Outcome::DeadLetter {
                reason: "RawBatchRef without run context".into(),
                error: "field `run` is missing".into(),
            };
        };
        let span = tracing::info_span!("transform.page", raw_id = reference.raw_id, extraction_type = %reference.extraction_type, run_id = %run.run_id);
        sluice_plumbing::telemetry::set_parent_from_payload(&span, run.trace.as_ref());
        self.transform(reference, run, publisher)
            .instrument(span)
            .await
    }

    async fn transform(
        &self,
        reference: pb::RawBatchRef,
        run: pb::RunContext,
        publisher: Publisher,
    ) -> Outcome {
        let Ok(tenant_id) = Uuid::parse_str(&run.tenant_id) else {
            return Outcome::DeadLetter {
                reason: "RawBatchRef with invalid tenant id".into(),
                error: format!("run.tenant_id {:?} is not a UUID", run.tenant_id),
            };
        };
        // A message names one page, or a group of small pages of one type (dev-status
        // details); a group is transformed and loaded as one batch.
        let ids: Vec<i64> = std::iter::once(reference.raw_id)
            .chain(reference.grouped_raw_ids.iter().copied())
            .collect();
        let grouped = ids.len() > 1;
        let mut rows = jira::Rows::default();
        let mut transformed: Vec<i64> = Vec::with_capacity(ids.len());
        let mut rejected: Vec<(i64, String)> = Vec::new();
        // Records set aside: (page, position in its list, reason).
        let mut quarantined: Vec<(i64, usize, String)> = Vec::new();
        let only: Option<Vec<usize>> = (!reference.record_indexes.is_empty()).then(|| {
            reference
                .record_indexes
                .iter()
                .filter_map(|&i| usize::try_from(i).ok())
                .collect()
        });
        let mut kind: Option<(String, i32)> = None;
        for id in ids {
            let page = match raw::load(&self.pool, Some(tenant_id), id).await {
                Ok(page) => page,
                Err(RawError::NotFound(id)) if !grouped => {
                    return Outcome::DeadLetter {
                        reason: "raw page not found".into(),
                        error: format!("raw page {id} does not exist for tenant {tenant_id}"),
                    };
                }
                Err(RawError::NotFound(id)) => {
                    tracing::warn!(raw_id = id, "raw page of a group not found; skipped");
                    continue;
                }
                Err(RawError::Corrupt { id, source }) => {
                    rejected.push((
                        id,
                        format!("raw page {id} cannot be decompressed: {source}"),
                    ));
                    continue;
                }
                Err(error) => {
                    return Outcome::Retry {
                        error: error.to_string(),
                    };
                }
            };
            if kind.is_none() {
                match run_status(&self.pool, page.run_id).await {
                    Ok(status) if status == "CANCELLED" => return Outcome::Ack,
                    Ok(_) => {}
                    Err(error) => {
                        return Outcome::Retry {
                            error: error.to_string(),
                        };
                    }
                }
                kind = Some((page.extraction_type.clone(), page.step));
            }
            match page_rows(&self.pool, &page, only.as_deref()).await {
                Ok(Ok(mut page_rows)) => {
                    quarantined.extend(
                        std::mem::take(&mut page_rows.quarantined)
                            .into_iter()
                            .map(|(index, reason)| (page.id, index, reason)),
                    );
                    rows.extend(page_rows);
                    transformed.push(page.id);
                }
                Ok(Err(error)) => rejected.push((page.id, error.to_string())),
                Err(error) => {
                    return Outcome::Retry {
                        error: error.to_string(),
                    };
                }
            }
        }
        // Quarantined records are recorded before the rest of their page is published: the
        // run cannot complete (its pages all loaded) without counting them.
        if let Some((extraction_type, _)) = &kind
            && let Err(error) =
                record_quarantined(&self.pool, &run, extraction_type, &quarantined).await
        {
            return Outcome::Retry {
                error: format!("recording quarantined records: {error}"),
            };
        }
        // The good pages are published first: a retry after a failed publish repeats no
        // rejection, and the loader takes a repeated batch harmlessly.
        if let (Some(&first), Some((extraction_type, step))) = (transformed.first(), &kind) {
            let records = rows.count() as i64;
            let mut batch = rows.into_batch(run.clone(), first, extraction_type, *step);
            batch.grouped_raw_ids = transformed[1..].to_vec();
            batch.transformed_by = sluice_plumbing::instance_id().to_string();
            if let Err(error) = publisher
                .publish(&publisher.topology().load(), &batch)
                .await
            {
                return Outcome::Retry {
                    error: error.to_string(),
                };
            }
            // Where the page waits now (a tenant's queue backlog is read from its runs); a
            // failure here only makes that figure stale.
            if let Err(error) = sqlx::query(
                "UPDATE run_batches SET transformed_at = now()
                 WHERE run_id = $1::uuid AND raw_id = ANY($2) AND transformed_at IS NULL",
            )
            .bind(&run.run_id)
            .bind(&transformed)
            .execute(&self.pool)
            .await
            {
                tracing::warn!(%error, "cannot record the pages as transformed");
            }
            // Counters only, coalesced: the run's outcome is decided from the database.
            self.counters.add(pb::ReportProgressRequest {
                run: Some(run.clone()),
                stage: pb::Stage::Transform as i32,
                // The run's step is the connector's to move.
                step: 0,
                records,
                raw_id: first,
                ..Default::default()
            });
        }
        // Each quarantined record goes to the dead letters alone (requeueable: it is then
        // transformed by itself); a requeued record that transformed is resolved.
        for (raw_id, index, reason) in &quarantined {
            let alone = pb::RawBatchRef {
                run: Some(run.clone()),
                raw_id: *raw_id,
                extraction_type: reference.extraction_type.clone(),
                step: reference.step,
                grouped_raw_ids: Vec::new(),
                record_indexes: vec![*index as i32],
            };
            if let Err(error) = publisher
                .dead_letter(
                    &publisher.topology().transform(),
                    &prost::Message::encode_to_vec(&alone),
                    Some(&sluice_plumbing::amqp::quarantine_headers()),
                    QUARANTINED,
                    reason,
                )
                .await
            {
                return Outcome::Retry {
                    error: error.to_string(),
                };
            }
            tracing::warn!(raw_id, index, %reason, "record quarantined");
        }
        if let Some(only) = &only
            && let Err(error) = sqlx::query(
                "UPDATE quarantined_records SET resolved_at = now()
                 WHERE raw_id = $1 AND record_index = ANY($2) AND resolved_at IS NULL
                   AND NOT (record_index = ANY($3))",
            )
            .bind(reference.raw_id)
            .bind(only.iter().map(|&i| i as i32).collect::<Vec<i32>>())
            .bind(
                quarantined
                    .iter()
                    .map(|(_, i, _)| *i as i32)
                    .collect::<Vec<i32>>(),
            )
            .execute(&self.pool)
            .await
        {
            tracing::warn!(%error, "cannot mark requeued records resolved");
        }
        if !grouped {
            return match rejected.pop() {
                Some((id, error)) => self.reject(&run, id, error).await,
                None => Outcome::Ack,
            };
        }
        // A page of a group that cannot be transformed is dead-lettered on its own, with a
        // reference to it alone, so it can be inspected and requeued by itself.
        for (id, error) in rejected {
            if let Outcome::Retry { error } = self.reject(&run, id, error.clone()).await {
                return Outcome::Retry { error };
            }
            let alone = pb::RawBatchRef {
                run: Some(run.clone()),
                raw_id: id,
                extraction_type: reference.extraction_type.clone(),
                step: reference.step,
                grouped_raw_ids: Vec::new(),
                record_indexes: Vec::new(),
            };
            if let Err(dead_letter_error) = publisher
                .dead_letter(
                    &publisher.topology().transform(),
                    &prost::Message::encode_to_vec(&alone),
                    None,
                    "untransformable raw page",
                    &error,
                )
                .await
            {
                return Outcome::Retry {
                    error: dead_letter_error.to_string(),
                };
            }
        }
        Outcome::Ack
    }

    /// The page can never be transformed: record why on the page (so the run fails even if
    /// the report is lost), tell the orchestrator, and dead-letter the message.
    async fn reject(&self, run: &pb::RunContext, raw_id: i64, error: String) -> Outcome {
        let marked = sqlx::query(
            "WITH page AS (UPDATE raw_extraction_data SET error_message = $2 WHERE id = $1)
             UPDATE run_batches SET error_message = $2 WHERE raw_id = $1 AND run_id = $3::uuid",
        )
        .bind(raw_id)
        .bind(&error)
        .bind(&run.run_id)
        .execute(&self.pool)
        .await;
        if let Err(db_error) = marked {
            return Outcome::Retry {
                error: db_error.to_string(),
            };
        }
        let report = pb::ReportProgressRequest {
            run: Some(run.clone()),
            stage: pb::Stage::Transform as i32,
            error: error.clone(),
            fatal: true,
            raw_id,
            ..Default::default()
        };
        if let Err(status) = self.reporter.report(report).await {
            tracing::warn!(error = %status.message(), "transform failure not reported; the orchestrator will find it on the page");
        }
        Outcome::DeadLetter {
            reason: "untransformable raw page".into(),
            error,
        }
    }
}

/// The dead-letter reason of a record set aside (its run still completes).
const QUARANTINED: &str = "quarantined record";

/// Records the quarantined records of a message (idempotent: a redelivered message counts
/// each record once).
async fn record_quarantined(
    pool: &PgPool,
    run: &pb::RunContext,
    extraction_type: &str,
    quarantined: &[(i64, usize, String)],
) -> Result<(), sqlx::Error> {
    if quarantined.is_empty() {
        return Ok(());
    }
    let (raw_ids, (indexes, reasons)): (Vec<i64>, (Vec<i32>, Vec<&str>)) = quarantined
        .iter()
        .map(|(raw_id, index, reason)| (*raw_id, (*index as i32, reason.as_str())))
        .unzip();
    sqlx::query(
        "INSERT INTO quarantined_records (raw_id, record_index, tenant_id, run_id, extraction_type, reason)
         SELECT u.raw_id, u.record_index, d.tenant_id, d.run_id, $4, u.reason
         FROM UNNEST($1::bigint[], $2::int[], $3::text[]) AS u(raw_id, record_index, reason)
         JOIN raw_extraction_data d ON d.id = u.raw_id AND d.tenant_id = $5::uuid
         ON CONFLICT (raw_id, record_index) DO UPDATE
             SET reason = EXCLUDED.reason, resolved_at = NULL",
    )
    .bind(&raw_ids)
    .bind(&indexes)
    .bind(&reasons)
    .bind(extraction_type)
    .bind(&run.tenant_id)
    .execute(pool)
    .await?;
    Ok(())
}

/// The integration's current field mapping (the project's own if it has one) and the
/// discovered schemas. Read at transform time, so Reprocess applies the current mapping.
async fn field_context(
    pool: &PgPool,
    tenant_id: Uuid,
    integration_id: Uuid,
    project_key: &str,
) -> Result<jira_issues::FieldContext, sqlx::Error> {
    let mappings: Option<serde_json::Value> = sqlx::query_scalar(
        "SELECT custom_field_mappings FROM integrations WHERE id = $1 AND tenant_id = $2",
    )
    .bind(integration_id)
    .bind(tenant_id)
    .fetch_optional(pool)
    .await?;
    let mappings = mappings.unwrap_or_default();
    let entries = mappings
        .pointer(&format!("/projects/{project_key}"))
        .filter(|_| !project_key.is_empty())
        .or_else(|| mappings.get("default"))
        .and_then(|v| v.as_array())
        .cloned()
        .unwrap_or_default();
    let mut context = jira_issues::FieldContext::default();
    for entry in entries {
        if let (Some(field_id), Some(column)) = (
            entry.get("field_id").and_then(|v| v.as_str()),
            entry.get("column").and_then(|v| v.as_i64()),
        ) {
            context.mapping.insert(field_id.to_string(), column as i32);
        }
    }
    let schemas: Vec<(String, String, String, String, String)> = sqlx::query_as(
        "SELECT field_id, name, schema_type, schema_items, custom_type FROM projects_custom_fields
         WHERE tenant_id = $1 AND integration_id = $2 AND project_key = ''",
    )
    .bind(tenant_id)
    .bind(integration_id)
    .fetch_all(pool)
    .await?;
    for (field_id, name, schema_type, schema_items, custom_type) in schemas {
        context.schemas.insert(
            field_id,
            field_values::FieldSchema {
                name,
                schema_type,
                schema_items,
                custom_type,
            },
        );
    }
    Ok(context)
}

async fn run_status(pool: &PgPool, run_id: Uuid) -> Result<String, sqlx::Error> {
    sqlx::query_scalar("SELECT status FROM job_runs WHERE id = $1")
        .bind(run_id)
        .fetch_one(pool)
        .await
}

/// Rows of one stored page (the mapping read at transform time, so Reprocess applies the
/// current one). The outer error is ours (database; retry), the inner one the page's.
pub async fn page_rows(
    pool: &PgPool,
    page: &raw::StoredRawPage,
    only: Option<&[usize]>,
) -> Result<Result<jira::Rows, jira::TransformError>, sqlx::Error> {
    let mut rows = jira::Rows::default();
    let body = postgres_text::without_nul_escapes(&page.body);
    let body: &[u8] = &body;
    match page.extraction_type.as_str() {
        "jira.fields" => match jira_issues::transform_fields(body) {
            Ok(fields) => rows.custom_fields = fields,
            Err(error) => return Ok(Err(error)),
        },
        "jira.issues" => {
            let project_key = page
                .request_context
                .get("project_key")
                .and_then(|v| v.as_str())
                .unwrap_or_default();
            let context =
                field_context(pool, page.tenant_id, page.integration_id, project_key).await?;
            match jira_issues::transform_search_page(body, &context, only) {
                Ok(search) => {
                    rows.work_items = search.work_items;
                    rows.changelogs = search.changelogs;
                    rows.quarantined = search.quarantined;
                }
                Err(error) => return Ok(Err(error)),
            }
        }
        "jira.createmeta_fields" | "jira.createmeta_legacy" => {
            match jira_issues::transform_createmeta(
                &page.extraction_type,
                body,
                &page.request_context,
            ) {
                Ok(fields) => rows.custom_fields = fields,
                Err(error) => return Ok(Err(error)),
            }
        }
        "jira.issue_keys" => {
            match jira_issues::transform_key_listing(body, &page.request_context) {
                Ok(listing) => rows.key_listing = Some(listing),
                Err(error) => return Ok(Err(error)),
            }
        }
        // Jira's detail, or the same shape assembled from the tenant's GitHub integrations.
        "jira.dev_status_detail" | "jira.dev_status_from_github" => {
            match jira_issues::transform_dev_status(body, &page.request_context) {
                Ok(dev_status) => rows.dev_status = dev_status,
                Err(error) => return Ok(Err(error)),
            }
        }
        "jira.issue_changelog" | "jira.changelog_bulk" => {
            match jira_issues::transform_changelog_page(
                &page.extraction_type,
                body,
                &page.request_context,
            ) {
                Ok(changelogs) => rows.changelogs = changelogs,
                Err(error) => return Ok(Err(error)),
            }
        }
        other if github::handles(other) => {
            let keys = jira_project_keys(pool, page.tenant_id).await?;
            return Ok(github::transform(
                other,
                body,
                &page.request_context,
                &keys,
                only,
            ));
        }
        other => return Ok(jira::transform(other, body, &page.request_context)),
    }
    Ok(Ok(rows))
}

/// The Jira project keys the tenant syncs (any integration), for linking pull requests to
/// issues; cached for a minute per tenant.
async fn jira_project_keys(
    pool: &PgPool,
    tenant_id: Uuid,
) -> Result<std::sync::Arc<std::collections::BTreeSet<String>>, sqlx::Error> {
    type Cache = std::collections::HashMap<
        Uuid,
        (
            std::time::Instant,
            std::sync::Arc<std::collections::BTreeSet<String>>,
        ),
    >;
    static CACHE: std::sync::OnceLock<std::sync::Mutex<Cache>> = std::sync::OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some((at, keys)) = cache
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(&tenant_id)
        && at.elapsed() < std::time::Duration::from_secs(60)
    {
        return Ok(keys.clone());
    }
    let keys: Vec<String> =
        sqlx::query_scalar("SELECT DISTINCT key FROM projects WHERE tenant_id = $1")
            .bind(tenant_id)
            .fetch_all(pool)
            .await?;
    let keys = std::sync::Arc::new(keys.into_iter().collect::<std::collections::BTreeSet<_>>());
    cache
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(tenant_id, (std::time::Instant::now(), keys.clone()));
    Ok(keys)
}
