//! Synthetic fingerprints in the manner of SFinGe (Cappelli, Maio, Maltoni): a master print
//! grown from an orientation-field model by iterative Gabor filtering, then impressions of it
//! with displacement, rotation, pressure, elastic distortion and noise.
//!
//! Pure and deterministic: the same [`FingerSeed`] always yields the same master print, and the
//! same impression number the same impression, so a simulated person keeps their fingers across
//! runs and a gallery of thousands of distinct fingers can be generated for 1:N tests.

use std::f32::consts::PI;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::GrayImage;

/// Width of generated images (500 dpi, like an optical single-finger scanner).
pub const WIDTH: u32 = 320;
/// Height of generated images.
pub const HEIGHT: u32 = 400;
/// Resolution of generated images.
pub const DPI: u32 = 500;

/// Identifies one synthetic finger: a person and a finger position (0–9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FingerSeed {
    /// The simulated person: any number; the same number is the same person in every run.
    pub subject: u64,
    /// Finger position 0–9 (ISO/IEC 19794-2 order: right thumb … left little finger); other
    /// values are accepted and simply give further distinct fingers.
    pub finger: u8,
}

impl FingerSeed {
    fn rng(self, salt: u64) -> StdRng {
        // SplitMix-style mixing so neighbouring subjects get unrelated streams.
        let mut z =
            self.subject.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ ((self.finger as u64) << 56) ^ salt;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        StdRng::seed_from_u64(z ^ (z >> 31))
    }
}

/// Henry-style pattern class, chosen from the seed with realistic frequencies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatternClass {
    /// Ridges flow across the finger with a hump and no singular point (about 7 % of fingers).
    Arch,
    /// One core and a delta to the left of it (about 32 %).
    LeftLoop,
    /// One core and a delta to the right of it (about 31 %).
    RightLoop,
    /// Two cores and two deltas: circular ridges in the middle (about 30 %).
    Whorl,
}

/// A master fingerprint: the ridge pattern of one finger, before any impression effects.
#[derive(Debug, Clone)]
pub struct MasterPrint {
    /// Pattern class the orientation field was built from.
    pub class: PatternClass,
    /// Mean ridge period in pixels (the local period varies around it, see [`master`]).
    pub mean_period: f32,
    width: usize,
    height: usize,
    /// Ridge field in [-1, 1]: positive on ridges.
    ridges: Vec<f32>,
}

/// How an impression differs from the master (the finger's placement on the glass).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Impression {
    /// Horizontal shift of the finger on the glass, pixels.
    pub dx: f32,
    /// Vertical shift, pixels.
    pub dy: f32,
    /// Rotation in radians.
    pub rotation: f32,
    /// Pressure: negative = dry/light (thin, broken ridges), positive = wet/heavy (thick, merged).
    pub pressure: f32,
    /// Strength of the elastic (non-linear) skin distortion, pixels.
    pub distortion: f32,
    /// Sensor noise standard deviation, grey levels.
    pub noise: f32,
}

impl Impression {
    /// A plausible random placement for impression number `n` of `seed` (deterministic).
    pub fn random(seed: FingerSeed, n: u32) -> Self {
        let mut rng = seed.rng(0x1111_0000 + n as u64);
        Self {
            dx: rng.gen_range(-18.0..18.0),
            dy: rng.gen_range(-18.0..18.0),
            rotation: rng.gen_range(-0.17..0.17),
            pressure: rng.gen_range(-0.25..0.25),
            distortion: rng.gen_range(0.0..6.0),
            noise: rng.gen_range(4.0..12.0),
        }
    }

    /// The master's own placement: no shift, no rotation, medium pressure, no noise.
    pub fn ideal() -> Self {
        Self {
            dx: 0.0,
            dy: 0.0,
            rotation: 0.0,
            pressure: 0.0,
            distortion: 0.0,
            noise: 0.0,
        }
    }
}

