//! A Jira Cloud REST v3 simulator for integration tests, benchmarks and the demo.
//!
//! It serves recorded or generated projects, issue types, statuses, fields and issues the way
//! Jira Cloud does (offset and token paging, bare arrays, removed endpoints, capped embedded
//! changelogs, rate-limit headers) and injects faults on demand, either through
//! [`Simulator::add_fault`] or the control API described in `control.rs`.

mod api;
mod auth;
mod control;
mod dataset;
mod faults;
pub mod github;
mod issues;
mod jira;
mod jql;
mod limits;
mod pipeline;
mod respond;
mod rng;
mod state;
mod time;
mod tls;
mod token;

#[cfg(test)]
mod issue_tests;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::Router;
use axum::middleware::from_fn_with_state;
use tokio::net::TcpListener;

pub use auth::SimAuth;
pub use dataset::Dataset;
pub use faults::{Fault, FaultKind};
pub use github::{
    GithubDataset, GithubSimulator, GithubSimulatorConfig, GithubSpec, SecondaryLimits,
};
pub use issues::{IssueSpec, PullRequestSpec};
pub use tls::PrivateCa;

use state::Shared;

/// Jira Cloud's default page size, which is also its usual cap.
pub const DEFAULT_MAX_PAGE_SIZE: usize = 50;

/// What to serve and which credentials to expect.
pub struct SimulatorConfig {
    pub dataset: Dataset,
    pub auth: SimAuth,
    /// Cap on maxResults (Jira caps it; default 50).
    pub max_page_size: usize,
}

impl Default for SimulatorConfig {
    /// Recorded fixtures, no auth, Jira's page cap.
    fn default() -> SimulatorConfig {
        SimulatorConfig {
            dataset: Dataset::fixtures(),
            auth: SimAuth::Anonymous,
            max_page_size: DEFAULT_MAX_PAGE_SIZE,
        }
    }
}

/// What a site's rate limit did (see [`Simulator::set_rate_limit`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RateLimitStats {
    /// 429 windows opened.
    pub windows: u64,
    /// Requests answered 429.
    pub refused: u64,
    /// Of those, requests that arrived while a window was already open.
    pub early: u64,
}

/// Handle on a running simulator; clones share the same server.
#[derive(Clone)]
pub struct Simulator {
    shared: Arc<Shared>,
}

impl Simulator {
    /// Serves on `listener` in a spawned task until [`Simulator::shutdown`] is called.
    pub async fn start(
        config: SimulatorConfig,
        listener: TcpListener,
    ) -> anyhow::Result<Simulator> {
        Self::serve(config, listener, None).await
    }

    /// Serves HTTPS on `listener` with the server certificate `ca` signed (see
    /// [`PrivateCa`]); [`Simulator::base_url`] is then `https://…`.
    pub async fn start_tls(
        config: SimulatorConfig,
        listener: TcpListener,
        ca: &PrivateCa,
    ) -> anyhow::Result<Simulator> {
        Self::serve(config, listener, Some(ca.server_config()?)).await
    }

    async fn serve(
        config: SimulatorConfig,
        listener: TcpListener,
        tls: Option<Arc<rustls::ServerConfig>>,
    ) -> anyhow::Result<Simulator> {
        let addr = listener.local_addr()?;
        let scheme = if tls.is_some() { "https" } else { "http" };
        let shared = Arc::new(Shared::new(config, base_url_for(scheme, addr)));
        let mut stop = shared.shutdown.subscribe();
        let app = router(Arc::clone(&shared));
        tokio::spawn(async move {
            let stopped = async move {
                // an error means every sender is gone, which is a stop as well
                let _ = stop.wait_for(|stopped| *stopped).await;
            };
            match tls {
                Some(tls) => tls::serve(listener, app, tls, stopped).await,
                None => {
                    if let Err(e) = axum::serve(listener, app)
                        .with_graceful_shutdown(stopped)
                        .await
                    {
                        tracing::error!(error = %e, "simulator server failed");
                    }
                }
            }
            tracing::info!(%addr, "simulator stopped");
        });
        tracing::info!(base_url = %shared.base_url, "simulator listening");
        Ok(Simulator { shared })
    }

    /// "http://127.0.0.1:PORT" (`https://` when started with [`Simulator::start_tls`])
    pub fn base_url(&self) -> String {
        self.shared.base_url.clone()
    }

    pub fn add_fault(&self, fault: Fault) {
        self.shared.faults.add(fault);
    }

    /// Faults armed and not yet used up (a test waits for a held request this way).
    pub fn armed_faults(&self) -> usize {
        self.shared.faults.pending().len()
    }

    /// Disarms every fault not yet used up.
    pub fn clear_faults(&self) {
        self.shared.faults.clear();
    }

    /// Requests received for an endpoint key, faults and auth failures included.
    pub fn request_count(&self, endpoint: &str) -> u64 {
        self.shared.count(endpoint)
    }

    pub fn request_counts(&self) -> BTreeMap<String, u64> {
        self.shared.counts()
    }

    /// Clears the counters and refills the advertised rate-limit budget.
    pub fn reset_counts(&self) {
        self.shared.reset_counts();
    }

    /// Bumps `updated` (to now, with seconds and milliseconds) of a deterministic fraction of
    /// the live generated issues and appends one changelog history to each (an assignee
    /// change, which the issue's `assignee` then shows); returns their keys, sorted.
    pub fn bump_updated(&self, fraction: f64, seed: u64) -> Vec<String> {
        self.shared.issues.bump(fraction, seed)
    }

