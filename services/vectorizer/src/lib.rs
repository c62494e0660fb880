//! Vectorizer: consumes `etl.vectorization` (work items and pull requests the loader loaded),
//! embeds those whose content changed with the configured provider (`local`, `static` or
//! `openai`), keeps their vectors in the configured store (the embedded PostgreSQL store or
//! Qdrant), and answers SearchService (tenant-scoped by the caller's API key; vector or
//! hybrid) and VectorizerService (Reindex into a new model's collection with switch-over,
//! GetStats).

pub mod collections;
pub mod document;
pub mod embed;
pub mod qdrant_store;
pub mod store;

mod service;

pub use collections::LOCAL_MODEL;
pub use service::{Provider, VectorizerConfig, run};
