//! The vectorizer service: configuration, the `etl.vectorization` consumer and the gRPC
//! services.

use std::path::PathBuf;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use prost::Message as _;
use sluice_plumbing::CommonConfig;
use sluice_plumbing::amqp::{Message, Outcome, spawn_consumers};
use sluice_plumbing::auth::authenticate;
use sluice_plumbing::progress::{ProgressBatcher, ProgressReporter};
use sluice_proto::v1 as pb;
use sqlx::PgPool;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status};
use uuid::Uuid;

use crate::document::{
    PullRequestContent, WorkItemContent, chunks, content_hash, pull_request_document,
    work_item_document,
};
use crate::embed::LocalModel;
use crate::store::{Filters, Point, PostgresStore};

/// Name of the default local model in the index (and in content hashes).
pub const LOCAL_MODEL: &str = "all-MiniLM-L6-v2";
/// Words per chunk (well inside the model's token window at ~1.3 tokens per word) and the
/// overlap between consecutive chunks.
const CHUNK_WORDS: usize = 180;
const CHUNK_OVERLAP: usize = 30;

#[derive(Clone, Debug)]
pub struct VectorizerConfig {
    pub common: CommonConfig,
    /// Model directory (`SLUICE_MODEL_DIR`, default .sluice/models/all-MiniLM-L6-v2).
    pub model_dir: PathBuf,
    /// Tokens per chunk given to the model (`SLUICE_EMBED_MAX_TOKENS`, default 256).
    pub max_tokens: usize,
    /// Threads per embedding batch (`SLUICE_EMBED_THREADS`, default: the machine's cores).
    pub threads: usize,
    /// Consume `etl.vectorization` (`SLUICE_VECTORIZE`, default on). Search works either way.
    pub consume: bool,
    /// `SLUICE_EMBEDDING_PROVIDER`: `local` (default), `static` (distilled from the local
    /// model, for bulk backfills) or `openai`: an OpenAI-compatible endpoint
    /// (`SLUICE_OPENAI_BASE_URL`, `SLUICE_OPENAI_MODEL`, `SLUICE_OPENAI_DIMENSIONS`,
    /// `SLUICE_OPENAI_BATCH_SIZE`, key in `SLUICE_OPENAI_API_KEY` or `OPENAI_API_KEY`).
    pub provider: Provider,
    /// `SLUICE_VECTOR_STORE=qdrant`: Qdrant at `SLUICE_QDRANT_URL` (gRPC, e.g.
    /// http://localhost:6334; key in `SLUICE_QDRANT_API_KEY`) instead of the embedded store.
    pub qdrant: Option<QdrantSettings>,
}

#[derive(Clone)]
pub struct QdrantSettings {
    pub url: String,
    pub api_key: Option<String>,
}

