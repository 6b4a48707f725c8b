//! The app's face step: a live preview at the camera's own rate with the face analysis drawn over
//! it, an active liveness challenge (blink / head turns, plus the passive cues of
//! [`face::LivenessSession`]) and autocapture of the ISO/IEC 19794-5 crop.
//!
//! Two threads share the work so that a slow analysis never slows the picture down: the camera
//! thread takes every frame, hands the newest one to the analysis and sends a JPEG preview; the
//! analysis thread (the caller's) always takes the newest frame and drops the ones that went by
//! while it was busy. The window draws the overlay from the latest analysis over the latest
//! picture.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use drivers::simulated::{CooperativeSubject, EyeOutline, Portrait, SubjectAction};
use drivers::{Camera, RgbFrame};
use face::{Challenge, Decision, LivenessConfig, LivenessResult, LivenessSession};
use wire::BiometricIndex;

use crate::capture::{self, CaptureError};
use crate::queue::CapturedImage;

/// How the face step runs.
#[derive(Debug, Clone)]
pub struct FaceStepConfig {
    pub autocapture: face::AutoCaptureConfig,
    /// The active challenge (with its passive cues); `None` captures without one.
    pub liveness: Option<LivenessConfig>,
    /// Give up when nothing was captured within this time.
    pub max_duration: Duration,
    /// Longest wait for one camera frame.
    pub frame_timeout: Duration,
}

impl Default for FaceStepConfig {
    fn default() -> Self {
        Self {
            autocapture: face::AutoCaptureConfig::default(),
            liveness: Some(LivenessConfig::default()),
            max_duration: Duration::from_secs(60),
            frame_timeout: Duration::from_secs(2),
        }
    }
}

/// Where the face step stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FacePhase {
    /// Waiting for the face to be in position (size, centring, pose).
    Positioning,
    /// Asking the liveness challenge.
    Challenge,
    /// Waiting for enough good frames in a row to capture.
    Capturing,
    /// The capture fired.
    Captured,
}

impl FacePhase {
    /// Stable spelling for the window.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Positioning => "positioning",
            Self::Challenge => "challenge",
            Self::Capturing => "capturing",
            Self::Captured => "captured",
        }
    }
}

/// What the analysis made of the newest frame, for the overlay and the prompt.
#[derive(Debug, Clone)]
pub struct AnalysisView {
    /// The camera frame analysed.
    pub frame: u64,
    pub width: u32,
    pub height: u32,
    pub roi: Option<face::Rect>,
    pub target: face::Rect,
    /// Head pose of the face analysed, when there is one.
    pub pose: Option<face::HeadPose>,
    /// The face pipeline's problems with the frame, most important first.
    pub feedback: Vec<face::Feedback>,
    pub compliant: bool,
    pub phase: FacePhase,
    /// The one thing to tell the person now, in plain words.
    pub prompt: String,
    /// The challenge being asked and how far the challenge got.
    pub challenge: Option<Challenge>,
    pub challenges_done: usize,
    pub challenges_total: usize,
    /// Consecutive compliant frames, and how many fire the capture.
    pub streak: usize,
    pub needed: usize,
    pub analysis_ms: f32,
    /// Frames analysed / taken by the camera per second since the start.
    pub analysed_fps: f32,
    pub camera_fps: f32,
    /// Camera frames that went by unanalysed because a newer one was waiting.
    pub skipped: u64,
}

/// How the face step ended.
pub enum FaceStepOutcome {
    /// The capture fired: the crop as a queue image, the capture details, and the liveness
    /// result when a challenge was asked.
    Captured { image: CapturedImage, result: Box<face::CaptureResult>, liveness: Option<LivenessResult> },
    /// `stop` was raised.
    Stopped,
    /// Nothing captured within `max_duration`.
    GaveUp,
}

/// The challenge's prompt in plain words, as the window shows it.
pub fn challenge_prompt(c: Challenge) -> &'static str {
    match c {
        Challenge::Blink => "Blink now",
        Challenge::TurnLeft => "Turn your head slowly to your left, then back",
        Challenge::TurnRight => "Turn your head slowly to your right, then back",
    }
}

