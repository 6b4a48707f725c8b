//! Greyscale fingerprint images: loading from PNG, TIFF, BMP, JPEG, PGM, WSQ
//! or raw bytes, cheap header probing, and resampling to 500 dpi.
//!
//! Fingerprint algorithms (minutiae extraction, quality, matching) are tuned
//! for 8-bit grey images at 500 dpi, so everything that enters the station is
//! turned into a [`GrayImage`] with a known resolution first. Sizes are
//! checked against [`crate::MAX_SIDE`] and [`crate::MAX_PIXELS`] from the
//! file header *before* any pixel buffer is allocated, so a forged header
//! cannot make the server allocate gigabytes.

use crate::cursor::Cursor;
use crate::wsq;
use std::fmt;

/// Resolution assumed when neither the file nor the caller gives one; the
/// standard resolution of fingerprint sensors and of WSQ.
pub const DEFAULT_DPI: u32 = 500;

/// Declared resolutions outside this range are ignored in favour of the
/// caller's fallback: image editors routinely stamp 72 or 96 dpi on files,
/// which would make a 500 dpi fingerprint look like a low-resolution one.
pub const PLAUSIBLE_DPI: std::ops::RangeInclusive<u32> = 150..=2000;

/// Image container formats this crate recognises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ImageFormat {
    /// Portable Network Graphics.
    Png,
    /// JPEG/JFIF (decoded, but lossy JPEG is not recommended for fingerprints).
    Jpeg,
    /// Baseline TIFF.
    Tiff,
    /// Windows bitmap.
    Bmp,
    /// Netpbm greyscale (P5 binary or P2 ASCII).
    Pgm,
    /// FBI Wavelet Scalar Quantization.
    Wsq,
}

impl fmt::Display for ImageFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            Self::Png => "PNG",
            Self::Jpeg => "JPEG",
            Self::Tiff => "TIFF",
            Self::Bmp => "BMP",
            Self::Pgm => "PGM",
            Self::Wsq => "WSQ",
        };
        f.write_str(s)
    }
}

/// Errors from image loading, probing and resampling.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ImageError {
    /// The input is empty.
    #[error("empty input")]
    Empty,
    /// The bytes do not start with a known image signature.
    #[error("unrecognised image format")]
    UnknownFormat,
    /// Width or height is zero.
    #[error("image has zero width or height")]
    ZeroSize,
    /// The header claims a size beyond the crate limits.
    #[error("image {width}x{height} exceeds the limit of {max_side} per side / {max_pixels} pixels", max_side = crate::MAX_SIDE, max_pixels = crate::MAX_PIXELS)]
    TooLarge {
        /// Claimed width.
        width: u64,
        /// Claimed height.
        height: u64,
    },
    /// A pixel buffer does not match the stated dimensions.
    #[error("pixel buffer has {actual} bytes, {expected} expected")]
    PixelCountMismatch {
        /// width × height.
        expected: usize,
        /// Bytes supplied.
        actual: usize,
    },
    /// A resolution of zero or beyond [`PLAUSIBLE_DPI`] was supplied by the caller.
    #[error("invalid resolution {0} dpi")]
    BadDpi(u32),
    /// The header of a recognised format is malformed or truncated.
    #[error("malformed {format} header: {reason}")]
    Malformed {
        /// Format being parsed.
        format: ImageFormat,
        /// What was wrong.
        reason: &'static str,
    },
    /// A feature of a recognised format that is not supported.
    #[error("unsupported {format} variant: {reason}")]
    Unsupported {
        /// Format being parsed.
        format: ImageFormat,
        /// What is not supported.
        reason: &'static str,
    },
    /// The pixel data could not be decoded.
    #[error("cannot decode {format} data: {message}")]
    Decode {
        /// Format being decoded.
        format: ImageFormat,
        /// Decoder message.
        message: String,
    },
    /// WSQ decoding failed.
    #[error(transparent)]
    Wsq(#[from] wsq::WsqError),
    /// Two images that must have the same size do not.
    #[error("image sizes differ: {0}x{1} vs {2}x{3}")]
    SizeMismatch(u32, u32, u32, u32),
}

