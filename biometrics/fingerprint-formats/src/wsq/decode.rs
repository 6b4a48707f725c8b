//! WSQ decoding: markers → Huffman-coded blocks → quantised coefficients →
//! wavelet reconstruction → 8-bit pixels.

use super::huffman::{self, BitReader, HuffmanSpec};
use super::tables::{self, FrameHeader, QuantTable, HUFFMAN_SLOTS};
use super::transform::{self, SynthesisFilters, MIN_NODE_SIDE};
use super::tree::{Geometry, CODED_SUBBANDS};
use super::WsqError;
use crate::cursor::Cursor;
use crate::raster::{GrayImage, DEFAULT_DPI};

/// A decoded WSQ image with the metadata found in the file.
#[derive(Debug, Clone, PartialEq)]
pub struct WsqDecoded {
    /// The pixels. Its dpi is the file's NISTCOM `PPI` when present, else
    /// [`DEFAULT_DPI`] (WSQ is defined for 500 ppi images).
    pub image: GrayImage,
    /// Resolution declared in the NISTCOM comment, if any; lets callers tell
    /// a real 500 ppi declaration from the default.
    pub declared_ppi: Option<u32>,
    /// Text of every comment segment, in file order (lossy UTF-8).
    pub comments: Vec<String>,
}

fn marker_at(c: &mut Cursor<'_>) -> Result<(u16, usize), WsqError> {
    let offset = c.position();
    let m = c.u16().map_err(|_| WsqError::Truncated { offset })?;
    if m >> 8 != 0xFF {
        return Err(WsqError::ExpectedMarker { offset, found: m });
    }
    Ok((m, offset))
}

/// Collects the entropy-coded bytes after a block header, removing the
/// stuffed zero after each 0xFF, and leaves the cursor on the next marker.
fn block_bytes(c: &mut Cursor<'_>, out: &mut Vec<u8>) -> Result<(), WsqError> {
    out.clear();
    let rest = c.rest();
    let mut i = 0;
    while i < rest.len() {
        let b = rest[i];
        if b != 0xFF {
            out.push(b);
            i += 1;
            continue;
        }
        match rest.get(i + 1) {
            Some(0x00) => {
                out.push(0xFF);
                i += 2;
            }
            Some(_) => {
                // `i` is the start of the next marker.
                return c
                    .skip(i)
                    .map_err(|e| WsqError::Truncated { offset: e.offset });
            }
            None => break,
        }
    }
    Err(WsqError::Truncated {
        offset: c.position() + rest.len(),
    })
}

/// Decodes one block's symbols, appending coefficients to `coeffs` but never
/// beyond `limit` entries.
fn decode_block(
    data: &[u8],
    table: &huffman::Decoder,
    coeffs: &mut Vec<i32>,
    limit: usize,
) -> Result<(), WsqError> {
    let mut bits = BitReader::new(data);
    let overflow = |found: usize| WsqError::CoefficientCount {
        expected: limit,
        found,
    };
    let truncated = |bits: &BitReader<'_>| WsqError::BlockEnded {
        offset: bits.byte_offset(),
    };
    while let Some(sym) = table.decode(&mut bits)? {
        let (zeros, value) = match sym {
            1..=100 => (u32::from(sym), None),
            huffman::ESC_POS_8 => (
                0,
                Some(bits.bits(8).ok_or_else(|| truncated(&bits))? as i32),
            ),
            huffman::ESC_NEG_8 => (
                0,
                Some(-(bits.bits(8).ok_or_else(|| truncated(&bits))? as i32)),
            ),
            huffman::ESC_POS_16 => (
                0,
                Some(bits.bits(16).ok_or_else(|| truncated(&bits))? as i32),
            ),
            huffman::ESC_NEG_16 => (
                0,
                Some(-(bits.bits(16).ok_or_else(|| truncated(&bits))? as i32)),
            ),
            huffman::ESC_RUN_8 => (bits.bits(8).ok_or_else(|| truncated(&bits))?, None),
            huffman::ESC_RUN_16 => (bits.bits(16).ok_or_else(|| truncated(&bits))?, None),
            107..=254 => (0, Some(i32::from(sym) - huffman::COEFF_SYMBOL_OFFSET)),
            other => return Err(WsqError::BadSymbol(other)),
        };
        let needed = zeros as usize + usize::from(value.is_some());
        if coeffs.len() + needed > limit {
            return Err(overflow(coeffs.len() + needed));
        }
        coeffs.resize(coeffs.len() + zeros as usize, 0);
        if let Some(v) = value {
            coeffs.push(v);
        }
    }
    Ok(())
}

