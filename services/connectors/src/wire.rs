//! Response bodies as the source sent them. Every source request asks for gzip (Jira Cloud
//! and GitHub serve it; an issue page with changelogs is ~27 KB per issue uncompressed); the
//! body is counted as received, then inflated here with a bound on its size.
//!
//! Not reqwest's `gzip` feature: it inflates below the response, so the bytes that crossed
//! the network cannot be counted, and it sets no bound on what a small body may inflate to.
//! flate2 is already in the build (tonic's gzip).

use std::io::Read;

use reqwest::header::{CONTENT_ENCODING, HeaderMap};

use crate::traffic::RunTraffic;

/// Sent with every source request.
pub const ACCEPT_ENCODING: &str = "gzip";

/// Largest body accepted after inflating (a page of 5,000 issue keys or 100 issues with
/// their fields and changelogs is a few MB).
pub const MAX_BODY_BYTES: u64 = 256 * 1024 * 1024;

/// Why a body could not be read.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    #[error("reading the response body: {0}")]
    Read(#[from] reqwest::Error),
    #[error("the response body is not valid gzip: {0}")]
    Gzip(std::io::Error),
    #[error("the response body inflates to more than {MAX_BODY_BYTES} bytes")]
    TooLarge,
    #[error("the response body has an encoding Sluice did not ask for: {0}")]
    Encoding(String),
}

/// The body of `response`, inflated when the source compressed it; its size as received is
/// added to `traffic`.
pub async fn read_body(
    response: reqwest::Response,
    traffic: &RunTraffic,
) -> Result<Vec<u8>, BodyError> {
    let encoding = content_encoding(response.headers());
    let received = response.bytes().await?;
    traffic.received(received.len());
    decode(&received, encoding.as_deref())
}

fn content_encoding(headers: &HeaderMap) -> Option<String> {
    headers
        .get(CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().to_ascii_lowercase())
        .filter(|v| !v.is_empty() && v != "identity")
}

/// `body` as the source meant it: inflated if it says gzip, as is without an encoding.
pub fn decode(body: &[u8], encoding: Option<&str>) -> Result<Vec<u8>, BodyError> {
    match encoding {
        None | Some("identity") => Ok(body.to_vec()),
        Some("gzip" | "x-gzip") => {
            let mut inflated = Vec::with_capacity(body.len() * 4);
            let read = flate2::read::MultiGzDecoder::new(body)
                .take(MAX_BODY_BYTES + 1)
                .read_to_end(&mut inflated)
                .map_err(BodyError::Gzip)?;
            if read as u64 > MAX_BODY_BYTES {
                return Err(BodyError::TooLarge);
            }
            Ok(inflated)
        }
        Some(other) => Err(BodyError::Encoding(other.to_string())),
    }
}

/// Why a request could not be sent, from the whole error chain (reqwest's own text only says
/// "error sending request"), and whether trying again can help: a certificate the host does
/// not trust, an expired one or one for another host stays so.
pub fn send_failure(error: &reqwest::Error) -> (String, bool) {
    let mut chain = vec![error.to_string()];
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        let text = cause.to_string();
        if chain.last() != Some(&text) {
            chain.push(text);
        }
        source = cause.source();
    }
    let all = chain.join(": ");
    let certificate = [
        ("UnknownIssuer", "the site's TLS certificate is signed by a CA this host does not trust (a private or corporate CA: give its PEM bundle in SLUICE_HTTP_EXTRA_CA_FILE)"),
        ("Expired", "the site's TLS certificate has expired"),
        ("NotValidYet", "the site's TLS certificate is not valid yet (check this host's clock)"),
        ("NotValidForName", "the site's TLS certificate is not valid for this host name"),
        ("Revoked", "the site's TLS certificate was revoked"),
        ("BadSignature", "the site's TLS certificate does not verify against the trusted CA of its issuer's name (a different CA of the same name?)"),
    ]
    .into_iter()
    .find(|(marker, _)| all.contains(marker));
    match certificate {
        Some((_, cause)) => (format!("{cause} ({all})"), false),
        None => (all, true),
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(data).unwrap();
        encoder.finish().unwrap()
    }

    #[test]
    fn gzip_bodies_inflate_and_plain_ones_pass_through() {
        let json = br#"{"issues":[{"id":"10001","key":"ENG-1"}]}"#.repeat(50);
        let compressed = gzip(&json);
        assert!(compressed.len() < json.len() / 5);
        assert_eq!(decode(&compressed, Some("gzip")).unwrap(), json);
        assert_eq!(decode(&json, None).unwrap(), json);
    }

    #[test]
    fn broken_or_unasked_encodings_are_errors_naming_the_cause() {
        let error = decode(b"not gzip at all", Some("gzip")).unwrap_err();
        assert!(error.to_string().contains("not valid gzip"), "{error}");
        let error = decode(b"x", Some("br")).unwrap_err();
        assert!(error.to_string().contains("did not ask for: br"), "{error}");
    }
}
