//! 1:1 comparison of a probe's fingers with one enrolled person, and the fused decision shared
//! by verify and deduplication.
//!
//! Each finger is compared only with the same finger of the person. The per-finger scores are
//! fused by their mean: with one finger that is exactly the engine's documented score, so the
//! threshold measured for a false-match rate of 1:10,000 per comparison
//! (`fingerprint::matcher::FMR_1_IN_10000_THRESHOLD`, `docs/benchmarks/fpengine.md`) applies unchanged; with several fingers the mean of
//! impostor scores concentrates near the impostor average, so the false-match rate of the fused
//! decision can only fall. (The engine's `fuse_scores` is the plain sum, whose impostor level
//! grows with the number of fingers and would need a threshold per finger count.) A mean at or
//! above the threshold implies at least one finger at or above it, which is why the 1:N
//! candidate search may use the threshold as its floor.

use fingerprint::Matcher;
use sqlx::AnyPool;
use wire::search::{Candidate, MatchInfo, MatchResult};
use wire::spid::ExternalResult;
use wire::ErrorCode;

use crate::error::{ApiError, ApiResult};

use crate::gallery::{decode_row, EnrolledPerson};
use crate::templates::FingerTemplate;

/// The score of every finger the probe and the person both have in usable form, best first.
/// CPU-bound (about 0.1–0.2 ms per finger); call on the blocking pool.
pub fn compare(probe: &[FingerTemplate], enrolled: &[FingerTemplate], min_minutiae: usize) -> Vec<MatchInfo> {
    let mut matcher = Matcher::default();
    let mut out: Vec<MatchInfo> = probe
        .iter()
        .filter(|p| p.is_usable(min_minutiae))
        .filter_map(|p| {
            let e = enrolled.iter().find(|e| e.index == p.index && e.is_usable(min_minutiae))?;
            let score = round2(matcher.score(&p.prepare(), &e.prepare()));
            Some(MatchInfo { score, query_index: p.index, reference_index: e.index })
        })
        .collect();
    out.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.query_index.cmp(&b.query_index)));
    out
}

/// The fused score of a comparison: the mean of the per-finger scores (`None` when no finger
/// could be compared).
pub fn fused_score(scores: &[MatchInfo]) -> Option<f32> {
    (!scores.is_empty()).then(|| round2(scores.iter().map(|m| m.score.max(0.0)).sum::<f32>() / scores.len() as f32))
}

/// Scores travel with two decimals: the matcher is not more precise than that, and JSON stays readable.
fn round2(x: f32) -> f32 {
    (x * 100.0).round() / 100.0
}

/// A candidate record for the wire, from a comparison with `person`.
pub fn candidate(person: &EnrolledPerson, match_info: Vec<MatchInfo>) -> Candidate {
    Candidate {
        key: person.key.clone(),
        person_guid: person.person_guid.clone(),
        transaction_guid: person.tguid.clone(),
        score: fused_score(&match_info).unwrap_or(0.0),
        biometric_count: match_info.len() as u32,
        match_info,
    }
}

/// The stored templates of one person.
pub async fn templates_of(db: &AnyPool, person_guid: &str) -> sqlx::Result<Vec<FingerTemplate>> {
    let rows: Vec<(i64, Vec<u8>)> =
        sqlx::query_as("SELECT idx, template FROM finger_templates WHERE person_guid = $1 ORDER BY idx")
            .bind(person_guid)
            .fetch_all(db)
            .await?;
    Ok(rows.into_iter().filter_map(|(idx, bytes)| decode_row(person_guid, idx, &bytes)).collect())
}

/// Human summary of a candidate, e.g. `person 52998224725 (score 41.2 over 2 fingers: 6, 3)`.
pub fn describe(c: &Candidate) -> String {
    let fingers: Vec<String> = c.match_info.iter().map(|m| m.query_index.code().to_string()).collect();
    format!(
        "person {} (score {:.1} over {} finger{}: {})",
        c.key,
        c.score,
        c.biometric_count,
        if c.biometric_count == 1 { "" } else { "s" },
        fingers.join(", ")
    )
}

/// Stores the match details of a transaction (inside the caller's write transaction).
pub async fn store_match_result(
    dbtx: &mut sqlx::Transaction<'_, sqlx::Any>,
    tguid: &str,
    threshold: f32,
    candidates: &[Candidate],
) -> sqlx::Result<()> {
    let json = serde_json::to_string(candidates).unwrap_or_else(|_| "[]".into());
    sqlx::query("INSERT INTO match_results (tguid, threshold, candidates) VALUES ($1, $2, $3)
         ON CONFLICT (tguid) DO UPDATE SET threshold = excluded.threshold, candidates = excluded.candidates")
        .bind(tguid)
        .bind(f64::from(threshold))
        .bind(json)
        .execute(&mut **dbtx)
        .await?;
    Ok(())
}

/// `result` with the match details stored for its transaction, if any.
pub async fn with_match_details(db: &AnyPool, result: ExternalResult) -> ApiResult<MatchResult> {
    let row: Option<(f64, String)> =
        sqlx::query_as("SELECT threshold, candidates FROM match_results WHERE tguid = $1").bind(&result.id).fetch_optional(db).await?;
    let mut out = MatchResult::plain(result);
    if let Some((threshold, candidates)) = row {
        out.threshold = Some(threshold as f32);
        out.candidates = serde_json::from_str(&candidates)
            .map_err(|e| ApiError::new(ErrorCode::Internal, format!("stored match details are unreadable: {e}")))?;
    }
    Ok(out)
}