/// Checks frame dimensions against the crate limits and the transform's needs.
pub(crate) fn check_dimensions(width: u32, height: u32) -> Result<Geometry, WsqError> {
    if width > crate::MAX_SIDE
        || height > crate::MAX_SIDE
        || u64::from(width) * u64::from(height) > crate::MAX_PIXELS
    {
        return Err(WsqError::TooLarge { width, height });
    }
    if width == 0 || height == 0 {
        return Err(WsqError::TooSmall { width, height });
    }
    let geom = Geometry::new(width as usize, height as usize);
    if geom.shortest_node_side() < MIN_NODE_SIDE {
        return Err(WsqError::TooSmall { width, height });
    }
    Ok(geom)
}

/// Number of coefficients the blocks must hold for this geometry and table.
fn expected_coefficients(geom: &Geometry, q: &QuantTable) -> usize {
    (0..CODED_SUBBANDS)
        .filter(|&i| q.q[i] != 0.0)
        .map(|i| geom.subbands[i].area())
        .sum()
}

/// Turns quantised coefficients back into wavelet-domain samples.
fn dequantize(coeffs: &[i32], q: &QuantTable, geom: &Geometry, width: usize, out: &mut [f32]) {
    let c = q.bin_center;
    let mut k = 0;
    for band in 0..CODED_SUBBANDS {
        let (qb, zb) = (q.q[band], q.z[band]);
        if qb == 0.0 {
            continue;
        }
        let half_zero = f64::from(zb) / 2.0;
        let r = geom.subbands[band];
        for row in 0..r.leny {
            let start = (r.y + row) * width + r.x;
            for px in &mut out[start..start + r.lenx] {
                let s = coeffs[k];
                k += 1;
                *px = match s {
                    0 => 0.0,
                    s if s > 0 => (f64::from(qb * (s as f32 - c)) + half_zero) as f32,
                    s => (f64::from(qb * (s as f32 + c)) - half_zero) as f32,
                };
            }
        }
    }
}

/// Converts reconstructed samples back to 8-bit pixels.
fn to_pixels(samples: &[f32], frame: &FrameHeader) -> Vec<u8> {
    samples
        .iter()
        .map(|&v| {
            let t = v * frame.scale + frame.shift;
            let t = (f64::from(t) + 0.5) as f32;
            if t < 0.0 {
                0
            } else if t > 255.0 {
                255
            } else {
                t as u8
            }
        })
        .collect()
}

