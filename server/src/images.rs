//! Cheap image checks on enrollment uploads: what container the bytes are and how big the image
//! is, read from the header without decoding pixels (`fingerprint-formats` probes PNG, JPEG
//! and WSQ headers with bounded reads).

use fingerprint_formats::{ImageError, ImageFormat};
use wire::ErrorCode;

use crate::error::ApiError;

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
