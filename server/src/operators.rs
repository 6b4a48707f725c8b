//! Operators: the people allowed to capture (and, as admins, to manage the others).

use sqlx::AnyPool;
use wire::spid::{OperatorEnrollPayload, OperatorInsert, OperatorListItem, OperatorRole, OperatorStatus};
use wire::ErrorCode;

use crate::auth::hash_password;
use crate::clock::now_ms;
use crate::error::{ApiError, ApiResult};

fn parse_status(s: &str) -> OperatorStatus {
    OperatorStatus::parse(s).unwrap_or(OperatorStatus::Pending)
}

/// All operators that are not deleted, by document.
pub async fn list(db: &AnyPool) -> ApiResult<Vec<OperatorListItem>> {
    let rows: Vec<(String, String, Option<String>)> =
        sqlx::query_as("SELECT document, status, tguid FROM operators WHERE status != 'DELETED' ORDER BY document")
            .fetch_all(db)
            .await?;
    Ok(rows.into_iter().map(|(document, status, tguid)| OperatorListItem { document, status: parse_status(&status), tguid }).collect())
}

/// One operator by document.
pub async fn get(db: &AnyPool, document: &str) -> ApiResult<OperatorEnrollPayload> {
    let row: Option<(String, String, Option<String>)> =
        sqlx::query_as("SELECT status, role, tguid FROM operators WHERE document = $1 AND status != 'DELETED'")
            .bind(document)
            .fetch_optional(db)
            .await?;
    let (status, role, tguid) =
        row.ok_or_else(|| ApiError::new(ErrorCode::OperatorNotFound, format!("no operator with document {document}")))?;
    Ok(OperatorEnrollPayload {
        document: document.to_owned(),
        biometrics: vec![],
        status: parse_status(&status),
        tguid,
        role: OperatorRole::parse(&role),
    })
}

/// Adds an operator. Without a password the operator exists (status `PENDING`) but cannot log
/// in until one is set; with one it is `VERIFIED` at once.
pub async fn insert(db: &AnyPool, op: &OperatorInsert) -> ApiResult<()> {
    let document = op.document.trim();
    if document.is_empty() || document.len() > 128 || document.contains('/') {
        return Err(ApiError::new(ErrorCode::InvalidField, "document must be 1-128 characters without '/'"));
    }
    if let Some(p) = &op.password {
        if p.chars().count() < 8 {
            return Err(ApiError::new(ErrorCode::InvalidField, "password must have at least 8 characters"));
        }
    }
    let hash = op.password.as_deref().map(hash_password).transpose()?;
    let status = if hash.is_some() { OperatorStatus::Verified } else { OperatorStatus::Pending };
    let role = op.role.unwrap_or(OperatorRole::Operator);
    let now = now_ms();
    // A deleted operator's document may be reused: the row is replaced.
    let result = sqlx::query(
        "INSERT INTO operators (document, status, role, password_hash, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT(document) DO UPDATE SET status = excluded.status, role = excluded.role,
             password_hash = excluded.password_hash, updated_at = excluded.updated_at
         WHERE operators.status = 'DELETED'",
    )
    .bind(document)
    .bind(status.as_str())
    .bind(role.as_str())
    .bind(hash)
    .bind(now)
    .bind(now)
    .execute(db)
    .await?;
    if result.rows_affected() == 0 {
        return Err(ApiError::new(ErrorCode::OperatorExists, format!("an operator with document {document} already exists")));
    }
    Ok(())
}

/// Marks an operator deleted and revokes their tokens (the row stays for audit).
pub async fn delete(db: &AnyPool, document: &str) -> ApiResult<()> {
    let mut dbtx = crate::db::begin_write(db).await?;
    let updated = sqlx::query("UPDATE operators SET status = 'DELETED', updated_at = $1 WHERE document = $2 AND status != 'DELETED'")
        .bind(now_ms())
        .bind(document)
        .execute(&mut *dbtx)
        .await?;
    if updated.rows_affected() == 0 {
        return Err(ApiError::new(ErrorCode::OperatorNotFound, format!("no operator with document {document}")));
    }
    sqlx::query("UPDATE tokens SET revoked = 1 WHERE document = $1").bind(document).execute(&mut *dbtx).await?;
    dbtx.commit().await?;
    Ok(())
}
