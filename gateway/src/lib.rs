//! The gateway: Sluice's one public address. On a single listener it speaks
//!
//! * gRPC over HTTP/2 (grpcurl, Python, Go clients),
//! * grpc-web over HTTP/1.1 and HTTP/2 (browsers; server streams included),
//! * HTTP/JSON, `POST /sluice.v1.<Service>/<Method>` with a JSON body (see [`json`]),
//!
//! forwarding the public services to the services that own them (addresses from
//! configuration, so it runs as its own process or pod), and serves the dashboard at `/`.
//! Internal services are never forwarded. CORS is limited to configured origins; bodies are
//! size-limited; unary calls have a deadline; shutdown ends open streams cleanly.

mod json;
mod proxy;
mod services;
mod site;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::response::IntoResponse;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

pub use services::PUBLIC_SERVICES;

#[derive(Debug, Clone)]
pub struct GatewayConfig {
    /// The orchestrator's public API (`SLUICE_GATEWAY_ORCHESTRATOR_URL`, default
    /// `http://127.0.0.1:50051`): integrations, jobs, custom fields, queues, catalog, account.
    pub orchestrator_url: String,
    /// The vectorizer (`SLUICE_GATEWAY_VECTORIZER_URL`, default `http://127.0.0.1:50055`):
    /// search and the index.
    pub vectorizer_url: String,
    /// Browser origins allowed to call the API from another origin
    /// (`SLUICE_GATEWAY_CORS_ORIGINS`, comma-separated, e.g. `https://ops.example.com`;
    /// default none: the dashboard the gateway serves is same-origin and needs none).
    pub cors_origins: Vec<String>,
    /// Largest request body accepted (`SLUICE_GATEWAY_MAX_REQUEST_BYTES`, default 4 MiB).
    pub max_request_bytes: usize,
    /// Longest a unary call may take (`SLUICE_GATEWAY_TIMEOUT_SECS`, default 30); streams
    /// (WatchJobs) are not limited.
    pub call_timeout: Duration,
    /// The built dashboard (`SLUICE_DASHBOARD_DIR`, default `gateway/dashboard/dist`).
    pub dashboard_dir: PathBuf,
    /// Where the dashboard links trace ids (`SLUICE_TRACE_URL_TEMPLATE`, `{trace_id}` is
    /// replaced; default Jaeger's UI at `http://localhost:16686/trace/{trace_id}`).
    pub trace_url_template: String,
}

impl Default for GatewayConfig {
    fn default() -> Self {
        GatewayConfig {
            orchestrator_url: "http://127.0.0.1:50051".into(),
            vectorizer_url: "http://127.0.0.1:50055".into(),
            cors_origins: Vec::new(),
            max_request_bytes: 4 * 1024 * 1024,
            call_timeout: Duration::from_secs(30),
            dashboard_dir: PathBuf::from("gateway/dashboard/dist"),
            trace_url_template: "http://localhost:16686/trace/{trace_id}".into(),
        }
    }
}

