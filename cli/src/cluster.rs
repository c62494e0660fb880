//! Every service in one process. They still talk to each other over gRPC and RabbitMQ,
//! exactly as separate processes would.

use std::net::SocketAddr;

use sluice_connectors::ConnectorsConfig;
use sluice_orchestrator::OrchestratorConfig;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// Listen addresses of the services.
#[derive(Debug, Clone)]
pub struct Addresses {
    pub orchestrator: String,
    /// The orchestrator's internal listener (ProgressService for the workers).
    pub orchestrator_internal: String,
    pub connectors: String,
    pub transformer: String,
    pub loader: String,
    pub vectorizer: String,
    pub gateway: String,
}

impl Addresses {
    /// From `SLUICE_<SERVICE>_ADDR`, with the documented default ports.
    pub fn from_env() -> Self {
        let addr = |var: &str, default: &str| {
            sluice_plumbing::config::env_string(var).unwrap_or_else(|| default.to_string())
        };
        Addresses {
            orchestrator: addr("SLUICE_ORCHESTRATOR_ADDR", "0.0.0.0:50051"),
            // Internal services listen on loopback unless told otherwise (in Kubernetes: the
            // pod's address, behind a NetworkPolicy).
            orchestrator_internal: addr("SLUICE_ORCHESTRATOR_INTERNAL_ADDR", "127.0.0.1:50061"),
            connectors: addr("SLUICE_CONNECTORS_ADDR", "127.0.0.1:50052"),
            transformer: addr("SLUICE_TRANSFORMER_ADDR", "0.0.0.0:50053"),
            loader: addr("SLUICE_LOADER_ADDR", "0.0.0.0:50054"),
            vectorizer: addr("SLUICE_VECTORIZER_ADDR", "0.0.0.0:50055"),
            gateway: addr("SLUICE_GATEWAY_ADDR", "0.0.0.0:8080"),
        }
    }

    /// Every service on an ephemeral loopback port (tests).
    pub fn ephemeral() -> Self {
        let any = "127.0.0.1:0".to_string();
        Addresses {
            orchestrator: any.clone(),
            orchestrator_internal: any.clone(),
            connectors: any.clone(),
            transformer: any.clone(),
            loader: any.clone(),
            vectorizer: any.clone(),
            gateway: any,
        }
    }
}

