//! 1:1 minutiae matching.
//!
//! Two stages, in the spirit of SourceAFIS's edge pairing and of classic
//! local-then-global matchers (Jiang & Yau 2000):
//!
//! 1. **Local**: every minutia is linked to its nearest neighbours. An edge is
//!    described by its length and the two angles it makes with its end minutiae's
//!    directions — all invariant to rotation and translation. Edges of the two
//!    templates with compatible descriptors vote for the minutia correspondences
//!    they imply.
//! 2. **Global consolidation**: the best-voted correspondences seed a rigid
//!    alignment; minutiae are paired greedily under it, the alignment is refined
//!    by least squares on the pairs and pairing is repeated. The score grows with
//!    the number of pairs relative to the minutiae in the overlapping area.
//!
//! Everything is deterministic: fixed iteration orders, ties broken by index.

use crate::template::{MinutiaKind, Template};
use std::f32::consts::{PI, TAU};

/// Decision threshold for a false match rate of about 1 in 10,000: on the
/// 11,520 all-impostor comparisons of FVC2002/2004 DB1_B and DB2_B (see
/// docs/benchmarks/fpengine.md) exactly one impostor scores at or above it.
/// So few impostors make this indicative, not certified: callers deciding
/// identity on one finger should prefer fusing two fingers
/// ([`crate::fuse_scores`]).
pub const FMR_1_IN_10000_THRESHOLD: f32 = 21.2;

/// Most minutiae used per template (the first ones, i.e. the best for templates
/// from [`crate::extract()`]). Bounds the n1×n2 vote matrix so a hostile template
/// with 65,535 minutiae cannot make a comparison allocate gigabytes.
pub const MAX_MATCH_MINUTIAE: usize = 200;
/// Neighbours per minutia in the edge table.
const NEIGHBOURS: usize = 8;
/// Longest edge considered (pixels at 500 dpi): beyond this, skin distortion
/// makes distances unreliable.
const MAX_EDGE: f32 = 170.0;
/// Seeds tried in consolidation.
const SEEDS: usize = 6;
/// Each template's minutiae count in the score's denominator is at least this
/// fraction of its total, so that a tiny accidental overlap with few minutiae
/// cannot give an impostor a high normalised score (tuned on FVC2002/2004: 0.5
/// balances small-area DB1 sets against large, distorted ones).
const OVERLAP_FLOOR: f32 = 0.5;
/// Weight of a geometric pair whose neighbourhoods did not vote for it.
const UNSUPPORTED_WEIGHT: f32 = 0.5;
/// Pairing tolerance: position (pixels) and direction (radians).
/// Position tolerance grows with the distance from the alignment's anchor (the
/// seed minutia, then the centroid of the pairs): skin stretches more the
/// further one goes from where two impressions were aligned, so a fixed
/// tolerance either rejects distant genuine pairs or admits near impostor ones.
const PAIR_DIST: f32 = 10.0;
const PAIR_GROW: f32 = 0.08;
const PAIR_DIST_MAX: f32 = 24.0;
const PAIR_ANGLE: f32 = 0.52;
/// [`PAIR_ANGLE`] in 1/65536 turns.
const PAIR_ANGLE_Q: u16 = (PAIR_ANGLE / TAU * 65536.0) as u16;

