//! Vector stores. The embedded store keeps vectors in the PostgreSQL Sluice already uses
//! (`embedded_vectors`) and searches exactly: a tenant's vectors for a model are held in
//! memory (loaded on first use, reloaded when the tenant's generation counter shows another
//! writer changed them), filtered, and scored by dot product — vectors are unit length, so
//! this is cosine similarity; each entity keeps its best chunk. Every query is scoped by
//! tenant.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

/// One chunk's vector with the payload used by filters.
#[derive(Debug, Clone)]
pub struct Point {
    pub entity_type: String,
    pub entity_id: String,
    pub chunk: i32,
    pub content_hash: String,
    pub vector: Vec<f32>,
    pub snippet: String,
    pub project: String,
    pub item_type: String,
    pub status: String,
    pub updated_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Default)]
pub struct Filters {
    pub entity_types: Vec<String>,
    pub projects: Vec<String>,
    pub item_types: Vec<String>,
    pub statuses: Vec<String>,
    pub updated_from: Option<DateTime<Utc>>,
    pub updated_to: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    pub entity_type: String,
    pub entity_id: String,
    pub score: f32,
    pub snippet: String,
}

/// What the vectorizer needs of a vector store, per collection (`model`) and always within
/// one tenant. The embedded PostgreSQL store and Qdrant implement it; one set of tests runs
/// against both (cli/tests/it/vectors.rs).
#[allow(async_fn_in_trait)]
pub trait VectorStore {
    fn name(&self) -> &'static str;
    /// Replaces all chunks of each entity with the given points (all of that entity's).
    async fn replace_entities(
        &self,
        tenant: Uuid,
        model: &str,
        entities: &[(&str, &str, &[Point])],
    ) -> Result<(), StoreError>;
    async fn delete_entity(
        &self,
        tenant: Uuid,
        model: &str,
        entity_type: &str,
        entity_id: &str,
    ) -> Result<(), StoreError>;
    /// Removes the tenant's vectors in one collection.
    async fn drop_collection(&self, tenant: Uuid, model: &str) -> Result<(), StoreError>;
    /// The tenant's vectors (chunks) in one collection.
    async fn count(&self, tenant: Uuid, model: &str) -> Result<i64, StoreError>;
    /// The `top_k` entities most similar to `query` (unit length), best first, one hit per
    /// entity (its best chunk).
    async fn search(
        &self,
        tenant: Uuid,
        model: &str,
        query: &[f32],
        top_k: usize,
        filters: &Filters,
    ) -> Result<Vec<Hit>, StoreError>;
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("embedded vector store: {0}")]
    Postgres(#[from] sqlx::Error),
    #[error("qdrant: {0}")]
    Qdrant(#[from] qdrant_client::QdrantError),
}

impl From<StoreError> for sqlx::Error {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Postgres(error) => error,
            other => sqlx::Error::Protocol(other.to_string()),
        }
    }
}

impl VectorStore for PostgresStore {
    fn name(&self) -> &'static str {
        "postgres"
    }

    async fn replace_entities(
        &self,
        tenant: Uuid,
        model: &str,
        entities: &[(&str, &str, &[Point])],
    ) -> Result<(), StoreError> {
        Ok(PostgresStore::replace_entities(self, tenant, model, entities).await?)
    }

    async fn delete_entity(
        &self,
        tenant: Uuid,
        _model: &str,
        entity_type: &str,
        entity_id: &str,
    ) -> Result<(), StoreError> {
        // Every collection's vectors of the entity go (it is gone from the source).
        PostgresStore::delete_entity(self, tenant, entity_type, entity_id).await?;
        Ok(())
    }

    async fn drop_collection(&self, tenant: Uuid, model: &str) -> Result<(), StoreError> {
        PostgresStore::drop_collection(self, tenant, model).await?;
        Ok(())
    }

    async fn count(&self, tenant: Uuid, model: &str) -> Result<i64, StoreError> {
        Ok(PostgresStore::count(self, tenant, model).await?)
    }

    async fn search(
        &self,
        tenant: Uuid,
        model: &str,
        query: &[f32],
        top_k: usize,
        filters: &Filters,
    ) -> Result<Vec<Hit>, StoreError> {
        Ok(PostgresStore::search(self, tenant, model, query, top_k, filters).await?)
    }
}

