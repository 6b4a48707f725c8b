//! Autocapture and the ISO/IEC 19794-5 full-frontal crop.
//!
//! Autocapture fires once `min_consecutive` frames in a row are compliant (AwareID's
//! `autocaptureMinimumFrameCount`) and keeps the best-quality frame of that run, so a single lucky
//! frame between bad ones is never enrolled. The enrolled image is a geometrically normalised crop:
//! eyes levelled, inter-eye distance and eye position fixed by the standard's Token geometry, which
//! also satisfies the Full Frontal constraints (face centred, eye line at 55 % of the height from
//! the bottom, head about half the image width).
//!
//! Eye openness costs a second model (the eye stage, ≈ 8 ms a frame), so a live stream analysed
//! without it is fed through [`AutoCapture::feed_with_eye_stage`]: the eyes are measured only on the
//! frame that would be captured, when its streak completes, and a shut-eyed frame is never captured
//! — the subject is told to open their eyes and the streak starts again.

use image::RgbImage;
use serde::{Deserialize, Serialize};

use crate::error::{FaceError, Result};
use crate::imaging::{encode_png, sample, to_rgb_image, Affine};
use crate::pipeline::{FaceAnalysis, FacePipeline, FrameAnalysis};
use crate::quality::{Feedback, FeedbackCode};

/// Geometry of ISO/IEC 19794-5 Token images, as fractions of the image width W:
/// width:height = 3:4, eye midpoint at (0.5·W, 0.6·W), inter-eye distance 0.25·W.
pub mod iso {
    /// Height / width.
    pub const ASPECT: f32 = 4.0 / 3.0;
    /// Eye midpoint x / W.
    pub const EYE_MID_X: f32 = 0.5;
    /// Eye midpoint y / W (from the top).
    pub const EYE_MID_Y: f32 = 0.6;
    /// Inter-eye distance / W.
    pub const EYE_DISTANCE: f32 = 0.25;
}

/// A normalised face image ready for enrolment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IsoFaceImage {
    /// PNG bytes (not serialised to JSON; write them to a file or the wire format).
    #[serde(skip)]
    pub png: Vec<u8>,
    /// Image width in pixels.
    pub width: u32,
    /// Image height in pixels.
    pub height: u32,
    /// Inter-eye distance in the output image (pixels).
    pub eye_distance: f32,
    /// Inter-eye distance in the source frame (pixels): below 90 the source had too little detail for
    /// a full-frontal image even though the crop is scaled to the standard geometry.
    pub source_eye_distance: f32,
    /// Whether part of the crop lay outside the source frame (filled with mid-grey).
    pub padded: bool,
}

/// Produces the ISO/IEC 19794-5 Token/Full-Frontal crop of `face` from `frame`, `width` px wide.
pub fn iso_crop(frame: &RgbImage, face: &FaceAnalysis, width: u32) -> Result<IsoFaceImage> {
    let width = width.max(60);
    let height = (width as f32 * iso::ASPECT).round() as u32;
    let [r, l] = face.eye_centres;
    let ed = ((l[0] - r[0]).powi(2) + (l[1] - r[1]).powi(2)).sqrt();
    if ed < 4.0 {
        return Err(FaceError::NoFace("frame (eyes too close together to normalise)".into()));
    }
    let angle = (l[1] - r[1]).atan2(l[0] - r[0]);
    let (s, c) = angle.sin_cos();
    let k = ed / (iso::EYE_DISTANCE * width as f32);
    let (mx, my) = ((r[0] + l[0]) / 2.0, (r[1] + l[1]) / 2.0);
    let (ux, vy) = (iso::EYE_MID_X * width as f32, iso::EYE_MID_Y * width as f32);
    let (a, b, d, e) = (k * c, -k * s, k * s, k * c);
    let map = Affine { a, b, c: mx - a * ux - b * vy, d, e, f: my - d * ux - e * vy };
    let (fw, fh) = (frame.width() as f32, frame.height() as f32);
    let padded = [(0.0, 0.0), (width as f32, 0.0), (0.0, height as f32), (width as f32, height as f32)]
        .iter()
        .any(|&(u, v)| {
            let (x, y) = map.apply(u, v);
            x < 0.0 || y < 0.0 || x > fw || y > fh
        });
    let buf = sample(frame, &map, width as usize, height as usize, [128.0; 3]);
    let img = to_rgb_image(&buf, width, height);
    Ok(IsoFaceImage {
        png: encode_png(&img)?,
        width,
        height,
        eye_distance: iso::EYE_DISTANCE * width as f32,
        source_eye_distance: ed,
        padded,
    })
}

/// Autocapture settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AutoCaptureConfig {
    /// Consecutive compliant frames needed to fire (AwareID `autocaptureMinimumFrameCount`).
    pub min_consecutive: usize,
    /// Width of the ISO crop (height = 4/3 of it). 480 gives a 120-px inter-eye distance.
    pub iso_width: u32,
}

impl Default for AutoCaptureConfig {
    fn default() -> Self {
        Self { min_consecutive: 5, iso_width: 480 }
    }
}

