//! Embeddings from any OpenAI-compatible `/v1/embeddings` endpoint (OpenAI, Azure OpenAI,
//! Ollama, vLLM, text-embeddings-inference): batches of `batch_size` texts per request, 429
//! and 5xx retried (honouring `Retry-After`), answers checked for count and dimensions. The
//! API key comes from the environment and is never logged. Vectors are normalised to unit
//! length (the stores rank by dot product).

use std::time::Duration;

use serde::Deserialize;
use serde_json::json;

#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    #[error("POST {url}: {message}")]
    Http { url: String, message: String },
    #[error("POST {url} answered HTTP {status}{detail}")]
    Status {
        url: String,
        status: u16,
        detail: String,
    },
    #[error(
        "the embedding endpoint returned {got}-dimensional vectors for model {model}, configured for {expected}: set the dimensions to match the model (changing them needs a Reindex)"
    )]
    Dimensions {
        model: String,
        expected: usize,
        got: usize,
    },
    #[error("the embedding endpoint returned {got} vectors for {sent} texts")]
    Count { sent: usize, got: usize },
}

#[derive(Clone)]
pub struct OpenAiConfig {
    /// e.g. `https://api.openai.com` or `http://localhost:11434` (the path `/v1/embeddings`
    /// is added).
    pub base_url: String,
    pub model: String,
    /// Expected vector length; also sent as `dimensions` when the model can shorten.
    pub dimensions: usize,
    pub send_dimensions: bool,
    pub batch_size: usize,
    pub api_key: Option<String>,
    pub max_attempts: u32,
    pub max_retry_after: Duration,
    /// How long one request may take, connecting to the last byte of the answer
    /// (`SLUICE_OPENAI_TIMEOUT_SECS`, default 60): an endpoint that stops answering fails the
    /// attempt instead of holding the vectorizer's consumer forever.
    pub request_timeout: Duration,
}

impl std::fmt::Debug for OpenAiConfig {
    // The API key is never printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenAiConfig")
            .field("base_url", &self.base_url)
            .field("model", &self.model)
            .field("dimensions", &self.dimensions)
            .field("batch_size", &self.batch_size)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

pub struct OpenAiEmbeddings {
    http: reqwest::Client,
    config: OpenAiConfig,
}

#[derive(Deserialize)]
struct Answer {
    data: Vec<Item>,
}

#[derive(Deserialize)]
struct Item {
    embedding: Vec<f32>,
    #[serde(default)]
    index: Option<usize>,
}

impl OpenAiEmbeddings {
    pub fn new(http: reqwest::Client, config: OpenAiConfig) -> Self {
        OpenAiEmbeddings { http, config }
    }

    /// The model's name in the index: provider, model and dimensions (a change of any of
    /// them is a different index).
    pub fn index_name(&self) -> String {
        format!("openai:{}:{}", self.config.model, self.config.dimensions)
    }

    pub fn dimensions(&self) -> usize {
        self.config.dimensions
    }

    fn url(&self) -> String {
        format!(
            "{}/v1/embeddings",
            self.config.base_url.trim_end_matches('/')
        )
    }

    /// One unit-length vector per text, in order.
    pub async fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let mut out = Vec::with_capacity(texts.len());
        for batch in texts.chunks(self.config.batch_size.max(1)) {
            out.extend(self.embed_batch(batch).await?);
        }
        Ok(out)
    }

