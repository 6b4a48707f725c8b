//! The HTTP face of the service. SBI uses its own HTTP methods (MOSIPDISC, MOSIPDINFO, CAPTURE,
//! RCAPTURE, STREAM), which axum cannot route, so one fallback handler dispatches on method and
//! path. Handlers parse, check, and call the capture/stream code; every SBI failure is answered in
//! the call's own shape with the spec's error code.

use std::sync::{Arc, Mutex};

use axum::body::{to_bytes, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{SecondsFormat, Utc};
use drivers::DeviceKind;
use sha2::{Digest, Sha256};
use wire::sbi::*;

use crate::capture::{self, CapturedFace, CapturedFinger};
use crate::devices::{Registry, Slot};
use crate::keys::{b64url, DeviceKey};
use crate::SbiConfig;

/// Bodies above this are refused (a capture request is well under 10 KiB).
const MAX_BODY: usize = 1 << 20;
const ALLOWED_METHODS: &str = "MOSIPDISC, MOSIPDINFO, CAPTURE, RCAPTURE, STREAM, OPTIONS";

/// What the handlers share.
pub struct AppState {
    pub registry: Arc<Registry>,
    pub key: DeviceKey,
    pub config: SbiConfig,
    pub port: u16,
    /// Loaded on the first face capture (ONNX Runtime start-up is not free).
    pub face: Mutex<Option<face::FacePipeline>>,
}

impl AppState {
    fn callback_id(&self) -> String {
        format!("http://127.0.0.1:{}/", self.port)
    }

    fn digital_id(&self, slot: &Slot) -> DigitalId {
        let (kind, sub_type) = device_type(slot.kind);
        DigitalId {
            serial_no: self.serial_no(slot),
            make: "Capture Station".into(),
            model: slot.name.clone(),
            kind,
            device_sub_type: sub_type.into(),
            device_provider: "Capture Station".into(),
            device_provider_id: "CAPTURE.STATION.SBI".into(),
            date_time: now_iso(),
        }
    }

    /// 18 characters, stable per installation key and device id: the spec wants at least 12,
    /// unique per device.
    fn serial_no(&self, slot: &Slot) -> String {
        let mut h = Sha256::new();
        h.update(self.key.certificate_der());
        h.update(slot.id.as_bytes());
        format!("CS{}", &hex_upper(&h.finalize())[..16])
    }

    fn signed_digital_id(&self, slot: &Slot) -> String {
        self.key
            .sign(&serde_json::to_vec(&self.digital_id(slot)).expect("serialises"))
    }
}

/// The one handler: dispatches on method and path, then adds the headers the spec shows.
pub async fn dispatch(State(st): State<Arc<AppState>>, req: Request) -> Response {
    let method = req.method().as_str().to_owned();
    let path = req.uri().path().to_owned();
    let body = to_bytes(req.into_body(), MAX_BODY).await;
    let mut response = match body {
        Err(e) => error_only(StatusCode::PAYLOAD_TOO_LARGE, SbiErrorCode::InvalidRequest, format!("request body unreadable: {e}")),
        Ok(body) => match (method.as_str(), path.as_str()) {
            ("MOSIPDISC", "/device") => discover(&st, &body),
            ("MOSIPDINFO", "/info") => info(&st),
            ("RCAPTURE", "/capture") => rcapture(st.clone(), &body).await,
            ("CAPTURE", "/capture") => capture_error(SbiError::new(
                SbiErrorCode::PurposeMismatch,
                "CAPTURE (authentication) needs an L1 device with an FTM; this L0 service serves registration (RCAPTURE)",
            )),
            ("STREAM", "/stream") => stream(&st, &body).await,
            ("OPTIONS", _) => StatusCode::NO_CONTENT.into_response(),
            _ => error_only(StatusCode::NOT_FOUND, SbiErrorCode::InvalidUrl, format!("Invalid URL: {method} {path}")),
        },
    };
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(v) = HeaderValue::from_str(&format!("http://127.0.0.1:{}", st.port)) {
        headers.insert(header::LOCATION, v);
    }
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static(ALLOWED_METHODS),
    );
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static("Content-Type"),
    );
    response
}

