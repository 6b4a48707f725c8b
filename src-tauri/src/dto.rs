//! The values that cross the window boundary (command arguments, replies and events), with
//! their TypeScript declarations generated into `ui/src/bindings.ts` by the test at the bottom.
//! Conversions from the library types live here too; there is no logic beyond translation.

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use station::queue::{EnrollmentSummary, QueueCounts};
use ts_rs::TS;

/// A PNG or JPEG as a `data:` URL the window can show directly.
pub fn data_url(mime: &str, bytes: &[u8]) -> String {
    format!("data:{mime};base64,{}", base64::engine::general_purpose::STANDARD.encode(bytes))
}

/// A capture device as settings list it.
#[derive(Debug, Clone, Serialize, TS)]
pub struct DeviceDto {
    pub id: String,
    pub name: String,
    pub kind: String,
}

/// Where the app stands: configuration, embedded server, signed-in operator.
#[derive(Debug, Clone, Serialize, TS)]
pub struct AppInfo {
    pub version: String,
    pub kiosk: bool,
    pub embedded_server: bool,
    pub server_url: String,
    /// Whether the embedded server is running (always false when it is off).
    pub server_running: bool,
    /// Why the embedded server did not start.
    pub server_error: Option<String>,
    pub data_dir: String,
    pub secrets: String,
    pub station_id: String,
    /// The configured operator (the one sync logs in as).
    pub operator: String,
    /// The operator signed in to this window, if any.
    pub signed_in: Option<String>,
    /// Their role on the server (ADMIN, OPERATOR) when signed in.
    pub role: Option<String>,
    pub scanner: String,
    pub camera: String,
    pub scanners: Vec<DeviceDto>,
    pub cameras: Vec<DeviceDto>,
    pub idle_timeout_s: u32,
    /// Milliseconds from process start to the window's first interactive screen.
    pub ready_ms: Option<u32>,
}

/// Settings as the settings screen edits them.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
pub struct SettingsDto {
    pub server_url: String,
    pub embedded_server: bool,
    pub scanner: String,
    pub camera: String,
    pub idle_timeout_s: u32,
}

/// Per-field problems with the biographic form.
#[derive(Debug, Clone, Serialize, TS)]
pub struct FieldErrorsDto {
    pub user_id: Option<String>,
    pub name: Option<String>,
}

impl From<station::app_support::FieldErrors> for FieldErrorsDto {
    fn from(e: station::app_support::FieldErrors) -> Self {
        Self { user_id: e.user_id, name: e.name }
    }
}

/// One finger position of the capture grid.
#[derive(Debug, Clone, Serialize, TS)]
pub struct FingerSlot {
    /// Biometric index (0 = left little … 9 = right little, SPID numbering).
    pub position: u16,
    pub label: String,
    /// The captured image as a data URL, when captured.
    pub image: Option<String>,
    pub width: u32,
    pub height: u32,
    /// Declared missing: type (AMPUTATED, …) and reason.
    pub missing_type: Option<String>,
    pub missing_reason: Option<String>,
}

/// The enrollment being captured.
#[derive(Debug, Clone, Serialize, TS)]
pub struct DraftDto {
    pub user_id: String,
    pub name: String,
    pub fingers: Vec<FingerSlot>,
    /// The ISO/IEC 19794-5 face crop as a data URL, when captured.
    pub face: Option<String>,
    /// The liveness check of the face capture, when one was asked.
    pub liveness: Option<LivenessDto>,
    /// What still prevents submitting (empty = ready).
    pub problems: Vec<String>,
}

