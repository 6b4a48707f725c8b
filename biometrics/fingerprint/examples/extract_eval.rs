//! Extractor evaluation: extracts the four shared FVC set-B databases afresh
//! with the current extractor, scores all pairs with the current matcher and
//! prints, per database, EER / FMR100 / FMR1000, the mean minutiae count and
//! the extraction CPU time per image, then the sum of the four EERs and the
//! pooled FMR 1:10,000 threshold (lowest threshold with at most one of the
//! pooled impostors accepted) and what the matcher's shipped
//! `FMR_1_IN_10000_THRESHOLD` gives on these scores.
//!
//! Exists so that extractor changes are judged on all four databases at once
//! (one number must not improve at the others' expense). Optional arguments:
//! `--save DIR` writes the templates in the layout `match_eval` reads, so a
//! later matcher can re-score exactly these templates; `--worst N` lists the N
//! lowest-scoring genuine pairs per database with their minutiae counts, the
//! starting point for looking at why genuine pairs fail.
//!
//!     cargo run --release --example extract_eval -- [--save DIR] [--worst N]
use fingerprint::eval::{list_fvc, rates, threshold_for_fmr, FvcImage};
use fingerprint::{extract, GrayImage, MatchTemplate, Matcher, Template};
use std::path::PathBuf;

/// Thread CPU time (user + system) in seconds, from /proc (Linux); 0 elsewhere.
fn thread_cpu() -> f64 {
    let s = std::fs::read_to_string("/proc/thread-self/stat").unwrap_or_default();
    let rest = s.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let t = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (t(11) + t(12)) / 100.0
}

/// Extracts every image on two threads; returns the templates and the summed
/// thread CPU seconds spent in extraction (decode excluded).
fn extract_db(images: &[FvcImage]) -> Result<(Vec<Template>, f64), Box<dyn std::error::Error>> {
    let loaded: Vec<GrayImage> = images
        .iter()
        .map(|im| GrayImage::load(&im.path))
        .collect::<Result<_, _>>()?;
    let half = loaded.len().div_ceil(2);
    let run = |imgs: &[GrayImage]| {
        let c0 = thread_cpu();
        let ts: Vec<Template> = imgs
            .iter()
            .map(|img| {
                extract(img).unwrap_or(Template {
                    width: img.width() as u16,
                    height: img.height() as u16,
                    dpi: 500,
                    minutiae: Vec::new(),
                })
            })
            .collect();
        (ts, thread_cpu() - c0)
    };
    let ((mut a, ca), (b, cb)) = std::thread::scope(|s| {
        let h = s.spawn(|| run(&loaded[half..]));
        let first = run(&loaded[..half]);
        (first, h.join().expect("extraction thread panicked"))
    });
    a.extend(b);
    Ok((a, ca + cb))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let opt = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1).cloned())
    };
    let save = opt("--save").map(PathBuf::from);
    let worst: usize = opt("--worst").and_then(|v| v.parse().ok()).unwrap_or(0);
    let base = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/fingerprint"
    ));
    let (mut pooled_gen, mut pooled_imp) = (Vec::new(), Vec::new());
    let (mut eer_sum, mut cpu_total, mut images_total) = (0.0, 0.0, 0usize);
    for db in [
        "fvc2002/DB1_B",
        "fvc2002/DB2_B",
        "fvc2004/DB1_B",
        "fvc2004/DB2_B",
    ] {
        let imgs = list_fvc(&base.join(db))?;
        let (templates, cpu_s) = extract_db(&imgs)?;
        cpu_total += cpu_s;
        images_total += imgs.len();
        if let Some(dir) = &save {
            let dir = dir.join(db.replace('/', "-"));
            std::fs::create_dir_all(&dir)?;
            for (im, t) in imgs.iter().zip(&templates) {
                let name = im.path.file_name().unwrap_or_default().to_string_lossy();
                std::fs::write(dir.join(format!("{name}.fpt")), t.to_bytes())?;
            }
        }
        let prepared: Vec<MatchTemplate> = templates.iter().map(MatchTemplate::new).collect();
        let mut m = Matcher::default();
        let (mut gen, mut imp, mut gen_pairs) = (Vec::new(), Vec::new(), Vec::new());
        for a in 0..imgs.len() {
            for b in a + 1..imgs.len() {
                let s = m.score(&prepared[a], &prepared[b]);
                if imgs[a].finger == imgs[b].finger {
                    gen.push(s);
                    gen_pairs.push((s, a, b));
                } else {
                    imp.push(s);
                }
            }
        }
        let r = rates(&gen, &imp);
        let mean_min = templates.iter().map(|t| t.minutiae.len()).sum::<usize>() as f64
            / templates.len() as f64;
        println!(
            "{db}: EER {:.2} %  FMR100 {:.2} %  FMR1000 {:.2} %  minutiae {:.1}  extract {:.1} ms CPU/image  (EER thr {:.2})",
            r.eer * 100.0,
            r.fmr100 * 100.0,
            r.fmr1000 * 100.0,
            mean_min,
            cpu_s * 1000.0 / imgs.len() as f64,
            r.eer_threshold
        );
        eer_sum += r.eer * 100.0;
        if worst > 0 {
            gen_pairs.sort_by(|x, y| x.0.total_cmp(&y.0));
            for &(s, a, b) in gen_pairs.iter().take(worst) {
                println!(
                    "    genuine {}_{} ({} min) vs {}_{} ({} min): {:.2}",
                    imgs[a].finger,
                    imgs[a].impression,
                    templates[a].minutiae.len(),
                    imgs[b].finger,
                    imgs[b].impression,
                    templates[b].minutiae.len(),
                    s
                );
            }
        }
        pooled_gen.extend(gen);
        pooled_imp.extend(imp);
    }
    let t = threshold_for_fmr(&pooled_imp, 1e-4);
    let fnmr = pooled_gen.iter().filter(|&&s| s < t).count() as f64 / pooled_gen.len() as f64;
    println!(
        "sum of EERs {eer_sum:.2} %; pooled FMR 1:10,000 threshold {t:.2} (FNMR {:.2} %); extraction {:.1} ms CPU/image overall",
        fnmr * 100.0,
        cpu_total * 1000.0 / images_total as f64
    );
    let shipped = fingerprint::matcher::FMR_1_IN_10000_THRESHOLD;
    let fmr_at = pooled_imp.iter().filter(|&&s| s >= shipped).count();
    let fnmr_at =
        pooled_gen.iter().filter(|&&s| s < shipped).count() as f64 / pooled_gen.len() as f64;
    println!(
        "at the shipped FMR_1_IN_10000_THRESHOLD {shipped:.2}: {fmr_at} of {} impostors accepted, FNMR {:.2} %",
        pooled_imp.len(),
        fnmr_at * 100.0
    );
    Ok(())
}
