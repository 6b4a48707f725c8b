//! 1:1 minutiae matching.
//!
//! Two stages, in the spirit of SourceAFIS's edge pairing and of classic
//! local-then-global matchers (Jiang & Yau 2000):
//!
//! 1. **Local**: every minutia is linked to its nearest neighbours (the
//!    probe's 7 are looked up among the candidate's 8, see `PROBE_NEIGHBOURS`).
//!    An edge is described by its length and the two angles it makes with its
//!    end minutiae's directions — all invariant to rotation and translation.
//!    Edges of the two templates with compatible descriptors vote for the
//!    minutia correspondences they imply. (Two minutiae that are each other's
//!    neighbours give an edge in each direction; the probe side scans one of
//!    them and counts the pair twice, see `EdgeDirs`.)
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
/// docs/benchmarks/fpengine.md) at most one impostor scores at or above it
/// (the lowest such score is 18.48 with the current extractor and matcher; FNMR
/// there 25.0 % of the 1,120 genuine pairs). Re-derive it whenever extraction or
/// scoring changes: `fingerprint eval` prints the pooled figure.
/// So few impostors make this indicative, not certified: callers deciding
/// identity on one finger should prefer fusing two fingers
/// ([`crate::fuse_scores`]).
pub const FMR_1_IN_10000_THRESHOLD: f32 = 18.5;

/// Most minutiae used per template (the first ones, i.e. the best for templates
/// from [`crate::extract()`]). Bounds the n1×n2 vote matrix so a hostile template
/// with 65,535 minutiae cannot make a comparison allocate gigabytes.
pub const MAX_MATCH_MINUTIAE: usize = 200;
/// Neighbours per minutia in the edge table.
const NEIGHBOURS: usize = 8;
/// Neighbours per minutia whose edges the probe looks up among the
/// candidate's [`NEIGHBOURS`] nearest. One fewer, so that an edge still finds
/// its mate when a minutia found in one impression and not the other (or
/// moved by the skin) pushes the neighbour one rank down on the candidate
/// side; and the probe scans about an eighth fewer edges. With 8 on both sides
/// the four FVC set-B EERs were 1.81 / 1.78 / 10.00 / 13.57 %, with 7 here
/// (and 5 [`SEEDS`]) 1.78 / 1.43 / 10.39 / 13.22 % at 15 % more comparisons
/// per second (docs/benchmarks/fpengine.md, fourth round). The score is no
/// longer exactly symmetric in its two templates.
const PROBE_NEIGHBOURS: usize = 7;
/// Longest edge considered (pixels at 500 dpi): beyond this, skin distortion
/// makes distances unreliable.
const MAX_EDGE: f32 = 170.0;
/// Seeds tried in consolidation: the best-voted correspondences, each the
/// start of one alignment. Five instead of six saves a sixth of the pairing
/// passes; alone it moved the four FVC set-B EERs by −0.03 to +0.35 points,
/// one genuine pair or less each (see [`PROBE_NEIGHBOURS`] for both changes
/// together).
const SEEDS: usize = 5;
/// A seed is refined only if its first pairing pass found at least this
/// fraction of the most pairs an earlier seed's first pass found. Skipping
/// the others saves about a sixth of the pairing passes; on the four FVC set-B
/// databases the per-database EERs are unchanged or better (FVC2002 DB2_B
/// 2.50 → 2.45 %): such seeds were not the ones giving the best score.
const SEED_KEEP: f32 = 0.8;
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
    /// Minutiae used (at most [`MAX_MATCH_MINUTIAE`]).
    n: usize,
    /// Coordinates, padded with [`PAIR_SPAN`] far-away entries so that the
    /// vector pairing scan may read that far past the last minutia.
    xs: Vec<f32>,
    ys: Vec<f32>,
    /// Bounding box of the minutiae (min x, max x, min y, max y), for the
    /// overlap estimate of every comparison against this template.
    bbox: [f32; 4],
    angles: Vec<f32>,
    kinds: Vec<MinutiaKind>,
    /// Directions in 1/65536 turns, for branch-free wrapped differences;
    /// widened to i32 lanes (values stay in i16 range) and padded like the
    /// coordinates so the vector pairing scan tests direction and distance
    /// together.
    angles_q: Vec<i32>,
    /// `x_start[k]`: index of the first minutia with x ≥ k·[`X_BIN`] (minutiae
    /// are sorted by x), so pairing finds its column window by lookup instead
    /// of a binary search.
    x_start: Vec<u8>,
    /// Edge lengths in 1/16 pixel, one entry per orientation of every edge
    /// (the k nearest neighbours of each minutia, both ways round: see
    /// [`EdgeDirs`]), ordered by (start-angle bin, length).
    /// The i16 columns are padded with [`SCAN_PAD`] never-matching entries so
    /// the vector scans may read a whole block past the last edge.
    e_len: Vec<i16>,
    /// Angle of the edge vector relative to the start minutia's direction, in
    /// 1/65536 turns: wrapping i16 arithmetic then gives angle differences
    /// without any range reduction in the inner loop.
    e_from_angle: Vec<i16>,
    /// Angle of the edge vector relative to the end minutia's direction (same unit).
    e_to_angle: Vec<i16>,
    /// Start and end minutia of each edge and which of its orientations are
    /// neighbour edges.
    e_ends: Vec<EdgeEnds>,
    /// CSR offsets of the edges per (start-angle bin, length bin) cell, angle
    /// major, so that one angle bin's length range is one contiguous slice.
    cells: Vec<u16>,
    /// Lookup parameters of each edge when this template is the probe (one
    /// orientation per pair of minutiae joined by an edge to one of the
    /// [`PROBE_NEIGHBOURS`] nearest, the orientation visiting fewer
    /// start-angle buckets), in edge-table order: computed once here instead
    /// of in every comparison.
    probe: Vec<ProbeEdge>,
}

/// Which orientations of an edge table entry `a → b` are neighbour edges:
/// [`EdgeDirs::FORWARD`] when `b` is among `a`'s nearest neighbours,
/// [`EdgeDirs::REVERSE`] when `a` is among `b`'s.
///
/// The vote stage compares every probe edge with every candidate edge, each
/// direction on its own. An edge and its reverse have the same length and
/// swapped angles turned by half a turn (they are built that way, exactly), so
/// the reversed probe edge against the reversed candidate edge is the same
/// comparison, with the same similarity, as the forward one. The probe
/// therefore scans one orientation per pair of minutiae (about two thirds of
/// its directed edges, as most neighbours are mutual) and each hit counts
/// for the directed comparisons it stands for: `FORWARD` of both plus
/// `REVERSE` of both ([`EdgeDirs::MULTIPLICITY`]), where the probe's flags
/// count its [`PROBE_NEIGHBOURS`] nearest ([`ProbeEdge::dirs`]) and the
/// candidate's its [`NEIGHBOURS`] nearest. For that the candidate holds both
/// orientations of every edge, the missing one of a one-way edge as an entry
/// with only `REVERSE` set. The votes are those of the all-directed
/// comparison up to floating-point summation order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct EdgeDirs(u8);

impl EdgeDirs {
    const FORWARD: u8 = 1;
    const REVERSE: u8 = 2;

    /// Directed comparisons a hit of probe entry `p` with candidate entry
    /// `c` stands for (0, 1 or 2), indexed by `p.0 & c.0`: `FORWARD` of both
    /// plus `REVERSE` of both.
    const MULTIPLICITY: [f32; 4] = [0.0, 1.0, 1.0, 2.0];
}

/// The end minutiae of an edge table entry (indices fit: at most
/// [`MAX_MATCH_MINUTIAE`] ≤ 255 minutiae) and its [`EdgeDirs`], side by side:
/// turning a hit into votes then reads one place instead of three columns.
/// Three bytes, unpadded: a 100,000-template gallery holds some 46 million.
#[derive(Debug, Clone, Copy)]
struct EdgeEnds {
    from: u8,
    to: u8,
    dirs: EdgeDirs,
}

/// What the vote stage needs of one probe edge: its descriptor, tolerance,
/// end minutiae and the candidate cells to visit.
#[derive(Debug, Clone, Copy)]
struct ProbeEdge {
    len: i16,
    from_angle: i16,
    to_angle: i16,
    /// Length tolerance in 1/16 pixel and its reciprocal.
    tol: i16,
    inv_tol: f32,
    from: u8,
    to: u8,
    /// Which orientations of the pair are edges from a minutia to one of its
    /// [`PROBE_NEIGHBOURS`] nearest (never none: pairs with no such edge are
    /// not in the probe table).
    dirs: EdgeDirs,
    /// Length bins `lb0..lb1` (exclusive) and start-angle bins `a0`, `a0 + 1`,
    /// … (`na` of them, wrapping) of the candidate cells to scan.
    lb0: u8,
    lb1: u8,
    a0: u8,
    na: u8,
}

