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

/// One live-preview frame (event `face-frame`).
#[derive(Debug, Clone, Serialize, TS)]
pub struct PreviewDto {
    pub frame: u32,
    pub image: String,
    pub width: u32,
    pub height: u32,
    pub roi: Option<RectDto>,
    pub target: RectDto,
    /// Plain-language prompts from the face pipeline, most important first.
    pub prompts: Vec<String>,
    pub codes: Vec<String>,
    pub compliant: bool,
    pub streak: u32,
    pub needed: u32,
    pub captured: bool,
    pub fps: f32,
    pub analysis_ms: f32,
}

impl PreviewDto {
    pub fn of(p: &station::app_support::PreviewFrame) -> Self {
        Self {
            frame: p.index as u32,
            image: data_url("image/jpeg", &p.jpeg),
            width: p.width,
            height: p.height,
            roi: p.roi.map(Into::into),
            target: p.target.into(),
            prompts: p.feedback.iter().map(|f| f.prompt.clone()).collect(),
            codes: p.feedback.iter().map(|f| f.code.as_str().to_owned()).collect(),
            compliant: p.compliant,
            streak: p.streak as u32,
            needed: p.needed as u32,
            captured: p.captured,
            fps: p.fps,
            analysis_ms: p.analysis_ms,
        }
    }
}

/// How a face capture stream ended (event `face-done`).
#[derive(Debug, Clone, Serialize, TS)]
pub struct FaceDoneDto {
    /// captured, stopped, gave_up, failed
    pub outcome: String,
    pub image: Option<String>,
    pub message: String,
    /// Average preview frames per second over the stream.
    pub fps: f32,
    pub frames: u32,
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
            FaceDoneDto::decl(&cfg),
            QueueRow::decl(&cfg),
            CountsDto::decl(&cfg),
            SyncDto::decl(&cfg),
            QueueView::decl(&cfg),
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
