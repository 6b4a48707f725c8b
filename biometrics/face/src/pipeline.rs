//! The per-frame pipeline: detect → mesh → measurements → feedback, and the eye stage on demand.
//!
//! One [`FacePipeline`] owns its ONNX sessions (`Session::run` needs `&mut self`), so a station runs
//! one pipeline per camera thread. [`FacePipeline::analyze`] is what the live preview calls on every
//! frame (≈ 9 ms at 640×480 on one core); the result carries everything the UI overlay, autocapture
//! and the turn challenges need.
//!
//! Eye openness is a separate stage, [`FacePipeline::measure_eyes`]: it runs the iris model on both
//! eyes, which costs about as much again (≈ 8 ms), so a 30 fps loop runs it only where eye openness
//! decides something — while liveness learns the open-eye baseline and during the blink step
//! ([`crate::LivenessSession::needs_eyes`]), and on the one frame autocapture is about to capture
//! ([`crate::AutoCapture::feed_with_eye_stage`]). Single-shot callers (one photo, a remote frame)
//! use [`FacePipeline::analyze_with_eyes`].

use std::path::{Path, PathBuf};

use image::RgbImage;
use serde::{Deserialize, Serialize};

use crate::detect::{Detection, Detector, DetectorKind, Rect};
use crate::error::Result;
use crate::eyes::{EyeContour, EyeModel};
use crate::imaging::{check_frame, grey_image, laplacian_variance, luma, region_stats};
use crate::landmarks::{dist, FaceMesh, HeadPose, MeshModel, MESH_INPUT};
use crate::quality::{CaptureProfile, Feedback, FeedbackCode};
use crate::runtime::{locate_models_dir, pinned, ModelFile};

/// Minimum face-presence probability from the mesh model for a detection to count as a face.
pub const MIN_MESH_PRESENCE: f32 = 0.5;

/// Side of the grey face patch kept per frame for motion analysis (liveness).
pub const PATCH: u32 = 32;

/// Configuration of the per-frame pipeline (serde, so it can live in the station's config file).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PipelineConfig {
    /// Path of libonnxruntime; `None` = `ORT_DYLIB_PATH`, then the fetch script's cache.
    pub runtime_library: Option<PathBuf>,
    /// Folder with the model files; `None` = `FACE_MODELS_DIR`, then `models/` (see [`locate_models_dir`]).
    pub models_dir: Option<PathBuf>,
    /// Which detector to run.
    pub detector: DetectorKind,
    /// Detector model override (path + sha256); `None` = the pinned default for `detector`.
    pub detector_model: Option<ModelFile>,
    /// Mesh model override; `None` = the pinned face_landmark_468.onnx.
    pub mesh_model: Option<ModelFile>,
    /// Eye-contour model override; `None` = the pinned iris_landmark.onnx.
    pub eye_model: Option<ModelFile>,
    /// Quality thresholds.
    pub profile: CaptureProfile,
}

impl Default for PipelineConfig {
    fn default() -> Self {
        Self {
            runtime_library: None,
            models_dir: None,
            detector: DetectorKind::Front128,
            detector_model: None,
            mesh_model: None,
            eye_model: None,
            profile: CaptureProfile::default(),
        }
    }
}

/// Measurements of the main face in a frame.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaceAnalysis {
    /// The detection the measurements refer to.
    pub detection: Detection,
    /// 468-point mesh in frame pixels.
    pub mesh: FaceMesh,
    /// Head pose in degrees.
    pub pose: HeadPose,
    /// Eyelid contours, irises and eye openness from the iris model (right eye, left eye; the
    /// subject's right = image-left). `None` until the eye stage ran ([`FacePipeline::measure_eyes`]):
    /// [`FacePipeline::analyze`] leaves it out because it costs about as much as the rest of the frame.
    pub eyes: Option<[EyeContour; 2]>,
    /// Eye centres in frame pixels (right eye, left eye).
    pub eye_centres: [[f32; 2]; 2],
    /// Distance between the eye centres in pixels (ICAO wants ≥ 90 for a full-frontal image).
    pub eye_distance: f32,
    /// Face box width / frame width.
    pub face_size: f32,
    /// Face centre offset from the target centre, as fractions of frame width and height.
    pub center_offset: [f32; 2],
    /// Laplacian variance of the levelled 192-px face crop (higher = sharper).
    pub sharpness: f32,
    /// Mean face luminance 0..255.
    pub exposure: f32,
    /// Standard deviation of face luminance (contrast).
    pub contrast: f32,
    /// Fraction of clipped (≥ 250) face pixels.
    pub clipped: f32,
    /// Overall quality 0..100 used to pick the best frame (not a pass/fail): pose, centring and
    /// sharpness, minus 30 for eyes measured shut (eyes not measured cost nothing).
    pub quality: f32,
    /// Small levelled grey face patch (PATCH×PATCH) for motion analysis; not serialised.
    #[serde(skip)]
    pub patch: Vec<u8>,
}

