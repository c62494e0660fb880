//! Reprocess: re-transform every stored issue page of an integration (optionally one
//! project) with the current field mapping, and reload — with zero calls to Jira. The pages
//! are re-published under a new run of the integration's jira_issues job, which completes
//! once all of them are loaded again.

use sluice_plumbing::amqp::ReconnectingPublisher;
use sluice_plumbing::settings::is_valid_jira_project_key;
use sluice_proto::v1 as pb;
use sqlx::PgPool;
use tracing::Instrument;
use uuid::Uuid;

use crate::error::{OrchestratorError, Result};
use crate::jobs::{self, RunRow, StartedRun};

pub async fn reprocess(
    pool: &PgPool,
    publisher: &ReconnectingPublisher,
    tenant_id: Uuid,
    integration_id: Uuid,
    project_key: &str,
) -> Result<RunRow> {
    let project_key = project_key.trim();
    if !project_key.is_empty() && !is_valid_jira_project_key(project_key) {
        return Err(OrchestratorError::invalid(
            "project_key",
            format!("{project_key:?} is not a Jira project key"),
        ));
    }
    let job_id = jobs::ensure_job(pool, tenant_id, integration_id, "jira_issues").await?;
    let StartedRun {
        run, context, span, ..
    } = jobs::begin_run(pool, tenant_id, job_id, "reprocess").await?;

    // Every stored issue page (the loader keeps only the newest version of each issue).
    let pages: Vec<(i64, i32)> = sqlx::query_as(
        "WITH pages AS (
             SELECT id, step FROM raw_extraction_data
             WHERE tenant_id = $1 AND integration_id = $2 AND extraction_type = 'jira.issues'
               AND http_status BETWEEN 200 AND 299 AND error_message IS NULL
               AND ($3 = '' OR request_context->>'project_key' = $3))
         INSERT INTO run_batches (run_id, raw_id, tenant_id)
         SELECT $4, id, $1 FROM pages
         RETURNING raw_id, (SELECT step FROM pages WHERE pages.id = raw_id)",
    )
    .bind(tenant_id)
    .bind(integration_id)
    .bind(project_key)
    .bind(run.id)
    .fetch_all(pool)
    .await?;

    let queue = publisher.topology().transform();
    let published = async {
        for (raw_id, step) in &pages {
            let reference = pb::RawBatchRef {
                run: Some(context.clone()),
                raw_id: *raw_id,
                extraction_type: "jira.issues".into(),
                step: *step,
                grouped_raw_ids: Vec::new(),
                record_indexes: Vec::new(),
            };
            publisher.publish(&queue, &reference).await?;
        }
        anyhow::Ok(())
    }
    .instrument(span.clone())
    .await;
    if let Err(error) = published {
        let message = format!("could not queue the pages to reprocess: {error}");
        crate::runs::fail_run(pool, run.id, &message).await?;
        return Err(OrchestratorError::Unavailable(message));
    }
    sqlx::query(
        "UPDATE job_runs SET extraction_finished = true, batches_produced = $2, step = 4,
             step_name = 'issues & changelogs processing', progress_percentage = 60
         WHERE id = $1",
    )
    .bind(run.id)
    .bind(pages.len() as i64)
    .execute(pool)
    .await?;
    span.in_scope(|| tracing::info!(run_id = %run.id, pages = pages.len(), "reprocess started"));
    crate::runs::settle(pool, run.id).await?;
    jobs::get_run(pool, tenant_id, run.id).await
}
