//! `sluice`: run one or every service, apply migrations, bootstrap a tenant, run the demo,
//! serve the API simulator, inspect raw pages.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand};
use sluice::cluster::{Addresses, Cluster};
use sluice_plumbing::CommonConfig;

#[derive(Parser)]
#[command(
    name = "sluice",
    version,
    about = "Jira and GitHub into PostgreSQL and a vector index"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Every service in one process (ports: SLUICE_<SERVICE>_ADDR, defaults 50051-50055 and 8080).
    All,
    Orchestrator,
    Connectors,
    Transformer,
    Loader,
    Vectorizer,
    Gateway,
    /// Apply database migrations and exit.
    Migrate,
    /// Create a tenant (if new) and print a new API key for it.
    Bootstrap {
        #[arg(long, default_value = "default")]
        tenant: String,
        #[arg(long, default_value = "cli")]
        key_name: String,
        /// An admin key: also sees broker-wide queue figures (never another tenant's rows).
        #[arg(long)]
        admin: bool,
    },
    /// Sync a Jira site (the simulator by default) through running services and print a summary.
    Demo {
        /// The gateway (Sluice's public address).
        #[arg(long, env = "SLUICE_API_URL", default_value = "http://127.0.0.1:8080")]
        api_url: String,
        #[arg(long, env = "JIRA_BASE_URL", default_value = "http://127.0.0.1:8090")]
        jira_url: String,
        #[arg(long, env = "JIRA_EMAIL", default_value = "demo@example.com")]
        jira_email: String,
        #[arg(
            long,
            env = "JIRA_API_TOKEN",
            default_value = "demo-token",
            hide_env_values = true
        )]
        jira_api_token: String,
        /// Only these project keys (comma separated); empty for all.
        #[arg(long, value_delimiter = ',')]
        projects: Vec<String>,
        #[arg(long, default_value = "demo-jira")]
        name: String,
        #[arg(long, default_value = ".sluice/demo-api-key")]
        key_file: PathBuf,
        #[arg(long, default_value_t = 600)]
        timeout_secs: u64,
    },
    /// Serve the Jira API simulator.
    Simulator {
        #[arg(long, default_value = "127.0.0.1:8090")]
        addr: String,
        /// Serve N generated projects instead of the recorded fixtures.
        #[arg(long)]
        generate_projects: Option<usize>,
        #[arg(long, default_value_t = 5)]
        issue_types: usize,
        #[arg(long, default_value_t = 8)]
        statuses: usize,
        /// With --generate-projects: issues per project (0 for metadata only).
        #[arg(long, default_value_t = 0)]
        issues_per_project: usize,
        /// With --generate-projects and issues: custom fields of the site.
        #[arg(long, default_value_t = 30)]
        custom_fields: usize,
        #[arg(long, default_value = "demo@example.com")]
        email: String,
        #[arg(long, default_value = "demo-token")]
        api_token: String,
    },
    /// Distil the `static` embedding provider's table from the local model and cache it next
    /// to the model (the vectorizer otherwise does this on first use).
    DistillStatic {
        /// The local model's directory (default: SLUICE_MODEL_DIR or .sluice/models/all-MiniLM-L6-v2).
        #[arg(long)]
        model_dir: Option<PathBuf>,
        /// Distil again even when a cached table exists.
        #[arg(long)]
        force: bool,
    },
    /// Ask a service's grpc.health.v1 whether it is SERVING: prints the status and exits 0
    /// only then, 1 otherwise with the cause (the image's HEALTHCHECK, compose's healthchecks).
    Health {
        /// The service's gRPC address (every port serves grpc.health.v1, the gateway's too).
        #[arg(
            long,
            env = "SLUICE_HEALTH_ADDR",
            default_value = "http://127.0.0.1:8080"
        )]
        addr: String,
        /// The service name to ask about; "" is the whole server.
        #[arg(long, default_value = "")]
        service: String,
        /// Give up after this long (connecting and answering together).
        #[arg(long, default_value_t = 3)]
        timeout_secs: u64,
    },
    /// Raw pages, exactly as received.
    Raw {
        #[command(subcommand)]
        command: RawCommand,
    },
}

#[derive(Subcommand)]
enum RawCommand {
    /// Print one page's body to stdout.
    Show { id: i64 },
    /// List the pages of a run.
    List {
        #[arg(long)]
        run: uuid::Uuid,
    },
}

