//! Enrollment: accept a transaction (validated, stored, idempotent), then process it in the
//! background into a person or a rejection the client can poll.

use sqlx::AnyPool;
use uuid::Uuid;
use wire::spid::{EnrollStatus, ExternalResult, TransactionStatus, TransactionType, UserTransaction};
use wire::ErrorCode;

use crate::clock::now_ms;
use crate::error::{ApiError, ApiResult};
use crate::extract::Caller;
use crate::images::{self, CheckedImage};
use crate::AppState;

/// Outcome of a submission: the result to return, and whether it was a replay of an earlier
/// submission with the same idempotency key (answered 200 instead of 201).
#[derive(Debug)]
pub struct Submission {
    pub result: ExternalResult,
    pub replayed: bool,
}

/// Validates and stores an enrollment. Nothing is written unless every check passes.
pub async fn submit(
    state: &AppState,
    caller: &Caller,
    tx: UserTransaction,
    idempotency_key: Option<&str>,
    body_sha256: &str,
) -> ApiResult<Submission> {
    let checked = images::check_transaction(&tx, &state.config.limits, state.config.max_image_pixels)?;

    if let Some(key) = idempotency_key {
        if let Some(existing) = replay(&state.db, key, body_sha256).await? {
            return Ok(Submission { result: existing, replayed: true });
        }
    }

    let tguid = Uuid::new_v4().to_string();
    let message = "Enrollment enqueued";
    let (reply, answer) = tokio::sync::oneshot::channel();
    let write = PendingWrite {
        tguid: tguid.clone(),
        tx,
        images: checked,
        idempotency_key: idempotency_key.map(str::to_owned),
        body_sha256: body_sha256.to_owned(),
        submitted_by: caller.document.clone(),
        reply,
    };
    state
        .enrollment_writer
        .send(write)
        .await
        .map_err(|_| ApiError::new(ErrorCode::Unavailable, "the server is shutting down; retry"))?;
    let outcome = answer.await.map_err(|_| ApiError::new(ErrorCode::Unavailable, "the write was abandoned; retry"))??;
    match (outcome, idempotency_key) {
        (WriteOutcome::Stored, _) => Ok(Submission {
            result: ExternalResult { id: tguid, message: message.into(), status: TransactionStatus::EnrollEnqueued },
            replayed: false,
        }),
        // A concurrent request with the same key was stored first: answer with its result.
        (WriteOutcome::KeyTaken, Some(key)) => match replay(&state.db, key, body_sha256).await? {
            Some(existing) => Ok(Submission { result: existing, replayed: true }),
            None => Err(ApiError::new(ErrorCode::Unavailable, "concurrent submission in progress; retry")),
        },
        (WriteOutcome::KeyTaken, None) => Err(ApiError::new(ErrorCode::Internal, "idempotency conflict without a key")),
    }
}

/// An accepted enrollment waiting for the writer.
pub struct PendingWrite {
    tguid: String,
    tx: UserTransaction,
    images: Vec<CheckedImage>,
    idempotency_key: Option<String>,
    body_sha256: String,
    submitted_by: String,
    reply: tokio::sync::oneshot::Sender<ApiResult<WriteOutcome>>,
}

/// What the writer did with one pending enrollment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteOutcome {
    /// Stored and durable.
    Stored,
    /// Not stored: its idempotency key was used first by another request.
    KeyTaken,
}

/// Most enrollments committed in one transaction.
const MAX_GROUP: usize = 64;

/// Group commit: the only task that writes new enrollments. It takes every enrollment that is
/// waiting, stores them in one write transaction ([`crate::db::begin_write`]) and answers each after
/// the shared commit — so one WAL fsync (SQLite `synchronous=FULL`; one WAL flush on PostgreSQL)
/// makes a whole group durable instead of one request each, and no request is answered before its data is on disk.
pub async fn run_writer(db: AnyPool, work: std::sync::Arc<tokio::sync::Notify>, mut inbox: tokio::sync::mpsc::Receiver<PendingWrite>) {
    while let Some(first) = inbox.recv().await {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match inbox.try_recv() {
                Ok(next) => group.push(next),
                Err(_) => break,
            }
        }
        match write_group(&db, &group).await {
            Ok(outcomes) => {
                for (pending, outcome) in group.into_iter().zip(outcomes) {
                    let _ = pending.reply.send(Ok(outcome));
                }
                work.notify_one();
            }
            Err(e) => {
                tracing::warn!(error = %e, size = group.len(), "enrollment group write failed");
                for pending in group {
                    let _ = pending.reply.send(Err(ApiError::new(e.code, e.message.clone())));
                }
            }
        }
    }
}

