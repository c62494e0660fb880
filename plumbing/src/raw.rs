//! Raw API pages, stored exactly as received: the body's bytes, zstd-compressed, in
//! `raw_extraction_data` (about 20x cheaper than jsonb, and faithful to the byte).

use serde_json::Value;
use sqlx::PgPool;
use uuid::Uuid;

const ZSTD_LEVEL: i32 = 3;

#[derive(Debug, thiserror::Error)]
pub enum RawError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("raw page {0} not found")]
    NotFound(i64),
    #[error("raw page {id} cannot be decompressed: {source}")]
    Corrupt { id: i64, source: std::io::Error },
}

thread_local! {
    /// zstd contexts kept per thread: creating one per page cost more than compressing a
    /// small page (measured: ZSTD_createCCtx/DCtx about a fifth of zstd's time in a sync).
    static COMPRESSOR: std::cell::RefCell<Option<zstd::bulk::Compressor<'static>>> =
        const { std::cell::RefCell::new(None) };
    static DECOMPRESSOR: std::cell::RefCell<Option<zstd::bulk::Decompressor<'static>>> =
        const { std::cell::RefCell::new(None) };
}

fn compress(body: &[u8]) -> std::io::Result<Vec<u8>> {
    COMPRESSOR.with(|cell| {
        let mut cell = cell.borrow_mut();
        if cell.is_none() {
            *cell = Some(zstd::bulk::Compressor::new(ZSTD_LEVEL)?);
        }
        match cell.as_mut() {
            Some(compressor) => compressor.compress(body),
            None => zstd::bulk::compress(body, ZSTD_LEVEL),
        }
    })
}

fn decompress(data: &[u8], capacity: usize) -> std::io::Result<Vec<u8>> {
    DECOMPRESSOR.with(|cell| {
        let mut cell = cell.borrow_mut();
        if cell.is_none() {
            *cell = Some(zstd::bulk::Decompressor::new()?);
        }
        match cell.as_mut() {
            Some(decompressor) => decompressor.decompress(data, capacity),
            None => zstd::bulk::decompress(data, capacity),
        }
    })
}

/// A page as fetched, before storage.
#[derive(Debug, Clone)]
pub struct RawPage {
    pub extraction_type: String,
    pub step: i32,
    pub request_url: String,
    pub request_context: Value,
    pub http_status: u16,
    pub content_type: String,
    pub body: Vec<u8>,
    /// The incremental scope whose cursor this page's rows advance (`jira.project:KEY`,
    /// `github.repo:ID`); `None` for pages that carry no cursor.
    pub scope: Option<String>,
    /// The newest `updated` this page vouches for, when the connector knows it better than
    /// the page's rows do (a GitHub listing: the pull requests' own pages, fetched later,
    /// may show newer times than the listing saw). Otherwise the loader sets it from the rows.
    pub cursor: Option<chrono::DateTime<chrono::Utc>>,
}

/// Identifies the run a page belongs to.
#[derive(Debug, Clone, Copy)]
pub struct RunIds {
    pub tenant_id: Uuid,
    pub integration_id: Uuid,
    pub run_id: Uuid,
}

/// A stored page, decompressed.
#[derive(Debug, Clone)]
pub struct StoredRawPage {
    pub id: i64,
    pub tenant_id: Uuid,
    pub integration_id: Uuid,
    pub run_id: Uuid,
    pub extraction_type: String,
    pub step: i32,
    pub request_url: String,
    pub request_context: Value,
    pub http_status: i32,
    pub content_type: String,
    pub body: Vec<u8>,
}

pub async fn store(pool: &PgPool, ids: RunIds, page: &RawPage) -> Result<i64, RawError> {
    let compressed = compress(&page.body).map_err(|source| RawError::Corrupt { id: 0, source })?;
    // The page and the run's claim on it are written together.
    let id: i64 = sqlx::query_scalar(
        "WITH page AS (
             INSERT INTO raw_extraction_data
                 (tenant_id, integration_id, run_id, extraction_type, step, request_url, request_context,
                  http_status, content_type, payload_encoding, payload, payload_size)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'zstd', $10, $11)
             RETURNING id, run_id, tenant_id)
         INSERT INTO run_batches (run_id, raw_id, tenant_id, scope, max_updated)
         SELECT run_id, id, tenant_id, $12, $13 FROM page
         RETURNING raw_id",
    )
    .bind(ids.tenant_id)
    .bind(ids.integration_id)
    .bind(ids.run_id)
    .bind(&page.extraction_type)
    .bind(page.step)
    .bind(&page.request_url)
    .bind(&page.request_context)
    .bind(i32::from(page.http_status))
    .bind(&page.content_type)
    .bind(&compressed)
    .bind(page.body.len() as i32)
    .bind(&page.scope)
    .bind(page.cursor)
    .fetch_one(pool)
    .await?;
    Ok(id)
}

/// Loads one page. `tenant_id` scopes the read: another tenant's page is "not found".
pub async fn load(
    pool: &PgPool,
    tenant_id: Option<Uuid>,
    id: i64,
) -> Result<StoredRawPage, RawError> {
    let row: Option<RawRow> = sqlx::query_as(
        "SELECT id, tenant_id, integration_id, run_id, extraction_type, step, request_url,
                request_context, http_status, content_type, payload_encoding, payload, payload_size
         FROM raw_extraction_data WHERE id = $1 AND ($2::uuid IS NULL OR tenant_id = $2)",
    )
    .bind(id)
    .bind(tenant_id)
    .fetch_optional(pool)
    .await?;
    let row = row.ok_or(RawError::NotFound(id))?;
    let body = match row.payload_encoding.as_str() {
        "identity" => row.payload,
        // One allocation of the known size, no streaming copies.
        _ => decompress(&row.payload, row.payload_size.max(0) as usize)
            .map_err(|source| RawError::Corrupt { id, source })?,
    };
    Ok(StoredRawPage {
        id: row.id,
        tenant_id: row.tenant_id,
        integration_id: row.integration_id,
        run_id: row.run_id,
        extraction_type: row.extraction_type,
        step: row.step,
        request_url: row.request_url,
        request_context: row.request_context,
        http_status: row.http_status,
        content_type: row.content_type,
        body,
    })
}

#[derive(sqlx::FromRow)]
struct RawRow {
    id: i64,
    tenant_id: Uuid,
    integration_id: Uuid,
    run_id: Uuid,
    extraction_type: String,
    step: i32,
    request_url: String,
    request_context: Value,
    http_status: i32,
    content_type: String,
    payload_encoding: String,
    payload: Vec<u8>,
    payload_size: i32,
}

/// Stores a page kept for the record only (e.g. a dev-status summary that decides which
/// details to fetch): exactly as received, already marked processed, nothing to load.
pub async fn store_processed(pool: &PgPool, ids: RunIds, page: &RawPage) -> Result<i64, RawError> {
    let compressed = compress(&page.body).map_err(|source| RawError::Corrupt { id: 0, source })?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO raw_extraction_data
             (tenant_id, integration_id, run_id, extraction_type, step, request_url, request_context,
              http_status, content_type, payload_encoding, payload, payload_size, processed_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'zstd', $10, $11, now())
         RETURNING id",
    )
    .bind(ids.tenant_id)
    .bind(ids.integration_id)
    .bind(ids.run_id)
    .bind(&page.extraction_type)
    .bind(page.step)
    .bind(&page.request_url)
    .bind(&page.request_context)
    .bind(i32::from(page.http_status))
    .bind(&page.content_type)
    .bind(&compressed)
    .bind(page.body.len() as i32)
    .fetch_one(pool)
    .await?;
    Ok(id)
}
