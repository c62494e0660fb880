//! Progress of one extraction, reported to the orchestrator.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use sluice_plumbing::progress::ProgressReporter;
use sluice_proto::v1 as pb;

use crate::error::ConnectorError;
use crate::traffic::{RunTraffic, TrafficTotals};

/// Page reports are coalesced: at most one every [`PAGE_REPORT_INTERVAL`] (the run's row is
/// shared by every worker); step changes, the end and failures are sent at once.
pub struct RunReporter {
    reporter: ProgressReporter,
    run: pb::RunContext,
    /// The run's source traffic; what is not yet reported goes out with the next report.
    traffic: Arc<RunTraffic>,
    traffic_reported: std::sync::Mutex<TrafficTotals>,
    pending: std::sync::Mutex<Pending>,
    /// Name of the step in progress (the job's own, e.g. "custom field discovery").
    step_name: std::sync::Mutex<String>,
    /// The step in progress: pages of a later step stored alongside it (dev status while
    /// issues are fetched) count, but do not move the run's step ahead.
    current_step: std::sync::atomic::AtomicI32,
    dev_status_issues: AtomicU64,
    dev_status_done: AtomicU64,
}

const PAGE_REPORT_INTERVAL: std::time::Duration = std::time::Duration::from_millis(500);

struct Pending {
    records: i64,
    work_items: i64,
    batches: i64,
    pull_requests: i64,
    commits: i64,
    reviews: i64,
    comments: i64,
    last_sent: std::time::Instant,
}

impl RunReporter {
    pub fn new(reporter: ProgressReporter, run: pb::RunContext, traffic: Arc<RunTraffic>) -> Self {
        RunReporter {
            reporter,
            run,
            traffic,
            traffic_reported: Default::default(),
            pending: std::sync::Mutex::new(Pending {
                records: 0,
                work_items: 0,
                batches: 0,
                pull_requests: 0,
                commits: 0,
                reviews: 0,
                comments: 0,
                last_sent: std::time::Instant::now(),
            }),
            step_name: std::sync::Mutex::new(String::new()),
            current_step: std::sync::atomic::AtomicI32::new(0),
            dev_status_issues: AtomicU64::new(0),
            dev_status_done: AtomicU64::new(0),
        }
    }

    /// GitHub counters fetched (sent with the next report).
    pub fn add_github(&self, pull_requests: i64, commits: i64, reviews: i64, comments: i64) {
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        pending.pull_requests += pull_requests;
        pending.commits += commits;
        pending.reviews += reviews;
        pending.comments += comments;
    }

    /// Issues found to need dev-status calls (sent with the next report).
    pub fn dev_status_found(&self, issues: u64) {
        self.dev_status_issues.fetch_add(issues, Ordering::Relaxed);
    }

    /// An issue's dev status is fetched (sent with the next report).
    pub fn dev_status_fetched(&self) {
        self.dev_status_done.fetch_add(1, Ordering::Relaxed);
    }

    /// Renames the step in progress (sent with the next report).
    pub fn set_step_name(&self, name: &str) {
        *self.step_name.lock().unwrap_or_else(|e| e.into_inner()) = name.to_string();
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
            step_name: self
                .step_name
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone(),
            ..Default::default()
        }
    }

    pub async fn step_started(&self, step: i32, name: &str) -> Result<bool, ConnectorError> {
        *self.step_name.lock().unwrap_or_else(|e| e.into_inner()) = name.to_string();
        self.current_step.store(step, Ordering::Relaxed);
        self.send(self.base(step)).await
    }

    /// Moves the counters not yet reported into `request`.
    fn take_pending(&self, request: &mut pb::ReportProgressRequest) {
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        pending.last_sent = std::time::Instant::now();
        request.records = std::mem::take(&mut pending.records);
        request.work_items = std::mem::take(&mut pending.work_items);
        request.batches = std::mem::take(&mut pending.batches);
        request.pull_requests = std::mem::take(&mut pending.pull_requests);
        request.commits = std::mem::take(&mut pending.commits);
        request.reviews = std::mem::take(&mut pending.reviews);
        request.comments = std::mem::take(&mut pending.comments);
        drop(pending);
        let now = self.traffic.totals();
        let before = std::mem::replace(
            &mut *self
                .traffic_reported
                .lock()
                .unwrap_or_else(|e| e.into_inner()),
            now,
        );
        let delta = |now: u64, before: u64| now.saturating_sub(before) as i64;
        request.api_calls = delta(now.api_calls, before.api_calls);
        request.rate_limit_wait_ms = delta(now.waited_ms, before.waited_ms);
        request.throttled_responses = delta(now.throttled, before.throttled);
        request.bytes_received = delta(now.bytes_received, before.bytes_received);
        request.peak_request_rate = now.peak_rate;
        request.dev_status_issues = self.dev_status_issues.swap(0, Ordering::Relaxed) as i64;
        request.dev_status_done = self.dev_status_done.swap(0, Ordering::Relaxed) as i64;
        request.graphql_points = delta(now.graphql_points, before.graphql_points);
        let budget = self.traffic.budget();
        request.rest_budget_remaining = budget.rest_remaining.map(|n| n as i64);
        request.graphql_budget_remaining = budget.graphql_remaining.map(|n| n as i64);
        request.projected_finish_ms = budget.projected_finish_ms.unwrap_or(0);
    }

    /// A page was stored: `records` in it, of which `work_items` issues.
    pub async fn page_stored(&self, records: u64, work_items: u64) -> Result<bool, ConnectorError> {
        {
            let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
            pending.records += records as i64;
            pending.work_items += work_items as i64;
            pending.batches += 1;
            if pending.last_sent.elapsed() < PAGE_REPORT_INTERVAL {
                return Ok(false);
            }
        }
        let mut request = self.base(self.current_step.load(Ordering::Relaxed));
        self.take_pending(&mut request);
        self.send(request).await
    }

    /// Sends what is pending now (a change the run should show before a long wait).
    pub async fn flush(&self) -> Result<bool, ConnectorError> {
        let mut request = self.base(self.current_step.load(Ordering::Relaxed));
        self.take_pending(&mut request);
        self.send(request).await
    }

    pub async fn finished(&self, step: i32) -> Result<bool, ConnectorError> {
        let mut request = self.base(step);
        self.take_pending(&mut request);
        request.extraction_finished = true;
        self.send(request).await
    }

    pub async fn failed(&self, error: &str) -> Result<bool, ConnectorError> {
        let mut request = self.base(0);
        self.take_pending(&mut request);
        request.error = error.to_string();
        request.fatal = true;
        self.send(request).await
    }
}