/// A liveness feedback code (`CHALLENGE_NOT_COMPLETED_BLINK`, `REPEATED_FRAMES`, …) in plain words
/// for the review screen.
pub fn describe_liveness_feedback(code: &str) -> String {
    let which = |rest: &str| match rest {
        "BLINK" => "the blink",
        "TURN_LEFT" => "the turn to the left",
        "TURN_RIGHT" => "the turn to the right",
        _ => "a challenge",
    };
    if let Some(rest) = code.strip_prefix("CHALLENGE_NOT_COMPLETED_") {
        return format!("{} was not seen in time", which(rest));
    }
    if let Some(rest) = code.strip_prefix("CHALLENGE_NOT_3D_OR_WRONG_WAY_") {
        return format!("{} did not look like a real head turning (flat picture, or the wrong way)", which(rest));
    }
    if let Some(rest) = code.strip_prefix("CHALLENGE_FACE_DEFORMED_") {
        return format!("during {} the whole face changed shape (a bent photo?)", which(rest));
    }
    match code {
        "REPEATED_FRAMES" => "identical frames repeated (a replayed or injected video?)".into(),
        "NO_NATURAL_MOTION" => "no natural 3-D face movement was seen".into(),
        "NO_FACE_DETECTED" => "too few frames with a face".into(),
        "TIMESTAMPS_NOT_INCREASING" => "the camera's frame times went backwards".into(),
        "SCORES_READY" => "all checks passed".into(),
        other => other.to_lowercase().replace('_', " "),
    }
}

/// What a cooperative simulated person ([`CooperativeSubject`]) does while the window shows
/// `challenge`: the movement asked for, or looking straight at the camera when no challenge is on
/// the screen (positioning, capture).
pub fn subject_action(challenge: Option<Challenge>) -> SubjectAction {
    match challenge {
        None => SubjectAction::Neutral,
        Some(Challenge::Blink) => SubjectAction::Blink,
        Some(Challenge::TurnLeft) => SubjectAction::TurnLeft,
        Some(Challenge::TurnRight) => SubjectAction::TurnRight,
    }
}

/// The decision's wire spelling (LIVE, SPOOF, UNABLE_TO_CALCULATE_LIVENESS).
pub fn decision_code(d: Decision) -> &'static str {
    match d {
        Decision::Live => "LIVE",
        Decision::Spoof => "SPOOF",
        Decision::UnableToCalculateLiveness => "UNABLE_TO_CALCULATE_LIVENESS",
    }
}

/// A challenge's wire spelling (BLINK, TURN_LEFT, TURN_RIGHT).
pub fn challenge_code(c: Challenge) -> &'static str {
    match c {
        Challenge::Blink => "BLINK",
        Challenge::TurnLeft => "TURN_LEFT",
        Challenge::TurnRight => "TURN_RIGHT",
    }
}

/// The challenges of a result with whether each was asked: a session ends at its first failed
/// step, so the steps after it were never put to the person.
pub fn asked_challenges(r: &LivenessResult) -> Vec<(face::ChallengeOutcome, bool)> {
    let mut failed = false;
    r.challenges
        .iter()
        .map(|c| {
            let asked = !failed;
            failed |= !c.passed;
            (c.clone(), asked)
        })
        .collect()
}

/// Why a result is what it is, in plain words, leaving out the steps that were never asked.
pub fn liveness_reasons(r: &LivenessResult) -> Vec<String> {
    let not_asked: Vec<&'static str> =
        asked_challenges(r).iter().filter(|(_, asked)| !asked).map(|(c, _)| challenge_code(c.challenge)).collect();
    r.feedback
        .iter()
        .filter(|code| !(code.starts_with("CHALLENGE_") && not_asked.iter().any(|n| code.ends_with(&format!("_{n}")))))
        .map(|code| describe_liveness_feedback(code))
        .collect()
}

/// The liveness decision in plain words.
pub fn describe_decision(d: Decision) -> &'static str {
    match d {
        Decision::Live => "live person confirmed",
        Decision::Spoof => "not confirmed as a live person",
        Decision::UnableToCalculateLiveness => "could not be checked",
    }
}

