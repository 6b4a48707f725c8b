//! LEADER on real FVC images with the real ONNX Runtime. Skips with a printed
//! reason when the FVC data, the model (shared/models) or ONNX Runtime
//! (scripts/fetch-onnxruntime.sh, which scripts/test runs first) is absent.

use fingerprint::{match_score, GrayImage, MatchTemplate, MinutiaKind};
use fingerprint_leader::{runtime, LeaderError, LeaderExtractor};
use std::path::PathBuf;

fn fvc(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/fingerprint/fvc2002/DB1_B")
        .join(name)
}

fn extractor() -> Option<LeaderExtractor> {
    if !fvc("101_1.tif").is_file() {
        eprintln!(
            "skipped: FVC2002 DB1_B not found beside the repository (../shared/data/fingerprint)"
        );
        return None;
    }
    if let Err(e) = runtime::locate_model(None) {
        eprintln!("skipped: {e}");
        return None;
    }
    if let Err(e) = runtime::locate_runtime(None) {
        eprintln!("skipped: {e}");
        return None;
    }
    Some(LeaderExtractor::new(None, None, 2).unwrap_or_else(|e| panic!("{e}")))
}

/// One test, one session: LEADER takes 0.4–0.8 s per image and ~0.5 s to load
/// on the 2-core machine, so the checks share the extractor.
#[test]
fn reference_minutiae_and_engine_matching_of_leader_templates() {
    let Some(mut leader) = extractor() else {
        return;
    };
    let t = leader
        .extract(&GrayImage::load(&fvc("101_1.tif")).unwrap())
        .unwrap();
    // shared/models/reference/fvc2002_db1b_101_1_fpcheck.json (Python onnxruntime):
    // 28 minutiae at threshold 0.55, 25 endings, best (173, 86) q 0.966 θ 2.89.
    assert_eq!((t.width, t.height, t.dpi), (388, 374, 500));
    assert_eq!(t.minutiae.len(), 28);
    let endings = t
        .minutiae
        .iter()
        .filter(|m| m.kind == MinutiaKind::Ending)
        .count();
    assert_eq!(endings, 25);
    let best = t.minutiae[0];
    assert_eq!((best.x, best.y, best.quality), (173, 86, 97));
    // Ending turned by π into the engine's convention: 2.89 − π + 2π.
    let expected = (2.89f32 + std::f32::consts::PI).rem_euclid(std::f32::consts::TAU);
    assert!((best.angle - expected).abs() < 0.01, "angle {}", best.angle);
    assert!(t.minutiae.windows(2).all(|w| w[0].quality >= w[1].quality));

    // The engine's matcher scores LEADER templates: mate far above non-mate.
    let mut prep =
        |n: &str| MatchTemplate::new(&leader.extract(&GrayImage::load(&fvc(n)).unwrap()).unwrap());
    let a = MatchTemplate::new(&t);
    let (mate, other) = (prep("101_2.tif"), prep("102_1.tif"));
    let genuine = match_score(&a, &mate);
    let impostor = match_score(&a, &other);
    assert!(
        genuine > 2.0 * impostor && genuine > 10.0,
        "genuine {genuine}, impostor {impostor}"
    );
}

#[test]
fn a_different_model_file_is_refused_by_checksum() {
    let dir = std::env::temp_dir().join(format!("fp-leader-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let fake = dir.join("leader_minutiae.onnx");
    std::fs::write(&fake, b"not an onnx model").unwrap();
    let r = runtime::read_verified_model(&fake);
    std::fs::remove_dir_all(&dir).ok();
    assert!(matches!(r, Err(LeaderError::ModelChecksum { .. })), "{r:?}");
}

#[test]
fn missing_runtime_and_model_are_typed_errors() {
    let nowhere = PathBuf::from("/nonexistent/libonnxruntime.so");
    assert!(matches!(
        runtime::locate_runtime(Some(&nowhere)),
        Err(LeaderError::RuntimeNotFound { .. })
    ));
    let r = runtime::locate_model(Some(&PathBuf::from("/nonexistent/leader.onnx")));
    assert!(matches!(r, Err(LeaderError::ModelMissing { .. })));
    // Through the public constructor too: no panic when the library is missing.
    assert!(matches!(
        LeaderExtractor::new(Some(&nowhere), None, 1),
        Err(LeaderError::RuntimeNotFound { .. })
    ));
}
