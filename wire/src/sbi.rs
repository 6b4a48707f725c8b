//! MOSIP Secure Biometric Interface (SBI 1.0, formerly MDS 0.9.5): the JSON a local device
//! service exchanges with MOSIP registration clients over HTTP on 127.0.0.1:4501–4600.
//!
//! The calls are HTTP requests with custom methods: `MOSIPDISC /device` ([`DiscoverRequest`] →
//! `Vec<`[`DiscoveredDevice`]`>`), `MOSIPDINFO /info` (→ `Vec<`[`DeviceInfoEntry`]`>`, each a JWS
//! over [`DeviceInfo`]), `RCAPTURE /capture` and `CAPTURE /capture` ([`CaptureRequest`] →
//! [`CaptureResponse`], each biometric a JWS over [`CaptureData`]) and `STREAM /stream`
//! ([`StreamRequest`] → multipart JPEG, or [`StreamErrorResponse`]).
//!
//! The spec's examples show every value as a string; MOSIP's own mock service (what registration
//! clients are tested against) sends strings for numbers too (`"deviceSubId": ["0"]`,
//! `"qualityScore": "80"`, `"errorCode": "0"`). So these types *read* numbers either as JSON
//! numbers or as numeric strings, and *write* response values the way that mock does. Request
//! types write numbers as JSON numbers (how the registration client sends them). Choices the
//! spec leaves open are listed in `docs/devices/sbi.md`.

use std::fmt;
use std::str::FromStr;

use serde::de::Deserializer;
use serde::{Deserialize, Serialize, Serializer};

/// The SBI version this crate speaks; element 0 of every `specVersion` array.
pub const SPEC_VERSION: &str = "0.9.5";

/// `type` of a discovery request and of a biometric: which modality.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum DeviceType {
    /// Any device ("Biometric Device"): discovery only.
    #[serde(rename = "Biometric Device")]
    BiometricDevice,
    /// Fingerprint scanner / finger biometric.
    Finger,
    /// Face camera / face biometric.
    Face,
    /// Iris camera / iris biometric (we have none, but clients ask for it).
    Iris,
}

impl DeviceType {
    /// The wire spelling, for error messages.
    pub fn as_str(self) -> &'static str {
        match self {
            DeviceType::BiometricDevice => "Biometric Device",
            DeviceType::Finger => "Finger",
            DeviceType::Face => "Face",
            DeviceType::Iris => "Iris",
        }
    }
}

/// `deviceStatus`: what a client may do with the device now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DeviceStatus {
    /// Connected and idle.
    Ready,
    /// A capture or stream is running on it.
    Busy,
    /// Present but not usable (failed to open, vanished).
    #[serde(rename = "Not Ready")]
    NotReady,
    /// No device key/certificate yet.
    #[serde(rename = "Not Registered")]
    NotRegistered,
}

/// `certification`: L0 = software trust on the host (what we are), L1 = FTM chip.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Certification {
    /// Keys and signing in host software.
    L0,
    /// Keys and signing in a Foundational Trust Module.
    L1,
}

/// `purpose`: registration devices answer RCAPTURE and STREAM, auth devices CAPTURE. The empty
/// string is what an unregistered device reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Purpose {
    /// Enrolment (RCAPTURE, STREAM).
    Registration,
    /// Authentication (CAPTURE).
    Auth,
    /// Not registered.
    #[serde(rename = "")]
    Unregistered,
}

/// A finger or iris position (`bioSubType`), or something we do not know — kept as text so the
/// service can answer "unknown bioSubType" with its own error code instead of a generic parse
/// failure of the whole request.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum BioSubType {
    /// "Left Thumb", "Left IndexFinger", ... (ISO finger positions 6–10, 1–5).
    Finger(FingerPosition),
    /// Iris "Left".
    LeftIris,
    /// Iris "Right".
    RightIris,
    /// "UNKNOWN": the device cannot tell which finger/eye.
    Unknown,
    /// Any other text.
    Unrecognised(String),
}

