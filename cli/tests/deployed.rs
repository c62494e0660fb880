//! Sluice as it is deployed (compose, Kubernetes): every service in its own process of the
//! real `sluice` binary, spans exported over OTLP to a real receiver (rotel, from PyPI) and
//! Prometheus metrics scraped from each service's port. A Jira sync (embedded by the
//! vectorizer) and a GitHub sync must each be one trace holding spans of all six services
//! with every parent present, and each service's counters must move by the numbers the runs
//! report and the tables hold.

mod processes;

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use processes::{
    ExportedSpan, Killed, Stack, exported_spans, free_ports, start_rotel, wait_for_port,
};
use sluice_plumbing::auth::with_api_key;
use sluice_proto::v1 as pb;
use sluice_proto::v1::integration_service_client::IntegrationServiceClient;
use sluice_proto::v1::job_service_client::JobServiceClient;
use sluice_simulator::{GithubDataset, GithubSimulator, GithubSimulatorConfig, GithubSpec};
use tonic::transport::Channel;
use uuid::Uuid;

const SERVICES: [&str; 6] = [
    "orchestrator",
    "connectors",
    "transformer",
    "loader",
    "vectorizer",
    "gateway",
];
const GITHUB_TOKEN: &str = "ghp_deployed_test_token";

/// The six services, each its own process, plus the Jira simulator and rotel.
struct Deployed {
    stack: Stack,
    /// Each service's gRPC (and /metrics) port.
    ports: BTreeMap<&'static str, u16>,
    rotel_log: std::path::PathBuf,
    jira_port: u16,
    _children: Killed,
}

