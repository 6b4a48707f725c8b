//! One place to find and open capture devices, whatever drives them.
//!
//! The station and the device doctor should not know which driver module handles `usb:...`,
//! `serial:...` or `sim:...` ids. Each driver module exposes a [`Backend`] — it lists its devices
//! and opens one by id — and the [`DeviceManager`] asks every registered backend in turn. Backends
//! written later (USB, serial) plug in with [`DeviceManager::register`] without changes here.
//!
//! Hot-plug is detected by polling [`Backend::list`] ([`DeviceManager::watch`]): portable, needs
//! no udev/IOKit event plumbing, and the cost (a directory scan or a libusb enumeration once a
//! second) is negligible next to capture work.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use crate::camera::{self, FileCamera, Webcam};
use crate::simulated::{Motion, SimulatedCamera, SimulatedScanner};
use crate::{Camera, DeviceError, DeviceInfo, DeviceKind, FingerprintScanner, Result};

/// A family of devices: a driver module's view of what is attached and how to open it.
///
/// Implementations must be cheap to [`list`](Backend::list) (it is polled for hot-plug) and must
/// answer [`DeviceError::NotFound`] from the `open_*` methods for ids they do not own, so the
/// manager can try the next backend.
pub trait Backend: Send + Sync {
    /// Short name for logs and the device doctor ("simulated", "nokhwa", "usb").
    fn name(&self) -> &str;
    /// Devices currently present.
    fn list(&self) -> Result<Vec<DeviceInfo>>;
    /// Opens a fingerprint scanner by id; `NotFound` when the id is not this backend's.
    fn open_scanner(&self, id: &str) -> Result<Box<dyn FingerprintScanner>> {
        Err(DeviceError::NotFound(id.to_owned()))
    }
    /// Opens a camera by id; `NotFound` when the id is not this backend's.
    fn open_camera(&self, id: &str) -> Result<Box<dyn Camera>> {
        Err(DeviceError::NotFound(id.to_owned()))
    }
}

/// The simulated devices, always present so that demos and tests run on any machine.
///
/// Ids: `sim:finger` (simulated person 0), `sim:finger:<person>` (another person: the id of
/// [`SimulatedScanner::info`]), `sim:folder:<dir>` (replays a folder of fingerprint images),
/// `sim:camera` (live subject), `sim:camera:static` (a photo held up: every frame identical),
/// `sim:camera:headturn` (live subject who turns their head now and then).
#[derive(Debug, Default, Clone, Copy)]
pub struct SimulatedBackend;

impl Backend for SimulatedBackend {
    fn name(&self) -> &str {
        "simulated"
    }

    fn list(&self) -> Result<Vec<DeviceInfo>> {
        let dev = |id: &str, name: &str, kind| DeviceInfo {
            id: id.into(),
            name: name.into(),
            kind,
            driver: "simulated".into(),
        };
        Ok(vec![
            dev(
                "sim:finger",
                "Simulated optical scanner (synthetic fingers)",
                DeviceKind::FingerprintScanner,
            ),
            dev(
                "sim:camera",
                "Simulated camera (live subject)",
                DeviceKind::Camera,
            ),
            dev(
                "sim:camera:static",
                "Simulated camera (still photo)",
                DeviceKind::Camera,
            ),
            dev(
                "sim:camera:headturn",
                "Simulated camera (head turns)",
                DeviceKind::Camera,
            ),
        ])
    }

    fn open_scanner(&self, id: &str) -> Result<Box<dyn FingerprintScanner>> {
        if id == "sim:finger" {
            return Ok(Box::new(SimulatedScanner::synthetic(0, Vec::new())));
        }
        if let Some(person) = id.strip_prefix("sim:finger:") {
            let person = person
                .parse::<u64>()
                .map_err(|_| DeviceError::NotFound(id.to_owned()))?;
            return Ok(Box::new(SimulatedScanner::synthetic(person, Vec::new())));
        }
        if let Some(dir) = id.strip_prefix("sim:folder:") {
            return Ok(Box::new(SimulatedScanner::from_folder(Path::new(dir))?));
        }
        Err(DeviceError::NotFound(id.to_owned()))
    }

