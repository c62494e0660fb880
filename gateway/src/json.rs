//! HTTP/JSON: every public unary method as `POST /sluice.v1.<Service>/<Method>` with a JSON
//! body in the proto3 JSON mapping (the Connect protocol's unary JSON shape, so curl and
//! Connect clients both work). The body is checked against the method's input message
//! (unknown fields are refused, naming them), sent to the owning service as gRPC, and the
//! answer mapped back to JSON. Errors are JSON `{"code": "...", "message": "..."}` with the
//! gRPC code's name and the HTTP status the Connect protocol gives it.

use bytes::{Buf, BufMut, Bytes};
use prost::Message as _;
use prost_reflect::{DeserializeOptions, DynamicMessage, SerializeOptions};
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tracing::Instrument;

use crate::proxy::Proxy;

/// Metadata passed through to the service (the caller's key; the trace is the gateway's).
const FORWARDED: [&str; 1] = ["authorization"];

pub async fn handle(
    proxy: &Proxy,
    request: http::Request<axum::body::Body>,
) -> http::Response<axum::body::Body> {
    let path = request.uri().path().to_string();
    let Some(method) = proxy.catalog.method(&path) else {
        return error(
            tonic::Code::NotFound,
            &format!("{path} is not a public Sluice method"),
        );
    };
    if method.descriptor.is_server_streaming() || method.descriptor.is_client_streaming() {
        return error(
            tonic::Code::Unimplemented,
            &format!(
                "{} streams: call it with gRPC or grpc-web, not JSON",
                method.descriptor.full_name()
            ),
        );
    }
    let span =
        sluice_plumbing::telemetry::http_server_span("gateway.json", request.headers(), &path);
    async move {
        let (parts, body) = request.into_parts();
        let body = match axum::body::to_bytes(body, usize::MAX).await {
            Ok(body) => body,
            Err(error) => {
                return error_response(
                    http::StatusCode::PAYLOAD_TOO_LARGE,
                    "resource_exhausted",
                    &format!("request body: {error}"),
                );
            }
        };
        let input = method.descriptor.input();
        let text: &[u8] = if body.iter().all(u8::is_ascii_whitespace) {
            b"{}"
        } else {
            &body
        };
        let mut deserializer = serde_json::Deserializer::from_slice(text);
        let message = match DynamicMessage::deserialize_with_options(
            input.clone(),
            &mut deserializer,
            &DeserializeOptions::new().deny_unknown_fields(true),
        )
        .and_then(|m| deserializer.end().map(|()| m))
        {
            Ok(message) => message,
            Err(problem) => {
                return error(
                    tonic::Code::InvalidArgument,
                    &format!(
                        "request body is not a valid {}: {problem}",
                        input.full_name()
                    ),
                );
            }
        };
        let mut call = tonic::Request::new(Bytes::from(message.encode_to_vec()));
        for name in FORWARDED {
            if let Some(value) = parts.headers.get(name)
                && let Ok(value) = tonic::metadata::MetadataValue::try_from(value.as_bytes())
            {
                call.metadata_mut().insert(name, value);
            }
        }
        sluice_plumbing::telemetry::inject_grpc(call.metadata_mut());
        call.set_timeout(proxy.call_timeout);
        let mut client = tonic::client::Grpc::new(proxy.channel(method.upstream));
        if let Err(problem) = client.ready().await {
            tracing::warn!(%problem, "upstream not ready");
            return error(
                tonic::Code::Unavailable,
                &format!("the {} is not reachable right now", method.upstream.name()),
            );
        }
        let path_and_query: http::uri::PathAndQuery = match path.parse() {
            Ok(p) => p,
            Err(_) => return error(tonic::Code::InvalidArgument, "bad path"),
        };
        let answered = tokio::time::timeout(
            proxy.call_timeout,
            client.unary(call, path_and_query, RawCodec),
        )
        .await;
        let reply = match answered {
            Err(_) => {
                return error(
                    tonic::Code::DeadlineExceeded,
                    &format!(
                        "{path}: no answer from the {} within {} ms",
                        method.upstream.name(),
                        proxy.call_timeout.as_millis()
                    ),
                );
            }
            Ok(Err(status)) => return error(status.code(), status.message()),
            Ok(Ok(reply)) => reply.into_inner(),
        };
        let output = match DynamicMessage::decode(method.descriptor.output(), reply) {
            Ok(output) => output,
            Err(problem) => {
                tracing::warn!(%problem, "unreadable answer from upstream");
                return error(
                    tonic::Code::Internal,
                    "the service's answer could not be read",
                );
            }
        };
        let mut json = serde_json::Serializer::new(Vec::new());
        if let Err(problem) = output.serialize_with_options(&mut json, &SerializeOptions::new()) {
            tracing::warn!(%problem, "answer not expressible as JSON");
            return error(
                tonic::Code::Internal,
                "the service's answer could not be written as JSON",
            );
        }
        http::Response::builder()
            .status(http::StatusCode::OK)
            .header(http::header::CONTENT_TYPE, "application/json")
            .body(axum::body::Body::from(json.into_inner()))
            .unwrap_or_default()
    }
    .instrument(span)
    .await
}

