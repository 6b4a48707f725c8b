//! Remote capture (SPID §8): an operator creates a phone link, the subject opens it on their own
//! phone, the page streams camera frames to this server, the real face pipeline judges every frame
//! (quality feedback, autocapture, liveness) and stores the ISO face crop; an admin then approves
//! (an enroll becomes a normal enrollment transaction with the same tguid, so the person appears
//! under `GET /people/{clientID}`) or rejects with a reason.
//!
//! States: `AWAITING_CAPTURE → AWAITING_APPROVAL → APPROVED | REJECTED`, and `EXPIRED` once the
//! link's TTL passes before a decision (applied lazily whenever the row is read).
//!
//! The link carries a 256-bit random token; only its SHA-256 is stored, and it never equals or
//! reveals the tguid. The token is the phone's only credential: it can post frames to its own
//! capture while that capture awaits a capture, and nothing else. Once a capture is stored the
//! token stops accepting frames (one-time).
//!
//! Liveness ([`RemoteLiveness`]): `ACTIVE` runs `face::LivenessSession` (blink and head turns in
//! random order with deadlines, plus the passive cues) and stores nothing until it says LIVE;
//! `PASSIVE` only requires natural motion of the face across frames and no repeated frames, which
//! stops a frozen or injected still stream but *not* a photo held in front of the camera.

use std::collections::HashMap;
use std::io::Cursor;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine as _;
use face::{
    AutoCapture, AutoCaptureConfig, Challenge, Decision, FaceError, FacePipeline, FrameAnalysis,
    LivenessConfig, LivenessSession,
};
use rand::RngCore;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;
use wire::spid::{
    Biometric, FrameFeedbackItem, RemoteCaptureDecision, RemoteCaptureNotification,
    RemoteCaptureResponse, RemoteCaptureStatus, RemoteCaptureSummary, RemoteFrameResult,
    RemoteLivenessProgress, TransactionIdentifier, TransactionStatus, TransactionType,
};
use wire::{BiometricIndex, Envelope, ErrorCode, ErrorResponse};

use crate::clock::{iso8601, now_ms};
use crate::config::RemoteLiveness;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Caller, SpidJson};
use crate::AppState;

/// The phone page (plain HTML, no build step); `__STATE__` is replaced by the link's state.
const PHONE_HTML: &str = include_str!("../assets/phone/index.html");
/// The phone page's script (camera, frame upload, feedback display).
const PHONE_JS: &str = include_str!("../assets/phone/phone.js");
/// The phone page's stylesheet (full-screen preview with the oval guide).
const PHONE_CSS: &str = include_str!("../assets/phone/phone.css");

/// Largest accepted frame side; phones send 640–1280 px, anything bigger is a mistake or an attack.
const MAX_FRAME_SIDE: u32 = 4096;
/// Passive mode: face frames needed in an attempt before it can be decided.
const PASSIVE_MIN_FACE_FRAMES: usize = 6;
/// Passive mode: the face centre must move at least this fraction of the face width over the
/// attempt (a hand-held phone or a live subject always does; a frozen stream does not).
const PASSIVE_MIN_MOTION: f32 = 0.02;
/// Consecutive compliant frames before autocapture fires (AwareID `autocaptureMinimumFrameCount`).
const AUTOCAPTURE_FRAMES: usize = 5;
/// A phone session untouched this long is dropped from memory (the row stays; a new attempt starts).
const SESSION_IDLE_MS: u128 = 10 * 60 * 1000;

/// Process-wide remote-capture state: one face pipeline (loaded on first use; its ONNX sessions
/// need `&mut`, so frames take turns) and the in-progress phone attempts, keyed by tguid.
#[derive(Default)]
pub struct RemoteState {
    pipeline: Mutex<Option<FacePipeline>>,
    sessions: Mutex<HashMap<String, Arc<Mutex<PhoneSession>>>>,
}

/// One phone's current attempt: autocapture and liveness over the frames it has sent.
struct PhoneSession {
    autocapture: AutoCapture,
    liveness: LivenessSession,
    total_checks: u32,
    started: Instant,
    last_seen: Instant,
    last_ts: u64,
    frames: u32,
    face_frames: usize,
    /// Face centre (x, y) and width of each face frame, for the passive motion check.
    track: Vec<[f32; 3]>,
    spoof_attempts: u32,
}

impl PhoneSession {
    fn new(mode: RemoteLiveness, spoof_attempts: u32) -> Self {
        let (liveness, total_checks) = match mode {
            RemoteLiveness::Active => {
                let cfg = LivenessConfig::default();
                let n = cfg.challenges.len() as u32 + 2;
                (LivenessSession::new(cfg, &mut rand::thread_rng()), n)
            }
            RemoteLiveness::Passive => {
                // No challenges; the non-rigid test needs a head turn, so it is replaced by the
                // face-motion check in `decide_passive`. The repeated-frame cue stays.
                let cfg = LivenessConfig {
                    challenges: Vec::new(),
                    turn_min_nonrigid: 0.0,
                    ..LivenessConfig::default()
                };
                (LivenessSession::with_order(cfg, Vec::new()), 2)
            }
        };
        let now = Instant::now();
        Self {
            autocapture: AutoCapture::new(AutoCaptureConfig {
                min_consecutive: AUTOCAPTURE_FRAMES,
                iso_width: 480,
            }),
            liveness,
            total_checks,
            started: now,
            last_seen: now,
            last_ts: 0,
            frames: 0,
            face_frames: 0,
            track: Vec::new(),
            spoof_attempts,
        }
    }
}

