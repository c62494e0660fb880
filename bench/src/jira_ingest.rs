//! The Jira ingest benchmark: N generated issues over P projects with ~30 custom fields and
//! ~8 changelog entries each, served by the simulator with a fixed latency per request, synced
//! by the real services running as separate release processes. Prints a markdown report:
//! end-to-end time and issues/s, issues/s per stage, API calls, peak RSS per service, the
//! PostgreSQL COPY ceiling for the same rows and the loader's ratio to it, and an incremental
//! run with a fraction of the issues changed.
//!
//! cargo build --release -p sluice -p sluice-orchestrator -p sluice-connectors \
//!   -p sluice-transformer -p sluice-loader -p sluice-vectorizer -p sluice-bench
//! target/release/jira-ingest --issues 100000 --projects 10 --latency-ms 20
//!
//! The slow-path site (no bulkfetch, no `development` JQL), optionally rate-limited:
//! target/release/jira-ingest --issues 20000 --projects 5 --mean-histories 14 \
//!   --long-changelog-every 33 --dev-status-every 2 --no-bulkfetch --no-development-jql \
//!   [--rate-limit 100]
//!
//! With `--vectorize static` (or `local`) the vectorizer runs too and the loader sends it every
//! loaded issue: the report adds when the last vector landed and the vectorizer's rate, RSS
//! and CPU.

mod cpu;
mod load_ceiling;
mod services;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use clap::Parser;
use sluice_plumbing::auth::with_api_key;
use sluice_proto::v1 as pb;
use sluice_proto::v1::custom_field_service_client::CustomFieldServiceClient;
use sluice_proto::v1::integration_service_client::IntegrationServiceClient;
use sluice_proto::v1::job_service_client::JobServiceClient;
use sluice_simulator::{
    Dataset, Fault, FaultKind, IssueSpec, PrivateCa, SimAuth, Simulator, SimulatorConfig,
};
use sqlx::PgPool;
use tonic::transport::Channel;

use services::{Children, peak_rss_mb, run_job, service_env};

#[derive(Parser)]
struct Args {
    #[arg(long, default_value_t = 100_000)]
    issues: usize,
    #[arg(long, default_value_t = 10)]
    projects: usize,
    #[arg(long, default_value_t = 30)]
    custom_fields: usize,
    #[arg(long, default_value_t = 8)]
    mean_histories: usize,
    /// Latency the simulator adds to every request.
    #[arg(long, default_value_t = 20)]
    latency_ms: u64,
    /// Fraction of issues changed before the incremental run.
    #[arg(long, default_value_t = 0.01)]
    changed: f64,
    /// Every n-th issue has development information (0: none).
    #[arg(long, default_value_t = 4)]
    dev_status_every: usize,
    /// Every n-th issue has a changelog over 100 histories (0: none).
    #[arg(long, default_value_t = 50)]
    long_changelog_every: usize,
    /// The site lacks `POST changelog/bulkfetch` (truncated changelogs page by page).
    #[arg(long)]
    no_bulkfetch: bool,
    /// The site's JQL does not know `development[…]`.
    #[arg(long)]
    no_development_jql: bool,
    /// Issues carry no Development field (Jira Server and Data Center).
    #[arg(long)]
    no_development_field: bool,
    /// The site answers 429 beyond this many requests per second (none by default).
    #[arg(long)]
    rate_limit: Option<f64>,
    /// Serve the simulator over plain HTTP (default: HTTPS with a private CA the services
    /// trust through `SLUICE_HTTP_EXTRA_CA_FILE`, as Jira Cloud is only HTTPS).
    #[arg(long)]
    plain_http: bool,
    /// Skip the loader-vs-COPY comparison (it re-loads the rows twice).
    #[arg(long)]
    no_load_ceiling: bool,
    /// Transformer processes (replicas sharing the queue).
    #[arg(long, default_value_t = 1)]
    transformers: usize,
    /// Loader processes (replicas sharing the queue).
    #[arg(long, default_value_t = 1)]
    loaders: usize,
    /// Also run the vectorizer with this embedding provider (local or static) and wait for
    /// every issue's vectors.
    #[arg(long)]
    vectorize: Option<String>,
    /// Leave the synced integration and its rows in the database (to inspect them).
    #[arg(long)]
    keep: bool,
    /// Where the service binaries are.
    #[arg(long, default_value = "target/release")]
    bin_dir: PathBuf,
    #[arg(
        long,
        env = "SLUICE_DATABASE_URL",
        default_value = "postgres://sluice:sluice@127.0.0.1:5432/sluice"
    )]
    database_url: String,
    #[arg(
        long,
        env = "SLUICE_AMQP_URL",
        default_value = "amqp://guest:guest@127.0.0.1:5672/%2f"
    )]
    amqp_url: String,
}

