//! Single-thread matching throughput on FVC2002 DB1_B templates.
use fingerprint::{eval::list_fvc, extract, GrayImage, MatchTemplate, Matcher};
use std::time::Instant;

/// Process CPU time (user + system) in seconds from /proc, so figures stay
/// meaningful on a machine shared with other builds (wall time is also shown).
fn cpu() -> f64 {
    let s = std::fs::read_to_string("/proc/thread-self/stat").unwrap_or_default();
    let rest = s.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let t = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (t(11) + t(12)) / 100.0
}

fn main() {
    let dir = std::env::args().nth(1).unwrap_or_else(|| {
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/data/fingerprint/fvc2002/DB1_B"
        )
        .to_string()
    });
    let imgs = list_fvc(dir.as_ref()).expect("dataset");
    let mut ts = Vec::new();
    let t0 = Instant::now();
    let c0 = cpu();
    for im in &imgs {
        ts.push(extract(&GrayImage::load(&im.path).expect("load")).expect("extract"));
    }
    println!(
        "extract {:.1} ms/image wall, {:.1} ms/image CPU (1 thread, includes TIFF decode)",
        t0.elapsed().as_secs_f64() * 1000.0 / imgs.len() as f64,
        (cpu() - c0) * 1000.0 / imgs.len() as f64
    );
    let t1 = Instant::now();
    let prepared: Vec<MatchTemplate> = ts.iter().map(MatchTemplate::new).collect();
    println!(
        "prepare {:.1} us/template",
        t1.elapsed().as_secs_f64() * 1e6 / ts.len() as f64
    );
    let mut m = Matcher::default();
    let t2 = Instant::now();
    let c2 = cpu();
    let mut n = 0usize;
    let mut acc = 0.0f32;
    for a in &prepared {
        for b in &prepared {
            acc += m.score(a, b);
            n += 1;
        }
    }
    let s = t2.elapsed().as_secs_f64();
    let cs = cpu() - c2;
    println!(
        "{} comparisons: {:.0}/s wall, {:.0}/s CPU (checksum {:.1})",
        n,
        n as f64 / s,
        n as f64 / cs,
        acc
    );
}