/// One candidate edge compatible with a probe edge: the candidate edge's
/// index in the low 16 bits, the probe edge's index in the probe's
/// [`ProbeEdge`] table in the high 16 (both < 2 · [`MAX_MATCH_MINUTIAE`] ·
/// [`NEIGHBOURS`] = 3,200).
type Hit = u32;

/// Hits gathered before they are turned into votes: about one typical
/// comparison's worth, and a bound on the buffer whatever the templates.
const HIT_BUFFER: usize = 1024;

/// For every 8-lane hit mask of the vector edge scan, the lanes set, in
/// increasing order (padded with zeros), and how many there are: one table
/// lookup then compacts a block's hits without a branch per lane. A loop over
/// the set bits instead exits after 1–3 rounds at random and mispredicts about
/// once per block holding a hit.
#[cfg(target_arch = "x86_64")]
const LANE_POS: [[u16; SCAN_LANES]; 256] = {
    let mut t = [[0u16; SCAN_LANES]; 256];
    let mut mask = 0;
    while mask < 256 {
        let (mut lane, mut k) = (0, 0);
        while lane < SCAN_LANES {
            if mask & (1 << lane) != 0 {
                t[mask][k] = lane as u16;
                k += 1;
            }
            lane += 1;
        }
        mask += 1;
    }
    t
};
#[cfg(target_arch = "x86_64")]
const LANE_COUNT: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut mask = 0;
    while mask < 256 {
        t[mask] = (mask as u32).count_ones() as u8;
        mask += 1;
    }
    t
};

/// [`LANE_POS`] widened to u32 lanes for the AVX2 scan: adding the block's
/// first hit, `probe << 16 | k`, gives eight compacted hits in one
/// instruction.
#[cfg(target_arch = "x86_64")]
const LANE_POS32: [[u32; SCAN_LANES]; 256] = {
    let mut t = [[0u32; SCAN_LANES]; 256];
    let mut mask = 0;
    while mask < 256 {
        let mut k = 0;
        while k < SCAN_LANES {
            t[mask][k] = LANE_POS[mask][k] as u32;
            k += 1;
        }
        mask += 1;
    }
    t
};

/// Which vector instructions the comparison's hot loops use, detected once
/// per process: AVX2 scans sixteen candidate edges and tests eight pairing
/// candidates per instruction where the CPU has it; the baseline (SSE2 on
/// x86_64, plain loops elsewhere) runs on every CPU. Both find the same hits
/// and pairs in the same order, so scores are bit-for-bit the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Isa {
    Baseline,
    #[cfg(target_arch = "x86_64")]
    Avx2,
}

// Derivable only where there is nothing to detect.
#[cfg_attr(not(target_arch = "x86_64"), allow(clippy::derivable_impls))]
impl Default for Isa {
    fn default() -> Self {
        #[cfg(target_arch = "x86_64")]
        {
            static DETECTED: std::sync::OnceLock<Isa> = std::sync::OnceLock::new();
            *DETECTED.get_or_init(|| {
                if std::arch::is_x86_feature_detected!("avx2") {
                    Isa::Avx2
                } else {
                    Isa::Baseline
                }
            })
        }
        #[cfg(not(target_arch = "x86_64"))]
        Isa::Baseline
    }
}

/// Edge angle tolerance (radians) of the vote stage and in 1/65536 turns.
const EDGE_ATOL: f32 = 0.45;
const EDGE_ATOL_Q: u16 = (EDGE_ATOL / TAU * 65536.0) as u16;

/// Lanes of the vector pairing scan (four f32 in one SSE register).
const PAIR_LANES: usize = 4;
/// Candidates the pairing scan tests for every probe minutia whatever its
/// window (most windows on FVC prints are shorter; longer ones go on block by
/// block). 8 and 12 measured the same.
const PAIR_SPAN: usize = 16;
/// The lanes set in every 4-lane mask, in increasing order (like the vote
/// scan's `LANE_POS`), for the pairing stage's reach test.
const REACH_POS: [[u8; PAIR_LANES]; 16] = {
    let mut t = [[0u8; PAIR_LANES]; 16];
    let mut mask = 0;
    while mask < 16 {
        let (mut lane, mut k) = (0, 0);
        while lane < PAIR_LANES {
            if mask & (1 << lane) != 0 {
                t[mask][k] = lane as u8;
                k += 1;
            }
            lane += 1;
        }
        mask += 1;
    }
    t
};
/// Coordinate of the padding entries: far enough that no squared distance to
/// them passes a pairing tolerance, small enough that its square is finite.
const FAR: f32 = 1.0e9;

/// Edge length bucket width (pixels) and number of start-angle buckets. The
/// buckets let the vote stage visit only edges that can be compatible (about a
/// twentieth of all pairs, a tenth of them within all three tolerances).
/// Narrow length buckets cost nothing per probe edge (one angle bucket's
/// length range stays one contiguous run) and waste less of each run;
/// finer angle buckets would split runs (8 measured best of 5, 8, 16).
const LEN_BIN: f32 = 2.0;
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
#[cfg(target_arch = "x86_64")]
const SCAN_LANES: usize = 8;
/// Lanes of the AVX2 edge scan (sixteen i16 in one register).
#[cfg(target_arch = "x86_64")]
const SCAN_LANES_AVX2: usize = 16;
/// Padding of the edge columns and the hit buffer: the widest scan's block.
const SCAN_PAD: usize = 16;

/// Edge length in the fixed-point unit of [`MatchTemplate`] (1/16 pixel).
#[inline]
fn len_fixed(len: f32) -> i16 {
    (len * 16.0).round() as i16
}

/// Appends to `hits` (holding `found` entries so far) the edges of `c` in
/// `s0..s1` whose length lies within `tol` of `q.0` and whose two angles lie
/// within `atol` of `q.1` and `q.2`, in increasing order, and returns the new
/// count. `|d| ≤ t` is tested as the unsigned `d + t ≤ 2t`, which is exact for
/// wrapping i16 angle differences too. About half the blocks of eight hold a
/// hit, at random, so nothing here branches on the data: every block writes
/// eight compacted entries (see `LANE_POS`) and the count advances by the
/// number of hits; the entries past the count are overwritten by the next block.
/// `hits` must hold `found + (s1 - s0) + SCAN_LANES` entries.
#[inline]
fn scan_edges(
    c: &MatchTemplate,
    std::ops::Range { start: s0, end: s1 }: std::ops::Range<usize>,
    q: (i16, i16, i16),
    (tol, atol): (i16, i16),
    probe: u16,
    hits: &mut [Hit],
    mut found: usize,
) -> usize {
    #[cfg(target_arch = "x86_64")]
    {
        // SSE2 is part of the x86_64 baseline, so no runtime detection is needed.
        use std::arch::x86_64::*;
        // The columns are padded by SCAN_LANES entries past the last edge;
        // every block of the range adds at most SCAN_LANES hits and writes
        // SCAN_LANES entries.
        assert!(
            s0 <= s1
                && s1 + SCAN_LANES <= c.e_len.len()
                && c.e_len.len() == c.e_from_angle.len()
                && c.e_len.len() == c.e_to_angle.len()
                && found + (s1 - s0) + SCAN_LANES <= hits.len()
        );
        // SAFETY: SSE2 is always available on x86_64; every load reads 8 i16
        // at k < s1, within the columns' length checked above; every store
        // writes 8 entries at `found`, which stays below
        // found₀ + (k - s0) + SCAN_LANES ≤ hits.len() (checked above).
        unsafe {
            let l = _mm_set1_epi16(q.0);
            let a = _mm_set1_epi16(q.1);
            let b = _mm_set1_epi16(q.2);
            let lt = _mm_set1_epi16(tol);
            let at = _mm_set1_epi16(atol);
            let l2 = _mm_set1_epi16(2 * tol);
            let a2 = _mm_set1_epi16(2 * atol);
            let zero = _mm_setzero_si128();
            let probe_v = _mm_set1_epi16(probe as i16);
            let (lens, fa, ta) = (
                c.e_len.as_ptr(),
                c.e_from_angle.as_ptr(),
                c.e_to_angle.as_ptr(),
            );
            let out = hits.as_mut_ptr();
            let mut k = s0;
            while k < s1 {
                let vl = _mm_loadu_si128(lens.add(k) as *const __m128i);
                let va = _mm_loadu_si128(fa.add(k) as *const __m128i);
                let vb = _mm_loadu_si128(ta.add(k) as *const __m128i);
                let dl = _mm_subs_epu16(_mm_add_epi16(_mm_sub_epi16(l, vl), lt), l2);
                let da = _mm_subs_epu16(_mm_add_epi16(_mm_sub_epi16(a, va), at), a2);
                let db = _mm_subs_epu16(_mm_add_epi16(_mm_sub_epi16(b, vb), at), a2);
                let ok = _mm_cmpeq_epi16(_mm_or_si128(_mm_or_si128(dl, da), db), zero);
                // One bit per lane, lanes past s1 cleared.
                let bits = (_mm_movemask_epi8(_mm_packs_epi16(ok, ok)) as usize & 0xff)
                    & (0xff >> (SCAN_LANES - (s1 - k).min(SCAN_LANES)));
                let lanes = _mm_add_epi16(
                    _mm_loadu_si128(LANE_POS[bits].as_ptr() as *const __m128i),
                    _mm_set1_epi16(k as i16),
                );
                // (edge, probe) pairs of u16 are the little-endian u32 hits.
                let dst = out.add(found) as *mut __m128i;
                _mm_storeu_si128(dst, _mm_unpacklo_epi16(lanes, probe_v));
                _mm_storeu_si128(dst.add(1), _mm_unpackhi_epi16(lanes, probe_v));
                found += LANE_COUNT[bits] as usize;
                k += SCAN_LANES;
            }
        }
        found
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let within = |d: i16, t: i16| (d.wrapping_add(t) as u16) <= 2 * t as u16;
        for k in s0..s1 {
            hits[found] = (probe as u32) << 16 | k as u32;
            found += (within(q.0.wrapping_sub(c.e_len[k]), tol)
                && within(q.1.wrapping_sub(c.e_from_angle[k]), atol)
                && within(q.2.wrapping_sub(c.e_to_angle[k]), atol)) as usize;
        }
        found
    }
}

