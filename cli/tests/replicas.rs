//! Horizontal scaling and crash safety with real processes: transformer and loader replicas
//! run as separate `sluice` processes sharing one run; they are killed with SIGKILL, stopped
//! with SIGTERM, and RabbitMQ itself is restarted mid-run. Every run must end COMPLETED with
//! exactly the rows of an undisturbed run.
//!
//! The orchestrator and connectors run in this process (on their own queue prefix); the
//! simulator serves a generated dataset with a latency per request so runs last long enough
//! to be disturbed. Restarting RabbitMQ needs `rabbitmqctl` (the Debian package's, as root).

use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use sluice_connectors::ConnectorsConfig;
use sluice_orchestrator::OrchestratorConfig;
use sluice_plumbing::CommonConfig;
use sluice_plumbing::crypto::CredentialCipher;
use sluice_proto::v1 as pb;
use sluice_proto::v1::integration_service_client::IntegrationServiceClient;
use sluice_proto::v1::job_service_client::JobServiceClient;
use sluice_simulator::{Dataset, Fault, FaultKind, IssueSpec, SimAuth, Simulator, SimulatorConfig};
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;
use tonic::transport::Channel;
use uuid::Uuid;

const EMAIL: &str = "replicas@example.com";
const TOKEN: &str = "replicas-token";

fn database_url() -> String {
    std::env::var("SLUICE_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://sluice:sluice@127.0.0.1:5432/sluice_test".into())
}

fn amqp_url() -> String {
    std::env::var("SLUICE_TEST_AMQP_URL")
        .unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".into())
}

struct Replica {
    kind: &'static str,
    child: Child,
}

struct Stack {
    pool: PgPool,
    simulator: Simulator,
    common: CommonConfig,
    shutdown: CancellationToken,
    tasks: Vec<tokio::task::JoinHandle<anyhow::Result<()>>>,
    channel: Channel,
    key: String,
    replicas: Vec<Replica>,
    log_dir: std::path::PathBuf,
}

