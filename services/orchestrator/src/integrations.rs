//! Integrations: validation, encrypted credentials, tenant-scoped storage.

use chrono::{DateTime, Utc};
use sluice_plumbing::credentials::SourceCredentials;
use sluice_plumbing::crypto::CredentialCipher;
use sluice_plumbing::origin::{Origin, SourceUrlPolicy};
use sluice_plumbing::settings::{
    GithubApi, GithubSettings, JiraSettings, MAX_JIRA_PAGE_SIZE, StoredSettings,
    is_valid_jira_project_key,
};
use sluice_proto::v1 as pb;
use sqlx::PgPool;
use uuid::Uuid;

use crate::convert::{opt_timestamp, timestamp};
use crate::error::{OrchestratorError, Result};
use crate::jobs;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct IntegrationRow {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub integration_type: String,
    pub name: String,
    pub base_url: String,
    pub credentials_kind: String,
    pub active: bool,
    pub settings: serde_json::Value,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, tenant_id, integration_type, name, base_url, credentials_kind, active, settings, created_at, updated_at";

impl IntegrationRow {
    pub fn to_proto(&self) -> pb::Integration {
        let settings: StoredSettings =
            serde_json::from_value(self.settings.clone()).unwrap_or_default();
        let source = match (settings.jira, settings.github) {
            (Some(j), _) => Some(pb::integration_settings::Source::Jira(pb::JiraSettings {
                project_keys: j.project_keys,
                time_zone: j.time_zone,
                page_size: j.page_size as i32,
                pull_requests_from_github: Some(j.pull_requests_from_github),
            })),
            (None, Some(g)) => Some(pb::integration_settings::Source::Github(
                pb::GithubSettings {
                    repositories: g.repositories,
                    organizations: g.organizations,
                    include_archived: g.include_archived,
                    pull_requests_api: match g.pull_requests_api {
                        GithubApi::Auto => pb::GithubApi::Auto,
                        GithubApi::Graphql => pb::GithubApi::Graphql,
                        GithubApi::Rest => pb::GithubApi::Rest,
                    } as i32,
                },
            )),
            (None, None) => None,
        };
        pb::Integration {
            id: self.id.to_string(),
            r#type: integration_type_from_name(&self.integration_type) as i32,
            name: self.name.clone(),
            base_url: self.base_url.clone(),
            active: self.active,
            credentials_kind: self.credentials_kind.clone(),
            settings: Some(pb::IntegrationSettings { source }),
            created_at: Some(timestamp(self.created_at)),
            updated_at: opt_timestamp(Some(self.updated_at)),
        }
    }
}

fn integration_type_name(t: pb::IntegrationType) -> Option<&'static str> {
    match t {
        pb::IntegrationType::Jira => Some("jira"),
        pb::IntegrationType::Github => Some("github"),
        pb::IntegrationType::Unspecified => None,
    }
}

fn integration_type_from_name(name: &str) -> pb::IntegrationType {
    match name {
        "jira" => pb::IntegrationType::Jira,
        "github" => pb::IntegrationType::Github,
        _ => pb::IntegrationType::Unspecified,
    }
}

/// Validated input of a create or update.
struct Validated {
    name: String,
    base_url: String,
    credentials: Option<SourceCredentials>,
    settings: StoredSettings,
}