/// [`scan_edges`] sixteen candidate edges at a time: the same hits in the
/// same order. Each block's 16-bit hit mask is compacted as two 8-lane
/// halves through [`LANE_POS32`].
/// `hits` must hold `found + (s1 - s0) + SCAN_PAD` entries.
///
/// # Safety
/// The CPU must have AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline]
unsafe fn scan_edges_avx2(
    c: &MatchTemplate,
    std::ops::Range { start: s0, end: s1 }: std::ops::Range<usize>,
    q: (i16, i16, i16),
    (tol, atol): (i16, i16),
    probe: u16,
    hits: &mut [Hit],
    mut found: usize,
) -> usize {
    use std::arch::x86_64::*;
    // The columns are padded by SCAN_PAD entries past the last edge; every
    // block of the range adds at most SCAN_LANES_AVX2 hits and writes that
    // many entries.
    assert!(
        s0 <= s1
            && s1 + SCAN_LANES_AVX2 <= c.e_len.len()
            && c.e_len.len() == c.e_from_angle.len()
            && c.e_len.len() == c.e_to_angle.len()
            && found + (s1 - s0) + SCAN_LANES_AVX2 <= hits.len()
    );
    // SAFETY: AVX2 is available (caller); every load reads 16 i16 at
    // k < s1, within the columns' length checked above; the two stores of a
    // block write 8 entries at `found` each, which stays below
    // found₀ + (k - s0) + SCAN_LANES_AVX2 ≤ hits.len() (checked above).
    unsafe {
        let l = _mm256_set1_epi16(q.0);
        let a = _mm256_set1_epi16(q.1);
        let b = _mm256_set1_epi16(q.2);
        let lt = _mm256_set1_epi16(tol);
        let at = _mm256_set1_epi16(atol);
        let l2 = _mm256_set1_epi16(2 * tol);
        let a2 = _mm256_set1_epi16(2 * atol);
        let zero = _mm256_setzero_si256();
        let (lens, fa, ta) = (
            c.e_len.as_ptr(),
            c.e_from_angle.as_ptr(),
            c.e_to_angle.as_ptr(),
        );
        let out = hits.as_mut_ptr();
        // First hit of the block's low half; the high half is 8 further.
        let mut first = _mm256_set1_epi32(((probe as u32) << 16 | s0 as u32) as i32);
        let half = _mm256_set1_epi32(SCAN_LANES as i32);
        let block = _mm256_set1_epi32(SCAN_LANES_AVX2 as i32);
        let mut k = s0;
        while k < s1 {
            let vl = _mm256_loadu_si256(lens.add(k) as *const __m256i);
            let va = _mm256_loadu_si256(fa.add(k) as *const __m256i);
            let vb = _mm256_loadu_si256(ta.add(k) as *const __m256i);
            let dl = _mm256_subs_epu16(_mm256_add_epi16(_mm256_sub_epi16(l, vl), lt), l2);
            let da = _mm256_subs_epu16(_mm256_add_epi16(_mm256_sub_epi16(a, va), at), a2);
            let db = _mm256_subs_epu16(_mm256_add_epi16(_mm256_sub_epi16(b, vb), at), a2);
            let ok = _mm256_cmpeq_epi16(_mm256_or_si256(_mm256_or_si256(dl, da), db), zero);
            // Packing works within 128-bit halves: bytes 0–7 are lanes 0–7,
            // bytes 16–23 lanes 8–15.
            let m = _mm256_movemask_epi8(_mm256_packs_epi16(ok, ok)) as u32 as usize;
            let bits = ((m & 0xff) | (m >> 8 & 0xff00))
                & (0xffff >> (SCAN_LANES_AVX2 - (s1 - k).min(SCAN_LANES_AVX2)));
            let (lo, hi) = (bits & 0xff, bits >> 8);
            let dst = out.add(found) as *mut __m256i;
            _mm256_storeu_si256(
                dst,
                _mm256_add_epi32(
                    _mm256_loadu_si256(LANE_POS32[lo].as_ptr() as *const __m256i),
                    first,
                ),
            );
            found += LANE_COUNT[lo] as usize;
            let dst = out.add(found) as *mut __m256i;
            _mm256_storeu_si256(
                dst,
                _mm256_add_epi32(
                    _mm256_loadu_si256(LANE_POS32[hi].as_ptr() as *const __m256i),
                    _mm256_add_epi32(first, half),
                ),
            );
            found += LANE_COUNT[hi] as usize;
            first = _mm256_add_epi32(first, block);
            k += SCAN_LANES_AVX2;
        }
    }
    found
}

