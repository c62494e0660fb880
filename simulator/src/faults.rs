//! Faults injected on demand: error statuses, latency and broken bodies.

use std::sync::Mutex;

use axum::body::{Body, to_bytes};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use serde_json::json;

use crate::respond;

/// What a fault does to a matching request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FaultKind {
    /// Answer this status; with Retry-After (seconds) when given.
    Status {
        status: u16,
        retry_after_secs: Option<u64>,
    },
    /// Delay the real answer.
    Latency { millis: u64 },
    /// 200 with a truncated, unparseable JSON body.
    Malformed,
}

/// A fault armed for one endpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fault {
    /// Endpoint key, e.g. "GET /rest/api/3/status". With `?text` appended
    /// ("GET /rest/api/3/search/jql?expand=changelog") only requests whose query string
    /// contains `text` match.
    pub endpoint: String,
    pub kind: FaultKind,
    /// How many matching requests get the fault (then it is used up).
    pub times: u32,
}

/// Armed faults, consumed first-in first-out per endpoint.
#[derive(Default)]
pub(crate) struct FaultStore {
    faults: Mutex<Vec<Fault>>,
}

impl FaultStore {
    pub(crate) fn add(&self, fault: Fault) {
        if fault.times == 0 {
            return;
        }
        tracing::debug!(endpoint = %fault.endpoint, kind = ?fault.kind, times = fault.times, "fault armed");
        self.lock().push(fault);
    }

    /// Uses up one application of the oldest fault armed for `endpoint` (and this request's
    /// query string, for faults that name a part of it).
    pub(crate) fn take(&self, endpoint: &str, query: &str) -> Option<FaultKind> {
        let mut faults = self.lock();
        let index = faults
            .iter()
            .position(|f| match f.endpoint.split_once('?') {
                Some((key, needle)) => key == endpoint && query.contains(needle),
                None => f.endpoint == endpoint,
            })?;
        let fault = &mut faults[index];
        fault.times -= 1;
        let kind = fault.kind.clone();
        if fault.times == 0 {
            faults.remove(index);
        }
        Some(kind)
    }

    pub(crate) fn pending(&self) -> Vec<Fault> {
        self.lock().clone()
    }

    pub(crate) fn clear(&self) {
        self.lock().clear();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Fault>> {
        // a panic while holding the lock cannot leave the list half-updated
        self.faults.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The answer for a `FaultKind::Status`.
pub(crate) fn status_response(status: u16, retry_after_secs: Option<u64>) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or_else(|_| {
        tracing::warn!(status, "invalid fault status, answering 500");
        StatusCode::INTERNAL_SERVER_ERROR
    });
    let body = if status == StatusCode::TOO_MANY_REQUESTS {
        json!({"errorMessages": ["Rate limit exceeded."]})
    } else {
        let reason = status.canonical_reason().unwrap_or("Simulated failure.");
        json!({"errorMessages": [reason], "errors": {}})
    };
    let mut response = respond::json(status, &body);
    let headers = response.headers_mut();
    if let Some(secs) = retry_after_secs {
        headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    if status == StatusCode::TOO_MANY_REQUESTS {
        headers.insert(
            "ratelimit-reason",
            HeaderValue::from_static("jira-burst-based"),
        );
    }
    response
}

/// Turns a real answer into a 200 whose JSON body stops half way.
pub(crate) async fn malform(response: Response) -> Response {
    let body = match to_bytes(response.into_body(), usize::MAX).await {
        Ok(bytes) if bytes.len() >= 2 => bytes.slice(..bytes.len() / 2),
        // an empty or one-byte body cannot be halved into something broken
        _ => axum::body::Bytes::from_static(b"{\"values\":["),
    };
    let mut broken = Response::new(Body::from(body));
    broken
        .headers_mut()
        .insert(header::CONTENT_TYPE, respond::json_content_type());
    broken
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_are_used_up_in_order() {
        let store = FaultStore::default();
        store.add(Fault {
            endpoint: "GET /a".into(),
            kind: FaultKind::Malformed,
            times: 2,
        });
        store.add(Fault {
            endpoint: "GET /a".into(),
            kind: FaultKind::Latency { millis: 1 },
            times: 1,
        });
        assert_eq!(store.take("GET /b", ""), None);
        assert_eq!(store.take("GET /a", ""), Some(FaultKind::Malformed));
        assert_eq!(store.take("GET /a", ""), Some(FaultKind::Malformed));
        assert_eq!(
            store.take("GET /a", ""),
            Some(FaultKind::Latency { millis: 1 })
        );
        assert_eq!(store.take("GET /a", ""), None);
    }
}