pub async fn create(
    pool: &PgPool,
    cipher: &CredentialCipher,
    urls: SourceUrlPolicy,
    tenant_id: Uuid,
    request: pb::CreateIntegrationRequest,
) -> Result<(IntegrationRow, Vec<Uuid>)> {
    let kind = pb::IntegrationType::try_from(request.r#type)
        .ok()
        .and_then(integration_type_name)
        .ok_or_else(|| {
            OrchestratorError::invalid(
                "type",
                "must be INTEGRATION_TYPE_JIRA or INTEGRATION_TYPE_GITHUB",
            )
        })?;
    let name = validate_name(&request.name)?;
    let base_url = validate_base_url(&request.base_url, urls)?;
    let credentials = validate_credentials(kind, request.credentials.as_ref())?
        .ok_or_else(|| OrchestratorError::invalid("credentials", "are required"))?;
    let settings = validate_settings(kind, request.settings.as_ref(), None)?;
    let id = Uuid::new_v4();
    let sealed = credentials
        .seal(cipher, tenant_id, id)
        .map_err(|e| OrchestratorError::Internal(e.to_string()))?;
    let mut tx = pool.begin().await?;
    let inserted: Option<IntegrationRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "INSERT INTO integrations (id, tenant_id, integration_type, name, base_url, credentials_ciphertext, credentials_kind, settings, credentials_origin)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (tenant_id, name) DO NOTHING
         RETURNING {COLUMNS}"
    )))
    .bind(id)
    .bind(tenant_id)
    .bind(kind)
    .bind(&name)
    .bind(&base_url)
    .bind(&sealed)
    .bind(credentials.kind())
    .bind(settings_json(&settings)?)
    .bind(origin_of(&base_url)?.as_str())
    .fetch_optional(&mut *tx)
    .await?;
    let row = inserted.ok_or_else(|| {
        OrchestratorError::AlreadyExists(format!("an integration named {:?} already exists", name))
    })?;
    let job_ids = jobs::create_default_jobs(&mut tx, &row).await?;
    tx.commit().await?;
    tracing::info!(integration_id = %row.id, tenant_id = %tenant_id, kind, "integration created");
    Ok((row, job_ids))
}

pub async fn get(pool: &PgPool, tenant_id: Uuid, id: Uuid) -> Result<IntegrationRow> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM integrations WHERE id = $1 AND tenant_id = $2"
    )))
    .bind(id)
    .bind(tenant_id)
    .fetch_optional(pool)
    .await?
    .ok_or(OrchestratorError::NotFound {
        what: "integration",
        id: id.to_string(),
    })
}

pub async fn list(
    pool: &PgPool,
    tenant_id: Uuid,
    offset: i64,
    limit: i64,
) -> Result<Vec<IntegrationRow>> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM integrations WHERE tenant_id = $1 ORDER BY created_at, id OFFSET $2 LIMIT $3"
    )))
    .bind(tenant_id)
    .bind(offset)
    .bind(limit)
    .fetch_all(pool)
    .await?)
}

pub async fn update(
    pool: &PgPool,
    cipher: &CredentialCipher,
    urls: SourceUrlPolicy,
    tenant_id: Uuid,
    id: Uuid,
    request: pb::UpdateIntegrationRequest,
) -> Result<IntegrationRow> {
    let current = get(pool, tenant_id, id).await?;
    let kind = current.integration_type.as_str();
    let existing: StoredSettings =
        serde_json::from_value(current.settings.clone()).unwrap_or_default();
    let input = Validated {
        name: match &request.name {
            Some(name) => validate_name(name)?,
            None => current.name.clone(),
        },
        base_url: match &request.base_url {
            Some(url) => validate_base_url(url, urls)?,
            None => current.base_url.clone(),
        },
        credentials: validate_credentials(kind, request.credentials.as_ref())?,
        settings: validate_settings(kind, request.settings.as_ref(), Some(existing))?,
    };
    // Stored credentials go only to the origin they were given for: moving the integration
    // to another origin needs them again.
    let new_origin = origin_of(&input.base_url)?;
    if input.credentials.is_none() && Origin::of(&current.base_url).as_ref() != Some(&new_origin) {
        return Err(OrchestratorError::invalid(
            "credentials",
            format!(
                "are required when base_url moves to another origin ({new_origin}): stored credentials are only ever sent to the origin they were given for"
            ),
        ));
    }
    let sealed = match &input.credentials {
        Some(c) => Some(
            c.seal(cipher, tenant_id, id)
                .map_err(|e| OrchestratorError::Internal(e.to_string()))?,
        ),
        None => None,
    };
    let row: IntegrationRow = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "UPDATE integrations SET name = $3, base_url = $4, settings = $5,
             credentials_ciphertext = COALESCE($6, credentials_ciphertext),
             credentials_kind = COALESCE($7, credentials_kind),
             credentials_origin = CASE WHEN $6 IS NULL THEN credentials_origin ELSE $8 END,
             updated_at = now()
         WHERE id = $1 AND tenant_id = $2
         RETURNING {COLUMNS}"
    )))
    .bind(id)
    .bind(tenant_id)
    .bind(&input.name)
    .bind(&input.base_url)
    .bind(settings_json(&input.settings)?)
    .bind(sealed)
    .bind(input.credentials.as_ref().map(|c| c.kind()))
    .bind(new_origin.as_str())
    .fetch_optional(pool)
    .await
    .map_err(|e| match e {
        sqlx::Error::Database(db) if db.is_unique_violation() => OrchestratorError::AlreadyExists(
            format!("an integration named {:?} already exists", input.name),
        ),
        other => other.into(),
    })?
    .ok_or(OrchestratorError::NotFound {
        what: "integration",
        id: id.to_string(),
    })?;
    Ok(row)
}

