//! Collections and the models that fill them.
//!
//! A collection is the set of vectors one embedding model made; its name is the model's
//! (`all-MiniLM-L6-v2`, `static-all-MiniLM-L6-v2`, `openai:<model>:<dimensions>`), so a change
//! of model or dimensions is a different collection. Each tenant has one *active* collection,
//! the one its search uses, recorded in `vector_collections` with a description of the model
//! (`ProviderSpec`, never a secret) so that a vectorizer configured with a new model can still
//! embed queries for the old collection until a Reindex into the new one switches over.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::embed::LocalModel;
use crate::embed::openai::{OpenAiConfig, OpenAiEmbeddings};
use crate::embed::static_model::StaticModel;

/// Name of the default local model (the default model directory's name).
pub const LOCAL_MODEL: &str = "all-MiniLM-L6-v2";

/// How to load a collection's model again. Stored with the collection; holds no secret (an
/// OpenAI-compatible endpoint's key comes from the environment).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ProviderSpec {
    Local {
        #[serde(default)]
        model_dir: Option<String>,
    },
    Static {
        #[serde(default)]
        model_dir: Option<String>,
    },
    Openai {
        base_url: String,
        model: String,
        dimensions: usize,
        #[serde(default)]
        send_dimensions: bool,
        #[serde(default = "default_batch_size")]
        batch_size: usize,
    },
    /// Recorded before collections described their model.
    #[serde(other)]
    Unknown,
}

fn default_batch_size() -> usize {
    64
}

/// Settings a model load needs besides its description.
#[derive(Clone, Debug)]
pub struct LoadSettings {
    /// The configured model directory (used when a description names none).
    pub model_dir: PathBuf,
    pub max_tokens: usize,
    pub threads: usize,
    pub precision: crate::embed::Precision,
    pub openai_api_key: Option<String>,
    /// How long one embeddings request may take (`SLUICE_OPENAI_TIMEOUT_SECS`).
    pub openai_timeout: std::time::Duration,
}

/// The collection name of a local model: its directory's name.
pub fn local_name(dir: &Path) -> String {
    dir.file_name()
        .and_then(|n| n.to_str())
        .map(|n| {
            n.chars()
                .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
                .collect::<String>()
        })
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| LOCAL_MODEL.to_string())
}

/// An embedding model, ready to use.
pub enum Embedder {
    Local(Arc<LocalModel>, String),
    Static(Arc<StaticModel>, String),
    OpenAi(OpenAiEmbeddings),
}

impl Embedder {
    /// The model's collection name (also part of every content hash).
    pub fn name(&self) -> String {
        match self {
            Embedder::Local(_, name) => name.clone(),
            Embedder::Static(_, name) => format!("static-{name}"),
            Embedder::OpenAi(remote) => remote.index_name(),
        }
    }

    pub fn dimensions(&self) -> usize {
        match self {
            Embedder::Local(model, _) => model.dimensions(),
            Embedder::Static(model, _) => model.dimensions(),
            Embedder::OpenAi(remote) => remote.dimensions(),
        }
    }

