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
const PAIR_DIST: f32 = 14.0;
const PAIR_ANGLE: f32 = 0.52;

/// A directed edge between two minutiae of one template.
#[derive(Debug, Clone, Copy)]
struct Edge {
    len: f32,
    /// Angle of the edge vector relative to the start minutia's direction, in
    /// 1/65536 turns: wrapping i16 arithmetic then gives angle differences
    /// without any range reduction in the inner loop.
    a_from: i16,
    /// Angle of the edge vector relative to the end minutia's direction (same unit).
    a_to: i16,
    from: u16,
    to: u16,
}

/// A template preprocessed for fast repeated matching (edge table sorted by
/// length, minutiae in math coordinates). Build once per gallery entry.
#[derive(Debug, Clone)]
pub struct MatchTemplate {
    xs: Vec<f32>,
    ys: Vec<f32>,
    angles: Vec<f32>,
    kinds: Vec<MinutiaKind>,
    edges: Vec<Edge>,
    /// CSR offsets of `edges` bucketed by (length bin, start-angle bin).
    buckets: Vec<u32>,
}

/// Edge length bucket width (pixels) and number of start-angle buckets. The
/// buckets let the vote stage visit only edges that can be compatible (about a
/// tenth of all pairs), the main cost of a comparison.
const LEN_BIN: f32 = 6.0;
const LEN_BINS: usize = (MAX_EDGE / LEN_BIN) as usize + 1;
const ANG_BINS: usize = 16;
/// 64-bit words in a prefilter signature: 16 length × 16 × 16 angle cells.
pub const SIG_WORDS: usize = 64;

#[inline]
fn ang_bin(a: i16) -> usize {
    ((a as i32 + 32768) as usize * ANG_BINS) >> 16
}

/// Radians to 1/65536 turns, wrapping.
#[inline]
fn quant(a: f32) -> i16 {
    ((a / TAU * 65536.0).round() as i64 as u16) as i16
}

#[inline]
fn bucket_of(e: &Edge) -> usize {
    ((e.len / LEN_BIN) as usize).min(LEN_BINS - 1) * ANG_BINS + ang_bin(e.a_from)
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
        let mut edges = Vec::with_capacity(n * NEIGHBOURS);
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
                edges.push(Edge {
                    len: d,
                    a_from: quant(wrap(dir - angles[i])),
                    a_to: quant(wrap(dir - angles[j])),
                    from: i as u16,
                    to: j as u16,
                });
            }
        }
        edges.sort_by(|a, b| {
            bucket_of(a)
                .cmp(&bucket_of(b))
                .then(a.len.total_cmp(&b.len))
                .then(a.from.cmp(&b.from))
                .then(a.to.cmp(&b.to))
        });
        let mut buckets = vec![0u32; LEN_BINS * ANG_BINS + 1];
        for e in &edges {
            buckets[bucket_of(e) + 1] += 1;
        }
        for k in 1..buckets.len() {
            buckets[k] += buckets[k - 1];
        }
        MatchTemplate {
            xs,
            ys,
            angles,
            kinds,
            edges,
            buckets,
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

    /// Quantised edge signature (4096 bits) used by the 1:N prefilter: one bit
    /// per (length, angle, angle) cell occupied by an edge. `spread` also sets
    /// the neighbouring length cells, which is done on the probe side
    /// so that quantisation boundaries do not lose mated edges.
    pub fn signature(&self, spread: bool) -> [u64; SIG_WORDS] {
        let mut s = [0u64; SIG_WORDS];
        for e in &self.edges {
            let lb = (e.len / 12.0) as i32;
            let ab = (e.a_from as i32 + 32768) >> 12;
            let bb = (e.a_to as i32 + 32768) >> 12;
            let r = if spread { 1 } else { 0 };
            for dl in -r..=r {
                let l = lb + dl;
                if !(0..16).contains(&l) {
                    continue;
                }
                for da in 0..=0 {
                    for db in 0..=0 {
                        let a = (ab + da).rem_euclid(16);
                        let b = (bb + db).rem_euclid(16);
                        let bit = (l as usize) * 256 + (a as usize) * 16 + b as usize;
                        s[bit / 64] |= 1u64 << (bit % 64);
                    }
                }
            }
        }
        s
    }
}

