//! `sluice-gateway`: listens on `SLUICE_GATEWAY_ADDR` (default 0.0.0.0:8080).

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    sluice_plumbing::install_crypto_provider();
    let _telemetry = sluice_plumbing::telemetry::init("sluice-gateway")?;
    let addr = sluice_plumbing::config::env_string("SLUICE_GATEWAY_ADDR")
        .unwrap_or_else(|| "0.0.0.0:8080".into());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    sluice_gateway::run(listener, sluice_plumbing::shutdown_on_signal()).await
}
