//! The dead letters and the queues' health. A recorder consumes `etl.failed` and keeps every
//! dead letter in PostgreSQL (payload byte for byte, reason, error, original queue, tenant and
//! run read from the payload's `RunContext`), so QueueService can list, requeue and purge them
//! per tenant; RabbitMQ alone cannot address a message in the middle of a queue.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use lapin::types::{AMQPValue, FieldTable};
use prost::Message as _;
use sluice_plumbing::amqp::{
    self, ConsumerSettings, HEADER_DEAD_LETTER_ID, HEADER_ERROR, HEADER_FAILED_AT,
    HEADER_ORIGINAL_QUEUE, HEADER_QUARANTINED, HEADER_REASON, HEADER_RETRIES, Message, Outcome,
    ReconnectingPublisher, header_int, header_str,
};
use sluice_proto::v1 as pb;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};
use uuid::Uuid;

use crate::convert::timestamp;
use crate::error::{OrchestratorError, Result};

/// Every payload on the work queues starts with `RunContext run = 1`.
#[derive(Clone, PartialEq, prost::Message)]
struct RunOnly {
    #[prost(message, optional, tag = "1")]
    run: Option<pb::RunContext>,
}

/// Consumes `etl.failed` until `shutdown`, recording each dead letter once.
pub async fn record_loop(
    common: sluice_plumbing::CommonConfig,
    pool: PgPool,
    shutdown: CancellationToken,
) {
    let topology = common.topology();
    let settings = ConsumerSettings {
        amqp_url: common.amqp_url.clone(),
        queue: topology.failed(),
        topology,
        prefetch: 16,
        connect_timeout: common.connect_timeout,
        // A recorder that cannot write (database down) puts the message back and pauses.
        delayed_retries: false,
    };
    amqp::consume(
        settings,
        move |message, _publisher| {
            let pool = pool.clone();
            async move { record(&pool, &message).await }
        },
        shutdown,
    )
    .await;
}

async fn record(pool: &PgPool, message: &Message) -> Outcome {
    let headers = message.headers.as_ref();
    let original_queue = header_str(headers, HEADER_ORIGINAL_QUEUE).unwrap_or_default();
    let run = RunOnly::decode(message.data.as_slice())
        .ok()
        .and_then(|m| m.run);
    let tenant_id = run
        .as_ref()
        .and_then(|r| Uuid::parse_str(&r.tenant_id).ok());
    let run_id = run.as_ref().and_then(|r| Uuid::parse_str(&r.run_id).ok());
    // A tenant that does not exist (deleted meanwhile, or a forged payload) is not attributed.
    let tenant_id = match tenant_id {
        Some(id) => match sqlx::query_scalar::<_, bool>(
            "SELECT EXISTS (SELECT 1 FROM tenants WHERE id = $1)",
        )
        .bind(id)
        .fetch_one(pool)
        .await
        {
            Ok(true) => Some(id),
            Ok(false) => None,
            Err(error) => {
                return Outcome::Retry {
                    error: error.to_string(),
                };
            }
        },
        None => None,
    };
    let id = header_str(headers, HEADER_DEAD_LETTER_ID)
        .and_then(|id| Uuid::parse_str(&id).ok())
        // Dead-lettered by the broker itself (rejected, expired): a fresh identity.
        .unwrap_or_else(Uuid::new_v4);
    let failed_at = header_str(headers, HEADER_FAILED_AT)
        .and_then(|at| DateTime::parse_from_rfc3339(&at).ok())
        .map(|at| at.with_timezone(&Utc))
        .unwrap_or_else(Utc::now);
    let inserted = sqlx::query(
        "INSERT INTO dead_letters (id, tenant_id, run_id, original_queue, reason, error, retry_count,
             payload, payload_summary, headers, failed_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (id) DO NOTHING",
    )
    .bind(id)
    .bind(tenant_id)
    .bind(run_id)
    .bind(&original_queue)
    .bind(header_str(headers, HEADER_REASON).unwrap_or_else(|| "rejected by the broker".into()))
    .bind(header_str(headers, HEADER_ERROR).unwrap_or_default())
    .bind(header_int(headers, HEADER_RETRIES).unwrap_or(0) as i32)
    .bind(&message.data)
    .bind(summary(&original_queue, &message.data))
    .bind(headers_json(headers))
    .bind(failed_at)
    .execute(pool)
    .await;
    if let Err(error) = inserted {
        return Outcome::Retry {
            error: format!("recording a dead letter: {error}"),
        };
    }
    // A message that can never succeed fails its run at once, visibly, with the reason —
    // not at the lease's end as "worker stopped". A quarantined record does not: its run
    // completes with a warning.
    let quarantined = headers
        .and_then(|h| h.inner().get(HEADER_QUARANTINED))
        .is_some_and(|v| matches!(v, AMQPValue::Boolean(true)));
    // Only a run of the tenant the payload names (a payload cannot fail another's run).
    let run_id = match (run_id, tenant_id) {
        (Some(run_id), Some(tenant_id)) => match sqlx::query_scalar::<_, bool>(
            "SELECT EXISTS (SELECT 1 FROM job_runs WHERE id = $1 AND tenant_id = $2)",
        )
        .bind(run_id)
        .bind(tenant_id)
        .fetch_one(pool)
        .await
        {
            Ok(true) => Some(run_id),
            Ok(false) => None,
            Err(error) => {
                return Outcome::Retry {
                    error: error.to_string(),
                };
            }
        },
        _ => None,
    };
    if let (Some(run_id), false) = (run_id, quarantined) {
        let reason =
            header_str(headers, HEADER_REASON).unwrap_or_else(|| "rejected by the broker".into());
        let error = header_str(headers, HEADER_ERROR).unwrap_or_default();
        let message = format!(
            "dead-lettered from {}: {reason}: {error} ({})",
            original_queue
                .rsplit_once("etl.")
                .map(|(_, q)| format!("etl.{q}"))
                .unwrap_or(original_queue.clone()),
            summary(&original_queue, &message.data)
        );
        // Pages that could not be transformed or loaded may load after a requeue: their run
        // then completes after all.
        let page_level =
            original_queue.ends_with("etl.transform") || original_queue.ends_with("etl.load");
        let failed = if page_level {
            crate::runs::fail_run_recoverable(pool, run_id, &message).await
        } else {
            crate::runs::fail_run(pool, run_id, &message).await
        };
        if let Err(error) = failed {
            return Outcome::Retry {
                error: format!("failing the dead letter's run: {error}"),
            };
        }
    }
    Outcome::Ack
}

