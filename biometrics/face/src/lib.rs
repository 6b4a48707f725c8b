//! Face capture pipeline for the biometric capture station, on real ONNX models.
//!
//! * [`FacePipeline::analyze`]: per-frame detection (BlazeFace), 468-point mesh, head pose,
//!   size/position, blur, exposure/contrast, single-face check, UI ROI and target box, and feedback
//!   codes with prompts ([`FeedbackCode`]) — ≈ 9 ms at 640×480 on one core.
//! * [`FacePipeline::measure_eyes`]: the eye stage — eyelid contours and eye openness from MediaPipe
//!   Iris (EYES_CLOSED), ≈ 8 ms more, run only where it decides something;
//!   [`FacePipeline::analyze_with_eyes`] does both for single frames.
//! * [`AutoCapture`]: fires after N consecutive compliant frames, keeps the best one (eyes measured
//!   open) and produces an ISO/IEC 19794-5 full-frontal crop as PNG.
//! * [`LivenessSession`]: active challenge (blink, turn left/right in random order) with timing
//!   limits, plus passive motion cues; result shaped like Knomi's analyze. It says when it needs the
//!   eye stage ([`LivenessSession::needs_eyes`]).
//! * [`Embedder`] / [`Gallery`]: 128-d descriptors, 1:1 verify and 1:N search.
//!
//! ONNX Runtime is loaded at run time from `ORT_DYLIB_PATH` (or the cache of
//! `scripts/fetch-onnxruntime.sh`); model files come from `models/` and are sha256-checked.

#![warn(missing_docs)]

pub mod error;
pub mod runtime;
pub mod imaging;
pub mod detect;
pub mod landmarks;
pub mod eyes;
pub mod quality;
pub mod pipeline;

pub use detect::{Detection, Detector, DetectorKind, Rect};
pub use error::{FaceError, Result};
pub use landmarks::{FaceMesh, HeadPose};
pub use pipeline::{FaceAnalysis, FacePipeline, FrameAnalysis, PipelineConfig};
pub use quality::{CaptureProfile, Feedback, FeedbackCode};
pub use runtime::ModelFile;

/// Pitch (degrees) that the landmark-frame pose formula gives for a frontal face; subtracted so that
/// a frontal face reads ≈ 0. Measured as the median over frontal portraits (see docs/benchmarks/face.md).
pub const DEFAULT_PITCH_OFFSET: f32 = 4.0;

/// Default minimum Laplacian variance of the levelled 192-px face crop (see docs/benchmarks/face.md).
pub const DEFAULT_MIN_SHARPNESS: f32 = 35.0;

/// Default descriptor crop side as a multiple of the BlazeFace box side (see docs/benchmarks/face.md).
pub const DEFAULT_CROP_SCALE: f32 = 1.2;

pub mod capture;
pub mod matching;
pub use capture::{AutoCapture, AutoCaptureConfig, CaptureResult, FrameResult, IsoFaceImage};
pub use matching::{Candidate, Embedder, EmbedderConfig, Embedding, Gallery, VerifyResult};

/// Default minimum non-rigid landmark motion (RMS affine residual / eye distance) a head turn must
/// show (see docs/benchmarks/face.md for how it was set).
pub const DEFAULT_TURN_MIN_NONRIGID: f32 = 0.05;

pub mod liveness;
pub use liveness::{Challenge, ChallengeOutcome, Decision, LivenessConfig, LivenessProgress, LivenessResult, LivenessSession};
pub mod synth;
pub mod config;
pub use config::FaceConfig;
