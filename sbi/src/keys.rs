//! The L0 device key: an RSA-2048 key generated on first start and kept under the data dir, with
//! a self-signed X.509 certificate, used to sign `deviceInfo`, `digitalId` and capture `data`
//! as RFC 7515 compact JWS (RS256, certificate in `x5c`).
//!
//! SBI L0 means the trust is software on the host: the key lives in an owner-only file, not in a
//! secure element. A MOSIP deployment that wants these signatures accepted registers the
//! published certificate (`device-cert.pem`) as the device's certificate.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use base64::Engine;
use rsa::pkcs1v15::{Signature, SigningKey, VerifyingKey};
use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, LineEnding};
use rsa::signature::{SignatureEncoding, Signer, Verifier};
use rsa::{RsaPrivateKey, RsaPublicKey};
use sha2::Sha256;
use wire::sbi::JwsHeader;
use x509_cert::builder::{Builder, CertificateBuilder, Profile};
use x509_cert::der::{Decode, DecodePem, Encode, EncodePem};
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::SubjectPublicKeyInfoOwned;
use x509_cert::time::Validity;
use x509_cert::Certificate;

/// File name of the private key (PKCS#8 PEM, mode 0600) inside the key folder.
pub const KEY_FILE: &str = "device-key.pem";
/// File name of the published certificate (PEM) inside the key folder.
pub const CERT_FILE: &str = "device-cert.pem";

const KEY_BITS: usize = 2048;
/// Ten years: the key is per installation and rotated by deleting the files.
const VALIDITY: Duration = Duration::from_secs(10 * 365 * 24 * 3600);

/// Why the device key could not be loaded, created or used.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("key folder {0}: {1}")]
    Io(PathBuf, #[source] std::io::Error),
    #[error("{0} is not a PKCS#8 RSA key: {1}")]
    BadKey(PathBuf, String),
    #[error("{0} is not a PEM X.509 certificate: {1}")]
    BadCertificate(PathBuf, String),
    #[error("generating the device key failed: {0}")]
    Generate(String),
}

/// Why a JWS did not verify.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum JwsError {
    #[error("not a compact JWS (three base64url parts)")]
    Malformed,
    #[error("unsupported JWS header: {0}")]
    Header(String),
    #[error("the certificate is not a DER X.509 RSA certificate: {0}")]
    Certificate(String),
    #[error("the signature does not verify")]
    BadSignature,
}

/// The installation's device key and certificate.
pub struct DeviceKey {
    signing: SigningKey<Sha256>,
    cert_der: Vec<u8>,
    cert_pem: String,
    /// The JWS header (with `x5c`) every signature carries, base64url-encoded once.
    header_b64: String,
}

impl std::fmt::Debug for DeviceKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceKey")
            .field("cert_der_len", &self.cert_der.len())
            .finish_non_exhaustive()
    }
}

impl DeviceKey {
    /// Loads the key and certificate from `dir`, creating them (and `dir`) on first use. A
    /// missing certificate next to an existing key is re-issued for the same key.
    pub fn load_or_create(dir: &Path) -> Result<Self, KeyError> {
        fs::create_dir_all(dir).map_err(|e| KeyError::Io(dir.to_path_buf(), e))?;
        let key_path = dir.join(KEY_FILE);
        let cert_path = dir.join(CERT_FILE);
        let private = if key_path.exists() {
            let pem =
                fs::read_to_string(&key_path).map_err(|e| KeyError::Io(key_path.clone(), e))?;
            RsaPrivateKey::from_pkcs8_pem(&pem)
                .map_err(|e| KeyError::BadKey(key_path.clone(), e.to_string()))?
        } else {
            let key = RsaPrivateKey::new(&mut rand::thread_rng(), KEY_BITS)
                .map_err(|e| KeyError::Generate(e.to_string()))?;
            let pem = key
                .to_pkcs8_pem(LineEnding::LF)
                .map_err(|e| KeyError::Generate(e.to_string()))?;
            write_private(&key_path, pem.as_bytes())?;
            // A new key makes any old certificate wrong.
            let _ = fs::remove_file(&cert_path);
            key
        };
        let signing = SigningKey::<Sha256>::new(private);
        let cert = if cert_path.exists() {
            let pem =
                fs::read_to_string(&cert_path).map_err(|e| KeyError::Io(cert_path.clone(), e))?;
            let cert = Certificate::from_pem(pem.as_bytes())
                .map_err(|e| KeyError::BadCertificate(cert_path.clone(), e.to_string()))?;
            if !certifies(&cert, &signing) {
                return Err(KeyError::BadCertificate(
                    cert_path,
                    "it does not certify the device key".into(),
                ));
            }
            cert
        } else {
            let cert = self_signed(&signing)?;
            let pem = cert
                .to_pem(LineEnding::LF)
                .map_err(|e| KeyError::Generate(e.to_string()))?;
            fs::write(&cert_path, pem).map_err(|e| KeyError::Io(cert_path.clone(), e))?;
            cert
        };
        let cert_der = cert
            .to_der()
            .map_err(|e| KeyError::Generate(e.to_string()))?;
        let cert_pem = cert
            .to_pem(LineEnding::LF)
            .map_err(|e| KeyError::Generate(e.to_string()))?;
        let header = JwsHeader {
            alg: "RS256".into(),
            typ: "JWT".into(),
            x5c: vec![base64::engine::general_purpose::STANDARD.encode(&cert_der)],
        };
        let header_json = serde_json::to_vec(&header).expect("a JWS header always serialises");
        Ok(Self {
            signing,
            cert_der,
            cert_pem,
            header_b64: b64url(&header_json),
        })
    }

