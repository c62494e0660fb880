//! `sluice-transformer`: the transformer alone. Health and reflection on
//! `SLUICE_TRANSFORMER_ADDR` (default 0.0.0.0:50053).

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    sluice_plumbing::install_crypto_provider();
    let _telemetry = sluice_plumbing::telemetry::init("sluice-transformer")?;
    let config = sluice_transformer::TransformerConfig::from_env()?;
    let addr = sluice_plumbing::config::env_string("SLUICE_TRANSFORMER_ADDR")
        .unwrap_or_else(|| "0.0.0.0:50053".into());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    sluice_transformer::run(config, listener, sluice_plumbing::shutdown_on_signal()).await
}
