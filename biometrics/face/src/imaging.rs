//! Small, allocation-light image helpers used to feed the models and to measure quality.
//!
//! Everything works on `image::RgbImage` frames. Model inputs are produced by one affine sampler
//! (bilinear, with supersampling when shrinking) so that the detector letterbox, the rotated mesh
//! ROI, the descriptor crop and the ISO crop share one well-tested geometry convention:
//! pixel centres sit at `i + 0.5`.

use image::{GrayImage, RgbImage};

use crate::error::{FaceError, Result};

/// Smallest frame side accepted by the pipeline; below this no face can be measured meaningfully.
pub const MIN_FRAME_SIDE: u32 = 32;

/// Rejects zero-size and tiny frames before any model runs.
pub fn check_frame(img: &RgbImage) -> Result<()> {
    let (w, h) = img.dimensions();
    if w < MIN_FRAME_SIDE || h < MIN_FRAME_SIDE {
        return Err(FaceError::FrameTooSmall { width: w, height: h, min: MIN_FRAME_SIDE });
    }
    Ok(())
}

/// Decodes an image from bytes (PNG, JPEG, TIFF, BMP), mapping decoder errors to [`FaceError::ImageDecode`].
pub fn decode(bytes: &[u8], source_name: &str) -> Result<RgbImage> {
    let img = image::load_from_memory(bytes)
        .map_err(|e| FaceError::ImageDecode { source_name: source_name.to_string(), reason: e.to_string() })?;
    let rgb = img.to_rgb8();
    check_frame(&rgb)?;
    Ok(rgb)
}

/// Reads and decodes an image file.
pub fn load(path: &std::path::Path) -> Result<RgbImage> {
    let bytes = std::fs::read(path).map_err(|source| FaceError::Io { path: path.to_path_buf(), source })?;
    decode(&bytes, &path.display().to_string())
}

/// Maps output pixel coordinates (u, v) to input coordinates: `x = a·u + b·v + c`, `y = d·u + e·v + f`.
/// Coordinates are continuous (pixel centres at +0.5) in both spaces.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Affine {
    /// x coefficient of u.
    pub a: f32,
    /// x coefficient of v.
    pub b: f32,
    /// x offset.
    pub c: f32,
    /// y coefficient of u.
    pub d: f32,
    /// y coefficient of v.
    pub e: f32,
    /// y offset.
    pub f: f32,
}

impl Affine {
    /// A square ROI of `side` input pixels centred at (cx, cy), rotated by `angle` radians, seen as an
    /// `out`×`out` output image. `flip` mirrors it horizontally.
    pub fn rotated_square(cx: f32, cy: f32, side: f32, angle: f32, out: f32) -> Self {
        Self::rotated_rect(cx, cy, side, side, angle, out, out)
    }

    /// A `rw`×`rh` input rectangle centred at (cx, cy), rotated by `angle`, seen as `ow`×`oh` output pixels.
    pub fn rotated_rect(cx: f32, cy: f32, rw: f32, rh: f32, angle: f32, ow: f32, oh: f32) -> Self {
        let (s, c) = angle.sin_cos();
        let kx = rw / ow;
        let ky = rh / oh;
        let a = kx * c;
        let b = -ky * s;
        let d = kx * s;
        let e = ky * c;
        Self { a, b, c: cx - a * ow / 2.0 - b * oh / 2.0, d, e, f: cy - d * ow / 2.0 - e * oh / 2.0 }
    }

    /// Applies the map to an output point.
    #[inline]
    pub fn apply(&self, u: f32, v: f32) -> (f32, f32) {
        (self.a * u + self.b * v + self.c, self.d * u + self.e * v + self.f)
    }

    /// Input pixels per output pixel (geometric mean of the two axes), used to pick supersampling.
    pub fn scale(&self) -> f32 {
        ((self.a * self.e - self.b * self.d).abs()).sqrt()
    }
}