/// Decodes a complete WSQ file.
///
/// Every length and count is validated before use: truncated or corrupt
/// input yields a [`WsqError`], and no buffer larger than the frame's
/// (bounded) pixel count is ever allocated.
pub fn decode(data: &[u8]) -> Result<WsqDecoded, WsqError> {
    let mut c = Cursor::new(data);
    if c.u16().ok() != Some(tables::SOI) {
        return Err(WsqError::NotWsq);
    }
    let mut filters: Option<SynthesisFilters> = None;
    let mut quant: Option<QuantTable> = None;
    let mut huff: [Option<HuffmanSpec>; HUFFMAN_SLOTS] = Default::default();
    let mut frame: Option<(FrameHeader, Geometry)> = None;
    let mut comments = Vec::new();
    let mut coeffs: Vec<i32> = Vec::new();
    let mut expected: Option<usize> = None;
    let mut block = Vec::new();
    loop {
        let (marker, offset) = marker_at(&mut c)?;
        match marker {
            tables::EOI => break,
            tables::DTT => {
                filters = Some(tables::parse_transform(tables::segment(&mut c, marker)?)?)
            }
            tables::DQT => {
                if expected.is_some() {
                    // The coefficient count was fixed by the first block.
                    return Err(WsqError::UnexpectedMarker { marker, offset });
                }
                quant = Some(tables::parse_quantization(tables::segment(
                    &mut c, marker,
                )?)?);
            }
            tables::DHT => tables::parse_huffman(tables::segment(&mut c, marker)?, &mut huff)?,
            tables::COM => comments
                .push(String::from_utf8_lossy(tables::segment(&mut c, marker)?).into_owned()),
            tables::SOF => {
                if frame.is_some() {
                    return Err(WsqError::DuplicateFrame);
                }
                let f = tables::parse_frame(tables::segment(&mut c, marker)?)?;
                let geom = check_dimensions(u32::from(f.width), u32::from(f.height))?;
                frame = Some((f, geom));
            }
            tables::SOB => {
                let body = tables::segment(&mut c, marker)?;
                let id = *body.first().ok_or(WsqError::BadSegment("block header"))? as usize;
                let (_, geom) = frame.as_ref().ok_or(WsqError::Missing("frame header"))?;
                let q = quant
                    .as_ref()
                    .ok_or(WsqError::Missing("quantization table"))?;
                let limit = *expected.get_or_insert_with(|| expected_coefficients(geom, q));
                let spec = huff
                    .get(id)
                    .and_then(|s| s.as_ref())
                    .ok_or(WsqError::Missing("huffman table for a block"))?;
                let table = huffman::Decoder::new(spec)?;
                block_bytes(&mut c, &mut block)?;
                decode_block(&block, &table, &mut coeffs, limit)?;
            }
            _ => return Err(WsqError::UnexpectedMarker { marker, offset }),
        }
    }
    let (f, geom) = frame.ok_or(WsqError::Missing("frame header"))?;
    let filters = filters.ok_or(WsqError::Missing("transform table"))?;
    let q = quant.ok_or(WsqError::Missing("quantization table"))?;
    let expected = expected.ok_or(WsqError::Missing("image data blocks"))?;
    if coeffs.len() != expected {
        return Err(WsqError::CoefficientCount {
            expected,
            found: coeffs.len(),
        });
    }
    let (w, h) = (usize::from(f.width), usize::from(f.height));
    let mut samples = vec![0f32; w * h];
    dequantize(&coeffs, &q, &geom, w, &mut samples);
    drop(coeffs);
    transform::reconstruct(&mut samples, w, &geom, &filters);
    let pixels = to_pixels(&samples, &f);
    let declared_ppi = comments.iter().find_map(|t| tables::nistcom_ppi(t));
    let image = GrayImage::new(
        u32::from(f.width),
        u32::from(f.height),
        declared_ppi.unwrap_or(DEFAULT_DPI),
        pixels,
    )
    .map_err(|_| WsqError::Internal("decoded buffer does not match the frame size"))?;
    Ok(WsqDecoded {
        image,
        declared_ppi,
        comments,
    })
}

/// Reads only the frame header: `(width, height, declared ppi)`.
///
/// Used to validate uploads cheaply; it walks the marker segments up to the
/// frame header without touching the image data.
pub(crate) fn probe(data: &[u8]) -> Result<(u32, u32, Option<u32>), WsqError> {
    let mut c = Cursor::new(data);
    if c.u16().ok() != Some(tables::SOI) {
        return Err(WsqError::NotWsq);
    }
    let mut ppi = None;
    loop {
        let (marker, offset) = marker_at(&mut c)?;
        match marker {
            tables::SOF => {
                let f = tables::parse_frame(tables::segment(&mut c, marker)?)?;
                return Ok((u32::from(f.width), u32::from(f.height), ppi));
            }
            tables::COM => {
                let text = String::from_utf8_lossy(tables::segment(&mut c, marker)?).into_owned();
                ppi = ppi.or_else(|| tables::nistcom_ppi(&text));
            }
            tables::DTT | tables::DQT | tables::DHT => {
                tables::segment(&mut c, marker)?;
            }
            _ => return Err(WsqError::UnexpectedMarker { marker, offset }),
        }
    }
}
