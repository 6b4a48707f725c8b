//! 468-point face mesh (MediaPipe Face Mesh, ONNX) and the geometry derived from it: head pose,
//! eye aspect ratio, eye centres.
//!
//! The mesh model needs an upright, tightly framed face, so the ROI is taken from the detector:
//! a square of 1.5 × the box side, centred on the box and rotated so that the eye line is level.

use std::path::Path;

use image::RgbImage;
use ort::{session::Session, value::TensorRef};
use serde::{Deserialize, Serialize};

use crate::detect::Detection;
use crate::error::{FaceError, Result};
use crate::imaging::{sample, Affine};
use crate::runtime::{open_session, ModelFile};

/// Side of the mesh model input.
pub const MESH_INPUT: usize = 192;

/// Mesh indices used by the pipeline (MediaPipe canonical mesh; "right" = subject's right = image-left).
pub mod idx {
    /// Right-eye EAR points p1..p6 (outer corner, upper outer, upper inner, inner corner, lower inner, lower outer).
    pub const RIGHT_EYE: [usize; 6] = [33, 160, 158, 133, 153, 144];
    /// Left-eye EAR points p1..p6.
    pub const LEFT_EYE: [usize; 6] = [362, 385, 387, 263, 373, 380];
    /// Nose tip.
    pub const NOSE_TIP: usize = 1;
    /// Chin.
    pub const CHIN: usize = 152;
    /// Top of forehead.
    pub const FOREHEAD: usize = 10;
    /// Right eye outer corner.
    pub const RIGHT_EYE_OUTER: usize = 33;
    /// Right eye inner corner.
    pub const RIGHT_EYE_INNER: usize = 133;
    /// Left eye outer corner.
    pub const LEFT_EYE_OUTER: usize = 263;
    /// Left eye inner corner.
    pub const LEFT_EYE_INNER: usize = 362;
    /// Mouth corners (right, left).
    pub const MOUTH: [usize; 2] = [61, 291];
    /// Face sides (right, left).
    pub const FACE_SIDES: [usize; 2] = [234, 454];
}

/// Head pose in degrees. Signs: yaw > 0 when the subject turns to their right (nose moves to the
/// image-left in an unmirrored frame), pitch > 0 when looking down, roll > 0 when the eye line
/// descends toward the image-right.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
pub struct HeadPose {
    /// Left/right rotation.
    pub yaw: f32,
    /// Up/down rotation.
    pub pitch: f32,
    /// In-plane rotation.
    pub roll: f32,
}

/// The mesh of one face mapped back to frame pixels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaceMesh {
    /// 468 points (x, y, z) in frame pixels; z is relative depth (negative = closer to the camera).
    pub points: Vec<[f32; 3]>,
    /// Face-presence probability reported by the mesh model (0..1).
    pub presence: f32,
    /// The ROI the mesh was computed in (centre x, centre y, side, angle in radians).
    pub roi: [f32; 4],
}

impl FaceMesh {
    /// 2-D point `i`.
    pub fn p(&self, i: usize) -> [f32; 2] {
        [self.points[i][0], self.points[i][1]]
    }

    /// Eye aspect ratio of the six points `e` (p1..p6): (|p2−p6| + |p3−p5|) / (2·|p1−p4|).
    /// About 0.25 for an open eye, below ~0.15 when closed.
    pub fn ear(&self, e: [usize; 6]) -> f32 {
        let d = |a: usize, b: usize| dist(self.p(a), self.p(b));
        let w = d(e[0], e[3]);
        if w <= f32::EPSILON {
            return 0.0;
        }
        (d(e[1], e[5]) + d(e[2], e[4])) / (2.0 * w)
    }

    /// (right, left) eye aspect ratios.
    pub fn eye_openness(&self) -> (f32, f32) {
        (self.ear(idx::RIGHT_EYE), self.ear(idx::LEFT_EYE))
    }

    /// Eye centres (right eye = image-left, left eye = image-right), as midpoints of the eye corners.
    pub fn eye_centres(&self) -> ([f32; 2], [f32; 2]) {
        let mid = |a: [f32; 2], b: [f32; 2]| [(a[0] + b[0]) / 2.0, (a[1] + b[1]) / 2.0];
        (
            mid(self.p(idx::RIGHT_EYE_OUTER), self.p(idx::RIGHT_EYE_INNER)),
            mid(self.p(idx::LEFT_EYE_OUTER), self.p(idx::LEFT_EYE_INNER)),
        )
    }

