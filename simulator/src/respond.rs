//! Response builders shared by the Jira handlers and the control API.

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use serde_json::{Value, json};

/// Jira Cloud's exact content type, charset spelling included.
pub(crate) fn json_content_type() -> HeaderValue {
    HeaderValue::from_static("application/json;charset=UTF-8")
}

pub(crate) fn json(status: StatusCode, body: &Value) -> Response {
    // serialising a Value cannot fail: all its keys are strings
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    let mut response = Response::new(Body::from(bytes));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, json_content_type());
    response
}

pub(crate) fn ok(body: &Value) -> Response {
    json(StatusCode::OK, body)
}

/// Jira's usual error envelope.
pub(crate) fn jira_error(status: StatusCode, message: &str) -> Response {
    json(status, &json!({"errorMessages": [message], "errors": {}}))
}
