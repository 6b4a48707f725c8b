//! `face`: command-line front end of the face pipeline, for operators, scripts and the station CLI.
//!
//! Every command prints JSON on stdout; errors go to stderr with exit status 2 and say what to do
//! (e.g. run scripts/fetch-onnxruntime.sh when the runtime is missing).

use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand, ValueEnum};
use face::liveness::{Challenge, LivenessSession};
use face::{AutoCapture, DetectorKind, Embedder, FaceConfig, FaceError, FacePipeline};

#[derive(Parser)]
#[command(name = "face", version, about = "Face capture pipeline: analyze, autocapture, liveness, verify")]
struct Cli {
    /// TOML configuration (see face::config); command-line options override it.
    #[arg(long, global = true, env = "FACE_CONFIG")]
    config: Option<PathBuf>,
    /// libonnxruntime path (default: $ORT_DYLIB_PATH, then the cache of scripts/fetch-onnxruntime.sh).
    #[arg(long, global = true, env = "ORT_DYLIB_PATH")]
    runtime: Option<PathBuf>,
    /// Folder with the ONNX models (default: $FACE_MODELS_DIR, then ./models or the repository's models/).
    #[arg(long, global = true, env = "FACE_MODELS_DIR")]
    models_dir: Option<PathBuf>,
    /// Face detector (default: from the config, else front128).
    #[arg(long, global = true, value_enum)]
    detector: Option<Det>,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Clone, Copy, ValueEnum)]
enum Det {
    Front128,
    FullRange192,
}

#[derive(Clone, Copy, ValueEnum)]
enum Step {
    Blink,
    TurnLeft,
    TurnRight,
}

#[derive(Subcommand)]
enum Cmd {
    /// Analyse one image: faces, pose, eyes, size, blur, exposure and feedback codes.
    Analyze {
        /// Image file (PNG, JPEG, TIFF, BMP).
        image: PathBuf,
        /// Include the 468 mesh points and the 71 eye-contour points per eye in the output.
        #[arg(long)]
        landmarks: bool,
    },
    /// Run autocapture over a folder of frames (sorted by name); writes the ISO crop when it fires.
    Autocapture {
        /// Folder of frames.
        dir: PathBuf,
        /// Consecutive compliant frames needed (default: from the config, else 5).
        #[arg(long)]
        min_frames: Option<usize>,
        /// Where to write the ISO/IEC 19794-5 crop (PNG).
        #[arg(long, default_value = "enrolled.png")]
        out: PathBuf,
    },
    /// Active + passive liveness over a folder of frames (sorted by name).
    Liveness {
        /// Folder of frames.
        dir: PathBuf,
        /// The challenge order that was prompted while recording.
        #[arg(long, value_enum, value_delimiter = ',', default_values_t = [Step::Blink, Step::TurnLeft, Step::TurnRight])]
        order: Vec<Step>,
        /// Frame rate of the recording (timestamps = index / fps).
        #[arg(long, default_value_t = 15.0)]
        fps: f32,
    },
    /// 1:1 verification of the main faces in two images.
    Verify {
        /// First image.
        a: PathBuf,
        /// Second image.
        b: PathBuf,
        /// Distance threshold (default: the calibrated one).
        #[arg(long)]
        threshold: Option<f32>,
    },
}

fn frames_in(dir: &Path) -> Result<Vec<PathBuf>, FaceError> {
    let rd = std::fs::read_dir(dir).map_err(|source| FaceError::Io { path: dir.to_path_buf(), source })?;
    let mut v: Vec<PathBuf> = rd
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| matches!(e.to_ascii_lowercase().as_str(), "png" | "jpg" | "jpeg" | "bmp" | "tif" | "tiff"))
        })
        .collect();
    v.sort();
    if v.is_empty() {
        return Err(FaceError::Config(format!("no image frames (png/jpg/bmp/tiff) in {}", dir.display())));
    }
    Ok(v)
}

