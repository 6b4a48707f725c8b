//! NBIS reference in the same run as our engine.
//!
//! For each FVC set-B folder: both engines extract every image from the same
//! in-memory file bytes (decode included for both, one thread), then both score
//! exactly the same pairs — all 280 same-finger pairs and all 2,880
//! different-finger pairs (all-impostor protocol), one comparison per unordered
//! pair with the lower file index as probe. Error rates come from the same code
//! (`fingerprint::eval::rates`) for both, so the figures differ only by engine.
//!
//! NBIS = mindtct (LFS v2) + bozorth3, C code from NIST compiled by the
//! `nbis-rs` crate. Images are passed at 500 ppi to both engines, as our
//! engine assumes; FVC2002 DB2 is really 569 ppi.
//!
//! NBIS is reported twice. nbis-rs 0.1.0 hands bozorth3 the minutiae sorted by
//! reliability, but bozorth3's edge table (`bz_comp`) stops scanning a row at
//! the first neighbour more than DM px to the right (`if (dx > DM) break;`), which
//! is only correct for minutiae sorted by x, as NBIS's own loader (`bz_load`:
//! best 150 by quality, then `sort_x_y`) delivers them. So:
//! - "NBIS nbis-rs": the crate's API as it is;
//! - "NBIS x-sorted": the same mindtct minutiae fed the way the `bozorth3`
//!   program feeds them, through the crate's public ISO 19794-2 loader with all
//!   qualities equal (the crate's stable reliability sort then keeps our order).

use anyhow::{Context, Result};
use clap::Parser;
use fingerprint::eval::{db_label, list_fvc, rates, write_det_png, DetCurve, FvcImage, Rates};
use fingerprint::{extract, GrayImage, MatchTemplate, Matcher, Template};
use std::path::PathBuf;
use std::time::Instant;

/// Compares NBIS mindtct+bozorth3 with the fingerprint crate on FVC databases.
#[derive(Parser)]
#[command(about)]
struct Cli {
    /// FVC set-B folder(s) of `F_I.tif` images.
    #[arg(long, required = true)]
    fvc: Vec<PathBuf>,
    /// DET plot with both engines (ours solid, NBIS dashed).
    #[arg(long, default_value = "nbis-reference-det.png")]
    det: PathBuf,
    /// Write all scores of both engines as JSON here.
    #[arg(long)]
    scores: Option<PathBuf>,
}

/// Wall and CPU time of this thread, so that figures from a shared, loaded
/// machine can be read as one-core costs.
#[derive(Clone, Copy)]
struct Clock {
    wall: Instant,
    cpu: f64,
}

fn thread_cpu_s() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec through a valid pointer.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    if rc != 0 {
        return f64::NAN;
    }
    ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
}

impl Clock {
    fn start() -> Self {
        Clock {
            wall: Instant::now(),
            cpu: thread_cpu_s(),
        }
    }
    /// (wall seconds, CPU seconds) since start.
    fn stop(self) -> (f64, f64) {
        (self.wall.elapsed().as_secs_f64(), thread_cpu_s() - self.cpu)
    }
}

/// One engine's results on one database.
#[derive(serde::Serialize)]
struct EngineRun {
    genuine: Vec<f32>,
    impostor: Vec<f32>,
    impostor_first: Vec<f32>,
    all: Rates,
    fvc_eer: f64,
    /// Extraction per image incl. decode: (wall ms, CPU ms).
    extract_ms: (f64, f64),
    /// Comparisons per second: (wall, CPU).
    comparisons_per_s: (f64, f64),
    mean_minutiae: f64,
    failed_extractions: usize,
}

#[derive(serde::Serialize)]
struct DbRun {
    db: String,
    images: usize,
    ours: EngineRun,
    /// nbis-rs as published (bozorth3 input in reliability order).
    nbis_crate: EngineRun,
    /// Same minutiae, bozorth3 input as its own loader prepares it.
    nbis: EngineRun,
    /// Templates cut to 127 minutiae by the crate's ISO loader (its count is an i8).
    nbis_truncated: usize,
}

/// bozorth3's default minutiae limit (`DEFAULT_BOZORTH_MINUTIAE`).
const BOZORTH_MAX: usize = 150;
/// nbis-rs's ISO loader reads the minutiae count as an `i8`.
const ISO_LOADER_MAX: usize = 127;

