//! Griaule SPID Server API 4.2.12 (`/gbs-spid-server`), as the station and our server speak it.
//!
//! Field names follow the vendor spec exactly — camelCase in transactions, kebab-case in the
//! person record, capital `ID` in `TransactionIdentifier` — because real SPID clients depend on
//! them. Extensions we added are marked `[inf]` and are optional on input.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::BiometricIndex;

/// One captured biometric sample.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Biometric {
    pub index: BiometricIndex,
    /// Base64 (standard alphabet) of the image file: PNG, JPEG or WSQ.
    pub content: String,
    /// Image width in pixels; must match the image.
    pub width: u32,
    /// Image height in pixels; must match the image.
    pub height: u32,
    /// Pixels per inch (500 for fingerprints; cameras send their nominal value).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolution: Option<u32>,
}

/// Why a biometric could not be captured.
///
/// `AMPUTATED` is documented; the rest follow the OSIA exception set plus a catch-all [inf].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum MissingType {
    Amputated,
    Bandaged,
    Damaged,
    UnableToCapture,
}

impl MissingType {
    /// Every accepted value, for pickers in the UI.
    pub const ALL: [MissingType; 4] =
        [MissingType::Amputated, MissingType::Bandaged, MissingType::Damaged, MissingType::UnableToCapture];

    /// The wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            MissingType::Amputated => "AMPUTATED",
            MissingType::Bandaged => "BANDAGED",
            MissingType::Damaged => "DAMAGED",
            MissingType::UnableToCapture => "UNABLE_TO_CAPTURE",
        }
    }
}

/// A position that could not be captured, with the operator's reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct MissingBiometric {
    pub index: BiometricIndex,
    #[serde(rename = "type")]
    pub kind: MissingType,
    #[serde(default)]
    pub reason: String,
}

/// An `{id, value}` pair: person keys (CPF, …) and biographic fields (NAME, BIRTH_DATE, …).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct KeyValue {
    pub id: String,
    pub value: String,
}

/// Body of enroll and verify (`UserTransaction`, wrapped in `{"data": …}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserTransaction {
    #[serde(default)]
    pub biometrics: Vec<Biometric>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missing_biometrics: Vec<MissingBiometric>,
    /// The subject's key (CPF in Brazil).
    pub user_id: String,
    /// The operator who captured.
    pub operator_id: String,
    /// Capture time, epoch milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<i64>,
    /// Biographic fields (NAME, BIRTH_DATE, …) [inf: accepted from the deprecated enroll model so
    /// the person record can carry them].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub biographics: Vec<KeyValue>,
}

/// Status of a transaction (`ExternalResult.status`); see spid.md §10.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TransactionStatus {
    Ok,
    Error,
    EnrollEnqueued,
    EnrollPending,
    EnrollOk,
    EnrollRejected,
    EnrollFailed,
    SearchEnqueued,
    SearchPending,
    SearchMatch,
    SearchNotMatch,
    SearchFailed,
    DeleteEnqueued,
    DeleteOk,
    DeleteFailed,
}

impl TransactionStatus {
    /// The wire spelling, also used as the database value.
    pub fn as_str(self) -> &'static str {
        match self {
            TransactionStatus::Ok => "OK",
            TransactionStatus::Error => "ERROR",
            TransactionStatus::EnrollEnqueued => "ENROLL_ENQUEUED",
            TransactionStatus::EnrollPending => "ENROLL_PENDING",
            TransactionStatus::EnrollOk => "ENROLL_OK",
            TransactionStatus::EnrollRejected => "ENROLL_REJECTED",
            TransactionStatus::EnrollFailed => "ENROLL_FAILED",
            TransactionStatus::SearchEnqueued => "SEARCH_ENQUEUED",
            TransactionStatus::SearchPending => "SEARCH_PENDING",
            TransactionStatus::SearchMatch => "SEARCH_MATCH",
            TransactionStatus::SearchNotMatch => "SEARCH_NOT_MATCH",
            TransactionStatus::SearchFailed => "SEARCH_FAILED",
            TransactionStatus::DeleteEnqueued => "DELETE_ENQUEUED",
            TransactionStatus::DeleteOk => "DELETE_OK",
            TransactionStatus::DeleteFailed => "DELETE_FAILED",
        }
    }

    /// Parses the wire spelling.
    pub fn parse(s: &str) -> Option<Self> {
        serde_json::from_value(serde_json::Value::String(s.to_owned())).ok()
    }

    /// True once the server will not change the status any more by itself.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            TransactionStatus::Ok
                | TransactionStatus::Error
                | TransactionStatus::EnrollOk
                | TransactionStatus::EnrollRejected
                | TransactionStatus::EnrollFailed
                | TransactionStatus::SearchMatch
                | TransactionStatus::SearchNotMatch
                | TransactionStatus::SearchFailed
                | TransactionStatus::DeleteOk
                | TransactionStatus::DeleteFailed
        )
    }
}

