//! Capture profile (thresholds), feedback codes and the per-frame quality verdict.
//!
//! The codes are stable strings (serialised in SCREAMING_SNAKE_CASE) so that the station UI, the
//! server and logs can key on them; every feedback item carries the measured value and the threshold
//! it was compared with, so an operator can see *how far* off a frame is, not only that it failed.

use serde::{Deserialize, Serialize};

use crate::detect::Rect;

/// Stable feedback codes, in the spirit of AwareID / Knomi autocapture feedback.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum FeedbackCode {
    /// No face found in the frame.
    NoFace,
    /// More than one face of comparable size is in view.
    MultipleFaces,
    /// The face is too small in the frame.
    TooFar,
    /// The face is too large in the frame.
    TooClose,
    /// The face is off the target position.
    NotCentered,
    /// Yaw, pitch or roll is beyond the allowed angle.
    LookStraight,
    /// At least one eye is closed.
    EyesClosed,
    /// The face is under-exposed.
    TooDark,
    /// The face is over-exposed.
    TooBright,
    /// The face is out of focus or smeared by motion.
    Blurry,
}

impl FeedbackCode {
    /// The prompt shown to the subject (short, imperative, no jargon).
    pub fn prompt(self) -> &'static str {
        match self {
            Self::NoFace => "Look at the camera",
            Self::MultipleFaces => "Only one person in view, please",
            Self::TooFar => "Move closer",
            Self::TooClose => "Move back a little",
            Self::NotCentered => "Move your face into the frame",
            Self::LookStraight => "Look straight at the camera and keep your head level",
            Self::EyesClosed => "Open your eyes",
            Self::TooDark => "More light on your face, please",
            Self::TooBright => "Too much light, avoid direct light on your face",
            Self::Blurry => "Hold still",
        }
    }
    /// The code as its stable string.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NoFace => "NO_FACE",
            Self::MultipleFaces => "MULTIPLE_FACES",
            Self::TooFar => "TOO_FAR",
            Self::TooClose => "TOO_CLOSE",
            Self::NotCentered => "NOT_CENTERED",
            Self::LookStraight => "LOOK_STRAIGHT",
            Self::EyesClosed => "EYES_CLOSED",
            Self::TooDark => "TOO_DARK",
            Self::TooBright => "TOO_BRIGHT",
            Self::Blurry => "BLURRY",
        }
    }
}

/// One feedback item: what is wrong, what to tell the subject, and the numbers behind it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Feedback {
    /// Stable code.
    pub code: FeedbackCode,
    /// Human prompt for the subject.
    pub prompt: String,
    /// Name of the measurement, e.g. "face_size" or "yaw_deg".
    pub metric: String,
    /// The measured value.
    pub value: f32,
    /// The threshold it violated.
    pub threshold: f32,
}

impl Feedback {
    pub(crate) fn new(code: FeedbackCode, metric: &str, value: f32, threshold: f32) -> Self {
        Self { code, prompt: code.prompt().to_string(), metric: metric.to_string(), value, threshold }
    }
}

/// Thresholds of a capture profile. Defaults aim at an ICAO-style portrait from a 640×480 webcam;
/// all are configurable (serde), like AwareID's autocapture parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CaptureProfile {
    /// Minimum face width as a fraction of the frame width (AwareID `faceMinimumSize`).
    pub face_min_size: f32,
    /// Maximum face width as a fraction of the frame width (AwareID `faceMaximumSize`).
    pub face_max_size: f32,
    /// Maximum offset of the face centre from the target centre, as a fraction of frame width/height.
    pub max_center_offset: f32,
    /// Target face centre, fractions of frame width and height.
    pub target_center: [f32; 2],
    /// Maximum |yaw| in degrees.
    pub max_yaw: f32,
    /// Maximum |pitch| in degrees.
    pub max_pitch: f32,
    /// Maximum |roll| in degrees.
    pub max_roll: f32,
    /// Pitch that the mesh reports for a frontal face, subtracted from every pitch (degrees).
    pub pitch_offset: f32,
    /// Minimum eye aspect ratio (of the iris model's eyelid contour, both eyes) for an open eye.
    ///
    /// Measured with the real pipeline (station test `simulated_liveness`, 2026-11-23): open eyes
    /// read 0.19–0.21 on the simulated subject (Obama portrait, narrow eyes; 0.174 the lowest over
    /// 60 frames of natural motion) and 0.35–0.36 on the astronaut; the same subject's eyelids
    /// rendered half shut read 0.11, three quarters 0.065, fully shut 0.06. 0.12 lies between shut
    /// and the narrowest open eye, so a half-closed eye is already refused. (The 468-point mesh's
    /// ratio, used before, read 0.22 open and still 0.20 shut: it could not see closed eyes.)
    pub min_eye_openness: f32,
    /// Minimum mean face luminance (0..255).
    pub min_exposure: f32,
    /// Maximum mean face luminance (0..255).
    pub max_exposure: f32,
    /// Maximum fraction of clipped (≥ 250) pixels on the face.
    pub max_clipped: f32,
    /// Minimum Laplacian variance of the face crop (192 px levelled ROI).
    pub min_sharpness: f32,
    /// A second face counts as "multiple faces" when its width is at least this fraction of the main face's.
    pub multiple_face_ratio: f32,
}

impl Default for CaptureProfile {
    fn default() -> Self {
        Self {
            face_min_size: 0.25,
            face_max_size: 0.6,
            max_center_offset: 0.12,
            target_center: [0.5, 0.5],
            max_yaw: 5.0,
            max_pitch: 5.0,
            max_roll: 5.0,
            pitch_offset: crate::DEFAULT_PITCH_OFFSET,
            min_eye_openness: 0.12,
            min_exposure: 60.0,
            max_exposure: 210.0,
            max_clipped: 0.2,
            min_sharpness: crate::DEFAULT_MIN_SHARPNESS,
            multiple_face_ratio: 0.5,
        }
    }
}

impl CaptureProfile {
    /// The guide rectangle for a `w`×`h` preview where the face should be framed (what AwareID's
    /// `calculateROI` returns): centred on `target_center`, as wide as the middle of the allowed face
    /// sizes, with a portrait aspect of 1:1.3, clipped to the frame.
    pub fn target_box(&self, w: u32, h: u32) -> Rect {
        let (w, h) = (w as f32, h as f32);
        let fw = (self.face_min_size + self.face_max_size) / 2.0 * w;
        let fh = (fw * 1.3).min(h);
        let cx = self.target_center[0] * w;
        let cy = self.target_center[1] * h;
        let x = (cx - fw / 2.0).clamp(0.0, (w - fw).max(0.0));
        let y = (cy - fh / 2.0).clamp(0.0, (h - fh).max(0.0));
        Rect { x, y, width: fw.min(w), height: fh }
    }
}