/// A running cluster.
pub struct Cluster {
    pub orchestrator_addr: SocketAddr,
    pub orchestrator_internal_addr: SocketAddr,
    pub connectors_addr: SocketAddr,
    pub transformer_addr: SocketAddr,
    pub loader_addr: SocketAddr,
    pub vectorizer_addr: SocketAddr,
    pub gateway_addr: SocketAddr,
    pub shutdown: CancellationToken,
    tasks: Vec<(&'static str, JoinHandle<anyhow::Result<()>>)>,
}

impl Cluster {
    /// Binds every listener first, so the services can find each other on the bound ports,
    /// then starts them. `orchestrator.common` is the shared configuration; its orchestrator
    /// and connectors URLs are pointed at the bound ports.
    /// `vectorize`: whether loaded work items are embedded (the loader sends them, the
    /// vectorizer consumes); search is served either way.
    pub async fn start(
        mut orchestrator: OrchestratorConfig,
        mut connectors: ConnectorsConfig,
        addresses: &Addresses,
        vectorize: bool,
    ) -> anyhow::Result<Cluster> {
        let bind = |addr: String| async move {
            TcpListener::bind(&addr)
                .await
                .map_err(|e| anyhow::anyhow!("cannot listen on {addr}: {e}"))
        };
        let orchestrator_listener = bind(addresses.orchestrator.clone()).await?;
        let internal_listener = bind(addresses.orchestrator_internal.clone()).await?;
        let connectors_listener = bind(addresses.connectors.clone()).await?;
        let transformer_listener = bind(addresses.transformer.clone()).await?;
        let loader_listener = bind(addresses.loader.clone()).await?;
        let vectorizer_listener = bind(addresses.vectorizer.clone()).await?;
        let gateway_listener = bind(addresses.gateway.clone()).await?;
        let orchestrator_addr = orchestrator_listener.local_addr()?;
        let orchestrator_internal_addr = internal_listener.local_addr()?;
        let connectors_addr = connectors_listener.local_addr()?;
        let local = |addr: SocketAddr| format!("http://127.0.0.1:{}", addr.port());
        orchestrator.common.progress_url = local(orchestrator_internal_addr);
        orchestrator.common.connectors_url = local(connectors_addr);
        if orchestrator.common.internal_token.is_empty() {
            // Every service is in this process: a token made up now is known to all of them.
            orchestrator.common.internal_token =
                sluice_plumbing::internal::InternalAuth::generate_token();
        }
        connectors.common = orchestrator.common.clone();
        let common = orchestrator.common.clone();
        // An invalid loader setting is an error here too, not a silent default.
        let loader_settings = sluice_loader::LoaderConfig::from_env()?;
        let vectorizer_settings = sluice_vectorizer::VectorizerConfig::from_env()?;
        let vectorizer_addr = vectorizer_listener.local_addr()?;
        // The gateway's own settings (SLUICE_GATEWAY_*), forwarding to this process's services.
        let gateway = sluice_gateway::GatewayConfig {
            orchestrator_url: local(orchestrator_addr),
            vectorizer_url: local(vectorizer_addr),
            ..sluice_gateway::GatewayConfig::from_env()?
        };

        let shutdown = CancellationToken::new();
        let mut cluster = Cluster {
            orchestrator_addr,
            orchestrator_internal_addr,
            connectors_addr,
            transformer_addr: transformer_listener.local_addr()?,
            loader_addr: loader_listener.local_addr()?,
            vectorizer_addr,
            gateway_addr: gateway_listener.local_addr()?,
            shutdown: shutdown.clone(),
            tasks: Vec::new(),
        };
        // The orchestrator applies migrations; the workers wait for it by applying them too
        // (under the same advisory lock, so they simply find them done).
        cluster.tasks.push((
            "orchestrator",
            tokio::spawn(sluice_orchestrator::run(
                orchestrator,
                orchestrator_listener,
                internal_listener,
                shutdown.clone(),
            )),
        ));
        cluster.tasks.push((
            "connectors",
            tokio::spawn(sluice_connectors::run(
                connectors,
                connectors_listener,
                shutdown.clone(),
            )),
        ));
        cluster.tasks.push((
            "transformer",
            tokio::spawn(sluice_transformer::run(
                sluice_transformer::TransformerConfig {
                    common: common.clone(),
                },
                transformer_listener,
                shutdown.clone(),
            )),
        ));
        cluster.tasks.push((
            "loader",
            tokio::spawn(sluice_loader::run(
                sluice_loader::LoaderConfig {
                    common: common.clone(),
                    vectorize,
                    // Its own settings (SLUICE_LOAD_BATCH_*, SLUICE_LOADER_CONSUMERS).
                    ..loader_settings
                },
                loader_listener,
                shutdown.clone(),
            )),
        ));
        cluster.tasks.push((
            "vectorizer",
            tokio::spawn(sluice_vectorizer::run(
                sluice_vectorizer::VectorizerConfig {
                    common,
                    consume: vectorize,
                    ..vectorizer_settings
                },
                vectorizer_listener,
                shutdown.clone(),
            )),
        ));
        cluster.tasks.push((
            "gateway",
            tokio::spawn(sluice_gateway::run(
                gateway,
                gateway_listener,
                shutdown.clone(),
            )),
        ));
        Ok(cluster)
    }

    /// Waits until the first service stops (an error, or shutdown), then stops the rest.
    pub async fn wait(self) -> anyhow::Result<()> {
        let (names, handles): (Vec<_>, Vec<_>) = self.tasks.into_iter().unzip();
        let (result, index, rest) = futures_util::future::select_all(handles).await;
        self.shutdown.cancel();
        for handle in rest {
            let _ = handle.await;
        }
        match result {
            Ok(Ok(())) => Ok(()),
            Ok(Err(error)) => Err(error.context(format!("{} stopped", names[index]))),
            Err(join) => Err(anyhow::anyhow!("{} crashed: {join}", names[index])),
        }
    }

    /// Stops every service and waits for them.
    pub async fn stop(self) {
        self.shutdown.cancel();
        for (_, handle) in self.tasks {
            let _ = handle.await;
        }
    }
}
