//! Liveness: an active challenge (blink, turn left, turn right in random order) verified from the
//! face mesh and the iris model's eyelid contours with timing limits, plus passive motion cues. The
//! result is shaped like AwareID Knomi's `liveness_result` (`decision`, `score`, `feedback`).
//!
//! Eye openness comes from the pipeline's eye stage, which costs as much as the rest of a frame;
//! the session needs it only while it learns the open-eye baseline (when a blink is asked) and
//! during the blink step, and says so ([`LivenessSession::needs_eyes`]) so that a live loop runs the
//! stage only then. The turns use the mesh alone.
//!
//! What it catches: a still photo or screen held to the camera (no blink, no 3-D head rotation —
//! moving, tilting or bending a photo gives landmark motion that an affine map explains, and a
//! vertical squash that fakes a blink also changes the face's aspect ratio); a replayed video
//! recorded with another challenge order (the order is random, turns only count after returning to
//! the neutral pose, and each step has a deadline); digitally injected repeated frames (bit-identical
//! consecutive face patches never come from a live camera).
//!
//! What it cannot catch: a realistic 3-D mask or a person wearing one, a deep-fake video generated
//! in real time that follows the prompts, or a replay attacker who can inject frames in the same
//! order as the prompts. It has no texture (moiré, print) analysis — no passive anti-spoofing model
//! with a usable licence was available. Treat `LIVE` as "a cooperative live presentation was
//! observed", not as certified presentation-attack detection (ISO/IEC 30107-3 testing is needed).

use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};

use crate::landmarks::{dist, idx};
use crate::pipeline::{FaceAnalysis, FrameAnalysis};

/// One active challenge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Challenge {
    /// Close and reopen both eyes.
    Blink,
    /// Turn the head to the subject's left (yaw < 0).
    TurnLeft,
    /// Turn the head to the subject's right (yaw > 0).
    TurnRight,
}

impl Challenge {
    /// Prompt shown to the subject.
    pub fn prompt(self) -> &'static str {
        match self {
            Self::Blink => "Blink",
            Self::TurnLeft => "Turn your head slowly to your left, then back",
            Self::TurnRight => "Turn your head slowly to your right, then back",
        }
    }
}

/// Knomi-style decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Decision {
    /// All challenges passed and the passive cues agree.
    Live,
    /// A challenge failed or a passive cue indicates an attack.
    Spoof,
    /// Not enough usable frames (no face, too few frames, bad timestamps).
    UnableToCalculateLiveness,
}

/// Liveness thresholds and timing limits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LivenessConfig {
    /// Challenges to ask (shuffled when `randomize`).
    pub challenges: Vec<Challenge>,
    /// Shuffle the challenge order per session (defeats replays of a recorded session).
    pub randomize: bool,
    /// Frames with a face used to learn the subject's neutral yaw and (when a blink is asked) the
    /// open-eye EAR; while the eye baseline is short only frames with measured eyes add to it.
    pub baseline_frames: usize,
    /// Deadline for each challenge step, from the moment it is prompted.
    pub step_timeout_ms: u64,
    /// A step completed sooner than this after its prompt is not accepted (no human reacts that fast).
    pub min_reaction_ms: u64,
    /// Yaw change from neutral (degrees) that counts as a turn.
    pub turn_deg: f32,
    /// |yaw − neutral| below which the head counts as back at neutral.
    pub neutral_deg: f32,
    /// EAR (iris model's eyelid contour, mean of both eyes) below this fraction of the open-eye
    /// baseline counts as closed. Measured on the simulated subject (station test
    /// `simulated_liveness`): eyelids fully shut read 0.31 of open on each eye, three quarters shut
    /// 0.34, half shut 0.57; 0.45 sits between a shut eye and a half-closed one, so a squint is not
    /// a blink. (The 468-point mesh used before read 0.90 of open for a full blink.)
    pub blink_closed_ratio: f32,
    /// EAR above this fraction of the baseline counts as reopened. Open frames of the same subject
    /// in natural motion stay at or above 0.87 of their baseline; a quarter-closed lid reads 0.78.
    pub blink_open_ratio: f32,
    /// Longest eye closure accepted as a blink (ms).
    pub blink_max_ms: u64,
    /// Max relative change of the face aspect (forehead–chin / eye-corner distance) during a blink;
    /// more means the whole face was squashed (a bent photo), not the eyelids closed.
    pub blink_max_aspect_change: f32,
    /// Minimum non-affine landmark motion (RMS residual / eye distance) during a turn; a flat photo
    /// moved or tilted stays below it.
    pub turn_min_nonrigid: f32,
    /// Mean absolute grey difference of consecutive face patches below which frames count as repeated.
    pub repeat_mad: f32,
    /// Fraction of repeated consecutive frames above which the sequence is a replay/injection.
    pub max_repeated_fraction: f32,
}