/// A one-line description of a payload, by the queue it came from.
fn summary(original_queue: &str, payload: &[u8]) -> String {
    let base = original_queue
        .rsplit_once("etl.")
        .map(|(_, base)| base)
        .unwrap_or(original_queue);
    let decoded = match base {
        "extract" => pb::ExtractRequest::decode(payload).ok().map(|m| {
            format!(
                "ExtractRequest {:?} steps {:?}",
                pb::JobType::try_from(m.job_type).unwrap_or(pb::JobType::Unspecified),
                m.steps
            )
        }),
        "transform" => pb::RawBatchRef::decode(payload).ok().map(|m| {
            let grouped = if m.grouped_raw_ids.is_empty() {
                String::new()
            } else {
                format!(" + {} grouped pages", m.grouped_raw_ids.len())
            };
            format!(
                "RawBatchRef raw page {} ({}){grouped}",
                m.raw_id, m.extraction_type
            )
        }),
        "load" => pb::TransformedBatch::decode(payload).ok().map(|m| {
            format!(
                "TransformedBatch raw page {} ({}): {} work items, {} changelog rows",
                m.raw_id,
                m.extraction_type,
                m.work_items.len(),
                m.changelogs.len()
            )
        }),
        "vectorization" => pb::VectorizeRequest::decode(payload)
            .ok()
            .map(|_| "VectorizeRequest".to_string()),
        _ => None,
    };
    decoded.unwrap_or_else(|| format!("{} bytes, not a readable message", payload.len()))
}

fn headers_json(headers: Option<&FieldTable>) -> serde_json::Value {
    let mut out = BTreeMap::new();
    if let Some(headers) = headers {
        for (key, value) in headers.inner() {
            let value = match value {
                AMQPValue::LongString(text) => serde_json::Value::from(text.to_string()),
                AMQPValue::LongLongInt(n) => serde_json::Value::from(*n),
                AMQPValue::LongInt(n) => serde_json::Value::from(*n),
                AMQPValue::Boolean(b) => serde_json::Value::from(*b),
                // x-death and other structured headers are not needed to requeue.
                _ => continue,
            };
            out.insert(key.to_string(), value);
        }
    }
    serde_json::to_value(out).unwrap_or_default()
}

