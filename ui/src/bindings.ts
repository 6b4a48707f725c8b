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
signed_in: string | null, scanner: string, camera: string, scanners: Array<DeviceDto>, cameras: Array<DeviceDto>, idle_timeout_s: number, 
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
 * What still prevents submitting (empty = ready).
 */
problems: Array<string>, };

export type ScanEventDto = { position: number, 
/**
 * awaiting_finger, finger_present, progress, finger_removed
 */
event: string, percent: number | null, };

export type RectDto = { x: number, y: number, width: number, height: number, };

export type PreviewDto = { frame: number, image: string, width: number, height: number, roi: RectDto | null, target: RectDto, 
/**
 * Plain-language prompts from the face pipeline, most important first.
 */
prompts: Array<string>, codes: Array<string>, compliant: boolean, streak: number, needed: number, captured: boolean, fps: number, analysis_ms: number, };

export type FaceDoneDto = { 
/**
 * captured, stopped, gave_up, failed
 */
outcome: string, image: string | null, message: string, 
/**
 * Average preview frames per second over the stream.
 */
fps: number, frames: number, };

export type QueueRow = { id: string, 
/**
 * captured, queued, sending, accepted, rejected, synced
 */
state: string, user_id: string, operator_id: string, captured_at: number, attempts: number, next_attempt_at: number, last_error: string | null, server_status: string | null, server_code: string | null, server_message: string | null, };

export type CountsDto = { captured: number, queued: number, sending: number, accepted: number, rejected: number, synced: number, };

export type SyncDto = { running: boolean, uploaded: number, synced: number, rejected: number, deferred: number, outstanding: number, error: string | null, };

export type QueueView = { rows: Array<QueueRow>, counts: CountsDto, sync: SyncDto | null, };

