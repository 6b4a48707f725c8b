//! Locating and loading ONNX Runtime and the pinned model files.
//!
//! ONNX Runtime is loaded at run time (`ort`'s `load-dynamic`), so a station without the library still
//! starts and can tell the operator what to do instead of crashing. We always go through
//! [`ort::init_from`], which returns an error, and never `ort::init()`, which panics when the library
//! is missing. Model files are verified against pinned sha256 digests before ONNX Runtime sees them,
//! so a swapped or truncated file is refused with a clear message rather than producing wrong faces.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use ort::session::Session;
use sha2::{Digest, Sha256};

use crate::error::{FaceError, Result};

/// Environment variable that names the ONNX Runtime shared library (same name `ort` itself uses).
pub const ORT_DYLIB_ENV: &str = "ORT_DYLIB_PATH";
/// Environment variable that overrides where the model files are looked up.
pub const MODELS_DIR_ENV: &str = "FACE_MODELS_DIR";
/// File name that `scripts/fetch-onnxruntime.sh` leaves in the cache.
pub const DEFAULT_ORT_FILE: &str = "libonnxruntime.so.1.31.1";

/// The default cache folder of `scripts/fetch-onnxruntime.sh`:
/// `${STATION_CACHE:-$HOME/.cache/capture-station}/ort`. Tests and the CLI look there when
/// `ORT_DYLIB_PATH` is unset, so a developer who ran the script once needs no further setup.
pub fn default_runtime_dir() -> Option<PathBuf> {
    if let Some(c) = std::env::var_os("STATION_CACHE") {
        return Some(PathBuf::from(c).join("ort"));
    }
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/capture-station/ort"))
}

/// Decides which ONNX Runtime library to load: an explicit path (from configuration) wins, then
/// `ORT_DYLIB_PATH`, then the fetch script's default cache. Returns a [`FaceError::RuntimeNotFound`]
/// naming every place tried when none exists.
pub fn locate_runtime(explicit: Option<&Path>) -> Result<PathBuf> {
    let mut tried = Vec::new();
    if let Some(p) = explicit {
        // An explicitly configured library must exist: silently falling back to another one would
        // hide a configuration mistake.
        if p.is_file() {
            return Ok(p.to_path_buf());
        }
        return Err(FaceError::RuntimeNotFound { detail: format!("configured path {} does not exist", p.display()) });
    }
    if let Some(p) = std::env::var_os(ORT_DYLIB_ENV).filter(|v| !v.is_empty()) {
        let p = PathBuf::from(p);
        if p.is_file() {
            return Ok(p);
        }
        tried.push(format!("{ORT_DYLIB_ENV}={}", p.display()));
    } else {
        tried.push(format!("{ORT_DYLIB_ENV} unset"));
    }
    if let Some(dir) = default_runtime_dir() {
        let p = dir.join(DEFAULT_ORT_FILE);
        if p.is_file() {
            return Ok(p);
        }
        tried.push(format!("default cache {}", p.display()));
    }
    Err(FaceError::RuntimeNotFound { detail: format!("tried {}", tried.join(", ")) })
}

static ENVIRONMENT: OnceLock<(ort::environment::Environment, PathBuf)> = OnceLock::new();
static INIT_LOCK: Mutex<()> = Mutex::new(());

/// Loads ONNX Runtime once per process and returns its environment.
///
/// ONNX Runtime allows one environment per process, so the first successful call wins; later calls
/// with another path reuse the already loaded library (the path actually loaded is returned with it).
/// A missing file is always reported, even after a successful load, so configuration mistakes show up.
pub fn environment(explicit: Option<&Path>) -> Result<&'static (ort::environment::Environment, PathBuf)> {
    let path = locate_runtime(explicit)?;
    if let Some(env) = ENVIRONMENT.get() {
        return Ok(env);
    }
    let _guard = INIT_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(env) = ENVIRONMENT.get() {
        return Ok(env);
    }
    let builder = ort::init_from(&path)
        .map_err(|e| FaceError::RuntimeLoad { path: path.clone(), reason: e.to_string() })?;
    let env = builder
        .with_name("face")
        .with_telemetry(false)
        .build()
        .map_err(|e| FaceError::RuntimeLoad { path: path.clone(), reason: e.to_string() })?;
    Ok(ENVIRONMENT.get_or_init(|| (env, path)))
}

/// One model file with the digest it must have.
///
/// Keeping the digest next to the path is what makes a model swappable by configuration without
/// giving up integrity: a different model is accepted only together with its own digest.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ModelFile {
    /// Path of the `.onnx` file; relative paths are resolved against the models folder.
    pub path: PathBuf,
    /// Lower-case hex sha256 of the file.
    pub sha256: String,
}

