//! Prometheus metrics of every service, in one process-wide registry (the Prometheus
//! project's `prometheus-client`), served as `GET /metrics` on each service's gRPC/health
//! port. With `OTEL_METRICS_EXPORTER=otlp` the same measurements also go to the OTLP
//! endpoint (`OTEL_EXPORTER_OTLP_ENDPOINT`) through OpenTelemetry's SDK.
//!
//! In `sluice all` every service shares one process, so every port's `/metrics` shows the
//! whole process; deployed one service per process, each shows its own.
//!
//! Labels are bounded: queue and table names, a source endpoint's template (never an id),
//! gRPC method paths, job types, outcomes. Never a tenant, run or entity id.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, LazyLock, Mutex, OnceLock};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use opentelemetry::KeyValue;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::{Registry, Unit};

/// Label pairs of one series.
type Labels = Vec<(&'static str, String)>;
type HistogramFamily = Family<Labels, Histogram, fn() -> Histogram>;

/// A counter family, recorded in Prometheus and (when configured) OpenTelemetry.
pub struct CounterVec {
    name: &'static str,
    keys: &'static [&'static str],
    prom: Family<Labels, Counter>,
    otel: OnceLock<opentelemetry::metrics::Counter<u64>>,
}

impl CounterVec {
    fn new(
        registry: &mut Registry,
        name: &'static str,
        help: &'static str,
        keys: &'static [&'static str],
    ) -> Self {
        let prom = Family::<Labels, Counter>::default();
        registry.register(name, help, prom.clone());
        CounterVec {
            name,
            keys,
            prom,
            otel: OnceLock::new(),
        }
    }

    /// Adds `by` to the series of `values` (one per label key, in order).
    pub fn add(&self, values: &[&str], by: u64) {
        if by == 0 {
            return;
        }
        let labels = labels(self.keys, values);
        self.prom.get_or_create(&labels).inc_by(by);
        self.otel
            .get_or_init(|| meter().u64_counter(self.name).build())
            .add(by, &attributes(&labels));
    }

    pub fn inc(&self, values: &[&str]) {
        self.add(values, 1);
    }

    /// The current value of one series (tests and the CLI).
    pub fn get(&self, values: &[&str]) -> u64 {
        self.prom.get_or_create(&labels(self.keys, values)).get()
    }
}

/// A seconds counter (a total of durations).
pub struct SecondsVec {
    name: &'static str,
    keys: &'static [&'static str],
    prom: Family<Labels, Counter<f64>>,
    otel: OnceLock<opentelemetry::metrics::Counter<f64>>,
}

impl SecondsVec {
    fn new(
        registry: &mut Registry,
        name: &'static str,
        help: &'static str,
        keys: &'static [&'static str],
    ) -> Self {
        let prom = Family::<Labels, Counter<f64>>::default();
        registry.register_with_unit(name, help, Unit::Seconds, prom.clone());
        SecondsVec {
            name,
            keys,
            prom,
            otel: OnceLock::new(),
        }
    }

    pub fn add(&self, values: &[&str], by: Duration) {
        let labels = labels(self.keys, values);
        let seconds = by.as_secs_f64();
        self.prom.get_or_create(&labels).inc_by(seconds);
        self.otel
            .get_or_init(|| meter().f64_counter(self.name).with_unit("s").build())
            .add(seconds, &attributes(&labels));
    }
}

/// A histogram of seconds.
pub struct HistogramVec {
    name: &'static str,
    keys: &'static [&'static str],
    prom: HistogramFamily,
    otel: OnceLock<opentelemetry::metrics::Histogram<f64>>,
}

impl HistogramVec {
    fn new(
        registry: &mut Registry,
        name: &'static str,
        help: &'static str,
        keys: &'static [&'static str],
        buckets: fn() -> Histogram,
    ) -> Self {
        let prom = HistogramFamily::new_with_constructor(buckets);
        registry.register_with_unit(name, help, Unit::Seconds, prom.clone());
        HistogramVec {
            name,
            keys,
            prom,
            otel: OnceLock::new(),
        }
    }

    pub fn observe(&self, values: &[&str], took: Duration) {
        let labels = labels(self.keys, values);
        let seconds = took.as_secs_f64();
        self.prom.get_or_create(&labels).observe(seconds);
        self.otel
            .get_or_init(|| meter().f64_histogram(self.name).with_unit("s").build())
            .record(seconds, &attributes(&labels));
    }
}

