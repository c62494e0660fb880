//! Source origins: a stored credential is sent only to the origin (scheme, host, port) it
//! was given for. The orchestrator validates base URLs with [`validate_base_url`]; the
//! connectors compare origins before every request that carries a credential.

use std::net::IpAddr;

/// `scheme://host[:port]`, lower-cased, the scheme's default port left out.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Origin(String);

impl Origin {
    /// The origin of an absolute http(s) URL; `None` for anything else.
    pub fn of(url: &str) -> Option<Origin> {
        let uri: http::Uri = url.trim().parse().ok()?;
        let scheme = uri.scheme_str()?.to_ascii_lowercase();
        let default_port = match scheme.as_str() {
            "https" => 443,
            "http" => 80,
            _ => return None,
        };
        let authority = uri.authority()?;
        if authority.as_str().contains('@') {
            return None;
        }
        let host = authority.host().to_ascii_lowercase();
        if host.is_empty() {
            return None;
        }
        Some(match authority.port_u16() {
            Some(port) if port != default_port => Origin(format!("{scheme}://{host}:{port}")),
            _ => Origin(format!("{scheme}://{host}")),
        })
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// What source base URLs may be.
#[derive(Debug, Clone, Copy, Default)]
pub struct SourceUrlPolicy {
    /// Plain `http://` to hosts other than loopback (`SLUICE_ALLOW_INSECURE_SOURCES`): credentials
    /// then cross the network unencrypted. Off by default.
    pub allow_insecure_http: bool,
}

/// Why a base URL was refused; the text is for the caller (it never repeats a password).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BaseUrlError {
    #[error("is required (e.g. https://your-domain.atlassian.net)")]
    Missing,
    #[error("{0:?} is not a URL")]
    NotAUrl(String),
    #[error(
        "must not contain a user name or password: put credentials in `credentials`, which are stored encrypted"
    )]
    UserInfo,
    #[error(
        "{0:?} must be an https:// URL with a host (plain http:// only for loopback, or with SLUICE_ALLOW_INSECURE_SOURCES=on)"
    )]
    Scheme(String),
    #[error("must not carry a query string or fragment")]
    Query,
    #[error(
        "{0} is a link-local or unspecified address (e.g. a cloud metadata service), never a source"
    )]
    Address(String),
}

/// A base URL Sluice may send credentials to, normalised (no trailing slash). Refused:
/// user info (`user:pass@`, which would later be echoed in responses and logs), schemes
/// other than https (plain http only to loopback or behind the explicit setting), query
/// strings, and link-local or unspecified addresses.
pub fn validate_base_url(url: &str, policy: SourceUrlPolicy) -> Result<String, BaseUrlError> {
    let url = url.trim().trim_end_matches('/');
    if url.is_empty() {
        return Err(BaseUrlError::Missing);
    }
    // Checked on the text before parsing: a URL with user info must not be echoed back.
    let authority_part = url
        .split_once("://")
        .map(|(_, rest)| rest.split(['/', '?', '#']).next().unwrap_or_default())
        .unwrap_or_default();
    if authority_part.contains('@') {
        return Err(BaseUrlError::UserInfo);
    }
    let uri: http::Uri = url
        .parse()
        .map_err(|_| BaseUrlError::NotAUrl(url.to_string()))?;
    if uri.query().is_some() || url.contains('#') {
        return Err(BaseUrlError::Query);
    }
    let host = uri
        .host()
        .ok_or_else(|| BaseUrlError::Scheme(url.to_string()))?;
    let bare_host = host.trim_start_matches('[').trim_end_matches(']');
    let ip: Option<IpAddr> = bare_host.parse().ok();
    if let Some(ip) = ip {
        let forbidden = match ip {
            IpAddr::V4(v4) => v4.is_link_local() || v4.is_unspecified() || v4.is_broadcast(),
            IpAddr::V6(v6) => v6.is_unspecified() || (v6.segments()[0] & 0xffc0) == 0xfe80,
        };
        if forbidden {
            return Err(BaseUrlError::Address(bare_host.to_string()));
        }
    }
    let loopback =
        ip.is_some_and(|ip| ip.is_loopback()) || bare_host.eq_ignore_ascii_case("localhost");
    match uri.scheme_str() {
        Some("https") => {}
        Some("http") if loopback || policy.allow_insecure_http => {}
        _ => return Err(BaseUrlError::Scheme(url.to_string())),
    }
    Ok(url.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_ignore_case_default_ports_and_paths() {
        let a = Origin::of("https://Acme.atlassian.net/jira").unwrap();
        assert_eq!(a.as_str(), "https://acme.atlassian.net");
        assert_eq!(
            Origin::of("https://acme.atlassian.net:443/x"),
            Some(a.clone())
        );
        assert_ne!(Origin::of("http://acme.atlassian.net"), Some(a.clone()));
        assert_ne!(Origin::of("https://acme.atlassian.net:8443"), Some(a));
        assert_eq!(
            Origin::of("http://127.0.0.1:8090").unwrap().as_str(),
            "http://127.0.0.1:8090"
        );
        assert_eq!(Origin::of("ftp://x"), None);
        assert_eq!(Origin::of("https://u:p@x"), None);
    }

    #[test]
    fn base_urls_are_https_without_user_info() {
        let strict = SourceUrlPolicy::default();
        assert_eq!(
            validate_base_url("https://x.atlassian.net/", strict).unwrap(),
            "https://x.atlassian.net"
        );
        assert_eq!(
            validate_base_url("https://me:s3cr@t@x.atlassian.net", strict),
            Err(BaseUrlError::UserInfo)
        );
        assert!(!BaseUrlError::UserInfo.to_string().contains("s3cr"));
        assert!(matches!(
            validate_base_url("http://jira.internal", strict),
            Err(BaseUrlError::Scheme(_))
        ));
        assert!(
            validate_base_url(
                "http://jira.internal",
                SourceUrlPolicy {
                    allow_insecure_http: true
                }
            )
            .is_ok()
        );
        for loopback in [
            "http://127.0.0.1:8090",
            "http://localhost:1",
            "http://[::1]:9",
        ] {
            assert!(validate_base_url(loopback, strict).is_ok(), "{loopback}");
        }
        for bad in [
            "https://169.254.169.254",
            "https://0.0.0.0",
            "https://[fe80::1]",
        ] {
            assert!(
                matches!(
                    validate_base_url(bad, strict),
                    Err(BaseUrlError::Address(_))
                ),
                "{bad}"
            );
        }
        assert_eq!(
            validate_base_url("https://x?a=1", strict),
            Err(BaseUrlError::Query)
        );
        assert_eq!(validate_base_url(" ", strict), Err(BaseUrlError::Missing));
        assert!(matches!(
            validate_base_url("ftp://x", strict),
            Err(BaseUrlError::Scheme(_))
        ));
    }
}