/// The ten fingers, with their ISO/IEC 19794-4 finger position codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FingerPosition {
    RightThumb = 1,
    RightIndex = 2,
    RightMiddle = 3,
    RightRing = 4,
    RightLittle = 5,
    LeftThumb = 6,
    LeftIndex = 7,
    LeftMiddle = 8,
    LeftRing = 9,
    LeftLittle = 10,
}

impl FingerPosition {
    /// Every finger, in ISO position order.
    pub const ALL: [FingerPosition; 10] = [
        FingerPosition::RightThumb,
        FingerPosition::RightIndex,
        FingerPosition::RightMiddle,
        FingerPosition::RightRing,
        FingerPosition::RightLittle,
        FingerPosition::LeftThumb,
        FingerPosition::LeftIndex,
        FingerPosition::LeftMiddle,
        FingerPosition::LeftRing,
        FingerPosition::LeftLittle,
    ];

    /// The SBI spelling ("Left IndexFinger").
    pub fn as_str(self) -> &'static str {
        match self {
            FingerPosition::RightThumb => "Right Thumb",
            FingerPosition::RightIndex => "Right IndexFinger",
            FingerPosition::RightMiddle => "Right MiddleFinger",
            FingerPosition::RightRing => "Right RingFinger",
            FingerPosition::RightLittle => "Right LittleFinger",
            FingerPosition::LeftThumb => "Left Thumb",
            FingerPosition::LeftIndex => "Left IndexFinger",
            FingerPosition::LeftMiddle => "Left MiddleFinger",
            FingerPosition::LeftRing => "Left RingFinger",
            FingerPosition::LeftLittle => "Left LittleFinger",
        }
    }

    /// ISO/IEC 19794-4 finger position code (1 = right thumb … 10 = left little).
    pub fn iso_code(self) -> u8 {
        self as u8
    }
}

impl BioSubType {
    /// The wire spelling.
    pub fn as_str(&self) -> &str {
        match self {
            BioSubType::Finger(f) => f.as_str(),
            BioSubType::LeftIris => "Left",
            BioSubType::RightIris => "Right",
            BioSubType::Unknown => "UNKNOWN",
            BioSubType::Unrecognised(s) => s,
        }
    }

    /// Whether this sub type belongs to `kind` ("UNKNOWN" belongs to fingers and irises).
    pub fn fits(&self, kind: DeviceType) -> bool {
        match self {
            BioSubType::Finger(_) => kind == DeviceType::Finger,
            BioSubType::LeftIris | BioSubType::RightIris => kind == DeviceType::Iris,
            BioSubType::Unknown => matches!(kind, DeviceType::Finger | DeviceType::Iris),
            BioSubType::Unrecognised(_) => false,
        }
    }
}

impl FromStr for BioSubType {
    type Err = std::convert::Infallible;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if let Some(f) = FingerPosition::ALL.iter().find(|f| f.as_str() == s) {
            return Ok(BioSubType::Finger(*f));
        }
        Ok(match s {
            "Left" => BioSubType::LeftIris,
            "Right" => BioSubType::RightIris,
            "UNKNOWN" => BioSubType::Unknown,
            other => BioSubType::Unrecognised(other.to_owned()),
        })
    }
}

impl fmt::Display for BioSubType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for BioSubType {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for BioSubType {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Ok(text
            .parse()
            .unwrap_or_else(|e: std::convert::Infallible| match e {}))
    }
}