impl std::fmt::Debug for QdrantSettings {
    // The API key is never printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QdrantSettings")
            .field("url", &self.url)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

#[derive(Clone, Debug)]
pub enum Provider {
    Local,
    Static,
    OpenAi(crate::embed::openai::OpenAiConfig),
}

impl VectorizerConfig {
    pub fn from_env() -> anyhow::Result<Self> {
        use sluice_plumbing::config::{env_parse, env_string};
        Ok(VectorizerConfig {
            common: CommonConfig::from_env()?,
            model_dir: crate::embed::model_dir(),
            max_tokens: env_parse("SLUICE_EMBED_MAX_TOKENS", 256, |v| (8..=512).contains(v))?,
            threads: env_parse("SLUICE_EMBED_THREADS", default_threads(), |v| *v > 0)?,
            consume: sluice_plumbing::config::env_flag("SLUICE_VECTORIZE", true)?,
            qdrant: match env_string("SLUICE_VECTOR_STORE").as_deref() {
                None | Some("postgres") => None,
                Some("qdrant") => Some(QdrantSettings {
                    url: env_string("SLUICE_QDRANT_URL").ok_or_else(|| {
                        anyhow::anyhow!(
                            "invalid configuration SLUICE_QDRANT_URL: required with SLUICE_VECTOR_STORE=qdrant"
                        )
                    })?,
                    api_key: env_string("SLUICE_QDRANT_API_KEY"),
                }),
                Some(other) => anyhow::bail!(
                    "invalid configuration SLUICE_VECTOR_STORE: {other:?} (postgres or qdrant)"
                ),
            },
            provider: match env_string("SLUICE_EMBEDDING_PROVIDER").as_deref() {
                None | Some("local") => Provider::Local,
                Some("static") => Provider::Static,
                Some("openai") => Provider::OpenAi(crate::embed::openai::OpenAiConfig {
                    base_url: env_string("SLUICE_OPENAI_BASE_URL")
                        .unwrap_or_else(|| "https://api.openai.com".into()),
                    model: env_string("SLUICE_OPENAI_MODEL")
                        .unwrap_or_else(|| "text-embedding-3-small".into()),
                    dimensions: env_parse("SLUICE_OPENAI_DIMENSIONS", 1536, |v| *v > 0)?,
                    send_dimensions: env_string("SLUICE_OPENAI_DIMENSIONS").is_some(),
                    batch_size: env_parse("SLUICE_OPENAI_BATCH_SIZE", 64, |v| *v > 0)?,
                    api_key: env_string("SLUICE_OPENAI_API_KEY")
                        .or_else(|| env_string("OPENAI_API_KEY")),
                    max_attempts: 5,
                    max_retry_after: std::time::Duration::from_secs(120),
                }),
                Some(other) => anyhow::bail!(
                    "invalid configuration SLUICE_EMBEDDING_PROVIDER: {other:?} (local, static or openai)"
                ),
            },
        })
    }
}

fn default_threads() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

/// The configured embedding provider.
enum Embedder {
    Local(Arc<LocalModel>),
    Static(Arc<crate::embed::static_model::StaticModel>),
    OpenAi(crate::embed::openai::OpenAiEmbeddings),
}

impl Embedder {
    /// The model's name in the index and in content hashes.
    fn name(&self) -> String {
        match self {
            Embedder::Local(_) => LOCAL_MODEL.to_string(),
            Embedder::Static(_) => format!("static-{LOCAL_MODEL}"),
            Embedder::OpenAi(remote) => remote.index_name(),
        }
    }

    fn dimensions(&self) -> usize {
        match self {
            Embedder::Local(model) => model.dimensions(),
            Embedder::Static(model) => model.dimensions(),
            Embedder::OpenAi(remote) => remote.dimensions(),
        }
    }

