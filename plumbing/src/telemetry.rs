//! Tracing and OpenTelemetry: structured logs always, OTLP export when
//! `OTEL_EXPORTER_OTLP_ENDPOINT` is set, and W3C trace context carried across gRPC metadata,
//! AMQP headers and queue payloads so one job run is one trace.

use std::collections::HashMap;

use lapin::types::{AMQPValue, FieldTable, ShortString};
use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry::trace::{TraceContextExt, TracerProvider as _};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use sluice_proto::v1::TraceContext;
use tracing::Span;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer, Registry};

/// Flushes spans on drop.
pub struct TelemetryGuard {
    provider: SdkTracerProvider,
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        let _ = self.provider.shutdown();
    }
}

/// Installs the global subscriber: logs to stderr (JSON when `SLUICE_LOG_FORMAT=json`),
/// filtered by `RUST_LOG` (default `info`), plus spans to OTLP when configured.
/// Must run inside a tokio runtime (the OTLP exporter uses tonic).
pub fn init(service_name: &str) -> anyhow::Result<TelemetryGuard> {
    let json = std::env::var("SLUICE_LOG_FORMAT").is_ok_and(|v| v == "json");
    init_with_writer(service_name, std::io::stderr, json, "info")
}

/// As [`init`], writing logs to `writer` (tests capture them to check what is logged).
pub fn init_with_writer<W>(
    service_name: &str,
    writer: W,
    json: bool,
    default_filter: &str,
) -> anyhow::Result<TelemetryGuard>
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let provider = tracer_provider(service_name)?;
    let tracer = provider.tracer("sluice");
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    let fmt = tracing_subscriber::fmt::layer()
        .with_writer(writer)
        .with_target(true);
    let fmt: Box<dyn Layer<Registry> + Send + Sync> = if json {
        Box::new(fmt.json().flatten_event(true))
    } else {
        Box::new(fmt)
    };
    tracing_subscriber::registry()
        .with(fmt)
        .with(tracing_opentelemetry::layer().with_tracer(tracer))
        .with(filter)
        .try_init()
        .map_err(|e| anyhow::anyhow!("installing the tracing subscriber: {e}"))?;
    Ok(TelemetryGuard { provider })
}

fn tracer_provider(service_name: &str) -> anyhow::Result<SdkTracerProvider> {
    let resource = opentelemetry_sdk::Resource::builder()
        .with_service_name(service_name.to_string())
        .build();
    let builder = SdkTracerProvider::builder().with_resource(resource);
    // Without an endpoint spans still get ids (job_runs.trace_id, log correlation), they are
    // just not exported.
    let builder = if crate::config::env_string("OTEL_EXPORTER_OTLP_ENDPOINT").is_some() {
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_tonic()
            .build()
            .map_err(|e| anyhow::anyhow!("building the OTLP exporter: {e}"))?;
        builder.with_batch_exporter(exporter)
    } else {
        builder
    };
    Ok(builder.build())
}

/// Hex trace id of the current span, empty when there is none.
pub fn current_trace_id() -> String {
    let context = Span::current().context();
    let span = context.span();
    let span_context = span.span_context();
    if span_context.is_valid() {
        span_context.trace_id().to_string()
    } else {
        String::new()
    }
}

/// The current span's context as a W3C TraceContext for a queue payload.
pub fn current_trace_context() -> TraceContext {
    let mut carrier = HashMap::new();
    TraceContextPropagator::new().inject_context(&Span::current().context(), &mut carrier);
    TraceContext {
        traceparent: carrier.remove("traceparent").unwrap_or_default(),
        tracestate: carrier.remove("tracestate").unwrap_or_default(),
    }
}

/// Makes `span` a child of the trace a queue payload carries.
pub fn set_parent_from_payload(span: &Span, trace: Option<&TraceContext>) {
    let Some(trace) = trace.filter(|t| !t.traceparent.is_empty()) else {
        return;
    };
    let mut carrier = HashMap::new();
    carrier.insert("traceparent".to_string(), trace.traceparent.clone());
    if !trace.tracestate.is_empty() {
        carrier.insert("tracestate".to_string(), trace.tracestate.clone());
    }
    let parent = TraceContextPropagator::new().extract(&carrier);
    let _ = span.set_parent(parent);
}

/// Span of an incoming gRPC request, child of the caller's trace when it sent `traceparent`.
pub fn grpc_server_span(request: &http::Request<()>) -> Span {
    let parent = TraceContextPropagator::new().extract(&HeaderExtractor(request.headers()));
    let span = tracing::info_span!("grpc.request", path = %request.uri().path());
    let _ = span.set_parent(parent);
    span
}

/// Span of an incoming HTTP request (any protocol), child of the caller's trace when its
/// headers carry `traceparent`.
pub fn http_server_span(name: &'static str, headers: &http::HeaderMap, path: &str) -> Span {
    let parent = TraceContextPropagator::new().extract(&HeaderExtractor(headers));
    let span = tracing::info_span!("http.request", operation = name, path = %path);
    let _ = span.set_parent(parent);
    span
}

/// Replaces the trace context in outgoing HTTP headers with the current span's.
pub fn inject_http(headers: &mut http::HeaderMap) {
    TraceContextPropagator::new()
        .inject_context(&Span::current().context(), &mut HeaderInjector(headers));
}

struct HeaderInjector<'a>(&'a mut http::HeaderMap);

impl Injector for HeaderInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(key), Ok(value)) = (
            http::HeaderName::from_bytes(key.as_bytes()),
            http::HeaderValue::try_from(value),
        ) {
            self.0.insert(key, value);
        }
    }
}

/// Adds the current trace context to outgoing gRPC metadata.
pub fn inject_grpc(metadata: &mut tonic::metadata::MetadataMap) {
    TraceContextPropagator::new()
        .inject_context(&Span::current().context(), &mut MetadataInjector(metadata));
}

/// A tonic interceptor that propagates the current trace to the server.
pub fn propagate_trace(
    mut request: tonic::Request<()>,
) -> Result<tonic::Request<()>, tonic::Status> {
    inject_grpc(request.metadata_mut());
    Ok(request)
}

/// Adds the current trace context to AMQP message headers.
pub fn inject_amqp(headers: &mut FieldTable) {
    let mut carrier = HashMap::new();
    TraceContextPropagator::new().inject_context(&Span::current().context(), &mut carrier);
    for (key, value) in carrier {
        headers.insert(ShortString::from(key), AMQPValue::LongString(value.into()));
    }
}

/// Makes `span` a child of the trace in AMQP headers.
pub fn set_parent_from_amqp(span: &Span, headers: Option<&FieldTable>) {
    let Some(headers) = headers else { return };
    let mut carrier = HashMap::new();
    for (key, value) in headers.inner() {
        if let AMQPValue::LongString(text) = value {
            carrier.insert(key.to_string(), text.to_string());
        }
    }
    if carrier.contains_key("traceparent") {
        let _ = span.set_parent(TraceContextPropagator::new().extract(&carrier));
    }
}

struct HeaderExtractor<'a>(&'a http::HeaderMap);

impl Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }
    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(|k| k.as_str()).collect()
    }
}

struct MetadataInjector<'a>(&'a mut tonic::metadata::MetadataMap);

impl Injector for MetadataInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(key), Ok(value)) = (
            tonic::metadata::MetadataKey::from_bytes(key.as_bytes()),
            tonic::metadata::MetadataValue::try_from(value.as_str()),
        ) {
            self.0.insert(key, value);
        }
    }
}
