//! Operator authentication: argon2id password hashes and opaque bearer tokens with expiry.
//!
//! Tokens are 256-bit random secrets; only their SHA-256 is stored, so a copy of the database
//! does not let anyone act as an operator.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use base64::Engine as _;
use rand::RngCore;
use sha2::{Digest, Sha256};
use sqlx::AnyPool;
use wire::gbds::{GrantType, TokenRequest, TokenResponse};
use wire::spid::{OperatorRole, OperatorStatus};
use wire::ErrorCode;

use crate::clock::now_ms;
use crate::error::{ApiError, ApiResult};
use crate::extract::Caller;

/// Hashes a password with argon2id and a random salt (PHC string).
pub fn hash_password(password: &str) -> ApiResult<String> {
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| ApiError::new(ErrorCode::Internal, format!("password hashing failed: {e}")))
}

fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc).map(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok()).unwrap_or(false)
}

fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Handles `POST /gbds/v2/tokens`: a user/password login or the renewal of a valid token.
pub async fn issue_token(db: &AnyPool, req: &TokenRequest, ttl: std::time::Duration) -> ApiResult<TokenResponse> {
    let (document, role) = match req.grant_type {
        GrantType::Credentials => {
            let user = req.user_name.as_deref().filter(|s| !s.is_empty());
            let password = req.user_password.as_deref().filter(|s| !s.is_empty());
            let (Some(user), Some(password)) = (user, password) else {
                return Err(ApiError::new(ErrorCode::MissingField, "userName and userPassword are required for grantType CREDENTIALS"));
            };
            let row: Option<(String, String, Option<String>)> =
                sqlx::query_as("SELECT role, status, password_hash FROM operators WHERE document = $1")
                    .bind(user)
                    .fetch_optional(db)
                    .await?;
            let bad = || ApiError::new(ErrorCode::BadCredentials, "invalid user name or password");
            let (role, status, hash) = row.ok_or_else(bad)?;
            let hash = hash.ok_or_else(bad)?;
            if !verify_password(password, &hash) {
                return Err(bad());
            }
            if status == OperatorStatus::Deleted.as_str() {
                return Err(bad());
            }
            (user.to_owned(), OperatorRole::parse(&role).unwrap_or(OperatorRole::Operator))
        }
        GrantType::Token => {
            let token = req
                .token
                .as_deref()
                .filter(|s| !s.is_empty())
                .ok_or_else(|| ApiError::new(ErrorCode::MissingField, "token is required for grantType TOKEN"))?;
            let caller = authenticate(db, token).await.map_err(|e| match e.code {
                ErrorCode::TokenExpired => e,
                _ => ApiError::new(ErrorCode::InvalidRenewalToken, "the token to renew is not valid"),
            })?;
            (caller.document, caller.role)
        }
    };
    let mut secret = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut secret);
    let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret);
    let now = now_ms();
    let ttl_ms = ttl.as_millis() as i64;
    sqlx::query("INSERT INTO tokens (token_hash, document, role, issued_at, expires_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(token_hash(&token))
        .bind(&document)
        .bind(role.as_str())
        .bind(now)
        .bind(now + ttl_ms)
        .execute(db)
        .await?;
    Ok(TokenResponse { token, expiration_time: now + ttl_ms, ttl: ttl.as_secs() as i64 })
}

/// Resolves a bearer token to its operator, refusing unknown, revoked and expired tokens.
pub async fn authenticate(db: &AnyPool, token: &str) -> ApiResult<Caller> {
    let row: Option<(String, String, i64, i64)> =
        sqlx::query_as("SELECT document, role, expires_at, revoked FROM tokens WHERE token_hash = $1")
            .bind(token_hash(token))
            .fetch_optional(db)
            .await?;
    let (document, role, expires_at, revoked) =
        row.ok_or_else(|| ApiError::new(ErrorCode::TokenMissing, "unknown bearer token; log in again"))?;
    if revoked != 0 {
        return Err(ApiError::new(ErrorCode::TokenMissing, "this token was revoked; log in again"));
    }
    if expires_at <= now_ms() {
        return Err(ApiError::new(ErrorCode::TokenExpired, "the bearer token has expired; log in again"));
    }
    let role = OperatorRole::parse(&role).unwrap_or(OperatorRole::Operator);
    Ok(Caller { document, role })
}

/// Creates the first admin when no operator with that document exists yet.
pub async fn ensure_bootstrap_admin(db: &AnyPool, admin: &crate::config::BootstrapAdmin) -> ApiResult<()> {
    let exists: Option<(String,)> =
        sqlx::query_as("SELECT document FROM operators WHERE document = $1").bind(&admin.document).fetch_optional(db).await?;
    if exists.is_none() {
        let now = now_ms();
        sqlx::query(
            // ON CONFLICT: two servers starting at once on one PostgreSQL database both get here.
            "INSERT INTO operators (document, status, role, password_hash, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (document) DO NOTHING",
        )
        .bind(&admin.document)
        .bind(OperatorStatus::GodMode.as_str())
        .bind(OperatorRole::Admin.as_str())
        .bind(hash_password(&admin.password)?)
        .bind(now)
        .bind(now)
        .execute(db)
        .await?;
        tracing::info!(document = %admin.document, "created bootstrap admin");
    }
    Ok(())
}
