//! Image quality on the NFIQ 2 scale (0–100) with human-readable reasons, and an
//! autocapture helper for live scanners.
//!
//! The measures are the ones NFIQ 2 builds on (Tabassi et al., NISTIR 8382):
//! foreground area, orientation certainty (gradient-tensor coherence), ridge
//! clarity (local contrast), ridge-valley uniformity (stability of the ridge
//! period), plus minutiae count. They are combined by a fixed, monotone formula
//! rather than NFIQ 2's trained random forest, so the number is comparable in
//! range and ordering, not identical.

use crate::error::Result;
use crate::extract::extract_from_field;
use crate::field::{analyse, Field};
use crate::raster::GrayImage;
use serde::Serialize;

/// Why an image is not good, in words an operator can act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// Faint, broken ridges: light, low-contrast print (dry skin, little pressure).
    TooDry,
    /// Dark, merged ridges: smudged print (wet skin, too much pressure).
    TooWet,
    /// Only part of the finger touched the sensor.
    PartialContact,
    /// The print area is too small for reliable matching.
    TooSmall,
    /// The print is far from the centre of the sensor.
    OffCentre,
    /// Ridges are blurred or streaked (motion, defocus).
    Blurred,
    /// Too few minutiae were found.
    FewMinutiae,
}

/// Quality assessment of one image.
#[derive(Debug, Clone, Serialize)]
pub struct Quality {
    /// Overall score, 0 (unusable) to 100, on the NFIQ 2 scale.
    pub score: u8,
    /// Fraction of the image covered by the print (0–1).
    pub foreground: f32,
    /// Mean orientation certainty over the print (0–1).
    pub orientation_certainty: f32,
    /// Ridge clarity: median local contrast of the print, normalised (0–1).
    pub ridge_clarity: f32,
    /// Ridge-valley uniformity: 1 − coefficient of variation of the ridge period (0–1).
    pub ridge_uniformity: f32,
    /// Mean grey level inside the print (0–255); low = wet/dark, high = dry/light.
    pub mean_grey: f32,
    /// Distance of the print's centroid from the image centre, as a fraction of the half-diagonal.
    pub off_centre: f32,
    /// Minutiae found by the extractor.
    pub minutiae: usize,
    /// Problems found, most important first; empty for a good image.
    pub reasons: Vec<Reason>,
}

/// Assesses an image. Blank or featureless images are not an error here: they
/// get score 0 with a reason, because autocapture feeds such frames constantly.
pub fn assess(img: &GrayImage) -> Result<Quality> {
    match analyse(img) {
        Ok(f) => Ok(assess_field(img, &f)),
        Err(crate::FpError::NoForeground) => Ok(Quality {
            score: 0,
            foreground: 0.0,
            orientation_certainty: 0.0,
            ridge_clarity: 0.0,
            ridge_uniformity: 0.0,
            mean_grey: img.pixels().iter().map(|&p| p as f32).sum::<f32>()
                / img.pixels().len() as f32,
            off_centre: 1.0,
            minutiae: 0,
            reasons: vec![Reason::TooSmall],
        }),
        Err(e) => Err(e),
    }
}