    /// Head pose from the mesh's own 3-D frame (no camera model): x̂ along the eye corners 33→263,
    /// ŷ forehead→chin made orthogonal, ẑ = x̂ × ŷ. `pitch_offset` is subtracted from the pitch
    /// because the 10→152 axis is not exactly vertical for a frontal face.
    pub fn head_pose(&self, pitch_offset: f32) -> HeadPose {
        let p = |i: usize| self.points[i];
        let sub = |a: [f32; 3], b: [f32; 3]| [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
        let dot = |a: [f32; 3], b: [f32; 3]| a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
        let norm = |a: [f32; 3]| {
            let n = dot(a, a).sqrt().max(1e-9);
            [a[0] / n, a[1] / n, a[2] / n]
        };
        let xa = norm(sub(p(idx::LEFT_EYE_OUTER), p(idx::RIGHT_EYE_OUTER)));
        let y0 = sub(p(idx::CHIN), p(idx::FOREHEAD));
        let k = dot(y0, xa);
        let ya = norm([y0[0] - k * xa[0], y0[1] - k * xa[1], y0[2] - k * xa[2]]);
        let za = [xa[1] * ya[2] - xa[2] * ya[1], xa[2] * ya[0] - xa[0] * ya[2], xa[0] * ya[1] - xa[1] * ya[0]];
        // R = [xa ya za] as columns: R[r][c]
        let r20 = xa[2];
        let r21 = ya[2];
        let r22 = za[2];
        let r10 = xa[1];
        let r00 = xa[0];
        HeadPose {
            yaw: (-r20).clamp(-1.0, 1.0).asin().to_degrees(),
            pitch: r21.atan2(r22).to_degrees() - pitch_offset,
            roll: r10.atan2(r00).to_degrees(),
        }
    }
}

/// Euclidean distance of two 2-D points.
pub fn dist(a: [f32; 2], b: [f32; 2]) -> f32 {
    ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)).sqrt()
}

/// The mesh model with its session.
pub struct MeshModel {
    session: Session,
    model_name: String,
    input: Vec<f32>,
}

/// The levelled ROI crop the mesh was computed on (reused for blur/exposure measurement).
pub struct MeshCrop {
    /// Interleaved RGB, 0..255, `MESH_INPUT`² pixels.
    pub rgb: Vec<f32>,
    /// Map from crop pixels to frame pixels.
    pub map: Affine,
}

impl MeshModel {
    /// Loads the mesh model (sha256-checked).
    pub fn new(model: &ModelFile, runtime: Option<&Path>, models_dir: &Path) -> Result<Self> {
        let (session, model_name) = open_session(runtime, models_dir, model, 1)?;
        Ok(Self { session, model_name, input: Vec::new() })
    }

    /// The ROI for a detection: centre of the box, side 1.5 × max(w, h), angle of the eye line.
    pub fn roi_for(det: &Detection) -> (f32, f32, f32, f32) {
        let (cx, cy) = det.rect.center();
        let side = det.rect.width.max(det.rect.height) * 1.5;
        let [rx, ry] = det.keypoints[0];
        let [lx, ly] = det.keypoints[1];
        (cx, cy, side, (ly - ry).atan2(lx - rx))
    }

    /// Runs the mesh on the ROI of `det` and maps the points back to the frame.
    pub fn run(&mut self, frame: &RgbImage, det: &Detection) -> Result<(FaceMesh, MeshCrop)> {
        let (cx, cy, side, angle) = Self::roi_for(det);
        let map = Affine::rotated_square(cx, cy, side, angle, MESH_INPUT as f32);
        let rgb = sample(frame, &map, MESH_INPUT, MESH_INPUT, [0.0; 3]);
        self.input.clear();
        self.input.extend(rgb.iter().map(|v| v / 255.0));
        let model = self.model_name.clone();
        let err = |e: ort::Error| FaceError::Inference { model: model.clone(), reason: e.to_string() };
        let tensor =
            TensorRef::from_array_view(([1usize, MESH_INPUT, MESH_INPUT, 3], &self.input[..])).map_err(err)?;
        let out = self.session.run(ort::inputs!["input_1" => tensor]).map_err(err)?;
        let raw = out["conv2d_20"].try_extract_tensor::<f32>().map_err(err)?.1.to_vec();
        let flag = out["conv2d_30"].try_extract_tensor::<f32>().map_err(err)?.1.to_vec();
        if raw.len() != 468 * 3 || flag.len() != 1 {
            return Err(FaceError::ModelOutput {
                model: self.model_name.clone(),
                output: "conv2d_20".into(),
                expected: 1404,
                actual: raw.len(),
            });
        }
        let zscale = side / MESH_INPUT as f32;
        let points = raw
            .chunks_exact(3)
            .map(|p| {
                let (x, y) = map.apply(p[0], p[1]);
                [x, y, p[2] * zscale]
            })
            .collect();
        let presence = 1.0 / (1.0 + (-flag[0].clamp(-80.0, 80.0)).exp());
        Ok((FaceMesh { points, presence, roi: [cx, cy, side, angle] }, MeshCrop { rgb, map }))
    }
}
