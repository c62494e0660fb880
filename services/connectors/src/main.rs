//! `sluice-connectors`: the connectors alone. Its ConnectorService is internal: it listens
//! on `SLUICE_CONNECTORS_ADDR` (default 127.0.0.1:50052) and answers only calls carrying the
//! deployment's internal token.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    sluice_plumbing::install_crypto_provider();
    let _telemetry = sluice_plumbing::telemetry::init("sluice-connectors")?;
    let config = sluice_connectors::ConnectorsConfig::from_env()?;
    let addr = sluice_plumbing::config::env_string("SLUICE_CONNECTORS_ADDR")
        .unwrap_or_else(|| "127.0.0.1:50052".into());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    sluice_connectors::run(config, listener, sluice_plumbing::shutdown_on_signal()).await
}
