//! Vectorizer: embeddings and semantic search. It starts, answers health and reflection, and
//! serves SearchService and VectorizerService, whose methods answer UNIMPLEMENTED until the
//! vectorizer issue lands.

pub mod document;
pub mod embed;
pub mod store;

use sluice_proto::v1 as pb;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status};

#[derive(Clone, Default)]
struct Vectorizer;

const NOT_YET: &str = "semantic search arrives with the vectorizer issue";

#[tonic::async_trait]
impl pb::search_service_server::SearchService for Vectorizer {
    async fn search(
        &self,
        _request: Request<pb::SearchRequest>,
    ) -> Result<Response<pb::SearchResponse>, Status> {
        Err(Status::unimplemented(NOT_YET))
    }
}

#[tonic::async_trait]
impl pb::vectorizer_service_server::VectorizerService for Vectorizer {
    async fn reindex(
        &self,
        _request: Request<pb::ReindexRequest>,
    ) -> Result<Response<pb::ReindexResponse>, Status> {
        Err(Status::unimplemented(NOT_YET))
    }
    async fn get_stats(
        &self,
        _request: Request<pb::GetStatsRequest>,
    ) -> Result<Response<pb::GetStatsResponse>, Status> {
        Err(Status::unimplemented(NOT_YET))
    }
}

pub async fn run(listener: TcpListener, shutdown: CancellationToken) -> anyhow::Result<()> {
    tracing::info!(addr = %listener.local_addr()?, "vectorizer listening");
    let routes = tonic::service::Routes::new(pb::search_service_server::SearchServiceServer::new(
        Vectorizer,
    ))
    .add_service(pb::vectorizer_service_server::VectorizerServiceServer::new(
        Vectorizer,
    ));
    sluice_plumbing::grpc::serve(
        listener,
        routes,
        &["sluice.v1.SearchService", "sluice.v1.VectorizerService"],
        shutdown.cancelled_owned(),
    )
    .await
}
