//! 1:N search over an in-memory gallery, for deduplication at enrolment and
//! identification.
//!
//! A full comparison costs tens of microseconds, so scanning 100,000
//! templates exhaustively would take seconds. Search therefore runs in two
//! passes, both split over the available cores with `std::thread::scope`:
//!
//! 1. **Indexed prefilter with geometric consistency** (after Germain et al.,
//!    "Fingerprint matching using transformation parameter clustering", 1997):
//!    every gallery edge (a pair of neighbouring minutiae, described by its
//!    length and two relative angles) is posted in an inverted index under
//!    its quantised shape, with its absolute direction. Each probe edge looks
//!    up the cells its shape may fall in; every posting found votes for its
//!    template *and for the rotation* between the two edges. A mate's votes
//!    pile up in one rotation bin; chance shape matches spread over all of
//!    them, so the best rotation bin separates mates far better than a plain
//!    shape count.
//! 2. **Full matching** of the shortlist with the 1:1 matcher.

use crate::matcher::{MatchTemplate, Matcher};
use crate::template::Template;

/// Length bins of the index (pixels per bin) and their number.
const IDX_LEN_BIN: f32 = 10.0;
const IDX_LEN_BINS: usize = 17;
/// Bins per relative angle in the index (each 1/16 turn).
const IDX_ANG_BINS: usize = 16;
const IDX_CELLS: usize = IDX_LEN_BINS * IDX_ANG_BINS * IDX_ANG_BINS;
/// Rotation bins of the consistency vote (each 1/32 turn, 11.25°); the score
/// takes the best pair of adjacent bins so a rotation on a bin border is not
/// split in two.
const ROT_BINS: usize = 32;

/// One enrolled template.
#[derive(Debug, Clone)]
struct Entry {
    id: u64,
    tpl: MatchTemplate,
    /// Edges posted in the index; the prefilter score is normalised by it so
    /// that templates with many minutiae (many chance hits) do not crowd out
    /// the mates.
    edges: u32,
}

/// Postings of one index cell, in insertion (= entry) order so that each
/// search thread can binary-search its own range of entries.
#[derive(Debug, Clone, Default)]
struct Cell {
    entry: Vec<u32>,
    /// Absolute edge direction in 1/256 turns.
    dir: Vec<u8>,
}

/// A search result.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Candidate {
    /// Caller's id of the gallery entry.
    pub id: u64,
    /// Full matcher score (see [`crate::matcher::Matcher::score`]).
    pub score: f32,
}

/// In-memory gallery of preprocessed templates with an edge index.
#[derive(Debug, Clone)]
pub struct Gallery {
    entries: Vec<Entry>,
    cells: Vec<Cell>,
    threads: usize,
}

impl Default for Gallery {
    fn default() -> Self {
        Self::new()
    }
}

/// Index cell of an edge shape, clamping the length.
#[inline]
fn cell_of(lb: usize, ab: usize, bb: usize) -> usize {
    (lb * IDX_ANG_BINS + ab) * IDX_ANG_BINS + bb
}

/// Angle in 1/65536 turns to its index bin and the neighbouring bin it is
/// nearer to (the probe looks up both, absorbing quantisation).
#[inline]
fn ang_bins(a: i16) -> [usize; 2] {
    let u = (a as i32 + 32768) as usize; // 0..65536
    let b = u >> 12;
    let other = if u & 0xfff < 0x800 {
        (b + IDX_ANG_BINS - 1) % IDX_ANG_BINS
    } else {
        (b + 1) % IDX_ANG_BINS
    };
    [b, other]
}

