//! The outbox: each event is a `notification_deliveries` row per subscribed active channel,
//! inserted in the transaction of the change it reports (so an event is never lost, and
//! never sent for a change that rolled back), and the delivery log read from it.
//!
//! Payloads carry ids a receiver can act on and nothing else: no tenant id, no credentials.

use chrono::{DateTime, Utc};
use sluice_proto::v1 as pb;
use sqlx::{PgPool, Postgres, Transaction};
use uuid::Uuid;

use super::{Event, format};
use crate::convert::{opt_timestamp, timestamp};
use crate::error::{OrchestratorError, Result};

/// Active channels of the run's tenant subscribed to `$2` (empty events: all).
const SUBSCRIBED: &str = "c.active AND (cardinality(c.events) = 0 OR $2 = ANY(c.events))";

/// Queues `event` about the run for every subscribed channel of its tenant, in `tx`.
/// `retry_count` is the retries of the job used before this run ended (the job's own count
/// when None). Returns the deliveries queued.
pub async fn record_run_event(
    tx: &mut Transaction<'_, Postgres>,
    event: Event,
    run_id: Uuid,
    retry_count: Option<i32>,
) -> Result<u64> {
    let queued = sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO notification_deliveries (id, tenant_id, channel_id, event, payload)
         SELECT gen_random_uuid(), c.tenant_id, c.id, $2, e.payload
         FROM (SELECT r.tenant_id, jsonb_build_object(
                   'event', $2::text, 'occurred_at', now(),
                   'integration_id', r.integration_id, 'integration_name', i.name,
                   'integration_type', i.integration_type,
                   'job_id', j.id, 'job_name', j.job_name, 'job_type', j.job_type,
                   'run_id', r.id, 'status', r.status, 'trigger', r.trigger,
                   'error_message', r.error_message,
                   'alert', COALESCE(NULLIF(r.alert, ''), j.alert),
                   'retry_count', COALESCE($3, j.retry_count), 'max_retries', j.max_retries,
                   'next_run_at', j.next_run_at,
                   'started_at', r.started_at, 'finished_at', r.finished_at,
                   'trace_id', r.trace_id) AS payload
               FROM job_runs r
               JOIN etl_jobs j ON j.id = r.job_id
               JOIN integrations i ON i.id = r.integration_id
               WHERE r.id = $1) e
         JOIN notification_channels c ON c.tenant_id = e.tenant_id
         WHERE {SUBSCRIBED}"
    )))
    .bind(run_id)
    .bind(event.name())
    .bind(retry_count)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    if queued > 0 {
        tracing::debug!(%run_id, event = event.name(), queued, "notifications queued");
    }
    Ok(queued)
}

/// Queues `event` about a job that has no run of its own (a due job held back because its
/// dependency failed) for every subscribed channel of its tenant, in `tx`.
pub async fn record_job_event(
    tx: &mut Transaction<'_, Postgres>,
    event: Event,
    job_id: Uuid,
) -> Result<u64> {
    let queued = sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO notification_deliveries (id, tenant_id, channel_id, event, payload)
         SELECT gen_random_uuid(), c.tenant_id, c.id, $2, e.payload
         FROM (SELECT j.tenant_id, jsonb_build_object(
                   'event', $2::text, 'occurred_at', now(),
                   'integration_id', j.integration_id, 'integration_name', i.name,
                   'integration_type', i.integration_type,
                   'job_id', j.id, 'job_name', j.job_name, 'job_type', j.job_type,
                   'status', j.status, 'alert', j.alert,
                   'retry_count', j.retry_count, 'max_retries', j.max_retries,
                   'next_run_at', j.next_run_at,
                   'depends_on_job_id', d.id, 'depends_on_job_name', d.job_name,
                   'depends_on_status', d.status) AS payload
               FROM etl_jobs j
               JOIN integrations i ON i.id = j.integration_id
               LEFT JOIN etl_jobs d ON d.id = j.depends_on
               WHERE j.id = $1) e
         JOIN notification_channels c ON c.tenant_id = e.tenant_id
         WHERE {SUBSCRIBED}"
    )))
    .bind(job_id)
    .bind(event.name())
    .execute(&mut **tx)
    .await?
    .rows_affected();
    if queued > 0 {
        tracing::debug!(%job_id, event = event.name(), queued, "notifications queued");
    }
    Ok(queued)
}

/// Queues a TEST delivery to one of the tenant's channels; returns its id.
pub async fn record_test(pool: &PgPool, tenant_id: Uuid, channel_id: Uuid) -> Result<Uuid> {
    let id: Option<Uuid> = sqlx::query_scalar(
        "INSERT INTO notification_deliveries (id, tenant_id, channel_id, event, payload)
         SELECT gen_random_uuid(), c.tenant_id, c.id, 'TEST', jsonb_build_object(
             'event', 'TEST', 'occurred_at', now(), 'channel_id', c.id, 'channel_name', c.name,
             'message', 'A test notification from Sluice: this channel receives its alerts.')
         FROM notification_channels c WHERE c.id = $1 AND c.tenant_id = $2
         RETURNING id",
    )
    .bind(channel_id)
    .bind(tenant_id)
    .fetch_optional(pool)
    .await?;
    id.ok_or(OrchestratorError::NotFound {
        what: "notification channel",
        id: channel_id.to_string(),
    })
}

