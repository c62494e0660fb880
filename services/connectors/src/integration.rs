//! Loads an integration with its decrypted credentials (tenant-scoped).

use sluice_plumbing::credentials::SourceCredentials;
use sluice_plumbing::crypto::CredentialCipher;
use sluice_plumbing::origin::Origin;
use sluice_plumbing::settings::StoredSettings;
use sqlx::PgPool;
use uuid::Uuid;

use crate::error::ConnectorError;

pub struct LoadedIntegration {
    pub integration_type: String,
    pub base_url: String,
    pub active: bool,
    pub credentials: SourceCredentials,
    pub settings: StoredSettings,
}

#[derive(sqlx::FromRow)]
struct IntegrationRecord {
    integration_type: String,
    base_url: String,
    active: bool,
    credentials_ciphertext: Vec<u8>,
    settings: serde_json::Value,
    credentials_origin: Option<String>,
}

pub async fn load(
    pool: &PgPool,
    cipher: &CredentialCipher,
    tenant_id: Uuid,
    integration_id: Uuid,
) -> Result<LoadedIntegration, ConnectorError> {
    let row: Option<IntegrationRecord> =
        sqlx::query_as(
            "SELECT integration_type, base_url, active, credentials_ciphertext, settings, credentials_origin
             FROM integrations WHERE id = $1 AND tenant_id = $2",
        )
    .bind(integration_id)
    .bind(tenant_id)
    .fetch_optional(pool)
    .await
    .map_err(|e| ConnectorError::internal(format!("loading integration {integration_id}: {e}")))?;
    let IntegrationRecord {
        integration_type,
        base_url,
        active,
        credentials_ciphertext: sealed,
        settings,
        credentials_origin,
    } = row
        .ok_or_else(|| ConnectorError::config(format!("integration {integration_id} not found")))?;
    // Credentials go only to the origin they were given for, whatever base_url says now.
    let origin = Origin::of(&base_url).ok_or_else(|| {
        ConnectorError::config(format!(
            "integration {integration_id}: base_url is not an http(s) URL"
        ))
    })?;
    if credentials_origin.as_deref() != Some(origin.as_str()) {
        return Err(ConnectorError::config(format!(
            "integration {integration_id}: its credentials were given for {}, not {origin}; set them again for the new base URL",
            credentials_origin.as_deref().unwrap_or("another origin")
        )));
    }
    let credentials = SourceCredentials::open(&sealed, cipher, tenant_id, integration_id)
        .map_err(|e| ConnectorError::config(format!("integration {integration_id}: {e}")))?;
    let settings: StoredSettings = serde_json::from_value(settings).map_err(|e| {
        ConnectorError::internal(format!(
            "integration {integration_id} has unreadable settings: {e}"
        ))
    })?;
    Ok(LoadedIntegration {
        integration_type,
        base_url,
        active,
        credentials,
        settings,
    })
}
