//! Face descriptors (128-d, dlib ResNet via face-api.js weights) with 1:1 verify and 1:N search.
//!
//! The descriptor model is a configuration value ([`EmbedderConfig`]: file, sha256, input size,
//! tensor names, threshold), so another model can be swapped in without code changes. Comparison is
//! Euclidean distance: smaller = more similar. The default threshold comes from the calibration in
//! docs/benchmarks/face.md, not from dlib's 0.6.

use std::path::Path;

use image::RgbImage;
use ort::{session::Session, value::TensorRef};
use serde::{Deserialize, Serialize};

use crate::error::{FaceError, Result};
use crate::imaging::{sample, Affine};
use crate::pipeline::FaceAnalysis;
use crate::runtime::{locate_models_dir, open_session, pinned, ModelFile};

/// Default decision threshold on the Euclidean distance (see docs/benchmarks/face.md).
pub const DEFAULT_THRESHOLD: f32 = 0.45;

/// How to run the descriptor model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EmbedderConfig {
    /// Path of libonnxruntime (`None` = `ORT_DYLIB_PATH`, then the fetch script's cache).
    pub runtime_library: Option<std::path::PathBuf>,
    /// Models folder (`None` = auto, see `runtime::locate_models_dir`).
    pub models_dir: Option<std::path::PathBuf>,
    /// The model file and its sha256.
    pub model: ModelFile,
    /// Square input side in pixels.
    pub input_size: usize,
    /// Input tensor name (NHWC float32).
    pub input_name: String,
    /// Output tensor name.
    pub output_name: String,
    /// Pixel scaling: input = px · scale + offset (the default model takes raw 0..255).
    pub pixel_scale: f32,
    /// See `pixel_scale`.
    pub pixel_offset: f32,
    /// Crop side as a multiple of the detector box side.
    pub crop_scale: f32,
    /// Distance at or below which two faces are declared the same person.
    pub threshold: f32,
    /// Intra-op threads.
    pub threads: usize,
}

impl Default for EmbedderConfig {
    fn default() -> Self {
        Self {
            runtime_library: None,
            models_dir: None,
            model: ModelFile::new(pinned::FACE_DESCRIPTOR_128.0, pinned::FACE_DESCRIPTOR_128.1),
            input_size: 150,
            input_name: "image".into(),
            output_name: "descriptor".into(),
            pixel_scale: 1.0,
            pixel_offset: 0.0,
            crop_scale: crate::DEFAULT_CROP_SCALE,
            threshold: DEFAULT_THRESHOLD,
            threads: 1,
        }
    }
}

/// A face descriptor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Embedding(pub Vec<f32>);

impl Embedding {
    /// Euclidean distance to another descriptor of the same model.
    pub fn distance(&self, other: &Embedding) -> Result<f32> {
        if self.0.len() != other.0.len() {
            return Err(FaceError::EmbeddingMismatch(self.0.len(), other.0.len()));
        }
        Ok(self.0.iter().zip(&other.0).map(|(a, b)| (a - b) * (a - b)).sum::<f32>().sqrt())
    }
}

/// Outcome of a 1:1 comparison.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct VerifyResult {
    /// Euclidean distance.
    pub distance: f32,
    /// Threshold applied.
    pub threshold: f32,
    /// `distance <= threshold`.
    pub is_match: bool,
    /// Similarity 0..100 for display (100 = identical, 50 = at the threshold); not a probability.
    pub score: f32,
}

/// Compares two descriptors against a threshold.
pub fn verify(a: &Embedding, b: &Embedding, threshold: f32) -> Result<VerifyResult> {
    let distance = a.distance(b)?;
    Ok(VerifyResult { distance, threshold, is_match: distance <= threshold, score: score(distance, threshold) })
}

fn score(distance: f32, threshold: f32) -> f32 {
    (100.0 * (1.0 - distance / (2.0 * threshold.max(1e-6)))).clamp(0.0, 100.0)
}

/// Runs the descriptor model on levelled face crops.
pub struct Embedder {
    session: Session,
    model_name: String,
    /// The configuration in force.
    pub config: EmbedderConfig,
}

impl Embedder {
    /// Loads the descriptor model (sha256-checked). Takes 120–200 ms (weights are dequantised at load).
    pub fn new(config: EmbedderConfig) -> Result<Self> {
        let dir = locate_models_dir(config.models_dir.as_deref());
        let (session, model_name) =
            open_session(config.runtime_library.as_deref(), &dir, &config.model, config.threads)?;
        Ok(Self { session, model_name, config })
    }

    /// Convenience: default model from a given models folder.
    pub fn with_models_dir(dir: &Path) -> Result<Self> {
        Self::new(EmbedderConfig { models_dir: Some(dir.to_path_buf()), ..Default::default() })
    }

