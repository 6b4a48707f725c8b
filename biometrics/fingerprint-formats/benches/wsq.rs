//! Plain timing benchmark (no harness): WSQ decode and encode milliseconds
//! per image on the shared reference images, plus template parsing.
//!
//! Run with `cargo bench -p fingerprint-formats --bench wsq`; the figures go
//! to docs/benchmarks/fpformats.md. Each measurement is the median of
//! several runs after one warm-up run.

use fingerprint_formats::{raster, template, wsq};
use std::hint::black_box;
use std::path::PathBuf;
use std::time::Instant;

fn data(rel: &str) -> Vec<u8> {
    let p = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/fingerprint"
    ))
    .join(rel);
    std::fs::read(&p).unwrap_or_else(|e| panic!("cannot read {}: {e}", p.display()))
}

/// Median wall time of `f` in milliseconds over `runs` runs (after a warm-up).
fn median_ms(runs: usize, mut f: impl FnMut()) -> f64 {
    f();
    let mut t: Vec<f64> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    t.sort_by(f64::total_cmp);
    t[t.len() / 2]
}

fn main() {
    println!(
        "{:<44} {:>9} {:>11} {:>11} {:>9}",
        "image", "size", "decode ms", "encode ms", "MPix/s"
    );
    let wsq_files = [
        "wsq/vectors/libbiomeval-img.wsq",
        "wsq/vectors/pypi-wsq-test.wsq",
        "wsq/vectors/sourceafis-wsq-original.wsq",
        "wsq/fvc-encoded/fvc2002-DB1_B-101_1.wsq",
        "wsq/fvc-encoded/fvc2004-DB1_B-101_1.wsq",
    ];
    for name in wsq_files {
        let bytes = data(name);
        let img = wsq::decode(&bytes).expect("vector decodes").image;
        let dec = median_ms(15, || {
            black_box(wsq::decode(black_box(&bytes)).unwrap());
        });
        let enc = median_ms(15, || {
            black_box(wsq::encode(black_box(&img), &wsq::EncodeOptions::default()).unwrap());
        });
        let mpix = f64::from(img.width() * img.height()) / 1e6;
        println!(
            "{:<44} {:>9} {:>11.2} {:>11.2} {:>9.1}",
            name,
            format!("{}x{}", img.width(), img.height()),
            dec,
            enc,
            mpix / (dec / 1e3)
        );
    }
    let tif = raster::load(&data("fvc2002/DB1_B/101_1.tif"), 500).unwrap();
    let enc = median_ms(15, || {
        black_box(wsq::encode(black_box(&tif), &wsq::EncodeOptions::default()).unwrap());
    });
    println!(
        "{:<44} {:>9} {:>11} {:>11.2}",
        "fvc2002/DB1_B/101_1.tif (original)", "388x374", "-", enc
    );

    for name in [
        "templates/fingerprintio/iso19794p2v2011-sample.dat",
        "templates/libbiomeval/fmr.ansi2004",
    ] {
        let bytes = data(name);
        let us = median_ms(2001, || {
            black_box(template::read_template(black_box(&bytes)).unwrap());
        }) * 1e3;
        println!("template read {:<40} {:>8.2} µs", name, us);
    }
    let to500 = median_ms(15, || {
        black_box(tif.resample_to_dpi(black_box(569)).unwrap());
    });
    println!("resample 388x374 500->569 dpi: {to500:.2} ms");
}
