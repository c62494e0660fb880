//! `sluice demo`: create (or reuse) a tenant and a Jira integration, run its sync, print
//! progress while it runs and a summary of what landed.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use sluice_plumbing::auth::with_api_key;
use sluice_proto::v1 as pb;
use sluice_proto::v1::integration_service_client::IntegrationServiceClient;
use sluice_proto::v1::job_service_client::JobServiceClient;
use sqlx::PgPool;
use tonic::transport::Channel;

/// Where and what the demo syncs.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// The gateway: every public call goes through it.
    pub api_url: String,
    pub jira_url: String,
    pub jira_email: String,
    pub jira_api_token: String,
    pub project_keys: Vec<String>,
    pub integration_name: String,
    /// File keeping the demo tenant's API key between runs.
    pub key_file: PathBuf,
    pub timeout: Duration,
}

/// The tables a Jira metadata sync fills, in the order the summary prints them.
pub const SYNCED_TABLES: [&str; 8] = [
    "projects",
    "wits",
    "projects_wits",
    "statuses",
    "projects_statuses",
    "projects_custom_fields",
    "work_items",
    "work_item_changelogs",
];

pub async fn run(pool: &PgPool, options: &DemoOptions) -> anyhow::Result<bool> {
    let key = api_key(pool, &options.key_file).await?;
    let channel = sluice_plumbing::grpc::lazy_channel(&options.api_url)?;
    let mut integrations = IntegrationServiceClient::new(channel.clone());
    let mut jobs = JobServiceClient::new(channel);

    let integration_id = upsert_integration(&mut integrations, &key, options).await?;
    println!(
        "integration {} ({}) -> {}",
        options.integration_name, integration_id, options.jira_url
    );
    let test = integrations
        .test_connection(with_api_key(
            &key,
            pb::TestConnectionRequest {
                id: integration_id.clone(),
            },
        ))
        .await?
        .into_inner();
    println!("connection: {} ({} ms)", test.message, test.latency_ms);
    if !test.ok {
        anyhow::bail!("the Jira site refused the connection: {}", test.message);
    }

    let listed = jobs
        .list_jobs(with_api_key(
            &key,
            pb::ListJobsRequest {
                integration_id: integration_id.clone(),
                page: None,
            },
        ))
        .await?
        .into_inner();
    // Discovery first (custom fields), then the issues sync (all five steps).
    let mut all_completed = true;
    for job_type in [pb::JobType::JiraDiscovery, pb::JobType::JiraIssues] {
        // Integrations created before a job type existed get it now (idempotent re-runs).
        let job = match listed.jobs.iter().find(|j| j.job_type == job_type as i32) {
            Some(job) => job.clone(),
            None => jobs
                .create_job(with_api_key(
                    &key,
                    pb::CreateJobRequest {
                        integration_id: integration_id.clone(),
                        job_type: job_type as i32,
                        ..Default::default()
                    },
                ))
                .await?
                .into_inner()
                .job
                .ok_or_else(|| anyhow::anyhow!("CreateJob returned no job"))?,
        };
        println!();
        println!("{} ({})", job.job_name, job.id);
        let finished = run_and_follow(&mut jobs, &key, &job, options.timeout).await?;
        let status = pb::RunStatus::try_from(finished.status).unwrap_or(pb::RunStatus::Unspecified);
        println!(
            "run {}: {} in {} ms (trace {})",
            finished.id,
            status.as_str_name(),
            finished.duration_ms,
            finished.trace_id
        );
        if !finished.error_message.is_empty() {
            println!("error: {}", finished.error_message);
        }
        if status != pb::RunStatus::Completed {
            all_completed = false;
            break;
        }
    }
    println!();
    println!("rows for this integration:");
    for (table, rows) in table_counts(pool, &integration_id).await? {
        println!("  {table:<22} {rows:>7}");
    }
    let searchable = if all_completed {
        searchable(pool, &integration_id).await?
    } else {
        None
    };
    let gateway = options
        .api_url
        .trim_start_matches("http://")
        .trim_end_matches('/');
    println!();
    println!(
        "dashboard: {} (sign in with the API key below)",
        options.api_url
    );
    println!("api key:   {key}");
    println!("explore with grpcurl or curl (see README), e.g.:");
    println!(
        "  grpcurl -plaintext -H 'authorization: Bearer {key}' -d '{{\"integration_id\":\"{integration_id}\"}}' {gateway} sluice.v1.CatalogService/ListWorkItems"
    );
    if let Some(query) = searchable {
        println!(
            "  grpcurl -plaintext -H 'authorization: Bearer {key}' -d '{{\"query\":\"{query}\",\"top_k\":5}}' {gateway} sluice.v1.SearchService/Search"
        );
    }
    Ok(all_completed)
}

