//! FVC-style evaluation: loading an FVC database folder, computing genuine and
//! impostor score sets, error rates (EER, FNMR at fixed FMR) and a DET plot.
//!
//! Protocol (FVC2002/2004 set B layout: 10 fingers × 8 impressions `F_I.tif`):
//! genuine = all 280 same-finger pairs; impostors = all 2,880 different-finger
//! pairs ("all-impostor" protocol); the official FVC impostor set of the 45
//! first-impression pairs is reported separately because it is far too small
//! for low-FMR figures.

use crate::error::{FpError, Result};
use crate::extract::extract;
use crate::matcher::{MatchTemplate, Matcher};
use crate::raster::GrayImage;
use crate::template::Template;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// One image of an FVC database.
#[derive(Debug, Clone)]
pub struct FvcImage {
    /// Finger id (the `F` in `F_I.tif`).
    pub finger: u32,
    /// Impression number (the `I`).
    pub impression: u32,
    /// File path.
    pub path: PathBuf,
}

/// Lists `F_I.tif` files of a folder, sorted by (finger, impression); other
/// files are ignored. Fails when fewer than two fingers are present.
pub fn list_fvc(dir: &Path) -> Result<Vec<FvcImage>> {
    let rd = std::fs::read_dir(dir).map_err(|source| FpError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut out = Vec::new();
    for ent in rd {
        let ent = ent.map_err(|source| FpError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let name = ent.file_name().to_string_lossy().to_string();
        let Some(stem) = name.strip_suffix(".tif") else {
            continue;
        };
        let Some((f, i)) = stem.split_once('_') else {
            continue;
        };
        let (Ok(finger), Ok(impression)) = (f.parse::<u32>(), i.parse::<u32>()) else {
            continue;
        };
        out.push(FvcImage {
            finger,
            impression,
            path: ent.path(),
        });
    }
    out.sort_by_key(|x| (x.finger, x.impression));
    let mut fingers: Vec<u32> = out.iter().map(|x| x.finger).collect();
    fingers.dedup();
    if fingers.len() < 2 {
        return Err(FpError::InvalidDataset(format!(
            "{} holds fewer than two fingers of F_I.tif images",
            dir.display()
        )));
    }
    Ok(out)
}

/// Error-rate summary of one score set.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Rates {
    /// Equal error rate (fraction).
    pub eer: f64,
    /// Threshold at the EER.
    pub eer_threshold: f32,
    /// Lowest FNMR with FMR ≤ 1 % (fraction).
    pub fmr100: f64,
    /// Lowest FNMR with FMR ≤ 0.1 % (fraction).
    pub fmr1000: f64,
    /// Lowest FNMR with FMR = 0 (fraction).
    pub zero_fmr: f64,
}

/// FNMR and FMR at threshold `t` (a comparison is accepted when score ≥ t).
fn rates_at(gen: &[f32], imp: &[f32], t: f32) -> (f64, f64) {
    let fnmr = gen.iter().filter(|&&s| s < t).count() as f64 / gen.len() as f64;
    let fmr = imp.iter().filter(|&&s| s >= t).count() as f64 / imp.len() as f64;
    (fnmr, fmr)
}

/// Every distinct decision threshold of a pair of score sets, ascending, with one
/// above the maximum so that "reject all" is included.
fn thresholds(gen: &[f32], imp: &[f32]) -> Vec<f32> {
    let mut t: Vec<f32> = gen.iter().chain(imp).copied().collect();
    t.sort_by(|a, b| a.total_cmp(b));
    t.dedup();
    let top = t.last().copied().unwrap_or(0.0);
    t.push(top + 1.0);
    t
}

/// Computes EER (FVC convention: where FNMR and FMR cross, taking the mean of the
/// two at the closest threshold) and FNMR at FMR ≤ 1 %, 0.1 %, 0.
pub fn rates(gen: &[f32], imp: &[f32]) -> Rates {
    let ts = thresholds(gen, imp);
    let mut best = (f64::MAX, 0.0, 0.0f32);
    let (mut f100, mut f1000, mut f0) = (1.0f64, 1.0f64, 1.0f64);
    for &t in &ts {
        let (fnmr, fmr) = rates_at(gen, imp, t);
        let gap = (fnmr - fmr).abs();
        if gap < best.0 {
            best = (gap, (fnmr + fmr) / 2.0, t);
        }
        if fmr <= 0.01 {
            f100 = f100.min(fnmr);
        }
        if fmr <= 0.001 {
            f1000 = f1000.min(fnmr);
        }
        if fmr == 0.0 {
            f0 = f0.min(fnmr);
        }
    }
    Rates {
        eer: best.1,
        eer_threshold: best.2,
        fmr100: f100,
        fmr1000: f1000,
        zero_fmr: f0,
    }
}

/// Lowest threshold whose FMR on `imp` is at most `target` (e.g. 1e-4).
pub fn threshold_for_fmr(imp: &[f32], target: f64) -> f32 {
    let mut s: Vec<f32> = imp.to_vec();
    s.sort_by(|a, b| b.total_cmp(a));
    let allowed = (target * s.len() as f64).floor() as usize;
    // Accept when score >= t: t just above the (allowed+1)-th highest impostor.
    match s.get(allowed) {
        Some(&v) => v + 1e-3,
        None => 0.0,
    }
}

/// Result of evaluating one database.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DbResult {
    /// Genuine scores (280 for a full set B).
    pub genuine: Vec<f32>,
    /// All different-finger pair scores (2,880 for a full set B).
    pub impostor: Vec<f32>,
    /// FVC protocol impostors: first impressions only (45 for set B).
    pub impostor_first: Vec<f32>,
    /// Rates with all impostors.
    pub all: Rates,
    /// Rates with first-impression impostors.
    pub fvc: Rates,
    /// Mean extraction time per image, milliseconds (wall clock).
    pub extract_ms: f64,
    /// Mean minutiae per template.
    pub mean_minutiae: f64,
    /// Comparisons per second on one thread (preprocessed templates).
    pub comparisons_per_s: f64,
}