fn labels(keys: &'static [&'static str], values: &[&str]) -> Labels {
    debug_assert_eq!(keys.len(), values.len(), "label values of a metric");
    keys.iter()
        .zip(values)
        .map(|(k, v)| (*k, (*v).to_string()))
        .collect()
}

fn attributes(labels: &Labels) -> Vec<KeyValue> {
    labels
        .iter()
        .map(|(k, v)| KeyValue::new(*k, v.clone()))
        .collect()
}

fn meter() -> opentelemetry::metrics::Meter {
    opentelemetry::global::meter("sluice")
}

/// 5 ms … ~80 s: a message batch, a source request, an embedding batch.
fn short_buckets() -> Histogram {
    Histogram::new(exponential_buckets(0.005, 2.0, 15))
}

/// 1 s … ~4.5 h: a whole run.
fn run_buckets() -> Histogram {
    Histogram::new(exponential_buckets(1.0, 2.0, 15))
}

/// Every metric Sluice exposes.
pub struct Metrics {
    registry: Mutex<Registry>,
    /// Deliveries handed to a handler, per queue.
    pub messages_consumed: CounterVec,
    /// Deliveries acknowledged after their work committed.
    pub messages_acked: CounterVec,
    /// Deliveries sent round again (delay queue or requeue).
    pub messages_retried: CounterVec,
    /// Deliveries moved to `etl.failed`.
    pub messages_dead_lettered: CounterVec,
    /// Time a handler took for one batch of deliveries.
    pub batch_duration: HistogramVec,
    /// Rows written (inserted or updated) by the loader, per table.
    pub rows_upserted: CounterVec,
    /// Requests to Jira and GitHub by endpoint template and HTTP status ("error" when no
    /// answer came).
    pub source_requests: CounterVec,
    /// Times a source's rate limit (429/403 with Retry-After, an empty budget, self-pacing)
    /// made a request wait.
    pub rate_limit_waits: CounterVec,
    pub rate_limit_wait_seconds: SecondsVec,
    /// Runs that ended, by job type and outcome (completed, failed, cancelled, skipped).
    pub runs: CounterVec,
    pub run_duration: HistogramVec,
    /// gRPC requests served, by method and status code.
    pub grpc_requests: CounterVec,
    pub grpc_request_duration: HistogramVec,
    /// Texts (chunks) embedded, by provider.
    pub embedded_documents: CounterVec,
    pub embedding_batch_duration: HistogramVec,
    /// Notification deliveries by channel kind and outcome (delivered, retried, failed).
    pub notifications: CounterVec,
}

impl Metrics {
    fn new() -> Self {
        let mut r = Registry::default();
        let queue: &'static [&'static str] = &["queue"];
        let metrics = Metrics {
            messages_consumed: CounterVec::new(
                &mut r,
                "sluice_messages_consumed",
                "Deliveries handed to a handler",
                queue,
            ),
            messages_acked: CounterVec::new(
                &mut r,
                "sluice_messages_acked",
                "Deliveries acknowledged after their work committed",
                queue,
            ),
            messages_retried: CounterVec::new(
                &mut r,
                "sluice_messages_retried",
                "Deliveries sent round again after a recoverable error",
                queue,
            ),
            messages_dead_lettered: CounterVec::new(
                &mut r,
                "sluice_messages_dead_lettered",
                "Deliveries moved to the dead-letter queue",
                queue,
            ),
            batch_duration: HistogramVec::new(
                &mut r,
                "sluice_batch_duration",
                "Time a handler took for one batch of deliveries",
                queue,
                short_buckets,
            ),
            rows_upserted: CounterVec::new(
                &mut r,
                "sluice_rows_upserted",
                "Rows inserted or updated by the loader",
                &["table"],
            ),
            source_requests: CounterVec::new(
                &mut r,
                "sluice_source_requests",
                "Requests to Jira and GitHub by endpoint template and HTTP status",
                &["source", "endpoint", "status"],
            ),
            rate_limit_waits: CounterVec::new(
                &mut r,
                "sluice_rate_limit_waits",
                "Requests held back by a source's rate limit",
                &["source"],
            ),
            rate_limit_wait_seconds: SecondsVec::new(
                &mut r,
                "sluice_rate_limit_wait",
                "Time requests were held back by a source's rate limit",
                &["source"],
            ),
            runs: CounterVec::new(
                &mut r,
                "sluice_runs",
                "Runs that ended, by job type and outcome",
                &["job_type", "outcome"],
            ),
            run_duration: HistogramVec::new(
                &mut r,
                "sluice_run_duration",
                "Duration of runs that ended, by job type and outcome",
                &["job_type", "outcome"],
                run_buckets,
            ),
            grpc_requests: CounterVec::new(
                &mut r,
                "sluice_grpc_requests",
                "gRPC requests served, by method and status code",
                &["method", "code"],
            ),
            grpc_request_duration: HistogramVec::new(
                &mut r,
                "sluice_grpc_request_duration",
                "Time to the response headers of a gRPC request",
                &["method"],
                short_buckets,
            ),
            embedded_documents: CounterVec::new(
                &mut r,
                "sluice_embedded_documents",
                "Texts (chunks) embedded",
                &["provider"],
            ),
            embedding_batch_duration: HistogramVec::new(
                &mut r,
                "sluice_embedding_batch_duration",
                "Time one embedding batch took",
                &["provider"],
                short_buckets,
            ),
            notifications: CounterVec::new(
                &mut r,
                "sluice_notifications",
                "Notification deliveries by channel kind and outcome",
                &["kind", "outcome"],
            ),
            registry: Mutex::new(Registry::default()),
        };
        *metrics.registry.lock().unwrap_or_else(|e| e.into_inner()) = r;
        metrics
    }

    /// The registry in Prometheus' text exposition (OpenMetrics) format.
    pub fn render(&self) -> String {
        let mut text = String::new();
        let registry = self.registry.lock().unwrap_or_else(|e| e.into_inner());
        // Writing into a String cannot fail.
        let _ = encode(&mut text, &registry);
        text
    }
}

