//! The in-memory 1:N gallery of enrolled fingers, for deduplication at enrollment.
//!
//! One `fingerprint::Gallery` per finger position (0–9), so a probe finger is only searched
//! against the same finger of other people (same-finger index). It is built from the
//! `finger_templates` table at start-up and updated after every enrollment that creates a person
//! and every deletion, always *after* the SQLite commit — SQLite stays the truth, and a crash
//! loses nothing the next start does not rebuild.
//!
//! The engine's gallery cannot remove entries, so a deletion retires the person's id: their
//! entries stay in memory but are filtered out of every search, and each search asks the engine
//! for as many extra candidates as there are retired entries so the filter never crowds out a live
//! mate. Once retired entries are a quarter of the gallery, the decision worker rebuilds it from
//! SQLite between two decisions ([`PeopleGallery::needs_compaction`], [`PeopleGallery::rebuild`]):
//! it is the only caller of `add`, so no admission can be missed, and deletions that land while
//! the rebuild reads are remembered and applied to the new gallery.

use std::collections::HashMap;
use std::sync::RwLock;

use fingerprint::Gallery;
use sqlx::AnyPool;
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
    /// While a rebuild reads SQLite: the people removed since it began (None otherwise).
    removed_during_rebuild: Option<Vec<String>>,
}

impl Inner {
    fn empty() -> Self {
        Inner { fingers: (0..10).map(|_| Gallery::new()).collect(), ..Inner::default() }
    }

    fn add(&mut self, person: EnrolledPerson, fingers: &[FingerTemplate], min_minutiae: usize) {
        if self.ids.contains_key(&person.person_guid) {
            return;
        }
        let id = self.next_id;
        self.next_id += 1;
        let mut added = 0;
        for f in fingers.iter().filter(|f| f.is_usable(min_minutiae)) {
            self.fingers[f.index.code() as usize].insert(id, &f.template);
            added += 1;
        }
        self.entries_of.insert(id, added);
        self.ids.insert(person.person_guid.clone(), id);
        self.people.insert(id, person);
    }

    fn retire(&mut self, person_guid: &str) {
        if let Some(id) = self.ids.remove(person_guid) {
            self.people.remove(&id);
            let entries = self.entries_of.remove(&id).unwrap_or(0);
            self.retired_entries += entries;
        }
    }
}

