//! Jobs and runs: creation, triggering (RunJob publishes the ExtractRequest), pause, resume,
//! cancel, and run history. Every query is tenant-scoped.

use chrono::{DateTime, Utc};
use sluice_plumbing::amqp::ReconnectingPublisher;
use sluice_plumbing::telemetry;
use sluice_proto::v1 as pb;
use sqlx::{PgPool, Postgres, Transaction};
use uuid::Uuid;

use crate::convert::{
    job_status, job_type_from_name, job_type_name, opt_timestamp, run_status, timestamp,
};
use crate::error::{OrchestratorError, Result};
use crate::integrations::IntegrationRow;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct JobRow {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub integration_id: Uuid,
    pub job_name: String,
    pub job_type: String,
    pub status: String,
    pub active: bool,
    pub schedule_interval_minutes: i32,
    pub retry_interval_minutes: i32,
    pub priority: i32,
    pub max_retries: i32,
    pub retry_count: i32,
    pub depends_on: Option<Uuid>,
    pub progress_percentage: f64,
    pub step_name: String,
    pub error_message: String,
    pub alert: String,
    pub current_run_id: Option<Uuid>,
    pub next_run_at: Option<DateTime<Utc>>,
    pub last_run_started_at: Option<DateTime<Utc>>,
    pub last_run_finished_at: Option<DateTime<Utc>>,
    pub last_sync_cursor: String,
}

pub const JOB_COLUMNS: &str = "id, tenant_id, integration_id, job_name, job_type, status, active,
    schedule_interval_minutes, retry_interval_minutes, priority, max_retries, retry_count, depends_on,
    progress_percentage, step_name, error_message, alert, current_run_id, next_run_at,
    last_run_started_at, last_run_finished_at, last_sync_cursor";

