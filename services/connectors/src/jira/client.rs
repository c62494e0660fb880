//! Jira Cloud REST v3 over reqwest: auth, retries that honour Retry-After on 429/503,
//! backoff with jitter on 5xx, a bounded number of attempts, and a count of API calls.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, HeaderMap, RETRY_AFTER};
use sluice_plumbing::credentials::SourceCredentials;
use tracing::{Instrument, warn};

use crate::error::{ConnectorError, ErrorDomain};

/// How the client retries.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Attempts per request, the first included.
    pub max_attempts: u32,
    /// First backoff for 5xx without Retry-After; doubles per attempt, with jitter.
    pub base_delay: Duration,
    /// Longest wait honoured from a Retry-After header; longer waits are capped to this.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 5,
            base_delay: Duration::from_millis(500),
            max_retry_after: Duration::from_secs(120),
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
    api_calls: Arc<AtomicU64>,
    /// Per-integration request pacing: the earliest time the next request may start.
    next_slot: Arc<tokio::sync::Mutex<tokio::time::Instant>>,
    min_interval: Duration,
}

impl JiraClient {
    pub fn new(
        http: reqwest::Client,
        base_url: &str,
        credentials: SourceCredentials,
        retry: RetryPolicy,
    ) -> Self {
        JiraClient {
            http,
            base_url: base_url.trim_end_matches('/').to_string(),
            credentials: Arc::new(credentials),
            retry,
            api_calls: Arc::new(AtomicU64::new(0)),
            next_slot: Arc::new(tokio::sync::Mutex::new(tokio::time::Instant::now())),
            min_interval: Duration::ZERO,
        }
    }

    /// Limits this client (one integration's run) to `per_second` requests per second.
    pub fn with_rate_limit(mut self, per_second: u32) -> Self {
        self.min_interval = if per_second == 0 {
            Duration::ZERO
        } else {
            Duration::from_secs(1) / per_second
        };
        self
    }

    async fn pace(&self) {
        if self.min_interval.is_zero() {
            return;
        }
        let start = {
            let mut next = self.next_slot.lock().await;
            let now = tokio::time::Instant::now();
            let start = (*next).max(now);
            *next = start + self.min_interval;
            start
        };
        tokio::time::sleep_until(start).await;
    }

    /// HTTP requests sent so far (retries included).
    pub fn api_calls(&self) -> u64 {
        self.api_calls.load(Ordering::Relaxed)
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
        loop {
            self.pace().await;
            let span = tracing::info_span!("jira.request", %method, url = %url, attempt);
            let mut request = match &body {
                Some(body) => self
                    .http
                    .post(url.clone())
                    .header("content-type", "application/json")
                    .body(body.clone()),
                None => self.http.get(url.clone()),
            }
            .header("accept", "application/json");
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
            self.api_calls.fetch_add(1, Ordering::Relaxed);
            let sent = request.headers(headers).send().instrument(span).await;
            let response = match sent {
                Ok(response) => response,
                Err(error) if attempt < self.retry.max_attempts => {
                    let delay = self.backoff(attempt);
                    warn!(%url, attempt, retry_in_ms = delay.as_millis() as u64, error = %error, "jira request failed");
                    tokio::time::sleep(delay).await;
                    attempt += 1;
                    continue;
                }
                Err(error) => {
                    return Err(ConnectorError::remote(
                        format!("{method} {url} failed after {attempt} attempts: {error}"),
                        true,
                    ));
                }
            };
            let status = response.status();
            if status.is_success() {
                let content_type = response
                    .headers()
                    .get(CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_string();
                let body = response.bytes().await.map_err(|e| {
                    ConnectorError::remote(format!("reading the body of {method} {url}: {e}"), true)
                })?;
                return Ok(Fetched {
                    url: url.to_string(),
                    status: status.as_u16(),
                    content_type,
                    body: body.to_vec(),
                });
            }
            let retry_after = retry_after(response.headers());
            let retryable = status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error();
            if retryable && attempt < self.retry.max_attempts {
                let delay = match retry_after {
                    Some(wait)
                        if matches!(
                            status,
                            StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE
                        ) =>
                    {
                        wait.min(self.retry.max_retry_after)
                    }
                    _ => self.backoff(attempt),
                };
                warn!(%url, status = status.as_u16(), attempt, retry_in_ms = delay.as_millis() as u64, "jira asked to retry");
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

/// `Retry-After` in seconds (Jira sends seconds; an HTTP date is also accepted).
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let wait = at
        .signed_duration_since(chrono::Utc::now())
        .num_milliseconds()
        .max(0);
    Some(Duration::from_millis(wait as u64))
}

/// Jira's `errorMessages`, when the body has them (never the request's credentials).
async fn error_detail(response: reqwest::Response) -> String {
    let Ok(body) = response.bytes().await else {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, "3".parse().unwrap());
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(3)));
        headers.insert(RETRY_AFTER, "soon".parse().unwrap());
        assert_eq!(retry_after(&headers), None);
    }
}