/// A JSON error with the gRPC code's name and the Connect protocol's HTTP status for it.
pub fn error(code: tonic::Code, message: &str) -> http::Response<axum::body::Body> {
    let (status, name) = match code {
        tonic::Code::Ok => (http::StatusCode::OK, "ok"),
        tonic::Code::Cancelled => (
            http::StatusCode::from_u16(499).unwrap_or(http::StatusCode::BAD_REQUEST),
            "canceled",
        ),
        tonic::Code::Unknown => (http::StatusCode::INTERNAL_SERVER_ERROR, "unknown"),
        tonic::Code::InvalidArgument => (http::StatusCode::BAD_REQUEST, "invalid_argument"),
        tonic::Code::DeadlineExceeded => (http::StatusCode::GATEWAY_TIMEOUT, "deadline_exceeded"),
        tonic::Code::NotFound => (http::StatusCode::NOT_FOUND, "not_found"),
        tonic::Code::AlreadyExists => (http::StatusCode::CONFLICT, "already_exists"),
        tonic::Code::PermissionDenied => (http::StatusCode::FORBIDDEN, "permission_denied"),
        tonic::Code::ResourceExhausted => {
            (http::StatusCode::TOO_MANY_REQUESTS, "resource_exhausted")
        }
        tonic::Code::FailedPrecondition => (http::StatusCode::BAD_REQUEST, "failed_precondition"),
        tonic::Code::Aborted => (http::StatusCode::CONFLICT, "aborted"),
        tonic::Code::OutOfRange => (http::StatusCode::BAD_REQUEST, "out_of_range"),
        tonic::Code::Unimplemented => (http::StatusCode::NOT_IMPLEMENTED, "unimplemented"),
        tonic::Code::Internal => (http::StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        tonic::Code::Unavailable => (http::StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
        tonic::Code::DataLoss => (http::StatusCode::INTERNAL_SERVER_ERROR, "data_loss"),
        tonic::Code::Unauthenticated => (http::StatusCode::UNAUTHORIZED, "unauthenticated"),
    };
    error_response(status, name, message)
}

fn error_response(
    status: http::StatusCode,
    code: &str,
    message: &str,
) -> http::Response<axum::body::Body> {
    let body = serde_json::json!({ "code": code, "message": message });
    http::Response::builder()
        .status(status)
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(axum::body::Body::from(body.to_string()))
        .unwrap_or_default()
}

/// Messages as the bytes they already are: the JSON side encodes and decodes them itself.
#[derive(Debug, Clone, Copy, Default)]
struct RawCodec;

struct RawEncoder;
struct RawDecoder;

impl Codec for RawCodec {
    type Encode = Bytes;
    type Decode = Bytes;
    type Encoder = RawEncoder;
    type Decoder = RawDecoder;

    fn encoder(&mut self) -> RawEncoder {
        RawEncoder
    }

    fn decoder(&mut self) -> RawDecoder {
        RawDecoder
    }
}

impl Encoder for RawEncoder {
    type Item = Bytes;
    type Error = tonic::Status;

    fn encode(&mut self, item: Bytes, dst: &mut EncodeBuf<'_>) -> Result<(), tonic::Status> {
        dst.put(item);
        Ok(())
    }
}

impl Decoder for RawDecoder {
    type Item = Bytes;
    type Error = tonic::Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Bytes>, tonic::Status> {
        Ok(Some(src.copy_to_bytes(src.remaining())))
    }
}