impl JobRow {
    pub fn to_proto(&self) -> pb::Job {
        pb::Job {
            id: self.id.to_string(),
            integration_id: self.integration_id.to_string(),
            job_name: self.job_name.clone(),
            job_type: job_type_from_name(&self.job_type) as i32,
            status: job_status(&self.status) as i32,
            active: self.active,
            schedule_interval_minutes: self.schedule_interval_minutes,
            retry_interval_minutes: self.retry_interval_minutes,
            priority: self.priority,
            max_retries: self.max_retries,
            retry_count: self.retry_count,
            depends_on: self.depends_on.map(|d| d.to_string()).unwrap_or_default(),
            progress_percentage: self.progress_percentage,
            step_name: self.step_name.clone(),
            error_message: self.error_message.clone(),
            next_run_at: opt_timestamp(self.next_run_at),
            last_run_started_at: opt_timestamp(self.last_run_started_at),
            last_run_finished_at: opt_timestamp(self.last_run_finished_at),
            last_sync_cursor: self.last_sync_cursor.clone(),
            current_run_id: self
                .current_run_id
                .map(|d| d.to_string())
                .unwrap_or_default(),
            alert: self.alert.clone(),
        }
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RunRow {
    pub id: Uuid,
    pub job_id: Uuid,
    pub integration_id: Uuid,
    pub status: String,
    pub trigger: String,
    pub step: i32,
    pub step_name: String,
    pub progress_percentage: f64,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub records_extracted: i64,
    pub records_transformed: i64,
    pub records_loaded: i64,
    pub batches_produced: i64,
    pub batches_loaded: i64,
    pub api_calls: i64,
    pub errors: i64,
    pub error_message: String,
    pub alert: String,
    pub peak_memory_bytes: i64,
    pub vectors_queued: i64,
    pub trace_id: String,
    pub issues_fetched: i64,
    pub issues_loaded: i64,
    pub pull_requests: i64,
    pub commits: i64,
    pub reviews: i64,
    pub comments: i64,
    pub rate_limit_wait_ms: i64,
    pub vectors_done: i64,
    pub records_quarantined: i64,
    pub warning: String,
    pub throttled_responses: i64,
    pub peak_request_rate: f64,
    pub bytes_received: i64,
    pub dev_status_issues: i64,
    pub dev_status_done: i64,
    pub graphql_points: i64,
    pub rest_budget_remaining: Option<i64>,
    pub graphql_budget_remaining: Option<i64>,
    pub projected_finish_at: Option<DateTime<Utc>>,
}

pub const RUN_COLUMNS: &str = "id, job_id, integration_id, status, trigger, step, step_name,
    progress_percentage, started_at, finished_at, records_extracted, records_transformed, records_loaded,
    batches_produced, batches_loaded, api_calls, errors, error_message, alert, peak_memory_bytes,
    vectors_queued, trace_id, issues_fetched, issues_loaded, pull_requests, commits, reviews, comments,
    rate_limit_wait_ms, vectors_done, records_quarantined, warning, throttled_responses,
    peak_request_rate, bytes_received, dev_status_issues, dev_status_done, graphql_points,
    rest_budget_remaining, graphql_budget_remaining, projected_finish_at";

impl RunRow {
    pub fn to_proto(&self) -> pb::JobRun {
        let duration_ms = self
            .finished_at
            .unwrap_or_else(Utc::now)
            .signed_duration_since(self.started_at)
            .num_milliseconds();
        pb::JobRun {
            id: self.id.to_string(),
            job_id: self.job_id.to_string(),
            integration_id: self.integration_id.to_string(),
            status: run_status(&self.status) as i32,
            step_name: self.step_name.clone(),
            step: self.step,
            progress_percentage: self.progress_percentage,
            started_at: Some(timestamp(self.started_at)),
            finished_at: opt_timestamp(self.finished_at),
            duration_ms,
            counts: Some(self.counts()),
            error_message: self.error_message.clone(),
            trace_id: self.trace_id.clone(),
            trigger: self.trigger.clone(),
            alert: self.alert.clone(),
            warning: self.warning.clone(),
        }
    }

    pub fn counts(&self) -> pb::RunCounts {
        pb::RunCounts {
            records_extracted: self.records_extracted,
            records_transformed: self.records_transformed,
            records_loaded: self.records_loaded,
            batches_produced: self.batches_produced,
            batches_loaded: self.batches_loaded,
            api_calls: self.api_calls,
            errors: self.errors,
            vectors_queued: self.vectors_queued,
            peak_memory_bytes: self.peak_memory_bytes,
            issues_fetched: self.issues_fetched,
            issues_loaded: self.issues_loaded,
            pull_requests: self.pull_requests,
            commits: self.commits,
            reviews: self.reviews,
            comments: self.comments,
            rate_limit_wait_ms: self.rate_limit_wait_ms,
            vectors_done: self.vectors_done,
            records_quarantined: self.records_quarantined,
            throttled_responses: self.throttled_responses,
            peak_request_rate: self.peak_request_rate,
            bytes_received: self.bytes_received,
            dev_status_issues: self.dev_status_issues,
            dev_status_done: self.dev_status_done,
            graphql_points: self.graphql_points,
            rest_budget_remaining: self.rest_budget_remaining,
            graphql_budget_remaining: self.graphql_budget_remaining,
            projected_finish: opt_timestamp(self.projected_finish_at),
        }
    }
}

/// Steps of the five-step Jira progress model a job type runs.
pub fn steps_of(job_type: &str) -> Option<Vec<i32>> {
    match job_type {
        "jira_sync" => Some(vec![1, 2]),
        "jira_issues" => Some(vec![1, 2, 3, 4, 5]),
        // Discovery has one step of its own (field list + createmeta per project).
        "jira_discovery" => Some(vec![1]),
        // 1 repositories, 2 pull requests with their details and comments (per repository).
        "github_sync" => Some(vec![1, 2]),
        _ => None,
    }
}

/// The id of the integration's job of `job_type`, created with defaults if it has none.
pub async fn ensure_job(
    pool: &PgPool,
    tenant_id: Uuid,
    integration_id: Uuid,
    job_type: &str,
) -> Result<Uuid> {
    let integration = crate::integrations::get(pool, tenant_id, integration_id).await?;
    if !job_type.starts_with(integration.integration_type.as_str()) {
        return Err(OrchestratorError::FailedPrecondition(format!(
            "{job_type} does not apply to a {} integration",
            integration.integration_type
        )));
    }
    let existing: Option<Uuid> = sqlx::query_scalar(
        "SELECT id FROM etl_jobs WHERE tenant_id = $1 AND integration_id = $2 AND job_type = $3 ORDER BY created_at LIMIT 1",
    )
    .bind(tenant_id)
    .bind(integration_id)
    .bind(job_type)
    .fetch_optional(pool)
    .await?;
    if let Some(id) = existing {
        return Ok(id);
    }
    let id: Uuid = sqlx::query_scalar(
        "INSERT INTO etl_jobs (id, tenant_id, integration_id, job_name, job_type, status, schedule_interval_minutes, next_run_at)
         VALUES ($1, $2, $3, $4, $4, 'READY', 1440, now())
         ON CONFLICT (tenant_id, integration_id, job_name) DO UPDATE SET updated_at = now()
         RETURNING id",
    )
    .bind(Uuid::new_v4())
    .bind(tenant_id)
    .bind(integration_id)
    .bind(job_type)
    .fetch_one(pool)
    .await?;
    Ok(id)
}

/// Jobs every new integration gets. Jira: custom field discovery daily, then the issues
/// sync (all five steps) every 6 hours, depending on discovery.
pub async fn create_default_jobs(
    tx: &mut Transaction<'_, Postgres>,
    integration: &IntegrationRow,
) -> Result<Vec<Uuid>> {
    // (name, type, interval in minutes, depends on the previous job)
    let defaults: &[(&str, i32, bool)] = match integration.integration_type.as_str() {
        "jira" => &[("jira_discovery", 1440, false), ("jira_issues", 360, true)],
        "github" => &[("github_sync", 60, false)],
        _ => &[],
    };
    let mut ids: Vec<Uuid> = Vec::new();
    for (job_type, interval, depends) in defaults {
        let id = Uuid::new_v4();
        let depends_on = if *depends { ids.last().copied() } else { None };
        sqlx::query(
            "INSERT INTO etl_jobs (id, tenant_id, integration_id, job_name, job_type, status, schedule_interval_minutes,
                 depends_on, next_run_at)
             VALUES ($1, $2, $3, $4, $4, 'READY', $5, $6, now())",
        )
        .bind(id)
        .bind(integration.tenant_id)
        .bind(integration.id)
        .bind(job_type)
        .bind(interval)
        .bind(depends_on)
        .execute(&mut **tx)
        .await?;
        ids.push(id);
    }
    Ok(ids)
}

pub async fn create(
    pool: &PgPool,
    tenant_id: Uuid,
    request: pb::CreateJobRequest,
) -> Result<JobRow> {
    let integration_id = parse("integration_id", &request.integration_id)?;
    let integration = crate::integrations::get(pool, tenant_id, integration_id).await?;
    let job_type = pb::JobType::try_from(request.job_type)
        .ok()
        .and_then(job_type_name)
        .ok_or_else(|| {
            OrchestratorError::invalid("job_type", "is required (e.g. JOB_TYPE_JIRA_SYNC)")
        })?;
    if !job_type.starts_with(integration.integration_type.as_str()) {
        return Err(OrchestratorError::invalid(
            "job_type",
            format!(
                "{job_type} does not apply to a {} integration",
                integration.integration_type
            ),
        ));
    }
    let job_name = match request.job_name.trim() {
        "" => job_type.to_string(),
        name if name.chars().count() <= 100 => name.to_string(),
        _ => {
            return Err(OrchestratorError::invalid(
                "job_name",
                "must be at most 100 characters",
            ));
        }
    };
    let positive = |field: &str, value: i32, default: i32| match value {
        0 => Ok(default),
        v if v > 0 => Ok(v),
        _ => Err(OrchestratorError::invalid(field, "must be positive")),
    };
    let schedule = positive(
        "schedule_interval_minutes",
        request.schedule_interval_minutes,
        360,
    )?;
    let retry = positive("retry_interval_minutes", request.retry_interval_minutes, 15)?;
    if request.max_retries < 0 {
        return Err(OrchestratorError::invalid(
            "max_retries",
            "must not be negative",
        ));
    }
    let depends_on = match request.depends_on.trim() {
        "" => None,
        dep => {
            let dep = parse("depends_on", dep)?;
            get(pool, tenant_id, dep).await.map_err(|_| {
                OrchestratorError::invalid("depends_on", format!("job {dep} not found"))
            })?;
            Some(dep)
        }
    };
    let row: Option<JobRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "INSERT INTO etl_jobs (id, tenant_id, integration_id, job_name, job_type, status,
             schedule_interval_minutes, retry_interval_minutes, priority, max_retries, depends_on, next_run_at)
         VALUES ($1, $2, $3, $4, $5, 'READY', $6, $7, $8, $9, $10, now())
         ON CONFLICT (tenant_id, integration_id, job_name) DO NOTHING
         RETURNING {JOB_COLUMNS}"
    )))
    .bind(Uuid::new_v4())
    .bind(tenant_id)
    .bind(integration_id)
    .bind(&job_name)
    .bind(job_type)
    .bind(schedule)
    .bind(retry)
    .bind(if request.priority == 0 { 100 } else { request.priority })
    .bind(if request.max_retries == 0 { 3 } else { request.max_retries })
    .bind(depends_on)
    .fetch_optional(pool)
    .await?;
    row.ok_or_else(|| {
        OrchestratorError::AlreadyExists(format!(
            "integration already has a job named {job_name:?}"
        ))
    })
}

