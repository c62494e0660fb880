//! The Qdrant store (qdrant-client over gRPC), with the embedded store's operations: one
//! collection per model (`sluice_<model>`, cosine), a `tenant_id` keyword payload index
//! marked as the tenant key (Qdrant's multitenancy guidance), payload fields for the filters,
//! and every query and delete filtered by tenant.

use qdrant_client::qdrant::value::Kind;
use qdrant_client::qdrant::{
    Condition, CountPointsBuilder, CreateCollectionBuilder, CreateFieldIndexCollectionBuilder,
    DeletePointsBuilder, Distance, FieldType, Filter, KeywordIndexParamsBuilder, PointStruct,
    SearchPointsBuilder, UpsertPointsBuilder, Value, VectorParamsBuilder,
};
use qdrant_client::{Payload, Qdrant, QdrantError};
use uuid::Uuid;

use crate::store::{Filters, Hit, Point, StoreError, VectorStore};

pub struct QdrantStore {
    client: Qdrant,
    dimensions: u64,
    /// Collections known to exist: checked once per process, not before every write.
    ensured: std::sync::Mutex<std::collections::HashSet<String>>,
}

impl QdrantStore {
    pub fn connect(
        url: &str,
        api_key: Option<String>,
        dimensions: usize,
    ) -> Result<Self, QdrantError> {
        Ok(QdrantStore {
            client: Qdrant::from_url(url).api_key(api_key).build()?,
            dimensions: dimensions as u64,
            ensured: Default::default(),
        })
    }

    pub fn collection(model: &str) -> String {
        let safe: String = model
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        format!("sluice_{safe}")
    }

    /// Creates the model's collection and its payload indexes if missing.
    pub async fn ensure(&self, model: &str, dimensions: u64) -> Result<(), QdrantError> {
        let name = Self::collection(model);
        if self
            .ensured
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains(&name)
        {
            return Ok(());
        }
        if !self.client.collection_exists(&name).await? {
            self.create(&name, dimensions).await?;
        }
        self.ensured
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(name);
        Ok(())
    }

    /// A new collection with its payload indexes.
    async fn create(&self, name: &str, dimensions: u64) -> Result<(), QdrantError> {
        self.client
            .create_collection(
                CreateCollectionBuilder::new(name)
                    .vectors_config(VectorParamsBuilder::new(dimensions, Distance::Cosine)),
            )
            .await?;
        self.client
            .create_field_index(
                CreateFieldIndexCollectionBuilder::new(name, "tenant_id", FieldType::Keyword)
                    .field_index_params(KeywordIndexParamsBuilder::default().is_tenant(true))
                    .wait(true),
            )
            .await?;
        for field in ["entity_type", "entity_id", "project", "item_type", "status"] {
            self.client
                .create_field_index(
                    CreateFieldIndexCollectionBuilder::new(name, field, FieldType::Keyword)
                        .wait(true),
                )
                .await?;
        }
        Ok(())
    }

    /// A point id stable for (tenant, model, entity, chunk).
    fn point_id(tenant: Uuid, entity_type: &str, entity_id: &str, chunk: i32) -> String {
        let key = format!("{tenant}|{entity_type}|{entity_id}|{chunk}");
        let digest = crate::document::content_hash("point", &key);
        let bytes: Vec<u8> = (0..16)
            .map(|i| u8::from_str_radix(&digest[i * 2..i * 2 + 2], 16).unwrap_or(0))
            .collect();
        Uuid::from_slice(&bytes).unwrap_or_default().to_string()
    }

    fn tenant_filter(tenant: Uuid) -> Filter {
        Filter::must([Condition::matches("tenant_id", tenant.to_string())])
    }

    fn entity_filter(tenant: Uuid, entity_type: &str, entity_id: &str) -> Filter {
        Filter::must([
            Condition::matches("tenant_id", tenant.to_string()),
            Condition::matches("entity_type", entity_type.to_string()),
            Condition::matches("entity_id", entity_id.to_string()),
        ])
    }

