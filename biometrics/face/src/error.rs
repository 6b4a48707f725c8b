//! Typed errors for the face pipeline.
//!
//! Every failure a station operator or integrator can run into (runtime library missing, model file
//! missing or tampered, unreadable image, empty frame) has its own variant, and the message says what
//! to do about it, because these errors end up in logs and on the operator's screen.

use std::path::PathBuf;

/// Everything that can go wrong in this crate.
#[derive(Debug, thiserror::Error)]
pub enum FaceError {
    /// The ONNX Runtime shared library could not be found. The pipeline cannot run without it.
    #[error(
        "ONNX Runtime library not found ({detail}); run scripts/fetch-onnxruntime.sh and set \
         ORT_DYLIB_PATH to the path it prints (or set runtime_library in the face config)"
    )]
    RuntimeNotFound {
        /// Which locations were tried.
        detail: String,
    },
    /// The library file exists but ONNX Runtime could not be loaded from it (wrong file, too old, corrupt).
    #[error(
        "cannot load ONNX Runtime from {path}: {reason}; re-run scripts/fetch-onnxruntime.sh (it re-downloads \
         and checks the library) and point ORT_DYLIB_PATH at the path it prints"
    )]
    RuntimeLoad {
        /// The library path that failed.
        path: PathBuf,
        /// The loader's message.
        reason: String,
    },
    /// A model file is missing.
    #[error("model file {path} not found; the ONNX models ship in the repository's models/ folder (set models_dir or FACE_MODELS_DIR to it)")]
    ModelMissing {
        /// The path that was tried.
        path: PathBuf,
    },
    /// A model file is present but its sha256 is not the pinned one (tampered, truncated or a different model).
    #[error(
        "model file {path} has sha256 {actual}, expected {expected}; restore it from the repository's models/ \
         folder (see models/MODELS.md) or, for a deliberately different model, configure its sha256"
    )]
    ModelChecksum {
        /// The model path.
        path: PathBuf,
        /// Pinned digest.
        expected: String,
        /// Digest of the file on disk.
        actual: String,
    },
    /// ONNX Runtime rejected a model or failed while running it.
    #[error("ONNX Runtime error in {model}: {reason}")]
    Inference {
        /// The model file name.
        model: String,
        /// ONNX Runtime's message.
        reason: String,
    },
    /// A model produced an output of an unexpected shape (the wrong model for this slot).
    #[error("model {model} produced output {output} with {actual} values, expected {expected}; is this the right model for this slot?")]
    ModelOutput {
        /// The model file name.
        model: String,
        /// Output tensor name.
        output: String,
        /// Expected number of values.
        expected: usize,
        /// Number of values produced.
        actual: usize,
    },
    /// An image could not be read or decoded (corrupt, truncated, unsupported format).
    #[error("cannot decode image {source_name}: {reason}; supply a PNG, JPEG, TIFF or BMP file")]
    ImageDecode {
        /// File name or `"<bytes>"`.
        source_name: String,
        /// Decoder message.
        reason: String,
    },
    /// An image is too small to hold a face (including zero-size frames).
    #[error("frame is {width}x{height} px; at least {min}x{min} px is needed")]
    FrameTooSmall {
        /// Frame width.
        width: u32,
        /// Frame height.
        height: u32,
        /// Minimum side.
        min: u32,
    },
    /// An operation needed a face but the image has none usable.
    #[error("no usable face in {0}")]
    NoFace(String),
    /// Frames of one sequence must all have the same size (as in Knomi's analyze).
    #[error("frame {index} is {got_w}x{got_h} px but the sequence started at {want_w}x{want_h} px")]
    FrameSizeChanged {
        /// Index of the offending frame.
        index: usize,
        /// Its width.
        got_w: u32,
        /// Its height.
        got_h: u32,
        /// The first frame's width.
        want_w: u32,
        /// The first frame's height.
        want_h: u32,
    },
    /// Two embeddings of different length were compared (produced by different models).
    #[error("embedding lengths differ ({0} vs {1}); both must come from the same descriptor model")]
    EmbeddingMismatch(usize, usize),
    /// A configuration file or value is invalid.
    #[error("invalid face configuration: {0}")]
    Config(String),
    /// File-system error with the path involved.
    #[error("I/O error on {path}: {source}")]
    Io {
        /// The path involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// Autocapture was about to capture a frame whose eyes had not been measured (its analysis came
    /// from `analyze`, which skips the eye stage, and it was fed through `AutoCapture::feed`): an
    /// image with shut eyes could have been enrolled, so the capture does not fire.
    #[error("autocapture would capture a frame whose eyes were not measured; analyse it with analyze_with_eyes, or feed a live stream through AutoCapture::feed_with_eye_stage")]
    EyesNotMeasured,
    /// PNG encoding of an output image failed.
    #[error("cannot encode PNG: {0}")]
    Encode(String),
}

/// Short alias used across the crate.
pub type Result<T, E = FaceError> = std::result::Result<T, E>;
