//! `sluice-orchestrator`: the orchestrator alone. Listens on `SLUICE_ORCHESTRATOR_ADDR`
//! (default 0.0.0.0:50051) for the public API and on `SLUICE_ORCHESTRATOR_INTERNAL_ADDR`
//! (default 127.0.0.1:50061) for the workers' progress reports.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    sluice_plumbing::install_crypto_provider();
    let _telemetry = sluice_plumbing::telemetry::init("sluice-orchestrator")?;
    let config = sluice_orchestrator::OrchestratorConfig::from_env()?;
    let addr = sluice_plumbing::config::env_string("SLUICE_ORCHESTRATOR_ADDR")
        .unwrap_or_else(|| "0.0.0.0:50051".into());
    let internal_addr = sluice_plumbing::config::env_string("SLUICE_ORCHESTRATOR_INTERNAL_ADDR")
        .unwrap_or_else(|| "127.0.0.1:50061".into());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    let internal = tokio::net::TcpListener::bind(&internal_addr).await?;
    let shutdown = sluice_plumbing::shutdown_on_signal();
    sluice_orchestrator::run(config, listener, internal, shutdown).await
}
