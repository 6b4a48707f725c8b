//! Structural validation of an enrollment/verify body: everything that can be checked without
//! decoding an image. The station runs it before queueing (so an operator hears about a mistake
//! at the desk, not hours later at sync) and the server runs it before storing anything.

use base64::Engine as _;

use crate::spid::UserTransaction;
use crate::ErrorCode;

/// A rule the request broke, with the stable code and a message naming the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Violation {
    pub code: ErrorCode,
    pub message: String,
}

impl Violation {
    fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self { code, message: message.into() }
    }
}

/// Size limits that keep one request from exhausting memory or disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest decoded image file, bytes.
    pub max_image_bytes: usize,
    /// Most biometrics in one transaction.
    pub max_biometrics: usize,
    /// Longest key/id string.
    pub max_key_len: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self { max_image_bytes: 8 * 1024 * 1024, max_biometrics: 64, max_key_len: 128 }
    }
}

/// A biometric whose base64 content has been decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodedBiometric {
    /// Position in `biometrics[]`, for error messages.
    pub position: usize,
    pub bytes: Vec<u8>,
}

/// Checks `tx` and returns every biometric's decoded bytes, in order.
///
/// Stops at the first violation: the error body names exactly one problem, which is what an
/// operator can act on.
pub fn validate_transaction(tx: &UserTransaction, limits: &Limits) -> Result<Vec<DecodedBiometric>, Violation> {
    check_key("userId", &tx.user_id, limits)?;
    check_key("operatorId", &tx.operator_id, limits)?;
    if tx.biometrics.is_empty() && tx.missing_biometrics.is_empty() {
        return Err(Violation::new(ErrorCode::NoBiometrics, "at least one biometric or missing biometric is required"));
    }
    if tx.biometrics.len() > limits.max_biometrics {
        return Err(Violation::new(
            ErrorCode::InvalidField,
            format!("{} biometrics sent; at most {} are accepted", tx.biometrics.len(), limits.max_biometrics),
        ));
    }
    let mut seen = std::collections::HashSet::new();
    for (i, b) in tx.biometrics.iter().enumerate() {
        if !seen.insert(b.index) {
            return Err(Violation::new(
                ErrorCode::DuplicateIndex,
                format!("biometrics[{i}].index {} appears more than once", b.index.code()),
            ));
        }
    }
    for (i, m) in tx.missing_biometrics.iter().enumerate() {
        if !seen.insert(m.index) {
            return Err(Violation::new(
                ErrorCode::DuplicateIndex,
                format!("missingBiometrics[{i}].index {} is also captured or listed twice", m.index.code()),
            ));
        }
    }
    let mut decoded = Vec::with_capacity(tx.biometrics.len());
    for (i, b) in tx.biometrics.iter().enumerate() {
        if b.width == 0 || b.height == 0 {
            return Err(Violation::new(
                ErrorCode::InvalidField,
                format!("biometrics[{i}] width and height must be positive (got {}x{})", b.width, b.height),
            ));
        }
        if b.resolution == Some(0) {
            return Err(Violation::new(ErrorCode::InvalidField, format!("biometrics[{i}].resolution must be positive")));
        }
        if b.content.is_empty() {
            return Err(Violation::new(ErrorCode::MissingField, format!("biometrics[{i}].content is empty")));
        }
        // 4 base64 chars carry 3 bytes: reject oversized content before decoding it.
        if b.content.len() / 4 * 3 > limits.max_image_bytes + 3 {
            return Err(Violation::new(
                ErrorCode::ImageTooLarge,
                format!("biometrics[{i}].content is larger than {} bytes", limits.max_image_bytes),
            ));
        }
        let bytes = decode_base64(&b.content)
            .map_err(|e| Violation::new(ErrorCode::Base64, format!("biometrics[{i}].content is not valid base64: {e}")))?;
        if bytes.len() > limits.max_image_bytes {
            return Err(Violation::new(
                ErrorCode::ImageTooLarge,
                format!("biometrics[{i}].content is {} bytes; the limit is {}", bytes.len(), limits.max_image_bytes),
            ));
        }
        decoded.push(DecodedBiometric { position: i, bytes });
    }
    Ok(decoded)
}