/// Answer of enroll, verify, delete and their result polls.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ExternalResult {
    /// Transaction GUID (TGUID), the handle to poll.
    pub id: String,
    pub message: String,
    pub status: TransactionStatus,
}

/// Enrollment state of a person record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum EnrollStatus {
    Enqueued,
    Processing,
    Enrolled,
    Exception,
    Failed,
    Pending,
}

impl EnrollStatus {
    /// The wire spelling, also used as the database value.
    pub fn as_str(self) -> &'static str {
        match self {
            EnrollStatus::Enqueued => "ENQUEUED",
            EnrollStatus::Processing => "PROCESSING",
            EnrollStatus::Enrolled => "ENROLLED",
            EnrollStatus::Exception => "EXCEPTION",
            EnrollStatus::Failed => "FAILED",
            EnrollStatus::Pending => "PENDING",
        }
    }

    /// Parses the wire spelling.
    pub fn parse(s: &str) -> Option<Self> {
        serde_json::from_value(serde_json::Value::String(s.to_owned())).ok()
    }
}

/// Approval block of a person record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Approvement {
    #[serde(default)]
    pub comments: String,
    /// `PENDING` is documented; we also use `APPROVED` and `REJECTED` [inf].
    pub status: String,
    /// ISO 8601 date-time.
    pub timestamp: String,
    #[serde(default)]
    pub user: String,
}

/// A person as `GET /people/{key}` returns it (kebab-case, as documented).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct Person {
    pub approvement: Approvement,
    /// Auxiliary captures (audio, extra images); kept opaque, we never create them.
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    pub auxiliaries: Vec<serde_json::Value>,
    #[serde(default)]
    pub biographics: Vec<KeyValue>,
    #[serde(default)]
    pub biometrics: Vec<Biometric>,
    /// Positions declared missing at enrollment [inf: not in the documented sample].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missing_biometrics: Vec<MissingBiometric>,
    pub enroll_status: EnrollStatus,
    #[serde(default)]
    pub keys: Vec<KeyValue>,
    #[serde(default)]
    pub labels: Vec<String>,
    #[serde(default)]
    pub metadata: String,
    pub person_guid: String,
    /// ISO 8601 date-time of enrollment.
    pub timestamp: String,
    pub transaction_guid: String,
}

/// Kind of a transaction (`ENROLL` documented, the rest [inf]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TransactionType {
    Enroll,
    Verify,
    Delete,
    RemoteEnroll,
    RemoteVerify,
}

impl TransactionType {
    /// The wire spelling, also used as the database value.
    pub fn as_str(self) -> &'static str {
        match self {
            TransactionType::Enroll => "ENROLL",
            TransactionType::Verify => "VERIFY",
            TransactionType::Delete => "DELETE",
            TransactionType::RemoteEnroll => "REMOTE_ENROLL",
            TransactionType::RemoteVerify => "REMOTE_VERIFY",
        }
    }

    /// Parses the wire spelling.
    pub fn parse(s: &str) -> Option<Self> {
        serde_json::from_value(serde_json::Value::String(s.to_owned())).ok()
    }
}

