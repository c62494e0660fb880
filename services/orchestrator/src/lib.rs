//! The orchestrator: integrations, jobs and runs over gRPC; publishes ExtractRequests on
//! `etl.extract`; receives worker progress and decides when a run is done.

mod api;
mod catalog;
mod catalog_items;
mod convert;
mod custom_fields;
mod error;
mod events;
mod integrations;
mod jobs;
pub mod notifications;
mod queues;
mod reprocess;
mod runs;
pub mod scheduler;

use std::sync::Arc;
use std::time::Duration;

use sluice_plumbing::CommonConfig;
use sluice_plumbing::amqp::ReconnectingPublisher;
use sluice_plumbing::config::{env_parse, env_string};
use sluice_plumbing::crypto::CredentialCipher;
use sluice_proto::v1 as pb;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub use api::Orchestrator;
pub use error::OrchestratorError;
pub use notifications::NotifyConfig;
pub use scheduler::SchedulerConfig;

#[derive(Clone, Debug)]
pub struct OrchestratorConfig {
    pub common: CommonConfig,
    /// Key for credentials at rest (`SLUICE_CREDENTIALS_KEY`).
    pub cipher: CredentialCipher,
    /// How often running runs are checked for completion, in case a report was lost.
    pub settle_interval: Duration,
    /// The scheduler (`SLUICE_SCHEDULER=off` disables it: jobs then run only by RunJob).
    pub scheduler: Option<SchedulerConfig>,
    /// RabbitMQ management API for queue statistics (`SLUICE_RABBITMQ_MANAGEMENT_URL`).
    pub management_url: String,
    /// Job events buffered for WatchJobs subscribers (`SLUICE_WATCH_BUFFER`, default 4096);
    /// a subscriber further behind is sent the current state instead.
    pub watch_buffer: usize,
    /// Source base URLs: https only, plain http only to loopback unless
    /// `SLUICE_ALLOW_INSECURE_SOURCES=on` (credentials would cross the network unencrypted).
    pub source_urls: sluice_plumbing::origin::SourceUrlPolicy,
    /// Delivery of notifications to the tenants' channels (`SLUICE_NOTIFY_*`); channel URLs
    /// follow `source_urls`.
    pub notify: NotifyConfig,
}

impl OrchestratorConfig {
    pub fn from_env() -> anyhow::Result<Self> {
        Ok(OrchestratorConfig {
            common: CommonConfig::from_env()?,
            cipher: CredentialCipher::from_env()?,
            settle_interval: Duration::from_secs(1),
            scheduler: scheduler_from_env()?,
            management_url: env_string("SLUICE_RABBITMQ_MANAGEMENT_URL")
                .unwrap_or_else(|| "http://127.0.0.1:15672".into()),
            watch_buffer: env_parse("SLUICE_WATCH_BUFFER", 4096, |v| *v > 0)?,
            source_urls: sluice_plumbing::origin::SourceUrlPolicy {
                allow_insecure_http: sluice_plumbing::config::env_flag(
                    "SLUICE_ALLOW_INSECURE_SOURCES",
                    false,
                )?,
            },
            notify: NotifyConfig::from_env()?,
        })
    }
}

fn scheduler_from_env() -> anyhow::Result<Option<SchedulerConfig>> {
    if !sluice_plumbing::config::env_flag("SLUICE_SCHEDULER", true)? {
        return Ok(None);
    }
    let defaults = SchedulerConfig::default();
    Ok(Some(SchedulerConfig {
        tick: Duration::from_millis(env_parse(
            "SLUICE_SCHEDULER_TICK_MS",
            defaults.tick.as_millis() as u64,
            |v| *v >= 10,
        )?),
        max_concurrent_runs: env_parse(
            "SLUICE_MAX_CONCURRENT_RUNS",
            defaults.max_concurrent_runs,
            |v| *v > 0,
        )?,
        run_lease: Duration::from_secs(env_parse(
            "SLUICE_RUN_LEASE_SECS",
            defaults.run_lease.as_secs(),
            |v| *v > 0,
        )?),
    }))
}