/// Bilinear sample of channel values at continuous (x, y); outside the image gives `fill`.
#[inline]
fn bilinear(img: &RgbImage, x: f32, y: f32, fill: [f32; 3]) -> [f32; 3] {
    let (w, h) = (img.width() as i64, img.height() as i64);
    let xf = x - 0.5;
    let yf = y - 0.5;
    let x0 = xf.floor();
    let y0 = yf.floor();
    let fx = xf - x0;
    let fy = yf - y0;
    let (x0, y0) = (x0 as i64, y0 as i64);
    let raw = img.as_raw();
    let px = |xi: i64, yi: i64| -> [f32; 3] {
        if xi < 0 || yi < 0 || xi >= w || yi >= h {
            fill
        } else {
            let i = ((yi * w + xi) * 3) as usize;
            [raw[i] as f32, raw[i + 1] as f32, raw[i + 2] as f32]
        }
    };
    let p00 = px(x0, y0);
    let p10 = px(x0 + 1, y0);
    let p01 = px(x0, y0 + 1);
    let p11 = px(x0 + 1, y0 + 1);
    let mut out = [0.0; 3];
    for k in 0..3 {
        let top = p00[k] + (p10[k] - p00[k]) * fx;
        let bot = p01[k] + (p11[k] - p01[k]) * fx;
        out[k] = top + (bot - top) * fy;
    }
    out
}

/// Samples an `ow`×`oh` RGB patch (interleaved f32, 0..255) through `map`. When one output pixel
/// covers several input pixels, an n×n grid of bilinear samples is averaged (n ≤ 4) so that a
/// 640-px frame shrunk to 128 px does not alias.
pub fn sample(img: &RgbImage, map: &Affine, ow: usize, oh: usize, fill: [f32; 3]) -> Vec<f32> {
    let n = (map.scale().ceil() as usize).clamp(1, 4);
    let mut out = vec![0.0f32; ow * oh * 3];
    let inv = 1.0 / (n * n) as f32;
    for v in 0..oh {
        for u in 0..ow {
            let mut acc = [0.0f32; 3];
            for j in 0..n {
                for i in 0..n {
                    let uu = u as f32 + (i as f32 + 0.5) / n as f32;
                    let vv = v as f32 + (j as f32 + 0.5) / n as f32;
                    let (x, y) = map.apply(uu, vv);
                    let p = bilinear(img, x, y, fill);
                    acc[0] += p[0];
                    acc[1] += p[1];
                    acc[2] += p[2];
                }
            }
            let o = (v * ow + u) * 3;
            out[o] = acc[0] * inv;
            out[o + 1] = acc[1] * inv;
            out[o + 2] = acc[2] * inv;
        }
    }
    out
}

/// Converts an interleaved f32 RGB buffer (0..255) to an 8-bit image.
pub fn to_rgb_image(buf: &[f32], w: u32, h: u32) -> RgbImage {
    let data = buf.iter().map(|v| v.round().clamp(0.0, 255.0) as u8).collect();
    RgbImage::from_raw(w, h, data).expect("buffer length matches w*h*3")
}

/// Letterbox geometry: the frame is centred in a square of side `side` (black bars).
#[derive(Debug, Clone, Copy)]
pub struct Letterbox {
    /// Side of the square in frame pixels.
    pub side: f32,
    /// Horizontal padding (frame pixels) left of the frame.
    pub pad_x: f32,
    /// Vertical padding above the frame.
    pub pad_y: f32,
}

impl Letterbox {
    /// Letterbox of a `w`×`h` frame.
    pub fn new(w: u32, h: u32) -> Self {
        let side = w.max(h);
        Self { side: side as f32, pad_x: ((side - w) / 2) as f32, pad_y: ((side - h) / 2) as f32 }
    }
    /// Affine from an `out`×`out` model input to the frame.
    pub fn affine(&self, out: f32) -> Affine {
        let k = self.side / out;
        Affine { a: k, b: 0.0, c: -self.pad_x, d: 0.0, e: k, f: -self.pad_y }
    }
    /// Normalised square coordinates (0..1) to frame pixels.
    pub fn to_frame(&self, nx: f32, ny: f32) -> (f32, f32) {
        (nx * self.side - self.pad_x, ny * self.side - self.pad_y)
    }
}

/// Luma (BT.601) of an interleaved f32 RGB buffer.
pub fn luma(buf: &[f32]) -> Vec<f32> {
    buf.chunks_exact(3).map(|p| 0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2]).collect()
}

