//! Block-wise image analysis shared by extraction and quality: foreground
//! segmentation, ridge orientation with coherence, and ridge period.
//!
//! Orientation follows the classic gradient-tensor method (averaging squared
//! gradients, as described by Kass & Witkin and used by NBIS and most extractors):
//! doubling the angle makes opposite gradients across a ridge reinforce instead of
//! cancel. Coherence of the tensor is the local "orientation certainty".

use crate::error::{FpError, Result};
use crate::raster::GrayImage;

/// Block side in pixels. 8 px at 500 dpi is a little less than one ridge period,
/// fine enough to follow curvature near cores, coarse enough to be cheap.
pub const BLOCK: usize = 8;

/// Result of the block-wise analysis of one image.
#[derive(Debug, Clone)]
pub struct Field {
    /// Image width in pixels.
    pub width: usize,
    /// Image height in pixels.
    pub height: usize,
    /// Blocks per row.
    pub bw: usize,
    /// Blocks per column.
    pub bh: usize,
    /// Ridge orientation per block in radians, [0, π), image coordinates (y down):
    /// the ridge runs along (cos θ, sin θ).
    pub orient: Vec<f32>,
    /// Orientation coherence per block in [0, 1] (1 = perfectly parallel ridges).
    pub coherence: Vec<f32>,
    /// Foreground (finger contact) per block.
    pub mask: Vec<bool>,
    /// Distance of each block to the nearest background block or image border,
    /// in blocks (0 for background). Used to reject minutiae at the print's edge.
    pub border_dist: Vec<u16>,
    /// Mean squared gradient per block (ridge contrast), normalised grey scale.
    pub energy: Vec<f32>,
    /// Estimated ridge period in pixels per block (0 where no estimate was valid).
    pub period: Vec<f32>,
    /// Median ridge period over the foreground, pixels.
    pub median_period: f32,
    /// Image normalised to zero mean, unit variance (over the whole image).
    pub norm: Vec<f32>,
}

impl Field {
    /// Block index of a pixel, clamped to the grid.
    #[inline]
    pub fn block_of(&self, x: f32, y: f32) -> usize {
        let bx = ((x.max(0.0) as usize) / BLOCK).min(self.bw - 1);
        let by = ((y.max(0.0) as usize) / BLOCK).min(self.bh - 1);
        by * self.bw + bx
    }

    /// Number of foreground blocks.
    pub fn foreground_blocks(&self) -> usize {
        self.mask.iter().filter(|&&m| m).count()
    }

    /// Smoothed doubled-angle orientation vector at a pixel, bilinearly
    /// interpolated between block centres, so that filters do not see block seams.
    #[inline]
    pub fn orientation_at(&self, x: f32, y: f32, cos2: &[f32], sin2: &[f32]) -> f32 {
        let fx = (x / BLOCK as f32 - 0.5).clamp(0.0, (self.bw - 1) as f32);
        let fy = (y / BLOCK as f32 - 0.5).clamp(0.0, (self.bh - 1) as f32);
        let x0 = fx as usize;
        let y0 = fy as usize;
        let x1 = (x0 + 1).min(self.bw - 1);
        let y1 = (y0 + 1).min(self.bh - 1);
        let ax = fx - x0 as f32;
        let ay = fy - y0 as f32;
        let i00 = y0 * self.bw + x0;
        let i10 = y0 * self.bw + x1;
        let i01 = y1 * self.bw + x0;
        let i11 = y1 * self.bw + x1;
        let c = (cos2[i00] * (1.0 - ax) + cos2[i10] * ax) * (1.0 - ay)
            + (cos2[i01] * (1.0 - ax) + cos2[i11] * ax) * ay;
        let s = (sin2[i00] * (1.0 - ax) + sin2[i10] * ax) * (1.0 - ay)
            + (sin2[i01] * (1.0 - ax) + sin2[i11] * ax) * ay;
        let t = 0.5 * s.atan2(c);
        if t < 0.0 {
            t + std::f32::consts::PI
        } else {
            t
        }
    }
}

