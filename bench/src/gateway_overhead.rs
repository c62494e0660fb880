//! Gateway overhead (issue 13): what the gateway adds to a call, and what it costs to hold
//! many WatchJobs streams through it during a sync.
//!
//! `sluice all` (every service, scheduler off, its own queue prefix) and a separate
//! `sluice gateway` process pointed at that orchestrator and vectorizer, so the gateway's RSS
//! and CPU are its own; the Jira simulator runs in this process on its own runtime thread.
//!
//! 1. Unary: `AccountService/WhoAmI` directly to the orchestrator (gRPC), through the gateway
//!    over gRPC, over grpc-web (HTTP/1.1, `application/grpc-web+proto`) and over HTTP/JSON, at
//!    each `--concurrency`: p50/p99 latency, calls/s, the gateway's added p50/p99 against the
//!    direct call and the gateway's CPU per call.
//! 2. Streams: `--streams` WatchJobs streams (the whole tenant) through the gateway over
//!    `--stream-connections` HTTP/2 connections, plus one direct stream as the reference, then
//!    a full sync of `--issues` generated issues: events received, delay between each event's
//!    `at` (stamped by the orchestrator when its listener broadcasts the change to its
//!    subscribers, before the fan-out) and its arrival, and the gateway's RSS.
//!    `--direct-streams` opens the same streams directly to the orchestrator (the same fan-out
//!    without the gateway); `--streams 0` runs the sync with the reference stream alone.
//!
//! ```sh
//! cargo build --release -p sluice -p sluice-bench
//! SLUICE_DATABASE_URL='postgres://sluice:sluice@127.0.0.1:5432/sluice_test?sslmode=disable' \
//!   target/release/gateway-overhead --calls 2000 --concurrency 1,64 --streams 1000 --issues 50000
//! ```

mod cpu;
mod services;

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use clap::Parser;
use prost::Message as _;
use sluice_plumbing::auth::with_api_key;
use sluice_proto::v1 as pb;
use sluice_proto::v1::account_service_client::AccountServiceClient;
use sluice_proto::v1::integration_service_client::IntegrationServiceClient;
use sluice_proto::v1::job_service_client::JobServiceClient;
use sluice_simulator::{Dataset, Fault, FaultKind, IssueSpec, SimAuth, Simulator, SimulatorConfig};
use tokio_util::sync::CancellationToken;
use tonic::transport::{Channel, Endpoint};

use services::{Children, free_port, peak_rss_mb, run_job, service_env};

#[derive(Parser)]
struct Args {
    /// Measured unary calls per path and concurrency.
    #[arg(long, default_value_t = 2_000)]
    calls: usize,
    /// Unmeasured calls per path before the measurements of each concurrency.
    #[arg(long, default_value_t = 200)]
    warmup: usize,
    /// The calls of each row are made in this many rounds, the paths taking turns (in a
    /// rotating order), so that other load on the machine falls on every path alike.
    #[arg(long, default_value_t = 5)]
    rounds: usize,
    /// Concurrent clients of the unary measurements (comma separated).
    #[arg(long, value_delimiter = ',', default_values_t = [1usize, 64])]
    concurrency: Vec<usize>,
    /// WatchJobs streams through the gateway during the sync (besides one direct reference
    /// stream).
    #[arg(long, default_value_t = 1_000)]
    streams: usize,
    /// HTTP/2 connections the streams are spread over (the gateway accepts 200 concurrent
    /// streams per connection).
    #[arg(long, default_value_t = 10)]
    stream_connections: usize,
    /// Open the streams directly to the orchestrator instead (the comparison without the
    /// gateway at the same fan-out).
    #[arg(long)]
    direct_streams: bool,
    /// Issues synced with the streams open (0: no stream phase); with `--streams 0` the sync
    /// runs with the direct reference stream alone.
    #[arg(long, default_value_t = 50_000)]
    issues: usize,
    #[arg(long, default_value_t = 5)]
    projects: usize,
    /// Latency the simulator adds to every request.
    #[arg(long, default_value_t = 20)]
    latency_ms: u64,
    /// Where the `sluice` binary is.
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
const WHO_AM_I: &str = "/sluice.v1.AccountService/WhoAmI";
/// A grpc-web request holding an empty `WhoAmIRequest`: flag 0, length 0.
const EMPTY_FRAME: &[u8] = &[0, 0, 0, 0, 0];
/// Every endpoint a sync calls gets the latency (as in jira_ingest.rs).
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

#[derive(Clone, Copy, PartialEq, Eq)]
enum Via {
    Direct,
    GatewayGrpc,
    GatewayGrpcWeb,
    GatewayJson,
}

impl Via {
    const ALL: [Via; 4] = [
        Via::Direct,
        Via::GatewayGrpc,
        Via::GatewayGrpcWeb,
        Via::GatewayJson,
    ];

