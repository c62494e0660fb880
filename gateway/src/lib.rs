//! Gateway: will serve the dashboard and forward grpc-web to the services (its own issue).
//! For now it starts and answers health and reflection, so deployments can include it.

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub async fn run(listener: TcpListener, shutdown: CancellationToken) -> anyhow::Result<()> {
    tracing::info!(addr = %listener.local_addr()?, "gateway listening");
    sluice_plumbing::grpc::serve(
        listener,
        tonic::service::Routes::default(),
        &[],
        shutdown.cancelled_owned(),
    )
    .await
}
