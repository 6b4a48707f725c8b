//! Synthetic variations of real photographs and of real face meshes, for tests and evaluation.
//!
//! There is no licensed webcam video of real subjects in this repository, so sequences are built from
//! real photographs: shifts, scaling, rotations, blur and darkening of a frame (what a moving photo
//! or a bad camera produces), and geometric 3-D rotations / eyelid closure of a *measured* mesh (what
//! a live head turn or blink does to the landmarks). Kept in the library so that the test suite, the
//! evaluation example and the station's self-test all use the same generators.

use image::RgbImage;

use crate::imaging::{sample, to_rgb_image, Affine};
use crate::landmarks::idx;
use crate::pipeline::FaceAnalysis;

/// Re-renders `img` into a `w`×`h` frame: the source point (cx, cy) lands at the frame centre plus
/// (dx, dy), scaled by `scale` and rotated by `angle_deg` (counter-clockwise in the image, i.e. the
/// face rolls). Outside the source is filled with `fill`.
#[allow(clippy::too_many_arguments)] // a plain parameter list reads best at the call sites in tests
pub fn warp(img: &RgbImage, w: u32, h: u32, cx: f32, cy: f32, scale: f32, angle_deg: f32, dx: f32, dy: f32, fill: u8) -> RgbImage {
    let ang = -angle_deg.to_radians();
    let (s, c) = ang.sin_cos();
    let k = 1.0 / scale;
    let (ux, vy) = (w as f32 / 2.0 + dx, h as f32 / 2.0 + dy);
    let (a, b, d, e) = (k * c, -k * s, k * s, k * c);
    let map = Affine { a, b, c: cx - a * ux - b * vy, d, e, f: cy - d * ux - e * vy };
    to_rgb_image(&sample(img, &map, w as usize, h as usize, [fill as f32; 3]), w, h)
}

/// Perspective-like horizontal compression about the image's vertical centre line: what a flat
/// photo rotated by `deg` about its vertical axis looks like to a distant camera (weak perspective).
pub fn tilt_photo(img: &RgbImage, deg: f32) -> RgbImage {
    let k = deg.to_radians().cos().max(0.1);
    let (w, h) = img.dimensions();
    let cx = w as f32 / 2.0;
    let map = Affine { a: 1.0 / k, b: 0.0, c: cx - cx / k, d: 0.0, e: 1.0, f: 0.0 };
    to_rgb_image(&sample(img, &map, w as usize, h as usize, [0.0; 3]), w, h)
}

/// Separable Gaussian blur with standard deviation `sigma` pixels.
pub fn blur(img: &RgbImage, sigma: f32) -> RgbImage {
    image::imageops::blur(img, sigma)
}

/// Multiplies every channel by `gain` (darkening < 1, brightening > 1), clipping at 255.
pub fn gain(img: &RgbImage, gain: f32) -> RgbImage {
    let mut out = img.clone();
    for p in out.pixels_mut() {
        for c in 0..3 {
            p[c] = (p[c] as f32 * gain).round().clamp(0.0, 255.0) as u8;
        }
    }
    out
}

/// Adds deterministic pseudo-random sensor noise of amplitude ±`amp` grey levels (seeded), so that
/// repeated synthetic frames are not bit-identical, as no two frames of a real camera are.
pub fn noise(img: &RgbImage, amp: u8, seed: u64) -> RgbImage {
    let mut out = img.clone();
    let mut state = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    for v in out.iter_mut() {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let r = ((state >> 33) % (2 * amp as u64 + 1)) as i32 - amp as i32;
        *v = (*v as i32 + r).clamp(0, 255) as u8;
    }
    out
}

