//! A GitHub REST and GraphQL API simulator: repositories, pull requests and their commits,
//! reviews, review comments and issue comments, recorded (PyGithub's test recordings) or
//! generated at scale, served the way github.com and GitHub Enterprise Server (`/api/v3`,
//! `/api/graphql`) do: `Link` paging that switches to `/repositories/{id}/…` URLs, ETags and
//! 304s that cost nothing, a GraphQL endpoint whose objects are the REST answers mapped field
//! by field, per-token primary rate limits per resource (`core`, `graphql`) with GitHub's
//! headers, GraphQL query costs and node limits, secondary limits in time (concurrency and
//! points per minute), and secondary limits, GraphQL errors and latency on demand.
//!
//! Layout: `dataset` holds what is served (recorded payloads, or a spec plus compact facts
//! per pull request), `generate` derives every generated value from (seed, indexes), `render`
//! writes generated objects as JSON (with `json`), `api` parses paths and answers endpoints,
//! `graphql` parses, prices and runs GraphQL queries over the REST answers, `server` wraps
//! each answer in counting, auth, rate limits and conditional requests, `secondary` keeps the
//! secondary limits in time, and `state` holds what changes while running.

mod api;
mod dataset;
mod generate;
mod graphql;
mod json;
mod render;
mod secondary;
mod server;
mod state;

#[cfg(test)]
mod graphql_tests;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;

pub use api::{
    ENDPOINTS, GRAPHQL, ISSUE_COMMENTS, ORG_REPOS, PULL, PULL_COMMITS, PULL_REVIEW_COMMENTS,
    PULL_REVIEWS, PULLS, RATE_LIMIT, REPO, REPO_ISSUE_COMMENTS, REPO_REVIEW_COMMENTS, USER,
};
pub use dataset::{GithubDataset, GithubSpec};

use state::{GhShared, Resource};

/// GitHub's primary limit for a personal access token, per hour.
pub const DEFAULT_RATE_LIMIT: u32 = 5000;
/// GitHub's GraphQL primary limit for a personal access token, in points per hour.
pub const DEFAULT_GRAPHQL_RATE_LIMIT: u32 = 5000;
/// GitHub's limit on the nodes one GraphQL query may request.
pub const DEFAULT_GRAPHQL_NODE_LIMIT: u64 = 500_000;
/// GitHub's `per_page` cap.
pub const DEFAULT_MAX_PER_PAGE: usize = 100;

/// GitHub's secondary limits that the simulator enforces in time, per token; 0 = no limit.
/// Every request costs one point (a REST GET, or a GraphQL query without mutations).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SecondaryLimits {
    /// Requests in flight at once, REST and GraphQL together (GitHub: 100).
    pub max_concurrent: u32,
    /// Points per minute for REST endpoints (GitHub: 900).
    pub rest_points_per_minute: u32,
    /// Points per minute for the GraphQL endpoint (GitHub: 2,000).
    pub graphql_points_per_minute: u32,
}

impl SecondaryLimits {
    /// No secondary limits in time (armed ones still apply).
    pub fn off() -> SecondaryLimits {
        SecondaryLimits {
            max_concurrent: 0,
            rest_points_per_minute: 0,
            graphql_points_per_minute: 0,
        }
    }
}

impl Default for SecondaryLimits {
    /// GitHub's documented values.
    fn default() -> SecondaryLimits {
        SecondaryLimits {
            max_concurrent: 100,
            rest_points_per_minute: 900,
            graphql_points_per_minute: 2_000,
        }
    }
}

/// What to serve and how to limit it.
pub struct GithubSimulatorConfig {
    pub dataset: GithubDataset,
    /// Accepted tokens (`Authorization: Bearer T` or `token T`); empty = any token. A
    /// missing or unknown token gets 401 "Bad credentials".
    pub tokens: Vec<String>,
    /// Primary limit per token per window (default 5000).
    pub rate_limit: u32,
    /// GraphQL primary limit per token per window, in points (default 5000).
    pub graphql_rate_limit: u32,
    /// Most nodes one GraphQL query may request (default 500,000).
    pub graphql_node_limit: u64,
    /// Serve the GraphQL endpoint (default true); false answers it 404 like a server without
    /// one.
    pub graphql: bool,
    /// Window length (default one hour) of both primary limits; a token's window starts with
    /// its first request of the resource, and `x-ratelimit-reset` is its end in epoch seconds.
    pub window: Duration,
    /// Secondary limits in time (default GitHub's; [`SecondaryLimits::off`] for none).
    pub secondary: SecondaryLimits,
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
            graphql_rate_limit: DEFAULT_GRAPHQL_RATE_LIMIT,
            graphql_node_limit: DEFAULT_GRAPHQL_NODE_LIMIT,
            graphql: true,
            window: Duration::from_secs(3600),
            secondary: SecondaryLimits::default(),
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

