//! Run progress from the workers, and the rule that ends a run: COMPLETED only when the
//! connector has finished extracting and every raw page it stored is loaded; FAILED as soon
//! as a fatal error is reported or a raw page is marked failed.

use std::time::Duration;

use sluice_proto::v1 as pb;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};
use uuid::Uuid;

use crate::error::{OrchestratorError, Result};

/// Share of the five-step Jira model each step is worth.
const STEP_PERCENT: f64 = 20.0;

/// Records one worker report; answers whether the worker should stop (the run was cancelled).
pub async fn report(pool: &PgPool, request: &pb::ReportProgressRequest) -> Result<bool> {
    let run_ctx = request
        .run
        .as_ref()
        .ok_or_else(|| OrchestratorError::invalid("run", "is required"))?;
    let run_id = crate::jobs::parse("run.run_id", &run_ctx.run_id)?;
    let tenant_id = crate::jobs::parse("run.tenant_id", &run_ctx.tenant_id)?;
    let stage = pb::Stage::try_from(request.stage).unwrap_or(pb::Stage::Unspecified);
    if !request.peak_request_rate.is_finite() || request.peak_request_rate < 0.0 {
        return Err(OrchestratorError::invalid(
            "peak_request_rate",
            "must be a finite number of requests per second, 0 or more",
        ));
    }
    let (extracted, transformed, loaded) = match stage {
        pb::Stage::Extract => (request.records, 0, 0),
        pb::Stage::Transform => (0, request.records, 0),
        pb::Stage::Load => (0, 0, request.records),
        pb::Stage::Vectorize => (0, 0, 0),
        _ => {
            return Err(OrchestratorError::invalid(
                "stage",
                "must be EXTRACT, TRANSFORM, LOAD or VECTORIZE",
            ));
        }
    };
    let (batches_produced, batches_loaded) = match stage {
        pb::Stage::Extract => (request.batches, 0),
        pb::Stage::Load => (0, request.batches),
        _ => (0, 0),
    };
    let is_error = !request.error.is_empty();
    let status: Option<(String, Uuid, bool)> = sqlx::query_as(
        "UPDATE job_runs SET
             records_extracted = records_extracted + $3,
             records_transformed = records_transformed + $4,
             records_loaded = records_loaded + $5,
             issues_fetched = issues_fetched + CASE WHEN $15 THEN $16 ELSE 0 END,
             issues_loaded = issues_loaded + CASE WHEN $17 THEN $16 ELSE 0 END,
             -- page counts are set from run_batches when the run ends; later reports are late copies
             batches_produced = batches_produced + CASE WHEN status = 'RUNNING' THEN $6 ELSE 0 END,
             batches_loaded = batches_loaded + CASE WHEN status = 'RUNNING' THEN $7 ELSE 0 END,
             api_calls = api_calls + $8,
             errors = errors + $9,
             peak_memory_bytes = GREATEST(peak_memory_bytes, $10),
             extraction_finished = extraction_finished OR $11,
             step = CASE WHEN $12 > step AND status = 'RUNNING' THEN $12 ELSE step END,
             step_name = CASE WHEN $12 > step AND status = 'RUNNING' THEN $13 ELSE step_name END,
             progress_percentage = CASE WHEN status = 'RUNNING'
                 THEN GREATEST(progress_percentage, ($12 - 1) * $14) ELSE progress_percentage END,
             pull_requests = pull_requests + $18,
             commits = commits + $19,
             reviews = reviews + $20,
             comments = comments + $21,
             rate_limit_wait_ms = rate_limit_wait_ms + $22,
             vectors_queued = vectors_queued + $23,
             vectors_done = vectors_done + CASE WHEN $24 THEN $25 ELSE 0 END,
             throttled_responses = throttled_responses + $26,
             peak_request_rate = GREATEST(peak_request_rate, $27),
             bytes_received = bytes_received + $28,
             dev_status_issues = dev_status_issues + $29,
             dev_status_done = dev_status_done + $30,
             graphql_points = graphql_points + $31,
             rest_budget_remaining = COALESCE($32, rest_budget_remaining),
             graphql_budget_remaining = COALESCE($33, graphql_budget_remaining),
             projected_finish_at = CASE WHEN $15 THEN
                 CASE WHEN $34 > 0 THEN to_timestamp($34 / 1000.0) END
                 ELSE projected_finish_at END,
             heartbeat_at = now()
         WHERE id = $1 AND tenant_id = $2
         RETURNING status, job_id, extraction_finished",
    )
    .bind(run_id)
    .bind(tenant_id)
    .bind(extracted)
    .bind(transformed)
    .bind(loaded)
    .bind(batches_produced)
    .bind(batches_loaded)
    .bind(request.api_calls)
    .bind(i64::from(is_error))
    .bind(request.peak_memory_bytes)
    .bind(request.extraction_finished)
    .bind(request.step)
    .bind(&request.step_name)
    .bind(STEP_PERCENT)
    .bind(stage == pb::Stage::Extract)
    .bind(request.work_items)
    .bind(stage == pb::Stage::Load)
    .bind(request.pull_requests)
    .bind(request.commits)
    .bind(request.reviews)
    .bind(request.comments)
    .bind(request.rate_limit_wait_ms)
    .bind(request.vectors_queued)
    .bind(stage == pb::Stage::Vectorize)
    .bind(request.records)
    .bind(request.throttled_responses)
    .bind(request.peak_request_rate)
    .bind(request.bytes_received)
    .bind(request.dev_status_issues)
    .bind(request.dev_status_done)
    .bind(request.graphql_points)
    .bind(request.rest_budget_remaining)
    .bind(request.graphql_budget_remaining)
    .bind(request.projected_finish_ms)
    .fetch_optional(pool)
    .await?;
    let (status, job_id, extraction_finished) = status.ok_or(OrchestratorError::NotFound {
        what: "job run",
        id: run_id.to_string(),
    })?;
    if status != "RUNNING" {
        // A run failed by pages that could not load completes once they do (requeued).
        if status == "FAILED" && (stage == pb::Stage::Load || request.extraction_finished) {
            recover(pool, run_id).await?;
        }
        // Only a cancelled run stops its workers: a failed run still lands its other pages.
        return Ok(status == "CANCELLED");
    }
    sqlx::query(
        "UPDATE etl_jobs SET step_name = r.step_name, progress_percentage = r.progress_percentage, updated_at = now()
         FROM job_runs r WHERE r.id = $1 AND etl_jobs.id = $2 AND etl_jobs.current_run_id = $1",
    )
    .bind(run_id)
    .bind(job_id)
    .execute(pool)
    .await?;
    if is_error && request.fatal {
        fail_run(pool, run_id, &request.error).await?;
        return Ok(false);
    }
    // Completion is checked when extraction finishes, on loader reports once it has (the
    // last pages' report ends the run without waiting for the settle loop), and by the
    // settle loop; transform reports never decide it.
    if request.extraction_finished || (stage == pb::Stage::Load && extraction_finished) {
        settle(pool, run_id).await?;
    }
    Ok(false)
}

