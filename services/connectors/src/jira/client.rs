//! Jira Cloud REST v3 over reqwest: auth, adaptive pacing per site (see `pacing`), gzip,
//! throttling answers (429, 503 with a wait) waited out for as long as the site asks,
//! backoff with jitter on 5xx and network errors, a bounded number of attempts, and the
//! run's traffic counted.

use std::sync::Arc;
use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, HeaderMap};
use sluice_plumbing::credentials::SourceCredentials;
use tracing::{Instrument, warn};

use crate::error::{ConnectorError, ErrorDomain};
use crate::pacing::{Pacer, PacingConfig, Priority, site_wait};
use crate::traffic::RunTraffic;

/// How the client retries.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Attempts per request, the first included.
    pub max_attempts: u32,
    /// First backoff for 5xx without Retry-After; doubles per attempt, with jitter.
    pub base_delay: Duration,
    /// Longest wait honoured from a Retry-After header; longer waits are capped to this.
    pub max_retry_after: Duration,
    /// Throttling answers (429, 503 with a wait) in a row for one request before it fails;
    /// they are waited out and never count as failed attempts.
    pub max_throttled: u32,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 5,
            base_delay: Duration::from_millis(500),
            max_retry_after: Duration::from_secs(120),
            max_throttled: 30,
        }
    }
}

/// One page as received.
#[derive(Debug)]
pub struct Fetched {
    pub url: String,
    pub status: u16,
    pub content_type: String,
    pub body: Vec<u8>,
}

impl Fetched {
    /// The answer as a raw page of `extraction_type`, stored exactly as received.
    pub fn into_raw_page(
        self,
        extraction_type: &str,
        step: i32,
        request_context: serde_json::Value,
        scope: Option<String>,
    ) -> sluice_plumbing::raw::RawPage {
        sluice_plumbing::raw::RawPage {
            scope,
            cursor: None,
            extraction_type: extraction_type.to_string(),
            step,
            request_url: self.url,
            request_context,
            http_status: self.status,
            content_type: self.content_type,
            body: self.body,
        }
    }

    /// The body as `T`; a body that is not the documented shape is the remote's fault and
    /// is not retried.
    pub fn parse<'a, T: serde::Deserialize<'a>>(&'a self, what: &str) -> Result<T, ConnectorError> {
        serde_json::from_slice(&self.body).map_err(|e| {
            ConnectorError::remote(
                format!("Jira returned a malformed {what} from {}: {e}", self.url),
                false,
            )
        })
    }
}

#[derive(Clone)]
pub struct JiraClient {
    http: reqwest::Client,
    base_url: String,
    credentials: Arc<SourceCredentials>,
    retry: RetryPolicy,
    /// The site's pacing, shared by every run against it in this process.
    pacer: Arc<Pacer>,
    /// Where this client's requests queue for the site's budget.
    priority: Priority,
    traffic: Arc<RunTraffic>,
}

impl JiraClient {
    /// A client for one run against the site at `base_url`, paced with the site's shared
    /// pacer (created with `pacing` if this process has none for the site yet).
    pub fn new(
        http: reqwest::Client,
        base_url: &str,
        credentials: SourceCredentials,
        retry: RetryPolicy,
        pacing: PacingConfig,
        traffic: Arc<RunTraffic>,
    ) -> Self {
        let base_url = base_url.trim_end_matches('/').to_string();
        let site = sluice_plumbing::origin::Origin::of(&base_url)
            .map(|o| o.as_str().to_string())
            .unwrap_or_else(|| base_url.clone());
        JiraClient {
            http,
            pacer: Pacer::for_site(&site, pacing),
            base_url,
            credentials: Arc::new(credentials),
            retry,
            priority: Priority::Pages,
            traffic,
        }
    }

    /// The same client queuing behind issue and changelog pages: for dev-status calls.
    pub fn dev_status(&self) -> JiraClient {
        JiraClient {
            priority: Priority::DevStatus,
            ..self.clone()
        }
    }

    /// HTTP requests sent so far by this run (retries included).
    pub fn api_calls(&self) -> u64 {
        self.traffic.api_calls()
    }