#[derive(sqlx::FromRow)]
struct DeadLetterRow {
    id: Uuid,
    run_id: Option<Uuid>,
    original_queue: String,
    reason: String,
    error: String,
    retry_count: i32,
    payload_summary: String,
    failed_at: DateTime<Utc>,
}

pub async fn list(pool: &PgPool, tenant_id: Uuid, limit: i32) -> Result<Vec<pb::DeadLetter>> {
    let limit = match limit {
        0 => 100,
        1..=1000 => limit,
        _ => {
            return Err(OrchestratorError::invalid(
                "limit",
                format!("must be between 1 and 1000 (0 for 100), got {limit}"),
            ));
        }
    };
    let rows: Vec<DeadLetterRow> = sqlx::query_as(
        "SELECT id, run_id, original_queue, reason, error, retry_count, payload_summary, failed_at
         FROM dead_letters WHERE tenant_id = $1 ORDER BY failed_at, id LIMIT $2",
    )
    .bind(tenant_id)
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| pb::DeadLetter {
            id: row.id.to_string(),
            original_queue: row.original_queue,
            reason: row.reason,
            error: row.error,
            payload_summary: row.payload_summary,
            run_id: row.run_id.map(|r| r.to_string()).unwrap_or_default(),
            retry_count: row.retry_count,
            failed_at: Some(timestamp(row.failed_at)),
        })
        .collect())
}