/// Calls `on_hit(j, d², |Δθ|)` for each candidate minutia `j` whose squared
/// distance to `(x, y)` is at most `tol2` and whose direction differs from
/// `angle` by at most [`PAIR_ANGLE`] (both in 1/65536 turns, wrapped), among
/// `range` (at least [`PAIR_SPAN`] candidates from its start are tested:
/// those past its end are either padding, never within reach, or further in
/// x than the window allows), in increasing order.
/// Tests four candidates per instruction group without branching and only
/// then visits the few within reach: about half of those within the distance
/// fail the direction test, so testing it in the vector saves their visits.
#[inline]
fn within_reach(
    c: &MatchTemplate,
    range: std::ops::Range<usize>,
    (x, y): (f32, f32),
    tol2: f32,
    angle: i16,
    mut on_hit: impl FnMut(usize, f32, u16),
) {
    let angle_diff = |j: usize| (c.angles_q[j] as i16).wrapping_sub(angle).unsigned_abs();
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::*;
        let n = range.end;
        // Coordinates and directions are padded by PAIR_SPAN entries past
        // the last minutia (far away, so never within reach).
        assert!(
            n <= c.n
                && c.xs.len() == c.n + PAIR_SPAN
                && c.ys.len() == c.xs.len()
                && c.angles_q.len() == c.xs.len()
        );
        // SAFETY: SSE2 is always available on x86_64; each load reads 4
        // lanes at j < max(n, range.start + PAIR_SPAN) ≤ c.n + PAIR_SPAN,
        // within the padded columns checked above.
        unsafe {
            let vx = _mm_set1_ps(x);
            let vy = _mm_set1_ps(y);
            let vt = _mm_set1_ps(tol2);
            let va = _mm_set1_epi32(angle as i32);
            let amax = _mm_set1_epi32(PAIR_ANGLE_Q as i32);
            let amin = _mm_set1_epi32(-(PAIR_ANGLE_Q as i32));
            let (xs, ys, angles) = (c.xs.as_ptr(), c.ys.as_ptr(), c.angles_q.as_ptr());
            // Bit k of the result: candidate j + k is within reach.
            let block = |j: usize| -> u64 {
                let dx = _mm_sub_ps(_mm_loadu_ps(xs.add(j)), vx);
                let dy = _mm_sub_ps(_mm_loadu_ps(ys.add(j)), vy);
                let d2 = _mm_add_ps(_mm_mul_ps(dx, dx), _mm_mul_ps(dy, dy));
                // Direction difference wrapped to i16 (shift up, then
                // arithmetic shift down), then |d| ≤ PAIR_ANGLE_Q.
                let da = _mm_sub_epi32(_mm_loadu_si128(angles.add(j) as *const __m128i), va);
                let da = _mm_srai_epi32(_mm_slli_epi32(da, 16), 16);
                let off = _mm_or_si128(_mm_cmpgt_epi32(da, amax), _mm_cmplt_epi32(da, amin));
                let ok = _mm_andnot_ps(_mm_castsi128_ps(off), _mm_cmple_ps(d2, vt));
                _mm_movemask_ps(ok) as u64
            };
            let mut visit = |base: usize, mut mask: u64| {
                while mask != 0 {
                    let k = base + mask.trailing_zeros() as usize;
                    let (dx, dy) = (c.xs[k] - x, c.ys[k] - y);
                    // Same operations as the vector lane: the same value.
                    on_hit(k, dx * dx + dy * dy, angle_diff(k));
                    mask &= mask - 1;
                }
            };
            // The first PAIR_SPAN candidates in any case: most windows fit,
            // and a fixed count leaves no loop exit to mispredict.
            let mut base = range.start;
            let mut mask = 0u64;
            for q in 0..PAIR_SPAN / PAIR_LANES {
                mask |= block(base + q * PAIR_LANES) << (q * PAIR_LANES);
            }
            visit(base, mask);
            base += PAIR_SPAN;
            while base < n {
                // One 64-bit mask per 64 candidates (16 blocks).
                let stop = (base + 64).min(n);
                let mut mask = 0u64;
                let mut j = base;
                while j < stop {
                    mask |= block(j) << (j - base);
                    j += PAIR_LANES;
                }
                visit(base, mask);
                base = stop;
            }
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        for j in range {
            let (dx, dy) = (c.xs[j] - x, c.ys[j] - y);
            let d2 = dx * dx + dy * dy;
            let da = angle_diff(j);
            if d2 <= tol2 && da <= PAIR_ANGLE_Q {
                on_hit(j, d2, da);
            }
        }
    }
}

/// [`within_reach`] eight candidates at a time: the same tests (the same
/// f32 operations, no fused multiply-add) and calls in the same order.
///
/// # Safety
/// The CPU must have AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline]
unsafe fn within_reach_avx2(
    c: &MatchTemplate,
    range: std::ops::Range<usize>,
    (x, y): (f32, f32),
    tol2: f32,
    angle: i16,
    mut on_hit: impl FnMut(usize, f32, u16),
) {
    use std::arch::x86_64::*;
    const LANES: usize = 8;
    const { assert!(PAIR_SPAN == 2 * LANES) };
    let angle_diff = |j: usize| (c.angles_q[j] as i16).wrapping_sub(angle).unsigned_abs();
    let n = range.end;
    // Coordinates and directions are padded by PAIR_SPAN entries past the
    // last minutia (far away, so never within reach).
    assert!(
        n <= c.n
            && range.start <= c.n
            && c.xs.len() == c.n + PAIR_SPAN
            && c.ys.len() == c.xs.len()
            && c.angles_q.len() == c.xs.len()
    );
    // SAFETY: AVX2 is available (caller); each load reads 8 lanes at
    // j < max(n, range.start + PAIR_SPAN) with j + 8 ≤ c.n + PAIR_SPAN,
    // within the padded columns checked above.
    unsafe {
        let vx = _mm256_set1_ps(x);
        let vy = _mm256_set1_ps(y);
        let vt = _mm256_set1_ps(tol2);
        let va = _mm256_set1_epi32(angle as i32);
        let amax = _mm256_set1_epi32(PAIR_ANGLE_Q as i32);
        let amin = _mm256_set1_epi32(-(PAIR_ANGLE_Q as i32));
        let (xs, ys, angles) = (c.xs.as_ptr(), c.ys.as_ptr(), c.angles_q.as_ptr());
        // Bit k of the result: candidate j + k is within reach.
        let block = |j: usize| -> u64 {
            let dx = _mm256_sub_ps(_mm256_loadu_ps(xs.add(j)), vx);
            let dy = _mm256_sub_ps(_mm256_loadu_ps(ys.add(j)), vy);
            let d2 = _mm256_add_ps(_mm256_mul_ps(dx, dx), _mm256_mul_ps(dy, dy));
            let da = _mm256_sub_epi32(_mm256_loadu_si256(angles.add(j) as *const __m256i), va);
            let da = _mm256_srai_epi32(_mm256_slli_epi32(da, 16), 16);
            let off = _mm256_or_si256(_mm256_cmpgt_epi32(da, amax), _mm256_cmpgt_epi32(amin, da));
            let ok = _mm256_andnot_ps(
                _mm256_castsi256_ps(off),
                _mm256_cmp_ps::<_CMP_LE_OS>(d2, vt),
            );
            _mm256_movemask_ps(ok) as u64
        };
        let mut visit = |base: usize, mut mask: u64| {
            while mask != 0 {
                let k = base + mask.trailing_zeros() as usize;
                let (dx, dy) = (c.xs[k] - x, c.ys[k] - y);
                on_hit(k, dx * dx + dy * dy, angle_diff(k));
                mask &= mask - 1;
            }
        };
        let mut base = range.start;
        let mask = block(base) | block(base + LANES) << LANES;
        visit(base, mask);
        base += PAIR_SPAN;
        while base < n {
            let stop = (base + 64).min(n);
            let mut mask = 0u64;
            let mut j = base;
            while j < stop {
                mask |= block(j) << (j - base);
                j += LANES;
            }
            visit(base, mask);
            base = stop;
        }
    }
}

/// [`scan_edges`], or [`scan_edges_avx2`] when `AVX2`.
#[inline(always)]
fn scan<const AVX2: bool>(
    c: &MatchTemplate,
    range: std::ops::Range<usize>,
    q: (i16, i16, i16),
    tols: (i16, i16),
    probe: u16,
    hits: &mut [Hit],
    found: usize,
) -> usize {
    #[cfg(target_arch = "x86_64")]
    if AVX2 {
        // SAFETY: instantiated with AVX2 only under `Matcher::score_avx2`,
        // which runs only when the CPU has AVX2.
        return unsafe { scan_edges_avx2(c, range, q, tols, probe, hits, found) };
    }
    scan_edges(c, range, q, tols, probe, hits, found)
}

/// [`within_reach`], or [`within_reach_avx2`] when `AVX2`.
#[inline(always)]
fn reach<const AVX2: bool>(
    c: &MatchTemplate,
    range: std::ops::Range<usize>,
    at: (f32, f32),
    tol2: f32,
    angle: i16,
    on_hit: impl FnMut(usize, f32, u16),
) {
    #[cfg(target_arch = "x86_64")]
    if AVX2 {
        // SAFETY: as in `scan`.
        return unsafe { within_reach_avx2(c, range, at, tol2, angle, on_hit) };
    }
    within_reach(c, range, at, tol2, angle, on_hit)
}

