//! Notification channels: validation, the URL and secret sealed at rest, tenant-scoped rows.
//! Neither the URL (a Slack webhook URL is itself a credential) nor the secret is ever
//! returned or logged: the API shows the URL's origin and whether a secret is set.

use base64::Engine;
use chrono::{DateTime, Utc};
use sluice_plumbing::crypto::{CredentialCipher, CryptoError};
use sluice_plumbing::origin::{BaseUrlError, Origin, SourceUrlPolicy, validate_base_url};
use sluice_proto::v1 as pb;
use sqlx::PgPool;
use uuid::Uuid;

use super::Event;
use crate::convert::timestamp;
use crate::error::{OrchestratorError, Result};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ChannelRow {
    pub id: Uuid,
    pub name: String,
    pub kind: String,
    pub url_origin: String,
    pub has_secret: bool,
    pub events: Vec<String>,
    pub dead_letter_threshold: i32,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, name, kind, url_origin, secret_ciphertext IS NOT NULL AS has_secret,
    events, dead_letter_threshold, active, created_at, updated_at";

impl ChannelRow {
    pub fn to_proto(&self) -> pb::NotificationChannel {
        pb::NotificationChannel {
            id: self.id.to_string(),
            name: self.name.clone(),
            kind: match self.kind.as_str() {
                "webhook" => pb::NotificationChannelKind::Webhook,
                "slack" => pb::NotificationChannelKind::Slack,
                _ => pb::NotificationChannelKind::Unspecified,
            } as i32,
            url_origin: self.url_origin.clone(),
            has_secret: self.has_secret,
            events: self
                .events
                .iter()
                .filter_map(|e| Event::from_name(e))
                .map(|e| e.to_proto() as i32)
                .collect(),
            dead_letter_threshold: self.dead_letter_threshold,
            active: self.active,
            created_at: Some(timestamp(self.created_at)),
            updated_at: Some(timestamp(self.updated_at)),
        }
    }
}

/// The two sealed fields of a channel. Each has its own associated data, so neither can be
/// copied onto another channel, another tenant's row or the other field.
#[derive(Clone, Copy)]
pub enum Sealed {
    Url,
    Secret,
}

fn associated_data(tenant_id: Uuid, channel_id: Uuid, field: Sealed) -> Vec<u8> {
    let field = match field {
        Sealed::Url => "url",
        Sealed::Secret => "secret",
    };
    format!("sluice.notification_channel:{tenant_id}:{channel_id}:{field}").into_bytes()
}

pub fn seal(
    cipher: &CredentialCipher,
    tenant_id: Uuid,
    channel_id: Uuid,
    field: Sealed,
    plaintext: &str,
) -> Result<Vec<u8>> {
    cipher
        .encrypt(
            plaintext.as_bytes(),
            &associated_data(tenant_id, channel_id, field),
        )
        .map_err(|e| OrchestratorError::Internal(e.to_string()))
}

pub fn open(
    cipher: &CredentialCipher,
    tenant_id: Uuid,
    channel_id: Uuid,
    field: Sealed,
    sealed: &[u8],
) -> std::result::Result<String, CryptoError> {
    let plaintext = cipher.decrypt(sealed, &associated_data(tenant_id, channel_id, field))?;
    String::from_utf8(plaintext).map_err(|_| CryptoError::Decrypt)
}

/// A fresh signing secret: `whsec_` and 32 random bytes, base64url.
fn generate_secret() -> String {
    let bytes: [u8; 32] = rand::random();
    format!(
        "whsec_{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

/// The kind as stored.
fn validate_kind(kind: i32) -> Result<&'static str> {
    match pb::NotificationChannelKind::try_from(kind) {
        Ok(pb::NotificationChannelKind::Webhook) => Ok("webhook"),
        Ok(pb::NotificationChannelKind::Slack) => Ok("slack"),
        _ => Err(OrchestratorError::invalid(
            "kind",
            "must be NOTIFICATION_CHANNEL_KIND_WEBHOOK or NOTIFICATION_CHANNEL_KIND_SLACK",
        )),
    }
}

fn validate_name(name: &str) -> Result<String> {
    let name = name.trim();
    if name.is_empty() {
        return Err(OrchestratorError::invalid("name", "is required"));
    }
    if name.chars().count() > 200 {
        return Err(OrchestratorError::invalid(
            "name",
            "must be at most 200 characters",
        ));
    }
    Ok(name.to_string())
}

/// The URL as given (a query string kept: some receivers carry a key in it) and its origin.
/// The rules of source base URLs apply: https, plain http only to loopback unless
/// `SLUICE_ALLOW_INSECURE_SOURCES=on`, no user info, no link-local address. Messages never
/// repeat the URL: it may be a credential.
fn validate_url(url: &str, policy: SourceUrlPolicy) -> Result<(String, Origin)> {
    let url = url.trim();
    let invalid = |problem: &str| OrchestratorError::invalid("url", problem);
    if url.len() > 2048 {
        return Err(invalid("must be at most 2048 characters"));
    }
    if url.contains('#') {
        return Err(invalid("must not carry a fragment"));
    }
    let without_query = url.split_once('?').map(|(base, _)| base).unwrap_or(url);
    validate_base_url(without_query, policy).map_err(|error| match error {
        BaseUrlError::Missing => invalid("is required (e.g. https://hooks.slack.com/services/…)"),
        BaseUrlError::NotAUrl(_) => invalid("is not a URL"),
        BaseUrlError::Scheme(_) => invalid(
            "must be an https:// URL with a host (plain http:// only for loopback, or with SLUICE_ALLOW_INSECURE_SOURCES=on)",
        ),
        other => OrchestratorError::invalid("url", other.to_string()),
    })?;
    let origin = Origin::of(url).ok_or_else(|| invalid("is not a URL"))?;
    if reqwest::Url::parse(url).is_err() {
        return Err(invalid("is not a URL"));
    }
    Ok((url.to_string(), origin))
}

/// The secret to store: the one given (16 to 256 characters), or a generated one, which is
/// returned to be shown once. Slack incoming webhooks are not signed.
fn validate_secret(kind: &str, secret: &str) -> Result<(String, Option<String>)> {
    if kind != "webhook" {
        return Err(OrchestratorError::invalid(
            "secret",
            "applies to WEBHOOK channels only (Slack incoming webhooks are not signed)",
        ));
    }
    let secret = secret.trim();
    if secret.is_empty() {
        let generated = generate_secret();
        return Ok((generated.clone(), Some(generated)));
    }
    if !(16..=256).contains(&secret.chars().count()) {
        return Err(OrchestratorError::invalid(
            "secret",
            "must be 16 to 256 characters (or empty: one is generated)",
        ));
    }
    Ok((secret.to_string(), None))
}

fn validate_events(events: &[i32]) -> Result<Vec<String>> {
    let mut names: Vec<String> = Vec::new();
    for (i, value) in events.iter().enumerate() {
        let event = pb::NotificationEvent::try_from(*value)
            .ok()
            .and_then(Event::from_proto)
            .filter(|e| Event::SUBSCRIBABLE.contains(e))
            .ok_or_else(|| {
                OrchestratorError::invalid(
                    format!("events[{i}]"),
                    format!(
                        "{value} is not an event a channel subscribes to (RUN_FAILED, JOB_GAVE_UP, JOB_SKIPPED, DEAD_LETTERS_OVER_THRESHOLD)"
                    ),
                )
            })?;
        if !names.iter().any(|n| n == event.name()) {
            names.push(event.name().to_string());
        }
    }
    Ok(names)
}

fn validate_threshold(threshold: i32) -> Result<i32> {
    if threshold < 0 {
        return Err(OrchestratorError::invalid(
            "dead_letter_threshold",
            "must not be negative (0 turns the event off)",
        ));
    }
    Ok(threshold)
}

fn not_found(id: Uuid) -> OrchestratorError {
    OrchestratorError::NotFound {
        what: "notification channel",
        id: id.to_string(),
    }
}

fn name_taken(name: &str) -> OrchestratorError {
    OrchestratorError::AlreadyExists(format!(
        "a notification channel named {name:?} already exists"
    ))
}

/// Creates a channel; returns it and the secret generated for it, if one was.
pub async fn create(
    pool: &PgPool,
    cipher: &CredentialCipher,
    urls: SourceUrlPolicy,
    tenant_id: Uuid,
    request: &pb::CreateChannelRequest,
) -> Result<(ChannelRow, Option<String>)> {
    let name = validate_name(&request.name)?;
    let kind = validate_kind(request.kind)?;
    let (url, origin) = validate_url(&request.url, urls)?;
    let (secret, generated) = match kind {
        "webhook" => {
            let (secret, generated) = validate_secret(kind, &request.secret)?;
            (Some(secret), generated)
        }
        _ if request.secret.trim().is_empty() => (None, None),
        _ => validate_secret(kind, &request.secret).map(|_| (None, None))?,
    };
    let events = validate_events(&request.events)?;
    let threshold = validate_threshold(request.dead_letter_threshold)?;
    let id = Uuid::new_v4();
    let sealed_url = seal(cipher, tenant_id, id, Sealed::Url, &url)?;
    let sealed_secret = secret
        .map(|s| seal(cipher, tenant_id, id, Sealed::Secret, &s))
        .transpose()?;
    let row: Option<ChannelRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "INSERT INTO notification_channels (id, tenant_id, name, kind, url_ciphertext, url_origin,
             secret_ciphertext, events, dead_letter_threshold)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (tenant_id, name) DO NOTHING
         RETURNING {COLUMNS}"
    )))
    .bind(id)
    .bind(tenant_id)
    .bind(&name)
    .bind(kind)
    .bind(&sealed_url)
    .bind(origin.as_str())
    .bind(&sealed_secret)
    .bind(&events)
    .bind(threshold)
    .fetch_optional(pool)
    .await?;
    let row = row.ok_or_else(|| name_taken(&name))?;
    tracing::info!(channel_id = %row.id, %tenant_id, kind, "notification channel created");
    Ok((row, generated))
}