pub async fn update(
    pool: &PgPool,
    tenant_id: Uuid,
    request: pb::UpdateJobRequest,
) -> Result<JobRow> {
    let id = parse("id", &request.id)?;
    for (field, value) in [
        (
            "schedule_interval_minutes",
            request.schedule_interval_minutes,
        ),
        ("retry_interval_minutes", request.retry_interval_minutes),
    ] {
        if value.is_some_and(|v| v <= 0) {
            return Err(OrchestratorError::invalid(field, "must be positive"));
        }
    }
    if request.max_retries.is_some_and(|v| v < 0) {
        return Err(OrchestratorError::invalid(
            "max_retries",
            "must not be negative",
        ));
    }
    let depends_on = match request.depends_on.as_deref().map(str::trim) {
        None => None,
        Some("") => Some(None),
        Some(dep) => {
            let dep = parse("depends_on", dep)?;
            if dep == id {
                return Err(OrchestratorError::invalid(
                    "depends_on",
                    "a job cannot depend on itself",
                ));
            }
            get(pool, tenant_id, dep).await.map_err(|_| {
                OrchestratorError::invalid("depends_on", format!("job {dep} not found"))
            })?;
            Some(Some(dep))
        }
    };
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "UPDATE etl_jobs SET
             schedule_interval_minutes = COALESCE($3, schedule_interval_minutes),
             retry_interval_minutes = COALESCE($4, retry_interval_minutes),
             priority = COALESCE($5, priority),
             max_retries = COALESCE($6, max_retries),
             depends_on = CASE WHEN $7 THEN $8 ELSE depends_on END,
             active = COALESCE($9, active),
             updated_at = now()
         WHERE id = $1 AND tenant_id = $2 RETURNING {JOB_COLUMNS}"
    )))
    .bind(id)
    .bind(tenant_id)
    .bind(request.schedule_interval_minutes)
    .bind(request.retry_interval_minutes)
    .bind(request.priority)
    .bind(request.max_retries)
    .bind(depends_on.is_some())
    .bind(depends_on.flatten())
    .bind(request.active)
    .fetch_optional(pool)
    .await?
    .ok_or(OrchestratorError::NotFound {
        what: "job",
        id: id.to_string(),
    })
}