/// Length tolerance of the vote stage for an edge of length `lq` (1/16
/// pixel), in pixels and in 1/16 pixel: 5 px plus 6 % of the length, as skin
/// stretches more over longer distances.
fn edge_length_tolerance(lq: i16) -> (f32, i16) {
    let tol = 5.0 + 0.06 * (lq as f32 / 16.0);
    // Positive, so truncating after +0.5 rounds.
    (tol, (tol * 16.0 + 0.5) as i16)
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
        // Sorted by x so that pairing can look up a column window.
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
        let directed = nearest_neighbours(&xs, &ys);
        // rank[i·n + j]: j's place among i's nearest neighbours (u8::MAX:
        // not among them).
        let mut rank = vec![u8::MAX; n * n];
        for &(i, j, _, r) in &directed {
            rank[i as usize * n + j as usize] = r;
        }
        let is_edge = |i: u8, j: u8| rank[i as usize * n + j as usize] != u8::MAX;
        // Edge angles, computed once per pair of minutiae (lower index first)
        // so that the reverse orientation's are exactly the swapped angles
        // turned by half a turn (see EdgeDirs).
        let edge_angles = |i: usize, j: usize| -> (i16, i16) {
            let (lo, hi) = (i.min(j), i.max(j));
            let dir = (ys[hi] - ys[lo]).atan2(xs[hi] - xs[lo]);
            let (from, to) = (quant(wrap(dir - angles[lo])), quant(wrap(dir - angles[hi])));
            if i < j {
                (from, to)
            } else {
                (to.wrapping_add(i16::MIN), from.wrapping_add(i16::MIN))
            }
        };
        // (cell, length, from, to, from-angle, to-angle, dirs), both
        // orientations of every edge: sorted, then split into columns.
        let mut edges: Vec<(usize, f32, u8, u8, i16, i16, EdgeDirs)> =
            Vec::with_capacity(2 * directed.len());
        for &(i, j, d, _) in &directed {
            let reverse = is_edge(j, i);
            let mut push = |from: u8, to: u8, dirs: u8| {
                let (a_from, a_to) = edge_angles(from as usize, to as usize);
                let cell = ang_bin(a_from) * LEN_BINS + len_bin(d);
                edges.push((cell, d, from, to, a_from, a_to, EdgeDirs(dirs)));
            };
            if reverse {
                push(i, j, EdgeDirs::FORWARD | EdgeDirs::REVERSE);
            } else {
                push(i, j, EdgeDirs::FORWARD);
                push(j, i, EdgeDirs::REVERSE);
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
            v.extend(std::iter::repeat_n(i16::MIN, SCAN_PAD));
            v
        };
        // Start-angle buckets a probe entry visits (2, or 3 when its angle
        // window straddles two bucket borders). Either orientation of a pair
        // may be the probe's (EdgeDirs); the one visiting fewer buckets is
        // taken, the lower index first on a tie.
        let buckets = |a_from: i16| {
            let a0 = ang_bin(a_from.wrapping_sub(EDGE_ATOL_Q as i16));
            let a1 = ang_bin(a_from.wrapping_add(EDGE_ATOL_Q as i16));
            ((a1 + ANG_BINS - a0) % ANG_BINS + 1) as u8
        };
        let mut fewest = vec![u8::MAX; n * n];
        for e in &edges {
            let k = e.2 as usize * n + e.3 as usize;
            fewest[k] = buckets(e.4);
        }
        // The probe's own flags (see ProbeEdge::dirs): the same for both
        // orientations of a pair, bits swapped.
        let probe_dirs = |a: u8, b: u8| {
            let near = |i: u8, j: u8| rank[i as usize * n + j as usize] < PROBE_NEIGHBOURS as u8;
            EdgeDirs(
                (near(a, b) as u8 * EdgeDirs::FORWARD) | (near(b, a) as u8 * EdgeDirs::REVERSE),
            )
        };
        let probe = edges
            .iter()
            .filter_map(|e| {
                let (here, there) = (
                    fewest[e.2 as usize * n + e.3 as usize],
                    fewest[e.3 as usize * n + e.2 as usize],
                );
                let dirs = probe_dirs(e.2, e.3);
                ((here < there || (here == there && e.2 < e.3)) && dirs.0 != 0).then_some((e, dirs))
            })
            .map(|(e, dirs)| {
                let lq = len_fixed(e.1);
                let len = lq as f32 / 16.0;
                let (tol, tol_q) = edge_length_tolerance(lq);
                let a0 = ang_bin(e.4.wrapping_sub(EDGE_ATOL_Q as i16));
                let a1 = ang_bin(e.4.wrapping_add(EDGE_ATOL_Q as i16));
                ProbeEdge {
                    len: lq,
                    from_angle: e.4,
                    to_angle: e.5,
                    tol: tol_q,
                    inv_tol: 1.0 / tol_q as f32,
                    from: e.2,
                    to: e.3,
                    dirs,
                    lb0: len_bin((len - tol).max(0.0)) as u8,
                    lb1: (len_bin(len + tol) + 1) as u8,
                    a0: a0 as u8,
                    na: ((a1 + ANG_BINS - a0) % ANG_BINS + 1) as u8,
                }
            })
            .collect();
        let bbox = xs
            .iter()
            .zip(&ys)
            .fold([f32::MAX, f32::MIN, f32::MAX, f32::MIN], |b, (&x, &y)| {
                [b[0].min(x), b[1].max(x), b[2].min(y), b[3].max(y)]
            });
        let bins = xs.last().map_or(0, |&x| (x / X_BIN) as usize + 1);
        let x_start = (0..=bins)
            .map(|k| xs.partition_point(|&x| x < k as f32 * X_BIN) as u8)
            .collect();
        let far = |v: Vec<f32>| -> Vec<f32> {
            let mut v = v;
            v.extend(std::iter::repeat_n(FAR, PAIR_SPAN));
            v
        };
        MatchTemplate {
            n,
            xs: far(xs),
            ys: far(ys),
            bbox,
            probe,
            angles_q: angles
                .iter()
                .map(|&a| quant(a) as i32)
                .chain(std::iter::repeat_n(0, PAIR_SPAN))
                .collect(),
            angles,
            kinds,
            x_start,
            e_len: pad(edges.iter().map(|e| len_fixed(e.1)).collect()),
            e_ends: edges
                .iter()
                .map(|e| EdgeEnds {
                    from: e.2,
                    to: e.3,
                    dirs: e.6,
                })
                .collect(),
            e_from_angle: pad(edges.iter().map(|e| e.4).collect()),
            e_to_angle: pad(edges.iter().map(|e| e.5).collect()),
            cells,
        }
    }

    /// Number of minutiae.
    pub fn len(&self) -> usize {
        self.n
    }

    /// True when the template has no minutiae (such a template never matches).
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// Calls `f(length px, from-angle, to-angle, direction)` for every
    /// neighbour edge (minutia to one of its nearest neighbours; not the
    /// reverse entries only the vote stage needs), angles in 1/65536 turns;
    /// `direction` is the edge vector's absolute direction, so that two mated
    /// edges differ in it by the rotation between the impressions. Used by the
    /// 1:N index.
    pub(crate) fn for_each_edge(&self, mut f: impl FnMut(f32, i16, i16, i16)) {
        for (k, ends) in self.e_ends.iter().enumerate() {
            if ends.dirs.0 & EdgeDirs::FORWARD == 0 {
                continue;
            }
            let dir = self.e_from_angle[k].wrapping_add(quant(self.angles[ends.from as usize]));
            f(
                self.e_len[k] as f32 / 16.0,
                self.e_from_angle[k],
                self.e_to_angle[k],
                dir,
            );
        }
    }

    /// Number of entries in the edge table (both orientations of every edge).
    pub(crate) fn edge_count(&self) -> usize {
        self.e_ends.len()
    }

    /// Drops the probe-side lookup table, which a template only ever used as
    /// the candidate (a gallery entry) does not need: it is the larger part
    /// of a template's memory (20 bytes per edge). Such a template must not be
    /// passed as the probe of [`Matcher::score`] (it would find no votes and
    /// score 0).
    pub(crate) fn into_candidate_only(mut self) -> Self {
        self.probe = Vec::new();
        self
    }
}

/// Each minutia's [`NEIGHBOURS`] nearest others (further than 4 and nearer
/// than [`MAX_EDGE`] pixels) as (minutia, neighbour, distance, rank), nearest
/// first, minutia by minutia; ties go to the lower index.
fn nearest_neighbours(xs: &[f32], ys: &[f32]) -> Vec<(u8, u8, f32, u8)> {
    let n = xs.len();
    let mut directed = Vec::with_capacity(n * NEIGHBOURS);
    let mut near: Vec<(f32, usize)> = Vec::with_capacity(n);
    for i in 0..n {
        near.clear();
        for j in 0..n {
            if i == j {
                continue;
            }
            // Symmetric in i and j (squares of opposite differences).
            let d = ((xs[j] - xs[i]).powi(2) + (ys[j] - ys[i]).powi(2)).sqrt();
            if d > 4.0 && d < MAX_EDGE {
                near.push((d, j));
            }
        }
        near.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        directed.extend(
            near.iter()
                .take(NEIGHBOURS)
                .enumerate()
                .map(|(r, &(d, j))| (i as u8, j as u8, d, r as u8)),
        );
    }
    directed
}

