//! The SBI service over real HTTP on loopback, called with SBI's custom methods as a MOSIP
//! registration client does, with the drivers' simulated scanner and camera.

use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use drivers::manager::{Backend, DeviceManager, SimulatedBackend};
use drivers::simulated::{InjectedFault, SimulatedScanner};
use drivers::{DeviceError, DeviceInfo as DriverDevice, DeviceKind, FingerprintScanner};
use reqwest::Method;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use wire::sbi::*;

/// A scanner nobody ever touches: every capture waits for its whole timeout.
struct NoFingerBackend;

impl Backend for NoFingerBackend {
    fn name(&self) -> &str {
        "test-no-finger"
    }
    fn list(&self) -> drivers::Result<Vec<DriverDevice>> {
        Ok(vec![DriverDevice {
            id: "test:nofinger".into(),
            name: "Simulated scanner nobody touches".into(),
            kind: DeviceKind::FingerprintScanner,
            driver: "simulated".into(),
        }])
    }
    fn open_scanner(&self, id: &str) -> drivers::Result<Box<dyn FingerprintScanner>> {
        if id != "test:nofinger" {
            return Err(DeviceError::NotFound(id.into()));
        }
        Ok(Box::new(
            SimulatedScanner::synthetic(3, Vec::new()).with_fault(InjectedFault::NoFinger),
        ))
    }
}

struct Service {
    running: sbi::RunningService,
    keys: tempfile::TempDir,
    http: reqwest::Client,
}

impl Service {
    async fn start() -> Self {
        Self::start_with(sbi::SbiConfig::new("unused")).await
    }

    async fn start_with(mut config: sbi::SbiConfig) -> Self {
        let keys = tempfile::tempdir().unwrap();
        config.key_dir = keys.path().to_path_buf();
        let mut manager = DeviceManager::empty();
        manager.register(Arc::new(SimulatedBackend));
        manager.register(Arc::new(NoFingerBackend));
        let registry = sbi::Registry::new(
            manager,
            Some(vec![
                "sim:finger".into(),
                "sim:camera".into(),
                "test:nofinger".into(),
            ]),
        );
        let running = sbi::start(config, registry).await.expect("service starts");
        Self {
            running,
            keys,
            http: reqwest::Client::new(),
        }
    }

    async fn call(
        &self,
        method: &str,
        path: &str,
        body: impl Into<reqwest::Body>,
    ) -> reqwest::Response {
        self.http
            .request(
                Method::from_bytes(method.as_bytes()).unwrap(),
                format!("{}{path}", self.running.base_url()),
            )
            .body(body)
            .send()
            .await
            .unwrap()
    }

    async fn json(&self, method: &str, path: &str, body: Value) -> Value {
        let resp = self.call(method, path, body.to_string()).await;
        resp.json().await.unwrap()
    }

    /// The published certificate (`device-cert.pem`), DER.
    fn certificate(&self) -> Vec<u8> {
        let pem = std::fs::read_to_string(self.keys.path().join(sbi::keys::CERT_FILE)).unwrap();
        let b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap()
    }
}

fn rcapture_body(
    device: &str,
    sub_types: &[&str],
    exceptions: &[&str],
    count: u64,
    score: u32,
    timeout: u64,
) -> Value {
    json!({
        "env": "Developer", "purpose": "Registration", "specVersion": "0.9.5", "timeout": timeout,
        "captureTime": "2026-11-23T10:16:03Z", "transactionId": "test-tx-0001",
        "bio": [{
            "type": "Finger", "count": count, "bioSubType": sub_types, "exception": exceptions,
            "requestedScore": score, "deviceId": device, "deviceSubId": "0", "previousHash": ""
        }],
        "customOpts": null
    })
}

