//! Response builders shared by the Jira handlers and the control API.

use axum::body::Body;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use serde::Serialize;
use serde_json::json;

/// Jira Cloud's exact content type, charset spelling included.
pub(crate) fn json_content_type() -> HeaderValue {
    HeaderValue::from_static("application/json;charset=UTF-8")
}

pub(crate) fn json<T: Serialize + ?Sized>(status: StatusCode, body: &T) -> Response {
    // serialising our bodies cannot fail: all their keys are strings
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    let mut response = Response::new(Body::from(bytes));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, json_content_type());
    response
}

pub(crate) fn ok<T: Serialize + ?Sized>(body: &T) -> Response {
    json(StatusCode::OK, body)
}

/// Jira's usual error envelope.
pub(crate) fn jira_error(status: StatusCode, message: &str) -> Response {
    json(status, &json!({"errorMessages": [message], "errors": {}}))
}

/// Jira's answer for a path it has no resource for (also used for switched-off endpoints).
pub(crate) fn no_resource(method: &Method, path: &str) -> Response {
    json(
        StatusCode::NOT_FOUND,
        &json!({
            "errorMessages": [format!("No resource found for {method} {path}.")],
            "errors": {},
        }),
    )
}
