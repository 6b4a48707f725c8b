//! People: the enrolled record as SPID returns it, the raw transaction data, and deletion.

use sqlx::AnyPool;
use uuid::Uuid;
use wire::spid::{
    Approvement, Biometric, EnrollStatus, ExternalResult, KeyValue, MissingBiometric, Person, TransactionData,
    TransactionStatus, TransactionType,
};
use wire::{BiometricIndex, ErrorCode};

use crate::clock::{iso8601, now_ms};
use crate::error::{ApiError, ApiResult};
use crate::extract::Caller;
use crate::AppState;

type BiometricRow = (i64, i64, i64, Option<i64>, Vec<u8>);

async fn biometrics_of(db: &AnyPool, tguid: &str) -> ApiResult<Vec<Biometric>> {
    let rows: Vec<BiometricRow> =
        sqlx::query_as("SELECT idx, width, height, resolution, content FROM biometrics WHERE tguid = $1 ORDER BY idx")
            .bind(tguid)
            .fetch_all(db)
            .await?;
    rows.into_iter()
        .map(|(idx, width, height, resolution, content)| {
            let index = BiometricIndex::from_code(idx)
                .ok_or_else(|| ApiError::new(ErrorCode::Internal, format!("stored index {idx} is not in the table")))?;
            Ok(Biometric {
                index,
                content: wire::validate::encode_base64(&content),
                width: width as u32,
                height: height as u32,
                resolution: resolution.map(|r| r as u32),
            })
        })
        .collect()
}

/// `GET /people/{key}`: the enrolled person whose key (userId / CPF) is `key`.
pub async fn get_person(db: &AnyPool, key: &str) -> ApiResult<Person> {
    let row: Option<(String, String, String, i64, String, String, i64, String)> = sqlx::query_as(
        "SELECT p.person_guid, p.tguid, p.enroll_status, p.created_at, t.biographics, t.missing, t.created_at, t.submitted_by
         FROM people p JOIN transactions t ON t.tguid = p.tguid WHERE p.user_id = $1",
    )
    .bind(key)
    .fetch_optional(db)
    .await?;
    let (person_guid, tguid, enroll_status, created_at, biographics, missing, _tx_created, submitted_by) =
        row.ok_or_else(|| ApiError::new(ErrorCode::PersonNotFound, format!("no person with key {key}")))?;
    let biographics: Vec<KeyValue> = serde_json::from_str(&biographics).unwrap_or_default();
    let missing_biometrics: Vec<MissingBiometric> = serde_json::from_str(&missing).unwrap_or_default();
    Ok(Person {
        approvement: Approvement { comments: String::new(), status: "APPROVED".into(), timestamp: iso8601(created_at), user: submitted_by },
        auxiliaries: vec![],
        biographics,
        biometrics: biometrics_of(db, &tguid).await?,
        missing_biometrics,
        enroll_status: EnrollStatus::parse(&enroll_status).unwrap_or(EnrollStatus::Enrolled),
        keys: vec![KeyValue { id: "CPF".into(), value: key.to_owned() }],
        labels: vec![],
        metadata: String::new(),
        person_guid,
        timestamp: iso8601(created_at),
        transaction_guid: tguid,
    })
}

/// `GET /transaction/biometrics/{tguid}`: what a transaction carried.
pub async fn transaction_data(db: &AnyPool, tguid: &str) -> ApiResult<TransactionData> {
    let row: Option<(String, String, String, String, Option<i64>, i64)> = sqlx::query_as(
        "SELECT kind, status, user_id, operator_id, client_timestamp, created_at FROM transactions WHERE tguid = $1",
    )
    .bind(tguid)
    .fetch_optional(db)
    .await?;
    let (kind, status, user_id, operator_id, client_ts, created_at) =
        row.ok_or_else(|| ApiError::new(ErrorCode::TransactionNotFound, format!("no transaction with id {tguid}")))?;
    Ok(TransactionData {
        id: tguid.to_owned(),
        user_id,
        operator_id,
        kind: TransactionType::parse(&kind).unwrap_or(TransactionType::Enroll),
        status: TransactionStatus::parse(&status).unwrap_or(TransactionStatus::Error),
        timestamp: client_ts.unwrap_or(created_at),
        psbio_tcn: None,
        biometrics: biometrics_of(db, tguid).await?,
    })
}

