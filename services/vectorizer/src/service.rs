//! The vectorizer service: configuration, the `etl.vectorization` consumer and the gRPC
//! services.

use std::collections::HashMap;
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

use crate::collections::{Embedder, LoadSettings, ProviderSpec, local_name};
use crate::document::{
    PullRequestContent, WorkItemContent, chunks, content_hash, pull_request_document,
    work_item_document,
};
use crate::store::{Filters, Point, PostgresStore, StoreError, VectorStore};

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
    /// Arithmetic of the local model's linear layers (`SLUICE_EMBED_PRECISION`: `int8`,
    /// `bf16`, `f32` or `auto`, the default: int8 where the CPU has AVX-512 VNNI or AVX2, else
    /// f32). A precision the CPU has no kernel for runs in f32. Vectors differ from f32's by
    /// a cosine under 0.01, so a collection need not be rebuilt when this changes.
    pub precision: crate::embed::Precision,
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
            precision: match env_string("SLUICE_EMBED_PRECISION") {
                None => crate::embed::Precision::default(),
                Some(value) => crate::embed::Precision::parse(&value).map_err(|e| {
                    anyhow::anyhow!("invalid configuration SLUICE_EMBED_PRECISION: {e}")
                })?,
            },
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
                    request_timeout: std::time::Duration::from_secs(env_parse(
                        "SLUICE_OPENAI_TIMEOUT_SECS",
                        60,
                        |v| *v > 0,
                    )?),
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

impl VectorizerConfig {
    /// The configured model's description, stored with its collection.
    pub fn provider_spec(&self) -> ProviderSpec {
        match &self.provider {
            Provider::Local => ProviderSpec::Local {
                model_dir: Some(self.model_dir.display().to_string()),
            },
            Provider::Static => ProviderSpec::Static {
                model_dir: Some(self.model_dir.display().to_string()),
            },
            Provider::OpenAi(remote) => ProviderSpec::Openai {
                base_url: remote.base_url.clone(),
                model: remote.model.clone(),
                dimensions: remote.dimensions,
                send_dimensions: remote.send_dimensions,
                batch_size: remote.batch_size,
            },
        }
    }

    fn load_settings(&self) -> LoadSettings {
        LoadSettings {
            model_dir: self.model_dir.clone(),
            max_tokens: self.max_tokens,
            threads: self.threads,
            precision: self.precision,
            openai_api_key: match &self.provider {
                Provider::OpenAi(remote) => remote.api_key.clone(),
                _ => sluice_plumbing::config::env_string("SLUICE_OPENAI_API_KEY")
                    .or_else(|| sluice_plumbing::config::env_string("OPENAI_API_KEY")),
            },
            openai_timeout: match &self.provider {
                Provider::OpenAi(remote) => remote.request_timeout,
                _ => std::time::Duration::from_secs(60),
            },
        }
    }
}

#[derive(Clone)]
struct Vectorizer {
    pool: PgPool,
    store: Index,
    /// The configured model, or why it could not be loaded.
    model: Result<Arc<Embedder>, String>,
    /// Its collection name.
    model_name: String,
    model_dimensions: usize,
    spec: ProviderSpec,
    settings: LoadSettings,
    /// Models of other collections (still active for some tenant), loaded on first use.
    others: Arc<tokio::sync::Mutex<HashMap<String, Arc<Embedder>>>>,
    counters: ProgressBatcher,
    /// Planner statistics of the tables it reads and writes, kept current.
    statistics: Arc<sluice_plumbing::db::StatisticsKeeper>,
    shutdown: CancellationToken,
}

/// The tables whose statistics the vectorizer keeps current.
const ANALYZED: &[&str] = &[
    "work_items",
    "pull_requests",
    "vectorization_status",
    "embedded_vectors",
    "search_documents",
];