/// Puts dead letters back on their original queues (all of the tenant's, or those named),
/// each with a fresh retry budget. A letter is removed only once the broker confirmed it.
pub async fn requeue(
    pool: &PgPool,
    publisher: &ReconnectingPublisher,
    tenant_id: Uuid,
    ids: &[String],
) -> Result<i32> {
    let ids: Vec<Uuid> = ids
        .iter()
        .map(|id| crate::jobs::parse("ids", id))
        .collect::<Result<_>>()?;
    let work_queues = publisher.topology().work_queues();
    let mut requeued = 0;
    loop {
        let mut tx = pool.begin().await?;
        let batch: Vec<(Uuid, String, Vec<u8>, serde_json::Value)> = sqlx::query_as(
            "SELECT id, original_queue, payload, headers FROM dead_letters
             WHERE tenant_id = $1 AND (cardinality($2::uuid[]) = 0 OR id = ANY($2))
             ORDER BY failed_at, id LIMIT 200 FOR UPDATE SKIP LOCKED",
        )
        .bind(tenant_id)
        .bind(&ids)
        .fetch_all(&mut *tx)
        .await?;
        if batch.is_empty() {
            break;
        }
        for (id, queue, payload, headers) in &batch {
            if !work_queues.contains(queue) {
                return Err(OrchestratorError::FailedPrecondition(format!(
                    "dead letter {id} came from {queue:?}, not a queue of this deployment; purge it instead"
                )));
            }
            publisher
                .publish_bytes(queue, payload, requeue_headers(headers))
                .await
                .map_err(|e| OrchestratorError::Unavailable(format!("requeueing {id}: {e}")))?;
            sqlx::query("DELETE FROM dead_letters WHERE id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            requeued += 1;
        }
        tx.commit().await?;
        if !ids.is_empty() {
            break;
        }
    }
    if !ids.is_empty() && requeued < ids.len() as i32 {
        warn!(
            requested = ids.len(),
            requeued, "some dead letters were not found (or are another tenant's)"
        );
    }
    info!(%tenant_id, requeued, "dead letters requeued");
    Ok(requeued)
}

/// The original headers minus the dead-letter bookkeeping (reason, error, retry count), so
/// the message starts over; the trace context stays.
fn requeue_headers(stored: &serde_json::Value) -> FieldTable {
    let mut headers = FieldTable::default();
    if let Some(map) = stored.as_object() {
        for (key, value) in map {
            if key.starts_with("x-sluice-") {
                continue;
            }
            let value = match value {
                serde_json::Value::String(text) => AMQPValue::LongString(text.as_str().into()),
                serde_json::Value::Number(n) if n.is_i64() => {
                    AMQPValue::LongLongInt(n.as_i64().unwrap_or_default())
                }
                serde_json::Value::Bool(b) => AMQPValue::Boolean(*b),
                _ => continue,
            };
            headers.insert(key.as_str().into(), value);
        }
    }
    headers
}

pub async fn purge(pool: &PgPool, tenant_id: Uuid) -> Result<i32> {
    let purged = sqlx::query("DELETE FROM dead_letters WHERE tenant_id = $1")
        .bind(tenant_id)
        .execute(pool)
        .await?
        .rows_affected();
    info!(%tenant_id, purged, "dead letters purged");
    Ok(purged as i32)
}

/// The whole broker's view, for an admin key: depth and consumers of every queue (AMQP
/// passive declares), unacked messages and rates from the RabbitMQ management API when it is
/// reachable (else -1), and every tenant's recorded dead letters per original queue.
pub async fn broker_health(
    pool: &PgPool,
    publisher: &ReconnectingPublisher,
    management: &Management,
) -> Result<Vec<pb::QueueHealth>> {
    let topology = publisher.topology();
    let mut names = topology.work_queues();
    names.push(topology.failed());
    let dead: BTreeMap<String, i64> = sqlx::query_as::<_, (String, i64)>(
        "SELECT original_queue, count(*) FROM dead_letters GROUP BY 1",
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .collect();
    let recorded: i64 = dead.values().sum();
    let stats = management.queues().await;
    let mut out = Vec::with_capacity(names.len());
    for name in names {
        let (depth, consumers) = publisher
            .queue_counts(&name)
            .await
            .map_err(|e| OrchestratorError::Unavailable(format!("RabbitMQ: {e}")))?
            .unwrap_or((0, 0));
        let extra = stats.as_ref().and_then(|s| s.get(&name));
        out.push(pb::QueueHealth {
            dead_letters: if name == topology.failed() {
                recorded
            } else {
                dead.get(&name).copied().unwrap_or(0)
            },
            name,
            depth: i64::from(depth),
            consumers: consumers as i32,
            unacked: extra.map(|e| e.unacked).unwrap_or(-1),
            publish_rate: extra.map(|e| e.publish_rate).unwrap_or(-1.0),
            ack_rate: extra.map(|e| e.ack_rate).unwrap_or(-1.0),
        });
    }
    Ok(out)
}

/// One tenant's view, from its own runs (a queue is shared by every tenant, so the broker's
/// figures would reveal the others' activity): per queue, the work of the tenant's running
/// runs still waiting there — extractions no connector has started, pages not yet
/// transformed, pages transformed but not yet loaded, entities queued for vectors and not yet
/// done — and its dead letters. Broker-wide fields are -1.
pub async fn tenant_health(
    pool: &PgPool,
    topology: &sluice_plumbing::amqp::Topology,
    tenant_id: Uuid,
) -> Result<Vec<pb::QueueHealth>> {
    let (extract, transform, load, vectorize): (i64, i64, i64, i64) = sqlx::query_as(
        "SELECT
             (SELECT count(*) FROM job_runs
              WHERE tenant_id = $1 AND status = 'RUNNING' AND step = 0 AND NOT extraction_finished),
             (SELECT count(*) FROM run_batches b JOIN job_runs r ON r.id = b.run_id
              WHERE r.tenant_id = $1 AND r.status = 'RUNNING' AND b.loaded_at IS NULL
                AND b.transformed_at IS NULL AND b.error_message IS NULL),
             (SELECT count(*) FROM run_batches b JOIN job_runs r ON r.id = b.run_id
              WHERE r.tenant_id = $1 AND r.status = 'RUNNING' AND b.loaded_at IS NULL
                AND b.transformed_at IS NOT NULL AND b.error_message IS NULL),
             (SELECT COALESCE(sum(GREATEST(vectors_queued - vectors_done, 0)), 0)::bigint FROM job_runs
              WHERE tenant_id = $1 AND (status = 'RUNNING' OR finished_at > now() - interval '1 day'))",
    )
    .bind(tenant_id)
    .fetch_one(pool)
    .await?;
    let dead: BTreeMap<String, i64> = sqlx::query_as::<_, (String, i64)>(
        "SELECT original_queue, count(*) FROM dead_letters WHERE tenant_id = $1 GROUP BY 1",
    )
    .bind(tenant_id)
    .fetch_all(pool)
    .await?
    .into_iter()
    .collect();
    let backlog = [
        (topology.extract(), extract),
        (topology.custom_fields(), -1),
        (topology.transform(), transform),
        (topology.load(), load),
        (topology.vectorization(), vectorize),
        (topology.failed(), dead.values().sum()),
    ];
    Ok(backlog
        .into_iter()
        .map(|(name, depth)| pb::QueueHealth {
            dead_letters: if name == topology.failed() {
                depth
            } else {
                dead.get(&name).copied().unwrap_or(0)
            },
            name,
            depth,
            consumers: -1,
            unacked: -1,
            publish_rate: -1.0,
            ack_rate: -1.0,
        })
        .collect())
}

/// The RabbitMQ management API (`SLUICE_RABBITMQ_MANAGEMENT_URL`, default
/// `http://127.0.0.1:15672`, credentials from the AMQP URL).
#[derive(Clone)]
pub struct Management {
    client: reqwest::Client,
    base: String,
    user: String,
    password: String,
}

pub struct QueueStats {
    unacked: i64,
    publish_rate: f64,
    ack_rate: f64,
}

impl Management {
    pub fn new(base: &str, amqp_url: &str) -> Self {
        let (user, password) = amqp_credentials(amqp_url);
        Management {
            client: reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(2))
                .build()
                .unwrap_or_default(),
            base: base.trim_end_matches('/').to_string(),
            user,
            password,
        }
    }

    /// Per-queue statistics, or None when the API is not reachable (plugin not enabled).
    async fn queues(&self) -> Option<BTreeMap<String, QueueStats>> {
        let response = self
            .client
            .get(format!(
                "{}/api/queues?columns=name,messages_unacknowledged,message_stats",
                self.base
            ))
            .basic_auth(&self.user, Some(&self.password))
            .send()
            .await
            .ok()?;
        if !response.status().is_success() {
            return None;
        }
        let queues: Vec<serde_json::Value> = response.json().await.ok()?;
        let rate = |q: &serde_json::Value, stat: &str| {
            q.pointer(&format!("/message_stats/{stat}_details/rate"))
                .and_then(|r| r.as_f64())
                .unwrap_or(0.0)
        };
        Some(
            queues
                .iter()
                .filter_map(|q| {
                    Some((
                        q.get("name")?.as_str()?.to_string(),
                        QueueStats {
                            unacked: q
                                .get("messages_unacknowledged")
                                .and_then(|n| n.as_i64())
                                .unwrap_or(0),
                            publish_rate: rate(q, "publish"),
                            ack_rate: rate(q, "ack"),
                        },
                    ))
                })
                .collect(),
        )
    }
}

/// User and password of an `amqp://user:password@host/vhost` URL (guest/guest if absent).
fn amqp_credentials(url: &str) -> (String, String) {
    let userinfo = url
        .split_once("://")
        .and_then(|(_, rest)| rest.split_once('@'))
        .map(|(userinfo, _)| userinfo);
    match userinfo.and_then(|u| u.split_once(':')) {
        Some((user, password)) => (user.to_string(), password.to_string()),
        None => ("guest".into(), "guest".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_summaries_name_what_the_message_was() {
        let reference = pb::RawBatchRef {
            raw_id: 42,
            extraction_type: "jira.issues".into(),
            grouped_raw_ids: vec![43, 44],
            ..Default::default()
        };
        assert_eq!(
            summary("t1.etl.transform", &reference.encode_to_vec()),
            "RawBatchRef raw page 42 (jira.issues) + 2 grouped pages"
        );
        assert_eq!(
            summary("etl.load", b"\xff\xff\xff"),
            "3 bytes, not a readable message"
        );
    }

    #[test]
    fn requeued_messages_lose_the_dead_letter_bookkeeping_only() {
        let stored = serde_json::json!({
            "x-sluice-reason": "retries exhausted",
            "x-sluice-retries": 5,
            "traceparent": "00-abc-def-01",
        });
        let headers = requeue_headers(&stored);
        let keys: Vec<String> = headers.inner().keys().map(|k| k.to_string()).collect();
        assert_eq!(keys, vec!["traceparent".to_string()]);
    }

    #[test]
    fn management_credentials_come_from_the_amqp_url() {
        assert_eq!(
            amqp_credentials("amqp://ops:s3cret@10.0.0.1:5672/%2f"),
            ("ops".to_string(), "s3cret".to_string())
        );
        assert_eq!(
            amqp_credentials("amqp://10.0.0.1"),
            ("guest".to_string(), "guest".to_string())
        );
    }
}
