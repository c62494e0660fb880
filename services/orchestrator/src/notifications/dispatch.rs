//! The dispatcher: claims due deliveries, POSTs them, records each attempt.
//!
//! A claim is an UPDATE of rows picked `FOR UPDATE SKIP LOCKED` that counts the attempt and
//! pushes `next_attempt_at` a lease ahead, so any number of orchestrators share the work and
//! none sends a delivery another is sending. The outcome is written after the POST, only by
//! the claim that made it (same attempt count). Delivery is at least once: a crash between
//! the POST and the write leaves the lease to run out, and the delivery is sent again with
//! the same `X-Sluice-Delivery` id.

use std::time::Duration;

use futures_util::StreamExt;
use sluice_plumbing::crypto::CredentialCipher;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};
use uuid::Uuid;

use super::channels::{self, Sealed};
use super::{NotifyConfig, format, outbox};
use crate::error::Result;

/// Deliveries claimed at once, and sent at once.
const BATCH: i64 = 32;
const IN_FLIGHT: usize = 8;

/// Checks dead-letter thresholds and sends due deliveries every poll interval, until
/// `shutdown`. A send cut short by shutdown is sent again once its lease runs out.
pub async fn dispatch_loop(
    pool: PgPool,
    cipher: CredentialCipher,
    config: NotifyConfig,
    shutdown: CancellationToken,
) {
    let http = match reqwest::Client::builder()
        .timeout(config.timeout)
        // A redirect would carry a signed event (or a Slack URL's secret path) elsewhere.
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("sluice-notifications/", env!("CARGO_PKG_VERSION")))
        .build()
    {
        Ok(http) => http,
        Err(error) => {
            warn!(%error, "notification dispatcher cannot start its HTTP client");
            return;
        }
    };
    let dispatcher = Dispatcher {
        pool,
        cipher,
        http,
        config,
    };
    let mut last_prune = std::time::Instant::now();
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(dispatcher.config.poll_interval) => {}
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = dispatcher.pass() => {}
        }
        if last_prune.elapsed() > Duration::from_secs(3600) {
            last_prune = std::time::Instant::now();
            if let Err(error) = dispatcher.prune().await {
                warn!(%error, "cannot prune the notification delivery log");
            }
        }
    }
}

struct Dispatcher {
    pool: PgPool,
    cipher: CredentialCipher,
    http: reqwest::Client,
    config: NotifyConfig,
}

#[derive(sqlx::FromRow)]
struct Claimed {
    id: Uuid,
    tenant_id: Uuid,
    channel_id: Uuid,
    event: String,
    payload: serde_json::Value,
    attempts: i32,
    kind: String,
    url_ciphertext: Vec<u8>,
    secret_ciphertext: Option<Vec<u8>>,
}

/// What one attempt came to.
struct Attempt {
    http_status: Option<u16>,
    /// Empty when delivered.
    error: String,
}

impl Dispatcher {
    async fn pass(&self) {
        match outbox::check_dead_letters(&self.pool).await {
            Ok(0) => {}
            Ok(queued) => info!(queued, "dead letters over a channel's threshold"),
            Err(error) => warn!(%error, "cannot check dead-letter thresholds"),
        }
        loop {
            match self.send_due().await {
                Ok(sent) if sent as i64 == BATCH => continue,
                Ok(_) => return,
                Err(error) => {
                    warn!(%error, "cannot claim due notifications; next poll retries");
                    return;
                }
            }
        }
    }

    /// Claims and sends one batch of due deliveries; returns how many were claimed.
    async fn send_due(&self) -> Result<usize> {
        let lease = self.config.timeout + Duration::from_secs(50);
        let claimed: Vec<Claimed> = sqlx::query_as(
            "UPDATE notification_deliveries d
             SET attempts = d.attempts + 1, next_attempt_at = now() + make_interval(secs => $2)
             FROM notification_channels c
             WHERE c.id = d.channel_id AND d.id IN (
                 SELECT id FROM notification_deliveries
                 WHERE status = 'PENDING' AND next_attempt_at <= now()
                 ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED)
             RETURNING d.id, d.tenant_id, d.channel_id, d.event, d.payload, d.attempts, c.kind,
                       c.url_ciphertext, c.secret_ciphertext",
        )
        .bind(BATCH)
        .bind(lease.as_secs_f64())
        .fetch_all(&self.pool)
        .await?;
        let count = claimed.len();
        futures_util::stream::iter(claimed)
            .for_each_concurrent(IN_FLIGHT, |delivery| async move {
                let attempt = self.send(&delivery).await;
                if let Err(error) = self.record(&delivery, &attempt).await {
                    // The lease runs out and the delivery is sent again.
                    warn!(delivery_id = %delivery.id, %error, "cannot record a notification attempt");
                }
            })
            .await;
        Ok(count)
    }

