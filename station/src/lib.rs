//! `station`: the capture station's core, with no window and no HTTP server of its own.
//!
//! * [`queue`] — the encrypted offline enrollment queue (SQLite, WAL) and its state machine.
//! * [`sync`] — uploads queued enrollments to an SPID server with idempotency and backoff.
//! * [`verify`] — 1:1 verify of captured fingers against an enrolled person, online.
//! * [`crypto`] / [`secrets`] — sealing at rest, with the key in the OS keyring or a file.
//! * [`config`] — the typed station configuration.
//! * [`capture`] — capture sessions driving `drivers` devices into queue entries.
//!
//! The app (`src-tauri`) and the CLI are thin layers over this crate.

pub mod app_face;
pub mod app_remote;
pub mod app_support;
pub mod app_verify;
pub mod capture;
pub mod config;
pub mod crypto;
pub mod queue;
pub mod secrets;
pub mod sync;
pub mod verify;

pub use config::StationConfig;
pub use queue::{EnrollmentState, NewEnrollment, Queue};

use std::time::Duration;

/// Why the station could not start or act.
#[derive(Debug, thiserror::Error)]
pub enum StationError {
    #[error(transparent)]
    Secrets(#[from] secrets::SecretError),
    #[error(transparent)]
    Queue(#[from] queue::QueueError),
    #[error(transparent)]
    Sync(#[from] sync::SyncError),
    #[error("no password stored for operator {0}; run `capture-station login --user {0}` or set STATION_PASSWORD")]
    NoPassword(String),
}

/// An opened station: configuration, secret store and queue, shared by the CLI and the app.
pub struct Station {
    pub config: StationConfig,
    pub secrets: Box<dyn secrets::SecretStore>,
    pub queue: Queue,
}

impl Station {
    /// Opens the secret store and the queue (creating the data key on first start).
    pub async fn open(config: StationConfig) -> Result<Self, StationError> {
        let secrets = secrets::open_store(config.secrets, &config.secrets_dir())?;
        let key = secrets::load_or_create_data_key(secrets.as_ref())?;
        let queue = Queue::open(&config.queue_path(), key).await?;
        Ok(Self { config, secrets, queue })
    }

    /// Stores the operator's password so sync can log in unattended.
    pub fn remember_password(&self, user: &str, password: &str) -> Result<(), StationError> {
        Ok(self.secrets.set(&secrets::operator_password_name(user), password)?)
    }

    /// Credentials for the configured operator: `STATION_PASSWORD` wins, else the secret store.
    pub fn credentials(&self) -> Result<sync::Credentials, StationError> {
        let user = self.config.operator.clone();
        let password = match std::env::var("STATION_PASSWORD").ok().filter(|p| !p.is_empty()) {
            Some(p) => p,
            None => self.secrets.get(&secrets::operator_password_name(&user))?.ok_or_else(|| StationError::NoPassword(user.clone()))?,
        };
        Ok(sync::Credentials { user, password })
    }

    /// A syncer to the configured server.
    pub fn syncer(&self) -> Result<sync::Syncer, StationError> {
        let client = sync::SpidClient::new(
            &self.config.server_url,
            self.credentials()?,
            Duration::from_millis(self.config.sync.request_timeout_ms),
        )?;
        let lock = sync::SyncLock::acquire(&self.config.data_dir.join("sync.lock"))?;
        Ok(sync::Syncer::new(self.queue.clone(), client, self.config.sync.clone()).with_lock(lock))
    }
}