    /// The provider's kind, for `/metrics` and spans.
    pub fn provider(&self) -> &'static str {
        match self {
            Embedder::Local(..) => "local",
            Embedder::Static(..) => "static",
            Embedder::OpenAi(_) => "openai",
        }
    }

    /// Embeds `texts` (one span, counted in `/metrics` when it succeeds).
    pub async fn embed(&self, texts: Vec<String>) -> Result<Vec<Vec<f32>>, String> {
        use tracing::Instrument;
        let provider = self.provider();
        let count = texts.len();
        let span =
            tracing::info_span!("embed.batch", provider, model = %self.name(), texts = count);
        let started = std::time::Instant::now();
        let embedded = self.embed_unobserved(texts).instrument(span).await;
        if embedded.is_ok() {
            let metrics = sluice_plumbing::metrics::get();
            metrics.embedded_documents.add(&[provider], count as u64);
            metrics
                .embedding_batch_duration
                .observe(&[provider], started.elapsed());
        }
        embedded
    }

    async fn embed_unobserved(&self, texts: Vec<String>) -> Result<Vec<Vec<f32>>, String> {
        match self {
            Embedder::Local(model, _) => {
                let model = Arc::clone(model);
                tokio::task::spawn_blocking(move || {
                    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
                    model.embed(&refs)
                })
                .await
                .map_err(|e| format!("embedding task failed: {e}"))
            }
            Embedder::Static(model, _) => {
                let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
                Ok(model.embed(&refs))
            }
            Embedder::OpenAi(remote) => remote.embed(&texts).await.map_err(|e| e.to_string()),
        }
    }

    /// Loads the model a description names. Local models load on a blocking thread; the
    /// static model is distilled from the local one on first use and cached beside it.
    pub async fn load(
        spec: &ProviderSpec,
        settings: &LoadSettings,
    ) -> Result<Arc<Embedder>, String> {
        match spec {
            ProviderSpec::Local { model_dir } | ProviderSpec::Static { model_dir } => {
                let dir = model_dir
                    .as_ref()
                    .map(PathBuf::from)
                    .unwrap_or_else(|| settings.model_dir.clone());
                let distill = matches!(spec, ProviderSpec::Static { .. });
                let (max_tokens, threads, precision) =
                    (settings.max_tokens, settings.threads, settings.precision);
                tokio::task::spawn_blocking(move || {
                    let name = local_name(&dir);
                    let local = LocalModel::load_with_precision(&dir, max_tokens, threads, precision)
                        .map_err(|e| {
                        format!(
                            "the local embedding model in {} is not available: {e}",
                            dir.display()
                        )
                    })?;
                    if distill {
                        StaticModel::load_or_distill(&dir, &local)
                            .map(|m| Arc::new(Embedder::Static(Arc::new(m), name)))
                            .map_err(|e| format!("the static model is not available: {e}"))
                    } else {
                        Ok(Arc::new(Embedder::Local(Arc::new(local), name)))
                    }
                })
                .await
                .map_err(|e| format!("loading the model: {e}"))?
            }
            ProviderSpec::Openai {
                base_url,
                model,
                dimensions,
                send_dimensions,
                batch_size,
            } => Ok(Arc::new(Embedder::OpenAi(OpenAiEmbeddings::new(
                reqwest::Client::new(),
                OpenAiConfig {
                    base_url: base_url.clone(),
                    model: model.clone(),
                    dimensions: *dimensions,
                    send_dimensions: *send_dimensions,
                    batch_size: *batch_size,
                    api_key: settings.openai_api_key.clone(),
                    max_attempts: 5,
                    max_retry_after: std::time::Duration::from_secs(120),
                    request_timeout: settings.openai_timeout,
                },
            )))),
            ProviderSpec::Unknown => Err(
                "the collection was recorded without a description of its model; Reindex into the configured model"
                    .into(),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptions_round_trip_and_old_records_are_unknown() {
        for spec in [
            ProviderSpec::Local {
                model_dir: Some("/models/m".into()),
            },
            ProviderSpec::Static { model_dir: None },
            ProviderSpec::Openai {
                base_url: "http://localhost:11434".into(),
                model: "nomic-embed-text".into(),
                dimensions: 768,
                send_dimensions: false,
                batch_size: 32,
            },
        ] {
            let json = serde_json::to_value(&spec).expect("serialize");
            assert!(json.get("api_key").is_none());
            let back: ProviderSpec = serde_json::from_value(json).expect("deserialize");
            assert_eq!(back, spec);
        }
        // Rows the migration recorded: a kind only.
        let local: ProviderSpec =
            serde_json::from_value(serde_json::json!({"kind": "local"})).expect("local");
        assert_eq!(local, ProviderSpec::Local { model_dir: None });
        let unknown: ProviderSpec =
            serde_json::from_value(serde_json::json!({"kind": "unknown"})).expect("unknown");
        assert_eq!(unknown, ProviderSpec::Unknown);
    }

    #[test]
    fn local_collections_are_named_after_their_directory() {
        assert_eq!(
            local_name(Path::new("/x/.sluice/models/all-MiniLM-L6-v2")),
            "all-MiniLM-L6-v2"
        );
        assert_eq!(local_name(Path::new("/")), LOCAL_MODEL);
        assert_eq!(local_name(Path::new("models/bge small")), "bgesmall");
    }
}