    fn label(self) -> &'static str {
        match self {
            Via::Direct => "direct to the orchestrator, gRPC",
            Via::GatewayGrpc => "gateway, gRPC (HTTP/2)",
            Via::GatewayGrpcWeb => "gateway, grpc-web (HTTP/1.1)",
            Via::GatewayJson => "gateway, HTTP/JSON (HTTP/1.1)",
        }
    }
}

/// Everything a unary call needs; clones share the connections.
#[derive(Clone)]
struct Callers {
    /// One HTTP/2 connection to the orchestrator, one to the gateway.
    direct: Channel,
    gateway: Channel,
    /// HTTP/1.1, a pool of connections (one per concurrent client).
    http: reqwest::Client,
    gateway_url: String,
    key: Arc<str>,
    bearer: Arc<str>,
    tenant_id: Arc<str>,
}

impl Callers {
    async fn call(&self, via: Via) -> anyhow::Result<()> {
        let tenant = match via {
            Via::Direct | Via::GatewayGrpc => {
                let channel = if via == Via::Direct {
                    self.direct.clone()
                } else {
                    self.gateway.clone()
                };
                AccountServiceClient::new(channel)
                    .who_am_i(with_api_key(&self.key, pb::WhoAmIRequest {}))
                    .await?
                    .into_inner()
                    .tenant_id
            }
            Via::GatewayGrpcWeb => {
                let response = self
                    .http
                    .post(format!("{}{WHO_AM_I}", self.gateway_url))
                    .header("content-type", "application/grpc-web+proto")
                    .header("x-grpc-web", "1")
                    .header("authorization", &*self.bearer)
                    .body(EMPTY_FRAME)
                    .send()
                    .await?;
                anyhow::ensure!(
                    response.status() == 200,
                    "grpc-web: HTTP {}",
                    response.status()
                );
                anyhow::ensure!(
                    response.version() == reqwest::Version::HTTP_11,
                    "grpc-web: not HTTP/1.1"
                );
                // A trailers-only answer (an error) has its status in the headers.
                if let Some(status) = response.headers().get("grpc-status") {
                    anyhow::ensure!(status == "0", "grpc-web: grpc-status {status:?}");
                }
                let body = response.bytes().await?;
                grpc_web_answer(&body)?.tenant_id
            }
            Via::GatewayJson => {
                let response = self
                    .http
                    .post(format!("{}{WHO_AM_I}", self.gateway_url))
                    .header("content-type", "application/json")
                    .header("authorization", &*self.bearer)
                    .body("{}")
                    .send()
                    .await?;
                anyhow::ensure!(response.status() == 200, "json: HTTP {}", response.status());
                let answer: serde_json::Value = response.json().await?;
                answer["tenantId"].as_str().unwrap_or_default().to_string()
            }
        };
        anyhow::ensure!(
            *tenant == *self.tenant_id,
            "WhoAmI answered tenant {tenant:?}"
        );
        Ok(())
    }
}