/// Re-packs mindtct minutiae the way NBIS's `bz_load` does (best 150 by quality,
/// then ascending x, then ascending y in NIST coordinates, y up) and loads them
/// back through the crate's ISO 19794-2 reader with equal qualities, so that
/// `Minutiae::compare` passes them to bozorth3 in that order. Returns whether
/// the set had to be cut to the loader's 127.
fn bozorth_ready(m: &nbis::Minutiae, width: u32, height: u32) -> Result<(nbis::Minutiae, bool)> {
    let mut v = m.get();
    v.sort_by(|a, b| b.reliability().total_cmp(&a.reliability()));
    v.truncate(BOZORTH_MAX);
    let truncated = v.len() > ISO_LOADER_MAX;
    v.truncate(ISO_LOADER_MAX);
    let nist_y = |p: &nbis::Minutia| height as i32 - p.y();
    v.sort_by_key(|p| (p.x(), nist_y(p)));
    let total = 28 + 6 * v.len() + 2;
    let mut iso = Vec::with_capacity(total);
    iso.extend_from_slice(b"FMR\0 20\0");
    iso.extend_from_slice(&(total as u32).to_be_bytes());
    iso.extend_from_slice(&[0, 0]);
    iso.extend_from_slice(&(width as u16).to_be_bytes());
    iso.extend_from_slice(&(height as u16).to_be_bytes());
    iso.extend_from_slice(&[0x00, 0xC5, 0x00, 0xC5, 0x01, 0x00, 0x00, 0x00, 0x64]);
    iso.push(v.len() as u8);
    for p in &v {
        let kind: u8 = match p.kind() {
            nbis::MinutiaKind::Bifurcation => 2,
            nbis::MinutiaKind::RidgeEnding => 1,
        };
        let (x, y) = (p.x() as u16, p.y() as u16);
        // angle() is 90° − direction·11.25°; ISO units are 1.40625° (exactly 1/8
        // of an NBIS unit), so the round trip keeps the direction exactly.
        let iso_angle = ((p.angle() / (360.0 / 256.0)).round() as i64 & 0xFF) as u8;
        iso.extend_from_slice(&[
            (x >> 8) as u8 | (kind << 6),
            x as u8,
            (y >> 8) as u8,
            y as u8,
            iso_angle,
            63,
        ]);
    }
    iso.extend_from_slice(&[0, 0]);
    Ok((nbis::load_iso_19794_2_2005(&iso)?, truncated))
}

fn decode(bytes: &[u8]) -> Result<GrayImage> {
    let luma = image::load_from_memory(bytes)?.to_luma8();
    let (w, h) = luma.dimensions();
    Ok(GrayImage::new(w, h, luma.into_raw())?)
}

/// Scores every unordered pair (a < b) with `score`, splitting genuine,
/// impostor and first-impression impostor scores; returns them with the timing.
fn score_pairs(
    images: &[FvcImage],
    mut score: impl FnMut(usize, usize) -> f32,
) -> (Vec<f32>, Vec<f32>, Vec<f32>, (f64, f64)) {
    let (mut gen, mut imp, mut first) = (Vec::new(), Vec::new(), Vec::new());
    let mut n = 0usize;
    let clock = Clock::start();
    for a in 0..images.len() {
        for b in a + 1..images.len() {
            let s = score(a, b);
            n += 1;
            if images[a].finger == images[b].finger {
                gen.push(s);
            } else {
                imp.push(s);
                if images[a].impression == 1 && images[b].impression == 1 {
                    first.push(s);
                }
            }
        }
    }
    let (wall, cpu) = clock.stop();
    let cps = (n as f64 / wall.max(1e-9), n as f64 / cpu.max(1e-9));
    (gen, imp, first, cps)
}

fn finish(
    (genuine, impostor, impostor_first, comparisons_per_s): (
        Vec<f32>,
        Vec<f32>,
        Vec<f32>,
        (f64, f64),
    ),
    extract_ms: (f64, f64),
    mean_minutiae: f64,
    failed_extractions: usize,
) -> EngineRun {
    let all = rates(&genuine, &impostor);
    let fvc_eer = rates(&genuine, &impostor_first).eer;
    EngineRun {
        genuine,
        impostor,
        impostor_first,
        all,
        fvc_eer,
        extract_ms,
        comparisons_per_s,
        mean_minutiae,
        failed_extractions,
    }
}

