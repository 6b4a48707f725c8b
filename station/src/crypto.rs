//! Sealing queue data at rest with XChaCha20-Poly1305.
//!
//! A 192-bit random nonce per blob makes nonce reuse a non-issue even for millions of images
//! under one key; the associated data binds each blob to its enrollment and position.

use chacha20poly1305::aead::{Aead, AeadInPlace, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore;
use zeroize::Zeroizing;

const NONCE_LEN: usize = 24;

/// The station's data key (256 bits), wiped from memory on drop.
#[derive(Clone)]
pub struct DataKey(Zeroizing<[u8; 32]>);

impl DataKey {
    /// Wraps raw key bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(Zeroizing::new(bytes))
    }

    /// A fresh random key.
    pub fn generate() -> Self {
        let mut key = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut key);
        Self::from_bytes(key)
    }

    /// The raw bytes, for storing in the secret store.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DataKey(..)")
    }
}

/// Sealed data could not be opened: wrong key, tampering, or a truncated blob.
#[derive(Debug, thiserror::Error)]
#[error("sealed data cannot be opened (wrong station key, or the data was altered)")]
pub struct OpenError;

/// Encrypts `plaintext`; the result is `nonce || ciphertext+tag`.
pub fn seal(key: &DataKey, aad: &[u8], plaintext: &[u8]) -> Vec<u8> {
    let cipher = XChaCha20Poly1305::new(key.as_bytes().into());
    let mut nonce = [0u8; NONCE_LEN];
    rand::rngs::OsRng.fill_bytes(&mut nonce);
    let ciphertext = cipher
        .encrypt(XNonce::from_slice(&nonce), Payload { msg: plaintext, aad })
        .expect("XChaCha20-Poly1305 encryption cannot fail for in-memory buffers");
    let mut out = Vec::with_capacity(NONCE_LEN + ciphertext.len());
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&ciphertext);
    out
}

/// Decrypts a blob made by [`seal`] with the same key and associated data.
pub fn open(key: &DataKey, aad: &[u8], sealed: &[u8]) -> Result<Vec<u8>, OpenError> {
    if sealed.len() < NONCE_LEN + 16 {
        return Err(OpenError);
    }
    let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
    XChaCha20Poly1305::new(key.as_bytes().into())
        .decrypt(XNonce::from_slice(nonce), Payload { msg: ciphertext, aad })
        .map_err(|_| OpenError)
}

/// [`open`] for a blob the caller owns: decrypts in place and returns the plaintext as a view
/// into the same buffer, so opening a 400 KB request body allocates and copies nothing.
pub fn open_owned(key: &DataKey, aad: &[u8], mut sealed: Vec<u8>) -> Result<bytes::Bytes, OpenError> {
    const TAG_LEN: usize = 16;
    if sealed.len() < NONCE_LEN + TAG_LEN {
        return Err(OpenError);
    }
    let end = sealed.len() - TAG_LEN;
    let (nonce, rest) = sealed.split_at_mut(NONCE_LEN);
    let (ciphertext, tag) = rest.split_at_mut(end - NONCE_LEN);
    XChaCha20Poly1305::new(key.as_bytes().into())
        .decrypt_in_place_detached(XNonce::from_slice(nonce), aad, ciphertext, chacha20poly1305::Tag::from_slice(tag))
        .map_err(|_| OpenError)?;
    Ok(bytes::Bytes::from(sealed).slice(NONCE_LEN..end))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_tamper_detection() {
        let key = DataKey::generate();
        let sealed = seal(&key, b"e1/6", b"fingerprint bytes");
        assert_eq!(open(&key, b"e1/6", &sealed).unwrap(), b"fingerprint bytes");
        assert!(open(&key, b"e1/7", &sealed).is_err(), "moved to another finger");
        assert!(open(&DataKey::generate(), b"e1/6", &sealed).is_err(), "other key");
        let mut flipped = sealed.clone();
        *flipped.last_mut().unwrap() ^= 1;
        assert!(open(&key, b"e1/6", &flipped).is_err(), "tampered");
        assert!(open(&key, b"e1/6", &sealed[..10]).is_err(), "truncated");
        assert!(!sealed.windows(11).any(|w| w == b"fingerprint"), "plaintext must not appear");
        assert_eq!(&open_owned(&key, b"e1/6", sealed.clone()).unwrap()[..], b"fingerprint bytes");
        assert!(open_owned(&key, b"e1/7", sealed.clone()).is_err(), "moved (in place)");
        assert!(open_owned(&key, b"e1/6", flipped).is_err(), "tampered (in place)");
        assert!(open_owned(&key, b"e1/6", sealed[..20].to_vec()).is_err(), "truncated (in place)");
    }
}
