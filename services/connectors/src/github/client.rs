//! GitHub over reqwest, REST and GraphQL: a pool of tokens, each with the budgets GitHub
//! reports on every answer (`x-ratelimit-remaining`/`-reset` of the resource named by
//! `x-ratelimit-resource`: `core` for REST requests, `graphql` for GraphQL points). A request
//! goes to the token with the most of its resource left (a GraphQL query only to one that
//! can pay its cost); when every token is spent the client waits for the earliest reset
//! instead of hammering. Secondary limits are kept to before they bite (at most
//! [`MAX_CONCURRENT`] requests in flight, [`REST_POINTS_PER_MINUTE`] and
//! [`GRAPHQL_POINTS_PER_MINUTE`] per token), and when one bites anyway (403/429 with
//! `retry-after`, or with budget left) the token rests for `retry-after`, else one minute and
//! growing, while the others carry on. A token refused with 401 is dropped from the pool.
//! Conditional requests send the ETag of the last completed run's answer; a 304 costs no
//! rate limit. The time spent waiting is counted for the run.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, ETAG, HeaderMap, IF_NONE_MATCH, LINK, RETRY_AFTER};
use serde_json::Value;
use sluice_plumbing::origin::Origin;
use tracing::{Instrument, info, warn};

use crate::error::{ConnectorError, ErrorDomain};
use crate::jira::client::RetryPolicy;

/// Secondary-limit waits in a row on one request before the run gives up.
const MAX_SECONDARY_WAITS: u32 = 8;
/// Requests in flight at once (GitHub's secondary limit is 100, shared with other clients of
/// the same user).
pub const MAX_CONCURRENT: usize = 40;
/// Points per minute per token the client keeps to: GitHub allows 900 for REST (a GET is
/// one point) and 2,000 for GraphQL (a query is one point); a margin is kept for clocks
/// that do not agree on where a minute starts.
pub const REST_POINTS_PER_MINUTE: usize = 850;
pub const GRAPHQL_POINTS_PER_MINUTE: usize = 1900;

/// Which budget a request spends (GitHub's `x-ratelimit-resource`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resource {
    /// REST requests.
    Core,
    /// GraphQL points.
    Graphql,
}

impl Resource {
    fn index(self) -> usize {
        match self {
            Resource::Core => 0,
            Resource::Graphql => 1,
        }
    }

    fn per_minute(self) -> usize {
        match self {
            Resource::Core => REST_POINTS_PER_MINUTE,
            Resource::Graphql => GRAPHQL_POINTS_PER_MINUTE,
        }
    }
}

/// One resource's budget of one token, as last reported.
#[derive(Clone, Copy, Debug, Default)]
struct Budget {
    /// None: not known yet (a fresh token is assumed full).
    remaining: Option<u64>,
    limit: Option<u64>,
    /// When the budget refills (epoch seconds).
    reset_at: Option<u64>,
}

struct TokenState {
    token: String,
    budgets: [Budget; 2],
    /// Requests sent in the last minute, per resource (the secondary per-minute limits).
    recent: [VecDeque<Instant>; 2],
    /// Resting after a secondary limit until then.
    resting_until: Option<Instant>,
    /// Refused as bad credentials: never used again.
    rejected: bool,
}

/// One answer: 200 with its body, or 304 (unchanged since the validator was recorded).
#[derive(Debug)]
pub struct Page {
    pub url: String,
    pub status: u16,
    pub content_type: String,
    pub body: Vec<u8>,
    /// `rel="next"` of the Link header.
    pub next: Option<String>,
    pub etag: Option<String>,
}

impl Page {
    pub fn not_modified(&self) -> bool {
        self.status == 304
    }
}

/// A GraphQL answer without errors: the page as received (stored raw) and its `data`.
#[derive(Debug)]
pub struct GraphqlPage {
    pub page: Page,
    pub data: Value,
    /// `rateLimit.cost` when the query asked for it.
    pub cost: Option<u64>,
}

