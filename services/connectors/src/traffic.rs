//! What one run's source requests did: calls, bytes received (as sent on the wire,
//! compressed or not), answers that throttled, time held by the site's waits, and the
//! highest request rate reached. Shared by a run's clients and its progress reporter.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

#[derive(Default)]
pub struct RunTraffic {
    api_calls: AtomicU64,
    bytes_received: AtomicU64,
    throttled: AtomicU64,
    waited_ms: AtomicU64,
    graphql_points: AtomicU64,
    rate: Mutex<RateWindow>,
    budget: Mutex<BudgetReport>,
}

/// What the source's rate-limit budgets say (GitHub): the budget left per resource (summed
/// over the run's tokens) and, when the budget runs out before the run is done, when it
/// should finish.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct BudgetReport {
    pub rest_remaining: Option<u64>,
    pub graphql_remaining: Option<u64>,
    /// Epoch milliseconds; None while the budget lasts.
    pub projected_finish_ms: Option<i64>,
}

#[derive(Default)]
struct RateWindow {
    start: Option<Instant>,
    count: u32,
    peak: f64,
}

/// Totals so far.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct TrafficTotals {
    pub api_calls: u64,
    pub bytes_received: u64,
    pub throttled: u64,
    pub waited_ms: u64,
    /// GraphQL points the queries cost (GitHub).
    pub graphql_points: u64,
    /// Requests per second, the best one-second window so far.
    pub peak_rate: f64,
}

impl RunTraffic {
    /// A request goes out.
    pub fn request_started(&self) {
        self.api_calls.fetch_add(1, Ordering::Relaxed);
        let now = Instant::now();
        let mut window = self.rate.lock().unwrap_or_else(|e| e.into_inner());
        let start = *window.start.get_or_insert(now);
        let elapsed = now.duration_since(start);
        if elapsed >= Duration::from_secs(1) {
            let achieved = f64::from(window.count) / elapsed.as_secs_f64();
            window.peak = window.peak.max(achieved);
            window.start = Some(now);
            window.count = 0;
        }
        window.count += 1;
    }

    pub fn received(&self, bytes: usize) {
        self.bytes_received
            .fetch_add(bytes as u64, Ordering::Relaxed);
    }

    pub fn throttled(&self) {
        self.throttled.fetch_add(1, Ordering::Relaxed);
    }

    pub fn waited(&self, held: Duration) {
        self.waited_ms
            .fetch_add(held.as_millis() as u64, Ordering::Relaxed);
    }

    /// GraphQL points a query cost.
    pub fn spent_points(&self, points: u64) {
        self.graphql_points.fetch_add(points, Ordering::Relaxed);
    }

    /// The budget left of each resource, summed over the tokens (None: not known).
    pub fn set_remaining(&self, rest: Option<u64>, graphql: Option<u64>) {
        let mut budget = self.budget_mut();
        budget.rest_remaining = rest.or(budget.rest_remaining);
        budget.graphql_remaining = graphql.or(budget.graphql_remaining);
    }

    pub fn set_projected_finish(&self, at_ms: Option<i64>) {
        self.budget_mut().projected_finish_ms = at_ms;
    }

    pub fn budget(&self) -> BudgetReport {
        *self.budget_mut()
    }

    fn budget_mut(&self) -> std::sync::MutexGuard<'_, BudgetReport> {
        self.budget.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn api_calls(&self) -> u64 {
        self.api_calls.load(Ordering::Relaxed)
    }

    pub fn totals(&self) -> TrafficTotals {
        let peak_rate = {
            let window = self.rate.lock().unwrap_or_else(|e| e.into_inner());
            // The window in progress counts once it is long enough to mean something.
            let current = window
                .start
                .map(|s| s.elapsed())
                .filter(|e| *e >= Duration::from_millis(500))
                .map(|e| f64::from(window.count) / e.as_secs_f64())
                .unwrap_or(0.0);
            window.peak.max(current)
        };
        TrafficTotals {
            api_calls: self.api_calls(),
            bytes_received: self.bytes_received.load(Ordering::Relaxed),
            throttled: self.throttled.load(Ordering::Relaxed),
            waited_ms: self.waited_ms.load(Ordering::Relaxed),
            graphql_points: self.graphql_points.load(Ordering::Relaxed),
            peak_rate,
        }
    }
}

/// A request to a source for `/metrics`: its endpoint's template and its HTTP status
/// (`error` when no answer came).
pub fn record_request(source: &'static str, url: &reqwest::Url, status: Option<u16>) {
    let status = status.map_or_else(|| "error".to_string(), |s| s.to_string());
    sluice_plumbing::metrics::get().source_requests.inc(&[
        source,
        &sluice_plumbing::metrics::endpoint_template(url.path()),
        &status,
    ]);
}

/// A request held back by a source's rate limit (pacing, Retry-After, an empty budget).
pub fn record_wait(source: &'static str, waited: Duration) {
    if waited.is_zero() {
        return;
    }
    let metrics = sluice_plumbing::metrics::get();
    metrics.rate_limit_waits.inc(&[source]);
    metrics.rate_limit_wait_seconds.add(&[source], waited);
}
