//! A MOSIP SBI 1.0 (MDS 0.9.5) device service for the capture station's scanners and cameras.
//!
//! MOSIP registration clients find biometric devices by probing `http://127.0.0.1:4501..4600`
//! with SBI's custom HTTP methods. This crate answers them for whatever the drivers'
//! [`DeviceManager`](drivers::manager::DeviceManager) offers — the simulated scanner and camera
//! with no hardware, USB/serial scanners and webcams when present:
//!
//! * `MOSIPDISC /device` — discovery, `MOSIPDINFO /info` — signed device info;
//! * `RCAPTURE /capture` — registration capture: fingers until the requested quality (the
//!   fingerprint crate's NFIQ 2-scale score) or the timeout, face until the face pipeline's
//!   quality is reached; ISO 19794-4/-5 records, JWS-signed;
//! * `STREAM /stream` — M-JPEG preview; `CAPTURE` (authentication) is refused: it needs an L1
//!   device.
//!
//! Signing is L0: an RSA key generated on first start in the key folder ([`keys`]). Spec choices
//! are documented in `docs/devices/sbi.md`.

pub mod capture;
pub mod devices;
pub mod http;
pub mod iso;
pub mod keys;
pub mod port;
pub mod stream;

use std::ops::RangeInclusive;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub use devices::Registry;
pub use keys::{verify_jws, DeviceKey};
pub use port::PortError;

/// How the service runs.
#[derive(Debug, Clone)]
pub struct SbiConfig {
    /// Ports tried in order; the first free one is used (the spec: 4501–4600).
    pub port_range: RangeInclusive<u16>,
    /// Folder of the device key and its certificate.
    pub key_dir: PathBuf,
    /// `env` reported in device info ("Developer", "Staging", "Pre-Production", "Production").
    pub env: String,
    /// Folder of the face ONNX models; `None` finds them as the face crate does.
    pub face_models: Option<PathBuf>,
    /// Capture time when a request says `timeout: 0`.
    pub default_timeout: Duration,
    /// Longest capture a request may ask for.
    pub max_timeout: Duration,
    /// Stream length when a STREAM request gives none (the spec: 5 minutes).
    pub default_stream: Duration,
}

impl SbiConfig {
    /// The spec's defaults, keys in `key_dir`.
    pub fn new(key_dir: impl Into<PathBuf>) -> Self {
        Self {
            port_range: 4501..=4600,
            key_dir: key_dir.into(),
            env: "Developer".into(),
            face_models: None,
            default_timeout: Duration::from_secs(10),
            max_timeout: Duration::from_secs(120),
            default_stream: Duration::from_secs(300),
        }
    }
}

/// Why the service did not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Port(#[from] PortError),
    #[error("device key: {0}")]
    Key(#[from] keys::KeyError),
    #[error("key generation task failed: {0}")]
    Task(String),
}

/// A running service.
pub struct RunningService {
    /// The port it bound.
    pub port: u16,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl RunningService {
    /// `http://127.0.0.1:<port>` — what clients call (`callbackId` plus a slash).
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Stops accepting calls and waits for the server task.
    pub async fn shutdown(mut self) -> std::io::Result<()> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        self.task
            .await
            .unwrap_or_else(|e| Err(std::io::Error::other(e)))
    }

    /// Waits until the server stops (it stops only on error or shutdown).
    pub async fn wait(self) -> std::io::Result<()> {
        self.task
            .await
            .unwrap_or_else(|e| Err(std::io::Error::other(e)))
    }
}

/// Loads (or creates) the device key, binds the first free port of the range on 127.0.0.1 and
/// serves the SBI calls for `registry`'s devices.
pub async fn start(config: SbiConfig, registry: Registry) -> Result<RunningService, StartError> {
    let key_dir = config.key_dir.clone();
    let key = tokio::task::spawn_blocking(move || DeviceKey::load_or_create(&key_dir))
        .await
        .map_err(|e| StartError::Task(e.to_string()))??;
    let (listener, port) = port::bind_first_free(config.port_range.clone()).await?;
    let state = Arc::new(http::AppState {
        registry: Arc::new(registry),
        key,
        config,
        port,
        face: Mutex::new(None),
    });
    let app = axum::Router::new()
        .fallback(http::dispatch)
        .with_state(state);
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = rx.await;
            })
            .await
    });
    tracing::info!(port, "SBI device service listening on 127.0.0.1");
    Ok(RunningService {
        port,
        shutdown: Some(tx),
        task,
    })
}