    fn open_camera(&self, id: &str) -> Result<Box<dyn Camera>> {
        let motion = match id {
            "sim:camera" => Motion::Natural,
            "sim:camera:static" => Motion::Static,
            "sim:camera:headturn" => Motion::HeadTurn,
            _ => return Err(DeviceError::NotFound(id.to_owned())),
        };
        Ok(Box::new(SimulatedCamera::astronaut(motion)?))
    }
}

/// File cameras (`file:camera:<path>`, a folder of frames or a `.y4m` video). They are opened by
/// path and never listed: there is nothing to enumerate.
#[derive(Debug, Default, Clone, Copy)]
pub struct FileBackend;

impl Backend for FileBackend {
    fn name(&self) -> &str {
        "file"
    }

    fn list(&self) -> Result<Vec<DeviceInfo>> {
        Ok(Vec::new())
    }

    fn open_camera(&self, id: &str) -> Result<Box<dyn Camera>> {
        let path = id
            .strip_prefix("file:camera:")
            .ok_or_else(|| DeviceError::NotFound(id.to_owned()))?;
        Ok(Box::new(FileCamera::open(Path::new(path))?))
    }
}

/// Webcams through nokhwa (`camera:/dev/video0`, ...).
#[derive(Debug, Default, Clone, Copy)]
pub struct WebcamBackend;

impl Backend for WebcamBackend {
    fn name(&self) -> &str {
        "nokhwa"
    }

    fn list(&self) -> Result<Vec<DeviceInfo>> {
        camera::list_webcams()
    }

    fn open_camera(&self, id: &str) -> Result<Box<dyn Camera>> {
        if !id.starts_with(camera::webcam::ID_PREFIX) {
            return Err(DeviceError::NotFound(id.to_owned()));
        }
        Ok(Box::new(Webcam::open(id)?))
    }
}

/// A device appearing or disappearing, as seen between two polls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HotplugEvent {
    /// A device is newly present.
    Arrived(DeviceInfo),
    /// A device listed before is gone.
    Left(DeviceInfo),
}

/// Everything the backends listed, plus the backends that failed to list (one broken backend —
/// say libusb without permissions — must not hide the others' devices).
#[derive(Debug, Default)]
pub struct Listing {
    /// Devices found, in backend registration order.
    pub devices: Vec<DeviceInfo>,
    /// `(backend name, error)` for each backend whose `list` failed.
    pub failures: Vec<(String, DeviceError)>,
}

/// The registry of backends.
#[derive(Clone, Default)]
pub struct DeviceManager {
    backends: Vec<Arc<dyn Backend>>,
}

impl std::fmt::Debug for DeviceManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.backends.iter().map(|b| b.name()))
            .finish()
    }
}

impl DeviceManager {
    /// A manager with no backends (tests register their own).
    pub fn empty() -> Self {
        Self::default()
    }

    /// Every backend this crate implements: simulated devices, file cameras, webcams, USB
    /// scanners and serial R30x sensors. More can be added with [`Self::register`].
    pub fn with_builtin_backends() -> Self {
        let mut m = Self::empty();
        m.register(Arc::new(SimulatedBackend));
        m.register(Arc::new(FileBackend));
        m.register(Arc::new(WebcamBackend));
        m.register(Arc::new(crate::usb::devices::UsbBackend));
        m.register(Arc::new(crate::serial::SerialBackend::new(crate::serial::ProbeOptions::default())));
        m
    }

    /// Adds a backend; it is asked after those registered before it.
    pub fn register(&mut self, backend: Arc<dyn Backend>) {
        self.backends.push(backend);
    }

    /// Names of the registered backends, in order.
    pub fn backend_names(&self) -> Vec<String> {
        self.backends.iter().map(|b| b.name().to_owned()).collect()
    }