/// Why a person is deleted (`mot` path segment of `deletePSBioPerson`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeletionMotive {
    /// `E`: enrolled by mistake.
    Error,
    /// `F`: fraudulent enrollment.
    Fraud,
}

impl DeletionMotive {
    /// Parses the documented `E` / `F` values.
    pub fn parse(s: &str) -> ApiResult<Self> {
        match s {
            "E" => Ok(Self::Error),
            "F" => Ok(Self::Fraud),
            other => Err(ApiError::new(ErrorCode::InvalidField, format!("mot must be E (error) or F (fraud), got {other:?}"))),
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Self::Error => "E",
            Self::Fraud => "F",
        }
    }
}

/// Deletes the person with key `cpf`: their biometrics and person record go, an audit row and a
/// `DELETE` transaction stay. Done synchronously, so the answer is already `DELETE_OK`.
///
/// The person also leaves the in-memory fingerprint gallery, after the commit, so they can
/// neither be matched by deduplication nor verified again.
pub async fn delete_person(
    state: &AppState,
    caller: &Caller,
    cpf: &str,
    motive: Option<DeletionMotive>,
) -> ApiResult<ExternalResult> {
    let db = &state.db;
    let mut dbtx = crate::db::begin_write(db).await?;
    let person: Option<(String, String)> =
        sqlx::query_as("SELECT person_guid, tguid FROM people WHERE user_id = $1").bind(cpf).fetch_optional(&mut *dbtx).await?;
    let (person_guid, enroll_tguid) =
        person.ok_or_else(|| ApiError::new(ErrorCode::PersonNotFound, format!("no person with key {cpf}")))?;
    let now = now_ms();
    let tguid = Uuid::new_v4().to_string();
    let message = format!("Person {cpf} deleted");
    sqlx::query(
        "INSERT INTO transactions (tguid, kind, status, message, user_id, operator_id, person_guid, submitted_by, created_at, updated_at)
         VALUES ($1, 'DELETE', $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&tguid)
    .bind(TransactionStatus::DeleteOk.as_str())
    .bind(&message)
    .bind(cpf)
    .bind(&caller.document)
    .bind(&person_guid)
    .bind(&caller.document)
    .bind(now)
    .bind(now)
    .execute(&mut *dbtx)
    .await?;
    sqlx::query("DELETE FROM biometrics WHERE tguid IN (SELECT tguid FROM transactions WHERE user_id = $1 AND kind = 'ENROLL')")
        .bind(cpf)
        .execute(&mut *dbtx)
        .await?;
    sqlx::query("UPDATE transactions SET biographics = '[]', missing = '[]' WHERE tguid = $1")
        .bind(&enroll_tguid)
        .execute(&mut *dbtx)
        .await?;
    sqlx::query("DELETE FROM people WHERE person_guid = $1").bind(&person_guid).execute(&mut *dbtx).await?;
    sqlx::query("INSERT INTO deletions (tguid, user_id, person_guid, motive, deleted_by, deleted_at) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(&tguid)
        .bind(cpf)
        .bind(&person_guid)
        .bind(motive.map(|m| m.as_str()))
        .bind(&caller.document)
        .bind(now)
        .execute(&mut *dbtx)
        .await?;
    dbtx.commit().await?;
    state.gallery.remove(&person_guid);
    Ok(ExternalResult { id: tguid, message, status: TransactionStatus::DeleteOk })
}

/// `GET /delete/{id}`: the result of a deletion.
pub async fn delete_result(db: &AnyPool, tguid: &str) -> ApiResult<ExternalResult> {
    let kind: Option<(String,)> = sqlx::query_as("SELECT kind FROM transactions WHERE tguid = $1").bind(tguid).fetch_optional(db).await?;
    match kind {
        Some((k,)) if k == TransactionType::Delete.as_str() => crate::enrollment::result(db, tguid).await,
        _ => Err(ApiError::new(ErrorCode::TransactionNotFound, format!("no deletion with id {tguid}"))),
    }
}