    async fn embed_batch(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let url = self.url();
        let mut body = json!({"model": self.config.model, "input": texts});
        if self.config.send_dimensions {
            body["dimensions"] = json!(self.config.dimensions);
        }
        let mut attempt = 1;
        loop {
            let mut request = self
                .http
                .post(&url)
                .timeout(self.config.request_timeout)
                .json(&body);
            if let Some(key) = &self.config.api_key {
                request = request.bearer_auth(key);
            }
            let response = match request.send().await {
                Ok(response) => response,
                Err(error) if attempt < self.config.max_attempts => {
                    tokio::time::sleep(backoff(attempt)).await;
                    attempt += 1;
                    tracing::warn!(%url, %error, "embedding request failed; retrying");
                    continue;
                }
                Err(error) => {
                    let message = if error.is_timeout() {
                        format!(
                            "no answer within {} s ({attempt} attempts)",
                            self.config.request_timeout.as_secs_f64()
                        )
                    } else {
                        error.to_string()
                    };
                    return Err(EmbedError::Http { url, message });
                }
            };
            let status = response.status();
            if (status.as_u16() == 429 || status.is_server_error())
                && attempt < self.config.max_attempts
            {
                let wait = response
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .map(Duration::from_secs)
                    .unwrap_or_else(|| backoff(attempt))
                    .min(self.config.max_retry_after);
                tracing::warn!(%url, status = status.as_u16(), wait_ms = wait.as_millis() as u64, "embedding endpoint asked to retry");
                tokio::time::sleep(wait).await;
                attempt += 1;
                continue;
            }
            if !status.is_success() {
                let detail = response
                    .json::<serde_json::Value>()
                    .await
                    .ok()
                    .and_then(|v| {
                        v.pointer("/error/message")
                            .and_then(|m| m.as_str())
                            .map(|m| format!(": {m}"))
                    })
                    .unwrap_or_default();
                return Err(EmbedError::Status {
                    url,
                    status: status.as_u16(),
                    detail,
                });
            }
            let answer: Answer = response.json().await.map_err(|e| EmbedError::Http {
                url: url.clone(),
                message: format!("unreadable answer: {e}"),
            })?;
            if answer.data.len() != texts.len() {
                return Err(EmbedError::Count {
                    sent: texts.len(),
                    got: answer.data.len(),
                });
            }
            let mut items = answer.data;
            items.sort_by_key(|item| item.index.unwrap_or(usize::MAX));
            return items
                .into_iter()
                .map(|item| {
                    if item.embedding.len() != self.config.dimensions {
                        return Err(EmbedError::Dimensions {
                            model: self.config.model.clone(),
                            expected: self.config.dimensions,
                            got: item.embedding.len(),
                        });
                    }
                    Ok(unit(item.embedding))
                })
                .collect();
        }
    }
}

fn backoff(attempt: u32) -> Duration {
    Duration::from_millis(200 * 2u64.pow(attempt.min(6)))
}