impl Stack {
    async fn launch(dataset: Dataset, latency_ms: u64) -> Stack {
        sluice_plumbing::install_crypto_provider();
        let prefix = format!("replicas-{}.", Uuid::new_v4().simple());
        let common = CommonConfig {
            database_url: database_url(),
            amqp_url: amqp_url(),
            queue_prefix: prefix,
            connect_timeout: Duration::from_secs(10),
            retry_delays: vec![Duration::from_millis(200), Duration::from_millis(500)],
            max_retries: 5,
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
            .unwrap_or_else(|e| {
                panic!("RabbitMQ is required for these tests and is not reachable ({e}); run deploy/test.sh")
            });
        let simulator = Simulator::start(
            SimulatorConfig {
                dataset,
                auth: SimAuth::Basic {
                    email: EMAIL.into(),
                    api_token: TOKEN.into(),
                },
                max_page_size: sluice_simulator::DEFAULT_MAX_PAGE_SIZE,
            },
            tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind"),
        )
        .await
        .expect("simulator");
        for endpoint in [
            "GET /rest/api/3/search/jql",
            "POST /rest/api/3/changelog/bulkfetch",
            "GET /rest/dev-status/latest/issue/summary",
            "GET /rest/dev-status/latest/issue/detail",
        ] {
            simulator.add_fault(Fault {
                endpoint: endpoint.into(),
                kind: FaultKind::Latency { millis: latency_ms },
                times: u32::MAX,
            });
        }

        let shutdown = CancellationToken::new();
        let cipher = CredentialCipher::from_base64(&CredentialCipher::generate_key()).expect("key");
        let orchestrator_listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let internal_listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let connectors_listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let orchestrator_url = format!("http://{}", orchestrator_listener.local_addr().unwrap());
        let progress_url = format!("http://{}", internal_listener.local_addr().unwrap());
        let connectors_url = format!("http://{}", connectors_listener.local_addr().unwrap());
        let common = CommonConfig {
            progress_url,
            connectors_url,
            internal_token: sluice_plumbing::internal::InternalAuth::generate_token(),
            ..common
        };
        let orchestrator = OrchestratorConfig {
            common: common.clone(),
            cipher: cipher.clone(),
            settle_interval: Duration::from_millis(500),
            scheduler: None,
            management_url: "http://127.0.0.1:15672".into(),
            watch_buffer: 4096,
            source_urls: Default::default(),
            notify: Default::default(),
        };
        let connectors = ConnectorsConfig {
            common: common.clone(),
            cipher,
            retry: sluice_connectors::RetryPolicy {
                max_attempts: 3,
                base_delay: Duration::from_millis(50),
                max_retry_after: Duration::from_secs(5),
                max_throttled: 30,
            },
            http_timeout: Duration::from_secs(20),
            issue_fetch: Default::default(),
            jira_requests_per_second: 0,
            jira_initial_requests_per_second: 20,
            extra_ca: Vec::new(),
        };
        let tasks = vec![
            tokio::spawn(sluice_orchestrator::run(
                orchestrator,
                orchestrator_listener,
                internal_listener,
                shutdown.clone(),
            )),
            tokio::spawn(sluice_connectors::run(
                connectors,
                connectors_listener,
                shutdown.clone(),
            )),
        ];
        let issued = sluice_plumbing::auth::bootstrap_tenant(
            &pool,
            &format!("replicas-{}", Uuid::new_v4()),
            "t",
        )
        .await
        .expect("tenant");
        let channel = Channel::from_shared(orchestrator_url.clone())
            .expect("url")
            .connect_lazy();
        let log_dir =
            std::env::temp_dir().join(format!("sluice-replicas-{}", Uuid::new_v4().simple()));
        std::fs::create_dir_all(&log_dir).expect("log dir");
        Stack {
            pool,
            simulator,
            common,
            shutdown,
            tasks,
            channel,
            key: issued.key,
            replicas: Vec::new(),
            log_dir,
        }
    }

    /// Starts a `sluice transformer` or `sluice loader` process: one consumer, a small
    /// prefetch, so that every replica takes a share.
    fn spawn(&mut self, kind: &'static str) -> usize {
        let index = self.replicas.len();
        let log = std::fs::File::create(self.log_dir.join(format!("{kind}-{index}.log")))
            .expect("log file");
        let child = Command::new(env!("CARGO_BIN_EXE_sluice"))
            .arg(kind)
            .env("SLUICE_DATABASE_URL", &self.common.database_url)
            .env("SLUICE_AMQP_URL", &self.common.amqp_url)
            .env("SLUICE_QUEUE_PREFIX", &self.common.queue_prefix)
            .env("SLUICE_PROGRESS_URL", &self.common.progress_url)
            .env("SLUICE_INTERNAL_TOKEN", &self.common.internal_token)
            .env("SLUICE_TRANSFORMER_ADDR", "127.0.0.1:0")
            .env("SLUICE_LOADER_ADDR", "127.0.0.1:0")
            .env("SLUICE_CONSUMERS", "1")
            .env("SLUICE_LOADER_CONSUMERS", "1")
            .env("SLUICE_PREFETCH", "2")
            .env("SLUICE_LOAD_BATCH_PAGES", "2")
            .env("SLUICE_RETRY_DELAYS_MS", "200,500")
            .env("SLUICE_MAX_RETRIES", "5")
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("starting sluice {kind}: {e}"));
        self.replicas.push(Replica { kind, child });
        index
    }

    fn kill(&mut self, index: usize) {
        let replica = &mut self.replicas[index];
        replica.child.kill().expect("SIGKILL");
        replica.child.wait().expect("reaped");
    }