impl Default for LivenessConfig {
    fn default() -> Self {
        Self {
            challenges: vec![Challenge::Blink, Challenge::TurnLeft, Challenge::TurnRight],
            randomize: true,
            baseline_frames: 3,
            step_timeout_ms: 6000,
            min_reaction_ms: 150,
            turn_deg: 18.0,
            neutral_deg: 8.0,
            blink_closed_ratio: 0.45,
            blink_open_ratio: 0.8,
            blink_max_ms: 1000,
            blink_max_aspect_change: 0.08,
            turn_min_nonrigid: crate::DEFAULT_TURN_MIN_NONRIGID,
            repeat_mad: 0.02,
            max_repeated_fraction: 0.3,
        }
    }
}

/// Outcome of one challenge step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChallengeOutcome {
    /// The challenge.
    pub challenge: Challenge,
    /// Whether it was completed in time and passed its anti-spoof check.
    pub passed: bool,
    /// Time from prompt to completion (ms), if completed.
    pub elapsed_ms: Option<u64>,
    /// Peak measurement: |Δyaw| in degrees for turns, minimum EAR ratio for blinks.
    pub peak: f32,
    /// Peak non-rigid motion during the step (RMS affine residual / eye distance).
    pub nonrigid: f32,
}

/// Knomi-shaped liveness result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LivenessResult {
    /// Decision.
    pub decision: Decision,
    /// 0..100: share of checks passed (100 only when LIVE). Not a calibrated probability.
    pub score: f32,
    /// Reasons, as stable strings (e.g. `CHALLENGE_TIMEOUT_TURN_LEFT`, `REPEATED_FRAMES`, `SCORES_READY`).
    pub feedback: Vec<String>,
    /// Per-challenge detail, in the order asked.
    pub challenges: Vec<ChallengeOutcome>,
    /// Frames seen / frames with a face.
    pub frames: [usize; 2],
    /// Fraction of consecutive face patches that were (near-)identical.
    pub repeated_fraction: f32,
    /// Largest non-rigid landmark motion over the session.
    pub max_nonrigid: f32,
}

/// What the UI should show now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LivenessProgress {
    /// The challenge being asked, if any (None while learning the baseline or when done).
    pub current: Option<Challenge>,
    /// Its prompt.
    pub prompt: Option<String>,
    /// Steps completed so far.
    pub completed: usize,
    /// True when the session has an outcome (all passed, or a step failed).
    pub done: bool,
}

#[derive(Debug, Clone)]
struct Step {
    challenge: Challenge,
    started_ms: Option<u64>,
    seen_neutral: bool,
    closed_since: Option<u64>,
    outcome: Option<ChallengeOutcome>,
    peak: f32,
    nonrigid: f32,
}

/// An active + passive liveness session over a stream of analysed frames.
pub struct LivenessSession {
    cfg: LivenessConfig,
    steps: Vec<Step>,
    current: usize,
    frames: usize,
    face_frames: usize,
    last_ts: Option<u64>,
    bad_timestamps: bool,
    base_yaw: Vec<f32>,
    base_ear: Vec<f32>,
    base_aspect: Vec<f32>,
    reference: Option<Vec<[f32; 2]>>,
    prev_patch: Option<Vec<u8>>,
    pairs: usize,
    repeated: usize,
    max_nonrigid: f32,
}

/// Points used for the rigid/non-rigid motion test: the whole mesh, subsampled.
fn motion_points(face: &FaceAnalysis) -> Vec<[f32; 2]> {
    face.mesh.points.iter().step_by(3).map(|p| [p[0], p[1]]).collect()
}