pub async fn run(
    config: VectorizerConfig,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let pool = sluice_plumbing::db::connect(&config.common).await?;
    sluice_plumbing::db::migrate(&pool).await?;
    let spec = config.provider_spec();
    let settings = config.load_settings();
    let model = Embedder::load(&spec, &settings).await;
    let (model_name, model_dimensions) = match &model {
        Ok(m) => (m.name(), m.dimensions()),
        Err(_) => (local_name(&config.model_dir), 384),
    };
    if let Err(error) = &model {
        tracing::error!(%error, "vectorizer starts without a model: search answers FAILED_PRECONDITION and nothing is consumed");
    }
    let reporter = ProgressReporter::new(&config.common)?;
    let state = Vectorizer {
        store: match &config.qdrant {
            Some(QdrantSettings { url, api_key }) => Index::Qdrant(Arc::new(
                crate::qdrant_store::QdrantStore::connect(url, api_key.clone(), model_dimensions)
                    .map_err(|e| anyhow::anyhow!("connecting to Qdrant at {url}: {e}"))?,
            )),
            None => Index::Postgres(PostgresStore::new(pool.clone())),
        },
        statistics: sluice_plumbing::db::StatisticsKeeper::new(
            pool.clone(),
            ANALYZED,
            std::time::Duration::from_secs(2),
        ),
        pool,
        model,
        model_name,
        model_dimensions,
        spec,
        settings,
        others: Default::default(),
        counters: ProgressBatcher::start(
            reporter,
            std::time::Duration::from_millis(500),
            shutdown.clone(),
        ),
        shutdown: shutdown.clone(),
    };
    if state.model.is_ok() {
        state.announce_model_changes().await?;
        state.resume_reindexes().await?;
    }
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
    tracing::info!(addr = %listener.local_addr()?, model = %state.model_name, "vectorizer listening");
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

/// The configured store dispatches to its implementation.
impl VectorStore for Index {
    fn name(&self) -> &'static str {
        match self {
            Index::Postgres(store) => VectorStore::name(store),
            Index::Qdrant(store) => VectorStore::name(store.as_ref()),
        }
    }

    async fn replace_entities(
        &self,
        tenant: Uuid,
        model: &str,
        entities: &[(&str, &str, &[Point])],
    ) -> Result<(), StoreError> {
        match self {
            Index::Postgres(store) => {
                VectorStore::replace_entities(store, tenant, model, entities).await
            }
            Index::Qdrant(store) => {
                VectorStore::replace_entities(store.as_ref(), tenant, model, entities).await
            }
        }
    }

    async fn delete_entity(
        &self,
        tenant: Uuid,
        model: &str,
        entity_type: &str,
        entity_id: &str,
    ) -> Result<(), StoreError> {
        match self {
            Index::Postgres(store) => {
                VectorStore::delete_entity(store, tenant, model, entity_type, entity_id).await
            }
            Index::Qdrant(store) => {
                VectorStore::delete_entity(store.as_ref(), tenant, model, entity_type, entity_id)
                    .await
            }
        }
    }

    async fn drop_collection(&self, tenant: Uuid, model: &str) -> Result<(), StoreError> {
        match self {
            Index::Postgres(store) => VectorStore::drop_collection(store, tenant, model).await,
            Index::Qdrant(store) => {
                VectorStore::drop_collection(store.as_ref(), tenant, model).await
            }
        }
    }

    async fn count(&self, tenant: Uuid, model: &str) -> Result<i64, StoreError> {
        match self {
            Index::Postgres(store) => VectorStore::count(store, tenant, model).await,
            Index::Qdrant(store) => VectorStore::count(store.as_ref(), tenant, model).await,
        }
    }

    async fn search(
        &self,
        tenant: Uuid,
        model: &str,
        query: &[f32],
        top_k: usize,
        filters: &Filters,
    ) -> Result<Vec<crate::store::Hit>, StoreError> {
        match self {
            Index::Postgres(store) => {
                VectorStore::search(store, tenant, model, query, top_k, filters).await
            }
            Index::Qdrant(store) => {
                VectorStore::search(store.as_ref(), tenant, model, query, top_k, filters).await
            }
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

/// A live entity's document, the payload its vectors carry and its chunks.
struct Live {
    entity_type: String,
    entity_id: String,
    content: Content,
    chunks: Vec<String>,
}

/// A tenant's record of one collection.
#[derive(sqlx::FromRow)]
struct CollectionRow {
    collection: String,
    dimensions: i32,
    provider: sqlx::types::Json<ProviderSpec>,
    state: String,
    reindexing: bool,
    reindex_total: i64,
    reindex_done: i64,
    reindex_error: String,
}

/// Entities a reindex reads and embeds at a time.
const REINDEX_PAGE: i64 = 256;

impl Vectorizer {
    fn model(&self) -> Result<&Arc<Embedder>, Status> {
        self.model.as_ref().map_err(|e| {
            Status::failed_precondition(format!(
                "{e} (run deploy/setup-model.sh or set SLUICE_MODEL_DIR)"
            ))
        })
    }

    /// Says, once at start, which tenants' search is still served by another model.
    async fn announce_model_changes(&self) -> Result<(), sqlx::Error> {
        let others: Vec<(Uuid, String)> = sqlx::query_as(
            "SELECT tenant_id, collection FROM vector_collections WHERE state = 'active' AND collection <> $1",
        )
        .bind(&self.model_name)
        .fetch_all(&self.pool)
        .await?;
        for (tenant, collection) in others {
            tracing::warn!(
                %tenant, active = %collection, configured = %self.model_name,
                "the configured embedding model changed: search keeps using the active collection until VectorizerService.Reindex re-embeds into the new one and switches over"
            );
        }
        Ok(())
    }

    /// Restarts the reindexes into this model that a stopped vectorizer left unfinished.
    async fn resume_reindexes(&self) -> Result<(), sqlx::Error> {
        let tenants: Vec<Uuid> = sqlx::query_scalar(
            "SELECT tenant_id FROM vector_collections WHERE collection = $1 AND reindexing",
        )
        .bind(&self.model_name)
        .fetch_all(&self.pool)
        .await?;
        for tenant in tenants {
            tracing::info!(%tenant, collection = %self.model_name, "resuming an unfinished reindex");
            tokio::spawn(self.clone().run_reindex(tenant));
        }
        Ok(())
    }

    async fn collections(&self, tenant: Uuid) -> Result<Vec<CollectionRow>, sqlx::Error> {
        sqlx::query_as(
            "SELECT collection, dimensions, provider, state, reindexing, reindex_total, reindex_done, reindex_error
             FROM vector_collections WHERE tenant_id = $1 ORDER BY state, collection",
        )
        .bind(tenant)
        .fetch_all(&self.pool)
        .await
    }

    /// Records the configured model's collection for the tenant: active when the tenant has
    /// none yet, else building (kept current, waiting for a Reindex to switch over).
    async fn register(&self, tenant: Uuid) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO vector_collections (tenant_id, collection, dimensions, provider, state, activated_at)
             SELECT $1, $2, $3, $4, s.state, CASE WHEN s.state = 'active' THEN now() END
             FROM (SELECT CASE WHEN EXISTS (SELECT 1 FROM vector_collections
                                            WHERE tenant_id = $1 AND state = 'active')
                          THEN 'building' ELSE 'active' END AS state) AS s
             ON CONFLICT DO NOTHING",
        )
        .bind(tenant)
        .bind(&self.model_name)
        .bind(self.model_dimensions as i32)
        .bind(sqlx::types::Json(&self.spec))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The model of one of the tenant's collections.
    async fn embedder_for(&self, row: &CollectionRow) -> Result<Arc<Embedder>, String> {
        if row.collection == self.model_name {
            return self.model.clone();
        }
        let mut others = self.others.lock().await;
        if let Some(embedder) = others.get(&row.collection) {
            return Ok(Arc::clone(embedder));
        }
        let embedder = Embedder::load(&row.provider.0, &self.settings).await?;
        if embedder.name() != row.collection || embedder.dimensions() != row.dimensions as usize {
            return Err(format!(
                "collection {} ({}-dimensional) was made by a model that now loads as {} ({}-dimensional)",
                row.collection,
                row.dimensions,
                embedder.name(),
                embedder.dimensions()
            ));
        }
        others.insert(row.collection.clone(), Arc::clone(&embedder));
        Ok(embedder)
    }

    /// The collections the consumer keeps current for a tenant, with their models: the
    /// configured one, and the active one while search still uses another model.
    async fn targets(&self, tenant: Uuid) -> Result<Vec<(String, Arc<Embedder>)>, sqlx::Error> {
        let model = self
            .model
            .clone()
            .map_err(|e| sqlx::Error::Protocol(e.to_string()))?;
        // Recorded once per tenant and model: no write on every message.
        let mut rows = self.collections(tenant).await?;
        if !rows.iter().any(|r| r.collection == self.model_name) {
            self.register(tenant).await?;
            rows = self.collections(tenant).await?;
        }
        let mut targets = Vec::new();
        for row in rows {
            if row.collection == self.model_name {
                if row.dimensions as usize != self.model_dimensions {
                    return Err(sqlx::Error::Protocol(format!(
                        "collection {} holds {}-dimensional vectors but the configured model gives {}: name the model directory differently so it gets its own collection",
                        row.collection, row.dimensions, self.model_dimensions
                    )));
                }
                targets.push((row.collection, Arc::clone(&model)));
            } else if row.state == "active" {
                match self.embedder_for(&row).await {
                    Ok(embedder) => targets.push((row.collection, embedder)),
                    Err(error) => tracing::warn!(
                        %tenant, collection = %row.collection, %error,
                        "the active collection's model cannot be loaded: it is not kept current until a Reindex replaces it"
                    ),
                }
            }
        }
        Ok(targets)
    }

    /// Embeds the request's entities whose content changed; removes the vectors of those
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
        let span = tracing::info_span!(
            "vectorize.request",
            %tenant,
            entities = request.entities.len(),
            deleted = request.deleted.len()
        );
        sluice_plumbing::telemetry::set_parent_from_payload(
            &span,
            request.run.as_ref().and_then(|r| r.trace.as_ref()),
        );
        let vectorized = {
            use tracing::Instrument;
            self.vectorize_entities(tenant, &request)
                .instrument(span)
                .await
        };
        match vectorized {
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

    /// Returns how many entities the configured model embedded.
    async fn vectorize_entities(
        &self,
        tenant: Uuid,
        request: &pb::VectorizeRequest,
    ) -> Result<usize, sqlx::Error> {
        if self.model.is_err() {
            return Ok(0);
        }
        let targets = self.targets(tenant).await?;
        let refs: Vec<(&str, &str)> = request
            .entities
            .iter()
            .chain(&request.deleted)
            .map(|e| (e.entity_type.as_str(), e.entity_id.as_str()))
            .collect();
        let (live, gone) = self.contents(tenant, &refs).await?;
        for (entity_type, entity_id) in gone {
            self.remove_entity(tenant, &targets, entity_type, entity_id)
                .await?;
        }
        self.write_text(tenant, &live).await?;
        let mut embedded = 0;
        for (collection, embedder) in &targets {
            let count = self.embed_into(tenant, collection, embedder, &live).await?;
            if *collection == self.model_name {
                embedded = count;
            }
        }
        self.statistics.poke();
        Ok(embedded)
    }

    /// Gone or marked deleted: its vectors, statuses and text go.
    async fn remove_entity(
        &self,
        tenant: Uuid,
        targets: &[(String, Arc<Embedder>)],
        entity_type: &str,
        entity_id: &str,
    ) -> Result<(), sqlx::Error> {
        for (collection, _) in targets {
            self.store
                .delete_entity(tenant, collection, entity_type, entity_id)
                .await?;
        }
        for statement in [
            "DELETE FROM vectorization_status WHERE tenant_id = $1 AND entity_type = $2 AND entity_id = $3",
            "DELETE FROM search_documents WHERE tenant_id = $1 AND entity_type = $2 AND entity_id = $3",
        ] {
            sqlx::query(statement)
                .bind(tenant)
                .bind(entity_type)
                .bind(entity_id)
                .execute(&self.pool)
                .await?;
        }
        Ok(())
    }

    /// The documents of the live entities among `refs`, and the refs that are gone.
    async fn contents<'a>(
        &self,
        tenant: Uuid,
        refs: &[(&'a str, &'a str)],
    ) -> Result<(Vec<Live>, Vec<(&'a str, &'a str)>), sqlx::Error> {
        let mut work_items = self
            .work_items(
                tenant,
                refs.iter()
                    .filter(|(t, _)| *t == "work_item")
                    .map(|(_, id)| *id),
            )
            .await?;
        let (mut live, mut gone) = (Vec::new(), Vec::new());
        for &(entity_type, entity_id) in refs {
            let content = match entity_type {
                "work_item" => work_items.remove(entity_id),
                "pull_request" => self.pull_request(tenant, entity_id).await?,
                _ => continue,
            };
            match content {
                Some(content) => live.push(Live {
                    entity_type: entity_type.to_string(),
                    entity_id: entity_id.to_string(),
                    chunks: chunks(&content.document, CHUNK_WORDS, CHUNK_OVERLAP),
                    content,
                }),
                None => gone.push((entity_type, entity_id)),
            }
        }
        Ok((live, gone))
    }

    /// The full-text side of hybrid search: each live entity's document as a tsvector, written
    /// only when it changed.
    async fn write_text(&self, tenant: Uuid, live: &[Live]) -> Result<(), sqlx::Error> {
        if live.is_empty() {
            return Ok(());
        }
        let hashes: Vec<String> = live
            .iter()
            .map(|l| {
                let c = &l.content;
                let updated = c.updated.map(|u| u.to_rfc3339()).unwrap_or_default();
                content_hash(
                    "text",
                    &[
                        c.document.as_str(),
                        &c.project,
                        &c.item_type,
                        &c.status,
                        &updated,
                    ]
                    .join("\u{1f}"),
                )
            })
            .collect();
        sqlx::query(
            "INSERT INTO search_documents (tenant_id, entity_type, entity_id, content_hash, document,
                 project, item_type, status, updated_at)
             SELECT $1, u.entity_type, u.entity_id, u.content_hash, to_tsvector('english', u.document),
                    u.project, u.item_type, u.status, u.updated_at
             FROM UNNEST($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
                         $8::text[], $9::timestamptz[])
                  AS u(entity_type, entity_id, content_hash, document, project, item_type, status, updated_at)
             ON CONFLICT (tenant_id, entity_type, entity_id) DO UPDATE SET
                 content_hash = EXCLUDED.content_hash, document = EXCLUDED.document,
                 project = EXCLUDED.project, item_type = EXCLUDED.item_type,
                 status = EXCLUDED.status, updated_at = EXCLUDED.updated_at
             WHERE search_documents.content_hash IS DISTINCT FROM EXCLUDED.content_hash",
        )
        .bind(tenant)
        .bind(live.iter().map(|l| l.entity_type.as_str()).collect::<Vec<_>>())
        .bind(live.iter().map(|l| l.entity_id.as_str()).collect::<Vec<_>>())
        .bind(&hashes)
        .bind(live.iter().map(|l| l.content.document.as_str()).collect::<Vec<_>>())
        .bind(live.iter().map(|l| l.content.project.as_str()).collect::<Vec<_>>())
        .bind(live.iter().map(|l| l.content.item_type.as_str()).collect::<Vec<_>>())
        .bind(live.iter().map(|l| l.content.status.as_str()).collect::<Vec<_>>())
        .bind(live.iter().map(|l| l.content.updated).collect::<Vec<_>>())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Embeds into `collection` the live entities whose chunks changed (by content hash) and
    /// replaces their vectors, all in one store write; returns how many it embedded.
    async fn embed_into(
        &self,
        tenant: Uuid,
        collection: &str,
        embedder: &Embedder,
        live: &[Live],
    ) -> Result<usize, sqlx::Error> {
        let hashed: Vec<(Vec<String>, String)> = live
            .iter()
            .map(|l| {
                let hashes: Vec<String> = l
                    .chunks
                    .iter()
                    .map(|c| content_hash(collection, c))
                    .collect();
                let combined = content_hash(collection, &hashes.join(","));
                (hashes, combined)
            })
            .collect();
        // What the collection holds for them: one index-driven lookup per entity type.
        let mut done: HashMap<(String, String), String> = HashMap::new();
        for entity_type in ["work_item", "pull_request"] {
            let ids: Vec<&str> = live
                .iter()
                .filter(|l| l.entity_type == entity_type)
                .map(|l| l.entity_id.as_str())
                .collect();
            if ids.is_empty() {
                continue;
            }
            let rows: Vec<(String, String)> = sqlx::query_as(
                // One primary-key probe per id, whatever the table's statistics (see work_items).
                "SELECT s.entity_id, s.content_hash FROM UNNEST($3::text[]) AS u(entity_id)
                 CROSS JOIN LATERAL (SELECT entity_id, content_hash, status FROM vectorization_status
                                     WHERE tenant_id = $1 AND entity_type = $2
                                       AND entity_id = u.entity_id AND model = $4
                                     OFFSET 0) AS s
                 WHERE s.status = 'done'",
            )
            .bind(tenant)
            .bind(entity_type)
            .bind(&ids)
            .bind(collection)
            .fetch_all(&self.pool)
            .await?;
            done.extend(
                rows.into_iter()
                    .map(|(id, hash)| ((entity_type.to_string(), id), hash)),
            );
        }
        // Unchanged content (same hash, already done in this collection) is not embedded again.
        let changed: Vec<usize> = (0..live.len())
            .filter(|&i| {
                let key = (live[i].entity_type.clone(), live[i].entity_id.clone());
                done.get(&key) != Some(&hashed[i].1)
            })
            .collect();
        if changed.is_empty() {
            return Ok(0);
        }
        self.set_statuses(tenant, collection, live, &hashed, &changed, "pending", "")
            .await?;
        let texts: Vec<String> = changed
            .iter()
            .flat_map(|&i| live[i].chunks.clone())
            .collect();
        let vectors = match embedder.embed(texts).await {
            Ok(vectors) => vectors,
            Err(error) => {
                // Recorded per entity (GetStats counts them); the message is retried.
                self.set_statuses(
                    tenant, collection, live, &hashed, &changed, "failed", &error,
                )
                .await?;
                return Err(sqlx::Error::Protocol(format!("embedding: {error}")));
            }
        };
        let mut vectors = vectors.into_iter();
        let points: Vec<Vec<Point>> = changed
            .iter()
            .map(|&i| {
                let item = &live[i];
                item.chunks
                    .iter()
                    .zip(&hashed[i].0)
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
                    .collect()
            })
            .collect();
        let entities: Vec<(&str, &str, &[Point])> = changed
            .iter()
            .zip(&points)
            .map(|(&i, p)| {
                (
                    live[i].entity_type.as_str(),
                    live[i].entity_id.as_str(),
                    p.as_slice(),
                )
            })
            .collect();
        {
            use tracing::Instrument;
            let span = tracing::info_span!("vectors.upsert", store = self.store.name(), %collection, entities = entities.len());
            self.store
                .replace_entities(tenant, collection, &entities)
                .instrument(span)
                .await?;
        }
        self.set_statuses(tenant, collection, live, &hashed, &changed, "done", "")
            .await?;
        Ok(changed.len())
    }

    #[allow(clippy::too_many_arguments)]
    async fn set_statuses(
        &self,
        tenant: Uuid,
        collection: &str,
        live: &[Live],
        hashed: &[(Vec<String>, String)],
        which: &[usize],
        status: &str,
        error: &str,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO vectorization_status (tenant_id, entity_type, entity_id, model, content_hash, chunks, status, error, updated_at)
             SELECT $1, u.entity_type, u.entity_id, $2, u.content_hash, u.chunks, $3, $4, now()
             FROM UNNEST($5::text[], $6::text[], $7::text[], $8::int[]) AS u(entity_type, entity_id, content_hash, chunks)
             ON CONFLICT (tenant_id, entity_type, entity_id, model) DO UPDATE SET
                 content_hash = EXCLUDED.content_hash, chunks = EXCLUDED.chunks, status = EXCLUDED.status,
                 error = EXCLUDED.error, updated_at = now()",
        )
        .bind(tenant)
        .bind(collection)
        .bind(status)
        .bind(error)
        .bind(which.iter().map(|&i| live[i].entity_type.as_str()).collect::<Vec<_>>())
        .bind(which.iter().map(|&i| live[i].entity_id.as_str()).collect::<Vec<_>>())
        .bind(
            which
                .iter()
                .map(|&i| if status == "done" { hashed[i].1.as_str() } else { "" })
                .collect::<Vec<_>>(),
        )
        .bind(which.iter().map(|&i| live[i].chunks.len() as i32).collect::<Vec<_>>())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Re-embeds the tenant's live entities into the configured collection, page by page,
    /// then switches search over to it. One runner per tenant across replicas (a session
    /// advisory lock); stopped by shutdown, resumed at the next start.
    async fn run_reindex(self, tenant: Uuid) {
        let lock_key = {
            let bytes = tenant.as_bytes();
            i64::from_le_bytes(bytes[..8].try_into().unwrap_or_default()) ^ 0x5eed_1dec
        };
        let mut lock = match self.pool.acquire().await {
            Ok(connection) => connection,
            Err(error) => {
                tracing::error!(%tenant, %error, "reindex: no database connection");
                return;
            }
        };
        let locked: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
            .bind(lock_key)
            .fetch_one(&mut *lock)
            .await
            .unwrap_or(false);
        if !locked {
            tracing::info!(%tenant, "reindex already running in another vectorizer");
            return;
        }
        let outcome = self.reindex_pages(tenant).await;
        let result = match outcome {
            Ok(true) => self.switch_over(tenant).await,
            Ok(false) => Ok(()), // shutting down: resumed at the next start
            Err(error) => {
                tracing::error!(%tenant, %error, "reindex failed");
                sqlx::query(
                    "UPDATE vector_collections SET reindexing = false, reindex_error = $3
                     WHERE tenant_id = $1 AND collection = $2",
                )
                .bind(tenant)
                .bind(&self.model_name)
                .bind(error.to_string())
                .execute(&self.pool)
                .await
                .map(|_| ())
            }
        };
        if let Err(error) = result {
            tracing::error!(%tenant, %error, "reindex could not record its end");
        }
        let _ = sqlx::query("SELECT pg_advisory_unlock($1)")
            .bind(lock_key)
            .execute(&mut *lock)
            .await;
    }

    /// Embeds every live work item and pull request of the tenant that the configured
    /// collection lacks or holds stale. Ok(false) when stopped by shutdown.
    async fn reindex_pages(&self, tenant: Uuid) -> Result<bool, sqlx::Error> {
        let model = self
            .model
            .clone()
            .map_err(|e| sqlx::Error::Protocol(e.to_string()))?;
        sqlx::query(
            "UPDATE vector_collections SET reindex_done = 0 WHERE tenant_id = $1 AND collection = $2",
        )
        .bind(tenant)
        .bind(&self.model_name)
        .execute(&self.pool)
        .await?;
        // Keyset paging on the primary keys: (integration, external id) for work items,
        // (integration, repository, number) for pull requests.
        for entity_type in ["work_item", "pull_request"] {
            let mut after: (Uuid, i64, String) = (Uuid::nil(), i64::MIN, String::new());
            loop {
                if self.shutdown.is_cancelled() {
                    return Ok(false);
                }
                let page: Vec<(Uuid, i64, String)> = if entity_type == "work_item" {
                    sqlx::query_as(
                        "SELECT integration_id, 0::bigint, external_id FROM work_items
                         WHERE tenant_id = $1 AND deleted_at IS NULL AND (integration_id, external_id) > ($2, $3)
                         ORDER BY integration_id, external_id LIMIT $4",
                    )
                    .bind(tenant)
                    .bind(after.0)
                    .bind(&after.2)
                    .bind(REINDEX_PAGE)
                    .fetch_all(&self.pool)
                    .await?
                } else {
                    sqlx::query_as(
                        "SELECT integration_id, repository_id, number::text FROM pull_requests
                         WHERE tenant_id = $1 AND (integration_id, repository_id, number) > ($2, $3, $4)
                         ORDER BY integration_id, repository_id, number LIMIT $5",
                    )
                    .bind(tenant)
                    .bind(after.0)
                    .bind(after.1)
                    .bind(after.2.parse::<i64>().unwrap_or(i64::MIN))
                    .bind(REINDEX_PAGE)
                    .fetch_all(&self.pool)
                    .await?
                };
                let Some(last) = page.last() else { break };
                after = last.clone();
                let ids: Vec<String> = page
                    .iter()
                    .map(|(integration, repository, id)| {
                        if entity_type == "work_item" {
                            format!("{integration}/{id}")
                        } else {
                            format!("{integration}/{repository}/{id}")
                        }
                    })
                    .collect();
                let refs: Vec<(&str, &str)> =
                    ids.iter().map(|id| (entity_type, id.as_str())).collect();
                let (live, _) = self.contents(tenant, &refs).await?;
                self.write_text(tenant, &live).await?;
                self.embed_into(tenant, &self.model_name, &model, &live)
                    .await?;
                self.statistics.poke();
                sqlx::query(
                    "UPDATE vector_collections SET reindex_done = reindex_done + $3
                     WHERE tenant_id = $1 AND collection = $2",
                )
                .bind(tenant)
                .bind(&self.model_name)
                .bind(ids.len() as i64)
                .execute(&self.pool)
                .await?;
            }
        }
        Ok(true)
    }

    /// Makes the configured collection the tenant's active one, then removes the others.
    async fn switch_over(&self, tenant: Uuid) -> Result<(), sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        let old: Vec<String> = sqlx::query_scalar(
            "DELETE FROM vector_collections WHERE tenant_id = $1 AND collection <> $2 RETURNING collection",
        )
        .bind(tenant)
        .bind(&self.model_name)
        .fetch_all(&mut *tx)
        .await?;
        sqlx::query(
            "UPDATE vector_collections SET state = 'active', reindexing = false, reindex_error = '',
                 activated_at = COALESCE(CASE WHEN state = 'active' THEN activated_at END, now())
             WHERE tenant_id = $1 AND collection = $2",
        )
        .bind(tenant)
        .bind(&self.model_name)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM vectorization_status WHERE tenant_id = $1 AND model = ANY($2)")
            .bind(tenant)
            .bind(&old)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        for collection in &old {
            self.store.drop_collection(tenant, collection).await?;
            tracing::info!(%tenant, from = %collection, to = %self.model_name, "search switched over to the reindexed collection");
        }
        Ok(())
    }

    /// The documents of the live work items among `entity_ids` ("{integration}/{external
    /// id}"), by entity id; gone or deleted ones are absent.
    async fn work_items(
        &self,
        tenant: Uuid,
        entity_ids: impl Iterator<Item = &str>,
    ) -> Result<std::collections::HashMap<String, Content>, sqlx::Error> {
        // By integration, so each lookup is by primary key.
        let mut by_integration: HashMap<Uuid, Vec<String>> = HashMap::new();
        for id in entity_ids {
            if let Some((integration, external_id)) = work_item_id(id) {
                by_integration
                    .entry(integration)
                    .or_default()
                    .push(external_id.to_string());
            }
        }
        let mut sources: Vec<WorkItemSource> = Vec::new();
        for (integration, external_ids) in by_integration {
            sources.extend(
                sqlx::query_as::<_, WorkItemSource>(
                    // One primary-key probe per id. OFFSET 0 keeps the planner from flattening
                    // the subquery: right after a bulk load (statistics not yet gathered) it
                    // otherwise scans the whole tenant's items, once per id.
                    "SELECT w.integration_id::text || '/' || w.external_id AS entity_id, w.key, w.summary,
                            w.description_text, w.wit_name, w.status_name, w.labels, w.components,
                            w.project_key, w.updated
                     FROM UNNEST($3::text[]) AS u(external_id)
                     CROSS JOIN LATERAL (SELECT * FROM work_items
                                         WHERE tenant_id = $1 AND integration_id = $2
                                           AND external_id = u.external_id
                                         OFFSET 0) AS w
                     WHERE w.deleted_at IS NULL",
                )
                .bind(tenant)
                .bind(integration)
                .bind(&external_ids)
                .fetch_all(&self.pool)
                .await?,
            );
        }
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
        let Some((integration, repository_id, number)) = pull_request_id(entity_id) else {
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

/// A work item's entity id, "{integration}/{external id}".
fn work_item_id(entity_id: &str) -> Option<(Uuid, &str)> {
    let (integration, external_id) = entity_id.split_once('/')?;
    Some((Uuid::parse_str(integration).ok()?, external_id))
}

/// A pull request's entity id, "{integration}/{repository id}/{number}".
fn pull_request_id(entity_id: &str) -> Option<(Uuid, i64, i64)> {
    let mut parts = entity_id.splitn(3, '/');
    Some((
        Uuid::parse_str(parts.next()?).ok()?,
        parts.next()?.parse().ok()?,
        parts.next()?.parse().ok()?,
    ))
}

fn timestamp(t: &prost_types::Timestamp) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(t.seconds, t.nanos.max(0) as u32)
}

/// Reciprocal rank fusion's constant (the usual 60: later ranks still count, top ranks most).
const RRF_K: f64 = 60.0;

impl Vectorizer {
    /// The collection search uses for a tenant and its model.
    async fn active(&self, tenant: Uuid) -> Result<(String, Arc<Embedder>), Status> {
        let rows = self
            .collections(tenant)
            .await
            .map_err(|e| Status::unavailable(e.to_string()))?;
        match rows.into_iter().find(|r| r.state == "active") {
            Some(row) if row.collection != self.model_name => {
                let embedder = self.embedder_for(&row).await.map_err(|e| {
                    Status::failed_precondition(format!(
                        "search uses collection {}, whose model cannot be loaded ({e}); VectorizerService.Reindex re-embeds into the configured model {}",
                        row.collection, self.model_name
                    ))
                })?;
                Ok((row.collection, embedder))
            }
            _ => Ok((self.model_name.clone(), Arc::clone(self.model()?))),
        }
    }

    /// Full-text ranking of the tenant's documents (PostgreSQL `websearch_to_tsquery`,
    /// `ts_rank_cd`), with the same filters as the vector side.
    async fn text_hits(
        &self,
        tenant: Uuid,
        query: &str,
        limit: usize,
        filters: &Filters,
    ) -> Result<Vec<(String, String)>, sqlx::Error> {
        sqlx::query_as(
            "SELECT d.entity_type, d.entity_id
             FROM search_documents d, websearch_to_tsquery('english', $2) AS q
             WHERE d.tenant_id = $1 AND d.document @@ q
               AND (cardinality($3::text[]) = 0 OR d.entity_type = ANY($3))
               AND (cardinality($4::text[]) = 0 OR d.project = ANY($4))
               AND (cardinality($5::text[]) = 0 OR d.item_type = ANY($5))
               AND (cardinality($6::text[]) = 0 OR d.status = ANY($6))
               AND ($7::timestamptz IS NULL OR d.updated_at >= $7)
               AND ($8::timestamptz IS NULL OR d.updated_at < $8)
             ORDER BY ts_rank_cd(d.document, q) DESC, d.entity_id
             LIMIT $9",
        )
        .bind(tenant)
        .bind(query)
        .bind(&filters.entity_types)
        .bind(&filters.projects)
        .bind(&filters.item_types)
        .bind(&filters.statuses)
        .bind(filters.updated_from)
        .bind(filters.updated_to)
        .bind(limit as i64)
        .fetch_all(&self.pool)
        .await
    }
}

/// Fuses rankings by reciprocal rank: each entity scores the sum of 1 / (60 + rank) over the
/// rankings it appears in; best first, ties by first appearance.
fn reciprocal_rank_fusion(rankings: &[Vec<(String, String)>]) -> Vec<((String, String), f64)> {
    let mut scores: Vec<((String, String), f64)> = Vec::new();
    let mut position: HashMap<(String, String), usize> = HashMap::new();
    for ranking in rankings {
        for (rank, key) in ranking.iter().enumerate() {
            let add = 1.0 / (RRF_K + rank as f64 + 1.0);
            match position.get(key) {
                Some(&i) => scores[i].1 += add,
                None => {
                    position.insert(key.clone(), scores.len());
                    scores.push((key.clone(), add));
                }
            }
        }
    }
    // Stable: equal scores keep their first-appearance order.
    scores.sort_by(|a, b| b.1.total_cmp(&a.1));
    scores
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
        if let (Some(from), Some(to)) = (store_filters.updated_from, store_filters.updated_to)
            && from >= to
        {
            return Err(Status::invalid_argument(
                "filters.updated: from must be before to",
            ));
        }
        let (collection, model) = self.active(tenant).await?;
        let vector = model
            .embed(vec![query.to_string()])
            .await
            .map_err(|e| Status::unavailable(format!("embedding the query: {e}")))?
            .pop()
            .unwrap_or_default();
        // Hybrid: both rankings go deeper than top_k, then fuse. Either way a few more than
        // asked, so that hits on items deleted since they were indexed (their vectors are
        // being removed) can be dropped without returning fewer results.
        let depth = if request.hybrid {
            (top_k * 4).clamp(40, 200)
        } else {
            (top_k * 2).max(top_k + 10)
        };
        let hits = self
            .store
            .search(tenant, &collection, &vector, depth, &store_filters)
            .await
            .map_err(|e| Status::unavailable(format!("searching the index: {e}")))?;
        let ranked: Vec<(String, String, f64, String)> = if request.hybrid {
            let text = self
                .text_hits(tenant, query, depth, &store_filters)
                .await
                .map_err(|e| Status::unavailable(format!("full-text search: {e}")))?;
            let mut snippets: HashMap<(String, String), String> = HashMap::new();
            let by_vector: Vec<(String, String)> = hits
                .into_iter()
                .map(|h| {
                    let key = (h.entity_type, h.entity_id);
                    snippets.insert(key.clone(), h.snippet);
                    key
                })
                .collect();
            reciprocal_rank_fusion(&[by_vector, text])
                .into_iter()
                .map(|(key, score)| {
                    let snippet = snippets.remove(&key).unwrap_or_default();
                    (key.0, key.1, score, snippet)
                })
                .collect()
        } else {
            hits.into_iter()
                .map(|h| (h.entity_type, h.entity_id, f64::from(h.score), h.snippet))
                .collect()
        };
        let unavailable = |error: sqlx::Error| {
            tracing::warn!(%error, "reading search results' rows");
            Status::unavailable("the database is not reachable right now")
        };
        let mut results = Vec::with_capacity(top_k);
        for (entity_type, entity_id, score, snippet) in ranked {
            if results.len() == top_k {
                break;
            }
            let mut result = pb::SearchResult {
                entity_type: entity_type.clone(),
                entity_id: entity_id.clone(),
                score,
                snippet,
                ..Default::default()
            };
            if entity_type == "pull_request" {
                if let Some((integration, repository_id, number)) = pull_request_id(&entity_id) {
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
                    .map_err(unavailable)?;
                    if let Some((repository, title, state, merged, url)) = shown {
                        result.key = format!("{repository}#{number}");
                        result.title = title;
                        result.status = if merged { "merged".into() } else { state };
                        result.url = url;
                    }
                }
            } else if let Some((integration, external_id)) = work_item_id(&entity_id) {
                // A deleted (or moved-away) item is never a result, whatever the index holds.
                let shown: Option<(String, String, String, String)> = sqlx::query_as(
                    "SELECT w.key, w.summary, w.status_name, i.base_url FROM work_items w
                     JOIN integrations i ON i.id = w.integration_id AND i.tenant_id = w.tenant_id
                     WHERE w.tenant_id = $1 AND w.integration_id = $2 AND w.external_id = $3
                       AND w.deleted_at IS NULL",
                )
                .bind(tenant)
                .bind(integration)
                .bind(external_id)
                .fetch_optional(&self.pool)
                .await
                .map_err(unavailable)?;
                let Some((key, title, status, base_url)) = shown else {
                    continue;
                };
                result.url = format!("{}/browse/{key}", base_url.trim_end_matches('/'));
                result.key = key;
                result.title = title;
                result.status = status;
            }
            results.push(result);
        }
        Ok(Response::new(pb::SearchResponse {
            results,
            model: collection,
        }))
    }
}

#[tonic::async_trait]
impl pb::vectorizer_service_server::VectorizerService for Vectorizer {
    async fn reindex(
        &self,
        request: Request<pb::ReindexRequest>,
    ) -> Result<Response<pb::ReindexResponse>, Status> {
        let tenant = authenticate(&self.pool, request.metadata()).await?.id;
        self.model()?;
        let unavailable = |e: sqlx::Error| Status::unavailable(e.to_string());
        self.register(tenant).await.map_err(unavailable)?;
        let rows = self.collections(tenant).await.map_err(unavailable)?;
        if let Some(row) = rows.iter().find(|r| r.collection == self.model_name)
            && row.dimensions as usize != self.model_dimensions
        {
            return Err(Status::failed_precondition(format!(
                "collection {} holds {}-dimensional vectors but the configured model gives {}: name the model directory differently so it gets its own collection",
                row.collection, row.dimensions, self.model_dimensions
            )));
        }
        let replaces = rows
            .iter()
            .find(|r| r.state == "active" && r.collection != self.model_name)
            .map(|r| r.collection.clone())
            .unwrap_or_default();
        let entities: i64 = sqlx::query_scalar(
            "SELECT (SELECT count(*) FROM work_items WHERE tenant_id = $1 AND deleted_at IS NULL)
                  + (SELECT count(*) FROM pull_requests WHERE tenant_id = $1)",
        )
        .bind(tenant)
        .fetch_one(&self.pool)
        .await
        .map_err(unavailable)?;
        // Claimed once: a second call while it runs joins it.
        let claimed = sqlx::query(
            "UPDATE vector_collections SET reindexing = true, reindex_total = $3, reindex_done = 0,
                 reindex_error = ''
             WHERE tenant_id = $1 AND collection = $2 AND NOT reindexing",
        )
        .bind(tenant)
        .bind(&self.model_name)
        .bind(entities)
        .execute(&self.pool)
        .await
        .map_err(unavailable)?
        .rows_affected()
            == 1;
        if claimed {
            tracing::info!(%tenant, collection = %self.model_name, %replaces, entities, "reindex started");
            tokio::spawn(self.clone().run_reindex(tenant));
        }
        Ok(Response::new(pb::ReindexResponse {
            collection: self.model_name.clone(),
            replaces,
            entities,
            already_running: !claimed,
        }))
    }

    async fn get_stats(
        &self,
        request: Request<pb::GetStatsRequest>,
    ) -> Result<Response<pb::GetStatsResponse>, Status> {
        let tenant = authenticate(&self.pool, request.metadata()).await?.id;
        let unavailable = |e: sqlx::Error| Status::unavailable(e.to_string());
        let rows = self.collections(tenant).await.map_err(unavailable)?;
        let active = rows.iter().find(|r| r.state == "active");
        let active_collection = active.map(|r| r.collection.clone()).unwrap_or_default();
        let counted = if active_collection.is_empty() {
            self.model_name.clone()
        } else {
            active_collection.clone()
        };
        let vectors = self
            .store
            .count(tenant, &counted)
            .await
            .map_err(|e| Status::unavailable(e.to_string()))?;
        let (pending, failed): (i64, i64) = sqlx::query_as(
            "SELECT count(*) FILTER (WHERE status = 'pending'), count(*) FILTER (WHERE status = 'failed')
             FROM vectorization_status WHERE tenant_id = $1 AND model = $2",
        )
        .bind(tenant)
        .bind(&counted)
        .fetch_one(&self.pool)
        .await
        .map_err(unavailable)?;
        let configured = rows.iter().find(|r| r.collection == self.model_name);
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
            reindex_required: !active_collection.is_empty() && active_collection != self.model_name,
            active_collection,
            reindexing: configured.is_some_and(|r| r.reindexing),
            reindex_done: configured.map(|r| r.reindex_done).unwrap_or(0),
            reindex_total: configured.map(|r| r.reindex_total).unwrap_or(0),
            reindex_error: configured
                .map(|r| r.reindex_error.clone())
                .unwrap_or_default(),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(ids: &[&str]) -> Vec<(String, String)> {
        ids.iter()
            .map(|id| ("work_item".to_string(), id.to_string()))
            .collect()
    }

    #[test]
    fn fusion_favours_entities_both_rankings_agree_on() {
        let vector = keys(&["a", "b", "c", "d"]);
        let text = keys(&["c", "e", "a"]);
        let fused = reciprocal_rank_fusion(&[vector, text]);
        let order: Vec<&str> = fused.iter().map(|((_, id), _)| id.as_str()).collect();
        // a: 1/61 + 1/63, c: 1/63 + 1/61 (tie, a first seen), then b (1/62), e (1/62), d.
        assert_eq!(order, ["a", "c", "b", "e", "d"]);
        assert!((fused[0].1 - (1.0 / 61.0 + 1.0 / 63.0)).abs() < 1e-12);
        // One ranking alone keeps its order.
        let alone = reciprocal_rank_fusion(&[keys(&["x", "y"])]);
        assert_eq!(alone[0].0.1, "x");
        assert!(reciprocal_rank_fusion(&[]).is_empty());
    }
}
