//! Deduplication (1:N) in the enrollment decision worker, and the gallery's life cycle.
//!
//! For each queued enrollment the worker calls [`screen`] *before* taking the write lock:
//! it extracts a template per finger image (blocking pool), searches the gallery for people any
//! finger matches at or above the threshold, then compares each such person on every finger the
//! two share and keeps those whose fused score reaches the threshold. Inside the decision
//! transaction, [`Screening::rejection`] turns a hit into `ENROLL_REJECTED` naming the matched
//! person and score, and [`record`] stores the new person's templates (or the hit's match
//! details). After the commit, [`admit`] adds the person to the gallery. The worker decides one
//! enrollment at a time, so two captures of one person submitted together cannot both pass.

use sqlx::{Any, AnyPool, Transaction};
use wire::search::Candidate;
use wire::BiometricIndex;
use wire::ErrorCode;

use crate::error::{ApiError, ApiResult};
use crate::gallery::EnrolledPerson;
use crate::matching;
use crate::templates::{self, FingerTemplate};
use crate::AppState;

/// Most gallery hits re-scored on all fingers per enrollment (the best single-finger first).
const MAX_RESCORED: usize = 16;

/// What screening found for one enrollment.
pub struct Screening {
    fingers: Vec<FingerTemplate>,
    /// Enrolled people at or above the threshold, best fused score first.
    matches: Vec<Candidate>,
    threshold: f32,
}

impl Screening {
    /// Why the enrollment must be rejected as a biometric duplicate, if it must.
    pub fn rejection(&self) -> Option<String> {
        let best = self.matches.first()?;
        Some(format!(
            "biometric duplicate: the fingerprints match already enrolled {} at or above threshold {:.2}",
            matching::describe(best),
            self.threshold
        ))
    }
}

/// Runs `f` on the blocking pool (CPU work must not stall the async executor).
pub(crate) async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> ApiResult<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::new(ErrorCode::Internal, format!("fingerprint task failed: {e}")))
}

type ImageRow = (i64, Option<i64>, Vec<u8>);

async fn finger_images(db: &AnyPool, tguid: &str) -> sqlx::Result<Vec<(BiometricIndex, Option<u32>, Vec<u8>)>> {
    let rows: Vec<ImageRow> =
        sqlx::query_as("SELECT idx, resolution, content FROM biometrics WHERE tguid = $1 AND idx BETWEEN 0 AND 9 ORDER BY idx")
            .bind(tguid)
            .fetch_all(db)
            .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(idx, dpi, bytes)| Some((BiometricIndex::from_code(idx)?, dpi.map(|d| d as u32), bytes)))
        .collect())
}

async fn extract_from_images(images: Vec<(BiometricIndex, Option<u32>, Vec<u8>)>) -> ApiResult<Vec<FingerTemplate>> {
    blocking(move || templates::extract_fingers(images.iter().map(|(i, dpi, b)| (*i, b.as_slice(), *dpi)))).await
}

/// Extracts the enrollment's finger templates and, when dedup is on, finds the enrolled people
/// they match. Reads only; nothing is written.
pub async fn screen(state: &AppState, tguid: &str) -> ApiResult<Screening> {
    let config = &state.config.fingerprint;
    let fingers = extract_from_images(finger_images(&state.db, tguid).await?).await?;
    let mut screening = Screening { fingers, matches: vec![], threshold: config.threshold };
    if !config.dedup || screening.fingers.is_empty() {
        return Ok(screening);
    }
    let (gallery, threshold, min) = (state.gallery.clone(), config.threshold, config.min_minutiae);
    let fingers = std::mem::take(&mut screening.fingers);
    let (fingers, hits) = blocking(move || {
        let hits = gallery.search(&fingers, threshold);
        (fingers, hits)
    })
    .await?;
    let mut enrolled = Vec::with_capacity(hits.len().min(MAX_RESCORED));
    for hit in hits.into_iter().take(MAX_RESCORED) {
        let templates = matching::templates_of(&state.db, &hit.person.person_guid).await?;
        enrolled.push((hit.person, templates));
    }
    let (fingers, matches) = blocking(move || {
        let mut matches: Vec<Candidate> = enrolled
            .iter()
            .map(|(person, templates)| matching::candidate(person, matching::compare(&fingers, templates, min)))
            .filter(|c| c.score >= threshold)
            .collect();
        matches.sort_by(|a, b| b.score.total_cmp(&a.score));
        (fingers, matches)
    })
    .await?;
    screening.fingers = fingers;
    screening.matches = matches;
    Ok(screening)
}