/// Assessment from an existing analysis (avoids analysing twice).
pub fn assess_field(img: &GrayImage, f: &Field) -> Quality {
    let nb = f.mask.len();
    let fg: Vec<usize> = (0..nb).filter(|&i| f.mask[i]).collect();
    let foreground = fg.len() as f32 / nb as f32;
    let ocl = fg.iter().map(|&i| f.coherence[i]).sum::<f32>() / fg.len().max(1) as f32;
    let mut en: Vec<f32> = fg.iter().map(|&i| f.energy[i]).collect();
    en.sort_by(|a, b| a.total_cmp(b));
    // Sobel gradient energy of a contrasty 500 dpi print (unit-variance image) is about 40.
    let clarity = (en.get(en.len() / 2).copied().unwrap_or(0.0) / 40.0).min(1.0);
    let periods: Vec<f32> = fg
        .iter()
        .map(|&i| f.period[i])
        .filter(|&p| p > 0.0)
        .collect();
    let valid_frac = periods.len() as f32 / fg.len().max(1) as f32;
    let uniformity = if periods.len() > 4 {
        let m = periods.iter().sum::<f32>() / periods.len() as f32;
        let v = periods.iter().map(|p| (p - m).powi(2)).sum::<f32>() / periods.len() as f32;
        (1.0 - v.sqrt() / m).clamp(0.0, 1.0) * valid_frac
    } else {
        0.0
    };
    let (mut gsum, mut gcnt, mut cx, mut cy) = (0.0f64, 0.0f64, 0.0f64, 0.0f64);
    for &i in &fg {
        let (bx, by) = (i % f.bw, i / f.bw);
        cx += bx as f64;
        cy += by as f64;
        for y in by * 8..((by + 1) * 8).min(f.height) {
            for x in bx * 8..((bx + 1) * 8).min(f.width) {
                gsum += img.get(x as u32, y as u32) as f64;
                gcnt += 1.0;
            }
        }
    }
    let mean_grey = (gsum / gcnt.max(1.0)) as f32;
    let n = fg.len().max(1) as f64;
    let (dx, dy) = (
        cx / n + 0.5 - f.bw as f64 / 2.0,
        cy / n + 0.5 - f.bh as f64 / 2.0,
    );
    let off_centre =
        ((dx * dx + dy * dy).sqrt() / ((f.bw * f.bw + f.bh * f.bh) as f64).sqrt() * 2.0) as f32;
    let minutiae = extract_from_field(f).minutiae.len();
    // Area in blocks of 8 px: 40,000 px² (~ 10 x 10 mm) is a full-contact flat.
    let area_px = fg.len() as f32 * 64.0;
    let area = (area_px / 60_000.0).min(1.0);
    let mcount = (minutiae as f32 / 35.0).min(1.0);
    // 70 rather than 100: NFIQ 2 gives even clean synthetic prints 45–57 and
    // real good flats rarely exceed 80, so the product of the factors (≈1 only
    // for an ideal print) is scaled into that band.
    let score = 70.0
        * area.powf(0.5)
        * (ocl / 0.7).min(1.0).powf(1.2)
        * (0.5 + 0.5 * clarity)
        * (0.4 + 0.6 * uniformity)
        * (0.5 + 0.5 * mcount);
    let score = score.round().clamp(0.0, 100.0) as u8;
    let mut reasons = Vec::new();
    if area_px < 20_000.0 {
        reasons.push(Reason::TooSmall);
    } else if foreground < 0.35 && area < 1.0 {
        reasons.push(Reason::PartialContact);
    }
    if off_centre > 0.35 {
        reasons.push(Reason::OffCentre);
    }
    if clarity < 0.35 && mean_grey > 150.0 {
        reasons.push(Reason::TooDry);
    } else if mean_grey < 90.0 && ocl < 0.45 {
        reasons.push(Reason::TooWet);
    } else if ocl < 0.35 {
        reasons.push(Reason::Blurred);
    }
    if minutiae < 12 {
        reasons.push(Reason::FewMinutiae);
    }
    Quality {
        score,
        foreground,
        orientation_certainty: ocl,
        ridge_clarity: clarity,
        ridge_uniformity: uniformity,
        mean_grey,
        off_centre,
        minutiae,
        reasons,
    }
}

/// Autocapture decision after one frame.
#[derive(Debug, Clone, PartialEq)]
pub enum CaptureState {
    /// Keep feeding frames; `quality` is this frame's score and `streak` the
    /// number of consecutive frames at or above the threshold so far.
    Waiting {
        /// This frame's score.
        quality: u8,
        /// Consecutive good frames.
        streak: usize,
    },
    /// Enough consecutive good frames: take [`Autocapture::best`].
    Accepted {
        /// Score of the best frame.
        quality: u8,
    },
}

/// Autocapture for live scanners: accept when `needed` consecutive frames reach
/// `threshold`, then hand out the best frame seen in that streak. Requiring a
/// streak avoids grabbing a frame while the finger is still landing or sliding.
#[derive(Debug, Clone)]
pub struct Autocapture {
    threshold: u8,
    needed: usize,
    streak: usize,
    best: Option<(u8, GrayImage)>,
}

impl Autocapture {
    /// New helper; `needed` is clamped to at least 1.
    pub fn new(threshold: u8, needed: usize) -> Self {
        Self {
            threshold,
            needed: needed.max(1),
            streak: 0,
            best: None,
        }
    }

    /// Feeds one frame. A frame below the threshold resets the streak (and the
    /// best frame, which must come from the accepted streak).
    pub fn feed(&mut self, frame: GrayImage) -> Result<CaptureState> {
        let q = assess(&frame)?.score;
        if q < self.threshold {
            self.streak = 0;
            self.best = None;
            return Ok(CaptureState::Waiting {
                quality: q,
                streak: 0,
            });
        }
        self.streak += 1;
        if self.best.as_ref().is_none_or(|(b, _)| q > *b) {
            self.best = Some((q, frame));
        }
        if self.streak >= self.needed {
            let quality = self.best.as_ref().map(|b| b.0).unwrap_or(q);
            Ok(CaptureState::Accepted { quality })
        } else {
            Ok(CaptureState::Waiting {
                quality: q,
                streak: self.streak,
            })
        }
    }

    /// The best frame of the current streak with its score.
    pub fn best(&self) -> Option<(u8, &GrayImage)> {
        self.best.as_ref().map(|(q, i)| (*q, i))
    }

    /// Starts over (next finger).
    pub fn reset(&mut self) {
        self.streak = 0;
        self.best = None;
    }
}
