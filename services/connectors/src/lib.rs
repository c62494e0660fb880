//! Connectors: consume ExtractRequests from `etl.extract`, call the source API, store every
//! page exactly as received and hand references to the transformer. Also serves the internal
//! ConnectorService (test connection) for the orchestrator.
//!
//! Sources live in their own folders (`jira/`); adding one touches its folder and the match
//! in [`extract_run`].

mod error;
mod fields;
pub mod github;
mod integration;
pub mod jira;
pub mod pacing;
mod progress;
mod traffic;
mod wire;

use std::time::{Duration, Instant};

use prost::Message as _;
use sluice_plumbing::CommonConfig;
use sluice_plumbing::amqp::{Message, Outcome, Publisher, spawn_consumers};
use sluice_plumbing::crypto::CredentialCipher;
use sluice_plumbing::progress::ProgressReporter;
use sluice_plumbing::raw::RunIds;
use sluice_proto::v1 as pb;
use sqlx::PgPool;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status};
use tracing::{info, warn};
use uuid::Uuid;

pub use error::{ConnectorError, ErrorDomain};
pub use jira::client::RetryPolicy;
pub use jira::issues::IssueFetch;

use jira::client::JiraClient;
use jira::extract::{Extracted, JiraRun};
use progress::RunReporter;

#[derive(Clone, Debug)]
pub struct ConnectorsConfig {
    pub common: CommonConfig,
    pub cipher: CredentialCipher,
    /// Retries of source API calls (`SLUICE_HTTP_MAX_ATTEMPTS`, `SLUICE_HTTP_RETRY_BASE_MS`,
    /// `SLUICE_HTTP_MAX_RETRY_AFTER_SECS`).
    pub retry: RetryPolicy,
    /// Timeout of one HTTP request (`SLUICE_HTTP_TIMEOUT_SECS`, default 60).
    pub http_timeout: Duration,
    /// Issue fetching: projects in parallel (`SLUICE_JIRA_PROJECT_CONCURRENCY`, default 4),
    /// overlap behind the cursor (`SLUICE_JIRA_OVERLAP_MINUTES`, default 5), page size
    /// (`SLUICE_JIRA_ISSUE_PAGE_SIZE`, default 100), dev-status requests in flight
    /// (`SLUICE_JIRA_DEV_STATUS_CONCURRENCY`, default 32).
    pub issue_fetch: IssueFetch,
    /// A hard ceiling on requests per second to one Jira site
    /// (`SLUICE_JIRA_REQUESTS_PER_SECOND`, default 0: none, the adaptive pacing follows what
    /// the site allows).
    pub jira_requests_per_second: u32,
    /// Where a Jira site's adaptive pacing starts, in requests per second
    /// (`SLUICE_JIRA_INITIAL_REQUESTS_PER_SECOND`, default 20); it grows from there while the
    /// site keeps up.
    pub jira_initial_requests_per_second: u32,
    /// CA certificates trusted for Jira and GitHub besides the system's
    /// (`SLUICE_HTTP_EXTRA_CA_FILE`, a PEM bundle): sites behind a private or corporate CA.
    pub extra_ca: Vec<reqwest::Certificate>,
}

/// Reads the CA bundle `SLUICE_HTTP_EXTRA_CA_FILE` names (none when unset).
pub fn extra_ca_from_env() -> Result<Vec<reqwest::Certificate>, sluice_plumbing::config::ConfigError>
{
    const VARIABLE: &str = "SLUICE_HTTP_EXTRA_CA_FILE";
    let Some(path) = sluice_plumbing::config::env_string(VARIABLE) else {
        return Ok(Vec::new());
    };
    let problem = |problem: String| sluice_plumbing::config::ConfigError {
        variable: VARIABLE,
        problem,
    };
    let pem = std::fs::read(&path).map_err(|e| problem(format!("cannot read {path}: {e}")))?;
    let certificates = reqwest::Certificate::from_pem_bundle(&pem)
        .map_err(|e| problem(format!("{path} is not a PEM bundle of certificates: {e}")))?;
    if certificates.is_empty() {
        return Err(problem(format!("{path} holds no PEM certificate")));
    }
    Ok(certificates)
}

