//! What happens around every Jira request: count, faults, the site's rate limit (in time,
//! when one is set), auth, rate-limit headers, gzip.

use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

use crate::auth;
use crate::faults::{self, FaultKind};
use crate::jira::endpoint_key;
use crate::limits::Admit;
use crate::state::{RATE_LIMIT, Shared};

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

    // The site's limit in time: an empty bucket answers 429 for as long as its window lasts.
    // Near the limit only where there is one: the informational budget refuses nothing.
    let (limit, remaining, limited) = match sim.admit() {
        Some(Admit::No { retry_after }) => return throttled(retry_after),
        Some(Admit::Yes { remaining, limit }) => (limit, remaining, true),
        None => (RATE_LIMIT, remaining, false),
    };

    if !sim.auth.accepts(req.headers()) {
        tracing::debug!(%endpoint, "rejecting unauthenticated request");
        return auth::unauthorized();
    }

    let gzip = sim.gzip.load(std::sync::atomic::Ordering::Relaxed)
        && req
            .headers()
            .get(header::ACCEPT_ENCODING)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.split(',').any(|e| e.trim().starts_with("gzip")));
    let mut response = next.run(req).await;
    if response.status().is_success() {
        let headers = response.headers_mut();
        headers.insert("x-ratelimit-limit", HeaderValue::from(limit));
        headers.insert("x-ratelimit-remaining", HeaderValue::from(remaining));
        headers.insert(
            "x-ratelimit-nearlimit",
            HeaderValue::from_static(if limited && remaining < limit / 5 {
                "true"
            } else {
                "false"
            }),
        );
    }
    if gzip {
        response = compress(response).await;
    }
    response
}

/// Jira's answer while the rate limit's window is open.
fn throttled(retry_after: std::time::Duration) -> Response {
    // Whole seconds, rounded up, as Jira sends them.
    let seconds = retry_after.as_millis().div_ceil(1000).max(1) as u64;
    let mut response = faults::status_response(429, Some(seconds));
    let reset = crate::time::format_reset(seconds);
    if let Ok(value) = HeaderValue::from_str(&reset) {
        response.headers_mut().insert("x-ratelimit-reset", value);
    }
    response
}

/// The body gzip'd, as Jira Cloud serves it to a client that accepts gzip.
async fn compress(response: Response) -> Response {
    use std::io::Write;
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = to_bytes(body, usize::MAX).await else {
        return Response::from_parts(parts, Body::empty());
    };
    let mut encoder = flate2::write::GzEncoder::new(
        Vec::with_capacity(bytes.len() / 4),
        flate2::Compression::fast(),
    );
    let compressed = encoder.write_all(&bytes).and_then(|()| encoder.finish());
    match compressed {
        Ok(compressed) => {
            parts.headers.remove(header::CONTENT_LENGTH);
            parts
                .headers
                .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
            parts
                .headers
                .insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
            Response::from_parts(parts, Body::from(compressed))
        }
        Err(_) => Response::from_parts(parts, Body::from(bytes)),
    }
}
