//! The scheduler: starts due jobs by priority, honouring `depends_on`, and fails runs whose
//! workers stopped reporting so they are retried rather than left RUNNING forever.
//!
//! Any number of orchestrators may run it against one database: a tick takes a
//! transaction-scoped advisory lock (one scheduler at a time decides; the others skip the
//! tick), and the due jobs are locked `FOR UPDATE SKIP LOCKED`, so a job started by RunJob at
//! the same moment is never started twice.

use std::sync::Arc;
use std::time::Duration;

use sluice_plumbing::amqp::ReconnectingPublisher;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};
use uuid::Uuid;

use crate::error::Result;
use crate::jobs::{self, JOB_COLUMNS, JobRow, StartedRun};

/// Arbitrary, fixed key of the scheduler's advisory lock.
const SCHEDULER_LOCK: i64 = 0x51_1C3E_5C4E;

#[derive(Clone, Debug)]
pub struct SchedulerConfig {
    /// How often due jobs are looked for (`SLUICE_SCHEDULER_TICK_MS`, default 5 s).
    pub tick: Duration,
    /// Runs in flight at once across all orchestrators (`SLUICE_MAX_CONCURRENT_RUNS`, 8).
    pub max_concurrent_runs: i64,
    /// A RUNNING run with no worker report for this long is presumed lost, failed and
    /// retried (`SLUICE_RUN_LEASE_SECS`, default 600).
    pub run_lease: Duration,
}

impl Default for SchedulerConfig {
    fn default() -> Self {
        SchedulerConfig {
            tick: Duration::from_secs(5),
            max_concurrent_runs: 8,
            run_lease: Duration::from_secs(600),
        }
    }
}

/// Ticks until `shutdown`.
pub async fn scheduler_loop(
    pool: PgPool,
    publisher: Arc<ReconnectingPublisher>,
    config: SchedulerConfig,
    shutdown: CancellationToken,
) {
    info!(
        tick_ms = config.tick.as_millis() as u64,
        max_concurrent_runs = config.max_concurrent_runs,
        run_lease_s = config.run_lease.as_secs(),
        "scheduler started"
    );
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(config.tick) => {}
        }
        if let Err(error) = tick(&pool, &publisher, &config).await {
            warn!(%error, "scheduler tick failed; next tick retries");
        }
    }
}

/// One pass: expire lost runs, then start what is due. Returns the runs started.
pub async fn tick(
    pool: &PgPool,
    publisher: &ReconnectingPublisher,
    config: &SchedulerConfig,
) -> Result<usize> {
    expire_lost_runs(pool, config.run_lease).await?;
    let started = start_due(pool, config.max_concurrent_runs).await?;
    let count = started.len();
    for run in started {
        let run_id = run.run.id;
        // A publish failure has already failed the run (and scheduled its retry).
        if let Err(error) = jobs::publish_extraction(pool, publisher, run, "").await {
            warn!(%run_id, %error, "scheduled run could not start");
        }
    }
    Ok(count)
}

/// Fails RUNNING runs whose heartbeat is older than the lease and that cannot be settled:
/// the orchestrator died between recording a run and queueing it, or every worker holding
/// its work stopped. The job's retry settings bring it back.
async fn expire_lost_runs(pool: &PgPool, lease: Duration) -> Result<()> {
    let stale: Vec<Uuid> = sqlx::query_scalar(
        "SELECT id FROM job_runs WHERE status = 'RUNNING'
           AND heartbeat_at < now() - make_interval(secs => $1)",
    )
    .bind(lease.as_secs_f64())
    .fetch_all(pool)
    .await?;
    for run_id in stale {
        if crate::runs::settle(pool, run_id).await? {
            continue;
        }
        let message = format!(
            "no progress reported for {} s: the worker holding the run (or the orchestrator \
             that started it) stopped; retried per the job's retry settings",
            lease.as_secs()
        );
        warn!(%run_id, "run lease expired");
        crate::runs::fail_run(pool, run_id, &message).await?;
    }
    Ok(())
}

