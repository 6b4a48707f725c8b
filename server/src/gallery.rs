//! The in-memory 1:N gallery of enrolled fingers, for deduplication at enrollment.
//!
//! One `fingerprint::Gallery` per finger position (0–9), so a probe finger is only searched
//! against the same finger of other people (same-finger index). It is built from the
//! `finger_templates` table at start-up and updated after every enrollment that creates a person
//! and every deletion, always *after* the SQLite commit — SQLite stays the truth, and a crash
//! loses nothing the next start does not rebuild.
//!
//! The engine's gallery cannot remove entries, so a deletion retires the person's id: their
//! entries stay in memory until the next start but are filtered out of every search, and each
//! search asks the engine for as many extra candidates as there are retired entries so the
//! filter never crowds out a live mate. Deletions are rare admin actions; memory is reclaimed by
//! the reload at the next start.

use std::collections::HashMap;
use std::sync::RwLock;

use fingerprint::Gallery;
use sqlx::SqlitePool;
use wire::BiometricIndex;

use crate::templates::FingerTemplate;

/// An enrolled person as the gallery knows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnrolledPerson {
    pub person_guid: String,
    pub key: String,
    pub tguid: String,
}

/// A person some probe finger hit at or above the score floor.
#[derive(Debug, Clone)]
pub struct Hit {
    pub person: EnrolledPerson,
    /// The best single-finger score that put them on the list.
    pub best_score: f32,
}

#[derive(Default)]
struct Inner {
    /// One engine gallery per finger position 0–9; entry ids are our person ids.
    fingers: Vec<Gallery>,
    /// Live people by id; a retired id is absent.
    people: HashMap<u64, EnrolledPerson>,
    /// Person GUID → id.
    ids: HashMap<String, u64>,
    next_id: u64,
    /// Entries of retired (deleted) people still inside `fingers`.
    retired_entries: usize,
    /// Gallery entries each live person has, so retiring them counts what stays behind.
    entries_of: HashMap<u64, usize>,
}

/// The gallery of every enrolled person's usable fingers, safe to share between tasks.
pub struct PeopleGallery {
    inner: RwLock<Inner>,
    min_minutiae: usize,
}

/// Candidates asked from the engine per finger, on top of the retired entries.
const CANDIDATES_PER_FINGER: usize = 8;

impl PeopleGallery {
    /// An empty gallery that admits only templates with at least `min_minutiae` minutiae.
    pub fn new(min_minutiae: usize) -> Self {
        let inner = Inner { fingers: (0..10).map(|_| Gallery::new()).collect(), ..Inner::default() };
        Self { inner: RwLock::new(inner), min_minutiae }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Inner> {
        self.inner.read().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Inner> {
        self.inner.write().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Adds a person's fingers (CPU: one edge table per finger; call on the blocking pool).
    /// Fingers below the minutiae floor are left out; a person already present is ignored.
    pub fn add(&self, person: EnrolledPerson, fingers: &[FingerTemplate]) {
        let mut inner = self.write();
        if inner.ids.contains_key(&person.person_guid) {
            return;
        }
        let id = inner.next_id;
        inner.next_id += 1;
        let mut added = 0;
        for f in fingers.iter().filter(|f| f.is_usable(self.min_minutiae)) {
            inner.fingers[f.index.code() as usize].insert(id, &f.template);
            added += 1;
        }
        inner.entries_of.insert(id, added);
        inner.ids.insert(person.person_guid.clone(), id);
        inner.people.insert(id, person);
    }

    /// Retires a deleted person: they are never returned by a search again.
    pub fn remove(&self, person_guid: &str) {
        let mut inner = self.write();
        if let Some(id) = inner.ids.remove(person_guid) {
            inner.people.remove(&id);
            let entries = inner.entries_of.remove(&id).unwrap_or(0);
            inner.retired_entries += entries;
        }
    }

    /// Live people in the gallery.
    pub fn people(&self) -> usize {
        self.read().people.len()
    }

    /// Searches every usable probe finger against the same finger of everyone enrolled and
    /// returns the people any finger scored at least `min_score` with, best first. CPU-bound
    /// (the engine splits each search over the cores); call on the blocking pool.
    pub fn search(&self, probe: &[FingerTemplate], min_score: f32) -> Vec<Hit> {
        let inner = self.read();
        let top = CANDIDATES_PER_FINGER + inner.retired_entries;
        let mut best: HashMap<u64, f32> = HashMap::new();
        for f in probe.iter().filter(|f| f.is_usable(self.min_minutiae)) {
            for c in inner.fingers[f.index.code() as usize].search(&f.template, top, min_score) {
                if inner.people.contains_key(&c.id) {
                    let slot = best.entry(c.id).or_insert(c.score);
                    *slot = slot.max(c.score);
                }
            }
        }
        let mut hits: Vec<Hit> = best
            .into_iter()
            .filter_map(|(id, best_score)| inner.people.get(&id).map(|p| Hit { person: p.clone(), best_score }))
            .collect();
        hits.sort_by(|a, b| b.best_score.total_cmp(&a.best_score).then_with(|| a.person.key.cmp(&b.person.key)));
        hits
    }
}

type TemplateRow = (String, String, String, i64, Vec<u8>);

/// Reads every stored template of every enrolled person, grouped by person, in enrollment order.
pub async fn stored_people(db: &SqlitePool) -> sqlx::Result<Vec<(EnrolledPerson, Vec<FingerTemplate>)>> {
    let rows: Vec<TemplateRow> = sqlx::query_as(
        "SELECT p.person_guid, p.user_id, p.tguid, f.idx, f.template
         FROM people p JOIN finger_templates f ON f.person_guid = p.person_guid
         ORDER BY p.created_at, p.person_guid, f.idx",
    )
    .fetch_all(db)
    .await?;
    let mut out: Vec<(EnrolledPerson, Vec<FingerTemplate>)> = Vec::new();
    for (person_guid, key, tguid, idx, bytes) in rows {
        let Some(finger) = decode_row(&person_guid, idx, &bytes) else { continue };
        match out.last_mut() {
            Some((p, fingers)) if p.person_guid == person_guid => fingers.push(finger),
            _ => out.push((EnrolledPerson { person_guid, key, tguid }, vec![finger])),
        }
    }
    Ok(out)
}

/// Decodes one stored template; a row the engine no longer reads is skipped with a warning
/// (the person stays enrolled, that finger simply cannot be matched until re-enrollment).
pub fn decode_row(person_guid: &str, idx: i64, bytes: &[u8]) -> Option<FingerTemplate> {
    let index = BiometricIndex::from_code(idx).filter(|i| i.is_finger());
    match (index, fingerprint::Template::from_bytes(bytes)) {
        (Some(index), Ok(template)) => Some(FingerTemplate { index, template }),
        (_, Err(e)) => {
            tracing::warn!(person = person_guid, idx, error = %e, "stored template unreadable; finger skipped");
            None
        }
        (None, _) => {
            tracing::warn!(person = person_guid, idx, "stored template at a non-finger index; skipped");
            None
        }
    }
}