/// An 8-bit greyscale image with its scan resolution.
///
/// The fields are private so that `pixels.len() == width * height` and the
/// size limits always hold.
#[derive(Clone, PartialEq, Eq)]
pub struct GrayImage {
    width: u32,
    height: u32,
    dpi: u32,
    pixels: Vec<u8>,
}

impl fmt::Debug for GrayImage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GrayImage")
            .field("width", &self.width)
            .field("height", &self.height)
            .field("dpi", &self.dpi)
            .finish_non_exhaustive()
    }
}

/// Checks a claimed size against the crate limits.
pub(crate) fn check_size(width: u64, height: u64) -> Result<(), ImageError> {
    if width == 0 || height == 0 {
        return Err(ImageError::ZeroSize);
    }
    if width > u64::from(crate::MAX_SIDE)
        || height > u64::from(crate::MAX_SIDE)
        || width * height > crate::MAX_PIXELS
    {
        return Err(ImageError::TooLarge { width, height });
    }
    Ok(())
}

impl GrayImage {
    /// Wraps raw row-major 8-bit pixels (this is also the "raw grey" loader).
    pub fn new(width: u32, height: u32, dpi: u32, pixels: Vec<u8>) -> Result<Self, ImageError> {
        check_size(u64::from(width), u64::from(height))?;
        if dpi == 0 {
            return Err(ImageError::BadDpi(dpi));
        }
        let expected = width as usize * height as usize;
        if pixels.len() != expected {
            return Err(ImageError::PixelCountMismatch {
                expected,
                actual: pixels.len(),
            });
        }
        Ok(Self {
            width,
            height,
            dpi,
            pixels,
        })
    }

    /// Width in pixels.
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Height in pixels.
    pub fn height(&self) -> u32 {
        self.height
    }

    /// Scan resolution in dots per inch.
    pub fn dpi(&self) -> u32 {
        self.dpi
    }

    /// Row-major pixels, 0 = black.
    pub fn pixels(&self) -> &[u8] {
        &self.pixels
    }

    /// Gives up the pixel buffer.
    pub fn into_pixels(self) -> Vec<u8> {
        self.pixels
    }

    /// Pixel at (`x`, `y`), or `None` outside the image.
    pub fn get(&self, x: u32, y: u32) -> Option<u8> {
        if x >= self.width || y >= self.height {
            return None;
        }
        self.pixels
            .get(y as usize * self.width as usize + x as usize)
            .copied()
    }

    /// Same pixels with a corrected resolution (e.g. a known sensor's dpi
    /// when the file carried none).
    pub fn with_dpi(mut self, dpi: u32) -> Result<Self, ImageError> {
        if dpi == 0 {
            return Err(ImageError::BadDpi(dpi));
        }
        self.dpi = dpi;
        Ok(self)
    }

    /// True when every pixel has the same value (a sensor read with no finger,
    /// or a failed capture); such images are useless for enrolment and WSQ
    /// cannot encode them.
    pub fn is_blank(&self) -> bool {
        self.pixels.windows(2).all(|w| w[0] == w[1])
    }

    /// Resamples to 500 dpi, the resolution fingerprint algorithms expect.
    pub fn to_500_dpi(&self) -> Result<Self, ImageError> {
        self.resample_to_dpi(DEFAULT_DPI)
    }

    /// Resamples to `target_dpi` with a separable triangle (bilinear) filter.
    ///
    /// When shrinking, the filter is widened by the shrink factor so every
    /// source pixel contributes (area-weighted bilinear), which avoids the
    /// aliasing of plain bilinear sampling on fine ridge patterns.
    pub fn resample_to_dpi(&self, target_dpi: u32) -> Result<Self, ImageError> {
        if target_dpi == 0 {
            return Err(ImageError::BadDpi(target_dpi));
        }
        if target_dpi == self.dpi {
            return Ok(self.clone());
        }
        let scale = f64::from(target_dpi) / f64::from(self.dpi);
        let new_w = ((f64::from(self.width) * scale).round() as u64).max(1);
        let new_h = ((f64::from(self.height) * scale).round() as u64).max(1);
        check_size(new_w, new_h)?;
        let (nw, nh) = (new_w as usize, new_h as usize);
        let (w, h) = (self.width as usize, self.height as usize);
        let xs = filter_taps(w, nw);
        let ys = filter_taps(h, nh);
        let mut tmp = vec![0f32; h * nw];
        for y in 0..h {
            let row = &self.pixels[y * w..(y + 1) * w];
            for (x, (start, weights)) in xs.iter().enumerate() {
                tmp[y * nw + x] = weights
                    .iter()
                    .enumerate()
                    .map(|(k, wt)| wt * f32::from(row[start + k]))
                    .sum();
            }
        }
        let mut out = vec![0u8; nw * nh];
        for (y, (start, weights)) in ys.iter().enumerate() {
            for x in 0..nw {
                let v: f32 = weights
                    .iter()
                    .enumerate()
                    .map(|(k, wt)| wt * tmp[(start + k) * nw + x])
                    .sum();
                out[y * nw + x] = v.round().clamp(0.0, 255.0) as u8;
            }
        }
        Self::new(new_w as u32, new_h as u32, target_dpi, out)
    }
}

