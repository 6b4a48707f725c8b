//! Subband geometry of the WSQ wavelet decomposition.
//!
//! WSQ splits the image with a fixed five-level tree: 20 two-dimensional
//! split operations (the "w-tree") that yield 64 rectangular subbands (the
//! "q-tree"), of which the first 60 are quantised and coded. Where a length
//! is odd, the standard fixes which half gets the extra sample, and some
//! splits are spectrally inverted (high band first). Encoder and decoder must
//! agree on every rectangle to the pixel, so the rules below follow the FBI
//! WSQ specification (IAFIS-IC-0110) and the NIST reference behaviour exactly.

/// A rectangle of the transformed image holding one subband or one node.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Rect {
    pub x: usize,
    pub y: usize,
    pub lenx: usize,
    pub leny: usize,
}

impl Rect {
    /// Number of samples in the rectangle.
    pub fn area(&self) -> usize {
        self.lenx * self.leny
    }
}

/// One node of the decomposition: a region that is split in both directions.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct SplitNode {
    pub rect: Rect,
    /// Rows are spectrally inverted (high-pass half stored first).
    pub invert_rows: bool,
    /// Columns are spectrally inverted.
    pub invert_cols: bool,
}

/// Number of split nodes in the WSQ decomposition.
pub(crate) const SPLIT_NODES: usize = 20;
/// Number of subband slots in the quantisation table.
pub(crate) const SUBBAND_SLOTS: usize = 64;
/// Subbands that are actually coded (60..64 are always discarded).
pub(crate) const CODED_SUBBANDS: usize = 60;
/// First subband of the second coded block.
pub(crate) const BLOCK2_START: usize = 19;
/// First subband of the third coded block.
pub(crate) const BLOCK3_START: usize = 52;

/// Complete geometry for one image size.
#[derive(Debug, Clone)]
pub(crate) struct Geometry {
    pub nodes: [SplitNode; SPLIT_NODES],
    pub subbands: [Rect; SUBBAND_SLOTS],
}

/// Splits `len` into two halves where the first gets the extra sample when
/// `first_gets_extra`; returns `(first, second)`.
fn halves(len: usize, first_gets_extra: bool) -> (usize, usize) {
    if len.is_multiple_of(2) {
        (len / 2, len / 2)
    } else if first_gets_extra {
        (len.div_ceil(2), len / 2)
    } else {
        (len / 2, len.div_ceil(2))
    }
}

impl Geometry {
    /// Builds the decomposition for a `width` × `height` image.
    pub fn new(width: usize, height: usize) -> Self {
        let mut nodes = [SplitNode::default(); SPLIT_NODES];
        for i in [2, 4, 7, 9, 11, 13, 16, 18] {
            nodes[i].invert_rows = true;
        }
        for i in [3, 5, 8, 9, 12, 13, 17, 18] {
            nodes[i].invert_cols = true;
        }
        split4(
            &mut nodes,
            0,
            1,
            Rect {
                x: 0,
                y: 0,
                lenx: width,
                leny: height,
            },
            true,
        );
        let (lenx, lenx2) = halves(nodes[1].rect.lenx, true);
        let (leny, leny2) = halves(nodes[1].rect.leny, true);
        split4(
            &mut nodes,
            4,
            6,
            Rect {
                x: lenx,
                y: 0,
                lenx: lenx2,
                leny,
            },
            false,
        );
        split4(
            &mut nodes,
            5,
            10,
            Rect {
                x: 0,
                y: leny,
                lenx,
                leny: leny2,
            },
            false,
        );
        split4(
            &mut nodes,
            14,
            15,
            Rect {
                x: 0,
                y: 0,
                lenx,
                leny,
            },
            false,
        );
        nodes[19].rect = Rect {
            x: 0,
            y: 0,
            lenx: nodes[15].rect.lenx.div_ceil(2),
            leny: nodes[15].rect.leny.div_ceil(2),
        };

        let mut subbands = [Rect::default(); SUBBAND_SLOTS];
        // The call order matters: later groups overwrite overlapping slots.
        split16(&mut subbands, 3, nodes[14].rect, false, false);
        split16(&mut subbands, 19, nodes[4].rect, false, true);
        split16(&mut subbands, 48, nodes[0].rect, false, false);
        split16(&mut subbands, 35, nodes[5].rect, true, false);
        split4_subbands(&mut subbands, 0, nodes[19].rect);
        Self { nodes, subbands }
    }

