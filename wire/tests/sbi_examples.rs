//! Round-trip tests of the MOSIP SBI dialect: every example under `tests/examples/sbi/` parses into
//! its `wire::sbi` type and serialises back to the same JSON.

use std::path::{Path, PathBuf};

use base64::Engine;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use wire::sbi::*;

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/examples/sbi")
}

fn read(file: &str) -> Value {
    let text =
        std::fs::read_to_string(examples().join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{file} is not JSON: {e}"))
}

fn round_trip<T: DeserializeOwned + Serialize>(file: &str) -> T {
    let original = read(file);
    let typed: T = serde_json::from_value(original.clone())
        .unwrap_or_else(|e| panic!("{file} does not parse: {e}"));
    let back = serde_json::to_value(&typed).unwrap();
    assert_eq!(back, original, "{file} changed in the round trip");
    typed
}

/// The payload of a compact JWS, decoded.
fn jws_payload<T: DeserializeOwned>(jws: &str) -> T {
    let parts: Vec<&str> = jws.split('.').collect();
    assert_eq!(parts.len(), 3, "a compact JWS has three parts");
    let header: JwsHeader = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(parts[0])
            .unwrap(),
    )
    .unwrap();
    assert_eq!(header.alg, "RS256");
    let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(parts[1])
        .unwrap();
    serde_json::from_slice(&payload).unwrap()
}

#[test]
fn every_example_file_is_covered() {
    let covered = [
        "capture-data.payload.json",
        "capture.request.json",
        "device-info.payload.json",
        "digital-id.payload.json",
        "discover.request.json",
        "discover.response.json",
        "error-invalid-request.response.json",
        "info.response.json",
        "jws-header.json",
        "rcapture-busy.response.json",
        "rcapture-face.request.json",
        "rcapture.request.json",
        "rcapture.response.json",
        "stream-error.response.json",
        "stream.request.json",
    ];
    for entry in std::fs::read_dir(examples()).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        assert!(
            covered.contains(&name.as_str()),
            "{name} has no round-trip test"
        );
    }
}

#[test]
fn discovery() {
    let req: DiscoverRequest = round_trip("discover.request.json");
    assert_eq!(req.kind, DeviceType::BiometricDevice);
    let devices: Vec<DiscoveredDevice> = round_trip("discover.response.json");
    assert_eq!(devices[0].device_sub_id, vec![0]);
    assert_eq!(devices[1].device_status, DeviceStatus::Busy);
    assert_eq!(devices[1].error.error_code, SbiErrorCode::DeviceBusy);
    // The unsigned digital id is the base64url JSON of a DigitalId.
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(&devices[0].digital_id)
        .unwrap();
    let id: DigitalId = serde_json::from_slice(&raw).unwrap();
    assert_eq!(id.serial_no, devices[0].device_code);
}

#[test]
fn device_info_and_digital_id() {
    let entries: Vec<DeviceInfoEntry> = round_trip("info.response.json");
    let info: DeviceInfo = jws_payload(&entries[0].device_info);
    assert_eq!(info.certification, Certification::L0);
    assert_eq!(info.purpose, Purpose::Registration);
    let _: DeviceInfo = round_trip("device-info.payload.json");
    let id: DigitalId = round_trip("digital-id.payload.json");
    assert_eq!(id.kind, DeviceType::Finger);
    let header: JwsHeader = round_trip("jws-header.json");
    assert_eq!(header.x5c.len(), 1);
}

#[test]
fn registration_capture() {
    let req: CaptureRequest = round_trip("rcapture.request.json");
    let bio = &req.bio[0];
    assert_eq!(bio.count, 2);
    assert_eq!(
        bio.exception.as_deref(),
        Some(&[BioSubType::Finger(FingerPosition::LeftRing)][..])
    );
    assert!(valid_transaction_id(&req.transaction_id));
    let face: CaptureRequest = round_trip("rcapture-face.request.json");
    assert_eq!(face.bio[0].kind, DeviceType::Face);
    assert!(face.bio[0].bio_sub_type.is_none());

    let resp: CaptureResponse = round_trip("rcapture.response.json");
    let data: CaptureData = jws_payload(&resp.biometrics[1].data);
    assert_eq!(data.quality_score, 71.5);
    let payload: CaptureData = round_trip("capture-data.payload.json");
    assert_eq!(payload.requested_score, 40.0);
    let busy: CaptureResponse = round_trip("rcapture-busy.response.json");
    assert_eq!(
        busy.biometrics[0].error.error_code,
        SbiErrorCode::DeviceBusy
    );
}

/// Auth capture as some clients send it, every number a string: read leniently, written back
/// with numbers as numbers.
#[test]
fn auth_capture_with_numbers_as_strings() {
    let original = read("capture.request.json");
    let req: CaptureRequest = serde_json::from_value(original).unwrap();
    assert_eq!(req.timeout, 10_000);
    assert_eq!(req.bio[0].count, 1);
    assert_eq!(req.bio[0].requested_score, 60.0);
    assert_eq!(
        req.bio[0].bio_sub_type.as_deref(),
        Some(&[BioSubType::Unknown][..])
    );
    let back = serde_json::to_value(&req).unwrap();
    assert_eq!(back["timeout"], 10_000);
    assert_eq!(back["bio"][0]["deviceSubId"], "0");
    let again: CaptureRequest = serde_json::from_value(back).unwrap();
    assert_eq!(again, req);
}

#[test]
fn stream_and_errors() {
    let req: StreamRequest = round_trip("stream.request.json");
    assert_eq!(req.timeout, Some(30_000));
    let err: StreamErrorResponse = round_trip("stream-error.response.json");
    assert_eq!(err.error.error_code, SbiErrorCode::DeviceNotFound);
    let err: ErrorOnlyResponse = round_trip("error-invalid-request.response.json");
    assert_eq!(err.error.error_code, SbiErrorCode::InvalidRequest);
}

#[test]
fn unknown_enum_values_are_refused_or_kept() {
    assert!(serde_json::from_str::<DiscoverRequest>(r#"{"type":"Palm"}"#).is_err());
    let bio: BioRequest = serde_json::from_str(
        r#"{"type":"Finger","count":1,"bioSubType":["Left Pinky"],"requestedScore":40,"deviceId":"d","deviceSubId":0}"#,
    )
    .unwrap();
    assert_eq!(
        bio.bio_sub_type.unwrap()[0],
        BioSubType::Unrecognised("Left Pinky".into())
    );
}