/// Orientation (radians, ridge direction) from the zero-pole model: cores add half the angle of
/// the vector to them, deltas subtract it (Sherlock & Monro, 1993).
fn orientation(x: f32, y: f32, cores: &[(f32, f32)], deltas: &[(f32, f32)], base: f32) -> f32 {
    let mut theta = base;
    for &(cx, cy) in cores {
        theta += 0.5 * (y - cy).atan2(x - cx);
    }
    for &(dx, dy) in deltas {
        theta -= 0.5 * (y - dy).atan2(x - dx);
    }
    theta
}

const BINS: usize = 24;
/// Ridge periods the Gabor banks are built for, pixels: 500 dpi fingers have 8–12 px between
/// ridge centres (about 2 ridges per mm); the local period is rounded to the nearest of these.
const PERIODS: [f32; 6] = [7.5, 8.5, 9.5, 10.5, 11.5, 12.5];
const KERNEL_RADIUS: i32 = 6;

/// Side of the square kernel.
const KERNEL_SIDE: usize = 2 * KERNEL_RADIUS as usize + 1;

/// One oriented Gabor kernel, twice: sparse taps (dx, dy, weight) for pixels near the border,
/// and a dense row-major square for interior pixels, where each kernel row is a dot product
/// with a contiguous slice of the field (one bounds check per row, and vectorisable). The
/// interior is most of the synthesis time.
struct Kernel {
    taps: Vec<(i32, i32, f32)>,
    dense: [[f32; KERNEL_SIDE]; KERNEL_SIDE],
}

/// Oriented Gabor kernels, one per (period, orientation) bin: each reinforces ridges along its
/// direction at its period and suppresses everything else, so iterating them grows ridges that
/// follow the orientation field at the local ridge frequency.
fn gabor_bank() -> Vec<Kernel> {
    let mut bank = Vec::with_capacity(PERIODS.len() * BINS);
    for &period in &PERIODS {
        let sigma = period * 0.45;
        for b in 0..BINS {
            let theta = b as f32 * PI / BINS as f32;
            let (s, c) = theta.sin_cos();
            let mut taps = Vec::new();
            let mut dense = [[0f32; KERNEL_SIDE]; KERNEL_SIDE];
            for v in -KERNEL_RADIUS..=KERNEL_RADIUS {
                for u in -KERNEL_RADIUS..=KERNEL_RADIUS {
                    let (uf, vf) = (u as f32, v as f32);
                    // Across-ridge coordinate: projection on the ridge normal.
                    let across = -uf * s + vf * c;
                    let along = uf * c + vf * s;
                    let w = (-(across * across + along * along * 0.5) / (2.0 * sigma * sigma))
                        .exp()
                        * (2.0 * PI * across / period).cos();
                    if w.abs() > 1e-3 {
                        taps.push((u, v, w));
                        dense[(v + KERNEL_RADIUS) as usize][(u + KERNEL_RADIUS) as usize] = w;
                    }
                }
            }
            bank.push(Kernel { taps, dense });
        }
    }
    bank
}

/// Smooth pseudo-random field in about [-1, 1] (a sum of three random plane waves of long
/// wavelength): used for the slow variation of ridge frequency across a finger and for the
/// patchy dryness of an impression.
struct SmoothField {
    /// (kx, ky, phase) of each wave.
    waves: Vec<(f32, f32, f32)>,
    norm: f32,
}

impl SmoothField {
    fn new(rng: &mut StdRng, wavelength: f32, count: usize) -> Self {
        let waves = (0..count)
            .map(|_| {
                let dir: f32 = rng.gen_range(0.0..2.0 * PI);
                let k = 2.0 * PI / (wavelength * rng.gen_range(0.7..1.3));
                (dir.cos() * k, dir.sin() * k, rng.gen_range(0.0..2.0 * PI))
            })
            .collect();
        // A sum of n unit sines has standard deviation sqrt(n / 2); scale to about ±1.
        Self {
            waves,
            norm: 1.0 / (count as f32 / 2.0).sqrt() / 1.5,
        }
    }

    fn at(&self, x: f32, y: f32) -> f32 {
        self.waves
            .iter()
            .map(|&(kx, ky, ph)| (kx * x + ky * y + ph).sin())
            .sum::<f32>()
            * self.norm
    }
}

