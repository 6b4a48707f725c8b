//! Verify (1:1, SPID §7): are these fingers the person whose key is `userId`?
//!
//! A few fingers against one person is milliseconds of matching plus the extraction of the
//! probe images (tens of ms each, on the blocking pool), so the verification runs within the
//! `POST` and the transaction is stored once, already in its final state (`SEARCH_MATCH`,
//! `SEARCH_NOT_MATCH` or `SEARCH_FAILED`): a crash can never leave a verify half done, and a
//! client that polls `GET /verify/{tguid}` as the spec's `SEARCH_ENQUEUED → SEARCH_PENDING →`
//! progression suggests simply finds the final answer on its first poll. Probe images are not
//! stored (they served one comparison); the transaction keeps the scores.

use sqlx::AnyPool;
use uuid::Uuid;
use wire::search::MatchResult;
use wire::spid::{TransactionStatus, TransactionType, UserTransaction};
use wire::{BiometricIndex, ErrorCode};

use crate::clock::now_ms;
use crate::dedup::blocking;
use crate::error::{ApiError, ApiResult};
use crate::extract::Caller;
use crate::gallery::EnrolledPerson;
use crate::{images, matching, templates, AppState};

/// Validates the request, compares its fingers with the claimed person and stores the result.
pub async fn verify(state: &AppState, caller: &Caller, tx: UserTransaction) -> ApiResult<MatchResult> {
    let checked = images::check_transaction(&tx, &state.config.limits, state.config.max_image_pixels)?;
    let config = &state.config.fingerprint;
    let person: Option<(String, String)> = sqlx::query_as("SELECT person_guid, tguid FROM people WHERE user_id = $1")
        .bind(&tx.user_id)
        .fetch_optional(&state.db)
        .await?;
    let tguid = Uuid::new_v4().to_string();
    let mut result = MatchResult { id: tguid.clone(), message: String::new(), status: TransactionStatus::SearchFailed, threshold: None, candidates: vec![] };
    match person {
        None => result.message = format!("person not found: no enrolled person with key {}", tx.user_id),
        Some((person_guid, enroll_tguid)) => {
            let enrolled = matching::templates_of(&state.db, &person_guid).await?;
            let min = config.min_minutiae;
            let scores = blocking(move || {
                let probe = templates::extract_fingers(
                    checked.iter().filter_map(|c| Some((BiometricIndex::from_code(c.index.into())?, c.bytes.as_slice(), c.resolution))),
                );
                matching::compare(&probe, &enrolled, min)
            })
            .await?;
            let person = EnrolledPerson { person_guid, key: tx.user_id.clone(), tguid: enroll_tguid };
            if scores.is_empty() {
                result.message = format!(
                    "no finger of the request could be compared with person {}: they have no usable enrolled print at those positions, or the images hold no usable print",
                    tx.user_id
                );
            } else {
                let candidate = matching::candidate(&person, scores);
                let matched = candidate.score >= config.threshold;
                result.status = if matched { TransactionStatus::SearchMatch } else { TransactionStatus::SearchNotMatch };
                result.message = format!(
                    "{}: {} against threshold {:.2}",
                    if matched { "Verification matched" } else { "Verification did not match" },
                    matching::describe(&candidate),
                    config.threshold
                );
                result.threshold = Some(config.threshold);
                result.candidates = vec![candidate];
            }
        }
    }
    store(&state.db, caller, &tx, &result).await?;
    Ok(result)
}

async fn store(db: &AnyPool, caller: &Caller, tx: &UserTransaction, result: &MatchResult) -> ApiResult<()> {
    let now = now_ms();
    let mut dbtx = crate::db::begin_write(db).await?;
    sqlx::query(
        "INSERT INTO transactions (tguid, kind, status, message, user_id, operator_id, client_timestamp, person_guid, submitted_by, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(&result.id)
    .bind(TransactionType::Verify.as_str())
    .bind(result.status.as_str())
    .bind(&result.message)
    .bind(&tx.user_id)
    .bind(&tx.operator_id)
    .bind(tx.timestamp)
    .bind(result.candidates.first().map(|c| c.person_guid.as_str()))
    .bind(&caller.document)
    .bind(now)
    .bind(now)
    .execute(&mut *dbtx)
    .await?;
    if let Some(threshold) = result.threshold {
        matching::store_match_result(&mut dbtx, &result.id, threshold, &result.candidates).await?;
    }
    dbtx.commit().await?;
    Ok(())
}

/// `GET /verify/{tguid}`: a verify transaction's result with its scores.
pub async fn result(db: &AnyPool, tguid: &str) -> ApiResult<MatchResult> {
    let kind: Option<(String,)> = sqlx::query_as("SELECT kind FROM transactions WHERE tguid = $1").bind(tguid).fetch_optional(db).await?;
    match kind {
        Some((k,)) if k == TransactionType::Verify.as_str() => {
            matching::with_match_details(db, crate::enrollment::result(db, tguid).await?).await
        }
        _ => Err(ApiError::new(ErrorCode::TransactionNotFound, format!("no verify transaction with id {tguid}"))),
    }
}
