//! Closing the eyelids on a portrait, for a simulated blink.
//!
//! A closing upper lid is skin sliding down over the eye with the lashes at its edge. The portrait
//! has that skin just above the eye (the lid between lashes and brow), so a closed eye is drawn by
//! stretching that band downward over the opening: the lash line moves down to where the lid now
//! ends, the eye below it stays as it was. Only the eye region is touched (its outline is an
//! almond a little taller than the eye, tapering to the corners), so the face keeps its shape:
//! eye corners, brows, forehead and chin do not move, as in a real blink.

/// One eye of a portrait, in the portrait's pixels: its corners and how far its lids open above
/// and below the line through the corners, at the middle of the eye (as a face mesh measures
/// them: MediaPipe points 33/133 and 159/145 for the subject's right eye, 263/362 and 386/374 for
/// the left one).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EyeOutline {
    /// The corner towards the ear.
    pub outer: [f32; 2],
    /// The corner towards the nose.
    pub inner: [f32; 2],
    /// Height of the upper lid's edge above the corner line, mid-eye.
    pub upper: f32,
    /// Depth of the lower lid's edge below the corner line, mid-eye.
    pub lower: f32,
}

/// Height of the skin band above the eye that the closing lid is made of, relative to the eye's
/// opening (the lid between lashes and brow; more would bring the brow down with it).
const SKIN_BAND: f32 = 0.75;
/// The bottom of that band left out of the lid (the lashes and the crease just above them, which
/// stretched would draw a dark slit that still reads as an open eye), relative to the opening.
const BAND_SKIP: f32 = 0.3;
/// Where the shut lid's edge ends, as a multiple of the lower lid's depth below the corner line:
/// just past the lower lid, so that no white or iris shows through.
const SHUT_LINE: f32 = 1.25;
/// The lids are a little wider than the corners a face mesh marks (the opening's dark corners
/// would otherwise stay visible on both sides of a shut lid).
const WIDEN: f32 = 1.2;
/// The lash line along the lid's edge: its width relative to the opening, and how much darker
/// it is when shut.
const LASH_WIDTH: f32 = 0.2;
const LASH_DARKEN: f32 = 0.5;
/// The bulging lid over the eyeball catches the light: brightening in the middle of the lid.
const LID_HIGHLIGHT: f32 = 0.2;

impl EyeOutline {
    /// The same eye in a copy of the portrait scaled by `scale` and then shifted by `offset`.
    pub fn scaled(self, scale: f32, offset: [f32; 2]) -> Self {
        let map = |p: [f32; 2]| [p[0] * scale + offset[0], p[1] * scale + offset[1]];
        Self { outer: map(self.outer), inner: map(self.inner), upper: self.upper * scale, lower: self.lower * scale }
    }

    /// Eye-local frame: the middle of the corners, the unit vector along the corner line, the
    /// unit vector pointing down the face, and half the eye's width.
    fn frame(&self) -> ([f32; 2], [f32; 2], [f32; 2], f32) {
        let mid = [(self.outer[0] + self.inner[0]) / 2.0, (self.outer[1] + self.inner[1]) / 2.0];
        let (dx, dy) = (self.inner[0] - self.outer[0], self.inner[1] - self.outer[1]);
        let len = (dx * dx + dy * dy).sqrt().max(1e-3);
        let along = [dx / len, dy / len];
        let mut down = [-along[1], along[0]];
        if down[1] < 0.0 {
            down = [-down[0], -down[1]];
        }
        (mid, along, down, len / 2.0)
    }

    /// Bounding box (x0, y0, x1, y1) of the pixels a blink changes.
    pub fn region(&self) -> (f32, f32, f32, f32) {
        let (mid, along, down, half) = self.frame();
        let opening = self.upper + self.lower;
        let above = self.upper + SKIN_BAND * opening;
        let below = SHUT_LINE * self.lower + LASH_WIDTH * opening;
        let half = half * WIDEN;
        let corners = [
            [mid[0] - along[0] * half - down[0] * above, mid[1] - along[1] * half - down[1] * above],
            [mid[0] + along[0] * half - down[0] * above, mid[1] + along[1] * half - down[1] * above],
            [mid[0] - along[0] * half + down[0] * below, mid[1] - along[1] * half + down[1] * below],
            [mid[0] + along[0] * half + down[0] * below, mid[1] + along[1] * half + down[1] * below],
        ];
        let pad = 1.0;
        let (mut x0, mut y0, mut x1, mut y1) = (f32::MAX, f32::MAX, f32::MIN, f32::MIN);
        for [x, y] in corners {
            (x0, y0, x1, y1) = (x0.min(x), y0.min(y), x1.max(x), y1.max(y));
        }
        (x0 - pad, y0 - pad, x1 + pad, y1 + pad)
    }