impl ConnectorsConfig {
    pub fn from_env() -> anyhow::Result<Self> {
        use sluice_plumbing::config::env_parse;
        let defaults = RetryPolicy::default();
        Ok(ConnectorsConfig {
            common: CommonConfig::from_env()?,
            cipher: CredentialCipher::from_env()?,
            retry: RetryPolicy {
                max_attempts: env_parse("SLUICE_HTTP_MAX_ATTEMPTS", defaults.max_attempts, |v| {
                    *v >= 1
                })?,
                max_throttled: defaults.max_throttled,
                base_delay: Duration::from_millis(env_parse(
                    "SLUICE_HTTP_RETRY_BASE_MS",
                    defaults.base_delay.as_millis() as u64,
                    |_| true,
                )?),
                max_retry_after: Duration::from_secs(env_parse(
                    "SLUICE_HTTP_MAX_RETRY_AFTER_SECS",
                    defaults.max_retry_after.as_secs(),
                    |_| true,
                )?),
            },
            http_timeout: Duration::from_secs(env_parse("SLUICE_HTTP_TIMEOUT_SECS", 60, |v| {
                *v > 0
            })?),
            issue_fetch: IssueFetch {
                project_concurrency: env_parse("SLUICE_JIRA_PROJECT_CONCURRENCY", 4, |v| *v > 0)?,
                overlap: Duration::from_secs(
                    60 * env_parse("SLUICE_JIRA_OVERLAP_MINUTES", 5u64, |_| true)?,
                ),
                page_size: env_parse("SLUICE_JIRA_ISSUE_PAGE_SIZE", 100, |v| {
                    (1..=100).contains(v)
                })?,
                dev_status_concurrency: env_parse("SLUICE_JIRA_DEV_STATUS_CONCURRENCY", 32, |v| {
                    *v > 0
                })?,
                repo_concurrency: env_parse("SLUICE_GITHUB_REPO_CONCURRENCY", 4, |v| *v > 0)?,
            },
            jira_requests_per_second: env_parse("SLUICE_JIRA_REQUESTS_PER_SECOND", 0, |_| true)?,
            jira_initial_requests_per_second: env_parse(
                "SLUICE_JIRA_INITIAL_REQUESTS_PER_SECOND",
                pacing::PacingConfig::default().initial_rate as u32,
                |v| *v > 0,
            )?,
            extra_ca: extra_ca_from_env()?,
        })
    }
}

#[derive(Clone)]
struct Connectors {
    pool: PgPool,
    cipher: CredentialCipher,
    http: reqwest::Client,
    retry: RetryPolicy,
    reporter: ProgressReporter,
    issue_fetch: IssueFetch,
    jira_requests_per_second: u32,
    jira_initial_requests_per_second: u32,
}

/// Runs the connectors service until `shutdown` is cancelled.
pub async fn run(
    config: ConnectorsConfig,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let pool = sluice_plumbing::db::connect(&config.common).await?;
    sluice_plumbing::db::migrate(&pool).await?;
    let http = reqwest::Client::builder()
        .timeout(config.http_timeout)
        // Redirects are followed only within one origin: credentials never leave it.
        .redirect(reqwest::redirect::Policy::custom(|attempt| {
            let same_origin = attempt.previous().first().is_some_and(|first| {
                sluice_plumbing::origin::Origin::of(first.as_str())
                    == sluice_plumbing::origin::Origin::of(attempt.url().as_str())
            });
            if attempt.previous().len() > 5 {
                attempt.error("more than 5 redirects")
            } else if same_origin {
                attempt.follow()
            } else {
                attempt.stop()
            }
        }))
        .user_agent(concat!("sluice/", env!("CARGO_PKG_VERSION")))
        .tls_certs_merge(config.extra_ca.iter().cloned())
        .build()?;
    let state = Connectors {
        pool,
        cipher: config.cipher.clone(),
        http,
        retry: config.retry.clone(),
        reporter: ProgressReporter::new(&config.common)?,
        issue_fetch: config.issue_fetch.clone(),
        jira_requests_per_second: config.jira_requests_per_second,
        jira_initial_requests_per_second: config.jira_initial_requests_per_second,
    };
    let topology = config.common.topology();
    let worker = state.clone();
    // One extraction at a time per consumer: a run is long and holds its own HTTP budget.
    let consumers = spawn_consumers(
        &config.common,
        topology.extract(),
        1,
        move |message, publisher| {
            let worker = worker.clone();
            async move { worker.handle_extract(message, publisher).await }
        },
        &shutdown,
    );
    tracing::info!(addr = %listener.local_addr()?, "connectors listening");
    // Internal: only the deployment's services (with its token) may call it.
    let routes = tonic::service::Routes::new(
        pb::connector_service_server::ConnectorServiceServer::with_interceptor(
            state,
            config.common.internal_auth()?.server(),
        ),
    );
    sluice_plumbing::grpc::serve(
        listener,
        routes,
        &["sluice.v1.ConnectorService"],
        shutdown.clone().cancelled_owned(),
    )
    .await?;
    for consumer in consumers {
        let _ = consumer.await;
    }
    Ok(())
}

