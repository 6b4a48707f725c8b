//! Eye contours from MediaPipe Iris (`iris_landmark.onnx`), and the eye openness measured on them.
//!
//! Why a second model: the 468-point face mesh (without MediaPipe's attention/iris refinement)
//! barely moves its eyelid points when the eyelids close — a rendered full blink read 0.90 of the
//! open-eye aspect ratio, eyes painted over with skin 0.89 (google-ai-edge/mediapipe issues 965,
//! 1538, 1919) — so neither a blink nor closed eyes could be seen from it. The iris model looks at
//! each eye at 64×64 and places 16 eyelid-contour points that do follow the lids.
//!
//! The crop is MediaPipe's: a square of 2.3 × the larger of |Δx|, |Δy| between the mesh's eye
//! corners, centred on their midpoint and rotated along the corner line. The model knows only the
//! image-left eye; the image-right eye's crop is mirrored horizontally (its outer corner then lies
//! on the crop's left, as for the other eye) and its points go back through the same mirrored map.

use std::path::Path;

use image::RgbImage;
use ort::{session::Session, value::TensorRef};
use serde::{Deserialize, Serialize};

use crate::error::{FaceError, Result};
use crate::imaging::{sample, Affine};
use crate::landmarks::{dist, idx, FaceMesh};
use crate::runtime::{open_session, ModelFile};

/// Side of the iris model's input.
pub const EYE_INPUT: usize = 64;

/// Crop side as a multiple of the larger of |Δx|, |Δy| between the eye corners (MediaPipe's value).
pub const EYE_CROP_SCALE: f32 = 2.3;

/// Number of eye-contour-and-brow points the model returns per eye.
pub const CONTOUR_POINTS: usize = 71;

/// Positions in the model's contour output of the six eye-aspect-ratio points p1..p6: outer corner,
/// upper lid outer third, upper lid inner third, inner corner, lower lid inner third, lower lid outer
/// third. The first 16 contour points are, for the image-left eye, mesh points 33, 7, 163, 144, 145,
/// 153, 154, 155, 133 (corner, lower lid, corner) then 246, 161, 160, 159, 158, 157, 173 (upper lid),
/// so p1..p6 = mesh 33, 160, 158, 133, 153, 144 — the classic EAR points; the mirrored eye's
/// contour is the same list on 263, 387, 385, 362, 380, 373.
pub const EAR_CONTOUR: [usize; 6] = [0, 11, 13, 8, 5, 3];

/// One eye as the iris model sees it, in frame pixels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EyeContour {
    /// The 71 eye-contour and brow points (x, y) in frame pixels; the first 16 outline the eyelids.
    pub contour: Vec<[f32; 2]>,
    /// Iris centre in frame pixels.
    pub iris_centre: [f32; 2],
    /// Iris radius in frame pixels (mean distance from the centre to the four edge points).
    pub iris_radius: f32,
    /// Eye aspect ratio of the contour (see [`EyeContour::aspect_ratio`]).
    pub openness: f32,
}

impl EyeContour {
    /// Eye aspect ratio of the lid contour: (|p2−p6| + |p3−p5|) / (2·|p1−p4|) on [`EAR_CONTOUR`].
    /// Measured on open eyes about 0.29–0.36 and on a rendered closed eye 0.05–0.10 (see
    /// `CaptureProfile::min_eye_openness` for the figures).
    pub fn aspect_ratio(contour: &[[f32; 2]]) -> f32 {
        let p = |k: usize| contour[EAR_CONTOUR[k]];
        let w = dist(p(0), p(3));
        if w <= f32::EPSILON {
            return 0.0;
        }
        (dist(p(1), p(5)) + dist(p(2), p(4))) / (2.0 * w)
    }
}

/// The iris model with its session and reusable input buffer.
pub struct EyeModel {
    session: Session,
    model_name: String,
    input: Vec<f32>,
}

/// The crop map for one eye: corners `a` (outer for the image-left eye, inner for the other, as
/// MediaPipe orders them) and `b`; `mirror` flips the crop horizontally.
pub fn eye_crop(a: [f32; 2], b: [f32; 2], mirror: bool) -> Affine {
    let (cx, cy) = ((a[0] + b[0]) / 2.0, (a[1] + b[1]) / 2.0);
    let side = (b[0] - a[0]).abs().max((b[1] - a[1]).abs()) * EYE_CROP_SCALE;
    let angle = (b[1] - a[1]).atan2(b[0] - a[0]);
    let n = EYE_INPUT as f32;
    let map = Affine::rotated_square(cx, cy, side.max(1.0), angle, n);
    if mirror {
        // (u, v) → map(n − u, v)
        Affine { a: -map.a, b: map.b, c: map.c + map.a * n, d: -map.d, e: map.e, f: map.f + map.d * n }
    } else {
        map
    }
}