/// Stores, inside the decision transaction, the new person's templates (when `person_guid` is
/// the person just created) or the match details of a rejection.
pub async fn record(
    dbtx: &mut Transaction<'_, Any>,
    tguid: &str,
    person_guid: Option<&str>,
    screening: &Screening,
) -> ApiResult<()> {
    if let Some(person) = person_guid {
        store_templates(dbtx, person, &screening.fingers).await?;
    } else if !screening.matches.is_empty() {
        matching::store_match_result(dbtx, tguid, screening.threshold, &screening.matches).await?;
    }
    Ok(())
}

async fn store_templates(dbtx: &mut Transaction<'_, Any>, person_guid: &str, fingers: &[FingerTemplate]) -> ApiResult<()> {
    for f in fingers {
        sqlx::query("INSERT INTO finger_templates (person_guid, idx, template, minutiae) VALUES ($1, $2, $3, $4)
             ON CONFLICT (person_guid, idx) DO UPDATE SET template = excluded.template, minutiae = excluded.minutiae")
            .bind(person_guid)
            .bind(f.index.code() as i64)
            .bind(f.to_bytes())
            .bind(f.template.minutiae.len() as i64)
            .execute(&mut **dbtx)
            .await?;
    }
    Ok(())
}

/// Adds a person created by a committed enrollment to the gallery.
pub async fn admit(state: &AppState, person: EnrolledPerson, screening: Screening) -> ApiResult<()> {
    let gallery = state.gallery.clone();
    blocking(move || gallery.add(person, &screening.fingers)).await
}

/// Start-up: extracts the templates of people enrolled before templates existed (or whose
/// templates were lost), then loads every stored template into the gallery. The worker calls it
/// before deciding anything, so no enrollment is screened against a partial gallery.
pub async fn load_gallery(state: &AppState) -> ApiResult<()> {
    backfill(state).await?;
    let people = crate::gallery::stored_people(&state.db).await?;
    let gallery = state.gallery.clone();
    let count = people.len();
    blocking(move || {
        for (person, fingers) in people {
            gallery.add(person, &fingers);
        }
    })
    .await?;
    tracing::info!(people = count, "fingerprint gallery loaded");
    Ok(())
}

/// Rebuilds the gallery from the database when deleted people's entries have piled up
/// ([`crate::gallery::PeopleGallery::needs_compaction`]). Runs on the decision worker between two
/// decisions, the only place people are added, so nobody admitted meanwhile can be missed.
pub async fn compact_gallery_if_needed(state: &AppState) -> ApiResult<()> {
    if !state.gallery.needs_compaction() {
        return Ok(());
    }
    let retired = state.gallery.retired_entries();
    state.gallery.begin_rebuild();
    let people = crate::gallery::stored_people(&state.db).await?;
    let gallery = state.gallery.clone();
    blocking(move || gallery.rebuild(people)).await?;
    tracing::info!(retired, people = state.gallery.people(), "fingerprint gallery compacted");
    Ok(())
}

async fn backfill(state: &AppState) -> ApiResult<()> {
    let missing: Vec<(String, String)> = sqlx::query_as(
        "SELECT DISTINCT p.person_guid, p.tguid FROM people p JOIN biometrics b ON b.tguid = p.tguid
         WHERE b.idx BETWEEN 0 AND 9
           AND NOT EXISTS (SELECT 1 FROM finger_templates f WHERE f.person_guid = p.person_guid AND f.idx = b.idx)",
    )
    .fetch_all(&state.db)
    .await?;
    for (person_guid, tguid) in missing {
        let fingers = extract_from_images(finger_images(&state.db, &tguid).await?).await?;
        let mut dbtx = crate::db::begin_write(&state.db).await?;
        let still_enrolled: Option<(String,)> =
            sqlx::query_as("SELECT person_guid FROM people WHERE person_guid = $1").bind(&person_guid).fetch_optional(&mut *dbtx).await?;
        if still_enrolled.is_some() {
            store_templates(&mut dbtx, &person_guid, &fingers).await?;
        }
        dbtx.commit().await?;
    }
    Ok(())
}