/// Sums a per-block quantity over a (2r+1)² window of blocks (clamped at edges).
pub(crate) fn box_blocks(v: &[f32], bw: usize, bh: usize, r: usize) -> Vec<f32> {
    let mut tmp = vec![0.0f32; v.len()];
    for y in 0..bh {
        for x in 0..bw {
            let lo = x.saturating_sub(r);
            let hi = (x + r).min(bw - 1);
            tmp[y * bw + x] = v[y * bw + lo..=y * bw + hi].iter().sum();
        }
    }
    let mut out = vec![0.0f32; v.len()];
    for y in 0..bh {
        let lo = y.saturating_sub(r);
        let hi = (y + r).min(bh - 1);
        for x in 0..bw {
            let mut s = 0.0;
            for yy in lo..=hi {
                s += tmp[yy * bw + x];
            }
            out[y * bw + x] = s;
        }
    }
    out
}

/// Analyses an image: normalisation, gradients, orientation, segmentation, period.
pub fn analyse(img: &GrayImage) -> Result<Field> {
    let w = img.width() as usize;
    let h = img.height() as usize;
    let px = img.pixels();
    let n = (w * h) as f64;
    let mean = px.iter().map(|&p| p as f64).sum::<f64>() / n;
    let var = px.iter().map(|&p| (p as f64 - mean).powi(2)).sum::<f64>() / n;
    if var < 4.0 {
        return Err(FpError::NoForeground);
    }
    let sd = var.sqrt();
    let norm: Vec<f32> = px
        .iter()
        .map(|&p| ((p as f64 - mean) / sd) as f32)
        .collect();

    let bw = w.div_ceil(BLOCK);
    let bh = h.div_ceil(BLOCK);
    let nb = bw * bh;
    let mut gxx = vec![0.0f32; nb];
    let mut gyy = vec![0.0f32; nb];
    let mut gxy = vec![0.0f32; nb];
    let mut bsum = vec![0.0f32; nb];
    let mut bsq = vec![0.0f32; nb];
    let mut bcnt = vec![0.0f32; nb];
    for y in 0..h {
        let ym = y.saturating_sub(1);
        let yp = (y + 1).min(h - 1);
        let rb = (y / BLOCK) * bw;
        for x in 0..w {
            let xm = x.saturating_sub(1);
            let xp = (x + 1).min(w - 1);
            let p = |xx: usize, yy: usize| norm[yy * w + xx];
            let gx =
                (p(xp, ym) + 2.0 * p(xp, y) + p(xp, yp)) - (p(xm, ym) + 2.0 * p(xm, y) + p(xm, yp));
            let gy =
                (p(xm, yp) + 2.0 * p(x, yp) + p(xp, yp)) - (p(xm, ym) + 2.0 * p(x, ym) + p(xp, ym));
            let b = rb + x / BLOCK;
            gxx[b] += gx * gx;
            gyy[b] += gy * gy;
            gxy[b] += gx * gy;
            let v = norm[y * w + x];
            bsum[b] += v;
            bsq[b] += v * v;
            bcnt[b] += 1.0;
        }
    }
    // Orientation from tensors summed over 5x5 blocks (40 px), coherence over 3x3.
    let sxx = box_blocks(&gxx, bw, bh, 2);
    let syy = box_blocks(&gyy, bw, bh, 2);
    let sxy = box_blocks(&gxy, bw, bh, 2);
    let cxx = box_blocks(&gxx, bw, bh, 1);
    let cyy = box_blocks(&gyy, bw, bh, 1);
    let cxy = box_blocks(&gxy, bw, bh, 1);
    let mut orient = vec![0.0f32; nb];
    let mut coherence = vec![0.0f32; nb];
    let mut energy = vec![0.0f32; nb];
    let ccnt = box_blocks(&bcnt, bw, bh, 1);
    for i in 0..nb {
        let grad = 0.5 * (2.0 * sxy[i]).atan2(sxx[i] - syy[i]);
        let mut t = grad + std::f32::consts::FRAC_PI_2;
        if t >= std::f32::consts::PI {
            t -= std::f32::consts::PI;
        }
        if t < 0.0 {
            t += std::f32::consts::PI;
        }
        orient[i] = t;
        let tr = cxx[i] + cyy[i];
        coherence[i] = if tr > 1e-6 {
            (((cxx[i] - cyy[i]).powi(2) + 4.0 * cxy[i] * cxy[i]).sqrt() / tr).min(1.0)
        } else {
            0.0
        };
        energy[i] = tr / ccnt[i].max(1.0);
    }
    let mask = segment(&energy, &coherence, bw, bh)?;
    let border_dist = border_distance(&mask, bw, bh);
    let mut field = Field {
        width: w,
        height: h,
        bw,
        bh,
        orient,
        coherence,
        mask,
        border_dist,
        energy,
        period: vec![0.0; nb],
        median_period: 9.0,
        norm,
    };
    estimate_period(&mut field);
    Ok(field)
}