/// Blotchy pseudo-random field in [-1, 1]: value noise (random values on a square lattice,
/// smoothly interpolated) in two octaves. Dry skin and moisture come in irregular patches, which
/// plane waves would render as tell-tale stripes.
struct ValueNoise {
    octaves: Vec<(f32, usize, Vec<f32>, f32)>,
}

impl ValueNoise {
    fn new(rng: &mut StdRng, width: usize, height: usize, cells: &[(f32, f32)]) -> Self {
        let octaves = cells
            .iter()
            .map(|&(cell, weight)| {
                let gw = (width as f32 / cell).ceil() as usize + 2;
                let gh = (height as f32 / cell).ceil() as usize + 2;
                let values = (0..gw * gh).map(|_| rng.gen_range(-1.0f32..1.0)).collect();
                (cell, gw, values, weight)
            })
            .collect();
        Self { octaves }
    }

    fn at(&self, x: f32, y: f32) -> f32 {
        let smooth = |t: f32| t * t * (3.0 - 2.0 * t);
        self.octaves
            .iter()
            .map(|(cell, gw, values, weight)| {
                let (gx, gy) = ((x / cell).max(0.0), (y / cell).max(0.0));
                let (x0, y0) = (gx as usize, gy as usize);
                let (tx, ty) = (smooth(gx - x0 as f32), smooth(gy - y0 as f32));
                let v = |xx: usize, yy: usize| values.get(yy * gw + xx).copied().unwrap_or(0.0);
                let top = v(x0, y0) * (1.0 - tx) + v(x0 + 1, y0) * tx;
                let bottom = v(x0, y0 + 1) * (1.0 - tx) + v(x0 + 1, y0 + 1) * tx;
                weight * (top * (1.0 - ty) + bottom * ty)
            })
            .sum()
    }
}