fn check_key(field: &str, value: &str, limits: &Limits) -> Result<(), Violation> {
    if value.trim().is_empty() {
        return Err(Violation::new(ErrorCode::MissingField, format!("{field} is required")));
    }
    if value.len() > limits.max_key_len {
        return Err(Violation::new(ErrorCode::InvalidField, format!("{field} is longer than {} characters", limits.max_key_len)));
    }
    if value.chars().any(|c| c.is_control() || c == '/') {
        return Err(Violation::new(ErrorCode::InvalidField, format!("{field} contains control characters or '/'")));
    }
    Ok(())
}

/// Decodes standard-alphabet base64, tolerating missing padding and line breaks (MIME-style
/// clients wrap at 76 columns).
pub fn decode_base64(text: &str) -> Result<Vec<u8>, base64::DecodeError> {
    let engine = base64::engine::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new().with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
    );
    if text.contains(['\n', '\r']) {
        let joined: String = text.chars().filter(|c| *c != '\n' && *c != '\r').collect();
        engine.decode(joined)
    } else {
        engine.decode(text)
    }
}

/// Encodes bytes as standard padded base64, the form every SPID client sends.
pub fn encode_base64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spid::{Biometric, MissingBiometric, MissingType};
    use crate::BiometricIndex;

    fn tx() -> UserTransaction {
        UserTransaction {
            biometrics: vec![Biometric {
                index: BiometricIndex::RightIndex,
                content: encode_base64(b"\x89PNG not really"),
                width: 10,
                height: 10,
                resolution: Some(500),
            }],
            missing_biometrics: vec![],
            user_id: "52998224725".into(),
            operator_id: "op".into(),
            timestamp: None,
            biographics: vec![],
        }
    }

    #[test]
    fn accepts_a_well_formed_transaction() {
        let decoded = validate_transaction(&tx(), &Limits::default()).unwrap();
        assert_eq!(decoded[0].bytes, b"\x89PNG not really");
    }

    #[test]
    fn each_rule_has_its_code() {
        let limits = Limits::default();
        let mut t = tx();
        t.user_id = " ".into();
        assert_eq!(validate_transaction(&t, &limits).unwrap_err().code, ErrorCode::MissingField);

        let mut t = tx();
        t.biometrics.push(t.biometrics[0].clone());
        assert_eq!(validate_transaction(&t, &limits).unwrap_err().code, ErrorCode::DuplicateIndex);

        let mut t = tx();
        t.missing_biometrics.push(MissingBiometric { index: BiometricIndex::RightIndex, kind: MissingType::Bandaged, reason: String::new() });
        assert_eq!(validate_transaction(&t, &limits).unwrap_err().code, ErrorCode::DuplicateIndex);

        let mut t = tx();
        t.biometrics[0].content = "not base64!!".into();
        assert_eq!(validate_transaction(&t, &limits).unwrap_err().code, ErrorCode::Base64);

        let mut t = tx();
        t.biometrics[0].width = 0;
        assert_eq!(validate_transaction(&t, &limits).unwrap_err().code, ErrorCode::InvalidField);

        let mut t = tx();
        t.biometrics.clear();
        assert_eq!(validate_transaction(&t, &limits).unwrap_err().code, ErrorCode::NoBiometrics);

        let small = Limits { max_image_bytes: 4, ..Limits::default() };
        assert_eq!(validate_transaction(&tx(), &small).unwrap_err().code, ErrorCode::ImageTooLarge);
    }

    #[test]
    fn base64_tolerates_line_breaks_and_missing_padding() {
        assert_eq!(decode_base64("aGVsbG8").unwrap(), b"hello");
        assert_eq!(decode_base64("aGVs\nbG8=").unwrap(), b"hello");
    }
}