const EMAIL: &str = "bench@example.com";
const TOKEN: &str = "bench-token";
const SERVICES: [&str; 4] = ["orchestrator", "connectors", "transformer", "loader"];
/// Every endpoint a sync calls gets the latency.
const ENDPOINTS: [&str; 14] = [
    "GET /rest/api/3/project/search",
    "GET /rest/api/3/issuetype",
    "GET /rest/api/3/status",
    "GET /rest/api/3/project/{projectIdOrKey}/statuses",
    "GET /rest/api/3/field",
    "GET /rest/api/3/issue/createmeta/{projectIdOrKey}/issuetypes",
    "GET /rest/api/3/issue/createmeta/{projectIdOrKey}/issuetypes/{issueTypeId}",
    "GET /rest/api/3/search/jql",
    "POST /rest/api/3/changelog/bulkfetch",
    "GET /rest/api/3/issue/{issueIdOrKey}/changelog",
    "GET /rest/dev-status/latest/issue/summary",
    "GET /rest/dev-status/latest/issue/detail",
    "GET /rest/api/3/myself",
    "GET /rest/api/3/issue/createmeta",
];

/// Seconds between the first and last of a run's timestamps in a column.
async fn window(pool: &PgPool, sql: &str, run_id: &str) -> anyhow::Result<f64> {
    let seconds: Option<f64> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_string()))
        .bind(run_id)
        .fetch_one(pool)
        .await?;
    Ok(seconds.unwrap_or(0.0).max(0.001))
}