    /// SIGTERM, then the exit status (within `within`).
    fn terminate(&mut self, index: usize, within: Duration) -> ExitStatus {
        let replica = &mut self.replicas[index];
        let status = Command::new("kill")
            .args(["-TERM", &replica.child.id().to_string()])
            .status()
            .expect("kill -TERM");
        assert!(status.success());
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = replica.child.try_wait().expect("try_wait") {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "sluice {} did not exit within {within:?} of SIGTERM",
                replica.kind
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits until every replica's consumer is attached to its queue.
    async fn wait_for_consumers(&self, transformers: u32, loaders: u32) {
        let publisher = sluice_plumbing::amqp::ReconnectingPublisher::new(
            &self.common.amqp_url,
            self.common.topology(),
            Duration::from_secs(5),
        );
        let topology = self.common.topology();
        for _ in 0..300 {
            let t = publisher
                .queue_counts(&topology.transform())
                .await
                .ok()
                .flatten();
            let l = publisher
                .queue_counts(&topology.load())
                .await
                .ok()
                .flatten();
            if t.is_some_and(|(_, c)| c >= transformers) && l.is_some_and(|(_, c)| c >= loaders) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "replicas did not attach to their queues within 30 s (logs in {:?})",
            self.log_dir
        );
    }

    fn authed<T>(&self, message: T) -> tonic::Request<T> {
        sluice_plumbing::auth::with_api_key(&self.key, message)
    }

    fn jobs(&self) -> JobServiceClient<Channel> {
        JobServiceClient::new(self.channel.clone())
    }

    /// A Jira integration on the simulator; returns (integration id, issues job id) after its
    /// discovery job completed.
    async fn integration(&self, name: &str) -> (String, String) {
        let response = IntegrationServiceClient::new(self.channel.clone())
            .create_integration(self.authed(pb::CreateIntegrationRequest {
                r#type: pb::IntegrationType::Jira as i32,
                name: name.into(),
                base_url: self.simulator.base_url(),
                credentials: Some(pb::Credentials {
                    kind: Some(pb::credentials::Kind::Basic(pb::BasicAuth {
                        email: EMAIL.into(),
                        api_token: TOKEN.into(),
                    })),
                }),
                settings: None,
            }))
            .await
            .expect("create integration")
            .into_inner();
        let discovery = self.run_job(&response.job_ids[0]).await;
        let done = self.wait(&discovery).await;
        assert_eq!(
            done.status,
            pb::RunStatus::Completed as i32,
            "{}",
            done.error_message
        );
        (
            response.integration.expect("integration").id,
            response.job_ids[1].clone(),
        )
    }

    async fn run_job(&self, job_id: &str) -> String {
        self.jobs()
            .run_job(self.authed(pb::RunJobRequest { id: job_id.into() }))
            .await
            .expect("run job")
            .into_inner()
            .run
            .expect("run")
            .id
    }

    async fn run(&self, run_id: &str) -> pb::JobRun {
        self.jobs()
            .get_job_run(self.authed(pb::GetJobRunRequest { id: run_id.into() }))
            .await
            .expect("get run")
            .into_inner()
            .run
            .expect("run")
    }

    async fn wait(&self, run_id: &str) -> pb::JobRun {
        for _ in 0..1200 {
            let run = self.run(run_id).await;
            if run.status != pb::RunStatus::Running as i32 {
                return run;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "run {run_id} did not end within 120 s (replica logs in {:?})",
            self.log_dir
        );
    }

    /// Waits until the run has loaded at least `pages` pages, and is still running.
    async fn wait_until_loaded(&self, run_id: &str, pages: i64) {
        for _ in 0..600 {
            let loaded: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM run_batches WHERE run_id = $1::uuid AND loaded_at IS NOT NULL",
            )
            .bind(run_id)
            .fetch_one(&self.pool)
            .await
            .expect("loaded pages");
            if loaded >= pages {
                let run = self.run(run_id).await;
                assert_eq!(
                    run.status,
                    pb::RunStatus::Running as i32,
                    "the run ended before it could be disturbed: make the dataset bigger"
                );
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("run {run_id} loaded fewer than {pages} pages within 30 s");
    }

    /// Row counts an analyst would check, for one integration.
    async fn counts(&self, integration_id: &str) -> Counts {
        let count = |table: &'static str| {
            let pool = self.pool.clone();
            let integration_id = integration_id.to_string();
            async move {
                sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(format!(
                    "SELECT count(*) FROM {table} WHERE integration_id = $1::uuid"
                )))
                .bind(integration_id)
                .fetch_one(&pool)
                .await
                .expect("count")
            }
        };
        let distinct_keys: i64 = sqlx::query_scalar(
            "SELECT count(DISTINCT key) FROM work_items WHERE integration_id = $1::uuid",
        )
        .bind(integration_id)
        .fetch_one(&self.pool)
        .await
        .expect("distinct keys");
        Counts {
            work_items: count("work_items").await,
            distinct_keys,
            changelogs: count("work_item_changelogs").await,
            dev_status: count("work_item_dev_status").await,
        }
    }

    async fn stop(mut self) {
        for replica in &mut self.replicas {
            let _ = replica.child.kill();
            let _ = replica.child.wait();
        }
        self.shutdown.cancel();
        for task in self.tasks {
            let _ = task.await;
        }
        self.simulator.shutdown();
        if let Ok(connection) =
            sluice_plumbing::amqp::connect(&self.common.amqp_url, Duration::from_secs(5)).await
            && let Ok(channel) = connection.create_channel().await
        {
            let _ = self.common.topology().remove(&channel).await;
        }
        let _ = std::fs::remove_dir_all(&self.log_dir);
    }
}

#[derive(Debug, PartialEq, Eq)]
struct Counts {
    work_items: i64,
    distinct_keys: i64,
    changelogs: i64,
    dev_status: i64,
}

fn rabbitmqctl(command: &str) {
    let output = Command::new("rabbitmqctl")
        .arg(command)
        .output()
        .unwrap_or_else(|e| {
            panic!("rabbitmqctl is required to restart RabbitMQ in this test ({e}); deploy/stack.sh installs RabbitMQ")
        });
    assert!(
        output.status.success(),
        "rabbitmqctl {command}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn dataset() -> Dataset {
    Dataset::generated(6, 3, 4).with_issues(IssueSpec {
        issues_per_project: 200,
        seed: 21,
        custom_fields: 6,
        mean_histories: 4,
        long_changelog_every: 40,
        dev_status_every: 3,
    })
}

/// One scenario after another on one stack (RabbitMQ restarts must not overlap anything).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_share_runs_and_crashes_lose_nothing() {
    let dataset = dataset();
    let issues = dataset.issue_count() as i64;
    let mut stack = Stack::launch(dataset, 15).await;
    for kind in [
        "transformer",
        "transformer",
        "transformer",
        "loader",
        "loader",
    ] {
        stack.spawn(kind);
    }
    stack.wait_for_consumers(3, 2).await;

    // 1. Three transformers and two loaders share a run: exact rows, every replica worked.
    let (reference_id, reference_job) = stack.integration("reference").await;
    let run_id = stack.run_job(&reference_job).await;
    let run = stack.wait(&run_id).await;
    assert_eq!(
        run.status,
        pb::RunStatus::Completed as i32,
        "{}",
        run.error_message
    );
    let reference = stack.counts(&reference_id).await;
    assert_eq!(reference.work_items, issues);
    assert_eq!(reference.distinct_keys, issues, "no duplicates");
    assert!(
        reference.changelogs > issues && reference.dev_status > 0,
        "{reference:?}"
    );
    let (transformers, loaders): (i64, i64) = sqlx::query_as(
        "SELECT count(DISTINCT transformed_by), count(DISTINCT loaded_by) FROM run_batches
         WHERE run_id = $1::uuid",
    )
    .bind(&run_id)
    .fetch_one(&stack.pool)
    .await
    .expect("replica ids");
    assert_eq!(
        (transformers, loaders),
        (3, 2),
        "every replica did some work"
    );

    // 2. kill -9 a transformer and a loader mid-run, start replacements: same rows.
    let (killed_id, killed_job) = stack.integration("killed").await;
    let run_id = stack.run_job(&killed_job).await;
    stack.wait_until_loaded(&run_id, 3).await;
    stack.kill(0);
    stack.kill(3);
    stack.spawn("transformer");
    stack.spawn("loader");
    let run = stack.wait(&run_id).await;
    assert_eq!(
        run.status,
        pb::RunStatus::Completed as i32,
        "{}",
        run.error_message
    );
    assert_eq!(stack.counts(&killed_id).await, reference);

    // 3. SIGTERM a loader mid-run: it finishes or requeues what it holds and exits cleanly.
    let (terminated_id, terminated_job) = stack.integration("terminated").await;
    let run_id = stack.run_job(&terminated_job).await;
    stack.wait_until_loaded(&run_id, 3).await;
    let status = stack.terminate(4, Duration::from_secs(20));
    assert!(status.success(), "a SIGTERM'd loader exits 0, got {status}");
    let run = stack.wait(&run_id).await;
    assert_eq!(
        run.status,
        pb::RunStatus::Completed as i32,
        "{}",
        run.error_message
    );
    assert_eq!(stack.counts(&terminated_id).await, reference);

    // 4. Restart RabbitMQ mid-run: every service reconnects and the run completes.
    let (restarted_id, restarted_job) = stack.integration("restarted").await;
    let run_id = stack.run_job(&restarted_job).await;
    stack.wait_until_loaded(&run_id, 3).await;
    rabbitmqctl("stop_app");
    tokio::time::sleep(Duration::from_secs(2)).await;
    rabbitmqctl("start_app");
    let run = stack.wait(&run_id).await;
    assert_eq!(
        run.status,
        pb::RunStatus::Completed as i32,
        "{}",
        run.error_message
    );
    assert_eq!(stack.counts(&restarted_id).await, reference);
    stack.stop().await;
}