/// For each output sample: first source index and normalised weights.
fn filter_taps(src_len: usize, dst_len: usize) -> Vec<(usize, Vec<f32>)> {
    let scale = dst_len as f64 / src_len as f64;
    let support = (1.0 / scale).max(1.0);
    (0..dst_len)
        .map(|i| {
            let center = (i as f64 + 0.5) / scale - 0.5;
            let lo = ((center - support).floor() as i64 + 1).max(0) as usize;
            let hi = ((center + support).ceil() as i64 - 1)
                .min(src_len as i64 - 1)
                .max(lo as i64) as usize;
            let mut weights: Vec<f32> = (lo..=hi)
                .map(|j| (1.0 - ((j as f64 - center).abs() / support)).max(0.0) as f32)
                .collect();
            let total: f32 = weights.iter().sum();
            if total > 0.0 {
                weights.iter_mut().for_each(|w| *w /= total);
            } else {
                weights.iter_mut().for_each(|w| *w = 0.0);
                weights[0] = 1.0;
            }
            (lo, weights)
        })
        .collect()
}

/// Peak signal-to-noise ratio in dB between two images of the same size
/// (infinite when identical); the usual figure of merit for WSQ.
pub fn psnr(a: &GrayImage, b: &GrayImage) -> Result<f64, ImageError> {
    if (a.width, a.height) != (b.width, b.height) {
        return Err(ImageError::SizeMismatch(
            a.width, a.height, b.width, b.height,
        ));
    }
    let se: f64 = a
        .pixels
        .iter()
        .zip(&b.pixels)
        .map(|(&x, &y)| (f64::from(x) - f64::from(y)).powi(2))
        .sum();
    let mse = se / a.pixels.len() as f64;
    Ok(if mse == 0.0 {
        f64::INFINITY
    } else {
        10.0 * (255.0f64 * 255.0 / mse).log10()
    })
}

/// Identifies the container format from the leading bytes.
pub fn detect_format(bytes: &[u8]) -> Result<ImageFormat, ImageError> {
    match bytes {
        [] => Err(ImageError::Empty),
        [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, ..] => Ok(ImageFormat::Png),
        [0xFF, 0xD8, 0xFF, ..] => Ok(ImageFormat::Jpeg),
        [0xFF, 0xA0, 0xFF, ..] => Ok(ImageFormat::Wsq),
        [b'I', b'I', 42, 0, ..] | [b'M', b'M', 0, 42, ..] => Ok(ImageFormat::Tiff),
        [b'B', b'M', ..] => Ok(ImageFormat::Bmp),
        [b'P', b'5' | b'2', c, ..] if c.is_ascii_whitespace() => Ok(ImageFormat::Pgm),
        _ => Err(ImageError::UnknownFormat),
    }
}

/// Size and resolution read from a file header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeaderInfo {
    /// Container format.
    pub format: ImageFormat,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Resolution stored in the file, if any (before plausibility checks).
    pub dpi: Option<u32>,
}

/// Reads format and dimensions from the header only, without decoding
/// pixels; cheap enough to validate every upload. Fails on sizes beyond the
/// crate limits.
pub fn probe_dimensions(bytes: &[u8]) -> Result<(ImageFormat, u32, u32), ImageError> {
    let info = probe(bytes)?;
    Ok((info.format, info.width, info.height))
}

