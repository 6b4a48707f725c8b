//! WSQ encoding: normalise → wavelet decomposition → subband variances →
//! bit-allocated scalar quantisation → Huffman coding → marker stream.
//!
//! The bit allocation follows the WSQ specification's procedure (the one the
//! NIST reference encoder implements): subbands whose variance is too low are
//! dropped, the rest get bin widths from the requested bit rate.

use super::decode::check_dimensions;
use super::huffman::{self, BitWriter, HuffmanSpec, SYMBOLS};
use super::tables::{self, scale_u16, unscale};
use super::transform::{self, ANALYSIS_HIGH, ANALYSIS_LOW};
use super::tree::{Geometry, Rect, BLOCK2_START, BLOCK3_START, CODED_SUBBANDS};
use super::WsqError;
use crate::raster::GrayImage;

/// Bit rate used when none is given: 0.75 bits per pixel (about 15:1), the
/// rate of the NIST reference encoder and of FBI/EBTS practice for 500 ppi
/// fingerprints, whose compression ratio must not exceed 15:1.
pub const DEFAULT_BITRATE: f32 = 0.75;

/// Subbands whose variance is below this carry no useful signal and are not coded.
const VARIANCE_THRESHOLD: f32 = 1.01;

/// Encoder settings.
#[derive(Debug, Clone, PartialEq)]
pub struct EncodeOptions {
    /// Target bit rate in bits per pixel; [`DEFAULT_BITRATE`] unless there is
    /// a reason to deviate (2.25 is the other rate seen in practice).
    pub bitrate: f32,
    /// Extra free-text comment stored after the mandatory NISTCOM comment.
    pub comment: Option<String>,
}

impl Default for EncodeOptions {
    fn default() -> Self {
        Self {
            bitrate: DEFAULT_BITRATE,
            comment: None,
        }
    }
}

/// Shift and scale that map the pixels to roughly ±128, as WSQ stores them.
fn normalisation(pixels: &[u8]) -> Result<(f32, f32), WsqError> {
    let (mut lo, mut hi, mut sum) = (255u8, 0u8, 0u64);
    for &p in pixels {
        lo = lo.min(p);
        hi = hi.max(p);
        sum += u64::from(p);
    }
    if lo == hi {
        return Err(WsqError::BlankImage);
    }
    let mean = sum as f32 / pixels.len() as f32;
    let spread = (mean - f32::from(lo)).max(f32::from(hi) - mean);
    Ok((mean, spread / 128.0))
}

/// Sample variance of a rectangle of the transformed image.
fn region_variance(img: &[f32], width: usize, r: Rect) -> f32 {
    let n = r.area();
    if n < 2 {
        return 0.0;
    }
    let (mut sum, mut ssq) = (0f32, 0f32);
    for row in 0..r.leny {
        let start = (r.y + row) * width + r.x;
        for &v in &img[start..start + r.lenx] {
            sum += v;
            ssq += v * v;
        }
    }
    let mean_sq = sum * sum / n as f32;
    ((f64::from(ssq) - f64::from(mean_sq)) / (n as f64 - 1.0)) as f32
}

/// The central part of a subband that the specification uses for variance
/// estimates (it avoids the borders, which carry extension artefacts).
fn central(r: Rect) -> Rect {
    Rect {
        x: r.x + r.lenx / 8,
        y: r.y + 9 * r.leny / 32,
        lenx: 3 * r.lenx / 4,
        leny: 7 * r.leny / 16,
    }
}

/// Variances of the 60 coded subbands.
fn variances(img: &[f32], width: usize, geom: &Geometry) -> [f32; CODED_SUBBANDS] {
    let mut var = [0f32; CODED_SUBBANDS];
    let mut low_sum = 0f32;
    for (i, v) in var.iter_mut().enumerate().take(4) {
        *v = region_variance(img, width, central(geom.subbands[i]));
        low_sum += *v;
    }
    // Low-contrast images use whole subbands so that small signals still count.
    let whole = low_sum < 20000.0;
    for (i, v) in var.iter_mut().enumerate() {
        if whole {
            *v = region_variance(img, width, geom.subbands[i]);
        } else if i >= 4 {
            *v = region_variance(img, width, central(geom.subbands[i]));
        }
    }
    var
}

