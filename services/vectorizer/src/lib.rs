//! Vectorizer: consumes `etl.vectorization` (work items the loader loaded), embeds those whose
//! content changed with the local model, keeps their vectors in the embedded PostgreSQL
//! store, and answers SearchService (tenant-scoped, by the caller's API key) and
//! VectorizerService.GetStats. Reindex and the other providers and stores arrive with the rest
//! of the vectorizer issue.

pub mod collections;
pub mod document;
pub mod embed;
pub mod qdrant_store;
pub mod store;

mod service;

pub use collections::LOCAL_MODEL;
pub use service::{VectorizerConfig, run};