/// Like [`probe_dimensions`] but also returns the stored resolution.
pub fn probe(bytes: &[u8]) -> Result<HeaderInfo, ImageError> {
    let format = detect_format(bytes)?;
    let (width, height, dpi) = match format {
        ImageFormat::Png => probe_png(bytes)?,
        ImageFormat::Jpeg => probe_jpeg(bytes)?,
        ImageFormat::Tiff => probe_tiff(bytes)?,
        ImageFormat::Bmp => probe_bmp(bytes)?,
        ImageFormat::Pgm => {
            let h = parse_pgm_header(bytes)?;
            (h.width, h.height, None)
        }
        ImageFormat::Wsq => {
            let (w, h, ppi) = wsq::probe(bytes)?;
            (w, h, ppi)
        }
    };
    check_size(u64::from(width), u64::from(height))?;
    Ok(HeaderInfo {
        format,
        width,
        height,
        dpi,
    })
}

fn malformed(format: ImageFormat, reason: &'static str) -> ImageError {
    ImageError::Malformed { format, reason }
}

fn probe_png(b: &[u8]) -> Result<(u32, u32, Option<u32>), ImageError> {
    let f = ImageFormat::Png;
    let mut c = Cursor::new(b);
    c.skip(8).map_err(|_| malformed(f, "truncated signature"))?;
    let mut size = None;
    let mut dpi = None;
    loop {
        let len = c.u32().map_err(|_| malformed(f, "truncated chunk"))? as usize;
        let kind = c.bytes(4).map_err(|_| malformed(f, "truncated chunk"))?;
        let body = c.bytes(len).map_err(|_| malformed(f, "truncated chunk"))?;
        c.skip(4).map_err(|_| malformed(f, "truncated chunk"))?; // CRC
        match kind {
            b"IHDR" => {
                let mut h = Cursor::new(body);
                let w = h.u32().map_err(|_| malformed(f, "short IHDR"))?;
                let ht = h.u32().map_err(|_| malformed(f, "short IHDR"))?;
                size = Some((w, ht));
            }
            b"pHYs" => {
                let mut p = Cursor::new(body);
                let ppm = p.u32().map_err(|_| malformed(f, "short pHYs"))?;
                let _ppm_y = p.u32().map_err(|_| malformed(f, "short pHYs"))?;
                if p.u8().map_err(|_| malformed(f, "short pHYs"))? == 1 {
                    dpi = Some((f64::from(ppm) * 0.0254).round() as u32);
                }
            }
            b"IDAT" | b"IEND" => break,
            _ => {}
        }
        if size.is_none() {
            return Err(malformed(f, "first chunk is not IHDR"));
        }
    }
    let (w, h) = size.ok_or(malformed(f, "no IHDR"))?;
    Ok((w, h, dpi))
}

fn probe_jpeg(b: &[u8]) -> Result<(u32, u32, Option<u32>), ImageError> {
    let f = ImageFormat::Jpeg;
    let mut c = Cursor::new(b);
    c.skip(2).map_err(|_| malformed(f, "truncated"))?;
    let mut dpi = None;
    loop {
        // Markers may be preceded by any number of 0xFF fill bytes.
        let mut m = c.u8().map_err(|_| malformed(f, "no frame header"))?;
        if m != 0xFF {
            return Err(malformed(f, "expected a marker"));
        }
        while m == 0xFF {
            m = c.u8().map_err(|_| malformed(f, "no frame header"))?;
        }
        if matches!(m, 0x01 | 0xD0..=0xD7) {
            continue;
        }
        if m == 0xD9 || m == 0xDA {
            return Err(malformed(f, "no frame header before image data"));
        }
        let len = c.u16().map_err(|_| malformed(f, "truncated segment"))?;
        let body = c
            .bytes(
                usize::from(len)
                    .checked_sub(2)
                    .ok_or(malformed(f, "bad segment length"))?,
            )
            .map_err(|_| malformed(f, "truncated segment"))?;
        match m {
            0xC0..=0xCF if !matches!(m, 0xC4 | 0xC8 | 0xCC) => {
                let mut s = Cursor::new(body);
                let _precision = s.u8().map_err(|_| malformed(f, "short frame header"))?;
                let h = s.u16().map_err(|_| malformed(f, "short frame header"))?;
                let w = s.u16().map_err(|_| malformed(f, "short frame header"))?;
                return Ok((u32::from(w), u32::from(h), dpi));
            }
            0xE0 if body.starts_with(b"JFIF\0") && body.len() >= 12 => {
                let density = u32::from(u16::from_be_bytes([body[8], body[9]]));
                dpi = match body[7] {
                    1 => Some(density),
                    2 => Some((f64::from(density) * 2.54).round() as u32),
                    _ => None,
                };
            }
            _ => {}
        }
    }
}

