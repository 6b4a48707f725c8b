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
/// The EXIF orientation is applied, so a portrait photo from a phone is upright (the detector and the
/// mesh expect upright faces).
pub fn decode(bytes: &[u8], source_name: &str) -> Result<RgbImage> {
    use image::ImageDecoder;
    let err = |e: image::ImageError| FaceError::ImageDecode { source_name: source_name.to_string(), reason: e.to_string() };
    let reader = image::ImageReader::new(std::io::Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| FaceError::ImageDecode { source_name: source_name.to_string(), reason: e.to_string() })?;
    let mut decoder = reader.into_decoder().map_err(err)?;
    let orientation = decoder.orientation().unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut img = image::DynamicImage::from_decoder(decoder).map_err(err)?;
    img.apply_orientation(orientation);
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

/// `floor` without a libm call: the baseline x86-64 target has no SSE4.1 `roundps`, so
/// `f32::floor` is a function call, which dominated the crop loops. Exact for |x| < 2^31.
#[inline(always)]
fn ffloor(x: f32) -> i32 {
    let t = x as i32;
    if (t as f32) > x { t - 1 } else { t }
}

/// Bilinear sample of channel values at continuous (x, y); outside the image gives `fill`.
#[inline]
fn bilinear(img: &RgbImage, x: f32, y: f32, fill: [f32; 3]) -> [f32; 3] {
    let (w, h) = (img.width() as i64, img.height() as i64);
    let xf = x - 0.5;
    let yf = y - 0.5;
    let (x0, y0) = (ffloor(xf), ffloor(yf));
    let fx = xf - x0 as f32;
    let fy = yf - y0 as f32;
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

/// Samples an `ow`×`oh` RGB patch (interleaved f32, 0..255) through `map`.
///
/// When enlarging or keeping scale, each output pixel is a bilinear sample. When one output pixel
/// covers n×n input pixels (n = rounded scale, at most 6), it is the mean of an n×n grid of
/// nearest-pixel samples over its footprint, i.e. a box filter, so a 640-px frame shrunk to 128 px
/// does not alias. The box path reads one pixel per sample, which keeps the detector letterbox and
/// the mesh crop well under a millisecond each.
pub fn sample(img: &RgbImage, map: &Affine, ow: usize, oh: usize, fill: [f32; 3]) -> Vec<f32> {
    let n = (map.scale().round() as usize).clamp(1, 6);
    if n > 1 && map.b == 0.0 && map.d == 0.0 && map.a > 0.0 && map.e > 0.0 {
        return box_resample(img, map, ow, oh, fill);
    }
    let mut out = vec![0.0f32; ow * oh * 3];
    if n == 1 {
        for v in 0..oh {
            for u in 0..ow {
                let (x, y) = map.apply(u as f32 + 0.5, v as f32 + 0.5);
                let p = bilinear(img, x, y, fill);
                out[(v * ow + u) * 3..(v * ow + u) * 3 + 3].copy_from_slice(&p);
            }
        }
        return out;
    }
    let (w, h) = (img.width() as i32, img.height() as i32);
    let raw = img.as_raw();
    let inv = 1.0 / (n * n) as f32;
    let step = 1.0 / n as f32;
    // Offsets of the n×n sub-samples in output-pixel units, mapped through the linear part.
    let mut offs = Vec::with_capacity(n * n);
    for j in 0..n {
        for i in 0..n {
            let (du, dv) = ((i as f32 + 0.5) * step, (j as f32 + 0.5) * step);
            offs.push((map.a * du + map.b * dv, map.d * du + map.e * dv));
        }
    }
    for v in 0..oh {
        let (mut bx, mut by) = map.apply(0.0, v as f32);
        for u in 0..ow {
            let (mut r, mut g, mut b) = (0.0f32, 0.0f32, 0.0f32);
            for &(ox, oy) in &offs {
                let xi = ffloor(bx + ox);
                let yi = ffloor(by + oy);
                if xi >= 0 && yi >= 0 && xi < w && yi < h {
                    let k = ((yi * w + xi) * 3) as usize;
                    r += raw[k] as f32;
                    g += raw[k + 1] as f32;
                    b += raw[k + 2] as f32;
                } else {
                    r += fill[0];
                    g += fill[1];
                    b += fill[2];
                }
            }
            let o = (v * ow + u) * 3;
            out[o] = r * inv;
            out[o + 1] = g * inv;
            out[o + 2] = b * inv;
            bx += map.a;
            by += map.d;
        }
    }
    out
}

/// Exact box-filter shrink for axis-aligned maps (the detector letterbox): each output pixel is the
/// mean of the input pixels its footprint covers, pixels outside the frame counting as `fill`.
/// Separable, so every input pixel is read once.
fn box_resample(img: &RgbImage, map: &Affine, ow: usize, oh: usize, fill: [f32; 3]) -> Vec<f32> {
    let (w, h) = (img.width() as i64, img.height() as i64);
    let raw = img.as_raw();
    let span = |origin: f32, k: f32, i: usize| {
        let s = (origin + k * i as f32).floor() as i64;
        let e = ((origin + k * (i + 1) as f32).floor() as i64).max(s + 1);
        (s, e)
    };
    let cols: Vec<(i64, i64)> = (0..ow).map(|u| span(map.c, map.a, u)).collect();
    let mut out = vec![0.0f32; ow * oh * 3];
    let mut rowsum = vec![0.0f32; ow * 3];
    for v in 0..oh {
        let (ys, ye) = span(map.f, map.e, v);
        rowsum.iter_mut().for_each(|x| *x = 0.0);
        let mut inside_rows = 0i64;
        for y in ys.max(0)..ye.min(h) {
            inside_rows += 1;
            let row = &raw[(y * w * 3) as usize..((y + 1) * w * 3) as usize];
            for (u, &(xs, xe)) in cols.iter().enumerate() {
                let (a, b) = (xs.clamp(0, w) as usize, xe.clamp(0, w) as usize);
                let (mut r, mut g, mut bl) = (0u32, 0u32, 0u32);
                for px in row[a * 3..b * 3].chunks_exact(3) {
                    r += px[0] as u32;
                    g += px[1] as u32;
                    bl += px[2] as u32;
                }
                rowsum[u * 3] += r as f32;
                rowsum[u * 3 + 1] += g as f32;
                rowsum[u * 3 + 2] += bl as f32;
            }
        }
        for (u, &(xs, xe)) in cols.iter().enumerate() {
            let total = ((xe - xs) * (ye - ys)) as f32;
            let inside_cols = (xe.min(w) - xs.max(0)).max(0);
            let outside = total - (inside_cols * inside_rows) as f32;
            let o = (v * ow + u) * 3;
            for c in 0..3 {
                out[o + c] = (rowsum[u * 3 + c] + outside * fill[c]) / total;
            }
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
    fn box_shrink_averages_blocks_and_pads_with_fill() {
        let mut img = RgbImage::new(4, 2);
        for (x, _, p) in img.enumerate_pixels_mut() {
            *p = image::Rgb([if x < 2 { 10 } else { 30 }, 0, 0]);
        }
        // 4x2 frame letterboxed into a 4x4 square shrunk to 2x2: top row is half padding
        let lb = Letterbox::new(4, 2);
        let out = sample(&img, &lb.affine(2.0), 2, 2, [100.0, 0.0, 0.0]);
        assert_eq!(out[0], (2.0 * 100.0 + 2.0 * 10.0) / 4.0);
        assert_eq!(out[3], (2.0 * 100.0 + 2.0 * 30.0) / 4.0);
        assert_eq!(out[6], (2.0 * 10.0 + 2.0 * 100.0) / 4.0);
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
    fn exif_orientation_is_applied() {
        // a 40x60 JPEG whose EXIF says "rotate 90° clockwise" must come out 60x40
        let mut img = RgbImage::new(40, 60);
        img.put_pixel(0, 0, image::Rgb([255, 0, 0]));
        let mut jpeg = Vec::new();
        image::codecs::jpeg::JpegEncoder::new(&mut jpeg).encode_image(&img).unwrap();
        // APP1 Exif segment, big-endian TIFF, one IFD entry: Orientation (0x0112) = 6
        let exif: Vec<u8> = [
            &b"Exif\0\0"[..],
            &[0x4d, 0x4d, 0x00, 0x2a, 0x00, 0x00, 0x00, 0x08, 0x00, 0x01],
            &[0x01, 0x12, 0x00, 0x03, 0x00, 0x00, 0x00, 0x01, 0x00, 0x06, 0x00, 0x00],
            &[0x00, 0x00, 0x00, 0x00],
        ]
        .concat();
        let len = (exif.len() + 2) as u16;
        let mut with_exif = vec![0xff, 0xd8, 0xff, 0xe1, (len >> 8) as u8, len as u8];
        with_exif.extend_from_slice(&exif);
        with_exif.extend_from_slice(&jpeg[2..]);
        let out = decode(&with_exif, "rotated.jpg").unwrap();
        assert_eq!(out.dimensions(), (60, 40));
        assert_eq!(decode(&jpeg, "plain.jpg").unwrap().dimensions(), (40, 60));
    }

    #[test]
    fn zero_size_frame_is_rejected() {
        assert!(matches!(check_frame(&RgbImage::new(0, 0)), Err(FaceError::FrameTooSmall { .. })));
    }
}
