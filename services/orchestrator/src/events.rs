//! Live job events for WatchJobs. Triggers on `job_runs` and `etl_jobs` send each change, with
//! its values, on the PostgreSQL channel `sluice_job_events` when the writing transaction
//! commits (so events arrive in commit order, from whichever orchestrator or worker made the
//! change). One listener per orchestrator fans them out through a broadcast channel; a
//! subscriber that falls behind loses intermediate events and gets the current state again
//! instead, so a slow subscriber never holds up anyone else.

use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use sluice_proto::v1 as pb;
use sqlx::PgPool;
use sqlx::postgres::PgListener;
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;
use tracing::{debug, warn};
use uuid::Uuid;

use crate::convert::{job_status, run_status, timestamp};
use crate::error::Result;

pub const CHANNEL: &str = "sluice_job_events";

/// What the listener broadcasts.
#[derive(Debug, Clone)]
pub enum Change {
    Event(Arc<(Uuid, pb::JobEvent)>),
    /// Notifications may have been missed (the listener reconnected): subscribers re-read.
    Resync,
}

#[derive(Clone)]
pub struct JobEvents {
    sender: broadcast::Sender<Change>,
    /// Streams end when the orchestrator shuts down (a graceful shutdown waits for open
    /// streams, and watchers never close theirs).
    shutdown: CancellationToken,
}

