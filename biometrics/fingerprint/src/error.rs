//! Typed errors for every fallible operation of the engine.

use std::path::PathBuf;

/// Everything that can go wrong in the engine.
///
/// Callers (station autocapture, server dedup) need to tell bad input apart from
/// I/O problems and corrupt templates, so each cause is its own variant instead of
/// a string.
#[derive(Debug, thiserror::Error)]
pub enum FpError {
    /// The image is smaller than the smallest area that can hold a usable print.
    #[error("image {width}x{height} is too small (minimum {min}x{min})")]
    ImageTooSmall {
        /// Width in pixels.
        width: u32,
        /// Height in pixels.
        height: u32,
        /// Minimum side length accepted.
        min: u32,
    },
    /// The image is larger than any single-finger capture at 500 dpi; refusing it
    /// bounds memory and time for hostile input.
    #[error("image {width}x{height} is too large (maximum {max}x{max})")]
    ImageTooLarge {
        /// Width in pixels.
        width: u32,
        /// Height in pixels.
        height: u32,
        /// Maximum side length accepted.
        max: u32,
    },
    /// The pixel buffer length does not equal width × height.
    #[error("pixel buffer has {got} bytes, expected {expected}")]
    BufferSize {
        /// Bytes given.
        got: usize,
        /// Bytes required.
        expected: usize,
    },
    /// No fingerprint-like area (ridges with contrast) was found in the image.
    #[error("no fingerprint area found in the image")]
    NoForeground,
    /// The image file could not be read or decoded.
    #[error("cannot load image {path}: {source}")]
    ImageLoad {
        /// The file.
        path: PathBuf,
        /// Decoder error.
        #[source]
        source: image::ImageError,
    },
    /// A template byte string is not a valid template of a supported version.
    #[error("invalid template: {0}")]
    InvalidTemplate(String),
    /// An FVC-style evaluation directory does not hold the expected files.
    #[error("invalid evaluation set: {0}")]
    InvalidDataset(String),
    /// File system error.
    #[error("I/O error on {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
}

/// Result alias used throughout the crate.
pub type Result<T> = std::result::Result<T, FpError>;
