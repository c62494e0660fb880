//! Vector stores. The embedded store keeps vectors in the PostgreSQL Sluice already uses
//! (`embedded_vectors`) and searches exactly: the tenant's candidates for the model (after
//! the filters, in SQL) are scored in Rust by dot product — vectors are unit length, so this
//! is cosine similarity — and each entity keeps its best chunk. Every query is scoped by
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

#[derive(Clone)]
pub struct PostgresStore {
    pool: PgPool,
}

fn to_bytes(vector: &[f32]) -> Vec<u8> {
    vector.iter().flat_map(|v| v.to_le_bytes()).collect()
}

fn dot(bytes: &[u8], query: &[f32]) -> f32 {
    bytes
        .chunks_exact(4)
        .zip(query)
        .map(|(b, q)| f32::from_le_bytes([b[0], b[1], b[2], b[3]]) * q)
        .sum()
}

impl PostgresStore {
    pub fn new(pool: PgPool) -> Self {
        PostgresStore { pool }
    }

    /// Replaces an entity's chunks with `points` (all of one entity), in one transaction.
    pub async fn replace_entity(
        &self,
        tenant: Uuid,
        model: &str,
        entity_type: &str,
        entity_id: &str,
        points: &[Point],
    ) -> Result<(), sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "DELETE FROM embedded_vectors WHERE tenant_id = $1 AND model = $2 AND entity_type = $3
               AND entity_id = $4 AND chunk >= $5",
        )
        .bind(tenant)
        .bind(model)
        .bind(entity_type)
        .bind(entity_id)
        .bind(points.len() as i32)
        .execute(&mut *tx)
        .await?;
        for point in points {
            sqlx::query(
                "INSERT INTO embedded_vectors (tenant_id, model, entity_type, entity_id, chunk, content_hash,
                     vector, snippet, project, item_type, status, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
                 ON CONFLICT (tenant_id, model, entity_type, entity_id, chunk) DO UPDATE SET
                     content_hash = EXCLUDED.content_hash, vector = EXCLUDED.vector,
                     snippet = EXCLUDED.snippet, project = EXCLUDED.project,
                     item_type = EXCLUDED.item_type, status = EXCLUDED.status,
                     updated_at = EXCLUDED.updated_at",
            )
            .bind(tenant)
            .bind(model)
            .bind(&point.entity_type)
            .bind(&point.entity_id)
            .bind(point.chunk)
            .bind(&point.content_hash)
            .bind(to_bytes(&point.vector))
            .bind(&point.snippet)
            .bind(&point.project)
            .bind(&point.item_type)
            .bind(&point.status)
            .bind(point.updated_at)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await
    }

    pub async fn delete_entity(
        &self,
        tenant: Uuid,
        entity_type: &str,
        entity_id: &str,
    ) -> Result<u64, sqlx::Error> {
        Ok(sqlx::query(
            "DELETE FROM embedded_vectors WHERE tenant_id = $1 AND entity_type = $2 AND entity_id = $3",
        )
        .bind(tenant)
        .bind(entity_type)
        .bind(entity_id)
        .execute(&self.pool)
        .await?
        .rows_affected())
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
        let rows: Vec<(String, String, Vec<u8>, String)> = sqlx::query_as(
            "SELECT entity_type, entity_id, vector, snippet FROM embedded_vectors
             WHERE tenant_id = $1 AND model = $2
               AND (cardinality($3::text[]) = 0 OR entity_type = ANY($3))
               AND (cardinality($4::text[]) = 0 OR project = ANY($4))
               AND (cardinality($5::text[]) = 0 OR item_type = ANY($5))
               AND (cardinality($6::text[]) = 0 OR status = ANY($6))
               AND ($7::timestamptz IS NULL OR updated_at >= $7)
               AND ($8::timestamptz IS NULL OR updated_at < $8)",
        )
        .bind(tenant)
        .bind(model)
        .bind(&filters.entity_types)
        .bind(&filters.projects)
        .bind(&filters.item_types)
        .bind(&filters.statuses)
        .bind(filters.updated_from)
        .bind(filters.updated_to)
        .fetch_all(&self.pool)
        .await?;
        let mut best: HashMap<(String, String), Hit> = HashMap::new();
        for (entity_type, entity_id, vector, snippet) in rows {
            let score = dot(&vector, query);
            let key = (entity_type.clone(), entity_id.clone());
            match best.get(&key) {
                Some(hit) if hit.score >= score => {}
                _ => {
                    best.insert(
                        key,
                        Hit {
                            entity_type,
                            entity_id,
                            score,
                            snippet,
                        },
                    );
                }
            }
        }
        let mut hits: Vec<Hit> = best.into_values().collect();
        hits.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then_with(|| a.entity_id.cmp(&b.entity_id))
        });
        hits.truncate(top_k);
        Ok(hits)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vectors_round_trip_through_their_bytes() {
        let v = [0.5f32, -0.25, 1.0];
        assert_eq!(dot(&to_bytes(&v), &[2.0, 4.0, 1.0]), 1.0);
    }
}