/// The error codes of the spec (0–112) plus the custom 5xx codes this service uses (the spec
/// leaves 5xx to device providers). The code is stable; the text is for people.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SbiErrorCode {
    /// 0 — Success.
    Success,
    /// 100 — Device not registered.
    DeviceNotRegistered,
    /// 101 — Unable to detect a biometric object (nothing placed before the timeout).
    NoBiometricDetected,
    /// 102 — Technical error during extraction (encoding, quality computation failed).
    ExtractionFailed,
    /// 106 — Device not found (unknown `deviceId`, or a type we have no device for).
    DeviceNotFound,
    /// 109 — Requested number of biometrics not supported (`count` does not fit).
    CountNotSupported,
    /// 110 — Device is not ready (could not be opened, vanished mid-capture).
    DeviceNotReady,
    /// 111 — Device is busy (another capture or stream runs on it).
    DeviceBusy,
    /// 112 — Invalid transaction id (4–50 characters of letters, digits, hyphens).
    InvalidTransactionId,
    /// 500 — Invalid URL: unknown method or path.
    InvalidUrl,
    /// 501 — The request body is not valid JSON of the expected shape.
    InvalidRequest,
    /// 502 — A `bioSubType`/`exception` value is unknown or does not fit the device's type.
    InvalidBioSubType,
    /// 503 — The call does not fit the device's purpose (CAPTURE on a registration device).
    PurposeMismatch,
    /// 504 — Face quality assessment is not available (ONNX runtime or models missing).
    QualityUnavailable,
    /// Any other code received from another service.
    Other(u16),
}

impl SbiErrorCode {
    /// The numeric code.
    pub fn code(self) -> u16 {
        match self {
            SbiErrorCode::Success => 0,
            SbiErrorCode::DeviceNotRegistered => 100,
            SbiErrorCode::NoBiometricDetected => 101,
            SbiErrorCode::ExtractionFailed => 102,
            SbiErrorCode::DeviceNotFound => 106,
            SbiErrorCode::CountNotSupported => 109,
            SbiErrorCode::DeviceNotReady => 110,
            SbiErrorCode::DeviceBusy => 111,
            SbiErrorCode::InvalidTransactionId => 112,
            SbiErrorCode::InvalidUrl => 500,
            SbiErrorCode::InvalidRequest => 501,
            SbiErrorCode::InvalidBioSubType => 502,
            SbiErrorCode::PurposeMismatch => 503,
            SbiErrorCode::QualityUnavailable => 504,
            SbiErrorCode::Other(c) => c,
        }
    }

    /// The code for a number (unknown numbers become [`SbiErrorCode::Other`]).
    pub fn from_code(code: u16) -> Self {
        const KNOWN: [SbiErrorCode; 14] = [
            SbiErrorCode::Success,
            SbiErrorCode::DeviceNotRegistered,
            SbiErrorCode::NoBiometricDetected,
            SbiErrorCode::ExtractionFailed,
            SbiErrorCode::DeviceNotFound,
            SbiErrorCode::CountNotSupported,
            SbiErrorCode::DeviceNotReady,
            SbiErrorCode::DeviceBusy,
            SbiErrorCode::InvalidTransactionId,
            SbiErrorCode::InvalidUrl,
            SbiErrorCode::InvalidRequest,
            SbiErrorCode::InvalidBioSubType,
            SbiErrorCode::PurposeMismatch,
            SbiErrorCode::QualityUnavailable,
        ];
        KNOWN
            .into_iter()
            .find(|k| k.code() == code)
            .unwrap_or(SbiErrorCode::Other(code))
    }

    /// The spec's message for the code (our own for the custom 5xx codes).
    pub fn message(self) -> &'static str {
        match self {
            SbiErrorCode::Success => "Success",
            SbiErrorCode::DeviceNotRegistered => "Device not registered",
            SbiErrorCode::NoBiometricDetected => "Unable to detect a biometric object",
            SbiErrorCode::ExtractionFailed => "Technical error during extraction",
            SbiErrorCode::DeviceNotFound => "Device not found",
            SbiErrorCode::CountNotSupported => {
                "Requested number of biometric (Finger/IRIS) not supported"
            }
            SbiErrorCode::DeviceNotReady => "Device is not ready",
            SbiErrorCode::DeviceBusy => "Device is Busy",
            SbiErrorCode::InvalidTransactionId => "Invalid Transaction ID",
            SbiErrorCode::InvalidUrl => "Invalid URL",
            SbiErrorCode::InvalidRequest => "Invalid JSON request",
            SbiErrorCode::InvalidBioSubType => "Invalid bioSubType",
            SbiErrorCode::PurposeMismatch => "Call not supported for the device purpose",
            SbiErrorCode::QualityUnavailable => "Quality assessment unavailable",
            SbiErrorCode::Other(_) => "Error",
        }
    }
}

