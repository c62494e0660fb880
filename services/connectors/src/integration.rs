//! Loads an integration with its decrypted credentials (tenant-scoped).

use sluice_plumbing::credentials::SourceCredentials;
use sluice_plumbing::crypto::CredentialCipher;
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

pub async fn load(
    pool: &PgPool,
    cipher: &CredentialCipher,
    tenant_id: Uuid,
    integration_id: Uuid,
) -> Result<LoadedIntegration, ConnectorError> {
    let row: Option<(String, String, bool, Vec<u8>, serde_json::Value)> = sqlx::query_as(
        "SELECT integration_type, base_url, active, credentials_ciphertext, settings
         FROM integrations WHERE id = $1 AND tenant_id = $2",
    )
    .bind(integration_id)
    .bind(tenant_id)
    .fetch_optional(pool)
    .await
    .map_err(|e| ConnectorError::internal(format!("loading integration {integration_id}: {e}")))?;
    let (integration_type, base_url, active, sealed, settings) = row
        .ok_or_else(|| ConnectorError::config(format!("integration {integration_id} not found")))?;
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
