//! `sluice-connectors`: the connectors alone. Listens on `SLUICE_CONNECTORS_ADDR`
//! (default 0.0.0.0:50052).

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    sluice_plumbing::install_crypto_provider();
    let _telemetry = sluice_plumbing::telemetry::init("sluice-connectors")?;
    let config = sluice_connectors::ConnectorsConfig::from_env()?;
    let addr = sluice_plumbing::config::env_string("SLUICE_CONNECTORS_ADDR")
        .unwrap_or_else(|| "0.0.0.0:50052".into());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    sluice_connectors::run(config, listener, sluice_plumbing::shutdown_on_signal()).await
}
