//! Which USB scanners the station supports, what is plugged in, opening by id, and hot-plug.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use super::recording::{DeviceDescription, Recording};
use super::replay::ReplayTransport;
use super::rusb_transport::{map_rusb_error, RusbTransport};
use super::transport::UsbTransport;
use super::{aes3500, nb1010, uru4000};
use crate::{DeviceError, DeviceInfo, DeviceKind, FingerprintScanner, Result};

/// A supported scanner model: the const table behind enumeration, open-by-id and the udev rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KnownDevice {
    /// idVendor.
    pub vendor_id: u16,
    /// idProduct.
    pub product_id: u16,
    /// Driver name, as in [`DeviceInfo::driver`].
    pub driver: &'static str,
    /// Human-readable model name.
    pub name: &'static str,
}

/// Every USB scanner the station drives. Keep in step with `drivers/udev/70-capture-station.rules`
/// (a test checks that every entry has a rule).
pub const KNOWN_DEVICES: &[KnownDevice] = &[
    KnownDevice {
        vendor_id: nb1010::VENDOR_ID,
        product_id: nb1010::PRODUCT_ID,
        driver: "nb1010",
        name: "NEXT Biometrics NB-1010-U",
    },
    KnownDevice {
        vendor_id: aes3500::VENDOR_ID,
        product_id: aes3500::PRODUCT_ID,
        driver: "aes3500",
        name: "AuthenTec AES3500",
    },
    KnownDevice {
        vendor_id: uru4000::URU4500.vendor_id,
        product_id: uru4000::URU4500.product_id,
        driver: "uru4000",
        name: uru4000::URU4500.name,
    },
    KnownDevice {
        vendor_id: uru4000::MS_V2.vendor_id,
        product_id: uru4000::MS_V2.product_id,
        driver: "uru4000",
        name: uru4000::MS_V2.name,
    },
];

/// The table entry for a VID/PID, if the station supports it.
pub fn lookup(vendor_id: u16, product_id: u16) -> Option<&'static KnownDevice> {
    KNOWN_DEVICES
        .iter()
        .find(|d| d.vendor_id == vendor_id && d.product_id == product_id)
}

/// One attached USB device, known or not (the device doctor lists them all).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsbDeviceEntry {
    /// Stable id, `usb:VVVV:PPPP@BUS-PORT.PORT` (or `@BUS.ADDRESS` when the port path is unknown).
    pub id: String,
    /// idVendor.
    pub vendor_id: u16,
    /// idProduct.
    pub product_id: u16,
    /// Bus number.
    pub bus: u8,
    /// Address on the bus (changes on every re-plug, unlike the port path).
    pub address: u8,
    /// The supported model, if any.
    pub known: Option<&'static KnownDevice>,
}

impl UsbDeviceEntry {
    /// Listing entry for a supported scanner; `None` for devices no driver handles.
    pub fn scanner_info(&self) -> Option<DeviceInfo> {
        self.known.map(|k| DeviceInfo {
            id: self.id.clone(),
            name: k.name.to_string(),
            kind: DeviceKind::FingerprintScanner,
            driver: k.driver.to_string(),
        })
    }
}

/// Builds the id from the physical port path, so that a scanner keeps its id across re-plugs
/// into the same socket.
pub fn device_id(vendor_id: u16, product_id: u16, bus: u8, address: u8, ports: &[u8]) -> String {
    if ports.is_empty() {
        format!("usb:{vendor_id:04x}:{product_id:04x}@{bus}.{address}")
    } else {
        let p: Vec<String> = ports.iter().map(|p| p.to_string()).collect();
        format!("usb:{vendor_id:04x}:{product_id:04x}@{bus}-{}", p.join("."))
    }
}

fn entry_of<T: rusb::UsbContext>(dev: &rusb::Device<T>) -> Option<UsbDeviceEntry> {
    let d = dev.device_descriptor().ok()?;
    let ports = dev.port_numbers().unwrap_or_default();
    Some(UsbDeviceEntry {
        id: device_id(
            d.vendor_id(),
            d.product_id(),
            dev.bus_number(),
            dev.address(),
            &ports,
        ),
        vendor_id: d.vendor_id(),
        product_id: d.product_id(),
        bus: dev.bus_number(),
        address: dev.address(),
        known: lookup(d.vendor_id(), d.product_id()),
    })
}

fn context() -> Result<rusb::Context> {
    rusb::Context::new().map_err(|e| map_rusb_error(e, "usb", Duration::ZERO))
}

/// Lists every attached USB device, marking supported scanners.
pub fn list_devices() -> Result<Vec<UsbDeviceEntry>> {
    let ctx = context()?;
    list_in(&ctx)
}

fn list_in(ctx: &rusb::Context) -> Result<Vec<UsbDeviceEntry>> {
    use rusb::UsbContext;
    let list = ctx
        .devices()
        .map_err(|e| map_rusb_error(e, "usb", Duration::ZERO))?;
    Ok(list.iter().filter_map(|d| entry_of(&d)).collect())
}

