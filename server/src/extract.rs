//! Request extractors that turn every malformed input into a specific `ApiError` instead of
//! axum's plain-text rejections.

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};
use wire::spid::OperatorRole;
use wire::ErrorCode;

use crate::error::ApiError;
use crate::AppState;

/// A JSON body parsed with field paths in error messages, plus the SHA-256 of its raw bytes
/// (the idempotency check compares bodies by hash).
pub struct SpidJson<T> {
    pub value: T,
    pub body_sha256: String,
}

impl<T: DeserializeOwned> FromRequest<AppState> for SpidJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let content_type = req.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
        let mime = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
        if mime != "application/json" && !mime.ends_with("+json") {
            return Err(ApiError::new(
                ErrorCode::ContentType,
                format!("expected Content-Type application/json, got {:?}", content_type),
            ));
        }
        let limit = state.config.max_body_bytes;
        let bytes = axum::body::to_bytes(req.into_body(), limit).await.map_err(|_| {
            ApiError::new(ErrorCode::BodyTooLarge, format!("request body is larger than {limit} bytes"))
        })?;
        let body_sha256 = hex::encode(Sha256::digest(&bytes));
        let value = parse_json(&bytes)?;
        Ok(Self { value, body_sha256 })
    }
}

/// Parses `bytes`, naming the offending field and choosing the code by what went wrong.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(classify)?;
    de.end().map_err(|e| ApiError::new(ErrorCode::MalformedJson, format!("trailing data after JSON: {e}")))?;
    Ok(value)
}

fn classify(err: serde_path_to_error::Error<serde_json::Error>) -> ApiError {
    let path = err.path().to_string();
    let inner = err.inner();
    let message = inner.to_string();
    let last = path.rsplit('.').next().unwrap_or("");
    let code = if inner.is_syntax() || inner.is_eof() {
        ErrorCode::MalformedJson
    } else if message.starts_with("missing field") {
        ErrorCode::MissingField
    } else if last == "index" && message.contains("not a valid biometric index") {
        ErrorCode::BiometricIndex
    } else if path.contains("issingBiometrics") && last == "type" {
        ErrorCode::MissingType
    } else {
        ErrorCode::InvalidField
    };
    let message = if code == ErrorCode::MalformedJson {
        format!("request body is not valid JSON: {message}")
    } else if path == "." || path.is_empty() {
        message
    } else {
        format!("{path}: {message}")
    };
    ApiError::new(code, message)
}

/// The authenticated caller, from `Authorization: Bearer <token>`.
#[derive(Debug, Clone)]
pub struct Caller {
    pub document: String,
    pub role: OperatorRole,
}

impl Caller {
    /// Refuses callers that are not admins (403).
    pub fn require_admin(&self) -> Result<(), ApiError> {
        match self.role {
            OperatorRole::Admin => Ok(()),
            OperatorRole::Operator => {
                Err(ApiError::new(ErrorCode::Forbidden, format!("operator {} is not allowed to do this; an admin is", self.document)))
            }
        }
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let header = parts
            .headers
            .get(AUTHORIZATION)
            .ok_or_else(|| ApiError::new(ErrorCode::TokenMissing, "missing bearer token (Authorization: Bearer <token>)"))?;
        let token = header
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| ApiError::new(ErrorCode::TokenMissing, "malformed Authorization header; expected 'Bearer <token>'"))?;
        crate::auth::authenticate(&state.db, token).await
    }
}
