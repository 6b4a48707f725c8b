//! WSQ marker segments: transform table (DTT), quantisation table (DQT),
//! Huffman tables (DHT), frame header (SOF), block header (SOB) and comments.
//!
//! Real numbers are stored in WSQ as a decimal exponent plus an integer
//! (value = integer / 10^exponent). The conversions below reproduce the NIST
//! reference arithmetic (single-precision values, each division by ten done
//! in double precision) because the decoded pixels depend on the exact
//! single-precision parameters.

use super::huffman::{HuffmanSpec, MAX_CODE_LEN, SYMBOLS};
use super::transform::SynthesisFilters;
use super::WsqError;
use crate::cursor::Cursor;

/// Start of image.
pub(crate) const SOI: u16 = 0xFFA0;
/// End of image.
pub(crate) const EOI: u16 = 0xFFA1;
/// Start of frame.
pub(crate) const SOF: u16 = 0xFFA2;
/// Start of block.
pub(crate) const SOB: u16 = 0xFFA3;
/// Define transform table.
pub(crate) const DTT: u16 = 0xFFA4;
/// Define quantisation table.
pub(crate) const DQT: u16 = 0xFFA5;
/// Define Huffman table(s).
pub(crate) const DHT: u16 = 0xFFA6;
/// Comment.
pub(crate) const COM: u16 = 0xFFA8;

/// Number of Huffman table slots a WSQ file may define.
pub(crate) const HUFFMAN_SLOTS: usize = 8;

/// Turns a stored (exponent, integer) pair into the decoder's `f32`.
pub(crate) fn unscale(exponent: u8, raw: u32) -> f32 {
    let mut v = raw as f32;
    for _ in 0..exponent {
        v = (f64::from(v) / 10.0) as f32;
    }
    v
}

/// Stores a non-negative value with the largest exponent that keeps the
/// integer below `limit` (65535 for 16-bit fields, 2^32-1 for 32-bit ones).
/// Returns `None` when the value is too large for the field.
fn scale_for_field(value: f32, limit: f64, multiply_in_double: bool) -> Option<(u8, u32)> {
    if !value.is_finite() || value < 0.0 || f64::from(value) >= limit {
        return None;
    }
    if value == 0.0 {
        return Some((0, 0));
    }
    let mut v = value;
    let mut exponent: u8 = 0;
    while f64::from(v) < limit {
        if exponent == u8::MAX {
            // Far below the field's resolution: store as zero.
            return Some((0, 0));
        }
        exponent += 1;
        v = if multiply_in_double {
            (f64::from(v) * 10.0) as f32
        } else {
            v * 10.0
        };
    }
    exponent -= 1;
    Some((exponent, (f64::from(v) / 10.0 + 0.5) as u32))
}

/// Exponent and 16-bit integer for quantiser and frame parameters.
pub(crate) fn scale_u16(value: f32) -> Option<(u8, u16)> {
    scale_for_field(value, 65535.0, false).map(|(e, v)| (e, v.min(65535) as u16))
}

/// Parameters of the frame header (SOF).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct FrameHeader {
    pub width: u16,
    pub height: u16,
    /// Mean that the encoder subtracted.
    pub shift: f32,
    /// Scale the encoder divided by.
    pub scale: f32,
}

/// Quantiser parameters per subband (DQT).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct QuantTable {
    /// Bin centre `C`.
    pub bin_center: f32,
    /// Bin width `Q` per subband (0 = subband not coded).
    pub q: [f32; 64],
    /// Zero-bin width `Z` per subband.
    pub z: [f32; 64],
}

/// Reads a segment body: the 16-bit length (which counts itself) and the bytes.
pub(crate) fn segment<'a>(c: &mut Cursor<'a>, marker: u16) -> Result<&'a [u8], WsqError> {
    let offset = c.position();
    let len = c.u16().map_err(|_| WsqError::Truncated { offset })?;
    if len < 2 {
        return Err(WsqError::BadSegmentLength {
            marker,
            length: len,
        });
    }
    c.bytes(usize::from(len) - 2)
        .map_err(|_| WsqError::Truncated { offset })
}

fn short(what: &'static str) -> impl Fn(crate::cursor::Eof) -> WsqError {
    move |_| WsqError::BadSegment(what)
}