/// Lists attached, supported scanners.
pub fn list_scanners() -> Result<Vec<DeviceInfo>> {
    Ok(list_devices()?
        .iter()
        .filter_map(UsbDeviceEntry::scanner_info)
        .collect())
}

/// Opens a scanner by id. Accepts the full id from a listing, or `usb:VVVV:PPPP` for the first
/// attached device with that VID/PID.
pub fn open(id: &str) -> Result<Box<dyn FingerprintScanner>> {
    let (known, transport) = open_transport(id)?;
    let full_id = transport.device_id();
    open_with_transport(known, Box::new(transport), &full_id)
}

/// Opens the libusb transport of a supported scanner by id (as [`open`] accepts it) without
/// starting its driver, for callers that run a driver with settings of their own, such as a
/// U.are.U replay that must send the recorded scramble seed.
pub fn open_transport(id: &str) -> Result<(&'static KnownDevice, RusbTransport)> {
    use rusb::UsbContext;
    let ctx = context()?;
    let list = ctx
        .devices()
        .map_err(|e| map_rusb_error(e, id, Duration::ZERO))?;
    for dev in list.iter() {
        let Some(entry) = entry_of(&dev) else {
            continue;
        };
        let short = format!("usb:{:04x}:{:04x}", entry.vendor_id, entry.product_id);
        if entry.id != id && short != id {
            continue;
        }
        let known = entry.known.ok_or_else(|| {
            DeviceError::NotFound(format!("{id} is attached but no driver supports {short}"))
        })?;
        return Ok((known, RusbTransport::open(&dev, entry.id.clone())?));
    }
    Err(DeviceError::NotFound(id.to_string()))
}

/// Runs the driver for `known` over any transport (live, replayed, or recording).
pub fn open_with_transport(
    known: &KnownDevice,
    transport: Box<dyn UsbTransport>,
    id: &str,
) -> Result<Box<dyn FingerprintScanner>> {
    let info = DeviceInfo {
        id: id.to_string(),
        name: known.name.to_string(),
        kind: DeviceKind::FingerprintScanner,
        driver: known.driver.to_string(),
    };
    Ok(match known.driver {
        "nb1010" => Box::new(nb1010::Nb1010::open(transport, info)?),
        "aes3500" => Box::new(aes3500::Aes3500::open(transport, info)?),
        "uru4000" => {
            let profile = uru4000::profile_for(known.vendor_id, known.product_id)
                .ok_or_else(|| DeviceError::NotFound(id.to_string()))?;
            Box::new(uru4000::Uru4000::open(
                transport,
                info,
                profile,
                uru4000::Seed::Random,
            )?)
        }
        other => return Err(DeviceError::NotFound(format!("no driver named {other}"))),
    })
}

/// Opens a recorded session (umockdev device description + `.ioctl` or `.pcapng` recording) as
/// a scanner, so a user's recording replays through the same driver that produced it.
pub fn open_recording(
    device_file: &std::path::Path,
    recording_file: &std::path::Path,
) -> Result<Box<dyn FingerprintScanner>> {
    let desc = DeviceDescription::parse_umockdev(&std::fs::read_to_string(device_file)?)?;
    let bytes = std::fs::read(recording_file)?;
    let recording = if bytes.starts_with(&[0x0A, 0x0D, 0x0D, 0x0A]) {
        Recording::parse_pcapng(&bytes, Some((desc.bus, desc.address)))?
    } else {
        let text = String::from_utf8(bytes)
            .map_err(|_| DeviceError::Protocol("recording is neither pcapng nor text".into()))?;
        Recording::parse_ioctl(&text)?
    };
    let known = lookup(desc.vendor_id, desc.product_id).ok_or_else(|| {
        DeviceError::NotFound(format!(
            "usb:{:04x}:{:04x} (no driver)",
            desc.vendor_id, desc.product_id
        ))
    })?;
    let id = format!("replay:{}", recording_file.display());
    open_with_transport(
        known,
        Box::new(ReplayTransport::new(id.clone(), recording)),
        &id,
    )
}

/// A change in the set of attached USB devices.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UsbEvent {
    /// A device appeared (also reported once for every device present when watching starts).
    Arrived(UsbDeviceEntry),
    /// A device went away.
    Left(UsbDeviceEntry),
}

/// How a [`UsbWatcher`] learns about changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WatchMode {
    /// libusb hot-plug callbacks (Linux with udev or netlink).
    Hotplug,
    /// Re-enumerating at this interval, where libusb has no hot-plug support.
    Polling(Duration),
}

/// Events between two enumerations: what appeared and what went away (matched by id and
/// address, so a re-plug into the same port shows as Left + Arrived).
pub fn diff_devices(before: &[UsbDeviceEntry], after: &[UsbDeviceEntry]) -> Vec<UsbEvent> {
    let key = |e: &UsbDeviceEntry| (e.id.clone(), e.bus, e.address);
    let mut events: Vec<UsbEvent> = before
        .iter()
        .filter(|b| !after.iter().any(|a| key(a) == key(b)))
        .cloned()
        .map(UsbEvent::Left)
        .collect();
    events.extend(
        after
            .iter()
            .filter(|a| !before.iter().any(|b| key(a) == key(b)))
            .cloned()
            .map(UsbEvent::Arrived),
    );
    events
}

