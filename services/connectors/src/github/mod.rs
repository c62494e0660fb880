//! GitHub connector: `client.rs` talks HTTP (token pool, rate-limit budgets per resource,
//! conditional requests, Link paging, GraphQL), `extract.rs` decides what to fetch and
//! stores it, `graphql.rs` fetches pull requests over GraphQL.

pub mod client;
pub mod extract;
pub mod graphql;

use std::time::Instant;

use sluice_proto::v1 as pb;

/// TestConnection for GitHub: each token's user, scopes and remaining rate limit, one
/// request per token (GET /user), no retries. A refused token makes the answer not ok and
/// is named by its position, never by its value.
pub async fn test_connection(
    http: &reqwest::Client,
    base_url: &str,
    tokens: &[String],
) -> pb::ConnectorTestConnectionResponse {
    let started = Instant::now();
    let url = format!("{}/user", base_url.trim_end_matches('/'));
    let mut lines = Vec::new();
    let mut ok = !tokens.is_empty();
    let mut account = String::new();
    for (index, token) in tokens.iter().enumerate() {
        let which = format!("token {} of {}", index + 1, tokens.len());
        let response = http
            .get(&url)
            .bearer_auth(token)
            .header("accept", "application/vnd.github+json")
            .header("x-github-api-version", "2022-11-28")
            .send()
            .await;
        let response = match response {
            Ok(response) => response,
            Err(error) => {
                ok = false;
                lines.push(format!("{which}: GET {url} failed: {error}"));
                continue;
            }
        };
        let status = response.status();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string()
        };
        let scopes = header("x-oauth-scopes");
        let remaining = header("x-ratelimit-remaining");
        let limit = header("x-ratelimit-limit");
        if !status.is_success() {
            ok = false;
            let hint = if status.as_u16() == 401 {
                " (bad credentials: the token is wrong, expired or revoked)"
            } else {
                ""
            };
            lines.push(format!(
                "{which}: HTTP {} from GET {url}{hint}",
                status.as_u16()
            ));
            continue;
        }
        let login = response
            .json::<serde_json::Value>()
            .await
            .ok()
            .and_then(|v| v.get("login").and_then(|l| l.as_str()).map(str::to_string))
            .unwrap_or_default();
        if account.is_empty() {
            account = login.clone();
        }
        let scopes = if scopes.is_empty() {
            "none reported (fine-grained token)".to_string()
        } else {
            scopes
        };
        lines.push(format!(
            "{which}: authenticated as {login}; scopes: {scopes}; rate limit {remaining}/{limit} remaining"
        ));
    }
    if tokens.is_empty() {
        lines.push("no GitHub token configured".into());
    }
    pb::ConnectorTestConnectionResponse {
        ok,
        message: lines.join("; "),
        account_name: account,
        latency_ms: started.elapsed().as_millis() as i64,
    }
}
