//! LEADER extractor front end: extract one image, or evaluate LEADER and/or the
//! native extractor on FVC databases with the engine's matcher and protocol.
//!
//! This is where `eval --extractor leader|native` lives: the engine's own
//! `fingerprint` CLI cannot depend on this crate (which depends on the engine)
//! without a dependency cycle, and the engine must stay free of ONNX Runtime.

use anyhow::{Context, Result};
use clap::{Parser, Subcommand, ValueEnum};
use fingerprint::eval::{
    db_label, extract_all, list_fvc, score_db, write_det_png, DbResult, DetCurve,
};
use fingerprint::GrayImage;
use fingerprint_leader::LeaderExtractor;
use std::path::PathBuf;
use std::time::Instant;

/// LEADER neural minutiae extractor for the fingerprint engine.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    /// libonnxruntime path (default: $ORT_DYLIB_PATH, then the cache of scripts/fetch-onnxruntime.sh).
    #[arg(long, global = true)]
    runtime: Option<PathBuf>,
    /// leader_minutiae.onnx (default: $FP_LEADER_MODEL, models/, ../shared/models/).
    #[arg(long, global = true)]
    model: Option<PathBuf>,
    /// ONNX Runtime intra-op threads.
    #[arg(long, global = true, default_value_t = 2)]
    threads: usize,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Extractor {
    /// LEADER (ONNX).
    Leader,
    /// The engine's own pure-Rust extractor.
    Native,
    /// Both, side by side on the same pairs.
    Both,
}

#[derive(Subcommand)]
enum Cmd {
    /// Extract a template with LEADER.
    Extract {
        /// Input image (500 ppi).
        image: PathBuf,
        /// Write the engine's template file here.
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// Print the minutiae as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Evaluate on FVC set-B folders (all-impostor protocol, engine matcher).
    Eval {
        /// Database folder(s) of F_I.tif images.
        #[arg(long, required = true)]
        fvc: Vec<PathBuf>,
        /// Which extractor(s) to evaluate.
        #[arg(long, value_enum, default_value_t = Extractor::Leader)]
        extractor: Extractor,
        /// DET plot output (PNG).
        #[arg(long, default_value = "det-leader.png")]
        det: PathBuf,
        /// Write all scores as JSON here.
        #[arg(long)]
        scores: Option<PathBuf>,
    },
}

fn print_result(name: &str, r: &DbResult, threads: usize) {
    println!(
        "[{name}] images {}  mean minutiae {:.1}  extract {:.1} ms/image ({threads} threads, wall)  match {:.0} comparisons/s",
        r.genuine.len() / 28 * 8,
        r.mean_minutiae,
        r.extract_ms,
        r.comparisons_per_s
    );
    for line in r.rate_lines() {
        println!("[{name}] {line}");
    }
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    match cli.cmd {
        Cmd::Extract {
            image,
            output,
            json,
        } => {
            let mut leader =
                LeaderExtractor::new(cli.runtime.as_deref(), cli.model.as_deref(), cli.threads)?;
            let img = GrayImage::load(&image)?;
            let t0 = Instant::now();
            let t = leader.extract(&img)?;
            let ms = t0.elapsed().as_secs_f64() * 1000.0;
            if let Some(out) = &output {
                std::fs::write(out, t.to_bytes())
                    .with_context(|| format!("writing {}", out.display()))?;
            }
            if json {
                println!("{}", serde_json::to_string_pretty(&t)?);
            } else {
                println!("{} minutiae in {ms:.0} ms", t.minutiae.len());
            }
        }
        Cmd::Eval {
            fvc,
            extractor,
            det,
            scores,
        } => {
            let mut leader = match extractor {
                Extractor::Native => None,
                _ => Some(LeaderExtractor::new(
                    cli.runtime.as_deref(),
                    cli.model.as_deref(),
                    cli.threads,
                )?),
            };
            let mut runs: Vec<(String, &'static str, DbResult)> = Vec::new();
            for dir in &fvc {
                let images = list_fvc(dir)?;
                println!("== {}", dir.display());
                if extractor != Extractor::Leader {
                    let (templates, ms) = extract_all(&images, cli.threads)?;
                    let r = score_db(&images, &templates, ms)?;
                    print_result("native", &r, cli.threads);
                    runs.push((db_label(dir), "native", r));
                }
                if let Some(l) = leader.as_mut() {
                    let mut templates = Vec::with_capacity(images.len());
                    let loaded = images
                        .iter()
                        .map(|im| GrayImage::load(&im.path))
                        .collect::<fingerprint::Result<Vec<_>>>()?;
                    let t0 = Instant::now();
                    for img in &loaded {
                        templates.push(l.extract(img)?);
                    }
                    let ms = t0.elapsed().as_secs_f64() * 1000.0 / images.len() as f64;
                    let r = score_db(&images, &templates, ms)?;
                    print_result("leader", &r, cli.threads);
                    runs.push((db_label(dir), "leader", r));
                }
            }
            let labels: Vec<String> = fvc.iter().map(|d| db_label(d)).collect();
            let curves: Vec<DetCurve> = runs
                .iter()
                .map(|(db, name, r)| DetCurve {
                    label: format!("{db} {name}"),
                    genuine: &r.genuine,
                    impostor: &r.impostor,
                    colour: labels.iter().position(|l| l == db).unwrap_or(0),
                    dashed: *name == "leader" && extractor == Extractor::Both,
                })
                .collect();
            let title = match extractor {
                Extractor::Both => "DET: native (solid) vs LEADER (dashed), same matcher",
                Extractor::Leader => "DET: LEADER extractor, engine matcher",
                Extractor::Native => "DET: native extractor",
            };
            write_det_png(&det, title, &curves)?;
            println!("DET plot written to {}", det.display());
            if let Some(p) = scores {
                let json: Vec<_> = runs
                    .iter()
                    .map(|(db, name, r)| serde_json::json!({"db": db, "extractor": name, "result": r}))
                    .collect();
                std::fs::write(&p, serde_json::to_string(&json)?)?;
            }
        }
    }
    Ok(())
}
