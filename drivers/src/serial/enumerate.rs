//! Finding R30x modules: list the serial ports, probe them with the handshake, open one by path,
//! and a [`Backend`] so the device manager can list and open `serial:<path>` ids.
//!
//! A UART cannot say what is on the other end, so identification means talking to it: a probe
//! sends VfyPwd at each candidate baud rate and calls the port an R30x when a well-formed
//! acknowledge comes back. Probing writes bytes to the port, so only USB-serial ports are probed
//! automatically; other paths can be named explicitly.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use serialport::SerialPortType;

use super::client::{baud_candidates, LinkSettings, R30x, R30xError};
use super::link::SystemPort;
use super::protocol::{SystemParameters, DEFAULT_BAUD};
use super::scanner::{R30xScanner, DRIVER_NAME};
use crate::manager::Backend;
use crate::{DeviceError, DeviceInfo, DeviceKind, FingerprintScanner, Result};

/// Prefix of serial device ids (`serial:/dev/ttyUSB0`).
pub const ID_PREFIX: &str = "serial:";

/// The scanner type [`open`] returns: an R30x on a real port.
pub type SerialScanner = R30xScanner<SystemPort>;

/// A serial port the OS reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortEntry {
    /// Device path (`/dev/ttyUSB0`, `COM3`).
    pub path: String,
    /// USB vendor/product ids when it is a USB-serial adapter.
    pub usb: Option<(u16, u16)>,
    /// Human-readable description (adapter product name, or the port type).
    pub description: String,
}

/// A port where a probe got an R30x answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct R30xCandidate {
    /// The port.
    pub port: PortEntry,
    /// Baud rate the module answered at.
    pub baud: u32,
    /// Its system parameters.
    pub params: SystemParameters,
}

/// How to probe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeOptions {
    /// Baud tried first (then the standard list).
    pub baud: u32,
    /// Reply timeout per baud rate tried.
    pub per_try: Duration,
    /// Module address and password.
    pub settings: LinkSettings,
    /// Probe every listed port, not only USB-serial adapters (sends bytes to built-in UARTs).
    pub all_ports: bool,
    /// Additional paths to probe (ptys, `/dev/serial0` on a Raspberry Pi).
    pub extra_paths: Vec<String>,
}

impl Default for ProbeOptions {
    fn default() -> Self {
        ProbeOptions { baud: DEFAULT_BAUD, per_try: Duration::from_millis(200), settings: LinkSettings::default(), all_ports: false, extra_paths: Vec::new() }
    }
}

/// Lists the serial ports the OS knows, without touching them.
pub fn list_ports() -> Result<Vec<PortEntry>> {
    let ports = serialport::available_ports().map_err(|e| DeviceError::Io(e.into()))?;
    Ok(ports
        .into_iter()
        .map(|p| {
            let (usb, description) = match &p.port_type {
                SerialPortType::UsbPort(u) => (Some((u.vid, u.pid)), u.product.clone().unwrap_or_else(|| format!("USB serial {:04x}:{:04x}", u.vid, u.pid))),
                SerialPortType::PciPort => (None, "PCI serial port".into()),
                SerialPortType::BluetoothPort => (None, "Bluetooth serial port".into()),
                SerialPortType::Unknown => (None, "serial port".into()),
            };
            PortEntry { path: p.port_name, usb, description }
        })
        .collect())
}

fn map_open_error(path: &str, e: std::io::Error) -> DeviceError {
    match e.kind() {
        std::io::ErrorKind::NotFound => DeviceError::NotFound(format!("{ID_PREFIX}{path}")),
        std::io::ErrorKind::PermissionDenied => {
            DeviceError::PermissionDenied { device: path.to_owned(), hint: "add the user to the dialout (Debian) or uucp (Arch) group".into() }
        }
        _ => DeviceError::Io(e),
    }
}