/// Little/big-endian field access for TIFF, bounds-checked.
struct TiffReader<'a> {
    b: &'a [u8],
    little: bool,
}

impl TiffReader<'_> {
    fn u16(&self, at: usize) -> Option<u32> {
        let s = self.b.get(at..at.checked_add(2)?)?;
        Some(u32::from(if self.little {
            u16::from_le_bytes([s[0], s[1]])
        } else {
            u16::from_be_bytes([s[0], s[1]])
        }))
    }
    fn u32(&self, at: usize) -> Option<u32> {
        let s = self.b.get(at..at.checked_add(4)?)?;
        let a = [s[0], s[1], s[2], s[3]];
        Some(if self.little {
            u32::from_le_bytes(a)
        } else {
            u32::from_be_bytes(a)
        })
    }
}

fn probe_tiff(b: &[u8]) -> Result<(u32, u32, Option<u32>), ImageError> {
    let f = ImageFormat::Tiff;
    let r = TiffReader {
        b,
        little: b[0] == b'I',
    };
    let trunc = || malformed(f, "truncated directory");
    let ifd = r.u32(4).ok_or_else(trunc)? as usize;
    let count = r.u16(ifd).ok_or_else(trunc)? as usize;
    let (mut w, mut h, mut xres, mut unit) = (None, None, None, 2);
    for i in 0..count {
        let e = ifd + 2 + 12 * i;
        let tag = r.u16(e).ok_or_else(trunc)?;
        let typ = r.u16(e + 2).ok_or_else(trunc)?;
        let value = || if typ == 3 { r.u16(e + 8) } else { r.u32(e + 8) };
        match tag {
            256 => w = Some(value().ok_or_else(trunc)?),
            257 => h = Some(value().ok_or_else(trunc)?),
            282 if typ == 5 => {
                let off = r.u32(e + 8).ok_or_else(trunc)? as usize;
                let (num, den) = (
                    r.u32(off).ok_or_else(trunc)?,
                    r.u32(off + 4).ok_or_else(trunc)?,
                );
                if den != 0 {
                    xres = Some(f64::from(num) / f64::from(den));
                }
            }
            296 => unit = value().ok_or_else(trunc)?,
            _ => {}
        }
    }
    let dpi = xres.and_then(|x| match unit {
        2 => Some(x.round() as u32),
        3 => Some((x * 2.54).round() as u32),
        _ => None,
    });
    Ok((
        w.ok_or(malformed(f, "no ImageWidth"))?,
        h.ok_or(malformed(f, "no ImageLength"))?,
        dpi,
    ))
}

fn probe_bmp(b: &[u8]) -> Result<(u32, u32, Option<u32>), ImageError> {
    let f = ImageFormat::Bmp;
    let le32 = |at: usize| {
        b.get(at..at + 4)
            .map(|s| i32::from_le_bytes([s[0], s[1], s[2], s[3]]))
    };
    let le16 = |at: usize| b.get(at..at + 2).map(|s| u16::from_le_bytes([s[0], s[1]]));
    let header = le32(14).ok_or(malformed(f, "truncated header"))?;
    if header == 12 {
        let w = le16(18).ok_or(malformed(f, "truncated header"))?;
        let h = le16(20).ok_or(malformed(f, "truncated header"))?;
        return Ok((u32::from(w), u32::from(h), None));
    }
    if header < 40 {
        return Err(malformed(f, "unknown info header"));
    }
    let w = le32(18).ok_or(malformed(f, "truncated header"))?;
    let h = le32(22).ok_or(malformed(f, "truncated header"))?;
    let ppm = le32(38).ok_or(malformed(f, "truncated header"))?;
    if w <= 0 || h == 0 {
        return Err(ImageError::ZeroSize);
    }
    let dpi = (ppm > 0).then(|| (f64::from(ppm) * 0.0254).round() as u32);
    Ok((w as u32, h.unsigned_abs(), dpi))
}

