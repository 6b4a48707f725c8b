//! The error body shared by SPID and GBDS: `{errors: [{type, code, message}], type}`.
//!
//! `type` is the vendor's documented error family; `code` is our addition ([inf], allowed by
//! the schema) so that clients and tests can tell errors apart without parsing English.

use serde::{Deserialize, Serialize};

/// The vendor's error families (SPID `ErrorType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ErrorType {
    ValidationError,
    ProcessingError,
    InternalError,
    SecurityError,
}

/// One problem found in a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ErrorItem {
    #[serde(rename = "type")]
    pub kind: ErrorType,
    /// Stable machine code, e.g. `SPID-VAL-BIOMETRIC-INDEX` (see [`ErrorCode`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    pub message: String,
}

/// The error body of every 4xx/5xx answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ErrorResponse {
    pub errors: Vec<ErrorItem>,
    #[serde(rename = "type")]
    pub kind: ErrorType,
}

impl ErrorResponse {
    /// A body with a single error of `code`.
    pub fn single(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            errors: vec![ErrorItem { kind: code.error_type(), code: Some(code.as_str().to_owned()), message: message.into() }],
            kind: code.error_type(),
        }
    }

    /// The machine code of the first error, if it carries one.
    pub fn first_code(&self) -> Option<&str> {
        self.errors.first().and_then(|e| e.code.as_deref())
    }

    /// The human message of the first error.
    pub fn first_message(&self) -> &str {
        self.errors.first().map(|e| e.message.as_str()).unwrap_or("")
    }
}

