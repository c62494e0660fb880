//! Progress of one extraction, reported to the orchestrator.

use std::sync::atomic::{AtomicU64, Ordering};

use sluice_plumbing::progress::ProgressReporter;
use sluice_proto::v1 as pb;

use crate::error::ConnectorError;
use crate::jira::extract::STEP_NAMES;

pub struct RunReporter {
    reporter: ProgressReporter,
    run: pb::RunContext,
    api_calls_reported: AtomicU64,
}

impl RunReporter {
    pub fn new(reporter: ProgressReporter, run: pb::RunContext) -> Self {
        RunReporter {
            reporter,
            run,
            api_calls_reported: AtomicU64::new(0),
        }
    }

    /// Returns true when the orchestrator says the run is over (cancelled or ended).
    async fn send(&self, request: pb::ReportProgressRequest) -> Result<bool, ConnectorError> {
        self.reporter
            .report(request)
            .await
            .map(|r| r.stop)
            .map_err(|status| {
                ConnectorError::internal(format!("reporting progress: {}", status.message()))
            })
    }

    fn base(&self, step: i32) -> pb::ReportProgressRequest {
        pb::ReportProgressRequest {
            run: Some(self.run.clone()),
            stage: pb::Stage::Extract as i32,
            step,
            step_name: usize::try_from(step - 1)
                .ok()
                .and_then(|i| STEP_NAMES.get(i))
                .copied()
                .unwrap_or_default()
                .to_string(),
            ..Default::default()
        }
    }

    fn api_calls_delta(&self, total: u64) -> i64 {
        let before = self.api_calls_reported.swap(total, Ordering::Relaxed);
        total.saturating_sub(before) as i64
    }

    pub async fn step_started(&self, step: i32, _name: &str) -> Result<bool, ConnectorError> {
        self.send(self.base(step)).await
    }

    pub async fn page_stored(
        &self,
        step: i32,
        records: u64,
        api_calls_total: u64,
    ) -> Result<bool, ConnectorError> {
        let mut request = self.base(step);
        request.records = records as i64;
        request.batches = 1;
        request.api_calls = self.api_calls_delta(api_calls_total);
        self.send(request).await
    }

    pub async fn finished(&self, step: i32, api_calls_total: u64) -> Result<bool, ConnectorError> {
        let mut request = self.base(step);
        request.extraction_finished = true;
        request.api_calls = self.api_calls_delta(api_calls_total);
        self.send(request).await
    }

    pub async fn failed(&self, error: &str, api_calls_total: u64) -> Result<bool, ConnectorError> {
        let mut request = self.base(0);
        request.error = error.to_string();
        request.fatal = true;
        request.api_calls = self.api_calls_delta(api_calls_total);
        self.send(request).await
    }
}
