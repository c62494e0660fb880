//! Credential checks, answering like Jira Cloud when they fail.

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// The credentials the simulator expects.
#[derive(Clone, Debug)]
pub enum SimAuth {
    /// `Authorization: Basic base64(email:api_token)`.
    Basic { email: String, api_token: String },
    /// `Authorization: Bearer token`.
    Bearer { token: String },
    /// Accept any request.
    Anonymous,
}

impl SimAuth {
    /// Whether the request's headers carry the expected credentials.
    pub(crate) fn accepts(&self, headers: &HeaderMap) -> bool {
        let presented = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().split_once(' '))
            .map(|(scheme, value)| (scheme, value.trim()));
        match self {
            SimAuth::Anonymous => true,
            SimAuth::Basic { email, api_token } => match presented {
                Some((scheme, value)) if scheme.eq_ignore_ascii_case("basic") => STANDARD
                    .decode(value)
                    .is_ok_and(|raw| raw == format!("{email}:{api_token}").as_bytes()),
                _ => false,
            },
            SimAuth::Bearer { token } => matches!(
                presented,
                Some((scheme, value)) if scheme.eq_ignore_ascii_case("bearer") && value == token
            ),
        }
    }
}

/// Jira's answer to missing or wrong credentials.
pub(crate) fn unauthorized() -> Response {
    let mut response = Response::new(Body::from(
        "Client must be authenticated to access this resource.",
    ));
    *response.status_mut() = StatusCode::UNAUTHORIZED;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain;charset=UTF-8"),
    );
    headers.insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Basic realm=\"protected-area\""),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_auth(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        if let Ok(v) = HeaderValue::from_str(value) {
            headers.insert(header::AUTHORIZATION, v);
        }
        headers
    }

    #[test]
    fn basic_and_bearer() {
        let basic = SimAuth::Basic {
            email: "a@b.c".into(),
            api_token: "tok".into(),
        };
        let good = format!("Basic {}", STANDARD.encode("a@b.c:tok"));
        assert!(basic.accepts(&with_auth(&good)));
        assert!(!basic.accepts(&with_auth("Basic !!!")));
        assert!(!basic.accepts(&HeaderMap::new()));
        let bearer = SimAuth::Bearer {
            token: "xyz".into(),
        };
        assert!(bearer.accepts(&with_auth("bearer xyz")));
        assert!(!bearer.accepts(&with_auth("Bearer xy")));
        assert!(!bearer.accepts(&with_auth(&good)));
        assert!(SimAuth::Anonymous.accepts(&HeaderMap::new()));
    }
}