#[derive(Clone)]
pub struct PostgresStore {
    pool: PgPool,
    cache: std::sync::Arc<std::sync::Mutex<LoadedByTenant>>,
}

/// In-memory vectors by (tenant, model).
type LoadedByTenant = HashMap<(Uuid, String), std::sync::Arc<Loaded>>;

/// A tenant's vectors for one model, as of a generation.
struct Loaded {
    generation: i64,
    rows: Vec<Row>,
}

#[derive(sqlx::FromRow)]
struct StoredRow {
    entity_type: String,
    entity_id: String,
    vector: Vec<u8>,
    snippet: String,
    project: String,
    item_type: String,
    status: String,
    updated_at: Option<DateTime<Utc>>,
}

struct Row {
    entity_type: String,
    entity_id: String,
    snippet: String,
    project: String,
    item_type: String,
    status: String,
    updated_at: Option<DateTime<Utc>>,
    vector: Vec<f32>,
}

impl Row {
    fn passes(&self, filters: &Filters) -> bool {
        let within =
            |list: &[String], value: &str| list.is_empty() || list.iter().any(|v| v == value);
        within(&filters.entity_types, &self.entity_type)
            && within(&filters.projects, &self.project)
            && within(&filters.item_types, &self.item_type)
            && within(&filters.statuses, &self.status)
            && filters
                .updated_from
                .is_none_or(|from| self.updated_at.is_some_and(|u| u >= from))
            && filters
                .updated_to
                .is_none_or(|to| self.updated_at.is_some_and(|u| u < to))
    }
}

/// Dot product with eight independent sums, which the compiler turns into SIMD.
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len().min(b.len());
    let mut sums = [0.0f32; 8];
    for (x, y) in a[..n - n % 8]
        .chunks_exact(8)
        .zip(b[..n - n % 8].chunks_exact(8))
    {
        for lane in 0..8 {
            sums[lane] += x[lane] * y[lane];
        }
    }
    let mut total: f32 = sums.iter().sum();
    for i in n - n % 8..n {
        total += a[i] * b[i];
    }
    total
}

fn to_bytes(vector: &[f32]) -> Vec<u8> {
    vector.iter().flat_map(|v| v.to_le_bytes()).collect()
}

impl PostgresStore {
    pub fn new(pool: PgPool) -> Self {
        PostgresStore {
            pool,
            cache: Default::default(),
        }
    }

