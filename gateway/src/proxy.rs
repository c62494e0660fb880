//! gRPC forwarding: a public call goes to the service that owns it as it came (frames are not
//! decoded), with the caller's metadata — its API key — and the gateway's span as the trace
//! parent. grpc-web is translated to gRPC in front of this (tonic-web), so browsers take the
//! same path. Health and reflection are answered by the gateway itself; anything else,
//! internal services included, is UNIMPLEMENTED.

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures_util::future::BoxFuture;
use http_body::Frame;
use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};
use tonic::body::Body;
use tonic::transport::Channel;
use tower::ServiceExt;
use tracing::Instrument;

use crate::services::{Catalog, Upstream};

/// The native gRPC side of the gateway (grpc-web arrives here already translated).
#[derive(Clone)]
pub struct Proxy {
    pub catalog: Arc<Catalog>,
    pub orchestrator: Channel,
    pub vectorizer: Channel,
    /// Health and reflection, answered here.
    pub local: tonic::service::Routes,
    /// Longest a unary call may take (a shorter `grpc-timeout` from the caller wins).
    pub call_timeout: Duration,
    /// Cancelled at shutdown: open streams then end with UNAVAILABLE instead of hanging.
    pub shutdown: CancellationToken,
}

impl Proxy {
    pub fn channel(&self, upstream: Upstream) -> Channel {
        match upstream {
            Upstream::Orchestrator => self.orchestrator.clone(),
            Upstream::Vectorizer => self.vectorizer.clone(),
        }
    }

    async fn route(self, mut request: http::Request<Body>) -> http::Response<Body> {
        let path = request.uri().path().to_string();
        if path.starts_with("/grpc.health.v1.") || path.starts_with("/grpc.reflection.") {
            return match self.local.clone().oneshot(request).await {
                Ok(response) => response.map(Body::new),
                Err(never) => match never {},
            };
        }
        let Some(method) = self.catalog.method(&path) else {
            return tonic::Status::unimplemented(format!(
                "{path} is not a public Sluice method (internal services are never served by the gateway)"
            ))
            .into_http();
        };
        let streaming = method.descriptor.is_server_streaming();
        let span =
            sluice_plumbing::telemetry::http_server_span("gateway.grpc", request.headers(), &path);
        async move {
            sluice_plumbing::telemetry::inject_http(request.headers_mut());
            let deadline = (!streaming).then(|| {
                let asked = request
                    .headers()
                    .get("grpc-timeout")
                    .and_then(|v| v.to_str().ok())
                    .and_then(parse_grpc_timeout);
                asked.map_or(self.call_timeout, |asked| asked.min(self.call_timeout))
            });
            if let Some(deadline) = deadline
                && let Ok(value) = http::HeaderValue::from_str(&format!("{}m", deadline.as_millis()))
            {
                request.headers_mut().insert("grpc-timeout", value);
            }
            let call = self.channel(method.upstream).oneshot(request);
            let answered = match deadline {
                Some(deadline) => match tokio::time::timeout(deadline, call).await {
                    Ok(answered) => answered,
                    Err(_) => {
                        return tonic::Status::deadline_exceeded(format!(
                            "{path}: no answer from the {} within {} ms",
                            method.upstream.name(),
                            deadline.as_millis()
                        ))
                        .into_http();
                    }
                },
                None => call.await,
            };
            match answered {
                Ok(response) if streaming => response.map(|body| {
                    Body::new(EndOnShutdown {
                        inner: body,
                        shutdown: Box::pin(self.shutdown.clone().cancelled_owned()),
                        ended: false,
                    })
                }),
                Ok(response) => response,
                Err(error) => {
                    tracing::warn!(%error, upstream = method.upstream.name(), "upstream not reachable");
                    tonic::Status::unavailable(format!(
                        "the {} is not reachable right now",
                        method.upstream.name()
                    ))
                    .into_http()
                }
            }
        }
        .instrument(span)
        .await
    }
}

impl tower::Service<http::Request<Body>> for Proxy {
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        let proxy = self.clone();
        Box::pin(async move { Ok(proxy.route(request).await) })
    }
}

/// `grpc-timeout` (e.g. `5S`, `250m`, `100u`) as a duration.
fn parse_grpc_timeout(value: &str) -> Option<Duration> {
    let (digits, unit) = value.split_at(value.len().checked_sub(1)?);
    let amount: u64 = digits.parse().ok()?;
    Some(match unit {
        "H" => Duration::from_secs(amount.saturating_mul(3600)),
        "M" => Duration::from_secs(amount.saturating_mul(60)),
        "S" => Duration::from_secs(amount),
        "m" => Duration::from_millis(amount),
        "u" => Duration::from_micros(amount),
        "n" => Duration::from_nanos(amount),
        _ => return None,
    })
}

/// A stream's body that ends cleanly when the gateway shuts down: trailers with
/// UNAVAILABLE (clients reconnect), not a connection cut mid-message.
struct EndOnShutdown {
    inner: Body,
    shutdown: Pin<Box<WaitForCancellationFutureOwned>>,
    ended: bool,
}

impl http_body::Body for EndOnShutdown {
    type Data = Bytes;
    type Error = tonic::Status;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        if self.ended {
            return Poll::Ready(None);
        }
        if self.shutdown.as_mut().poll(cx).is_ready() {
            self.ended = true;
            let mut trailers = http::HeaderMap::new();
            trailers.insert("grpc-status", http::HeaderValue::from_static("14"));
            trailers.insert(
                "grpc-message",
                http::HeaderValue::from_static("the gateway is shutting down; reconnect"),
            );
            return Poll::Ready(Some(Ok(Frame::trailers(trailers))));
        }
        match Pin::new(&mut self.inner).poll_frame(cx) {
            Poll::Ready(None) => {
                self.ended = true;
                Poll::Ready(None)
            }
            other => other,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.ended
    }
}

use std::future::Future as _;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grpc_timeouts_parse_in_every_unit() {
        assert_eq!(parse_grpc_timeout("5S"), Some(Duration::from_secs(5)));
        assert_eq!(parse_grpc_timeout("250m"), Some(Duration::from_millis(250)));
        assert_eq!(parse_grpc_timeout("2M"), Some(Duration::from_secs(120)));
        assert_eq!(parse_grpc_timeout("7x"), None);
        assert_eq!(parse_grpc_timeout(""), None);
    }
}