/// Ends the run if its outcome is known: FAILED when a raw page failed, COMPLETED when
/// extraction finished and every page is loaded. Returns true once the run has ended.
pub async fn settle(pool: &PgPool, run_id: Uuid) -> Result<bool> {
    let failed_page: Option<(i64, String, String)> = sqlx::query_as(
        "SELECT d.id, d.extraction_type, b.error_message FROM run_batches b
         JOIN job_runs r ON r.id = b.run_id AND r.status = 'RUNNING'
         JOIN raw_extraction_data d ON d.id = b.raw_id
         WHERE b.run_id = $1 AND b.error_message IS NOT NULL ORDER BY b.raw_id LIMIT 1",
    )
    .bind(run_id)
    .fetch_optional(pool)
    .await?;
    if let Some((raw_id, extraction_type, error)) = failed_page {
        // The error may already name its page (the loader's does).
        let message = if error.starts_with(&format!("raw page {raw_id} ")) {
            error
        } else {
            format!("raw page {raw_id} ({extraction_type}): {error}")
        };
        fail_run_recoverable(pool, run_id, &message).await?;
        return Ok(true);
    }
    // The run and its job change together: a crash in between must not leave the job
    // RUNNING on a finished run.
    let mut tx = pool.begin().await?;
    let completed: Option<Uuid> = sqlx::query_scalar(
        "UPDATE job_runs r SET status = 'COMPLETED', finished_at = now(), progress_percentage = 100,
             -- the authoritative page counts (worker counters are coalesced and may lag)
             batches_produced = (SELECT count(*) FROM run_batches b WHERE b.run_id = r.id),
             batches_loaded = (SELECT count(*) FROM run_batches b WHERE b.run_id = r.id),
             sync_cursor = GREATEST(r.sync_cursor, (SELECT max(b.max_updated) FROM run_batches b WHERE b.run_id = r.id)),
             records_deleted = (SELECT count(*) FROM work_items w
                                WHERE w.tenant_id = r.tenant_id AND w.integration_id = r.integration_id
                                  AND w.deleted_at >= r.started_at),
             records_quarantined = q.n,
             warning = CASE WHEN q.n > 0
                 THEN format('%s record%s quarantined: set aside with the reason, the rest landed (ListDeadLetters shows them; RequeueDeadLetters retries them)',
                             q.n, CASE WHEN q.n = 1 THEN '' ELSE 's' END)
                 ELSE r.warning END
         FROM (SELECT count(*) AS n FROM quarantined_records WHERE run_id = $1) q
         WHERE r.id = $1 AND r.status = 'RUNNING' AND r.extraction_finished
           AND NOT EXISTS (SELECT 1 FROM run_batches b WHERE b.run_id = r.id AND b.loaded_at IS NULL)
         RETURNING job_id",
    )
    .bind(run_id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(job_id) = completed else {
        return Ok(false);
    };
    advance_cursors(&mut tx, run_id).await?;
    // The run and its job change together.
    sqlx::query(
        "UPDATE etl_jobs SET status = 'COMPLETED', progress_percentage = 100, step_name = 'completed',
             current_run_id = NULL, last_run_finished_at = now(), retry_count = 0, error_message = '',
             next_run_at = now() + make_interval(mins => schedule_interval_minutes), updated_at = now(),
             last_sync_cursor = GREATEST(last_sync_cursor, COALESCE(
                 (SELECT to_char(r.sync_cursor AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')
                  FROM job_runs r WHERE r.id = $2), ''))
         WHERE id = $1 AND current_run_id = $2",
    )
    .bind(job_id)
    .bind(run_id)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    info!(%run_id, %job_id, "run completed");
    observe_run_end(pool, run_id).await;
    Ok(true)
}

/// Each scope's cursor advances to the newest `updated` that scope's pages committed (see
/// plumbing's `cursors`), never backwards; scopes the run did not touch keep theirs.
async fn advance_cursors(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    run_id: Uuid,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO sync_cursors (job_id, tenant_id, scope, cursor, run_id)
         SELECT r.job_id, r.tenant_id, b.scope, max(b.max_updated), r.id
         FROM run_batches b JOIN job_runs r ON r.id = b.run_id
         WHERE b.run_id = $1 AND b.scope IS NOT NULL AND b.max_updated IS NOT NULL
         GROUP BY r.job_id, r.tenant_id, b.scope, r.id
         ON CONFLICT (job_id, scope) DO UPDATE
             SET cursor = GREATEST(sync_cursors.cursor, EXCLUDED.cursor),
                 run_id = EXCLUDED.run_id, updated_at = now()",
    )
    .bind(run_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Completes a run that failed only because some of its pages could not be transformed or
/// loaded, once every page has loaded after all (the operator fixed the cause and requeued
/// its dead letters). Its job follows when no later run has started since. Returns true if
/// the run completed now.
pub async fn recover(pool: &PgPool, run_id: Uuid) -> Result<bool> {
    let mut tx = pool.begin().await?;
    let recovered: Option<(Uuid, String)> = sqlx::query_as(
        "UPDATE job_runs r SET status = 'COMPLETED', recoverable = false, progress_percentage = 100,
             warning = format('completed after its dead letters were requeued (it had failed: %s)', r.error_message),
             error_message = '',
             batches_produced = (SELECT count(*) FROM run_batches b WHERE b.run_id = r.id),
             batches_loaded = (SELECT count(*) FROM run_batches b WHERE b.run_id = r.id),
             sync_cursor = GREATEST(r.sync_cursor, (SELECT max(b.max_updated) FROM run_batches b WHERE b.run_id = r.id)),
             records_quarantined = (SELECT count(*) FROM quarantined_records q WHERE q.run_id = r.id)
         WHERE r.id = $1 AND r.status = 'FAILED' AND r.recoverable AND r.extraction_finished
           AND NOT EXISTS (SELECT 1 FROM run_batches b WHERE b.run_id = r.id
                           AND (b.loaded_at IS NULL OR b.error_message IS NOT NULL))
         RETURNING job_id, to_char(started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')",
    )
    .bind(run_id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((job_id, _)) = recovered else {
        return Ok(false);
    };
    advance_cursors(&mut tx, run_id).await?;
    sqlx::query(
        "UPDATE etl_jobs j SET status = 'COMPLETED', progress_percentage = 100, step_name = 'completed',
             retry_count = 0, error_message = '', alert = '', updated_at = now(),
             next_run_at = now() + make_interval(mins => schedule_interval_minutes),
             last_sync_cursor = GREATEST(last_sync_cursor, COALESCE(
                 (SELECT to_char(r.sync_cursor AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')
                  FROM job_runs r WHERE r.id = $2), ''))
         WHERE j.id = $1 AND j.current_run_id IS NULL AND j.status = 'FAILED'
           AND NOT EXISTS (SELECT 1 FROM job_runs l WHERE l.job_id = $1 AND l.id <> $2
                           AND l.started_at > (SELECT started_at FROM job_runs WHERE id = $2))",
    )
    .bind(job_id)
    .bind(run_id)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    info!(%run_id, %job_id, "run completed after its dead letters were requeued");
    observe_run_end(pool, run_id).await;
    Ok(true)
}

/// Fails a run because some of its pages cannot be transformed or loaded: it completes
/// after all if they load later (see [`recover`]).
pub async fn fail_run_recoverable(pool: &PgPool, run_id: Uuid, error: &str) -> Result<()> {
    end_run(pool, run_id, "FAILED", error, true).await
}

pub async fn fail_run(pool: &PgPool, run_id: Uuid, error: &str) -> Result<()> {
    finish_run(pool, run_id, "FAILED", error).await
}

/// Moves a RUNNING run to a final status and releases its job.
pub async fn finish_run(pool: &PgPool, run_id: Uuid, status: &str, message: &str) -> Result<()> {
    end_run(pool, run_id, status, message, false).await
}

async fn end_run(
    pool: &PgPool,
    run_id: Uuid,
    status: &str,
    message: &str,
    recoverable: bool,
) -> Result<()> {
    let mut tx = pool.begin().await?;
    let job_id: Option<Uuid> = sqlx::query_scalar(
        "UPDATE job_runs SET status = $2, finished_at = now(), error_message = $3,
             recoverable = $4,
             errors = errors + CASE WHEN $2 = 'FAILED' THEN 1 ELSE 0 END,
             records_quarantined = (SELECT count(*) FROM quarantined_records q WHERE q.run_id = $1)
         WHERE id = $1 AND status = 'RUNNING' RETURNING job_id",
    )
    .bind(run_id)
    .bind(status)
    .bind(message)
    .bind(recoverable)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(job_id) = job_id else {
        return Ok(());
    };
    // A failed run is retried after the job's retry interval, up to max_retries times in a
    // row; then the job stays FAILED with the last error until its regular schedule comes
    // round (or RunJob). A cancelled run waits for the regular schedule.
    let job_status = if status == "FAILED" {
        "FAILED"
    } else {
        "READY"
    };
    let job: Option<(i32, i32)> = sqlx::query_as(
        "UPDATE etl_jobs SET status = $3, error_message = $4, current_run_id = NULL,
             last_run_finished_at = now(),
             retry_count = CASE WHEN $3 <> 'FAILED' THEN retry_count
                                WHEN retry_count < max_retries THEN retry_count + 1 ELSE 0 END,
             next_run_at = CASE WHEN $3 = 'FAILED' AND retry_count < max_retries
                                THEN now() + make_interval(mins => retry_interval_minutes)
                                ELSE now() + make_interval(mins => schedule_interval_minutes) END,
             alert = CASE WHEN $3 = 'FAILED' AND retry_count >= max_retries
                          THEN format('gave up after %s retries; next run on the regular schedule', max_retries)
                          ELSE alert END,
             updated_at = now()
         WHERE id = $1 AND current_run_id = $2
         RETURNING retry_count, max_retries",
    )
    .bind(job_id)
    .bind(run_id)
    .bind(job_status)
    .bind(message)
    .fetch_optional(&mut *tx)
    .await?;
    if status == "FAILED" {
        // The failure and its notifications commit together. After a failure the count is
        // 0 only when the job gave up (else it counts the retry to come).
        let gave_up = job.is_some_and(|(count, _)| count == 0);
        let retries = job.map(|(count, max)| if gave_up { max } else { count - 1 });
        use crate::notifications::{Event, record_run_event};
        record_run_event(&mut tx, Event::RunFailed, run_id, retries).await?;
        if gave_up {
            record_run_event(&mut tx, Event::JobGaveUp, run_id, retries).await?;
        }
    }
    tx.commit().await?;
    warn!(%run_id, %job_id, status, error = message, "run ended");
    observe_run_end(pool, run_id).await;
    Ok(())
}

/// A run that ended (committed) counts in `/metrics` by its job type and outcome, with its
/// duration. A failed run that later completes (its dead letters requeued) counts twice,
/// once per ending.
pub(crate) async fn observe_run_end(pool: &PgPool, run_id: Uuid) {
    let ended: Result<Option<(String, String, f64)>> = sqlx::query_as(
        "SELECT j.job_type, r.status,
                EXTRACT(EPOCH FROM (COALESCE(r.finished_at, now()) - r.started_at))::float8
         FROM job_runs r JOIN etl_jobs j ON j.id = r.job_id WHERE r.id = $1",
    )
    .bind(run_id)
    .fetch_optional(pool)
    .await
    .map_err(Into::into);
    match ended {
        Ok(Some((job_type, status, seconds))) => {
            observe_outcome(&job_type, &status.to_ascii_lowercase(), seconds)
        }
        Ok(None) => {}
        Err(error) => warn!(%run_id, %error, "cannot read the ended run for /metrics"),
    }
}

pub(crate) fn observe_outcome(job_type: &str, outcome: &str, seconds: f64) {
    let metrics = sluice_plumbing::metrics::get();
    let labels = [job_type, outcome];
    metrics.runs.inc(&labels);
    metrics
        .run_duration
        .observe(&labels, Duration::from_secs_f64(seconds.max(0.0)));
}

/// Settles runs whose final report was lost (a worker restarted, the orchestrator was down):
/// the database, not the reports, decides when a run is done.
pub async fn settle_loop(pool: PgPool, every: Duration, shutdown: CancellationToken) {
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(every) => {}
        }
        let running: Vec<(Uuid, String)> = match sqlx::query_as(
            "(SELECT id, status FROM job_runs WHERE status = 'RUNNING' ORDER BY started_at LIMIT 500)
             UNION ALL
             (SELECT id, status FROM job_runs
              WHERE recoverable AND status = 'FAILED' AND finished_at > now() - interval '1 day'
              ORDER BY finished_at LIMIT 100)",
        )
        .fetch_all(&pool)
        .await
        {
            Ok(ids) => ids,
            Err(error) => {
                warn!(%error, "cannot list running runs");
                continue;
            }
        };
        for (run_id, status) in running {
            let settled = if status == "RUNNING" {
                settle(&pool, run_id).await
            } else {
                recover(&pool, run_id).await
            };
            if let Err(error) = settled {
                warn!(%run_id, %error, "cannot settle run");
            }
        }
    }
}
