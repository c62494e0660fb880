//! GitHub ingest benchmark: R repositories × N pull requests (with commits, reviews and
//! comments) served by the GitHub simulator with a fixed latency per request, synced by the
//! release services as separate processes; then an incremental run with a fraction of the
//! pull requests changed and some comments edited.
//!
//! The simulator runs at GitHub's real limits unless a flag lifts one, and the printed
//! figures name every lifted limit: 5,000 REST requests and 5,000 GraphQL points per hour
//! per token, 900 REST and 2,000 GraphQL points per minute, 100 requests at once.
//!
//! ```sh
//! cargo build --release -p sluice -p sluice-orchestrator -p sluice-connectors \
//!   -p sluice-transformer -p sluice-loader -p sluice-bench
//! bash deploy/stack.sh sluice_bench
//! SLUICE_DATABASE_URL='postgres://sluice:sluice@127.0.0.1:5432/sluice_bench?sslmode=disable' \
//!   target/release/github-ingest --repos 20 --prs 2500 --latency-ms 20
//! # REST's budget, measured with the limits lifted (at 5,000/h it would take a day):
//! target/release/github-ingest --api rest --lift-limits
//! ```

mod services;

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use clap::Parser;
use sluice_plumbing::auth::with_api_key;
use sluice_proto::v1 as pb;
use sluice_proto::v1::integration_service_client::IntegrationServiceClient;
use sluice_proto::v1::job_service_client::JobServiceClient;
use sluice_simulator::{
    GithubDataset, GithubSimulator, GithubSimulatorConfig, GithubSpec, SecondaryLimits,
};
use tonic::transport::Channel;

use services::{Children, peak_rss_mb, run_job, service_env};

#[derive(Parser)]
struct Args {
    #[arg(long, default_value_t = 20)]
    repos: usize,
    /// Pull requests per repository.
    #[arg(long, default_value_t = 2500)]
    prs: usize,
    #[arg(long, default_value_t = 3)]
    commits: usize,
    #[arg(long, default_value_t = 2)]
    reviews: usize,
    /// Comments per pull request (split between review and conversation comments).
    #[arg(long, default_value_t = 3)]
    comments: usize,
    #[arg(long, default_value_t = 20)]
    latency_ms: u64,
    /// Fraction of pull requests changed before the incremental run.
    #[arg(long, default_value_t = 0.01)]
    changed: f64,
    /// How pull requests are fetched: graphql (the default) or rest.
    #[arg(long, default_value = "graphql")]
    api: String,
    /// Lift GitHub's primary and secondary limits (the figures then measure the pipeline's
    /// capacity, and say so).
    #[arg(long)]
    lift_limits: bool,
    /// Fraction of pull requests with a comment edited before the incremental run.
    #[arg(long, default_value_t = 0.01)]
    edited: f64,
    #[arg(long, default_value = "target/release")]
    bin_dir: PathBuf,
    #[arg(
        long,
        env = "SLUICE_DATABASE_URL",
        default_value = "postgres://sluice:sluice@127.0.0.1:5432/sluice_bench"
    )]
    database_url: String,
    #[arg(
        long,
        env = "SLUICE_AMQP_URL",
        default_value = "amqp://guest:guest@127.0.0.1:5672/%2f"
    )]
    amqp_url: String,
}