    /// The levelled square crop fed to the model: centred on the detector box, side `crop_scale` × box
    /// side, rotated so that the mesh eye centres are level. Exposed for inspection and tests.
    pub fn crop(&self, frame: &RgbImage, face: &FaceAnalysis) -> Vec<f32> {
        let n = self.config.input_size;
        let (cx, cy) = face.detection.rect.center();
        let side = face.detection.rect.width.max(face.detection.rect.height) * self.config.crop_scale;
        let [r, l] = face.eye_centres;
        let angle = (l[1] - r[1]).atan2(l[0] - r[0]);
        sample(frame, &Affine::rotated_square(cx, cy, side, angle, n as f32), n, n, [0.0; 3])
    }

    /// Descriptor of a measured face.
    pub fn embed(&mut self, frame: &RgbImage, face: &FaceAnalysis) -> Result<Embedding> {
        let n = self.config.input_size;
        let (s, o) = (self.config.pixel_scale, self.config.pixel_offset);
        let input: Vec<f32> = self.crop(frame, face).into_iter().map(|v| v * s + o).collect();
        let model = self.model_name.clone();
        let err = |e: ort::Error| FaceError::Inference { model: model.clone(), reason: e.to_string() };
        let tensor = TensorRef::from_array_view(([1usize, n, n, 3], &input[..])).map_err(err)?;
        let out = self
            .session
            .run(ort::inputs![self.config.input_name.as_str() => tensor])
            .map_err(err)?;
        let Some(value) = out.get(self.config.output_name.as_str()) else {
            return Err(FaceError::Inference {
                model: self.model_name.clone(),
                reason: format!("no output named {}", self.config.output_name),
            });
        };
        let v = value.try_extract_tensor::<f32>().map_err(err)?.1.to_vec();
        if v.is_empty() || v.iter().any(|x| !x.is_finite()) {
            return Err(FaceError::ModelOutput {
                model: self.model_name.clone(),
                output: self.config.output_name.clone(),
                expected: 128,
                actual: v.len(),
            });
        }
        Ok(Embedding(v))
    }

    /// 1:1 verification with the configured threshold.
    pub fn verify(&self, a: &Embedding, b: &Embedding) -> Result<VerifyResult> {
        verify(a, b, self.config.threshold)
    }
}

/// One enrolled identity in a gallery.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GalleryEntry {
    /// Caller's identifier (person id, registration code…).
    pub id: String,
    /// The enrolled descriptor.
    pub embedding: Embedding,
}

/// A search hit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    /// Identifier of the gallery entry.
    pub id: String,
    /// Distance to the probe.
    pub distance: f32,
    /// Display score (see [`VerifyResult::score`]).
    pub score: f32,
    /// Whether the distance is within the threshold.
    pub is_match: bool,
}

/// An in-memory 1:N gallery. Linear scan: 128 floats per entry, ~10 µs per 100 entries, ample for a
/// station's local watch list or dedup check; a server-side index is the place for millions.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Gallery {
    /// Enrolled entries (several per id are allowed: multiple enrolment images).
    pub entries: Vec<GalleryEntry>,
}

impl Gallery {
    /// Adds a descriptor under `id`.
    pub fn add(&mut self, id: impl Into<String>, embedding: Embedding) {
        self.entries.push(GalleryEntry { id: id.into(), embedding });
    }

    /// Removes every entry of `id`; returns how many were removed.
    pub fn remove(&mut self, id: &str) -> usize {
        let before = self.entries.len();
        self.entries.retain(|e| e.id != id);
        before - self.entries.len()
    }

    /// The `k` closest identities (best entry per id), nearest first, with match flags at `threshold`.
    pub fn search(&self, probe: &Embedding, k: usize, threshold: f32) -> Result<Vec<Candidate>> {
        let mut best: Vec<Candidate> = Vec::new();
        for e in &self.entries {
            let d = probe.distance(&e.embedding)?;
            match best.iter_mut().find(|c| c.id == e.id) {
                Some(c) if d < c.distance => c.distance = d,
                Some(_) => {}
                None => best.push(Candidate { id: e.id.clone(), distance: d, score: 0.0, is_match: false }),
            }
        }
        best.sort_by(|a, b| a.distance.total_cmp(&b.distance));
        best.truncate(k);
        for c in &mut best {
            c.score = score(c.distance, threshold);
            c.is_match = c.distance <= threshold;
        }
        Ok(best)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_ranks_by_distance_and_dedups_ids() {
        let mut g = Gallery::default();
        g.add("a", Embedding(vec![0.0, 0.0]));
        g.add("b", Embedding(vec![1.0, 0.0]));
        g.add("a", Embedding(vec![0.9, 0.1]));
        let hits = g.search(&Embedding(vec![1.0, 0.05]), 5, 0.3).unwrap();
        assert_eq!(hits.len(), 2);
        assert_eq!(hits[0].id, "b");
        assert!(hits[0].is_match);
        assert!((hits[1].distance - (0.01f32 + 0.0025).sqrt()).abs() < 1e-6);
        assert_eq!(g.remove("a"), 2);
    }

    #[test]
    fn mismatched_lengths_are_an_error() {
        let e = Embedding(vec![0.0; 128]).distance(&Embedding(vec![0.0; 64])).unwrap_err();
        assert!(matches!(e, FaceError::EmbeddingMismatch(128, 64)));
    }
}