fn mode_str(mode: RemoteLiveness) -> &'static str {
    match mode {
        RemoteLiveness::Active => "ACTIVE",
        RemoteLiveness::Passive => "PASSIVE",
    }
}

fn enum_str<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// The remote-capture routes (SPID API under `/gbs-spid-server/remote-capture`, the phone page
/// and its frame endpoint under `/rc/{token}`).
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_enroll))
        .routes(routes!(create_verify))
        .routes(routes!(create_verify_alias))
        .routes(routes!(get_biometrics))
        .routes(routes!(finish))
        .routes(routes!(notification))
        .routes(routes!(pending))
        .routes(routes!(phone_page))
        .routes(routes!(phone_frame))
        .route(
            "/rc-static/phone.js",
            axum::routing::get(|| async {
                static_asset("text/javascript; charset=utf-8", PHONE_JS)
            }),
        )
        .route(
            "/rc-static/phone.css",
            axum::routing::get(|| async { static_asset("text/css; charset=utf-8", PHONE_CSS) }),
        )
}

fn static_asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

// ---------------------------------------------------------------------------------------------
// Domain: rows, expiry, creation, decision.

/// A remote capture as stored.
#[derive(Debug, Clone)]
pub struct RemoteCapture {
    pub tguid: String,
    pub kind: TransactionType,
    pub status: RemoteCaptureStatus,
    pub client_id: String,
    pub operator_id: String,
    pub captured_at: Option<i64>,
    pub spoof_attempts: u32,
}

type Row = (
    String,
    String,
    String,
    String,
    String,
    i64,
    Option<i64>,
    i64,
);
/// `(idx, content, width, height, resolution)` of a stored capture image.
type ImageRow = (i64, Vec<u8>, i64, i64, Option<i64>);

fn from_row(r: Row) -> ApiResult<RemoteCapture> {
    let (tguid, kind, status, client_id, operator_id, _expires, captured_at, spoof) = r;
    let kind = TransactionType::parse(&kind).ok_or_else(|| {
        ApiError::new(
            ErrorCode::Internal,
            format!("stored kind {kind} is unknown"),
        )
    })?;
    let status = RemoteCaptureStatus::parse(&status).ok_or_else(|| {
        ApiError::new(
            ErrorCode::Internal,
            format!("stored status {status} is unknown"),
        )
    })?;
    Ok(RemoteCapture {
        tguid,
        kind,
        status,
        client_id,
        operator_id,
        captured_at,
        spoof_attempts: spoof as u32,
    })
}

const SELECT: &str = "SELECT tguid, kind, status, client_id, operator_id, expires_at, captured_at, spoof_attempts FROM remote_captures";

/// Moves every open capture past its TTL to EXPIRED.
async fn expire_overdue(db: &sqlx::AnyPool) -> ApiResult<()> {
    sqlx::query("UPDATE remote_captures SET status = 'EXPIRED' WHERE status IN ('AWAITING_CAPTURE', 'AWAITING_APPROVAL') AND expires_at <= $1")
        .bind(now_ms())
        .execute(db)
        .await?;
    Ok(())
}

/// Loads a capture by tguid (404 when unknown), expiring it first when its TTL has passed.
pub async fn load(db: &sqlx::AnyPool, tguid: &str) -> ApiResult<RemoteCapture> {
    expire_overdue(db).await?;
    let row: Option<Row> = sqlx::query_as(&format!("{SELECT} WHERE tguid = $1"))
        .bind(tguid)
        .fetch_optional(db)
        .await?;
    from_row(row.ok_or_else(|| {
        ApiError::new(
            ErrorCode::RemoteCaptureNotFound,
            format!("no remote capture with tguid {tguid}"),
        )
    })?)
}

fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Loads a capture by its phone token (404 when unknown).
async fn load_by_token(db: &sqlx::AnyPool, token: &str) -> ApiResult<RemoteCapture> {
    expire_overdue(db).await?;
    let row: Option<Row> = sqlx::query_as(&format!("{SELECT} WHERE token_hash = $1"))
        .bind(token_hash(token))
        .fetch_optional(db)
        .await?;
    from_row(row.ok_or_else(|| {
        ApiError::new(
            ErrorCode::RemoteCaptureNotFound,
            "this capture link is not valid",
        )
    })?)
}

fn expired(what: &str) -> ApiError {
    ApiError::new(
        ErrorCode::RemoteCaptureExpired,
        format!("{what} expired; create a new remote capture"),
    )
}

/// Base of the dynamic link: the configured public URL, else `http://<Host>` of the request.
fn public_base(state: &AppState, headers: &HeaderMap) -> ApiResult<String> {
    if let Some(base) = &state.config.remote.public_base_url {
        return Ok(base.trim_end_matches('/').to_owned());
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
        })
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::InvalidField,
                "no usable Host header to build the link; configure public_base_url",
            )
        })?;
    Ok(format!("http://{host}"))
}