impl Deployed {
    fn start(name: &str) -> Deployed {
        let mut stack = Stack::new(name);
        // Ports of the receiver and the simulator, none of the stack's.
        let (otlp, otlp_http, jira_port) = loop {
            let ports = free_ports(3);
            if !stack
                .env
                .iter()
                .any(|(_, v)| ports.iter().any(|p| v.ends_with(&format!(":{p}"))))
            {
                break (ports[0], ports[1], ports[2]);
            }
        };
        let port = |key: &str, stack: &Stack| -> u16 {
            stack
                .get(key)
                .and_then(|a| a.rsplit(':').next())
                .and_then(|p| p.parse().ok())
                .unwrap_or_else(|| panic!("{key} is set by the stack"))
        };
        let ports: BTreeMap<&'static str, u16> = [
            ("orchestrator", port("SLUICE_ORCHESTRATOR_ADDR", &stack)),
            ("connectors", port("SLUICE_CONNECTORS_ADDR", &stack)),
            ("transformer", port("SLUICE_TRANSFORMER_ADDR", &stack)),
            ("loader", port("SLUICE_LOADER_ADDR", &stack)),
            ("vectorizer", port("SLUICE_VECTORIZER_ADDR", &stack)),
            ("gateway", port("SLUICE_GATEWAY_ADDR", &stack)),
        ]
        .into();
        let internal = port("SLUICE_ORCHESTRATOR_INTERNAL_ADDR", &stack);
        let rotel_log = stack.scratch.join("rotel.log");
        let mut children = Killed(vec![start_rotel(otlp, otlp_http, &rotel_log)]);
        // What `sluice all` wires inside one process, set as a deployment sets it.
        stack.set(
            "SLUICE_PROGRESS_URL",
            &format!("http://127.0.0.1:{internal}"),
        );
        stack.set(
            "SLUICE_GATEWAY_ORCHESTRATOR_URL",
            &format!("http://127.0.0.1:{}", ports["orchestrator"]),
        );
        stack.set(
            "SLUICE_GATEWAY_VECTORIZER_URL",
            &format!("http://127.0.0.1:{}", ports["vectorizer"]),
        );
        stack.set(
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            &format!("http://127.0.0.1:{otlp}"),
        );
        // Spans leave every 200 ms instead of every 5 s.
        stack.set("OTEL_BSP_SCHEDULE_DELAY", "200");
        // The metrics also go out over OTLP (the option beside /metrics), every 500 ms.
        stack.set("OTEL_METRICS_EXPORTER", "otlp");
        stack.set("OTEL_METRIC_EXPORT_INTERVAL", "500");
        children.0.push(stack.spawn(
            &[
                "simulator",
                "--addr",
                &format!("127.0.0.1:{jira_port}"),
                "--generate-projects",
                "2",
                "--issues-per-project",
                "30",
                "--custom-fields",
                "5",
            ],
            "simulator.log",
        ));
        // The orchestrator first: it applies the migrations the workers wait for.
        children
            .0
            .push(stack.spawn(&["orchestrator"], "orchestrator.log"));
        wait_for_port(ports["orchestrator"], "the orchestrator");
        for service in SERVICES.iter().skip(1) {
            children
                .0
                .push(stack.spawn(&[service], &format!("{service}.log")));
        }
        for (service, port) in &ports {
            wait_for_port(*port, service);
        }
        wait_for_port(jira_port, "the Jira simulator");
        Deployed {
            stack,
            ports,
            rotel_log,
            jira_port,
            _children: children,
        }
    }

    fn gateway(&self) -> Channel {
        Channel::from_shared(format!("http://127.0.0.1:{}", self.ports["gateway"]))
            .expect("url")
            .connect_lazy()
    }

    /// The service's `/metrics`, as Prometheus scrapes it (HTTP/1.1 GET).
    async fn scrape(&self, service: &str) -> Samples {
        let url = format!("http://127.0.0.1:{}/metrics", self.ports[service]);
        let response = reqwest::Client::builder()
            .http1_only()
            .build()
            .expect("client")
            .get(&url)
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {url}: {e}"));
        assert!(
            response.status().is_success(),
            "GET {url}: {}",
            response.status()
        );
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        assert!(
            content_type.starts_with("application/openmetrics-text"),
            "{url} answers {content_type}"
        );
        Samples::parse(&response.text().await.expect("metrics text"))
    }

    fn spans(&self) -> Vec<ExportedSpan> {
        exported_spans(&std::fs::read_to_string(&self.rotel_log).unwrap_or_default())
    }

    /// Waits until `trace` holds spans of every service and every span's parent is in it
    /// (spans leave each process in batches); panics naming what is missing.
    async fn complete_trace(&self, trace: &str, expected: &[(&str, &str)]) -> Vec<ExportedSpan> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let spans: Vec<ExportedSpan> = self
                .spans()
                .into_iter()
                .filter(|s| s.trace == trace)
                .collect();
            let ids: BTreeSet<&str> = spans.iter().map(|s| s.id.as_str()).collect();
            let present: BTreeSet<(String, String)> = spans
                .iter()
                .map(|s| (s.service.clone(), s.name.clone()))
                .collect();
            let missing: Vec<_> = expected
                .iter()
                .filter(|(service, name)| {
                    !present.contains(&(format!("sluice-{service}"), name.to_string()))
                })
                .collect();
            let orphans: Vec<_> = spans
                .iter()
                .filter(|s| !s.parent.is_empty() && !ids.contains(s.parent.as_str()))
                .map(|s| format!("{}/{} (parent {})", s.service, s.name, s.parent))
                .collect();
            if missing.is_empty() && orphans.is_empty() {
                return spans;
            }
            if Instant::now() > deadline {
                panic!(
                    "trace {trace}: missing {missing:?}, spans whose parent never arrived {orphans:?}; it holds {present:?}"
                );
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
}

/// Samples of a Prometheus text exposition: (name, sorted labels) → value.
struct Samples(BTreeMap<(String, BTreeMap<String, String>), f64>);