/// Bin widths `Q` for each subband at bit rate `r` (0 = not coded).
fn bin_widths(var: &[f32; CODED_SUBBANDS], r: f32) -> [f32; CODED_SUBBANDS] {
    let mut weight = [1f32; CODED_SUBBANDS];
    weight[BLOCK3_START..].copy_from_slice(&[1.32, 1.08, 1.42, 1.08, 1.32, 1.42, 1.08, 1.08]);
    // Reciprocals of the relative subband sizes in the specification.
    let m = |i: usize| -> f32 {
        if i < 4 {
            1.0 / 1024.0
        } else if i < 51 {
            1.0 / 256.0
        } else {
            1.0 / 16.0
        }
    };
    let mut q = [0f32; CODED_SUBBANDS];
    let mut sigma = [0f32; CODED_SUBBANDS];
    let mut active: Vec<usize> = Vec::new();
    for i in 0..CODED_SUBBANDS {
        if var[i] >= VARIANCE_THRESHOLD {
            q[i] = if i < 4 {
                1.0
            } else {
                (10.0 / (f64::from(weight[i]) * f64::from(var[i]).ln())) as f32
            };
            sigma[i] = var[i].sqrt();
            active.push(i);
        }
    }
    let coded = active.clone();
    let mut scale = 0f32;
    while !active.is_empty() {
        let s: f32 = active.iter().map(|&i| m(i)).sum();
        let p: f64 = active
            .iter()
            .map(|&i| (f64::from(sigma[i]) / f64::from(q[i])).powf(f64::from(m(i))))
            .product();
        scale = ((2f64.powf(f64::from(r) / f64::from(s) - 1.0) / 2.5) / p.powf(1.0 / f64::from(s)))
            as f32;
        let before = active.len();
        active.retain(|&i| q[i] / scale < 5.0 * sigma[i]);
        if active.len() == before {
            break;
        }
    }
    let mut out = [0f32; CODED_SUBBANDS];
    if scale > 0.0 && scale.is_finite() {
        for &i in &coded {
            out[i] = q[i] / scale;
        }
    }
    out
}

/// One entropy-coding token: a symbol plus optional raw bits.
#[derive(Debug, Clone, Copy)]
struct Token {
    symbol: u8,
    extra: u16,
    extra_len: u8,
}

fn coefficient_token(v: i32) -> Token {
    let mag = v.unsigned_abs().min(0xFFFF) as u16;
    if v > huffman::MAX_DIRECT_COEFF {
        if v > 255 {
            Token {
                symbol: huffman::ESC_POS_16,
                extra: mag,
                extra_len: 16,
            }
        } else {
            Token {
                symbol: huffman::ESC_POS_8,
                extra: mag,
                extra_len: 8,
            }
        }
    } else if v < 1 - huffman::MAX_DIRECT_COEFF {
        if v < -255 {
            Token {
                symbol: huffman::ESC_NEG_16,
                extra: mag,
                extra_len: 16,
            }
        } else {
            Token {
                symbol: huffman::ESC_NEG_8,
                extra: mag,
                extra_len: 8,
            }
        }
    } else {
        Token {
            symbol: (v + huffman::COEFF_SYMBOL_OFFSET) as u8,
            extra: 0,
            extra_len: 0,
        }
    }
}

fn run_token(n: u32) -> Token {
    if n <= huffman::MAX_DIRECT_RUN {
        Token {
            symbol: n as u8,
            extra: 0,
            extra_len: 0,
        }
    } else if n <= 0xFF {
        Token {
            symbol: huffman::ESC_RUN_8,
            extra: n as u16,
            extra_len: 8,
        }
    } else {
        Token {
            symbol: huffman::ESC_RUN_16,
            extra: n as u16,
            extra_len: 16,
        }
    }
}

