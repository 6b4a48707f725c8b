//! Fingerprint image and template formats, in pure Rust and without I/O.
//!
//! The capture station receives fingerprints as image files from sensors and
//! uploads, exchanges them as WSQ with other biometric systems, and stores or
//! transmits minutiae as standard templates. This crate turns byte slices into
//! typed values and back; callers own all file and network I/O.
//!
//! * [`raster`]: [`GrayImage`] plus loading of PNG, TIFF, BMP, JPEG, PGM, WSQ
//!   and raw grey bytes, cheap header probing ([`probe_dimensions`]) and
//!   resampling to 500 dpi.
//! * [`wsq`]: FBI WSQ 3.1 decoding (bit-exact with NIST NBIS on the reference
//!   vectors) and encoding.
//! * [`template`]: ISO/IEC 19794-2:2005 and 2011 and ANSI INCITS 378-2004 and
//!   2009 minutiae templates, read and written through one [`Template`] model.
//!
//! All parsers treat input as hostile: sizes are checked against
//! [`MAX_SIDE`] and [`MAX_PIXELS`] before allocation, and malformed data
//! produces typed errors instead of panics.

#![warn(missing_docs)]

mod cursor;
pub mod raster;
pub mod template;
pub mod wsq;

pub use raster::{load, probe_dimensions, GrayImage, ImageError, ImageFormat};
pub use template::{read_template, write_template, Template, TemplateError, TemplateFormat};

/// Largest accepted image width or height. Rolled ten-print slaps at 1000
/// ppi stay below it; anything larger in a header is treated as forged.
pub const MAX_SIDE: u32 = 8192;

/// Largest accepted pixel count (4096 × 4096, 16 MiB of 8-bit pixels): caps
/// the memory a single decode may use, whatever the header claims.
pub const MAX_PIXELS: u64 = 4096 * 4096;
