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

mod det;
mod font;

pub use det::{render_det, write_det_png, DetCurve};

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

impl DbResult {
    /// The rate lines every eval prints, in this order (`EER 2.85%` first, all-impostor
    /// protocol; then FMR100, FMR1000, ZeroFMR and the FVC protocol's EER, labelled), so the
    /// native and ONNX extractors' reports read the same and scripts can grep them alike.
    pub fn rate_lines(&self) -> Vec<String> {
        vec![
            format!("EER {:.2}%", self.all.eer * 100.0),
            format!("FMR100 {:.2}%", self.all.fmr100 * 100.0),
            format!("FMR1000 {:.2}%", self.all.fmr1000 * 100.0),
            format!("ZeroFMR {:.2}%", self.all.zero_fmr * 100.0),
            format!("FVC protocol ({} first-impression impostors): EER {:.2}%", self.impostor_first.len(), self.fvc.eer * 100.0),
        ]
    }
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

/// Scores all pairs of one database and computes its error rates, with the
/// engine's own extractor on `threads` threads.
pub fn evaluate_db(dir: &Path, threads: usize) -> Result<DbResult> {
    let images = list_fvc(dir)?;
    let (templates, extract_ms) = extract_all(&images, threads)?;
    score_db(&images, &templates, extract_ms)
}

/// Scores all pairs of already extracted templates (`templates[i]` from
/// `images[i]`) with the engine's matcher and computes the error rates.
///
/// Separate from extraction so that another extractor (e.g. a neural one in its
/// own crate) is evaluated on exactly the same pairs and protocol.
pub fn score_db(images: &[FvcImage], templates: &[Template], extract_ms: f64) -> Result<DbResult> {
    if images.len() != templates.len() {
        return Err(FpError::InvalidDataset(format!(
            "{} images but {} templates",
            images.len(),
            templates.len()
        )));
    }
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

/// A short human name for a database folder, e.g. `.../fvc2002/DB1_B` →
/// "FVC2002 DB1_B", for legends and reports.
pub fn db_label(dir: &Path) -> String {
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| dir.display().to_string());
    match dir.parent().and_then(|p| p.file_name()) {
        Some(parent) => format!("{} {}", parent.to_string_lossy().to_uppercase(), name),
        None => name,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separated_scores_have_zero_eer() {
        let r = rates(&[10.0, 11.0, 12.0], &[1.0, 2.0, 3.0, 4.0]);
        assert_eq!(r.eer, 0.0);
        assert_eq!(r.fmr100, 0.0);
        assert!(r.eer_threshold > 4.0 && r.eer_threshold <= 10.0);
    }

    #[test]
    fn eer_of_overlapping_scores() {
        // Genuine 1..=10, impostor 0..=9 (offset 1): at t = 6, FNMR 5/10, FMR 4/10;
        // the closest crossing gives (FNMR + FMR) / 2 = 0.45.
        let gen: Vec<f32> = (1..=10).map(|v| v as f32).collect();
        let imp: Vec<f32> = (0..10).map(|v| v as f32).collect();
        let r = rates(&gen, &imp);
        assert!((r.eer - 0.45).abs() < 1e-9, "eer {}", r.eer);
    }

    #[test]
    fn score_db_rejects_mismatched_lengths() {
        let images = vec![FvcImage {
            finger: 1,
            impression: 1,
            path: PathBuf::from("1_1.tif"),
        }];
        assert!(matches!(
            score_db(&images, &[], 0.0),
            Err(FpError::InvalidDataset(_))
        ));
    }

    #[test]
    fn db_label_names_year_and_set() {
        assert_eq!(db_label(Path::new("/d/fvc2004/DB2_B")), "FVC2004 DB2_B");
    }
}