/// Parses a DTT segment body into synthesis filters.
///
/// Only the 9/7 filter pair of the WSQ specification is accepted: the
/// reconstruction code and the minimum-size checks are built for it.
pub(crate) fn parse_transform(body: &[u8]) -> Result<SynthesisFilters, WsqError> {
    let mut c = Cursor::new(body);
    let e = short("transform table");
    // The first length belongs to the analysis low-pass filter, which becomes
    // the synthesis high-pass filter after modulation, and vice versa.
    let high_len = c.u8().map_err(&e)? as usize;
    let low_len = c.u8().map_err(&e)? as usize;
    if (high_len, low_len) != (9, 7) {
        return Err(WsqError::UnsupportedFilter {
            low_pass: high_len,
            high_pass: low_len,
        });
    }
    let mut read_half = |len: usize| -> Result<Vec<f32>, WsqError> {
        let half = len / 2;
        let mut taps = vec![0f32; len];
        for k in 0..=half {
            let sign = c.u8().map_err(&e)?;
            let exponent = c.u8().map_err(&e)?;
            let raw = c.u32().map_err(&e)?;
            let mut v = unscale(exponent, raw);
            if sign != 0 {
                v = -v;
            }
            let modulated = if k % 2 == 0 { v } else { -v };
            taps[half + k] = modulated;
            taps[half - k] = modulated;
        }
        Ok(taps)
    };
    let high = read_half(high_len)?;
    let low = read_half(low_len)?;
    Ok(SynthesisFilters { low, high })
}

/// Serialises the analysis filters as a DTT segment (marker included).
pub(crate) fn write_transform(out: &mut Vec<u8>, analysis_low: &[f32], analysis_high: &[f32]) {
    out.extend_from_slice(&DTT.to_be_bytes());
    let len = 4 + 6 * (analysis_low.len() / 2 + 1 + analysis_high.len() / 2 + 1);
    out.extend_from_slice(&(len as u16).to_be_bytes());
    out.push(analysis_low.len() as u8);
    out.push(analysis_high.len() as u8);
    for taps in [analysis_low, analysis_high] {
        for &t in &taps[taps.len() / 2..] {
            let (exponent, raw) = scale_for_field(t.abs(), 4_294_967_295.0, true).unwrap_or((0, 0));
            out.push(u8::from(t < 0.0));
            out.push(exponent);
            out.extend_from_slice(&raw.to_be_bytes());
        }
    }
}

/// Parses a DQT segment body.
pub(crate) fn parse_quantization(body: &[u8]) -> Result<QuantTable, WsqError> {
    let mut c = Cursor::new(body);
    let e = short("quantization table");
    let exponent = c.u8().map_err(&e)?;
    let raw = c.u16().map_err(&e)?;
    let bin_center = unscale(exponent, u32::from(raw));
    let mut q = [0f32; 64];
    let mut z = [0f32; 64];
    for i in 0..64 {
        let qe = c.u8().map_err(&e)?;
        let qv = c.u16().map_err(&e)?;
        let ze = c.u8().map_err(&e)?;
        let zv = c.u16().map_err(&e)?;
        q[i] = unscale(qe, u32::from(qv));
        z[i] = unscale(ze, u32::from(zv));
    }
    Ok(QuantTable { bin_center, q, z })
}

/// Serialises the quantisation table (marker included); `C` is 0.44.
pub(crate) fn write_quantization(out: &mut Vec<u8>, stored: &[(u8, u16, u8, u16); 64]) {
    out.extend_from_slice(&DQT.to_be_bytes());
    out.extend_from_slice(&389u16.to_be_bytes());
    out.push(2);
    out.extend_from_slice(&44u16.to_be_bytes());
    for &(qe, qv, ze, zv) in stored {
        out.push(qe);
        out.extend_from_slice(&qv.to_be_bytes());
        out.push(ze);
        out.extend_from_slice(&zv.to_be_bytes());
    }
}

/// Parses a DHT segment body, which may hold several tables.
pub(crate) fn parse_huffman(
    body: &[u8],
    slots: &mut [Option<HuffmanSpec>; HUFFMAN_SLOTS],
) -> Result<(), WsqError> {
    let mut c = Cursor::new(body);
    let e = short("huffman table");
    if c.remaining() == 0 {
        return Err(WsqError::BadSegment("empty huffman table segment"));
    }
    while c.remaining() > 0 {
        let id = c.u8().map_err(&e)? as usize;
        if id >= HUFFMAN_SLOTS {
            return Err(WsqError::BadHuffmanTable("table id out of range"));
        }
        let mut counts = [0u8; MAX_CODE_LEN];
        counts.copy_from_slice(c.bytes(MAX_CODE_LEN).map_err(&e)?);
        let total: usize = counts.iter().map(|&n| n as usize).sum();
        if total > SYMBOLS {
            return Err(WsqError::BadHuffmanTable("more codes than symbols"));
        }
        let symbols = c.bytes(total).map_err(&e)?.to_vec();
        slots[id] = Some(HuffmanSpec { counts, symbols });
    }
    Ok(())
}