    async fn embed(&self, texts: Vec<String>) -> Result<Vec<Vec<f32>>, String> {
        match self {
            Embedder::Local(model) => {
                let model = Arc::clone(model);
                tokio::task::spawn_blocking(move || {
                    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
                    model.embed(&refs)
                })
                .await
                .map_err(|e| format!("embedding task failed: {e}"))
            }
            Embedder::Static(model) => {
                let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
                Ok(model.embed(&refs))
            }
            Embedder::OpenAi(remote) => remote.embed(&texts).await.map_err(|e| e.to_string()),
        }
    }
}

#[derive(Clone)]
struct Vectorizer {
    pool: PgPool,
    store: Index,
    model: Result<Arc<Embedder>, String>,
    model_name: String,
    counters: ProgressBatcher,
}

pub async fn run(
    config: VectorizerConfig,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let pool = sluice_plumbing::db::connect(&config.common).await?;
    sluice_plumbing::db::migrate(&pool).await?;
    let model: Result<Arc<Embedder>, String> = match &config.provider {
        Provider::OpenAi(remote) => Ok(Arc::new(Embedder::OpenAi(
            crate::embed::openai::OpenAiEmbeddings::new(reqwest::Client::new(), remote.clone()),
        ))),
        provider => {
            let dir = config.model_dir.clone();
            let (max_tokens, threads) = (config.max_tokens, config.threads);
            let distill = matches!(provider, Provider::Static);
            tokio::task::spawn_blocking(move || {
                let local = LocalModel::load(&dir, max_tokens, threads)
                    .map_err(|e| format!("the local embedding model is not available: {e}"))?;
                if distill {
                    // Distilled once from the local model, then read from its cache.
                    crate::embed::static_model::StaticModel::load_or_distill(&dir, &local)
                        .map(|m| Arc::new(Embedder::Static(Arc::new(m))))
                        .map_err(|e| format!("the static model is not available: {e}"))
                } else {
                    Ok(Arc::new(Embedder::Local(Arc::new(local))))
                }
            })
            .await?
        }
    };
    let model_name = model
        .as_ref()
        .map(|m| m.name())
        .unwrap_or_else(|_| LOCAL_MODEL.to_string());
    if let Err(error) = &model {
        tracing::error!(%error, "vectorizer starts without a model: search answers FAILED_PRECONDITION and nothing is consumed");
    }
    let reporter = ProgressReporter::new(&config.common.orchestrator_url)?;
    let state = Vectorizer {
        store: match &config.qdrant {
            Some(QdrantSettings { url, api_key }) => Index::Qdrant(Arc::new(
                crate::qdrant_store::QdrantStore::connect(
                    url,
                    api_key.clone(),
                    model.as_ref().map(|m| m.dimensions()).unwrap_or(384),
                )
                .map_err(|e| anyhow::anyhow!("connecting to Qdrant at {url}: {e}"))?,
            )),
            None => Index::Postgres(PostgresStore::new(pool.clone())),
        },
        pool,
        model,
        model_name,
        counters: ProgressBatcher::start(
            reporter,
            std::time::Duration::from_millis(500),
            shutdown.clone(),
        ),
    };
    let consumers = if config.consume && state.model.is_ok() {
        let handler_state = state.clone();
        spawn_consumers(
            &CommonConfig {
                consumers: 1,
                ..config.common.clone()
            },
            config.common.topology().vectorization(),
            config.common.prefetch,
            move |message, _publisher| {
                let state = handler_state.clone();
                async move { state.vectorize(message).await }
            },
            &shutdown,
        )
    } else {
        Vec::new()
    };
    tracing::info!(addr = %listener.local_addr()?, "vectorizer listening");
    let routes = tonic::service::Routes::new(pb::search_service_server::SearchServiceServer::new(
        state.clone(),
    ))
    .add_service(pb::vectorizer_service_server::VectorizerServiceServer::new(
        state,
    ));
    sluice_plumbing::grpc::serve(
        listener,
        routes,
        &["sluice.v1.SearchService", "sluice.v1.VectorizerService"],
        shutdown.cancelled_owned(),
    )
    .await?;
    for consumer in consumers {
        let _ = consumer.await;
    }
    Ok(())
}

#[derive(sqlx::FromRow)]
struct WorkItemSource {
    entity_id: String,
    key: String,
    summary: String,
    description_text: String,
    wit_name: String,
    status_name: String,
    labels: Vec<String>,
    components: Vec<String>,
    project_key: String,
    updated: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct PullRequestSource {
    repository: String,
    title: String,
    body: String,
    state: String,
    merged: bool,
    updated_at: Option<DateTime<Utc>>,
}

/// The configured vector store.
#[derive(Clone)]
enum Index {
    Postgres(PostgresStore),
    Qdrant(Arc<crate::qdrant_store::QdrantStore>),
}

fn qdrant_error(error: qdrant_client::QdrantError) -> sqlx::Error {
    sqlx::Error::Protocol(format!("qdrant: {error}"))
}

impl Index {
    fn name(&self) -> &'static str {
        match self {
            Index::Postgres(_) => "postgres",
            Index::Qdrant(_) => "qdrant",
        }
    }

    async fn replace_entity(
        &self,
        tenant: Uuid,
        model: &str,
        entity_type: &str,
        entity_id: &str,
        points: &[Point],
    ) -> Result<(), sqlx::Error> {
        match self {
            Index::Postgres(store) => {
                store
                    .replace_entity(tenant, model, entity_type, entity_id, points)
                    .await
            }
            Index::Qdrant(store) => store
                .replace_entity(tenant, model, entity_type, entity_id, points)
                .await
                .map_err(qdrant_error),
        }
    }

    async fn delete_entity(
        &self,
        tenant: Uuid,
        model: &str,
        entity_type: &str,
        entity_id: &str,
    ) -> Result<(), sqlx::Error> {
        match self {
            Index::Postgres(store) => store
                .delete_entity(tenant, entity_type, entity_id)
                .await
                .map(|_| ()),
            Index::Qdrant(store) => store
                .delete_entity(tenant, model, entity_type, entity_id)
                .await
                .map_err(qdrant_error),
        }
    }