/// Parsed Netpbm greyscale header.
struct PgmHeader {
    ascii: bool,
    width: u32,
    height: u32,
    maxval: u32,
    data_start: usize,
}

fn parse_pgm_header(b: &[u8]) -> Result<PgmHeader, ImageError> {
    let f = ImageFormat::Pgm;
    let ascii = b.get(1) == Some(&b'2');
    let mut pos = 2;
    let mut fields = [0u32; 3];
    for field in &mut fields {
        // Skip whitespace and comments.
        loop {
            match b.get(pos) {
                Some(c) if c.is_ascii_whitespace() => pos += 1,
                Some(b'#') => {
                    while b.get(pos).is_some_and(|&c| c != b'\n') {
                        pos += 1;
                    }
                }
                Some(_) => break,
                None => return Err(malformed(f, "truncated header")),
            }
        }
        let start = pos;
        while b.get(pos).is_some_and(u8::is_ascii_digit) {
            pos += 1;
        }
        let digits = std::str::from_utf8(&b[start..pos]).map_err(|_| malformed(f, "bad number"))?;
        *field = digits.parse().map_err(|_| malformed(f, "bad number"))?;
    }
    // Exactly one whitespace byte separates the header from binary data.
    if !b.get(pos).is_some_and(u8::is_ascii_whitespace) {
        return Err(malformed(f, "missing separator after header"));
    }
    let [width, height, maxval] = fields;
    if maxval == 0 || maxval > 65535 {
        return Err(malformed(f, "maxval out of range"));
    }
    Ok(PgmHeader {
        ascii,
        width,
        height,
        maxval,
        data_start: pos + 1,
    })
}

fn decode_pgm(b: &[u8]) -> Result<(u32, u32, Vec<u8>), ImageError> {
    let f = ImageFormat::Pgm;
    let h = parse_pgm_header(b)?;
    check_size(u64::from(h.width), u64::from(h.height))?;
    let n = h.width as usize * h.height as usize;
    let scale = |v: u32| -> Result<u8, ImageError> {
        if v > h.maxval {
            return Err(malformed(f, "sample above maxval"));
        }
        Ok(((v * 255 + h.maxval / 2) / h.maxval) as u8)
    };
    let data = &b[h.data_start..];
    let mut pixels = Vec::with_capacity(n);
    if h.ascii {
        let text = std::str::from_utf8(data).map_err(|_| malformed(f, "non-ASCII sample data"))?;
        for tok in text.split_ascii_whitespace().take(n) {
            pixels.push(scale(tok.parse().map_err(|_| malformed(f, "bad sample"))?)?);
        }
    } else if h.maxval < 256 {
        let raw = data.get(..n).ok_or(malformed(f, "truncated pixel data"))?;
        for &v in raw {
            pixels.push(scale(u32::from(v))?);
        }
    } else {
        let raw = data
            .get(..2 * n)
            .ok_or(malformed(f, "truncated pixel data"))?;
        for s in raw.chunks_exact(2) {
            pixels.push(scale(u32::from(u16::from_be_bytes([s[0], s[1]])))?);
        }
    }
    if pixels.len() != n {
        return Err(malformed(f, "truncated pixel data"));
    }
    Ok((h.width, h.height, pixels))
}

/// Decodes PNG, JPEG, TIFF or BMP pixels (needs the `codecs` feature).
#[cfg(feature = "codecs")]
fn decode_with_image_crate(
    bytes: &[u8],
    format: ImageFormat,
) -> Result<(u32, u32, Vec<u8>), ImageError> {
    let fmt = match format {
        ImageFormat::Png => image::ImageFormat::Png,
        ImageFormat::Jpeg => image::ImageFormat::Jpeg,
        ImageFormat::Tiff => image::ImageFormat::Tiff,
        ImageFormat::Bmp => image::ImageFormat::Bmp,
        ImageFormat::Pgm | ImageFormat::Wsq => return Err(ImageError::UnknownFormat),
    };
    let mut reader = image::ImageReader::with_format(std::io::Cursor::new(bytes), fmt);
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(crate::MAX_SIDE);
    limits.max_image_height = Some(crate::MAX_SIDE);
    // Worst case: 16-bit RGBA plus the greyscale copy.
    limits.max_alloc = Some(crate::MAX_PIXELS * 10);
    reader.limits(limits);
    let img = reader.decode().map_err(|e| ImageError::Decode {
        format,
        message: e.to_string(),
    })?;
    let luma = img.into_luma8();
    let (w, h) = luma.dimensions();
    Ok((w, h, luma.into_raw()))
}