/// Why a GraphQL query was not answered, when the caller can do something about it.
#[derive(Debug)]
pub enum GraphqlRefusal {
    /// The query asks for more nodes than GitHub allows in one call: ask for fewer.
    NodeLimit(String),
    /// The server has no GraphQL endpoint (404/410): use REST.
    NoEndpoint(String),
}

/// A token to use now (its index and value), or how long to wait until one can pay, and why.
type Picked = Result<(usize, String), (Duration, &'static str)>;

/// What one request is.
struct Outgoing<'a> {
    url: &'a str,
    /// A GraphQL query's JSON body (POST); None for a GET.
    graphql: Option<&'a [u8]>,
    conditional: bool,
    resource: Resource,
    cost: u64,
}

/// A successful answer before it is shaped into a page.
struct Received {
    status: u16,
    headers: HeaderMap,
    body: Vec<u8>,
    /// The token (its index in the pool) the request went out with.
    token: usize,
}

pub struct GithubClient {
    http: reqwest::Client,
    base_url: String,
    graphql_url: String,
    tokens: Mutex<Vec<TokenState>>,
    in_flight: tokio::sync::Semaphore,
    retry: RetryPolicy,
    /// The run's traffic: calls, bytes received, time waited for rate limits, budgets.
    traffic: std::sync::Arc<crate::traffic::RunTraffic>,
    not_modified: AtomicU64,
    /// ETags from the last completed run, by URL; and those seen in this run.
    validators: HashMap<String, String>,
    seen: Mutex<HashMap<String, String>>,
}