pub async fn get(pool: &PgPool, tenant_id: Uuid, id: Uuid) -> Result<JobRow> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {JOB_COLUMNS} FROM etl_jobs WHERE id = $1 AND tenant_id = $2"
    )))
    .bind(id)
    .bind(tenant_id)
    .fetch_optional(pool)
    .await?
    .ok_or(OrchestratorError::NotFound {
        what: "job",
        id: id.to_string(),
    })
}

pub async fn list(
    pool: &PgPool,
    tenant_id: Uuid,
    integration_id: Option<Uuid>,
    offset: i64,
    limit: i64,
) -> Result<Vec<JobRow>> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {JOB_COLUMNS} FROM etl_jobs WHERE tenant_id = $1 AND ($2::uuid IS NULL OR integration_id = $2)
         ORDER BY priority, job_name, id OFFSET $3 LIMIT $4"
    )))
    .bind(tenant_id)
    .bind(integration_id)
    .bind(offset)
    .bind(limit)
    .fetch_all(pool)
    .await?)
}

pub async fn last_run(pool: &PgPool, tenant_id: Uuid, job_id: Uuid) -> Result<Option<RunRow>> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {RUN_COLUMNS} FROM job_runs WHERE job_id = $1 AND tenant_id = $2 ORDER BY started_at DESC, id LIMIT 1"
    )))
    .bind(job_id)
    .bind(tenant_id)
    .fetch_optional(pool)
    .await?)
}

