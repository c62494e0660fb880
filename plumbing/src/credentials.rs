//! Source credentials as stored (encrypted) in `integrations.credentials_ciphertext`.
//! Write-only: nothing here is ever returned by an API or logged (Debug is redacted).

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::crypto::{CredentialCipher, CryptoError};

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SourceCredentials {
    /// Jira Cloud: account email + API token (HTTP basic auth).
    Basic { email: String, api_token: String },
    /// OAuth 2.0 or personal access token, sent as `Authorization: Bearer`.
    Bearer { token: String },
    /// GitHub tokens, used as a pool.
    Github { tokens: Vec<String> },
}

impl std::fmt::Debug for SourceCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SourceCredentials::{}(<redacted>)", self.kind())
    }
}

impl SourceCredentials {
    pub fn kind(&self) -> &'static str {
        match self {
            SourceCredentials::Basic { .. } => "basic",
            SourceCredentials::Bearer { .. } => "bearer",
            SourceCredentials::Github { .. } => "github",
        }
    }

    /// Encrypts for the row `(tenant_id, integration_id)`.
    pub fn seal(
        &self,
        cipher: &CredentialCipher,
        tenant_id: Uuid,
        integration_id: Uuid,
    ) -> Result<Vec<u8>, CryptoError> {
        let plaintext = serde_json::to_vec(self).map_err(|_| CryptoError::Encrypt)?;
        cipher.encrypt(&plaintext, &associated_data(tenant_id, integration_id))
    }

    pub fn open(
        sealed: &[u8],
        cipher: &CredentialCipher,
        tenant_id: Uuid,
        integration_id: Uuid,
    ) -> Result<SourceCredentials, CryptoError> {
        let plaintext = cipher.decrypt(sealed, &associated_data(tenant_id, integration_id))?;
        serde_json::from_slice(&plaintext).map_err(|_| CryptoError::Decrypt)
    }
}

fn associated_data(tenant_id: Uuid, integration_id: Uuid) -> Vec<u8> {
    format!("sluice.integration:{tenant_id}:{integration_id}").into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_credentials_open_only_for_their_row_and_never_debug_print() {
        let cipher = CredentialCipher::from_base64(&CredentialCipher::generate_key()).unwrap();
        let creds = SourceCredentials::Basic {
            email: "a@b.c".into(),
            api_token: "tok-secret".into(),
        };
        let (t, i) = (Uuid::new_v4(), Uuid::new_v4());
        let sealed = creds.seal(&cipher, t, i).unwrap();
        assert_eq!(
            SourceCredentials::open(&sealed, &cipher, t, i).unwrap(),
            creds
        );
        assert!(SourceCredentials::open(&sealed, &cipher, t, Uuid::new_v4()).is_err());
        assert!(!format!("{creds:?}").contains("tok-secret"));
    }
}