pub async fn set_active(
    pool: &PgPool,
    tenant_id: Uuid,
    id: Uuid,
    active: bool,
) -> Result<IntegrationRow> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "UPDATE integrations SET active = $3, updated_at = now() WHERE id = $1 AND tenant_id = $2 RETURNING {COLUMNS}"
    )))
    .bind(id)
    .bind(tenant_id)
    .bind(active)
    .fetch_optional(pool)
    .await?
    .ok_or(OrchestratorError::NotFound {
        what: "integration",
        id: id.to_string(),
    })
}

/// Deletes the integration; its jobs, runs, raw pages and synced rows go with it (FK cascade).
pub async fn delete(pool: &PgPool, tenant_id: Uuid, id: Uuid) -> Result<()> {
    let deleted = sqlx::query("DELETE FROM integrations WHERE id = $1 AND tenant_id = $2")
        .bind(id)
        .bind(tenant_id)
        .execute(pool)
        .await?;
    if deleted.rows_affected() == 0 {
        return Err(OrchestratorError::NotFound {
            what: "integration",
            id: id.to_string(),
        });
    }
    Ok(())
}

fn settings_json(settings: &StoredSettings) -> Result<serde_json::Value> {
    serde_json::to_value(settings).map_err(|e| OrchestratorError::Internal(e.to_string()))
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

fn validate_base_url(url: &str, urls: SourceUrlPolicy) -> Result<String> {
    sluice_plumbing::origin::validate_base_url(url, urls)
        .map_err(|problem| OrchestratorError::invalid("base_url", problem.to_string()))
}

fn origin_of(base_url: &str) -> Result<Origin> {
    Origin::of(base_url).ok_or_else(|| OrchestratorError::invalid("base_url", "has no origin"))
}

fn validate_credentials(
    kind: &str,
    credentials: Option<&pb::Credentials>,
) -> Result<Option<SourceCredentials>> {
    let Some(kind_of) = credentials.and_then(|c| c.kind.as_ref()) else {
        return Ok(None);
    };
    let required = |field: &str, value: &str| {
        if value.trim().is_empty() {
            Err(OrchestratorError::invalid(field, "is required"))
        } else {
            Ok(value.trim().to_string())
        }
    };
    let parsed = match kind_of {
        pb::credentials::Kind::Basic(basic) => SourceCredentials::Basic {
            email: required("credentials.basic.email", &basic.email)?,
            api_token: required("credentials.basic.api_token", &basic.api_token)?,
        },
        pb::credentials::Kind::Bearer(bearer) => SourceCredentials::Bearer {
            token: required("credentials.bearer.token", &bearer.token)?,
        },
        pb::credentials::Kind::Github(github) => {
            if github.tokens.is_empty() {
                return Err(OrchestratorError::invalid(
                    "credentials.github.tokens",
                    "needs at least one token",
                ));
            }
            let tokens = github
                .tokens
                .iter()
                .enumerate()
                .map(|(i, t)| required(&format!("credentials.github.tokens[{i}]"), t))
                .collect::<Result<Vec<_>>>()?;
            SourceCredentials::Github { tokens }
        }
    };
    let fits = matches!(
        (kind, &parsed),
        (
            "jira",
            SourceCredentials::Basic { .. } | SourceCredentials::Bearer { .. }
        ) | (
            "github",
            SourceCredentials::Github { .. } | SourceCredentials::Bearer { .. }
        )
    );
    if !fits {
        return Err(OrchestratorError::invalid(
            "credentials",
            format!(
                "{} credentials do not apply to a {kind} integration",
                parsed.kind()
            ),
        ));
    }
    Ok(Some(parsed))
}

fn validate_settings(
    kind: &str,
    settings: Option<&pb::IntegrationSettings>,
    existing: Option<StoredSettings>,
) -> Result<StoredSettings> {
    let source = settings.and_then(|s| s.source.as_ref());
    match (kind, source) {
        (_, None) => Ok(existing.unwrap_or_else(|| default_settings(kind))),
        ("jira", Some(pb::integration_settings::Source::Jira(jira))) => {
            for (i, key) in jira.project_keys.iter().enumerate() {
                if !is_valid_jira_project_key(key) {
                    return Err(OrchestratorError::invalid(
                        format!("settings.jira.project_keys[{i}]"),
                        format!(
                            "{key:?} is not a Jira project key (uppercase letter, then uppercase letters, digits or _)"
                        ),
                    ));
                }
            }
            let page_size = match jira.page_size {
                0 => sluice_plumbing::settings::DEFAULT_JIRA_PAGE_SIZE,
                n if n > 0 && n as u32 <= MAX_JIRA_PAGE_SIZE => n as u32,
                _ => {
                    return Err(OrchestratorError::invalid(
                        "settings.jira.page_size",
                        format!("must be between 1 and {MAX_JIRA_PAGE_SIZE}"),
                    ));
                }
            };
            let time_zone = match jira.time_zone.trim() {
                "" => "UTC".to_string(),
                tz if tz.len() <= 64
                    && tz
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "/_+-".contains(c)) =>
                {
                    tz.to_string()
                }
                tz => {
                    return Err(OrchestratorError::invalid(
                        "settings.jira.time_zone",
                        format!("{tz:?} is not an IANA time zone name"),
                    ));
                }
            };
            Ok(StoredSettings {
                jira: Some(JiraSettings {
                    project_keys: jira.project_keys.clone(),
                    time_zone,
                    page_size,
                    pull_requests_from_github: jira.pull_requests_from_github.unwrap_or(true),
                }),
                github: None,
            })
        }
        ("github", Some(pb::integration_settings::Source::Github(github))) => Ok(StoredSettings {
            jira: None,
            github: Some(GithubSettings {
                repositories: github.repositories.clone(),
                organizations: github.organizations.clone(),
                include_archived: github.include_archived,
                pull_requests_api: match pb::GithubApi::try_from(github.pull_requests_api) {
                    Ok(pb::GithubApi::Auto) => GithubApi::Auto,
                    Ok(pb::GithubApi::Graphql) => GithubApi::Graphql,
                    Ok(pb::GithubApi::Rest) => GithubApi::Rest,
                    Err(_) => {
                        return Err(OrchestratorError::invalid(
                            "settings.github.pull_requests_api",
                            format!(
                                "{} is not a GitHub API (0 auto, 1 GraphQL, 2 REST)",
                                github.pull_requests_api
                            ),
                        ));
                    }
                },
            }),
        }),
        (kind, Some(_)) => Err(OrchestratorError::invalid(
            "settings",
            format!("settings of another source type given for a {kind} integration"),
        )),
    }
}