impl Gallery {
    /// Empty gallery using all available cores for search.
    pub fn new() -> Self {
        let threads = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1);
        Self {
            entries: Vec::new(),
            cells: vec![Cell::default(); IDX_CELLS],
            threads,
        }
    }

    /// Limits the threads used by [`Gallery::search`] (at least 1), e.g. to
    /// leave a core free for capture.
    pub fn with_threads(mut self, threads: usize) -> Self {
        self.threads = threads.max(1);
        self
    }

    /// Adds a template under the caller's id (ids need not be unique; a person
    /// may enrol several fingers or impressions).
    pub fn insert(&mut self, id: u64, t: &Template) {
        // Entries are only ever the candidate side of a comparison.
        let tpl = MatchTemplate::new(t).into_candidate_only();
        let e = self.entries.len() as u32;
        let cells = &mut self.cells;
        let mut edges = 0u32;
        tpl.for_each_edge(|len, a, b, dir| {
            edges += 1;
            let lb = ((len / IDX_LEN_BIN) as usize).min(IDX_LEN_BINS - 1);
            let ab = (a as i32 + 32768) as usize >> 12;
            let bb = (b as i32 + 32768) as usize >> 12;
            let c = &mut cells[cell_of(lb, ab, bb)];
            c.entry.push(e);
            c.dir.push((dir as u16 >> 8) as u8);
        });
        let edges = edges.max(1);
        self.entries.push(Entry { id, tpl, edges });
    }

    /// Number of enrolled templates.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when nothing is enrolled.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Shortlist size for a gallery of `n`: 4 % plus a floor, enough that
    /// mates ranked low by the prefilter (distorted or partial impressions)
    /// still reach the full matcher; on the synthetic 100,000 gallery of
    /// bench_gallery all but one mate of 40 ranked inside it.
    fn shortlist_len(n: usize) -> usize {
        (64 + n / 25).min(n)
    }

    /// Probe edge lookups: (cell, direction in 1/256 turns) for the 2 × 2 × 2
    /// cells around each probe edge's shape.
    fn probe_keys(p: &MatchTemplate) -> Vec<(u32, u8)> {
        let mut keys = Vec::with_capacity(p.edge_count() * 8);
        p.for_each_edge(|len, a, b, dir| {
            let x = len / IDX_LEN_BIN;
            let lb = (x as usize).min(IDX_LEN_BINS - 1);
            let lo = if x.fract() < 0.5 {
                lb.checked_sub(1)
            } else {
                Some(lb + 1)
            };
            let lbs = [Some(lb), lo.filter(|&l| l < IDX_LEN_BINS)];
            let d = (dir as u16 >> 8) as u8;
            for l in lbs.into_iter().flatten() {
                for ab in ang_bins(a) {
                    for bb in ang_bins(b) {
                        keys.push((cell_of(l, ab, bb) as u32, d));
                    }
                }
            }
        });
        keys
    }

    /// Prefilter scores of entries `lo..hi` into `out` (one per entry):
    /// best adjacent-rotation-bin vote count, squared and normalised by the
    /// entry's edge count, in fixed point so that ordering is exact. Counters
    /// are u8 (saturating) to keep the per-search vote array in cache: a
    /// count past 255 in one bin is an obvious mate anyway.
    fn prefilter(&self, keys: &[(u32, u8)], lo: usize, hi: usize, out: &mut [u32]) {
        let mut votes = vec![0u8; (hi - lo) * ROT_BINS];
        for &(cell, d) in keys {
            let c = &self.cells[cell as usize];
            let s = c.entry.partition_point(|&e| (e as usize) < lo);
            let t = s + c.entry[s..].partition_point(|&e| (e as usize) < hi);
            for k in s..t {
                let rot = (c.dir[k].wrapping_sub(d) as usize * ROT_BINS) >> 8;
                let v = &mut votes[(c.entry[k] as usize - lo) * ROT_BINS + rot];
                *v = v.saturating_add(1);
            }
        }
        for (k, slot) in out.iter_mut().enumerate() {
            let v = &votes[k * ROT_BINS..(k + 1) * ROT_BINS];
            let best = (0..ROT_BINS)
                .map(|b| v[b] as u32 + v[(b + 1) % ROT_BINS] as u32)
                .max()
                .unwrap_or(0);
            *slot = best * best * 256 / self.entries[lo + k].edges;
        }
    }

    /// Returns up to `top` candidates with score ≥ `min_score`, best first.
    /// Deterministic: ties are broken by gallery order.
    pub fn search(&self, probe: &Template, top: usize, min_score: f32) -> Vec<Candidate> {
        let n = self.entries.len();
        if n == 0 || top == 0 {
            return Vec::new();
        }
        let p = MatchTemplate::new(probe);
        let keys = Self::probe_keys(&p);
        let threads = self.threads.clamp(1, n);
        let chunk = n.div_ceil(threads);
        // Pass 1: indexed prefilter, each thread over its own entry range.
        let mut scores = vec![0u32; n];
        std::thread::scope(|s| {
            for (ci, out) in scores.chunks_mut(chunk).enumerate() {
                let keys = &keys;
                s.spawn(move || {
                    let lo = ci * chunk;
                    self.prefilter(keys, lo, lo + out.len(), out)
                });
            }
        });
        let mut pre: Vec<(u32, u32)> = scores
            .iter()
            .enumerate()
            .map(|(i, &sc)| (sc, i as u32))
            .collect();
        let keep = Self::shortlist_len(n);
        if keep < n {
            pre.select_nth_unstable_by(keep - 1, |a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
            pre.truncate(keep);
        }
        pre.sort_by_key(|x| x.1);
        // Pass 2: full matching of the shortlist.
        let mut scored: Vec<Candidate> = vec![Candidate { id: 0, score: 0.0 }; pre.len()];
        let chunk2 = pre.len().div_ceil(threads).max(1);
        std::thread::scope(|s| {
            for (out, idx) in scored.chunks_mut(chunk2).zip(pre.chunks(chunk2)) {
                let p = &p;
                s.spawn(move || {
                    let mut m = Matcher::default();
                    for (slot, &(_, i)) in out.iter_mut().zip(idx) {
                        let e = &self.entries[i as usize];
                        *slot = Candidate {
                            id: e.id,
                            score: m.score(p, &e.tpl),
                        };
                    }
                });
            }
        });
        // Stable sort keeps gallery order among equal scores.
        scored.sort_by(|a, b| b.score.total_cmp(&a.score));
        scored.retain(|c| c.score >= min_score);
        scored.truncate(top);
        scored
    }
}