/// A copy of a measured face whose mesh is rotated in 3-D by `yaw_deg` about the vertical axis
/// through the face centre (orthographic projection), with eye openness scaled by `eye_open`
/// (1 = as measured, 0 = lids shut), pose and eye measurements recomputed from the new mesh and eyelid
/// contours (the contours only where the eye stage measured them: `face.eyes` is `Some`), and the
/// motion patch perturbed by `patch_seed` (a live camera never repeats a frame bit for bit).
pub fn posed_face(face: &FaceAnalysis, yaw_deg: f32, eye_open: f32, pitch_offset: f32, patch_seed: u64) -> FaceAnalysis {
    let mut f = face.clone();
    let n = f.mesh.points.len() as f32;
    let (mx, mz) = f.mesh.points.iter().fold((0.0, 0.0), |(x, z), p| (x + p[0] / n, z + p[2] / n));
    // yaw > 0 = subject turns to their right = nose moves to image-left (x decreases for z < 0 points).
    let t = yaw_deg.to_radians();
    let (s, c) = t.sin_cos();
    // Depth of each eye's corners before the turn, for its eyelid contour below.
    let corner_depth = [(f.mesh.points[33][2] + f.mesh.points[133][2]) / 2.0, (f.mesh.points[362][2] + f.mesh.points[263][2]) / 2.0];
    for p in f.mesh.points.iter_mut() {
        let (x, z) = (p[0] - mx, p[2] - mz);
        p[0] = mx + c * x + s * z;
        p[2] = mz - s * x + c * z;
    }
    // Close the lids: pull upper and lower lid points toward the corner line.
    let lids: [([usize; 6], usize, usize); 2] = [(idx::RIGHT_EYE, 33, 133), (idx::LEFT_EYE, 362, 263)];
    for (eye, a, b) in lids {
        let pa = f.mesh.points[a];
        let pb = f.mesh.points[b];
        for &i in &[eye[1], eye[2], eye[4], eye[5], 159, 145, 386, 374] {
            let p = f.mesh.points[i];
            let tpar = {
                let (vx, vy) = (pb[0] - pa[0], pb[1] - pa[1]);
                ((p[0] - pa[0]) * vx + (p[1] - pa[1]) * vy) / (vx * vx + vy * vy).max(1e-6)
            };
            let (lx, ly) = (pa[0] + tpar * (pb[0] - pa[0]), pa[1] + tpar * (pb[1] - pa[1]));
            f.mesh.points[i][0] = lx + (p[0] - lx) * eye_open;
            f.mesh.points[i][1] = ly + (p[1] - ly) * eye_open;
        }
    }
    // The iris model's eyelid contours (what eye openness is measured on): turned with the head at
    // the depth of their eye's corners, and their lids pulled toward the corner line the same way.
    for (eye, z) in f.eyes.iter_mut().flatten().zip(corner_depth) {
        for p in eye.contour.iter_mut().chain(std::iter::once(&mut eye.iris_centre)) {
            p[0] = mx + c * (p[0] - mx) + s * (z - mz);
        }
        let (pa, pb) = (eye.contour[0], eye.contour[8]);
        let (vx, vy) = (pb[0] - pa[0], pb[1] - pa[1]);
        for p in eye.contour.iter_mut().take(16) {
            let t = ((p[0] - pa[0]) * vx + (p[1] - pa[1]) * vy) / (vx * vx + vy * vy).max(1e-6);
            let (lx, ly) = (pa[0] + t * vx, pa[1] + t * vy);
            *p = [lx + (p[0] - lx) * eye_open, ly + (p[1] - ly) * eye_open];
        }
        eye.openness = crate::eyes::EyeContour::aspect_ratio(&eye.contour);
    }
    f.pose = f.mesh.head_pose(pitch_offset);
    let (cr, cl) = f.mesh.eye_centres();
    f.eye_centres = [cr, cl];
    f.eye_distance = crate::landmarks::dist(cr, cl);
    let mut state = patch_seed.wrapping_add(0x9E3779B97F4A7C15);
    for v in f.patch.iter_mut() {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let r = ((state >> 33) % 5) as i32 - 2;
        *v = (*v as i32 + r).clamp(0, 255) as u8;
    }
    f
}
