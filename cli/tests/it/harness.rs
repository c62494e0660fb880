//! Test harness: real PostgreSQL and RabbitMQ (they must be running: `deploy/test.sh` starts
//! them), every service in-process on ephemeral ports, the Jira simulator, and a fresh tenant
//! and queue namespace per test so tests run in parallel without seeing each other.

use std::io::Write;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use sluice::cluster::{Addresses, Cluster};
use sluice_connectors::{ConnectorsConfig, IssueFetch, RetryPolicy};
use sluice_orchestrator::OrchestratorConfig;
use sluice_plumbing::CommonConfig;
use sluice_plumbing::crypto::CredentialCipher;
use sluice_proto::v1 as pb;
use sluice_proto::v1::catalog_service_client::CatalogServiceClient;
use sluice_proto::v1::custom_field_service_client::CustomFieldServiceClient;
use sluice_proto::v1::integration_service_client::IntegrationServiceClient;
use sluice_proto::v1::job_service_client::JobServiceClient;
use sluice_simulator::{Dataset, SimAuth, Simulator, SimulatorConfig};
use sqlx::PgPool;
use tonic::transport::Channel;
use uuid::Uuid;

pub const TEST_EMAIL: &str = "bot@example.com";

/// Every log line any test's services wrote (one subscriber per process).
static LOGS: Mutex<Vec<u8>> = Mutex::new(Vec::new());

struct CaptureWriter;

impl Write for CaptureWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        LOGS.lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

pub fn captured_logs() -> String {
    String::from_utf8_lossy(&LOGS.lock().unwrap_or_else(|e| e.into_inner())).into_owned()
}

fn init_once() {
    static INIT: OnceLock<()> = OnceLock::new();
    INIT.get_or_init(|| {
        sluice_plumbing::install_crypto_provider();
        // The vectorizer's model: where deploy/setup-model.sh puts it, unless told otherwise.
        if std::env::var_os("SLUICE_MODEL_DIR").is_none() {
            let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("..")
                .join(sluice_vectorizer::embed::DEFAULT_MODEL_DIR);
            // SAFETY: set once, before any test starts a service or reads the environment.
            unsafe { std::env::set_var("SLUICE_MODEL_DIR", dir) };
        }
        // Debug everywhere, so a secret in any crate's log line would be caught.
        let guard = sluice_plumbing::telemetry::init_with_writer(
            "sluice-tests",
            || CaptureWriter,
            false,
            "debug",
        )
        .expect("telemetry");
        std::mem::forget(guard);
    });
}

pub fn database_url() -> String {
    std::env::var("SLUICE_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://sluice:sluice@127.0.0.1:5432/sluice_test".into())
}

/// The test database URL with another database name.
fn database_url_for(name: &str) -> String {
    let base = database_url();
    let (server, query) = match base.split_once('?') {
        Some((server, query)) => (server.to_string(), format!("?{query}")),
        None => (base.clone(), String::new()),
    };
    let server = server.rsplit_once('/').map(|(s, _)| s).unwrap_or(&server);
    format!("{server}/{name}{query}")
}

async fn admin_pool() -> PgPool {
    sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect(&database_url())
        .await
        .unwrap_or_else(|e| {
            panic!("PostgreSQL is required for these tests and is not reachable ({e}); run deploy/test.sh, which starts it")
        })
}

async fn create_database() -> String {
    let name = format!("sluice_test_{}", Uuid::new_v4().simple());
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
        .execute(&admin_pool().await)
        .await
        .unwrap_or_else(|e| panic!("creating a database for this test ({e}); deploy/stack.sh lets the sluice role create databases"));
    name
}

async fn drop_database(name: &str) {
    let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
    )))
    .execute(&admin_pool().await)
    .await;
}

pub fn amqp_url() -> String {
    std::env::var("SLUICE_TEST_AMQP_URL")
        .unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".into())
}

/// A running stack for one test.
pub struct TestEnv {
    /// The services' common settings (database, queues with this test's prefix, orchestrator).
    pub common: CommonConfig,
    pub cluster: Cluster,
    pub simulator: Simulator,
    pub pool: PgPool,
    pub key: String,
    pub tenant_id: Uuid,
    pub api_token: String,
    pub queue_prefix: String,
    /// The test's queues (its prefix and retry tiers).
    pub topology: sluice_plumbing::amqp::Topology,
    /// The throwaway database, dropped by `stop`.
    own_database: Option<String>,
    channel: Channel,
}