/// Fuses the scores of several fingers of the same two people (e.g. left and
/// right index) by the sum rule, which Kittler et al. found the most robust
/// combiner when the per-finger scores share one scale, as they do here.
/// Missing fingers should be passed as 0.
pub fn fuse_scores(scores: &[f32]) -> f32 {
    scores.iter().map(|s| s.max(0.0)).sum()
}

/// A deterministic uniform source in [0, 1) for synthesised test data (xorshift64*: small,
/// fast, and the same sequence on every platform, so synthetic galleries are reproducible).
fn test_data_rng(seed: u64) -> impl FnMut() -> f32 {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    move || {
        s ^= s >> 12;
        s ^= s << 25;
        s ^= s >> 27;
        (s.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f32 / (1u64 << 53) as f32
    }
}

/// A deterministic pseudo-random template: `n` minutiae at least 12 px apart over a 400 × 400
/// image at 500 dpi, half of them endings. For tests and benchmarks that need many distinct
/// prints without the shared FVC data (matcher invariants, synthetic mates and strangers).
pub fn synthetic_template(seed: u64, n: usize) -> Template {
    let mut rnd = test_data_rng(seed);
    let mut minutiae: Vec<crate::template::Minutia> = Vec::new();
    while minutiae.len() < n {
        let (x, y) = (20.0 + rnd() * 360.0, 20.0 + rnd() * 360.0);
        let far = minutiae.iter().all(|m| (m.x as f32 - x).hypot(m.y as f32 - y) > 12.0);
        if far {
            minutiae.push(crate::template::Minutia {
                x: x as u16,
                y: y as u16,
                angle: rnd() * std::f32::consts::TAU,
                kind: if rnd() < 0.5 { crate::MinutiaKind::Ending } else { crate::MinutiaKind::Bifurcation },
                quality: 60,
            });
        }
    }
    Template { width: 400, height: 400, dpi: 500, minutiae }
}

/// Makes a plausible different-impression variant of a template: random
/// rotation (±20°) about the centre, translation (±30 px), position jitter
/// (±3 px), angle jitter (±0.1 rad), 10–25 % of minutiae dropped and up to 5
/// spurious ones added. Used to synthesise large galleries for speed and
/// prefilter tests from a few real templates (no real 100,000-person set is
/// available); deterministic for a given `seed`.
pub fn perturb(t: &Template, seed: u64) -> Template {
    let mut rnd = test_data_rng(seed);
    let (w, h) = (t.width.max(1) as f32, t.height.max(1) as f32);
    let rot = (rnd() - 0.5) * 2.0 * 0.35;
    let (sn, cs) = rot.sin_cos();
    let (tx, ty) = ((rnd() - 0.5) * 60.0, (rnd() - 0.5) * 60.0);
    let drop = 0.10 + 0.15 * rnd();
    let mut out = Vec::with_capacity(t.minutiae.len() + 5);
    for m in &t.minutiae {
        if rnd() < drop {
            continue;
        }
        let (x, y) = (m.x as f32 - w / 2.0, m.y as f32 - h / 2.0);
        // Image y points down, so a counter-clockwise turn of the print (ISO
        // angles) is a clockwise turn in pixel coordinates.
        let nx = cs * x + sn * y + w / 2.0 + tx + (rnd() - 0.5) * 6.0;
        let ny = -sn * x + cs * y + h / 2.0 + ty + (rnd() - 0.5) * 6.0;
        if nx < 0.0 || ny < 0.0 || nx >= w || ny >= h {
            continue;
        }
        let mut m2 = *m;
        m2.x = nx as u16;
        m2.y = ny as u16;
        m2.angle = (m.angle + rot + (rnd() - 0.5) * 0.2).rem_euclid(std::f32::consts::TAU);
        out.push(m2);
    }
    let extra = (rnd() * 6.0) as usize;
    for _ in 0..extra {
        out.push(crate::template::Minutia {
            x: (rnd() * (w - 1.0)) as u16,
            y: (rnd() * (h - 1.0)) as u16,
            angle: rnd() * std::f32::consts::TAU,
            kind: if rnd() < 0.5 {
                crate::MinutiaKind::Ending
            } else {
                crate::MinutiaKind::Bifurcation
            },
            quality: 40,
        });
    }
    Template {
        width: t.width,
        height: t.height,
        dpi: t.dpi,
        minutiae: out,
    }
}