fn run(cli: Cli) -> Result<serde_json::Value, FaceError> {
    let mut cfg = match &cli.config {
        Some(p) => FaceConfig::load(p)?,
        None => FaceConfig::default(),
    };
    if let Some(r) = &cli.runtime {
        cfg.pipeline.runtime_library = Some(r.clone());
        cfg.embedder.runtime_library = Some(r.clone());
    }
    if let Some(m) = &cli.models_dir {
        cfg.pipeline.models_dir = Some(m.clone());
        cfg.embedder.models_dir = Some(m.clone());
    }
    if let Some(d) = cli.detector {
        cfg.pipeline.detector = match d {
            Det::Front128 => DetectorKind::Front128,
            Det::FullRange192 => DetectorKind::FullRange192,
        };
    }
    let pcfg = cfg.pipeline.clone();
    match cli.cmd {
        Cmd::Analyze { image, landmarks } => {
            let img = face::imaging::load(&image)?;
            let mut p = FacePipeline::new(&pcfg)?;
            let mut r = p.analyze_with_eyes(&img)?;
            if !landmarks {
                if let Some(f) = r.face.as_mut() {
                    f.mesh.points.clear();
                    for eye in f.eyes.iter_mut().flatten() {
                        eye.contour.clear();
                    }
                }
            }
            Ok(json(&r))
        }
        Cmd::Autocapture { dir, min_frames, out } => {
            let mut p = FacePipeline::new(&pcfg)?;
            let mut acfg = cfg.autocapture.clone();
            if let Some(n) = min_frames {
                acfg.min_consecutive = n.max(1);
            }
            let mut ac = AutoCapture::new(acfg);
            let mut results = Vec::new();
            for (i, f) in frames_in(&dir)?.iter().enumerate() {
                let img = face::imaging::load(f)?;
                if i > 0 && ac.result().is_some() {
                    break;
                }
                let a = p.analyze_with_eyes(&img)?;
                results.push(ac.feed(&img, &a)?);
            }
            let captured = ac.result().map(|c| {
                std::fs::write(&out, &c.iso.png).map_err(|source| FaceError::Io { path: out.clone(), source })?;
                Ok::<_, FaceError>(serde_json::json!({
                    "frame_index": c.frame_index, "iso": c.iso, "written_to": out,
                    "quality": c.analysis.face.as_ref().map(|f| f.quality)
                }))
            });
            let captured = match captured {
                Some(r) => Some(r?),
                None => None,
            };
            Ok(serde_json::json!({ "frameResults": results, "captured": captured.is_some(), "capture": captured }))
        }
        Cmd::Liveness { dir, order, fps } => {
            let mut p = FacePipeline::new(&pcfg)?;
            let order = order
                .into_iter()
                .map(|s| match s {
                    Step::Blink => Challenge::Blink,
                    Step::TurnLeft => Challenge::TurnLeft,
                    Step::TurnRight => Challenge::TurnRight,
                })
                .collect();
            let mut s = LivenessSession::with_order(cfg.liveness.clone(), order);
            let dt = 1000.0 / fps.max(0.1);
            for (i, f) in frames_in(&dir)?.iter().enumerate() {
                let img = face::imaging::load(f)?;
                let a = p.analyze_with_eyes(&img)?;
                s.feed(&a, (i as f32 * dt) as u64);
            }
            Ok(json(&serde_json::json!({ "liveness_result": s.finish() })))
        }
        Cmd::Verify { a, b, threshold } => {
            let mut p = FacePipeline::new(&pcfg)?;
            let mut ecfg = cfg.embedder.clone();
            if let Some(t) = threshold {
                ecfg.threshold = t;
            }
            let mut e = Embedder::new(ecfg)?;
            let mut emb = Vec::new();
            for path in [&a, &b] {
                let img = face::imaging::load(path)?;
                let r = p.analyze(&img)?;
                let face = r.face.ok_or_else(|| FaceError::NoFace(path.display().to_string()))?;
                emb.push(e.embed(&img, &face)?);
            }
            Ok(json(&e.verify(&emb[0], &emb[1])?))
        }
    }
}

/// Serialises a result for printing.
fn json<T: serde::Serialize>(v: &T) -> serde_json::Value {
    serde_json::to_value(v).unwrap_or(serde_json::Value::Null)
}

fn main() {
    let cli = Cli::parse();
    match run(cli) {
        Ok(v) => println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default()),
        Err(e) => {
            eprintln!("face: {e}");
            std::process::exit(2);
        }
    }
}
