//! 1:N search speed and accuracy on a synthetic 100,000-template gallery.
//!
//! Background: perturbed variants of FVC2004 DB1_B/DB2_B templates (fingers
//! not in the probe set). Enrolled mates: impression 1 of the 20 FVC2002
//! DB1_B/DB2_B fingers. Probes: impressions 2 and 3 of those fingers.
use fingerprint::eval::{extract_all, list_fvc};
use fingerprint::{perturb, Gallery};
use std::time::Instant;

/// Process CPU time (user + system, all threads) in seconds from /proc, so the
/// figures stay meaningful on a machine shared with other work.
fn cpu() -> f64 {
    let s = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let rest = s.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let t = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (t(11) + t(12)) / 100.0
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let base = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/fingerprint"
    );
    let mut background = Vec::new();
    for db in ["fvc2004/DB1_B", "fvc2004/DB2_B"] {
        let imgs = list_fvc(format!("{base}/{db}").as_ref())?;
        background.extend(extract_all(&imgs, 2)?.0);
    }
    let mut gallery = Gallery::new();
    let t0 = Instant::now();
    let mut probes = Vec::new();
    let mut next_id = 1_000_000u64;
    for (dbi, db) in ["fvc2002/DB1_B", "fvc2002/DB2_B"].iter().enumerate() {
        let imgs = list_fvc(format!("{base}/{db}").as_ref())?;
        let (ts, _) = extract_all(&imgs, 2)?;
        for (im, t) in imgs.iter().zip(&ts) {
            let id = (dbi as u64) * 1000 + im.finger as u64;
            if im.impression == 1 {
                gallery.insert(id, t);
            } else if im.impression <= 3 {
                probes.push((id, t.clone()));
            }
        }
    }
    let mut k = 0u64;
    while gallery.len() < n {
        let src = &background[(k as usize) % background.len()];
        gallery.insert(next_id, &perturb(src, k));
        next_id += 1;
        k += 1;
    }
    println!(
        "gallery of {} built in {:.1} s",
        gallery.len(),
        t0.elapsed().as_secs_f64()
    );
    let mut hits = 0;
    let mut total_ms = 0.0;
    let c0 = cpu();
    for (id, p) in &probes {
        let t = Instant::now();
        let res = gallery.search(p, 5, 0.0);
        total_ms += t.elapsed().as_secs_f64() * 1000.0;
        if std::env::var("DBG").is_ok() {
            println!("{id} -> {:?}", res);
        }
        if res.first().map(|c| c.id) == Some(*id) {
            hits += 1;
        }
    }
    let cpu_ms = (cpu() - c0) * 1000.0 / probes.len() as f64;
    println!(
        "{} probes: rank-1 identification {:.1} %, mean search {:.0} ms wall, {:.0} ms CPU summed over {} threads",
        probes.len(),
        100.0 * hits as f64 / probes.len() as f64,
        total_ms / probes.len() as f64,
        cpu_ms,
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    );
    Ok(())
}