impl DraftDto {
    pub fn of(d: &station::app_support::EnrollmentDraft) -> Self {
        let fingers = wire::BiometricIndex::FINGERS
            .into_iter()
            .map(|index| {
                let image = d.fingers().find(|i| i.index == index);
                let missing = d.missing().find(|m| m.index == index);
                FingerSlot {
                    position: index.code(),
                    label: index.label().to_owned(),
                    image: image.map(|i| data_url("image/png", &i.bytes)),
                    width: image.map_or(0, |i| i.width),
                    height: image.map_or(0, |i| i.height),
                    missing_type: missing.map(|m| m.kind.as_str().to_owned()),
                    missing_reason: missing.map(|m| m.reason.clone()),
                }
            })
            .collect();
        Self {
            user_id: d.user_id.clone(),
            name: d.name.clone(),
            fingers,
            face: d.face().map(|f| data_url("image/png", &f.bytes)),
            liveness: d.liveness().map(LivenessDto::of),
            problems: d.problems(),
        }
    }
}

/// A scanner event during a finger capture.
#[derive(Debug, Clone, Serialize, TS)]
pub struct ScanEventDto {
    pub position: u16,
    /// awaiting_finger, finger_present, progress, finger_removed
    pub event: String,
    pub percent: Option<u8>,
}

impl ScanEventDto {
    pub fn of(position: u16, e: &drivers::ScanEvent) -> Self {
        use drivers::ScanEvent;
        let (event, percent) = match e {
            ScanEvent::AwaitingFinger => ("awaiting_finger", None),
            ScanEvent::FingerPresent => ("finger_present", None),
            ScanEvent::Progress { percent } => ("progress", Some(*percent)),
            ScanEvent::FingerRemoved => ("finger_removed", None),
        };
        Self { position, event: event.into(), percent }
    }
}

/// A rectangle in frame pixels.
#[derive(Debug, Clone, Copy, Serialize, TS)]
pub struct RectDto {
    pub x: f32,
    pub y: f32,
    pub width: f32,
    pub height: f32,
}

impl From<face::Rect> for RectDto {
    fn from(r: face::Rect) -> Self {
        Self { x: r.x, y: r.y, width: r.width, height: r.height }
    }
}

/// One camera frame for the preview (event `face-preview`): its JPEG is at
/// `preview://localhost/<stream>/<frame>.jpg` (see `preview`).
#[derive(Debug, Clone, Serialize, TS)]
pub struct PreviewDto {
    /// The face stream (a new one per `start_face`).
    #[ts(type = "number")]
    pub stream: u64,
    #[ts(type = "number")]
    pub frame: u64,
}

/// What the analysis made of the newest camera frame (channel of `start_face`): the overlay, the
/// prompt and the challenge's progress. The picture itself comes separately, as JPEG bytes.
#[derive(Debug, Clone, Serialize, TS)]
pub struct FaceAnalysisDto {
    /// Camera frame analysed (0-based).
    #[ts(type = "number")]
    pub frame: u64,
    pub width: u32,
    pub height: u32,
    pub roi: Option<RectDto>,
    pub target: RectDto,
    /// positioning, challenge, capturing, captured
    pub phase: String,
    /// The one thing to tell the person now, in plain words.
    pub prompt: String,
    /// The face pipeline's problems with the frame (codes), most important first.
    pub codes: Vec<String>,
    pub compliant: bool,
    /// BLINK, TURN_LEFT, TURN_RIGHT while that challenge is asked.
    pub challenge: Option<String>,
    pub challenges_done: u32,
    pub challenges_total: u32,
    pub streak: u32,
    pub needed: u32,
    pub analysis_ms: f32,
    pub analysed_fps: f32,
    pub camera_fps: f32,
    /// Camera frames not analysed because a newer one was waiting.
    #[ts(type = "number")]
    pub skipped: u64,
}

impl FaceAnalysisDto {
    pub fn of(v: &station::app_face::AnalysisView) -> Self {
        Self {
            frame: v.frame,
            width: v.width,
            height: v.height,
            roi: v.roi.map(Into::into),
            target: v.target.into(),
            phase: v.phase.as_str().to_owned(),
            prompt: v.prompt.clone(),
            codes: v.feedback.iter().map(|f| f.code.as_str().to_owned()).collect(),
            compliant: v.compliant,
            challenge: v.challenge.map(|c| station::app_face::challenge_code(c).to_owned()),
            challenges_done: v.challenges_done as u32,
            challenges_total: v.challenges_total as u32,
            streak: v.streak as u32,
            needed: v.needed as u32,
            analysis_ms: v.analysis_ms,
            analysed_fps: v.analysed_fps,
            camera_fps: v.camera_fps,
            skipped: v.skipped,
        }
    }
}