/// Grows the master print for `seed`.
///
/// 1. Class and singular points: the class is drawn with the frequencies of real fingers; cores
///    and deltas are placed by class.
/// 2. Orientation field: the Sherlock–Monro zero-pole model for loops and whorls, a smooth hump
///    for arches.
/// 3. Ridge-frequency map: a per-finger mean period (8.5–10.5 px) that is longer above the core
///    and shorter near deltas, as SFinGe models it, with slow random variation.
/// 4. Ridge growth: sparse random seeds, then seven passes of the Gabor filter chosen per pixel
///    by local orientation and period.
pub fn master(seed: FingerSeed) -> MasterPrint {
    let (w, h) = (WIDTH as usize, HEIGHT as usize);
    let mut rng = seed.rng(0xA5A5);
    let class = match rng.gen_range(0..100) {
        0..=6 => PatternClass::Arch,
        7..=38 => PatternClass::LeftLoop,
        39..=69 => PatternClass::RightLoop,
        _ => PatternClass::Whorl,
    };
    let (cx, cy) = (
        w as f32 * rng.gen_range(0.42..0.58),
        h as f32 * rng.gen_range(0.38..0.5),
    );
    type Points = Vec<(f32, f32)>;
    let (cores, deltas): (Points, Points) = match class {
        PatternClass::Arch => (vec![], vec![]),
        PatternClass::LeftLoop => (
            vec![(cx, cy)],
            vec![(
                cx - rng.gen_range(70.0..110.0),
                cy + rng.gen_range(90.0..130.0),
            )],
        ),
        PatternClass::RightLoop => (
            vec![(cx, cy)],
            vec![(
                cx + rng.gen_range(70.0..110.0),
                cy + rng.gen_range(90.0..130.0),
            )],
        ),
        PatternClass::Whorl => {
            let d = rng.gen_range(12.0..28.0);
            (
                vec![(cx, cy - d), (cx, cy + d)],
                vec![
                    (
                        cx - rng.gen_range(90.0..120.0),
                        cy + rng.gen_range(100.0..140.0),
                    ),
                    (
                        cx + rng.gen_range(90.0..120.0),
                        cy + rng.gen_range(100.0..140.0),
                    ),
                ],
            )
        }
    };
    let arch_bend = rng.gen_range(0.25..0.45);
    let base = rng.gen_range(-0.1..0.1);
    let mean_period = rng.gen_range(8.5..10.5);
    let variation = SmoothField::new(&mut rng, 260.0, 3);

    // Kernel index per pixel: period bin × orientation bin.
    let mut kernel = vec![0u16; w * h];
    for y in 0..h {
        for x in 0..w {
            let (xf, yf) = (x as f32, y as f32);
            let theta = if class == PatternClass::Arch {
                // Arches: ridges flow across the finger with a hump in the middle.
                base + arch_bend
                    * ((xf - cx) / (w as f32 * 0.35)).tanh()
                    * (-((yf - cy) / (h as f32 * 0.5)).powi(2)).exp()
            } else {
                orientation(xf, yf, &cores, &deltas, base)
            };
            let t = theta.rem_euclid(PI);
            let obin = (t / PI * BINS as f32).round() as usize % BINS;
            // Frequency map: ridges above the core are wider apart, those around deltas closer.
            let mut period = mean_period * (1.0 + 0.06 * variation.at(xf, yf));
            if yf < cy {
                period *= 1.0 + 0.08 * ((cy - yf) / (h as f32 * 0.4)).min(1.0);
            }
            for &(dx, dy) in &deltas {
                let r2 = ((xf - dx).powi(2) + (yf - dy).powi(2)) / (60.0f32 * 60.0);
                period *= 1.0 - 0.08 * (-r2).exp();
            }
            let pbin = PERIODS
                .iter()
                .enumerate()
                .min_by(|a, b| (a.1 - period).abs().total_cmp(&(b.1 - period).abs()))
                .map_or(0, |(i, _)| i);
            kernel[y * w + x] = (pbin * BINS + obin) as u16;
        }
    }

    // Ridge growth: start from sparse random seeds and filter repeatedly; each pass extends the
    // ridges along the local orientation at the local period.
    let bank = gabor_bank();
    let mut field = vec![0f32; w * h];
    for _ in 0..(w * h / 400) {
        let i = rng.gen_range(0..w * h);
        field[i] = if rng.gen_bool(0.5) { 1.0 } else { -1.0 };
    }
    let mut next = vec![0f32; w * h];
    let r = KERNEL_RADIUS as usize;
    for _ in 0..7 {
        for y in 0..h {
            let interior_row = y >= r && y + r < h;
            for x in 0..w {
                let i = y * w + x;
                let k = &bank[kernel[i] as usize];
                let mut acc = 0.0;
                if interior_row && x >= r && x + r < w {
                    for (dv, weights) in k.dense.iter().enumerate() {
                        let start = (y + dv - r) * w + x - r;
                        let row = &field[start..start + KERNEL_SIDE];
                        acc += row.iter().zip(weights).map(|(a, b)| a * b).sum::<f32>();
                    }
                } else {
                    for &(u, v, wgt) in &k.taps {
                        let (sx, sy) = (x as i32 + u, y as i32 + v);
                        if sx >= 0 && sy >= 0 && (sx as usize) < w && (sy as usize) < h {
                            acc += wgt * field[sy as usize * w + sx as usize];
                        }
                    }
                }
                next[i] = (acc * 3.0).clamp(-1.0, 1.0);
            }
        }
        std::mem::swap(&mut field, &mut next);
    }
    MasterPrint {
        class,
        mean_period,
        width: w,
        height: h,
        ridges: field,
    }
}

impl MasterPrint {
    fn sample(&self, x: f32, y: f32) -> Option<f32> {
        if x < 0.0 || y < 0.0 || x >= (self.width - 1) as f32 || y >= (self.height - 1) as f32 {
            return None;
        }
        let (x0, y0) = (x as usize, y as usize);
        let (fx, fy) = (x - x0 as f32, y - y0 as f32);
        let i = y0 * self.width + x0;
        let top = self.ridges[i] * (1.0 - fx) + self.ridges[i + 1] * fx;
        let bottom =
            self.ridges[i + self.width] * (1.0 - fx) + self.ridges[i + self.width + 1] * fx;
        Some(top * (1.0 - fy) + bottom * fy)
    }

