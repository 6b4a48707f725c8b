//! Single-thread matching throughput on FVC2002 DB1_B templates.
//!
//!     bench_match [--baseline] [DIR [PASSES]]
//!
//! --baseline: the portable (SSE2) comparison loops even where the CPU has
//! AVX2, i.e. the speed a CPU without AVX2 gets; the scores are the same.
//!
//! PASSES (default 1): passes over all ordered pairs per timed round. The
//! thread CPU clock advances in steps of a few milliseconds on this VM, so a
//! one-pass round (≈ 0.13 s) reads only to ±3 %; 4 passes read to ≈ ±1 %.
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

/// CPU time of this thread in nanoseconds (scheduler statistics): the
/// matching rounds last a fraction of a second, too short for the 10 ms ticks
/// of [`cpu`].
fn cpu_ns() -> f64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<f64>().ok())
        .unwrap_or_else(|| cpu() * 1e9)
}

fn main() {
    let baseline = std::env::args().any(|a| a == "--baseline");
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--baseline")
        .collect();
    let dir = args.first().cloned().unwrap_or_else(|| {
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/data/fingerprint/fvc2002/DB1_B"
        )
        .to_string()
    });
    let passes: usize = args
        .get(1)
        .map_or(1, |p| p.parse().expect("PASSES: a positive integer"))
        .max(1);
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
    // Five rounds over all ordered pairs; the best round is the figure least
    // disturbed by other work on a shared machine, the median is shown too.
    let mut m = if baseline {
        println!("comparison loops: portable (--baseline)");
        Matcher::baseline()
    } else {
        Matcher::default()
    };
    let mut rounds = Vec::new();
    let mut n = 0usize;
    let mut acc = 0.0f32;
    let t2 = Instant::now();
    for _ in 0..5 {
        let c2 = cpu_ns();
        n = 0;
        acc = 0.0;
        for _ in 0..passes {
            for a in &prepared {
                for b in &prepared {
                    acc += m.score(a, b);
                    n += 1;
                }
            }
        }
        rounds.push(n as f64 / ((cpu_ns() - c2) * 1e-9));
    }
    let s = t2.elapsed().as_secs_f64() / rounds.len() as f64;
    rounds.sort_by(f64::total_cmp);
    println!(
        "{} comparisons x {} rounds: {:.0}/s wall, {:.0}/s CPU best round, {:.0}/s CPU median (checksum {:.1})",
        n,
        rounds.len(),
        n as f64 / s,
        rounds[rounds.len() - 1],
        rounds[rounds.len() / 2],
        acc
    );
    // Printed with the figures because this machine is shared: a rate means
    // little without the load it was measured under.
    println!(
        "load average: {}",
        std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );
}