    async fn send(&self, delivery: &Claimed) -> Attempt {
        let failed = |error: String| Attempt {
            http_status: None,
            error,
        };
        let url = match channels::open(
            &self.cipher,
            delivery.tenant_id,
            delivery.channel_id,
            Sealed::Url,
            &delivery.url_ciphertext,
        ) {
            Ok(url) => url,
            Err(error) => return failed(format!("the channel's URL: {error}")),
        };
        let mut request = self
            .http
            .post(&url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header("X-Sluice-Event", &delivery.event)
            .header("X-Sluice-Delivery", delivery.id.to_string());
        let body = if delivery.kind == "slack" {
            serde_json::to_vec(&format::slack_message(&delivery.payload))
        } else {
            serde_json::to_vec(&delivery.payload)
        };
        let body = match body {
            Ok(body) => body,
            Err(error) => return failed(format!("encoding the event: {error}")),
        };
        if let Some(sealed) = &delivery.secret_ciphertext {
            let secret = match channels::open(
                &self.cipher,
                delivery.tenant_id,
                delivery.channel_id,
                Sealed::Secret,
                sealed,
            ) {
                Ok(secret) => secret,
                Err(error) => return failed(format!("the channel's secret: {error}")),
            };
            let now = chrono::Utc::now().timestamp();
            request = request
                .header("X-Sluice-Timestamp", now.to_string())
                .header("X-Sluice-Signature", format::signature(&secret, now, &body));
        }
        match request.body(body).send().await {
            Ok(mut response) => {
                let status = response.status();
                if status.is_success() {
                    return Attempt {
                        http_status: Some(status.as_u16()),
                        error: String::new(),
                    };
                }
                // The start of the receiver's answer says why (Slack: "invalid_payload").
                let mut said = Vec::new();
                while said.len() < 200 {
                    match response.chunk().await {
                        Ok(Some(chunk)) => said.extend_from_slice(&chunk),
                        _ => break,
                    }
                }
                let said = String::from_utf8_lossy(&said[..said.len().min(200)])
                    .trim()
                    .replace('\n', " ");
                Attempt {
                    http_status: Some(status.as_u16()),
                    error: if said.is_empty() {
                        format!("HTTP {status}")
                    } else {
                        format!("HTTP {status}: {said}")
                    },
                }
            }
            Err(error) => failed(describe(error, self.config.timeout)),
        }
    }

    /// Writes the outcome, if this claim still holds the delivery.
    async fn record(&self, delivery: &Claimed, attempt: &Attempt) -> Result<()> {
        let attempts = u32::try_from(delivery.attempts).unwrap_or(u32::MAX);
        let status = if attempt.error.is_empty() {
            "DELIVERED"
        } else if attempts >= self.config.max_attempts {
            "FAILED"
        } else {
            "PENDING"
        };
        let retry_in = self.config.retry_delay(attempts);
        sqlx::query(
            "UPDATE notification_deliveries SET status = $3, last_http_status = $4, last_error = $5,
                 delivered_at = CASE WHEN $3 = 'DELIVERED' THEN now() END,
                 next_attempt_at = CASE WHEN $3 = 'PENDING' THEN now() + make_interval(secs => $6)
                                        ELSE next_attempt_at END
             WHERE id = $1 AND attempts = $2 AND status = 'PENDING'",
        )
        .bind(delivery.id)
        .bind(delivery.attempts)
        .bind(status)
        .bind(attempt.http_status.map(i32::from))
        .bind(&attempt.error)
        .bind(retry_in.as_secs_f64())
        .execute(&self.pool)
        .await?;
        let (delivery_id, channel_id, event) =
            (delivery.id, delivery.channel_id, delivery.event.as_str());
        let http_status = attempt.http_status.unwrap_or(0);
        let outcome = match status {
            "DELIVERED" => "delivered",
            "FAILED" => "failed",
            _ => "retried",
        };
        sluice_plumbing::metrics::get()
            .notifications
            .inc(&[&delivery.kind.to_ascii_lowercase(), outcome]);
        match status {
            "DELIVERED" => {
                info!(%delivery_id, %channel_id, event, attempts, http_status, "notification delivered")
            }
            "FAILED" => {
                warn!(%delivery_id, %channel_id, event, attempts, http_status, error = %attempt.error, "notification failed for good")
            }
            _ => {
                warn!(%delivery_id, %channel_id, event, attempts, http_status, error = %attempt.error,
                    retry_in_ms = retry_in.as_millis() as u64, "notification attempt failed")
            }
        }
        Ok(())
    }

    /// Drops delivered and failed deliveries older than the retention.
    async fn prune(&self) -> Result<()> {
        let pruned = sqlx::query(
            "DELETE FROM notification_deliveries
             WHERE status <> 'PENDING' AND created_at < now() - make_interval(secs => $1)",
        )
        .bind(self.config.retention.as_secs_f64())
        .execute(&self.pool)
        .await?
        .rows_affected();
        if pruned > 0 {
            info!(pruned, "old notification deliveries pruned");
        }
        Ok(())
    }
}

/// Why a request got no answer, without its URL (which may be a credential).
fn describe(error: reqwest::Error, timeout: Duration) -> String {
    if error.is_timeout() {
        return format!("no answer within {} s", timeout.as_secs_f64());
    }
    let error = error.without_url();
    let mut text = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
