//! DET plot (detection error trade-off: FNMR against FMR, both on log axes) as a
//! PNG that a person can read without the command line beside it: named axes,
//! percentage tick labels, a decade grid with minor lines, the FMR = FNMR line,
//! and a legend giving each curve's name and EER with its marker on the curve.
//!
//! Drawn with the `image` crate and the built-in 5×7 font so the engine needs no
//! plotting or font dependency for one diagnostic picture.

use super::font::{draw_text, text_width, GLYPH_H};
use super::{rates, rates_at, thresholds};
use crate::error::{FpError, Result};
use image::{Rgb, RgbImage};
use std::path::Path;

/// One curve of the plot: the scores of one system on one data set.
#[derive(Debug, Clone)]
pub struct DetCurve<'a> {
    /// Name shown in the legend (e.g. "FVC2002 DB1_B ours"); the EER is appended.
    pub label: String,
    /// Genuine (same-finger) scores; accepted when score ≥ threshold.
    pub genuine: &'a [f32],
    /// Impostor (different-finger) scores.
    pub impostor: &'a [f32],
    /// Index into the plot's palette, so that related curves (one data set, two
    /// systems) can share a colour and differ by `dashed`.
    pub colour: usize,
    /// Draw dashed, e.g. for a reference system beside ours.
    pub dashed: bool,
}

/// Distinct colours, readable on white and for the common colour-vision deficiencies
/// (Okabe–Ito order, black last).
const PALETTE: [[u8; 3]; 8] = [
    [0, 114, 178],
    [213, 94, 0],
    [0, 158, 115],
    [204, 121, 167],
    [230, 159, 0],
    [86, 180, 233],
    [120, 80, 40],
    [0, 0, 0],
];

const W: u32 = 760;
/// Height of everything above the legend (title, plot, ticks, x-axis name).
const BODY_H: u32 = 756;
/// Height of one legend row.
const ROW: f64 = 24.0;
/// Plot area (pixels): left, top, right, bottom.
const X0: f64 = 96.0;
const Y0: f64 = 56.0;
const X1: f64 = 740.0;
const Y1: f64 = 680.0;
/// Axis range: log10 of 0.01 % .. 100 %.
const LO: f64 = -4.0;
const HI: f64 = 0.0;
const TEXT: Rgb<u8> = Rgb([20, 20, 20]);

fn px_x(rate: f64) -> f64 {
    X0 + (rate.log10() - LO) / (HI - LO) * (X1 - X0)
}

fn px_y(rate: f64) -> f64 {
    Y1 - (rate.log10() - LO) / (HI - LO) * (Y1 - Y0)
}