    /// Signs `payload` as a compact JWS: `b64url(header).b64url(payload).b64url(signature)`.
    pub fn sign(&self, payload: &[u8]) -> String {
        let signing_input = format!("{}.{}", self.header_b64, b64url(payload));
        let signature: Signature = self.signing.sign(signing_input.as_bytes());
        format!("{signing_input}.{}", b64url(&signature.to_bytes()))
    }

    /// The certificate, DER (what `x5c` carries).
    pub fn certificate_der(&self) -> &[u8] {
        &self.cert_der
    }

    /// The certificate, PEM (what `device-cert.pem` holds).
    pub fn certificate_pem(&self) -> &str {
        &self.cert_pem
    }
}

/// Verifies a compact RS256 JWS against `cert_der` (DER X.509) and returns its payload. The
/// certificate in the token's own `x5c` is not trusted: the caller says which one it trusts.
pub fn verify_jws(token: &str, cert_der: &[u8]) -> Result<Vec<u8>, JwsError> {
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(JwsError::Malformed);
    };
    let dec = |t: &str| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(t)
            .map_err(|_| JwsError::Malformed)
    };
    let header: JwsHeader =
        serde_json::from_slice(&dec(h)?).map_err(|e| JwsError::Header(e.to_string()))?;
    if header.alg != "RS256" {
        return Err(JwsError::Header(format!("alg {} (only RS256)", header.alg)));
    }
    let cert = Certificate::from_der(cert_der).map_err(|e| JwsError::Certificate(e.to_string()))?;
    let spki = cert
        .tbs_certificate
        .subject_public_key_info
        .to_der()
        .map_err(|e| JwsError::Certificate(e.to_string()))?;
    let public = RsaPublicKey::from_public_key_der(&spki)
        .map_err(|e| JwsError::Certificate(e.to_string()))?;
    let signature = Signature::try_from(dec(s)?.as_slice()).map_err(|_| JwsError::BadSignature)?;
    VerifyingKey::<Sha256>::new(public)
        .verify(format!("{h}.{p}").as_bytes(), &signature)
        .map_err(|_| JwsError::BadSignature)?;
    dec(p)
}

/// The first `x5c` certificate of a JWS, DER.
pub fn jws_certificate(token: &str) -> Result<Vec<u8>, JwsError> {
    let h = token.split('.').next().ok_or(JwsError::Malformed)?;
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(h)
        .map_err(|_| JwsError::Malformed)?;
    let header: JwsHeader =
        serde_json::from_slice(&raw).map_err(|e| JwsError::Header(e.to_string()))?;
    let first = header
        .x5c
        .first()
        .ok_or_else(|| JwsError::Header("no x5c certificate".into()))?;
    base64::engine::general_purpose::STANDARD
        .decode(first)
        .map_err(|_| JwsError::Header("x5c is not base64".into()))
}

/// Unpadded base64url, the JWS encoding.
pub fn b64url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn self_signed(signing: &SigningKey<Sha256>) -> Result<Certificate, KeyError> {
    let err = |e: &dyn std::fmt::Display| KeyError::Generate(e.to_string());
    let serial = SerialNumber::from(rand::random::<u32>() >> 1);
    let validity = Validity::from_now(VALIDITY).map_err(|e| err(&e))?;
    let subject = Name::from_str("CN=Capture Station SBI device key,O=Capture Station")
        .map_err(|e| err(&e))?;
    let public = signing.as_ref().to_public_key();
    let spki = SubjectPublicKeyInfoOwned::from_key(public).map_err(|e| err(&e))?;
    let builder = CertificateBuilder::new(Profile::Root, serial, validity, subject, spki, signing)
        .map_err(|e| err(&e))?;
    builder.build::<Signature>().map_err(|e| err(&e))
}

/// Whether `cert` holds the public half of `signing`.
fn certifies(cert: &Certificate, signing: &SigningKey<Sha256>) -> bool {
    let Ok(spki) = cert.tbs_certificate.subject_public_key_info.to_der() else {
        return false;
    };
    RsaPublicKey::from_public_key_der(&spki).is_ok_and(|k| k == signing.as_ref().to_public_key())
}

fn write_private(path: &Path, bytes: &[u8]) -> Result<(), KeyError> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .map_err(|e| KeyError::Io(path.to_path_buf(), e))?;
    file.write_all(bytes)
        .map_err(|e| KeyError::Io(path.to_path_buf(), e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_verifies_with_the_published_certificate_and_the_key_persists() {
        let dir = tempfile::tempdir().unwrap();
        let key = DeviceKey::load_or_create(dir.path()).unwrap();
        let token = key.sign(br#"{"a":1}"#);
        assert_eq!(
            verify_jws(&token, key.certificate_der()).unwrap(),
            br#"{"a":1}"#
        );
        assert_eq!(jws_certificate(&token).unwrap(), key.certificate_der());

        // Tampering breaks it.
        let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
        parts[1] = b64url(br#"{"a":2}"#);
        assert_eq!(
            verify_jws(&parts.join("."), key.certificate_der()),
            Err(JwsError::BadSignature)
        );

        // Second start: same key, same certificate.
        let again = DeviceKey::load_or_create(dir.path()).unwrap();
        assert_eq!(again.certificate_der(), key.certificate_der());
        assert!(verify_jws(&again.sign(b"x"), key.certificate_der()).is_ok());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(dir.path().join(KEY_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o077, 0, "the private key is owner-only");
        }
    }
}