    /// Counts a change to the tenant's vectors (every model), in the writer's transaction.
    async fn bump(
        tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
        tenant: Uuid,
        model: &str,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO vector_generations (tenant_id, model, generation) VALUES ($1, $2, 1)
             ON CONFLICT (tenant_id, model) DO UPDATE SET generation = vector_generations.generation + 1",
        )
        .bind(tenant)
        .bind(model)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// The tenant's vectors for `model`, from memory unless they changed since loaded.
    async fn loaded(
        &self,
        tenant: Uuid,
        model: &str,
    ) -> Result<std::sync::Arc<Loaded>, sqlx::Error> {
        let generation: i64 = sqlx::query_scalar(
            "SELECT COALESCE((SELECT generation FROM vector_generations WHERE tenant_id = $1 AND model = $2), 0)",
        )
        .bind(tenant)
        .bind(model)
        .fetch_one(&self.pool)
        .await?;
        let key = (tenant, model.to_string());
        if let Some(loaded) = self
            .cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
            && loaded.generation == generation
        {
            return Ok(loaded.clone());
        }
        let stored: Vec<StoredRow> = sqlx::query_as(
            "SELECT entity_type, entity_id, vector, snippet, project, item_type, status, updated_at
             FROM embedded_vectors WHERE tenant_id = $1 AND model = $2",
        )
        .bind(tenant)
        .bind(model)
        .fetch_all(&self.pool)
        .await?;
        let rows = stored
            .into_iter()
            .map(|r| Row {
                vector: r
                    .vector
                    .chunks_exact(4)
                    .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                    .collect(),
                entity_type: r.entity_type,
                entity_id: r.entity_id,
                snippet: r.snippet,
                project: r.project,
                item_type: r.item_type,
                status: r.status,
                updated_at: r.updated_at,
            })
            .collect();
        let loaded = std::sync::Arc::new(Loaded { generation, rows });
        self.cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, loaded.clone());
        Ok(loaded)
    }

    /// Replaces the chunks of many entities (each entry: one entity's points, all of them),
    /// in one transaction: the batch lands whole or not at all.
    pub async fn replace_entities(
        &self,
        tenant: Uuid,
        model: &str,
        entities: &[(&str, &str, &[Point])],
    ) -> Result<(), sqlx::Error> {
        if entities.is_empty() {
            return Ok(());
        }
        let mut tx = self.pool.begin().await?;
        // Every chunk of these entities goes, then their new chunks are written: one
        // index-driven statement per entity type.
        for entity_type in ["work_item", "pull_request"] {
            let ids: Vec<&str> = entities
                .iter()
                .filter(|(t, _, _)| *t == entity_type)
                .map(|(_, id, _)| *id)
                .collect();
            if ids.is_empty() {
                continue;
            }
            sqlx::query(
                "DELETE FROM embedded_vectors WHERE tenant_id = $1 AND model = $2 AND entity_type = $3
                   AND entity_id = ANY($4)",
            )
            .bind(tenant)
            .bind(model)
            .bind(entity_type)
            .bind(&ids)
            .execute(&mut *tx)
            .await?;
        }
        let points: Vec<&Point> = entities.iter().flat_map(|(_, _, p)| p.iter()).collect();
        sqlx::query(
            "INSERT INTO embedded_vectors (tenant_id, model, entity_type, entity_id, chunk, content_hash,
                 vector, snippet, project, item_type, status, updated_at)
             SELECT $1, $2, * FROM UNNEST($3::text[], $4::text[], $5::int[], $6::text[], $7::bytea[],
                 $8::text[], $9::text[], $10::text[], $11::text[], $12::timestamptz[])
             ON CONFLICT (tenant_id, model, entity_type, entity_id, chunk) DO UPDATE SET
                 content_hash = EXCLUDED.content_hash, vector = EXCLUDED.vector,
                 snippet = EXCLUDED.snippet, project = EXCLUDED.project,
                 item_type = EXCLUDED.item_type, status = EXCLUDED.status,
                 updated_at = EXCLUDED.updated_at",
        )
        .bind(tenant)
        .bind(model)
        .bind(points.iter().map(|p| p.entity_type.as_str()).collect::<Vec<_>>())
        .bind(points.iter().map(|p| p.entity_id.as_str()).collect::<Vec<_>>())
        .bind(points.iter().map(|p| p.chunk).collect::<Vec<_>>())
        .bind(points.iter().map(|p| p.content_hash.as_str()).collect::<Vec<_>>())
        .bind(points.iter().map(|p| to_bytes(&p.vector)).collect::<Vec<_>>())
        .bind(points.iter().map(|p| p.snippet.as_str()).collect::<Vec<_>>())
        .bind(points.iter().map(|p| p.project.as_str()).collect::<Vec<_>>())
        .bind(points.iter().map(|p| p.item_type.as_str()).collect::<Vec<_>>())
        .bind(points.iter().map(|p| p.status.as_str()).collect::<Vec<_>>())
        .bind(points.iter().map(|p| p.updated_at).collect::<Vec<_>>())
        .execute(&mut *tx)
        .await?;
        Self::bump(&mut tx, tenant, model).await?;
        tx.commit().await
    }

    /// Removes a tenant's vectors in one collection (after a Reindex switched away from it).
    pub async fn drop_collection(&self, tenant: Uuid, model: &str) -> Result<u64, sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        let removed =
            sqlx::query("DELETE FROM embedded_vectors WHERE tenant_id = $1 AND model = $2")
                .bind(tenant)
                .bind(model)
                .execute(&mut *tx)
                .await?
                .rows_affected();
        Self::bump(&mut tx, tenant, model).await?;
        tx.commit().await?;
        self.cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&(tenant, model.to_string()));
        Ok(removed)
    }

    /// How many vectors the tenant has in a collection.
    pub async fn count(&self, tenant: Uuid, model: &str) -> Result<i64, sqlx::Error> {
        sqlx::query_scalar(
            "SELECT count(*) FROM embedded_vectors WHERE tenant_id = $1 AND model = $2",
        )
        .bind(tenant)
        .bind(model)
        .fetch_one(&self.pool)
        .await
    }

    pub async fn delete_entity(
        &self,
        tenant: Uuid,
        entity_type: &str,
        entity_id: &str,
    ) -> Result<u64, sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        let models: Vec<String> = sqlx::query_scalar(
            "DELETE FROM embedded_vectors WHERE tenant_id = $1 AND entity_type = $2 AND entity_id = $3
             RETURNING model",
        )
        .bind(tenant)
        .bind(entity_type)
        .bind(entity_id)
        .fetch_all(&mut *tx)
        .await?;
        let mut distinct = models.clone();
        distinct.sort();
        distinct.dedup();
        for model in &distinct {
            Self::bump(&mut tx, tenant, model).await?;
        }
        tx.commit().await?;
        Ok(models.len() as u64)
    }

    /// The `top_k` entities most similar to `query` (unit length), best first.
    pub async fn search(
        &self,
        tenant: Uuid,
        model: &str,
        query: &[f32],
        top_k: usize,
        filters: &Filters,
    ) -> Result<Vec<Hit>, sqlx::Error> {
        let loaded = self.loaded(tenant, model).await?;
        // Score every candidate (no allocation per row), keep the best few, then one hit per
        // entity (its best chunk).
        let mut scored: Vec<(f32, usize)> = loaded
            .rows
            .iter()
            .enumerate()
            .filter(|(_, r)| r.passes(filters))
            .map(|(i, r)| (dot(&r.vector, query), i))
            .collect();
        let by_score = |a: &(f32, usize), b: &(f32, usize)| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1));
        let mut hits: Vec<Hit> = Vec::with_capacity(top_k);
        let mut keep = (top_k * 8).max(64);
        loop {
            let window = keep.min(scored.len());
            if window < scored.len() {
                scored.select_nth_unstable_by(window, by_score);
            }
            let mut best = scored[..window].to_vec();
            best.sort_by(by_score);
            hits.clear();
            let mut seen: std::collections::HashSet<(&str, &str)> = Default::default();
            for (score, i) in best {
                let row = &loaded.rows[i];
                if seen.insert((row.entity_type.as_str(), row.entity_id.as_str())) {
                    hits.push(Hit {
                        entity_type: row.entity_type.clone(),
                        entity_id: row.entity_id.clone(),
                        score,
                        snippet: row.snippet.clone(),
                    });
                    if hits.len() == top_k {
                        break;
                    }
                }
            }
            // Enough distinct entities, or every candidate looked at.
            if hits.len() == top_k || window == scored.len() {
                break;
            }
            keep *= 4;
        }
        hits.truncate(top_k);
        Ok(hits)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_keep_only_matching_rows() {
        let row = Row {
            entity_type: "work_item".into(),
            entity_id: "x/1".into(),
            snippet: String::new(),
            project: "OPS".into(),
            item_type: "Bug".into(),
            status: "Open".into(),
            updated_at: DateTime::from_timestamp(1_700_000_000, 0),
            vector: to_bytes(&[1.0])
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect(),
        };
        assert_eq!(row.vector, vec![1.0]);
        assert!(row.passes(&Filters::default()));
        assert!(row.passes(&Filters {
            projects: vec!["OPS".into(), "WEB".into()],
            ..Filters::default()
        }));
        assert!(!row.passes(&Filters {
            statuses: vec!["Done".into()],
            ..Filters::default()
        }));
        assert!(!row.passes(&Filters {
            updated_from: DateTime::from_timestamp(1_800_000_000, 0),
            ..Filters::default()
        }));
    }
}
