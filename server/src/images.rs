//! Cheap image checks on enrollment uploads: what container the bytes are and how big the image
//! is, read from the header without decoding pixels (`fingerprint-formats` probes PNG, JPEG
//! and WSQ headers with bounded reads).

use fingerprint_formats::{ImageError, ImageFormat};
use wire::spid::UserTransaction;
use wire::ErrorCode;

use crate::error::ApiError;

/// A biometric of a request whose content decoded and whose header matches what it declared.
pub(crate) struct CheckedImage {
    pub(crate) index: u16,
    pub(crate) format: StoredFormat,
    pub(crate) width: u32,
    pub(crate) height: u32,
    pub(crate) resolution: Option<u32>,
    pub(crate) bytes: Vec<u8>,
}

/// Every check of an enroll or verify body short of decoding pixels: structure, keys, indexes
/// and base64 (`wire::validate`), then each image's container, size and declared dimensions.
pub(crate) fn check_transaction(
    tx: &UserTransaction,
    limits: &wire::validate::Limits,
    max_pixels: u64,
) -> Result<Vec<CheckedImage>, ApiError> {
    let decoded = wire::validate::validate_transaction(tx, limits)?;
    let mut checked = Vec::with_capacity(decoded.len());
    for (bio, dec) in tx.biometrics.iter().zip(decoded) {
        let (format, width, height) =
            probe(&dec.bytes, max_pixels).map_err(|e| ApiError::new(e.code, format!("biometrics[{}]: {}", dec.position, e.message)))?;
        if (width, height) != (bio.width, bio.height) {
            return Err(ApiError::new(
                ErrorCode::ImageDimensions,
                format!("biometrics[{}] declares {}x{} but the image is {width}x{height}", dec.position, bio.width, bio.height),
            ));
        }
        checked.push(CheckedImage { index: bio.index.code(), format, width, height, resolution: bio.resolution, bytes: dec.bytes });
    }
    Ok(checked)
}

/// Image containers the server stores.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoredFormat {
    Png,
    Jpeg,
    /// FBI WSQ, the usual container for 500 dpi fingerprints.
    Wsq,
}

impl StoredFormat {
    /// Database / API spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            StoredFormat::Png => "PNG",
            StoredFormat::Jpeg => "JPEG",
            StoredFormat::Wsq => "WSQ",
        }
    }
}

/// Identifies the container and reads the dimensions from the header.
pub fn probe(bytes: &[u8], max_pixels: u64) -> Result<(StoredFormat, u32, u32), ApiError> {
    let (format, width, height) = fingerprint_formats::probe_dimensions(bytes).map_err(|e| match e {
        ImageError::TooLarge { .. } => ApiError::new(ErrorCode::ImageTooLarge, format!("image is too large: {e}")),
        ImageError::UnknownFormat | ImageError::Empty => ApiError::new(ErrorCode::ImageFormat, "content is not a PNG, JPEG or WSQ image"),
        other => ApiError::new(ErrorCode::ImageFormat, format!("unreadable image header: {other}")),
    })?;
    let stored = match format {
        ImageFormat::Png => StoredFormat::Png,
        ImageFormat::Jpeg => StoredFormat::Jpeg,
        ImageFormat::Wsq => StoredFormat::Wsq,
        other => return Err(ApiError::new(ErrorCode::ImageFormat, format!("{other} images are not accepted; send PNG, JPEG or WSQ"))),
    };
    if !has_end_marker(stored, bytes) {
        return Err(ApiError::new(
            ErrorCode::ImageFormat,
            format!("the {} image is truncated (its end marker is missing)", stored.as_str()),
        ));
    }
    if width as u64 * height as u64 > max_pixels {
        return Err(ApiError::new(
            ErrorCode::ImageTooLarge,
            format!("image is {width}x{height}; at most {max_pixels} pixels are accepted"),
        ));
    }
    Ok((stored, width, height))
}

/// Whether the container ends the way a complete file does: a PNG with its IEND chunk, a JPEG
/// with EOI (FF D9), a WSQ with EOI (FF A1). This catches the usual damage — a transfer cut
/// short — without decoding pixels on the enrollment hot path.
fn has_end_marker(format: StoredFormat, bytes: &[u8]) -> bool {
    const PNG_IEND: [u8; 12] = [0, 0, 0, 0, b'I', b'E', b'N', b'D', 0xAE, 0x42, 0x60, 0x82];
    // Some encoders pad after the end marker; tolerate a little zero padding.
    let trimmed = {
        let mut end = bytes.len();
        while end > 0 && bytes[end - 1] == 0 && bytes.len() - end < 16 {
            end -= 1;
        }
        &bytes[..end]
    };
    match format {
        StoredFormat::Png => bytes.ends_with(&PNG_IEND),
        StoredFormat::Jpeg => trimmed.ends_with(&[0xFF, 0xD9]),
        StoredFormat::Wsq => trimmed.ends_with(&[0xFF, 0xA1]),
    }
}