pub async fn get(pool: &PgPool, tenant_id: Uuid, id: Uuid) -> Result<ChannelRow> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM notification_channels WHERE id = $1 AND tenant_id = $2"
    )))
    .bind(id)
    .bind(tenant_id)
    .fetch_optional(pool)
    .await?
    .ok_or_else(|| not_found(id))
}

pub async fn list(
    pool: &PgPool,
    tenant_id: Uuid,
    offset: i64,
    limit: i64,
) -> Result<Vec<ChannelRow>> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM notification_channels WHERE tenant_id = $1
         ORDER BY created_at, id OFFSET $2 LIMIT $3"
    )))
    .bind(tenant_id)
    .bind(offset)
    .bind(limit)
    .fetch_all(pool)
    .await?)
}

/// Changes what the request sets; returns the channel and a newly generated secret, if any.
pub async fn update(
    pool: &PgPool,
    cipher: &CredentialCipher,
    urls: SourceUrlPolicy,
    tenant_id: Uuid,
    id: Uuid,
    request: &pb::UpdateChannelRequest,
) -> Result<(ChannelRow, Option<String>)> {
    let current = get(pool, tenant_id, id).await?;
    let name = request.name.as_deref().map(validate_name).transpose()?;
    let url = request
        .url
        .as_deref()
        .map(|url| validate_url(url, urls))
        .transpose()?;
    let secret = request
        .secret
        .as_deref()
        .map(|secret| validate_secret(&current.kind, secret))
        .transpose()?;
    let events = request
        .events
        .as_ref()
        .map(|e| validate_events(&e.events))
        .transpose()?;
    let threshold = request
        .dead_letter_threshold
        .map(validate_threshold)
        .transpose()?;
    let sealed_url = url
        .as_ref()
        .map(|(url, _)| seal(cipher, tenant_id, id, Sealed::Url, url))
        .transpose()?;
    let sealed_secret = secret
        .as_ref()
        .map(|(secret, _)| seal(cipher, tenant_id, id, Sealed::Secret, secret))
        .transpose()?;
    let row: ChannelRow = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "UPDATE notification_channels SET
             name = COALESCE($3, name),
             url_ciphertext = COALESCE($4, url_ciphertext),
             url_origin = COALESCE($5, url_origin),
             secret_ciphertext = COALESCE($6, secret_ciphertext),
             events = COALESCE($7, events),
             -- a new threshold is a new crossing to watch for
             dead_letters_over = dead_letters_over AND ($8::integer IS NULL OR $8 = dead_letter_threshold),
             dead_letter_threshold = COALESCE($8, dead_letter_threshold),
             updated_at = now()
         WHERE id = $1 AND tenant_id = $2
         RETURNING {COLUMNS}"
    )))
    .bind(id)
    .bind(tenant_id)
    .bind(&name)
    .bind(&sealed_url)
    .bind(url.as_ref().map(|(_, origin)| origin.as_str()))
    .bind(&sealed_secret)
    .bind(&events)
    .bind(threshold)
    .fetch_optional(pool)
    .await
    .map_err(|e| match e {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            name_taken(name.as_deref().unwrap_or_default())
        }
        other => other.into(),
    })?
    .ok_or_else(|| not_found(id))?;
    Ok((row, secret.and_then(|(_, generated)| generated)))
}