    async fn search(
        &self,
        tenant: Uuid,
        model: &str,
        query: &[f32],
        top_k: usize,
        filters: &Filters,
    ) -> Result<Vec<crate::store::Hit>, sqlx::Error> {
        match self {
            Index::Postgres(store) => store.search(tenant, model, query, top_k, filters).await,
            Index::Qdrant(store) => store
                .search(tenant, model, query, top_k, filters)
                .await
                .map_err(qdrant_error),
        }
    }
}

/// An entity's document and the payload its vectors carry for filters.
struct Content {
    document: String,
    project: String,
    item_type: String,
    status: String,
    updated: Option<DateTime<Utc>>,
}

/// An entity's document, split and hashed.
struct Prepared {
    entity_type: String,
    entity_id: String,
    chunks: Vec<String>,
    hashes: Vec<String>,
    combined: String,
    content: Content,
}

impl Vectorizer {
    fn model(&self) -> Result<&Arc<Embedder>, Status> {
        self.model.as_ref().map_err(|e| {
            Status::failed_precondition(format!(
                "{e} (run deploy/setup-model.sh or set SLUICE_MODEL_DIR)"
            ))
        })
    }

    /// Embeds the request's work items whose content changed; removes the vectors of those
    /// deleted.
    async fn vectorize(&self, message: Message) -> Outcome {
        let request = match pb::VectorizeRequest::decode(message.data.as_slice()) {
            Ok(request) => request,
            Err(error) => {
                return Outcome::DeadLetter {
                    reason: "malformed VectorizeRequest".into(),
                    error: error.to_string(),
                };
            }
        };
        let Some(tenant) = request
            .run
            .as_ref()
            .and_then(|r| Uuid::parse_str(&r.tenant_id).ok())
        else {
            return Outcome::DeadLetter {
                reason: "VectorizeRequest without a tenant".into(),
                error: "run.tenant_id is missing or not a UUID".into(),
            };
        };
        match self.vectorize_entities(tenant, &request).await {
            Ok(embedded) => {
                if embedded > 0 {
                    self.counters.add(pb::ReportProgressRequest {
                        run: request.run.clone(),
                        stage: pb::Stage::Vectorize as i32,
                        records: embedded as i64,
                        ..Default::default()
                    });
                }
                Outcome::Ack
            }
            Err(error) => Outcome::Retry {
                error: error.to_string(),
            },
        }
    }