/// `GET /transaction/biometrics/{tguid}`: a transaction with its biometrics.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TransactionData {
    pub id: String,
    pub user_id: String,
    pub operator_id: String,
    #[serde(rename = "type")]
    pub kind: TransactionType,
    pub status: TransactionStatus,
    pub timestamp: i64,
    pub psbio_tcn: Option<String>,
    pub biometrics: Vec<Biometric>,
}

/// Lifecycle of an operator record (values from the seed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OperatorStatus {
    Verified,
    GodMode,
    Pending,
    Exception,
    Enqueued,
    Deleted,
}

impl OperatorStatus {
    /// The wire spelling, also used as the database value.
    pub fn as_str(self) -> &'static str {
        match self {
            OperatorStatus::Verified => "VERIFIED",
            OperatorStatus::GodMode => "GOD_MODE",
            OperatorStatus::Pending => "PENDING",
            OperatorStatus::Exception => "EXCEPTION",
            OperatorStatus::Enqueued => "ENQUEUED",
            OperatorStatus::Deleted => "DELETED",
        }
    }

    /// Parses the wire spelling.
    pub fn parse(s: &str) -> Option<Self> {
        serde_json::from_value(serde_json::Value::String(s.to_owned())).ok()
    }
}

/// What an operator may do [inf: SPID has roles but does not document them].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OperatorRole {
    /// Captures and submits enrollments.
    Operator,
    /// Also manages operators, approves remote captures and adjudicates exceptions.
    Admin,
}

impl OperatorRole {
    /// The wire spelling, also used as the database value.
    pub fn as_str(self) -> &'static str {
        match self {
            OperatorRole::Operator => "OPERATOR",
            OperatorRole::Admin => "ADMIN",
        }
    }

    /// Parses the wire spelling.
    pub fn parse(s: &str) -> Option<Self> {
        serde_json::from_value(serde_json::Value::String(s.to_owned())).ok()
    }
}

/// `POST /operator` body (inside `data`). `document` is documented; `password` and `role` are
/// our extension [inf] so the operator can log in through `/gbds/v2/tokens`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct OperatorInsert {
    pub document: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<OperatorRole>,
}

/// One row of `GET /operator/list`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct OperatorListItem {
    pub document: String,
    pub status: OperatorStatus,
    pub tguid: Option<String>,
}

/// `GET /operator/{key}` answer and `PUT /operator` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct OperatorEnrollPayload {
    pub document: String,
    #[serde(default)]
    pub biometrics: Vec<Biometric>,
    pub status: OperatorStatus,
    pub tguid: Option<String>,
    /// The operator's role [inf].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<OperatorRole>,
}

/// `ACTIVE` / `INACTIVE` of one back-end service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ServiceState {
    Active,
    Inactive,
}

/// `GET /status` payload (wrapped in `data`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SystemStatus {
    pub psbio_status: ServiceState,
    pub spidx_status: ServiceState,
    pub gbds_status: ServiceState,
    pub idn_status: ServiceState,
}

/// Body of remote-capture creation (note the capital `ID`, as documented).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TransactionIdentifier {
    #[serde(rename = "clientID")]
    pub client_id: String,
    #[serde(rename = "operatorID")]
    pub operator_id: String,
    #[serde(rename = "clientEmail", default, skip_serializing_if = "Option::is_none")]
    pub client_email: Option<String>,
}

/// Answer of remote-capture creation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RemoteCaptureResponse {
    pub tguid: String,
    pub dynamic_link: String,
}

/// Body of `finishRemoteCapture`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FinishRemoteCapture {
    pub approval: bool,
}

/// Body of `notificationRemoteCapture`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RemoteCaptureNotification {
    pub guid: String,
}

/// Lifecycle of a remote capture [inf: the vendor documents the calls, not the states].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RemoteCaptureStatus {
    /// The link was created; the subject has not completed the phone capture yet.
    AwaitingCapture,
    /// The phone page stored a capture that passed quality and liveness; an admin must decide.
    AwaitingApproval,
    /// An admin approved; an enroll becomes a normal enrollment transaction with the same tguid.
    Approved,
    /// An admin rejected (the reason is kept).
    Rejected,
    /// The link outlived its TTL before the capture was decided.
    Expired,
}

