//! Round-trip tests: every example body parses into its wire type and serialises back to the
//! same JSON (field names, casing, envelopes), and the invalid examples are refused.

use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use wire::gbds::{TokenRequest, TokenResponse};
use wire::search::MatchResult;
use wire::spid::*;
use wire::{Envelope, ErrorResponse};

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/examples")
}

fn round_trip<T: DeserializeOwned + Serialize>(file: &str) -> T {
    let text = std::fs::read_to_string(examples().join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
    let original: Value = serde_json::from_str(&text).unwrap();
    let typed: T = serde_json::from_value(original.clone()).unwrap_or_else(|e| panic!("{file} does not parse: {e}"));
    let back = serde_json::to_value(&typed).unwrap();
    assert_eq!(strip_nulls(back), strip_nulls(original), "{file} changed in the round trip");
    typed
}

/// `"x": null` and an absent `x` mean the same on the wire; compare without them.
fn strip_nulls(v: Value) -> Value {
    match v {
        Value::Object(map) => Value::Object(map.into_iter().filter(|(_, v)| !v.is_null()).map(|(k, v)| (k, strip_nulls(v))).collect()),
        Value::Array(items) => Value::Array(items.into_iter().map(strip_nulls).collect()),
        other => other,
    }
}

#[test]
fn every_example_file_is_covered() {
    let covered = [
        "enroll-result-ok.response.json", "enroll-result-rejected.response.json", "enroll.request.json",
        "enroll.response.json", "enroll-full.request.json", "error-bad-index.response.json",
        "error-not-found.response.json", "error-unauthorized.response.json", "gbds-token.request.json",
        "gbds-token-renew.request.json", "gbds-token.response.json", "operator-insert.request.json",
        "operator-insert-with-credentials.request.json", "operator-get.response.json", "operator-list.response.json",
        "person.response.json", "remote-biometrics.response.json", "remote-enroll.request.json",
        "remote-enroll.response.json", "remote-finish.request.json", "remote-notification.request.json",
        "status.response.json", "transaction-data.response.json", "verify.response.json",
        "verify-match.response.json", "verify-failed.response.json", "enroll-result-duplicate.response.json",
    ];
    for entry in std::fs::read_dir(examples()).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if name.ends_with(".json") {
            assert!(covered.contains(&name.as_str()), "{name} has no round-trip test");
        }
    }
}

#[test]
fn enrollments_round_trip() {
    let tx: Envelope<UserTransaction> = round_trip("enroll.request.json");
    assert_eq!(tx.data.biometrics.len(), 3);
    assert_eq!(tx.data.missing_biometrics[0].kind, MissingType::Amputated);
    let full: Envelope<UserTransaction> = round_trip("enroll-full.request.json");
    assert_eq!(full.data.biographics[0].value, "JOÃO PEREIRA");
    assert_eq!(full.data.missing_biometrics[1].kind, MissingType::Bandaged);
    wire::validate::validate_transaction(&full.data, &Default::default()).unwrap();
}

#[test]
fn results_round_trip() {
    let r: ExternalResult = round_trip("enroll.response.json");
    assert_eq!(r.status, TransactionStatus::EnrollEnqueued);
    assert!(!r.status.is_final());
    let r: ExternalResult = round_trip("enroll-result-ok.response.json");
    assert!(r.status.is_final());
    let r: ExternalResult = round_trip("enroll-result-rejected.response.json");
    assert_eq!(r.status, TransactionStatus::EnrollRejected);
    let r: ExternalResult = round_trip("verify.response.json");
    assert_eq!(r.status, TransactionStatus::SearchMatch);
    let t: TransactionData = round_trip("transaction-data.response.json");
    assert_eq!(t.kind, TransactionType::Enroll);
}

#[test]
fn person_round_trips() {
    let p: Person = round_trip("person.response.json");
    assert_eq!(p.enroll_status, EnrollStatus::Enrolled);
    assert_eq!(p.keys[0].id, "CPF");
}

