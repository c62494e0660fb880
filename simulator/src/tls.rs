//! HTTPS for the simulator, as a site behind a private (corporate) CA looks to Sluice: a CA
//! and a leaf certificate for `127.0.0.1` and `localhost` signed by it, generated when asked
//! (nothing downloaded, nothing committed that could expire). Clients trust the CA, never the
//! leaf itself (rustls rejects a CA certificate used as a server certificate).

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::TcpListener;

/// A private CA and the server certificate it signed.
#[derive(Clone, Debug)]
pub struct PrivateCa {
    /// The CA certificate, PEM: what a client is told to trust.
    pub ca_pem: String,
    /// The server's certificate, PEM.
    pub leaf_pem: String,
    /// The server's private key, PEM.
    pub key_pem: String,
}

impl PrivateCa {
    /// A new CA and a server certificate for `127.0.0.1` and `localhost`.
    pub fn generate() -> anyhow::Result<PrivateCa> {
        Self::generate_for(&["127.0.0.1", "localhost"])
    }

    /// A new CA and a server certificate for `names` (host names or IP addresses).
    pub fn generate_for(names: &[&str]) -> anyhow::Result<PrivateCa> {
        let mut ca = CertificateParams::new(Vec::<String>::new())?;
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        // A name of its own: two CAs of one name would read as one CA with a bad signature.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        ca.distinguished_name.push(
            DnType::CommonName,
            format!("Sluice simulator private CA {nanos:x}"),
        );
        ca.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca_key = KeyPair::generate()?;
        let ca_cert = ca.self_signed(&ca_key)?;

        let mut leaf =
            CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())?;
        leaf.distinguished_name
            .push(DnType::CommonName, "Sluice simulator");
        leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        leaf.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        let leaf_key = KeyPair::generate()?;
        let issuer = Issuer::from_params(&ca, &ca_key);
        let leaf_cert = leaf.signed_by(&leaf_key, &issuer)?;
        Ok(PrivateCa {
            ca_pem: ca_cert.pem(),
            leaf_pem: leaf_cert.pem(),
            key_pem: leaf_key.serialize_pem(),
        })
    }

    /// The server side: the leaf and its CA as the chain, HTTP/2 and HTTP/1.1 offered.
    pub fn server_config(&self) -> anyhow::Result<Arc<rustls::ServerConfig>> {
        let chain: Vec<CertificateDer<'static>> =
            [self.leaf_pem.as_bytes(), self.ca_pem.as_bytes()]
                .into_iter()
                .map(CertificateDer::from_pem_slice)
                .collect::<Result<_, _>>()?;
        let key = PrivateKeyDer::from_pem_slice(self.key_pem.as_bytes())?;
        let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(chain, key)?;
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    }
}

/// Serves `app` over TLS on `listener` until `stopped` completes. A client that does not
/// trust the CA fails its handshake; the server goes on.
pub(crate) async fn serve(
    listener: TcpListener,
    app: Router,
    config: Arc<rustls::ServerConfig>,
    stopped: impl Future<Output = ()>,
) {
    let acceptor = tokio_rustls::TlsAcceptor::from(config);
    tokio::pin!(stopped);
    loop {
        let (tcp, peer) = tokio::select! {
            _ = &mut stopped => return,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    tracing::warn!(%error, "simulator accept failed");
                    continue;
                }
            },
        };
        let (acceptor, app) = (acceptor.clone(), app.clone());
        tokio::spawn(async move {
            let tls = match acceptor.accept(tcp).await {
                Ok(tls) => tls,
                Err(error) => {
                    tracing::debug!(%peer, %error, "TLS handshake refused");
                    return;
                }
            };
            let _ = auto::Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(tls), TowerToHyperService::new(app))
                .await;
        });
    }
}