/// Extracts templates for the given images using up to `threads` threads.
/// Images that fail (no foreground) give an empty template, which then scores
/// 0 against everything — a failure to enrol counted as errors, not skipped.
pub fn extract_all(images: &[FvcImage], threads: usize) -> Result<(Vec<Template>, f64)> {
    let threads = threads.max(1);
    let mut loaded = Vec::with_capacity(images.len());
    for im in images {
        loaded.push(GrayImage::load(&im.path)?);
    }
    let t0 = Instant::now();
    let mut out: Vec<Option<Template>> = vec![None; images.len()];
    std::thread::scope(|s| {
        let chunks: Vec<_> = out.chunks_mut(images.len().div_ceil(threads)).collect();
        let mut base = 0;
        for chunk in chunks {
            let len = chunk.len();
            let imgs = &loaded[base..base + len];
            s.spawn(move || {
                for (slot, img) in chunk.iter_mut().zip(imgs) {
                    *slot = Some(extract(img).unwrap_or(Template {
                        width: img.width() as u16,
                        height: img.height() as u16,
                        dpi: 500,
                        minutiae: Vec::new(),
                    }));
                }
            });
            base += len;
        }
    });
    let per_image_ms = t0.elapsed().as_secs_f64() * 1000.0 * threads as f64 / images.len() as f64;
    Ok((out.into_iter().flatten().collect(), per_image_ms))
}