    /// Renders one impression: dark ridges on a light background inside an elliptical contact
    /// area, as an optical scanner shows them.
    ///
    /// The finger is placed with `imp`'s shift and rotation; skin distortion follows Cappelli,
    /// Maio & Maltoni (2001): the close-contact region in the middle is not distorted, the rim
    /// is dragged by a small extra rotation and translation, with a smooth transition between;
    /// pressure moves the ridge/valley threshold (thin, broken ridges when dry, merged ridges
    /// when wet) and, patchily, breaks ridges (dry) or fills valleys (wet); finally sensor noise.
    /// `n` seeds the random details (distortion direction, dry patches, noise), so impressions
    /// with the same parameters but different numbers still differ.
    pub fn impression(&self, imp: &Impression, seed: FingerSeed, n: u32) -> GrayImage {
        let (w, h) = (self.width, self.height);
        let mut rng = seed.rng(0x2222_0000 + n as u64);
        let (cx, cy) = (w as f32 / 2.0, h as f32 / 2.0);
        let (s, c) = imp.rotation.sin_cos();
        // Contact ellipse: wider with more pressure.
        let (ax, ay) = (
            w as f32 * (0.40 + imp.pressure * 0.08),
            h as f32 * (0.44 + imp.pressure * 0.06),
        );
        let phase = rng.gen_range(0.0..2.0 * PI);
        // Plastic distortion of the rim: direction and share of rotation vs translation.
        let drag_dir: f32 = rng.gen_range(0.0..2.0 * PI);
        let (tx, ty) = (
            imp.distortion * drag_dir.cos(),
            imp.distortion * drag_dir.sin(),
        );
        let drag_rot = imp.distortion / 120.0 * if rng.gen_bool(0.5) { 1.0 } else { -1.0 };
        let (drs, drc) = drag_rot.sin_cos();
        let patches = ValueNoise::new(&mut rng, w, h, &[(30.0, 0.75), (12.0, 0.25)]);
        let dryness = (-imp.pressure).max(0.0);
        let wetness = imp.pressure.max(0.0);
        let mut pixels = vec![255u8; w * h];
        for y in 0..h {
            for x in 0..w {
                let (xf, yf) = (x as f32, y as f32);
                let ex = (xf - cx - imp.dx) / ax;
                let ey = (yf - cy - imp.dy) / ay;
                let r2 = ex * ex + ey * ey;
                if r2 > 1.0 {
                    pixels[y * w + x] =
                        (235.0 + gauss(&mut rng) * imp.noise * 0.3).clamp(0.0, 255.0) as u8;
                    continue;
                }
                // Inverse placement: where in the master does this sensor pixel look?
                let (px, py) = (xf - cx - imp.dx, yf - cy - imp.dy);
                let (mut mx, mut my) = (c * px + s * py, -s * px + c * py);
                // Plastic distortion: none inside r < 0.45 of the contact, full at the rim.
                let t = ((r2.sqrt() - 0.45) / 0.5).clamp(0.0, 1.0);
                let brake = t * t * (3.0 - 2.0 * t);
                let (rx, ry) = (drc * mx - drs * my + tx, drs * mx + drc * my + ty);
                mx += brake * (rx - mx) + cx;
                my += brake * (ry - my) + cy;
                // Skin unevenness: a gentle ripple.
                mx += 0.25 * imp.distortion * ((my / 37.0) + phase).sin();
                my += 0.25 * imp.distortion * ((mx / 41.0) + phase).cos();
                let Some(v) = self.sample(mx, my) else {
                    pixels[y * w + x] = 235;
                    continue;
                };
                // Pressure shifts the ridge/valley threshold; the edge of the contact fades.
                let edge = ((1.0 - r2) * 6.0).min(1.0);
                let mut ink = ((v + imp.pressure) * 2.2).clamp(-1.0, 1.0);
                let patch = patches.at(xf, yf);
                if ink > 0.0 && dryness > 0.0 {
                    // Dry skin: ridges break up where the patch field is high.
                    ink *= 1.0 - ((patch - (0.6 - 2.0 * dryness)) * 4.0).clamp(0.0, 1.0);
                } else if ink < 0.0 && wetness > 0.0 {
                    // Wet skin: moisture fills valleys in patches.
                    ink *= 1.0 - ((patch - (0.6 - 2.0 * wetness)) * 4.0).clamp(0.0, 0.8);
                }
                // Towards the rim the skin barely touches: fade to the background.
                let grey =
                    235.0 + (150.0 - ink * 95.0 - 235.0) * edge + gauss(&mut rng) * imp.noise;
                pixels[y * w + x] = grey.clamp(0.0, 255.0) as u8;
            }
        }
        GrayImage {
            width: w as u32,
            height: h as u32,
            dpi: DPI,
            pixels,
        }
    }
}

