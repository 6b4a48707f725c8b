//! The devices the service offers: what the drivers' [`DeviceManager`] lists (optionally narrowed
//! to chosen ids), each with the two locks that make SBI's "one capture at a time" rule and its
//! "stream while capturing" flow work.
//!
//! * The **capture lock** is held for a whole CAPTURE/RCAPTURE; a second capture on the same
//!   device finds it taken and answers "Device is Busy" (111). Discovery reports `Busy` then.
//! * The **device lock** guards the open driver handle. A capture holds it for its duration; a
//!   STREAM takes it one frame at a time and pauses while a capture holds the capture lock, so the
//!   registration client's usual flow (STREAM open, then RCAPTURE) works and capture frames never
//!   reach the preview, as the spec asks.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use drivers::manager::DeviceManager;
use drivers::{Camera, DeviceError, DeviceKind, FingerprintScanner, FrameFormat};
use tokio::sync::OwnedMutexGuard;

/// How long a device listing is reused: registration clients probe discovery on every port of
/// the range, and listing USB and serial devices is not free.
const LISTING_TTL: Duration = Duration::from_secs(2);

/// The devices on offer.
pub struct Registry {
    manager: DeviceManager,
    only: Option<Vec<String>>,
    slots: Mutex<HashMap<String, Arc<Slot>>>,
    listed: Mutex<Option<(Instant, Vec<Arc<Slot>>)>>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("manager", &self.manager)
            .field("only", &self.only)
            .finish()
    }
}

impl Registry {
    /// Offers every device `manager` lists, or only those whose id is in `only`.
    pub fn new(manager: DeviceManager, only: Option<Vec<String>>) -> Self {
        Self {
            manager,
            only,
            slots: Mutex::new(HashMap::new()),
            listed: Mutex::new(None),
        }
    }

    /// The devices present now (as listed at most [`LISTING_TTL`] ago), in the manager's order.
    /// A device that was listed before and is gone drops out; its slot is kept so a capture
    /// still running on it finishes cleanly.
    pub fn list(&self) -> Vec<Arc<Slot>> {
        let mut listed = self.listed.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((at, slots)) = listed.as_ref() {
            if at.elapsed() < LISTING_TTL {
                return slots.clone();
            }
        }
        let slots = self.list_now();
        *listed = Some((Instant::now(), slots.clone()));
        slots
    }

    fn list_now(&self) -> Vec<Arc<Slot>> {
        let listing = self.manager.list();
        for (backend, err) in &listing.failures {
            tracing::debug!(backend, %err, "device backend failed to list");
        }
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        listing
            .devices
            .into_iter()
            .filter(|d| self.only.as_ref().is_none_or(|ids| ids.contains(&d.id)))
            .map(|d| {
                slots
                    .entry(d.id.clone())
                    .or_insert_with(|| {
                        Arc::new(Slot {
                            id: d.id.clone(),
                            name: d.name.clone(),
                            kind: d.kind,
                            capture: Arc::new(tokio::sync::Mutex::new(())),
                            device: Arc::new(tokio::sync::Mutex::new(Handles::default())),
                            streams: AtomicUsize::new(0),
                        })
                    })
                    .clone()
            })
            .collect()
    }

    /// The device with SBI `deviceId` `id`, if present.
    pub fn get(&self, id: &str) -> Option<Arc<Slot>> {
        self.list().into_iter().find(|s| s.id == id)
    }

    /// The driver manager, to open devices.
    pub fn manager(&self) -> &DeviceManager {
        &self.manager
    }
}

/// One device on offer.
pub struct Slot {
    /// The drivers id, used as SBI `deviceId` (stable across restarts and hot-plug).
    pub id: String,
    /// Model name from the driver.
    pub name: String,
    pub kind: DeviceKind,
    capture: Arc<tokio::sync::Mutex<()>>,
    device: Arc<tokio::sync::Mutex<Handles>>,
    streams: AtomicUsize,
}

