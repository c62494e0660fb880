//! A GitHub REST API simulator: repositories, pull requests and their commits, reviews,
//! review comments and issue comments, recorded (PyGithub's test recordings) or generated at
//! scale, served the way github.com and GitHub Enterprise Server (`/api/v3`) do: `Link`
//! paging that switches to `/repositories/{id}/…` URLs, ETags and 304s that cost nothing,
//! per-token primary rate limits with GitHub's headers, and secondary limits and latency on
//! demand.
//!
//! Layout: `dataset` holds what is served (recorded payloads, or a spec plus compact facts
//! per pull request), `generate` derives every generated value from (seed, indexes), `render`
//! writes generated objects as JSON (with `json`), `api` parses paths and answers endpoints,
//! `server` wraps each answer in counting, auth, rate limits and conditional requests, and
//! `state` holds what changes while running.

mod api;
mod dataset;
mod generate;
mod json;
mod render;
mod server;
mod state;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;

pub use api::{
    ENDPOINTS, ISSUE_COMMENTS, ORG_REPOS, PULL, PULL_COMMITS, PULL_REVIEW_COMMENTS, PULL_REVIEWS,
    PULLS, RATE_LIMIT, REPO, REPO_ISSUE_COMMENTS, REPO_REVIEW_COMMENTS, USER,
};
pub use dataset::{GithubDataset, GithubSpec};

use state::GhShared;

/// GitHub's primary limit for a personal access token, per hour.
pub const DEFAULT_RATE_LIMIT: u32 = 5000;
/// GitHub's `per_page` cap.
pub const DEFAULT_MAX_PER_PAGE: usize = 100;

/// What to serve and how to limit it.
pub struct GithubSimulatorConfig {
    pub dataset: GithubDataset,
    /// Accepted tokens (`Authorization: Bearer T` or `token T`); empty = any token. A
    /// missing or unknown token gets 401 "Bad credentials".
    pub tokens: Vec<String>,
    /// Primary limit per token per window (default 5000).
    pub rate_limit: u32,
    /// Window length (default one hour); a token's window starts with its first request,
    /// and `x-ratelimit-reset` is its end in epoch seconds.
    pub window: Duration,
    /// Cap on `per_page` (default 100).
    pub max_per_page: usize,
    /// `x-oauth-scopes` of every answer.
    pub scopes: String,
}

impl Default for GithubSimulatorConfig {
    /// Recorded fixtures, any token, GitHub's limits.
    fn default() -> GithubSimulatorConfig {
        GithubSimulatorConfig {
            dataset: GithubDataset::fixtures(),
            tokens: Vec::new(),
            rate_limit: DEFAULT_RATE_LIMIT,
            window: Duration::from_secs(3600),
            max_per_page: DEFAULT_MAX_PER_PAGE,
            scopes: "repo, read:org".into(),
        }
    }
}

/// Handle on a running GitHub simulator; clones share the same server.
#[derive(Clone)]
pub struct GithubSimulator {
    shared: Arc<GhShared>,
}

impl GithubSimulator {
    /// Serves on `listener` in a spawned task until [`GithubSimulator::shutdown`] is called.
    pub async fn start(
        config: GithubSimulatorConfig,
        listener: TcpListener,
    ) -> anyhow::Result<GithubSimulator> {
        let addr = listener.local_addr()?;
        let shared = Arc::new(GhShared::new(config, crate::base_url_for("http", addr)));
        let mut stop = shared.shutdown.subscribe();
        let app = server::router(Arc::clone(&shared));
        tokio::spawn(async move {
            let stopped = async move {
                // an error means every sender is gone, which is a stop as well
                let _ = stop.wait_for(|stopped| *stopped).await;
            };
            if let Err(e) = axum::serve(listener, app)
                .with_graceful_shutdown(stopped)
                .await
            {
                tracing::error!(error = %e, "github simulator server failed");
            }
            tracing::info!(%addr, "github simulator stopped");
        });
        tracing::info!(base_url = %shared.base_url, "github simulator listening");
        Ok(GithubSimulator { shared })
    }

    /// "http://127.0.0.1:PORT": github.com-style paths at the root.
    pub fn base_url(&self) -> String {
        self.shared.base_url.clone()
    }

    /// base_url + "/api/v3": every route is also served there, as by GitHub Enterprise Server.
    pub fn enterprise_base_url(&self) -> String {
        format!("{}/api/v3", self.shared.base_url)
    }

    /// Requests received for an endpoint key (see [`ENDPOINTS`]), whatever their answer.
    pub fn request_count(&self, endpoint: &str) -> u64 {
        self.shared.count(endpoint)
    }

    pub fn request_counts(&self) -> BTreeMap<String, u64> {
        self.shared.counts()
    }

    /// Requests that spent primary rate limit (not 304s, GET /rate_limit, 401s or 403s).
    pub fn counted_calls(&self) -> u64 {
        self.shared.counted_calls()
    }

    /// 304 Not Modified answers.
    pub fn not_modified_count(&self) -> u64 {
        self.shared.not_modified_count()
    }

    /// Sets every counter to 0; rate-limit budgets are kept.
    pub fn reset_counts(&self) {
        self.shared.reset_counts();
    }

    /// Sets `token`'s budget now: `remaining` requests until `reset_in` from now, when it
    /// refills to the rate limit.
    pub fn set_remaining(&self, token: &str, remaining: u32, reset_in: Duration) {
        let millis = i64::try_from(reset_in.as_millis()).unwrap_or(i64::MAX / 2);
        self.shared.set_remaining(token, remaining, millis);
    }

    /// `token`'s budget left now (the full limit for a token not seen yet).
    pub fn remaining(&self, token: &str) -> u32 {
        self.shared.rate_view(token).remaining
    }

    /// The next `times` requests that would spend primary rate limit get 403 "You have
    /// exceeded a secondary rate limit…" instead (with `retry-after` when given), spending
    /// nothing. Calls queue up.
    pub fn add_secondary_limit(&self, times: u32, retry_after_secs: Option<u64>) {
        self.shared.add_secondary(times, retry_after_secs);
    }

    /// Every request waits this long before it is answered (0 = none); replaces any earlier
    /// value.
    pub fn add_latency(&self, millis: u64) {
        self.shared.set_latency(millis);
    }

    /// Sets `updated_at` to now on round(fraction × all) generated pull requests (at least
    /// one when `fraction` > 0), chosen deterministically by `seed`, and adds one issue
    /// comment (created now) to each; returns their (repository full name, number), sorted.
    /// Does nothing for recorded data.
    pub fn bump_updated(&self, fraction: f64, seed: u64) -> Vec<(String, u64)> {
        self.shared.bump(fraction, seed)
    }

    /// Makes `Link` headers point to another origin (`http://host:port`), as a compromised
    /// or misconfigured server might; `None` restores the simulator's own.
    pub fn set_link_origin(&self, origin: Option<String>) {
        self.shared.set_link_origin(origin);
    }

    /// Stops serving; requests already in flight are finished.
    pub fn shutdown(&self) {
        self.shared.shutdown.send_replace(true);
    }
}