/// Scores all pairs of one database and computes its error rates.
pub fn evaluate_db(dir: &Path, threads: usize) -> Result<DbResult> {
    let images = list_fvc(dir)?;
    let (templates, extract_ms) = extract_all(&images, threads)?;
    let prepared: Vec<MatchTemplate> = templates.iter().map(MatchTemplate::new).collect();
    let mut m = Matcher::default();
    let (mut genuine, mut impostor, mut impostor_first) = (Vec::new(), Vec::new(), Vec::new());
    let t0 = Instant::now();
    let mut comparisons = 0usize;
    for a in 0..images.len() {
        for b in a + 1..images.len() {
            let s = m.score(&prepared[a], &prepared[b]);
            comparisons += 1;
            if images[a].finger == images[b].finger {
                genuine.push(s);
            } else {
                impostor.push(s);
                if images[a].impression == 1 && images[b].impression == 1 {
                    impostor_first.push(s);
                }
            }
        }
    }
    let cps = comparisons as f64 / t0.elapsed().as_secs_f64().max(1e-9);
    if genuine.is_empty() || impostor.is_empty() {
        return Err(FpError::InvalidDataset(
            "need at least two impressions of one finger and two fingers".into(),
        ));
    }
    let all = rates(&genuine, &impostor);
    let fvc = if impostor_first.is_empty() {
        all.clone()
    } else {
        rates(&genuine, &impostor_first)
    };
    let mean_minutiae =
        templates.iter().map(|t| t.minutiae.len()).sum::<usize>() as f64 / templates.len() as f64;
    Ok(DbResult {
        genuine,
        impostor,
        impostor_first,
        all,
        fvc,
        extract_ms,
        mean_minutiae,
        comparisons_per_s: cps,
    })
}

/// Draws a DET curve (FNMR against FMR, both on log axes from 0.01 % to 100 %)
/// as a PNG, with a decade grid. Drawn by hand with the `image` crate to avoid
/// a plotting dependency; curves for several sets get different colours.
pub fn write_det_png(path: &Path, curves: &[(&[f32], &[f32])]) -> Result<()> {
    const W: u32 = 640;
    const H: u32 = 640;
    const M: f64 = 40.0;
    let mut img = image::RgbImage::from_pixel(W, H, image::Rgb([255, 255, 255]));
    let lo = -4.0f64; // log10(0.0001)
    let to_px = |fmr: f64, fnmr: f64| -> (f64, f64) {
        let fx = (fmr.max(1e-4).log10() - lo) / -lo;
        let fy = (fnmr.max(1e-4).log10() - lo) / -lo;
        (
            M + fx * (W as f64 - 2.0 * M),
            H as f64 - M - fy * (H as f64 - 2.0 * M),
        )
    };
    let grey = image::Rgb([200, 200, 200]);
    for d in 0..=4 {
        let v = 10f64.powi(-d);
        let (x, _) = to_px(v, 1.0);
        let (_, y) = to_px(1.0, v);
        line(&mut img, (x, M), (x, H as f64 - M), grey);
        line(&mut img, (M, y), (W as f64 - M, y), grey);
    }
    // EER diagonal.
    line(
        &mut img,
        to_px(1e-4, 1e-4),
        to_px(1.0, 1.0),
        image::Rgb([230, 180, 180]),
    );
    let colours = [
        [0, 0, 200],
        [200, 0, 0],
        [0, 150, 0],
        [150, 0, 150],
        [0, 0, 0],
    ];
    for (ci, (gen, imp)) in curves.iter().enumerate() {
        let col = image::Rgb(colours[ci % colours.len()]);
        let mut prev: Option<(f64, f64)> = None;
        for t in thresholds(gen, imp) {
            let (fnmr, fmr) = rates_at(gen, imp, t);
            let p = to_px(fmr, fnmr);
            if let Some(q) = prev {
                line(&mut img, q, p, col);
            }
            prev = Some(p);
        }
    }
    img.save(path).map_err(|source| FpError::ImageLoad {
        path: path.to_path_buf(),
        source,
    })
}

fn line(img: &mut image::RgbImage, a: (f64, f64), b: (f64, f64), c: image::Rgb<u8>) {
    let steps = ((b.0 - a.0).abs().max((b.1 - a.1).abs()).ceil() as usize).max(1);
    for s in 0..=steps {
        let t = s as f64 / steps as f64;
        let x = a.0 + (b.0 - a.0) * t;
        let y = a.1 + (b.1 - a.1) * t;
        if x >= 0.0 && y >= 0.0 && (x as u32) < img.width() && (y as u32) < img.height() {
            img.put_pixel(x as u32, y as u32, c);
        }
    }
}