    async fn vectorize_entities(
        &self,
        tenant: Uuid,
        request: &pb::VectorizeRequest,
    ) -> Result<usize, sqlx::Error> {
        let Ok(model) = self.model.as_ref() else {
            return Ok(0);
        };
        let mut prepared: Vec<Prepared> = Vec::new();
        // The request's live work items, read in one query.
        let mut work_items = self
            .work_items(
                tenant,
                request
                    .entities
                    .iter()
                    .chain(&request.deleted)
                    .filter(|e| e.entity_type == "work_item")
                    .map(|e| e.entity_id.as_str()),
            )
            .await?;
        for entity in request.entities.iter().chain(&request.deleted) {
            let content = match entity.entity_type.as_str() {
                "work_item" => work_items.remove(&entity.entity_id),
                "pull_request" => self.pull_request(tenant, &entity.entity_id).await?,
                _ => continue,
            };
            match content {
                Some(content) => {
                    let parts = chunks(&content.document, CHUNK_WORDS, CHUNK_OVERLAP);
                    let hashes: Vec<String> = parts
                        .iter()
                        .map(|c| content_hash(&self.model_name, c))
                        .collect();
                    let combined = content_hash(&self.model_name, &hashes.join(","));
                    prepared.push(Prepared {
                        entity_type: entity.entity_type.clone(),
                        entity_id: entity.entity_id.clone(),
                        chunks: parts,
                        hashes,
                        combined,
                        content,
                    });
                }
                None => {
                    // Gone or marked deleted: its vectors go too.
                    self.store
                        .delete_entity(
                            tenant,
                            &self.model_name,
                            &entity.entity_type,
                            &entity.entity_id,
                        )
                        .await?;
                    sqlx::query(
                        "DELETE FROM vectorization_status WHERE tenant_id = $1 AND entity_type = $2 AND entity_id = $3",
                    )
                    .bind(tenant)
                    .bind(&entity.entity_type)
                    .bind(&entity.entity_id)
                    .execute(&self.pool)
                    .await?;
                }
            }
        }
        // Unchanged content (same hash, already done with this model) is not embedded again.
        let keys: Vec<String> = prepared
            .iter()
            .map(|p| format!("{}|{}", p.entity_type, p.entity_id))
            .collect();
        let done: std::collections::HashMap<String, String> =
            sqlx::query_as::<_, (String, String)>(
                "SELECT entity_type || '|' || entity_id, content_hash FROM vectorization_status
                 WHERE tenant_id = $1 AND model = $2 AND status = 'done'
                   AND entity_type || '|' || entity_id = ANY($3)",
            )
            .bind(tenant)
            .bind(&self.model_name)
            .bind(&keys)
            .fetch_all(&self.pool)
            .await?
            .into_iter()
            .collect();
        prepared.retain(|p| {
            done.get(&format!("{}|{}", p.entity_type, p.entity_id)) != Some(&p.combined)
        });
        if prepared.is_empty() {
            return Ok(0);
        }
        let texts: Vec<String> = prepared.iter().flat_map(|p| p.chunks.clone()).collect();
        let vectors = match model.embed(texts).await {
            Ok(vectors) => vectors,
            Err(error) => {
                // Recorded per entity (GetStats counts them); the message is retried.
                for item in &prepared {
                    self.set_status(tenant, item, "failed", &error).await?;
                }
                return Err(sqlx::Error::Protocol(format!("embedding: {error}")));
            }
        };
        let mut vectors = vectors.into_iter();
        for item in &prepared {
            let points: Vec<Point> = item
                .chunks
                .iter()
                .zip(&item.hashes)
                .enumerate()
                .map(|(chunk, (text, hash))| Point {
                    entity_type: item.entity_type.clone(),
                    entity_id: item.entity_id.clone(),
                    chunk: chunk as i32,
                    content_hash: hash.clone(),
                    vector: vectors.next().unwrap_or_default(),
                    snippet: text.chars().take(300).collect(),
                    project: item.content.project.clone(),
                    item_type: item.content.item_type.clone(),
                    status: item.content.status.clone(),
                    updated_at: item.content.updated,
                })
                .collect();
            self.store
                .replace_entity(
                    tenant,
                    &self.model_name,
                    &item.entity_type,
                    &item.entity_id,
                    &points,
                )
                .await?;
            self.set_status(tenant, item, "done", "").await?;
        }
        Ok(prepared.len())
    }