#[test]
fn errors_round_trip() {
    let e: ErrorResponse = round_trip("error-bad-index.response.json");
    assert_eq!(e.first_code(), Some("SPID-VAL-BIOMETRIC-INDEX"));
    let _: ErrorResponse = round_trip("error-not-found.response.json");
    let _: ErrorResponse = round_trip("error-unauthorized.response.json");
}

#[test]
fn operators_tokens_status_and_remote_round_trip() {
    let _: Envelope<OperatorInsert> = round_trip("operator-insert.request.json");
    let op: Envelope<OperatorInsert> = round_trip("operator-insert-with-credentials.request.json");
    assert_eq!(op.data.role, Some(OperatorRole::Operator));
    let _: OperatorEnrollPayload = round_trip("operator-get.response.json");
    let list: Vec<OperatorListItem> = round_trip("operator-list.response.json");
    assert_eq!(list[1].status, OperatorStatus::Pending);
    let _: Envelope<TokenRequest> = round_trip("gbds-token.request.json");
    let _: Envelope<TokenRequest> = round_trip("gbds-token-renew.request.json");
    let _: Envelope<TokenResponse> = round_trip("gbds-token.response.json");
    let s: Envelope<SystemStatus> = round_trip("status.response.json");
    assert_eq!(s.data.gbds_status, ServiceState::Active);
    let _: Envelope<TransactionIdentifier> = round_trip("remote-enroll.request.json");
    let _: RemoteCaptureResponse = round_trip("remote-enroll.response.json");
    let _: FinishRemoteCapture = round_trip("remote-finish.request.json");
    let _: RemoteCaptureNotification = round_trip("remote-notification.request.json");
    let b: Biometric = round_trip("remote-biometrics.response.json");
    assert!(b.index.is_face());
}

#[test]
fn invalid_examples_are_refused_naming_the_field() {
    for (file, needle) in [
        ("invalid/enroll-unknown-index.request.json", "99 is not a valid biometric index"),
        ("invalid/enroll-unknown-missing-type.request.json", "LOST"),
        ("invalid/enroll-without-user-id.request.json", "missing field `userId`"),
    ] {
        let text = std::fs::read_to_string(examples().join(file)).unwrap();
        let err = serde_json::from_str::<Envelope<UserTransaction>>(&text).unwrap_err().to_string();
        assert!(err.contains(needle), "{file}: {err}");
    }
}

/// Like [`round_trip`], but through JSON text: scores are `f32`, which serde_json writes in
/// their shortest form (`17.85`) while `to_value` would widen them to `17.850000381469727`.
fn round_trip_text<T: DeserializeOwned + Serialize>(file: &str) -> T {
    let text = std::fs::read_to_string(examples().join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
    let typed: T = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{file} does not parse: {e}"));
    let back: Value = serde_json::from_str(&serde_json::to_string(&typed).unwrap()).unwrap();
    assert_eq!(strip_nulls(back), strip_nulls(serde_json::from_str(&text).unwrap()), "{file} changed in the round trip");
    typed
}

#[test]
fn match_results_round_trip() {
    let v: MatchResult = round_trip_text("verify-match.response.json");
    assert_eq!(v.status, TransactionStatus::SearchMatch);
    assert_eq!(v.candidates[0].match_info.len(), 2);
    assert_eq!(v.matched_indexes(), vec![wire::BiometricIndex::LeftIndex, wire::BiometricIndex::RightIndex]);
    let failed: MatchResult = round_trip_text("verify-failed.response.json");
    assert_eq!((failed.status, failed.threshold, failed.candidates.len()), (TransactionStatus::SearchFailed, None, 0));
    // A MatchResult is an ExternalResult with more fields: plain SPID clients can read it.
    let plain: ExternalResult = serde_json::from_str(&std::fs::read_to_string(examples().join("verify-match.response.json")).unwrap()).unwrap();
    assert_eq!(plain, v.external());
    let dup: MatchResult = round_trip_text("enroll-result-duplicate.response.json");
    assert_eq!((dup.status, dup.candidates[0].key.as_str()), (TransactionStatus::EnrollRejected, "52998224725"));
}
