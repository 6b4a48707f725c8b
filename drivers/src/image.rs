//! Pixel buffers handed out by devices. Plain owned buffers with their geometry, so that
//! drivers do not depend on an imaging library and callers can convert as they like.

use std::time::Duration;

/// An 8-bit greyscale image, row-major, `width * height` bytes, 0 = black.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrayImage {
    pub width: u32,
    pub height: u32,
    /// Resolution in pixels per inch (fingerprint scanners: usually 500).
    pub dpi: u32,
    pub pixels: Vec<u8>,
}

impl GrayImage {
    /// Wraps `pixels`, checking that the buffer size matches the geometry.
    pub fn new(width: u32, height: u32, dpi: u32, pixels: Vec<u8>) -> Option<Self> {
        (pixels.len() as u64 == width as u64 * height as u64).then_some(Self { width, height, dpi, pixels })
    }
}

/// An 8-bit RGB frame from a camera, row-major, `width * height * 3` bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RgbFrame {
    pub width: u32,
    pub height: u32,
    pub rgb: Vec<u8>,
    /// Monotonic frame counter since `start`.
    pub sequence: u64,
    /// Time since the stream started when the frame was taken.
    pub timestamp: Duration,
}