impl Samples {
    fn parse(text: &str) -> Samples {
        let mut samples = BTreeMap::new();
        for line in text
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
        {
            let (series, value) = line.rsplit_once(' ').expect("sample line");
            let (name, labels) = match series.split_once('{') {
                Some((name, rest)) => (name, rest.trim_end_matches('}')),
                None => (series, ""),
            };
            let labels: BTreeMap<String, String> = labels
                .split("\",")
                .filter(|l| !l.is_empty())
                .filter_map(|pair| pair.split_once('='))
                .map(|(k, v)| (k.to_string(), v.trim_matches('"').to_string()))
                .collect();
            samples.insert(
                (name.to_string(), labels),
                value.parse().unwrap_or_else(|_| panic!("value of {line}")),
            );
        }
        Samples(samples)
    }

    /// The sum of `name`'s samples whose labels include every pair of `matching`.
    fn sum(&self, name: &str, matching: &[(&str, &str)]) -> f64 {
        self.0
            .iter()
            .filter(|((n, labels), _)| {
                n == name
                    && matching
                        .iter()
                        .all(|(k, v)| labels.get(*k).map(String::as_str) == Some(*v))
            })
            .map(|(_, value)| value)
            .sum()
    }
}

async fn run_to_completion(
    jobs: &mut JobServiceClient<Channel>,
    key: &str,
    job_id: &str,
) -> pb::JobRun {
    let run = jobs
        .run_job(with_api_key(key, pb::RunJobRequest { id: job_id.into() }))
        .await
        .expect("RunJob through the gateway")
        .into_inner()
        .run
        .expect("run");
    let started = Instant::now();
    loop {
        let now = jobs
            .get_job_run(with_api_key(
                key,
                pb::GetJobRunRequest { id: run.id.clone() },
            ))
            .await
            .expect("GetJobRun")
            .into_inner()
            .run
            .expect("run");
        if now.status != pb::RunStatus::Running as i32 {
            assert_eq!(
                now.status,
                pb::RunStatus::Completed as i32,
                "run {} of job {job_id} ended {}: {}",
                now.id,
                now.status,
                now.error_message
            );
            return now;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "run {} did not end within 120 s: {:?}",
            now.id,
            now.counts
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_service_in_its_own_process_one_trace_per_run_and_metrics_that_match_the_runs() {
    sluice_plumbing::install_crypto_provider();
    let deployed = Deployed::start("deployed");
    let jira_port = deployed.jira_port;
    let pool = sqlx::PgPool::connect(&processes::database_url())
        .await
        .expect("PostgreSQL");
    let tenant = sluice_plumbing::auth::bootstrap_tenant(
        &pool,
        &format!("deployed-{}", Uuid::new_v4()),
        "test",
    )
    .await
    .expect("tenant");
    let key = tenant.key.as_str();
    let github = GithubSimulator::start(
        GithubSimulatorConfig {
            dataset: GithubDataset::generated(GithubSpec {
                org: "acme".into(),
                repos: 2,
                prs_per_repo: 15,
                commits_per_pr: 2,
                reviews_per_pr: 1,
                review_comments_per_pr: 1,
                issue_comments_per_pr: 1,
                seed: 11,
                jira_keys: vec![],
                mention_every: 0,
            }),
            tokens: vec![GITHUB_TOKEN.into()],
            scopes: "repo, read:org".into(),
            ..GithubSimulatorConfig::default()
        },
        tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind"),
    )
    .await
    .expect("github simulator");

    let mut integrations = IntegrationServiceClient::new(deployed.gateway());
    let mut jobs = JobServiceClient::new(deployed.gateway());
    let jira = integrations
        .create_integration(with_api_key(
            key,
            pb::CreateIntegrationRequest {
                r#type: pb::IntegrationType::Jira as i32,
                name: "deployed-jira".into(),
                base_url: format!("http://127.0.0.1:{jira_port}"),
                credentials: Some(pb::Credentials {
                    kind: Some(pb::credentials::Kind::Basic(pb::BasicAuth {
                        email: "demo@example.com".into(),
                        api_token: "demo-token".into(),
                    })),
                }),
                settings: None,
            },
        ))
        .await
        .expect("create the Jira integration through the gateway")
        .into_inner();
    let gh = integrations
        .create_integration(with_api_key(
            key,
            pb::CreateIntegrationRequest {
                r#type: pb::IntegrationType::Github as i32,
                name: "deployed-github".into(),
                base_url: github.base_url(),
                credentials: Some(pb::Credentials {
                    kind: Some(pb::credentials::Kind::Github(pb::GithubTokens {
                        tokens: vec![GITHUB_TOKEN.into()],
                    })),
                }),
                settings: Some(pb::IntegrationSettings {
                    source: Some(pb::integration_settings::Source::Github(
                        pb::GithubSettings {
                            organizations: vec!["acme".into()],
                            ..Default::default()
                        },
                    )),
                }),
            },
        ))
        .await
        .expect("create the GitHub integration through the gateway")
        .into_inner();

    // Every default job of both integrations, one after the other (as the demo does).
    let mut runs: Vec<(String, pb::JobRun)> = Vec::new();
    for job_id in jira.job_ids.iter().chain(&gh.job_ids) {
        // The job type as the metrics label it (the database's name, e.g. jira_issues).
        let job_type: String = sqlx::query_scalar("SELECT job_type FROM etl_jobs WHERE id = $1")
            .bind(Uuid::parse_str(job_id).expect("job id"))
            .fetch_one(&pool)
            .await
            .expect("job type");
        let run = run_to_completion(&mut jobs, key, job_id).await;
        runs.push((job_type, run));
    }
    let jira_issues = runs
        .iter()
        .find(|(_, r)| r.counts.as_ref().is_some_and(|c| c.issues_loaded > 0))
        .map(|(_, r)| r.clone())
        .expect("a Jira run that loaded work items");
    let github_run = runs
        .iter()
        .find(|(_, r)| r.integration_id == gh.integration.as_ref().expect("integration").id)
        .map(|(_, r)| r.clone())
        .expect("the GitHub run");

    // Traces: each run is one trace across the six processes, parents intact across
    // RabbitMQ (the loader's vectorize message carries the run's context to the vectorizer).
    let every_hop = |source_request: &'static str| {
        vec![
            ("gateway", "http.request"),
            ("orchestrator", "job.run"),
            ("connectors", "connector.extract"),
            ("connectors", source_request),
            ("transformer", "transform.page"),
            ("loader", "load.batch"),
            ("vectorizer", "vectorize.request"),
            ("vectorizer", "embed.batch"),
            ("vectorizer", "vectors.upsert"),
        ]
    };
    for (run, source_request) in [
        (&jira_issues, "jira.request"),
        (&github_run, "github.request"),
    ] {
        assert_eq!(run.trace_id.len(), 32, "the run names its trace: {run:?}");
        let spans = deployed
            .complete_trace(&run.trace_id, &every_hop(source_request))
            .await;
        let services: BTreeSet<&str> = spans.iter().map(|s| s.service.as_str()).collect();
        assert_eq!(
            services,
            SERVICES
                .iter()
                .map(|s| format!("sluice-{s}"))
                .collect::<BTreeSet<_>>()
                .iter()
                .map(String::as_str)
                .collect(),
            "trace {} holds spans of exactly the six services",
            run.trace_id
        );
    }

    // The image's HEALTHCHECK and compose's: `sluice health` asks grpc.health.v1.
    for (service, port) in &deployed.ports {
        let answer = std::process::Command::new(env!("CARGO_BIN_EXE_sluice"))
            .args(["health", "--addr", &format!("http://127.0.0.1:{port}")])
            .output()
            .expect("sluice health");
        assert!(
            answer.status.success() && String::from_utf8_lossy(&answer.stdout).trim() == "SERVING",
            "sluice health of the {service}: {answer:?}"
        );
    }
    let closed = free_ports(1)[0];
    let answer = std::process::Command::new(env!("CARGO_BIN_EXE_sluice"))
        .args(["health", "--addr", &format!("http://127.0.0.1:{closed}")])
        .output()
        .expect("sluice health");
    let said = String::from_utf8_lossy(&answer.stderr);
    assert!(!answer.status.success(), "nothing listens on {closed}");
    assert!(
        said.contains("onnection refused"),
        "the cause is named: {said}"
    );

    // Metrics: each service's own counters against the runs' figures and the tables.
    let tenant_rows = |table: &'static str| {
        let pool = pool.clone();
        let tenant_id = tenant.tenant_id;
        async move {
            let rows: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                "SELECT count(*) FROM {table} WHERE tenant_id = $1"
            )))
            .bind(tenant_id)
            .fetch_one(&pool)
            .await
            .expect("count");
            rows as f64
        }
    };
    let loader = deployed.scrape("loader").await;
    for table in [
        "projects",
        "statuses",
        "work_items",
        "work_item_changelogs",
        "repositories",
        "pull_requests",
        "pr_commits",
        "pr_reviews",
        "pr_comments",
    ] {
        let rows = tenant_rows(table).await;
        assert!(rows > 0.0, "the runs landed rows in {table}");
        assert_eq!(
            loader.sum("sluice_rows_upserted_total", &[("table", table)]),
            rows,
            "the loader's rows upserted into {table} are the rows the table holds"
        );
    }
    let prefix = &deployed.stack.queue_prefix;
    let pages: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM run_batches b JOIN job_runs r ON r.id = b.run_id WHERE r.tenant_id = $1",
    )
    .bind(tenant.tenant_id)
    .fetch_one(&pool)
    .await
    .expect("pages");
    let produced: i64 = runs
        .iter()
        .map(|(_, r)| r.counts.as_ref().map_or(0, |c| c.batches_produced))
        .sum();
    assert_eq!(
        pages, produced,
        "the runs report the pages run_batches holds"
    );
    // Queues: every delivery consumed was acknowledged (none retried or dead-lettered), and
    // every transform message became one load message. (Small pages travel grouped, several
    // per message, so messages are fewer than pages.)
    let transformer = deployed.scrape("transformer").await;
    let loader_queue = format!("{prefix}etl.load");
    let transform_queue = format!("{prefix}etl.transform");
    let transformed = transformer.sum(
        "sluice_messages_acked_total",
        &[("queue", &transform_queue)],
    );
    eprintln!(
        "transform acked {transformed}, load acked {}, load consumed {}, pages {pages}",
        loader.sum("sluice_messages_acked_total", &[("queue", &loader_queue)]),
        loader.sum(
            "sluice_messages_consumed_total",
            &[("queue", &loader_queue)]
        )
    );
    assert!(transformed >= 1.0 && transformed <= pages as f64);
    assert_eq!(
        transformer.sum(
            "sluice_messages_consumed_total",
            &[("queue", &transform_queue)]
        ),
        transformed
    );
    assert_eq!(
        loader.sum("sluice_messages_acked_total", &[("queue", &loader_queue)]),
        transformed,
        "each transform message acknowledged became one load message acknowledged"
    );
    for samples in [&transformer, &loader] {
        assert_eq!(samples.sum("sluice_messages_dead_lettered_total", &[]), 0.0);
        assert_eq!(samples.sum("sluice_messages_retried_total", &[]), 0.0);
    }
    assert_eq!(
        transformer.sum(
            "sluice_batch_duration_seconds_count",
            &[("queue", &transform_queue)]
        ),
        transformed,
        "one batch timing per transform message (the transformer takes one at a time)"
    );
    let connectors = deployed.scrape("connectors").await;
    for (source, integration) in [
        (
            "jira",
            jira.integration.as_ref().expect("integration").id.as_str(),
        ),
        (
            "github",
            gh.integration.as_ref().expect("integration").id.as_str(),
        ),
    ] {
        let calls: i64 = runs
            .iter()
            .filter(|(_, r)| r.integration_id == integration)
            .map(|(_, r)| r.counts.as_ref().map_or(0, |c| c.api_calls))
            .sum();
        assert!(calls > 0, "{source} runs report their calls");
        assert_eq!(
            connectors.sum("sluice_source_requests_total", &[("source", source)]),
            calls as f64,
            "{source} requests counted by the connectors = the api_calls its runs report"
        );
    }
    assert!(
        connectors.sum(
            "sluice_source_requests_total",
            &[
                ("source", "jira"),
                ("endpoint", "/rest/api/3/search/jql"),
                ("status", "200")
            ]
        ) >= 1.0,
        "requests are labelled by endpoint template and status"
    );
    let orchestrator = deployed.scrape("orchestrator").await;
    let mut by_type: BTreeMap<&str, f64> = BTreeMap::new();
    for (job_type, _) in &runs {
        *by_type.entry(job_type).or_default() += 1.0;
    }
    for (job_type, count) in &by_type {
        assert_eq!(
            orchestrator.sum(
                "sluice_runs_total",
                &[("job_type", job_type), ("outcome", "completed")]
            ),
            *count,
            "completed {job_type} runs"
        );
        assert_eq!(
            orchestrator.sum(
                "sluice_run_duration_seconds_count",
                &[("job_type", job_type), ("outcome", "completed")]
            ),
            *count
        );
    }
    let run_jobs = runs.len() as f64;
    let gateway = deployed.scrape("gateway").await;
    for (service, samples) in [("gateway", &gateway), ("orchestrator", &orchestrator)] {
        assert_eq!(
            samples.sum(
                "sluice_grpc_requests_total",
                &[("method", "/sluice.v1.JobService/RunJob"), ("code", "OK")]
            ),
            run_jobs,
            "the {service} counts every RunJob by method and code"
        );
    }
    let vectorizer = deployed.scrape("vectorizer").await;
    let vectors = tenant_rows("embedded_vectors").await;
    assert!(vectors > 0.0, "the runs were embedded");
    // Every stored vector was embedded, and every entity the runs report embedded has at least
    // one text. (A work item whose text changes between two of its pages, its dev status
    // landing after its issue page, is embedded again: the counter counts each time, the
    // store keeps the last, so the two are not equal.)
    let embedded = vectorizer.sum("sluice_embedded_documents_total", &[("provider", "local")]);
    let entities_embedded: i64 = runs
        .iter()
        .map(|(_, r)| r.counts.as_ref().map_or(0, |c| c.vectors_done))
        .sum();
    assert!(entities_embedded > 0, "the runs report entities embedded");
    assert!(
        embedded >= vectors && embedded >= entities_embedded as f64,
        "texts embedded ({embedded}) cover the vectors stored ({vectors}) and the entities the runs embedded ({entities_embedded})"
    );
    assert!(
        vectorizer.sum(
            "sluice_embedding_batch_duration_seconds_count",
            &[("provider", "local")]
        ) >= 1.0
    );

    // The OTLP option: the loader's rows reached the receiver as metrics too.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let log = std::fs::read_to_string(&deployed.rotel_log).unwrap_or_default();
        let by_loader = log
            .split("ResourceMetrics #")
            .filter(|block| block.contains("service.name: Str(sluice-loader)"))
            .any(|block| block.contains("sluice_rows_upserted"));
        if by_loader {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the loader's sluice_rows_upserted never reached the OTLP receiver; its log ends:\n{}",
            &log[log.len().saturating_sub(3000)..]
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }

    github.shutdown();
    pool.close().await;
    let prefix = prefix.clone();
    tokio::task::spawn_blocking(move || processes::delete_queues(&prefix))
        .await
        .expect("queues deleted");
    let _ = std::fs::remove_dir_all(&deployed.stack.scratch);
}
