//! `ApiError`: every failure a handler can return, rendered as the SPID `ErrorResponse` with the
//! HTTP status its stable code implies.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use wire::{ErrorCode, ErrorResponse};

/// A failure with a stable code and a message for the client.
#[derive(Debug, thiserror::Error)]
#[error("{code}: {message}")]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
}

impl ApiError {
    /// An error of `code` with `message`.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self { code, message: message.into() }
    }
}

impl From<wire::validate::Violation> for ApiError {
    fn from(v: wire::validate::Violation) -> Self {
        Self::new(v.code, v.message)
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) => {
                tracing::warn!(error = %e, "storage unavailable");
                Self::new(ErrorCode::Unavailable, "storage is temporarily unavailable; retry later")
            }
            sqlx::Error::Database(db) if db.message().contains("database is locked") => {
                tracing::warn!(error = %e, "storage busy");
                Self::new(ErrorCode::Unavailable, "storage is busy; retry later")
            }
            _ => {
                tracing::error!(error = %e, "database error");
                Self::new(ErrorCode::Internal, "internal storage error")
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (status, Json(ErrorResponse::single(self.code, self.message))).into_response()
    }
}

/// Result alias for handlers and domain functions.
pub type ApiResult<T> = Result<T, ApiError>;