/// The simulated subject of the app's face step: a public-domain official portrait (Barack Obama,
/// White House, 2012; `biometrics/face/tests/data/README.md`) of a person looking straight at the
/// camera, with its face box (x, y, width, height). The drivers' astronaut photo has her head
/// pitched about 5° down (nasion→subnasale axis against MediaPipe's canonical frontal face; the
/// nose tip sits lower between eyes and lip than in this portrait), at the ISO 5° limit, so
/// autocapture waited on pose-estimate noise (docs/benchmarks/app.md). Halved once (face ~138 px
/// wide): the walk-up renders every frame from a copy of it. The head sits near the top of the
/// photo, so its top rows are repeated upward (plain curtain) to give the frame and the ISO crop
/// room above the head. The eyes are given too, so that the subject can blink.
pub fn frontal_subject() -> Result<Portrait, CaptureError> {
    const PORTRAIT: &[u8] = include_bytes!("../../biometrics/face/tests/data/obama.jpg");
    const FACE: (f32, f32, f32, f32) = (348.3, 142.3, 276.9, 276.9);
    /// Eyes (subject's right, left) in the full-size photo, measured with the face mesh.
    const EYES: [EyeOutline; 2] = [
        EyeOutline { outer: [417.9, 216.7], inner: [465.3, 217.6], upper: 7.9, lower: 3.3 },
        EyeOutline { outer: [569.9, 213.8], inner: [523.1, 216.4], upper: 8.0, lower: 3.3 },
    ];
    const HEADROOM: u32 = 64;
    let img = image::load_from_memory(PORTRAIT).map_err(|e| CaptureError::Face(format!("simulated subject: {e}")))?.to_rgb8();
    let half = image::imageops::resize(&img, img.width() / 2, img.height() / 2, image::imageops::FilterType::Triangle);
    let padded = image::RgbImage::from_fn(half.width(), half.height() + HEADROOM, |x, y| {
        *half.get_pixel(x, y.saturating_sub(HEADROOM))
    });
    let face = (FACE.0 / 2.0, FACE.1 / 2.0 + HEADROOM as f32, FACE.2 / 2.0, FACE.3 / 2.0);
    let eyes = EYES.map(|e| e.scaled(0.5, [0.0, HEADROOM as f32]));
    Ok(Portrait { image: Arc::new(padded), face, eyes: Some(eyes) })
}

/// The newest camera frame, waiting for the analysis.
struct Newest {
    slot: Mutex<(Option<Arc<RgbFrame>>, u64)>,
    arrived: Condvar,
}

/// Bytes before the pixels of a [`preview_rgba`] message: width, height and frame number, each a
/// little-endian u32.
pub const RGBA_HEADER: usize = 12;

/// A frame as the window paints it without decoding anything: a 12-byte header (width, height,
/// frame number; little-endian u32) and the pixels as RGBA (what a canvas `ImageData` holds).
/// Four times cheaper for the camera thread than a JPEG encode of the same frame, at the price of
/// about 1.2 MB per VGA frame over the local IPC.
pub fn preview_rgba(frame: &RgbFrame, index: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(RGBA_HEADER + frame.rgb.len() / 3 * 4);
    out.extend_from_slice(&frame.width.to_le_bytes());
    out.extend_from_slice(&frame.height.to_le_bytes());
    out.extend_from_slice(&(index as u32).to_le_bytes());
    for px in frame.rgb.chunks_exact(3) {
        out.extend_from_slice(&[px[0], px[1], px[2], 255]);
    }
    out
}

/// Scales `frame` down to at most `max_width` (keeping the aspect) and encodes it as JPEG (the
/// other preview transport, for a window across a slow link; the bench compares both).
pub fn preview_jpeg(frame: &RgbFrame, max_width: u32, quality: u8) -> Result<(Vec<u8>, u32, u32), String> {
    let img = image::RgbImage::from_raw(frame.width, frame.height, frame.rgb.clone())
        .ok_or_else(|| format!("frame buffer does not fit {}x{}", frame.width, frame.height))?;
    let img = if frame.width > max_width && max_width > 0 {
        let h = (frame.height as u64 * max_width as u64 / frame.width as u64).max(1) as u32;
        image::imageops::resize(&img, max_width, h, image::imageops::FilterType::Triangle)
    } else {
        img
    };
    let mut out = std::io::Cursor::new(Vec::new());
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality)
        .encode(img.as_raw(), img.width(), img.height(), image::ExtendedColorType::Rgb8)
        .map_err(|e| e.to_string())?;
    Ok((out.into_inner(), img.width(), img.height()))
}