/// Variance of the 4-neighbour Laplacian over the interior of a `w`×`h` grey buffer restricted to
/// the rectangle [x0,x1)×[y0,y1). The classic focus measure: sharp edges give a high variance.
pub fn laplacian_variance(grey: &[f32], w: usize, x0: usize, y0: usize, x1: usize, y1: usize) -> f32 {
    let mut sum = 0.0f64;
    let mut sum2 = 0.0f64;
    let mut n = 0usize;
    for y in y0.max(1)..y1.min(grey.len() / w - 1) {
        for x in x0.max(1)..x1.min(w - 1) {
            let c = grey[y * w + x];
            let l = grey[(y - 1) * w + x] + grey[(y + 1) * w + x] + grey[y * w + x - 1] + grey[y * w + x + 1] - 4.0 * c;
            sum += l as f64;
            sum2 += (l as f64) * (l as f64);
            n += 1;
        }
    }
    if n == 0 {
        return 0.0;
    }
    let m = sum / n as f64;
    (sum2 / n as f64 - m * m).max(0.0) as f32
}

/// Mean, standard deviation and fraction of clipped (≥ 250) values of a grey buffer region.
pub fn region_stats(grey: &[f32], w: usize, x0: usize, y0: usize, x1: usize, y1: usize) -> (f32, f32, f32) {
    let mut sum = 0.0f64;
    let mut sum2 = 0.0f64;
    let mut clipped = 0usize;
    let mut n = 0usize;
    for y in y0..y1.min(grey.len() / w) {
        for x in x0..x1.min(w) {
            let v = grey[y * w + x] as f64;
            sum += v;
            sum2 += v * v;
            if v >= 250.0 {
                clipped += 1;
            }
            n += 1;
        }
    }
    if n == 0 {
        return (0.0, 0.0, 0.0);
    }
    let m = sum / n as f64;
    (m as f32, (sum2 / n as f64 - m * m).max(0.0).sqrt() as f32, clipped as f32 / n as f32)
}

/// Grey version of an interleaved RGB buffer as an 8-bit image (used for small motion patches).
pub fn grey_image(buf: &[f32], w: u32, h: u32) -> GrayImage {
    let data = luma(buf).into_iter().map(|v| v.round().clamp(0.0, 255.0) as u8).collect();
    GrayImage::from_raw(w, h, data).expect("buffer length matches w*h")
}

/// Encodes an RGB image as PNG bytes.
pub fn encode_png(img: &RgbImage) -> Result<Vec<u8>> {
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).map_err(|e| FaceError::Encode(e.to_string()))?;
    Ok(out.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_affine_reproduces_pixels() {
        let mut img = RgbImage::new(8, 8);
        for (x, y, p) in img.enumerate_pixels_mut() {
            *p = image::Rgb([(x * 30) as u8, (y * 30) as u8, 7]);
        }
        let map = Affine::rotated_square(4.0, 4.0, 8.0, 0.0, 8.0);
        let out = sample(&img, &map, 8, 8, [0.0; 3]);
        let back = to_rgb_image(&out, 8, 8);
        assert_eq!(back, img);
    }

    #[test]
    fn rotated_square_rotates_about_centre() {
        let map = Affine::rotated_square(10.0, 20.0, 4.0, std::f32::consts::FRAC_PI_2, 4.0);
        // Output centre maps to the ROI centre; +u maps to +y after a 90° rotation.
        let (x, y) = map.apply(2.0, 2.0);
        assert!((x - 10.0).abs() < 1e-4 && (y - 20.0).abs() < 1e-4);
        let (x2, y2) = map.apply(3.0, 2.0);
        assert!((x2 - 10.0).abs() < 1e-4 && (y2 - 21.0).abs() < 1e-4);
    }

    #[test]
    fn laplacian_variance_is_zero_on_flat_and_high_on_checkerboard() {
        let flat = vec![100.0f32; 16 * 16];
        assert_eq!(laplacian_variance(&flat, 16, 0, 0, 16, 16), 0.0);
        let checker: Vec<f32> = (0..256).map(|i| if ((i % 16) + (i / 16)) % 2 == 0 { 0.0 } else { 255.0 }).collect();
        assert!(laplacian_variance(&checker, 16, 0, 0, 16, 16) > 1e5);
    }

    #[test]
    fn truncated_png_is_a_decode_error() {
        let bytes = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/astronaut.png")).unwrap();
        let err = decode(&bytes[..bytes.len() / 3], "half.png").unwrap_err();
        assert!(matches!(err, FaceError::ImageDecode { .. }), "{err}");
    }

    #[test]
    fn zero_size_frame_is_rejected() {
        assert!(matches!(check_frame(&RgbImage::new(0, 0)), Err(FaceError::FrameTooSmall { .. })));
    }
}
