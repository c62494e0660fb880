//! Control API for the demo and CLI: arm faults, read and reset request counts.
//!
//! `POST /_sim/faults` takes
//! `{"endpoint": "GET /rest/api/3/status", "kind": KIND, "times": 1}` (`times` defaults to 1)
//! where KIND is one of
//! `{"status": 429, "retry_after_secs": 1}` (`retry_after_secs` optional),
//! `{"latency_millis": 250}` or `"malformed"`; it answers 201 with the fault as stored.
//! `GET /_sim/faults` lists the armed faults, `DELETE /_sim/faults` disarms them all.
//! `GET /_sim/requests` answers the request counts as `{"<endpoint key>": n}`,
//! `DELETE /_sim/requests` resets them.
//! `GET /_sim/site` answers the site's switches
//! `{"bulk_changelog", "development_search", "development_field", "gzip": bool,
//! "rate_limit_per_second": number or null}`; `PUT /_sim/site` sets any of them (the others
//! stay), e.g. `{"bulk_changelog": false, "rate_limit_per_second": 100}` for a slow-path site.
//! `POST /_sim/issues/{key}/pull-requests` links a new pull request to a generated issue
//! without moving its `updated` (404 for an unknown key); a body
//! `{"url", "repository", "number", "title", "status", "author", "branch", "updated_ms"}`
//! links that existing pull request instead, as Jira's GitHub app would. None of these need auth or are
//! counted.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::faults::{Fault, FaultKind};
use crate::respond;
use crate::state::Shared;

#[derive(Debug, Serialize, Deserialize)]
struct FaultBody {
    endpoint: String,
    kind: KindBody,
    #[serde(default = "one")]
    times: u32,
}

fn one() -> u32 {
    1
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(untagged)]
enum KindBody {
    Word(KindWord),
    Status {
        status: u16,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        retry_after_secs: Option<u64>,
    },
    Latency {
        latency_millis: u64,
    },
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum KindWord {
    Malformed,
}

impl From<KindBody> for FaultKind {
    fn from(body: KindBody) -> FaultKind {
        match body {
            KindBody::Word(KindWord::Malformed) => FaultKind::Malformed,
            KindBody::Status {
                status,
                retry_after_secs,
            } => FaultKind::Status {
                status,
                retry_after_secs,
            },
            KindBody::Latency { latency_millis } => FaultKind::Latency {
                millis: latency_millis,
            },
        }
    }
}

impl From<&Fault> for FaultBody {
    fn from(fault: &Fault) -> FaultBody {
        let kind = match &fault.kind {
            FaultKind::Malformed => KindBody::Word(KindWord::Malformed),
            FaultKind::Status {
                status,
                retry_after_secs,
            } => KindBody::Status {
                status: *status,
                retry_after_secs: *retry_after_secs,
            },
            FaultKind::Latency { millis } => KindBody::Latency {
                latency_millis: *millis,
            },
        };
        FaultBody {
            endpoint: fault.endpoint.clone(),
            kind,
            times: fault.times,
        }
    }
}

pub(crate) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route(
            "/_sim/faults",
            get(list_faults).post(add_fault).delete(clear_faults),
        )
        .route("/_sim/requests", get(counts).delete(reset_counts))
        .route("/_sim/site", get(site).put(set_site))
        .route(
            "/_sim/issues/{key}/pull-requests",
            axum::routing::post(link_pull_request),
        )
}

/// The site's switches, as `GET /_sim/site` answers and `PUT /_sim/site` takes them (every
/// field optional in a PUT).
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SiteBody {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    bulk_changelog: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    development_search: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    development_field: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    gzip: Option<bool>,
    /// `null` lifts the limit; absent leaves it.
    #[serde(default, deserialize_with = "present")]
    rate_limit_per_second: Option<Option<f64>>,
}

/// Tells an explicit `null` (Some(None)) from an absent field (None).
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<f64>>, D::Error> {
    Option::<f64>::deserialize(d).map(Some)
}

async fn site(State(sim): State<Arc<Shared>>) -> Response {
    use std::sync::atomic::Ordering::Relaxed;
    let limit = sim.rate_limit_per_second();
    respond::ok(&json!({
        "bulk_changelog": sim.bulk_changelog.load(Relaxed),
        "development_search": sim.development_search.load(Relaxed),
        "development_field": sim.issues.development_field.load(Relaxed),
        "gzip": sim.gzip.load(Relaxed),
        "rate_limit_per_second": limit,
    }))
}

/// A JSON body as `T`, or what is wrong with it, naming `what` and the field at fault.
fn parse_body<T: serde::de::DeserializeOwned>(body: &[u8], what: &str) -> Result<T, String> {
    serde_path_to_error::deserialize(&mut serde_json::Deserializer::from_slice(body)).map_err(|e| {
        if e.path().to_string() == "." {
            format!("invalid {what}: {}", e.inner())
        } else {
            format!("invalid {what} at {}: {}", e.path(), e.inner())
        }
    })
}