const TOKEN: &str = "ghp_bench";
const SERVICES: [&str; 4] = ["orchestrator", "connectors", "transformer", "loader"];

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    sluice_plumbing::install_crypto_provider();
    let args = Args::parse();
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(2)
        .connect(&args.database_url)
        .await?;
    sluice_plumbing::db::migrate(&pool).await?;
    let dataset = GithubDataset::generated(GithubSpec {
        org: "acme".into(),
        repos: args.repos,
        prs_per_repo: args.prs,
        commits_per_pr: args.commits,
        reviews_per_pr: args.reviews,
        review_comments_per_pr: args.comments / 2,
        issue_comments_per_pr: args.comments - args.comments / 2,
        seed: 42,
        jira_keys: vec![],
        mention_every: 0,
    });
    let prs = dataset.pr_count();
    println!(
        "serving {} repositories, {prs} pull requests, {} commits, {} reviews, {} comments",
        dataset.repo_count(),
        dataset.commit_count(),
        dataset.review_count(),
        dataset.review_comment_count() + dataset.issue_comment_count()
    );
    let api = match args.api.as_str() {
        "graphql" => pb::GithubApi::Graphql,
        "rest" => pb::GithubApi::Rest,
        other => anyhow::bail!("--api {other}: expected graphql or rest"),
    };
    let mut config = GithubSimulatorConfig {
        dataset,
        tokens: vec![TOKEN.into()],
        ..GithubSimulatorConfig::default()
    };
    let limits = if args.lift_limits {
        config.rate_limit = 100_000_000;
        config.graphql_rate_limit = 100_000_000;
        config.secondary = SecondaryLimits::off();
        "limits LIFTED (pipeline capacity, not what a user with one token sees)"
    } else {
        "GitHub's real limits, one token"
    };
    let simulator =
        GithubSimulator::start(config, tokio::net::TcpListener::bind("127.0.0.1:0").await?).await?;
    simulator.add_latency(args.latency_ms);

    let prefix = format!("bench-gh-{}.", uuid::Uuid::new_v4().simple());
    let (env, orchestrator_port) = service_env(&args.database_url, &args.amqp_url, &prefix)?;
    let mut children = Children(Vec::new());
    for service in SERVICES {
        let binary = args.bin_dir.join(format!("sluice-{service}"));
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
        children.0.push((service.to_string(), child));
        if service == "orchestrator" {
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
        &format!("bench-gh-{}", uuid::Uuid::new_v4()),
        "bench",
    )
    .await?
    .key;
    let created = IntegrationServiceClient::new(channel.clone())
        .create_integration(with_api_key(
            &key,
            pb::CreateIntegrationRequest {
                r#type: pb::IntegrationType::Github as i32,
                name: "bench".into(),
                base_url: simulator.base_url(),
                credentials: Some(pb::Credentials {
                    kind: Some(pb::credentials::Kind::Github(pb::GithubTokens {
                        tokens: vec![TOKEN.into()],
                    })),
                }),
                settings: Some(pb::IntegrationSettings {
                    source: Some(pb::integration_settings::Source::Github(
                        pb::GithubSettings {
                            repositories: vec![],
                            organizations: vec!["acme".into()],
                            include_archived: false,
                            pull_requests_api: api as i32,
                        },
                    )),
                }),
            },
        ))
        .await?
        .into_inner();
    let integration_id = created
        .integration
        .ok_or_else(|| anyhow::anyhow!("no integration"))?
        .id;
    let job_id = created.job_ids[0].clone();
    let mut jobs = JobServiceClient::new(channel);

    println!("full sync");
    let (full, full_time) = run_job(&mut jobs, &key, &job_id, &mut children).await?;
    let full_counts = full.counts.unwrap_or_default();
    let loaded: i64 =
        sqlx::query_scalar("SELECT count(*) FROM pull_requests WHERE integration_id = $1::uuid")
            .bind(&integration_id)
            .fetch_one(&pool)
            .await?;
    anyhow::ensure!(
        loaded as usize == prs,
        "{loaded} of {prs} pull requests loaded"
    );
    let full_points = simulator.graphql_points_spent();
    let full_rest = simulator.counted_calls();
    let changed = simulator.bump_updated(args.changed, 1);
    let edited = simulator.edit_comments(args.edited, 2);
    println!(
        "incremental sync ({} pull requests changed, {} comments edited)",
        changed.len(),
        edited.len()
    );
    let (incremental, incremental_time) = run_job(&mut jobs, &key, &job_id, &mut children).await?;
    let incremental_counts = incremental.counts.unwrap_or_default();
    let peaks: Vec<(String, Option<f64>)> = children
        .0
        .iter()
        .map(|(name, child)| (name.clone(), peak_rss_mb(child.id())))
        .collect();

    println!();
    println!(
        "## GitHub ingest over {}: {} repositories × {} pull requests ({} commits, {} reviews, {} comments each), {} ms latency, {limits}",
        args.api, args.repos, args.prs, args.commits, args.reviews, args.comments, args.latency_ms
    );
    println!();
    println!("| measure | value |");
    println!("|---|---|");
    println!(
        "| full sync, RunJob → COMPLETED | {:.1} s |",
        full_time.as_secs_f64()
    );
    println!(
        "| end to end | {:.0} pull requests/s |",
        prs as f64 / full_time.as_secs_f64()
    );
    println!(
        "| API calls, full sync | {} ({:.2} per pull request) |",
        full_counts.api_calls,
        full_counts.api_calls as f64 / prs as f64
    );
    println!(
        "| budget, full sync: GraphQL points / REST requests | {full_points} ({:.3} per pull request) / {full_rest} ({:.3} per pull request) |",
        full_points as f64 / prs as f64,
        full_rest as f64 / prs as f64
    );
    let hours = |points: u64| points as f64 / 5000.0;
    println!(
        "| one token's hours of budget at 5,000/h (GraphQL / REST) | {:.2} / {:.2} |",
        hours(full_points),
        hours(full_rest)
    );
    println!(
        "| time waited for rate limits, full sync | {:.1} s |",
        full_counts.rate_limit_wait_ms as f64 / 1000.0
    );
    println!(
        "| rows: pull requests / commits / reviews / comments | {} / {} / {} / {} |",
        full_counts.pull_requests, full_counts.commits, full_counts.reviews, full_counts.comments
    );
    println!(
        "| incremental ({} changed): time | {:.1} s ({:.1}% of full) |",
        changed.len(),
        incremental_time.as_secs_f64(),
        100.0 * incremental_time.as_secs_f64() / full_time.as_secs_f64()
    );
    println!(
        "| incremental: API calls | {} ({:.1}% of full; {} answered 304) |",
        incremental_counts.api_calls,
        100.0 * incremental_counts.api_calls as f64 / full_counts.api_calls.max(1) as f64,
        simulator.not_modified_count()
    );
    println!(
        "| incremental: GraphQL points / REST requests | {} / {} |",
        simulator.graphql_points_spent() - full_points,
        simulator.counted_calls() - full_rest
    );
    for (name, peak) in peaks {
        println!(
            "| peak RSS {name} | {} |",
            peak.map(|p| format!("{p:.0} MB")).unwrap_or("-".into())
        );
    }
    drop(children);
    simulator.shutdown();
    if let Ok(connection) =
        sluice_plumbing::amqp::connect(&args.amqp_url, Duration::from_secs(5)).await
        && let Ok(channel) = connection.create_channel().await
    {
        let _ = sluice_plumbing::amqp::Topology::new(&prefix)
            .remove(&channel)
            .await;
    }
    sqlx::query("DELETE FROM integrations WHERE id = $1::uuid")
        .bind(&integration_id)
        .execute(&pool)
        .await?;
    Ok(())
}