/// Serialises one Huffman table as its own DHT segment (marker included).
pub(crate) fn write_huffman(out: &mut Vec<u8>, id: u8, spec: &HuffmanSpec) {
    out.extend_from_slice(&DHT.to_be_bytes());
    let len = 2 + 1 + MAX_CODE_LEN + spec.symbols.len();
    out.extend_from_slice(&(len as u16).to_be_bytes());
    out.push(id);
    out.extend_from_slice(&spec.counts);
    out.extend_from_slice(&spec.symbols);
}

/// Parses a SOF segment body.
pub(crate) fn parse_frame(body: &[u8]) -> Result<FrameHeader, WsqError> {
    let mut c = Cursor::new(body);
    let e = short("frame header");
    let _black = c.u8().map_err(&e)?;
    let _white = c.u8().map_err(&e)?;
    let height = c.u16().map_err(&e)?;
    let width = c.u16().map_err(&e)?;
    let se = c.u8().map_err(&e)?;
    let sv = c.u16().map_err(&e)?;
    let re = c.u8().map_err(&e)?;
    let rv = c.u16().map_err(&e)?;
    let _encoder = c.u8().map_err(&e)?;
    let _software = c.u16().map_err(&e)?;
    Ok(FrameHeader {
        width,
        height,
        shift: unscale(se, u32::from(sv)),
        scale: unscale(re, u32::from(rv)),
    })
}

/// Serialises the frame header (marker included).
pub(crate) fn write_frame(
    out: &mut Vec<u8>,
    width: u16,
    height: u16,
    shift: (u8, u16),
    scale: (u8, u16),
) {
    out.extend_from_slice(&SOF.to_be_bytes());
    out.extend_from_slice(&17u16.to_be_bytes());
    out.push(0); // black
    out.push(255); // white
    out.extend_from_slice(&height.to_be_bytes());
    out.extend_from_slice(&width.to_be_bytes());
    out.push(shift.0);
    out.extend_from_slice(&shift.1.to_be_bytes());
    out.push(scale.0);
    out.extend_from_slice(&scale.1.to_be_bytes());
    out.push(2); // encoder number, as written by the reference encoder
    out.extend_from_slice(&0u16.to_be_bytes()); // software implementation
}

/// Serialises a block header selecting Huffman table `id` (marker included).
pub(crate) fn write_block_header(out: &mut Vec<u8>, id: u8) {
    out.extend_from_slice(&SOB.to_be_bytes());
    out.extend_from_slice(&3u16.to_be_bytes());
    out.push(id);
}

/// Serialises a comment segment (marker included).
pub(crate) fn write_comment(out: &mut Vec<u8>, text: &[u8]) -> Result<(), WsqError> {
    let len = u16::try_from(text.len() + 2).map_err(|_| WsqError::CommentTooLong(text.len()))?;
    out.extend_from_slice(&COM.to_be_bytes());
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(text);
    Ok(())
}

/// Extracts the `PPI` value of a NISTCOM comment (`None` if absent or -1).
pub(crate) fn nistcom_ppi(text: &str) -> Option<u32> {
    if !text.starts_with("NIST_COM") {
        return None;
    }
    text.lines()
        .filter_map(|l| l.strip_prefix("PPI "))
        .find_map(|v| v.trim().parse::<i64>().ok())
        .and_then(|v| u32::try_from(v).ok())
        .filter(|&v| v > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scaled_numbers_round_trip() {
        for v in [
            0.0f32, 0.44, 1.0, 3.5071, 127.5, 181.2345, 0.000_123, 65534.0,
        ] {
            let (e, raw) = scale_u16(v).unwrap();
            let back = unscale(e, u32::from(raw));
            assert!(
                (back - v).abs() <= v.abs() * 1e-4 + 1e-9,
                "{v} -> {e},{raw} -> {back}"
            );
        }
        assert_eq!(scale_u16(70000.0), None);
        assert_eq!(scale_u16(f32::NAN), None);
    }

    #[test]
    fn nistcom_ppi_is_read() {
        assert_eq!(
            nistcom_ppi("NIST_COM 9\nPIX_WIDTH 256\nPPI 500\nLOSSY 1"),
            Some(500)
        );
        assert_eq!(nistcom_ppi("NIST_COM 3\nPPI -1"), None);
        assert_eq!(nistcom_ppi("hello PPI 500"), None);
    }
}
