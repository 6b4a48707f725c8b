//! The device layer of the capture station.
//!
//! Every capture device — a USB fingerprint scanner, a serial R30x sensor, a webcam or a
//! simulated device — is driven through one of two traits, [`FingerprintScanner`] and
//! [`Camera`], so the capture session code above never knows which physical device it talks to.
//! The traits are blocking on purpose: USB and serial I/O are blocking, and callers that live in
//! an async runtime move a device onto a blocking thread (`tokio::task::spawn_blocking`).
//!
//! This crate knows nothing of enrollments, people, queues or HTTP (see ARCHITECTURE.md).

use std::time::Duration;

pub mod camera;
pub mod image;
pub mod manager;
pub mod serial;
pub mod simulated;
pub mod usb;

pub use crate::image::{GrayImage, RgbFrame};

/// What a device is, for listings, logs and the device doctor.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DeviceInfo {
    /// Stable id used to open the device again, e.g. `usb:05ba:000a@1-3`, `serial:/dev/ttyUSB0`,
    /// `sim:finger:0`, `camera:/dev/video0`.
    pub id: String,
    /// Human-readable model name ("DigitalPersona U.are.U 4000").
    pub name: String,
    /// Which kind of device this is.
    pub kind: DeviceKind,
    /// Driver that handles it ("uru4000", "nb1010", "r30x", "simulated", ...).
    pub driver: String,
}

/// The kinds of device the station captures from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceKind {
    FingerprintScanner,
    Camera,
}

/// Why a device operation failed. Each variant maps to a distinct operator message, so the UI can
/// tell "plug it back in" from "give the station permission" from "the scanner misbehaved".
#[derive(Debug, thiserror::Error)]
pub enum DeviceError {
    /// The device vanished (unplugged, powered off) — possibly mid-capture.
    #[error("device {0} was disconnected")]
    Disconnected(String),
    /// Nothing happened within the allowed time (no finger, no frame, no answer).
    #[error("timed out after {0:?} waiting for {1}")]
    Timeout(Duration, &'static str),
    /// The OS refused access (missing udev rule, not in the `plugdev`/`video`/`dialout` group).
    #[error("permission denied opening {device}: {hint}")]
    PermissionDenied { device: String, hint: String },
    /// No device with that id exists.
    #[error("no device with id {0}")]
    NotFound(String),
    /// The device answered, but not what its protocol allows (short transfer, bad checksum,
    /// unknown confirmation code, unexpected state).
    #[error("protocol error: {0}")]
    Protocol(String),
    /// The device reported an error condition of its own (sensor fault, bad image).
    #[error("device reported: {0}")]
    Device(String),
    /// A call was made in a state that does not allow it (capture before open, start twice).
    #[error("invalid state: {0}")]
    InvalidState(&'static str),
    /// The operation was cancelled by the caller.
    #[error("cancelled")]
    Cancelled,
    /// Any other I/O failure from the OS.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
}

/// Result alias for device operations.
pub type Result<T, E = DeviceError> = std::result::Result<T, E>;

/// Events a scanner reports while capturing, so the UI can say "place your finger" /
/// "hold still" / "lift your finger" at the right moment.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum ScanEvent {
    /// The scanner is armed and waiting for a finger.
    AwaitingFinger,
    /// A finger is on the sensor.
    FingerPresent,
    /// Image transfer progress, 0–100.
    Progress { percent: u8 },
    /// The finger left the sensor.
    FingerRemoved,
}

/// A fingerprint scanner: one image per finger placement.
pub trait FingerprintScanner: Send {
    /// Identity of the device.
    fn info(&self) -> DeviceInfo;
    /// Native image geometry and resolution, known before the first capture.
    fn image_spec(&self) -> ImageSpec;
    /// Block until a finger is on the sensor, or `timeout` passes.
    fn wait_for_finger(&mut self, timeout: Duration) -> Result<()>;
    /// Capture one image, reporting events as they happen. Waits for the finger first if the
    /// device needs it; gives up after `timeout`.
    fn capture(&mut self, timeout: Duration, events: &mut dyn FnMut(ScanEvent)) -> Result<GrayImage>;
    /// Release the device (also done on drop by implementations that hold OS handles).
    fn close(&mut self) -> Result<()>;
}

/// Geometry of a scanner's images.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ImageSpec {
    pub width: u32,
    pub height: u32,
    /// Pixels per inch of the sensor (500 for most fingerprint scanners).
    pub dpi: u32,
}

/// A frame format a camera offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FrameFormat {
    pub width: u32,
    pub height: u32,
    pub fps: u32,
    pub encoding: FrameEncoding,
}

/// How the camera sends pixels over the wire; the driver always hands out RGB.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum FrameEncoding {
    Mjpeg,
    Yuyv,
    Rgb,
    Gray,
}

/// A camera: a stream of RGB frames.
pub trait Camera: Send {
    /// Identity of the device.
    fn info(&self) -> DeviceInfo;
    /// Formats the camera can stream.
    fn formats(&self) -> Result<Vec<FrameFormat>>;
    /// Start streaming in `format`.
    fn start(&mut self, format: FrameFormat) -> Result<()>;
    /// Block until the next frame arrives, or `timeout` passes.
    fn next_frame(&mut self, timeout: Duration) -> Result<RgbFrame>;
    /// Stop streaming; `start` may be called again afterwards.
    fn stop(&mut self) -> Result<()>;
}
