//! Seeded randomised robustness test: real files mutated thousands of times
//! (bit flips, byte overwrites, truncation, deletion, duplication, insertion)
//! must never make a parser panic. This runs in every `cargo test`; the
//! cargo-fuzz targets in `fuzz/` explore the same entry points for longer.

mod common;

use fingerprint_formats::{raster, template, wsq};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

fn mutate(rng: &mut StdRng, input: &[u8]) -> Vec<u8> {
    let mut d = input.to_vec();
    for _ in 0..rng.gen_range(1..4) {
        if d.is_empty() {
            d.push(rng.gen());
            continue;
        }
        let i = rng.gen_range(0..d.len());
        match rng.gen_range(0..6) {
            0 => d[i] ^= 1 << rng.gen_range(0..8),
            1 => d[i] = rng.gen(),
            2 => d.truncate(i),
            3 => {
                let end = (i + rng.gen_range(1..16)).min(d.len());
                d.drain(i..end);
            }
            4 => {
                let end = (i + rng.gen_range(1..16)).min(d.len());
                let chunk = d[i..end].to_vec();
                d.splice(i..i, chunk);
            }
            _ => {
                let extra: Vec<u8> = (0..rng.gen_range(1..8)).map(|_| rng.gen()).collect();
                d.splice(i..i, extra);
            }
        }
    }
    d
}

#[test]
fn mutated_templates_never_panic() {
    let files = [
        "templates/fingerprintio/iso19794p2v2005-sample.dat",
        "templates/fingerprintio/iso19794p2v2011-sample.dat",
        "templates/fingerprintio/ansi378v2004-sample.dat",
        "templates/fingerprintio/ansi378v2009-sample.dat",
        "templates/fingerprintio/ansi378v2009am1-sample.dat",
        "templates/libbiomeval/fmr.ansi2004",
        "templates/libbiomeval/fmr.ansi2007",
        "templates/sourceafis/iso-probe.dat",
    ];
    let seeds: Vec<Vec<u8>> = files.iter().map(|f| common::read(f)).collect();
    let mut rng = StdRng::seed_from_u64(0x5eed_f00d);
    let mut accepted = 0;
    for n in 0..10_000 {
        let input = mutate(&mut rng, &seeds[n % seeds.len()]);
        if let Ok(t) = template::read_template(&input) {
            accepted += 1;
            // Whatever parses must also serialise or fail with a typed error.
            let _ = template::write_template(&t);
        }
    }
    // Sanity: mutations are not all fatal, so the parsers were exercised deeply.
    assert!(accepted > 100, "only {accepted} mutants parsed");
}

#[test]
fn mutated_wsq_never_panics() {
    let seed = common::read("wsq/vectors/libbiomeval-img.wsq");
    let mut rng = StdRng::seed_from_u64(0x0057_5351);
    let mut decoded = 0;
    for _ in 0..10_000 {
        let input = mutate(&mut rng, &seed);
        if let Ok(d) = wsq::decode(&input) {
            decoded += 1;
            assert!(d.image.pixels().len() as u64 <= fingerprint_formats::MAX_PIXELS);
        }
    }
    assert!(decoded > 10, "only {decoded} mutants decoded");
}

#[test]
fn mutated_image_headers_never_panic() {
    let tif = common::read("fvc2002/DB1_B/101_1.tif");
    let seeds = [
        common::read("wsq/vectors/libbiomeval-img.decoded.png"),
        tif[..4096].to_vec(),
        common::read("sourceafis-images/probe.jpeg"),
        b"P5 16 16 255\n".iter().copied().chain(0..=255u8).collect(),
        b"BM\x3e\x01\0\0\0\0\0\0\x36\0\0\0\x28\0\0\0\x10\0\0\0\x10\0\0\0\x01\0\x08\0".to_vec(),
    ];
    let mut rng = StdRng::seed_from_u64(0x1a6e);
    let (mut probed, mut loaded) = (0, 0);
    for n in 0..10_000 {
        let input = mutate(&mut rng, &seeds[n % seeds.len()]);
        probed += usize::from(raster::probe(&input).is_ok());
        loaded += usize::from(raster::load(&input, 500).is_ok());
    }
    // Many mutants keep a valid header and some still decode completely.
    assert!(probed > 1_000 && loaded > 100, "probed {probed}, loaded {loaded}");
}