impl FaceAnalysis {
    /// Eye aspect ratio (right eye, left eye) of the iris model's eyelid contours: about 0.2–0.36
    /// open, under 0.12 shut (see `CaptureProfile::min_eye_openness`). `None` when the eye stage has
    /// not run on this frame — not measured, which is not the same as open.
    pub fn eye_openness(&self) -> Option<[f32; 2]> {
        self.eyes.as_ref().map(|[r, l]| [r.openness, l.openness])
    }

    /// Overall quality 0..100 (see [`FaceAnalysis::quality`]); closed eyes cost 30 points once
    /// they have been measured.
    fn score(&self, p: &CaptureProfile) -> f32 {
        let pose_pen = self.pose.yaw.abs() + self.pose.pitch.abs() + self.pose.roll.abs();
        let shut = self.eye_openness().is_some_and(|[r, l]| r.min(l) < p.min_eye_openness);
        (100.0
            - 2.0 * pose_pen
            - 100.0 * (self.center_offset[0].abs() + self.center_offset[1].abs())
            - if shut { 30.0 } else { 0.0 }
            + 10.0 * (self.sharpness / p.min_sharpness.max(1e-3)).min(2.0))
        .clamp(0.0, 100.0)
    }
}

/// Result of analysing one frame.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FrameAnalysis {
    /// Frame width.
    pub width: u32,
    /// Frame height.
    pub height: u32,
    /// All faces found, best score first.
    pub faces: Vec<Detection>,
    /// Measurements of the main (largest) face, if any.
    pub face: Option<FaceAnalysis>,
    /// Box to draw around the face in a UI overlay (the main face's detection box).
    pub roi: Option<Rect>,
    /// Guide box where the face should be (see [`CaptureProfile::target_box`]).
    pub target: Rect,
    /// What is wrong with the frame; empty means compliant.
    pub feedback: Vec<Feedback>,
    /// True when there is no feedback: the frame could be captured.
    pub compliant: bool,
}

impl FrameAnalysis {
    /// The codes of the feedback, in order.
    pub fn codes(&self) -> Vec<FeedbackCode> {
        self.feedback.iter().map(|f| f.code).collect()
    }
}

/// Detection + mesh + quality checks for live frames, and the eye stage on demand.
pub struct FacePipeline {
    detector: Detector,
    mesh: MeshModel,
    eyes: EyeModel,
    /// Thresholds in force (may be changed between frames).
    pub profile: CaptureProfile,
}

impl FacePipeline {
    /// Loads the runtime and the three models (sha256-checked). Takes ~50–120 ms.
    pub fn new(config: &PipelineConfig) -> Result<Self> {
        let models_dir = locate_models_dir(config.models_dir.as_deref());
        let runtime = config.runtime_library.as_deref();
        let det_model = config.detector_model.clone().unwrap_or_else(|| config.detector.default_model());
        let detector = Detector::new(config.detector, &det_model, runtime, &models_dir)?;
        let mesh_model = config
            .mesh_model
            .clone()
            .unwrap_or_else(|| ModelFile::new(pinned::FACE_LANDMARK_468.0, pinned::FACE_LANDMARK_468.1));
        let mesh = MeshModel::new(&mesh_model, runtime, &models_dir)?;
        let eye_model = config
            .eye_model
            .clone()
            .unwrap_or_else(|| ModelFile::new(pinned::IRIS_LANDMARK.0, pinned::IRIS_LANDMARK.1));
        let eyes = EyeModel::new(&eye_model, runtime, &models_dir)?;
        Ok(Self { detector, mesh, eyes, profile: config.profile.clone() })
    }