/// Without the `codecs` feature only header probing is available for
/// PNG, JPEG, TIFF and BMP.
#[cfg(not(feature = "codecs"))]
fn decode_with_image_crate(
    _bytes: &[u8],
    format: ImageFormat,
) -> Result<(u32, u32, Vec<u8>), ImageError> {
    Err(ImageError::Unsupported {
        format,
        reason: "pixel decoding needs the `codecs` feature",
    })
}

/// Decodes any supported image to 8-bit grey.
///
/// The resolution comes from the file when it stores a plausible one (see
/// [`PLAUSIBLE_DPI`]), otherwise `fallback_dpi` is used ([`DEFAULT_DPI`] is
/// the usual choice). The header is probed and size-checked first.
pub fn load(bytes: &[u8], fallback_dpi: u32) -> Result<GrayImage, ImageError> {
    if fallback_dpi == 0 {
        return Err(ImageError::BadDpi(fallback_dpi));
    }
    let info = probe(bytes)?;
    let dpi = info
        .dpi
        .filter(|d| PLAUSIBLE_DPI.contains(d))
        .unwrap_or(fallback_dpi);
    let (w, h, pixels) = match info.format {
        ImageFormat::Wsq => {
            let d = wsq::decode(bytes)?;
            return d.image.with_dpi(dpi);
        }
        ImageFormat::Pgm => decode_pgm(bytes)?,
        other => decode_with_image_crate(bytes, other)?,
    };
    if (w, h) != (info.width, info.height) {
        return Err(ImageError::Decode {
            format: info.format,
            message: "decoded size differs from header".into(),
        });
    }
    GrayImage::new(w, h, dpi, pixels)
}

/// CRC-32 (IEEE 802.3) as PNG chunks use it.
#[cfg(feature = "codecs")]
fn crc32(bytes: &[u8]) -> u32 {
    let mut c = 0xFFFF_FFFFu32;
    for &b in bytes {
        c ^= u32::from(b);
        for _ in 0..8 {
            c = if c & 1 != 0 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
        }
    }
    !c
}

/// Encodes the image as an 8-bit greyscale PNG that records its resolution
/// in a `pHYs` chunk, so that [`load`] reads the same dpi back. PNG is the
/// lossless format to hand decoded WSQ or sensor frames to other tools.
#[cfg(feature = "codecs")]
pub fn encode_png(img: &GrayImage) -> Result<Vec<u8>, ImageError> {
    use image::ImageEncoder;
    let mut png = Vec::new();
    image::codecs::png::PngEncoder::new(&mut png)
        .write_image(
            img.pixels(),
            img.width(),
            img.height(),
            image::ExtendedColorType::L8,
        )
        .map_err(|e| ImageError::Decode {
            format: ImageFormat::Png,
            message: e.to_string(),
        })?;
    // Signature (8) + IHDR chunk (4 + 4 + 13 + 4) come first; pHYs must
    // precede the image data, so it goes right after IHDR.
    const AFTER_IHDR: usize = 33;
    let ppm = (f64::from(img.dpi()) / 0.0254).round() as u32;
    let mut chunk = Vec::with_capacity(13);
    chunk.extend_from_slice(b"pHYs");
    chunk.extend_from_slice(&ppm.to_be_bytes());
    chunk.extend_from_slice(&ppm.to_be_bytes());
    chunk.push(1); // unit: metre
    let mut out = Vec::with_capacity(png.len() + 21);
    out.extend_from_slice(&png[..AFTER_IHDR]);
    out.extend_from_slice(&9u32.to_be_bytes());
    out.extend_from_slice(&chunk);
    out.extend_from_slice(&crc32(&chunk).to_be_bytes());
    out.extend_from_slice(&png[AFTER_IHDR..]);
    Ok(out)
}

