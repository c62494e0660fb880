//! Service-to-service authentication. Internal RPCs (ProgressService on the orchestrator's
//! internal listener, ConnectorService on the connectors') take tenant and run ids from the
//! request body, so they must only ever answer Sluice's own services: every call carries the
//! deployment's shared token (`SLUICE_INTERNAL_TOKEN`) in `x-sluice-internal-token`, and the
//! servers reject anything else — a tenant's API key included — as UNAUTHENTICATED. Those
//! listeners also default to loopback; expose them only inside the cluster.

use sha2::{Digest, Sha256};
use tonic::metadata::{Ascii, MetadataValue};
use tonic::service::Interceptor;

/// The metadata key internal calls carry their token in.
pub const TOKEN_METADATA: &str = "x-sluice-internal-token";

/// Shortest token accepted: a guessable secret would make the internal services public.
pub const MIN_TOKEN_LEN: usize = 16;

/// The deployment's internal token, held as its digest (compared in constant time).
#[derive(Clone)]
pub struct InternalAuth {
    digest: [u8; 32],
    token: MetadataValue<Ascii>,
}

impl std::fmt::Debug for InternalAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("InternalAuth(***)")
    }
}

impl InternalAuth {
    /// From the configured token; it must be printable ASCII of at least
    /// [`MIN_TOKEN_LEN`] characters.
    pub fn new(token: &str) -> Result<InternalAuth, String> {
        let token = token.trim();
        if token.len() < MIN_TOKEN_LEN {
            return Err(format!(
                "must be at least {MIN_TOKEN_LEN} characters, the same for every service (e.g. `openssl rand -hex 32`)"
            ));
        }
        let value: MetadataValue<Ascii> = token
            .parse()
            .map_err(|_| "must be printable ASCII".to_string())?;
        Ok(InternalAuth {
            digest: Sha256::digest(token.as_bytes()).into(),
            token: value,
        })
    }

    /// A random token, for `sluice all` started without one (every service is in the
    /// process, so none needs to be told).
    pub fn generate_token() -> String {
        let secret: [u8; 24] = rand::random();
        secret.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[cfg(test)]
    fn generate() -> InternalAuth {
        InternalAuth::new(&Self::generate_token()).expect("48 hex characters")
    }

    /// Server side: accepts only a request carrying this token.
    pub fn verify<T>(&self, request: &tonic::Request<T>) -> Result<(), tonic::Status> {
        let presented = request.metadata().get(TOKEN_METADATA).ok_or_else(|| {
            tonic::Status::unauthenticated(format!(
                "this is an internal Sluice service: calls need the deployment's internal token ({TOKEN_METADATA}); API keys are not accepted here"
            ))
        })?;
        let digest: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
        let differing = digest
            .iter()
            .zip(self.digest.iter())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b));
        if differing != 0 {
            return Err(tonic::Status::unauthenticated(
                "internal token rejected: this service answers only the deployment's own services",
            ));
        }
        Ok(())
    }

    /// The server interceptor.
    pub fn server(&self) -> InternalServer {
        InternalServer(self.clone())
    }

    /// The client interceptor: adds the token and the W3C trace context.
    pub fn client(&self) -> InternalClient {
        InternalClient(self.token.clone())
    }
}

/// Rejects calls without the internal token.
#[derive(Clone, Debug)]
pub struct InternalServer(InternalAuth);

impl Interceptor for InternalServer {
    fn call(&mut self, request: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
        self.0.verify(&request)?;
        Ok(request)
    }
}

/// Adds the internal token (and the current trace context) to every call.
#[derive(Clone)]
pub struct InternalClient(MetadataValue<Ascii>);

impl Interceptor for InternalClient {
    fn call(&mut self, request: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
        let mut request = crate::telemetry::propagate_trace(request)?;
        request
            .metadata_mut()
            .insert(TOKEN_METADATA, self.0.clone());
        Ok(request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_deployments_token_passes() {
        let auth = InternalAuth::new("0123456789abcdef-secret").unwrap();
        let mut client = auth.client();
        let sent = client.call(tonic::Request::new(())).unwrap();
        assert!(auth.verify(&sent).is_ok());
        let other = InternalAuth::generate();
        let status = other.verify(&sent).unwrap_err();
        assert_eq!(status.code(), tonic::Code::Unauthenticated);
        let bare = auth.verify(&tonic::Request::new(())).unwrap_err();
        assert!(
            bare.message().contains(TOKEN_METADATA),
            "{}",
            bare.message()
        );
        assert!(InternalAuth::new("short").is_err());
        assert!(!format!("{auth:?}").contains("secret"));
    }
}
