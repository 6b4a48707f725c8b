//! Station configuration: one typed struct from a TOML file, overridden by environment
//! variables (`STATION_*`), so kiosks can be configured by file and CI by env.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Which secret store holds the data key and operator passwords.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SecretBackend {
    /// The OS keyring; fail if it is unavailable.
    Keyring,
    /// Owner-only files under `<data_dir>/secrets` (headless machines; see README).
    File,
    /// The keyring when it answers, else the file store, with a warning.
    Auto,
}

/// Sync tuning.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct SyncConfig {
    /// First retry delay after a failure, milliseconds.
    pub backoff_base_ms: u64,
    /// Longest retry delay, milliseconds.
    pub backoff_max_ms: u64,
    /// Uploads in flight at once.
    pub concurrency: usize,
    /// Per-request timeout, milliseconds.
    pub request_timeout_ms: u64,
    /// How often accepted enrollments are polled for their final result, milliseconds.
    pub poll_interval_ms: u64,
}

impl Default for SyncConfig {
    fn default() -> Self {
        Self { backoff_base_ms: 500, backoff_max_ms: 60_000, concurrency: 4, request_timeout_ms: 30_000, poll_interval_ms: 250 }
    }
}

impl SyncConfig {
    /// The backoff base as a duration.
    pub fn backoff_base(&self) -> Duration {
        Duration::from_millis(self.backoff_base_ms)
    }
    /// The backoff cap as a duration.
    pub fn backoff_max(&self) -> Duration {
        Duration::from_millis(self.backoff_max_ms)
    }
}

/// Everything the station needs.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct StationConfig {
    /// Base URL of the SPID server, e.g. `http://127.0.0.1:8082`.
    pub server_url: String,
    /// Operator document (user name) the station logs in as.
    pub operator: String,
    /// Station identifier, written into enrollments' labels and logs.
    pub station_id: String,
    /// Where the queue database, secrets (file backend) and embedded server data live.
    pub data_dir: PathBuf,
    /// Secret store choice.
    pub secrets: SecretBackend,
    pub sync: SyncConfig,
}

impl Default for StationConfig {
    fn default() -> Self {
        Self {
            server_url: "http://127.0.0.1:8082".into(),
            operator: "admin".into(),
            station_id: "station-1".into(),
            data_dir: default_data_dir(),
            secrets: SecretBackend::Auto,
            sync: SyncConfig::default(),
        }
    }
}

/// `$XDG_DATA_HOME/capture-station`, else `~/.local/share/capture-station`.
pub fn default_data_dir() -> PathBuf {
    if let Some(xdg) = std::env::var_os("XDG_DATA_HOME").filter(|v| !v.is_empty()) {
        return PathBuf::from(xdg).join("capture-station");
    }
    let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("."));
    home.join(".local/share/capture-station")
}

/// A configuration file that could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("invalid configuration in {path}: {source}")]
    Parse { path: PathBuf, source: toml::de::Error },
    #[error("invalid value {value:?} for {var}: {reason}")]
    Env { var: &'static str, value: String, reason: &'static str },
}

impl StationConfig {
    /// Loads `path` (if given and present), then applies `STATION_*` environment overrides.
    pub fn load(path: Option<&Path>) -> Result<Self, ConfigError> {
        let mut config = match path {
            Some(p) if p.exists() => {
                let text = std::fs::read_to_string(p).map_err(|source| ConfigError::Read { path: p.to_owned(), source })?;
                toml::from_str(&text).map_err(|source| ConfigError::Parse { path: p.to_owned(), source })?
            }
            _ => StationConfig::default(),
        };
        config.apply_env(|k| std::env::var(k).ok())?;
        Ok(config)
    }

    /// Applies overrides from `lookup` (the environment in production, a map in tests).
    pub fn apply_env(&mut self, lookup: impl Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        if let Some(v) = lookup("STATION_SERVER_URL") {
            self.server_url = v;
        }
        if let Some(v) = lookup("STATION_OPERATOR") {
            self.operator = v;
        }
        if let Some(v) = lookup("STATION_ID") {
            self.station_id = v;
        }
        if let Some(v) = lookup("STATION_DATA_DIR") {
            self.data_dir = PathBuf::from(v);
        }
        if let Some(v) = lookup("STATION_SECRETS") {
            self.secrets = match v.as_str() {
                "keyring" => SecretBackend::Keyring,
                "file" => SecretBackend::File,
                "auto" => SecretBackend::Auto,
                _ => return Err(ConfigError::Env { var: "STATION_SECRETS", value: v, reason: "expected keyring, file or auto" }),
            };
        }
        if let Some(v) = lookup("STATION_SYNC_CONCURRENCY") {
            self.sync.concurrency = v
                .parse()
                .ok()
                .filter(|n| *n >= 1 && *n <= 64)
                .ok_or(ConfigError::Env { var: "STATION_SYNC_CONCURRENCY", value: v, reason: "expected 1-64" })?;
        }
        Ok(())
    }

    /// Path of the queue database.
    pub fn queue_path(&self) -> PathBuf {
        self.data_dir.join("queue.sqlite")
    }

    /// Directory of the file secret store.
    pub fn secrets_dir(&self) -> PathBuf {
        self.data_dir.join("secrets")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_then_env_overrides() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("station.toml");
        std::fs::write(&path, "server_url = \"http://10.0.0.5:8082\"\noperator = \"op1\"\n[sync]\nconcurrency = 2\n").unwrap();
        let mut c: StationConfig = toml::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(c.server_url, "http://10.0.0.5:8082");
        assert_eq!(c.sync.concurrency, 2);
        assert_eq!(c.sync.backoff_base_ms, 500, "unset fields keep defaults");
        c.apply_env(|k| (k == "STATION_OPERATOR").then(|| "op2".to_owned())).unwrap();
        assert_eq!(c.operator, "op2");
        let err = c.apply_env(|k| (k == "STATION_SECRETS").then(|| "vault".to_owned())).unwrap_err();
        assert!(err.to_string().contains("STATION_SECRETS"));
    }

    #[test]
    fn a_broken_file_names_itself() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("station.toml");
        std::fs::write(&path, "server_url = 5").unwrap();
        let err = StationConfig::load(Some(&path)).unwrap_err();
        assert!(err.to_string().contains("station.toml"), "{err}");
    }
}