impl Slot {
    /// Whether a capture runs on the device now.
    pub fn is_busy(&self) -> bool {
        self.capture.try_lock().is_err()
    }

    /// Starts a capture: `None` when one is already running (the caller answers "busy").
    pub fn begin_capture(&self) -> Option<OwnedMutexGuard<()>> {
        self.capture.clone().try_lock_owned().ok()
    }

    /// The open driver handle; blocking, for use on a blocking thread.
    pub fn device_blocking(&self) -> tokio::sync::MutexGuard<'_, Handles> {
        self.device.blocking_lock()
    }

    /// The device lock as an owned guard, for moving into a blocking task.
    pub async fn device_owned(&self) -> OwnedMutexGuard<Handles> {
        self.device.clone().lock_owned().await
    }

    /// Counts a running stream (the camera stays on while any runs).
    pub fn stream_started(&self) {
        self.streams.fetch_add(1, Ordering::SeqCst);
    }

    /// Uncounts a stream; returns whether none is left.
    pub fn stream_ended(&self) -> bool {
        self.streams.fetch_sub(1, Ordering::SeqCst) == 1
    }

    /// Whether a stream runs now.
    pub fn streaming(&self) -> bool {
        self.streams.load(Ordering::SeqCst) > 0
    }
}

/// The opened driver objects of a device, kept open between calls so that a scanner keeps its
/// state (a simulated person's finger sequence, a USB handle) and a camera need not restart for
/// every frame.
#[derive(Default)]
pub struct Handles {
    scanner: Option<Box<dyn FingerprintScanner>>,
    camera: Option<Box<dyn Camera>>,
    camera_running: bool,
}

impl Handles {
    /// The scanner `id`, opened on first use.
    pub fn scanner(
        &mut self,
        manager: &DeviceManager,
        id: &str,
    ) -> Result<&mut dyn FingerprintScanner, DeviceError> {
        if self.scanner.is_none() {
            self.scanner = Some(manager.open_scanner(id)?);
        }
        Ok(self.scanner.as_deref_mut().expect("opened above"))
    }

    /// The camera `id`, opened and streaming.
    pub fn camera(
        &mut self,
        manager: &DeviceManager,
        id: &str,
    ) -> Result<&mut dyn Camera, DeviceError> {
        if self.camera.is_none() {
            self.camera = Some(manager.open_camera(id)?);
            self.camera_running = false;
        }
        let camera = self.camera.as_deref_mut().expect("opened above");
        if !self.camera_running {
            let format = preferred_format(&camera.formats()?).ok_or(DeviceError::Device(
                "the camera offers no frame format".into(),
            ))?;
            camera.start(format)?;
            self.camera_running = true;
        }
        Ok(self.camera.as_deref_mut().expect("opened above"))
    }

    /// Stops the camera (turning its light off) until the next use.
    pub fn stop_camera(&mut self) {
        if let (Some(camera), true) = (self.camera.as_deref_mut(), self.camera_running) {
            if let Err(err) = camera.stop() {
                tracing::debug!(%err, "stopping the camera failed");
            }
        }
        self.camera_running = false;
    }

    /// Forgets the open handles after a device error, so the next call reopens the device
    /// (it may have been unplugged and plugged back).
    pub fn reset(&mut self) {
        self.stop_camera();
        if let Some(mut scanner) = self.scanner.take() {
            let _ = scanner.close();
        }
        self.camera = None;
    }
}

/// The format to stream: the largest up to 1280×720 (enough for a 19794-5 portrait, small enough
/// to analyse at frame rate), else the smallest offered.
fn preferred_format(formats: &[FrameFormat]) -> Option<FrameFormat> {
    formats
        .iter()
        .filter(|f| f.width <= 1280 && f.height <= 720)
        .max_by_key(|f| (f.width * f.height, f.fps))
        .or_else(|| formats.iter().min_by_key(|f| f.width * f.height))
        .copied()
}