/// A template preprocessed for fast repeated matching: minutiae in math
/// coordinates (sorted by x for windowed pairing) and the edge table as
/// struct-of-arrays, bucketed so that the vote stage reads, for each probe
/// edge, a few contiguous runs of compatible-length candidate edges.
/// Build once per gallery entry.
#[derive(Debug, Clone)]
pub struct MatchTemplate {
    xs: Vec<f32>,
    ys: Vec<f32>,
    angles: Vec<f32>,
    kinds: Vec<MinutiaKind>,
    /// Directions in 1/65536 turns, for branch-free wrapped differences.
    angles_q: Vec<i16>,
    /// `x_start[k]`: index of the first minutia with x ≥ k·[`X_BIN`] (minutiae
    /// are sorted by x), so pairing finds its column window by lookup instead
    /// of a binary search.
    x_start: Vec<u8>,
    /// Edge lengths in 1/16 pixel, one entry per directed edge (k nearest
    /// neighbours of each minutia), ordered by (start-angle bin, length).
    /// The i16 columns are padded with [`SCAN_LANES`] never-matching entries so
    /// the vector scan may read a whole block past the last edge.
    e_len: Vec<i16>,
    /// Angle of the edge vector relative to the start minutia's direction, in
    /// 1/65536 turns: wrapping i16 arithmetic then gives angle differences
    /// without any range reduction in the inner loop.
    e_from_angle: Vec<i16>,
    /// Angle of the edge vector relative to the end minutia's direction (same unit).
    e_to_angle: Vec<i16>,
    /// Start and end minutia of each edge (indices fit: at most
    /// [`MAX_MATCH_MINUTIAE`] ≤ 255 minutiae).
    e_from: Vec<u8>,
    e_to: Vec<u8>,
    /// CSR offsets of the edges per (start-angle bin, length bin) cell, angle
    /// major, so that one angle bin's length range is one contiguous slice.
    cells: Vec<u16>,
}

/// Edge length bucket width (pixels) and number of start-angle buckets. The
/// buckets let the vote stage visit only edges that can be compatible (about a
/// tenth of all pairs), the main cost of a comparison.
const LEN_BIN: f32 = 6.0;
const LEN_BINS: usize = (MAX_EDGE / LEN_BIN) as usize + 1;
const ANG_BINS: usize = 8;

#[inline]
fn ang_bin(a: i16) -> usize {
    ((a as i32 + 32768) as usize * ANG_BINS) >> 16
}

/// Radians to 1/65536 turns, wrapping.
#[inline]
fn quant(a: f32) -> i16 {
    ((a / TAU * 65536.0).round() as i64 as u16) as i16
}

/// Column width of [`MatchTemplate`]'s x lookup table (pixels).
const X_BIN: f32 = 16.0;

/// Lanes of the vector edge scan (eight i16 in one SSE2 register).
const SCAN_LANES: usize = 8;

/// Edge length in the fixed-point unit of [`MatchTemplate`] (1/16 pixel).
#[inline]
fn len_fixed(len: f32) -> i16 {
    (len * 16.0).round() as i16
}