/// Draws the plot into an image (see [`write_det_png`]); separate so that tests
/// can look at the pixels without a file.
pub fn render_det(title: &str, curves: &[DetCurve<'_>]) -> RgbImage {
    // The legend goes under the plot, not over it: any corner of a DET plot can
    // hold a curve (poor systems run along the top), and a covered curve misleads.
    let h = BODY_H + (ROW * curves.len() as f64) as u32 + 12;
    let mut img = RgbImage::from_pixel(W, h, Rgb([255, 255, 255]));
    draw_grid(&mut img);
    // FMR = FNMR: a curve crosses it at its EER.
    let mut phase = 0.0;
    segment(
        &mut img,
        (px_x(1e-4), px_y(1e-4)),
        (px_x(1.0), px_y(1.0)),
        Rgb([170, 170, 170]),
        1,
        Some((4.0, 4.0)),
        &mut phase,
    );
    let diag = "FMR = FNMR";
    draw_text(
        &mut img,
        (px_x(1.5e-4) + 14.0) as i64,
        (px_y(1.5e-4) - 20.0) as i64,
        diag,
        2,
        Rgb([130, 130, 130]),
        false,
    );
    let mut legend = Vec::with_capacity(curves.len());
    for c in curves {
        let col = Rgb(PALETTE[c.colour % PALETTE.len()]);
        let drawn = draw_curve(&mut img, c, col);
        let eer = if c.genuine.is_empty() || c.impostor.is_empty() {
            None
        } else {
            Some(rates(c.genuine, c.impostor).eer)
        };
        if let Some(e) = eer.filter(|&e| e >= 1e-4) {
            let (x, y) = (px_x(e), px_y(e));
            disc(&mut img, x, y, 4.0, col);
        }
        let text = match eer {
            // A perfect separation has no point with both rates > 0: say so, or a
            // reader looks in vain for the best curve of the plot.
            Some(e) if !drawn => {
                format!("{}  EER {:.2}% (no errors: no curve)", c.label, e * 100.0)
            }
            Some(e) => format!("{}  EER {:.2}%", c.label, e * 100.0),
            None => format!("{}  (no scores)", c.label),
        };
        legend.push((text, col, c.dashed));
    }
    draw_frame_and_labels(&mut img, title);
    draw_legend(&mut img, &legend);
    img
}

/// Writes the DET plot of `curves` to `path` as PNG (see the module documentation).
pub fn write_det_png(path: &Path, title: &str, curves: &[DetCurve<'_>]) -> Result<()> {
    render_det(title, curves)
        .save(path)
        .map_err(|source| FpError::ImageLoad {
            path: path.to_path_buf(),
            source,
        })
}

/// Log-scale grid: a light line at 2–9 × 10^d, a darker one at each decade, both axes.
fn draw_grid(img: &mut RgbImage) {
    let minor = Rgb([236, 236, 236]);
    let major = Rgb([200, 200, 200]);
    let minor_values = (LO as i32..HI as i32).flat_map(|d| (2..10).map(move |k| (k as f64 * 10f64.powi(d), minor)));
    let decades = (LO as i32..=HI as i32).map(|d| (10f64.powi(d), major));
    let mut nophase = 0.0;
    for (v, colour) in minor_values.chain(decades) {
        segment(img, (px_x(v), Y0), (px_x(v), Y1), colour, 1, None, &mut nophase);
        segment(img, (X0, px_y(v)), (X1, px_y(v)), colour, 1, None, &mut nophase);
    }
}

fn tick_label(d: i32) -> String {
    match d {
        -4 => "0.01%".into(),
        -3 => "0.1%".into(),
        _ => format!("{}%", 10f64.powi(d + 2).round()),
    }
}

fn draw_frame_and_labels(img: &mut RgbImage, title: &str) {
    let mut nophase = 0.0;
    for (a, b) in [
        ((X0, Y0), (X1, Y0)),
        ((X1, Y0), (X1, Y1)),
        ((X1, Y1), (X0, Y1)),
        ((X0, Y1), (X0, Y0)),
    ] {
        segment(img, a, b, TEXT, 1, None, &mut nophase);
    }
    let glyph_h = GLYPH_H as f64 * 2.0;
    for d in LO as i32..=HI as i32 {
        let v = 10f64.powi(d);
        let label = tick_label(d);
        let w = text_width(&label, 2) as f64;
        // Tick marks outside the frame, labels centred on them.
        segment(
            img,
            (px_x(v), Y1),
            (px_x(v), Y1 + 6.0),
            TEXT,
            1,
            None,
            &mut nophase,
        );
        segment(
            img,
            (X0 - 6.0, px_y(v)),
            (X0, px_y(v)),
            TEXT,
            1,
            None,
            &mut nophase,
        );
        let lx = (px_x(v) - w / 2.0).clamp(2.0, W as f64 - w - 2.0);
        draw_text(img, lx as i64, (Y1 + 12.0) as i64, &label, 2, TEXT, false);
        let ly = (px_y(v) - glyph_h / 2.0).clamp(Y0 - 6.0, Y1 - glyph_h + 6.0);
        draw_text(
            img,
            (X0 - 10.0 - w) as i64,
            ly as i64,
            &label,
            2,
            TEXT,
            false,
        );
    }
    let xname = "FMR: false match rate (log scale)";
    let w = text_width(xname, 2) as f64;
    draw_text(
        img,
        ((X0 + X1 - w) / 2.0) as i64,
        (Y1 + 44.0) as i64,
        xname,
        2,
        TEXT,
        false,
    );
    let yname = "FNMR: false non-match rate (log scale)";
    let w = text_width(yname, 2) as f64;
    draw_text(img, 8, ((Y0 + Y1 + w) / 2.0) as i64, yname, 2, TEXT, true);
    let w = text_width(title, 2) as f64;
    draw_text(
        img,
        ((X0 + X1 - w) / 2.0).max(4.0) as i64,
        18,
        title,
        2,
        TEXT,
        false,
    );
}

fn draw_legend(img: &mut RgbImage, entries: &[(String, Rgb<u8>, bool)]) {
    const SWATCH: f64 = 36.0;
    let (bx, by) = (X0, BODY_H as f64);
    for (i, (text, col, dashed)) in entries.iter().enumerate() {
        let y = by + ROW * i as f64;
        let mid = y + GLYPH_H as f64;
        let mut phase = 0.0;
        segment(
            img,
            (bx, mid),
            (bx + SWATCH, mid),
            *col,
            2,
            dashed.then_some((7.0, 5.0)),
            &mut phase,
        );
        disc(img, bx + SWATCH / 2.0, mid + 0.5, 4.0, *col);
        draw_text(
            img,
            (bx + 12.0 + SWATCH) as i64,
            y as i64,
            text,
            2,
            TEXT,
            false,
        );
    }
}

/// Draws one curve; returns whether any of it lies on the plot.
fn draw_curve(img: &mut RgbImage, c: &DetCurve<'_>, col: Rgb<u8>) -> bool {
    if c.genuine.is_empty() || c.impostor.is_empty() {
        return false;
    }
    let mut any = false;
    let dash = c.dashed.then_some((7.0, 5.0));
    let mut phase = 0.0;
    let mut prev: Option<(f64, f64)> = None;
    for t in thresholds(c.genuine, c.impostor) {
        let (fnmr, fmr) = rates_at(c.genuine, c.impostor, t);
        // A rate of 0 has no place on a log axis: the curve leaves the plot there
        // (beyond the data set's resolution, 1/number of pairs).
        if fnmr <= 0.0 || fmr <= 0.0 {
            prev = None;
            continue;
        }
        let p = (px_x(fmr), px_y(fnmr));
        any = true;
        if let Some(q) = prev {
            // Staircase: the error counts change one at a time, so step rather than
            // interpolate between operating points.
            let corner = (p.0, q.1);
            segment(img, q, corner, col, 2, dash, &mut phase);
            segment(img, corner, p, col, 2, dash, &mut phase);
        }
        prev = Some(p);
    }
    if let Some(p) = prev.filter(|_| any) {
        // A single operating point still shows as a dot.
        disc(img, p.0, p.1, 1.5, col);
    }
    any
}

/// Draws a line `thick` pixels wide, clipped to the plot area, optionally dashed
/// (`(on, off)` lengths in pixels, continued across calls through `phase`).
fn segment(
    img: &mut RgbImage,
    a: (f64, f64),
    b: (f64, f64),
    c: Rgb<u8>,
    thick: u32,
    dash: Option<(f64, f64)>,
    phase: &mut f64,
) {
    let len = (b.0 - a.0).hypot(b.1 - a.1);
    let steps = (len.ceil() as usize).max(1);
    for s in 0..=steps {
        let t = s as f64 / steps as f64;
        let x = a.0 + (b.0 - a.0) * t;
        let y = a.1 + (b.1 - a.1) * t;
        let on = match dash {
            Some((on, off)) => (*phase + len * t) % (on + off) < on,
            None => true,
        };
        if !on {
            continue;
        }
        for dy in 0..thick {
            for dx in 0..thick {
                put(img, x + dx as f64, y + dy as f64, c);
            }
        }
    }
    *phase += len;
}

fn disc(img: &mut RgbImage, cx: f64, cy: f64, r: f64, c: Rgb<u8>) {
    let ri = r.ceil() as i64;
    for dy in -ri..=ri {
        for dx in -ri..=ri {
            if ((dx * dx + dy * dy) as f64) <= r * r {
                put(img, cx + dx as f64, cy + dy as f64, c);
            }
        }
    }
}

fn put(img: &mut RgbImage, x: f64, y: f64, c: Rgb<u8>) {
    if x >= 0.0 && y >= 0.0 && (x as u32) < img.width() && (y as u32) < img.height() {
        img.put_pixel(x as u32, y as u32, c);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(img: &RgbImage, col: [u8; 3], area: (u32, u32, u32, u32)) -> usize {
        let (x0, y0, x1, y1) = area;
        (y0..y1)
            .flat_map(|y| (x0..x1).map(move |x| (x, y)))
            .filter(|&(x, y)| img.get_pixel(x, y).0 == col)
            .count()
    }

    #[test]
    fn curve_legend_and_axis_names_are_drawn() {
        // 100 genuine scores 0..99, 1,000 impostors 0..99.9 step 0.1 minus 50:
        // a curve that crosses the plot, EER well inside (0, 1).
        let genuine: Vec<f32> = (0..100).map(|i| i as f32).collect();
        let impostor: Vec<f32> = (0..1000).map(|i| i as f32 * 0.1 - 50.0).collect();
        let img = render_det(
            "test",
            &[DetCurve {
                label: "set".into(),
                genuine: &genuine,
                impostor: &impostor,
                colour: 0,
                dashed: false,
            }],
        );
        let plot = (X0 as u32 + 1, Y0 as u32 + 1, X1 as u32, Y1 as u32);
        assert!(count(&img, PALETTE[0], plot) > 200, "curve pixels");
        // Text below the plot (tick labels + x-axis name) and left of it (y name).
        let below = (0, Y1 as u32 + 10, W, BODY_H);
        let left = (0, Y0 as u32, 20, Y1 as u32);
        assert!(
            count(&img, TEXT.0, below) > 300,
            "x tick labels and axis name"
        );
        assert!(count(&img, TEXT.0, left) > 150, "vertical y-axis name");
        // Legend row under the plot: swatch in the curve's colour, then text.
        let legend = (0, BODY_H, W, img.height());
        assert!(count(&img, PALETTE[0], legend) > 40, "legend swatch");
        assert!(count(&img, TEXT.0, legend) > 100, "legend text");
    }

    #[test]
    fn perfect_separation_has_no_curve_but_a_legend_row() {
        let genuine = [50.0f32, 60.0, 70.0];
        let impostor = [1.0f32, 2.0, 3.0];
        let c = DetCurve {
            label: "perfect".into(),
            genuine: &genuine,
            impostor: &impostor,
            colour: 1,
            dashed: false,
        };
        let img = render_det("", std::slice::from_ref(&c));
        let plot = (X0 as u32 + 1, Y0 as u32 + 1, X1 as u32, Y1 as u32);
        assert_eq!(
            count(&img, PALETTE[1], plot),
            0,
            "nothing to draw on log axes"
        );
        let legend = (0, BODY_H, W, img.height());
        assert!(
            count(&img, PALETTE[1], legend) > 40,
            "legend swatch still shown"
        );
    }

    #[test]
    fn empty_score_sets_draw_without_panicking() {
        let img = render_det(
            "",
            &[DetCurve {
                label: "nothing".into(),
                genuine: &[],
                impostor: &[],
                colour: 9,
                dashed: true,
            }],
        );
        assert_eq!(img.width(), W);
        assert!(img.height() > BODY_H);
    }
}