    /// Lists every backend's devices.
    pub fn list(&self) -> Listing {
        let mut listing = Listing::default();
        for b in &self.backends {
            match b.list() {
                Ok(devices) => listing.devices.extend(devices),
                Err(e) => listing.failures.push((b.name().to_owned(), e)),
            }
        }
        listing
    }

    /// Opens the scanner `id` with the first backend that owns it. A backend's own failure (the
    /// device is there but busy, permission denied) is returned as is; only when every backend
    /// says `NotFound` is the answer `NotFound`.
    pub fn open_scanner(&self, id: &str) -> Result<Box<dyn FingerprintScanner>> {
        for b in &self.backends {
            match b.open_scanner(id) {
                Err(DeviceError::NotFound(_)) => continue,
                other => return other,
            }
        }
        Err(DeviceError::NotFound(id.to_owned()))
    }

    /// Opens the camera `id` with the first backend that owns it (see [`Self::open_scanner`]).
    pub fn open_camera(&self, id: &str) -> Result<Box<dyn Camera>> {
        for b in &self.backends {
            match b.open_camera(id) {
                Err(DeviceError::NotFound(_)) => continue,
                other => return other,
            }
        }
        Err(DeviceError::NotFound(id.to_owned()))
    }

    /// Starts a thread that lists all backends every `interval` and sends the differences. The
    /// first poll reports every present device as `Arrived`, so a consumer needs no separate
    /// initial listing. Backends that fail to list are treated as unchanged for that poll (a
    /// transient error must not look like every device leaving). Polling stops when the
    /// [`Watcher`] is dropped. Fails only when the OS cannot start a thread.
    pub fn watch(&self, interval: Duration) -> Result<Watcher> {
        let (tx, rx) = mpsc::channel();
        let stop = Arc::new(AtomicBool::new(false));
        let manager = self.clone();
        let stop_flag = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("device-hotplug".into())
            .spawn(move || {
                let mut known: BTreeMap<String, DeviceInfo> = BTreeMap::new();
                // Last good listing of each backend, reused when a poll of it fails.
                let mut last: Vec<Vec<DeviceInfo>> = vec![Vec::new(); manager.backends.len()];
                while !stop_flag.load(Ordering::Relaxed) {
                    for (b, slot) in manager.backends.iter().zip(last.iter_mut()) {
                        if let Ok(devices) = b.list() {
                            *slot = devices;
                        }
                    }
                    let current: BTreeMap<String, DeviceInfo> = last
                        .iter()
                        .flatten()
                        .map(|d| (d.id.clone(), d.clone()))
                        .collect();
                    for event in diff(&known, &current) {
                        if tx.send(event).is_err() {
                            return;
                        }
                    }
                    known = current;
                    // Sleep in short slices so that dropping the watcher returns promptly.
                    let mut slept = Duration::ZERO;
                    while slept < interval && !stop_flag.load(Ordering::Relaxed) {
                        let slice = (interval - slept).min(Duration::from_millis(20));
                        std::thread::sleep(slice);
                        slept += slice;
                    }
                }
            })?;
        Ok(Watcher {
            events: rx,
            stop,
            thread: Some(thread),
        })
    }
}

/// The events between two listings keyed by id: `Left` for ids gone, `Arrived` for ids new, in id
/// order. A device whose id stays but whose description changed is reported as left and arrived
/// again (it was re-plugged as something else).
pub fn diff(
    before: &BTreeMap<String, DeviceInfo>,
    after: &BTreeMap<String, DeviceInfo>,
) -> Vec<HotplugEvent> {
    let mut events = Vec::new();
    for (id, dev) in before {
        if after.get(id) != Some(dev) {
            events.push(HotplugEvent::Left(dev.clone()));
        }
    }
    for (id, dev) in after {
        if before.get(id) != Some(dev) {
            events.push(HotplugEvent::Arrived(dev.clone()));
        }
    }
    events
}

/// A running hot-plug poller; receive its events from [`Watcher::events`]. Dropping it stops the
/// thread.
pub struct Watcher {
    /// Arrived/Left events, in the order they were seen.
    pub events: Receiver<HotplugEvent>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Drop for Watcher {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
