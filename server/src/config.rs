//! Server configuration: one typed struct, filled by the CLI from flags, a TOML file or env.

use std::path::PathBuf;
use std::time::Duration;

/// Everything the server needs to start.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// SQLite database file; created (with its directory) when missing.
    pub database_path: PathBuf,
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
}

/// Credentials of the first admin.
#[derive(Debug, Clone)]
pub struct BootstrapAdmin {
    pub document: String,
    pub password: String,
}

impl ServerConfig {
    /// Defaults suitable for an embedded station server storing into `database_path`.
    pub fn new(database_path: impl Into<PathBuf>) -> Self {
        Self {
            database_path: database_path.into(),
            token_ttl: Duration::from_secs(8 * 3600),
            max_body_bytes: 32 * 1024 * 1024,
            limits: wire::validate::Limits::default(),
            max_image_pixels: 40_000_000,
            bootstrap_admin: None,
        }
    }
}