/// Foreground blocks: enough gradient energy and some orientation structure,
/// then morphological clean-up (majority smoothing, largest component, hole fill).
fn segment(energy: &[f32], coherence: &[f32], bw: usize, bh: usize) -> Result<Vec<bool>> {
    let mut sorted: Vec<f32> = energy.to_vec();
    sorted.sort_by(|a, b| a.total_cmp(b));
    let p95 = sorted[(sorted.len() * 95) / 100];
    let p05 = sorted[(sorted.len() * 5) / 100];
    if p95 < 0.5 || p95 < 2.0 * p05.max(1e-3) {
        return Err(FpError::NoForeground);
    }
    let thr = p05 + 0.12 * (p95 - p05);
    let raw: Vec<bool> = (0..energy.len())
        .map(|i| energy[i] > thr && coherence[i] > 0.15)
        .collect();
    // 3x3 majority smoothing, twice.
    let mut m = raw;
    for _ in 0..2 {
        let mut next = vec![false; m.len()];
        for y in 0..bh {
            for x in 0..bw {
                let mut c = 0;
                let mut t = 0;
                for yy in y.saturating_sub(1)..=(y + 1).min(bh - 1) {
                    for xx in x.saturating_sub(1)..=(x + 1).min(bw - 1) {
                        t += 1;
                        if m[yy * bw + xx] {
                            c += 1;
                        }
                    }
                }
                next[y * bw + x] = c * 2 > t;
            }
        }
        m = next;
    }
    // Largest 4-connected component.
    let mut label = vec![0u32; m.len()];
    let mut best = (0usize, 0u32);
    let mut next_label = 0u32;
    let mut stack = Vec::new();
    for s in 0..m.len() {
        if !m[s] || label[s] != 0 {
            continue;
        }
        next_label += 1;
        let mut size = 0;
        stack.push(s);
        label[s] = next_label;
        while let Some(i) = stack.pop() {
            size += 1;
            let (x, y) = (i % bw, i / bw);
            let mut push = |j: usize| {
                if m[j] && label[j] == 0 {
                    label[j] = next_label;
                    stack.push(j);
                }
            };
            if x > 0 {
                push(i - 1);
            }
            if x + 1 < bw {
                push(i + 1);
            }
            if y > 0 {
                push(i - bw);
            }
            if y + 1 < bh {
                push(i + bw);
            }
        }
        if size > best.0 {
            best = (size, next_label);
        }
    }
    if best.0 < 16 {
        return Err(FpError::NoForeground);
    }
    let mut fg: Vec<bool> = label.iter().map(|&l| l == best.1).collect();
    // Fill holes: background not reachable from the border becomes foreground.
    let mut outside = vec![false; fg.len()];
    for i in 0..fg.len() {
        let (x, y) = (i % bw, i / bw);
        if !fg[i] && (x == 0 || y == 0 || x + 1 == bw || y + 1 == bh) && !outside[i] {
            outside[i] = true;
            stack.push(i);
            while let Some(j) = stack.pop() {
                let (x, y) = (j % bw, j / bw);
                let mut push = |k: usize| {
                    if !fg[k] && !outside[k] {
                        outside[k] = true;
                        stack.push(k);
                    }
                };
                if x > 0 {
                    push(j - 1);
                }
                if x + 1 < bw {
                    push(j + 1);
                }
                if y > 0 {
                    push(j - bw);
                }
                if y + 1 < bh {
                    push(j + bw);
                }
            }
        }
    }
    for i in 0..fg.len() {
        if !fg[i] && !outside[i] {
            fg[i] = true;
        }
    }
    Ok(fg)
}