impl Connectors {
    /// How a Jira site's pacing starts (the ceiling from configuration).
    fn pacing(&self) -> pacing::PacingConfig {
        pacing::PacingConfig {
            ceiling: f64::from(self.jira_requests_per_second),
            initial_rate: f64::from(self.jira_initial_requests_per_second),
            ..Default::default()
        }
    }

    async fn handle_extract(&self, message: Message, publisher: Publisher) -> Outcome {
        let request = match pb::ExtractRequest::decode(message.data.as_slice()) {
            Ok(request) => request,
            Err(error) => {
                return Outcome::DeadLetter {
                    reason: "malformed ExtractRequest".into(),
                    error: error.to_string(),
                };
            }
        };
        let Some(run) = request.run.clone() else {
            return Outcome::DeadLetter {
                reason: "ExtractRequest without run context".into(),
                error: "field `run` is missing".into(),
            };
        };
        let span = tracing::info_span!("connector.extract", run_id = %run.run_id, integration_id = %run.integration_id);
        sluice_plumbing::telemetry::set_parent_from_payload(&span, run.trace.as_ref());
        use tracing::Instrument;
        self.extract_run(request, run, publisher)
            .instrument(span)
            .await
    }

    async fn extract_run(
        &self,
        request: pb::ExtractRequest,
        run: pb::RunContext,
        publisher: Publisher,
    ) -> Outcome {
        let ids = match run_ids(&run) {
            Ok(ids) => ids,
            Err(error) => {
                return Outcome::DeadLetter {
                    reason: "ExtractRequest with invalid ids".into(),
                    error,
                };
            }
        };
        let still_running: Result<Option<String>, sqlx::Error> =
            sqlx::query_scalar("SELECT status FROM job_runs WHERE id = $1 AND tenant_id = $2")
                .bind(ids.run_id)
                .bind(ids.tenant_id)
                .fetch_optional(&self.pool)
                .await;
        match still_running {
            Ok(Some(status)) if status == "RUNNING" => {}
            Ok(Some(status)) => {
                info!(run_id = %ids.run_id, %status, "run already ended; extraction skipped");
                return Outcome::Ack;
            }
            Ok(None) => {
                return Outcome::DeadLetter {
                    reason: "ExtractRequest for an unknown run".into(),
                    error: format!("run {} not found", ids.run_id),
                };
            }
            Err(error) => {
                return Outcome::Retry {
                    error: error.to_string(),
                };
            }
        }
        // A redelivered request (the connector or the broker went away mid-extraction)
        // extracts again from the start; pages a previous attempt stored but may never have
        // published must not hold the run open, so they stop counting. Pages it did publish
        // still load harmlessly (upserts).
        match sqlx::query(
            "DELETE FROM run_batches WHERE run_id = $1 AND tenant_id = $2
               AND loaded_at IS NULL AND error_message IS NULL",
        )
        .bind(ids.run_id)
        .bind(ids.tenant_id)
        .execute(&self.pool)
        .await
        {
            Ok(done) if done.rows_affected() > 0 => {
                info!(run_id = %ids.run_id, pages = done.rows_affected(), "extraction restarted; earlier unloaded pages no longer awaited");
            }
            Ok(_) => {}
            Err(error) => {
                return Outcome::Retry {
                    error: error.to_string(),
                };
            }
        }
        let traffic = std::sync::Arc::new(traffic::RunTraffic::default());
        let reporter = RunReporter::new(self.reporter.clone(), run.clone(), traffic.clone());
        // While extracting (rate-limit waits included), the run's lease is renewed even when
        // no page is stored; the orchestrator fails runs whose workers fall silent.
        let _heartbeat = {
            let reporter = self.reporter.clone();
            let run = run.clone();
            let stop = tokio_util::sync::CancellationToken::new();
            let guard = stop.clone().drop_guard();
            tokio::spawn(async move {
                loop {
                    tokio::select! {
                        _ = stop.cancelled() => return,
                        _ = tokio::time::sleep(HEARTBEAT_INTERVAL) => {}
                    }
                    let beat = pb::ReportProgressRequest {
                        run: Some(run.clone()),
                        stage: pb::Stage::Extract as i32,
                        ..Default::default()
                    };
                    if let Err(status) = reporter.report(beat).await {
                        tracing::debug!(error = %status.message(), "heartbeat not delivered");
                    }
                }
            });
            guard
        };
        let integration =
            match integration::load(&self.pool, &self.cipher, ids.tenant_id, ids.integration_id)
                .await
            {
                Ok(integration) => integration,
                Err(error) => return self.fail(&reporter, &error).await,
            };
        if !integration.active {
            let error =
                ConnectorError::config(format!("integration {} is inactive", ids.integration_id));
            return self.fail(&reporter, &error).await;
        }
        let started = Instant::now();
        let job_type = pb::JobType::try_from(request.job_type).unwrap_or(pb::JobType::Unspecified);
        let (result, api_calls) = match (integration.integration_type.as_str(), job_type) {
            (
                "jira",
                pb::JobType::JiraSync | pb::JobType::JiraIssues | pb::JobType::JiraDiscovery,
            ) => {
                let client = JiraClient::new(
                    self.http.clone(),
                    &integration.base_url,
                    integration.credentials,
                    self.retry.clone(),
                    self.pacing(),
                    traffic.clone(),
                );
                let dev_client = client.dev_status();
                let settings = integration.settings.jira.unwrap_or_default();
                let fields =
                    match fields::requested(&self.pool, ids.tenant_id, ids.integration_id).await {
                        Ok(fields) => fields,
                        Err(error) => {
                            return Outcome::Retry {
                                error: error.to_string(),
                            };
                        }
                    };
                let cursors =
                    sluice_plumbing::cursors::ScopeCursors::from_request(&request.scope_cursors);
                let jira_run = JiraRun {
                    pool: &self.pool,
                    publisher: &publisher,
                    client: &client,
                    dev_client: &dev_client,
                    settings: &settings,
                    ids,
                    run: &run,
                    reporter: &reporter,
                    cursors,
                    fetch: &self.issue_fetch,
                    fields,
                    dev: Default::default(),
                    detail_group: std::sync::Mutex::new(Vec::new()),
                    changelog_group: std::sync::Mutex::new(Vec::new()),
                };
                let result = if job_type == pb::JobType::JiraDiscovery {
                    jira_run.discover(&request.project_key).await
                } else {
                    jira_run.extract(&request.steps).await
                };
                (result, client.api_calls())
            }
            ("github", pb::JobType::GithubSync) => {
                let sluice_plumbing::credentials::SourceCredentials::Github { tokens } =
                    integration.credentials
                else {
                    let error = ConnectorError::config(
                        "a GitHub integration needs GitHub tokens as credentials".into(),
                    );
                    return self.fail(&reporter, &error).await;
                };
                let validators =
                    match github::extract::validators(&self.pool, ids.integration_id).await {
                        Ok(validators) => validators,
                        Err(error) => {
                            return Outcome::Retry {
                                error: error.to_string(),
                            };
                        }
                    };
                let client = github::client::GithubClient::new(
                    self.http.clone(),
                    &integration.base_url,
                    tokens,
                    self.retry.clone(),
                    validators,
                    traffic.clone(),
                );
                let settings = integration.settings.github.unwrap_or_default();
                let cursors =
                    sluice_plumbing::cursors::ScopeCursors::from_request(&request.scope_cursors);
                let github_run = github::extract::GithubRun {
                    pool: &self.pool,
                    publisher: &publisher,
                    client: &client,
                    settings: &settings,
                    ids,
                    run: &run,
                    reporter: &reporter,
                    cursors,
                    concurrency: self.issue_fetch.repo_concurrency,
                    pages: std::sync::atomic::AtomicU64::new(0),
                    outlook: Default::default(),
                    rest_only: Default::default(),
                };
                let result = github_run.extract().await;
                (result, client.api_calls())
            }
            (kind, job_type) => (
                Err(ConnectorError::config(format!(
                    "{job_type:?} jobs on {kind} integrations are not supported by this connector"
                ))),
                0,
            ),
        };
        match result {
            Ok(Extracted::Finished { pages }) => {
                let last_step = request.steps.last().copied().unwrap_or(0);
                match reporter.finished(last_step).await {
                    Ok(_) => {
                        info!(run_id = %ids.run_id, pages, api_calls, elapsed_ms = started.elapsed().as_millis() as u64, "extraction finished");
                        Outcome::Ack
                    }
                    Err(error) => Outcome::Retry {
                        error: error.message,
                    },
                }
            }
            Ok(Extracted::Stopped) => {
                info!(run_id = %ids.run_id, "run ended elsewhere; extraction stopped");
                Outcome::Ack
            }
            Err(error) if error.domain == ErrorDomain::Internal && error.retryable => {
                Outcome::Retry {
                    error: error.message,
                }
            }
            Err(error) => self.fail(&reporter, &error).await,
        }
    }