/// Encodes the image as binary PGM (P5). PGM carries no resolution; it is
/// the format NIST tools such as NFIQ 2 read.
pub fn encode_pgm(img: &GrayImage) -> Vec<u8> {
    let mut out = format!("P5\n{} {}\n255\n", img.width(), img.height()).into_bytes();
    out.extend_from_slice(img.pixels());
    out
}

/// Wraps raw 8-bit grey bytes of a known size (sensor frames, PGM bodies).
pub fn load_raw(bytes: &[u8], width: u32, height: u32, dpi: u32) -> Result<GrayImage, ImageError> {
    GrayImage::new(width, height, dpi, bytes.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resampling_preserves_flat_areas_and_scales_size() {
        let img = GrayImage::new(100, 50, 1000, vec![200; 5000]).unwrap();
        let half = img.to_500_dpi().unwrap();
        assert_eq!((half.width(), half.height(), half.dpi()), (50, 25, 500));
        assert!(half.pixels().iter().all(|&p| p == 200));
        let up = GrayImage::new(10, 10, 250, (0..100).map(|i| (i * 2) as u8).collect()).unwrap();
        let up = up.to_500_dpi().unwrap();
        assert_eq!((up.width(), up.height()), (20, 20));
        // Bilinear upsampling keeps the horizontal ramp monotonic.
        let row: Vec<u8> = (0..20).map(|x| up.get(x, 10).unwrap()).collect();
        assert!(row.windows(2).all(|w| w[0] <= w[1]), "{row:?}");
    }

    #[test]
    fn rejects_bad_sizes_before_allocating() {
        assert_eq!(GrayImage::new(0, 5, 500, vec![]), Err(ImageError::ZeroSize));
        assert!(matches!(
            GrayImage::new(50_000, 50_000, 500, vec![]),
            Err(ImageError::TooLarge { .. })
        ));
        assert!(matches!(
            GrayImage::new(2, 2, 500, vec![0; 3]),
            Err(ImageError::PixelCountMismatch { .. })
        ));
        assert_eq!(GrayImage::new(1, 1, 0, vec![0]), Err(ImageError::BadDpi(0)));
        // A PGM header claiming 50000x50000 is refused from the header alone.
        assert!(matches!(
            load(b"P5 50000 50000 255\n", 500),
            Err(ImageError::TooLarge { .. })
        ));
    }

    #[test]
    fn pgm_variants_decode() {
        let ascii = load(b"P2\n# comment\n3 1\n15\n0 15 7\n", 500).unwrap();
        assert_eq!(ascii.pixels(), &[0, 255, 119]);
        let wide = load(b"P5 2 1 65535\n\xff\xff\x00\x00", 500).unwrap();
        assert_eq!(wide.pixels(), &[255, 0]);
        assert!(matches!(
            load(b"P5 4 4 255\n\x00\x01", 500),
            Err(ImageError::Malformed { .. })
        ));
        assert_eq!(load(b"P5 1 1 255\n\x07", 500).unwrap().pixels(), &[7]);
    }

    #[test]
    fn written_files_load_back_with_their_resolution() {
        let img =
            GrayImage::new(40, 30, 1000, (0..1200).map(|i| (i % 256) as u8).collect()).unwrap();
        let pgm = load(&encode_pgm(&img), 500).unwrap();
        assert_eq!((pgm.pixels(), pgm.dpi()), (img.pixels(), 500));
        #[cfg(feature = "codecs")]
        {
            let png = encode_png(&img).unwrap();
            assert_eq!(probe(&png).unwrap().dpi, Some(1000));
            assert_eq!(load(&png, 500).unwrap(), img);
        }
    }

    #[test]
    fn unknown_and_empty_inputs() {
        assert_eq!(load(b"", 500), Err(ImageError::Empty));
        assert_eq!(load(b"hello world", 500), Err(ImageError::UnknownFormat));
        assert!(matches!(
            probe_dimensions(b"\x89PNG\r\n\x1a\n\0\0"),
            Err(ImageError::Malformed { .. })
        ));
    }
}
