//! Properties of the synthetic fingerprints that the enrollment demo and the matcher tests rely
//! on: determinism, identity (impressions of one finger resemble each other more than other
//! fingers), and a ridge period of a real finger at 500 dpi.

use drivers::simulated::synthesis::{self, FingerSeed, Impression, MasterPrint, HEIGHT, WIDTH};
use drivers::GrayImage;

fn px(img: &GrayImage, x: f32, y: f32) -> f32 {
    let (xi, yi) = (x.round() as i64, y.round() as i64);
    if xi < 0 || yi < 0 || xi >= img.width as i64 || yi >= img.height as i64 {
        return 235.0;
    }
    img.pixels[yi as usize * img.width as usize + xi as usize] as f32
}

/// Ridge period at (cx, cy) by the x-signature method of Hong, Wan & Jain (1998): the local
/// orientation from the gradient structure tensor, then the grey profile across the ridges,
/// then the lag of its autocorrelation peak.
fn local_period(img: &GrayImage, cx: usize, cy: usize) -> Option<f32> {
    let (mut gxx, mut gyy, mut gxy) = (0.0f32, 0.0f32, 0.0f32);
    for y in cy - 16..cy + 16 {
        for x in cx - 16..cx + 16 {
            let gx = px(img, x as f32 + 1.0, y as f32) - px(img, x as f32 - 1.0, y as f32);
            let gy = px(img, x as f32, y as f32 + 1.0) - px(img, x as f32, y as f32 - 1.0);
            gxx += gx * gx;
            gyy += gy * gy;
            gxy += gx * gy;
        }
    }
    let normal = 0.5 * (2.0 * gxy).atan2(gxx - gyy);
    let (n, r) = ((normal.cos(), normal.sin()), (-normal.sin(), normal.cos()));
    const L: usize = 64;
    let signature: Vec<f32> = (0..L)
        .map(|k| {
            let t = k as f32 - L as f32 / 2.0;
            (-6..=6)
                .map(|d| {
                    px(
                        img,
                        cx as f32 + t * n.0 + d as f32 * r.0,
                        cy as f32 + t * n.1 + d as f32 * r.1,
                    )
                })
                .sum::<f32>()
                / 13.0
        })
        .collect();
    let mean = signature.iter().sum::<f32>() / L as f32;
    let centred: Vec<f32> = signature.iter().map(|v| v - mean).collect();
    let energy: f32 = centred.iter().map(|v| v * v).sum();
    if energy < 1.0 {
        return None;
    }
    let ac = |lag: usize| {
        centred
            .iter()
            .zip(&centred[lag..])
            .map(|(a, b)| a * b)
            .sum::<f32>()
            / energy
    };
    // First local maximum of the autocorrelation between 4 and 20 px (periods of 25-125
    // ridges per inch at 500 dpi cover any finger).
    let lag =
        (4..20).find(|&lag| ac(lag) > ac(lag - 1) && ac(lag) >= ac(lag + 1) && ac(lag) > 0.2)?;
    // Sub-pixel peak by fitting a parabola through the three samples around it.
    let (a, b, c) = (ac(lag - 1), ac(lag), ac(lag + 1));
    let curvature = a - 2.0 * b + c;
    Some(
        lag as f32
            + if curvature < 0.0 {
                0.5 * (a - c) / curvature
            } else {
                0.0
            },
    )
}

/// Best normalised cross-correlation of the central 72×72 window of `reference` with `probe`,
/// over rotations of ±0.2 rad and shifts of ±22 px (coarse grid, then refined): the similarity
/// of two impressions after rigid alignment.
fn aligned_ncc(reference: &GrayImage, probe: &GrayImage) -> f32 {
    const HALF: i32 = 36;
    let (cx, cy) = (reference.width as f32 / 2.0, reference.height as f32 / 2.0);
    let template: Vec<f32> = (-HALF..HALF)
        .flat_map(|v| (-HALF..HALF).map(move |u| (u, v)))
        .map(|(u, v)| px(reference, cx + u as f32, cy + v as f32))
        .collect();
    let tmean = template.iter().sum::<f32>() / template.len() as f32;
    let t: Vec<f32> = template.iter().map(|v| v - tmean).collect();
    let tnorm = t.iter().map(|v| v * v).sum::<f32>().sqrt();
    let score = |angle: f32, dx: f32, dy: f32| -> f32 {
        let (s, c) = angle.sin_cos();
        let mut samples = Vec::with_capacity(t.len());
        for v in -HALF..HALF {
            for u in -HALF..HALF {
                let (u, v) = (u as f32, v as f32);
                samples.push(px(probe, cx + dx + c * u - s * v, cy + dy + s * u + c * v));
            }
        }
        let m = samples.iter().sum::<f32>() / samples.len() as f32;
        let (mut num, mut den) = (0.0f32, 0.0f32);
        for (a, b) in t.iter().zip(&samples) {
            num += a * (b - m);
            den += (b - m) * (b - m);
        }
        num / (tnorm * den.sqrt()).max(1e-6)
    };
    let mut best = (f32::MIN, 0.0, 0.0, 0.0);
    for ai in -4..=4 {
        let angle = ai as f32 * 0.05;
        for dy in (-22..=22).step_by(2) {
            for dx in (-22..=22).step_by(2) {
                let sc = score(angle, dx as f32, dy as f32);
                if sc > best.0 {
                    best = (sc, angle, dx as f32, dy as f32);
                }
            }
        }
    }
    let (_, a0, x0, y0) = best;
    for da in [-0.025, 0.0, 0.025] {
        for dy in -1..=1 {
            for dx in -1..=1 {
                let sc = score(a0 + da, x0 + dx as f32, y0 + dy as f32);
                best.0 = best.0.max(sc);
            }
        }
    }
    best.0
}