/// Creates a remote capture and its one-time phone link.
pub async fn create(
    state: &AppState,
    caller: &Caller,
    kind: TransactionType,
    id: TransactionIdentifier,
    base: &str,
) -> ApiResult<RemoteCaptureResponse> {
    let client_id = id.client_id.trim();
    if client_id.is_empty() {
        return Err(ApiError::new(
            ErrorCode::MissingField,
            "data.clientID must not be empty",
        ));
    }
    if client_id.len() > 64 || !client_id.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ApiError::new(
            ErrorCode::InvalidField,
            "data.clientID must be 1-64 visible ASCII characters",
        ));
    }
    let operator_id = id.operator_id.trim();
    if operator_id.is_empty() {
        return Err(ApiError::new(
            ErrorCode::MissingField,
            "data.operatorID must not be empty",
        ));
    }
    let email = id
        .client_email
        .as_deref()
        .map(str::trim)
        .filter(|e| !e.is_empty());
    if let Some(e) = email {
        let ok = e.len() <= 254
            && e.split_once('@').is_some_and(|(l, d)| {
                !l.is_empty() && d.contains('.') && !e.contains(char::is_whitespace)
            });
        if !ok {
            return Err(ApiError::new(
                ErrorCode::InvalidField,
                format!("data.clientEmail {e:?} is not an e-mail address"),
            ));
        }
    }
    let person: Option<(String,)> =
        sqlx::query_as("SELECT person_guid FROM people WHERE user_id = $1")
            .bind(client_id)
            .fetch_optional(&state.db)
            .await?;
    match (kind, person) {
        (TransactionType::RemoteEnroll, Some((guid,))) => {
            return Err(ApiError::new(
                ErrorCode::StateConflict,
                format!(
                    "a person with key {client_id} is already enrolled (person-guid {guid}); use remote-capture/verify"
                ),
            ));
        }
        (TransactionType::RemoteVerify, None) => {
            return Err(ApiError::new(
                ErrorCode::PersonNotFound,
                format!("no enrolled person with key {client_id} to verify against"),
            ));
        }
        _ => {}
    }
    let mut secret = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut secret);
    let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret);
    let tguid = Uuid::new_v4().to_string();
    let now = now_ms();
    let ttl = state.config.remote.ttl.as_millis() as i64;
    sqlx::query(
        "INSERT INTO remote_captures (tguid, kind, status, token_hash, client_id, operator_id, client_email, created_by, created_at, expires_at, liveness_mode)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(&tguid)
    .bind(kind.as_str())
    .bind(RemoteCaptureStatus::AwaitingCapture.as_str())
    .bind(token_hash(&token))
    .bind(client_id)
    .bind(operator_id)
    .bind(email)
    .bind(&caller.document)
    .bind(now)
    .bind(now + ttl)
    .bind(mode_str(state.config.remote.liveness))
    .execute(&state.db)
    .await?;
    if let Some(e) = email {
        // No mail transport is configured in this server: the operator hands the link over.
        tracing::info!(tguid = %tguid, email = %e, "remote capture created; link to be delivered by the operator");
    }
    Ok(RemoteCaptureResponse {
        tguid,
        dynamic_link: format!("{base}/rc/{token}"),
    })
}

/// Records an admin's decision on a captured remote capture.
pub async fn decide(
    state: &AppState,
    caller: &Caller,
    tguid: &str,
    decision: &RemoteCaptureDecision,
) -> ApiResult<()> {
    let reason = decision
        .reason
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty());
    if reason.is_some_and(|r| r.chars().count() > 500) {
        return Err(ApiError::new(
            ErrorCode::InvalidField,
            "reason must be at most 500 characters",
        ));
    }
    let rc = load(&state.db, tguid).await?;
    match rc.status {
        RemoteCaptureStatus::AwaitingApproval => {}
        RemoteCaptureStatus::AwaitingCapture => {
            return Err(ApiError::new(
                ErrorCode::StateConflict,
                format!("remote capture {tguid} has nothing captured yet"),
            ));
        }
        RemoteCaptureStatus::Approved | RemoteCaptureStatus::Rejected => {
            return Err(ApiError::new(
                ErrorCode::StateConflict,
                format!("remote capture {tguid} was already {}", rc.status.as_str()),
            ));
        }
        RemoteCaptureStatus::Expired => return Err(expired(&format!("remote capture {tguid}"))),
    }
    let status = if decision.approval {
        RemoteCaptureStatus::Approved
    } else {
        RemoteCaptureStatus::Rejected
    };
    let now = now_ms();
    let mut tx = crate::db::begin_write(&state.db).await?;
    let updated = sqlx::query(
        "UPDATE remote_captures SET status = $1, decided_by = $2, decided_at = $3, reason = $4 WHERE tguid = $5 AND status = 'AWAITING_APPROVAL'",
    )
    .bind(status.as_str())
    .bind(&caller.document)
    .bind(now)
    .bind(reason)
    .bind(tguid)
    .execute(&mut *tx)
    .await?;
    if updated.rows_affected() != 1 {
        tx.rollback().await?;
        return Err(ApiError::new(
            ErrorCode::StateConflict,
            format!("remote capture {tguid} was decided concurrently"),
        ));
    }
    if decision.approval {
        let (kind, tx_status, message) = match rc.kind {
            TransactionType::RemoteEnroll => (
                TransactionType::Enroll,
                TransactionStatus::EnrollEnqueued,
                "Enrollment enqueued (remote capture approved)".to_owned(),
            ),
            // No automatic 1:1 match yet: the admin's visual check is the verification.
            _ => (
                TransactionType::Verify,
                TransactionStatus::Ok,
                format!("Remote verification approved by {}", caller.document),
            ),
        };
        sqlx::query(
            "INSERT INTO transactions (tguid, kind, status, message, user_id, operator_id, client_timestamp, biographics, missing, submitted_by, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, '[]', '[]', $8, $9, $10)",
        )
        .bind(tguid)
        .bind(kind.as_str())
        .bind(tx_status.as_str())
        .bind(message)
        .bind(&rc.client_id)
        .bind(&rc.operator_id)
        .bind(rc.captured_at)
        .bind(&caller.document)
        .bind(now)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO biometrics (tguid, idx, format, width, height, resolution, content)
             SELECT tguid, idx, format, width, height, resolution, content FROM remote_capture_images WHERE tguid = $1",
        )
        .bind(tguid)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    if decision.approval {
        state.enrollment_work.notify_one();
    }
    Ok(())
}