pub struct Options {
    pub dataset: Dataset,
    pub retry: RetryPolicy,
    pub issue_fetch: IssueFetch,
    /// Off unless a test is about scheduling: the other tests trigger runs themselves.
    pub scheduler: Option<sluice_orchestrator::SchedulerConfig>,
    /// Delays of the queue retry tiers and how many retries before `etl.failed`.
    pub queue_retry_delays: Vec<Duration>,
    pub queue_max_retries: u32,
    /// Job events buffered for WatchJobs subscribers.
    pub watch_buffer: usize,
    /// A throwaway database for this test alone: the scheduler acts on every job of its
    /// database, so tests that drive it must not see the other tests' jobs.
    pub own_database: bool,
    /// Where the connectors' pacing of a Jira site starts (requests per second).
    pub jira_initial_rate: u32,
    /// Embed loaded work items (the local model's CPU is spent only by the tests about it).
    pub vectorize: bool,
    /// Serve the Jira simulator over HTTPS with this private CA's certificate; the
    /// connectors trust the CA (as `SLUICE_HTTP_EXTRA_CA_FILE` makes them).
    pub https: Option<sluice_simulator::PrivateCa>,
    /// The notification dispatcher: quick polls and short retries, so a test sees a
    /// delivery's retries in moments.
    pub notify: sluice_orchestrator::NotifyConfig,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            dataset: Dataset::fixtures(),
            retry: RetryPolicy {
                max_attempts: 3,
                base_delay: Duration::from_millis(20),
                max_retry_after: Duration::from_secs(5),
                max_throttled: 30,
            },
            issue_fetch: IssueFetch::default(),
            scheduler: None,
            queue_retry_delays: vec![Duration::from_millis(100), Duration::from_millis(300)],
            queue_max_retries: 3,
            watch_buffer: 4096,
            own_database: false,
            jira_initial_rate: 20,
            vectorize: false,
            https: None,
            notify: sluice_orchestrator::NotifyConfig {
                max_attempts: 3,
                retry_base: Duration::from_millis(200),
                poll_interval: Duration::from_millis(100),
                ..Default::default()
            },
        }
    }
}

