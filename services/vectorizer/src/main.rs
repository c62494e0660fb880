//! `sluice-vectorizer`: listens on `SLUICE_VECTORIZER_ADDR` (default 0.0.0.0:50055).

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    sluice_plumbing::install_crypto_provider();
    let _telemetry = sluice_plumbing::telemetry::init("sluice-vectorizer")?;
    let addr = sluice_plumbing::config::env_string("SLUICE_VECTORIZER_ADDR")
        .unwrap_or_else(|| "0.0.0.0:50055".into());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    let config = sluice_vectorizer::VectorizerConfig::from_env()?;
    sluice_vectorizer::run(config, listener, sluice_plumbing::shutdown_on_signal()).await
}