    /// Replaces the chunks of many entities: their old points go, then one batched upsert.
    pub async fn replace_entities(
        &self,
        tenant: Uuid,
        model: &str,
        entities: &[(&str, &str, &[Point])],
    ) -> Result<(), QdrantError> {
        let dimensions = entities
            .iter()
            .flat_map(|(_, _, points)| points.iter())
            .map(|p| p.vector.len() as u64)
            .next()
            .unwrap_or(self.dimensions);
        self.ensure(model, dimensions).await?;
        let name = Self::collection(model);
        for (entity_type, entity_id, _) in entities {
            self.client
                .delete_points(
                    DeletePointsBuilder::new(&name)
                        .points(Self::entity_filter(tenant, entity_type, entity_id))
                        .wait(true),
                )
                .await?;
        }
        let structs: Vec<PointStruct> = entities
            .iter()
            .flat_map(|(_, _, points)| points.iter())
            .map(|p| {
                let mut fields: std::collections::HashMap<String, Value> = [
                    ("tenant_id", Value::from(tenant.to_string())),
                    ("entity_type", Value::from(p.entity_type.clone())),
                    ("entity_id", Value::from(p.entity_id.clone())),
                    ("chunk", Value::from(i64::from(p.chunk))),
                    ("content_hash", Value::from(p.content_hash.clone())),
                    ("snippet", Value::from(p.snippet.clone())),
                    ("project", Value::from(p.project.clone())),
                    ("item_type", Value::from(p.item_type.clone())),
                    ("status", Value::from(p.status.clone())),
                ]
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect();
                if let Some(updated) = p.updated_at {
                    fields.insert("updated_at".into(), Value::from(updated.timestamp()));
                }
                let payload = Payload::from(fields);
                PointStruct::new(
                    Self::point_id(tenant, &p.entity_type, &p.entity_id, p.chunk),
                    p.vector.clone(),
                    payload,
                )
            })
            .collect();
        if !structs.is_empty() {
            self.client
                .upsert_points(UpsertPointsBuilder::new(&name, structs).wait(true))
                .await?;
        }
        Ok(())
    }

    /// Removes a tenant's points from one collection (after a Reindex switched away from it).
    pub async fn drop_collection(&self, tenant: Uuid, model: &str) -> Result<(), QdrantError> {
        let name = Self::collection(model);
        if !self.client.collection_exists(&name).await? {
            return Ok(());
        }
        self.client
            .delete_points(
                DeletePointsBuilder::new(&name)
                    .points(Self::tenant_filter(tenant))
                    .wait(true),
            )
            .await?;
        Ok(())
    }

    /// How many points the tenant has in a collection.
    pub async fn count(&self, tenant: Uuid, model: &str) -> Result<i64, QdrantError> {
        let name = Self::collection(model);
        if !self.client.collection_exists(&name).await? {
            return Ok(0);
        }
        let counted = self
            .client
            .count(
                CountPointsBuilder::new(&name)
                    .filter(Self::tenant_filter(tenant))
                    .exact(true),
            )
            .await?;
        Ok(counted.result.map(|r| r.count as i64).unwrap_or(0))
    }

    pub async fn delete_entity(
        &self,
        tenant: Uuid,
        model: &str,
        entity_type: &str,
        entity_id: &str,
    ) -> Result<(), QdrantError> {
        let name = Self::collection(model);
        if !self.client.collection_exists(&name).await? {
            return Ok(());
        }
        self.client
            .delete_points(
                DeletePointsBuilder::new(&name)
                    .points(Self::entity_filter(tenant, entity_type, entity_id))
                    .wait(true),
            )
            .await?;
        Ok(())
    }