/// Retired entries from which a rebuild pays, whatever the gallery's size.
const MIN_RETIRED_TO_COMPACT: usize = 64;

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
        Self { inner: RwLock::new(Inner::empty()), min_minutiae }
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
        self.write().add(person, fingers, self.min_minutiae);
    }

    /// Retires a deleted person: they are never returned by a search again.
    pub fn remove(&self, person_guid: &str) {
        let mut inner = self.write();
        inner.retire(person_guid);
        if let Some(removed) = inner.removed_during_rebuild.as_mut() {
            removed.push(person_guid.to_owned());
        }
    }

    /// Whether retired entries are numerous enough (a quarter of all entries, and at least
    /// [`MIN_RETIRED_TO_COMPACT`]) that searches pay more for them than a rebuild costs once.
    pub fn needs_compaction(&self) -> bool {
        let inner = self.read();
        let live: usize = inner.entries_of.values().sum();
        inner.retired_entries >= MIN_RETIRED_TO_COMPACT && inner.retired_entries * 4 >= live + inner.retired_entries
    }

    /// Starts remembering removals; call just before reading the people to rebuild from.
    pub fn begin_rebuild(&self) {
        self.write().removed_during_rebuild = Some(Vec::new());
    }

    /// Replaces the gallery with one holding `people` (read from SQLite after
    /// [`PeopleGallery::begin_rebuild`]), minus anyone removed since: retired entries are gone.
    /// CPU-bound; call on the blocking pool. The caller must be the only one adding people
    /// meanwhile (the decision worker).
    pub fn rebuild(&self, people: Vec<(EnrolledPerson, Vec<FingerTemplate>)>) {
        let mut fresh = Inner::empty();
        for (person, fingers) in people {
            fresh.add(person, &fingers, self.min_minutiae);
        }
        let mut inner = self.write();
        for person_guid in inner.removed_during_rebuild.take().unwrap_or_default() {
            fresh.retire(&person_guid);
        }
        *inner = fresh;
    }

    /// Entries of deleted people still held (they are skipped by every search).
    pub fn retired_entries(&self) -> usize {
        self.read().retired_entries
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
pub async fn stored_people(db: &AnyPool) -> sqlx::Result<Vec<(EnrolledPerson, Vec<FingerTemplate>)>> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use fingerprint::{Minutia, MinutiaKind, Template};
    use rand::{Rng, SeedableRng};

    /// A different finger for every `seed`: 40 minutiae at least 12 px apart on a 400×400 print.
    fn finger(seed: u64) -> FingerTemplate {
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let mut minutiae: Vec<Minutia> = Vec::new();
        while minutiae.len() < 40 {
            let (x, y) = (rng.gen_range(20.0..380.0f32), rng.gen_range(20.0..380.0f32));
            if minutiae.iter().all(|m| (m.x as f32 - x).hypot(m.y as f32 - y) > 12.0) {
                let kind = if rng.gen() { MinutiaKind::Ending } else { MinutiaKind::Bifurcation };
                minutiae.push(Minutia { x: x as u16, y: y as u16, angle: rng.gen_range(0.0..std::f32::consts::TAU), kind, quality: 60 });
            }
        }
        FingerTemplate { index: BiometricIndex::RightIndex, template: Template { width: 400, height: 400, dpi: 500, minutiae } }
    }

    fn person(i: u64) -> (EnrolledPerson, Vec<FingerTemplate>) {
        (EnrolledPerson { person_guid: format!("guid-{i}"), key: format!("key-{i}"), tguid: format!("tx-{i}") }, vec![finger(i)])
    }

    /// The same finger pressed again (moved, some minutiae lost or added).
    fn mate(i: u64) -> Vec<FingerTemplate> {
        let f = finger(i);
        vec![FingerTemplate { index: f.index, template: fingerprint::perturb(&f.template, 1000 + i) }]
    }

    fn found(g: &PeopleGallery, i: u64) -> bool {
        g.search(&mate(i), fingerprint::matcher::FMR_1_IN_10000_THRESHOLD).iter().any(|h| h.person.person_guid == format!("guid-{i}"))
    }

    #[test]
    fn deleted_people_pile_up_until_a_rebuild_drops_them_and_removals_during_it_are_kept() {
        let g = PeopleGallery::new(12);
        for i in 0..100 {
            let (p, f) = person(i);
            g.add(p, &f);
        }
        assert!(found(&g, 90) && found(&g, 10));
        for i in 0..50 {
            g.remove(&format!("guid-{i}"));
        }
        assert!(!found(&g, 10), "a retired person is never returned");
        assert_eq!(g.retired_entries(), 50);
        assert!(!g.needs_compaction(), "50 of 100 entries retired, but under the floor of 64");
        for i in 50..80 {
            g.remove(&format!("guid-{i}"));
        }
        assert!(g.needs_compaction(), "80 of 100 entries retired");

        // The rebuild reads the people still enrolled; one more is deleted while it reads.
        g.begin_rebuild();
        let snapshot: Vec<_> = (80..100).map(person).collect();
        g.remove("guid-85");
        g.rebuild(snapshot);

        assert_eq!(g.retired_entries(), 1, "only the person deleted during the rebuild is still held");
        assert!(!g.needs_compaction());
        assert_eq!(g.people(), 19);
        assert!(found(&g, 90), "live people are still found");
        assert!(!found(&g, 85), "a deletion during the rebuild is not undone");
        assert!(!found(&g, 10));
        // Later removals are ordinary again.
        g.remove("guid-90");
        assert!(!found(&g, 90));
        assert_eq!(g.retired_entries(), 2);
    }
}
