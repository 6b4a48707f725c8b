//! Server configuration: one typed struct, filled by the CLI from flags, a TOML file or env.

use std::path::PathBuf;
use std::time::Duration;

/// Everything the server needs to start.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// The database: a SQLite file (created with its directory when missing; the default) or a
    /// PostgreSQL URL for a standalone server shared by many stations.
    pub database: crate::db::DatabaseLocation,
    /// How long a bearer token stays valid.
    pub token_ttl: Duration,
    /// Largest accepted request body, bytes (a 10-print + face enrollment is ~1–3 MB).
    pub max_body_bytes: usize,
    /// Per-request limits on biometrics.
    pub limits: wire::validate::Limits,
    /// Largest accepted image, in pixels (width × height).
    pub max_image_pixels: u64,
    /// Admin account created at first start so that someone can log in and add operators.
    pub bootstrap_admin: Option<BootstrapAdmin>,
    /// Remote capture (phone link) settings; see [`crate::remote`].
    pub remote: RemoteCaptureConfig,
    /// Fingerprint templates, verify (1:1) and deduplication (1:N); see [`crate::dedup`].
    pub fingerprint: FingerprintConfig,
}

/// Fingerprint matching settings.
#[derive(Debug, Clone)]
pub struct FingerprintConfig {
    /// Search every new enrollment's fingers against everyone enrolled and reject it
    /// (`ENROLL_REJECTED`, naming the person it matched) when it is the same person under
    /// another key. On by default; `CAPTURE_DEDUP=off` turns it off. Templates are extracted and
    /// stored either way, so verify works and turning dedup on later needs no re-enrollment.
    pub dedup: bool,
    /// Fused score (mean over the compared fingers) at or above which two captures are the same
    /// person. Default [`fingerprint::matcher::FMR_1_IN_10000_THRESHOLD`]: the engine's
    /// threshold for a false-match rate of 1:10,000 per comparison, measured on FVC2002/2004
    /// (`docs/benchmarks/fpengine.md`); taken from the engine so that the two never drift apart
    /// when the matcher's scores are re-tuned.
    pub threshold: f32,
    /// Templates with fewer minutiae are stored but never compared: too little to tell people
    /// apart (real 500 dpi prints hold 30–80).
    pub min_minutiae: usize,
}

impl Default for FingerprintConfig {
    /// Dedup on (unless `CAPTURE_DEDUP` is `off`/`false`/`0`), the engine's FMR 1:10,000
    /// threshold, 12 minutiae.
    fn default() -> Self {
        let dedup = !matches!(
            std::env::var("CAPTURE_DEDUP").ok().as_deref().map(str::trim),
            Some("off" | "false" | "0" | "no")
        );
        Self { dedup, threshold: fingerprint::matcher::FMR_1_IN_10000_THRESHOLD, min_minutiae: 12 }
    }
}

/// Which liveness check the phone capture page must pass before a remote capture is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RemoteLiveness {
    /// Blink + head turns in random order (`face::LivenessSession`), plus the passive cues. Catches
    /// a printed photo or a still on a screen; needs a live, cooperating subject.
    Active,
    /// Passive cues only: the stream must show natural motion and no repeated (injected) frames.
    /// Catches a frozen or replayed-frame stream, NOT a photo held in front of the camera. For
    /// tests with recorded video and for supervised kiosks.
    Passive,
}

/// Remote capture settings.
#[derive(Debug, Clone)]
pub struct RemoteCaptureConfig {
    /// Absolute base of the phone link (`https://station.example`); `None` = `http://<Host header>`.
    pub public_base_url: Option<String>,
    /// How long a link stays usable (capture and approval), 24 h by default as in the SPID notes.
    pub ttl: Duration,
    /// Liveness check of the phone page.
    pub liveness: RemoteLiveness,
    /// Face pipeline (ONNX runtime location, models, thresholds) used for the phone frames.
    pub face: face::PipelineConfig,
    /// Largest accepted phone frame, bytes (a 1280×720 JPEG is ~100–300 kB).
    pub max_frame_bytes: usize,
}

impl Default for RemoteCaptureConfig {
    /// 24 h links, active liveness, default face pipeline. `CAPTURE_PUBLIC_URL` and
    /// `CAPTURE_REMOTE_LIVENESS=passive|active` override, so `capture-station serve` can be set up
    /// without new flags.
    fn default() -> Self {
        let liveness = match std::env::var("CAPTURE_REMOTE_LIVENESS").ok().as_deref().map(str::trim) {
            Some("passive") => RemoteLiveness::Passive,
            _ => RemoteLiveness::Active,
        };
        Self {
            public_base_url: std::env::var("CAPTURE_PUBLIC_URL").ok().filter(|s| !s.trim().is_empty()),
            ttl: Duration::from_secs(24 * 3600),
            liveness,
            face: face::PipelineConfig::default(),
            max_frame_bytes: 4 * 1024 * 1024,
        }
    }
}

/// Credentials of the first admin.
#[derive(Debug, Clone)]
pub struct BootstrapAdmin {
    pub document: String,
    pub password: String,
}

impl ServerConfig {
    /// Defaults suitable for an embedded station server storing into the SQLite file
    /// `database_path`.
    pub fn new(database_path: impl Into<PathBuf>) -> Self {
        Self::with_database(crate::db::DatabaseLocation::Sqlite(database_path.into()))
    }

    /// The same defaults on any database, e.g. `DatabaseLocation::parse("postgres://…")`.
    pub fn with_database(database: crate::db::DatabaseLocation) -> Self {
        Self {
            database,
            token_ttl: Duration::from_secs(8 * 3600),
            max_body_bytes: 32 * 1024 * 1024,
            limits: wire::validate::Limits::default(),
            max_image_pixels: 40_000_000,
            bootstrap_admin: None,
            remote: RemoteCaptureConfig::default(),
            fingerprint: FingerprintConfig::default(),
        }
    }
}