/// Calls `on_hit` with the index (relative to the slice start) of each edge
/// among the first `n` whose length lies within `tol` of `q.0` and whose two
/// angles lie within `atol` of `q.1` and `q.2`, in increasing order. `|d| ≤ t` is tested as the unsigned
/// `d + t ≤ 2t`, which is exact for wrapping i16 angle differences too.
/// The columns must extend at least [`SCAN_LANES`] past `n` (padding).
#[inline]
fn scan_edges(
    lens: &[i16],
    fa: &[i16],
    ta: &[i16],
    n: usize,
    q: (i16, i16, i16),
    (tol, atol): (i16, i16),
    mut on_hit: impl FnMut(usize),
) {
    #[cfg(target_arch = "x86_64")]
    {
        // SSE2 is part of the x86_64 baseline, so no runtime detection is needed.
        use std::arch::x86_64::*;
        assert!(
            lens.len() >= n + SCAN_LANES
                && fa.len() >= n + SCAN_LANES
                && ta.len() >= n + SCAN_LANES
        );
        // SAFETY: SSE2 is always available on x86_64; every load reads 8 i16
        // at k < n, within the slices' length checked above.
        unsafe {
            let l = _mm_set1_epi16(q.0);
            let a = _mm_set1_epi16(q.1);
            let b = _mm_set1_epi16(q.2);
            let lt = _mm_set1_epi16(tol);
            let at = _mm_set1_epi16(atol);
            let l2 = _mm_set1_epi16(2 * tol);
            let a2 = _mm_set1_epi16(2 * atol);
            let zero = _mm_setzero_si128();
            let mut k = 0;
            while k < n {
                let vl = _mm_loadu_si128(lens.as_ptr().add(k) as *const __m128i);
                let va = _mm_loadu_si128(fa.as_ptr().add(k) as *const __m128i);
                let vb = _mm_loadu_si128(ta.as_ptr().add(k) as *const __m128i);
                let dl = _mm_subs_epu16(_mm_add_epi16(_mm_sub_epi16(l, vl), lt), l2);
                let da = _mm_subs_epu16(_mm_add_epi16(_mm_sub_epi16(a, va), at), a2);
                let db = _mm_subs_epu16(_mm_add_epi16(_mm_sub_epi16(b, vb), at), a2);
                let ok = _mm_cmpeq_epi16(_mm_or_si128(_mm_or_si128(dl, da), db), zero);
                let mut bits = _mm_movemask_epi8(ok) as u32 & 0x5555;
                let left = n - k;
                if left < SCAN_LANES {
                    bits &= (1u32 << (2 * left)) - 1;
                }
                while bits != 0 {
                    on_hit(k + (bits.trailing_zeros() as usize >> 1));
                    bits &= bits - 1;
                }
                k += SCAN_LANES;
            }
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let within = |d: i16, t: i16| (d.wrapping_add(t) as u16) <= 2 * t as u16;
        for k in 0..n {
            if within(q.0.wrapping_sub(lens[k]), tol)
                && within(q.1.wrapping_sub(fa[k]), atol)
                && within(q.2.wrapping_sub(ta[k]), atol)
            {
                on_hit(k);
            }
        }
    }
}

#[inline]
fn len_bin(len: f32) -> usize {
    ((len / LEN_BIN) as usize).min(LEN_BINS - 1)
}

/// Wraps an angle difference into (-π, π].
#[inline]
fn wrap(a: f32) -> f32 {
    // Inputs are differences of angles in (-2π, 2π], usually one step suffices;
    // the loop keeps it correct for anything finite without a slow fmod.
    let mut d = a;
    while d > PI {
        d -= TAU;
    }
    while d <= -PI {
        d += TAU;
    }
    d
}

impl MatchTemplate {
    /// Preprocesses a template: math coordinates (y up, so ISO angles apply
    /// directly) and the k-nearest-neighbour edge table.
    pub fn new(t: &Template) -> Self {
        let n = t.minutiae.len().min(MAX_MATCH_MINUTIAE);
        // Sorted by x so that pairing can binary-search a column window.
        let mut order: Vec<&crate::template::Minutia> = t.minutiae.iter().take(n).collect();
        order.sort_by(|a, b| a.x.cmp(&b.x).then(a.y.cmp(&b.y)));
        let t = Template {
            width: t.width,
            height: t.height,
            dpi: t.dpi,
            minutiae: order.into_iter().copied().collect(),
        };
        let xs: Vec<f32> = t.minutiae.iter().take(n).map(|m| m.x as f32).collect();
        let ys: Vec<f32> = t.minutiae.iter().take(n).map(|m| -(m.y as f32)).collect();
        let angles: Vec<f32> = t
            .minutiae
            .iter()
            .take(n)
            .map(|m| {
                if m.angle.is_finite() {
                    m.angle.rem_euclid(TAU)
                } else {
                    0.0
                }
            })
            .collect();
        let kinds: Vec<MinutiaKind> = t.minutiae.iter().take(n).map(|m| m.kind).collect();
        // (cell, length, from, to, from-angle, to-angle): sorted, then split into columns.
        let mut edges: Vec<(usize, f32, u8, u8, i16, i16)> = Vec::with_capacity(n * NEIGHBOURS);
        let mut near: Vec<(f32, usize)> = Vec::with_capacity(n);
        for i in 0..n {
            near.clear();
            for j in 0..n {
                if i == j {
                    continue;
                }
                let d = ((xs[j] - xs[i]).powi(2) + (ys[j] - ys[i]).powi(2)).sqrt();
                if d > 4.0 && d < MAX_EDGE {
                    near.push((d, j));
                }
            }
            near.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            for &(d, j) in near.iter().take(NEIGHBOURS) {
                let dir = (ys[j] - ys[i]).atan2(xs[j] - xs[i]);
                let a_from = quant(wrap(dir - angles[i]));
                let a_to = quant(wrap(dir - angles[j]));
                let cell = ang_bin(a_from) * LEN_BINS + len_bin(d);
                edges.push((cell, d, i as u8, j as u8, a_from, a_to));
            }
        }
        edges.sort_by(|a, b| {
            a.0.cmp(&b.0)
                .then(a.1.total_cmp(&b.1))
                .then(a.2.cmp(&b.2))
                .then(a.3.cmp(&b.3))
        });
        let mut cells = vec![0u16; LEN_BINS * ANG_BINS + 1];
        for e in &edges {
            cells[e.0 + 1] += 1;
        }
        for k in 1..cells.len() {
            cells[k] += cells[k - 1];
        }
        let pad = |v: Vec<i16>| -> Vec<i16> {
            let mut v = v;
            v.extend(std::iter::repeat_n(i16::MIN, SCAN_LANES));
            v
        };
        let bins = xs.last().map_or(0, |&x| (x / X_BIN) as usize + 1);
        let x_start = (0..=bins)
            .map(|k| xs.partition_point(|&x| x < k as f32 * X_BIN) as u8)
            .collect();
        MatchTemplate {
            xs,
            ys,
            angles_q: angles.iter().map(|&a| quant(a)).collect(),
            angles,
            kinds,
            x_start,
            e_len: pad(edges.iter().map(|e| len_fixed(e.1)).collect()),
            e_from: edges.iter().map(|e| e.2).collect(),
            e_to: edges.iter().map(|e| e.3).collect(),
            e_from_angle: pad(edges.iter().map(|e| e.4).collect()),
            e_to_angle: pad(edges.iter().map(|e| e.5).collect()),
            cells,
        }
    }

    /// Number of minutiae.
    pub fn len(&self) -> usize {
        self.xs.len()
    }

    /// True when the template has no minutiae (such a template never matches).
    pub fn is_empty(&self) -> bool {
        self.xs.is_empty()
    }

    /// Calls `f(length px, from-angle, to-angle, direction)` for every edge,
    /// angles in 1/65536 turns; `direction` is the edge vector's absolute
    /// direction, so that two mated edges differ in it by the rotation between
    /// the impressions. Used by the 1:N index.
    pub(crate) fn for_each_edge(&self, mut f: impl FnMut(f32, i16, i16, i16)) {
        for k in 0..self.e_from.len() {
            let dir =
                self.e_from_angle[k].wrapping_add(quant(self.angles[self.e_from[k] as usize]));
            f(
                self.e_len[k] as f32 / 16.0,
                self.e_from_angle[k],
                self.e_to_angle[k],
                dir,
            );
        }
    }

    /// Number of directed edges in the edge table.
    pub(crate) fn edge_count(&self) -> usize {
        self.e_from.len()
    }
}

/// Reusable scratch buffers so repeated matching does not allocate.
#[derive(Debug, Default)]
pub struct Matcher {
    votes: Vec<f32>,
    /// Candidate pairs of one pairing pass as sortable keys: the cost's f32
    /// bits (non-negative, so they order like the value), then probe and
    /// candidate index — one integer sort, deterministic.
    pairs: Vec<u64>,
    matched: Vec<(u16, u16)>,
}

/// Compares two templates; convenience wrapper allocating a fresh [`Matcher`].
pub fn match_score(probe: &MatchTemplate, candidate: &MatchTemplate) -> f32 {
    Matcher::default().score(probe, candidate)
}

/// Rigid transform: rotate by `rot` then translate.
#[derive(Debug, Clone, Copy)]
struct Rigid {
    cos: f32,
    sin: f32,
    /// Rotation in 1/65536 turns.
    rot_q: i16,
    tx: f32,
    ty: f32,
}

impl Rigid {
    fn from_pair(p: &MatchTemplate, i: usize, c: &MatchTemplate, j: usize) -> Self {
        let rot = wrap(c.angles[j] - p.angles[i]);
        let (sin, cos) = rot.sin_cos();
        let tx = c.xs[j] - (cos * p.xs[i] - sin * p.ys[i]);
        let ty = c.ys[j] - (sin * p.xs[i] + cos * p.ys[i]);
        Rigid {
            cos,
            sin,
            rot_q: quant(rot),
            tx,
            ty,
        }
    }
    #[inline]
    fn apply(&self, x: f32, y: f32) -> (f32, f32) {
        (
            self.cos * x - self.sin * y + self.tx,
            self.sin * x + self.cos * y + self.ty,
        )
    }
}

impl Matcher {
    /// Similarity of two templates, 0 (nothing in common) to 100 and more
    /// rarely; symmetric up to floating-point tie-breaking, deterministic.
    pub fn score(&mut self, p: &MatchTemplate, c: &MatchTemplate) -> f32 {
        let (n1, n2) = (p.len(), c.len());
        if n1 < 3 || n2 < 3 {
            return 0.0;
        }
        self.votes.clear();
        self.votes.resize(n1 * n2, 0.0);
        // Stage 1: edge compatibility votes, visiting only buckets within the
        // length and start-angle tolerances.
        const ATOL: f32 = 0.45;
        let atol_q = (ATOL / TAU * 65536.0) as u16;
        let inv_atol = 1.0 / atol_q as f32;
        let n_edges = p.e_from.len();
        for k in 0..n_edges {
            let lq = p.e_len[k];
            let len = lq as f32 / 16.0;
            let (pa, pb) = (p.e_from_angle[k], p.e_to_angle[k]);
            let row_from = p.e_from[k] as usize * n2;
            let row_to = p.e_to[k] as usize * n2;
            let tol = 5.0 + 0.06 * len;
            // Positive, so truncating after +0.5 rounds (no libm call).
            let tol_q = (tol * 16.0 + 0.5) as i16;
            let inv_tol_q = 1.0 / tol_q as f32;
            let lb0 = len_bin((len - tol).max(0.0));
            let lb1 = len_bin(len + tol);
            let a0 = ang_bin(pa.wrapping_sub(atol_q as i16));
            let a1 = ang_bin(pa.wrapping_add(atol_q as i16));
            let mut ab = a0;
            loop {
                let s0 = c.cells[ab * LEN_BINS + lb0] as usize;
                let s1 = c.cells[ab * LEN_BINS + lb1 + 1] as usize;
                let votes = &mut self.votes;
                scan_edges(
                    &c.e_len[s0..],
                    &c.e_from_angle[s0..],
                    &c.e_to_angle[s0..],
                    s1 - s0,
                    (lq, pa, pb),
                    (tol_q, atol_q as i16),
                    |h| {
                        let q = s0 + h;
                        let dl = (lq as i32 - c.e_len[q] as i32).unsigned_abs() as f32;
                        let da = pa.wrapping_sub(c.e_from_angle[q]).unsigned_abs() as f32;
                        let db = pb.wrapping_sub(c.e_to_angle[q]).unsigned_abs() as f32;
                        let sim =
                            (1.0 - dl * inv_tol_q) * (1.0 - da * inv_atol) * (1.0 - db * inv_atol);
                        votes[row_from + c.e_from[q] as usize] += sim;
                        votes[row_to + c.e_to[q] as usize] += sim;
                    },
                );
                if ab == a1 {
                    break;
                }
                ab = (ab + 1) % ANG_BINS;
            }
        }
        // Seeds: the best-voted correspondences.
        let mut seeds: [(f32, u32); SEEDS] = [(0.0, 0); SEEDS];
        for (idx, &v) in self.votes.iter().enumerate() {
            if v > seeds[SEEDS - 1].0 {
                let mut k = SEEDS - 1;
                while k > 0 && seeds[k - 1].0 < v {
                    seeds[k] = seeds[k - 1];
                    k -= 1;
                }
                seeds[k] = (v, idx as u32);
            }
        }
        let mut best = 0.0f32;
        for &(v, idx) in seeds.iter() {
            if v <= 0.0 {
                break;
            }
            let i = idx as usize / n2;
            let j = idx as usize % n2;
            let t = Rigid::from_pair(p, i, c, j);
            self.pair(p, c, &t, (c.xs[j], c.ys[j]));
            // Refine alignment on the pairs found, then pair again.
            if self.matched.len() >= 3 {
                let t2 = self.refine(p, c);
                let anchor = self.centroid(c);
                self.pair(p, c, &t2, anchor);
                best = best.max(self.evaluate(p, c, &t2));
            } else {
                best = best.max(self.evaluate(p, c, &t));
            }
        }
        best
    }

    /// Greedy one-to-one pairing of minutiae under transform `t`.
    fn centroid(&self, c: &MatchTemplate) -> (f32, f32) {
        let m = self.matched.len() as f32;
        let (mut x, mut y) = (0.0, 0.0);
        for &(_, j) in &self.matched {
            x += c.xs[j as usize];
            y += c.ys[j as usize];
        }
        (x / m, y / m)
    }

    fn pair(&mut self, p: &MatchTemplate, c: &MatchTemplate, t: &Rigid, anchor: (f32, f32)) {
        let (n1, n2) = (p.len(), c.len());
        self.pairs.clear();
        let (d0, grow) = (PAIR_DIST, PAIR_GROW);
        for i in 0..n1 {
            let (x, y) = t.apply(p.xs[i], p.ys[i]);
            let a = p.angles_q[i].wrapping_add(t.rot_q);
            let r = ((x - anchor.0).powi(2) + (y - anchor.1).powi(2)).sqrt();
            let tol = (d0 + grow * r).min(PAIR_DIST_MAX);
            let lo = x - tol;
            let mut start = if lo <= 0.0 {
                0
            } else {
                c.x_start[((lo / X_BIN) as usize).min(c.x_start.len() - 1)] as usize
            };
            while start < n2 && c.xs[start] < lo {
                start += 1;
            }
            for j in start..n2 {
                let dx = c.xs[j] - x;
                if dx > tol {
                    break;
                }
                let dy = c.ys[j] - y;
                let d2 = dx * dx + dy * dy;
                if d2 > tol * tol {
                    continue;
                }
                let da = c.angles_q[j].wrapping_sub(a).unsigned_abs();
                if da > PAIR_ANGLE_Q {
                    continue;
                }
                let cost = d2.sqrt() / tol + da as f32 / PAIR_ANGLE_Q as f32;
                self.pairs
                    .push(((cost.to_bits() as u64) << 16) | ((i as u64) << 8) | j as u64);
            }
        }
        self.pairs.sort_unstable();
        // Minutia indices are < MAX_MATCH_MINUTIAE ≤ 256: four words per side.
        let (mut used_p, mut used_c) = ([0u64; 4], [0u64; 4]);
        self.matched.clear();
        for &key in &self.pairs {
            let (i, j) = ((key >> 8) as usize & 0xff, key as usize & 0xff);
            if used_p[i >> 6] & (1 << (i & 63)) == 0 && used_c[j >> 6] & (1 << (j & 63)) == 0 {
                used_p[i >> 6] |= 1 << (i & 63);
                used_c[j >> 6] |= 1 << (j & 63);
                self.matched.push((i as u16, j as u16));
            }
        }
    }

    /// Least-squares rigid transform (2-D Procrustes) over the current pairs.
    fn refine(&self, p: &MatchTemplate, c: &MatchTemplate) -> Rigid {
        let m = self.matched.len() as f32;
        let (mut px, mut py, mut cx, mut cy) = (0.0, 0.0, 0.0, 0.0);
        for &(i, j) in &self.matched {
            px += p.xs[i as usize];
            py += p.ys[i as usize];
            cx += c.xs[j as usize];
            cy += c.ys[j as usize];
        }
        px /= m;
        py /= m;
        cx /= m;
        cy /= m;
        let (mut sxx, mut sxy) = (0.0f32, 0.0f32);
        for &(i, j) in &self.matched {
            let (ax, ay) = (p.xs[i as usize] - px, p.ys[i as usize] - py);
            let (bx, by) = (c.xs[j as usize] - cx, c.ys[j as usize] - cy);
            sxx += ax * bx + ay * by;
            sxy += ax * by - ay * bx;
        }
        let rot = sxy.atan2(sxx);
        let (sin, cos) = rot.sin_cos();
        Rigid {
            cos,
            sin,
            rot_q: quant(rot),
            tx: cx - (cos * px - sin * py),
            ty: cy - (sin * px + cos * py),
        }
    }

    /// Score of the current pairing: pairs supported by local edge votes count
    /// fully, others half; normalised by the minutiae inside the common area.
    fn evaluate(&self, p: &MatchTemplate, c: &MatchTemplate, t: &Rigid) -> f32 {
        let n2 = c.len();
        let mut m = 0.0f32;
        for &(i, j) in &self.matched {
            let v = self.votes[i as usize * n2 + j as usize];
            let type_bonus = if p.kinds[i as usize] == c.kinds[j as usize] {
                1.0
            } else {
                0.85
            };
            m += type_bonus * if v > 0.3 { 1.0 } else { UNSUPPORTED_WEIGHT };
        }
        if m < 2.5 {
            return 0.0;
        }
        // Overlap: minutiae of each template within the other's bounding box.
        let (mut minx, mut maxx, mut miny, mut maxy) = (f32::MAX, f32::MIN, f32::MAX, f32::MIN);
        for j in 0..n2 {
            minx = minx.min(c.xs[j]);
            maxx = maxx.max(c.xs[j]);
            miny = miny.min(c.ys[j]);
            maxy = maxy.max(c.ys[j]);
        }
        let (mut qminx, mut qmaxx, mut qminy, mut qmaxy) = (f32::MAX, f32::MIN, f32::MAX, f32::MIN);
        let mut n1o = 0usize;
        for i in 0..p.len() {
            let (x, y) = t.apply(p.xs[i], p.ys[i]);
            qminx = qminx.min(x);
            qmaxx = qmaxx.max(x);
            qminy = qminy.min(y);
            qmaxy = qmaxy.max(y);
            if x >= minx - 10.0 && x <= maxx + 10.0 && y >= miny - 10.0 && y <= maxy + 10.0 {
                n1o += 1;
            }
        }
        let mut n2o = 0usize;
        for j in 0..n2 {
            let (x, y) = (c.xs[j], c.ys[j]);
            if x >= qminx - 10.0 && x <= qmaxx + 10.0 && y >= qminy - 10.0 && y <= qmaxy + 10.0 {
                n2o += 1;
            }
        }
        let n1o = (n1o as f32).max(OVERLAP_FLOOR * p.len() as f32).max(10.0);
        let n2o = (n2o as f32).max(OVERLAP_FLOOR * n2 as f32).max(10.0);
        100.0 * m * m / (n1o * n2o)
    }
}