/// One challenge of the liveness check: whether it was asked and whether it passed.
#[derive(Debug, Clone, Serialize, TS)]
pub struct ChallengeDto {
    /// BLINK, TURN_LEFT, TURN_RIGHT
    pub challenge: String,
    pub prompt: String,
    /// False for the steps after a failed one (the check stops at the first failure).
    pub asked: bool,
    pub passed: bool,
}

/// The liveness check of a face capture, in plain words for the review screen.
#[derive(Debug, Clone, Serialize, TS)]
pub struct LivenessDto {
    /// LIVE, SPOOF, UNABLE_TO_CALCULATE_LIVENESS
    pub decision: String,
    pub summary: String,
    /// 0..100 share of checks passed (not a probability).
    pub score: f32,
    /// Why, in plain words.
    pub reasons: Vec<String>,
    pub challenges: Vec<ChallengeDto>,
}

impl LivenessDto {
    pub fn of(r: &face::LivenessResult) -> Self {
        use station::app_face::{asked_challenges, challenge_code, challenge_prompt, decision_code, describe_decision, liveness_reasons};
        Self {
            decision: decision_code(r.decision).to_owned(),
            summary: describe_decision(r.decision).to_owned(),
            score: r.score.max(0.0),
            reasons: liveness_reasons(r),
            challenges: asked_challenges(r)
                .into_iter()
                .map(|(c, asked)| ChallengeDto {
                    challenge: challenge_code(c.challenge).to_owned(),
                    prompt: challenge_prompt(c.challenge).to_owned(),
                    asked,
                    passed: c.passed,
                })
                .collect(),
        }
    }
}

/// How a face step ended (event `face-done`).
#[derive(Debug, Clone, Serialize, TS)]
pub struct FaceDoneDto {
    /// captured, stopped, gave_up, failed
    pub outcome: String,
    pub image: Option<String>,
    pub message: String,
    /// The liveness check, when one was asked.
    pub liveness: Option<LivenessDto>,
    /// Frames the camera delivered and the analysis took, per second.
    pub camera_fps: f32,
    pub analysed_fps: f32,
}

impl FaceDoneDto {
    pub fn ended(outcome: &str, message: String) -> Self {
        Self {
            outcome: outcome.to_owned(),
            image: None,
            message,
            liveness: None,
            camera_fps: 0.0,
            analysed_fps: 0.0,
        }
    }
}

/// One queue row.
#[derive(Debug, Clone, Serialize, TS)]
pub struct QueueRow {
    pub id: String,
    /// captured, queued, sending, accepted, rejected, synced
    pub state: String,
    pub user_id: String,
    pub operator_id: String,
    #[ts(type = "number")]
    pub captured_at: i64,
    #[ts(type = "number")]
    pub attempts: i64,
    #[ts(type = "number")]
    pub next_attempt_at: i64,
    pub last_error: Option<String>,
    pub server_status: Option<String>,
    pub server_code: Option<String>,
    pub server_message: Option<String>,
}

impl From<EnrollmentSummary> for QueueRow {
    fn from(s: EnrollmentSummary) -> Self {
        Self {
            id: s.id,
            state: s.state.as_str().to_owned(),
            user_id: s.user_id,
            operator_id: s.operator_id,
            captured_at: s.captured_at,
            attempts: s.attempts,
            next_attempt_at: s.next_attempt_at,
            last_error: s.last_error,
            server_status: s.server_status,
            server_code: s.server_code,
            server_message: s.server_message,
        }
    }
}

/// Enrollment counts per state.
#[derive(Debug, Clone, Default, Serialize, TS)]
pub struct CountsDto {
    pub captured: u32,
    pub queued: u32,
    pub sending: u32,
    pub accepted: u32,
    pub rejected: u32,
    pub synced: u32,
}