/// The process's metrics.
pub fn get() -> &'static Metrics {
    static METRICS: LazyLock<Metrics> = LazyLock::new(Metrics::new);
    &METRICS
}

/// Content type of [`Metrics::render`]'s output.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// `GET /metrics` added to a gRPC server's routes (HTTP/1.1 or HTTP/2).
pub fn with_metrics_route(mut routes: tonic::service::Routes) -> tonic::service::Routes {
    let router = std::mem::take(routes.axum_router_mut());
    *routes.axum_router_mut() = router.route("/metrics", axum::routing::get(metrics_response));
    routes
}

/// The `/metrics` answer.
pub async fn metrics_response() -> http::Response<axum::body::Body> {
    http::Response::builder()
        .header(http::header::CONTENT_TYPE, CONTENT_TYPE)
        .body(axum::body::Body::from(get().render()))
        .unwrap_or_default()
}

/// The template of a source request's path, for the `endpoint` label: the API's own words are
/// kept, every other segment (keys, ids, owners, repositories, numbers) becomes `{}`, so the
/// label's values stay few whatever the site holds.
pub fn endpoint_template(path: &str) -> String {
    const WORDS: &[&str] = &[
        "rest",
        "api",
        "2",
        "3",
        "latest",
        "agile",
        "1.0",
        "search",
        "jql",
        "issue",
        "issues",
        "changelog",
        "bulkfetch",
        "project",
        "statuses",
        "status",
        "statuscategory",
        "field",
        "fields",
        "createmeta",
        "issuetype",
        "issuetypes",
        "dev-status",
        "detail",
        "summary",
        "serverInfo",
        "myself",
        "repos",
        "orgs",
        "users",
        "user",
        "pulls",
        "commits",
        "reviews",
        "comments",
        "graphql",
        "rate_limit",
        "repositories",
        "installation",
        "page",
        "paginated",
    ];
    let segments: Vec<&str> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| if WORDS.contains(&s) { s } else { "{}" })
        .collect();
    format!("/{}", segments.join("/"))
}

/// Counts gRPC requests by method and status code (and times them to their headers).
#[derive(Debug, Clone, Copy, Default)]
pub struct GrpcMetricsLayer;

impl<S> tower::Layer<S> for GrpcMetricsLayer {
    type Service = GrpcMetrics<S>;

    fn layer(&self, inner: S) -> GrpcMetrics<S> {
        GrpcMetrics { inner }
    }
}

