//! Failure modes: missing/tampered models, missing/corrupt runtime, corrupt and empty images.
//! None may panic; each must name what to do.

mod common;
use common::*;

use std::process::Command;

use face::{FaceError, FacePipeline, PipelineConfig};

fn tmpdir(tag: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("face-test-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn models_dir() -> std::path::PathBuf {
    face::runtime::locate_models_dir(None)
}

#[test]
fn missing_model_is_a_clear_error() {
    let d = tmpdir("missing");
    let err = FacePipeline::new(&PipelineConfig { models_dir: Some(d.clone()), ..Default::default() }).err().expect("must fail");
    assert!(matches!(err, FaceError::ModelMissing { .. }), "{err}");
    assert!(err.to_string().contains("models/"), "{err}");
}

#[test]
fn tampered_model_is_refused() {
    let d = tmpdir("tampered");
    for f in ["blazeface_front_128.onnx", "face_landmark_468.onnx"] {
        std::fs::copy(models_dir().join(f), d.join(f)).unwrap();
    }
    let path = d.join("face_landmark_468.onnx");
    let mut bytes = std::fs::read(&path).unwrap();
    let n = bytes.len();
    bytes[n / 2] ^= 0x40;
    std::fs::write(&path, &bytes).unwrap();
    let err = FacePipeline::new(&PipelineConfig { models_dir: Some(d.clone()), ..Default::default() }).err().expect("must fail");
    match &err {
        FaceError::ModelChecksum { expected, actual, .. } => assert_ne!(expected, actual),
        other => panic!("wrong error {other}"),
    }
    // truncated file: also refused
    std::fs::write(&path, &bytes[..1000]).unwrap();
    let err = FacePipeline::new(&PipelineConfig { models_dir: Some(d), ..Default::default() }).err().expect("must fail");
    assert!(matches!(err, FaceError::ModelChecksum { .. }), "{err}");
}

#[test]
fn configured_runtime_that_does_not_exist_names_the_fetch_script() {
    let cfg = PipelineConfig { runtime_library: Some("/nonexistent/libonnxruntime.so".into()), ..Default::default() };
    let err = FacePipeline::new(&cfg).err().expect("must fail");
    assert!(matches!(err, FaceError::RuntimeNotFound { .. }), "{err}");
    assert!(err.to_string().contains("scripts/fetch-onnxruntime.sh"), "{err}");
}

#[test]
fn corrupt_and_empty_images_are_errors_not_panics() {
    let bytes = std::fs::read(data("obama.jpg")).unwrap();
    match face::imaging::decode(&bytes[..bytes.len() / 4], "truncated.jpg") {
        Err(FaceError::ImageDecode { .. }) => {}
        // some JPEG decoders fill missing data; then the image is still full-size and usable
        Ok(img) => assert_eq!(img.dimensions(), (910, 1137)),
        Err(e) => panic!("unexpected {e}"),
    }
    assert!(matches!(face::imaging::decode(b"not an image at all", "x.png"), Err(FaceError::ImageDecode { .. })));
    assert!(matches!(face::imaging::decode(&[], "empty.png"), Err(FaceError::ImageDecode { .. })));
    let mut p = pipeline();
    assert!(matches!(p.analyze(&image::RgbImage::new(0, 0)), Err(FaceError::FrameTooSmall { .. })));
    assert!(matches!(p.analyze(&image::RgbImage::new(640, 8)), Err(FaceError::FrameTooSmall { .. })));
    // a tiny frame that passes the size check still works (no face)
    let a = p.analyze(&image::RgbImage::new(40, 40)).unwrap();
    assert!(a.face.is_none());
}

fn cli() -> Command {
    Command::new(env!("CARGO_BIN_EXE_face"))
}

#[test]
fn cli_without_runtime_exits_2_and_names_the_script() {
    let home = tmpdir("home");
    let out = cli()
        .args(["analyze", data("astronaut.png").to_str().unwrap()])
        .env("ORT_DYLIB_PATH", home.join("missing.so"))
        .env("HOME", &home)
        .env_remove("STATION_CACHE")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("fetch-onnxruntime.sh"), "{err}");
}

#[test]
fn cli_with_corrupt_runtime_library_exits_2() {
    let d = tmpdir("badso");
    let so = d.join("libonnxruntime.so");
    std::fs::write(&so, b"\x7fELF garbage, not a library").unwrap();
    let out = cli().args(["analyze", data("astronaut.png").to_str().unwrap()]).env("ORT_DYLIB_PATH", &so).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot load ONNX Runtime"), "{err}");
}

#[test]
fn cli_analyze_prints_feedback_json() {
    let out = cli().args(["analyze", data("astronaut.png").to_str().unwrap()]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["compliant"], false);
    assert!(v["feedback"].as_array().unwrap().iter().any(|f| f["code"] == "TOO_FAR"), "{v}");
    assert!(v["face"]["pose"]["yaw"].is_number());
}

#[test]
fn cli_on_corrupt_image_exits_2() {
    let d = tmpdir("badimg");
    let p = d.join("bad.png");
    std::fs::write(&p, b"\x89PNG\r\n\x1a\n truncated").unwrap();
    let out = cli().args(["analyze", p.to_str().unwrap()]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot decode image"));
}

#[test]
fn cli_config_file_swaps_models_and_the_sha256_still_guards_them() {
    let d = tmpdir("config");
    let cfg = d.join("face.toml");
    // a different descriptor file named in the config without its real digest is refused
    std::fs::write(
        &cfg,
        format!("[embedder.model]\npath = \"face_descriptor_128.onnx\"\nsha256 = \"{}\"\n", "ab".repeat(32)),
    )
    .unwrap();
    let a = data("astronaut.png");
    let out = cli().args(["--config", cfg.to_str().unwrap(), "verify", a.to_str().unwrap(), a.to_str().unwrap()]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("sha256"), "{}", String::from_utf8_lossy(&out.stderr));
    // a threshold from the config is applied
    std::fs::write(&cfg, "[embedder]\nthreshold = 0.01\n").unwrap();
    let o = data("obama.jpg");
    let out = cli().args(["--config", cfg.to_str().unwrap(), "verify", o.to_str().unwrap(), a.to_str().unwrap()]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!((v["threshold"].as_f64().unwrap() - 0.01).abs() < 1e-6, "{v}");
    assert_eq!(v["is_match"], false);
    // an unknown key is an error, not silently ignored
    std::fs::write(&cfg, "[pipeline]\ndetektor = \"front128\"\n").unwrap();
    let out = cli().args(["--config", cfg.to_str().unwrap(), "analyze", a.to_str().unwrap()]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("invalid face configuration"));
}
