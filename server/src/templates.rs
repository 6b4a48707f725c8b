//! Fingerprint templates from uploaded images: decode (PNG, JPEG, WSQ) → 8-bit grey at 500 dpi →
//! minutiae with the `fingerprint` engine.
//!
//! Extraction costs tens of milliseconds of CPU per finger, so every caller runs these functions
//! on tokio's blocking pool, never on the async executor. Templates are stored in the engine's
//! own `FPT1` encoding (see migration 0003 for why not ISO 19794-2).

use fingerprint::{FpError, MatchTemplate, Template};
use wire::BiometricIndex;

/// Why an image gave no template.
#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    /// The bytes passed the header probe but the pixels could not be decoded.
    #[error("cannot decode the image: {0}")]
    Decode(#[from] fingerprint_formats::ImageError),
    /// The engine refused the image (too small or large for a finger, or no ridges found).
    #[error("no usable fingerprint: {0}")]
    Unusable(#[from] FpError),
}

/// Declared resolutions we trust over the file's own (a scanner's real dpi); anything else is
/// taken as a mistake and the file's value (or 500) is used instead.
const PLAUSIBLE_DECLARED_DPI: std::ops::RangeInclusive<u32> = 250..=2000;

/// Extracts the minutiae of one finger image. `declared_dpi` is the request's `resolution`.
pub fn extract(bytes: &[u8], declared_dpi: Option<u32>) -> Result<Template, TemplateError> {
    let mut img = fingerprint_formats::load(bytes, 500)?;
    if let Some(dpi) = declared_dpi.filter(|d| PLAUSIBLE_DECLARED_DPI.contains(d)) {
        img = img.with_dpi(dpi)?;
    }
    let img = img.to_500_dpi()?;
    let grey = fingerprint::GrayImage::new(img.width(), img.height(), img.into_pixels())?;
    Ok(fingerprint::extract(&grey)?)
}

/// A finger of a probe or of an enrolled person, ready for matching.
pub struct FingerTemplate {
    pub index: BiometricIndex,
    pub template: Template,
}

impl FingerTemplate {
    /// Extracts the finger at `index`; an image without a usable print becomes a template with
    /// no minutiae (stored as such, so it is never retried and never matched).
    pub fn from_image(index: BiometricIndex, bytes: &[u8], declared_dpi: Option<u32>) -> Self {
        let template = extract(bytes, declared_dpi).unwrap_or_else(|e| {
            tracing::info!(index = index.code(), error = %e, "finger image gave no template");
            Template { width: 0, height: 0, dpi: 500, minutiae: vec![] }
        });
        Self { index, template }
    }

    /// Whether this template holds enough minutiae to be compared at all. Below the floor a
    /// score says nothing about identity (and artificial test patterns, which give a handful of
    /// identical minutiae, would all "match" each other).
    pub fn is_usable(&self, min_minutiae: usize) -> bool {
        self.template.minutiae.len() >= min_minutiae
    }

    /// The engine's encoding, for storage.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.template.to_bytes()
    }

    /// Preprocessed for the matcher.
    pub fn prepare(&self) -> MatchTemplate {
        MatchTemplate::new(&self.template)
    }
}

/// Extracts every finger (positions 0–9) of a list of `(index, bytes, declared dpi)`, skipping
/// faces and other modalities. The fingers are extracted on up to as many threads as there are
/// cores (one enrollment's ten fingers are independent): the decision worker waits for this
/// before it can decide the next enrollment, so it sets how fast decisions follow uploads.
pub fn extract_fingers<'a>(images: impl IntoIterator<Item = (BiometricIndex, &'a [u8], Option<u32>)>) -> Vec<FingerTemplate> {
    let fingers: Vec<_> = images.into_iter().filter(|(index, _, _)| index.is_finger()).collect();
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1).min(fingers.len()).max(1);
    if threads == 1 {
        return fingers.into_iter().map(|(index, bytes, dpi)| FingerTemplate::from_image(index, bytes, dpi)).collect();
    }
    let per_thread = fingers.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let workers: Vec<_> = fingers
            .chunks(per_thread)
            .map(|chunk| {
                scope.spawn(move || chunk.iter().map(|&(index, bytes, dpi)| FingerTemplate::from_image(index, bytes, dpi)).collect::<Vec<_>>())
            })
            .collect();
        // Chunks are joined in order, so templates keep the order of the images. A panic is passed
        // on to the caller's blocking task, which reports it as an internal error.
        workers.into_iter().flat_map(|w| w.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))).collect()
    })
}
