//! The dashboard: the built single-page app (`gateway/dashboard/dist`) at `/`, any unknown
//! path answered with its `index.html` (client-side routes), and `/dashboard-config.json`
//! with the operator's settings the app reads at start.

use std::path::PathBuf;

use axum::response::IntoResponse;
use tower::ServiceExt;
use tower_http::services::{ServeDir, ServeFile};

use crate::GatewayConfig;

#[derive(Clone)]
pub struct Site {
    dir: PathBuf,
    config_json: String,
}

impl Site {
    pub fn new(config: &GatewayConfig) -> Site {
        if !config.dashboard_dir.join("index.html").is_file() {
            tracing::warn!(dir = %config.dashboard_dir.display(), "dashboard not built: / explains how to build it (deploy/demo.sh does)");
        }
        Site {
            dir: config.dashboard_dir.clone(),
            config_json: serde_json::json!({ "traceUrlTemplate": config.trace_url_template })
                .to_string(),
        }
    }

    pub async fn serve(
        &self,
        request: http::Request<axum::body::Body>,
    ) -> axum::response::Response {
        if request.method() != http::Method::GET && request.method() != http::Method::HEAD {
            return (
                http::StatusCode::METHOD_NOT_ALLOWED,
                "the gateway answers GET for the dashboard, POST for the API",
            )
                .into_response();
        }
        if request.uri().path() == "/dashboard-config.json" {
            return (
                [(http::header::CONTENT_TYPE, "application/json")],
                self.config_json.clone(),
            )
                .into_response();
        }
        let index = self.dir.join("index.html");
        if !index.is_file() {
            return (
                http::StatusCode::SERVICE_UNAVAILABLE,
                [(http::header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                format!(
                    "The dashboard is not built in {}: run deploy/demo.sh, or `npm ci && npm run build` in gateway/dashboard. The API is served here all the same.\n",
                    self.dir.display()
                ),
            )
                .into_response();
        }
        let files = ServeDir::new(&self.dir)
            .precompressed_gzip()
            .fallback(ServeFile::new(index));
        let hashed = request.uri().path().starts_with("/assets/");
        let mut response = match files.oneshot(request).await {
            Ok(response) => response.map(axum::body::Body::new).into_response(),
            Err(never) => match never {},
        };
        let headers = response.headers_mut();
        // The same path is answered gzip'd or not: caches must keep both.
        headers.insert(
            http::header::VARY,
            http::HeaderValue::from_static("accept-encoding"),
        );
        // Vite names assets by content hash: they never change; index.html always may.
        headers.insert(
            http::header::CACHE_CONTROL,
            http::HeaderValue::from_static(if hashed {
                "public, max-age=31536000, immutable"
            } else {
                "no-cache"
            }),
        );
        response
    }
}