impl From<QueueCounts> for CountsDto {
    fn from(c: QueueCounts) -> Self {
        let n = |v: i64| v.max(0) as u32;
        Self {
            captured: n(c.captured),
            queued: n(c.queued),
            sending: n(c.sending),
            accepted: n(c.accepted),
            rejected: n(c.rejected),
            synced: n(c.synced),
        }
    }
}

/// Progress of a sync run (event `sync-progress`, and the reply of `sync_now`).
#[derive(Debug, Clone, Default, Serialize, TS)]
pub struct SyncDto {
    pub running: bool,
    pub uploaded: u32,
    pub synced: u32,
    pub rejected: u32,
    pub deferred: u32,
    pub outstanding: u32,
    pub error: Option<String>,
}

impl SyncDto {
    pub fn of(p: &station::sync::SyncProgress, running: bool) -> Self {
        Self {
            running,
            uploaded: p.uploaded as u32,
            synced: p.synced as u32,
            rejected: p.rejected as u32,
            deferred: p.deferred as u32,
            outstanding: p.outstanding.max(0) as u32,
            error: None,
        }
    }
}

/// The queue screen.
#[derive(Debug, Clone, Serialize, TS)]
pub struct QueueView {
    pub rows: Vec<QueueRow>,
    pub counts: CountsDto,
    pub sync: Option<SyncDto>,
}

/// One remote capture in the admin view.
#[derive(Debug, Clone, Serialize, TS)]
pub struct RemoteCaptureDto {
    pub tguid: String,
    /// REMOTE_ENROLL or REMOTE_VERIFY
    pub kind: String,
    /// AWAITING_CAPTURE, AWAITING_APPROVAL, APPROVED, REJECTED, EXPIRED
    pub status: String,
    pub client_id: String,
    pub operator_id: String,
    pub client_email: Option<String>,
    pub created_at: String,
    pub expires_at: String,
    pub captured_at: Option<String>,
    /// Face quality 0..100 of the stored capture.
    pub face_quality: Option<f32>,
    /// Inter-eye distance in the phone frame, pixels.
    pub eye_distance: Option<f32>,
    /// ACTIVE or PASSIVE.
    pub liveness_mode: String,
    pub liveness_decision: Option<String>,
    pub liveness_score: Option<f32>,
    pub liveness_feedback: Vec<String>,
    pub spoof_attempts: u32,
    pub decided_by: Option<String>,
    pub reason: Option<String>,
    /// The stored face image (data URL), once captured.
    pub image: Option<String>,
    pub image_width: u32,
    pub image_height: u32,
    /// Why the image could not be fetched.
    pub image_error: Option<String>,
}

impl From<wire::spid::RemoteCaptureSummary> for RemoteCaptureDto {
    fn from(s: wire::spid::RemoteCaptureSummary) -> Self {
        Self {
            tguid: s.tguid,
            kind: s.kind.as_str().to_owned(),
            status: s.status.as_str().to_owned(),
            client_id: s.client_id,
            operator_id: s.operator_id,
            client_email: s.client_email,
            created_at: s.created_at,
            expires_at: s.expires_at,
            captured_at: s.captured_at,
            face_quality: s.face_quality,
            eye_distance: s.eye_distance,
            liveness_mode: s.liveness_mode,
            liveness_decision: s.liveness_decision,
            liveness_score: s.liveness_score,
            liveness_feedback: s.liveness_feedback,
            spoof_attempts: s.spoof_attempts,
            decided_by: s.decided_by,
            reason: s.reason,
            image: None,
            image_width: 0,
            image_height: 0,
            image_error: None,
        }
    }
}

impl RemoteCaptureDto {
    /// Adds the stored image as a data URL.
    pub fn attach_image(&mut self, b: &wire::spid::Biometric) {
        match base64::engine::general_purpose::STANDARD.decode(&b.content) {
            Ok(bytes) => {
                self.image = Some(data_url(station::app_remote::image_mime(&bytes), &bytes));
                self.image_width = b.width;
                self.image_height = b.height;
            }
            Err(e) => self.image_error = Some(format!("the stored image is not base64: {e}")),
        }
    }
}