    /// The `top_k` entities most similar to `query`, best first (one hit per entity).
    pub async fn search(
        &self,
        tenant: Uuid,
        model: &str,
        query: &[f32],
        top_k: usize,
        filters: &Filters,
    ) -> Result<Vec<Hit>, QdrantError> {
        let name = Self::collection(model);
        if !self.client.collection_exists(&name).await? {
            return Ok(Vec::new());
        }
        let mut must = vec![Condition::matches("tenant_id", tenant.to_string())];
        for (field, values) in [
            ("entity_type", &filters.entity_types),
            ("project", &filters.projects),
            ("item_type", &filters.item_types),
            ("status", &filters.statuses),
        ] {
            if !values.is_empty() {
                must.push(Condition::matches(field, values.clone()));
            }
        }
        if filters.updated_from.is_some() || filters.updated_to.is_some() {
            must.push(Condition::range(
                "updated_at",
                qdrant_client::qdrant::Range {
                    gte: filters.updated_from.map(|t| t.timestamp() as f64),
                    lt: filters.updated_to.map(|t| t.timestamp() as f64),
                    ..Default::default()
                },
            ));
        }
        // Several chunks of one entity may rank high: ask for more, keep each entity's best.
        let found = self
            .client
            .search_points(
                SearchPointsBuilder::new(&name, query.to_vec(), (top_k * 4) as u64)
                    .filter(Filter::must(must))
                    .with_payload(true),
            )
            .await?;
        let text = |value: Option<&Value>| match value.and_then(|v| v.kind.as_ref()) {
            Some(Kind::StringValue(s)) => s.clone(),
            _ => String::new(),
        };
        let mut hits: Vec<Hit> = Vec::with_capacity(top_k);
        for point in found.result {
            let entity_type = text(point.payload.get("entity_type"));
            let entity_id = text(point.payload.get("entity_id"));
            if hits
                .iter()
                .any(|h| h.entity_type == entity_type && h.entity_id == entity_id)
            {
                continue;
            }
            hits.push(Hit {
                entity_type,
                entity_id,
                score: point.score,
                snippet: text(point.payload.get("snippet")),
            });
            if hits.len() == top_k {
                break;
            }
        }
        Ok(hits)
    }
}

impl VectorStore for QdrantStore {
    fn name(&self) -> &'static str {
        "qdrant"
    }

    async fn replace_entities(
        &self,
        tenant: Uuid,
        model: &str,
        entities: &[(&str, &str, &[Point])],
    ) -> Result<(), StoreError> {
        Ok(QdrantStore::replace_entities(self, tenant, model, entities).await?)
    }

    async fn delete_entity(
        &self,
        tenant: Uuid,
        model: &str,
        entity_type: &str,
        entity_id: &str,
    ) -> Result<(), StoreError> {
        Ok(QdrantStore::delete_entity(self, tenant, model, entity_type, entity_id).await?)
    }

    async fn drop_collection(&self, tenant: Uuid, model: &str) -> Result<(), StoreError> {
        Ok(QdrantStore::drop_collection(self, tenant, model).await?)
    }

    async fn count(&self, tenant: Uuid, model: &str) -> Result<i64, StoreError> {
        Ok(QdrantStore::count(self, tenant, model).await?)
    }

    async fn search(
        &self,
        tenant: Uuid,
        model: &str,
        query: &[f32],
        top_k: usize,
        filters: &Filters,
    ) -> Result<Vec<Hit>, StoreError> {
        Ok(QdrantStore::search(self, tenant, model, query, top_k, filters).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn point_ids_are_stable_uuids_and_collections_are_safe_names() {
        let tenant = Uuid::nil();
        let a = QdrantStore::point_id(tenant, "work_item", "i/1", 0);
        assert_eq!(a, QdrantStore::point_id(tenant, "work_item", "i/1", 0));
        assert_ne!(a, QdrantStore::point_id(tenant, "work_item", "i/1", 1));
        assert!(Uuid::parse_str(&a).is_ok());
        assert_eq!(
            QdrantStore::collection("openai:text-embedding-3-small:1536"),
            "sluice_openai_text-embedding-3-small_1536"
        );
    }
}