/// When, after the run started, its first and last pages were stored, its last page was
/// loaded and the run ended.
async fn phases(pool: &PgPool, run_id: &str) -> anyhow::Result<String> {
    let (first, stored, loaded, ended): (f64, f64, f64, f64) = sqlx::query_as(
        "SELECT extract(epoch FROM min(d.extracted_at) - r.started_at)::float8,
                extract(epoch FROM max(d.extracted_at) - r.started_at)::float8,
                extract(epoch FROM max(b.loaded_at) - r.started_at)::float8,
                extract(epoch FROM r.finished_at - r.started_at)::float8
         FROM job_runs r JOIN raw_extraction_data d ON d.run_id = r.id
         LEFT JOIN run_batches b ON b.raw_id = d.id AND b.run_id = r.id
         WHERE r.id = $1::uuid GROUP BY r.started_at, r.finished_at",
    )
    .bind(run_id)
    .fetch_one(pool)
    .await?;
    Ok(format!(
        "first page stored {first:.2} s, last stored {stored:.2} s, last loaded {loaded:.2} s, completed {ended:.2} s"
    ))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    sluice_plumbing::install_crypto_provider();
    let args = Args::parse();
    let pool = sluice_plumbing::db::connect(&sluice_plumbing::CommonConfig {
        database_url: args.database_url.clone(),
        ..Default::default()
    })
    .await?;
    sluice_plumbing::db::migrate(&pool).await?;

    let per_project = args.issues / args.projects;
    eprintln!(
        "generating {} issues over {} projects",
        per_project * args.projects,
        args.projects
    );
    let dataset = Dataset::generated(args.projects, 5, 8).with_issues(IssueSpec {
        issues_per_project: per_project,
        seed: 42,
        custom_fields: args.custom_fields,
        mean_histories: args.mean_histories,
        long_changelog_every: args.long_changelog_every,
        dev_status_every: args.dev_status_every,
    });
    let config = SimulatorConfig {
        dataset,
        auth: SimAuth::Basic {
            email: EMAIL.into(),
            api_token: TOKEN.into(),
        },
        max_page_size: 100,
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    // The CA the services trust, written where SLUICE_HTTP_EXTRA_CA_FILE points.
    let ca_file = std::env::temp_dir().join(format!("sluice-bench-ca-{}.pem", std::process::id()));
    let simulator = if args.plain_http {
        Simulator::start(config, listener).await?
    } else {
        let ca = PrivateCa::generate()?;
        std::fs::write(&ca_file, &ca.ca_pem)?;
        Simulator::start_tls(config, listener, &ca).await?
    };
    eprintln!("simulator at {}", simulator.base_url());
    simulator.set_bulk_changelog(!args.no_bulkfetch);
    simulator.set_development_search(!args.no_development_jql);
    simulator.set_development_field(!args.no_development_field);
    for endpoint in ENDPOINTS {
        simulator.add_fault(Fault {
            endpoint: endpoint.into(),
            kind: FaultKind::Latency {
                millis: args.latency_ms,
            },
            times: u32::MAX,
        });
    }

    let prefix = format!("bench-{}.", uuid::Uuid::new_v4().simple());
    let (mut env, orchestrator_port) = service_env(&args.database_url, &args.amqp_url, &prefix)?;
    for (name, value) in std::env::vars().filter(|(k, _)| {
        k.starts_with("SLUICE_JIRA_")
            || k.starts_with("SLUICE_LOAD")
            || k == "SLUICE_CONSUMERS"
            || k == "SLUICE_PREFETCH"
    }) {
        env.push((name, value));
    }
    if !args.plain_http {
        env.push((
            "SLUICE_HTTP_EXTRA_CA_FILE".into(),
            ca_file.display().to_string(),
        ));
    }
    if let Some(provider) = &args.vectorize {
        anyhow::ensure!(
            provider == "local" || provider == "static",
            "--vectorize: {provider:?} is not local or static"
        );
        env.push(("SLUICE_VECTORIZE".into(), "on".into()));
        env.push(("SLUICE_EMBEDDING_PROVIDER".into(), provider.clone()));
        env.push(("SLUICE_VECTORIZER_ADDR".into(), "127.0.0.1:0".into()));
        env.push((
            "SLUICE_MODEL_DIR".into(),
            sluice_vectorizer::embed::model_dir().display().to_string(),
        ));
    } else {
        env.push(("SLUICE_VECTORIZE".into(), "off".into()));
    }
    let mut children = Children(Vec::new());
    let mut instances: Vec<(String, &str)> = Vec::new();
    let vectorizer: &[&str] = if args.vectorize.is_some() {
        &["vectorizer"]
    } else {
        &[]
    };
    for service in SERVICES.iter().chain(vectorizer).copied() {
        let replicas = match service {
            "transformer" => args.transformers.max(1),
            "loader" => args.loaders.max(1),
            _ => 1,
        };
        for replica in 1..=replicas {
            let label = if replica == 1 {
                service.to_string()
            } else {
                format!("{service}-{replica}")
            };
            instances.push((label, service));
        }
    }
    for (label, service) in instances {
        let binary = args.bin_dir.join(format!("sluice-{service}"));
        // Every replica's health port is any free one (service_env).
        let child = Command::new(&binary)
            .envs(env.iter().cloned())
            .stdout(Stdio::null())
            .spawn()
            .map_err(|e| {
                anyhow::anyhow!(
                    "starting {}: {e} (build the release binaries first)",
                    binary.display()
                )
            })?;
        children.0.push((label, child));
        if service == "orchestrator" {
            // The orchestrator applies migrations and declares nothing else needs waiting for.
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
    let channel = loop {
        match Channel::from_shared(format!("http://127.0.0.1:{orchestrator_port}"))?
            .connect()
            .await
        {
            Ok(channel) => break channel,
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    };
    let key = sluice_plumbing::auth::bootstrap_tenant(
        &pool,
        &format!("bench-{}", uuid::Uuid::new_v4()),
        "bench",
    )
    .await?
    .key;
    let mut integrations = IntegrationServiceClient::new(channel.clone());
    let mut jobs = JobServiceClient::new(channel.clone());
    let mut fields = CustomFieldServiceClient::new(channel);
    let created = integrations
        .create_integration(with_api_key(
            &key,
            pb::CreateIntegrationRequest {
                r#type: pb::IntegrationType::Jira as i32,
                name: "bench".into(),
                base_url: simulator.base_url(),
                credentials: Some(pb::Credentials {
                    kind: Some(pb::credentials::Kind::Basic(pb::BasicAuth {
                        email: EMAIL.into(),
                        api_token: TOKEN.into(),
                    })),
                }),
                settings: None,
            },
        ))
        .await?
        .into_inner();
    let integration_id = created.integration.map(|i| i.id).unwrap_or_default();
    let (discovery_job, issues_job) = (created.job_ids[0].clone(), created.job_ids[1].clone());
    let (_, discovery_time) = run_job(&mut jobs, &key, &discovery_job, &mut children).await?;
    eprintln!("discovery done in {discovery_time:?}");

    // Map 20 custom fields to the dedicated columns and the rest to the overflow.
    let custom: Vec<String> = sluice_simulator::Dataset::generated(args.projects, 5, 8)
        .with_issues(IssueSpec {
            issues_per_project: 1,
            custom_fields: args.custom_fields,
            ..IssueSpec::default()
        })
        .custom_fields()
        .iter()
        .filter_map(|f| f["id"].as_str().map(str::to_string))
        .collect();
    let entries = custom
        .iter()
        .enumerate()
        .map(|(i, id)| pb::FieldMappingEntry {
            field_id: id.clone(),
            column: if i < 20 { i as i32 + 1 } else { 0 },
        })
        .collect();
    fields
        .set_field_mapping(with_api_key(
            &key,
            pb::SetFieldMappingRequest {
                mapping: Some(pb::FieldMapping {
                    integration_id: integration_id.clone(),
                    project_key: String::new(),
                    entries,
                }),
                force: false,
            },
        ))
        .await?;

    simulator.set_rate_limit(args.rate_limit);
    simulator.reset_counts();
    eprintln!("full sync");
    let labels: Vec<(String, u32)> = children
        .0
        .iter()
        .map(|(n, c)| (n.clone(), c.id()))
        .collect();
    let pids: Vec<(&str, u32)> = labels.iter().map(|(n, id)| (n.as_str(), *id)).collect();
    let cpu_before = cpu::snapshot(&pids);
    let (full, full_time) = run_job(&mut jobs, &key, &issues_job, &mut children).await?;
    let issues: i64 =
        sqlx::query_scalar("SELECT count(*) FROM work_items WHERE integration_id = $1::uuid")
            .bind(&integration_id)
            .fetch_one(&pool)
            .await?;
    let changelog_rows: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM work_item_changelogs WHERE integration_id = $1::uuid",
    )
    .bind(&integration_id)
    .fetch_one(&pool)
    .await?;
    let full_counts = full.counts.unwrap_or_default();
    let full_calls = full_counts.api_calls;
    let requests: BTreeMap<String, u64> = simulator.request_counts();
    let limited = simulator.rate_limit_stats();
    let with_development: i64 = sqlx::query_scalar(
        "SELECT count(DISTINCT work_item_external_id) FROM work_item_dev_status WHERE integration_id = $1::uuid",
    )
    .bind(&integration_id)
    .fetch_one(&pool)
    .await?;
    let pull_requests_before: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM work_item_dev_status WHERE integration_id = $1::uuid AND kind = 'pull_request'",
    )
    .bind(&integration_id)
    .fetch_one(&pool)
    .await?;
    // Issues and their changelogs landed: run start → last issue or changelog page loaded.
    let landed_window = window(
        &pool,
        "SELECT extract(epoch FROM max(b.loaded_at) - r.started_at)::float8 FROM run_batches b
         JOIN raw_extraction_data d ON d.id = b.raw_id JOIN job_runs r ON r.id = b.run_id
         WHERE b.run_id = $1::uuid
           AND d.extraction_type IN ('jira.issues', 'jira.changelog_bulk', 'jira.issue_changelog')
         GROUP BY r.started_at",
        &full.id,
    )
    .await?;
    let fetch_window = window(
        &pool,
        "SELECT extract(epoch FROM max(d.extracted_at) - r.started_at)::float8 FROM raw_extraction_data d
         JOIN job_runs r ON r.id = d.run_id WHERE d.run_id = $1::uuid AND d.extraction_type = 'jira.issues' GROUP BY r.started_at",
        &full.id,
    )
    .await?;
    let load_window = window(
        &pool,
        "SELECT extract(epoch FROM max(b.loaded_at) - min(d.extracted_at))::float8 FROM run_batches b
         JOIN raw_extraction_data d ON d.id = b.raw_id WHERE b.run_id = $1::uuid AND d.extraction_type = 'jira.issues'",
        &full.id,
    )
    .await?;
    let full_phases = phases(&pool, &full.id).await?;
    // With the vectorizer: wait for every issue's vectors, then the timeline.
    let vectors = match &args.vectorize {
        Some(provider) => {
            let collection = if provider == "static" {
                format!("static-{}", sluice_vectorizer::LOCAL_MODEL)
            } else {
                sluice_vectorizer::LOCAL_MODEL.to_string()
            };
            eprintln!("waiting for {issues} issues' vectors ({collection})");
            loop {
                children.check()?;
                let done: i64 = sqlx::query_scalar(
                    "SELECT count(*) FROM vectorization_status s JOIN integrations i ON i.tenant_id = s.tenant_id
                     WHERE i.id = $1::uuid AND s.model = $2 AND s.status = 'done'",
                )
                .bind(&integration_id)
                .bind(&collection)
                .fetch_one(&pool)
                .await?;
                if done >= issues {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            let (first, last): (f64, f64) = sqlx::query_as(
                "SELECT extract(epoch FROM min(s.updated_at) - r.started_at)::float8,
                        extract(epoch FROM max(s.updated_at) - r.started_at)::float8
                 FROM vectorization_status s JOIN job_runs r ON r.id = $1::uuid AND r.tenant_id = s.tenant_id
                 WHERE s.model = $2 GROUP BY r.started_at",
            )
            .bind(&full.id)
            .bind(&collection)
            .fetch_one(&pool)
            .await?;
            let chunks: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM embedded_vectors v JOIN integrations i ON i.tenant_id = v.tenant_id
                 WHERE i.id = $1::uuid AND v.model = $2",
            )
            .bind(&integration_id)
            .bind(&collection)
            .fetch_one(&pool)
            .await?;
            Some((provider.clone(), first, last, chunks))
        }
        None => None,
    };
    let cpu_full = cpu::delta(&cpu_before, &cpu::snapshot(&pids));
    let peaks: Vec<(&str, Option<f64>)> = labels
        .iter()
        .map(|(name, pid)| (name.as_str(), peak_rss_mb(*pid)))
        .collect();
    let tenant_id: uuid::Uuid =
        sqlx::query_scalar("SELECT tenant_id FROM integrations WHERE id = $1::uuid")
            .bind(&integration_id)
            .fetch_one(&pool)
            .await?;
    let load = if args.no_load_ceiling {
        None
    } else {
        eprintln!("loader against COPY, each alone");
        Some(
            load_ceiling::compare(
                &pool,
                tenant_id,
                uuid::Uuid::parse_str(&integration_id)?,
                uuid::Uuid::parse_str(&full.id)?,
            )
            .await?,
        )
    };

    let bumped = simulator.bump_updated(args.changed, 7).len();
    // A pull request linked to 0.1% of the issues (their `updated` does not move).
    let linked = (0..issues as usize / 1000)
        .filter(|i| {
            let project = i % args.projects.max(1);
            let number = 1 + (i * 997) % per_project.max(1);
            simulator.link_pull_request(&format!("P{:04}-{number}", project + 1))
        })
        .count();
    simulator.reset_counts();
    eprintln!("incremental sync ({bumped} issues changed, {linked} pull requests linked)");
    let (incremental, incremental_time) =
        run_job(&mut jobs, &key, &issues_job, &mut children).await?;
    let incremental_phases = phases(&pool, &incremental.id).await?;
    let incremental_requests: BTreeMap<String, u64> = simulator.request_counts();
    let incremental_calls = incremental
        .counts
        .as_ref()
        .map(|c| c.api_calls)
        .unwrap_or(0);
    if vectors.is_some() {
        // Vectors of the changed issues (none: only their timestamps moved) are counted
        // on the run as they land.
        tokio::time::sleep(Duration::from_secs(5)).await;
    }
    let incremental = jobs
        .get_job_run(with_api_key(
            &key,
            pb::GetJobRunRequest {
                id: incremental.id.clone(),
            },
        ))
        .await?
        .into_inner()
        .run
        .unwrap_or(incremental);

    let e2e = full_time.as_secs_f64();
    let loader_rate = issues as f64 / load_window;
    println!(
        "## Jira ingest: {issues} issues, {} projects, {} custom fields, {} ms latency, {} transformer(s), {} loader(s)",
        args.projects,
        args.custom_fields,
        args.latency_ms,
        args.transformers.max(1),
        args.loaders.max(1)
    );
    println!();
    let mut site = vec![if args.plain_http {
        "plain HTTP".to_string()
    } else {
        "HTTPS (a private CA the services trust)".to_string()
    }];
    if args.no_bulkfetch {
        site.push("no changelog/bulkfetch".to_string());
    }
    if args.no_development_jql {
        site.push("no development JQL".to_string());
    }
    if args.no_development_field {
        site.push("no Development field".to_string());
    }
    match args.rate_limit {
        Some(limit) => site.push(format!("limited to {limit} requests/s (429 + Retry-After)")),
        None => site.push("no rate limit".to_string()),
    }
    let overrides: Vec<String> = env
        .iter()
        .filter(|(k, _)| {
            (k.starts_with("SLUICE_JIRA_") || k.starts_with("SLUICE_LOAD")) && !k.ends_with("_ADDR")
        })
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    println!(
        "Site: {}; every {}th issue with development information, every {}th with over 100 histories; services at {}.",
        site.join(", "),
        args.dev_status_every,
        args.long_changelog_every,
        if overrides.is_empty() {
            "their default settings".to_string()
        } else {
            overrides.join(" ")
        }
    );
    println!();
    println!("| measure | value |");
    println!("|---|---|");
    println!("| discovery run | {:.1} s |", discovery_time.as_secs_f64());
    println!("| full sync, RunJob → COMPLETED | {e2e:.1} s |");
    println!("| end to end | {:.0} issues/s |", issues as f64 / e2e);
    println!(
        "| issue pages fetched (run start → last issue page stored) | {:.0} issues/s |",
        issues as f64 / fetch_window
    );
    println!(
        "| issues transformed + loaded (first issue page stored → last loaded) | {loader_rate:.0} issues/s |"
    );
    println!(
        "| issues + changelogs landed (RunJob → last issue or changelog page loaded) | {landed_window:.1} s, {:.0} issues/s |",
        issues as f64 / landed_window
    );
    println!("| changelog rows loaded | {changelog_rows} |");
    println!(
        "| requests per second, whole run (API calls / RunJob → COMPLETED) | {:.0} (peak {:.0} in one second) |",
        full_calls as f64 / e2e,
        full_counts.peak_request_rate
    );
    println!(
        "| answered 429 | {} of {full_calls} ({:.2}%), {} windows; held {:.1} s in all |",
        full_counts.throttled_responses,
        100.0 * full_counts.throttled_responses as f64 / full_calls.max(1) as f64,
        limited.windows,
        full_counts.rate_limit_wait_ms as f64 / 1000.0
    );
    println!(
        "| bytes received (gzip) | {:.1} MB ({:.1} KB per issue) |",
        full_counts.bytes_received as f64 / 1e6,
        full_counts.bytes_received as f64 / 1e3 / issues.max(1) as f64
    );
    let dev_calls = requests
        .iter()
        .filter(|(e, _)| e.contains("/rest/dev-status/"))
        .map(|(_, c)| c)
        .sum::<u64>();
    println!(
        "| dev status: issues with development information / calls | {with_development} / {dev_calls} ({:.2} per issue that has some, {} for the {} without) |",
        dev_calls as f64 / with_development.max(1) as f64,
        requests
            .iter()
            .filter(|(e, _)| e.ends_with("/issue/summary"))
            .map(|(_, c)| *c)
            .sum::<u64>()
            .saturating_sub(with_development as u64),
        issues - with_development
    );
    println!(
        "| API calls, full sync | {full_calls} ({:.3} per issue) |",
        full_calls as f64 / issues.max(1) as f64
    );
    for (endpoint, count) in requests.iter().filter(|(_, c)| **c > 0) {
        println!("| &nbsp;&nbsp;{endpoint} | {count} |");
    }
    if let Some(load) = &load {
        let loader_alone = load.rows() as f64 / load.loader_secs;
        let copy_alone = load.rows() as f64 / load.copy_secs;
        println!(
            "| loader alone: the same {} work items + {} changelog rows | {:.1} s, {loader_alone:.0} rows/s ({:.0} issues/s) |",
            load.work_items,
            load.changelog_rows,
            load.loader_secs,
            load.work_items as f64 / load.loader_secs
        );
        println!(
            "| COPY ceiling for those rows (fresh tables, same indexes) | {:.1} s, {copy_alone:.0} rows/s |",
            load.copy_secs
        );
        println!(
            "| loader / COPY ceiling | {:.0}% |",
            100.0 * loader_alone / copy_alone
        );
    }
    println!(
        "| incremental ({bumped} changed): time | {:.1} s ({:.1}% of full) |",
        incremental_time.as_secs_f64(),
        100.0 * incremental_time.as_secs_f64() / e2e
    );
    println!(
        "| incremental: API calls | {incremental_calls} ({:.1}% of full) |",
        100.0 * incremental_calls as f64 / full_calls.max(1) as f64
    );
    let pull_requests_after: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM work_item_dev_status WHERE integration_id = $1::uuid AND kind = 'pull_request'",
    )
    .bind(&integration_id)
    .fetch_one(&pool)
    .await?;
    println!(
        "| incremental: pull requests linked since (`updated` unmoved) / landed | {linked} / {} |",
        pull_requests_after - pull_requests_before
    );
    for (endpoint, count) in incremental_requests.iter().filter(|(_, c)| **c > 0) {
        println!("| &nbsp;&nbsp;incremental {endpoint} | {count} |");
    }
    println!("| full sync timeline | {full_phases} |");
    if let Some((provider, first, last, chunks)) = &vectors {
        println!(
            "| vectorize ({provider}): first vector / every issue's vectors, after RunJob | {first:.1} s / {last:.1} s |"
        );
        println!(
            "| vectorize ({provider}): issues embedded per second (first → last vector) | {:.0} ({chunks} chunks) |",
            issues as f64 / (last - first).max(0.001)
        );
        println!(
            "| vectorize ({provider}): issues with vectors per second of the whole run (RunJob → last vector) | {:.0} |",
            issues as f64 / last.max(0.001)
        );
        println!(
            "| incremental: issues embedded again | {} |",
            incremental
                .counts
                .as_ref()
                .map(|c| c.vectors_done)
                .unwrap_or(0)
        );
    }
    println!("| incremental timeline | {incremental_phases} |");
    for (name, peak) in peaks {
        println!(
            "| peak RSS {name} | {} |",
            peak.map(|p| format!("{p:.0} MB"))
                .unwrap_or_else(|| "n/a".into())
        );
    }
    // The postgresql lines other than its total are its parts.
    let cpu_total: f64 = cpu_full
        .iter()
        .filter(|(name, _)| !name.starts_with("postgresql: "))
        .map(|(_, s)| s)
        .sum();
    println!();
    println!(
        "CPU time of the full sync ({cpu_total:.0} s over {e2e:.0} s on 2 cores, {:.0} core-ms per 1k issues):",
        1_000_000.0 * cpu_total / issues.max(1) as f64
    );
    println!();
    println!("| process | CPU s | core-ms / 1k issues |");
    println!("|---|---|---|");
    for (name, seconds) in &cpu_full {
        println!(
            "| {name} | {seconds:.1} | {:.0} |",
            1_000_000.0 * seconds / issues.max(1) as f64
        );
    }
    // Leave the database as found: deleting the integration deletes its rows.
    if !args.keep {
        integrations
            .delete_integration(with_api_key(
                &key,
                pb::DeleteIntegrationRequest {
                    id: integration_id.clone(),
                },
            ))
            .await?;
    }
    simulator.shutdown();
    let _ = std::fs::remove_file(&ca_file);
    drop(children);
    if let Ok(connection) =
        sluice_plumbing::amqp::connect(&args.amqp_url, Duration::from_secs(5)).await
        && let Ok(channel) = connection.create_channel().await
    {
        let _ = sluice_plumbing::amqp::Topology::new(&prefix)
            .remove(&channel)
            .await;
    }
    Ok(())
}