/// Waits (up to 30 s) for the vectorizer to embed the integration's work items and prints how
/// many are searchable; returns a query to try (a few words of a summary) when some are.
async fn searchable(pool: &PgPool, integration_id: &str) -> anyhow::Result<Option<String>> {
    let started = Instant::now();
    let (mut done, mut total, mut collection) = (0i64, 0i64, String::new());
    while started.elapsed() < Duration::from_secs(30) {
        (done, total, collection) = sqlx::query_as(
            "SELECT (SELECT count(*) FROM vectorization_status s
                     JOIN vector_collections c ON c.tenant_id = s.tenant_id AND c.collection = s.model
                                              AND c.state = 'active'
                     WHERE s.tenant_id = i.tenant_id AND s.entity_type = 'work_item'
                       AND s.entity_id LIKE i.id::text || '/%' AND s.status = 'done'),
                    (SELECT count(*) FROM work_items w
                     WHERE w.integration_id = i.id AND w.deleted_at IS NULL),
                    COALESCE((SELECT collection FROM vector_collections c
                              WHERE c.tenant_id = i.tenant_id AND c.state = 'active'), '')
             FROM integrations i WHERE i.id = $1::uuid",
        )
        .bind(integration_id)
        .fetch_one(pool)
        .await?;
        if done >= total {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    if total > 0 && done == 0 {
        println!(
            "searchable: 0 of {total} work items embedded after 30 s (is the vectorizer running with SLUICE_VECTORIZE on and its model placed? see .sluice/logs/)"
        );
        return Ok(None);
    }
    println!("searchable: {done} of {total} work items embedded ({collection})");
    let summary: Option<String> = sqlx::query_scalar(
        "SELECT COALESCE(NULLIF(summary, ''), key) FROM work_items
         WHERE integration_id = $1::uuid AND deleted_at IS NULL ORDER BY summary = '', key LIMIT 1",
    )
    .bind(integration_id)
    .fetch_optional(pool)
    .await?;
    Ok(summary.map(|s| {
        s.split_whitespace()
            .take(4)
            .collect::<Vec<_>>()
            .join(" ")
            .chars()
            .filter(|c| c.is_alphanumeric() || c.is_whitespace() || *c == '-')
            .collect()
    }))
}

/// Runs the job (or follows its current run) and prints progress until the run ends.
async fn run_and_follow(
    jobs: &mut JobServiceClient<Channel>,
    key: &str,
    job: &pb::Job,
    timeout: Duration,
) -> anyhow::Result<pb::JobRun> {
    let run = match jobs
        .run_job(with_api_key(key, pb::RunJobRequest { id: job.id.clone() }))
        .await
    {
        Ok(response) => response
            .into_inner()
            .run
            .ok_or_else(|| anyhow::anyhow!("RunJob returned no run"))?,
        Err(status) if status.code() == tonic::Code::FailedPrecondition => {
            // The scheduler may have started it first (new jobs are due at once).
            let current = jobs
                .get_job(with_api_key(key, pb::GetJobRequest { id: job.id.clone() }))
                .await?
                .into_inner()
                .job
                .map(|j| j.current_run_id)
                .unwrap_or_default();
            if current.is_empty() {
                return Err(status.into());
            }
            println!("job already running (started by the scheduler); following run {current}");
            pb::JobRun {
                id: current,
                ..Default::default()
            }
        }
        Err(status) => return Err(status.into()),
    };
    let started = Instant::now();
    let mut last_line = String::new();
    loop {
        let current = jobs
            .get_job_run(with_api_key(
                key,
                pb::GetJobRunRequest { id: run.id.clone() },
            ))
            .await?
            .into_inner()
            .run
            .ok_or_else(|| anyhow::anyhow!("GetJobRun returned no run"))?;
        let line = progress_line(&current, started.elapsed());
        if line != last_line {
            println!("{line}");
            last_line = line;
        }
        if current.status != pb::RunStatus::Running as i32 {
            return Ok(current);
        }
        if started.elapsed() > timeout {
            anyhow::bail!(
                "run {} still running after {timeout:?}; it goes on in the background",
                run.id
            );
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

/// One line of a run's progress: the step, pages loaded of those stored, issues, dev status
/// (with an estimate of the time left once its pace is known), calls and throttling.
pub fn progress_line(run: &pb::JobRun, elapsed: Duration) -> String {
    let counts = run.counts.unwrap_or_default();
    let mut line = format!(
        "[{:>3.0}%] {:<28} pages {}/{} loaded",
        run.progress_percentage,
        if run.step_name.is_empty() {
            "queued"
        } else {
            &run.step_name
        },
        counts.batches_loaded,
        // A loaded page was stored: the connector's count of stored pages arrives with its
        // next report, the loader's sooner.
        counts.batches_produced.max(counts.batches_loaded),
    );
    if counts.issues_fetched > 0 {
        line.push_str(&format!(
            ", issues {}/{} loaded",
            counts.issues_loaded, counts.issues_fetched
        ));
    }
    if counts.dev_status_issues > 0 {
        line.push_str(&format!(
            ", dev status {}/{} issues",
            counts.dev_status_done, counts.dev_status_issues
        ));
        let left = counts.dev_status_issues - counts.dev_status_done;
        let secs = elapsed.as_secs_f64();
        if left > 0 && counts.dev_status_done > 0 && secs >= 1.0 {
            let eta = left as f64 / (counts.dev_status_done as f64 / secs);
            line.push_str(&format!(" (~{:.0} s left)", eta.ceil()));
        }
    }
    line.push_str(&format!(
        ", {} records extracted, {} loaded, {} API calls",
        counts.records_extracted, counts.records_loaded, counts.api_calls
    ));
    if counts.peak_request_rate > 0.0 {
        line.push_str(&format!(" (peak {:.0}/s", counts.peak_request_rate));
        if counts.throttled_responses > 0 {
            line.push_str(&format!(
                ", {} throttled, {:.1} s waited",
                counts.throttled_responses,
                counts.rate_limit_wait_ms as f64 / 1000.0
            ));
        }
        line.push(')');
    }
    line
}

/// Rows per synced table for one integration.
pub async fn table_counts(
    pool: &PgPool,
    integration_id: &str,
) -> anyhow::Result<Vec<(&'static str, i64)>> {
    let id = uuid::Uuid::parse_str(integration_id)?;
    let mut counts = Vec::new();
    for table in SYNCED_TABLES {
        // Table names come from the constant above, never from input.
        let rows: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT count(*) FROM {table}
             WHERE tenant_id = (SELECT tenant_id FROM integrations WHERE id = $1) AND integration_id = $1"
        )))
        .bind(id)
        .fetch_one(pool)
        .await?;
        counts.push((table, rows));
    }
    Ok(counts)
}

async fn api_key(pool: &PgPool, key_file: &PathBuf) -> anyhow::Result<String> {
    if let Some(key) = sluice_plumbing::config::env_string("SLUICE_API_KEY") {
        return Ok(key);
    }
    if let Ok(key) = std::fs::read_to_string(key_file) {
        let key = key.trim().to_string();
        let known: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL)",
        )
        .bind(sluice_plumbing::auth::hash_key(&key))
        .fetch_one(pool)
        .await?;
        if known {
            return Ok(key);
        }
    }
    let issued = sluice_plumbing::auth::bootstrap_tenant(pool, "demo", "demo").await?;
    if let Some(dir) = key_file.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(key_file, &issued.key)?;
    println!(
        "created tenant demo; its API key is in {}",
        key_file.display()
    );
    Ok(issued.key)
}

