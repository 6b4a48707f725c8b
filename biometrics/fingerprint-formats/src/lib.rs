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
//!
//! ```
//! use fingerprint_formats::{raster::GrayImage, template, wsq};
//!
//! // Encode a (synthetic) 500 dpi image as WSQ and read it back.
//! let pixels = (0..200 * 160u32).map(|i| ((i * 7) % 251) as u8).collect();
//! let img = GrayImage::new(200, 160, 500, pixels)?;
//! let bytes = wsq::encode(&img, &wsq::EncodeOptions::default())?;
//! assert_eq!(fingerprint_formats::probe_dimensions(&bytes)?, (fingerprint_formats::ImageFormat::Wsq, 200, 160));
//! let back = wsq::decode(&bytes)?;
//! assert_eq!((back.image.width(), back.declared_ppi), (200, Some(500)));
//!
//! // Build a minutiae template and store it as ISO 19794-2:2005 and ANSI 378-2009.
//! let mut view = template::FingerView::new(2, 200, 160, 197);
//! view.minutiae.push(template::Minutia { kind: template::MinutiaKind::Ending, x: 50, y: 60, angle: 64, quality: 80 });
//! let t = template::Template {
//!     format: template::TemplateFormat::Iso19794_2_2005,
//!     vendor_id: 0, subformat: 0, sensor_certified: false, sensor_id: 0,
//!     width: 200, height: 160, resolution_x: 197, resolution_y: 197,
//!     fingers: vec![view],
//! };
//! let iso = template::write_template(&t)?;
//! assert_eq!(template::read_template(&iso)?, t);
//! let ansi = template::write_template(&t.convert_to(template::TemplateFormat::Ansi378_2009))?;
//! let m = template::read_template(&ansi)?.fingers[0].minutiae[0];
//! assert_eq!((m.angle, m.angle_degrees(template::TemplateFormat::Ansi378_2009)), (45, 90.0));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

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