pub async fn set_active(
    pool: &PgPool,
    tenant_id: Uuid,
    id: Uuid,
    active: bool,
) -> Result<ChannelRow> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "UPDATE notification_channels SET active = $3, updated_at = now()
         WHERE id = $1 AND tenant_id = $2 RETURNING {COLUMNS}"
    )))
    .bind(id)
    .bind(tenant_id)
    .bind(active)
    .fetch_optional(pool)
    .await?
    .ok_or_else(|| not_found(id))
}

/// Deletes the channel and its delivery log (FK cascade).
pub async fn delete(pool: &PgPool, tenant_id: Uuid, id: Uuid) -> Result<()> {
    let deleted = sqlx::query("DELETE FROM notification_channels WHERE id = $1 AND tenant_id = $2")
        .bind(id)
        .bind(tenant_id)
        .execute(pool)
        .await?;
    if deleted.rows_affected() == 0 {
        return Err(not_found(id));
    }
    tracing::info!(channel_id = %id, %tenant_id, "notification channel deleted");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_follow_the_source_rules_without_repeating_the_url() {
        let strict = SourceUrlPolicy::default();
        let (url, origin) =
            validate_url(" https://hooks.slack.com/services/T0/B0/s3cret ", strict).unwrap();
        assert_eq!(url, "https://hooks.slack.com/services/T0/B0/s3cret");
        assert_eq!(origin.as_str(), "https://hooks.slack.com");
        assert!(validate_url("https://x.example/hook?code=abc", strict).is_ok());
        assert!(validate_url("http://127.0.0.1:9/hook", strict).is_ok());
        for bad in [
            "",
            "not a url s3cret",
            "ftp://x/s3cret",
            "http://hooks.example/s3cret",
            "https://u:s3cret@x.example/hook",
            "https://169.254.169.254/latest",
            "https://x.example/hook#s3cret",
        ] {
            let error = validate_url(bad, strict).unwrap_err().to_string();
            assert!(error.starts_with("url: "), "{bad:?}: {error}");
            assert!(!error.contains("s3cret"), "{bad:?}: {error}");
        }
        let insecure = SourceUrlPolicy {
            allow_insecure_http: true,
        };
        assert!(validate_url("http://hooks.example/x", insecure).is_ok());
    }

    #[test]
    fn secrets_are_generated_when_empty_and_refused_for_slack() {
        let (secret, generated) = validate_secret("webhook", "").unwrap();
        assert!(secret.starts_with("whsec_") && secret.len() > 40);
        assert_eq!(generated.as_deref(), Some(secret.as_str()));
        assert_eq!(
            validate_secret("webhook", "0123456789abcdef").unwrap(),
            ("0123456789abcdef".to_string(), None)
        );
        for (kind, secret) in [("webhook", "short"), ("slack", "0123456789abcdef")] {
            let error = validate_secret(kind, secret).unwrap_err().to_string();
            assert!(error.starts_with("secret: "), "{error}");
        }
    }

    #[test]
    fn events_are_named_and_deduplicated() {
        let run_failed = pb::NotificationEvent::RunFailed as i32;
        assert_eq!(
            validate_events(&[run_failed, run_failed]).unwrap(),
            vec!["RUN_FAILED".to_string()]
        );
        let error = validate_events(&[run_failed, pb::NotificationEvent::Test as i32])
            .unwrap_err()
            .to_string();
        assert!(error.starts_with("events[1]: "), "{error}");
        assert!(validate_events(&[99]).is_err());
        assert!(validate_kind(0).is_err() && validate_kind(7).is_err());
    }

    #[test]
    fn sealed_fields_open_only_for_their_channel_and_field() {
        let cipher = CredentialCipher::from_base64(&CredentialCipher::generate_key()).unwrap();
        let (tenant, channel) = (Uuid::new_v4(), Uuid::new_v4());
        let sealed = seal(&cipher, tenant, channel, Sealed::Url, "https://x/s3cret").unwrap();
        assert_eq!(
            open(&cipher, tenant, channel, Sealed::Url, &sealed).unwrap(),
            "https://x/s3cret"
        );
        assert!(open(&cipher, tenant, channel, Sealed::Secret, &sealed).is_err());
        assert!(open(&cipher, tenant, Uuid::new_v4(), Sealed::Url, &sealed).is_err());
    }
}
