//! Credential encryption at rest: AES-256-GCM with a key from the environment. The row's
//! tenant and integration ids are the associated data, so a ciphertext copied onto another
//! row does not decrypt.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;

use crate::config::{ConfigError, env_string};

/// Environment variable holding the base64 of 32 random bytes (`openssl rand -base64 32`).
pub const CREDENTIALS_KEY_VAR: &str = "SLUICE_CREDENTIALS_KEY";

const NONCE_LEN: usize = 12;

#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    #[error(
        "credentials could not be decrypted (wrong {CREDENTIALS_KEY_VAR}, or the row was tampered with)"
    )]
    Decrypt,
    #[error("credentials could not be encrypted")]
    Encrypt,
}

#[derive(Clone)]
pub struct CredentialCipher {
    cipher: Aes256Gcm,
}

impl std::fmt::Debug for CredentialCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CredentialCipher(<redacted>)")
    }
}

impl CredentialCipher {
    pub fn from_env() -> Result<Self, ConfigError> {
        let raw = env_string(CREDENTIALS_KEY_VAR).ok_or(ConfigError {
            variable: CREDENTIALS_KEY_VAR,
            problem: "not set: generate one with `openssl rand -base64 32`".into(),
        })?;
        Self::from_base64(&raw)
    }

    pub fn from_base64(encoded: &str) -> Result<Self, ConfigError> {
        let key = base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .map_err(|_| ConfigError {
                variable: CREDENTIALS_KEY_VAR,
                problem: "is not valid base64".into(),
            })?;
        let cipher = Aes256Gcm::new_from_slice(&key).map_err(|_| ConfigError {
            variable: CREDENTIALS_KEY_VAR,
            problem: format!("must decode to 32 bytes, got {}", key.len()),
        })?;
        Ok(CredentialCipher { cipher })
    }

    /// A fresh random key, base64-encoded.
    pub fn generate_key() -> String {
        let key: [u8; 32] = rand::random();
        base64::engine::general_purpose::STANDARD.encode(key)
    }

    pub fn encrypt(&self, plaintext: &[u8], aad: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let nonce_bytes: [u8; NONCE_LEN] = rand::random();
        let nonce = Nonce::from(nonce_bytes);
        let sealed = self
            .cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext,
                    aad,
                },
            )
            .map_err(|_| CryptoError::Encrypt)?;
        let mut out = Vec::with_capacity(NONCE_LEN + sealed.len());
        out.extend_from_slice(&nonce_bytes);
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    pub fn decrypt(&self, sealed: &[u8], aad: &[u8]) -> Result<Vec<u8>, CryptoError> {
        if sealed.len() < NONCE_LEN {
            return Err(CryptoError::Decrypt);
        }
        let (nonce_bytes, ciphertext) = sealed.split_at(NONCE_LEN);
        let nonce_array: [u8; NONCE_LEN] =
            nonce_bytes.try_into().map_err(|_| CryptoError::Decrypt)?;
        self.cipher
            .decrypt(
                &Nonce::from(nonce_array),
                Payload {
                    msg: ciphertext,
                    aad,
                },
            )
            .map_err(|_| CryptoError::Decrypt)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_binds_to_the_row() {
        let cipher = CredentialCipher::from_base64(&CredentialCipher::generate_key()).unwrap();
        let sealed = cipher.encrypt(b"api-token-123", b"row-a").unwrap();
        assert!(!sealed.windows(13).any(|w| w == b"api-token-123"));
        assert_eq!(cipher.decrypt(&sealed, b"row-a").unwrap(), b"api-token-123");
        assert!(cipher.decrypt(&sealed, b"row-b").is_err());
        let other = CredentialCipher::from_base64(&CredentialCipher::generate_key()).unwrap();
        assert!(other.decrypt(&sealed, b"row-a").is_err());
    }

    #[test]
    fn rejects_bad_keys_naming_the_variable() {
        let err = CredentialCipher::from_base64("c2hvcnQ=").unwrap_err();
        assert_eq!(err.variable, CREDENTIALS_KEY_VAR);
        assert!(err.problem.contains("32 bytes"), "{}", err.problem);
        assert!(CredentialCipher::from_base64("%%%").is_err());
    }
}