impl Serialize for SbiErrorCode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.code().to_string())
    }
}

impl<'de> Deserialize<'de> for SbiErrorCode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let n = lenient::number_or_string::<u16, D>(d)?;
        Ok(SbiErrorCode::from_code(n))
    }
}

/// `error`: present on every device, capture and stream answer; code 0 means success.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SbiError {
    /// The code (a string of digits on the wire).
    pub error_code: SbiErrorCode,
    /// A sentence for the operator.
    pub error_info: String,
}

impl SbiError {
    /// Code 0, "Success".
    pub fn success() -> Self {
        Self::new(SbiErrorCode::Success, SbiErrorCode::Success.message())
    }

    /// An error with a specific explanation.
    pub fn new(code: SbiErrorCode, info: impl Into<String>) -> Self {
        Self {
            error_code: code,
            error_info: info.into(),
        }
    }

    /// Whether this is the success code.
    pub fn is_success(&self) -> bool {
        self.error_code == SbiErrorCode::Success
    }
}

/// `MOSIPDISC` body: which kind of device the client looks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiscoverRequest {
    /// "Biometric Device" (any), "Finger", "Face" or "Iris".
    #[serde(rename = "type")]
    pub kind: DeviceType,
}

/// One entry of the `MOSIPDISC` answer (the answer is a JSON array of these).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DiscoveredDevice {
    /// The service's id for the device; sent back in `bio.deviceId` / `deviceId`.
    pub device_id: String,
    pub device_status: DeviceStatus,
    pub certification: Certification,
    /// Version of this device service.
    pub service_version: String,
    /// Sub-device indexes (0 = the whole device; 1/2/3 = left/right/thumbs of a slap).
    #[serde(with = "lenient::sub_ids")]
    pub device_sub_id: Vec<u32>,
    /// Base URL of the service, `http://127.0.0.1:<port>/`.
    pub callback_id: String,
    /// Unsigned digital id: base64url of the [`DigitalId`] JSON.
    pub digital_id: String,
    /// Same as `serialNo` of the digital id.
    pub device_code: String,
    /// Supported SBI versions; element 0 is the one this answer follows.
    pub spec_version: Vec<String>,
    pub purpose: Purpose,
    pub error: SbiError,
}

/// The device identity (`digitalId`): unsigned (base64url payload) in discovery, a JWS elsewhere.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DigitalId {
    /// At least 12 characters, unique per device.
    pub serial_no: String,
    pub make: String,
    pub model: String,
    /// "Finger", "Face" or "Iris".
    #[serde(rename = "type")]
    pub kind: DeviceType,
    /// "Single", "Slap", "Touchless" (finger), "Single"/"Double" (iris), "Full face" (face).
    pub device_sub_type: String,
    pub device_provider: String,
    pub device_provider_id: String,
    /// ISO 8601 UTC, `yyyy-mm-ddTHH:MM:ssZ`.
    pub date_time: String,
}

/// One entry of the `MOSIPDINFO` answer (a JSON array of these).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeviceInfoEntry {
    /// JWS (compact) over a [`DeviceInfo`]; base64url payload only when not registered.
    pub device_info: String,
    pub error: SbiError,
}

/// The payload of `deviceInfo`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeviceInfo {
    pub device_status: DeviceStatus,
    pub device_id: String,
    /// Firmware version; for L0 the service version.
    pub firmware: String,
    pub certification: Certification,
    pub service_version: String,
    #[serde(with = "lenient::sub_ids")]
    pub device_sub_id: Vec<u32>,
    pub callback_id: String,
    /// Signed digital id (JWS over [`DigitalId`]).
    pub digital_id: String,
    pub device_code: String,
    /// "None" for unregistered devices, else "Staging", "Developer", "Pre-Production", "Production".
    pub env: String,
    pub purpose: Purpose,
    pub spec_version: Vec<String>,
}