impl ModelFile {
    /// Convenience constructor used for the built-in defaults.
    pub fn new(path: impl Into<PathBuf>, sha256: &str) -> Self {
        Self { path: path.into(), sha256: sha256.to_ascii_lowercase() }
    }

    /// Resolves the path against `models_dir`, reads the file and checks its sha256.
    pub fn read_verified(&self, models_dir: &Path) -> Result<(PathBuf, Vec<u8>)> {
        let path = if self.path.is_absolute() { self.path.clone() } else { models_dir.join(&self.path) };
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(FaceError::ModelMissing { path }),
            Err(source) => return Err(FaceError::Io { path, source }),
        };
        let actual = hex(&Sha256::digest(&bytes));
        if actual != self.sha256.to_ascii_lowercase() {
            return Err(FaceError::ModelChecksum { path, expected: self.sha256.clone(), actual });
        }
        Ok((path, bytes))
    }
}

/// Lower-case hex of a byte slice.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Pinned digests of the models shipped in `models/` (see models/MODELS.md).
pub mod pinned {
    /// BlazeFace short range, 128×128: the default detector for a cooperative subject at a webcam.
    pub const BLAZEFACE_FRONT_128: (&str, &str) =
        ("blazeface_front_128.onnx", "d388b1cf8a5f6f1af2b3f4c14f6d0f138bab970cd618cccd12dddb7484e82e51");
    /// BlazeFace full range, 192×192: for subjects further than ~2 m.
    pub const BLAZEFACE_FULL_RANGE_192: (&str, &str) =
        ("blazeface_full_range_192.onnx", "fafe0480e8fe81b0a5cb9dae3c00b7548e63a20da2d0a6a7504a9c80d01a2e96");
    /// MediaPipe Face Mesh, 468 points.
    pub const FACE_LANDMARK_468: (&str, &str) =
        ("face_landmark_468.onnx", "faa195b149e8e8c760dbe5b67c6db3ef5635888b2e1bb0fd0ba5bc838a091949");
    /// MediaPipe Iris: 71 eye-contour points + 5 iris points per eye, for eye openness and blinks
    /// (the 468-point mesh's eyelid points barely follow a closing eyelid).
    pub const IRIS_LANDMARK: (&str, &str) =
        ("iris_landmark.onnx", "84874d202bc137b99bdace24064860e9ef1dff8679403bd5838e056fd14e174d");
    /// dlib ResNet face descriptor (via face-api.js weights), 128-d.
    pub const FACE_DESCRIPTOR_128: (&str, &str) =
        ("face_descriptor_128.onnx", "834e7e2f4c6e4c1a0ad593325bee8f46f7937b97e971749b0c32d70297a130e2");
}

/// Finds the models folder: explicit value, then `FACE_MODELS_DIR`, then `models/` next to the
/// executable or in the working directory, then the repository's `models/` (for tests and `cargo run`).
pub fn locate_models_dir(explicit: Option<&Path>) -> PathBuf {
    if let Some(p) = explicit {
        return p.to_path_buf();
    }
    if let Some(p) = std::env::var_os(MODELS_DIR_ENV).filter(|v| !v.is_empty()) {
        return PathBuf::from(p);
    }
    let probe = pinned::FACE_LANDMARK_468.0;
    let mut candidates = Vec::new();
    if let Ok(exe) = std::env::current_exe() {
        if let Some(dir) = exe.parent() {
            candidates.push(dir.join("models"));
        }
    }
    candidates.push(PathBuf::from("models"));
    candidates.push(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models"));
    for c in &candidates {
        if c.join(probe).is_file() {
            return c.clone();
        }
    }
    candidates.pop().unwrap_or_else(|| PathBuf::from("models"))
}

/// Opens a verified model as an ONNX Runtime session with `threads` intra-op threads.
///
/// One intra-op thread is the right default for the small face models on a 2-core station
/// (measured: 2 threads is rarely faster and leaves no core for camera and UI; see MODELS.md).
pub fn open_session(
    runtime: Option<&Path>,
    models_dir: &Path,
    model: &ModelFile,
    threads: usize,
) -> Result<(Session, String)> {
    let (path, bytes) = model.read_verified(models_dir)?;
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let (env, _) = environment(runtime)?;
    let ort_err = |e: ort::Error| FaceError::Inference { model: name.clone(), reason: e.to_string() };
    let builder = Session::builder(env).map_err(ort_err)?;
    let builder_err = |e: ort::Error<ort::session::builder::SessionBuilder>| FaceError::Inference {
        model: name.clone(),
        reason: e.to_string(),
    };
    let builder = builder.with_intra_threads(threads.max(1)).map_err(builder_err)?;
    let mut builder = builder.with_inter_threads(1).map_err(builder_err)?;
    let session = builder.commit_from_memory(&bytes).map_err(ort_err)?;
    Ok((session, name))
}