/// One stored biometric of a capture: the face when `index` is absent, else that index.
pub async fn biometric(
    db: &sqlx::AnyPool,
    tguid: &str,
    index: Option<BiometricIndex>,
) -> ApiResult<Biometric> {
    let rc = load(db, tguid).await?;
    let rows: Vec<ImageRow> =
        sqlx::query_as("SELECT idx, content, width, height, resolution FROM remote_capture_images WHERE tguid = $1 ORDER BY idx")
            .bind(tguid)
            .fetch_all(db)
            .await?;
    if rows.is_empty() {
        return Err(ApiError::new(
            ErrorCode::StateConflict,
            format!(
                "remote capture {tguid} has nothing captured yet (status {})",
                rc.status.as_str()
            ),
        ));
    }
    let face = BiometricIndex::Face.code() as i64;
    let pick = match index {
        Some(i) => rows
            .into_iter()
            .find(|r| r.0 == i.code() as i64)
            .ok_or_else(|| {
                ApiError::new(
                    ErrorCode::RemoteCaptureNotFound,
                    format!(
                        "remote capture {tguid} has no biometric with index {}",
                        i.code()
                    ),
                )
            })?,
        None => {
            let mut rows = rows;
            let at = rows.iter().position(|r| r.0 == face).unwrap_or(0);
            rows.swap_remove(at)
        }
    };
    let (idx, content, width, height, resolution) = pick;
    Ok(Biometric {
        index: BiometricIndex::from_code(idx).ok_or_else(|| {
            ApiError::new(
                ErrorCode::Internal,
                format!("stored index {idx} is unknown"),
            )
        })?,
        content: wire::validate::encode_base64(&content),
        width: width as u32,
        height: height as u32,
        resolution: resolution.map(|r| r as u32),
    })
}

/// Remote captures for the admin view: open ones (or all with `all`), newest first.
pub async fn list(db: &sqlx::AnyPool, all: bool) -> ApiResult<Vec<RemoteCaptureSummary>> {
    expire_overdue(db).await?;
    let rows: Vec<SummaryRow> = sqlx::query_as(&format!(
        "SELECT tguid, kind, status, client_id, operator_id, client_email, created_at, expires_at, captured_at, face_quality, eye_distance,
                liveness_mode, liveness_decision, liveness_score, liveness_feedback, spoof_attempts, decided_by, reason
         FROM remote_captures {} ORDER BY created_at DESC LIMIT 500",
        if all { "" } else { "WHERE status IN ('AWAITING_CAPTURE', 'AWAITING_APPROVAL')" }
    ))
    .fetch_all(db)
    .await?;
    rows.into_iter()
        .map(|r| {
            Ok(RemoteCaptureSummary {
                tguid: r.tguid,
                kind: TransactionType::parse(&r.kind)
                    .ok_or_else(|| ApiError::new(ErrorCode::Internal, "stored kind is unknown"))?,
                status: RemoteCaptureStatus::parse(&r.status).ok_or_else(|| {
                    ApiError::new(ErrorCode::Internal, "stored status is unknown")
                })?,
                client_id: r.client_id,
                operator_id: r.operator_id,
                client_email: r.client_email,
                created_at: iso8601(r.created_at),
                expires_at: iso8601(r.expires_at),
                captured_at: r.captured_at.map(iso8601),
                face_quality: r.face_quality.map(|v| v as f32),
                eye_distance: r.eye_distance.map(|v| v as f32),
                liveness_mode: r.liveness_mode,
                liveness_decision: r.liveness_decision,
                liveness_score: r.liveness_score.map(|v| v as f32),
                liveness_feedback: serde_json::from_str(&r.liveness_feedback).unwrap_or_default(),
                spoof_attempts: r.spoof_attempts as u32,
                decided_by: r.decided_by,
                reason: r.reason,
            })
        })
        .collect()
}