/// One line of `sluice raw list`: id, type, HTTP status, size, loaded, error, URL.
type RawPageLine = (i64, String, i32, i32, bool, Option<String>, String);

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    sluice_plumbing::install_crypto_provider();
    let cli = Cli::parse();
    // A probe runs every few seconds: no telemetry, no log lines, just its answer.
    if let Command::Health {
        addr,
        service,
        timeout_secs,
    } = &cli.command
    {
        let timeout = Duration::from_secs(*timeout_secs);
        match check_health(addr, service, timeout).await {
            Ok(()) => {
                println!("SERVING");
                return Ok(());
            }
            Err(problem) => {
                eprintln!("{addr}: {problem}");
                std::process::exit(1);
            }
        }
    }
    let service = match &cli.command {
        Command::All => "sluice",
        Command::Orchestrator => "sluice-orchestrator",
        Command::Connectors => "sluice-connectors",
        Command::Transformer => "sluice-transformer",
        Command::Loader => "sluice-loader",
        Command::Vectorizer => "sluice-vectorizer",
        Command::Gateway => "sluice-gateway",
        _ => "sluice-cli",
    };
    let _telemetry = sluice_plumbing::telemetry::init(service)?;
    let addresses = Addresses::from_env();
    let shutdown = sluice_plumbing::shutdown_on_signal();
    let listen = |addr: String| async move {
        tokio::net::TcpListener::bind(&addr)
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen on {addr}: {e}"))
    };
    match cli.command {
        Command::All => {
            let orchestrator = sluice_orchestrator::OrchestratorConfig::from_env()?;
            let connectors = sluice_connectors::ConnectorsConfig::from_env()?;
            let vectorize = sluice_plumbing::config::env_flag("SLUICE_VECTORIZE", true)?;
            let cluster = Cluster::start(orchestrator, connectors, &addresses, vectorize).await?;
            let stop = cluster.shutdown.clone();
            tokio::spawn(async move {
                shutdown.cancelled().await;
                stop.cancel();
            });
            cluster.wait().await
        }
        Command::Orchestrator => {
            let config = sluice_orchestrator::OrchestratorConfig::from_env()?;
            sluice_orchestrator::run(
                config,
                listen(addresses.orchestrator).await?,
                listen(addresses.orchestrator_internal).await?,
                shutdown,
            )
            .await
        }
        Command::Connectors => {
            let config = sluice_connectors::ConnectorsConfig::from_env()?;
            sluice_connectors::run(config, listen(addresses.connectors).await?, shutdown).await
        }
        Command::Transformer => {
            let config = sluice_transformer::TransformerConfig::from_env()?;
            sluice_transformer::run(config, listen(addresses.transformer).await?, shutdown).await
        }
        Command::Loader => {
            let config = sluice_loader::LoaderConfig::from_env()?;
            sluice_loader::run(config, listen(addresses.loader).await?, shutdown).await
        }
        Command::Vectorizer => {
            let config = sluice_vectorizer::VectorizerConfig::from_env()?;
            sluice_vectorizer::run(config, listen(addresses.vectorizer).await?, shutdown).await
        }
        Command::Gateway => {
            let config = sluice_gateway::GatewayConfig::from_env()?;
            sluice_gateway::run(config, listen(addresses.gateway).await?, shutdown).await
        }
        Command::Migrate => {
            let pool = sluice_plumbing::db::connect(&CommonConfig::from_env()?).await?;
            sluice_plumbing::db::migrate(&pool).await
        }
        Command::Bootstrap {
            tenant,
            key_name,
            admin,
        } => {
            let pool = sluice_plumbing::db::connect(&CommonConfig::from_env()?).await?;
            sluice_plumbing::db::migrate(&pool).await?;
            let issued = sluice_plumbing::auth::issue_key(&pool, &tenant, &key_name, admin).await?;
            eprintln!(
                "tenant {tenant} ({}): new {}API key (shown once):",
                issued.tenant_id,
                if admin { "admin " } else { "" }
            );
            println!("{}", issued.key);
            Ok(())
        }
        Command::Demo {
            api_url,
            jira_url,
            jira_email,
            jira_api_token,
            projects,
            name,
            key_file,
            timeout_secs,
        } => {
            let pool = sluice_plumbing::db::connect(&CommonConfig::from_env()?).await?;
            let options = sluice::demo::DemoOptions {
                api_url,
                jira_url,
                jira_email,
                jira_api_token,
                project_keys: projects,
                integration_name: name,
                key_file,
                timeout: Duration::from_secs(timeout_secs),
            };
            if sluice::demo::run(&pool, &options).await? {
                Ok(())
            } else {
                anyhow::bail!("the sync did not complete")
            }
        }
        Command::Simulator {
            addr,
            generate_projects,
            issue_types,
            statuses,
            issues_per_project,
            custom_fields,
            email,
            api_token,
        } => {
            let dataset = match generate_projects {
                Some(projects) if issues_per_project > 0 => {
                    sluice_simulator::Dataset::generated(projects, issue_types, statuses)
                        .with_issues(sluice_simulator::IssueSpec {
                            issues_per_project,
                            custom_fields,
                            ..Default::default()
                        })
                }
                Some(projects) => {
                    sluice_simulator::Dataset::generated(projects, issue_types, statuses)
                }
                None => sluice_simulator::Dataset::fixtures(),
            };
            let config = sluice_simulator::SimulatorConfig {
                dataset,
                auth: sluice_simulator::SimAuth::Basic { email, api_token },
                max_page_size: sluice_simulator::DEFAULT_MAX_PAGE_SIZE,
            };
            let simulator = sluice_simulator::Simulator::start(config, listen(addr).await?).await?;
            tracing::info!(url = %simulator.base_url(), "jira simulator serving");
            shutdown.cancelled().await;
            simulator.shutdown();
            Ok(())
        }
        Command::DistillStatic { model_dir, force } => {
            use sluice_vectorizer::embed::static_model::StaticModel;
            let dir = model_dir.unwrap_or_else(sluice_vectorizer::embed::model_dir);
            let cached = StaticModel::cached_path(&dir);
            let started = std::time::Instant::now();
            let local = sluice_vectorizer::embed::LocalModel::load(
                &dir,
                256,
                std::thread::available_parallelism().map_or(1, |n| n.get()),
            )
            .map_err(|e| {
                anyhow::anyhow!(
                    "the local model in {} is not available: {e} (deploy/setup-model.sh places it)",
                    dir.display()
                )
            })?;
            if !force && StaticModel::load_cached(&dir, &local).is_ok() {
                eprintln!(
                    "{} is already distilled (--force to distil again)",
                    cached.display()
                );
                return Ok(());
            }
            let model = StaticModel::distill_and_cache(&dir, &local)?;
            eprintln!(
                "distilled {} tokens × {} dimensions into {} in {:.1} s",
                model.vocabulary(),
                model.dimensions(),
                cached.display(),
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
        Command::Health { .. } => unreachable!("answered before telemetry starts"),
        Command::Raw { command } => {
            let pool = sluice_plumbing::db::connect(&CommonConfig::from_env()?).await?;
            match command {
                RawCommand::Show { id } => {
                    let page = sluice_plumbing::raw::load(&pool, None, id).await?;
                    use std::io::Write;
                    std::io::stdout().write_all(&page.body)?;
                    Ok(())
                }
                RawCommand::List { run } => {
                    let rows: Vec<RawPageLine> = sqlx::query_as(
                        "SELECT id, extraction_type, http_status, payload_size, processed_at IS NOT NULL,
                                error_message, request_url
                         FROM raw_extraction_pages WHERE run_id = $1 ORDER BY id",
                    )
                    .bind(run)
                    .fetch_all(&pool)
                    .await?;
                    println!(
                        "{:>8}  {:<22} {:>4} {:>9}  {:<9} url",
                        "id", "type", "http", "bytes", "loaded"
                    );
                    for (id, kind, status, size, processed, error, url) in rows {
                        let state = match (processed, error) {
                            (_, Some(error)) => format!("FAILED: {error}"),
                            (true, None) => "yes".to_string(),
                            (false, None) => "no".to_string(),
                        };
                        println!("{id:>8}  {kind:<22} {status:>4} {size:>9}  {state:<9} {url}");
                    }
                    Ok(())
                }
            }
        }
    }
}

/// grpc.health.v1 Check of `service` at `addr`: Ok only for SERVING; otherwise the status
/// or the cause (connection refused, timeout, an unknown service).
async fn check_health(addr: &str, service: &str, timeout: Duration) -> Result<(), String> {
    use tonic_health::pb::health_check_response::ServingStatus;
    use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};
    let endpoint = tonic::transport::Endpoint::from_shared(addr.to_string())
        .map_err(|e| format!("invalid address: {e}"))?
        .connect_timeout(timeout);
    let check = async {
        let channel = endpoint.connect().await.map_err(|e| with_causes(&e))?;
        let answer = HealthClient::new(channel)
            .check(HealthCheckRequest {
                service: service.to_string(),
            })
            .await
            .map_err(|status| format!("{:?}: {}", status.code(), status.message()))?;
        match ServingStatus::try_from(answer.into_inner().status) {
            Ok(ServingStatus::Serving) => Ok(()),
            Ok(other) => Err(other.as_str_name().to_string()),
            Err(_) => Err("an unknown serving status".to_string()),
        }
    };
    tokio::time::timeout(timeout, check)
        .await
        .unwrap_or_else(|_| Err(format!("no answer within {} s", timeout.as_secs())))
}

/// An error with its sources: tonic's "transport error" alone does not say "connection refused".
fn with_causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        // Layers often repeat their inner error's words ("tcp connect error: tcp connect error").
        if !text.ends_with(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}