impl RemoteCaptureStatus {
    /// The wire spelling, also used as the database value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AwaitingCapture => "AWAITING_CAPTURE",
            Self::AwaitingApproval => "AWAITING_APPROVAL",
            Self::Approved => "APPROVED",
            Self::Rejected => "REJECTED",
            Self::Expired => "EXPIRED",
        }
    }

    /// Parses the wire spelling.
    pub fn parse(s: &str) -> Option<Self> {
        serde_json::from_value(serde_json::Value::String(s.to_owned())).ok()
    }
}

/// Body of `finishRemoteCapture` with our optional `reason` [inf], kept with a rejection so the
/// subject can be told why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RemoteCaptureDecision {
    pub approval: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// One row of the admin listing `GET /remote-capture/pending` [inf].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RemoteCaptureSummary {
    pub tguid: String,
    /// `REMOTE_ENROLL` or `REMOTE_VERIFY`.
    #[serde(rename = "type")]
    pub kind: TransactionType,
    pub status: RemoteCaptureStatus,
    #[serde(rename = "clientID")]
    pub client_id: String,
    #[serde(rename = "operatorID")]
    pub operator_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_email: Option<String>,
    /// ISO 8601 creation time.
    pub created_at: String,
    /// ISO 8601 time after which the link no longer works.
    pub expires_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub captured_at: Option<String>,
    /// Face quality 0..100 of the stored capture (the face pipeline's frame score).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub face_quality: Option<f32>,
    /// Inter-eye distance in the phone frame, pixels (ICAO full frontal wants ≥ 90).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eye_distance: Option<f32>,
    /// `ACTIVE` (blink/turn challenge) or `PASSIVE` (motion and repeated-frame cues only).
    pub liveness_mode: String,
    /// `LIVE` once a capture is stored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub liveness_decision: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub liveness_score: Option<f32>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub liveness_feedback: Vec<String>,
    /// Liveness attempts on the phone that ended as SPOOF before the stored capture.
    pub spoof_attempts: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// One quality problem of a phone frame, as the face pipeline reports it (AwareID-style feedback).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct FrameFeedbackItem {
    /// Stable code, e.g. `TOO_FAR`, `LOOK_STRAIGHT`, `NO_FACE`.
    pub code: String,
    /// What to tell the subject.
    pub prompt: String,
}

/// Liveness progress shown on the phone page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RemoteLivenessProgress {
    /// `ACTIVE` or `PASSIVE`.
    pub mode: String,
    /// The challenge being asked (`BLINK`, `TURN_LEFT`, `TURN_RIGHT`), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub challenge: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt: Option<String>,
    /// Checks completed / needed.
    pub completed: u32,
    pub total: u32,
    /// The decision once the attempt ended (`LIVE`, `SPOOF`, `UNABLE_TO_CALCULATE_LIVENESS`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub feedback: Vec<String>,
}

/// Answer of `POST /rc/{token}/frames` [inf]: what the phone page shows after each frame.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RemoteFrameResult {
    /// `CAPTURING` (keep sending), `RETRY` (liveness failed; the attempt restarts) or `CAPTURED`
    /// (stored; stop the camera).
    pub state: String,
    /// Sequence number of this frame in the current attempt.
    pub frame: u32,
    /// True when the frame passed every quality check.
    pub compliant: bool,
    pub feedback: Vec<FrameFeedbackItem>,
    /// The one line to show now.
    pub prompt: String,
    /// Face box in the frame as fractions `[x, y, w, h]` of its size, for the overlay.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub face_box: Option<[f32; 4]>,
    /// Consecutive compliant frames so far / needed for autocapture.
    pub streak: u32,
    pub streak_needed: u32,
    pub liveness: RemoteLivenessProgress,
    /// The transaction id, once captured (for the `notification` ping).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tguid: Option<String>,
}
