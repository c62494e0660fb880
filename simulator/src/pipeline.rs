//! What happens around every Jira request: count, faults, auth, rate-limit headers.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;

use crate::auth;
use crate::faults::{self, FaultKind};
use crate::jira::endpoint_key;
use crate::state::{RATE_LIMIT, Shared};

/// Jira reports "near limit" once less than a fifth of the budget is left.
const NEAR_LIMIT: u64 = RATE_LIMIT / 5;

pub(crate) async fn apply(State(sim): State<Arc<Shared>>, req: Request, next: Next) -> Response {
    let endpoint = endpoint_key(req.method(), req.uri().path());
    let remaining = sim.record(&endpoint);

    match sim
        .faults
        .take(&endpoint, req.uri().query().unwrap_or_default())
    {
        Some(FaultKind::Status {
            status,
            retry_after_secs,
        }) => {
            tracing::debug!(%endpoint, status, "answering with injected status");
            return faults::status_response(status, retry_after_secs);
        }
        Some(FaultKind::Latency { millis }) => {
            tracing::debug!(%endpoint, millis, "delaying answer");
            tokio::time::sleep(Duration::from_millis(millis)).await;
        }
        Some(FaultKind::Malformed) => {
            tracing::debug!(%endpoint, "answering with a truncated body");
            // the fault replaces the answer, so like a status fault it skips the auth check
            return faults::malform(next.run(req).await).await;
        }
        None => {}
    }

    if !sim.auth.accepts(req.headers()) {
        tracing::debug!(%endpoint, "rejecting unauthenticated request");
        return auth::unauthorized();
    }

    let mut response = next.run(req).await;
    if response.status().is_success() {
        let headers = response.headers_mut();
        headers.insert("x-ratelimit-limit", HeaderValue::from(RATE_LIMIT));
        headers.insert("x-ratelimit-remaining", HeaderValue::from(remaining));
        headers.insert(
            "x-ratelimit-nearlimit",
            HeaderValue::from_static(if remaining < NEAR_LIMIT {
                "true"
            } else {
                "false"
            }),
        );
    }
    response
}