impl TestEnv {
    pub async fn start(options: Options) -> TestEnv {
        init_once();
        let queue_prefix = format!("test-{}.", Uuid::new_v4().simple());
        let own_database = if options.own_database {
            Some(create_database().await)
        } else {
            None
        };
        let common = CommonConfig {
            database_url: match &own_database {
                Some(name) => database_url_for(name),
                None => database_url(),
            },
            amqp_url: amqp_url(),
            queue_prefix: queue_prefix.clone(),
            connect_timeout: Duration::from_secs(5),
            db_max_connections: 5,
            retry_delays: options.queue_retry_delays.clone(),
            max_retries: options.queue_max_retries,
            internal_token: sluice_plumbing::internal::InternalAuth::generate_token(),
            ..CommonConfig::default()
        };
        let pool = sluice_plumbing::db::connect(&common).await.unwrap_or_else(|e| {
            panic!("PostgreSQL is required for these tests and is not reachable ({e}); run deploy/test.sh, which starts it")
        });
        sluice_plumbing::db::migrate(&pool)
            .await
            .expect("migrations");
        sluice_plumbing::amqp::connect(&common.amqp_url, Duration::from_secs(5))
            .await
            .unwrap_or_else(|e| panic!("RabbitMQ is required for these tests and is not reachable ({e}); run deploy/test.sh"));

        let api_token = format!("tok-{}", Uuid::new_v4().simple());
        let simulator_config = SimulatorConfig {
            dataset: options.dataset,
            auth: SimAuth::Basic {
                email: TEST_EMAIL.into(),
                api_token: api_token.clone(),
            },
            max_page_size: sluice_simulator::DEFAULT_MAX_PAGE_SIZE,
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind simulator");
        let (simulator, extra_ca) = match &options.https {
            Some(ca) => (
                Simulator::start_tls(simulator_config, listener, ca).await,
                reqwest::Certificate::from_pem_bundle(ca.ca_pem.as_bytes()).expect("CA PEM"),
            ),
            None => (
                Simulator::start(simulator_config, listener).await,
                Vec::new(),
            ),
        };
        let simulator = simulator.expect("simulator");

        let topology = common.topology();
        let cipher = CredentialCipher::from_base64(&CredentialCipher::generate_key()).expect("key");
        let orchestrator = OrchestratorConfig {
            common: common.clone(),
            cipher: cipher.clone(),
            settle_interval: Duration::from_millis(500),
            scheduler: options.scheduler.clone(),
            management_url: "http://127.0.0.1:15672".into(),
            watch_buffer: options.watch_buffer,
            source_urls: Default::default(),
            notify: options.notify,
        };
        let connectors = ConnectorsConfig {
            common: common.clone(),
            cipher,
            retry: options.retry,
            http_timeout: Duration::from_secs(10),
            issue_fetch: options.issue_fetch,
            jira_requests_per_second: 0,
            jira_initial_requests_per_second: options.jira_initial_rate,
            extra_ca,
        };
        let cluster = Cluster::start(
            orchestrator,
            connectors,
            &Addresses::ephemeral(),
            options.vectorize,
        )
        .await
        .expect("cluster");
        let issued = sluice_plumbing::auth::bootstrap_tenant(
            &pool,
            &format!("tenant-{}", Uuid::new_v4()),
            "test",
        )
        .await
        .expect("tenant");
        let channel = Channel::from_shared(format!("http://{}", cluster.orchestrator_addr))
            .expect("url")
            .connect_lazy();
        let common = CommonConfig {
            progress_url: format!("http://{}", cluster.orchestrator_internal_addr),
            ..common
        };
        TestEnv {
            common,
            cluster,
            simulator,
            pool,
            key: issued.key,
            tenant_id: issued.tenant_id,
            api_token,
            queue_prefix,
            topology,
            own_database,
            channel,
        }
    }

    pub fn orchestrator_target(&self) -> String {
        format!("127.0.0.1:{}", self.cluster.orchestrator_addr.port())
    }

    pub fn integrations(&self) -> IntegrationServiceClient<Channel> {
        IntegrationServiceClient::new(self.channel.clone())
    }

    pub fn jobs(&self) -> JobServiceClient<Channel> {
        JobServiceClient::new(self.channel.clone())
    }

    pub fn catalog(&self) -> CatalogServiceClient<Channel> {
        CatalogServiceClient::new(self.channel.clone())
    }

    /// SearchService of this test's vectorizer.
    pub fn search(&self) -> sluice_proto::v1::search_service_client::SearchServiceClient<Channel> {
        let channel = Channel::from_shared(format!(
            "http://127.0.0.1:{}",
            self.cluster.vectorizer_addr.port()
        ))
        .expect("url")
        .connect_lazy();
        sluice_proto::v1::search_service_client::SearchServiceClient::new(channel)
    }

    pub fn queues(&self) -> sluice_proto::v1::queue_service_client::QueueServiceClient<Channel> {
        sluice_proto::v1::queue_service_client::QueueServiceClient::new(self.channel.clone())
    }

    /// This tenant's dead letters, once at least `count` are recorded (10 s at most).
    pub async fn wait_for_dead_letters(&self, count: usize) -> Vec<pb::DeadLetter> {
        let mut listed = Vec::new();
        for _ in 0..100 {
            listed = self
                .queues()
                .list_dead_letters(self.authed(pb::ListDeadLettersRequest { limit: 0 }))
                .await
                .expect("ListDeadLetters")
                .into_inner()
                .dead_letters;
            if listed.len() >= count {
                return listed;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{count} dead letters expected within 10 s, found {listed:?}");
    }

    /// A request carrying this test's API key.
    pub fn authed<T>(&self, message: T) -> tonic::Request<T> {
        with_key(&self.key, message)
    }

    /// Creates a Jira integration on the simulator and a metadata-only jira_sync job for it;
    /// returns (integration id, jira_sync job id).
    pub async fn create_jira_integration(&self, name: &str) -> (String, String) {
        let (integration_id, _) = self.create_jira_integration_with_jobs(name).await;
        let job = self
            .jobs()
            .create_job(self.authed(pb::CreateJobRequest {
                integration_id: integration_id.clone(),
                job_type: pb::JobType::JiraSync as i32,
                ..Default::default()
            }))
            .await
            .expect("create jira_sync job")
            .into_inner()
            .job
            .expect("job");
        (integration_id, job.id)
    }

    /// Creates a Jira integration on the simulator; returns (integration id, default job ids).
    pub async fn create_jira_integration_with_jobs(&self, name: &str) -> (String, Vec<String>) {
        self.create_jira_integration_at(name, &self.simulator.base_url())
            .await
    }

    /// Creates a Jira integration on a site at `base_url` that takes this environment's
    /// credentials; returns (integration id, default job ids).
    pub async fn create_jira_integration_at(
        &self,
        name: &str,
        base_url: &str,
    ) -> (String, Vec<String>) {
        let response = self
            .integrations()
            .create_integration(self.authed(pb::CreateIntegrationRequest {
                r#type: pb::IntegrationType::Jira as i32,
                name: name.into(),
                base_url: base_url.into(),
                credentials: Some(pb::Credentials {
                    kind: Some(pb::credentials::Kind::Basic(pb::BasicAuth {
                        email: TEST_EMAIL.into(),
                        api_token: self.api_token.clone(),
                    })),
                }),
                settings: None,
            }))
            .await
            .expect("create integration")
            .into_inner();
        let integration = response.integration.expect("integration");
        (integration.id, response.job_ids)
    }

    /// The id of the integration's job of this type.
    pub async fn job_of_type(&self, integration_id: &str, job_type: pb::JobType) -> String {
        self.jobs()
            .list_jobs(self.authed(pb::ListJobsRequest {
                integration_id: integration_id.into(),
                page: None,
            }))
            .await
            .expect("list jobs")
            .into_inner()
            .jobs
            .into_iter()
            .find(|j| j.job_type == job_type as i32)
            .unwrap_or_else(|| panic!("integration has a {job_type:?} job"))
            .id
    }

    pub fn custom_fields(&self) -> CustomFieldServiceClient<Channel> {
        CustomFieldServiceClient::new(self.channel.clone())
    }

    /// A publisher on this test's queues (to inject messages as a worker would); keep the
    /// connection alive as long as the publisher is used.
    pub async fn publisher(&self) -> (lapin::Connection, sluice_plumbing::amqp::Publisher) {
        let connection = sluice_plumbing::amqp::connect(&amqp_url(), Duration::from_secs(5))
            .await
            .expect("amqp");
        let publisher = sluice_plumbing::amqp::Publisher::open(&connection, self.topology.clone())
            .await
            .expect("publisher");
        (connection, publisher)
    }

    /// Runs the job and waits until its run ends; returns the final run.
    pub async fn run_and_wait(&self, job_id: &str) -> pb::JobRun {
        let run_id = self.start_run(job_id).await;
        self.wait_for_run(&run_id).await
    }

    /// Runs the job; returns the run's id.
    pub async fn start_run(&self, job_id: &str) -> String {
        let run = self
            .jobs()
            .run_job(self.authed(pb::RunJobRequest { id: job_id.into() }))
            .await
            .expect("run job")
            .into_inner()
            .run
            .expect("run");
        assert_eq!(run.status, pb::RunStatus::Running as i32);
        run.id
    }

    /// The run as the API shows it now.
    pub async fn get_run(&self, run_id: &str) -> pb::JobRun {
        self.jobs()
            .get_job_run(self.authed(pb::GetJobRunRequest { id: run_id.into() }))
            .await
            .expect("get run")
            .into_inner()
            .run
            .expect("run")
    }

    pub async fn wait_for_run(&self, run_id: &str) -> pb::JobRun {
        self.wait_for_run_within(run_id, Duration::from_secs(30))
            .await
    }

    /// Waits until the run ends; panics naming its last counts when `limit` passes.
    pub async fn wait_for_run_within(&self, run_id: &str, limit: Duration) -> pb::JobRun {
        let started = std::time::Instant::now();
        loop {
            let run = self.get_run(run_id).await;
            if run.status != pb::RunStatus::Running as i32 {
                return run;
            }
            if started.elapsed() > limit {
                panic!(
                    "run {run_id} did not end within {limit:?}: step {} ({}), counts {:?}",
                    run.step, run.step_name, run.counts
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Rows of a table for one integration, as JSON, in key order (for exact comparisons).
    pub async fn table_rows(&self, table: &str, integration_id: &str) -> Vec<serde_json::Value> {
        let id = Uuid::parse_str(integration_id).expect("uuid");
        sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT to_jsonb(t) FROM {table} t WHERE integration_id = $1 ORDER BY to_jsonb(t)::text"
        )))
        .bind(id)
        .fetch_all(&self.pool)
        .await
        .expect("table rows")
    }

    pub async fn count(&self, table: &str, integration_id: &str) -> usize {
        self.table_rows(table, integration_id).await.len()
    }

    pub async fn stop(self) {
        self.simulator.shutdown();
        self.cluster.stop().await;
        delete_queues(&self.topology).await;
        if let Some(name) = &self.own_database {
            self.pool.close().await;
            drop_database(name).await;
        }
    }
}

pub use sluice_plumbing::auth::with_api_key as with_key;

/// Removes a test's queues so the broker does not accumulate them.
async fn delete_queues(topology: &sluice_plumbing::amqp::Topology) {
    if let Ok(connection) =
        sluice_plumbing::amqp::connect(&amqp_url(), Duration::from_secs(5)).await
        && let Ok(channel) = connection.create_channel().await
    {
        let _ = topology.remove(&channel).await;
    }
}