/// A `remote_captures` row as the admin listing reads it.
#[derive(sqlx::FromRow)]
struct SummaryRow {
    tguid: String,
    kind: String,
    status: String,
    client_id: String,
    operator_id: String,
    client_email: Option<String>,
    created_at: i64,
    expires_at: i64,
    captured_at: Option<i64>,
    face_quality: Option<f64>,
    eye_distance: Option<f64>,
    liveness_mode: String,
    liveness_decision: Option<String>,
    liveness_score: Option<f64>,
    liveness_feedback: String,
    spoof_attempts: i64,
    decided_by: Option<String>,
    reason: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// Phone frames: decode, analyse on a blocking thread, advance the attempt, store on capture.

/// What one analysed frame led to.
enum Step {
    Capturing,
    Retry(face::LivenessResult),
    Captured {
        png: Vec<u8>,
        width: u32,
        height: u32,
        quality: f32,
        eye_distance: f32,
        liveness: face::LivenessResult,
    },
}

struct FrameOutcome {
    analysis: FrameAnalysis,
    frame: u32,
    streak: usize,
    progress: face::LivenessProgress,
    completed: u32,
    total: u32,
    step: Step,
    spoof_attempts: u32,
}

fn face_error(e: FaceError) -> ApiError {
    match e {
        FaceError::RuntimeNotFound { .. }
        | FaceError::RuntimeLoad { .. }
        | FaceError::ModelMissing { .. }
        | FaceError::ModelChecksum { .. } => {
            tracing::error!(error = %e, "face engine unavailable");
            ApiError::new(
                ErrorCode::FaceEngineUnavailable,
                format!("the face engine is not available on this server: {e}"),
            )
        }
        FaceError::FrameTooSmall { .. } | FaceError::ImageDecode { .. } => {
            ApiError::new(ErrorCode::ImageFormat, format!("unusable frame: {e}"))
        }
        other => {
            tracing::error!(error = %other, "face analysis failed");
            ApiError::new(
                ErrorCode::Internal,
                format!("face analysis failed: {other}"),
            )
        }
    }
}

/// Decides a passive-mode attempt once autocapture fired and enough face frames were seen.
fn decide_passive(s: &PhoneSession) -> Option<face::LivenessResult> {
    if s.autocapture.result().is_none() || s.face_frames < PASSIVE_MIN_FACE_FRAMES {
        return None;
    }
    let mut r = s.liveness.finish();
    let width = s
        .track
        .iter()
        .map(|t| t[2])
        .fold(0.0f32, f32::max)
        .max(1e-3);
    let range = |k: usize| {
        let (lo, hi) = s.track.iter().fold((f32::MAX, f32::MIN), |(lo, hi), t| {
            (lo.min(t[k]), hi.max(t[k]))
        });
        hi - lo
    };
    let motion = range(0).max(range(1)) / width;
    if motion < PASSIVE_MIN_MOTION {
        r.feedback.retain(|f| f != "SCORES_READY");
        r.feedback.push("NO_NATURAL_MOTION".into());
        r.decision = Decision::Spoof;
        r.score = r.score.min(50.0);
    }
    Some(r)
}

fn analyse_frame(
    state: &AppState,
    tguid: &str,
    spoof_attempts: u32,
    bytes: &[u8],
) -> ApiResult<FrameOutcome> {
    let frame = face::imaging::decode(bytes, "frame").map_err(face_error)?;
    let analysis = {
        let mut guard = state
            .remote
            .pipeline
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if guard.is_none() {
            *guard = Some(FacePipeline::new(&state.config.remote.face).map_err(face_error)?);
        }
        guard
            .as_mut()
            .expect("pipeline was just set")
            .analyze_with_eyes(&frame)
            .map_err(face_error)?
    };
    let mode = state.config.remote.liveness;
    let session = {
        let mut sessions = state
            .remote
            .sessions
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        sessions.retain(|_, s| {
            s.lock()
                .map(|s| s.last_seen.elapsed().as_millis() < SESSION_IDLE_MS)
                .unwrap_or(false)
        });
        sessions
            .entry(tguid.to_owned())
            .or_insert_with(|| Arc::new(Mutex::new(PhoneSession::new(mode, spoof_attempts))))
            .clone()
    };
    let mut s = session.lock().unwrap_or_else(|p| p.into_inner());
    s.last_seen = Instant::now();
    s.frames += 1;
    let ts = (s.started.elapsed().as_millis() as u64).max(s.last_ts + 1);
    s.last_ts = ts;
    if let Some(f) = &analysis.face {
        s.face_frames += 1;
        let (cx, cy) = f.detection.rect.center();
        s.track.push([cx, cy, f.detection.rect.width]);
    }
    let fr = s.autocapture.feed(&frame, &analysis).map_err(face_error)?;
    let progress = s.liveness.feed(&analysis, ts);
    let result = match mode {
        RemoteLiveness::Active => progress.done.then(|| s.liveness.finish()),
        RemoteLiveness::Passive => decide_passive(&s),
    };
    let (frame_no, total) = (s.frames, s.total_checks);
    let completed = match mode {
        RemoteLiveness::Active => progress.completed as u32,
        RemoteLiveness::Passive => {
            u32::from(s.face_frames >= PASSIVE_MIN_FACE_FRAMES)
                + u32::from(s.autocapture.result().is_some())
        }
    };
    let step = match result {
        Some(r) if r.decision == Decision::Live => match s.autocapture.result() {
            Some(c) => Step::Captured {
                png: c.iso.png.clone(),
                width: c.iso.width,
                height: c.iso.height,
                quality: c.analysis.face.as_ref().map(|f| f.quality).unwrap_or(0.0),
                eye_distance: c.iso.source_eye_distance,
                liveness: r,
            },
            // Liveness passed but no compliant run yet: keep going until autocapture fires.
            None => Step::Capturing,
        },
        Some(r) => Step::Retry(r),
        None => Step::Capturing,
    };
    let spoof_attempts = s.spoof_attempts + u32::from(matches!(step, Step::Retry(_)));
    match &step {
        Step::Retry(_) => *s = PhoneSession::new(mode, spoof_attempts),
        Step::Captured { .. } => {
            drop(s);
            state
                .remote
                .sessions
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .remove(tguid);
        }
        Step::Capturing => {}
    }
    Ok(FrameOutcome {
        analysis,
        frame: frame_no,
        streak: fr.streak,
        progress,
        completed,
        total,
        step,
        spoof_attempts,
    })
}

/// Checks and decodes the phone's frame, runs the pipeline, stores the capture when it is done.
pub async fn process_frame(
    state: &AppState,
    token: &str,
    headers: &HeaderMap,
    body: Body,
) -> ApiResult<RemoteFrameResult> {
    let rc = load_by_token(&state.db, token).await?;
    match rc.status {
        RemoteCaptureStatus::AwaitingCapture => {}
        RemoteCaptureStatus::Expired => return Err(expired("this capture link")),
        _ => {
            return Err(ApiError::new(
                ErrorCode::StateConflict,
                "the capture for this link is already done; you can close the page",
            ));
        }
    }
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mime = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if mime != "image/jpeg" && mime != "image/png" {
        return Err(ApiError::new(
            ErrorCode::ContentType,
            format!("send the frame as image/jpeg or image/png, not {content_type:?}"),
        ));
    }
    let limit = state.config.remote.max_frame_bytes;
    let bytes = axum::body::to_bytes(body, limit).await.map_err(|_| {
        ApiError::new(
            ErrorCode::BodyTooLarge,
            format!("a frame may be at most {limit} bytes"),
        )
    })?;
    let reader = image::ImageReader::new(Cursor::new(&bytes[..]))
        .with_guessed_format()
        .map_err(|e| ApiError::new(ErrorCode::ImageFormat, format!("unreadable frame: {e}")))?;
    match reader.format() {
        Some(image::ImageFormat::Jpeg) | Some(image::ImageFormat::Png) => {}
        _ => {
            return Err(ApiError::new(
                ErrorCode::ImageFormat,
                "the frame is not a JPEG or PNG image",
            ));
        }
    }
    let (w, h) = reader.into_dimensions().map_err(|e| {
        ApiError::new(
            ErrorCode::ImageFormat,
            format!("unreadable frame header: {e}"),
        )
    })?;
    if w > MAX_FRAME_SIDE || h > MAX_FRAME_SIDE {
        return Err(ApiError::new(
            ErrorCode::ImageTooLarge,
            format!("frame is {w}x{h}; at most {MAX_FRAME_SIDE} px per side"),
        ));
    }
    let st = state.clone();
    let tguid = rc.tguid.clone();
    let out =
        tokio::task::spawn_blocking(move || analyse_frame(&st, &tguid, rc.spoof_attempts, &bytes))
            .await
            .map_err(|e| {
                ApiError::new(
                    ErrorCode::Internal,
                    format!("frame analysis task failed: {e}"),
                )
            })??;
    if out.spoof_attempts != rc.spoof_attempts {
        sqlx::query("UPDATE remote_captures SET spoof_attempts = $1 WHERE tguid = $2")
            .bind(out.spoof_attempts as i64)
            .bind(&rc.tguid)
            .execute(&state.db)
            .await?;
    }
    let mode = state.config.remote.liveness;
    let live_feedback = |r: &face::LivenessResult| r.feedback.clone();
    let (state_str, decision, feedback_lv) = match &out.step {
        Step::Capturing => ("CAPTURING", None, Vec::new()),
        Step::Retry(r) => ("RETRY", Some(enum_str(&r.decision)), live_feedback(r)),
        Step::Captured { liveness, .. } => (
            "CAPTURED",
            Some(enum_str(&liveness.decision)),
            live_feedback(liveness),
        ),
    };
    if let Step::Captured {
        png,
        width,
        height,
        quality,
        eye_distance,
        liveness,
    } = &out.step
    {
        let now = now_ms();
        let mut tx = crate::db::begin_write(&state.db).await?;
        let updated = sqlx::query(
            "UPDATE remote_captures SET status = 'AWAITING_APPROVAL', captured_at = $1, face_quality = $2, eye_distance = $3, liveness_decision = $4,
                    liveness_score = $5, liveness_feedback = $6 WHERE tguid = $7 AND status = 'AWAITING_CAPTURE' AND expires_at > $8",
        )
        .bind(now)
        .bind(*quality as f64)
        .bind(*eye_distance as f64)
        .bind(enum_str(&liveness.decision))
        .bind(liveness.score as f64)
        .bind(serde_json::to_string(&liveness.feedback).unwrap_or_else(|_| "[]".into()))
        .bind(&rc.tguid)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if updated.rows_affected() != 1 {
            tx.rollback().await?;
            return Err(ApiError::new(
                ErrorCode::StateConflict,
                "the capture for this link is already done or expired",
            ));
        }
        sqlx::query("INSERT INTO remote_capture_images (tguid, idx, format, width, height, resolution, content) VALUES ($1, $2, 'PNG', $3, $4, NULL, $5)")
            .bind(&rc.tguid)
            .bind(BiometricIndex::Face.code() as i64)
            .bind(*width as i64)
            .bind(*height as i64)
            .bind(png)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        tracing::info!(tguid = %rc.tguid, client = %rc.client_id, "remote capture stored; awaiting admin approval");
    }
    let a = &out.analysis;
    let feedback: Vec<FrameFeedbackItem> = a
        .feedback
        .iter()
        .map(|f| FrameFeedbackItem {
            code: f.code.as_str().to_owned(),
            prompt: f.prompt.clone(),
        })
        .collect();
    let blocking = a.feedback.iter().find(|f| {
        matches!(
            f.code,
            face::FeedbackCode::NoFace | face::FeedbackCode::MultipleFaces
        )
    });
    let prompt = match &out.step {
        Step::Captured { .. } => "Done — you can close this page".to_owned(),
        Step::Retry(_) => {
            "We could not confirm a live person. Let's try again: look at the camera.".to_owned()
        }
        Step::Capturing => blocking
            .map(|f| f.prompt.clone())
            .or_else(|| out.progress.prompt.clone())
            .or_else(|| a.feedback.first().map(|f| f.prompt.clone()))
            .unwrap_or_else(|| "Hold still".to_owned()),
    };
    let face_box = a.roi.map(|r| {
        [
            r.x / a.width as f32,
            r.y / a.height as f32,
            r.width / a.width as f32,
            r.height / a.height as f32,
        ]
    });
    let challenge = out.progress.current.map(|c: Challenge| enum_str(&c));
    Ok(RemoteFrameResult {
        state: state_str.to_owned(),
        frame: out.frame,
        compliant: a.compliant,
        feedback,
        prompt,
        face_box,
        streak: out.streak as u32,
        streak_needed: AUTOCAPTURE_FRAMES as u32,
        liveness: RemoteLivenessProgress {
            mode: mode_str(mode).to_owned(),
            challenge,
            prompt: out.progress.prompt.clone(),
            completed: if matches!(out.step, Step::Captured { .. }) {
                out.total
            } else {
                out.completed.min(out.total)
            },
            total: out.total,
            decision,
            feedback: feedback_lv,
        },
        tguid: matches!(out.step, Step::Captured { .. }).then(|| rc.tguid.clone()),
    })
}

// ---------------------------------------------------------------------------------------------
// Handlers.

/// Create a remote capture for enrollment: the answer's `dynamicLink` opens the phone capture page.
#[utoipa::path(post, path = "/gbs-spid-server/remote-capture/enroll", tag = "Remote",
    request_body = Envelope<TransactionIdentifier>,
    responses(
        (status = 200, body = RemoteCaptureResponse, description = "created; dynamicLink carries a one-time 256-bit token"),
        (status = 400, body = ErrorResponse), (status = 401, body = ErrorResponse),
        (status = 409, body = ErrorResponse, description = "a person with clientID is already enrolled")
    ),
    security(("bearer" = [])))]
