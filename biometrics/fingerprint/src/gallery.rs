//! 1:N search over an in-memory gallery, for deduplication at enrolment and
//! identification.
//!
//! A full comparison costs on the order of 100 µs, so scanning 100,000
//! templates exhaustively would take seconds. Search therefore runs in two
//! passes: a prefilter over 4096-bit edge signatures (one AND + popcount per
//! 64 bits, a few nanoseconds per entry) keeps a shortlist, and only the
//! shortlist is scored with the full matcher. Both passes are split over the
//! available cores with `std::thread::scope`.

use crate::matcher::{MatchTemplate, Matcher, SIG_WORDS};
use crate::template::Template;

/// One enrolled template.
#[derive(Debug, Clone)]
struct Entry {
    id: u64,
    tpl: MatchTemplate,
    sig: [u64; SIG_WORDS],
    /// Bits set in `sig`; the prefilter divides by it so that dense signatures
    /// (templates with many minutiae) do not crowd out the mates.
    pop: u32,
}

/// A search result.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Candidate {
    /// Caller's id of the gallery entry.
    pub id: u64,
    /// Full matcher score (see [`crate::matcher::Matcher::score`]).
    pub score: f32,
}

/// In-memory gallery of preprocessed templates.
#[derive(Debug, Clone, Default)]
pub struct Gallery {
    entries: Vec<Entry>,
    threads: usize,
}

impl Gallery {
    /// Empty gallery using all available cores for search.
    pub fn new() -> Self {
        let threads = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1);
        Self {
            entries: Vec::new(),
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
        let tpl = MatchTemplate::new(t);
        let sig = tpl.signature(false);
        let pop = sig.iter().map(|w| w.count_ones()).sum::<u32>().max(1);
        self.entries.push(Entry { id, tpl, sig, pop });
    }

    /// Number of enrolled templates.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when nothing is enrolled.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Shortlist size for a gallery of `n`: enough that mates ranked low by the
    /// coarse prefilter still reach the full matcher.
    fn shortlist_len(n: usize) -> usize {
        (64 + n / 50).min(n)
    }

    /// Returns up to `top` candidates with score ≥ `min_score`, best first.
    /// Deterministic: ties are broken by gallery order.
    pub fn search(&self, probe: &Template, top: usize, min_score: f32) -> Vec<Candidate> {
        let n = self.entries.len();
        if n == 0 || top == 0 {
            return Vec::new();
        }
        let p = MatchTemplate::new(probe);
        let psig = p.signature(true);
        let threads = self.threads.clamp(1, n);
        let chunk = n.div_ceil(threads);
        // Pass 1: prefilter scores.
        // Prefilter score: shared cells² / gallery cells (cosine-like, in
        // fixed point so that sorting is exact and deterministic).
        let mut pre: Vec<(u32, u32)> = vec![(0, 0); n];
        std::thread::scope(|s| {
            for (ci, out) in pre.chunks_mut(chunk).enumerate() {
                let entries = &self.entries[ci * chunk..];
                let psig = &psig;
                s.spawn(move || {
                    for (k, slot) in out.iter_mut().enumerate() {
                        let e = &entries[k];
                        let mut c = 0u32;
                        for (a, b) in e.sig.iter().zip(psig.iter()) {
                            c += (a & b).count_ones();
                        }
                        *slot = ((c * c * 1024) / e.pop, (ci * chunk + k) as u32);
                    }
                });
            }
        });
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

/// Makes a plausible different-impression variant of a template: random
/// rotation (±20°) about the centre, translation (±30 px), position jitter
/// (±3 px), angle jitter (±0.1 rad), 10–25 % of minutiae dropped and up to 5
/// spurious ones added. Used to synthesise large galleries for speed and
/// prefilter tests from a few real templates (no real 100,000-person set is
/// available); deterministic for a given `seed`.
pub fn perturb(t: &Template, seed: u64) -> Template {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut rnd = move || {
        // xorshift64*: small, fast, good enough for test data.
        s ^= s >> 12;
        s ^= s << 25;
        s ^= s >> 27;
        (s.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f32 / (1u64 << 53) as f32
    };
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
