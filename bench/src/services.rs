//! What both ingest benchmarks need: service processes that are killed on drop, ports, peak
//! RSS, and running a job to its end.

use std::net::TcpListener as StdListener;
use std::process::Child;
use std::time::{Duration, Instant};

use sluice_plumbing::auth::with_api_key;
use sluice_proto::v1 as pb;
use sluice_proto::v1::job_service_client::JobServiceClient;
use tonic::transport::Channel;

pub struct Children(pub Vec<(String, Child)>);

impl Children {
    /// An error naming the first service that has exited (the run would never end).
    pub fn check(&mut self) -> anyhow::Result<()> {
        for (name, child) in &mut self.0 {
            if let Some(status) = child.try_wait()? {
                anyhow::bail!("sluice-{name} exited ({status}); its error is above");
            }
        }
        Ok(())
    }
}

impl Drop for Children {
    fn drop(&mut self) {
        for (_, child) in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

pub fn free_port() -> anyhow::Result<u16> {
    Ok(StdListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Peak resident set size of a process, in MB (VmHWM).
pub fn peak_rss_mb(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

pub async fn wait_run(
    jobs: &mut JobServiceClient<Channel>,
    key: &str,
    run_id: &str,
    children: &mut Children,
) -> anyhow::Result<pb::JobRun> {
    loop {
        children.check()?;
        let run = jobs
            .get_job_run(with_api_key(
                key,
                pb::GetJobRunRequest { id: run_id.into() },
            ))
            .await?
            .into_inner()
            .run
            .ok_or_else(|| anyhow::anyhow!("no run"))?;
        if run.status != pb::RunStatus::Running as i32 {
            anyhow::ensure!(
                run.status == pb::RunStatus::Completed as i32,
                "run {run_id} ended {}: {}",
                run.status,
                run.error_message
            );
            return Ok(run);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub async fn run_job(
    jobs: &mut JobServiceClient<Channel>,
    key: &str,
    job_id: &str,
    children: &mut Children,
) -> anyhow::Result<(pb::JobRun, Duration)> {
    let started = Instant::now();
    let run = jobs
        .run_job(with_api_key(key, pb::RunJobRequest { id: job_id.into() }))
        .await?
        .into_inner()
        .run
        .ok_or_else(|| anyhow::anyhow!("no run"))?;
    let finished = wait_run(jobs, key, &run.id, children).await?;
    Ok((finished, started.elapsed()))
}

/// The environment of a benchmark's service processes: database, broker, its own queue
/// prefix, a fresh credentials key and internal token, the orchestrator's (public and
/// internal) and connectors' ports, any port for the
/// workers' health endpoints, no scheduler (the benchmark triggers its runs), quiet logs.
/// Returns it with the orchestrator's port.
pub fn service_env(
    database_url: &str,
    amqp_url: &str,
    prefix: &str,
) -> anyhow::Result<(Vec<(String, String)>, u16)> {
    let orchestrator_port = free_port()?;
    let internal_port = free_port()?;
    let connectors_port = free_port()?;
    let env = [
        ("SLUICE_DATABASE_URL", database_url.to_string()),
        ("SLUICE_AMQP_URL", amqp_url.to_string()),
        ("SLUICE_QUEUE_PREFIX", prefix.to_string()),
        (
            "SLUICE_CREDENTIALS_KEY",
            sluice_plumbing::crypto::CredentialCipher::generate_key(),
        ),
        (
            "SLUICE_ORCHESTRATOR_ADDR",
            format!("127.0.0.1:{orchestrator_port}"),
        ),
        (
            "SLUICE_ORCHESTRATOR_INTERNAL_ADDR",
            format!("127.0.0.1:{internal_port}"),
        ),
        (
            "SLUICE_PROGRESS_URL",
            format!("http://127.0.0.1:{internal_port}"),
        ),
        (
            "SLUICE_INTERNAL_TOKEN",
            sluice_plumbing::internal::InternalAuth::generate_token(),
        ),
        (
            "SLUICE_CONNECTORS_ADDR",
            format!("127.0.0.1:{connectors_port}"),
        ),
        (
            "SLUICE_CONNECTORS_URL",
            format!("http://127.0.0.1:{connectors_port}"),
        ),
        ("SLUICE_TRANSFORMER_ADDR", "127.0.0.1:0".to_string()),
        ("SLUICE_LOADER_ADDR", "127.0.0.1:0".to_string()),
        ("SLUICE_SCHEDULER", "off".to_string()),
        ("RUST_LOG", "warn".to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    Ok((env, orchestrator_port))
}
