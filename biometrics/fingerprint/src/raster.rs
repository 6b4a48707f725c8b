//! Grey-scale image container and loading.
//!
//! The engine works on 8-bit grey images at 500 dpi. This module validates
//! dimensions up front so that later stages can index without bounds surprises,
//! and loads files with the `image` crate (FVC's 8-bit TIFFs, PNG, JPEG, BMP).

use crate::error::{FpError, Result};
use std::path::Path;

/// Smallest accepted side: below this no block-wise orientation estimate fits.
pub const MIN_SIDE: u32 = 64;
/// Largest accepted side: a 500 dpi single finger never needs more, and this caps
/// memory (about 16 bytes per pixel in the pipeline) for hostile input.
pub const MAX_SIDE: u32 = 2048;

/// An 8-bit grey image, row-major, dark ridges on a light background.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrayImage {
    width: u32,
    height: u32,
    pixels: Vec<u8>,
}

impl GrayImage {
    /// Wraps a row-major pixel buffer after checking its size and dimensions, so
    /// that every image reaching the pipeline is processable.
    pub fn new(width: u32, height: u32, pixels: Vec<u8>) -> Result<Self> {
        if width < MIN_SIDE || height < MIN_SIDE {
            return Err(FpError::ImageTooSmall {
                width,
                height,
                min: MIN_SIDE,
            });
        }
        if width > MAX_SIDE || height > MAX_SIDE {
            return Err(FpError::ImageTooLarge {
                width,
                height,
                max: MAX_SIDE,
            });
        }
        let expected = width as usize * height as usize;
        if pixels.len() != expected {
            return Err(FpError::BufferSize {
                got: pixels.len(),
                expected,
            });
        }
        Ok(Self {
            width,
            height,
            pixels,
        })
    }

    /// Loads any format the `image` crate was built with and converts it to 8-bit
    /// grey (luma), because scanners and files differ but the engine needs one form.
    pub fn load(path: &Path) -> Result<Self> {
        let img = image::open(path).map_err(|source| FpError::ImageLoad {
            path: path.to_path_buf(),
            source,
        })?;
        let luma = img.to_luma8();
        let (w, h) = luma.dimensions();
        Self::new(w, h, luma.into_raw())
    }

    /// Width in pixels.
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Height in pixels.
    pub fn height(&self) -> u32 {
        self.height
    }

    /// Row-major pixels, `width * height` bytes.
    pub fn pixels(&self) -> &[u8] {
        &self.pixels
    }

    /// Pixel at (x, y); the caller guarantees the coordinates are inside.
    #[inline]
    pub fn get(&self, x: u32, y: u32) -> u8 {
        self.pixels[(y * self.width + x) as usize]
    }
}
