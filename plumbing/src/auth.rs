//! API keys: `authorization: Bearer sk_sluice_…` maps to one tenant. Keys are stored as
//! SHA-256 hashes and shown once, when created.

use base64::Engine;
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use tonic::metadata::MetadataMap;
use uuid::Uuid;

const KEY_PREFIX: &str = "sk_sluice_";

/// The tenant a request acts for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tenant {
    pub id: Uuid,
    /// An admin key (`sluice bootstrap --admin`) also sees broker-wide figures; it never sees
    /// another tenant's rows.
    pub admin: bool,
}

/// A freshly created key; `key` is the only copy of the secret.
#[derive(Debug)]
pub struct IssuedKey {
    pub tenant_id: Uuid,
    pub key_id: Uuid,
    pub key: String,
}

pub fn generate_key() -> String {
    let secret: [u8; 32] = rand::random();
    format!(
        "{KEY_PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret)
    )
}

pub fn hash_key(key: &str) -> Vec<u8> {
    Sha256::digest(key.as_bytes()).to_vec()
}

/// A request carrying `authorization: Bearer <key>`, as clients of the API send it.
pub fn with_api_key<T>(key: &str, message: T) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    if let Ok(value) = format!("Bearer {key}").parse() {
        request.metadata_mut().insert("authorization", value);
    }
    request
}

/// The API key a request presents (`authorization: Bearer <key>`).
pub fn presented_key(metadata: &MetadataMap) -> Result<&str, tonic::Status> {
    let header = metadata.get("authorization").ok_or_else(|| {
        tonic::Status::unauthenticated("missing `authorization: Bearer <api key>` metadata")
    })?;
    let value = header
        .to_str()
        .map_err(|_| tonic::Status::unauthenticated("authorization metadata is not valid text"))?;
    value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .ok_or_else(|| {
            tonic::Status::unauthenticated("authorization metadata must be `Bearer <api key>`")
        })
}

/// Resolves the caller's tenant from `authorization: Bearer <key>`.
/// Missing, malformed, unknown and revoked keys are all UNAUTHENTICATED.
pub async fn authenticate(pool: &PgPool, metadata: &MetadataMap) -> Result<Tenant, tonic::Status> {
    let key = presented_key(metadata)?;
    let tenant: Option<(Uuid, bool)> = sqlx::query_as(
        "SELECT tenant_id, admin FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL",
    )
    .bind(hash_key(key))
    .fetch_optional(pool)
    .await
    .map_err(|error| {
        tracing::error!(%error, "api key lookup failed");
        tonic::Status::unavailable("cannot verify the api key right now")
    })?;
    tenant
        .map(|(id, admin)| Tenant { id, admin })
        .ok_or_else(|| tonic::Status::unauthenticated("unknown or revoked api key"))
}

/// Creates the tenant if it does not exist yet and issues a new key for it.
pub async fn bootstrap_tenant(
    pool: &PgPool,
    tenant_name: &str,
    key_name: &str,
) -> anyhow::Result<IssuedKey> {
    issue_key(pool, tenant_name, key_name, false).await
}

/// As [`bootstrap_tenant`]; an `admin` key also sees broker-wide queue figures.
pub async fn issue_key(
    pool: &PgPool,
    tenant_name: &str,
    key_name: &str,
    admin: bool,
) -> anyhow::Result<IssuedKey> {
    let tenant_name = tenant_name.trim();
    anyhow::ensure!(!tenant_name.is_empty(), "tenant name must not be empty");
    let mut tx = pool.begin().await?;
    let tenant_id: Uuid = sqlx::query_scalar(
        "INSERT INTO tenants (id, name) VALUES ($1, $2)
         ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name
         RETURNING id",
    )
    .bind(Uuid::new_v4())
    .bind(tenant_name)
    .fetch_one(&mut *tx)
    .await?;
    let key = generate_key();
    let key_id = Uuid::new_v4();
    sqlx::query(
        "INSERT INTO api_keys (id, tenant_id, name, key_prefix, key_hash, admin) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(key_id)
    .bind(tenant_id)
    .bind(key_name)
    .bind(&key[..KEY_PREFIX.len() + 6])
    .bind(hash_key(&key))
    .bind(admin)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(IssuedKey {
        tenant_id,
        key_id,
        key,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_unique_and_hashed() {
        let a = generate_key();
        let b = generate_key();
        assert_ne!(a, b);
        assert!(a.starts_with(KEY_PREFIX));
        assert_eq!(hash_key(&a).len(), 32);
        assert_ne!(hash_key(&a), hash_key(&b));
    }
}
