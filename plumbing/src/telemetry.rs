//! Tracing and OpenTelemetry: structured logs always, OTLP export when
//! `OTEL_EXPORTER_OTLP_ENDPOINT` is set, and W3C trace context carried across gRPC metadata,
//! AMQP headers and queue payloads so one job run is one trace.

use std::collections::HashMap;

use lapin::types::{AMQPValue, FieldTable, ShortString};
use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry::trace::{TraceContextExt, TracerProvider as _};
use opentelemetry_sdk::metrics::SdkMeterProvider;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{Sampler, SdkTracerProvider};
use sluice_proto::v1::TraceContext;
use tracing::Span;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer, Registry};

/// Flushes spans (and OTLP metrics) on drop.
pub struct TelemetryGuard {
    provider: SdkTracerProvider,
    meters: Option<SdkMeterProvider>,
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        let _ = self.provider.shutdown();
        if let Some(meters) = &self.meters {
            let _ = meters.shutdown();
        }
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
    let resource = resource(service_name);
    let provider = tracer_provider(resource.clone())?;
    let meters = meter_provider(resource)?;
    if let Some(meters) = &meters {
        opentelemetry::global::set_meter_provider(meters.clone());
    }
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
    Ok(TelemetryGuard { provider, meters })
}

/// service.name, service.version and service.instance.id (`SLUICE_INSTANCE_ID`, else the
/// host name — a pod's name in Kubernetes — and the process id), plus
/// `OTEL_RESOURCE_ATTRIBUTES`.
fn resource(service_name: &str) -> opentelemetry_sdk::Resource {
    let instance = crate::config::env_string("SLUICE_INSTANCE_ID").unwrap_or_else(|| {
        let host = crate::config::env_string("HOSTNAME")
            .or_else(|| {
                std::fs::read_to_string("/etc/hostname")
                    .ok()
                    .map(|h| h.trim().to_string())
            })
            .unwrap_or_else(|| "localhost".into());
        format!("{host}:{}", std::process::id())
    });
    opentelemetry_sdk::Resource::builder()
        .with_service_name(service_name.to_string())
        .with_attribute(opentelemetry::KeyValue::new(
            "service.version",
            env!("CARGO_PKG_VERSION"),
        ))
        .with_attribute(opentelemetry::KeyValue::new(
            "service.instance.id",
            instance,
        ))
        .build()
}

/// The sampler from `OTEL_TRACES_SAMPLER` / `OTEL_TRACES_SAMPLER_ARG` (the OpenTelemetry
/// names and values); default: a run's spans all sampled (`parentbased_always_on`). An
/// unknown value is an error naming it, not a silent fallback.
pub fn sampler_from_env() -> anyhow::Result<Sampler> {
    sampler(
        crate::config::env_string("OTEL_TRACES_SAMPLER").as_deref(),
        crate::config::env_string("OTEL_TRACES_SAMPLER_ARG").as_deref(),
    )
}

fn sampler(name: Option<&str>, arg: Option<&str>) -> anyhow::Result<Sampler> {
    let ratio = || -> anyhow::Result<f64> {
        let Some(arg) = arg else {
            return Ok(1.0);
        };
        match arg.trim().parse::<f64>() {
            Ok(r) if (0.0..=1.0).contains(&r) => Ok(r),
            _ => anyhow::bail!(
                "OTEL_TRACES_SAMPLER_ARG must be a ratio between 0 and 1, got {arg:?}"
            ),
        }
    };
    Ok(
        match name.map(str::trim).unwrap_or("parentbased_always_on") {
            "always_on" => Sampler::AlwaysOn,
            "always_off" => Sampler::AlwaysOff,
            "traceidratio" => Sampler::TraceIdRatioBased(ratio()?),
            "parentbased_always_on" => Sampler::ParentBased(Box::new(Sampler::AlwaysOn)),
            "parentbased_always_off" => Sampler::ParentBased(Box::new(Sampler::AlwaysOff)),
            "parentbased_traceidratio" => {
                Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(ratio()?)))
            }
            other => anyhow::bail!(
                "OTEL_TRACES_SAMPLER={other:?} is not one of always_on, always_off, traceidratio, \
             parentbased_always_on, parentbased_always_off, parentbased_traceidratio"
            ),
        },
    )
}