    /// Sets `updated` of one live issue (by key) to `at_ms` (epoch milliseconds, never before
    /// its current value) and appends a changelog history, as [`Simulator::bump_updated`]
    /// does; false when there is no such live issue.
    pub fn set_updated(&self, key: &str, at_ms: i64) -> bool {
        self.shared.issues.set_updated(key, at_ms)
    }

    /// Serves `value` as the issue's `field` (a standard field such as `summary`, or a
    /// custom field id) from now on, e.g. text with characters other systems cannot store;
    /// false when there is no such live generated issue.
    pub fn set_issue_field(&self, key: &str, field: &str, value: serde_json::Value) -> bool {
        self.shared.issues.set_field(key, field, value)
    }

    /// The searching user's profile time zone: `/myself` reports `name`, and JQL dates
    /// written as text are read `utc_offset_minutes` east of UTC, as Jira reads them in the
    /// account's zone. Default UTC.
    pub fn set_user_time_zone(&self, name: &str, utc_offset_minutes: i32) {
        *self
            .shared
            .user_zone
            .lock()
            .unwrap_or_else(|e| e.into_inner()) =
            (name.to_string(), i64::from(utc_offset_minutes) * 60_000);
    }

    /// Removes an issue by key or id (search no longer returns it; GET issue/changelog answer
    /// 404); false when there is no such live issue.
    pub fn delete_issue(&self, key: &str) -> bool {
        self.shared.issues.delete(key)
    }

    /// Serves a deleted generated issue again, `updated` now, as if it had just been
    /// created; false when it was not deleted.
    pub fn restore_issue(&self, key: &str) -> bool {
        self.shared.issues.restore(key)
    }

    /// Issues currently served (deleted ones excluded).
    pub fn issue_count(&self) -> usize {
        self.shared.issues.live_count()
    }

    /// Whether POST /rest/api/3/changelog/bulkfetch exists on this "site" (default true);
    /// false -> 404 like an older site.
    pub fn set_bulk_changelog(&self, available: bool) {
        self.shared
            .bulk_changelog
            .store(available, Ordering::Relaxed);
    }

    /// Cap on histories embedded in search results with expand=changelog (default 20, as
    /// Jira Cloud does).
    pub fn set_embedded_changelog_cap(&self, cap: usize) {
        self.shared
            .embedded_changelog_cap
            .store(cap, Ordering::Relaxed);
    }

    /// Whether GET /issue/createmeta/{project}/issuetypes[/{id}] exist (default true); false
    /// -> 404 like a site that only has the deprecated GET /issue/createmeta.
    pub fn set_new_createmeta(&self, available: bool) {
        self.shared
            .new_createmeta
            .store(available, Ordering::Relaxed);
    }

    /// Whether JQL knows the `development[…]` field (default true); false -> 400 "Field
    /// 'development' does not exist", like a site without development tools connected.
    pub fn set_development_search(&self, available: bool) {
        self.shared
            .development_search
            .store(available, Ordering::Relaxed);
    }

    /// Whether issues carry Jira Cloud's Development field (the dev-status summary in
    /// search results) and /field lists it (default true); false like Jira Server and Data
    /// Center, where only the dev-status API tells.
    pub fn set_development_field(&self, available: bool) {
        self.shared
            .issues
            .development_field
            .store(available, Ordering::Relaxed);
    }

    /// Links a new open pull request to a live generated issue (by key) now: dev status,
    /// the Development field and `development[…]` JQL show it, and the issue's `updated`
    /// does not move (linking development work is not a field change on Jira). False when
    /// there is no such live generated issue.
    pub fn link_pull_request(&self, key: &str) -> bool {
        self.shared.issues.link_pull_request(key, None)
    }

    /// Links an existing pull request to a live generated issue, as Jira's GitHub app does
    /// when the pull request mentions the key: dev status shows it as `spec` says (the
    /// issue's `updated` does not move). False when there is no such live generated issue.
    pub fn link_existing_pull_request(&self, key: &str, spec: PullRequestSpec) -> bool {
        self.shared.issues.link_pull_request(key, Some(spec))
    }

    /// Limits the site to `per_second` requests per second (`None`: no limit, the default),
    /// as Jira Cloud's burst limit does: beyond it, 429 with `Retry-After`, and every request
    /// arriving before that time has passed is refused again.
    pub fn set_rate_limit(&self, per_second: Option<f64>) {
        self.shared
            .set_rate_limit(per_second.filter(|r| r.is_finite() && *r > 0.0));
    }

    /// What the rate limit did since it was set: windows opened, requests refused, and
    /// requests that arrived while a window was open (not waited out).
    pub fn rate_limit_stats(&self) -> RateLimitStats {
        self.shared
            .rate_limit
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .map(|l| RateLimitStats {
                windows: l.windows,
                refused: l.refused,
                early: l.early,
            })
            .unwrap_or_default()
    }

    /// Whether responses are gzip'd for clients that accept gzip (default true).
    pub fn set_gzip(&self, on: bool) {
        self.shared.gzip.store(on, Ordering::Relaxed);
    }

    /// Stops serving; requests already in flight are finished.
    pub fn shutdown(&self) {
        self.shared.shutdown.send_replace(true);
    }
}

/// The Jira routes behind the count/fault/auth pipeline, plus the uncounted control API.
fn router(shared: Arc<Shared>) -> Router {
    jira::routes()
        .layer(from_fn_with_state(Arc::clone(&shared), pipeline::apply))
        .merge(control::routes())
        .with_state(shared)
}

/// A wildcard bind is reached through loopback.
fn base_url_for(scheme: &str, addr: SocketAddr) -> String {
    let ip = match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    format!("{scheme}://{}", SocketAddr::new(ip, addr.port()))
}