/// A new remote capture link.
#[derive(Debug, Clone, Serialize, TS)]
pub struct RemoteLinkDto {
    pub tguid: String,
    pub link: String,
}

/// One probe finger of a verify, with its best score.
#[derive(Debug, Clone, Serialize, TS)]
pub struct VerifyFingerDto {
    pub position: u16,
    pub label: String,
    /// The captured image (data URL).
    pub image: String,
    pub score: Option<f32>,
    pub matched: bool,
}

/// The answer of a verify (1:1).
#[derive(Debug, Clone, Serialize, TS)]
pub struct VerifyResultDto {
    /// MATCH, NO_MATCH, FAILED
    pub verdict: String,
    pub score: Option<f32>,
    pub threshold: Option<f32>,
    pub message: String,
    pub tguid: String,
    pub fingers: Vec<VerifyFingerDto>,
}

impl VerifyResultDto {
    pub fn of(s: &station::app_verify::VerifySummary, probe: &[station::queue::CapturedImage]) -> Self {
        Self {
            verdict: s.verdict.as_str().to_owned(),
            score: s.score,
            threshold: s.threshold,
            message: s.message.clone(),
            tguid: s.tguid.clone(),
            fingers: probe
                .iter()
                .map(|img| {
                    let scored = s.fingers.iter().find(|f| f.index == img.index);
                    VerifyFingerDto {
                        position: img.index.code(),
                        label: img.index.label().to_owned(),
                        image: data_url("image/png", &img.bytes),
                        score: scored.map(|f| f.score),
                        matched: scored.is_some_and(|f| f.matched),
                    }
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every exported declaration, in one file the UI imports.
    fn bindings() -> String {
        let cfg = ts_rs::Config::new();
        let decls = [
            DeviceDto::decl(&cfg),
            AppInfo::decl(&cfg),
            SettingsDto::decl(&cfg),
            FieldErrorsDto::decl(&cfg),
            FingerSlot::decl(&cfg),
            DraftDto::decl(&cfg),
            ScanEventDto::decl(&cfg),
            RectDto::decl(&cfg),
            PreviewDto::decl(&cfg),
            FaceAnalysisDto::decl(&cfg),
            ChallengeDto::decl(&cfg),
            LivenessDto::decl(&cfg),
            FaceDoneDto::decl(&cfg),
            QueueRow::decl(&cfg),
            CountsDto::decl(&cfg),
            SyncDto::decl(&cfg),
            QueueView::decl(&cfg),
            RemoteCaptureDto::decl(&cfg),
            RemoteLinkDto::decl(&cfg),
            VerifyFingerDto::decl(&cfg),
            VerifyResultDto::decl(&cfg),
        ];
        let mut out = String::from("// Generated from src-tauri/src/dto.rs by `cargo test -p capture-station-app bindings` (ts-rs). Do not edit.\n\n");
        for d in decls {
            out.push_str("export ");
            out.push_str(d.trim());
            out.push_str("\n\n");
        }
        out
    }

    /// Fails when `ui/src/bindings.ts` is out of date; `UPDATE_BINDINGS=1` rewrites it.
    #[test]
    fn bindings_are_current() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui/src/bindings.ts");
        let fresh = bindings();
        if std::env::var_os("UPDATE_BINDINGS").is_some() {
            std::fs::write(&path, &fresh).unwrap();
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(committed == fresh, "ui/src/bindings.ts is stale: run UPDATE_BINDINGS=1 cargo test -p capture-station-app bindings");
    }

    #[test]
    fn large_integers_are_numbers_and_options_nullable() {
        let cfg = ts_rs::Config::new();
        let row = QueueRow::decl(&cfg);
        assert!(row.contains("captured_at: number"), "{row}");
        assert!(row.contains("server_message: string | null"), "{row}");
    }
}
