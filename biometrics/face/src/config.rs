//! One configuration file for the whole face pipeline (TOML), so a station can swap models, change
//! thresholds or point at another runtime without a rebuild.
//!
//! ```toml
//! [pipeline]
//! detector = "front128"            # or "full_range192"
//! [pipeline.profile]
//! face_min_size = 0.3
//! [embedder]
//! threshold = 0.45
//! [embedder.model]                 # another descriptor model must come with its own sha256
//! path = "face_descriptor_128.onnx"
//! sha256 = "834e7e2f4c6e4c1a0ad593325bee8f46f7937b97e971749b0c32d70297a130e2"
//! [liveness]
//! turn_deg = 20.0
//! ```

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::capture::AutoCaptureConfig;
use crate::error::{FaceError, Result};
use crate::liveness::LivenessConfig;
use crate::matching::EmbedderConfig;
use crate::pipeline::PipelineConfig;

/// All face settings; every section and field is optional (defaults are the calibrated values).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct FaceConfig {
    /// Detection, mesh and quality thresholds.
    pub pipeline: PipelineConfig,
    /// Descriptor model and verification threshold.
    pub embedder: EmbedderConfig,
    /// Autocapture rule and ISO crop size.
    pub autocapture: AutoCaptureConfig,
    /// Liveness challenges and limits.
    pub liveness: LivenessConfig,
}

impl FaceConfig {
    /// Parses TOML. The runtime path and models folder given in `[pipeline]` also apply to the
    /// embedder unless `[embedder]` sets its own.
    pub fn from_toml(text: &str) -> Result<Self> {
        let mut cfg: FaceConfig = toml::from_str(text).map_err(|e| FaceError::Config(e.to_string()))?;
        if cfg.embedder.runtime_library.is_none() {
            cfg.embedder.runtime_library = cfg.pipeline.runtime_library.clone();
        }
        if cfg.embedder.models_dir.is_none() {
            cfg.embedder.models_dir = cfg.pipeline.models_dir.clone();
        }
        if cfg.autocapture.min_consecutive == 0 {
            return Err(FaceError::Config("autocapture.min_consecutive must be at least 1".into()));
        }
        if !cfg.embedder.threshold.is_finite() || cfg.embedder.threshold <= 0.0 {
            return Err(FaceError::Config("embedder.threshold must be positive".into()));
        }
        Ok(cfg)
    }

    /// Reads and parses a TOML file.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|source| FaceError::Io { path: path.to_path_buf(), source })?;
        Self::from_toml(&text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::DetectorKind;

    #[test]
    fn partial_toml_overrides_only_what_it_names() {
        let c = FaceConfig::from_toml(
            "[pipeline]\ndetector = \"full_range192\"\nmodels_dir = \"/opt/m\"\n[pipeline.profile]\nface_min_size = 0.3\n[embedder]\nthreshold = 0.4\n",
        )
        .unwrap();
        assert_eq!(c.pipeline.detector, DetectorKind::FullRange192);
        assert_eq!(c.pipeline.profile.face_min_size, 0.3);
        assert_eq!(c.pipeline.profile.max_yaw, 5.0);
        assert_eq!(c.embedder.threshold, 0.4);
        assert_eq!(c.embedder.models_dir.as_deref(), Some(Path::new("/opt/m")));
        assert_eq!(c.liveness, LivenessConfig::default());
    }

    #[test]
    fn typos_and_bad_values_are_rejected() {
        assert!(matches!(FaceConfig::from_toml("[pipeline]\ndetektor = 1\n"), Err(FaceError::Config(_))));
        assert!(matches!(FaceConfig::from_toml("[autocapture]\nmin_consecutive = 0\n"), Err(FaceError::Config(_))));
        assert!(matches!(FaceConfig::from_toml("[embedder]\nthreshold = -1.0\n"), Err(FaceError::Config(_))));
    }
}