    /// The shortest side of any split node; the filters need a minimum
    /// number of samples per line to stay inside the data.
    pub fn shortest_node_side(&self) -> usize {
        self.nodes
            .iter()
            .map(|n| n.rect.lenx.min(n.rect.leny))
            .min()
            .unwrap_or(0)
    }
}

/// Records node `p1` and the four children starting at `p2` of one 2-D
/// split; child `p2+3` is left alone when `skip_last` (it is set later).
fn split4(nodes: &mut [SplitNode; SPLIT_NODES], p1: usize, p2: usize, r: Rect, skip_last: bool) {
    nodes[p1].rect = r;
    let (ax, bx) = if r.lenx.is_multiple_of(2) {
        (r.lenx / 2, r.lenx / 2)
    } else if p1 == 4 {
        ((r.lenx - 1) / 2, (r.lenx - 1) / 2 + 1)
    } else {
        (r.lenx.div_ceil(2), r.lenx.div_ceil(2) - 1)
    };
    let (ay, cy) = if r.leny.is_multiple_of(2) {
        (r.leny / 2, r.leny / 2)
    } else if p1 == 5 {
        ((r.leny - 1) / 2, (r.leny - 1) / 2 + 1)
    } else {
        (r.leny.div_ceil(2), r.leny.div_ceil(2) - 1)
    };
    nodes[p2].rect = Rect {
        x: r.x,
        y: r.y,
        lenx: ax,
        leny: ay,
    };
    nodes[p2 + 1].rect = Rect {
        x: r.x + ax,
        y: r.y,
        lenx: bx,
        leny: ay,
    };
    nodes[p2 + 2].rect = Rect {
        x: r.x,
        y: r.y + ay,
        lenx: ax,
        leny: cy,
    };
    if !skip_last {
        nodes[p2 + 3].rect = Rect {
            x: r.x + ax,
            y: r.y + ay,
            lenx: bx,
            leny: cy,
        };
    }
}

/// Lays out a 2×2 group of subbands inside `r` starting at slot `p`.
fn split4_subbands(s: &mut [Rect; SUBBAND_SLOTS], p: usize, r: Rect) {
    let (ax, bx) = halves(r.lenx, true);
    let (ay, cy) = halves(r.leny, true);
    s[p] = Rect {
        x: r.x,
        y: r.y,
        lenx: ax,
        leny: ay,
    };
    s[p + 1] = Rect {
        x: r.x + ax,
        y: r.y,
        lenx: bx,
        leny: ay,
    };
    s[p + 2] = Rect {
        x: r.x,
        y: r.y + ay,
        lenx: ax,
        leny: cy,
    };
    s[p + 3] = Rect {
        x: r.x + ax,
        y: r.y + ay,
        lenx: bx,
        leny: cy,
    };
}

