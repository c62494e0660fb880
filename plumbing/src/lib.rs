//! Shared plumbing of every Sluice service: configuration, telemetry, the AMQP topology and
//! consumer loop, the database pool and migrations, API-key auth, credential encryption, raw
//! page storage, and the gRPC server scaffolding (health + reflection).

/// Every Sluice process allocates through mimalloc: pages of a few MB parsed into many small
/// strings are the hot path, where glibc's malloc spent a fifth of the transformer's time.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

pub mod amqp;
pub mod auth;
pub mod config;
pub mod credentials;
pub mod crypto;
pub mod cursors;
pub mod db;
pub mod grpc;
pub mod internal;
pub mod metrics;
pub mod origin;
pub mod progress;
pub mod raw;
pub mod settings;
pub mod telemetry;

pub use config::CommonConfig;

/// Installs ring as the process-wide rustls crypto provider (the only one compiled in).
/// Safe to call more than once.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// A token cancelled on SIGINT or SIGTERM: services finish in-flight work and stop.
pub fn shutdown_on_signal() -> tokio_util::sync::CancellationToken {
    let token = tokio_util::sync::CancellationToken::new();
    let trigger = token.clone();
    tokio::spawn(async move {
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        {
            let mut term =
                match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                    Ok(term) => term,
                    Err(_) => {
                        let _ = ctrl_c.await;
                        trigger.cancel();
                        return;
                    }
                };
            tokio::select! {
                _ = ctrl_c => {}
                _ = term.recv() => {}
            }
        }
        #[cfg(not(unix))]
        let _ = ctrl_c.await;
        tracing::info!("shutdown requested");
        trigger.cancel();
    });
    token
}

/// This process among the replicas of a service: `host:pid` (recorded with the work it does).
pub fn instance_id() -> &'static str {
    static ID: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    ID.get_or_init(|| {
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .ok()
            .map(|h| h.trim().to_string())
            .filter(|h| !h.is_empty())
            .or_else(|| std::env::var("HOSTNAME").ok())
            .unwrap_or_else(|| "localhost".into());
        format!("{host}:{}", std::process::id())
    })
}