macro_rules! error_codes {
    ($( $(#[$doc:meta])* $variant:ident => ($code:literal, $status:literal, $kind:ident); )*) => {
        /// Every stable error code the server emits, with its HTTP status and family.
        ///
        /// Codes never change meaning once released; add new ones instead.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrorCode {
            $( $(#[$doc])* $variant, )*
        }

        impl ErrorCode {
            /// Every code, for documentation and tests.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant,)*];

            /// The code as it appears in `errors[].code`.
            pub fn as_str(self) -> &'static str {
                match self { $( ErrorCode::$variant => $code, )* }
            }

            /// The HTTP status this error is answered with.
            pub fn http_status(self) -> u16 {
                match self { $( ErrorCode::$variant => $status, )* }
            }

            /// The vendor error family.
            pub fn error_type(self) -> ErrorType {
                match self { $( ErrorCode::$variant => ErrorType::$kind, )* }
            }

            /// Looks up a code string, e.g. from a server answer.
            pub fn parse(code: &str) -> Option<ErrorCode> {
                match code { $( $code => Some(ErrorCode::$variant), )* _ => None }
            }
        }
    };
}

error_codes! {
    /// The body is not valid JSON or does not fit the schema (wrong types).
    MalformedJson => ("SPID-VAL-JSON", 400, ValidationError);
    /// A required field is absent or empty.
    MissingField => ("SPID-VAL-FIELD-MISSING", 400, ValidationError);
    /// A field has a value outside its allowed set or range.
    InvalidField => ("SPID-VAL-FIELD", 400, ValidationError);
    /// A biometric index is not in the Griaule table.
    BiometricIndex => ("SPID-VAL-BIOMETRIC-INDEX", 400, ValidationError);
    /// The same index appears twice (or both captured and missing).
    DuplicateIndex => ("SPID-VAL-BIOMETRIC-DUPLICATE", 400, ValidationError);
    /// `content` is not valid base64.
    Base64 => ("SPID-VAL-BIOMETRIC-BASE64", 400, ValidationError);
    /// `content` decodes, but not to an image format we accept.
    ImageFormat => ("SPID-VAL-IMAGE-FORMAT", 400, ValidationError);
    /// The image's real dimensions differ from `width`/`height`.
    ImageDimensions => ("SPID-VAL-IMAGE-DIMENSIONS", 400, ValidationError);
    /// One image is larger than the configured limit (bytes or pixels).
    ImageTooLarge => ("SPID-VAL-IMAGE-TOO-LARGE", 413, ValidationError);
    /// The whole request body exceeds the configured limit.
    BodyTooLarge => ("SPID-VAL-BODY-TOO-LARGE", 413, ValidationError);
    /// Neither biometrics nor missing biometrics were sent.
    NoBiometrics => ("SPID-VAL-NO-BIOMETRICS", 400, ValidationError);
    /// `missingBiometrics[].type` is not one we know.
    MissingType => ("SPID-VAL-MISSING-TYPE", 400, ValidationError);
    /// The `Idempotency-Key` header is malformed.
    IdempotencyKey => ("SPID-VAL-IDEMPOTENCY-KEY", 400, ValidationError);
    /// A JSON endpoint received another content type.
    ContentType => ("SPID-VAL-CONTENT-TYPE", 415, ValidationError);
    /// No bearer token, or one the server does not know.
    TokenMissing => ("SPID-SEC-TOKEN", 401, SecurityError);
    /// The bearer token was valid once but has expired.
    TokenExpired => ("SPID-SEC-TOKEN-EXPIRED", 401, SecurityError);
    /// Wrong user name or password at login.
    BadCredentials => ("GBDS-SEC-CREDENTIALS", 401, SecurityError);
    /// A token renewal with an invalid token (GBDS answers 422 here).
    InvalidRenewalToken => ("GBDS-SEC-TOKEN-INVALID", 422, SecurityError);
    /// The caller's role may not do this (e.g. an operator approving a remote capture).
    Forbidden => ("SPID-SEC-FORBIDDEN", 403, SecurityError);
    /// No person with that key.
    PersonNotFound => ("SPID-NOT-FOUND-PERSON", 404, ProcessingError);
    /// No transaction with that id.
    TransactionNotFound => ("SPID-NOT-FOUND-TRANSACTION", 404, ProcessingError);
    /// No operator with that document.
    OperatorNotFound => ("SPID-NOT-FOUND-OPERATOR", 404, ProcessingError);
    /// No route for that method and path.
    RouteNotFound => ("SPID-NOT-FOUND-ROUTE", 404, ProcessingError);
    /// The path exists but not for this method.
    MethodNotAllowed => ("SPID-METHOD-NOT-ALLOWED", 405, ValidationError);
    /// The idempotency key was already used for a different request body.
    IdempotencyConflict => ("SPID-CONFLICT-IDEMPOTENCY", 409, ProcessingError);
    /// An operator with that document already exists.
    OperatorExists => ("SPID-CONFLICT-OPERATOR", 409, ProcessingError);
    /// The request is not allowed in the resource's current state.
    StateConflict => ("SPID-CONFLICT-STATE", 409, ProcessingError);
    /// No remote capture with that tguid or phone-link token.
    RemoteCaptureNotFound => ("SPID-NOT-FOUND-REMOTE-CAPTURE", 404, ProcessingError);
    /// The remote capture's link outlived its TTL; create a new one.
    RemoteCaptureExpired => ("SPID-GONE-REMOTE-CAPTURE", 410, ProcessingError);
    /// The face engine (ONNX Runtime or its models) could not be loaded on this server.
    FaceEngineUnavailable => ("SPID-UNAVAILABLE-FACE-ENGINE", 503, InternalError);
    /// A bug on our side.
    Internal => ("SPID-INTERNAL", 500, InternalError);
    /// Storage or a dependency is temporarily unavailable; retry later.
    Unavailable => ("SPID-UNAVAILABLE", 503, InternalError);
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_parse_back() {
        let mut seen = std::collections::HashSet::new();
        for &code in ErrorCode::ALL {
            assert!(seen.insert(code.as_str()), "duplicate {code}");
            assert_eq!(ErrorCode::parse(code.as_str()), Some(code));
            assert!((400..600).contains(&code.http_status()));
        }
    }
}