pub async fn get_run(pool: &PgPool, tenant_id: Uuid, run_id: Uuid) -> Result<RunRow> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {RUN_COLUMNS} FROM job_runs WHERE id = $1 AND tenant_id = $2"
    )))
    .bind(run_id)
    .bind(tenant_id)
    .fetch_optional(pool)
    .await?
    .ok_or(OrchestratorError::NotFound {
        what: "job run",
        id: run_id.to_string(),
    })
}

pub async fn list_runs(
    pool: &PgPool,
    tenant_id: Uuid,
    job_id: Uuid,
    offset: i64,
    limit: i64,
) -> Result<Vec<RunRow>> {
    get(pool, tenant_id, job_id).await?;
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {RUN_COLUMNS} FROM job_runs WHERE job_id = $1 AND tenant_id = $2
         ORDER BY started_at DESC, id OFFSET $3 LIMIT $4"
    )))
    .bind(job_id)
    .bind(tenant_id)
    .bind(offset)
    .bind(limit)
    .fetch_all(pool)
    .await?)
}

/// Starts a run now: records it, marks the job RUNNING, and queues the extraction.
/// A started run: recorded, its job marked RUNNING, its trace begun.
pub struct StartedRun {
    pub job: JobRow,
    pub run: RunRow,
    pub context: pb::RunContext,
    pub span: tracing::Span,
}

/// Records a new RUNNING run of the job, unless the job is running, paused, or its
/// integration inactive.
pub async fn begin_run(
    pool: &PgPool,
    tenant_id: Uuid,
    job_id: Uuid,
    trigger: &str,
) -> Result<StartedRun> {
    let mut tx = pool.begin().await?;
    let job: JobRow = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {JOB_COLUMNS} FROM etl_jobs WHERE id = $1 AND tenant_id = $2 FOR UPDATE"
    )))
    .bind(job_id)
    .bind(tenant_id)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(OrchestratorError::NotFound {
        what: "job",
        id: job_id.to_string(),
    })?;
    if job.status == "RUNNING" {
        return Err(OrchestratorError::FailedPrecondition(format!(
            "job {job_id} is already running (run {})",
            job.current_run_id
                .map(|r| r.to_string())
                .unwrap_or_default()
        )));
    }
    if job.status == "PAUSED" {
        return Err(OrchestratorError::FailedPrecondition(format!(
            "job {job_id} is paused: ResumeJob first"
        )));
    }
    if !integration_active(&mut tx, tenant_id, job.integration_id).await? {
        return Err(OrchestratorError::FailedPrecondition(format!(
            "integration {} is inactive: activate it with SetIntegrationActive",
            job.integration_id
        )));
    }
    let started = begin_locked(&mut tx, tenant_id, job, trigger).await?;
    tx.commit().await?;
    Ok(started)
}