async fn write_group(db: &AnyPool, group: &[PendingWrite]) -> ApiResult<Vec<WriteOutcome>> {
    let now = now_ms();
    let mut dbtx = crate::db::begin_write(db).await?;
    let mut outcomes = Vec::with_capacity(group.len());
    for p in group {
        // Inside the write transaction this check cannot race: the write lock is ours.
        if let Some(key) = &p.idempotency_key {
            let taken: Option<(String,)> =
                sqlx::query_as("SELECT tguid FROM idempotency_keys WHERE key = $1").bind(key).fetch_optional(&mut *dbtx).await?;
            if taken.is_some() {
                outcomes.push(WriteOutcome::KeyTaken);
                continue;
            }
        }
        sqlx::query(
            "INSERT INTO transactions (tguid, kind, status, message, user_id, operator_id, client_timestamp, biographics, missing, submitted_by, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(&p.tguid)
        .bind(TransactionType::Enroll.as_str())
        .bind(TransactionStatus::EnrollEnqueued.as_str())
        .bind("Enrollment enqueued")
        .bind(&p.tx.user_id)
        .bind(&p.tx.operator_id)
        .bind(p.tx.timestamp)
        .bind(serde_json::to_string(&p.tx.biographics).unwrap_or_else(|_| "[]".into()))
        .bind(serde_json::to_string(&p.tx.missing_biometrics).unwrap_or_else(|_| "[]".into()))
        .bind(&p.submitted_by)
        .bind(now)
        .bind(now)
        .execute(&mut *dbtx)
        .await?;
        for img in &p.images {
            sqlx::query("INSERT INTO biometrics (tguid, idx, format, width, height, resolution, content) VALUES ($1, $2, $3, $4, $5, $6, $7)")
                .bind(&p.tguid)
                .bind(img.index as i64)
                .bind(img.format.as_str())
                .bind(img.width as i64)
                .bind(img.height as i64)
                .bind(img.resolution.map(|r| r as i64))
                .bind(&img.bytes)
                .execute(&mut *dbtx)
                .await?;
        }
        if let Some(key) = &p.idempotency_key {
            sqlx::query("INSERT INTO idempotency_keys (key, body_sha256, tguid, created_at) VALUES ($1, $2, $3, $4)")
                .bind(key)
                .bind(&p.body_sha256)
                .bind(&p.tguid)
                .bind(now)
                .execute(&mut *dbtx)
                .await?;
        }
        outcomes.push(WriteOutcome::Stored);
    }
    dbtx.commit().await?;
    Ok(outcomes)
}

async fn replay(db: &AnyPool, key: &str, body_sha256: &str) -> ApiResult<Option<ExternalResult>> {
    let row: Option<(String, String)> = sqlx::query_as("SELECT body_sha256, tguid FROM idempotency_keys WHERE key = $1")
        .bind(key)
        .fetch_optional(db)
        .await?;
    match row {
        None => Ok(None),
        Some((hash, tguid)) if hash == body_sha256 => Ok(Some(result(db, &tguid).await?)),
        Some(_) => Err(ApiError::new(
            ErrorCode::IdempotencyConflict,
            format!("Idempotency-Key {key} was already used for a different request body"),
        )),
    }
}

/// The current `ExternalResult` of any transaction.
pub async fn result(db: &AnyPool, tguid: &str) -> ApiResult<ExternalResult> {
    let row: Option<(String, String)> =
        sqlx::query_as("SELECT status, message FROM transactions WHERE tguid = $1").bind(tguid).fetch_optional(db).await?;
    let (status, message) =
        row.ok_or_else(|| ApiError::new(ErrorCode::TransactionNotFound, format!("no transaction with id {tguid}")))?;
    let status = TransactionStatus::parse(&status)
        .ok_or_else(|| ApiError::new(ErrorCode::Internal, format!("stored status {status} is unknown")))?;
    Ok(ExternalResult { id: tguid.to_owned(), message, status })
}

/// Processes every queued enrollment, oldest first. Returns how many were decided.
///
/// A transaction becomes a person (`ENROLL_OK`) unless a person with the same key is already
/// enrolled, or its fingerprints match an enrolled person's ([`crate::dedup`]) — then it is
/// `ENROLL_REJECTED`, with the existing person named in the message. Runs again after a
/// restart, so a crash between accept and decision loses nothing.
pub async fn process_pending(state: &AppState) -> ApiResult<usize> {
    let db = &state.db;
    let pending: Vec<(String, String)> = sqlx::query_as(
        "SELECT tguid, user_id FROM transactions WHERE kind = 'ENROLL' AND status IN ('ENROLL_ENQUEUED', 'ENROLL_PENDING') ORDER BY created_at",
    )
    .fetch_all(db)
    .await?;
    let mut decided = 0;
    for (tguid, user_id) in pending {
        let screening = crate::dedup::screen(state, &tguid).await?;
        let mut dbtx = crate::db::begin_write(db).await?;
        let existing: Option<(String,)> =
            sqlx::query_as("SELECT person_guid FROM people WHERE user_id = $1").bind(&user_id).fetch_optional(&mut *dbtx).await?;
        let now = now_ms();
        let (status, message, person_guid) = match existing {
            Some((person,)) => (
                TransactionStatus::EnrollRejected,
                format!("a person with key {user_id} is already enrolled (person-guid {person})"),
                None,
            ),
            None if screening.rejection().is_some() => {
                (TransactionStatus::EnrollRejected, screening.rejection().unwrap_or_default(), None)
            }
            None => {
                let person = Uuid::new_v4().to_string();
                sqlx::query("INSERT INTO people (person_guid, user_id, tguid, enroll_status, created_at) VALUES ($1, $2, $3, $4, $5)")
                    .bind(&person)
                    .bind(&user_id)
                    .bind(&tguid)
                    .bind(EnrollStatus::Enrolled.as_str())
                    .bind(now)
                    .execute(&mut *dbtx)
                    .await?;
                (TransactionStatus::EnrollOk, "Person enrolled".to_owned(), Some(person))
            }
        };
        let updated = sqlx::query(
            "UPDATE transactions SET status = $1, message = $2, person_guid = $3, updated_at = $4 WHERE tguid = $5 AND status IN ('ENROLL_ENQUEUED', 'ENROLL_PENDING')",
        )
        .bind(status.as_str())
        .bind(&message)
        .bind(&person_guid)
        .bind(now)
        .bind(&tguid)
        .execute(&mut *dbtx)
        .await?;
        if updated.rows_affected() == 1 {
            crate::dedup::record(&mut dbtx, &tguid, person_guid.as_deref(), &screening).await?;
            dbtx.commit().await?;
            if let Some(person_guid) = person_guid {
                let person = crate::gallery::EnrolledPerson { person_guid, key: user_id, tguid };
                crate::dedup::admit(state, person, screening).await?;
            }
            decided += 1;
        } else {
            dbtx.rollback().await?;
        }
    }
    Ok(decided)
}

/// Background task: decides queued enrollments whenever one arrives (and every few seconds, in
/// case a notification was missed).
pub async fn run_worker(state: AppState) {
    while let Err(e) = crate::dedup::load_gallery(&state).await {
        tracing::warn!(error = %e, "loading the fingerprint gallery failed; will retry");
        tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    }
    loop {
        if let Err(e) = process_pending(&state).await {
            tracing::warn!(error = %e, "enrollment processing failed; will retry");
        }
        if let Err(e) = crate::dedup::compact_gallery_if_needed(&state).await {
            tracing::warn!(error = %e, "compacting the fingerprint gallery failed; searches still skip deleted people");
        }
        tokio::select! {
            _ = state.enrollment_work.notified() => {}
            _ = tokio::time::sleep(std::time::Duration::from_secs(2)) => {}
        }
    }
}