async fn create_enroll(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: SpidJson<Envelope<TransactionIdentifier>>,
) -> ApiResult<Json<RemoteCaptureResponse>> {
    let base = public_base(&state, &headers)?;
    Ok(Json(
        create(
            &state,
            &caller,
            TransactionType::RemoteEnroll,
            body.value.data,
            &base,
        )
        .await?,
    ))
}

/// Create a remote capture to verify an enrolled person (clientID must be enrolled).
#[utoipa::path(post, path = "/gbs-spid-server/remote-capture/verify", tag = "Remote",
    request_body = Envelope<TransactionIdentifier>,
    responses(
        (status = 200, body = RemoteCaptureResponse), (status = 400, body = ErrorResponse), (status = 401, body = ErrorResponse),
        (status = 404, body = ErrorResponse, description = "no person with clientID")
    ),
    security(("bearer" = [])))]
async fn create_verify(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: SpidJson<Envelope<TransactionIdentifier>>,
) -> ApiResult<Json<RemoteCaptureResponse>> {
    let base = public_base(&state, &headers)?;
    Ok(Json(
        create(
            &state,
            &caller,
            TransactionType::RemoteVerify,
            body.value.data,
            &base,
        )
        .await?,
    ))
}

/// Older alias of `remote-capture/verify` kept by SPID 4.2.12.
#[utoipa::path(post, path = "/gbs-spid-server/remote-capture", tag = "Remote",
    request_body = Envelope<TransactionIdentifier>,
    responses((status = 200, body = RemoteCaptureResponse), (status = 400, body = ErrorResponse), (status = 401, body = ErrorResponse), (status = 404, body = ErrorResponse)),
    security(("bearer" = [])))]
