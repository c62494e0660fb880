//! Control API for the demo and CLI: arm faults, read and reset request counts.
//!
//! `POST /_sim/faults` takes
//! `{"endpoint": "GET /rest/api/3/status", "kind": KIND, "times": 1}` (`times` defaults to 1)
//! where KIND is one of
//! `{"status": 429, "retry_after_secs": 1}` (`retry_after_secs` optional),
//! `{"latency_millis": 250}` or `"malformed"`; it answers 201 with the fault as stored.
//! `GET /_sim/faults` lists the armed faults, `DELETE /_sim/faults` disarms them all.
//! `GET /_sim/requests` answers the request counts as `{"<endpoint key>": n}`,
//! `DELETE /_sim/requests` resets them. None of these need auth or are counted.

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
