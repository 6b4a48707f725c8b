//! Shared helpers for the integration tests. They run the real models with the real runtime: the
//! runtime is found through ORT_DYLIB_PATH or the cache of scripts/fetch-onnxruntime.sh (the
//! lead's scripts/test always runs that script first); if neither exists the tests fail with the
//! error that names the script.
#![allow(dead_code)]

use std::path::PathBuf;

use face::synth::warp;
use face::{FacePipeline, PipelineConfig};
use image::RgbImage;

pub fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(name)
}

pub fn image(name: &str) -> RgbImage {
    face::imaging::load(&data(name)).expect("test image")
}

pub fn pipeline() -> FacePipeline {
    FacePipeline::new(&PipelineConfig::default()).unwrap_or_else(|e| panic!("{e}"))
}

/// A 640×480 frame with the main face of `img` centred (plus dx, dy), `width_frac` of the frame wide,
/// rolled by `roll` degrees.
pub fn frame(p: &mut FacePipeline, img: &RgbImage, width_frac: f32, roll: f32, dx: f32, dy: f32) -> RgbImage {
    let d = p.detect(img).unwrap().into_iter().max_by(|a, b| a.rect.width.total_cmp(&b.rect.width)).expect("a face");
    let (cx, cy) = d.rect.center();
    warp(img, 640, 480, cx, cy, width_frac * 640.0 / d.rect.width, roll, dx, dy, 0)
}