/// The message of a grpc-web answer: one data frame, then the trailer frame (flag 0x80) that
/// must say grpc-status 0.
fn grpc_web_answer(body: &[u8]) -> anyhow::Result<pb::WhoAmIResponse> {
    let mut rest = body;
    let mut message = None;
    let mut status = None;
    while !rest.is_empty() {
        anyhow::ensure!(rest.len() >= 5, "grpc-web: truncated frame header");
        let flag = rest[0];
        let length = u32::from_be_bytes([rest[1], rest[2], rest[3], rest[4]]) as usize;
        anyhow::ensure!(rest.len() >= 5 + length, "grpc-web: truncated frame");
        let payload = &rest[5..5 + length];
        if flag & 0x80 != 0 {
            let text = std::str::from_utf8(payload)?;
            for line in text.split("\r\n") {
                if let Some((name, value)) = line.split_once(':')
                    && name.trim().eq_ignore_ascii_case("grpc-status")
                {
                    status = Some(value.trim().to_string());
                }
            }
        } else {
            message = Some(pb::WhoAmIResponse::decode(payload)?);
        }
        rest = &rest[5 + length..];
    }
    anyhow::ensure!(
        status.as_deref() == Some("0"),
        "grpc-web: trailer frame grpc-status {status:?}"
    );
    message.ok_or_else(|| anyhow::anyhow!("grpc-web: no data frame"))
}

/// `calls` calls by `clients` concurrent clients: each call's latency in µs (sorted) and the
/// wall time of all of them.
async fn measure(
    callers: &Callers,
    via: Via,
    clients: usize,
    calls: usize,
) -> anyhow::Result<(Vec<f64>, Duration)> {
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..clients.max(1) {
        let callers = callers.clone();
        let next = next.clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            while next.fetch_add(1, Ordering::Relaxed) < calls {
                let t = Instant::now();
                callers.call(via).await?;
                latencies.push(t.elapsed().as_secs_f64() * 1e6);
            }
            anyhow::Ok(latencies)
        }));
    }
    let mut all = Vec::with_capacity(calls);
    for task in tasks {
        all.extend(task.await??);
    }
    let elapsed = started.elapsed();
    all.sort_by(f64::total_cmp);
    Ok((all, elapsed))
}

