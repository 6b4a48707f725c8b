//! Command-line front end: extract, match, quality and FVC evaluation.

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use fingerprint::eval::{db_label, evaluate_db, write_det_png, DetCurve};
use fingerprint::{extract, match_score, GrayImage, MatchTemplate, Template};
use std::path::{Path, PathBuf};

/// Pure-Rust fingerprint engine.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Extract a template from an image.
    Extract {
        /// Input image (TIFF, PNG, JPEG, BMP).
        image: PathBuf,
        /// Output template file.
        #[arg(short, long)]
        output: PathBuf,
        /// Also print the minutiae as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Compare two images or templates and print the score.
    Match {
        /// First image or template.
        a: PathBuf,
        /// Second image or template.
        b: PathBuf,
    },
    /// Print image quality as JSON.
    Quality {
        /// Input image.
        image: PathBuf,
    },
    /// Evaluate on an FVC database folder (F_I.tif).
    Eval {
        /// Database folder(s).
        #[arg(long, required = true)]
        fvc: Vec<PathBuf>,
        /// DET plot output (PNG).
        #[arg(long, default_value = "det.png")]
        det: PathBuf,
        /// Threads for extraction.
        #[arg(long, default_value_t = 2)]
        threads: usize,
        /// Write all scores as JSON here.
        #[arg(long)]
        scores: Option<PathBuf>,
    },
}

/// Loads a template file, or extracts one when the file is an image.
fn load_any(path: &Path) -> Result<Template> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    if bytes.starts_with(b"FPT") {
        return Ok(Template::from_bytes(&bytes)?);
    }
    let img = GrayImage::load(path)?;
    Ok(extract(&img)?)
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    match cli.cmd {
        Cmd::Extract {
            image,
            output,
            json,
        } => {
            let img = GrayImage::load(&image)?;
            let t = extract(&img)?;
            std::fs::write(&output, t.to_bytes())
                .with_context(|| format!("writing {}", output.display()))?;
            if json {
                println!("{}", serde_json::to_string_pretty(&t)?);
            } else {
                println!("{} minutiae -> {}", t.minutiae.len(), output.display());
            }
        }
        Cmd::Match { a, b } => {
            let ta = MatchTemplate::new(&load_any(&a)?);
            let tb = MatchTemplate::new(&load_any(&b)?);
            println!("{:.2}", match_score(&ta, &tb));
        }
        Cmd::Quality { image } => {
            let img = GrayImage::load(&image)?;
            let q = fingerprint::quality::assess(&img)?;
            println!("{}", serde_json::to_string_pretty(&q)?);
        }
        Cmd::Eval {
            fvc,
            det,
            threads,
            scores,
        } => {
            let mut results = Vec::new();
            for dir in &fvc {
                let r = evaluate_db(dir, threads)?;
                println!("== {}", dir.display());
                println!(
                    "images {}  genuine {}  impostors {}  mean minutiae {:.1}  extract {:.1} ms/image  match {:.0} comparisons/s (1 thread)",
                    r.genuine.len() / 28 * 8,
                    r.genuine.len(),
                    r.impostor.len(),
                    r.mean_minutiae,
                    r.extract_ms,
                    r.comparisons_per_s
                );
                for line in r.rate_lines() {
                    println!("{line}");
                }
                results.push(r);
            }
            let curves: Vec<DetCurve> = results
                .iter()
                .zip(&fvc)
                .enumerate()
                .map(|(i, (r, dir))| DetCurve {
                    label: db_label(dir),
                    genuine: &r.genuine,
                    impostor: &r.impostor,
                    colour: i,
                    dashed: false,
                })
                .collect();
            write_det_png(
                &det,
                "DET, all-impostor protocol (native extractor)",
                &curves,
            )?;
            println!("DET plot written to {}", det.display());
            if results.len() > 1 {
                let imp: Vec<f32> = results
                    .iter()
                    .flat_map(|r| r.impostor.iter().copied())
                    .collect();
                let gen: Vec<f32> = results
                    .iter()
                    .flat_map(|r| r.genuine.iter().copied())
                    .collect();
                let t = fingerprint::eval::threshold_for_fmr(&imp, 1e-4);
                let fnmr = gen.iter().filter(|&&s| s < t).count() as f64 / gen.len() as f64;
                println!(
                    "pooled: {} impostors, threshold for FMR 1:10,000 = {:.2} (FNMR there {:.2}%)",
                    imp.len(),
                    t,
                    fnmr * 100.0
                );
            }
            if let Some(p) = scores {
                std::fs::write(&p, serde_json::to_string(&results)?)?;
            }
        }
    }
    Ok(())
}