fn gauss(rng: &mut StdRng) -> f32 {
    // Box-Muller.
    let u1: f32 = rng.gen_range(1e-6..1.0);
    let u2: f32 = rng.gen_range(0.0..1.0);
    (-2.0 * u1.ln()).sqrt() * (2.0 * PI * u2).cos()
}

/// Convenience: impression `n` of the finger `seed`.
pub fn impression(seed: FingerSeed, n: u32) -> GrayImage {
    master(seed).impression(&Impression::random(seed, n), seed, n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ncc(a: &[u8], b: &[u8]) -> f32 {
        let ma = a.iter().map(|&v| v as f32).sum::<f32>() / a.len() as f32;
        let mb = b.iter().map(|&v| v as f32).sum::<f32>() / b.len() as f32;
        let (mut num, mut da, mut db) = (0.0, 0.0, 0.0);
        for (&x, &y) in a.iter().zip(b) {
            let (x, y) = (x as f32 - ma, y as f32 - mb);
            num += x * y;
            da += x * x;
            db += y * y;
        }
        num / (da.sqrt() * db.sqrt())
    }

    #[test]
    fn the_same_seed_gives_the_same_print_and_impressions_differ() {
        let seed = FingerSeed {
            subject: 42,
            finger: 6,
        };
        let a = impression(seed, 0);
        assert_eq!(a, impression(seed, 0));
        let b = impression(seed, 1);
        assert_ne!(a.pixels, b.pixels);
        assert_eq!((a.width, a.height, a.dpi), (WIDTH, HEIGHT, DPI));
    }

    #[test]
    fn a_finger_resembles_itself_more_than_other_fingers() {
        let seed = FingerSeed {
            subject: 7,
            finger: 3,
        };
        let m = master(seed);
        let ideal = m.impression(&Impression::ideal(), seed, 0);
        let light = m.impression(
            &Impression {
                noise: 8.0,
                pressure: 0.1,
                ..Impression::ideal()
            },
            seed,
            1,
        );
        let other = master(FingerSeed {
            subject: 8,
            finger: 3,
        })
        .impression(&Impression::ideal(), seed, 0);
        let same = ncc(&ideal.pixels, &light.pixels);
        let diff = ncc(&ideal.pixels, &other.pixels);
        assert!(
            same > 0.6 && diff < 0.3,
            "same finger {same}, other finger {diff}"
        );
    }

    #[test]
    fn ridge_period_is_that_of_a_500_dpi_finger() {
        // Count dark/light transitions along the middle row inside the contact area.
        let img = master(FingerSeed {
            subject: 3,
            finger: 1,
        })
        .impression(
            &Impression::ideal(),
            FingerSeed {
                subject: 3,
                finger: 1,
            },
            0,
        );
        let mut best = 0.0f32;
        for row in [150usize, 200, 250] {
            let line: Vec<bool> = (80..240)
                .map(|x| img.pixels[row * WIDTH as usize + x] < 150)
                .collect();
            let transitions = line.windows(2).filter(|w| w[0] != w[1]).count();
            best = best.max(transitions as f32);
        }
        // 160 px at a period of 8-12 px crosses 13-20 ridges, i.e. 26-40 edges; oblique ridges give fewer.
        assert!(
            (10.0..=45.0).contains(&best),
            "{best} ridge edges across 160 px"
        );
    }
}