fn default_settings(kind: &str) -> StoredSettings {
    match kind {
        "jira" => StoredSettings {
            jira: Some(JiraSettings::default()),
            github: None,
        },
        _ => StoredSettings {
            jira: None,
            github: Some(GithubSettings::default()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_url_validation_names_the_problem() {
        let strict = SourceUrlPolicy::default();
        assert_eq!(
            validate_base_url("https://x.atlassian.net/", strict).unwrap(),
            "https://x.atlassian.net"
        );
        for bad in [
            "",
            "   ",
            "ftp://x",
            "not a url",
            "https://x?y=1",
            "https://u:p@x",
            "http://x.example",
        ] {
            let err = validate_base_url(bad, strict).unwrap_err();
            assert!(err.to_string().starts_with("base_url:"), "{bad:?}: {err}");
        }
    }

    #[test]
    fn credentials_must_fit_the_source() {
        let github = pb::Credentials {
            kind: Some(pb::credentials::Kind::Github(pb::GithubTokens {
                tokens: vec!["t".into()],
            })),
        };
        assert!(validate_credentials("jira", Some(&github)).is_err());
        let empty_token = pb::Credentials {
            kind: Some(pb::credentials::Kind::Basic(pb::BasicAuth {
                email: "a@b".into(),
                api_token: " ".into(),
            })),
        };
        let err = validate_credentials("jira", Some(&empty_token)).unwrap_err();
        assert!(
            err.to_string().contains("credentials.basic.api_token"),
            "{err}"
        );
    }
}