/// Lays out a 4×4 group of subbands inside `r` starting at slot `p`.
/// `rows_inverted`/`cols_inverted` give the extra sample of an odd first
/// split to the second half, as the spectral inversion of that node demands.
fn split16(
    s: &mut [Rect; SUBBAND_SLOTS],
    p: usize,
    r: Rect,
    rows_inverted: bool,
    cols_inverted: bool,
) {
    let (tempx, temp2x) = halves(r.lenx, !cols_inverted);
    let (tempy, temp2y) = halves(r.leny, !rows_inverted);

    // Top-left quadrant (tempx × tempy).
    let (ax, bx) = halves(tempx, true);
    let (ay, cy) = halves(tempy, true);
    s[p] = Rect {
        x: r.x,
        y: r.y,
        lenx: ax,
        leny: ay,
    };
    s[p + 1] = Rect {
        x: r.x + ax,
        y: r.y,
        lenx: bx,
        leny: ay,
    };
    s[p + 2] = Rect {
        x: r.x,
        y: r.y + ay,
        lenx: ax,
        leny: cy,
    };
    s[p + 3] = Rect {
        x: r.x + ax,
        y: r.y + ay,
        lenx: bx,
        leny: cy,
    };

    // Top-right quadrant (temp2x × tempy): the odd extra column goes right.
    let (dx, ex) = halves(temp2x, false);
    let x4 = r.x + tempx;
    s[p + 4] = Rect {
        x: x4,
        y: r.y,
        lenx: dx,
        leny: ay,
    };
    s[p + 5] = Rect {
        x: x4 + dx,
        y: r.y,
        lenx: ex,
        leny: ay,
    };
    s[p + 6] = Rect {
        x: x4,
        y: r.y + ay,
        lenx: dx,
        leny: cy,
    };
    s[p + 7] = Rect {
        x: x4 + dx,
        y: r.y + ay,
        lenx: ex,
        leny: cy,
    };

    // Bottom-left quadrant (tempx × temp2y): the odd extra row goes down.
    let (fy, gy) = halves(temp2y, false);
    let y8 = r.y + tempy;
    s[p + 8] = Rect {
        x: r.x,
        y: y8,
        lenx: ax,
        leny: fy,
    };
    s[p + 9] = Rect {
        x: r.x + ax,
        y: y8,
        lenx: bx,
        leny: fy,
    };
    s[p + 10] = Rect {
        x: r.x,
        y: y8 + fy,
        lenx: ax,
        leny: gy,
    };
    s[p + 11] = Rect {
        x: r.x + ax,
        y: y8 + fy,
        lenx: bx,
        leny: gy,
    };

    // Bottom-right quadrant.
    s[p + 12] = Rect {
        x: x4,
        y: y8,
        lenx: dx,
        leny: fy,
    };
    s[p + 13] = Rect {
        x: x4 + dx,
        y: y8,
        lenx: ex,
        leny: fy,
    };
    s[p + 14] = Rect {
        x: x4,
        y: y8 + fy,
        lenx: dx,
        leny: gy,
    };
    s[p + 15] = Rect {
        x: x4 + dx,
        y: y8 + fy,
        lenx: ex,
        leny: gy,
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The 64 slots must tile the image exactly once, for even and odd sizes.
    #[test]
    fn subbands_tile_the_image() {
        for (w, h) in [
            (388, 374),
            (296, 560),
            (540, 520),
            (257, 301),
            (832, 768),
            (81, 97),
        ] {
            let g = Geometry::new(w, h);
            let mut seen = vec![0u8; w * h];
            for r in &g.subbands {
                for y in r.y..r.y + r.leny {
                    for x in r.x..r.x + r.lenx {
                        seen[y * w + x] += 1;
                    }
                }
            }
            assert!(
                seen.iter().all(|&c| c == 1),
                "{w}x{h} not tiled exactly once"
            );
        }
    }

    /// `wsq::MIN_SIDE` (65) is enough for the filters at every size, and it
    /// is the smallest such value.
    #[test]
    fn min_side_guarantees_filter_length() {
        for a in 65..=600 {
            for b in [65, 66, 71, 79, 100, a] {
                assert!(Geometry::new(a, b).shortest_node_side() >= 5, "{a}x{b}");
                assert!(Geometry::new(b, a).shortest_node_side() >= 5, "{b}x{a}");
            }
        }
        assert!(Geometry::new(64, 300).shortest_node_side() < 5);
        assert!(Geometry::new(300, 64).shortest_node_side() < 5);
    }

    #[test]
    fn top_level_split_halves_the_image() {
        let g = Geometry::new(388, 374);
        assert_eq!(
            g.nodes[0].rect,
            Rect {
                x: 0,
                y: 0,
                lenx: 388,
                leny: 374
            }
        );
        assert_eq!(
            g.nodes[1].rect,
            Rect {
                x: 0,
                y: 0,
                lenx: 194,
                leny: 187
            }
        );
        assert_eq!(g.nodes[14].rect.lenx, 97);
        assert_eq!(g.nodes[19].rect.lenx, 25);
    }
}