async fn upsert_integration(
    client: &mut IntegrationServiceClient<Channel>,
    key: &str,
    options: &DemoOptions,
) -> anyhow::Result<String> {
    let credentials = Some(pb::Credentials {
        kind: Some(pb::credentials::Kind::Basic(pb::BasicAuth {
            email: options.jira_email.clone(),
            api_token: options.jira_api_token.clone(),
        })),
    });
    let settings = Some(pb::IntegrationSettings {
        source: Some(pb::integration_settings::Source::Jira(pb::JiraSettings {
            project_keys: options.project_keys.clone(),
            ..Default::default()
        })),
    });
    let existing = client
        .list_integrations(with_api_key(
            key,
            pb::ListIntegrationsRequest {
                page: Some(pb::PageRequest {
                    page_size: 500,
                    page_token: String::new(),
                }),
            },
        ))
        .await?
        .into_inner()
        .integrations
        .into_iter()
        .find(|i| i.name == options.integration_name);
    if let Some(existing) = existing {
        client
            .update_integration(with_api_key(
                key,
                pb::UpdateIntegrationRequest {
                    id: existing.id.clone(),
                    name: None,
                    base_url: Some(options.jira_url.clone()),
                    credentials,
                    settings,
                },
            ))
            .await?;
        if !existing.active {
            client
                .set_integration_active(with_api_key(
                    key,
                    pb::SetIntegrationActiveRequest {
                        id: existing.id.clone(),
                        active: true,
                    },
                ))
                .await?;
        }
        return Ok(existing.id);
    }
    let created = client
        .create_integration(with_api_key(
            key,
            pb::CreateIntegrationRequest {
                r#type: pb::IntegrationType::Jira as i32,
                name: options.integration_name.clone(),
                base_url: options.jira_url.clone(),
                credentials,
                settings,
            },
        ))
        .await?
        .into_inner();
    created
        .integration
        .map(|i| i.id)
        .ok_or_else(|| anyhow::anyhow!("CreateIntegration returned no integration"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_progress_line_says_how_far_dev_status_is_and_what_throttling_cost() {
        let run = pb::JobRun {
            step_name: "dev status processing".into(),
            progress_percentage: 80.0,
            counts: Some(pb::RunCounts {
                batches_produced: 300,
                batches_loaded: 250,
                issues_fetched: 20_000,
                issues_loaded: 20_000,
                dev_status_issues: 10_000,
                dev_status_done: 2_500,
                api_calls: 3_000,
                peak_request_rate: 97.4,
                throttled_responses: 3,
                rate_limit_wait_ms: 2_500,
                ..Default::default()
            }),
            ..Default::default()
        };
        let line = progress_line(&run, Duration::from_secs(10));
        assert!(line.contains("pages 250/300 loaded"), "{line}");
        assert!(line.contains("issues 20000/20000 loaded"), "{line}");
        // 2,500 issues in 10 s: 7,500 left take ~30 s more.
        assert!(
            line.contains("dev status 2500/10000 issues (~30 s left)"),
            "{line}"
        );
        assert!(
            line.contains("(peak 97/s, 3 throttled, 2.5 s waited)"),
            "{line}"
        );
        let quiet = pb::JobRun::default();
        assert!(!progress_line(&quiet, Duration::ZERO).contains("dev status"));
        // The loader reported before the connector: never "5/0".
        let early = pb::JobRun {
            counts: Some(pb::RunCounts {
                batches_produced: 0,
                batches_loaded: 5,
                ..Default::default()
            }),
            ..Default::default()
        };
        assert!(progress_line(&early, Duration::ZERO).contains("pages 5/5 loaded"));
    }
}