    /// The run cannot succeed: end it FAILED with the error (the message is not poison).
    async fn fail(&self, reporter: &RunReporter, error: &ConnectorError) -> Outcome {
        warn!(error = %error.message, domain = ?error.domain, "extraction failed");
        match reporter.failed(&error.message).await {
            Ok(_) => Outcome::Ack,
            Err(report_error) => Outcome::Retry {
                error: report_error.message,
            },
        }
    }
}

/// How often a running extraction renews its run's lease.
const HEARTBEAT_INTERVAL: Duration = Duration::from_secs(30);

fn run_ids(run: &pb::RunContext) -> Result<RunIds, String> {
    let parse = |field: &str, value: &str| {
        Uuid::parse_str(value).map_err(|_| format!("run.{field} {value:?} is not a UUID"))
    };
    Ok(RunIds {
        tenant_id: parse("tenant_id", &run.tenant_id)?,
        integration_id: parse("integration_id", &run.integration_id)?,
        run_id: parse("run_id", &run.run_id)?,
    })
}

#[tonic::async_trait]
impl pb::connector_service_server::ConnectorService for Connectors {
    async fn test_connection(
        &self,
        request: Request<pb::ConnectorTestConnectionRequest>,
    ) -> Result<Response<pb::ConnectorTestConnectionResponse>, Status> {
        let request = request.into_inner();
        let tenant_id = sluice_plumbing::grpc::parse_id("tenant_id", &request.tenant_id)?;
        let integration_id =
            sluice_plumbing::grpc::parse_id("integration_id", &request.integration_id)?;
        let integration = integration::load(&self.pool, &self.cipher, tenant_id, integration_id)
            .await
            .map_err(|e| match e.domain {
                ErrorDomain::User => Status::not_found(e.message),
                _ => Status::unavailable(e.message),
            })?;
        if integration.integration_type == "github" {
            let tokens = match &integration.credentials {
                sluice_plumbing::credentials::SourceCredentials::Github { tokens } => {
                    tokens.clone()
                }
                _ => Vec::new(),
            };
            return Ok(Response::new(
                github::test_connection(&self.http, &integration.base_url, &tokens).await,
            ));
        }
        if integration.integration_type != "jira" {
            return Err(Status::unimplemented(format!(
                "testing {} integrations is not implemented yet",
                integration.integration_type
            )));
        }
        // One attempt: the operator wants the answer now, not after backoff.
        let retry = RetryPolicy {
            max_attempts: 1,
            ..self.retry.clone()
        };
        let client = JiraClient::new(
            self.http.clone(),
            &integration.base_url,
            integration.credentials,
            retry,
            self.pacing(),
            Default::default(),
        );
        let started = Instant::now();
        let answer = match client.get("/rest/api/3/myself", &[]).await {
            Ok(fetched) => match serde_json::from_slice::<jira::model::Myself>(&fetched.body) {
                Ok(me) => pb::ConnectorTestConnectionResponse {
                    ok: true,
                    message: format!(
                        "authenticated as {}",
                        if me.display_name.is_empty() {
                            &me.email_address
                        } else {
                            &me.display_name
                        }
                    ),
                    account_name: me.display_name,
                    latency_ms: started.elapsed().as_millis() as i64,
                },
                Err(error) => pb::ConnectorTestConnectionResponse {
                    ok: false,
                    message: format!("unexpected answer from {}: {error}", fetched.url),
                    account_name: String::new(),
                    latency_ms: started.elapsed().as_millis() as i64,
                },
            },
            Err(error) => pb::ConnectorTestConnectionResponse {
                ok: false,
                message: error.message,
                account_name: String::new(),
                latency_ms: started.elapsed().as_millis() as i64,
            },
        };
        Ok(Response::new(answer))
    }

    async fn discover_fields(
        &self,
        _request: Request<pb::ConnectorDiscoverFieldsRequest>,
    ) -> Result<Response<pb::ConnectorDiscoverFieldsResponse>, Status> {
        Err(Status::unimplemented(
            "custom field discovery arrives with the Jira issues sync",
        ))
    }

    async fn list_remote_projects(
        &self,
        _request: Request<pb::ListRemoteProjectsRequest>,
    ) -> Result<Response<pb::ListRemoteProjectsResponse>, Status> {
        Err(Status::unimplemented(
            "listing remote projects is not implemented yet",
        ))
    }
}