#[derive(Debug, Clone)]
pub struct GrpcMetrics<S> {
    inner: S,
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl<S, B, RB> tower::Service<http::Request<B>> for GrpcMetrics<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<RB>>,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    RB: http_body::Body,
{
    type Response = http::Response<CountedBody<RB>>;
    type Error = S::Error;
    type Future = BoxFuture<Result<Self::Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let path = request.uri().path();
        // Only gRPC calls are counted (not `/metrics` itself).
        let method = request
            .headers()
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/grpc"))
            .then(|| path.to_string());
        let started = Instant::now();
        let answer = self.inner.call(request);
        Box::pin(async move {
            let response = answer.await?;
            let Some(method) = method else {
                return Ok(response.map(|body| CountedBody::new(body, None)));
            };
            get()
                .grpc_request_duration
                .observe(&[&method], started.elapsed());
            let tracker = Arc::new(CodeTracker {
                method,
                recorded: Mutex::new(false),
            });
            // A trailers-only answer (most errors) carries its status in the headers.
            if let Some(code) = response.headers().get("grpc-status") {
                tracker.record(code.to_str().unwrap_or("2"));
            }
            Ok(response.map(|body| CountedBody::new(body, Some(tracker))))
        })
    }
}

struct CodeTracker {
    method: String,
    recorded: Mutex<bool>,
}

impl CodeTracker {
    fn record(&self, code: &str) {
        let mut recorded = self.recorded.lock().unwrap_or_else(|e| e.into_inner());
        if *recorded {
            return;
        }
        *recorded = true;
        let name = code
            .trim()
            .parse::<usize>()
            .ok()
            .and_then(|c| GRPC_CODES.get(c))
            .copied()
            .unwrap_or("UNKNOWN");
        get().grpc_requests.inc(&[&self.method, name]);
    }
}

impl Drop for CodeTracker {
    fn drop(&mut self) {
        // The body went away before its trailers: the client cancelled (or a stream ended
        // with the server's shutdown).
        self.record("1");
    }
}

const GRPC_CODES: [&str; 17] = [
    "OK",
    "CANCELLED",
    "UNKNOWN",
    "INVALID_ARGUMENT",
    "DEADLINE_EXCEEDED",
    "NOT_FOUND",
    "ALREADY_EXISTS",
    "PERMISSION_DENIED",
    "RESOURCE_EXHAUSTED",
    "FAILED_PRECONDITION",
    "ABORTED",
    "OUT_OF_RANGE",
    "UNIMPLEMENTED",
    "INTERNAL",
    "UNAVAILABLE",
    "DATA_LOSS",
    "UNAUTHENTICATED",
];

/// A response body that records the gRPC status from its trailers.
pub struct CountedBody<B> {
    inner: Pin<Box<B>>,
    tracker: Option<Arc<CodeTracker>>,
}

impl<B> CountedBody<B> {
    fn new(inner: B, tracker: Option<Arc<CodeTracker>>) -> Self {
        CountedBody {
            inner: Box::pin(inner),
            tracker,
        }
    }
}

impl<B: http_body::Body> http_body::Body for CountedBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        let polled = self.inner.as_mut().poll_frame(cx);
        if let Poll::Ready(Some(Ok(frame))) = &polled
            && let Some(trailers) = frame.trailers_ref()
            && let Some(tracker) = &self.tracker
        {
            tracker.record(
                trailers
                    .get("grpc-status")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("0"),
            );
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_templates_keep_api_words_and_hide_ids() {
        assert_eq!(
            endpoint_template("/rest/api/3/issue/PROJ-12/changelog"),
            "/rest/api/3/issue/{}/changelog"
        );
        assert_eq!(
            endpoint_template("/repos/acme/widgets/pulls/42/commits"),
            "/repos/{}/{}/pulls/{}/commits"
        );
        assert_eq!(
            endpoint_template("/rest/api/3/search/jql"),
            "/rest/api/3/search/jql"
        );
        assert_eq!(endpoint_template("/graphql"), "/graphql");
    }

    #[test]
    fn rendered_names_carry_their_suffixes() {
        let metrics = get();
        metrics.messages_acked.inc(&["etl.test-render"]);
        metrics
            .batch_duration
            .observe(&["etl.test-render"], Duration::from_millis(20));
        metrics
            .rate_limit_wait_seconds
            .add(&["test-render"], Duration::from_millis(1500));
        let text = metrics.render();
        assert!(
            text.contains("sluice_messages_acked_total{queue=\"etl.test-render\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("sluice_batch_duration_seconds_count{queue=\"etl.test-render\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("sluice_rate_limit_wait_seconds_total{source=\"test-render\"} 1.5"),
            "{text}"
        );
        assert!(text.ends_with("# EOF\n"));
    }
}