#[test]
fn the_same_seed_always_gives_the_same_images() {
    let seed = FingerSeed {
        subject: 1234,
        finger: 7,
    };
    let a = synthesis::impression(seed, 3);
    let b = synthesis::impression(seed, 3);
    assert_eq!(a, b);
    assert_eq!((a.width, a.height, a.dpi), (WIDTH, HEIGHT, 500));
    // Another impression, another finger of the same person, the same finger of another person:
    // all different images.
    assert_ne!(a.pixels, synthesis::impression(seed, 4).pixels);
    assert_ne!(
        a.pixels,
        synthesis::impression(FingerSeed { finger: 6, ..seed }, 3).pixels
    );
    assert_ne!(
        a.pixels,
        synthesis::impression(
            FingerSeed {
                subject: 1235,
                ..seed
            },
            3
        )
        .pixels
    );
}

#[test]
fn ridge_period_is_that_of_a_finger_at_500_dpi() {
    let mut periods = Vec::new();
    for subject in 0..6u64 {
        let seed = FingerSeed {
            subject,
            finger: (subject % 10) as u8,
        };
        let img = synthesis::master(seed).impression(&Impression::ideal(), seed, 0);
        for cy in [140usize, 200, 260] {
            for cx in [110usize, 160, 210] {
                if let Some(p) = local_period(&img, cx, cy) {
                    periods.push(p);
                }
            }
        }
    }
    assert!(
        periods.len() >= 40,
        "period measurable in only {} of 54 blocks",
        periods.len()
    );
    periods.sort_by(f32::total_cmp);
    let median = periods[periods.len() / 2];
    let (lo, hi) = (
        periods[periods.len() / 20],
        periods[periods.len() * 19 / 20],
    );
    eprintln!(
        "ridge period: {} blocks, median {median} px, 5-95% {lo}-{hi} px",
        periods.len()
    );
    assert!(
        (8.0..=12.0).contains(&median),
        "median period {median} px; all {periods:?}"
    );
    assert!(lo >= 6.0 && hi <= 14.0, "5-95% period range {lo}-{hi} px");
}

#[test]
fn impressions_of_one_finger_match_better_than_other_fingers() {
    let fingers: Vec<(FingerSeed, MasterPrint)> = [(11u64, 2u8), (12, 2), (40, 0)]
        .iter()
        .map(|&(subject, finger)| FingerSeed { subject, finger })
        .map(|s| (s, synthesis::master(s)))
        .collect();
    let mut genuine = Vec::new();
    let mut impostor = Vec::new();
    for (i, (seed, master)) in fingers.iter().enumerate() {
        let reference = master.impression(&Impression::ideal(), *seed, 0);
        for n in 1..3 {
            let probe = master.impression(&Impression::random(*seed, n), *seed, n);
            genuine.push(aligned_ncc(&reference, &probe));
        }
        let (other_seed, other) = &fingers[(i + 1) % fingers.len()];
        let probe = other.impression(&Impression::random(*other_seed, 1), *other_seed, 1);
        impostor.push(aligned_ncc(&reference, &probe));
    }
    let worst_genuine = genuine.iter().copied().fold(f32::MAX, f32::min);
    let best_impostor = impostor.iter().copied().fold(f32::MIN, f32::max);
    eprintln!("aligned NCC: genuine {genuine:?}, impostor {impostor:?}");
    assert!(
        worst_genuine > best_impostor + 0.1,
        "genuine {genuine:?} vs impostor {impostor:?}"
    );
}

#[test]
fn impressions_vary_placement_pressure_and_noise() {
    let seed = FingerSeed {
        subject: 5,
        finger: 1,
    };
    let imps: Vec<Impression> = (0..20).map(|n| Impression::random(seed, n)).collect();
    let spread = |f: fn(&Impression) -> f32| {
        let (lo, hi) = imps
            .iter()
            .map(f)
            .fold((f32::MAX, f32::MIN), |(l, h), v| (l.min(v), h.max(v)));
        hi - lo
    };
    assert!(spread(|i| i.dx) > 10.0 && spread(|i| i.dy) > 10.0);
    assert!(spread(|i| i.rotation) > 0.1);
    assert!(spread(|i| i.pressure) > 0.2);
    // Dry impressions have less ink than wet ones of the same finger.
    let master = synthesis::master(seed);
    let dark = |p: f32| {
        let img = master.impression(
            &Impression {
                pressure: p,
                ..Impression::ideal()
            },
            seed,
            0,
        );
        img.pixels.iter().filter(|&&v| v < 128).count()
    };
    let (dry, wet) = (dark(-0.3), dark(0.3));
    assert!(
        wet as f32 > dry as f32 * 1.3,
        "dark pixels: dry {dry}, wet {wet}"
    );
}
