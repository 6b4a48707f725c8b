//! BlazeFace face detection (MediaPipe's SSD-style detector, ONNX).
//!
//! Two variants are supported: the short-range 128×128 model (default: a cooperative subject in
//! front of a station webcam, within ~2 m) and the full-range 192×192 model (subjects further away,
//! small faces). Decoding follows MediaPipe: fixed anchors, sigmoid scores, weighted NMS.

use std::path::Path;

use image::RgbImage;
use ort::{session::Session, value::TensorRef};
use serde::{Deserialize, Serialize};

use crate::error::{FaceError, Result};
use crate::imaging::{sample, Letterbox};
use crate::runtime::{open_session, pinned, ModelFile};

/// Which BlazeFace model to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum DetectorKind {
    /// Short range (≤ ~2 m), 128 px input, ~1.5 ms: the right choice for a capture-station webcam.
    #[default]
    Front128,
    /// Full range (≤ ~5 m), 192 px input, ~4.5 ms: for kiosks where the subject stands further back.
    FullRange192,
}

impl DetectorKind {
    /// The pinned model file for this detector.
    pub fn default_model(self) -> ModelFile {
        let (f, s) = match self {
            Self::Front128 => pinned::BLAZEFACE_FRONT_128,
            Self::FullRange192 => pinned::BLAZEFACE_FULL_RANGE_192,
        };
        ModelFile::new(f, s)
    }
    fn input_size(self) -> usize {
        match self {
            Self::Front128 => 128,
            Self::FullRange192 => 192,
        }
    }
    /// (stride, anchors per cell) for each anchor layer.
    fn layers(self) -> &'static [(usize, usize)] {
        match self {
            Self::Front128 => &[(8, 2), (16, 6)],
            Self::FullRange192 => &[(4, 1)],
        }
    }
}

/// An axis-aligned rectangle in frame pixels.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
pub struct Rect {
    /// Left edge.
    pub x: f32,
    /// Top edge.
    pub y: f32,
    /// Width.
    pub width: f32,
    /// Height.
    pub height: f32,
}

impl Rect {
    /// Centre point.
    pub fn center(&self) -> (f32, f32) {
        (self.x + self.width / 2.0, self.y + self.height / 2.0)
    }
    /// Intersection over union with another rectangle.
    pub fn iou(&self, o: &Rect) -> f32 {
        let ix = (self.x + self.width).min(o.x + o.width) - self.x.max(o.x);
        let iy = (self.y + self.height).min(o.y + o.height) - self.y.max(o.y);
        if ix <= 0.0 || iy <= 0.0 {
            return 0.0;
        }
        let inter = ix * iy;
        let union = self.width * self.height + o.width * o.height - inter;
        if union > 0.0 { inter / union } else { 0.0 }
    }
}

/// One detected face.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Detection {
    /// Detector confidence 0..1.
    pub score: f32,
    /// Face box in frame pixels.
    pub rect: Rect,
    /// Six keypoints in frame pixels: right eye, left eye, nose tip, mouth, right ear, left ear
    /// ("right" = the subject's right = image-left in an unmirrored frame).
    pub keypoints: [[f32; 2]; 6],
}

/// A BlazeFace detector with its ONNX Runtime session.
pub struct Detector {
    kind: DetectorKind,
    session: Session,
    model_name: String,
    anchors: Vec<(f32, f32)>,
    /// Minimum score kept (MediaPipe default 0.5).
    pub min_score: f32,
    /// IoU above which candidates are merged by weighted NMS (MediaPipe default 0.3).
    pub nms_iou: f32,
    input: Vec<f32>,
}

impl Detector {
    /// Loads the detector model (sha256-checked) and precomputes its anchors.
    pub fn new(kind: DetectorKind, model: &ModelFile, runtime: Option<&Path>, models_dir: &Path) -> Result<Self> {
        let (session, model_name) = open_session(runtime, models_dir, model, 1)?;
        let size = kind.input_size();
        let mut anchors = Vec::new();
        for &(stride, per_cell) in kind.layers() {
            let n = size / stride;
            for y in 0..n {
                for x in 0..n {
                    let c = ((x as f32 + 0.5) / n as f32, (y as f32 + 0.5) / n as f32);
                    anchors.extend(std::iter::repeat_n(c, per_cell));
                }
            }
        }
        Ok(Self { kind, session, model_name, anchors, min_score: 0.5, nms_iou: 0.3, input: Vec::new() })
    }

    /// Which model this detector runs.
    pub fn kind(&self) -> DetectorKind {
        self.kind
    }