/// `CAPTURE` / `RCAPTURE` body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CaptureRequest {
    /// Target environment ("Staging", "Developer", "Pre-Production", "Production").
    pub env: String,
    /// "Registration" for RCAPTURE, "Auth" for CAPTURE.
    pub purpose: String,
    /// Expected SBI version.
    pub spec_version: String,
    /// Milliseconds the client waits for the whole capture.
    #[serde(with = "lenient::u64_value")]
    pub timeout: u64,
    /// When the client asked, ISO 8601.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capture_time: Option<String>,
    /// Authentication server URI (CAPTURE only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain_uri: Option<String>,
    /// Client's id of this capture, echoed in every biometric.
    pub transaction_id: String,
    /// What to capture, one entry per device.
    pub bio: Vec<BioRequest>,
    /// Vendor-specific options (we read none; kept for the round trip).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_opts: Option<serde_json::Value>,
}

/// One `bio` entry of a capture request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BioRequest {
    #[serde(rename = "type")]
    pub kind: DeviceType,
    /// Number of biometrics to capture (1 for face).
    #[serde(with = "lenient::u64_value")]
    pub count: u64,
    /// Which fingers/irises; absent for face, optional for RCAPTURE.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bio_sub_type: Option<Vec<BioSubType>>,
    /// Fingers/irises missing (amputated, bandaged): not captured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exception: Option<Vec<BioSubType>>,
    /// Quality (0–100) at which to stop trying for a better image.
    #[serde(with = "lenient::f64_value")]
    pub requested_score: f64,
    pub device_id: String,
    #[serde(with = "lenient::u32_value")]
    pub device_sub_id: u32,
    /// `hash` of the previous biometric of this transaction (SHA-256 of "" for the first).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_hash: Option<String>,
}

/// `CAPTURE` / `RCAPTURE` answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaptureResponse {
    /// One per captured biometric; one entry carrying only an error when the capture failed.
    pub biometrics: Vec<CapturedBiometric>,
}

/// One biometric of a capture answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CapturedBiometric {
    pub spec_version: String,
    /// JWS over a [`CaptureData`]; empty when `error` is not success.
    pub data: String,
    /// Upper-case hex SHA-256 of (previous hash ‖ SHA-256 of the ISO record), chaining the
    /// biometrics of a transaction.
    pub hash: String,
    /// Encrypted session key (CAPTURE only; RCAPTURE data is not encrypted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_key: Option<String>,
    /// SHA-256 of the encryption certificate (CAPTURE only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thumbprint: Option<String>,
    pub error: SbiError,
}

/// The payload of `data`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CaptureData {
    /// Signed digital id of the device.
    pub digital_id: String,
    pub device_code: String,
    pub device_service_version: String,
    pub bio_type: DeviceType,
    /// The finger/iris; "" for face (the spec says "no bioSubType").
    pub bio_sub_type: String,
    pub purpose: String,
    pub env: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain_uri: Option<String>,
    /// base64url (no padding) of the ISO record (19794-4 finger, 19794-5 face).
    pub bio_value: String,
    pub transaction_id: String,
    /// Capture time, ISO 8601 UTC.
    pub timestamp: String,
    /// The request's score, 0–100.
    #[serde(with = "lenient::score")]
    pub requested_score: f64,
    /// The image's score, 0–100.
    #[serde(with = "lenient::score")]
    pub quality_score: f64,
}

/// `STREAM` body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StreamRequest {
    pub device_id: String,
    #[serde(with = "lenient::u32_value")]
    pub device_sub_id: u32,
    /// Milliseconds after which the stream ends; 5 minutes when absent.
    #[serde(
        default,
        with = "lenient::opt_u64_value",
        skip_serializing_if = "Option::is_none"
    )]
    pub timeout: Option<u64>,
}

/// Body of a `STREAM` that cannot start.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamErrorResponse {
    pub error: SbiError,
}

/// Body of an answer to an unknown method/path or to a body that is not the expected JSON, when
/// the call has no answer shape of its own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorOnlyResponse {
    pub error: SbiError,
}