impl EyeModel {
    /// Loads the iris model (sha256-checked) with one intra-op thread, like the other small models.
    pub fn new(model: &ModelFile, runtime: Option<&Path>, models_dir: &Path) -> Result<Self> {
        let (session, model_name) = open_session(runtime, models_dir, model, 1)?;
        Ok(Self { session, model_name, input: Vec::with_capacity(EYE_INPUT * EYE_INPUT * 3) })
    }

    /// Both eyes of a measured mesh: (subject's right = image-left, subject's left = image-right).
    pub fn run(&mut self, frame: &RgbImage, mesh: &FaceMesh) -> Result<[EyeContour; 2]> {
        let right = self.eye(frame, eye_crop(mesh.p(idx::RIGHT_EYE_OUTER), mesh.p(idx::RIGHT_EYE_INNER), false))?;
        let left = self.eye(frame, eye_crop(mesh.p(idx::LEFT_EYE_INNER), mesh.p(idx::LEFT_EYE_OUTER), true))?;
        Ok([right, left])
    }

    /// Runs the model on one eye crop and maps its points back to the frame.
    fn eye(&mut self, frame: &RgbImage, map: Affine) -> Result<EyeContour> {
        let rgb = sample(frame, &map, EYE_INPUT, EYE_INPUT, [0.0; 3]);
        self.input.clear();
        self.input.extend(rgb.iter().map(|v| v / 255.0));
        let model = self.model_name.clone();
        let err = |e: ort::Error| FaceError::Inference { model: model.clone(), reason: e.to_string() };
        let tensor = TensorRef::from_array_view(([1usize, EYE_INPUT, EYE_INPUT, 3], &self.input[..])).map_err(err)?;
        let out = self.session.run(ort::inputs!["input_1" => tensor]).map_err(err)?;
        let contour = out["output_eyes_contours_and_brows"].try_extract_tensor::<f32>().map_err(err)?.1.to_vec();
        let iris = out["output_iris"].try_extract_tensor::<f32>().map_err(err)?.1.to_vec();
        let wrong = |output: &str, expected: usize, actual: usize| FaceError::ModelOutput {
            model: self.model_name.clone(),
            output: output.into(),
            expected,
            actual,
        };
        if contour.len() != CONTOUR_POINTS * 3 {
            return Err(wrong("output_eyes_contours_and_brows", CONTOUR_POINTS * 3, contour.len()));
        }
        if iris.len() != 15 {
            return Err(wrong("output_iris", 15, iris.len()));
        }
        let to_frame = |p: &[f32]| {
            let (x, y) = map.apply(p[0], p[1]);
            [x, y]
        };
        let contour: Vec<[f32; 2]> = contour.chunks_exact(3).map(to_frame).collect();
        let iris: Vec<[f32; 2]> = iris.chunks_exact(3).map(to_frame).collect();
        let iris_radius = iris[1..].iter().map(|p| dist(*p, iris[0])).sum::<f32>() / 4.0;
        let openness = EyeContour::aspect_ratio(&contour);
        Ok(EyeContour { contour, iris_centre: iris[0], iris_radius, openness })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mirrored_crop_puts_the_outer_corner_on_the_left_like_the_other_eye() {
        // Image-left eye: outer corner 33 at x=100, inner 133 at x=130.
        let right = eye_crop([100.0, 200.0], [130.0, 200.0], false);
        // Image-right eye: inner corner 362 at x=170, outer 263 at x=200; mirrored.
        let left = eye_crop([170.0, 200.0], [200.0, 200.0], true);
        let n = EYE_INPUT as f32;
        let at = |m: &Affine, u: f32| m.apply(u, n / 2.0);
        // Crop's left edge lands outside the outer corner for both eyes.
        assert!(at(&right, 0.0).0 < 100.0 && at(&right, n).0 > 130.0);
        assert!(at(&left, 0.0).0 > 200.0 && at(&left, n).0 < 170.0);
        // Same size, same centre row.
        assert!((at(&left, n / 2.0).0 - 185.0).abs() < 1e-3 && (at(&left, n / 2.0).1 - 200.0).abs() < 1e-3);
        assert!((right.scale() - 30.0 * EYE_CROP_SCALE / n).abs() < 1e-4);
        assert!((left.scale() - right.scale()).abs() < 1e-6);
    }

    #[test]
    fn aspect_ratio_is_lid_gap_over_eye_width() {
        let mut c = vec![[0.0f32, 0.0]; 16];
        c[0] = [0.0, 0.0];
        c[8] = [40.0, 0.0];
        c[11] = [10.0, -6.0];
        c[3] = [10.0, 6.0];
        c[13] = [30.0, -6.0];
        c[5] = [30.0, 6.0];
        assert!((EyeContour::aspect_ratio(&c) - 0.3).abs() < 1e-6);
        c[8] = c[0];
        assert_eq!(EyeContour::aspect_ratio(&c), 0.0);
    }
}