async fn create_verify_alias(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: SpidJson<Envelope<TransactionIdentifier>>,
) -> ApiResult<Json<RemoteCaptureResponse>> {
    create_verify(State(state), caller, headers, body).await
}

/// `?index=N` of `getBiometrics`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
struct IndexQuery {
    /// Biometric index (Griaule table); default the face (10), else the first captured.
    index: Option<String>,
}

/// The captured biometric of a remote capture (face by default).
#[utoipa::path(get, path = "/gbs-spid-server/remote-capture/biometrics/{tguid}", tag = "Remote",
    params(("tguid" = String, Path), IndexQuery),
    responses(
        (status = 200, body = Biometric), (status = 400, body = ErrorResponse), (status = 401, body = ErrorResponse),
        (status = 404, body = ErrorResponse), (status = 409, body = ErrorResponse, description = "nothing captured yet")
    ),
    security(("bearer" = [])))]
async fn get_biometrics(
    State(state): State<AppState>,
    _caller: Caller,
    Path(tguid): Path<String>,
    Query(q): Query<IndexQuery>,
) -> ApiResult<Json<Biometric>> {
    let index = match q.index.as_deref() {
        None => None,
        Some(s) => {
            let n: i64 = s.trim().parse().map_err(|_| {
                ApiError::new(
                    ErrorCode::InvalidField,
                    format!("index {s:?} is not an integer"),
                )
            })?;
            Some(BiometricIndex::from_code(n).ok_or_else(|| {
                ApiError::new(
                    ErrorCode::BiometricIndex,
                    format!("{n} is not a valid biometric index"),
                )
            })?)
        }
    };
    Ok(Json(biometric(&state.db, &tguid, index).await?))
}

/// Approve or reject a captured remote capture (admins only). `reason` [inf] is kept with the decision.
#[utoipa::path(post, path = "/gbs-spid-server/remote-capture/finish/{tguid}", tag = "Remote",
    params(("tguid" = String, Path)),
    request_body = RemoteCaptureDecision,
    responses(
        (status = 200, description = "decided; an approved enroll is now an enrollment transaction with the same tguid"),
        (status = 400, body = ErrorResponse), (status = 401, body = ErrorResponse), (status = 403, body = ErrorResponse),
        (status = 404, body = ErrorResponse), (status = 409, body = ErrorResponse, description = "nothing captured yet, or already decided"),
        (status = 410, body = ErrorResponse, description = "expired")
    ),
    security(("bearer" = [])))]