/// RMS residual of the best 2-D affine map from `a` to `b`, divided by `scale`. A flat picture moved,
/// scaled, rotated or tilted (weak perspective) is explained by an affine map; a real head turning
/// in 3-D is not (the nose moves against the cheeks and ears).
pub fn affine_residual(a: &[[f32; 2]], b: &[[f32; 2]], scale: f32) -> f32 {
    let n = a.len().min(b.len());
    if n < 3 || scale <= 0.0 {
        return 0.0;
    }
    // Centre both sets for numerical stability.
    let mean = |s: &[[f32; 2]]| {
        let (mut x, mut y) = (0.0f64, 0.0f64);
        for p in &s[..n] {
            x += p[0] as f64;
            y += p[1] as f64;
        }
        (x / n as f64, y / n as f64)
    };
    let (ax, ay) = mean(a);
    let (bx, by) = mean(b);
    // Least squares: [x' y'] = [x y] M, M 2×2 (translation handled by centring).
    let (mut sxx, mut sxy, mut syy) = (0.0f64, 0.0f64, 0.0f64);
    let (mut tx_x, mut tx_y, mut ty_x, mut ty_y) = (0.0f64, 0.0f64, 0.0f64, 0.0f64);
    for i in 0..n {
        let (x, y) = (a[i][0] as f64 - ax, a[i][1] as f64 - ay);
        let (u, v) = (b[i][0] as f64 - bx, b[i][1] as f64 - by);
        sxx += x * x;
        sxy += x * y;
        syy += y * y;
        tx_x += x * u;
        tx_y += y * u;
        ty_x += x * v;
        ty_y += y * v;
    }
    let det = sxx * syy - sxy * sxy;
    if det.abs() < 1e-9 {
        return 0.0;
    }
    let inv = [[syy / det, -sxy / det], [-sxy / det, sxx / det]];
    let mu = [inv[0][0] * tx_x + inv[0][1] * tx_y, inv[1][0] * tx_x + inv[1][1] * tx_y];
    let mv = [inv[0][0] * ty_x + inv[0][1] * ty_y, inv[1][0] * ty_x + inv[1][1] * ty_y];
    let mut sse = 0.0f64;
    for i in 0..n {
        let (x, y) = (a[i][0] as f64 - ax, a[i][1] as f64 - ay);
        let (u, v) = (b[i][0] as f64 - bx, b[i][1] as f64 - by);
        let pu = mu[0] * x + mu[1] * y;
        let pv = mv[0] * x + mv[1] * y;
        sse += (u - pu).powi(2) + (v - pv).powi(2);
    }
    ((sse / n as f64).sqrt() / scale as f64) as f32
}

fn median(v: &[f32]) -> f32 {
    let mut s = v.to_vec();
    s.sort_by(|a, b| a.total_cmp(b));
    if s.is_empty() { 0.0 } else { s[s.len() / 2] }
}

fn aspect(face: &FaceAnalysis) -> f32 {
    let m = &face.mesh;
    dist(m.p(idx::FOREHEAD), m.p(idx::CHIN)) / dist(m.p(idx::RIGHT_EYE_OUTER), m.p(idx::LEFT_EYE_OUTER)).max(1e-3)
}

impl LivenessSession {
    /// A new session; the challenge order is shuffled with `rng` when the config says so.
    pub fn new<R: rand::Rng + ?Sized>(cfg: LivenessConfig, rng: &mut R) -> Self {
        let mut order = cfg.challenges.clone();
        if cfg.randomize {
            order.shuffle(rng);
        }
        Self::with_order(cfg, order)
    }

    /// A session with a fixed challenge order (for replaying recorded sessions and for tests).
    pub fn with_order(cfg: LivenessConfig, order: Vec<Challenge>) -> Self {
        let steps = order
            .into_iter()
            .map(|challenge| Step { challenge, started_ms: None, seen_neutral: false, closed_since: None, outcome: None, peak: 0.0, nonrigid: 0.0 })
            .collect();
        Self {
            cfg,
            steps,
            current: 0,
            frames: 0,
            face_frames: 0,
            last_ts: None,
            bad_timestamps: false,
            base_yaw: Vec::new(),
            base_ear: Vec::new(),
            base_aspect: Vec::new(),
            reference: None,
            prev_patch: None,
            pairs: 0,
            repeated: 0,
            max_nonrigid: 0.0,
        }
    }

    /// The challenge order of this session.
    pub fn order(&self) -> Vec<Challenge> {
        self.steps.iter().map(|s| s.challenge).collect()
    }

    fn failed(&self) -> bool {
        self.steps.iter().any(|s| s.outcome.as_ref().is_some_and(|o| !o.passed))
    }

    fn asks_blink(&self) -> bool {
        self.steps.iter().any(|s| s.challenge == Challenge::Blink)
    }

    /// The neutral pose, and the open-eye EAR when a blink is asked, have been learnt.
    fn baseline_learnt(&self) -> bool {
        let n = self.cfg.baseline_frames;
        self.base_yaw.len() >= n && (self.base_ear.len() >= n || !self.asks_blink())
    }