/// City-block distance (in blocks) from each foreground block to background or
/// the image border, by two raster passes.
pub(crate) fn border_distance(mask: &[bool], bw: usize, bh: usize) -> Vec<u16> {
    let big = u16::MAX / 2;
    let mut d: Vec<u16> = mask.iter().map(|&m| if m { big } else { 0 }).collect();
    for y in 0..bh {
        for x in 0..bw {
            let i = y * bw + x;
            if d[i] == 0 {
                continue;
            }
            let up = if y == 0 { 0 } else { d[i - bw] };
            let left = if x == 0 { 0 } else { d[i - 1] };
            d[i] = d[i].min(up.min(left) + 1);
        }
    }
    for y in (0..bh).rev() {
        for x in (0..bw).rev() {
            let i = y * bw + x;
            if d[i] == 0 {
                continue;
            }
            let down = if y + 1 == bh { 0 } else { d[i + bw] };
            let right = if x + 1 == bw { 0 } else { d[i + 1] };
            d[i] = d[i].min(down.min(right) + 1);
        }
    }
    d
}

/// Ridge period per foreground block from the grey-level profile across the
/// ridges (the "x-signature" of Hong, Wan & Jain 1998): distance between the
/// first and last valley minima divided by their count.
fn estimate_period(f: &mut Field) {
    const HALF_ACROSS: i32 = 16;
    const HALF_ALONG: i32 = 6;
    let mut sig = [0.0f32; (2 * HALF_ACROSS + 1) as usize];
    let mut valid = Vec::new();
    for by in 0..f.bh {
        for bx in 0..f.bw {
            let i = by * f.bw + bx;
            if !f.mask[i] {
                continue;
            }
            let cx = (bx * BLOCK + BLOCK / 2) as f32;
            let cy = (by * BLOCK + BLOCK / 2) as f32;
            let (s, c) = f.orient[i].sin_cos();
            // along = (c, s); across = (-s, c)
            let mut ok = true;
            for k in -HALF_ACROSS..=HALF_ACROSS {
                let mut acc = 0.0;
                for l in -HALF_ALONG..=HALF_ALONG {
                    let x = cx + l as f32 * c - k as f32 * s;
                    let y = cy + l as f32 * s + k as f32 * c;
                    if x < 0.0 || y < 0.0 || x >= (f.width - 1) as f32 || y >= (f.height - 1) as f32
                    {
                        ok = false;
                        break;
                    }
                    acc += f.norm[y as usize * f.width + x as usize];
                }
                if !ok {
                    break;
                }
                sig[(k + HALF_ACROSS) as usize] = acc;
            }
            if !ok {
                continue;
            }
            // Light smoothing, then minima (ridges are dark).
            let mut sm = sig;
            for j in 1..sig.len() - 1 {
                sm[j] = 0.25 * sig[j - 1] + 0.5 * sig[j] + 0.25 * sig[j + 1];
            }
            let mut first = None;
            let mut last = 0usize;
            let mut count = 0;
            for j in 1..sm.len() - 1 {
                if sm[j] < sm[j - 1] && sm[j] <= sm[j + 1] {
                    if first.is_none() {
                        first = Some(j);
                    }
                    last = j;
                    count += 1;
                }
            }
            if let Some(fst) = first {
                if count >= 2 {
                    let p = (last - fst) as f32 / (count - 1) as f32;
                    if (3.0..=20.0).contains(&p) {
                        f.period[i] = p;
                        valid.push(p);
                    }
                }
            }
        }
    }
    if !valid.is_empty() {
        valid.sort_by(|a, b| a.total_cmp(b));
        f.median_period = valid[valid.len() / 2].clamp(5.0, 15.0);
    }
}