fn discover(st: &AppState, body: &Bytes) -> Response {
    // The spec requires {"type": ...}; an empty body is read as "any device".
    let wanted = if body.iter().all(u8::is_ascii_whitespace) {
        DeviceType::BiometricDevice
    } else {
        match serde_json::from_slice::<DiscoverRequest>(body) {
            Ok(r) => r.kind,
            Err(e) => {
                return error_only(
                    StatusCode::BAD_REQUEST,
                    SbiErrorCode::InvalidRequest,
                    format!("Invalid JSON request: {e}"),
                )
            }
        }
    };
    let devices: Vec<DiscoveredDevice> = st
        .registry
        .list()
        .iter()
        .filter(|s| wanted == DeviceType::BiometricDevice || device_type(s.kind).0 == wanted)
        .map(|slot| {
            let (status, error) = status_of(slot);
            DiscoveredDevice {
                device_id: slot.id.clone(),
                device_status: status,
                certification: Certification::L0,
                service_version: env!("CARGO_PKG_VERSION").into(),
                device_sub_id: vec![0],
                callback_id: st.callback_id(),
                digital_id: b64url(&serde_json::to_vec(&st.digital_id(slot)).expect("serialises")),
                device_code: st.serial_no(slot),
                spec_version: vec![SPEC_VERSION.into()],
                purpose: Purpose::Registration,
                error,
            }
        })
        .collect();
    Json(devices).into_response()
}

fn info(st: &AppState) -> Response {
    let entries: Vec<DeviceInfoEntry> = st
        .registry
        .list()
        .iter()
        .map(|slot| {
            let (status, error) = status_of(slot);
            let info = DeviceInfo {
                device_status: status,
                device_id: slot.id.clone(),
                firmware: env!("CARGO_PKG_VERSION").into(),
                certification: Certification::L0,
                service_version: env!("CARGO_PKG_VERSION").into(),
                device_sub_id: vec![0],
                callback_id: st.callback_id(),
                digital_id: st.signed_digital_id(slot),
                device_code: st.serial_no(slot),
                env: st.config.env.clone(),
                purpose: Purpose::Registration,
                spec_version: vec![SPEC_VERSION.into()],
            };
            DeviceInfoEntry {
                device_info: st.key.sign(&serde_json::to_vec(&info).expect("serialises")),
                error,
            }
        })
        .collect();
    Json(entries).into_response()
}

/// What a validated RCAPTURE asks for.
enum Plan {
    Fingers(Vec<BioSubType>),
    Face,
}

async fn rcapture(st: Arc<AppState>, body: &Bytes) -> Response {
    let req: CaptureRequest = match serde_json::from_slice(body) {
        Ok(r) => r,
        Err(e) => {
            return capture_error(SbiError::new(
                SbiErrorCode::InvalidRequest,
                format!("Invalid JSON request: {e}"),
            ))
        }
    };
    let (slot, plan) = match check_rcapture(&st, &req) {
        Ok(ok) => ok,
        Err(e) => return capture_error(e),
    };
    let bio = &req.bio[0];
    let Some(capture_guard) = slot.begin_capture() else {
        return capture_error(SbiError::new(
            SbiErrorCode::DeviceBusy,
            format!(
                "Device is Busy: a capture is already running on {}",
                slot.id
            ),
        ));
    };
    let deadline = capture::deadline_for(
        req.timeout,
        st.config.default_timeout,
        st.config.max_timeout,
    );
    let requested = bio.requested_score;
    let device = slot.device_owned().await;
    let worker_state = st.clone();
    let worker_slot = slot.clone();
    let outcome = tokio::task::spawn_blocking(move || {
        let _capturing = capture_guard;
        let mut device = device;
        let manager = worker_state.registry.manager();
        let result = match plan {
            Plan::Fingers(targets) => device
                .scanner(manager, &worker_slot.id)
                .map_err(capture::device_failure)
                .and_then(|scanner| {
                    capture::capture_fingers(scanner, &targets, requested, deadline)
                })
                .map(Captured::Fingers),
            Plan::Face => capture_face(
                &worker_state,
                &worker_slot,
                &mut device,
                requested,
                deadline,
            )
            .map(Captured::Face),
        };
        if matches!(&result, Err(e) if e.error_code == SbiErrorCode::DeviceNotReady) {
            device.reset();
        } else if !worker_slot.streaming() {
            device.stop_camera();
        }
        result
    })
    .await;
    let captured = match outcome {
        Ok(Ok(c)) => c,
        Ok(Err(e)) => return capture_error(e),
        Err(e) => {
            return capture_error(SbiError::new(
                SbiErrorCode::ExtractionFailed,
                format!("capture task failed: {e}"),
            ))
        }
    };
    Json(answer(&st, &slot, &req, captured)).into_response()
}