impl GatewayConfig {
    pub fn from_env() -> anyhow::Result<Self> {
        use sluice_plumbing::config::{env_parse, env_string};
        let defaults = GatewayConfig::default();
        let cors_origins = env_string("SLUICE_GATEWAY_CORS_ORIGINS")
            .map(|list| {
                list.split(',')
                    .map(|o| o.trim().trim_end_matches('/').to_string())
                    .filter(|o| !o.is_empty())
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default();
        for origin in &cors_origins {
            anyhow::ensure!(
                http::HeaderValue::from_str(origin).is_ok()
                    && (origin.starts_with("http://") || origin.starts_with("https://")),
                "invalid configuration SLUICE_GATEWAY_CORS_ORIGINS: {origin:?} is not an origin like https://ops.example.com"
            );
        }
        Ok(GatewayConfig {
            orchestrator_url: env_string("SLUICE_GATEWAY_ORCHESTRATOR_URL")
                .unwrap_or(defaults.orchestrator_url),
            vectorizer_url: env_string("SLUICE_GATEWAY_VECTORIZER_URL")
                .unwrap_or(defaults.vectorizer_url),
            cors_origins,
            max_request_bytes: env_parse(
                "SLUICE_GATEWAY_MAX_REQUEST_BYTES",
                defaults.max_request_bytes,
                |v| *v >= 1024,
            )?,
            call_timeout: Duration::from_secs(env_parse(
                "SLUICE_GATEWAY_TIMEOUT_SECS",
                defaults.call_timeout.as_secs(),
                |v| *v > 0,
            )?),
            dashboard_dir: env_string("SLUICE_DASHBOARD_DIR")
                .map(PathBuf::from)
                .unwrap_or(defaults.dashboard_dir),
            trace_url_template: env_string("SLUICE_TRACE_URL_TEMPLATE")
                .unwrap_or(defaults.trace_url_template),
        })
    }
}

/// Serves the gateway on `listener` until `shutdown` is cancelled; open streams then end
/// with UNAVAILABLE and in-flight unary calls finish.
pub async fn run(
    config: GatewayConfig,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let public_names: Vec<&str> = PUBLIC_SERVICES.iter().map(|(name, _)| *name).collect();
    let local = sluice_plumbing::grpc::with_health_and_reflection(
        tonic::service::Routes::default(),
        &public_names,
    )
    .await?;
    let proxy = proxy::Proxy {
        catalog: Arc::new(services::Catalog::new()?),
        orchestrator: sluice_plumbing::grpc::lazy_channel(&config.orchestrator_url)?,
        vectorizer: sluice_plumbing::grpc::lazy_channel(&config.vectorizer_url)?,
        local,
        call_timeout: config.call_timeout,
        shutdown: shutdown.clone(),
    };
    let grpc = tower::ServiceBuilder::new()
        .layer(tonic_web::GrpcWebLayer::new())
        .layer(sluice_plumbing::metrics::GrpcMetricsLayer)
        .service(proxy.clone());
    let site = site::Site::new(&config);
    let dispatch = {
        let proxy = proxy.clone();
        tower::service_fn(move |request: http::Request<axum::body::Body>| {
            let grpc = grpc.clone();
            let proxy = proxy.clone();
            let site = site.clone();
            async move {
                let content_type = request
                    .headers()
                    .get(http::header::CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_ascii_lowercase();
                let response = if content_type.starts_with("application/grpc") {
                    match grpc.oneshot(request).await {
                        Ok(response) => response.map(axum::body::Body::new),
                        Err(never) => match never {},
                    }
                } else if request.method() == http::Method::POST
                    && request.uri().path().starts_with("/sluice.")
                {
                    if content_type.starts_with("application/json") {
                        json::handle(&proxy, request).await
                    } else {
                        json::error(
                            tonic::Code::InvalidArgument,
                            "send Content-Type: application/json (or application/grpc, application/grpc-web)",
                        )
                        .into_response()
                    }
                } else {
                    site.serve(request).await
                };
                Ok::<_, std::convert::Infallible>(response)
            }
        })
    };
    let app = axum::Router::new()
        .route(
            "/metrics",
            axum::routing::get(sluice_plumbing::metrics::metrics_response),
        )
        .fallback_service(dispatch)
        .layer(tower_http::limit::RequestBodyLimitLayer::new(
            config.max_request_bytes,
        ))
        .layer(cors(&config.cors_origins));
    tracing::info!(addr = %listener.local_addr()?, orchestrator = %config.orchestrator_url, vectorizer = %config.vectorizer_url, dashboard = %config.dashboard_dir.display(), "gateway listening");
    serve(listener, app, shutdown).await
}

/// Streams one HTTP/2 connection may hold open: browsers and the Python client multiplex
/// every WatchJobs on one connection (hyper's default of 200 would stall the 201st, and the
/// unary calls queued behind it).
const MAX_STREAMS_PER_CONNECTION: u32 = 10_000;

/// HTTP/1.1 and HTTP/2 (prior knowledge, as gRPC clients speak it) on one listener. At
/// shutdown every connection is asked to finish gracefully (in-flight calls complete, open
/// streams end with UNAVAILABLE, see the proxy) and no new one is accepted.
async fn serve(
    listener: TcpListener,
    app: axum::Router,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    use hyper_util::rt::{TokioExecutor, TokioIo};
    use hyper_util::server::conn::auto::Builder;
    use hyper_util::service::TowerToHyperService;
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http2()
        .max_concurrent_streams(MAX_STREAMS_PER_CONNECTION);
    let mut connections = tokio::task::JoinSet::new();
    loop {
        let (stream, _) = tokio::select! {
            _ = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let builder = builder.clone();
        let service = TowerToHyperService::new(app.clone());
        let shutdown = shutdown.clone();
        connections.spawn(async move {
            let connection = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
            tokio::pin!(connection);
            tokio::select! {
                result = connection.as_mut() => {
                    if let Err(error) = result {
                        tracing::debug!(%error, "connection ended with an error");
                    }
                    return;
                }
                _ = shutdown.cancelled() => connection.as_mut().graceful_shutdown(),
            }
            if let Err(error) = connection.await {
                tracing::debug!(%error, "connection ended with an error");
            }
        });
        // Reap finished connections as we go.
        while connections.try_join_next().is_some() {}
    }
    while connections.join_next().await.is_some() {}
    Ok(())
}

/// Cross-origin calls only from the configured origins; grpc-web clients must be able to read
/// the status headers.
fn cors(origins: &[String]) -> tower_http::cors::CorsLayer {
    use tower_http::cors::{AllowOrigin, CorsLayer};
    let allowed: Vec<http::HeaderValue> = origins
        .iter()
        .filter_map(|o| http::HeaderValue::from_str(o).ok())
        .collect();
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(allowed))
        .allow_methods([http::Method::GET, http::Method::POST, http::Method::OPTIONS])
        .allow_headers([
            http::header::AUTHORIZATION,
            http::header::CONTENT_TYPE,
            http::HeaderName::from_static("x-grpc-web"),
            http::HeaderName::from_static("x-user-agent"),
            http::HeaderName::from_static("grpc-timeout"),
            http::HeaderName::from_static("connect-protocol-version"),
            http::HeaderName::from_static("connect-timeout-ms"),
            http::HeaderName::from_static("traceparent"),
            http::HeaderName::from_static("tracestate"),
        ])
        .expose_headers([
            http::HeaderName::from_static("grpc-status"),
            http::HeaderName::from_static("grpc-message"),
            http::HeaderName::from_static("grpc-status-details-bin"),
        ])
        .max_age(Duration::from_secs(3600))
}