/// Records runs for the due jobs (by priority, then how long they have been due), within
/// the concurrency budget, and returns them for their extraction to be queued.
async fn start_due(pool: &PgPool, max_concurrent: i64) -> Result<Vec<StartedRun>> {
    let mut tx = pool.begin().await?;
    let leader: bool = sqlx::query_scalar("SELECT pg_try_advisory_xact_lock($1)")
        .bind(SCHEDULER_LOCK)
        .fetch_one(&mut *tx)
        .await?;
    if !leader {
        return Ok(Vec::new());
    }
    let running: i64 = sqlx::query_scalar("SELECT count(*) FROM etl_jobs WHERE status = 'RUNNING'")
        .fetch_one(&mut *tx)
        .await?;
    let capacity = max_concurrent - running;
    note_waiting_dependents(&mut tx).await?;
    if capacity <= 0 {
        tx.commit().await?;
        return Ok(Vec::new());
    }
    // A dependent job waits until its dependency's last run COMPLETED and the dependency is
    // not itself due or running: in a cycle where both are due, the dependency goes first.
    let due: Vec<JobRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {JOB_COLUMNS} FROM etl_jobs j
         WHERE j.active AND j.status NOT IN ('RUNNING', 'PAUSED') AND j.next_run_at <= now()
           AND (j.depends_on IS NULL OR EXISTS (
                SELECT 1 FROM etl_jobs d WHERE d.id = j.depends_on AND d.status = 'COMPLETED'
                  AND NOT (d.active AND d.next_run_at <= now())))
         ORDER BY j.priority, j.next_run_at, j.id
         LIMIT $1
         FOR UPDATE OF j SKIP LOCKED"
    )))
    .bind(capacity)
    .fetch_all(&mut *tx)
    .await?;
    let mut started = Vec::new();
    for job in due {
        let tenant_id = job.tenant_id;
        let skip = if !jobs::integration_active(&mut tx, tenant_id, job.integration_id).await? {
            Some(format!(
                "integration {} is inactive: scheduled run skipped (activate it with SetIntegrationActive)",
                job.integration_id
            ))
        } else if jobs::steps_of(&job.job_type).is_none() {
            Some(format!(
                "{} jobs are not implemented yet: scheduled run skipped",
                job.job_type
            ))
        } else {
            None
        };
        match skip {
            Some(alert) => skip_run(&mut tx, tenant_id, &job, &alert).await?,
            None => started.push(jobs::begin_locked(&mut tx, tenant_id, job, "schedule").await?),
        }
    }
    tx.commit().await?;
    Ok(started)
}

/// A due job that must not run finishes with an alert, recorded on a run of its own (so the
/// history shows it) and on the job; it comes round again at its regular schedule.
async fn skip_run(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    tenant_id: Uuid,
    job: &JobRow,
    alert: &str,
) -> Result<()> {
    let run_id = Uuid::new_v4();
    sqlx::query(
        "INSERT INTO job_runs (id, tenant_id, job_id, integration_id, status, trigger, finished_at,
             alert, step_name)
         VALUES ($1, $2, $3, $4, 'COMPLETED', 'schedule', now(), $5, 'skipped')",
    )
    .bind(run_id)
    .bind(tenant_id)
    .bind(job.id)
    .bind(job.integration_id)
    .bind(alert)
    .execute(&mut **tx)
    .await?;
    sqlx::query(
        "UPDATE etl_jobs SET alert = $2, last_run_started_at = now(), last_run_finished_at = now(),
             next_run_at = now() + make_interval(mins => schedule_interval_minutes), updated_at = now()
         WHERE id = $1",
    )
    .bind(job.id)
    .bind(alert)
    .execute(&mut **tx)
    .await?;
    crate::notifications::record_run_event(
        tx,
        crate::notifications::Event::JobSkipped,
        run_id,
        None,
    )
    .await?;
    warn!(job_id = %job.id, %alert, "scheduled run skipped");
    crate::runs::observe_outcome(&job.job_type, "skipped", 0.0);
    Ok(())
}

/// Due jobs held back by their dependency say so on their alert. A job held back because its
/// dependency FAILED is a skip the tenant hears about (JOB_SKIPPED), once per change of its
/// alert (not at every tick).
async fn note_waiting_dependents(tx: &mut sqlx::Transaction<'_, sqlx::Postgres>) -> Result<()> {
    let held: Vec<(Uuid, String)> = sqlx::query_as(
        "UPDATE etl_jobs j SET alert = format('waiting for job %s (%s) to complete', d.job_name, d.status)
         FROM etl_jobs d
         WHERE d.id = j.depends_on AND j.active AND j.status NOT IN ('RUNNING', 'PAUSED')
           AND j.next_run_at <= now()
           AND NOT (d.status = 'COMPLETED' AND NOT (d.active AND d.next_run_at <= now()))
           AND j.alert IS DISTINCT FROM format('waiting for job %s (%s) to complete', d.job_name, d.status)
         RETURNING j.id, d.status",
    )
    .fetch_all(&mut **tx)
    .await?;
    for (job_id, dependency_status) in held {
        if dependency_status == "FAILED" {
            crate::notifications::record_job_event(
                tx,
                crate::notifications::Event::JobSkipped,
                job_id,
            )
            .await?;
        }
    }
    Ok(())
}