/// Reusable scratch buffers so repeated matching does not allocate.
#[derive(Debug, Default)]
pub struct Matcher {
    votes: Vec<f32>,
    pairs: Vec<(f32, u16, u16)>,
    used_p: Vec<bool>,
    used_c: Vec<bool>,
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
    rot: f32,
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
            rot,
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
        let ce = &c.edges;
        for e in &p.edges {
            let tol = 5.0 + 0.06 * e.len;
            let lb0 = ((e.len - tol).max(0.0) / LEN_BIN) as usize;
            let lb1 = (((e.len + tol) / LEN_BIN) as usize).min(LEN_BINS - 1);
            let a0 = ang_bin(e.a_from.wrapping_sub(atol_q as i16));
            let a1 = ang_bin(e.a_from.wrapping_add(atol_q as i16));
            let inv_tol = 1.0 / tol;
            for lb in lb0..=lb1 {
                let mut ab = a0;
                loop {
                    let key = lb * ANG_BINS + ab;
                    for f in &ce[c.buckets[key] as usize..c.buckets[key + 1] as usize] {
                        let dl = (e.len - f.len).abs();
                        if dl > tol {
                            continue;
                        }
                        let da = e.a_from.wrapping_sub(f.a_from).unsigned_abs();
                        if da > atol_q {
                            continue;
                        }
                        let db = e.a_to.wrapping_sub(f.a_to).unsigned_abs();
                        if db > atol_q {
                            continue;
                        }
                        let sim = (1.0 - dl * inv_tol)
                            * (1.0 - da as f32 * inv_atol)
                            * (1.0 - db as f32 * inv_atol);
                        self.votes[e.from as usize * n2 + f.from as usize] += sim;
                        self.votes[e.to as usize * n2 + f.to as usize] += sim;
                    }
                    if ab == a1 {
                        break;
                    }
                    ab = (ab + 1) % ANG_BINS;
                }
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
        for &(v, idx) in &seeds {
            if v <= 0.0 {
                break;
            }
            let i = idx as usize / n2;
            let j = idx as usize % n2;
            let t = Rigid::from_pair(p, i, c, j);
            self.pair(p, c, &t);
            // Refine alignment on the pairs found, then pair again.
            if self.matched.len() >= 3 {
                let t2 = self.refine(p, c);
                self.pair(p, c, &t2);
                best = best.max(self.evaluate(p, c, &t2));
            } else {
                best = best.max(self.evaluate(p, c, &t));
            }
        }
        best
    }

    /// Greedy one-to-one pairing of minutiae under transform `t`.
    fn pair(&mut self, p: &MatchTemplate, c: &MatchTemplate, t: &Rigid) {
        let (n1, n2) = (p.len(), c.len());
        self.pairs.clear();
        for i in 0..n1 {
            let (x, y) = t.apply(p.xs[i], p.ys[i]);
            let a = p.angles[i] + t.rot;
            let start = c.xs.partition_point(|&cx| cx < x - PAIR_DIST);
            for j in start..n2 {
                let dx = c.xs[j] - x;
                if dx > PAIR_DIST {
                    break;
                }
                let dy = c.ys[j] - y;
                if dy.abs() > PAIR_DIST {
                    continue;
                }
                let d2 = dx * dx + dy * dy;
                if d2 > PAIR_DIST * PAIR_DIST {
                    continue;
                }
                let da = wrap(c.angles[j] - a).abs();
                if da > PAIR_ANGLE {
                    continue;
                }
                let cost = d2.sqrt() / PAIR_DIST + da / PAIR_ANGLE;
                self.pairs.push((cost, i as u16, j as u16));
            }
        }
        self.pairs
            .sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
        self.used_p.clear();
        self.used_p.resize(n1, false);
        self.used_c.clear();
        self.used_c.resize(n2, false);
        self.matched.clear();
        for &(_, i, j) in &self.pairs {
            if !self.used_p[i as usize] && !self.used_c[j as usize] {
                self.used_p[i as usize] = true;
                self.used_c[j as usize] = true;
                self.matched.push((i, j));
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
            rot,
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