/// Turns a block of quantised coefficients into tokens (zero runs are
/// capped at 65535 so that their length fits the 16-bit escape).
fn tokenize(coeffs: &[i32]) -> Vec<Token> {
    let mut out = Vec::new();
    let mut run = 0u32;
    for &v in coeffs {
        if v == 0 {
            if run == 0xFFFF {
                out.push(run_token(run));
                run = 0;
            }
            run += 1;
            continue;
        }
        if run > 0 {
            out.push(run_token(run));
            run = 0;
        }
        out.push(coefficient_token(v));
    }
    if run > 0 {
        out.push(run_token(run));
    }
    out
}

fn table_for(blocks: &[&[Token]]) -> HuffmanSpec {
    let mut freq = [0u32; SYMBOLS];
    for t in blocks.iter().flat_map(|b| b.iter()) {
        freq[t.symbol as usize] += 1;
    }
    huffman::build_spec(&freq)
}

fn entropy_code(tokens: &[Token], spec: &HuffmanSpec) -> Result<Vec<u8>, WsqError> {
    let enc = huffman::Encoder::new(spec)?;
    let mut w = BitWriter::default();
    for t in tokens {
        enc.put(&mut w, t.symbol)?;
        if t.extra_len > 0 {
            w.put(u32::from(t.extra), u32::from(t.extra_len));
        }
    }
    Ok(w.finish())
}

/// Quantises the coded subbands of block `range` in subband order.
fn quantize(
    img: &[f32],
    width: usize,
    geom: &Geometry,
    q: &[f32; 64],
    z: &[f32; 64],
    range: std::ops::Range<usize>,
) -> Vec<i32> {
    let mut out = Vec::new();
    for band in range {
        if q[band] == 0.0 {
            continue;
        }
        let half_zero = z[band] / 2.0;
        let r = geom.subbands[band];
        for row in 0..r.leny {
            let start = (r.y + row) * width + r.x;
            for &v in &img[start..start + r.lenx] {
                let s = if -half_zero <= v && v <= half_zero {
                    0.0
                } else if v > 0.0 {
                    ((v - half_zero) / q[band] + 1.0).trunc()
                } else {
                    ((v + half_zero) / q[band] - 1.0).trunc()
                };
                // Clamp to what the 16-bit escapes can carry.
                out.push(s.clamp(-65535.0, 65535.0) as i32);
            }
        }
    }
    out
}

/// The NISTCOM comment every NIST-compatible WSQ file starts with.
fn nistcom(img: &GrayImage, bitrate: f32) -> String {
    format!(
        "NIST_COM 9\nPIX_WIDTH {}\nPIX_HEIGHT {}\nPIX_DEPTH 8\nPPI {}\nLOSSY 1\nCOLORSPACE GRAY\nCOMPRESSION WSQ\nWSQ_BITRATE {:.6}",
        img.width(),
        img.height(),
        img.dpi(),
        bitrate
    )
}

