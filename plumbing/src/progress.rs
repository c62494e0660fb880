//! Workers report progress to the orchestrator over gRPC (ProgressService).

use std::time::Duration;

use sluice_proto::v1::progress_service_client::ProgressServiceClient;
use sluice_proto::v1::{ReportProgressRequest, ReportProgressResponse};
use tonic::Code;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;
use tracing::warn;

use crate::grpc::lazy_channel;
use crate::internal::InternalClient;

type Client = ProgressServiceClient<InterceptedService<Channel, InternalClient>>;

const ATTEMPTS: u32 = 6;

#[derive(Clone)]
pub struct ProgressReporter {
    client: Client,
}

impl ProgressReporter {
    /// Reports to the orchestrator's internal endpoint (`config.progress_url`) with the
    /// deployment's internal token.
    pub fn new(config: &crate::CommonConfig) -> anyhow::Result<Self> {
        let channel = lazy_channel(&config.progress_url)?;
        Ok(ProgressReporter {
            client: ProgressServiceClient::with_interceptor(
                channel,
                config.internal_auth()?.client(),
            ),
        })
    }

    /// Sends one report, retrying while the orchestrator is unreachable (it may be restarting).
    /// Only UNAVAILABLE is retried: the counters are increments, and a request that may have
    /// reached the orchestrator must not be applied twice.
    pub async fn report(
        &self,
        mut request: ReportProgressRequest,
    ) -> Result<ReportProgressResponse, tonic::Status> {
        // Every report carries this process's peak resident memory; the run keeps the highest.
        request.peak_memory_bytes = request.peak_memory_bytes.max(peak_rss_bytes());
        let mut delay = Duration::from_millis(200);
        let mut attempt = 1;
        loop {
            match self.client.clone().report_progress(request.clone()).await {
                Ok(response) => return Ok(response.into_inner()),
                Err(status) if attempt < ATTEMPTS && status.code() == Code::Unavailable => {
                    warn!(attempt, retry_in_ms = delay.as_millis() as u64, error = %status.message(), "progress report not delivered");
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_secs(5));
                    attempt += 1;
                }
                Err(status) => return Err(status),
            }
        }
    }
}

/// The process's peak resident set size so far (`VmHWM`), 0 where /proc is not available.
pub fn peak_rss_bytes() -> i64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("VmHWM:"))
                .and_then(|rest| {
                    rest.trim()
                        .trim_end_matches("kB")
                        .trim()
                        .parse::<i64>()
                        .ok()
                })
        })
        .map(|kib| kib * 1024)
        .unwrap_or(0)
}

/// Coalesces counter reports (records, batches, API calls) per run and stage and sends them
/// every `interval`, so a busy worker updates a run's row a few times per second instead of
/// once per page. Fatal errors are not batched: send those with [`ProgressReporter::report`].
#[derive(Clone)]
pub struct ProgressBatcher {
    pending: std::sync::Arc<
        std::sync::Mutex<std::collections::HashMap<(String, i32), ReportProgressRequest>>,
    >,
}

impl ProgressBatcher {
    /// Starts the flushing task; it flushes a last time when `shutdown` is cancelled.
    pub fn start(
        reporter: ProgressReporter,
        interval: Duration,
        shutdown: tokio_util::sync::CancellationToken,
    ) -> Self {
        let batcher = ProgressBatcher {
            pending: Default::default(),
        };
        let flusher = batcher.clone();
        tokio::spawn(async move {
            loop {
                let stopping = tokio::select! {
                    _ = shutdown.cancelled() => true,
                    _ = tokio::time::sleep(interval) => false,
                };
                for request in flusher.take() {
                    if let Err(status) = reporter.report(request).await {
                        // Counters only: a run's outcome is decided from the database.
                        warn!(error = %status.message(), "progress counters not reported");
                    }
                }
                if stopping {
                    return;
                }
            }
        });
        batcher
    }

    /// Adds a report's counters to what the next flush sends for its run and stage.
    pub fn add(&self, request: ReportProgressRequest) {
        let run_id = request
            .run
            .as_ref()
            .map(|r| r.run_id.clone())
            .unwrap_or_default();
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        match pending.entry((run_id, request.stage)) {
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert(request);
            }
            std::collections::hash_map::Entry::Occupied(mut slot) => {
                let merged = slot.get_mut();
                merged.records += request.records;
                merged.work_items += request.work_items;
                merged.batches += request.batches;
                merged.api_calls += request.api_calls;
                merged.vectors_queued += request.vectors_queued;
                merged.peak_memory_bytes = merged.peak_memory_bytes.max(request.peak_memory_bytes);
                if request.step > merged.step {
                    merged.step = request.step;
                    merged.step_name = request.step_name;
                }
            }
        }
    }

    fn take(&self) -> Vec<ReportProgressRequest> {
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        pending.drain().map(|(_, request)| request).collect()
    }
}