/// Runs the face step: `camera` streams on its own thread and hands every frame, with its number,
/// to `on_preview` (which encodes and sends it, or drops it when the window is behind), the
/// caller's thread analyses the newest frame with `pipeline`, asks the challenge, autocaptures and
/// reports each analysis to `on_analysis`, until the capture fires, `stop` is raised or
/// `max_duration` passes.
///
/// `subject` is the simulated person in front of a simulated camera, who is shown each prompt as
/// the window shows it ([`subject_action`]); `None` for a real camera, where a real person reads
/// the prompt on the screen.
pub fn run_face_step(
    camera: &mut dyn Camera,
    subject: Option<&CooperativeSubject>,
    pipeline: &mut face::FacePipeline,
    cfg: &FaceStepConfig,
    stop: &AtomicBool,
    on_preview: impl FnMut(&RgbFrame, u64) -> Result<(), String> + Send,
    mut on_analysis: impl FnMut(&AnalysisView),
) -> Result<FaceStepOutcome, CaptureError> {
    let device = |source| CaptureError::Device { position: BiometricIndex::Face.label().to_owned(), source };
    let format = capture::preferred_format(&camera.formats().map_err(device)?).ok_or(CaptureError::NoFormat)?;
    camera.start(format).map_err(device)?;
    let newest = Newest { slot: Mutex::new((None, 0)), arrived: Condvar::new() };
    let finished = AtomicBool::new(false);
    let taken = AtomicU64::new(0);
    let started = Instant::now();

    let (camera_result, analysis_result) = std::thread::scope(|scope| {
        let camera_thread = scope.spawn(|| {
            let r = camera_loop(camera, cfg, &newest, &finished, stop, &taken, on_preview);
            // Wake the analysis so it sees the end of the stream.
            finished.store(true, Ordering::SeqCst);
            newest.arrived.notify_all();
            r
        });
        let r = analysis_loop(pipeline, subject, cfg, &newest, &finished, stop, &taken, started, &mut on_analysis);
        finished.store(true, Ordering::SeqCst);
        let c = camera_thread.join().unwrap_or_else(|_| Err(CaptureError::Face("the camera thread panicked".into())));
        (c, r)
    });
    let stopped = camera.stop().map_err(device);
    let outcome = analysis_result?;
    // A camera failure matters only when the analysis did not finish on its own.
    if matches!(outcome, FaceStepOutcome::GaveUp | FaceStepOutcome::Stopped) {
        camera_result?;
    }
    stopped?;
    Ok(outcome)
}

fn camera_loop(
    camera: &mut dyn Camera,
    cfg: &FaceStepConfig,
    newest: &Newest,
    finished: &AtomicBool,
    stop: &AtomicBool,
    taken: &AtomicU64,
    mut on_preview: impl FnMut(&RgbFrame, u64) -> Result<(), String>,
) -> Result<(), CaptureError> {
    let mut index = 0u64;
    while !finished.load(Ordering::SeqCst) && !stop.load(Ordering::Relaxed) {
        let frame = camera
            .next_frame(cfg.frame_timeout)
            .map_err(|source| CaptureError::Device { position: BiometricIndex::Face.label().to_owned(), source })?;
        let frame = Arc::new(frame);
        {
            let mut slot = newest.slot.lock().unwrap_or_else(|p| p.into_inner());
            *slot = (Some(frame.clone()), index + 1);
        }
        newest.arrived.notify_all();
        taken.store(index + 1, Ordering::Relaxed);
        on_preview(&frame, index).map_err(|e| CaptureError::Encode("preview".into(), e))?;
        index += 1;
    }
    Ok(())
}

/// The challenge and capture state of one face step.
struct Steps {
    phase: FacePhase,
    liveness: Option<LivenessSession>,
    liveness_result: Option<LivenessResult>,
    total: usize,
}