impl GithubClient {
    pub fn new(
        http: reqwest::Client,
        base_url: &str,
        tokens: Vec<String>,
        retry: RetryPolicy,
        validators: HashMap<String, String>,
        traffic: std::sync::Arc<crate::traffic::RunTraffic>,
    ) -> Self {
        let base_url = base_url.trim_end_matches('/').to_string();
        GithubClient {
            http,
            graphql_url: graphql_url(&base_url),
            base_url,
            tokens: Mutex::new(
                tokens
                    .into_iter()
                    .map(|token| TokenState {
                        token,
                        budgets: [Budget::default(); 2],
                        recent: [VecDeque::new(), VecDeque::new()],
                        resting_until: None,
                        rejected: false,
                    })
                    .collect(),
            ),
            in_flight: tokio::sync::Semaphore::new(MAX_CONCURRENT),
            retry,
            traffic,
            not_modified: AtomicU64::new(0),
            validators,
            seen: Mutex::new(HashMap::new()),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// Requests sent (retries included, 304s included).
    pub fn api_calls(&self) -> u64 {
        self.traffic.api_calls()
    }

    /// Answers 304 Not Modified (they cost no rate limit).
    pub fn not_modified(&self) -> u64 {
        self.not_modified.load(Ordering::Relaxed)
    }

    /// Time spent waiting for rate limits, primary and secondary.
    pub fn waited_ms(&self) -> u64 {
        self.traffic.totals().waited_ms
    }

    /// GraphQL points spent by the run so far.
    pub fn points_spent(&self) -> u64 {
        self.traffic.totals().graphql_points
    }

    /// When the run should finish, if its budget runs out before (epoch milliseconds);
    /// true when that changed.
    pub fn set_projected_finish(&self, at_ms: Option<i64>) -> bool {
        let before = self.traffic.budget().projected_finish_ms;
        self.traffic.set_projected_finish(at_ms);
        before != at_ms
    }

    /// ETags answered in this run (to keep for the next one once this run completes).
    pub fn seen_validators(&self) -> HashMap<String, String> {
        self.seen.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// A resource's budget over the usable tokens: (left, limit per window, earliest reset
    /// in epoch seconds), each None while no answer has reported it.
    pub fn budget(&self, resource: Resource) -> (Option<u64>, Option<u64>, Option<u64>) {
        let tokens = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
        let usable = tokens.iter().filter(|t| !t.rejected);
        let mut left = None;
        let mut limit = None;
        let mut reset = None;
        let now = epoch_now();
        for token in usable {
            let budget = token.budgets[resource.index()];
            let refilled = budget.reset_at.is_some_and(|r| r <= now);
            let remaining = if refilled {
                budget.limit
            } else {
                budget.remaining
            };
            if let Some(remaining) = remaining {
                left = Some(left.unwrap_or(0) + remaining);
            }
            if let Some(l) = budget.limit {
                limit = Some(limit.unwrap_or(0) + l);
            }
            if let Some(r) = budget.reset_at.filter(|r| *r > now) {
                reset = Some(reset.map_or(r, |e: u64| e.min(r)));
            }
        }
        (left, limit, reset)
    }

    /// The token to use now for `cost` of `resource` (its budget and per-minute room are
    /// reserved), or how long to wait until one can pay, and why.
    fn pick(&self, resource: Resource, cost: u64) -> Result<Picked, ConnectorError> {
        let now = epoch_now();
        let instant = Instant::now();
        let r = resource.index();
        let mut tokens = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
        for token in tokens.iter_mut() {
            // A budget whose reset time has passed is full again.
            for budget in &mut token.budgets {
                if budget.reset_at.is_some_and(|reset| reset <= now) {
                    budget.remaining = None;
                    budget.reset_at = None;
                }
            }
            while token.recent[r]
                .front()
                .is_some_and(|t| instant.duration_since(*t) >= Duration::from_secs(60))
            {
                token.recent[r].pop_front();
            }
            if token.resting_until.is_some_and(|until| until <= instant) {
                token.resting_until = None;
            }
        }
        let usable = tokens
            .iter()
            .enumerate()
            .filter(|(_, t)| {
                !t.rejected
                    && t.resting_until.is_none()
                    && t.budgets[r].remaining.is_none_or(|left| left >= cost)
                    && t.recent[r].len() < resource.per_minute()
            })
            .max_by_key(|(_, t)| t.budgets[r].remaining.unwrap_or(u64::MAX))
            .map(|(index, _)| index);
        if let Some(index) = usable {
            let token = &mut tokens[index];
            token.recent[r].push_back(instant);
            if let Some(left) = token.budgets[r].remaining.as_mut() {
                *left -= cost;
            }
            return Ok(Ok((index, token.token.clone())));
        }
        if tokens.iter().all(|t| t.rejected) {
            return Err(ConnectorError {
                domain: ErrorDomain::User,
                retryable: false,
                message: "GitHub refused every configured token (401 Bad credentials): check the integration's tokens".into(),
                http_status: Some(401),
            });
        }
        // The soonest any token can pay again.
        let mut soonest: Option<(Duration, &'static str)> = None;
        for token in tokens.iter().filter(|t| !t.rejected) {
            let mut wait = (Duration::ZERO, "");
            if let Some(until) = token.resting_until {
                wait = wait.max((until - instant, "a secondary rate limit"));
            }
            let budget = token.budgets[r];
            if budget.remaining.is_some_and(|left| left < cost) {
                let reset = budget.reset_at.unwrap_or(now + 60);
                let until = Duration::from_secs(reset.saturating_sub(now) + 1);
                wait = wait.max((until, "every token's primary rate limit is spent"));
            }
            if token.recent[r].len() >= resource.per_minute()
                && let Some(oldest) = token.recent[r].front()
            {
                let until = Duration::from_secs(60).saturating_sub(instant - *oldest);
                wait = wait.max((until, "the per-minute secondary limit"));
            }
            if soonest.is_none_or(|s| wait.0 < s.0) {
                soonest = Some(wait);
            }
        }
        Ok(Err(soonest
            .map(|(wait, why)| (wait.max(Duration::from_millis(10)), why))
            .unwrap_or((Duration::from_secs(1), "no usable token"))))
    }

    fn note_budget(&self, index: usize, headers: &HeaderMap) {
        let number = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
        };
        let resource = match headers
            .get("x-ratelimit-resource")
            .and_then(|v| v.to_str().ok())
        {
            Some("graphql") => Resource::Graphql,
            Some("core") | None => Resource::Core,
            // Search, code search, …: budgets this client does not spend from.
            Some(_) => return,
        };
        {
            let mut tokens = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(token) = tokens.get_mut(index) {
                let budget = &mut token.budgets[resource.index()];
                if let Some(remaining) = number("x-ratelimit-remaining") {
                    budget.remaining = Some(remaining);
                }
                if let Some(limit) = number("x-ratelimit-limit") {
                    budget.limit = Some(limit);
                }
                if let Some(reset) = number("x-ratelimit-reset") {
                    budget.reset_at = Some(reset);
                }
            }
        }
        let left = self.budget(resource).0;
        match resource {
            Resource::Core => self.traffic.set_remaining(left, None),
            Resource::Graphql => self.traffic.set_remaining(None, left),
        }
    }

    /// A token's `resource` budget is spent until `reset` (epoch seconds).
    fn spent(&self, index: usize, resource: Resource, reset: Option<u64>) {
        if let Some(token) = self
            .tokens
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get_mut(index)
        {
            let budget = &mut token.budgets[resource.index()];
            budget.remaining = Some(0);
            budget.reset_at = reset.or(budget.reset_at).or(Some(epoch_now() + 60));
        }
    }

    fn rest(&self, index: usize, wait: Duration) {
        if let Some(token) = self
            .tokens
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get_mut(index)
        {
            token.resting_until = Some(Instant::now() + wait);
        }
    }

    fn reject(&self, index: usize) {
        if let Some(token) = self
            .tokens
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get_mut(index)
        {
            token.rejected = true;
        }
    }

    async fn wait(&self, wait: Duration, why: &str) {
        info!(
            wait_ms = wait.as_millis() as u64,
            why, "waiting for GitHub's rate limit"
        );
        tokio::time::sleep(wait).await;
        self.traffic.waited(wait);
        crate::traffic::record_wait("github", wait);
    }

    /// GET a path relative to the API root.
    pub async fn get(&self, path: &str, conditional: bool) -> Result<Page, ConnectorError> {
        self.get_url(&self.url(path), conditional).await
    }

    /// GET an absolute URL (a Link header's `next`), only on the configured origin: the
    /// token goes nowhere else, whatever a response's links say.
    pub async fn get_url(&self, url: &str, conditional: bool) -> Result<Page, ConnectorError> {
        let origin = Origin::of(url);
        if origin.is_none() || origin != Origin::of(&self.base_url) {
            return Err(ConnectorError::remote(
                format!(
                    "GitHub returned a link to another origin ({}), not followed: the token is sent only to {}",
                    origin
                        .map(|o| o.to_string())
                        .unwrap_or_else(|| "not http(s)".into()),
                    Origin::of(&self.base_url)
                        .map(|o| o.to_string())
                        .unwrap_or_default()
                ),
                false,
            ));
        }
        let received = self
            .send(&Outgoing {
                url,
                graphql: None,
                conditional,
                resource: Resource::Core,
                cost: 1,
            })
            .await?;
        if received.status == 304 {
            self.not_modified.fetch_add(1, Ordering::Relaxed);
            return Ok(Page {
                url: url.to_string(),
                status: 304,
                content_type: String::new(),
                body: Vec::new(),
                next: None,
                etag: self.validators.get(url).cloned(),
            });
        }
        let etag = received
            .headers
            .get(ETAG)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        if let Some(etag) = &etag {
            self.seen
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(url.to_string(), etag.clone());
        }
        Ok(Page {
            url: url.to_string(),
            status: received.status,
            content_type: content_type(&received.headers),
            next: next_link(&received.headers),
            body: received.body,
            etag,
        })
    }

    /// POSTs a GraphQL query expected to cost `cost` points (GitHub's rule, computed by the
    /// caller) to a token that can pay it. An answer with `errors` is an error (GitHub
    /// answers 200 with errors and perhaps partial data), except those the caller can act
    /// on ([`GraphqlRefusal`]); `RATE_LIMITED` marks the token spent and tries again.
    pub async fn graphql(
        &self,
        query: &str,
        variables: Value,
        cost: u64,
        what: &str,
    ) -> Result<Result<GraphqlPage, GraphqlRefusal>, ConnectorError> {
        let body = serde_json::to_vec(&serde_json::json!({"query": query, "variables": variables}))
            .map_err(|e| ConnectorError::internal(format!("encoding a GraphQL query: {e}")))?;
        let mut rate_limited = 0;
        loop {
            let received = match self
                .send(&Outgoing {
                    url: &self.graphql_url,
                    graphql: Some(&body),
                    conditional: false,
                    resource: Resource::Graphql,
                    cost,
                })
                .await
            {
                Ok(received) => received,
                Err(error) if matches!(error.http_status, Some(404) | Some(410)) => {
                    return Ok(Err(GraphqlRefusal::NoEndpoint(error.message)));
                }
                Err(error) => return Err(error),
            };
            let answer: Value = serde_json::from_slice(&received.body).map_err(|e| {
                ConnectorError::remote(
                    format!(
                        "GitHub returned a malformed GraphQL answer for {what} from {}: {e}",
                        self.graphql_url
                    ),
                    false,
                )
            })?;
            let errors = answer
                .get("errors")
                .and_then(Value::as_array)
                .filter(|errors| !errors.is_empty());
            if let Some(errors) = errors {
                let kind = |wanted: &str| {
                    errors
                        .iter()
                        .any(|e| e.get("type").and_then(Value::as_str) == Some(wanted))
                };
                let messages = errors
                    .iter()
                    .map(|e| {
                        let kind = e.get("type").and_then(Value::as_str).unwrap_or("ERROR");
                        let message = e.get("message").and_then(Value::as_str).unwrap_or("");
                        format!("{kind}: {message}")
                    })
                    .collect::<Vec<_>>()
                    .join("; ");
                if kind("MAX_NODE_LIMIT_EXCEEDED") {
                    return Ok(Err(GraphqlRefusal::NodeLimit(messages)));
                }
                if kind("RATE_LIMITED") && rate_limited < MAX_SECONDARY_WAITS {
                    rate_limited += 1;
                    let reset = number(&received.headers, "x-ratelimit-reset");
                    self.spent(received.token, Resource::Graphql, reset);
                    continue;
                }
                return Err(ConnectorError::remote(
                    format!("GitHub answered the GraphQL query for {what} with errors: {messages}"),
                    false,
                ));
            }
            let cost_reported = answer
                .pointer("/data/rateLimit/cost")
                .and_then(Value::as_u64);
            self.traffic.spent_points(cost_reported.unwrap_or(cost));
            let data = answer.get("data").cloned().unwrap_or(Value::Null);
            if data.is_null() {
                return Err(ConnectorError::remote(
                    format!("GitHub answered the GraphQL query for {what} without data or errors"),
                    false,
                ));
            }
            return Ok(Ok(GraphqlPage {
                page: Page {
                    url: self.graphql_url.clone(),
                    status: received.status,
                    content_type: content_type(&received.headers),
                    body: received.body,
                    next: None,
                    etag: None,
                },
                data,
                cost: cost_reported,
            }));
        }
    }

    /// Sends one request with a token that can pay for it, through every rate-limit wait,
    /// token failover and retry; Ok for 2xx and 304.
    async fn send(&self, out: &Outgoing<'_>) -> Result<Received, ConnectorError> {
        let url = out.url;
        let parsed = reqwest::Url::parse(url)
            .map_err(|e| ConnectorError::config(format!("invalid GitHub URL {url}: {e}")))?;
        let method = if out.graphql.is_some() { "POST" } else { "GET" };
        let mut attempt = 1;
        let mut secondary_waits = 0;
        loop {
            let (index, token) = match self.pick(out.resource, out.cost)? {
                Ok(chosen) => chosen,
                Err((wait, why)) => {
                    self.wait(wait, why).await;
                    continue;
                }
            };
            let mut request = match out.graphql {
                Some(body) => self
                    .http
                    .post(parsed.clone())
                    .header(CONTENT_TYPE, "application/json")
                    .body(body.to_vec()),
                None => self.http.get(parsed.clone()),
            }
            .bearer_auth(&token)
            .header("accept", "application/vnd.github+json")
            .header("accept-encoding", crate::wire::ACCEPT_ENCODING)
            .header("x-github-api-version", "2022-11-28");
            if out.conditional
                && let Some(etag) = self.validators.get(url)
            {
                request = request.header(IF_NONE_MATCH, etag);
            }
            let mut headers = HeaderMap::new();
            crate::jira::client::inject_trace(&mut headers);
            self.traffic.request_started();
            let span =
                tracing::info_span!("github.request", %method, url = %url, attempt, token = index);
            let permit = self.in_flight.acquire().await.ok();
            let sent = request.headers(headers).send().instrument(span).await;
            crate::traffic::record_request(
                "github",
                &parsed,
                sent.as_ref().ok().map(|r| r.status().as_u16()),
            );
            let response = match sent {
                Ok(response) => response,
                Err(error) => {
                    drop(permit);
                    let (cause, transient) = crate::wire::send_failure(&error);
                    if transient && attempt < self.retry.max_attempts {
                        let delay = self.backoff(attempt);
                        warn!(%url, attempt, error = %cause, "github request failed; retrying");
                        tokio::time::sleep(delay).await;
                        attempt += 1;
                        continue;
                    }
                    return Err(ConnectorError::remote(
                        format!("{method} {url} failed after {attempt} attempts: {cause}"),
                        transient,
                    ));
                }
            };
            let status = response.status();
            self.note_budget(index, response.headers());
            if status == StatusCode::NOT_MODIFIED {
                return Ok(Received {
                    status: 304,
                    headers: response.headers().clone(),
                    body: Vec::new(),
                    token: index,
                });
            }
            if status.is_success() {
                let headers = response.headers().clone();
                let body = crate::wire::read_body(response, &self.traffic)
                    .await
                    .map_err(|e| {
                        let retryable = matches!(e, crate::wire::BodyError::Read(_));
                        ConnectorError::remote(format!("{method} {url}: {e}"), retryable)
                    })?;
                return Ok(Received {
                    status: status.as_u16(),
                    headers,
                    body,
                    token: index,
                });
            }
            let headers = response.headers().clone();
            let detail = error_message(response).await;
            drop(permit);
            match status {
                StatusCode::UNAUTHORIZED => {
                    warn!(
                        token = index,
                        "GitHub refused a token (401); using the others"
                    );
                    self.reject(index);
                    continue;
                }
                StatusCode::FORBIDDEN | StatusCode::TOO_MANY_REQUESTS => {
                    let remaining = number(&headers, "x-ratelimit-remaining");
                    let retry_after = retry_after(&headers);
                    let secondary = retry_after.is_some()
                        || detail.to_ascii_lowercase().contains("secondary rate limit");
                    if remaining == Some(0) && !secondary {
                        // Primary limit: the token is spent until its reset; pick() switches
                        // token or waits.
                        self.spent(index, out.resource, number(&headers, "x-ratelimit-reset"));
                        continue;
                    }
                    if secondary || status == StatusCode::TOO_MANY_REQUESTS {
                        secondary_waits += 1;
                        self.traffic.throttled();
                        if secondary_waits > MAX_SECONDARY_WAITS {
                            return Err(ConnectorError::remote(
                                format!(
                                    "GitHub kept answering secondary rate limits for {method} {url} ({secondary_waits} waits){detail}"
                                ),
                                true,
                            ));
                        }
                        let wait = retry_after.unwrap_or_else(|| {
                            Duration::from_secs(60) * 2u32.pow((secondary_waits - 1).min(4))
                        });
                        let wait = wait.min(self.retry.max_retry_after.max(Duration::from_secs(1)));
                        info!(
                            token = index,
                            wait_ms = wait.as_millis() as u64,
                            "GitHub secondary rate limit: the token rests"
                        );
                        self.rest(index, wait);
                        continue;
                    }
                    return Err(ConnectorError {
                        domain: ErrorDomain::User,
                        retryable: false,
                        message: format!(
                            "HTTP 403 from {method} {url} (the token lacks access: check its scopes and the repository names){detail}"
                        ),
                        http_status: Some(403),
                    });
                }
                StatusCode::NOT_FOUND | StatusCode::GONE => {
                    return Err(ConnectorError {
                        domain: ErrorDomain::User,
                        retryable: false,
                        message: format!(
                            "HTTP {} from {method} {url} (check the repository or organization name and the token's access){detail}",
                            status.as_u16()
                        ),
                        http_status: Some(status.as_u16()),
                    });
                }
                status if status.is_server_error() && attempt < self.retry.max_attempts => {
                    let delay = self.backoff(attempt);
                    warn!(%url, status = status.as_u16(), attempt, "github server error; retrying");
                    tokio::time::sleep(delay).await;
                    attempt += 1;
                    continue;
                }
                status => {
                    return Err(ConnectorError {
                        domain: ErrorDomain::Remote,
                        retryable: false,
                        message: format!("HTTP {} from {method} {url}{detail}", status.as_u16()),
                        http_status: Some(status.as_u16()),
                    });
                }
            }
        }
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let full = self
            .retry
            .base_delay
            .saturating_mul(1 << (attempt - 1).min(10));
        let half = full / 2;
        half + Duration::from_millis(rand::random_range(0..=half.as_millis().max(1) as u64))
    }
}

/// GitHub's GraphQL endpoint for a REST API root: `https://api.github.com/graphql`, and on
/// GitHub Enterprise Server (`https://HOST/api/v3`) `https://HOST/api/graphql`.
pub fn graphql_url(base_url: &str) -> String {
    let base = base_url.trim_end_matches('/');
    match base.strip_suffix("/api/v3") {
        Some(host) => format!("{host}/api/graphql"),
        None => format!("{base}/graphql"),
    }
}

fn content_type(headers: &HeaderMap) -> String {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

fn number(headers: &HeaderMap, name: &str) -> Option<u64> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
}

fn epoch_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    headers
        .get(RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}

/// The `rel="next"` URL of a Link header.
pub fn next_link(headers: &HeaderMap) -> Option<String> {
    let link = headers.get(LINK)?.to_str().ok()?;
    link.split(',').find_map(|part| {
        let (target, params) = part.split_once(';')?;
        let is_next = params
            .split(';')
            .any(|p| p.trim().trim_start_matches("rel=").trim_matches('"') == "next");
        is_next.then(|| {
            target
                .trim()
                .trim_start_matches('<')
                .trim_end_matches('>')
                .to_string()
        })
    })
}

/// GitHub's `message`, when the body has one.
async fn error_message(response: reqwest::Response) -> String {
    let encoding = response
        .headers()
        .get(reqwest::header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .map(str::to_ascii_lowercase);
    let Ok(body) = response.bytes().await else {
        return String::new();
    };
    let Ok(body) = crate::wire::decode(&body, encoding.as_deref()) else {
        return String::new();
    };
    match serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| {
            v.get("message")
                .and_then(|m| m.as_str())
                .map(str::to_string)
        }) {
        Some(message) => format!(": {message}"),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_graphql_endpoint_of_github_com_and_of_an_enterprise_server() {
        assert_eq!(
            graphql_url("https://api.github.com"),
            "https://api.github.com/graphql"
        );
        assert_eq!(
            graphql_url("https://git.example.com/api/v3/"),
            "https://git.example.com/api/graphql"
        );
    }

    #[test]
    fn the_next_link_is_found_among_the_others() {
        let mut headers = HeaderMap::new();
        headers.insert(
            LINK,
            "<https://api.github.com/repositories/3544490/issues/1136/comments?per_page=3&page=2>; rel=\"next\", <https://api.github.com/repositories/3544490/issues/1136/comments?per_page=3&page=3>; rel=\"last\""
                .parse()
                .unwrap(),
        );
        assert_eq!(
            next_link(&headers).as_deref(),
            Some(
                "https://api.github.com/repositories/3544490/issues/1136/comments?per_page=3&page=2"
            )
        );
        let mut last = HeaderMap::new();
        last.insert(
            LINK,
            "<https://x/?page=1>; rel=\"first\", <https://x/?page=2>; rel=\"prev\""
                .parse()
                .unwrap(),
        );
        assert_eq!(next_link(&last), None);
    }
}
