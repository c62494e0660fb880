//! The orchestrator: integrations, jobs and runs over gRPC; publishes ExtractRequests on
//! `etl.extract`; receives worker progress and decides when a run is done.

mod api;
mod catalog;
mod convert;
mod custom_fields;
mod error;
mod integrations;
mod jobs;
mod reprocess;
mod runs;

use std::sync::Arc;
use std::time::Duration;

use sluice_plumbing::CommonConfig;
use sluice_plumbing::amqp::{ReconnectingPublisher, Topology};
use sluice_plumbing::crypto::CredentialCipher;
use sluice_proto::v1 as pb;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub use api::Orchestrator;
pub use error::OrchestratorError;

#[derive(Clone, Debug)]
pub struct OrchestratorConfig {
    pub common: CommonConfig,
    /// Key for credentials at rest (`SLUICE_CREDENTIALS_KEY`).
    pub cipher: CredentialCipher,
    /// How often running runs are checked for completion, in case a report was lost.
    pub settle_interval: Duration,
}

impl OrchestratorConfig {
    pub fn from_env() -> anyhow::Result<Self> {
        Ok(OrchestratorConfig {
            common: CommonConfig::from_env()?,
            cipher: CredentialCipher::from_env()?,
            settle_interval: Duration::from_secs(1),
        })
    }
}

/// Runs the orchestrator on `listener` until `shutdown` is cancelled. Applies migrations first.
pub async fn run(
    config: OrchestratorConfig,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let pool = sluice_plumbing::db::connect(&config.common).await?;
    sluice_plumbing::db::migrate(&pool).await?;
    let topology = Topology::new(&config.common.queue_prefix);
    let publisher = Arc::new(ReconnectingPublisher::new(
        &config.common.amqp_url,
        topology,
        config.common.connect_timeout,
    ));
    let connectors = pb::connector_service_client::ConnectorServiceClient::new(
        sluice_plumbing::grpc::lazy_channel(&config.common.connectors_url)?,
    );
    let state = Orchestrator {
        pool: pool.clone(),
        cipher: config.cipher.clone(),
        publisher,
        connectors,
    };
    let settle = tokio::spawn(runs::settle_loop(
        pool,
        config.settle_interval,
        shutdown.clone(),
    ));
    let routes = tonic::service::Routes::new(
        pb::integration_service_server::IntegrationServiceServer::new(state.clone()),
    )
    .add_service(pb::job_service_server::JobServiceServer::new(state.clone()))
    .add_service(pb::progress_service_server::ProgressServiceServer::new(
        state.clone(),
    ))
    .add_service(pb::catalog_service_server::CatalogServiceServer::new(
        state.clone(),
    ))
    .add_service(pb::custom_field_service_server::CustomFieldServiceServer::new(state));
    tracing::info!(addr = %listener.local_addr()?, "orchestrator listening");
    sluice_plumbing::grpc::serve(
        listener,
        routes,
        &[
            "sluice.v1.IntegrationService",
            "sluice.v1.JobService",
            "sluice.v1.ProgressService",
            "sluice.v1.CatalogService",
            "sluice.v1.CustomFieldService",
        ],
        shutdown.clone().cancelled_owned(),
    )
    .await?;
    let _ = settle.await;
    Ok(())
}
