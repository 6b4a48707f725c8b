// Generated from src-tauri/src/dto.rs by `cargo test -p capture-station-app bindings` (ts-rs). Do not edit.

export type DeviceDto = { id: string, name: string, kind: string, };

export type AppInfo = { version: string, kiosk: boolean, embedded_server: boolean, server_url: string, 
/**
 * Whether the embedded server is running (always false when it is off).
 */
server_running: boolean, 
/**
 * Why the embedded server did not start.
 */
server_error: string | null, data_dir: string, secrets: string, station_id: string, 
/**
 * The configured operator (the one sync logs in as).
 */
operator: string, 
/**
 * The operator signed in to this window, if any.
 */
signed_in: string | null, 
/**
 * Their role on the server (ADMIN, OPERATOR) when signed in.
 */
role: string | null, scanner: string, camera: string, scanners: Array<DeviceDto>, cameras: Array<DeviceDto>, idle_timeout_s: number, 
/**
 * Milliseconds from process start to the window's first interactive screen.
 */
ready_ms: number | null, };

export type SettingsDto = { server_url: string, embedded_server: boolean, scanner: string, camera: string, idle_timeout_s: number, };

export type FieldErrorsDto = { user_id: string | null, name: string | null, };

export type FingerSlot = { 
/**
 * Biometric index (0 = left little … 9 = right little, SPID numbering).
 */
position: number, label: string, 
/**
 * The captured image as a data URL, when captured.
 */
image: string | null, width: number, height: number, 
/**
 * Declared missing: type (AMPUTATED, …) and reason.
 */
missing_type: string | null, missing_reason: string | null, };

export type DraftDto = { user_id: string, name: string, fingers: Array<FingerSlot>, 
/**
 * The ISO/IEC 19794-5 face crop as a data URL, when captured.
 */
face: string | null, 
/**
 * The liveness check of the face capture, when one was asked.
 */
liveness: LivenessDto | null, 
/**
 * What still prevents submitting (empty = ready).
 */
problems: Array<string>, };

export type ScanEventDto = { position: number, 
/**
 * awaiting_finger, finger_present, progress, finger_removed
 */
event: string, percent: number | null, };

export type RectDto = { x: number, y: number, width: number, height: number, };

export type PreviewDto = { 
/**
 * The face stream (a new one per `start_face`).
 */
stream: number, frame: number, };

export type FaceAnalysisDto = { 
/**
 * Camera frame analysed (0-based).
 */
frame: number, width: number, height: number, roi: RectDto | null, target: RectDto, 
/**
 * positioning, challenge, capturing, captured
 */
phase: string, 
/**
 * The one thing to tell the person now, in plain words.
 */
prompt: string, 
/**
 * The face pipeline's problems with the frame (codes), most important first.
 */
codes: Array<string>, compliant: boolean, 
/**
 * BLINK, TURN_LEFT, TURN_RIGHT while that challenge is asked.
 */
challenge: string | null, challenges_done: number, challenges_total: number, streak: number, needed: number, analysis_ms: number, analysed_fps: number, camera_fps: number, 
/**
 * Camera frames not analysed because a newer one was waiting.
 */
skipped: number, };

export type ChallengeDto = { 
/**
 * BLINK, TURN_LEFT, TURN_RIGHT
 */
challenge: string, prompt: string, 
/**
 * False for the steps after a failed one (the check stops at the first failure).
 */
asked: boolean, passed: boolean, };

export type LivenessDto = { 
/**
 * LIVE, SPOOF, UNABLE_TO_CALCULATE_LIVENESS
 */
decision: string, summary: string, 
/**
 * 0..100 share of checks passed (not a probability).
 */
score: number, 
/**
 * Why, in plain words.
 */
reasons: Array<string>, challenges: Array<ChallengeDto>, };

export type FaceDoneDto = { 
/**
 * captured, stopped, gave_up, failed
 */
outcome: string, image: string | null, message: string, 
/**
 * The liveness check, when one was asked.
 */
liveness: LivenessDto | null, 
/**
 * Frames the camera delivered and the analysis took, per second.
 */
camera_fps: number, analysed_fps: number, };

export type QueueRow = { id: string, 
/**
 * captured, queued, sending, accepted, rejected, synced
 */
state: string, user_id: string, operator_id: string, captured_at: number, attempts: number, next_attempt_at: number, last_error: string | null, server_status: string | null, server_code: string | null, server_message: string | null, };

export type CountsDto = { captured: number, queued: number, sending: number, accepted: number, rejected: number, synced: number, };

export type SyncDto = { running: boolean, uploaded: number, synced: number, rejected: number, deferred: number, outstanding: number, error: string | null, };

export type QueueView = { rows: Array<QueueRow>, counts: CountsDto, sync: SyncDto | null, };

export type RemoteCaptureDto = { tguid: string, 
/**
 * REMOTE_ENROLL or REMOTE_VERIFY
 */
kind: string, 
/**
 * AWAITING_CAPTURE, AWAITING_APPROVAL, APPROVED, REJECTED, EXPIRED
 */
status: string, client_id: string, operator_id: string, client_email: string | null, created_at: string, expires_at: string, captured_at: string | null, 
/**
 * Face quality 0..100 of the stored capture.
 */
face_quality: number | null, 
/**
 * Inter-eye distance in the phone frame, pixels.
 */
eye_distance: number | null, 
/**
 * ACTIVE or PASSIVE.
 */
liveness_mode: string, liveness_decision: string | null, liveness_score: number | null, liveness_feedback: Array<string>, spoof_attempts: number, decided_by: string | null, reason: string | null, 
/**
 * The stored face image (data URL), once captured.
 */
image: string | null, image_width: number, image_height: number, 
/**
 * Why the image could not be fetched.
 */
image_error: string | null, };

export type RemoteLinkDto = { tguid: string, link: string, };

export type VerifyFingerDto = { position: number, label: string, 
/**
 * The captured image (data URL).
 */
image: string, score: number | null, matched: boolean, };

export type VerifyResultDto = { 
/**
 * MATCH, NO_MATCH, FAILED
 */
verdict: string, score: number | null, threshold: number | null, message: string, tguid: string, fingers: Array<VerifyFingerDto>, };