    async fn set_status(
        &self,
        tenant: Uuid,
        item: &Prepared,
        status: &str,
        error: &str,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO vectorization_status (tenant_id, entity_type, entity_id, model, content_hash, chunks, status, error, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, now())
             ON CONFLICT (tenant_id, entity_type, entity_id, model) DO UPDATE SET
                 content_hash = EXCLUDED.content_hash, chunks = EXCLUDED.chunks, status = EXCLUDED.status,
                 error = EXCLUDED.error, updated_at = now()",
        )
        .bind(tenant)
        .bind(&item.entity_type)
        .bind(&item.entity_id)
        .bind(&self.model_name)
        .bind(if status == "done" { item.combined.as_str() } else { "" })
        .bind(item.chunks.len() as i32)
        .bind(status)
        .bind(error)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The documents of the live work items among `entity_ids` ("{integration}/{external
    /// id}"), by entity id; gone or deleted ones are absent.
    async fn work_items(
        &self,
        tenant: Uuid,
        entity_ids: impl Iterator<Item = &str>,
    ) -> Result<std::collections::HashMap<String, Content>, sqlx::Error> {
        let (integrations, external_ids): (Vec<Uuid>, Vec<String>) = entity_ids
            .filter_map(|id| {
                let (integration, external_id) = id.split_once('/')?;
                Some((Uuid::parse_str(integration).ok()?, external_id.to_string()))
            })
            .unzip();
        if integrations.is_empty() {
            return Ok(Default::default());
        }
        let sources: Vec<WorkItemSource> = sqlx::query_as(
            "SELECT w.integration_id::text || '/' || w.external_id AS entity_id, w.key, w.summary,
                    w.description_text, w.wit_name, w.status_name, w.labels, w.components,
                    w.project_key, w.updated
             FROM work_items w
             JOIN UNNEST($2::uuid[], $3::text[]) AS u(integration_id, external_id)
               ON w.integration_id = u.integration_id AND w.external_id = u.external_id
             WHERE w.tenant_id = $1 AND w.deleted_at IS NULL",
        )
        .bind(tenant)
        .bind(&integrations)
        .bind(&external_ids)
        .fetch_all(&self.pool)
        .await?;
        Ok(sources
            .into_iter()
            .map(|source| {
                let content = Content {
                    document: work_item_document(&WorkItemContent {
                        key: source.key,
                        summary: source.summary,
                        description: source.description_text,
                        item_type: source.wit_name.clone(),
                        status: source.status_name.clone(),
                        labels: source.labels,
                        components: source.components,
                        text_fields: Vec::new(),
                    }),
                    project: source.project_key,
                    item_type: source.wit_name,
                    status: source.status_name,
                    updated: Some(source.updated),
                };
                (source.entity_id, content)
            })
            .collect())
    }

    /// A pull request's document ("{integration}/{repository id}/{number}").
    async fn pull_request(
        &self,
        tenant: Uuid,
        entity_id: &str,
    ) -> Result<Option<Content>, sqlx::Error> {
        let mut parts = entity_id.splitn(3, '/');
        let (Some(integration), Some(repository_id), Some(number)) =
            (parts.next(), parts.next(), parts.next())
        else {
            return Ok(None);
        };
        let (Ok(integration), Ok(repository_id), Ok(number)) = (
            Uuid::parse_str(integration),
            repository_id.parse::<i64>(),
            number.parse::<i64>(),
        ) else {
            return Ok(None);
        };
        let row: Option<PullRequestSource> =
            sqlx::query_as(
                "SELECT repository, title, body, state, merged, updated_at FROM pull_requests
                 WHERE tenant_id = $1 AND integration_id = $2 AND repository_id = $3 AND number = $4",
            )
            .bind(tenant)
            .bind(integration)
            .bind(repository_id)
            .bind(number)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|pr| Content {
            document: pull_request_document(&PullRequestContent {
                repository: pr.repository.clone(),
                number,
                title: pr.title,
                body: pr.body,
            }),
            project: pr.repository,
            item_type: "pull_request".into(),
            status: if pr.merged { "merged".into() } else { pr.state },
            updated: pr.updated_at,
        }))
    }
}

fn timestamp(t: &prost_types::Timestamp) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(t.seconds, t.nanos.max(0) as u32)
}