/// Protected header of the JWS signatures (`deviceInfo`, `digitalId`, `data`): RFC 7515 compact
/// serialisation with the signing certificate in `x5c`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JwsHeader {
    /// "RS256".
    pub alg: String,
    /// "JWT".
    pub typ: String,
    /// Standard base64 DER certificates, signer first.
    pub x5c: Vec<String>,
}

/// Readers that accept numbers either as JSON numbers or as numeric strings, and writers in the
/// shape MOSIP clients expect.
mod lenient {
    use serde::de::{self, Deserializer, Visitor};
    use serde::{Deserialize, Serializer};
    use std::fmt;
    use std::marker::PhantomData;
    use std::str::FromStr;

    /// Reads `T` from a JSON number or a string holding one.
    pub fn number_or_string<'de, T, D>(d: D) -> Result<T, D::Error>
    where
        T: FromStr + TryFrom<u64> + TryFrom<i64> + NumFromF64,
        D: Deserializer<'de>,
    {
        struct V<T>(PhantomData<T>);
        impl<T: FromStr + TryFrom<u64> + TryFrom<i64> + NumFromF64> Visitor<'_> for V<T> {
            type Value = T;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number or a string holding a number")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<T, E> {
                T::try_from(v).map_err(|_| E::custom(format!("{v} is out of range")))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<T, E> {
                T::try_from(v).map_err(|_| E::custom(format!("{v} is out of range")))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<T, E> {
                T::from_f64(v).ok_or_else(|| E::custom(format!("{v} is not a valid value here")))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
                let t = v.trim();
                if let Ok(n) = t.parse::<T>() {
                    return Ok(n);
                }
                // "80.0" for an integer field: accept whole numbers.
                t.parse::<f64>()
                    .ok()
                    .and_then(T::from_f64)
                    .ok_or_else(|| E::custom(format!("{v:?} is not a number")))
            }
        }
        d.deserialize_any(V(PhantomData))
    }

    /// Conversion from a JSON float, refusing NaN, infinities and (for integers) fractions.
    pub trait NumFromF64: Sized {
        fn from_f64(v: f64) -> Option<Self>;
    }
    macro_rules! int_from_f64 {
        ($($t:ty),*) => {$(
            impl NumFromF64 for $t {
                fn from_f64(v: f64) -> Option<Self> {
                    (v.is_finite() && v.fract() == 0.0 && v >= <$t>::MIN as f64 && v <= <$t>::MAX as f64)
                        .then_some(v as $t)
                }
            }
        )*};
    }
    int_from_f64!(u16, u32, u64);

    /// f64 wrapper implementing the conversions the reader needs.
    #[derive(Debug, Clone, Copy)]
    pub struct Float(pub f64);
    impl FromStr for Float {
        type Err = ();
        fn from_str(s: &str) -> Result<Self, ()> {
            s.parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .map(Float)
                .ok_or(())
        }
    }
    impl TryFrom<u64> for Float {
        type Error = ();
        fn try_from(v: u64) -> Result<Self, ()> {
            Ok(Float(v as f64))
        }
    }
    impl TryFrom<i64> for Float {
        type Error = ();
        fn try_from(v: i64) -> Result<Self, ()> {
            Ok(Float(v as f64))
        }
    }
    impl NumFromF64 for Float {
        fn from_f64(v: f64) -> Option<Self> {
            v.is_finite().then_some(Float(v))
        }
    }