    /// REST requests that spent primary rate limit (not 304s, GET /rate_limit, 401s or 403s,
    /// nor GraphQL queries).
    pub fn counted_calls(&self) -> u64 {
        self.shared.counted_calls()
    }

    /// GraphQL points spent, over every token.
    pub fn graphql_points_spent(&self) -> u64 {
        self.shared.graphql_points_spent()
    }

    /// GraphQL queries answered with HTTP 200: with data, or with errors only (refused for
    /// its syntax, schema, pagination, node limit or GraphQL budget, which spends nothing, or
    /// an error armed by [`GithubSimulator::add_graphql_error`]). Not counted: 400, 401 and
    /// 403 answers.
    pub fn graphql_query_count(&self) -> u64 {
        self.shared.graphql_query_count()
    }

    /// 403 answers for a secondary limit, armed or in time.
    pub fn secondary_refusals(&self) -> u64 {
        self.shared.limits.refusals()
    }

    /// 304 Not Modified answers.
    pub fn not_modified_count(&self) -> u64 {
        self.shared.not_modified_count()
    }

    /// Sets every counter to 0 (GraphQL and secondary ones included); rate-limit budgets and
    /// secondary windows are kept.
    pub fn reset_counts(&self) {
        self.shared.reset_counts();
    }

    /// Sets `token`'s budget now: `remaining` requests until `reset_in` from now, when it
    /// refills to the rate limit.
    pub fn set_remaining(&self, token: &str, remaining: u32, reset_in: Duration) {
        self.shared
            .set_remaining(Resource::Core, token, remaining, millis(reset_in));
    }

    /// `token`'s budget left now (the full limit for a token not seen yet).
    pub fn remaining(&self, token: &str) -> u32 {
        self.shared.rate_view(Resource::Core, token).remaining
    }

    /// Sets `token`'s GraphQL budget now: `remaining` points until `reset_in` from now, when
    /// it refills to the GraphQL rate limit.
    pub fn set_graphql_remaining(&self, token: &str, remaining: u32, reset_in: Duration) {
        self.shared
            .set_remaining(Resource::Graphql, token, remaining, millis(reset_in));
    }

    /// `token`'s GraphQL points left now (the full limit for a token not seen yet).
    pub fn graphql_remaining(&self, token: &str) -> u32 {
        self.shared.rate_view(Resource::Graphql, token).remaining
    }

    /// The next `times` requests that would spend primary rate limit (REST requests and
    /// GraphQL queries alike) get 403 "You have exceeded a secondary rate limit…" instead
    /// (with `retry-after` when given), spending nothing. Calls queue up.
    pub fn add_secondary_limit(&self, times: u32, retry_after_secs: Option<u64>) {
        self.shared.add_secondary(times, retry_after_secs);
    }

    /// Opens a secondary-limit window now for `token` (None: for every token): until
    /// `retry_after` has passed, every request of it gets 403 with `retry-after` = the whole
    /// seconds left, spending nothing. Replaces the window opened earlier the same way.
    pub fn open_secondary_window(&self, token: Option<&str>, retry_after: Duration) {
        self.shared
            .limits
            .open_window(token, crate::time::now_ms(), millis(retry_after));
    }

    /// The next `times` GraphQL queries that would run get HTTP 200 with
    /// `{"data": null, "errors": [{"type": error_type, "message": message}]}`, spending their
    /// cost, as GitHub answers when a query fails on its side. Calls queue up.
    pub fn add_graphql_error(&self, times: u32, error_type: &str, message: &str) {
        self.shared.add_graphql_error(times, error_type, message);
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

    /// Edits one issue comment and one review comment (when it has them) of each of
    /// round(fraction × all) generated pull requests (at least one when `fraction` > 0),
    /// chosen deterministically by `seed`: " (edited)" is appended to the body and
    /// `updated_at` set to now, as when someone edits a comment on GitHub, while the pull
    /// request's own `updated_at` stays. Returns the (repository full name, comment id) of
    /// every edited comment, sorted. Does nothing for recorded data.
    pub fn edit_comments(&self, fraction: f64, seed: u64) -> Vec<(String, u64)> {
        self.shared.edit_comments(fraction, seed)
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

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX / 2)
}