    /// Convenience: default configuration with an explicit models folder.
    pub fn with_models_dir(dir: &Path) -> Result<Self> {
        Self::new(&PipelineConfig { models_dir: Some(dir.to_path_buf()), ..Default::default() })
    }

    /// Runs only the detector (for callers that need boxes, e.g. a group photo check).
    pub fn detect(&mut self, frame: &RgbImage) -> Result<Vec<Detection>> {
        check_frame(frame)?;
        self.detector.detect(frame)
    }

    /// Analyses the main face of a detection (mesh, measurements) without judging the frame and
    /// without the eye stage (`eyes` is `None`).
    pub fn measure(&mut self, frame: &RgbImage, det: &Detection) -> Result<FaceAnalysis> {
        let (mesh, crop) = self.mesh.run(frame, det)?;
        let p = &self.profile;
        let (w, h) = (frame.width() as f32, frame.height() as f32);
        let pose = mesh.head_pose(p.pitch_offset);
        let (cr, cl) = mesh.eye_centres();
        let eye_distance = dist(cr, cl);
        let face_size = det.rect.width / w;
        let (fcx, fcy) = det.rect.center();
        let center_offset = [fcx / w - p.target_center[0], fcy / h - p.target_center[1]];
        // Quality is measured on the levelled crop: the face box is the central 1/1.5 of it.
        let grey = luma(&crop.rgb);
        let m = MESH_INPUT;
        let (a, b) = (m * 5 / 24, m * 19 / 24); // 40..152: the face box, slightly inset
        let sharpness = laplacian_variance(&grey, m, a, a, b, b);
        let (exposure, contrast, clipped) = region_stats(&grey, m, a, a, b, b);
        let small = image::imageops::resize(
            &grey_image(&crop.rgb, m as u32, m as u32),
            PATCH,
            PATCH,
            image::imageops::FilterType::Triangle,
        );
        let mut face = FaceAnalysis {
            detection: det.clone(),
            pose,
            eyes: None,
            eye_centres: [cr, cl],
            eye_distance,
            face_size,
            center_offset,
            sharpness,
            exposure,
            contrast,
            clipped,
            quality: 0.0,
            patch: small.into_raw(),
            mesh,
        };
        face.quality = face.score(p);
        Ok(face)
    }

    /// The eye stage: eyelid contours and eye openness of the analysed frame's main face from the
    /// iris model (two 64×64 crops, two model runs: ≈ 8 ms at 640×480 on one core, as much as the
    /// rest of [`FacePipeline::analyze`]), then the frame is judged again (EYES_CLOSED, quality,
    /// compliance). Does nothing when there is no face or its eyes are already measured.
    /// `frame` must be the image `analysis` was made from.
    pub fn measure_eyes(&mut self, frame: &RgbImage, analysis: &mut FrameAnalysis) -> Result<()> {
        let Some(face) = analysis.face.as_mut() else { return Ok(()) };
        if face.eyes.is_some() {
            return Ok(());
        }
        face.eyes = Some(self.eyes.run(frame, &face.mesh)?);
        face.quality = face.score(&self.profile);
        analysis.feedback = judge(&self.profile, &analysis.faces, face);
        analysis.compliant = analysis.feedback.is_empty();
        Ok(())
    }

    /// [`FacePipeline::analyze`] followed by [`FacePipeline::measure_eyes`]: the whole analysis,
    /// eye openness included (≈ 17 ms on one core), for callers that judge one frame at a time
    /// rather than a 30 fps stream (a single photo, a frame posted by a phone, SBI capture).
    pub fn analyze_with_eyes(&mut self, frame: &RgbImage) -> Result<FrameAnalysis> {
        let mut analysis = self.analyze(frame)?;
        self.measure_eyes(frame, &mut analysis)?;
        Ok(analysis)
    }