#[tonic::async_trait]
impl pb::search_service_server::SearchService for Vectorizer {
    async fn search(
        &self,
        request: Request<pb::SearchRequest>,
    ) -> Result<Response<pb::SearchResponse>, Status> {
        let tenant = authenticate(&self.pool, request.metadata()).await?.id;
        let request = request.into_inner();
        let query = request.query.trim();
        if query.is_empty() {
            return Err(Status::invalid_argument("query: must not be empty"));
        }
        if query.chars().count() > 2000 {
            return Err(Status::invalid_argument("query: at most 2000 characters"));
        }
        let top_k = match request.top_k {
            0 => 10,
            k @ 1..=100 => k as usize,
            k => {
                return Err(Status::invalid_argument(format!(
                    "top_k: must be between 1 and 100 (0 for 10), got {k}"
                )));
            }
        };
        let filters = request.filters.unwrap_or_default();
        for source in &filters.sources {
            if source != "work_item" && source != "pull_request" {
                return Err(Status::invalid_argument(format!(
                    "filters.sources: {source:?} is not work_item or pull_request"
                )));
            }
        }
        let model = Arc::clone(self.model()?);
        let vector = model
            .embed(vec![query.to_string()])
            .await
            .map_err(|e| Status::unavailable(format!("embedding the query: {e}")))?
            .pop()
            .unwrap_or_default();
        let store_filters = Filters {
            entity_types: filters.sources.clone(),
            projects: filters.project_keys.clone(),
            item_types: filters.work_item_types.clone(),
            statuses: filters.statuses.clone(),
            updated_from: filters
                .updated
                .as_ref()
                .and_then(|r| r.from.as_ref())
                .and_then(timestamp),
            updated_to: filters
                .updated
                .as_ref()
                .and_then(|r| r.to.as_ref())
                .and_then(timestamp),
        };
        let hits = self
            .store
            .search(tenant, &self.model_name, &vector, top_k, &store_filters)
            .await
            .map_err(|e| Status::unavailable(format!("searching the index: {e}")))?;
        let mut results = Vec::with_capacity(hits.len());
        for hit in hits {
            let mut result = pb::SearchResult {
                entity_type: hit.entity_type.clone(),
                entity_id: hit.entity_id.clone(),
                score: f64::from(hit.score),
                snippet: hit.snippet,
                ..Default::default()
            };
            if hit.entity_type == "pull_request" {
                let mut parts = hit.entity_id.splitn(3, '/');
                if let (Some(integration), Some(repository_id), Some(number)) =
                    (parts.next(), parts.next(), parts.next())
                    && let (Ok(integration), Ok(repository_id), Ok(number)) = (
                        Uuid::parse_str(integration),
                        repository_id.parse::<i64>(),
                        number.parse::<i64>(),
                    )
                {
                    let shown: Option<(String, String, String, bool, String)> = sqlx::query_as(
                        "SELECT repository, title, state, merged, html_url FROM pull_requests
                         WHERE tenant_id = $1 AND integration_id = $2 AND repository_id = $3 AND number = $4",
                    )
                    .bind(tenant)
                    .bind(integration)
                    .bind(repository_id)
                    .bind(number)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(|e| Status::unavailable(e.to_string()))?;
                    if let Some((repository, title, state, merged, url)) = shown {
                        result.key = format!("{repository}#{number}");
                        result.title = title;
                        result.status = if merged { "merged".into() } else { state };
                        result.url = url;
                    }
                }
            } else if let Some((integration, external_id)) = hit.entity_id.split_once('/')
                && let Ok(integration) = Uuid::parse_str(integration)
            {
                let shown: Option<(String, String, String, String)> = sqlx::query_as(
                    "SELECT w.key, w.summary, w.status_name, i.base_url FROM work_items w
                     JOIN integrations i ON i.id = w.integration_id AND i.tenant_id = w.tenant_id
                     WHERE w.tenant_id = $1 AND w.integration_id = $2 AND w.external_id = $3",
                )
                .bind(tenant)
                .bind(integration)
                .bind(external_id)
                .fetch_optional(&self.pool)
                .await
                .map_err(|e| Status::unavailable(e.to_string()))?;
                if let Some((key, title, status, base_url)) = shown {
                    result.url = format!("{}/browse/{key}", base_url.trim_end_matches('/'));
                    result.key = key;
                    result.title = title;
                    result.status = status;
                }
            }
            results.push(result);
        }
        Ok(Response::new(pb::SearchResponse {
            results,
            model: self.model_name.clone(),
        }))
    }
}

#[tonic::async_trait]
impl pb::vectorizer_service_server::VectorizerService for Vectorizer {
    async fn reindex(
        &self,
        _request: Request<pb::ReindexRequest>,
    ) -> Result<Response<pb::ReindexResponse>, Status> {
        Err(Status::unimplemented(
            "Reindex arrives with the other embedding providers (one model for now)",
        ))
    }

    async fn get_stats(
        &self,
        request: Request<pb::GetStatsRequest>,
    ) -> Result<Response<pb::GetStatsResponse>, Status> {
        let tenant = authenticate(&self.pool, request.metadata()).await?.id;
        let (vectors, pending, failed): (i64, i64, i64) = sqlx::query_as(
            "SELECT (SELECT count(*) FROM embedded_vectors WHERE tenant_id = $1 AND model = $2),
                    (SELECT count(*) FROM vectorization_status WHERE tenant_id = $1 AND model = $2 AND status = 'pending'),
                    (SELECT count(*) FROM vectorization_status WHERE tenant_id = $1 AND model = $2 AND status = 'failed')",
        )
        .bind(tenant)
        .bind(&self.model_name)
        .fetch_one(&self.pool)
        .await
        .map_err(|e| Status::unavailable(e.to_string()))?;
        Ok(Response::new(pb::GetStatsResponse {
            model: self.model_name.clone(),
            dimensions: self
                .model
                .as_ref()
                .map(|m| m.dimensions() as i32)
                .unwrap_or(0),
            vectors,
            pending,
            failed,
            store: self.store.name().into(),
        }))
    }
}