/// Reusable scratch buffers so repeated matching does not allocate.
#[derive(Debug, Default)]
pub struct Matcher {
    /// Vector instructions of the hot loops (detected once per process).
    #[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
    isa: Isa,
    votes: Vec<f32>,
    /// Candidate pairs of one pairing pass as sortable keys: the cost's f32
    /// bits (non-negative, so they order like the value), then probe and
    /// candidate index — one integer sort, deterministic.
    pairs: Vec<u64>,
    matched: Vec<(u16, u16)>,
    /// Compatible (probe edge, candidate edge) pairs of the vote stage,
    /// gathered before they are turned into votes.
    hits: Vec<Hit>,
    /// Probe minutiae under the current transform, and their pairing tolerance.
    tx: Vec<f32>,
    ty: Vec<f32>,
    tol: Vec<f32>,
    /// Probe minutiae (indices) whose tolerance disc meets the candidate's
    /// bounding box in the current pairing pass.
    reach: Vec<u8>,
    /// First-pass pair sets of the seeds refined so far in this comparison:
    /// (signature, start and length in `refined_pairs`).
    refined: Vec<(u64, usize, usize)>,
    refined_pairs: Vec<(u16, u16)>,
}

/// Compares two templates; convenience wrapper allocating a fresh [`Matcher`].
pub fn match_score(probe: &MatchTemplate, candidate: &MatchTemplate) -> f32 {
    Matcher::default().score(probe, candidate)
}

/// The [`SEEDS`] highest votes with their indices, best first; ties keep the
/// lower index; unused slots hold 0. Blocks of four votes are first compared
/// with the current last seed at once: after the first rows almost no block
/// can enter, so most of the matrix costs one vector comparison per block.
fn top_votes(votes: &[f32]) -> [(f32, u32); SEEDS] {
    let mut seeds: [(f32, u32); SEEDS] = [(0.0, 0); SEEDS];
    let offer = |seeds: &mut [(f32, u32); SEEDS], idx: usize, v: f32| {
        if v > seeds[SEEDS - 1].0 {
            let mut k = SEEDS - 1;
            while k > 0 && seeds[k - 1].0 < v {
                seeds[k] = seeds[k - 1];
                k -= 1;
            }
            seeds[k] = (v, idx as u32);
        }
    };
    let blocks = votes.chunks_exact(4);
    let tail = blocks.remainder();
    for (b, block) in blocks.enumerate() {
        let last = seeds[SEEDS - 1].0;
        if block.iter().fold(false, |any, &v| any | (v > last)) {
            for (k, &v) in block.iter().enumerate() {
                offer(&mut seeds, b * 4 + k, v);
            }
        }
    }
    let base = votes.len() - tail.len();
    for (k, &v) in tail.iter().enumerate() {
        offer(&mut seeds, base + k, v);
    }
    seeds
}