    /// Detects faces, best first. The frame is letterboxed to a square so faces keep their shape.
    pub fn detect(&mut self, frame: &RgbImage) -> Result<Vec<Detection>> {
        let size = self.kind.input_size();
        let lb = Letterbox::new(frame.width(), frame.height());
        let buf = sample(frame, &lb.affine(size as f32), size, size, [0.0; 3]);
        self.input.clear();
        self.input.extend(buf.iter().map(|v| v / 127.5 - 1.0));
        let model = self.model_name.clone();
        let err = |e: ort::Error| FaceError::Inference { model: model.clone(), reason: e.to_string() };
        let tensor = TensorRef::from_array_view(([1usize, size, size, 3], &self.input[..])).map_err(err)?;
        let n = self.anchors.len();
        let (scores, regs) = match self.kind {
            DetectorKind::Front128 => {
                let out = self.session.run(ort::inputs!["input:0" => tensor]).map_err(err)?;
                let mut s = out["Identity:0"].try_extract_tensor::<f32>().map_err(err)?.1.to_vec();
                s.extend_from_slice(out["Identity_1:0"].try_extract_tensor::<f32>().map_err(err)?.1);
                let mut r = out["Identity_2:0"].try_extract_tensor::<f32>().map_err(err)?.1.to_vec();
                r.extend_from_slice(out["Identity_3:0"].try_extract_tensor::<f32>().map_err(err)?.1);
                (s, r)
            }
            DetectorKind::FullRange192 => {
                let out = self.session.run(ort::inputs!["input" => tensor]).map_err(err)?;
                let s = out["reshaped_classifier_face_4"].try_extract_tensor::<f32>().map_err(err)?.1.to_vec();
                let r = out["reshaped_regressor_face_4"].try_extract_tensor::<f32>().map_err(err)?.1.to_vec();
                (s, r)
            }
        };
        if scores.len() != n || regs.len() != n * 16 {
            return Err(FaceError::ModelOutput {
                model: self.model_name.clone(),
                output: "scores/regressors".into(),
                expected: n * 17,
                actual: scores.len() + regs.len(),
            });
        }
        let s = size as f32;
        let mut cands = Vec::new();
        for i in 0..n {
            let score = 1.0 / (1.0 + (-scores[i].clamp(-80.0, 80.0)).exp());
            if score < self.min_score {
                continue;
            }
            let r = &regs[i * 16..i * 16 + 16];
            let (ax, ay) = self.anchors[i];
            let (cx, cy) = (ax + r[0] / s, ay + r[1] / s);
            let (w, h) = (r[2] / s, r[3] / s);
            let (x0, y0) = lb.to_frame(cx - w / 2.0, cy - h / 2.0);
            let (x1, y1) = lb.to_frame(cx + w / 2.0, cy + h / 2.0);
            let mut kps = [[0.0f32; 2]; 6];
            for (k, kp) in kps.iter_mut().enumerate() {
                let (px, py) = lb.to_frame(ax + r[4 + 2 * k] / s, ay + r[5 + 2 * k] / s);
                *kp = [px, py];
            }
            cands.push(Detection { score, rect: Rect { x: x0, y: y0, width: x1 - x0, height: y1 - y0 }, keypoints: kps });
        }
        Ok(weighted_nms(cands, self.nms_iou))
    }
}

/// MediaPipe-style weighted NMS: candidates overlapping the best one are averaged (weighted by score)
/// instead of discarded, which gives steadier boxes from frame to frame.
pub fn weighted_nms(mut cands: Vec<Detection>, iou: f32) -> Vec<Detection> {
    cands.sort_by(|a, b| b.score.total_cmp(&a.score));
    let mut out = Vec::new();
    while !cands.is_empty() {
        let best = cands[0].clone();
        let (group, rest): (Vec<_>, Vec<_>) = cands.into_iter().partition(|d| best.rect.iou(&d.rect) > iou);
        cands = rest;
        let wsum: f32 = group.iter().map(|d| d.score).sum();
        let mut merged = best.clone();
        if wsum > 0.0 && group.len() > 1 {
            let avg = |f: &dyn Fn(&Detection) -> f32| group.iter().map(|d| f(d) * d.score).sum::<f32>() / wsum;
            let x0 = avg(&|d| d.rect.x);
            let y0 = avg(&|d| d.rect.y);
            let x1 = avg(&|d| d.rect.x + d.rect.width);
            let y1 = avg(&|d| d.rect.y + d.rect.height);
            merged.rect = Rect { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
            for k in 0..6 {
                merged.keypoints[k] = [avg(&|d| d.keypoints[k][0]), avg(&|d| d.keypoints[k][1])];
            }
        }
        out.push(merged);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn det(score: f32, x: f32) -> Detection {
        Detection { score, rect: Rect { x, y: 0.0, width: 10.0, height: 10.0 }, keypoints: [[x, 0.0]; 6] }
    }

    #[test]
    fn nms_merges_overlaps_and_keeps_separate_faces() {
        let out = weighted_nms(vec![det(0.6, 2.0), det(0.9, 0.0), det(0.8, 50.0)], 0.3);
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].score, 0.9);
        // merged box lies between the two overlapping candidates, nearer the stronger one
        assert!(out[0].rect.x > 0.0 && out[0].rect.x < 1.0, "{}", out[0].rect.x);
        assert_eq!(out[1].rect.x, 50.0);
    }

    #[test]
    fn iou_of_disjoint_and_identical() {
        let a = Rect { x: 0.0, y: 0.0, width: 10.0, height: 10.0 };
        let b = Rect { x: 20.0, y: 0.0, width: 10.0, height: 10.0 };
        assert_eq!(a.iou(&b), 0.0);
        assert!((a.iou(&a) - 1.0).abs() < 1e-6);
    }
}
