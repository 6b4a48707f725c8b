//! Matcher-only FVC evaluation: extracts the four shared FVC set-B databases
//! once (caching the templates as engine template bytes in a folder), then
//! scores all pairs with the current matcher and prints per-database error
//! rates, the pooled FMR 1:10,000 threshold and single-thread matching speed.
//!
//! Exists so that matcher changes can be judged in seconds without paying for
//! extraction on every run; `fingerprint eval` remains the end-to-end figure.
//!
//!     cargo run --release --example match_eval -- [cache-dir [scores.tsv]]
//!
//! With a second argument every score is also written, one line per pair
//! (database, probe and candidate file, score), so that two matchers meant to
//! score alike can be compared pair by pair with `cmp`.
use fingerprint::eval::{extract_all, list_fvc, rates, threshold_for_fmr};
use fingerprint::{MatchTemplate, Matcher, Template};
use std::path::PathBuf;

/// Thread CPU time (user + system) in seconds, see bench_match.
fn cpu() -> f64 {
    let s = std::fs::read_to_string("/proc/thread-self/stat").unwrap_or_default();
    let rest = s.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let t = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (t(11) + t(12)) / 100.0
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let cache = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| {
        std::env::temp_dir()
            .join("fp-template-cache")
            .display()
            .to_string()
    }));
    let base = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/fingerprint"
    ));
    let mut scores_out = match std::env::args().nth(2) {
        Some(path) => Some(std::io::BufWriter::new(std::fs::File::create(path)?)),
        None => None,
    };
    let mut pooled_imp = Vec::new();
    let mut pooled_gen = Vec::new();
    let (mut comparisons, mut cpu_s) = (0usize, 0.0f64);
    for db in [
        "fvc2002/DB1_B",
        "fvc2002/DB2_B",
        "fvc2004/DB1_B",
        "fvc2004/DB2_B",
    ] {
        let imgs = list_fvc(&base.join(db))?;
        let dir = cache.join(db.replace('/', "-"));
        let templates: Vec<Template> = if dir.exists() {
            imgs.iter()
                .map(|im| {
                    let name = im.path.file_name().unwrap_or_default().to_string_lossy();
                    Template::from_bytes(&std::fs::read(dir.join(format!("{name}.fpt")))?)
                        .map_err(Into::into)
                })
                .collect::<Result<_, Box<dyn std::error::Error>>>()?
        } else {
            let (ts, _) = extract_all(&imgs, 2)?;
            std::fs::create_dir_all(&dir)?;
            for (im, t) in imgs.iter().zip(&ts) {
                let name = im.path.file_name().unwrap_or_default().to_string_lossy();
                std::fs::write(dir.join(format!("{name}.fpt")), t.to_bytes())?;
            }
            ts
        };
        let prepared: Vec<MatchTemplate> = templates.iter().map(MatchTemplate::new).collect();
        let mut m = Matcher::default();
        let (mut gen, mut imp) = (Vec::new(), Vec::new());
        let c0 = cpu();
        for a in 0..imgs.len() {
            for b in a + 1..imgs.len() {
                let s = m.score(&prepared[a], &prepared[b]);
                comparisons += 1;
                if let Some(out) = scores_out.as_mut() {
                    use std::io::Write;
                    let name = |i: usize| {
                        imgs[i]
                            .path
                            .file_name()
                            .unwrap_or_default()
                            .to_string_lossy()
                    };
                    writeln!(out, "{db}\t{}\t{}\t{s:?}", name(a), name(b))?;
                }
                if imgs[a].finger == imgs[b].finger {
                    gen.push(s);
                } else {
                    imp.push(s);
                }
            }
        }
        cpu_s += cpu() - c0;
        let r = rates(&gen, &imp);
        println!(
            "{db}: EER {:.2} %  FMR100 {:.2} %  FMR1000 {:.2} %  ZeroFMR {:.2} %  (EER threshold {:.2})",
            r.eer * 100.0,
            r.fmr100 * 100.0,
            r.fmr1000 * 100.0,
            r.zero_fmr * 100.0,
            r.eer_threshold
        );
        pooled_gen.extend(gen);
        pooled_imp.extend(imp);
    }
    let t = threshold_for_fmr(&pooled_imp, 1e-4);
    let fnmr = pooled_gen.iter().filter(|&&s| s < t).count() as f64 / pooled_gen.len() as f64;
    println!(
        "pooled: FMR 1:10,000 threshold {t:.2} (FNMR {:.2} %); {:.0} comparisons/s CPU (1 thread)",
        fnmr * 100.0,
        comparisons as f64 / cpu_s.max(1e-9)
    );
    Ok(())
}
