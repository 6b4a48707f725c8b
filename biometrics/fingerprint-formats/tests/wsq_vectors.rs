//! WSQ decoder and encoder against real vectors: NIST NBIS decodes of three
//! independent WSQ files and NBIS-encoded FVC images (see the shared data's
//! SOURCES.md and wsq/EXPECTED.json).

mod common;

use fingerprint_formats::raster::{self, psnr, GrayImage};
use fingerprint_formats::wsq;

/// Maximum absolute pixel difference between two equally sized images.
fn max_diff(a: &GrayImage, b: &GrayImage) -> u8 {
    assert_eq!((a.width(), a.height()), (b.width(), b.height()));
    a.pixels().iter().zip(b.pixels()).map(|(&x, &y)| x.abs_diff(y)).max().unwrap_or(0)
}

/// Every decode vector: size, declared ppi and NISTCOM text match
/// EXPECTED.json, and the pixels are identical to the NBIS reference decode
/// (max difference 0, SHA-256 of the pixel buffer equal).
#[test]
fn decodes_reference_vectors_bit_exactly() {
    let expected = common::json("wsq/EXPECTED.json");
    let vectors = expected["decode_vectors"].as_object().unwrap();
    assert_eq!(vectors.len(), 3);
    for (name, exp) in vectors {
        let d = wsq::decode(&common::read(&format!("wsq/{name}"))).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(u64::from(d.image.width()), exp["width"].as_u64().unwrap(), "{name}");
        assert_eq!(u64::from(d.image.height()), exp["height"].as_u64().unwrap(), "{name}");
        let ppi = exp["ppi"].as_i64().unwrap();
        assert_eq!(d.declared_ppi.map(i64::from).unwrap_or(-1), ppi, "{name}");
        let nistcom: Vec<&str> = exp["nistcom"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
        assert_eq!(d.comments, nistcom, "{name}");
        let png = exp["decoded_png"].as_str().unwrap().split(' ').next().unwrap();
        let reference = raster::load(&common::read(&format!("wsq/{png}")), 500).unwrap();
        let diff = max_diff(&d.image, &reference);
        println!("{name}: max abs diff vs NBIS = {diff}");
        assert_eq!(diff, 0, "{name}");
        assert_eq!(common::sha256_hex(d.image.pixels()), exp["decoded_raw_sha256"].as_str().unwrap(), "{name}");
    }
}

/// The NBIS-encoded FVC files decode to the NBIS decodes exactly, too.
#[test]
fn decodes_nbis_encoded_fvc_images_bit_exactly() {
    let expected = common::json("wsq/EXPECTED.json");
    for (name, exp) in expected["fvc_encodes_bitrate_0_75"].as_object().unwrap() {
        let d = wsq::decode(&common::read(&format!("wsq/{}", exp["wsq_file"].as_str().unwrap()))).unwrap();
        assert_eq!(d.declared_ppi, Some(500));
        assert_eq!(common::sha256_hex(d.image.pixels()), exp["decoded_raw_sha256"].as_str().unwrap(), "{name}");
        let original = raster::load(&common::read(exp["source"].as_str().unwrap()), 500).unwrap();
        let p = psnr(&original, &d.image).unwrap();
        assert!((p - exp["psnr_db"].as_f64().unwrap()).abs() < 0.01, "{name}: psnr {p}");
    }
}
