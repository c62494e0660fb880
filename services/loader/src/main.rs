//! `sluice-loader`: the loader alone. Health and reflection on `SLUICE_LOADER_ADDR`
//! (default 0.0.0.0:50054).

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    sluice_plumbing::install_crypto_provider();
    let _telemetry = sluice_plumbing::telemetry::init("sluice-loader")?;
    let config = sluice_loader::LoaderConfig::from_env()?;
    let addr = sluice_plumbing::config::env_string("SLUICE_LOADER_ADDR")
        .unwrap_or_else(|| "0.0.0.0:50054".into());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    sluice_loader::run(config, listener, sluice_plumbing::shutdown_on_signal()).await
}
