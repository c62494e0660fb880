//! GitHub REST over reqwest: a pool of tokens, each with the primary rate limit GitHub
//! reports on every answer (`x-ratelimit-remaining`/`-reset`); requests go to the token with
//! the most budget left, and when every token is spent the client waits for the earliest
//! reset instead of hammering. Secondary limits (403/429 with `retry-after`, or with
//! budget left) wait `retry-after`, else one minute and growing. Conditional requests send
//! the ETag of the last completed run's answer; a 304 costs no rate limit. The time spent
//! waiting is counted for the run.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, ETAG, HeaderMap, IF_NONE_MATCH, LINK, RETRY_AFTER};
use sluice_plumbing::origin::Origin;
use tracing::{Instrument, info, warn};

use crate::error::{ConnectorError, ErrorDomain};
use crate::jira::client::RetryPolicy;

/// Secondary-limit waits in a row on one request before the run gives up.
const MAX_SECONDARY_WAITS: u32 = 8;

struct TokenState {
    token: String,
    /// Budget left as of the last answer (None: not known yet).
    remaining: Option<u64>,
    /// When the budget refills (epoch seconds).
    reset_at: Option<u64>,
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

pub struct GithubClient {
    http: reqwest::Client,
    base_url: String,
    tokens: Mutex<Vec<TokenState>>,
    retry: RetryPolicy,
    /// The run's traffic: calls, bytes received, time waited for rate limits.
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
        GithubClient {
            http,
            base_url: base_url.trim_end_matches('/').to_string(),
            tokens: Mutex::new(
                tokens
                    .into_iter()
                    .map(|token| TokenState {
                        token,
                        remaining: None,
                        reset_at: None,
                        rejected: false,
                    })
                    .collect(),
            ),
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

    /// ETags answered in this run (to keep for the next one once this run completes).
    pub fn seen_validators(&self) -> HashMap<String, String> {
        self.seen.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Budget left per token (index, remaining, reset epoch seconds), as last reported.
    pub fn budgets(&self) -> Vec<(usize, Option<u64>, Option<u64>)> {
        self.tokens
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .enumerate()
            .map(|(i, t)| (i, t.remaining, t.reset_at))
            .collect()
    }

    /// The token to use now, or how long to wait until one has budget again.
    fn pick(&self) -> Result<Result<(usize, String), Duration>, ConnectorError> {
        let now = epoch_now();
        let mut tokens = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
        for token in tokens.iter_mut() {
            // A budget whose reset time has passed is full again.
            if token.reset_at.is_some_and(|reset| reset <= now) {
                token.remaining = None;
                token.reset_at = None;
            }
        }
        let usable = tokens
            .iter()
            .enumerate()
            .filter(|(_, t)| !t.rejected && t.remaining != Some(0))
            .max_by_key(|(_, t)| t.remaining.unwrap_or(u64::MAX));
        if let Some((index, token)) = usable {
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
        let reset = tokens
            .iter()
            .filter(|t| !t.rejected)
            .filter_map(|t| t.reset_at)
            .min()
            .unwrap_or(now + 60);
        Ok(Err(Duration::from_secs(reset.saturating_sub(now) + 1)))
    }

    fn note_budget(&self, index: usize, headers: &HeaderMap) {
        let number = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
        };
        let mut tokens = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(token) = tokens.get_mut(index) {
            if let Some(remaining) = number("x-ratelimit-remaining") {
                token.remaining = Some(remaining);
            }
            if let Some(reset) = number("x-ratelimit-reset") {
                token.reset_at = Some(reset);
            }
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
    }

    /// GET a path relative to the API root.
    pub async fn get(&self, path: &str, conditional: bool) -> Result<Page, ConnectorError> {
        self.get_url(&self.url(path), conditional).await
    }

    /// GET an absolute URL (a Link header's `next`), only on the configured origin: the
    /// token goes nowhere else, whatever a response's links say.
    pub async fn get_url(&self, url: &str, conditional: bool) -> Result<Page, ConnectorError> {
        let parsed = reqwest::Url::parse(url)
            .map_err(|e| ConnectorError::config(format!("invalid GitHub URL {url}: {e}")))?;
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
        let mut attempt = 1;
        let mut secondary_waits = 0;
        loop {
            let (index, token) = match self.pick()? {
                Ok(chosen) => chosen,
                Err(wait) => {
                    self.wait(wait, "every token's primary rate limit is spent")
                        .await;
                    continue;
                }
            };
            let mut request = self
                .http
                .get(parsed.clone())
                .bearer_auth(&token)
                .header("accept", "application/vnd.github+json")
                .header("accept-encoding", crate::wire::ACCEPT_ENCODING)
                .header("x-github-api-version", "2022-11-28");
            if conditional && let Some(etag) = self.validators.get(url) {
                request = request.header(IF_NONE_MATCH, etag);
            }
            let mut headers = HeaderMap::new();
            crate::jira::client::inject_trace(&mut headers);
            self.traffic.request_started();
            let span = tracing::info_span!("github.request", url = %url, attempt, token = index);
            let sent = request.headers(headers).send().instrument(span).await;
            let response = match sent {
                Ok(response) => response,
                Err(error) => {
                    let (cause, transient) = crate::wire::send_failure(&error);
                    if transient && attempt < self.retry.max_attempts {
                        let delay = self.backoff(attempt);
                        warn!(%url, attempt, error = %cause, "github request failed; retrying");
                        tokio::time::sleep(delay).await;
                        attempt += 1;
                        continue;
                    }
                    return Err(ConnectorError::remote(
                        format!("GET {url} failed after {attempt} attempts: {cause}"),
                        transient,
                    ));
                }
            };
            let status = response.status();
            self.note_budget(index, response.headers());
            if status == StatusCode::NOT_MODIFIED {
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
            if status.is_success() {
                let headers = response.headers().clone();
                let body = crate::wire::read_body(response, &self.traffic)
                    .await
                    .map_err(|e| {
                        let retryable = matches!(e, crate::wire::BodyError::Read(_));
                        ConnectorError::remote(format!("GET {url}: {e}"), retryable)
                    })?;
                let etag = headers
                    .get(ETAG)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string);
                if let Some(etag) = &etag {
                    self.seen
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .insert(url.to_string(), etag.clone());
                }
                return Ok(Page {
                    url: url.to_string(),
                    status: status.as_u16(),
                    content_type: headers
                        .get(CONTENT_TYPE)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default()
                        .to_string(),
                    body,
                    next: next_link(&headers),
                    etag,
                });
            }
            let headers = response.headers().clone();
            let detail = error_message(response).await;
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
                    let remaining = headers
                        .get("x-ratelimit-remaining")
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.trim().parse::<u64>().ok());
                    let retry_after = retry_after(&headers);
                    let secondary = retry_after.is_some()
                        || detail.to_ascii_lowercase().contains("secondary rate limit");
                    if remaining == Some(0) && !secondary {
                        // Primary limit: the token is spent until its reset; pick() switches
                        // token or waits.
                        continue;
                    }
                    if secondary || status == StatusCode::TOO_MANY_REQUESTS {
                        secondary_waits += 1;
                        if secondary_waits > MAX_SECONDARY_WAITS {
                            return Err(ConnectorError::remote(
                                format!(
                                    "GitHub kept answering secondary rate limits for GET {url} ({secondary_waits} waits){detail}"
                                ),
                                true,
                            ));
                        }
                        let wait = retry_after.unwrap_or_else(|| {
                            Duration::from_secs(60) * 2u32.pow((secondary_waits - 1).min(4))
                        });
                        self.wait(
                            wait.min(self.retry.max_retry_after.max(Duration::from_secs(1))),
                            "secondary rate limit",
                        )
                        .await;
                        continue;
                    }
                    return Err(ConnectorError {
                        domain: ErrorDomain::User,
                        retryable: false,
                        message: format!(
                            "HTTP 403 from GET {url} (the token lacks access: check its scopes and the repository names){detail}"
                        ),
                        http_status: Some(403),
                    });
                }
                StatusCode::NOT_FOUND => {
                    return Err(ConnectorError {
                        domain: ErrorDomain::User,
                        retryable: false,
                        message: format!(
                            "HTTP 404 from GET {url} (check the repository or organization name and the token's access){detail}"
                        ),
                        http_status: Some(404),
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
                        message: format!("HTTP {} from GET {url}{detail}", status.as_u16()),
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