#[allow(clippy::too_many_arguments)] // private: the two loops share these by reference
fn analysis_loop(
    pipeline: &mut face::FacePipeline,
    subject: Option<&CooperativeSubject>,
    cfg: &FaceStepConfig,
    newest: &Newest,
    finished: &AtomicBool,
    stop: &AtomicBool,
    taken: &AtomicU64,
    started: Instant,
    on_analysis: &mut impl FnMut(&AnalysisView),
) -> Result<FaceStepOutcome, CaptureError> {
    let needed = cfg.autocapture.min_consecutive;
    let mut auto = face::AutoCapture::new(cfg.autocapture.clone());
    let total = cfg.liveness.as_ref().map_or(0, |l| l.challenges.len());
    let mut steps = Steps { phase: FacePhase::Positioning, liveness: None, liveness_result: None, total };
    let (mut last_seq, mut analysed, mut skipped) = (0u64, 0u64, 0u64);
    loop {
        // The newest frame not analysed yet; older ones are dropped.
        let frame = {
            let mut slot = newest.slot.lock().unwrap_or_else(|p| p.into_inner());
            loop {
                if stop.load(Ordering::Relaxed) {
                    return Ok(FaceStepOutcome::Stopped);
                }
                if started.elapsed() > cfg.max_duration {
                    return Ok(FaceStepOutcome::GaveUp);
                }
                if slot.1 > last_seq {
                    break;
                }
                if finished.load(Ordering::SeqCst) {
                    return Ok(FaceStepOutcome::Stopped);
                }
                slot = newest.arrived.wait_timeout(slot, Duration::from_millis(100)).unwrap_or_else(|p| p.into_inner()).0;
            }
            skipped += slot.1 - last_seq - 1;
            last_seq = slot.1;
            slot.0.clone()
        };
        let Some(frame) = frame else { continue };
        let Some(rgb) = image::RgbImage::from_raw(frame.width, frame.height, frame.rgb.clone()) else { continue };
        let t0 = Instant::now();
        let face_error = |e: face::FaceError| CaptureError::Face(e.to_string());
        // The per-frame analysis leaves out the eye stage (it would double the time per frame);
        // it runs below only when liveness needs eye openness and on the frame autocapture would keep.
        let mut analysis = pipeline.analyze(&rgb).map_err(face_error)?;
        let mut result = None;
        match steps.phase {
            FacePhase::Positioning if in_position(&analysis) => {
                steps.phase = match &cfg.liveness {
                    Some(l) if total > 0 => {
                        steps.liveness = Some(LivenessSession::new(l.clone(), &mut rand::thread_rng()));
                        FacePhase::Challenge
                    }
                    _ => FacePhase::Capturing,
                };
            }
            _ => {}
        }
        if let (FacePhase::Challenge, Some(session)) = (steps.phase, steps.liveness.as_mut()) {
            if session.needs_eyes() {
                pipeline.measure_eyes(&rgb, &mut analysis).map_err(face_error)?;
            }
            let progress = session.feed(&analysis, frame.timestamp.as_millis() as u64);
            if progress.done {
                steps.liveness_result = Some(session.finish());
                steps.phase = FacePhase::Capturing;
            }
        }
        if steps.phase == FacePhase::Capturing {
            let r = auto.feed_with_eye_stage(pipeline, &rgb, &analysis).map_err(face_error)?;
            if r.captured {
                steps.phase = FacePhase::Captured;
            }
            result = Some(r);
        }
        let analysis_ms = t0.elapsed().as_secs_f32() * 1000.0;
        analysed += 1;
        let elapsed = started.elapsed().as_secs_f32().max(1e-3);
        let progress = steps.liveness.as_ref().map(|s| s.progress());
        let challenge = if steps.phase == FacePhase::Challenge { progress.as_ref().and_then(|p| p.current) } else { None };
        if let Some(subject) = subject {
            subject.ask(subject_action(challenge));
        }
        let feedback = result.as_ref().map(|r| r.feedback.clone()).unwrap_or_else(|| analysis.feedback.clone());
        let prompt = prompt_for(&steps, challenge, &analysis, &feedback);
        on_analysis(&AnalysisView {
            frame: last_seq - 1,
            width: frame.width,
            height: frame.height,
            roi: analysis.roi,
            target: analysis.target,
            pose: analysis.face.as_ref().map(|f| f.pose),
            feedback,
            // Autocapture's verdict when it ran: it may have refused the kept frame on its eyes.
            compliant: result.as_ref().map_or(analysis.compliant, |r| r.compliant),
            phase: steps.phase,
            prompt,
            challenge,
            challenges_done: progress.as_ref().map_or(0, |p| p.completed),
            challenges_total: steps.total,
            streak: result.as_ref().map_or(0, |r| r.streak),
            needed,
            analysis_ms,
            analysed_fps: analysed as f32 / elapsed,
            camera_fps: taken.load(Ordering::Relaxed) as f32 / elapsed,
            skipped,
        });
        if steps.phase == FacePhase::Captured {
            let Some(r) = auto.result() else { continue };
            let image = CapturedImage {
                index: BiometricIndex::Face,
                width: r.iso.width,
                height: r.iso.height,
                resolution: None,
                bytes: r.iso.png.clone(),
            };
            return Ok(FaceStepOutcome::Captured { image, result: Box::new(r.clone()), liveness: steps.liveness_result.take() });
        }
    }
}