    /// Per-frame analysis: faces, measurements of the main face, feedback, compliance — everything
    /// but eye openness (`eyes` is `None`, so EYES_CLOSED is not judged here; see
    /// [`FacePipeline::measure_eyes`]).
    pub fn analyze(&mut self, frame: &RgbImage) -> Result<FrameAnalysis> {
        check_frame(frame)?;
        let faces = self.detector.detect(frame)?;
        let target = self.profile.target_box(frame.width(), frame.height());
        let main = faces
            .iter()
            .max_by(|a, b| a.rect.width.total_cmp(&b.rect.width))
            .cloned();
        let Some(main) = main else {
            return Ok(FrameAnalysis {
                width: frame.width(),
                height: frame.height(),
                faces,
                face: None,
                roi: None,
                target,
                feedback: vec![Feedback::new(FeedbackCode::NoFace, "faces", 0.0, 1.0)],
                compliant: false,
            });
        };
        let face = self.measure(frame, &main)?;
        if face.mesh.presence < MIN_MESH_PRESENCE {
            // The detector fired but the mesh model does not see a face in the ROI: a false detection
            // (pattern, poster edge) or a face too damaged to measure. Report it as no face.
            return Ok(FrameAnalysis {
                width: frame.width(),
                height: frame.height(),
                faces,
                face: None,
                roi: None,
                target,
                feedback: vec![Feedback::new(FeedbackCode::NoFace, "mesh_presence", face.mesh.presence, MIN_MESH_PRESENCE)],
                compliant: false,
            });
        }
        let feedback = judge(&self.profile, &faces, &face);
        Ok(FrameAnalysis {
            width: frame.width(),
            height: frame.height(),
            compliant: feedback.is_empty(),
            roi: Some(main.rect),
            faces,
            face: Some(face),
            target,
            feedback,
        })
    }
}

/// Applies the profile's thresholds to a measured face. Order = what the subject should fix first.
/// Eye openness is judged only when the eye stage has measured it.
pub fn judge(p: &CaptureProfile, faces: &[Detection], f: &FaceAnalysis) -> Vec<Feedback> {
    use FeedbackCode::*;
    let mut out = Vec::new();
    let main_w = f.detection.rect.width;
    let competing = faces.iter().filter(|d| d.rect.width >= p.multiple_face_ratio * main_w).count();
    if competing > 1 {
        out.push(Feedback::new(MultipleFaces, "faces", competing as f32, 1.0));
    }
    if f.face_size < p.face_min_size {
        out.push(Feedback::new(TooFar, "face_size", f.face_size, p.face_min_size));
    } else if f.face_size > p.face_max_size {
        out.push(Feedback::new(TooClose, "face_size", f.face_size, p.face_max_size));
    }
    let off = f.center_offset[0].abs().max(f.center_offset[1].abs());
    if off > p.max_center_offset {
        out.push(Feedback::new(NotCentered, "center_offset", off, p.max_center_offset));
    }
    let pose = [("yaw_deg", f.pose.yaw, p.max_yaw), ("pitch_deg", f.pose.pitch, p.max_pitch), ("roll_deg", f.pose.roll, p.max_roll)];
    if let Some((name, v, t)) = pose
        .iter()
        .filter(|(_, v, t)| v.abs() > *t)
        .max_by(|a, b| (a.1.abs() - a.2).total_cmp(&(b.1.abs() - b.2)))
    {
        out.push(Feedback::new(LookStraight, name, *v, *t));
    }
    if let Some([r, l]) = f.eye_openness() {
        let eye = r.min(l);
        if eye < p.min_eye_openness {
            out.push(Feedback::new(EyesClosed, "eye_openness", eye, p.min_eye_openness));
        }
    }
    if f.exposure < p.min_exposure {
        out.push(Feedback::new(TooDark, "exposure", f.exposure, p.min_exposure));
    } else if f.exposure > p.max_exposure {
        out.push(Feedback::new(TooBright, "exposure", f.exposure, p.max_exposure));
    } else if f.clipped > p.max_clipped {
        out.push(Feedback::new(TooBright, "clipped_fraction", f.clipped, p.max_clipped));
    }
    if f.sharpness < p.min_sharpness {
        out.push(Feedback::new(Blurry, "sharpness", f.sharpness, p.min_sharpness));
    }
    out
}