/// Compares each channel's threshold with its tenant's recorded dead letters, and queues
/// DEAD_LETTERS_OVER_THRESHOLD once per crossing: `dead_letters_over` remembers the side of
/// the threshold the last check saw, so the event fires again only after the count came
/// back down. One statement; channels another orchestrator is checking are skipped.
pub async fn check_dead_letters(pool: &PgPool) -> Result<u64> {
    Ok(sqlx::query(
        "WITH checked AS (
             SELECT c.id, c.dead_letter_threshold AS threshold,
                    (SELECT count(*) FROM dead_letters d WHERE d.tenant_id = c.tenant_id) AS dead
             FROM notification_channels c
             WHERE c.dead_letter_threshold > 0 OR c.dead_letters_over
             FOR UPDATE OF c SKIP LOCKED
         ), crossed AS (
             UPDATE notification_channels c
             SET dead_letters_over = (k.threshold > 0 AND k.dead > k.threshold)
             FROM checked k
             WHERE c.id = k.id AND c.dead_letters_over <> (k.threshold > 0 AND k.dead > k.threshold)
             RETURNING c.id, c.tenant_id, c.active, c.events, c.dead_letters_over, k.dead, k.threshold
         )
         INSERT INTO notification_deliveries (id, tenant_id, channel_id, event, payload)
         SELECT gen_random_uuid(), c.tenant_id, c.id, $1, jsonb_build_object(
                    'event', $1::text, 'occurred_at', now(),
                    'dead_letters', c.dead, 'threshold', c.threshold,
                    'latest_queue', l.original_queue, 'latest_reason', l.reason,
                    'latest_run_id', l.run_id)
         FROM crossed c
         LEFT JOIN LATERAL (SELECT original_queue, reason, run_id FROM dead_letters d
                            WHERE d.tenant_id = c.tenant_id ORDER BY failed_at DESC LIMIT 1) l ON true
         WHERE c.dead_letters_over AND c.active
           AND (cardinality(c.events) = 0 OR $1 = ANY(c.events))",
    )
    .bind(Event::DeadLettersOverThreshold.name())
    .execute(pool)
    .await?
    .rows_affected())
}

#[derive(Debug, sqlx::FromRow)]
pub struct DeliveryRow {
    id: Uuid,
    channel_id: Uuid,
    channel_name: String,
    event: String,
    status: String,
    attempts: i32,
    last_http_status: Option<i32>,
    last_error: String,
    payload: serde_json::Value,
    created_at: DateTime<Utc>,
    next_attempt_at: DateTime<Utc>,
    delivered_at: Option<DateTime<Utc>>,
}

impl DeliveryRow {
    pub fn to_proto(&self) -> pb::NotificationDelivery {
        let pending = self.status == "PENDING";
        pb::NotificationDelivery {
            id: self.id.to_string(),
            channel_id: self.channel_id.to_string(),
            channel_name: self.channel_name.clone(),
            event: Event::from_name(&self.event)
                .map(Event::to_proto)
                .unwrap_or(pb::NotificationEvent::Unspecified) as i32,
            status: match self.status.as_str() {
                "PENDING" => pb::DeliveryStatus::Pending,
                "DELIVERED" => pb::DeliveryStatus::Delivered,
                "FAILED" => pb::DeliveryStatus::Failed,
                _ => pb::DeliveryStatus::Unspecified,
            } as i32,
            attempts: self.attempts,
            last_http_status: self.last_http_status.unwrap_or(0),
            last_error: self.last_error.clone(),
            summary: format::summary(&self.payload),
            created_at: Some(timestamp(self.created_at)),
            next_attempt_at: opt_timestamp(Some(self.next_attempt_at).filter(|_| pending)),
            delivered_at: opt_timestamp(self.delivered_at),
        }
    }
}

/// The tenant's delivery log, newest first; one channel's when `channel_id` is given (NOT_FOUND
/// for a channel that is not the tenant's).
pub async fn list_deliveries(
    pool: &PgPool,
    tenant_id: Uuid,
    channel_id: Option<Uuid>,
    offset: i64,
    limit: i64,
) -> Result<Vec<DeliveryRow>> {
    if let Some(channel_id) = channel_id {
        super::channels::get(pool, tenant_id, channel_id).await?;
    }
    Ok(sqlx::query_as(
        "SELECT d.id, d.channel_id, c.name AS channel_name, d.event, d.status, d.attempts,
                d.last_http_status, d.last_error, d.payload, d.created_at, d.next_attempt_at,
                d.delivered_at
         FROM notification_deliveries d JOIN notification_channels c ON c.id = d.channel_id
         WHERE d.tenant_id = $1 AND ($2::uuid IS NULL OR d.channel_id = $2)
         ORDER BY d.created_at DESC, d.id OFFSET $3 LIMIT $4",
    )
    .bind(tenant_id)
    .bind(channel_id)
    .bind(offset)
    .bind(limit)
    .fetch_all(pool)
    .await?)
}