    /// Where the portrait point (`x`, `y`) takes its colour from when the lids are closed by
    /// `closure` (0 open, 1 shut), and the gain to draw it with (1 = as sampled; the lash line at
    /// the lid's edge is darker, the lid over the eyeball a little lighter); `None` when the point
    /// is outside the closing lid and stays as it is.
    pub fn lid_source(&self, x: f32, y: f32, closure: f32) -> Option<((f32, f32), f32)> {
        if closure <= 0.0 {
            return None;
        }
        let closure = closure.min(1.0);
        let (mid, along, down, half) = self.frame();
        let (px, py) = (x - mid[0], y - mid[1]);
        let s = (px * along[0] + py * along[1]) / (half * WIDEN);
        if s.abs() >= 1.0 {
            return None;
        }
        let v = px * down[0] + py * down[1];
        // Lids are arcs through the corners, full height mid-eye: the root of a parabola keeps
        // them full almost to the corners, as an almond-shaped eye is.
        let profile = (1.0 - s * s).powf(0.4);
        let opening = self.upper + self.lower;
        let lid_edge = -self.upper * profile;
        let band_top = lid_edge - SKIN_BAND * opening * profile;
        let band_bottom = lid_edge - BAND_SKIP * opening * profile;
        let shut_edge = SHUT_LINE * self.lower * profile;
        let edge_now = lid_edge + closure * (shut_edge - lid_edge);
        let lash = LASH_WIDTH * opening * profile.sqrt();
        if v <= band_top || v >= edge_now + 0.5 * lash {
            return None;
        }
        // The band [band_top, band_bottom] stretched over [band_top, edge_now].
        let along_lid = (v - band_top).min(edge_now - band_top) / (edge_now - band_top);
        let from = band_top + along_lid * (band_bottom - band_top);
        let shift = from - v;
        let gain = if v > edge_now - lash {
            1.0 - LASH_DARKEN * closure
        } else if v > lid_edge {
            1.0 + LID_HIGHLIGHT * profile
        } else {
            1.0
        };
        Some(((x + shift * down[0], y + shift * down[1]), gain))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eye() -> EyeOutline {
        EyeOutline { outer: [100.0, 50.0], inner: [140.0, 50.0], upper: 8.0, lower: 4.0 }
    }

    #[test]
    fn open_eyes_and_points_away_from_the_eye_are_unchanged() {
        let e = eye();
        assert_eq!(e.lid_source(120.0, 48.0, 0.0), None);
        // Beyond the widened corners, above the skin band, below the shut lid.
        assert_eq!(e.lid_source(95.0, 48.0, 1.0), None);
        assert_eq!(e.lid_source(120.0, 30.0, 1.0), None);
        assert_eq!(e.lid_source(120.0, 57.0, 1.0), None);
    }

    #[test]
    fn a_shut_lid_shows_the_skin_above_the_eye_down_past_the_lower_lid() {
        let e = eye();
        // Mid-eye the shut edge lies 1.25 × 4 px below the corner line; the eye opening (8 px
        // above to 4 px below it) shows skin from the band above the lid, not the eye.
        for y in [43.0, 46.0, 50.0, 53.0] {
            let ((x, from), gain) = e.lid_source(120.0, y, 1.0).unwrap();
            assert_eq!(x, 120.0);
            assert!(from < 42.0 - 0.3 * 12.0 + 0.01 && from > 33.0, "{y} shows {from}");
            assert!(gain > 0.0);
        }
        // The lash line at the edge is darker, the lid above it lighter.
        assert!(e.lid_source(120.0, 54.5, 1.0).unwrap().1 < 1.0);
        assert!(e.lid_source(120.0, 46.0, 1.0).unwrap().1 > 1.0);
        // Half closed: the upper half of the opening is covered, the rest is the eye.
        assert!(e.lid_source(120.0, 44.0, 0.5).is_some());
        assert_eq!(e.lid_source(120.0, 51.0, 0.5), None);
        // The region covers every changed point.
        let (x0, y0, x1, y1) = e.region();
        for yy in 20..70 {
            for xx in 80..160 {
                if e.lid_source(xx as f32, yy as f32, 1.0).is_some() {
                    assert!((x0..=x1).contains(&(xx as f32)) && (y0..=y1).contains(&(yy as f32)), "({xx}, {yy})");
                }
            }
        }
    }

    #[test]
    fn scaling_moves_the_outline_with_the_portrait() {
        let e = eye().scaled(0.5, [0.0, 64.0]);
        assert_eq!(e.outer, [50.0, 89.0]);
        assert_eq!((e.upper, e.lower), (4.0, 2.0));
    }
}