    pub mod u64_value {
        use super::*;
        pub fn serialize<S: Serializer>(v: &u64, s: S) -> Result<S::Ok, S::Error> {
            s.serialize_u64(*v)
        }
        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
            number_or_string(d)
        }
    }

    pub mod opt_u64_value {
        use super::*;
        pub fn serialize<S: Serializer>(v: &Option<u64>, s: S) -> Result<S::Ok, S::Error> {
            match v {
                Some(v) => s.serialize_u64(*v),
                None => s.serialize_none(),
            }
        }
        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
            #[derive(Deserialize)]
            struct W(#[serde(with = "super::u64_value")] u64);
            Ok(Option::<W>::deserialize(d)?.map(|w| w.0))
        }
    }

    pub mod u32_value {
        use super::*;
        /// Written as a string of digits, as MOSIP's mock service and clients do.
        pub fn serialize<S: Serializer>(v: &u32, s: S) -> Result<S::Ok, S::Error> {
            s.serialize_str(&v.to_string())
        }
        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
            number_or_string(d)
        }
    }

    pub mod f64_value {
        use super::*;
        pub fn serialize<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
            if v.fract() == 0.0 && v.abs() < 1e15 {
                s.serialize_i64(*v as i64)
            } else {
                s.serialize_f64(*v)
            }
        }
        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
            number_or_string::<Float, D>(d).map(|f| f.0)
        }
    }

    /// Scores in capture answers: written as strings ("80", "72.5").
    pub mod score {
        use super::*;
        pub fn serialize<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
            s.serialize_str(&format_score(*v))
        }
        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
            number_or_string::<Float, D>(d).map(|f| f.0)
        }
        fn format_score(v: f64) -> String {
            if v.fract() == 0.0 {
                format!("{}", v as i64)
            } else {
                format!("{v}")
            }
        }
    }

    /// `deviceSubId` arrays: written as strings, read from strings or numbers.
    pub mod sub_ids {
        use super::*;
        use serde::ser::SerializeSeq;
        pub fn serialize<S: Serializer>(v: &[u32], s: S) -> Result<S::Ok, S::Error> {
            let mut seq = s.serialize_seq(Some(v.len()))?;
            for id in v {
                seq.serialize_element(&id.to_string())?;
            }
            seq.end()
        }
        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u32>, D::Error> {
            #[derive(Deserialize)]
            struct W(#[serde(with = "super::u32_value")] u32);
            Ok(Vec::<W>::deserialize(d)?.into_iter().map(|w| w.0).collect())
        }
    }
}

/// Checks the spec's rule for `transactionId`: 4–50 characters, letters, digits and hyphens.
pub fn valid_transaction_id(id: &str) -> bool {
    (4..=50).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_read_from_numbers_and_strings() {
        let a: BioRequest = serde_json::from_str(
            r#"{"type":"Finger","count":"2","requestedScore":"40","deviceId":"x","deviceSubId":1,"bioSubType":["Left Thumb","Ring"]}"#,
        )
        .unwrap();
        assert_eq!(a.count, 2);
        assert_eq!(a.requested_score, 40.0);
        assert_eq!(a.device_sub_id, 1);
        let subs = a.bio_sub_type.unwrap();
        assert_eq!(subs[0], BioSubType::Finger(FingerPosition::LeftThumb));
        assert_eq!(subs[1], BioSubType::Unrecognised("Ring".into()));
    }

    #[test]
    fn bad_numbers_are_refused() {
        for body in [
            r#"{"type":"Finger","count":"two","requestedScore":40,"deviceId":"x","deviceSubId":0}"#,
            r#"{"type":"Finger","count":1.5,"requestedScore":40,"deviceId":"x","deviceSubId":0}"#,
            r#"{"type":"Finger","count":1,"requestedScore":"NaN","deviceId":"x","deviceSubId":0}"#,
            r#"{"type":"Finger","count":-1,"requestedScore":40,"deviceId":"x","deviceSubId":0}"#,
        ] {
            assert!(serde_json::from_str::<BioRequest>(body).is_err(), "{body}");
        }
    }

    #[test]
    fn error_codes_round_trip_through_their_numbers() {
        for n in [
            0u16, 100, 101, 102, 106, 109, 110, 111, 112, 500, 501, 502, 503, 504, 999,
        ] {
            assert_eq!(SbiErrorCode::from_code(n).code(), n);
        }
        let e: SbiError = serde_json::from_str(r#"{"errorCode":111,"errorInfo":"x"}"#).unwrap();
        assert_eq!(e.error_code, SbiErrorCode::DeviceBusy);
    }

    #[test]
    fn transaction_ids_follow_the_spec_rule() {
        assert!(valid_transaction_id("a1b2-c3"));
        assert!(!valid_transaction_id("abc"));
        assert!(!valid_transaction_id("has space"));
        assert!(!valid_transaction_id(&"x".repeat(51)));
    }
}