async fn set_site(State(sim): State<Arc<Shared>>, body: Bytes) -> Response {
    use std::sync::atomic::Ordering::Relaxed;
    let parsed: SiteBody = match parse_body(&body, "site switches") {
        Ok(parsed) => parsed,
        Err(problem) => return invalid(&problem),
    };
    if let Some(Some(limit)) = parsed.rate_limit_per_second
        && !(limit.is_finite() && limit > 0.0)
    {
        return invalid(&format!(
            "rate_limit_per_second must be a positive number of requests per second (or null for none), not {limit}"
        ));
    }
    if let Some(on) = parsed.bulk_changelog {
        sim.bulk_changelog.store(on, Relaxed);
    }
    if let Some(on) = parsed.development_search {
        sim.development_search.store(on, Relaxed);
    }
    if let Some(on) = parsed.development_field {
        sim.issues.development_field.store(on, Relaxed);
    }
    if let Some(on) = parsed.gzip {
        sim.gzip.store(on, Relaxed);
    }
    if let Some(limit) = parsed.rate_limit_per_second {
        sim.set_rate_limit(limit);
    }
    site(State(sim)).await
}

async fn link_pull_request(
    State(sim): State<Arc<Shared>>,
    axum::extract::Path(key): axum::extract::Path<String>,
    body: Bytes,
) -> Response {
    let spec = if body.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        match parse_body::<crate::PullRequestSpec>(&body, "pull request") {
            Ok(spec) => Some(spec),
            Err(problem) => return invalid(&problem),
        }
    };
    if sim.issues.link_pull_request(&key, spec) {
        respond::json(StatusCode::CREATED, &json!({"issue": key, "linked": true}))
    } else {
        respond::json(
            StatusCode::NOT_FOUND,
            &json!({"error": format!("no live generated issue {key:?} (recorded issues have no development information)")}),
        )
    }
}

async fn add_fault(State(sim): State<Arc<Shared>>, body: Bytes) -> Response {
    let parsed: FaultBody = match serde_json::from_slice(&body) {
        Ok(parsed) => parsed,
        Err(e) => return invalid(&format!("invalid fault: {e}")),
    };
    if parsed.endpoint.trim().is_empty() {
        return invalid("endpoint must be a key like \"GET /rest/api/3/status\"");
    }
    if let KindBody::Status { status, .. } = parsed.kind
        && StatusCode::from_u16(status).is_err()
    {
        return invalid(&format!("{status} is not an http status"));
    }
    let fault = Fault {
        endpoint: parsed.endpoint.trim().to_owned(),
        kind: parsed.kind.into(),
        times: parsed.times,
    };
    let echo = serde_json::to_value(FaultBody::from(&fault)).unwrap_or(Value::Null);
    sim.faults.add(fault);
    respond::json(StatusCode::CREATED, &echo)
}

async fn list_faults(State(sim): State<Arc<Shared>>) -> Response {
    let faults: Vec<FaultBody> = sim.faults.pending().iter().map(FaultBody::from).collect();
    respond::ok(&serde_json::to_value(faults).unwrap_or(Value::Null))
}

async fn clear_faults(State(sim): State<Arc<Shared>>) -> StatusCode {
    sim.faults.clear();
    StatusCode::NO_CONTENT
}

async fn counts(State(sim): State<Arc<Shared>>) -> Response {
    respond::ok(&json!(sim.counts()))
}

async fn reset_counts(State(sim): State<Arc<Shared>>) -> StatusCode {
    sim.reset_counts();
    StatusCode::NO_CONTENT
}

fn invalid(message: &str) -> Response {
    respond::json(StatusCode::BAD_REQUEST, &json!({"error": message}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fault_body_shapes() {
        let parse = |text: &str| {
            serde_json::from_str::<FaultBody>(text).map(|b| (FaultKind::from(b.kind), b.times))
        };
        let status = parse(r#"{"endpoint":"GET /x","kind":{"status":429,"retry_after_secs":1}}"#);
        assert_eq!(
            status.ok(),
            Some((
                FaultKind::Status {
                    status: 429,
                    retry_after_secs: Some(1)
                },
                1
            ))
        );
        let latency = parse(r#"{"endpoint":"GET /x","kind":{"latency_millis":5},"times":3}"#);
        assert_eq!(latency.ok(), Some((FaultKind::Latency { millis: 5 }, 3)));
        let malformed = parse(r#"{"endpoint":"GET /x","kind":"malformed"}"#);
        assert_eq!(malformed.ok(), Some((FaultKind::Malformed, 1)));
        assert!(parse(r#"{"endpoint":"GET /x","kind":"slow"}"#).is_err());
    }
}