async fn finish(
    State(state): State<AppState>,
    caller: Caller,
    Path(tguid): Path<String>,
    body: SpidJson<RemoteCaptureDecision>,
) -> ApiResult<StatusCode> {
    caller.require_admin()?;
    decide(&state, &caller, &tguid, &body.value).await?;
    Ok(StatusCode::OK)
}

/// The phone page's "I'm done" ping: confirms the capture is stored and awaiting the admin.
#[utoipa::path(post, path = "/gbs-spid-server/remote-capture/notification", tag = "Remote",
    request_body = RemoteCaptureNotification,
    responses(
        (status = 200, description = "recorded"), (status = 400, body = ErrorResponse), (status = 404, body = ErrorResponse),
        (status = 409, body = ErrorResponse, description = "nothing captured yet"), (status = 410, body = ErrorResponse)
    ))]
async fn notification(
    State(state): State<AppState>,
    body: SpidJson<RemoteCaptureNotification>,
) -> ApiResult<StatusCode> {
    let guid = body.value.guid.trim();
    let rc = load(&state.db, guid).await?;
    match rc.status {
        RemoteCaptureStatus::AwaitingCapture => Err(ApiError::new(
            ErrorCode::StateConflict,
            format!("remote capture {guid} has nothing captured yet"),
        )),
        RemoteCaptureStatus::Expired => Err(expired(&format!("remote capture {guid}"))),
        _ => {
            let r = sqlx::query("UPDATE remote_captures SET notified_at = $1 WHERE tguid = $2 AND notified_at IS NULL")
                .bind(now_ms())
                .bind(guid)
                .execute(&state.db)
                .await?;
            if r.rows_affected() == 1 {
                tracing::info!(tguid = %guid, client = %rc.client_id, "remote capture ready: an admin should approve or reject it");
            }
            Ok(StatusCode::OK)
        }
    }
}

/// `?all=true` of the pending listing.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
struct PendingQuery {
    /// Include decided and expired captures.
    all: Option<bool>,
}

/// Remote captures awaiting capture or approval, with quality and liveness summaries (admins only) [inf].
#[utoipa::path(get, path = "/gbs-spid-server/remote-capture/pending", tag = "Remote",
    params(PendingQuery),
    responses((status = 200, body = Vec<RemoteCaptureSummary>), (status = 401, body = ErrorResponse), (status = 403, body = ErrorResponse)),
    security(("bearer" = [])))]
async fn pending(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<PendingQuery>,
) -> ApiResult<Json<Vec<RemoteCaptureSummary>>> {
    caller.require_admin()?;
    Ok(Json(list(&state.db, q.all.unwrap_or(false)).await?))
}

/// The phone capture page. No bearer token: the link's token is the credential.
#[utoipa::path(get, path = "/rc/{token}", tag = "Remote",
    params(("token" = String, Path, description = "one-time token from dynamicLink")),
    responses(
        (status = 200, content_type = "text/html", body = String, description = "the capture page"),
        (status = 404, content_type = "text/html", body = String, description = "unknown link"),
        (status = 410, content_type = "text/html", body = String, description = "expired link")
    ))]
async fn phone_page(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> ApiResult<Response> {
    let (status, page_state) = match load_by_token(&state.db, &token).await {
        Ok(rc) => match rc.status {
            RemoteCaptureStatus::AwaitingCapture => (StatusCode::OK, "CAPTURE"),
            RemoteCaptureStatus::Expired => (StatusCode::GONE, "EXPIRED"),
            _ => (StatusCode::OK, "DONE"),
        },
        Err(e) if e.code == ErrorCode::RemoteCaptureNotFound => (StatusCode::NOT_FOUND, "INVALID"),
        Err(e) => return Err(e),
    };
    let html = PHONE_HTML.replace("__STATE__", page_state);
    let mut resp = (status, html).into_response();
    let h = resp.headers_mut();
    let set = |h: &mut HeaderMap, k: header::HeaderName, v: &'static str| {
        h.insert(k, HeaderValue::from_static(v));
    };
    set(h, header::CONTENT_TYPE, "text/html; charset=utf-8");
    set(h, header::CACHE_CONTROL, "no-store");
    // The token is in the URL: never send it to another site.
    set(h, header::REFERRER_POLICY, "no-referrer");
    set(h, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(
        h,
        header::CONTENT_SECURITY_POLICY,
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; media-src 'self' blob: mediastream:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    );
    Ok(resp)
}

/// One camera frame from the phone page (JPEG or PNG body): feedback, liveness progress and,
/// when autocapture fires and liveness passes, the stored capture.
#[utoipa::path(post, path = "/rc/{token}/frames", tag = "Remote",
    params(("token" = String, Path, description = "one-time token from dynamicLink")),
    request_body(content = String, content_type = "image/jpeg", description = "the frame as JPEG (or PNG) bytes"),
    responses(
        (status = 200, body = RemoteFrameResult), (status = 400, body = ErrorResponse), (status = 404, body = ErrorResponse),
        (status = 409, body = ErrorResponse, description = "already captured"), (status = 410, body = ErrorResponse),
        (status = 413, body = ErrorResponse), (status = 415, body = ErrorResponse),
        (status = 503, body = ErrorResponse, description = "the face engine (ONNX Runtime) is not available")
    ))]
async fn phone_frame(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Json<RemoteFrameResult>> {
    Ok(Json(process_frame(&state, &token, &headers, body).await?))
}