fn tracer_provider(resource: opentelemetry_sdk::Resource) -> anyhow::Result<SdkTracerProvider> {
    let builder = SdkTracerProvider::builder()
        .with_resource(resource)
        .with_sampler(sampler_from_env()?);
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

/// OTLP metrics when `OTEL_METRICS_EXPORTER=otlp` (the same figures `/metrics` serves, pushed
/// every `OTEL_METRIC_EXPORT_INTERVAL` ms to `OTEL_EXPORTER_OTLP_ENDPOINT`); `none` or
/// `prometheus` (the default) leave `/metrics` as the only exposition.
fn meter_provider(
    resource: opentelemetry_sdk::Resource,
) -> anyhow::Result<Option<SdkMeterProvider>> {
    let exporter = crate::config::env_string("OTEL_METRICS_EXPORTER").unwrap_or_default();
    match exporter.trim() {
        "" | "none" | "prometheus" => Ok(None),
        "otlp" => {
            let exporter = opentelemetry_otlp::MetricExporter::builder()
                .with_tonic()
                .build()
                .map_err(|e| anyhow::anyhow!("building the OTLP metrics exporter: {e}"))?;
            Ok(Some(
                SdkMeterProvider::builder()
                    .with_resource(resource)
                    .with_periodic_exporter(exporter)
                    .build(),
            ))
        }
        other => {
            anyhow::bail!("OTEL_METRICS_EXPORTER={other:?} is not one of otlp, prometheus, none")
        }
    }
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
    set_parent_and_links_from_amqp(span, std::iter::once(headers));
}

/// Makes `span` (one batch of deliveries) a child of the first message's trace and links it
/// to every message's context, so a batch mixing runs is found from each of them.
pub fn set_parent_and_links_from_amqp<'a>(
    span: &Span,
    headers: impl IntoIterator<Item = Option<&'a FieldTable>>,
) {
    let propagator = TraceContextPropagator::new();
    let mut contexts = headers.into_iter().flatten().filter_map(|headers| {
        let mut carrier = HashMap::new();
        for (key, value) in headers.inner() {
            if let AMQPValue::LongString(text) = value {
                carrier.insert(key.to_string(), text.to_string());
            }
        }
        carrier
            .contains_key("traceparent")
            .then(|| propagator.extract(&carrier))
    });
    let Some(first) = contexts.next() else { return };
    let rest: Vec<_> = contexts.collect();
    if rest.is_empty() {
        let _ = span.set_parent(first);
        return;
    }
    span.add_link(first.span().span_context().clone());
    for context in &rest {
        span.add_link(context.span().span_context().clone());
    }
    let _ = span.set_parent(first);
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

#[cfg(test)]
mod sampler_tests {
    use super::*;

    #[test]
    fn samplers_are_the_opentelemetry_names_and_a_wrong_one_is_named() {
        assert!(matches!(
            sampler(None, None).expect("default"),
            Sampler::ParentBased(_)
        ));
        assert!(matches!(
            sampler(Some("traceidratio"), Some("0.25")).expect("ratio"),
            Sampler::TraceIdRatioBased(r) if r == 0.25
        ));
        assert!(matches!(
            sampler(Some("always_off"), None).expect("off"),
            Sampler::AlwaysOff
        ));
        let wrong = sampler(Some("sometimes"), None).expect_err("unknown sampler");
        assert!(wrong.to_string().contains("\"sometimes\""), "{wrong}");
        let wrong = sampler(Some("parentbased_traceidratio"), Some("2")).expect_err("ratio > 1");
        assert!(
            wrong.to_string().contains("OTEL_TRACES_SAMPLER_ARG"),
            "{wrong}"
        );
    }
}
