//! Connector secrets at rest: XChaCha20-Poly1305 with the server's 32-byte key. The stored
//! form is base64(nonce ‖ ciphertext); the plaintext never leaves the server.

use base64::{engine::general_purpose::STANDARD, Engine};
use chacha20poly1305::{
    aead::{Aead, AeadCore, KeyInit, OsRng},
    XChaCha20Poly1305, XNonce,
};

/// The key that seals connector secrets (from settings, or the key file made at first start).
#[derive(Clone)]
pub struct SecretKey([u8; 32]);

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(redacted)")
    }
}

impl SecretKey {
    pub fn from_base64(text: &str) -> Result<Self, String> {
        let bytes = STANDARD
            .decode(text.trim())
            .map_err(|_| "the secret key is not base64".to_string())?;
        let key: [u8; 32] = bytes
            .try_into()
            .map_err(|_| "the secret key must be 32 bytes (44 base64 characters)".to_string())?;
        Ok(Self(key))
    }

    pub fn generate() -> Self {
        Self(XChaCha20Poly1305::generate_key(&mut OsRng).into())
    }

    pub fn to_base64(&self) -> String {
        STANDARD.encode(self.0)
    }

    pub fn seal(&self, plaintext: &str) -> String {
        let cipher = XChaCha20Poly1305::new(&self.0.into());
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let mut out = nonce.to_vec();
        // Encryption with a fresh nonce and an in-memory buffer cannot fail.
        out.extend(
            cipher
                .encrypt(&nonce, plaintext.as_bytes())
                .unwrap_or_default(),
        );
        STANDARD.encode(out)
    }

    /// `None` when the text was not sealed with this key (or was altered).
    pub fn open(&self, sealed: &str) -> Option<String> {
        let bytes = STANDARD.decode(sealed).ok()?;
        if bytes.len() < 24 {
            return None;
        }
        let (nonce, ct) = bytes.split_at(24);
        let cipher = XChaCha20Poly1305::new(&self.0.into());
        let plain = cipher.decrypt(XNonce::from_slice(nonce), ct).ok()?;
        String::from_utf8(plain).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_secret_opens_only_with_its_key() {
        let key = SecretKey::generate();
        let sealed = key.seal("airflow password");
        assert!(!sealed.contains("airflow"));
        assert_eq!(key.open(&sealed).as_deref(), Some("airflow password"));
        assert_eq!(SecretKey::generate().open(&sealed), None);
        assert_ne!(
            key.seal("same"),
            key.seal("same"),
            "every seal uses a fresh nonce"
        );
        let again = SecretKey::from_base64(&key.to_base64()).unwrap();
        assert_eq!(again.open(&sealed).as_deref(), Some("airflow password"));
        assert!(format!("{key:?}").contains("redacted"));
    }
}
