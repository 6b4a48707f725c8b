//! The live transport: libusb through `rusb`, with libusb errors mapped to the device layer's
//! typed errors so the UI can tell an unplugged scanner from a missing udev rule.

use std::time::Duration;

use super::transport::{ControlSetup, UsbTransport};
use crate::{DeviceError, Result};

/// An opened USB device.
pub struct RusbTransport {
    handle: rusb::DeviceHandle<rusb::Context>,
    id: String,
    claimed: Vec<u8>,
}

impl std::fmt::Debug for RusbTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RusbTransport")
            .field("id", &self.id)
            .field("claimed", &self.claimed)
            .finish()
    }
}

/// Maps a libusb error for `device` to the device layer's error. `what` names the operation for
/// timeouts.
pub fn map_rusb_error(e: rusb::Error, device: &str, timeout: Duration) -> DeviceError {
    match e {
        rusb::Error::NoDevice => DeviceError::Disconnected(device.to_string()),
        rusb::Error::Timeout => DeviceError::Timeout(timeout, "USB transfer"),
        rusb::Error::Access => DeviceError::PermissionDenied {
            device: device.to_string(),
            hint: "install drivers/udev/70-capture-station.rules and re-plug the scanner, or add the user to the plugdev group".into(),
        },
        rusb::Error::NotFound => DeviceError::NotFound(device.to_string()),
        rusb::Error::Busy => DeviceError::Device(format!("{device} is in use by another program or kernel driver")),
        rusb::Error::Pipe => DeviceError::Protocol("endpoint stalled".into()),
        rusb::Error::Overflow => DeviceError::Protocol("device sent more data than requested".into()),
        rusb::Error::Interrupted => DeviceError::Cancelled,
        other => DeviceError::Io(std::io::Error::other(format!("libusb: {other}"))),
    }
}

impl RusbTransport {
    /// Opens `device`, reporting `id` in errors. A kernel driver bound to an interface is
    /// detached when the interface is claimed.
    pub fn open(device: &rusb::Device<rusb::Context>, id: impl Into<String>) -> Result<Self> {
        let id = id.into();
        let handle = device
            .open()
            .map_err(|e| map_rusb_error(e, &id, Duration::ZERO))?;
        Ok(Self {
            handle,
            id,
            claimed: Vec::new(),
        })
    }

    fn err(&self, timeout: Duration) -> impl Fn(rusb::Error) -> DeviceError + '_ {
        move |e| map_rusb_error(e, &self.id, timeout)
    }
}

impl Drop for RusbTransport {
    fn drop(&mut self) {
        for i in std::mem::take(&mut self.claimed) {
            let _ = self.handle.release_interface(i);
        }
    }
}

impl UsbTransport for RusbTransport {
    fn device_id(&self) -> String {
        self.id.clone()
    }
    fn claim_interface(&mut self, interface: u8) -> Result<()> {
        // Only detach when a kernel driver is known to be bound: libusb's automatic detach fails
        // the claim outright where the query is unsupported (umockdev, some sandboxes).
        if let Ok(true) = self.handle.kernel_driver_active(interface) {
            self.handle
                .detach_kernel_driver(interface)
                .map_err(self.err(Duration::ZERO))?;
        }
        self.handle
            .claim_interface(interface)
            .map_err(self.err(Duration::ZERO))?;
        self.claimed.push(interface);
        Ok(())
    }
    fn release_interface(&mut self, interface: u8) -> Result<()> {
        self.claimed.retain(|i| *i != interface);
        self.handle
            .release_interface(interface)
            .map_err(self.err(Duration::ZERO))
    }
    fn read_bulk(&mut self, endpoint: u8, buf: &mut [u8], timeout: Duration) -> Result<usize> {
        self.handle
            .read_bulk(endpoint, buf, timeout)
            .map_err(self.err(timeout))
    }
    fn write_bulk(&mut self, endpoint: u8, data: &[u8], timeout: Duration) -> Result<usize> {
        self.handle
            .write_bulk(endpoint, data, timeout)
            .map_err(self.err(timeout))
    }
    fn read_interrupt(&mut self, endpoint: u8, buf: &mut [u8], timeout: Duration) -> Result<usize> {
        self.handle
            .read_interrupt(endpoint, buf, timeout)
            .map_err(self.err(timeout))
    }
    fn write_interrupt(&mut self, endpoint: u8, data: &[u8], timeout: Duration) -> Result<usize> {
        self.handle
            .write_interrupt(endpoint, data, timeout)
            .map_err(self.err(timeout))
    }
    fn read_control(
        &mut self,
        s: ControlSetup,
        buf: &mut [u8],
        timeout: Duration,
    ) -> Result<usize> {
        self.handle
            .read_control(s.request_type, s.request, s.value, s.index, buf, timeout)
            .map_err(self.err(timeout))
    }
    fn write_control(&mut self, s: ControlSetup, data: &[u8], timeout: Duration) -> Result<usize> {
        self.handle
            .write_control(s.request_type, s.request, s.value, s.index, data, timeout)
            .map_err(self.err(timeout))
    }
}
