//! Minutiae and the engine's own versioned template format.
//!
//! Minutiae are kept in the ISO/IEC 19794-2 model (pixel position at 500 dpi,
//! direction, type, quality 0–100) so that the formats crate can convert them
//! 1:1. The byte format is private to this engine: small, versioned, and checked
//! on decode so a corrupt or foreign blob is rejected instead of misread.

use crate::error::{FpError, Result};
use serde::{Deserialize, Serialize};

/// Minutia type, as in ISO/IEC 19794-2 (ridge ending or bifurcation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum MinutiaKind {
    /// A ridge ends.
    Ending,
    /// A ridge splits in two.
    Bifurcation,
}

/// One minutia.
///
/// `angle` is in radians in [0, 2π), counter-clockwise from the image's x axis
/// with y pointing up (the ISO 19794-2 convention; in pixel coordinates the
/// direction vector is (cos a, −sin a)). For an ending it points from the ridge
/// towards its end; for a bifurcation from the stem into the fork, so that an
/// ending and the bifurcation it turns into under different pressure agree.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Minutia {
    /// Column in pixels (500 dpi).
    pub x: u16,
    /// Row in pixels (500 dpi).
    pub y: u16,
    /// Direction in radians, see the type documentation.
    pub angle: f32,
    /// Ending or bifurcation.
    pub kind: MinutiaKind,
    /// Reliability 0–100: √(local orientation certainty × ridge clarity), scaled down near the
    /// edge of the readable print (see `extract`).
    pub quality: u8,
}

/// A fingerprint template: the minutiae of one impression plus the image frame.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Template {
    /// Image width in pixels.
    pub width: u16,
    /// Image height in pixels.
    pub height: u16,
    /// Resolution in dots per inch (500 for everything the extractor produces).
    pub dpi: u16,
    /// Minutiae, sorted by descending quality.
    pub minutiae: Vec<Minutia>,
}

const MAGIC: &[u8; 4] = b"FPT1";
const VERSION: u8 = 1;
const HEADER: usize = 4 + 1 + 2 + 2 + 2 + 2;
const RECORD: usize = 2 + 2 + 2 + 1 + 1;

impl Template {
    /// Encodes as bytes: magic "FPT1", version, dimensions, dpi, count, then per
    /// minutia x, y (u16 LE), angle in 1/65536 turns (u16 LE), kind, quality.
    /// The 16-bit angle keeps 0.0055° precision, far below extraction noise.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(HEADER + RECORD * self.minutiae.len());
        out.extend_from_slice(MAGIC);
        out.push(VERSION);
        out.extend_from_slice(&self.width.to_le_bytes());
        out.extend_from_slice(&self.height.to_le_bytes());
        out.extend_from_slice(&self.dpi.to_le_bytes());
        let n = self.minutiae.len().min(u16::MAX as usize) as u16;
        out.extend_from_slice(&n.to_le_bytes());
        for m in self.minutiae.iter().take(n as usize) {
            out.extend_from_slice(&m.x.to_le_bytes());
            out.extend_from_slice(&m.y.to_le_bytes());
            let turns = (m.angle.rem_euclid(std::f32::consts::TAU) / std::f32::consts::TAU
                * 65536.0)
                .round() as u32
                % 65536;
            out.extend_from_slice(&(turns as u16).to_le_bytes());
            out.push(match m.kind {
                MinutiaKind::Ending => 0,
                MinutiaKind::Bifurcation => 1,
            });
            out.push(m.quality.min(100));
        }
        out
    }

    /// Decodes bytes written by [`Template::to_bytes`], rejecting wrong magic,
    /// unknown versions, truncation, trailing bytes and out-of-range fields.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        if bytes.len() < HEADER {
            return Err(FpError::InvalidTemplate(format!(
                "{} bytes is shorter than the header",
                bytes.len()
            )));
        }
        if &bytes[0..4] != MAGIC {
            return Err(FpError::InvalidTemplate(
                "bad magic (not an FPT template)".into(),
            ));
        }
        if bytes[4] != VERSION {
            return Err(FpError::InvalidTemplate(format!(
                "unsupported version {}",
                bytes[4]
            )));
        }
        let u16_at = |o: usize| u16::from_le_bytes([bytes[o], bytes[o + 1]]);
        let width = u16_at(5);
        let height = u16_at(7);
        let dpi = u16_at(9);
        let n = u16_at(11) as usize;
        if bytes.len() != HEADER + n * RECORD {
            return Err(FpError::InvalidTemplate(format!(
                "length {} does not match {} minutiae",
                bytes.len(),
                n
            )));
        }
        let mut minutiae = Vec::with_capacity(n);
        for i in 0..n {
            let o = HEADER + i * RECORD;
            let x = u16_at(o);
            let y = u16_at(o + 2);
            if x >= width || y >= height {
                return Err(FpError::InvalidTemplate(format!(
                    "minutia {i} lies outside the image"
                )));
            }
            let angle = u16_at(o + 4) as f32 / 65536.0 * std::f32::consts::TAU;
            let kind = match bytes[o + 6] {
                0 => MinutiaKind::Ending,
                1 => MinutiaKind::Bifurcation,
                k => {
                    return Err(FpError::InvalidTemplate(format!(
                        "minutia {i} has unknown type {k}"
                    )))
                }
            };
            let quality = bytes[o + 7];
            if quality > 100 {
                return Err(FpError::InvalidTemplate(format!(
                    "minutia {i} quality {quality} > 100"
                )));
            }
            minutiae.push(Minutia {
                x,
                y,
                angle,
                kind,
                quality,
            });
        }
        Ok(Template {
            width,
            height,
            dpi,
            minutiae,
        })
    }
}