/// Watches for USB devices arriving and leaving, on a background thread that stops when the
/// watcher is dropped.
pub struct UsbWatcher {
    rx: Receiver<UsbEvent>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    mode: WatchMode,
}

impl std::fmt::Debug for UsbWatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UsbWatcher")
            .field("mode", &self.mode)
            .finish()
    }
}

struct HotplugSink {
    tx: Sender<UsbEvent>,
    seen: Vec<UsbDeviceEntry>,
}

impl rusb::Hotplug<rusb::Context> for HotplugSink {
    fn device_arrived(&mut self, device: rusb::Device<rusb::Context>) {
        if let Some(e) = entry_of(&device) {
            self.seen.push(e.clone());
            let _ = self.tx.send(UsbEvent::Arrived(e));
        }
    }
    fn device_left(&mut self, device: rusb::Device<rusb::Context>) {
        // Descriptors may be gone already: identify the device by bus and address.
        let (bus, addr) = (device.bus_number(), device.address());
        if let Some(pos) = self
            .seen
            .iter()
            .position(|e| e.bus == bus && e.address == addr)
        {
            let _ = self.tx.send(UsbEvent::Left(self.seen.remove(pos)));
        }
    }
}

impl UsbWatcher {
    /// Starts watching with hot-plug callbacks when libusb supports them, else by polling every
    /// second. Devices already attached are reported as `Arrived` first.
    pub fn start() -> Result<Self> {
        if rusb::has_hotplug() {
            Self::start_hotplug()
        } else {
            Self::start_polling(Duration::from_secs(1))
        }
    }

    /// Starts watching by re-enumerating every `interval` (used where hot-plug is unavailable,
    /// and usable anywhere).
    pub fn start_polling(interval: Duration) -> Result<Self> {
        let ctx = context()?;
        let (tx, rx) = mpsc::channel();
        let stop = Arc::new(AtomicBool::new(false));
        let stop2 = stop.clone();
        let thread = std::thread::Builder::new()
            .name("usb-watch".into())
            .spawn(move || {
                let mut known: Vec<UsbDeviceEntry> = Vec::new();
                while !stop2.load(Ordering::Relaxed) {
                    if let Ok(now) = list_in(&ctx) {
                        for ev in diff_devices(&known, &now) {
                            if tx.send(ev).is_err() {
                                return;
                            }
                        }
                        known = now;
                    }
                    let mut slept = Duration::ZERO;
                    while slept < interval && !stop2.load(Ordering::Relaxed) {
                        let step = Duration::from_millis(50).min(interval - slept);
                        std::thread::sleep(step);
                        slept += step;
                    }
                }
            })?;
        Ok(Self {
            rx,
            stop,
            thread: Some(thread),
            mode: WatchMode::Polling(interval),
        })
    }

    fn start_hotplug() -> Result<Self> {
        use rusb::UsbContext;
        let ctx = context()?;
        let (tx, rx) = mpsc::channel();
        let stop = Arc::new(AtomicBool::new(false));
        let stop2 = stop.clone();
        let registration = rusb::HotplugBuilder::new()
            .enumerate(true)
            .register(
                &ctx,
                Box::new(HotplugSink {
                    tx,
                    seen: Vec::new(),
                }),
            )
            .map_err(|e| map_rusb_error(e, "usb hotplug", Duration::ZERO))?;
        let thread = std::thread::Builder::new()
            .name("usb-hotplug".into())
            .spawn(move || {
                let _registration = registration;
                while !stop2.load(Ordering::Relaxed) {
                    if ctx.handle_events(Some(Duration::from_millis(100))).is_err() {
                        std::thread::sleep(Duration::from_millis(100));
                    }
                }
            })?;
        Ok(Self {
            rx,
            stop,
            thread: Some(thread),
            mode: WatchMode::Hotplug,
        })
    }

    /// Which mechanism this watcher uses.
    pub fn mode(&self) -> WatchMode {
        self.mode
    }

    /// The next event, waiting at most `timeout`; `None` when nothing changed.
    pub fn next_event(&self, timeout: Duration) -> Option<UsbEvent> {
        self.rx.recv_timeout(timeout).ok()
    }
}

impl Drop for UsbWatcher {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The USB scanners as a [`crate::manager::Backend`], so the device manager lists and opens
/// them beside simulated devices, cameras and serial sensors. Ids start with `usb:`.
#[derive(Debug, Default, Clone, Copy)]
pub struct UsbBackend;

impl crate::manager::Backend for UsbBackend {
    fn name(&self) -> &str {
        "usb"
    }

    fn list(&self) -> Result<Vec<DeviceInfo>> {
        list_scanners()
    }

    fn open_scanner(&self, id: &str) -> Result<Box<dyn FingerprintScanner>> {
        if !id.starts_with("usb:") {
            return Err(crate::DeviceError::NotFound(id.to_owned()));
        }
        open(id)
    }
}