/// Probes one port: opens it and negotiates the baud rate with a handshake. `Ok(None)` when
/// nothing on the port speaks the protocol; an error when the port cannot be opened or an R30x
/// answered but refused (a wrong password, say).
pub fn probe(path: &str, options: &ProbeOptions) -> Result<Option<(u32, SystemParameters)>> {
    let link = SystemPort::open(path, options.baud).map_err(|e| map_open_error(path, e))?;
    let mut client = R30x::new(link, options.settings);
    match client.negotiate_baud(&baud_candidates(options.baud), options.per_try) {
        Ok(found) => Ok(Some(found)),
        Err(R30xError::NoBaudAnswered { .. }) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Lists ports and probes the USB-serial ones (all with `options.all_ports`, plus
/// `options.extra_paths`), returning those where an R30x answered. Ports that fail to open
/// (busy, no permission) are skipped: they are not identifiable.
pub fn list_r30x_candidates(options: &ProbeOptions) -> Result<Vec<R30xCandidate>> {
    let mut ports: Vec<PortEntry> = list_ports()?.into_iter().filter(|p| options.all_ports || p.usb.is_some()).collect();
    for extra in &options.extra_paths {
        if !ports.iter().any(|p| &p.path == extra) {
            ports.push(PortEntry { path: extra.clone(), usb: None, description: "serial port (named)".into() });
        }
    }
    Ok(ports
        .into_iter()
        .filter_map(|port| match probe(&port.path, options) {
            Ok(Some((baud, params))) => Some(R30xCandidate { port, baud, params }),
            _ => None,
        })
        .collect())
}

/// Opens the R30x at `path`: tries `baud` first, then the standard rates, handshakes, and
/// returns the scanner with the port left at the baud that answered.
pub fn open(path: &str, baud: u32) -> Result<SerialScanner> {
    open_with(path, baud, LinkSettings::default())
}

/// [`open`] with an explicit address, password and reply timeout.
pub fn open_with(path: &str, baud: u32, settings: LinkSettings) -> Result<SerialScanner> {
    let link = SystemPort::open(path, baud).map_err(|e| map_open_error(path, e))?;
    let mut client = R30x::new(link, settings);
    let per_try = settings.timeout.min(Duration::from_millis(300));
    let (_, params) = client.negotiate_baud(&baud_candidates(baud), per_try)?;
    Ok(R30xScanner::new(client, params, format!("{ID_PREFIX}{path}")))
}

/// The serial backend for [`crate::manager::DeviceManager`]: lists USB-serial ports where an
/// R30x answered, as `serial:<path>`.
///
/// `list` is polled for hot-plug, and a probe talks to the device, so each port is probed once
/// when it appears and the answer is cached until it disappears. A port this process holds open
/// keeps its cached answer (a second open would fail as busy).
#[derive(Debug, Default)]
pub struct SerialBackend {
    options: ProbeOptions,
    cache: Mutex<HashMap<String, Option<SystemParameters>>>,
}

impl SerialBackend {
    /// A backend probing with `options`.
    pub fn new(options: ProbeOptions) -> Self {
        SerialBackend { options, cache: Mutex::new(HashMap::new()) }
    }
}

impl Backend for SerialBackend {
    fn name(&self) -> &str {
        "serial"
    }

    fn list(&self) -> Result<Vec<DeviceInfo>> {
        let mut paths: Vec<String> = list_ports()?.into_iter().filter(|p| self.options.all_ports || p.usb.is_some()).map(|p| p.path).collect();
        for extra in &self.options.extra_paths {
            if std::path::Path::new(extra).exists() && !paths.contains(extra) {
                paths.push(extra.clone());
            }
        }
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        cache.retain(|k, _| paths.contains(k));
        let mut out = Vec::new();
        for path in paths {
            let entry = cache.entry(path.clone()).or_insert_with(|| probe(&path, &self.options).ok().flatten().map(|(_, p)| p));
            if let Some(params) = entry {
                out.push(DeviceInfo {
                    id: format!("{ID_PREFIX}{path}"),
                    name: format!("R30x/AS608 optical sensor (system id 0x{:04X}, {} templates)", params.system_id, params.library_size),
                    kind: DeviceKind::FingerprintScanner,
                    driver: DRIVER_NAME.into(),
                });
            }
        }
        Ok(out)
    }

    fn open_scanner(&self, id: &str) -> Result<Box<dyn FingerprintScanner>> {
        let path = id.strip_prefix(ID_PREFIX).ok_or_else(|| DeviceError::NotFound(id.to_owned()))?;
        Ok(Box::new(open_with(path, self.options.baud, self.options.settings)?))
    }
}