    /// Whether the next frame fed must carry eye openness (the pipeline's eye stage,
    /// `FacePipeline::measure_eyes`): while the open-eye baseline is learnt for a session that asks
    /// a blink, and during the blink step. Turns, and a finished session, need none. A frame fed
    /// without eyes while they are needed does not count toward the eye baseline and cannot complete
    /// a blink (the step's deadline still runs).
    pub fn needs_eyes(&self) -> bool {
        if self.failed() || self.current >= self.steps.len() {
            return false;
        }
        if !self.baseline_learnt() {
            return self.asks_blink();
        }
        self.steps[self.current].challenge == Challenge::Blink
    }

    /// Progress for the UI.
    pub fn progress(&self) -> LivenessProgress {
        let done = self.failed() || self.current >= self.steps.len();
        let current = if done || !self.baseline_learnt() { None } else { Some(self.steps[self.current].challenge) };
        LivenessProgress { current, prompt: current.map(|c| c.prompt().to_string()), completed: self.current, done }
    }

    /// Feeds one analysed frame taken at `timestamp_ms` (capture time, milliseconds, increasing).
    pub fn feed(&mut self, frame: &FrameAnalysis, timestamp_ms: u64) -> LivenessProgress {
        self.frames += 1;
        if let Some(last) = self.last_ts {
            if timestamp_ms <= last {
                self.bad_timestamps = true;
            }
        }
        self.last_ts = Some(timestamp_ms);
        let Some(face) = frame.face.as_ref() else {
            self.prev_patch = None;
            self.check_timeout(timestamp_ms);
            return self.progress();
        };
        self.face_frames += 1;
        // Passive: repeated frames.
        if let Some(prev) = &self.prev_patch {
            if prev.len() == face.patch.len() && !prev.is_empty() {
                let mad = prev.iter().zip(&face.patch).map(|(a, b)| (*a as f32 - *b as f32).abs()).sum::<f32>() / prev.len() as f32;
                self.pairs += 1;
                if mad < self.cfg.repeat_mad {
                    self.repeated += 1;
                }
            }
        }
        self.prev_patch = Some(face.patch.clone());
        let ear = face.eye_openness().map(|[r, l]| (r + l) / 2.0);
        // Baseline.
        if !self.baseline_learnt() {
            let n = self.cfg.baseline_frames;
            if self.base_yaw.len() < n {
                self.base_yaw.push(face.pose.yaw);
                self.base_aspect.push(aspect(face));
            }
            if let Some(ear) = ear.filter(|_| self.base_ear.len() < n) {
                self.base_ear.push(ear);
            }
            if self.reference.is_none() {
                self.reference = Some(motion_points(face));
            }
            return self.progress();
        }
        let nonrigid = self
            .reference
            .as_ref()
            .map(|r| affine_residual(r, &motion_points(face), face.eye_distance))
            .unwrap_or(0.0);
        self.max_nonrigid = self.max_nonrigid.max(nonrigid);
        if self.failed() || self.current >= self.steps.len() {
            return self.progress();
        }
        let (byaw, bear, basp) = (median(&self.base_yaw), median(&self.base_ear), median(&self.base_aspect));
        let cfg = self.cfg.clone();
        let step = &mut self.steps[self.current];
        let started = *step.started_ms.get_or_insert(timestamp_ms);
        let elapsed = timestamp_ms.saturating_sub(started);
        let dyaw = face.pose.yaw - byaw;
        step.nonrigid = step.nonrigid.max(nonrigid);
        let mut complete = None;
        match step.challenge {
            Challenge::TurnLeft | Challenge::TurnRight => {
                let sign = if step.challenge == Challenge::TurnLeft { -1.0 } else { 1.0 };
                if dyaw.abs() < cfg.neutral_deg {
                    step.seen_neutral = true;
                }
                step.peak = step.peak.max(sign * dyaw);
                if step.seen_neutral && sign * dyaw >= cfg.turn_deg && elapsed >= cfg.min_reaction_ms {
                    complete = Some(step.nonrigid >= cfg.turn_min_nonrigid);
                } else if step.seen_neutral && -sign * dyaw >= cfg.turn_deg {
                    complete = Some(false); // turned the wrong way: a replay of another order
                }
            }
            Challenge::Blink => {
                // A frame without measured eyes says nothing about the eyelids.
                if let Some(ear) = ear {
                    let ratio = if bear > 0.0 { ear / bear } else { 1.0 };
                    if step.peak == 0.0 || ratio < step.peak {
                        step.peak = ratio;
                    }
                    let squashed = (aspect(face) / basp.max(1e-3) - 1.0).abs() > cfg.blink_max_aspect_change;
                    if ratio < cfg.blink_closed_ratio {
                        if squashed {
                            complete = Some(false);
                        } else if step.closed_since.is_none() {
                            step.closed_since = Some(timestamp_ms);
                        }
                    } else if ratio > cfg.blink_open_ratio {
                        if let Some(t0) = step.closed_since.take() {
                            let closed = timestamp_ms.saturating_sub(t0);
                            if closed <= cfg.blink_max_ms && elapsed >= cfg.min_reaction_ms {
                                complete = Some(true);
                            }
                        }
                    }
                }
            }
        }
        if let Some(passed) = complete {
            step.outcome = Some(ChallengeOutcome { challenge: step.challenge, passed, elapsed_ms: Some(elapsed), peak: step.peak, nonrigid: step.nonrigid });
            if passed {
                self.current += 1;
            }
        } else {
            self.check_timeout(timestamp_ms);
        }
        self.progress()
    }