fn unit(mut vector: Vec<f32>) -> Vec<f32> {
    let norm = vector.iter().map(|v| v * v).sum::<f32>().sqrt();
    if norm > 0.0 {
        vector.iter_mut().for_each(|v| *v /= norm);
    }
    vector
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use axum::Json;
    use axum::extract::State;
    use axum::http::StatusCode;
    use axum::response::{IntoResponse, Response};

    use super::*;

    /// A local server speaking the embeddings API: the first `throttle` requests get 429 with
    /// Retry-After: 1; it answers `dims`-dimensional vectors; it records batch sizes.
    #[derive(Default)]
    struct Endpoint {
        requests: AtomicUsize,
        throttle: usize,
        dims: usize,
        batches: std::sync::Mutex<Vec<usize>>,
        authorization: std::sync::Mutex<Option<String>>,
    }

    async fn embeddings(
        State(endpoint): State<Arc<Endpoint>>,
        headers: axum::http::HeaderMap,
        Json(body): Json<serde_json::Value>,
    ) -> Response {
        let n = endpoint.requests.fetch_add(1, Ordering::SeqCst);
        *endpoint.authorization.lock().unwrap() = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        if n < endpoint.throttle {
            return (
                StatusCode::TOO_MANY_REQUESTS,
                [("retry-after", "1")],
                Json(json!({"error": {"message": "Rate limit reached"}})),
            )
                .into_response();
        }
        let inputs = body["input"].as_array().cloned().unwrap_or_default();
        endpoint.batches.lock().unwrap().push(inputs.len());
        let data: Vec<serde_json::Value> = inputs
            .iter()
            .enumerate()
            .map(|(i, text)| {
                let seed = text.as_str().unwrap_or_default().len() as f32;
                let vector: Vec<f32> = (0..endpoint.dims).map(|d| seed + d as f32).collect();
                json!({"object": "embedding", "index": i, "embedding": vector})
            })
            .rev()
            .collect();
        Json(json!({"object": "list", "data": data, "model": body["model"]})).into_response()
    }

    async fn serve(endpoint: Arc<Endpoint>) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let app = axum::Router::new()
            .route("/v1/embeddings", axum::routing::post(embeddings))
            .with_state(endpoint);
        tokio::spawn(async move { axum::serve(listener, app).await });
        url
    }

    fn client(base_url: String, dimensions: usize) -> OpenAiEmbeddings {
        let _ = rustls::crypto::ring::default_provider().install_default();
        OpenAiEmbeddings::new(
            reqwest::Client::new(),
            OpenAiConfig {
                base_url,
                model: "text-embedding-3-small".into(),
                dimensions,
                send_dimensions: true,
                batch_size: 4,
                api_key: Some("sk-test".into()),
                max_attempts: 3,
                max_retry_after: Duration::from_secs(5),
                request_timeout: Duration::from_secs(5),
            },
        )
    }

    #[tokio::test]
    async fn an_endpoint_that_never_answers_fails_after_the_timeout_naming_it() {
        // Accepts connections and reads, never answers.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base_url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((socket, _)) = listener.accept().await {
                held.push(socket);
            }
        });
        let mut embeddings = client(base_url, 8);
        embeddings.config.request_timeout = Duration::from_millis(200);
        embeddings.config.max_attempts = 2;
        let error = embeddings
            .embed(&["never answered".to_string()])
            .await
            .expect_err("an endpoint that never answers");
        let text = error.to_string();
        assert!(
            text.contains("no answer within 0.2 s (2 attempts)"),
            "{text}"
        );
    }

    #[tokio::test]
    async fn texts_are_batched_throttling_is_waited_out_and_order_is_kept() {
        let endpoint = Arc::new(Endpoint {
            throttle: 1,
            dims: 8,
            ..Default::default()
        });
        let url = serve(endpoint.clone()).await;
        let texts: Vec<String> = (0..10).map(|i| "x".repeat(i + 1)).collect();
        let started = std::time::Instant::now();
        let vectors = client(url, 8).embed(&texts).await.expect("embeddings");
        assert!(
            started.elapsed() >= Duration::from_secs(1),
            "Retry-After honoured"
        );
        assert_eq!(vectors.len(), 10);
        assert_eq!(*endpoint.batches.lock().unwrap(), vec![4, 4, 2]);
        assert_eq!(
            endpoint.authorization.lock().unwrap().as_deref(),
            Some("Bearer sk-test")
        );
        // In order (the server answered each batch reversed) and unit length.
        for (i, vector) in vectors.iter().enumerate() {
            let norm: f32 = vector.iter().map(|v| v * v).sum::<f32>().sqrt();
            assert!((norm - 1.0).abs() < 1e-5);
            let seed = (i + 1) as f32;
            let first = seed
                / (0..8)
                    .map(|d| (seed + d as f32).powi(2))
                    .sum::<f32>()
                    .sqrt();
            assert!((vector[0] - first).abs() < 1e-5, "text {i}");
        }
    }

    #[test]
    fn the_api_key_is_never_printed() {
        let shown = format!("{:?}", client("http://x".into(), 8).config);
        assert!(!shown.contains("sk-test"), "{shown}");
    }

    #[tokio::test]
    async fn a_wrong_dimension_is_a_clear_error() {
        let endpoint = Arc::new(Endpoint {
            dims: 12,
            ..Default::default()
        });
        let url = serve(endpoint).await;
        let error = client(url, 8)
            .embed(&["hello".to_string()])
            .await
            .expect_err("12 is not 8");
        assert!(matches!(
            error,
            EmbedError::Dimensions {
                expected: 8,
                got: 12,
                ..
            }
        ));
        assert!(
            error
                .to_string()
                .contains("returned 12-dimensional vectors"),
            "{error}"
        );
    }

    #[tokio::test]
    async fn persistent_throttling_gives_up_naming_the_status() {
        let endpoint = Arc::new(Endpoint {
            throttle: 100,
            dims: 8,
            ..Default::default()
        });
        let url = serve(endpoint.clone()).await;
        let mut embeddings = client(url, 8);
        embeddings.config.max_attempts = 2;
        let error = embeddings
            .embed(&["hello".to_string()])
            .await
            .expect_err("throttled");
        assert!(
            error.to_string().contains("HTTP 429: Rate limit reached"),
            "{error}"
        );
        assert_eq!(endpoint.requests.load(Ordering::SeqCst), 2);
    }
}