enum Captured {
    Fingers(Vec<CapturedFinger>),
    Face(CapturedFace),
}

fn capture_face(
    st: &AppState,
    slot: &Slot,
    device: &mut crate::devices::Handles,
    requested: f64,
    deadline: std::time::Instant,
) -> Result<CapturedFace, SbiError> {
    let mut pipeline = st.face.lock().unwrap_or_else(|p| p.into_inner());
    if pipeline.is_none() {
        let config = face::PipelineConfig {
            models_dir: st.config.face_models.clone(),
            ..Default::default()
        };
        let loaded = face::FacePipeline::new(&config).map_err(|e| {
            SbiError::new(
                SbiErrorCode::QualityUnavailable,
                format!("Face quality assessment unavailable: {e}"),
            )
        })?;
        *pipeline = Some(loaded);
    }
    let pipeline = pipeline.as_mut().expect("loaded above");
    let camera = device
        .camera(st.registry.manager(), &slot.id)
        .map_err(capture::device_failure)?;
    capture::capture_face(camera, pipeline, requested, deadline)
}

/// Checks an RCAPTURE against the spec and our devices; returns the device and what to capture.
fn check_rcapture(st: &AppState, req: &CaptureRequest) -> Result<(Arc<Slot>, Plan), SbiError> {
    if !valid_transaction_id(&req.transaction_id) {
        return Err(SbiError::new(
            SbiErrorCode::InvalidTransactionId,
            "Invalid Transaction ID: 4 to 50 letters, digits or hyphens",
        ));
    }
    if req.purpose.eq_ignore_ascii_case("Auth") {
        return Err(SbiError::new(
            SbiErrorCode::PurposeMismatch,
            "RCAPTURE is for registration; the request says Auth",
        ));
    }
    let [bio] = req.bio.as_slice() else {
        return Err(SbiError::new(
            SbiErrorCode::InvalidRequest,
            "Invalid JSON request: exactly one bio entry per call",
        ));
    };
    if !(0.0..=100.0).contains(&bio.requested_score) {
        return Err(SbiError::new(
            SbiErrorCode::InvalidRequest,
            "Invalid JSON request: requestedScore must be 0-100",
        ));
    }
    let slot = st.registry.get(&bio.device_id).ok_or_else(|| {
        SbiError::new(
            SbiErrorCode::DeviceNotFound,
            format!("Device not found: {}", bio.device_id),
        )
    })?;
    let kind = device_type(slot.kind).0;
    if bio.kind != kind {
        return Err(SbiError::new(
            SbiErrorCode::DeviceNotFound,
            format!(
                "Device not found: {} is a {} device, not {}",
                slot.id,
                kind.as_str(),
                bio.kind.as_str()
            ),
        ));
    }
    let listed = bio.bio_sub_type.clone().unwrap_or_default();
    let exceptions = bio.exception.clone().unwrap_or_default();
    for s in listed.iter().chain(&exceptions) {
        if kind == DeviceType::Finger && !s.fits(kind) {
            return Err(SbiError::new(
                SbiErrorCode::InvalidBioSubType,
                format!(
                    "Invalid bioSubType: {s:?} is not a {} position",
                    kind.as_str()
                ),
            ));
        }
    }
    match kind {
        DeviceType::Face => {
            if bio.count != 1 {
                return Err(SbiError::new(
                    SbiErrorCode::CountNotSupported,
                    "Requested number of biometric not supported: face count is 1",
                ));
            }
            Ok((slot, Plan::Face))
        }
        _ => {
            let targets: Vec<BioSubType> = if listed.is_empty() {
                if !(1..=10).contains(&bio.count) {
                    return Err(SbiError::new(
                        SbiErrorCode::CountNotSupported,
                        "Requested number of biometric not supported: count must be 1-10",
                    ));
                }
                vec![BioSubType::Unknown; bio.count as usize]
            } else {
                let kept: Vec<BioSubType> = listed
                    .iter()
                    .filter(|s| !exceptions.contains(s))
                    .cloned()
                    .collect();
                if bio.count as usize != kept.len() && bio.count as usize != listed.len() {
                    return Err(SbiError::new(
                        SbiErrorCode::CountNotSupported,
                        format!(
                            "Requested number of biometric not supported: count {} but {} bioSubType ({} after exceptions)",
                            bio.count,
                            listed.len(),
                            kept.len()
                        ),
                    ));
                }
                kept
            };
            Ok((slot, Plan::Fingers(targets)))
        }
    }
}