fn error_code(resp: &Value) -> String {
    resp["biometrics"][0]["error"]["errorCode"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn hex_upper(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

#[tokio::test]
async fn discovery_lists_our_devices() {
    let svc = Service::start().await;
    let resp = svc
        .call(
            "MOSIPDISC",
            "/device",
            json!({"type": "Biometric Device"}).to_string(),
        )
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["cache-control"], "no-store");
    let devices: Vec<DiscoveredDevice> = resp.json().await.unwrap();
    let ids: Vec<&str> = devices.iter().map(|d| d.device_id.as_str()).collect();
    assert_eq!(ids, ["sim:finger", "sim:camera", "test:nofinger"]);
    for d in &devices {
        assert_eq!(d.device_status, DeviceStatus::Ready);
        assert_eq!(d.certification, Certification::L0);
        assert_eq!(d.purpose, Purpose::Registration);
        assert_eq!(d.spec_version[0], "0.9.5");
        assert_eq!(d.callback_id, format!("{}/", svc.running.base_url()));
        assert!(d.error.is_success());
        let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(&d.digital_id)
            .unwrap();
        let id: DigitalId = serde_json::from_slice(&raw).unwrap();
        assert_eq!(id.serial_no, d.device_code);
        assert!(id.serial_no.len() >= 12);
    }

    // Discovery by modality: (type asked, devices expected).
    for (kind, expected) in [("Finger", vec!["sim:finger", "test:nofinger"]), ("Face", vec!["sim:camera"]), ("Iris", vec![])] {
        let found: Vec<DiscoveredDevice> = svc
            .call("MOSIPDISC", "/device", json!({ "type": kind }).to_string())
            .await
            .json()
            .await
            .unwrap();
        let ids: Vec<&str> = found.iter().map(|d| d.device_id.as_str()).collect();
        assert_eq!(ids, expected, "discovery of {kind}");
    }
}

#[tokio::test]
async fn device_info_is_signed_with_the_published_certificate() {
    let svc = Service::start().await;
    let entries: Vec<DeviceInfoEntry> = svc
        .call("MOSIPDINFO", "/info", "")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(entries.len(), 3);
    let cert = svc.certificate();
    for entry in &entries {
        assert!(entry.error.is_success());
        assert_eq!(
            sbi::keys::jws_certificate(&entry.device_info).unwrap(),
            cert,
            "x5c carries the published certificate"
        );
        let payload = sbi::verify_jws(&entry.device_info, &cert).expect("deviceInfo verifies");
        let info: DeviceInfo = serde_json::from_slice(&payload).unwrap();
        assert_eq!(info.device_status, DeviceStatus::Ready);
        let id: DigitalId = serde_json::from_slice(
            &sbi::verify_jws(&info.digital_id, &cert).expect("digitalId verifies"),
        )
        .unwrap();
        assert_eq!(id.serial_no, info.device_code);
        assert_eq!(
            id.kind,
            if info.device_id == "sim:camera" {
                DeviceType::Face
            } else {
                DeviceType::Finger
            }
        );
    }
    // A signature from another installation's key does not verify with ours.
    let other = tempfile::tempdir().unwrap();
    let foreign = sbi::DeviceKey::load_or_create(other.path())
        .unwrap()
        .sign(b"{}");
    assert!(sbi::verify_jws(&foreign, &cert).is_err());
}

#[tokio::test]
async fn rcapture_returns_iso_fingers_with_real_quality_and_honours_exceptions() {
    let svc = Service::start().await;
    let body = rcapture_body(
        "sim:finger",
        &["Left IndexFinger", "Left MiddleFinger", "Left RingFinger"],
        &["Left RingFinger"],
        2,
        30,
        20_000,
    );
    let resp: CaptureResponse = svc
        .call("RCAPTURE", "/capture", body.to_string())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        resp.biometrics.len(),
        2,
        "the excepted finger is not captured"
    );
    let cert = svc.certificate();
    let mut previous = hex_upper(&Sha256::digest(b""));
    for (b, expected) in resp
        .biometrics
        .iter()
        .zip(["Left IndexFinger", "Left MiddleFinger"])
    {
        assert!(b.error.is_success(), "{:?}", b.error);
        let data: CaptureData =
            serde_json::from_slice(&sbi::verify_jws(&b.data, &cert).expect("data verifies"))
                .unwrap();
        assert_eq!(data.bio_sub_type, expected);
        assert_eq!(data.bio_type, DeviceType::Finger);
        assert_eq!(data.transaction_id, "test-tx-0001");
        assert_eq!(data.requested_score, 30.0);
        assert!(sbi::verify_jws(&data.digital_id, &cert).is_ok());

        let iso = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(&data.bio_value)
            .unwrap();
        let record = sbi::iso::parse_finger_record(&iso).unwrap();
        assert_eq!(record.compression, sbi::iso::COMPRESSION_WSQ);
        assert_eq!(
            record.position,
            if expected == "Left IndexFinger" { 7 } else { 8 }
        );
        assert_eq!(f64::from(record.quality), data.quality_score);
        assert!(data.quality_score > 0.0 && data.quality_score <= 100.0);

        // The score is the fingerprint crate's: re-scoring the (lossy WSQ) image lands close.
        let decoded = fingerprint_formats::wsq::decode(&record.image)
            .unwrap()
            .image;
        let engine = fingerprint::GrayImage::new(
            decoded.width(),
            decoded.height(),
            decoded.pixels().to_vec(),
        )
        .unwrap();
        let rescored = fingerprint::quality::assess(&engine).unwrap().score;
        assert!(
            (f64::from(rescored) - data.quality_score).abs() <= 15.0,
            "rescored {rescored} vs {}",
            data.quality_score
        );

        // Hash chain: HEX(SHA256(previous hash ‖ HEX(SHA256(ISO record)))).
        let expected_hash = hex_upper(&Sha256::digest(
            format!("{previous}{}", hex_upper(&Sha256::digest(&iso))).as_bytes(),
        ));
        assert_eq!(b.hash, expected_hash);
        previous = b.hash.clone();
    }
}

#[tokio::test]
async fn timeout_is_honoured_and_a_busy_device_says_so() {
    let svc = Arc::new(Service::start().await);
    let started = Instant::now();
    let slow = {
        let svc = svc.clone();
        tokio::spawn(async move {
            let body = rcapture_body("test:nofinger", &["Right Thumb"], &[], 1, 40, 1_500);
            let resp = svc.json("RCAPTURE", "/capture", body).await;
            (resp, started.elapsed())
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;

    // While it runs: a second capture on the device is refused at once, discovery says Busy.
    let t = Instant::now();
    let busy = svc
        .json(
            "RCAPTURE",
            "/capture",
            rcapture_body("test:nofinger", &["Right Thumb"], &[], 1, 40, 5_000),
        )
        .await;
    assert_eq!(error_code(&busy), "111");
    assert!(t.elapsed() < Duration::from_millis(1_000), "busy must not wait for the capture");
    let devices: Vec<DiscoveredDevice> = svc
        .call("MOSIPDISC", "/device", r#"{"type":"Finger"}"#)
        .await
        .json()
        .await
        .unwrap();
    let nofinger = devices
        .iter()
        .find(|d| d.device_id == "test:nofinger")
        .unwrap();
    assert_eq!(nofinger.device_status, DeviceStatus::Busy);
    assert_eq!(nofinger.error.error_code, SbiErrorCode::DeviceBusy);
    // Another device is not affected.
    assert_eq!(
        devices
            .iter()
            .find(|d| d.device_id == "sim:finger")
            .unwrap()
            .device_status,
        DeviceStatus::Ready
    );

    let (resp, elapsed) = slow.await.unwrap();
    assert_eq!(error_code(&resp), "101", "{resp}");
    assert!(
        elapsed >= Duration::from_millis(1_400),
        "answered before the timeout: {elapsed:?}"
    );
    assert!(
        elapsed < Duration::from_millis(3_500),
        "answered long after the timeout: {elapsed:?}"
    );
    // Free again.
    let devices: Vec<DiscoveredDevice> = svc
        .call("MOSIPDISC", "/device", "")
        .await
        .json()
        .await
        .unwrap();
    assert!(devices
        .iter()
        .all(|d| d.device_status == DeviceStatus::Ready));
}

#[tokio::test]
async fn bad_requests_get_the_spec_error_codes() {
    let svc = Service::start().await;
    // Not JSON.
    let resp: Value = svc
        .call("RCAPTURE", "/capture", "{not json")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(error_code(&resp), "501");
    // Capture requests, each wrong in one way: (what is wrong, method, body, spec error code).
    let thumb = || rcapture_body("sim:finger", &["Left Thumb"], &[], 1, 40, 5_000);
    let with = |mut body: Value, field: &str, value: Value| {
        body[field] = value;
        body
    };
    let cases = [
        ("unknown bioSubType", "RCAPTURE", rcapture_body("sim:finger", &["Left Pinky"], &[], 1, 40, 5_000), "502"),
        ("unknown device", "RCAPTURE", rcapture_body("usb:dead:beef", &["Left Thumb"], &[], 1, 40, 5_000), "106"),
        ("finger request to the camera", "RCAPTURE", rcapture_body("sim:camera", &["Left Thumb"], &[], 1, 40, 5_000), "106"),
        ("count fits neither the list nor the list minus exceptions", "RCAPTURE", rcapture_body("sim:finger", &["Left Thumb"], &[], 3, 40, 5_000), "109"),
        ("bad transaction id", "RCAPTURE", with(thumb(), "transactionId", json!("no spaces allowed")), "112"),
        ("authentication capture needs an L1 device", "CAPTURE", with(thumb(), "purpose", json!("Auth")), "503"),
    ];
    for (wrong, method, body, code) in cases {
        let resp = svc.json(method, "/capture", body).await;
        assert_eq!(error_code(&resp), code, "{wrong}: {resp}");
        if wrong == "unknown bioSubType" {
            assert!(resp["biometrics"][0]["error"]["errorInfo"].as_str().unwrap().contains("Left Pinky"));
        }
    }
    // Discovery with a type SBI does not have.
    let resp = svc.call("MOSIPDISC", "/device", r#"{"type":"Palm"}"#).await;
    assert_eq!(resp.status(), 400);
    let resp: ErrorOnlyResponse = resp.json().await.unwrap();
    assert_eq!(resp.error.error_code, SbiErrorCode::InvalidRequest);
    // Unknown method or path.
    let resp = svc.call("MOSIPDISC", "/nowhere", "").await;
    assert_eq!(resp.status(), 404);
    let resp: ErrorOnlyResponse = resp.json().await.unwrap();
    assert_eq!(resp.error.error_code, SbiErrorCode::InvalidUrl);
    let resp = svc.call("GET", "/device", "").await;
    assert_eq!(resp.status(), 404);
    // STREAM of an unknown device.
    let resp: StreamErrorResponse = svc
        .call(
            "STREAM",
            "/stream",
            r#"{"deviceId":"nope","deviceSubId":"0"}"#,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(resp.error.error_code, SbiErrorCode::DeviceNotFound);
}

/// Binds 127.0.0.1:4501, retrying for up to 30 s; `None` when something else holds it throughout.
async fn hold_port_4501() -> Option<tokio::net::TcpListener> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        match tokio::net::TcpListener::bind(("127.0.0.1", 4501)).await {
            Ok(listener) => return Some(listener),
            Err(_) if std::time::Instant::now() < deadline => {
                tokio::time::sleep(std::time::Duration::from_millis(20)).await
            }
            Err(_) => return None,
        }
    }
}

#[tokio::test]
async fn port_falls_back_when_4501_is_taken_and_a_full_range_is_a_clear_error() {
    // 4501 must be taken while our service starts. The other tests in this binary run in
    // parallel and their services bind 4501 for a moment, so a single failed bind proves
    // nothing: the port may be free again when our service starts (CI saw exactly that).
    // Take it ourselves, waiting out the other tests; a port held for the whole wait is held
    // by something outside this test binary, which makes it just as taken.
    let _held = hold_port_4501().await;
    let svc = Service::start().await;
    assert!(
        (4502..=4600).contains(&svc.running.port),
        "bound {}",
        svc.running.port
    );
    let devices: Vec<DiscoveredDevice> = svc
        .call("MOSIPDISC", "/device", "")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        devices[0].callback_id,
        format!("http://127.0.0.1:{}/", svc.running.port)
    );

    // A range whose only port is taken.
    let taken = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .unwrap();
    let port = taken.local_addr().unwrap().port();
    let keys = tempfile::tempdir().unwrap();
    let mut config = sbi::SbiConfig::new(keys.path());
    config.port_range = port..=port;
    let registry = sbi::Registry::new(DeviceManager::empty(), None);
    let err = sbi::start(config, registry)
        .await
        .err()
        .expect("no port to bind");
    let text = err.to_string();
    assert!(
        text.contains(&format!("no free port on 127.0.0.1 in {port}-{port}")),
        "{text}"
    );
}

#[tokio::test]
async fn stream_delivers_jpeg_parts() {
    let svc = Service::start().await;
    for device in ["sim:camera", "sim:finger"] {
        let mut resp = svc
            .call(
                "STREAM",
                "/stream",
                json!({"deviceId": device, "deviceSubId": "0", "timeout": 10_000}).to_string(),
            )
            .await;
        assert_eq!(resp.status(), 200);
        let content_type = resp.headers()["content-type"].to_str().unwrap().to_owned();
        assert_eq!(
            content_type,
            "multipart/x-mixed-replace; boundary=mosipframe"
        );
        let mut seen = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(8);
        let mut parts = 0;
        while parts < 3 && Instant::now() < deadline {
            let Some(chunk) = tokio::time::timeout(Duration::from_secs(5), resp.chunk())
                .await
                .unwrap()
                .unwrap()
            else {
                break;
            };
            seen.extend_from_slice(&chunk);
            parts = jpeg_parts(&seen).len();
        }
        let jpegs = jpeg_parts(&seen);
        assert!(jpegs.len() >= 2, "{device}: {} parts", jpegs.len());
        for jpeg in jpegs.iter().take(2) {
            let img = image::load_from_memory_with_format(jpeg, image::ImageFormat::Jpeg)
                .expect("a real JPEG");
            assert!(img.width() > 100 && img.height() > 100);
        }
        drop(resp);
    }
}

/// The complete JPEG bodies of a multipart stream read so far.
fn jpeg_parts(stream: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut rest = stream;
    let marker = b"Content-Length: ";
    while let Some(pos) = find(rest, marker) {
        let after = &rest[pos + marker.len()..];
        let Some(eol) = find(after, b"\r\n\r\n") else {
            break;
        };
        let len: usize = std::str::from_utf8(&after[..eol])
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        let body = &after[eol + 4..];
        if body.len() < len {
            break;
        }
        out.push(body[..len].to_vec());
        rest = &body[len..];
    }
    out
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

#[tokio::test]
async fn face_rcapture_uses_the_face_pipeline() {
    let svc = Service::start().await;
    let body = json!({
        "env": "Developer", "purpose": "Registration", "specVersion": "0.9.5", "timeout": 15_000,
        "transactionId": "test-face-0001",
        "bio": [{"type": "Face", "count": 1, "requestedScore": 40, "deviceId": "sim:camera", "deviceSubId": "0", "previousHash": ""}]
    });
    let resp: CaptureResponse = svc
        .call("RCAPTURE", "/capture", body.to_string())
        .await
        .json()
        .await
        .unwrap();
    let b = &resp.biometrics[0];
    if b.error.error_code == SbiErrorCode::QualityUnavailable {
        eprintln!("skipping face capture check: {} (set ORT_DYLIB_PATH, see scripts/fetch-onnxruntime.sh)", b.error.error_info);
        return;
    }
    assert!(b.error.is_success(), "{:?}", b.error);
    let data: CaptureData =
        serde_json::from_slice(&sbi::verify_jws(&b.data, &svc.certificate()).unwrap()).unwrap();
    assert_eq!(data.bio_type, DeviceType::Face);
    assert!(data.quality_score > 0.0);
    let iso = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(&data.bio_value)
        .unwrap();
    let record = sbi::iso::parse_face_record(&iso).unwrap();
    let img = image::load_from_memory_with_format(&record.image, image::ImageFormat::Jpeg).unwrap();
    assert_eq!(
        (img.width(), img.height()),
        (u32::from(record.width), u32::from(record.height))
    );
}