impl JobEvents {
    pub fn new(capacity: usize, shutdown: CancellationToken) -> Self {
        JobEvents {
            sender: broadcast::channel(capacity).0,
            shutdown,
        }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Change> {
        self.sender.subscribe()
    }

    /// Listens on the channel until `shutdown`, reconnecting with backoff.
    pub async fn listen(self, pool: PgPool, shutdown: CancellationToken) {
        let mut delay = Duration::from_millis(200);
        while !shutdown.is_cancelled() {
            match self.listen_session(&pool, &shutdown).await {
                Ok(()) => return,
                Err(error) => {
                    warn!(%error, retry_in_ms = delay.as_millis() as u64, "job event listener lost its connection");
                    let _ = self.sender.send(Change::Resync);
                    tokio::select! {
                        _ = shutdown.cancelled() => return,
                        _ = tokio::time::sleep(delay) => {}
                    }
                    delay = (delay * 2).min(Duration::from_secs(5));
                }
            }
        }
    }

    async fn listen_session(
        &self,
        pool: &PgPool,
        shutdown: &CancellationToken,
    ) -> std::result::Result<(), sqlx::Error> {
        let mut listener = PgListener::connect_with(pool).await?;
        listener.listen(CHANNEL).await?;
        // Whatever happened while not listening is only visible by reading again.
        let _ = self.sender.send(Change::Resync);
        loop {
            let notification = tokio::select! {
                _ = shutdown.cancelled() => return Ok(()),
                next = listener.try_recv() => next?,
            };
            let Some(notification) = notification else {
                // The connection dropped; try_recv reconnects on the next call.
                let _ = self.sender.send(Change::Resync);
                continue;
            };
            match serde_json::from_str::<EventRow>(notification.payload()) {
                Ok(row) => {
                    let tenant = row.tenant_id;
                    // No subscriber is not an error.
                    let _ = self
                        .sender
                        .send(Change::Event(Arc::new((tenant, row.into_event(false)))));
                }
                Err(error) => debug!(%error, "unreadable job event ignored"),
            }
        }
    }
}

/// The JSON built by `sluice_job_event()` (migration 20261128000001).
#[derive(Debug, Deserialize, sqlx::FromRow)]
pub struct EventRow {
    pub tenant_id: Uuid,
    pub job_id: Uuid,
    pub job_status: String,
    #[serde(default)]
    pub job_error: String,
    #[serde(default)]
    pub job_alert: String,
    #[serde(default)]
    pub job_progress: f64,
    #[serde(default)]
    pub job_step_name: String,
    pub run_id: Option<Uuid>,
    pub run_status: Option<String>,
    pub step: Option<i32>,
    pub step_name: Option<String>,
    pub progress: Option<f64>,
    pub run_error: Option<String>,
    pub records_extracted: Option<i64>,
    pub records_transformed: Option<i64>,
    pub records_loaded: Option<i64>,
    pub batches_produced: Option<i64>,
    pub batches_loaded: Option<i64>,
    pub api_calls: Option<i64>,
    pub errors: Option<i64>,
    pub vectors_queued: Option<i64>,
    pub peak_memory_bytes: Option<i64>,
    pub issues_fetched: Option<i64>,
    pub issues_loaded: Option<i64>,
    #[serde(default)]
    pub pull_requests: Option<i64>,
    #[serde(default)]
    pub commits: Option<i64>,
    #[serde(default)]
    pub reviews: Option<i64>,
    #[serde(default)]
    pub comments: Option<i64>,
    #[serde(default)]
    pub rate_limit_wait_ms: Option<i64>,
    #[serde(default)]
    pub vectors_done: Option<i64>,
    #[serde(default)]
    pub records_quarantined: Option<i64>,
    #[serde(default)]
    pub warning: Option<String>,
    #[serde(default)]
    pub throttled_responses: Option<i64>,
    #[serde(default)]
    pub peak_request_rate: Option<f64>,
    #[serde(default)]
    pub bytes_received: Option<i64>,
    #[serde(default)]
    pub dev_status_issues: Option<i64>,
    #[serde(default)]
    pub dev_status_done: Option<i64>,
    #[serde(default)]
    pub graphql_points: Option<i64>,
    #[serde(default)]
    pub rest_budget_remaining: Option<i64>,
    #[serde(default)]
    pub graphql_budget_remaining: Option<i64>,
    #[serde(default)]
    pub projected_finish_at: Option<chrono::DateTime<chrono::Utc>>,
    #[serde(default)]
    pub next_run_at: Option<chrono::DateTime<chrono::Utc>>,
    #[serde(default)]
    pub last_run_started_at: Option<chrono::DateTime<chrono::Utc>>,
    #[serde(default)]
    pub last_run_finished_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl EventRow {
    pub fn into_event(self, snapshot: bool) -> pb::JobEvent {
        let error = match self.run_error.as_deref() {
            Some(error) if !error.is_empty() => error.to_string(),
            _ => self.job_error,
        };
        pb::JobEvent {
            job_id: self.job_id.to_string(),
            run_id: self.run_id.map(|r| r.to_string()).unwrap_or_default(),
            job_status: job_status(&self.job_status) as i32,
            run_status: self
                .run_status
                .as_deref()
                .map(run_status)
                .unwrap_or(pb::RunStatus::Unspecified) as i32,
            step_name: self.step_name.unwrap_or(self.job_step_name),
            step: self.step.unwrap_or(0),
            progress_percentage: self.progress.unwrap_or(self.job_progress),
            counts: self.run_id.map(|_| pb::RunCounts {
                records_extracted: self.records_extracted.unwrap_or(0),
                records_transformed: self.records_transformed.unwrap_or(0),
                records_loaded: self.records_loaded.unwrap_or(0),
                batches_produced: self.batches_produced.unwrap_or(0),
                batches_loaded: self.batches_loaded.unwrap_or(0),
                api_calls: self.api_calls.unwrap_or(0),
                errors: self.errors.unwrap_or(0),
                vectors_queued: self.vectors_queued.unwrap_or(0),
                peak_memory_bytes: self.peak_memory_bytes.unwrap_or(0),
                issues_fetched: self.issues_fetched.unwrap_or(0),
                issues_loaded: self.issues_loaded.unwrap_or(0),
                pull_requests: self.pull_requests.unwrap_or(0),
                commits: self.commits.unwrap_or(0),
                reviews: self.reviews.unwrap_or(0),
                comments: self.comments.unwrap_or(0),
                rate_limit_wait_ms: self.rate_limit_wait_ms.unwrap_or(0),
                vectors_done: self.vectors_done.unwrap_or(0),
                records_quarantined: self.records_quarantined.unwrap_or(0),
                throttled_responses: self.throttled_responses.unwrap_or(0),
                peak_request_rate: self.peak_request_rate.unwrap_or(0.0),
                bytes_received: self.bytes_received.unwrap_or(0),
                dev_status_issues: self.dev_status_issues.unwrap_or(0),
                dev_status_done: self.dev_status_done.unwrap_or(0),
                graphql_points: self.graphql_points.unwrap_or(0),
                rest_budget_remaining: self.rest_budget_remaining,
                graphql_budget_remaining: self.graphql_budget_remaining,
                projected_finish: self.projected_finish_at.map(timestamp),
            }),
            error_message: error,
            at: Some(timestamp(chrono::Utc::now())),
            tenant_id: self.tenant_id.to_string(),
            alert: self.job_alert,
            snapshot,
            warning: self.warning.unwrap_or_default(),
            next_run_at: self.next_run_at.map(timestamp),
            last_run_started_at: self.last_run_started_at.map(timestamp),
            last_run_finished_at: self.last_run_finished_at.map(timestamp),
        }
    }
}

/// The current state of the tenant's jobs (or one job), as events.
pub async fn snapshot(
    pool: &PgPool,
    tenant_id: Uuid,
    job_id: Option<Uuid>,
) -> Result<Vec<pb::JobEvent>> {
    let documents: Vec<String> = sqlx::query_scalar(
        "SELECT sluice_job_event(id, NULL) FROM etl_jobs
         WHERE tenant_id = $1 AND ($2::uuid IS NULL OR id = $2) ORDER BY priority, job_name, id",
    )
    .bind(tenant_id)
    .bind(job_id)
    .fetch_all(pool)
    .await?;
    Ok(documents
        .iter()
        .filter_map(|d| serde_json::from_str::<EventRow>(d).ok())
        .map(|row| row.into_event(true))
        .collect())
}

/// The stream one subscriber receives: the current state, then every change of its jobs.
pub fn subscribe(
    pool: PgPool,
    events: &JobEvents,
    tenant_id: Uuid,
    job_id: Option<Uuid>,
    buffer: usize,
) -> tokio::sync::mpsc::Receiver<std::result::Result<pb::JobEvent, tonic::Status>> {
    // Subscribed before the first read: nothing between the two is missed.
    let mut changes = events.subscribe();
    let shutdown = events.shutdown.clone();
    let (sender, receiver) = tokio::sync::mpsc::channel(buffer);
    tokio::spawn(async move {
        let mut resync = true;
        loop {
            if resync {
                resync = false;
                match snapshot(&pool, tenant_id, job_id).await {
                    Ok(current) => {
                        for event in current {
                            if sender.send(Ok(event)).await.is_err() {
                                return;
                            }
                        }
                    }
                    Err(error) => {
                        let _ = sender
                            .send(Err(tonic::Status::unavailable(format!(
                                "cannot read the jobs' state: {error}"
                            ))))
                            .await;
                        return;
                    }
                }
            }
            let change = tokio::select! {
                _ = sender.closed() => return,
                _ = shutdown.cancelled() => return,
                change = changes.recv() => change,
            };
            match change {
                Ok(Change::Event(event)) => {
                    let (tenant, event) = &*event;
                    let wanted = *tenant == tenant_id
                        && job_id.is_none_or(|job| event.job_id == job.to_string());
                    if wanted && sender.send(Ok(event.clone())).await.is_err() {
                        return;
                    }
                }
                Ok(Change::Resync) | Err(broadcast::error::RecvError::Lagged(_)) => resync = true,
                Err(broadcast::error::RecvError::Closed) => return,
            }
        }
    });
    receiver
}