/// Adds each hit's edge similarity to the votes of the two minutia
/// correspondences it implies: 1 for identical edges, falling linearly to 0
/// at each tolerance, the three factors multiplied, times the directed
/// comparisons the hit stands for ([`EdgeDirs`]; a hit standing for none adds
/// +0.0, which leaves a vote unchanged).
fn add_votes(p: &MatchTemplate, c: &MatchTemplate, hits: &[Hit], votes: &mut [f32]) {
    let n2 = c.len();
    let inv_atol = 1.0 / EDGE_ATOL_Q as f32;
    // Columns cut to one length, so that one bounds check covers all four
    // reads of a hit: this loop runs for every hit, at a few instructions
    // per cycle, so every instruction of it shows.
    let m = c.e_ends.len();
    let (lens, from_angles, to_angles, ends) = (
        &c.e_len[..m],
        &c.e_from_angle[..m],
        &c.e_to_angle[..m],
        &c.e_ends[..m],
    );
    for &h in hits {
        let e = &p.probe[(h >> 16) as usize];
        let q = (h & 0xffff) as usize;
        let end = ends[q];
        // Signed differences, made absolute as floats (exact: all below
        // 2^24); an angle difference wraps to its signed value in turns.
        let dl = e.len.wrapping_sub(lens[q]) as f32;
        let da = e.from_angle.wrapping_sub(from_angles[q]) as f32;
        let db = e.to_angle.wrapping_sub(to_angles[q]) as f32;
        let sim = (1.0 - dl.abs() * e.inv_tol)
            * (1.0 - da.abs() * inv_atol)
            * (1.0 - db.abs() * inv_atol);
        let sim = sim * EdgeDirs::MULTIPLICITY[(e.dirs.0 & end.dirs.0) as usize];
        votes[e.from as usize * n2 + end.from as usize] += sim;
        votes[e.to as usize * n2 + end.to as usize] += sim;
    }
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
    /// A matcher that runs the portable loops (SSE2 on x86_64) even where
    /// the CPU has AVX2. Scores are bit-for-bit those of
    /// [`Matcher::default`]; only the speed differs, so this exists to
    /// measure the fallback that CPUs without AVX2 get (`bench_match
    /// --baseline`) and to test the two paths against each other.
    pub fn baseline() -> Self {
        Matcher {
            isa: Isa::Baseline,
            ..Matcher::default()
        }
    }

    /// Similarity of two templates, 0 (nothing in common) to 100 and more
    /// rarely; deterministic. Nearly symmetric: the probe looks up fewer
    /// neighbour edges than the candidate offers ([`PROBE_NEIGHBOURS`]).
    pub fn score(&mut self, p: &MatchTemplate, c: &MatchTemplate) -> f32 {
        #[cfg(target_arch = "x86_64")]
        if self.isa == Isa::Avx2 {
            // SAFETY: `Isa::Avx2` is only chosen when the CPU has AVX2.
            return unsafe { self.score_avx2(p, c) };
        }
        self.score_with::<false>(p, c)
    }

    /// [`Matcher::score`] compiled for AVX2, so that the AVX2 scan and
    /// pairing loops are inlined into it.
    ///
    /// # Safety
    /// The CPU must have AVX2.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn score_avx2(&mut self, p: &MatchTemplate, c: &MatchTemplate) -> f32 {
        self.score_with::<true>(p, c)
    }

    /// The comparison, with the AVX2 loops when `AVX2` (only instantiated
    /// that way inside [`Matcher::score_avx2`]).
    #[inline(always)]
    fn score_with<const AVX2: bool>(&mut self, p: &MatchTemplate, c: &MatchTemplate) -> f32 {
        let (n1, n2) = (p.len(), c.len());
        if n1 < 3 || n2 < 3 {
            return 0.0;
        }
        // At most one probe entry per pair of minutiae (two table entries).
        debug_assert!(
            2 * p.probe.len() <= p.edge_count() && (p.edge_count() == 0 || !p.probe.is_empty()),
            "probe without its probe-side table"
        );
        self.votes.clear();
        self.votes.resize(n1 * n2, 0.0);
        self.vote::<AVX2>(p, c);

        // Seeds: the best-voted correspondences.
        let seeds = top_votes(&self.votes);
        let mut best = 0.0f32;
        self.refined.clear();
        self.refined_pairs.clear();
        // Most pairs any seed's first pass found so far.
        let mut most_first = 0usize;
        for &(v, idx) in seeds.iter() {
            if v <= 0.0 {
                break;
            }
            let i = idx as usize / n2;
            let j = idx as usize % n2;
            let t = Rigid::from_pair(p, i, c, j);
            self.pair::<AVX2>(p, c, &t, (c.xs[j], c.ys[j]));
            // Fewer than three pairs score 0 (see `evaluate`); a seed whose
            // first pass pairs clearly fewer minutiae than an earlier seed's
            // is a worse alignment of the same prints and is not refined.
            let first = self.matched.len();
            if first < 3 || (first as f32) < SEED_KEEP * most_first as f32 {
                continue;
            }
            most_first = most_first.max(first);
            // Refinement depends only on the set of first-pass pairs: a seed
            // pairing exactly the same minutiae as an earlier refined seed
            // would give the same alignment and score (up to the order of
            // floating-point sums), so its second pass is saved.
            if self.refined_before() {
                continue;
            }
            // Refine alignment on the pairs found, then pair again.
            let (t2, anchor) = self.refine(p, c);
            self.pair::<AVX2>(p, c, &t2, anchor);
            best = best.max(self.evaluate(p, c));
        }
        best
    }

    /// Whether the current pairs (a seed's first pass) are, as a set, those
    /// of an earlier refined seed's first pass; if not, records them. Sets
    /// are compared by size and an order-independent signature first, so the
    /// usual answer costs one pass over the pairs.
    fn refined_before(&mut self) -> bool {
        let signature = self.matched.iter().fold(0u64, |acc, &(i, j)| {
            acc.wrapping_add((((i as u64) << 8 | j as u64) + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15))
        });
        let (start, len) = (self.refined_pairs.len(), self.matched.len());
        let seen = self.refined.iter().any(|&(sig, from, count)| {
            sig == signature
                && count == len
                && self
                    .matched
                    .iter()
                    .all(|p| self.refined_pairs[from..from + count].contains(p))
        });
        if !seen {
            self.refined.push((signature, start, len));
            self.refined_pairs.extend_from_slice(&self.matched);
        }
        seen
    }

    /// Stage 1: edge compatibility votes into the n1×n2 matrix, visiting
    /// only candidate cells within the probe edge's length and start-angle
    /// tolerances (precomputed in [`ProbeEdge`]).
    #[inline(always)]
    fn vote<const AVX2: bool>(&mut self, p: &MatchTemplate, c: &MatchTemplate) {
        let atol = EDGE_ATOL_Q as i16;
        // Hits of many probe edges are gathered, then turned into votes in
        // one loop: per-edge loops of 0–4 hits would mispredict at every
        // exit. One probe edge adds at most one hit per candidate edge, plus
        // the block the branch-free append writes past the count.
        self.hits.resize(HIT_BUFFER + c.edge_count() + SCAN_PAD, 0);
        let mut found = 0;
        for (k, e) in p.probe.iter().enumerate() {
            let (lq, pa, pb) = (e.len, e.from_angle, e.to_angle);
            let mut ab = e.a0 as usize;
            for _ in 0..e.na {
                let s0 = c.cells[ab * LEN_BINS + e.lb0 as usize] as usize;
                let s1 = c.cells[ab * LEN_BINS + e.lb1 as usize] as usize;
                found = scan::<AVX2>(
                    c,
                    s0..s1,
                    (lq, pa, pb),
                    (e.tol, atol),
                    k as u16,
                    &mut self.hits,
                    found,
                );
                ab = (ab + 1) % ANG_BINS;
            }
            if found >= HIT_BUFFER {
                add_votes(p, c, &self.hits[..found], &mut self.votes);
                found = 0;
            }
        }
        add_votes(p, c, &self.hits[..found], &mut self.votes);
    }

    /// Greedy one-to-one pairing of minutiae under transform `t`: every
    /// (probe, candidate) couple within the position tolerance (growing with
    /// the distance from `anchor`) and [`PAIR_ANGLE`] is a candidate pair;
    /// pairs are taken cheapest first.
    #[inline(always)]
    fn pair<const AVX2: bool>(
        &mut self,
        p: &MatchTemplate,
        c: &MatchTemplate,
        t: &Rigid,
        anchor: (f32, f32),
    ) {
        let n1 = p.len();
        // At most n1·n2 couples are within reach.
        if self.pairs.len() < n1 * c.n {
            self.pairs.resize(n1 * c.n, 0);
        }
        let mut count = 0usize;
        // Transformed probe positions and their tolerances first, in a loop
        // the compiler vectorises; then one exact distance test per couple.
        let (tx, ty, tol) = (&mut self.tx, &mut self.ty, &mut self.tol);
        // Whole vector blocks for `list_reachable`; the padding lies outside
        // every bounding box.
        let padded = n1.next_multiple_of(PAIR_LANES);
        tx.clear();
        tx.resize(padded, FAR);
        ty.clear();
        ty.resize(padded, FAR);
        tol.clear();
        tol.resize(padded, 0.0);
        let probe = p.xs[..n1].iter().zip(&p.ys[..n1]);
        for (((&px, &py), ox), (oy, ot)) in probe
            .zip(tx.iter_mut())
            .zip(ty.iter_mut().zip(tol.iter_mut()))
        {
            let (x, y) = t.apply(px, py);
            let r = ((x - anchor.0) * (x - anchor.0) + (y - anchor.1) * (y - anchor.1)).sqrt();
            *ox = x;
            *oy = y;
            *ot = (PAIR_DIST + PAIR_GROW * r).min(PAIR_DIST_MAX);
        }
        // Nothing to pair with outside the candidate's bounding box: the
        // probe minutiae that can pair are listed first, without branching
        // (where two prints overlap partly, a branch per minutia mispredicts).
        let reachable = self.list_reachable(n1, c.bbox);
        let inv_angle = 1.0 / PAIR_ANGLE_Q as f32;
        for r in 0..reachable {
            let i = self.reach[r] as usize;
            let a = (p.angles_q[i] as i16).wrapping_add(t.rot_q);
            let tol = self.tol[i];
            let (x, y) = (self.tx[i], self.ty[i]);
            // Column window from the x lookup table (a little wide: the exact
            // distance test decides). Negative values saturate to 0 in the casts.
            // The last entry is c.n (past the largest x), so clamping to it
            // keeps the window a superset.
            let last_bin = c.x_start.len() - 1;
            let start = c.x_start[(((x - tol) / X_BIN) as usize).min(last_bin)] as usize;
            let end = c.x_start[(((x + tol) / X_BIN) as usize + 1).min(last_bin)] as usize;
            let pairs = &mut self.pairs;
            reach::<AVX2>(c, start..end, (x, y), tol * tol, a, |j, d2, da| {
                let cost = d2.sqrt() / tol + da as f32 * inv_angle;
                pairs[count] = ((cost.to_bits() as u64) << 16) | ((i as u64) << 8) | j as u64;
                count += 1;
            });
        }
        let pairs = &mut self.pairs[..count];
        pairs.sort_unstable();
        // Minutia indices are < MAX_MATCH_MINUTIAE ≤ 256: four words per side.
        let (mut used_p, mut used_c) = ([0u64; 4], [0u64; 4]);
        self.matched.clear();
        for &key in pairs.iter() {
            let (i, j) = ((key >> 8) as usize & 0xff, key as usize & 0xff);
            if used_p[i >> 6] & (1 << (i & 63)) == 0 && used_c[j >> 6] & (1 << (j & 63)) == 0 {
                used_p[i >> 6] |= 1 << (i & 63);
                used_c[j >> 6] |= 1 << (j & 63);
                self.matched.push((i as u16, j as u16));
            }
        }
    }

    /// Lists in `self.reach` the probe minutiae of the current pass (`tx`,
    /// `ty`, `tol`, padded to whole vector blocks with far-away entries) whose
    /// tolerance square meets the candidate's bounding box, in increasing
    /// order, and returns how many there are. Where two prints overlap partly
    /// a branch per minutia would mispredict, so four minutiae are tested at
    /// once and their indices appended through a lane-position table.
    fn list_reachable(&mut self, n1: usize, [minx, maxx, miny, maxy]: [f32; 4]) -> usize {
        let blocks = n1.div_ceil(PAIR_LANES);
        self.reach.resize(blocks * PAIR_LANES, 0);
        let mut reachable = 0usize;
        let (tx, ty, tol) = (
            &self.tx[..blocks * PAIR_LANES],
            &self.ty[..blocks * PAIR_LANES],
            &self.tol[..blocks * PAIR_LANES],
        );
        for b in 0..blocks {
            #[cfg(target_arch = "x86_64")]
            // SAFETY: SSE2 is always available on x86_64; the loads read
            // lanes b·4..b·4 + 4 ≤ blocks·4, within the slices above.
            let mask = unsafe {
                use std::arch::x86_64::*;
                let x = _mm_loadu_ps(tx.as_ptr().add(b * PAIR_LANES));
                let y = _mm_loadu_ps(ty.as_ptr().add(b * PAIR_LANES));
                let t = _mm_loadu_ps(tol.as_ptr().add(b * PAIR_LANES));
                let outside = _mm_or_ps(
                    _mm_or_ps(
                        _mm_cmplt_ps(_mm_add_ps(x, t), _mm_set1_ps(minx)),
                        _mm_cmpgt_ps(_mm_sub_ps(x, t), _mm_set1_ps(maxx)),
                    ),
                    _mm_or_ps(
                        _mm_cmplt_ps(_mm_add_ps(y, t), _mm_set1_ps(miny)),
                        _mm_cmpgt_ps(_mm_sub_ps(y, t), _mm_set1_ps(maxy)),
                    ),
                );
                !_mm_movemask_ps(outside) as usize & 0xf
            };
            #[cfg(not(target_arch = "x86_64"))]
            let mask = {
                let mut mask = 0usize;
                for lane in 0..PAIR_LANES {
                    let i = b * PAIR_LANES + lane;
                    let (x, y, tol) = (tx[i], ty[i], tol[i]);
                    let outside =
                        (x + tol < minx) | (x - tol > maxx) | (y + tol < miny) | (y - tol > maxy);
                    mask |= (!outside as usize) << lane;
                }
                mask
            };
            // Four indices at once: lanes < 4 and b·4 + 3 < 256, so no
            // byte carries into the next.
            let first = (b * PAIR_LANES) as u32 * 0x0101_0101;
            let at = &mut self.reach[reachable..reachable + PAIR_LANES];
            at.copy_from_slice(&(u32::from_le_bytes(REACH_POS[mask]) + first).to_le_bytes());
            reachable += mask.count_ones() as usize;
        }
        reachable
    }

    /// Least-squares rigid transform (2-D Procrustes) over the current pairs,
    /// and the centroid of their candidate minutiae (the anchor of the next
    /// pairing pass).
    fn refine(&self, p: &MatchTemplate, c: &MatchTemplate) -> (Rigid, (f32, f32)) {
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
        let t = Rigid {
            cos,
            sin,
            rot_q: quant(rot),
            tx: cx - (cos * px - sin * py),
            ty: cy - (sin * px + cos * py),
        };
        (t, (cx, cy))
    }

    /// Score of the current pairing: pairs supported by local edge votes count
    /// fully, others half; normalised by the minutiae inside the common area
    /// under the alignment of the last pairing pass.
    fn evaluate(&self, p: &MatchTemplate, c: &MatchTemplate) -> f32 {
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
        let [minx, maxx, miny, maxy] = c.bbox;
        let (mut qminx, mut qmaxx, mut qminy, mut qmaxy) = (f32::MAX, f32::MIN, f32::MAX, f32::MIN);
        let mut n1o = 0usize;
        // Probe minutiae as the last pairing pass transformed them.
        for (&x, &y) in self.tx[..p.len()].iter().zip(&self.ty[..p.len()]) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gallery::synthetic_template;

    /// The votes as the plain definition gives them: every edge from a probe
    /// minutia to one of its [`PROBE_NEIGHBOURS`] nearest (each direction on
    /// its own) against every neighbour edge of the candidate, without
    /// buckets.
    fn all_directed_votes(p: &MatchTemplate, c: &MatchTemplate) -> Vec<f32> {
        let n2 = c.len();
        let mut votes = vec![0.0f32; p.len() * n2];
        let within = |d: i16, t: i16| (d.wrapping_add(t) as u16) <= 2 * t as u16;
        let neighbour = |t: &MatchTemplate, k: usize| t.e_ends[k].dirs.0 & EdgeDirs::FORWARD != 0;
        let probe_edges: Vec<(u8, u8)> = nearest_neighbours(&p.xs[..p.len()], &p.ys[..p.len()])
            .into_iter()
            .filter(|&(.., rank)| (rank as usize) < PROBE_NEIGHBOURS)
            .map(|(i, j, ..)| (i, j))
            .collect();
        let probe_neighbour = |k: usize| {
            let ends = p.e_ends[k];
            probe_edges.contains(&(ends.from, ends.to))
        };
        let inv_atol = 1.0 / EDGE_ATOL_Q as f32;
        let atol = EDGE_ATOL_Q as i16;
        for a in (0..p.edge_count()).filter(|&a| neighbour(p, a) && probe_neighbour(a)) {
            let tol = edge_length_tolerance(p.e_len[a]).1;
            for q in (0..c.edge_count()).filter(|&q| neighbour(c, q)) {
                let (dl, da, db) = (
                    p.e_len[a].wrapping_sub(c.e_len[q]),
                    p.e_from_angle[a].wrapping_sub(c.e_from_angle[q]),
                    p.e_to_angle[a].wrapping_sub(c.e_to_angle[q]),
                );
                if within(dl, tol) && within(da, atol) && within(db, atol) {
                    let sim = (1.0 - dl.unsigned_abs() as f32 / tol as f32)
                        * (1.0 - da.unsigned_abs() as f32 * inv_atol)
                        * (1.0 - db.unsigned_abs() as f32 * inv_atol);
                    let (pe, ce) = (p.e_ends[a], c.e_ends[q]);
                    votes[pe.from as usize * n2 + ce.from as usize] += sim;
                    votes[pe.to as usize * n2 + ce.to as usize] += sim;
                }
            }
        }
        votes
    }

    /// The vote stage scans one orientation per probe edge and weighs each
    /// hit by the directed comparisons it stands for (EdgeDirs): its votes
    /// must be those of the plain all-directed definition, up to summation
    /// order, for mates (many hits) and strangers alike.
    #[test]
    fn one_orientation_scan_votes_like_all_directed_edges() {
        let mut m = Matcher::default();
        let mut hits = 0;
        for seed in 0..6u64 {
            let a = synthetic_template(seed, 30 + 7 * seed as usize);
            let mate = crate::perturb(&a, seed + 100);
            let stranger = synthetic_template(seed + 50, 40);
            let p = MatchTemplate::new(&a);
            for c in [MatchTemplate::new(&mate), MatchTemplate::new(&stranger)] {
                m.votes.clear();
                m.votes.resize(p.len() * c.len(), 0.0);
                m.vote::<false>(&p, &c);
                let want = all_directed_votes(&p, &c);
                for (k, (&got, &want)) in m.votes.iter().zip(&want).enumerate() {
                    assert!(
                        (got - want).abs() <= 1e-4 * want.max(1.0),
                        "vote {k}: {got} vs {want}"
                    );
                }
                hits += want.iter().filter(|&&v| v > 0.0).count();
            }
        }
        assert!(
            hits > 500,
            "too few compatible edges ({hits}) for the test to mean anything"
        );
    }

    /// The AVX2 loops (16-lane scan, 8-lane pairing) must find the same hits
    /// and pairs in the same order as the baseline ones: equal vote matrices
    /// and bit-identical scores, on mates and strangers from 12 to 200
    /// minutiae, and on prints squeezed into a narrow strip so that pairing
    /// windows run past the fixed first span and the 64-candidate masks.
    #[test]
    fn avx2_and_baseline_loops_score_alike() {
        let mut baseline = Matcher::baseline();
        let mut detected = Matcher::default();
        if detected.isa == Isa::Baseline {
            eprintln!("avx2_and_baseline_loops_score_alike: skipped, no AVX2 on this CPU/target");
            return;
        }
        let strip = |t: Template| Template {
            minutiae: t
                .minutiae
                .iter()
                .map(|m| crate::template::Minutia { x: m.x / 9, ..*m })
                .collect(),
            ..t
        };
        let (mut compared, mut positive, mut long_windows) = (0, 0, false);
        for seed in 0..12u64 {
            let n = [12, 30, 45, 60, 120, 200][seed as usize % 6];
            let mut a = synthetic_template(seed, n);
            let mut stranger = synthetic_template(seed + 70, n.max(40));
            if seed >= 9 {
                a = strip(a);
                stranger = strip(stranger);
                long_windows = true;
            }
            let mate = crate::perturb(&a, seed + 300);
            let p = MatchTemplate::new(&a);
            for c in [
                MatchTemplate::new(&mate),
                MatchTemplate::new(&stranger),
                p.clone(),
            ] {
                let want = baseline.score(&p, &c);
                let got = detected.score(&p, &c);
                assert_eq!(
                    got.to_bits(),
                    want.to_bits(),
                    "seed {seed}: {got} vs {want}"
                );
                assert_eq!(
                    detected
                        .votes
                        .iter()
                        .map(|v| v.to_bits())
                        .collect::<Vec<_>>(),
                    baseline
                        .votes
                        .iter()
                        .map(|v| v.to_bits())
                        .collect::<Vec<_>>(),
                    "seed {seed}: vote matrices differ"
                );
                compared += 1;
                positive += (want > 0.0) as usize;
            }
        }
        assert!(long_windows && compared == 36);
        assert!(positive >= 20, "only {positive} comparisons scored above 0");
    }
}