    /// GET `path` (relative to the site) with `query`, retried per the policy. Any non-2xx
    /// answer that is not retried, or still failing after the last attempt, is an error
    /// naming the HTTP status and URL.
    pub async fn get(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<Fetched, ConnectorError> {
        let mut url = reqwest::Url::parse(&format!("{}{path}", self.base_url)).map_err(|e| {
            ConnectorError::config(format!("invalid Jira URL {}{path}: {e}", self.base_url))
        })?;
        if !query.is_empty() {
            url.query_pairs_mut()
                .extend_pairs(query.iter().map(|(k, v)| (*k, v.as_str())));
        }
        self.get_url(url).await
    }

    /// GET an absolute URL the API handed out (e.g. `nextPage`), only on the configured
    /// origin (scheme, host and port).
    pub async fn get_absolute(&self, url: &str) -> Result<Fetched, ConnectorError> {
        let url = reqwest::Url::parse(url).map_err(|e| {
            ConnectorError::remote(
                format!("Jira returned an invalid page URL {url:?}: {e}"),
                false,
            )
        })?;
        let base = reqwest::Url::parse(&self.base_url).map_err(|e| {
            ConnectorError::config(format!("invalid Jira URL {}: {e}", self.base_url))
        })?;
        let origin = sluice_plumbing::origin::Origin::of(url.as_str());
        if origin.is_none() || origin != sluice_plumbing::origin::Origin::of(base.as_str()) {
            return Err(ConnectorError::remote(
                format!(
                    "Jira returned a page URL on another origin, not followed (credentials go only to {}): {url}",
                    self.base_url
                ),
                false,
            ));
        }
        self.get_url(url).await
    }

    /// POST a JSON body to `path` (e.g. `changelog/bulkfetch`), retried like a GET.
    pub async fn post_json(
        &self,
        path: &str,
        body: &serde_json::Value,
    ) -> Result<Fetched, ConnectorError> {
        let url = reqwest::Url::parse(&format!("{}{path}", self.base_url)).map_err(|e| {
            ConnectorError::config(format!("invalid Jira URL {}{path}: {e}", self.base_url))
        })?;
        self.send(url, Some(body.to_string().into_bytes())).await
    }

    async fn get_url(&self, url: reqwest::Url) -> Result<Fetched, ConnectorError> {
        self.send(url, None).await
    }

    async fn send(
        &self,
        url: reqwest::Url,
        body: Option<Vec<u8>>,
    ) -> Result<Fetched, ConnectorError> {
        let method = if body.is_some() { "POST" } else { "GET" };
        let mut attempt = 1;
        let mut throttled = 0;
        loop {
            let slot = self.pacer.acquire(self.priority).await;
            self.traffic.waited(slot.held);
            crate::traffic::record_wait("jira", slot.held);
            let span = tracing::info_span!("jira.request", %method, url = %url, attempt);
            let mut request = match &body {
                Some(body) => self
                    .http
                    .post(url.clone())
                    .header("content-type", "application/json")
                    .body(body.clone()),
                None => self.http.get(url.clone()),
            }
            .header("accept", "application/json")
            .header("accept-encoding", crate::wire::ACCEPT_ENCODING);
            request = match self.credentials.as_ref() {
                SourceCredentials::Basic { email, api_token } => {
                    request.basic_auth(email, Some(api_token))
                }
                SourceCredentials::Bearer { token } => request.bearer_auth(token),
                SourceCredentials::Github { .. } => {
                    return Err(ConnectorError::config(
                        "GitHub credentials cannot call Jira".to_string(),
                    ));
                }
            };
            let mut headers = HeaderMap::new();
            inject_trace(&mut headers);
            self.traffic.request_started();
            let sent = request.headers(headers).send().instrument(span).await;
            crate::traffic::record_request(
                "jira",
                &url,
                sent.as_ref().ok().map(|r| r.status().as_u16()),
            );
            let response = match sent {
                Ok(response) => response,
                Err(error) => {
                    let (cause, transient) = crate::wire::send_failure(&error);
                    if transient && attempt < self.retry.max_attempts {
                        drop(slot);
                        let delay = self.backoff(attempt);
                        warn!(%url, attempt, retry_in_ms = delay.as_millis() as u64, error = %cause, "jira request failed");
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
            if status.is_success() {
                self.pacer.on_success(response.headers());
                let content_type = response
                    .headers()
                    .get(CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_string();
                let body = crate::wire::read_body(response, &self.traffic)
                    .await
                    .map_err(|e| {
                        let retryable = matches!(e, crate::wire::BodyError::Read(_));
                        ConnectorError::remote(format!("{method} {url}: {e}"), retryable)
                    })?;
                return Ok(Fetched {
                    url: url.to_string(),
                    status: status.as_u16(),
                    content_type,
                    body,
                });
            }
            // The site asks for time: wait as long as it says (every request to the site
            // waits with this one), slow the pace, and try again without counting an attempt.
            let named_wait = site_wait(response.headers());
            if status == StatusCode::TOO_MANY_REQUESTS
                || (status == StatusCode::SERVICE_UNAVAILABLE && named_wait.is_some())
            {
                self.traffic.throttled();
                throttled += 1;
                if throttled <= self.retry.max_throttled {
                    let wait = named_wait
                        .unwrap_or_else(|| self.backoff(throttled))
                        .min(self.retry.max_retry_after);
                    self.pacer.on_throttled(wait);
                    let reason = response
                        .headers()
                        .get("ratelimit-reason")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default()
                        .to_string();
                    warn!(%url, status = status.as_u16(), throttled, wait_ms = wait.as_millis() as u64, %reason, pace = ?self.pacer.pace(), "jira throttled; waiting as asked");
                    drop(slot);
                    continue;
                }
                let detail = error_detail(response).await;
                return Err(ConnectorError {
                    domain: ErrorDomain::Remote,
                    retryable: false,
                    message: format!(
                        "HTTP {} from {method} {url}: Jira still throttled this request after waiting out {} answers in a row (the site's rate limit is lower than one request at a time; set SLUICE_JIRA_REQUESTS_PER_SECOND to a lower ceiling or retry later){detail}",
                        status.as_u16(),
                        throttled - 1
                    ),
                    http_status: Some(status.as_u16()),
                });
            }
            let retryable = status.is_server_error();
            if retryable && attempt < self.retry.max_attempts {
                drop(slot);
                let delay = self.backoff(attempt);
                warn!(%url, status = status.as_u16(), attempt, retry_in_ms = delay.as_millis() as u64, "jira server error; retrying");
                tokio::time::sleep(delay).await;
                attempt += 1;
                continue;
            }
            let detail = error_detail(response).await;
            let (domain, hint) = match status {
                StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => (
                    ErrorDomain::User,
                    " (check the integration's email and API token, and their permissions)",
                ),
                StatusCode::NOT_FOUND => {
                    (ErrorDomain::User, " (check the base URL and project keys)")
                }
                StatusCode::GONE => (
                    ErrorDomain::Remote,
                    " (the endpoint was removed by Atlassian)",
                ),
                _ => (ErrorDomain::Remote, ""),
            };
            let attempts = if retryable {
                format!(" after {attempt} attempts")
            } else {
                String::new()
            };
            return Err(ConnectorError {
                domain,
                retryable: false,
                message: format!(
                    "HTTP {} from {method} {url}{attempts}{hint}{detail}",
                    status.as_u16()
                ),
                http_status: Some(status.as_u16()),
            });
        }
    }

    /// Exponential backoff with jitter: a random wait in [d/2, d], d = base * 2^(attempt-1).
    fn backoff(&self, attempt: u32) -> Duration {
        let full = self
            .retry
            .base_delay
            .saturating_mul(1 << (attempt - 1).min(10));
        let half = full / 2;
        let jitter_ms = rand::random_range(0..=half.as_millis().max(1) as u64);
        half + Duration::from_millis(jitter_ms)
    }
}

/// Jira's `errorMessages`, when the body has them (never the request's credentials).
async fn error_detail(response: reqwest::Response) -> String {
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
    #[derive(serde::Deserialize)]
    struct JiraErrors {
        #[serde(default, rename = "errorMessages")]
        error_messages: Vec<String>,
    }
    match serde_json::from_slice::<JiraErrors>(&body) {
        Ok(errors) if !errors.error_messages.is_empty() => {
            format!(": {}", errors.error_messages.join("; "))
        }
        _ => String::new(),
    }
}

pub(crate) fn inject_trace(headers: &mut HeaderMap) {
    let mut metadata = tonic::metadata::MetadataMap::new();
    sluice_plumbing::telemetry::inject_grpc(&mut metadata);
    for (key, value) in metadata.into_headers() {
        if let Some(key) = key {
            headers.insert(key, value);
        }
    }
}