pub async fn integration_active(
    tx: &mut Transaction<'_, Postgres>,
    tenant_id: Uuid,
    integration_id: Uuid,
) -> Result<bool> {
    Ok(
        sqlx::query_scalar("SELECT active FROM integrations WHERE id = $1 AND tenant_id = $2")
            .bind(integration_id)
            .bind(tenant_id)
            .fetch_one(&mut **tx)
            .await?,
    )
}

/// Records a RUNNING run of `job`, whose row the caller holds locked in `tx`.
pub async fn begin_locked(
    tx: &mut Transaction<'_, Postgres>,
    tenant_id: Uuid,
    job: JobRow,
    trigger: &str,
) -> Result<StartedRun> {
    let job_id = job.id;
    let run_id = Uuid::new_v4();
    let span = tracing::info_span!("job.run", %run_id, %job_id, job_type = %job.job_type, %trigger);
    let (trace_id, trace) = {
        let _enter = span.enter();
        (
            telemetry::current_trace_id(),
            telemetry::current_trace_context(),
        )
    };
    let run: RunRow = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "INSERT INTO job_runs (id, tenant_id, job_id, integration_id, status, trigger, trace_id)
         VALUES ($1, $2, $3, $4, 'RUNNING', $5, $6) RETURNING {RUN_COLUMNS}"
    )))
    .bind(run_id)
    .bind(tenant_id)
    .bind(job_id)
    .bind(job.integration_id)
    .bind(trigger)
    .bind(&trace_id)
    .fetch_one(&mut **tx)
    .await?;
    sqlx::query(
        "UPDATE etl_jobs SET status = 'RUNNING', current_run_id = $2, last_run_started_at = now(),
             progress_percentage = 0, step_name = '', error_message = '', alert = '', updated_at = now()
         WHERE id = $1",
    )
    .bind(job_id)
    .bind(run_id)
    .execute(&mut **tx)
    .await?;
    let context = pb::RunContext {
        tenant_id: tenant_id.to_string(),
        integration_id: job.integration_id.to_string(),
        job_id: job_id.to_string(),
        run_id: run_id.to_string(),
        trace: Some(trace),
    };
    Ok(StartedRun {
        job,
        run,
        context,
        span,
    })
}

/// Starts a run now: records it, marks the job RUNNING, and queues the extraction.
pub async fn run_now(
    pool: &PgPool,
    publisher: &ReconnectingPublisher,
    tenant_id: Uuid,
    job_id: Uuid,
    trigger: &str,
    project_key: &str,
) -> Result<RunRow> {
    let job_type: Option<String> =
        sqlx::query_scalar("SELECT job_type FROM etl_jobs WHERE id = $1 AND tenant_id = $2")
            .bind(job_id)
            .bind(tenant_id)
            .fetch_optional(pool)
            .await?;
    let job_type = job_type.ok_or(OrchestratorError::NotFound {
        what: "job",
        id: job_id.to_string(),
    })?;
    if steps_of(&job_type).is_none() {
        return Err(OrchestratorError::Unimplemented(format!(
            "running {job_type} jobs is not implemented yet"
        )));
    }
    let started = begin_run(pool, tenant_id, job_id, trigger).await?;
    let run = started.run.clone();
    publish_extraction(pool, publisher, started, project_key).await?;
    Ok(run)
}