fn run_db(dir: &PathBuf) -> Result<DbRun> {
    let images = list_fvc(dir)?;
    let files: Vec<Vec<u8>> = images
        .iter()
        .map(|im| std::fs::read(&im.path).with_context(|| im.path.display().to_string()))
        .collect::<Result<_>>()?;
    let n = images.len() as f64;

    // Ours: decode + extract; a failure gives an empty template (scores 0), as in
    // `fingerprint eval`.
    let mut ours = Vec::with_capacity(files.len());
    let mut ours_failed = 0;
    let clock = Clock::start();
    for bytes in &files {
        let img = decode(bytes)?;
        ours.push(extract(&img).unwrap_or_else(|_| {
            ours_failed += 1;
            Template {
                width: img.width() as u16,
                height: img.height() as u16,
                dpi: 500,
                minutiae: Vec::new(),
            }
        }));
    }
    let (w, c) = clock.stop();
    let ours_extract = (w * 1000.0 / n, c * 1000.0 / n);

    // NBIS: the crate decodes with the `image` crate too, then runs mindtct.
    let mut nbis = Vec::with_capacity(files.len());
    let clock = Clock::start();
    for bytes in &files {
        nbis.push(nbis::extract_minutiae(bytes, Some(500.0)).ok());
    }
    let (w, c) = clock.stop();
    let nbis_extract = (w * 1000.0 / n, c * 1000.0 / n);
    let nbis_failed = nbis.iter().filter(|m| m.is_none()).count();

    let mut nbis_truncated = 0;
    let mut nbis_sorted = Vec::with_capacity(nbis.len());
    for (m, t) in nbis.iter().zip(&ours) {
        nbis_sorted.push(match m {
            Some(m) => {
                let (fixed, cut) = bozorth_ready(m, t.width as u32, t.height as u32)?;
                nbis_truncated += cut as usize;
                Some(fixed)
            }
            None => None,
        });
    }

    let prepared: Vec<MatchTemplate> = ours.iter().map(MatchTemplate::new).collect();
    let mut matcher = Matcher::default();
    let ours_scores = score_pairs(&images, |a, b| matcher.score(&prepared[a], &prepared[b]));
    // bozorth3 through the crate's public API (it converts both sets to NIST
    // x,y,t per call; that conversion is part of the measured cost).
    let nbis_crate_scores = score_pairs(&images, |a, b| match (&nbis[a], &nbis[b]) {
        (Some(p), Some(g)) => p.compare(g) as f32,
        _ => 0.0,
    });
    let nbis_scores = score_pairs(&images, |a, b| match (&nbis_sorted[a], &nbis_sorted[b]) {
        (Some(p), Some(g)) => p.compare(g) as f32,
        _ => 0.0,
    });

    let ours_mean = ours.iter().map(|t| t.minutiae.len()).sum::<usize>() as f64 / n;
    let nbis_mean = nbis
        .iter()
        .map(|m| m.as_ref().map_or(0, |m| m.get().len()))
        .sum::<usize>() as f64
        / n;
    Ok(DbRun {
        db: db_label(dir),
        images: images.len(),
        ours: finish(ours_scores, ours_extract, ours_mean, ours_failed),
        nbis_crate: finish(nbis_crate_scores, nbis_extract, nbis_mean, nbis_failed),
        nbis: finish(nbis_scores, nbis_extract, nbis_mean, nbis_failed),
        nbis_truncated,
    })
}

fn pct(v: f64) -> String {
    format!("{:.2}%", v * 100.0)
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    let mut runs = Vec::new();
    for dir in &cli.fvc {
        let r = run_db(dir)?;
        println!(
            "== {}: {} images, {} genuine + {} impostor pairs (all-impostor protocol)",
            r.db,
            r.images,
            r.ours.genuine.len(),
            r.ours.impostor.len()
        );
        println!(
            "{:<16} {:>7} {:>7} {:>8} {:>9} {:>22} {:>20} {:>9}",
            "engine",
            "EER",
            "FMR100",
            "FMR1000",
            "FVC45 EER",
            "extract ms wall / CPU",
            "cmp/s wall / CPU",
            "minutiae"
        );
        for (name, e) in [
            ("ours", &r.ours),
            ("NBIS x-sorted", &r.nbis),
            ("NBIS nbis-rs", &r.nbis_crate),
        ] {
            println!(
                "{:<16} {:>7} {:>7} {:>8} {:>9} {:>11.1} / {:<8.1} {:>9.0} / {:<8.0} {:>9.1}",
                name,
                pct(e.all.eer),
                pct(e.all.fmr100),
                pct(e.all.fmr1000),
                pct(e.fvc_eer),
                e.extract_ms.0,
                e.extract_ms.1,
                e.comparisons_per_s.0,
                e.comparisons_per_s.1,
                e.mean_minutiae
            );
        }
        if r.ours.failed_extractions + r.nbis.failed_extractions + r.nbis_truncated > 0 {
            println!(
                "  failed extractions (scored 0): ours {}, NBIS {}; NBIS sets cut to {ISO_LOADER_MAX}: {}",
                r.ours.failed_extractions, r.nbis.failed_extractions, r.nbis_truncated
            );
        }
        runs.push(r);
    }
    let mut curves = Vec::new();
    for (i, r) in runs.iter().enumerate() {
        curves.push(DetCurve {
            label: format!("{} ours", r.db),
            genuine: &r.ours.genuine,
            impostor: &r.ours.impostor,
            colour: i,
            dashed: false,
        });
        curves.push(DetCurve {
            label: format!("{} NBIS", r.db),
            genuine: &r.nbis.genuine,
            impostor: &r.nbis.impostor,
            colour: i,
            dashed: true,
        });
    }
    write_det_png(
        &cli.det,
        "DET: ours (solid) vs NBIS mindtct+bozorth3 (dashed)",
        &curves,
    )?;
    println!("DET plot written to {}", cli.det.display());
    if let Some(p) = cli.scores {
        std::fs::write(&p, serde_json::to_string(&runs)?)?;
    }
    Ok(())
}