/// Runs the orchestrator until `shutdown` is cancelled: the public API on `listener`, the
/// internal ProgressService (workers only, with the internal token) on `internal_listener`.
/// Applies migrations first.
pub async fn run(
    config: OrchestratorConfig,
    listener: TcpListener,
    internal_listener: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let internal = config.common.internal_auth()?;
    // The management API client is HTTPS-capable; idempotent.
    sluice_plumbing::install_crypto_provider();
    let pool = sluice_plumbing::db::connect(&config.common).await?;
    sluice_plumbing::db::migrate(&pool).await?;
    let topology = config.common.topology();
    let publisher = Arc::new(ReconnectingPublisher::new(
        &config.common.amqp_url,
        topology,
        config.common.connect_timeout,
    ));
    let connectors = pb::connector_service_client::ConnectorServiceClient::with_interceptor(
        sluice_plumbing::grpc::lazy_channel(&config.common.connectors_url)?,
        internal.client(),
    );
    let events = events::JobEvents::new(config.watch_buffer, shutdown.clone());
    let state = Orchestrator {
        pool: pool.clone(),
        cipher: config.cipher.clone(),
        publisher: publisher.clone(),
        connectors,
        events: events.clone(),
        management: queues::Management::new(&config.management_url, &config.common.amqp_url),
        source_urls: config.source_urls,
    };
    let mut background = vec![
        tokio::spawn(runs::settle_loop(
            pool.clone(),
            config.settle_interval,
            shutdown.clone(),
        )),
        tokio::spawn(events.listen(pool.clone(), shutdown.clone())),
        tokio::spawn(queues::record_loop(
            config.common.clone(),
            pool.clone(),
            shutdown.clone(),
        )),
        tokio::spawn(notifications::dispatch_loop(
            pool.clone(),
            config.cipher.clone(),
            config.notify.clone(),
            shutdown.clone(),
        )),
    ];
    if let Some(scheduler) = config.scheduler.clone() {
        background.push(tokio::spawn(scheduler::scheduler_loop(
            pool,
            publisher,
            scheduler,
            shutdown.clone(),
        )));
    }
    let routes = tonic::service::Routes::new(
        pb::integration_service_server::IntegrationServiceServer::new(state.clone()),
    )
    .add_service(pb::job_service_server::JobServiceServer::new(state.clone()))
    .add_service(pb::catalog_service_server::CatalogServiceServer::new(
        state.clone(),
    ))
    .add_service(pb::queue_service_server::QueueServiceServer::new(
        state.clone(),
    ))
    .add_service(pb::custom_field_service_server::CustomFieldServiceServer::new(state.clone()))
    .add_service(pb::account_service_server::AccountServiceServer::new(
        state.clone(),
    ))
    .add_service(pb::notification_service_server::NotificationServiceServer::new(state.clone()));
    let internal_routes = tonic::service::Routes::new(
        pb::progress_service_server::ProgressServiceServer::with_interceptor(
            state,
            internal.server(),
        ),
    );
    tracing::info!(addr = %listener.local_addr()?, internal_addr = %internal_listener.local_addr()?, "orchestrator listening");
    let public = sluice_plumbing::grpc::serve(
        listener,
        routes,
        &[
            "sluice.v1.IntegrationService",
            "sluice.v1.JobService",
            "sluice.v1.CatalogService",
            "sluice.v1.CustomFieldService",
            "sluice.v1.QueueService",
            "sluice.v1.AccountService",
            "sluice.v1.NotificationService",
        ],
        shutdown.clone().cancelled_owned(),
    );
    let internal = sluice_plumbing::grpc::serve(
        internal_listener,
        internal_routes,
        &["sluice.v1.ProgressService"],
        shutdown.clone().cancelled_owned(),
    );
    let (public, internal) = tokio::join!(public, internal);
    public?;
    internal?;
    for task in background {
        let _ = task.await;
    }
    Ok(())
}
