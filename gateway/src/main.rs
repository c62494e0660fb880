//! `sluice-gateway`: listens on `SLUICE_GATEWAY_ADDR` (default 0.0.0.0:8080); the services it
//! forwards to and its other settings come from `SLUICE_GATEWAY_*` (see `GatewayConfig`).

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    sluice_plumbing::install_crypto_provider();
    let _telemetry = sluice_plumbing::telemetry::init("sluice-gateway")?;
    let addr = sluice_plumbing::config::env_string("SLUICE_GATEWAY_ADDR")
        .unwrap_or_else(|| "0.0.0.0:8080".into());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    let config = sluice_gateway::GatewayConfig::from_env()?;
    sluice_gateway::run(config, listener, sluice_plumbing::shutdown_on_signal()).await
}