/// Builds the signed answer, chaining `hash` over the biometrics in order.
fn answer(st: &AppState, slot: &Slot, req: &CaptureRequest, captured: Captured) -> CaptureResponse {
    let bio = &req.bio[0];
    let mut previous = match bio.previous_hash.as_deref().map(str::trim) {
        Some(h) if !h.is_empty() => h.to_ascii_uppercase(),
        _ => hex_upper(&Sha256::digest(b"")),
    };
    let items: Vec<(String, Vec<u8>, f64, String)> = match captured {
        Captured::Fingers(fingers) => fingers
            .into_iter()
            .map(|f| {
                (
                    f.sub_type.as_str().to_owned(),
                    f.iso,
                    f64::from(f.quality),
                    stamp(f.timestamp),
                )
            })
            .collect(),
        Captured::Face(face) => vec![(
            String::new(),
            face.iso,
            f64::from((face.quality * 10.0).round() / 10.0),
            stamp(face.timestamp),
        )],
    };
    let digital_id = st.signed_digital_id(slot);
    let biometrics = items
        .into_iter()
        .map(|(sub_type, iso, quality, timestamp)| {
            let hash = hex_upper(&Sha256::digest(
                format!("{previous}{}", hex_upper(&Sha256::digest(&iso))).as_bytes(),
            ));
            previous = hash.clone();
            let data = CaptureData {
                digital_id: digital_id.clone(),
                device_code: st.serial_no(slot),
                device_service_version: env!("CARGO_PKG_VERSION").into(),
                bio_type: bio.kind,
                bio_sub_type: sub_type,
                purpose: "Registration".into(),
                env: req.env.clone(),
                domain_uri: None,
                bio_value: b64url(&iso),
                transaction_id: req.transaction_id.clone(),
                timestamp,
                requested_score: bio.requested_score,
                quality_score: quality,
            };
            CapturedBiometric {
                spec_version: SPEC_VERSION.into(),
                data: st.key.sign(&serde_json::to_vec(&data).expect("serialises")),
                hash,
                session_key: None,
                thumbprint: None,
                error: SbiError::success(),
            }
        })
        .collect();
    CaptureResponse { biometrics }
}

async fn stream(st: &Arc<AppState>, body: &Bytes) -> Response {
    let req: StreamRequest = match serde_json::from_slice(body) {
        Ok(r) => r,
        Err(e) => {
            return stream_error(SbiError::new(
                SbiErrorCode::InvalidRequest,
                format!("Invalid JSON request: {e}"),
            ))
        }
    };
    let Some(slot) = st.registry.get(&req.device_id) else {
        return stream_error(SbiError::new(
            SbiErrorCode::DeviceNotFound,
            format!("Device not found: {}", req.device_id),
        ));
    };
    let duration = req
        .timeout
        .filter(|t| *t > 0)
        .map(std::time::Duration::from_millis)
        .unwrap_or(st.config.default_stream)
        .min(st.config.default_stream.max(st.config.max_timeout));
    match crate::stream::start(st.registry.clone(), slot, duration).await {
        Ok(response) => response,
        Err(e) => stream_error(e),
    }
}

fn status_of(slot: &Slot) -> (DeviceStatus, SbiError) {
    if slot.is_busy() {
        (
            DeviceStatus::Busy,
            SbiError::new(SbiErrorCode::DeviceBusy, SbiErrorCode::DeviceBusy.message()),
        )
    } else {
        (DeviceStatus::Ready, SbiError::success())
    }
}

fn device_type(kind: DeviceKind) -> (DeviceType, &'static str) {
    match kind {
        DeviceKind::FingerprintScanner => (DeviceType::Finger, "Single"),
        DeviceKind::Camera => (DeviceType::Face, "Full face"),
    }
}

fn capture_error(error: SbiError) -> Response {
    Json(CaptureResponse {
        biometrics: vec![CapturedBiometric {
            spec_version: SPEC_VERSION.into(),
            data: String::new(),
            hash: String::new(),
            session_key: None,
            thumbprint: None,
            error,
        }],
    })
    .into_response()
}

fn stream_error(error: SbiError) -> Response {
    Json(StreamErrorResponse { error }).into_response()
}

fn error_only(status: StatusCode, code: SbiErrorCode, info: String) -> Response {
    (
        status,
        Json(ErrorOnlyResponse {
            error: SbiError::new(code, info),
        }),
    )
        .into_response()
}

fn now_iso() -> String {
    stamp(Utc::now())
}

fn stamp(t: chrono::DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn hex_upper(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}
