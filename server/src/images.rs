//! Cheap image checks on enrollment uploads: what container the bytes are and how big the image
//! is, read from the header without decoding pixels.

use std::io::Cursor;

use wire::ErrorCode;

use crate::error::ApiError;

/// Image containers the server stores.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoredFormat {
    Png,
    Jpeg,
}

impl StoredFormat {
    /// Database / API spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            StoredFormat::Png => "PNG",
            StoredFormat::Jpeg => "JPEG",
        }
    }
}

/// Identifies the container and reads the dimensions from the header.
pub fn probe(bytes: &[u8], max_pixels: u64) -> Result<(StoredFormat, u32, u32), ApiError> {
    let format = match image::guess_format(bytes) {
        Ok(image::ImageFormat::Png) => StoredFormat::Png,
        Ok(image::ImageFormat::Jpeg) => StoredFormat::Jpeg,
        Ok(other) => {
            return Err(ApiError::new(ErrorCode::ImageFormat, format!("{other:?} images are not accepted; send PNG or JPEG")))
        }
        Err(_) => return Err(ApiError::new(ErrorCode::ImageFormat, "content is not a PNG or JPEG image")),
    };
    let image_format = match format {
        StoredFormat::Png => image::ImageFormat::Png,
        StoredFormat::Jpeg => image::ImageFormat::Jpeg,
    };
    let (width, height) = image::ImageReader::with_format(Cursor::new(bytes), image_format)
        .into_dimensions()
        .map_err(|e| ApiError::new(ErrorCode::ImageFormat, format!("unreadable {} header: {e}", format.as_str())))?;
    if width == 0 || height == 0 {
        return Err(ApiError::new(ErrorCode::ImageFormat, "image has zero width or height"));
    }
    if width as u64 * height as u64 > max_pixels {
        return Err(ApiError::new(
            ErrorCode::ImageTooLarge,
            format!("image is {width}x{height}; at most {max_pixels} pixels are accepted"),
        ));
    }
    Ok((format, width, height))
}