/// Encodes an 8-bit greyscale image as WSQ.
///
/// The image should already be at 500 ppi (see
/// [`GrayImage::resample_to_dpi`]); its dpi is written to the NISTCOM
/// comment as is. Blank images and images smaller than
/// [`super::MIN_SIDE`] pixels per side are rejected with a typed error.
pub fn encode(img: &GrayImage, opts: &EncodeOptions) -> Result<Vec<u8>, WsqError> {
    if !(opts.bitrate.is_finite() && opts.bitrate > 0.0) {
        return Err(WsqError::BadBitrate(opts.bitrate));
    }
    let geom = check_dimensions(img.width(), img.height())?;
    let width = img.width() as usize;
    let (shift, scale) = normalisation(img.pixels())?;
    let mut samples: Vec<f32> = img
        .pixels()
        .iter()
        .map(|&p| (f32::from(p) - shift) / scale)
        .collect();
    transform::decompose(&mut samples, width, &geom);

    let var = variances(&samples, width, &geom);
    let widths = bin_widths(&var, opts.bitrate);
    // Quantise with the values a decoder will read back from the table.
    let mut stored = [(0u8, 0u16, 0u8, 0u16); 64];
    let mut q = [0f32; 64];
    let mut z = [0f32; 64];
    for band in 0..CODED_SUBBANDS {
        if widths[band] == 0.0 {
            continue;
        }
        // A bin wider than the 16-bit field can hold means nothing would be
        // coded in that subband anyway; drop it.
        if let (Some((qe, qv)), Some((ze, zv))) =
            (scale_u16(widths[band]), scale_u16(1.2 * widths[band]))
        {
            if qv == 0 {
                continue;
            }
            stored[band] = (qe, qv, ze, zv);
            q[band] = unscale(qe, u32::from(qv));
            z[band] = unscale(ze, u32::from(zv));
        }
    }
    let block1 = quantize(&samples, width, &geom, &q, &z, 0..BLOCK2_START);
    let block2 = quantize(&samples, width, &geom, &q, &z, BLOCK2_START..BLOCK3_START);
    let block3 = quantize(&samples, width, &geom, &q, &z, BLOCK3_START..CODED_SUBBANDS);
    drop(samples);
    let (t1, t2, t3) = (tokenize(&block1), tokenize(&block2), tokenize(&block3));
    let spec1 = table_for(&[&t1]);
    let spec2 = table_for(&[&t2, &t3]);

    let mut out = Vec::with_capacity(img.pixels().len() / 8 + 1024);
    out.extend_from_slice(&tables::SOI.to_be_bytes());
    tables::write_comment(&mut out, nistcom(img, opts.bitrate).as_bytes())?;
    if let Some(text) = &opts.comment {
        tables::write_comment(&mut out, text.as_bytes())?;
    }
    tables::write_transform(&mut out, &ANALYSIS_LOW, &ANALYSIS_HIGH);
    tables::write_quantization(&mut out, &stored);
    let frame_param =
        |v: f32| scale_u16(v).ok_or(WsqError::Internal("frame parameter out of range"));
    tables::write_frame(
        &mut out,
        img.width() as u16,
        img.height() as u16,
        frame_param(shift)?,
        frame_param(scale)?,
    );
    tables::write_huffman(&mut out, 0, &spec1);
    tables::write_block_header(&mut out, 0);
    out.extend_from_slice(&entropy_code(&t1, &spec1)?);
    tables::write_huffman(&mut out, 1, &spec2);
    tables::write_block_header(&mut out, 1);
    out.extend_from_slice(&entropy_code(&t2, &spec2)?);
    tables::write_block_header(&mut out, 1);
    out.extend_from_slice(&entropy_code(&t3, &spec2)?);
    out.extend_from_slice(&tables::EOI.to_be_bytes());
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_cover_every_escape() {
        let coeffs = [0, 0, 5, -73, -74, 74, 75, 300, -300, 255, -255];
        let syms: Vec<u8> = tokenize(&coeffs).iter().map(|t| t.symbol).collect();
        assert_eq!(syms, vec![2, 185, 107, 102, 254, 101, 103, 104, 101, 102]);
        let long_run = vec![0; 70_000];
        let t = tokenize(&long_run);
        assert_eq!(t.len(), 2);
        assert_eq!((t[0].symbol, t[0].extra), (huffman::ESC_RUN_16, 0xFFFF));
        assert_eq!(
            (t[1].symbol, t[1].extra),
            (huffman::ESC_RUN_16, (70_000u32 - 0xFFFF) as u16)
        );
    }

    #[test]
    fn blank_and_bad_inputs_are_rejected() {
        let blank = GrayImage::new(128, 128, 500, vec![77; 128 * 128]).unwrap();
        assert_eq!(
            encode(&blank, &EncodeOptions::default()),
            Err(WsqError::BlankImage)
        );
        let tiny = GrayImage::new(1, 1, 500, vec![0]).unwrap();
        assert!(matches!(
            encode(&tiny, &EncodeOptions::default()),
            Err(WsqError::TooSmall { .. })
        ));
        let ok = GrayImage::new(
            128,
            128,
            500,
            (0..128 * 128).map(|i| (i % 251) as u8).collect(),
        )
        .unwrap();
        let bad = EncodeOptions {
            bitrate: f32::NAN,
            comment: None,
        };
        assert!(matches!(encode(&ok, &bad), Err(WsqError::BadBitrate(_))));
    }
}