/// Queues the extraction of a started run; a run whose request cannot be queued fails
/// (and is retried by the job's retry settings).
pub async fn publish_extraction(
    pool: &PgPool,
    publisher: &ReconnectingPublisher,
    started: StartedRun,
    project_key: &str,
) -> Result<()> {
    let StartedRun {
        job,
        run,
        context,
        span,
    } = started;
    let run_id = run.id;
    let job_id = job.id;
    let Some(steps) = steps_of(&job.job_type) else {
        let message = format!("running {} jobs is not implemented yet", job.job_type);
        crate::runs::fail_run(pool, run_id, &message).await?;
        return Err(OrchestratorError::Unimplemented(message));
    };
    let scope_cursors: Vec<(String, chrono::DateTime<chrono::Utc>)> =
        sqlx::query_as("SELECT scope, cursor FROM sync_cursors WHERE job_id = $1")
            .bind(job_id)
            .fetch_all(pool)
            .await?;
    let request = pb::ExtractRequest {
        run: Some(context),
        job_type: job_type_from_name(&job.job_type) as i32,
        steps,
        cursor: job.last_sync_cursor.clone(),
        project_key: project_key.to_string(),
        scope_cursors: sluice_plumbing::cursors::ScopeCursors::to_request(&scope_cursors),
    };
    let queue = publisher.topology().extract();
    let published = {
        use tracing::Instrument;
        publisher
            .publish(&queue, &request)
            .instrument(span.clone())
            .await
    };
    if let Err(error) = published {
        let message = format!("could not queue the extraction: {error}");
        crate::runs::fail_run(pool, run_id, &message).await?;
        return Err(OrchestratorError::Unavailable(message));
    }
    span.in_scope(|| tracing::info!(%run_id, %job_id, trigger = %run.trigger, "run started"));
    Ok(())
}

pub async fn pause(pool: &PgPool, tenant_id: Uuid, id: Uuid) -> Result<JobRow> {
    let job = get(pool, tenant_id, id).await?;
    if job.status == "RUNNING" {
        return Err(OrchestratorError::FailedPrecondition(format!(
            "job {id} is running: CancelJob first, or pause it once the run ends"
        )));
    }
    set_status(pool, tenant_id, id, "PAUSED").await
}

pub async fn resume(pool: &PgPool, tenant_id: Uuid, id: Uuid) -> Result<JobRow> {
    let job = get(pool, tenant_id, id).await?;
    if job.status != "PAUSED" {
        return Err(OrchestratorError::FailedPrecondition(format!(
            "job {id} is not paused (it is {})",
            job.status
        )));
    }
    set_status(pool, tenant_id, id, "READY").await
}

async fn set_status(pool: &PgPool, tenant_id: Uuid, id: Uuid, status: &str) -> Result<JobRow> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "UPDATE etl_jobs SET status = $3, updated_at = now() WHERE id = $1 AND tenant_id = $2 RETURNING {JOB_COLUMNS}"
    )))
    .bind(id)
    .bind(tenant_id)
    .bind(status)
    .fetch_optional(pool)
    .await?
    .ok_or(OrchestratorError::NotFound { what: "job", id: id.to_string() })
}

/// Cancels the current run: workers are told to stop at their next report; batches already
/// queued are dropped by the loader's run-status check or land harmlessly (upserts).
pub async fn cancel(pool: &PgPool, tenant_id: Uuid, id: Uuid) -> Result<(JobRow, Option<RunRow>)> {
    let job = get(pool, tenant_id, id).await?;
    let Some(run_id) = job.current_run_id.filter(|_| job.status == "RUNNING") else {
        return Err(OrchestratorError::FailedPrecondition(format!(
            "job {id} has no running run to cancel"
        )));
    };
    crate::runs::finish_run(pool, run_id, "CANCELLED", "cancelled by the user").await?;
    let job = get(pool, tenant_id, id).await?;
    let run = get_run(pool, tenant_id, run_id).await?;
    Ok((job, Some(run)))
}

pub fn parse(field: &str, value: &str) -> Result<Uuid> {
    if value.trim().is_empty() {
        return Err(OrchestratorError::invalid(field, "is required"));
    }
    Uuid::parse_str(value.trim())
        .map_err(|_| OrchestratorError::invalid(field, format!("must be a UUID, got {value:?}")))
}
