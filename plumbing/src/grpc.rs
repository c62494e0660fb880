//! gRPC server scaffolding: every service serves grpc.health.v1 and server reflection
//! (v1 and v1alpha: the grpcurl many operators have speaks only v1alpha), with W3C trace
//! context taken from the request headers.

use std::future::Future;

use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;
use tonic::service::Routes;
use uuid::Uuid;

use crate::telemetry;

/// Serves `routes` plus health, reflection and `GET /metrics` until `shutdown` resolves,
/// counting every gRPC request by method and status code.
/// `service_names` are reported SERVING by the health service and are the only services
/// reflection lists (with health itself): a port advertises exactly what it serves.
pub async fn serve(
    listener: TcpListener,
    routes: Routes,
    service_names: &[&str],
    shutdown: impl Future<Output = ()> + Send,
) -> anyhow::Result<()> {
    let routes = with_health_and_reflection(routes, service_names).await?;
    let routes = crate::metrics::with_metrics_route(routes);
    tonic::transport::Server::builder()
        // HTTP/1.1 for Prometheus' `GET /metrics`; gRPC stays HTTP/2.
        .accept_http1(true)
        .trace_fn(telemetry::grpc_server_span)
        .layer(crate::metrics::GrpcMetricsLayer)
        .add_routes(routes)
        .serve_with_incoming_shutdown(TcpListenerStream::new(listener), shutdown)
        .await?;
    Ok(())
}

/// `routes` plus grpc.health.v1 (each of `service_names` SERVING) and server reflection (v1
/// and v1alpha: the grpcurl many operators have speaks only v1alpha) listing exactly those
/// services and health.
pub async fn with_health_and_reflection(
    routes: Routes,
    service_names: &[&str],
) -> anyhow::Result<Routes> {
    let (reporter, health) = tonic_health::server::health_reporter();
    for name in service_names {
        reporter
            .set_service_status(*name, tonic_health::ServingStatus::Serving)
            .await;
    }
    let listed = || {
        let mut builder = tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(sluice_proto::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
            .with_service_name("grpc.health.v1.Health");
        for name in service_names {
            builder = builder.with_service_name(*name);
        }
        builder
    };
    Ok(routes
        .add_service(health)
        .add_service(listed().build_v1()?)
        .add_service(listed().build_v1alpha()?))
}

/// Parses a UUID argument; INVALID_ARGUMENT names the field.
pub fn parse_id(field: &str, value: &str) -> Result<Uuid, tonic::Status> {
    if value.trim().is_empty() {
        return Err(tonic::Status::invalid_argument(format!(
            "{field} is required"
        )));
    }
    Uuid::parse_str(value.trim()).map_err(|_| {
        tonic::Status::invalid_argument(format!("{field} must be a UUID, got {value:?}"))
    })
}

/// A lazily-connecting client channel to `url`; INVALID configuration is reported here,
/// connection failures on first use.
pub fn lazy_channel(url: &str) -> anyhow::Result<tonic::transport::Channel> {
    Ok(tonic::transport::Endpoint::from_shared(url.to_string())
        .map_err(|e| anyhow::anyhow!("invalid gRPC endpoint {url:?}: {e}"))?
        .connect_timeout(std::time::Duration::from_secs(5))
        .connect_lazy())
}