/// The face is there, alone, at a usable size and in the frame: the challenge can start (pose,
/// light and sharpness matter only for the capture that follows).
fn in_position(analysis: &face::FrameAnalysis) -> bool {
    use face::FeedbackCode as C;
    analysis.face.is_some()
        && !analysis
            .feedback
            .iter()
            .any(|f| matches!(f.code, C::NoFace | C::MultipleFaces | C::TooFar | C::TooClose | C::NotCentered))
}

fn prompt_for(steps: &Steps, challenge: Option<Challenge>, analysis: &face::FrameAnalysis, feedback: &[face::Feedback]) -> String {
    match steps.phase {
        FacePhase::Captured => "Got it — hold on".into(),
        FacePhase::Challenge if analysis.face.is_none() => "Look at the camera".into(),
        FacePhase::Challenge => challenge.map(challenge_prompt).unwrap_or("Look straight at the camera").into(),
        _ => feedback.first().map(|f| f.prompt.clone()).unwrap_or_else(|| "Perfect — hold still".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app_support::WalkUpCamera;
    use drivers::simulated::{Motion, SimulatedCamera};

    #[test]
    fn steps_after_the_first_failure_were_not_asked() {
        let outcome = |challenge, passed| face::ChallengeOutcome { challenge, passed, elapsed_ms: None, peak: 0.0, nonrigid: 0.0 };
        let r = LivenessResult {
            decision: Decision::Spoof,
            score: 20.0,
            feedback: vec!["CHALLENGE_NOT_COMPLETED_TURN_RIGHT".into(), "CHALLENGE_NOT_COMPLETED_BLINK".into(), "NO_NATURAL_MOTION".into()],
            challenges: vec![outcome(Challenge::TurnRight, false), outcome(Challenge::Blink, false)],
            frames: [10, 10],
            repeated_fraction: 0.0,
            max_nonrigid: 0.0,
        };
        let asked: Vec<bool> = asked_challenges(&r).into_iter().map(|(_, a)| a).collect();
        assert_eq!(asked, vec![true, false]);
        assert_eq!(liveness_reasons(&r), vec!["the turn to the right was not seen in time", "no natural 3-D face movement was seen"]);
    }

    #[test]
    fn prompts_and_feedback_are_plain_words() {
        assert_eq!(challenge_prompt(Challenge::Blink), "Blink now");
        assert!(challenge_prompt(Challenge::TurnLeft).contains("to your left"));
        assert_eq!(describe_liveness_feedback("CHALLENGE_NOT_COMPLETED_TURN_LEFT"), "the turn to the left was not seen in time");
        assert!(describe_liveness_feedback("CHALLENGE_NOT_3D_OR_WRONG_WAY_TURN_RIGHT").starts_with("the turn to the right did not look"));
        assert!(describe_liveness_feedback("REPEATED_FRAMES").contains("replayed"));
        assert_eq!(describe_liveness_feedback("SOMETHING_NEW"), "something new");
    }

    #[test]
    fn previews_rgba_and_scaled_jpeg() {
        let cam = SimulatedCamera::astronaut(Motion::Natural).unwrap();
        let frame = cam.frame_at(Duration::ZERO, 0);
        let rgba = preview_rgba(&frame, 7);
        assert_eq!(rgba.len(), RGBA_HEADER + 640 * 480 * 4);
        assert_eq!(&rgba[..12], &[128, 2, 0, 0, 224, 1, 0, 0, 7, 0, 0, 0]);
        assert_eq!(&rgba[12..16], &[frame.rgb[0], frame.rgb[1], frame.rgb[2], 255]);
        let (jpeg, w, h) = preview_jpeg(&frame, 480, 70).unwrap();
        assert_eq!((w, h), (480, 360));
        assert_eq!(&jpeg[..2], &[0xff, 0xd8]);
        let decoded = image::load_from_memory(&jpeg).unwrap();
        assert_eq!((decoded.width(), decoded.height()), (480, 360));
    }

    fn pipeline() -> Option<face::FacePipeline> {
        match face::FacePipeline::new(&face::PipelineConfig::default()) {
            Ok(p) => Some(p),
            Err(e) => {
                eprintln!("skipped: face pipeline unavailable ({e}); set ORT_DYLIB_PATH");
                None
            }
        }
    }

    /// The real pipeline on a scripted subject who does not read the prompts: the preview runs at
    /// the camera's rate while the analysis takes the newest frame; the challenge is asked and the
    /// face is captured after it. The scripted subject turns right first, so a left turn asked
    /// first is answered the wrong way and the decision is SPOOF.
    #[test]
    fn challenge_then_capture_on_the_simulated_subject() {
        let Some(mut pipe) = pipeline() else { return };
        // A real photograph that passes the ISO pose checks, moved like a head turning.
        let photo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../biometrics/face/tests/data/obama.jpg");
        let photo = image::open(&photo).unwrap().to_rgb8();
        let mut camera = SimulatedCamera::from_image(photo, (348.3, 142.3, 276.9, 276.9), Motion::HeadTurn);
        let cfg = FaceStepConfig {
            liveness: Some(LivenessConfig {
                challenges: vec![Challenge::TurnLeft],
                step_timeout_ms: 1500,
                ..LivenessConfig::default()
            }),
            max_duration: Duration::from_secs(30),
            ..FaceStepConfig::default()
        };
        let stop = AtomicBool::new(false);
        let previews = Mutex::new(Vec::new());
        let mut views: Vec<AnalysisView> = Vec::new();
        let outcome = run_face_step(
            &mut camera,
            None,
            &mut pipe,
            &cfg,
            &stop,
            |f, i| {
                previews.lock().unwrap().push((i, preview_rgba(f, i).len()));
                Ok(())
            },
            |v| views.push(v.clone()),
        )
        .unwrap();
        let trace: Vec<String> = views.iter().step_by(10).map(|v| format!("{} {} {:?}", v.frame, v.phase.as_str(), v.prompt)).collect();
        let FaceStepOutcome::Captured { image, liveness, .. } = outcome else { panic!("no capture: {trace:#?}") };
        assert_eq!(image.index, BiometricIndex::Face);
        let liveness = liveness.expect("a challenge was asked");
        assert_eq!(liveness.decision, Decision::Spoof, "{liveness:?}");
        assert!(views.iter().any(|v| v.phase == FacePhase::Challenge && v.prompt == challenge_prompt(Challenge::TurnLeft)));
        assert_eq!(asked_challenges(&liveness).len(), 1);
        assert!(!liveness_reasons(&liveness).is_empty());
        assert_eq!(views.last().unwrap().phase, FacePhase::Captured);
        let previews = previews.into_inner().unwrap();
        // Every camera frame was previewed, in order; the analysis saw no more frames than that.
        assert!(previews.windows(2).all(|w| w[1].0 == w[0].0 + 1));
        assert!(views.len() <= previews.len() + 1, "{} analyses, {} previews", views.len(), previews.len());
    }

    /// The app's simulated person, stepping up in real time, is shown the prompts of the default
    /// challenges (blink and both turns) in random order and does what they say: LIVE, then the
    /// capture (every order, frame by frame: `tests/simulated_liveness.rs`).
    #[test]
    fn the_cooperative_subject_blinks_and_turns_and_is_captured() {
        let Some(mut pipe) = pipeline() else { return };
        let mut camera = WalkUpCamera::new(Duration::ZERO, Duration::from_millis(500))
            .with_motion(Motion::Cooperative)
            .with_portrait(frontal_subject().unwrap());
        let subject = camera.subject().expect("a cooperative subject");
        let stop = AtomicBool::new(false);
        let mut views: Vec<AnalysisView> = Vec::new();
        let cfg = FaceStepConfig {
            liveness: Some(LivenessConfig::default()),
            max_duration: Duration::from_secs(40),
            ..FaceStepConfig::default()
        };
        let outcome = run_face_step(&mut camera, Some(&subject), &mut pipe, &cfg, &stop, |_, _| Ok(()), |v| views.push(v.clone())).unwrap();
        let trace: Vec<String> = views.iter().step_by(5).map(|v| format!("{} {} {:?}", v.frame, v.phase.as_str(), v.prompt)).collect();
        let FaceStepOutcome::Captured { liveness, .. } = outcome else { panic!("no capture: {trace:#?}") };
        let liveness = liveness.expect("a challenge was asked");
        assert_eq!(liveness.decision, Decision::Live, "{liveness:#?}\n{trace:#?}");
        assert!(liveness.challenges.iter().all(|c| c.passed && c.elapsed_ms.is_some_and(|ms| ms >= 300)), "{liveness:?}");
        assert_eq!(liveness.challenges.len(), 3);
        // Once the challenge is over the person is asked nothing more.
        assert_eq!(subject.asked(), SubjectAction::Neutral);
    }

    #[test]
    fn challenges_map_to_what_the_simulated_person_does() {
        assert_eq!(subject_action(None), SubjectAction::Neutral);
        assert_eq!(subject_action(Some(Challenge::Blink)), SubjectAction::Blink);
        assert_eq!(subject_action(Some(Challenge::TurnLeft)), SubjectAction::TurnLeft);
        assert_eq!(subject_action(Some(Challenge::TurnRight)), SubjectAction::TurnRight);
    }

    #[test]
    fn frontal_subject_is_the_halved_portrait() {
        let Portrait { image: portrait, face: (x, y, w, h), eyes } = frontal_subject().unwrap();
        assert_eq!((portrait.width(), portrait.height()), (455, 568 + 64));
        assert!(x > 0.0 && y > 64.0 && x + w < 455.0 && y + h < 568.0 + 64.0);
        // The rows above the photo repeat its top row.
        assert_eq!(portrait.get_pixel(10, 0), portrait.get_pixel(10, 64));
        // The eyes lie in the upper half of the face box, the subject's right eye image-left.
        let [right, left] = eyes.expect("eyes known");
        for e in [right, left] {
            assert!(e.outer[0] > x && e.outer[0] < x + w && e.outer[1] > y && e.outer[1] < y + h / 2.0, "{e:?}");
        }
        assert!(right.outer[0] < left.outer[0]);
    }

    /// Why the app's simulated subject is the frontal portrait: at the app's walk-up distance the
    /// astronaut reads pitched down past the ISO limit, the frontal portrait reads level.
    #[test]
    fn the_app_subject_looks_straight_and_the_astronaut_looks_down() {
        let Some(mut pipe) = pipeline() else { return };
        let portrait = frontal_subject().unwrap();
        let mut pitch_of = |camera: WalkUpCamera| {
            let mut camera = camera.with_motion(Motion::Natural);
            camera.start(camera.formats().unwrap()[0]).unwrap();
            let frame = camera.next_frame(Duration::from_secs(2)).unwrap();
            camera.stop().unwrap();
            let rgb = image::RgbImage::from_raw(frame.width, frame.height, frame.rgb).unwrap();
            let a = pipe.analyze(&rgb).unwrap();
            let look_straight = a.feedback.iter().any(|f| f.code == face::FeedbackCode::LookStraight);
            (a.face.expect("a face").pose.pitch, look_straight)
        };
        let near = || WalkUpCamera::new(Duration::ZERO, Duration::ZERO);
        let (frontal, frontal_flagged) = pitch_of(near().with_portrait(portrait));
        assert!(frontal.abs() < 3.0 && !frontal_flagged, "frontal portrait: pitch {frontal}");
        let (astronaut, astronaut_flagged) = pitch_of(near());
        assert!(astronaut > 4.0 && astronaut_flagged, "astronaut: pitch {astronaut}");
    }

    #[test]
    fn stop_ends_the_step() {
        let Some(mut pipe) = pipeline() else { return };
        let mut camera = SimulatedCamera::astronaut(Motion::Natural).unwrap();
        let stop = AtomicBool::new(false);
        let mut n = 0;
        let outcome = run_face_step(&mut camera, None, &mut pipe, &FaceStepConfig::default(), &stop, |_, _| Ok(()), |_| {
            n += 1;
            if n == 3 {
                stop.store(true, Ordering::SeqCst);
            }
        })
        .unwrap();
        assert!(matches!(outcome, FaceStepOutcome::Stopped));
    }
}
