//! Connector errors say whose fault it is and whether retrying can help; the retry logic
//! reads these fields, never the message text.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorDomain {
    /// The integration's configuration (credentials, URL, project keys).
    User,
    /// The source API misbehaved or is down.
    Remote,
    /// Our side: database, broker, a bug.
    Internal,
}

#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct ConnectorError {
    pub domain: ErrorDomain,
    /// Whether the same work may succeed if tried again later.
    pub retryable: bool,
    pub message: String,
    pub http_status: Option<u16>,
}

impl ConnectorError {
    pub fn config(message: String) -> Self {
        ConnectorError {
            domain: ErrorDomain::User,
            retryable: false,
            message,
            http_status: None,
        }
    }
    pub fn remote(message: String, retryable: bool) -> Self {
        ConnectorError {
            domain: ErrorDomain::Remote,
            retryable,
            message,
            http_status: None,
        }
    }
    pub fn internal(message: String) -> Self {
        ConnectorError {
            domain: ErrorDomain::Internal,
            retryable: true,
            message,
            http_status: None,
        }
    }
}