/// "p50 / p99 / max ms" of sorted delays (p99 in bold), or a dash.
fn spread(sorted: &[f64], bold: bool) -> String {
    let Some(max) = sorted.last() else {
        return "—".into();
    };
    let p99 = percentile(sorted, 0.99);
    let p99 = if bold {
        format!("**{p99:.1}**")
    } else {
        format!("{p99:.1}")
    };
    format!("{:.1} / {p99} / {max:.1} ms", percentile(sorted, 0.5))
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// Current resident set size of a process, in MB (VmRSS).
fn rss_mb(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

fn mb(value: Option<f64>) -> String {
    value.map_or_else(|| "n/a".into(), |v| format!("{v:.1} MB"))
}

fn unix_ms(now: SystemTime) -> f64 {
    now.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64() * 1e3)
        .unwrap_or(0.0)
}

/// What one WatchJobs stream saw.
#[derive(Default)]
struct Followed {
    /// Delay of each live (non-snapshot) event from the start of the sync, ms.
    delays_ms: Vec<f64>,
    /// Snapshot events after the opening ones (a catch-up: the subscriber fell behind).
    catch_ups: usize,
    error: Option<String>,
}

/// Follows one WatchJobs stream of the whole tenant until `stop`; counts itself in `opened`
/// once the opening snapshot (one event per job) has arrived.
async fn follow(
    channel: Channel,
    key: Arc<str>,
    jobs: usize,
    opened: Arc<AtomicUsize>,
    syncing: Arc<AtomicBool>,
    live: Arc<AtomicUsize>,
    stop: CancellationToken,
) -> Followed {
    let mut followed = Followed::default();
    let mut client = JobServiceClient::new(channel);
    let request = with_api_key(
        &key,
        pb::WatchJobsRequest {
            job_id: String::new(),
        },
    );
    let mut stream = tokio::select! {
        _ = stop.cancelled() => return followed,
        answer = client.watch_jobs(request) => match answer {
            Ok(answer) => answer.into_inner(),
            Err(status) => {
                followed.error = Some(status.to_string());
                return followed;
            }
        },
    };
    let mut opening = 0;
    loop {
        let next = tokio::select! {
            _ = stop.cancelled() => break,
            next = stream.message() => next,
        };
        let arrived = unix_ms(SystemTime::now());
        match next {
            Ok(Some(event)) if event.snapshot => {
                if opening < jobs {
                    opening += 1;
                    if opening == jobs {
                        opened.fetch_add(1, Ordering::Relaxed);
                    }
                } else {
                    followed.catch_ups += 1;
                }
            }
            // Before the sync: changes that came while the other streams were opening
            // (the later ones have them in their opening snapshot instead).
            Ok(Some(_)) if !syncing.load(Ordering::Relaxed) => {}
            Ok(Some(event)) => {
                live.fetch_add(1, Ordering::Relaxed);
                if let Some(at) = event.at {
                    let at_ms = at.seconds as f64 * 1e3 + f64::from(at.nanos) / 1e6;
                    followed.delays_ms.push(arrived - at_ms);
                }
            }
            Ok(None) => {
                followed.error = Some("the stream ended".into());
                break;
            }
            Err(status) => {
                followed.error = Some(status.to_string());
                break;
            }
        }
    }
    followed
}

async fn connect(url: &str, children: &mut Children) -> anyhow::Result<Channel> {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        children.check()?;
        match Endpoint::from_shared(url.to_string())?.connect().await {
            Ok(channel) => return Ok(channel),
            Err(error) if Instant::now() > deadline => {
                anyhow::bail!("{url} did not answer within 120 s: {error}")
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

/// CPU seconds of the gateway, `sluice all`, PostgreSQL (every backend on the host) and this
/// process (the clients and the simulator) between two snapshots.
fn cpu_of(
    before: &std::collections::BTreeMap<String, f64>,
    after: &std::collections::BTreeMap<String, f64>,
) -> (f64, f64, f64, f64) {
    let delta = cpu::delta(before, after);
    let of = |name: &str| {
        delta
            .iter()
            .find(|(n, _)| n == name)
            .map_or(0.0, |(_, s)| *s)
    };
    (
        of("gateway"),
        of("sluice all"),
        of("postgresql (total)"),
        of("simulator + benchmark"),
    )
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    sluice_plumbing::install_crypto_provider();
    let args = Args::parse();
    let pool = sluice_plumbing::db::connect(&sluice_plumbing::CommonConfig {
        database_url: args.database_url.clone(),
        db_max_connections: 2,
        ..Default::default()
    })
    .await?;
    sluice_plumbing::db::migrate(&pool).await?;

    // The simulator on a runtime of its own, so that serving pages does not delay the
    // streams' receiving tasks on this one (the OS shares the cores between them).
    let per_project = (args.issues / args.projects.max(1)).max(1);
    let simulator_runtime: &'static tokio::runtime::Runtime = Box::leak(Box::new(
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("simulator")
            .enable_all()
            .build()?,
    ));
    let dataset = Dataset::generated(args.projects, 5, 8).with_issues(IssueSpec {
        issues_per_project: per_project,
        seed: 42,
        dev_status_every: 0,
        ..IssueSpec::default()
    });
    let simulator = simulator_runtime
        .spawn(async move {
            Simulator::start(
                SimulatorConfig {
                    dataset,
                    auth: SimAuth::Basic {
                        email: EMAIL.into(),
                        api_token: TOKEN.into(),
                    },
                    max_page_size: 100,
                },
                tokio::net::TcpListener::bind("127.0.0.1:0").await?,
            )
            .await
        })
        .await??;
    for endpoint in ENDPOINTS {
        simulator.add_fault(Fault {
            endpoint: endpoint.into(),
            kind: FaultKind::Latency {
                millis: args.latency_ms,
            },
            times: u32::MAX,
        });
    }

    // `sluice all`, then `sluice gateway` forwarding to its orchestrator and vectorizer.
    let prefix = format!("bench-gw-{}.", uuid::Uuid::new_v4().simple());
    let (mut env, orchestrator_port) = service_env(&args.database_url, &args.amqp_url, &prefix)?;
    let vectorizer_port = free_port()?;
    let gateway_port = free_port()?;
    env.extend(
        [
            ("SLUICE_VECTORIZE", "off".to_string()),
            (
                "SLUICE_VECTORIZER_ADDR",
                format!("127.0.0.1:{vectorizer_port}"),
            ),
            // The gateway inside `sluice all` is not used: any port.
            ("SLUICE_GATEWAY_ADDR", "127.0.0.1:0".to_string()),
        ]
        .map(|(k, v)| (k.to_string(), v)),
    );
    let binary = args.bin_dir.join("sluice");
    let spawn = |command: &mut Command| {
        command.stdout(Stdio::null()).spawn().map_err(|e| {
            anyhow::anyhow!(
                "starting {}: {e} (cargo build --release -p sluice first)",
                binary.display()
            )
        })
    };
    let mut children = Children(Vec::new());
    children.0.push((
        "all".into(),
        spawn(Command::new(&binary).arg("all").envs(env.iter().cloned()))?,
    ));
    children.0.push((
        "gateway".into(),
        spawn(
            Command::new(&binary)
                .arg("gateway")
                .env("SLUICE_GATEWAY_ADDR", format!("127.0.0.1:{gateway_port}"))
                .env(
                    "SLUICE_GATEWAY_ORCHESTRATOR_URL",
                    format!("http://127.0.0.1:{orchestrator_port}"),
                )
                .env(
                    "SLUICE_GATEWAY_VECTORIZER_URL",
                    format!("http://127.0.0.1:{vectorizer_port}"),
                )
                .env("RUST_LOG", "warn"),
        )?,
    ));
    let all_pid = children.0[0].1.id();
    let gateway_pid = children.0[1].1.id();
    let pids = [("gateway", gateway_pid), ("sluice all", all_pid)];
    let orchestrator_url = format!("http://127.0.0.1:{orchestrator_port}");
    let gateway_url = format!("http://127.0.0.1:{gateway_port}");
    let direct = connect(&orchestrator_url, &mut children).await?;
    let gateway = connect(&gateway_url, &mut children).await?;
    let gateway_start_rss = rss_mb(gateway_pid);

    let issued = sluice_plumbing::auth::bootstrap_tenant(
        &pool,
        &format!("gateway-bench-{}", uuid::Uuid::new_v4()),
        "bench",
    )
    .await?;
    let key: Arc<str> = issued.key.clone().into();
    let mut integrations = IntegrationServiceClient::new(direct.clone());
    let mut jobs = JobServiceClient::new(direct.clone());
    let created = integrations
        .create_integration(with_api_key(
            &key,
            pb::CreateIntegrationRequest {
                r#type: pb::IntegrationType::Jira as i32,
                name: "gateway-bench".into(),
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
    let job_count = created.job_ids.len();
    let (discovery_job, issues_job) = (created.job_ids[0].clone(), created.job_ids[1].clone());

    // 1. Unary calls.
    let callers = Callers {
        direct: direct.clone(),
        gateway,
        http: reqwest::Client::builder()
            .no_proxy()
            .http1_only()
            .pool_max_idle_per_host(1024)
            .build()?,
        gateway_url: gateway_url.clone(),
        bearer: format!("Bearer {key}").into(),
        key: key.clone(),
        tenant_id: issued.tenant_id.to_string().into(),
    };
    struct Row {
        via: Via,
        clients: usize,
        p50: f64,
        p99: f64,
        rate: f64,
        gateway_cpu_us: f64,
        all_cpu_us: f64,
        postgres_cpu_us: f64,
        client_cpu_us: f64,
    }
    let mut rows: Vec<Row> = Vec::new();
    let rounds = args.rounds.max(1);
    for &clients in &args.concurrency {
        eprintln!("unary: {clients} client(s)");
        for via in Via::ALL {
            measure(&callers, via, clients, args.warmup).await?;
        }
        // Per path: latencies, wall time, CPU (gateway, sluice all, PostgreSQL, clients).
        let mut sums: Vec<(Vec<f64>, f64, [f64; 4])> = Via::ALL
            .iter()
            .map(|_| (Vec::new(), 0.0, [0.0; 4]))
            .collect();
        for round in 0..rounds {
            let calls = args.calls / rounds + usize::from(round < args.calls % rounds);
            for turn in 0..Via::ALL.len() {
                let index = (round + turn) % Via::ALL.len();
                let before = cpu::snapshot(&pids);
                let (latencies, elapsed) =
                    measure(&callers, Via::ALL[index], clients, calls).await?;
                let (gateway_cpu, all_cpu, postgres_cpu, client_cpu) =
                    cpu_of(&before, &cpu::snapshot(&pids));
                let sum = &mut sums[index];
                sum.0.extend(latencies);
                sum.1 += elapsed.as_secs_f64();
                for (total, part) in
                    sum.2
                        .iter_mut()
                        .zip([gateway_cpu, all_cpu, postgres_cpu, client_cpu])
                {
                    *total += part;
                }
            }
        }
        for (via, (mut latencies, seconds, cpu)) in Via::ALL.into_iter().zip(sums) {
            latencies.sort_by(f64::total_cmp);
            let per_call = |seconds: f64| 1e6 * seconds / latencies.len().max(1) as f64;
            rows.push(Row {
                via,
                clients,
                p50: percentile(&latencies, 0.5),
                p99: percentile(&latencies, 0.99),
                rate: latencies.len() as f64 / seconds,
                gateway_cpu_us: per_call(cpu[0]),
                all_cpu_us: per_call(cpu[1]),
                postgres_cpu_us: per_call(cpu[2]),
                client_cpu_us: per_call(cpu[3]),
            });
        }
    }
    let after_unary_rss = rss_mb(gateway_pid);
    let after_unary_peak = peak_rss_mb(gateway_pid);

    // The discovery run (directly) so that the issues job has its metadata.
    children.check()?;
    let (_, discovery_time) = run_job(&mut jobs, &key, &discovery_job, &mut children).await?;
    eprintln!("discovery done in {discovery_time:?}");

    println!(
        "## Gateway overhead: WhoAmI ({} calls per row in {} rounds after {} warm-up); {} WatchJobs streams {} during a sync of {} issues ({} ms simulator latency)",
        args.calls,
        rounds,
        args.warmup,
        args.streams,
        if args.direct_streams {
            "direct to the orchestrator"
        } else {
            "through the gateway"
        },
        per_project * args.projects,
        args.latency_ms
    );
    println!();
    println!(
        "| path | clients | p50 | p99 | calls/s | gateway adds p50 / p99 | CPU per call: gateway / sluice all / PostgreSQL / clients |"
    );
    println!("|---|---|---|---|---|---|---|");
    for row in &rows {
        let direct = rows
            .iter()
            .find(|r| r.clients == row.clients && r.via == Via::Direct);
        let added = match (row.via, direct) {
            (Via::Direct, _) | (_, None) => "—".to_string(),
            (_, Some(d)) => format!("{:+.0} / {:+.0} µs", row.p50 - d.p50, row.p99 - d.p99),
        };
        println!(
            "| {} | {} | {:.0} µs | {:.0} µs | {:.0} | {added} | {:.0} / {:.0} / {:.0} / {:.0} µs |",
            row.via.label(),
            row.clients,
            row.p50,
            row.p99,
            row.rate,
            row.gateway_cpu_us,
            row.all_cpu_us,
            row.postgres_cpu_us,
            row.client_cpu_us
        );
    }
    println!();

    // 2. Streams during a sync.
    if args.issues > 0 {
        let streams_url = if args.direct_streams {
            &orchestrator_url
        } else {
            &gateway_url
        };
        let through = if args.direct_streams {
            "directly to the orchestrator (no gateway)"
        } else {
            "through the gateway"
        };
        let mut connections = Vec::new();
        for _ in 0..args.stream_connections.max(1) {
            connections.push(connect(streams_url, &mut children).await?);
        }
        let opened = Arc::new(AtomicUsize::new(0));
        let stop = CancellationToken::new();
        let before_streams_rss = rss_mb(gateway_pid);
        let open_started = Instant::now();
        let reference_live = Arc::new(AtomicUsize::new(0));
        let streams_live = Arc::new(AtomicUsize::new(0));
        let syncing = Arc::new(AtomicBool::new(false));
        let reference = tokio::spawn(follow(
            direct.clone(),
            key.clone(),
            job_count,
            opened.clone(),
            syncing.clone(),
            reference_live.clone(),
            stop.clone(),
        ));
        let mut followers = Vec::new();
        for i in 0..args.streams {
            followers.push(tokio::spawn(follow(
                connections[i % connections.len()].clone(),
                key.clone(),
                job_count,
                opened.clone(),
                syncing.clone(),
                streams_live.clone(),
                stop.clone(),
            )));
        }
        let wanted = args.streams + 1;
        let open_deadline = Instant::now() + Duration::from_secs(120);
        while opened.load(Ordering::Relaxed) < wanted {
            children.check()?;
            anyhow::ensure!(
                Instant::now() < open_deadline,
                "only {} of {wanted} streams opened within 120 s",
                opened.load(Ordering::Relaxed)
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let open_time = open_started.elapsed();
        tokio::time::sleep(Duration::from_secs(1)).await;
        let idle_streams_rss = rss_mb(gateway_pid);
        let idle_streams_peak = peak_rss_mb(gateway_pid);
        eprintln!("{wanted} streams open in {open_time:?}; sync");

        let sampler_stop = CancellationToken::new();
        let sampler = {
            let stop = sampler_stop.clone();
            tokio::spawn(async move {
                let mut max: f64 = 0.0;
                while !stop.is_cancelled() {
                    max = max.max(rss_mb(gateway_pid).unwrap_or(0.0));
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                max
            })
        };
        let before = cpu::snapshot(&pids);
        syncing.store(true, Ordering::Relaxed);
        let (_, sync_time) = run_job(&mut jobs, &key, &issues_job, &mut children).await?;
        // The run's last events are on their way when GetJobRun says COMPLETED: wait until
        // the reference stream has had nothing new for 2 s and every stream has as many
        // events as it (at most 30 s; a shortfall then shows in the counts).
        let settle_deadline = Instant::now() + Duration::from_secs(30);
        let (mut seen, mut since) = (reference_live.load(Ordering::Relaxed), Instant::now());
        loop {
            tokio::time::sleep(Duration::from_millis(100)).await;
            let now = reference_live.load(Ordering::Relaxed);
            if now != seen {
                (seen, since) = (now, Instant::now());
            }
            let all_arrived = streams_live.load(Ordering::Relaxed) >= seen * args.streams;
            if (since.elapsed() >= Duration::from_secs(2) && all_arrived)
                || Instant::now() > settle_deadline
            {
                break;
            }
        }
        let (gateway_cpu, all_cpu, _, _) = cpu_of(&before, &cpu::snapshot(&pids));
        sampler_stop.cancel();
        let sync_max_rss = sampler.await?;
        let sync_peak = peak_rss_mb(gateway_pid);
        stop.cancel();
        let reference = reference.await?;
        let mut delays: Vec<f64> = Vec::new();
        let (mut fewest, mut most, mut catch_ups, mut errors) = (usize::MAX, 0, 0, 0);
        catch_ups += reference.catch_ups;
        let mut first_error = None;
        for follower in followers {
            let followed = follower.await?;
            fewest = fewest.min(followed.delays_ms.len());
            most = most.max(followed.delays_ms.len());
            catch_ups += followed.catch_ups;
            if let Some(error) = followed.error {
                errors += 1;
                first_error.get_or_insert(error);
            }
            delays.extend(followed.delays_ms);
        }
        delays.sort_by(f64::total_cmp);
        let mut reference_delays = reference.delays_ms.clone();
        reference_delays.sort_by(f64::total_cmp);
        let issues: i64 =
            sqlx::query_scalar("SELECT count(*) FROM work_items WHERE integration_id = $1::uuid")
                .bind(&integration_id)
                .fetch_one(&pool)
                .await?;

        println!(
            "| WatchJobs: {} streams {through} over {} HTTP/2 connections, plus one direct reference stream | value | goal |",
            args.streams, args.stream_connections
        );
        println!("|---|---|---|");
        println!(
            "| {wanted} streams opened, opening snapshots received | {:.2} s | |",
            open_time.as_secs_f64()
        );
        println!(
            "| sync: RunJob → COMPLETED | {:.1} s ({issues} issues loaded) | |",
            sync_time.as_secs_f64()
        );
        println!(
            "| live events from RunJob on, reference stream direct to the orchestrator | {} | |",
            reference.delays_ms.len()
        );
        if args.streams > 0 {
            println!(
                "| live events from RunJob on, per stream (fewest / most) | {fewest} / {most} | |"
            );
            println!(
                "| live events {through}, total | {} ({:.0}/s over the sync) | |",
                delays.len(),
                delays.len() as f64 / sync_time.as_secs_f64()
            );
        }
        println!(
            "| catch-up snapshots (subscriber fell behind) / streams ended with an error | {catch_ups} / {errors}{} | 0 / 0 |",
            first_error.map(|e| format!(" ({e})")).unwrap_or_default()
        );
        if args.streams > 0 {
            println!(
                "| **event delay, {through}: p50 / p99 / max** | {} | p99 ≤ 250 ms |",
                spread(&delays, true)
            );
        }
        println!(
            "| event delay of the direct reference stream: p50 / p99 / max | {} | |",
            spread(&reference_delays, false)
        );
        println!(
            "| gateway RSS: started / after the unary runs (peak so far) | {} / {} ({}) | |",
            mb(gateway_start_rss),
            mb(after_unary_rss),
            mb(after_unary_peak)
        );
        println!(
            "| gateway RSS: before the streams / {} streams open, idle | {} / {} (peak so far {}) | |",
            args.streams,
            mb(before_streams_rss),
            mb(idle_streams_rss),
            mb(idle_streams_peak)
        );
        println!(
            "| **gateway RSS during the sync: largest sample (every 50 ms) / VmHWM** | {} / **{}** | ≤ 100 MB |",
            mb(Some(sync_max_rss)),
            mb(sync_peak)
        );
        println!(
            "| CPU during the sync (and until its last events arrived): gateway / sluice all | {gateway_cpu:.2} s / {all_cpu:.2} s | |"
        );
        if let Some(error) = reference.error {
            println!();
            println!("The direct reference stream ended with an error: {error}");
        }
    }

    // Leave the database as found: deleting the integration deletes its rows.
    integrations
        .delete_integration(with_api_key(
            &key,
            pb::DeleteIntegrationRequest { id: integration_id },
        ))
        .await?;
    simulator.shutdown();
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