    fn check_timeout(&mut self, now: u64) {
        if self.current >= self.steps.len() || self.failed() {
            return;
        }
        let step = &mut self.steps[self.current];
        if let Some(t0) = step.started_ms {
            if now.saturating_sub(t0) > self.cfg.step_timeout_ms {
                step.outcome = Some(ChallengeOutcome { challenge: step.challenge, passed: false, elapsed_ms: None, peak: step.peak, nonrigid: step.nonrigid });
            }
        }
    }

    /// Ends the session and returns the decision. Steps never completed count as failed.
    pub fn finish(&self) -> LivenessResult {
        let mut feedback = Vec::new();
        let repeated_fraction = if self.pairs > 0 { self.repeated as f32 / self.pairs as f32 } else { 0.0 };
        let challenges: Vec<ChallengeOutcome> = self
            .steps
            .iter()
            .map(|s| {
                s.outcome.clone().unwrap_or(ChallengeOutcome { challenge: s.challenge, passed: false, elapsed_ms: None, peak: s.peak, nonrigid: s.nonrigid })
            })
            .collect();
        let frames = [self.frames, self.face_frames];
        let unable = |fb: &str| LivenessResult {
            decision: Decision::UnableToCalculateLiveness,
            score: -1.0,
            feedback: vec![fb.to_string()],
            challenges: challenges.clone(),
            frames,
            repeated_fraction,
            max_nonrigid: self.max_nonrigid,
        };
        if self.bad_timestamps {
            return unable("TIMESTAMPS_NOT_INCREASING");
        }
        if self.face_frames < self.cfg.baseline_frames + 2 || self.face_frames * 2 < self.frames {
            return unable("NO_FACE_DETECTED");
        }
        let mut checks = 0usize;
        let mut passed = 0usize;
        for c in &challenges {
            checks += 1;
            if c.passed {
                passed += 1;
            } else {
                let name = serde_json::to_value(c.challenge).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default();
                let why = if c.elapsed_ms.is_some() {
                    if matches!(c.challenge, Challenge::Blink) { "CHALLENGE_FACE_DEFORMED_" } else { "CHALLENGE_NOT_3D_OR_WRONG_WAY_" }
                } else {
                    "CHALLENGE_NOT_COMPLETED_"
                };
                feedback.push(format!("{why}{name}"));
            }
        }
        checks += 1;
        if repeated_fraction > self.cfg.max_repeated_fraction {
            feedback.push("REPEATED_FRAMES".into());
        } else {
            passed += 1;
        }
        checks += 1;
        if self.max_nonrigid < self.cfg.turn_min_nonrigid {
            feedback.push("NO_NATURAL_MOTION".into());
        } else {
            passed += 1;
        }
        let live = passed == checks;
        if live {
            feedback.push("SCORES_READY".into());
        }
        LivenessResult {
            decision: if live { Decision::Live } else { Decision::Spoof },
            score: if live { 100.0 } else { (100.0 * passed as f32 / checks as f32).min(99.0) },
            feedback,
            challenges,
            frames,
            repeated_fraction,
            max_nonrigid: self.max_nonrigid,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn affine_residual_is_zero_for_affine_motion_and_positive_otherwise() {
        let a: Vec<[f32; 2]> = (0..50).map(|i| [(i % 7) as f32 * 10.0, (i / 7) as f32 * 9.0 + (i as f32).sin()]).collect();
        let b: Vec<[f32; 2]> = a.iter().map(|p| [1.1 * p[0] - 0.2 * p[1] + 5.0, 0.3 * p[0] + 0.9 * p[1] - 2.0]).collect();
        assert!(affine_residual(&a, &b, 10.0) < 1e-4);
        let mut c = b.clone();
        c[3][0] += 10.0;
        c[17][1] -= 8.0;
        assert!(affine_residual(&a, &c, 10.0) > 0.1);
    }
}