/// What autocapture says after each frame (one entry per frame, like AwareID's `frameResults`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FrameResult {
    /// Index of the frame in the sequence.
    pub index: usize,
    /// Whether the frame passed every check.
    pub compliant: bool,
    /// Feedback for the subject (empty when compliant).
    pub feedback: Vec<Feedback>,
    /// Current run of consecutive compliant frames.
    pub streak: usize,
    /// True once the capture has fired (on this or an earlier frame).
    pub captured: bool,
}

/// The captured face.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaptureResult {
    /// Index of the chosen (best) frame.
    pub frame_index: usize,
    /// Its analysis.
    pub analysis: FrameAnalysis,
    /// The normalised enrolment image.
    pub iso: IsoFaceImage,
    /// The chosen frame itself (not serialised).
    #[serde(skip)]
    pub frame: Option<RgbImage>,
}

/// Autocapture state machine: feed it analysed frames until [`AutoCapture::result`] is `Some`.
pub struct AutoCapture {
    cfg: AutoCaptureConfig,
    index: usize,
    streak: usize,
    best: Option<(usize, f32, RgbImage, FrameAnalysis)>,
    result: Option<CaptureResult>,
}

impl AutoCapture {
    /// A fresh capture.
    pub fn new(cfg: AutoCaptureConfig) -> Self {
        Self { cfg, index: 0, streak: 0, best: None, result: None }
    }

    /// Feeds the next frame with an analysis that already carries eye openness
    /// ([`FacePipeline::analyze_with_eyes`], so shut eyes already made the frame non-compliant).
    /// Frames after the capture fired are counted but ignored. When the frame that would be captured
    /// has no eye measurement the capture does not fire and [`FaceError::EyesNotMeasured`] is
    /// returned: a live stream analysed without eyes goes through
    /// [`AutoCapture::feed_with_eye_stage`].
    pub fn feed(&mut self, frame: &RgbImage, analysis: &FrameAnalysis) -> Result<FrameResult> {
        self.advance(frame, analysis, None)
    }

    /// Feeds the next frame of a live stream analysed by [`FacePipeline::analyze`] (no eye stage).
    /// The eye stage runs on one frame only: the best frame of the streak, once this frame completes
    /// the streak. If its eyes are shut the capture does not fire, this frame's result says
    /// EYES_CLOSED ("Open your eyes") and the streak starts again; so the captured image always has
    /// its eyes measured open ([`CaptureResult::analysis`] carries the measurement).
    pub fn feed_with_eye_stage(&mut self, eye_stage: &mut FacePipeline, frame: &RgbImage, analysis: &FrameAnalysis) -> Result<FrameResult> {
        self.advance(frame, analysis, Some(eye_stage))
    }

    fn advance(&mut self, frame: &RgbImage, analysis: &FrameAnalysis, eye_stage: Option<&mut FacePipeline>) -> Result<FrameResult> {
        let index = self.index;
        self.index += 1;
        let mut result = FrameResult {
            index,
            compliant: analysis.compliant,
            feedback: analysis.feedback.clone(),
            streak: self.streak,
            captured: self.result.is_some(),
        };
        if self.result.is_some() {
            return Ok(result);
        }
        let Some(face) = analysis.face.as_ref().filter(|_| analysis.compliant) else {
            self.streak = 0;
            self.best = None;
            result.streak = 0;
            return Ok(result);
        };
        self.streak += 1;
        result.streak = self.streak;
        if self.best.as_ref().is_none_or(|b| face.quality > b.1) {
            self.best = Some((index, face.quality, frame.clone(), analysis.clone()));
        }
        if self.streak < self.cfg.min_consecutive.max(1) {
            return Ok(result);
        }
        let (bi, _, bframe, mut banalysis) = self.best.take().expect("best is set in a streak");
        let measured = banalysis.face.as_ref().is_some_and(|f| f.eyes.is_some());
        let eyes = match eye_stage {
            _ if measured => Ok(()),
            Some(pipeline) => pipeline.measure_eyes(&bframe, &mut banalysis),
            None => Err(FaceError::EyesNotMeasured),
        };
        if let Err(e) = eyes {
            // The kept frame is gone with its unmeasured eyes: a new streak has to earn the capture.
            self.streak = 0;
            return Err(e);
        }
        if !banalysis.compliant {
            // Only the eye stage can have changed the verdict: the kept frame's eyes are shut.
            self.streak = 0;
            let eyes: Vec<Feedback> = banalysis.feedback.into_iter().filter(|f| f.code == FeedbackCode::EyesClosed).collect();
            return Ok(FrameResult { index, compliant: false, feedback: eyes, streak: 0, captured: false });
        }
        let face = banalysis.face.as_ref().expect("compliant frames have a face");
        let iso = iso_crop(&bframe, face, self.cfg.iso_width)?;
        self.result = Some(CaptureResult { frame_index: bi, analysis: banalysis, iso, frame: Some(bframe) });
        result.captured = true;
        Ok(result)
    }

    /// The capture, once it has fired.
    pub fn result(&self) -> Option<&CaptureResult> {
        self.result.as_ref()
    }

    /// Starts over (new subject or retake).
    pub fn reset(&mut self) {
        *self = Self::new(self.cfg.clone());
    }
}
