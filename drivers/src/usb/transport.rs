//! The seam between USB scanner protocols and the bytes on the wire.
//!
//! Every protocol state machine in this module talks to its device only through
//! [`UsbTransport`], so the same driver code runs against a real device ([`super::RusbTransport`]),
//! a recorded exchange ([`super::ReplayTransport`]) or a recorder wrapped around either
//! ([`super::RecordingTransport`]). That is what makes field problems reproducible: a user's
//! recording replays through exactly the code that failed.

use std::time::Duration;

use crate::{DeviceError, Result};

/// USB transfer types that fingerprint scanners use (isochronous is not used by any of them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TransferKind {
    /// Control transfer on endpoint 0 (register access on the U.are.U family).
    Control,
    /// Bulk transfer (commands and image data on most sensors).
    Bulk,
    /// Interrupt transfer (finger-on / finger-off events on the U.are.U family).
    Interrupt,
}

impl TransferKind {
    /// The URB type number used by usbdevfs, usbmon and the umockdev text format
    /// (0 iso, 1 interrupt, 2 control, 3 bulk), so recordings stay interchangeable.
    pub const fn urb_type(self) -> u8 {
        match self {
            TransferKind::Interrupt => 1,
            TransferKind::Control => 2,
            TransferKind::Bulk => 3,
        }
    }

    /// Inverse of [`TransferKind::urb_type`]; `None` for isochronous or unknown numbers.
    pub const fn from_urb_type(t: u8) -> Option<Self> {
        match t {
            1 => Some(TransferKind::Interrupt),
            2 => Some(TransferKind::Control),
            3 => Some(TransferKind::Bulk),
            _ => None,
        }
    }
}

/// The 8-byte SETUP packet of a control transfer, kept as fields so that drivers and error
/// messages read naturally, and converted to bytes only for recording and matching.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ControlSetup {
    /// bmRequestType; bit 7 set means device-to-host (a read).
    pub request_type: u8,
    /// bRequest.
    pub request: u8,
    /// wValue (the first register, for the U.are.U register protocol).
    pub value: u16,
    /// wIndex.
    pub index: u16,
    /// wLength: bytes in the data stage.
    pub length: u16,
}

impl ControlSetup {
    /// The wire form (little-endian 16-bit fields), as usbmon and usbdevfs store it.
    pub fn to_bytes(&self) -> [u8; 8] {
        let v = self.value.to_le_bytes();
        let i = self.index.to_le_bytes();
        let l = self.length.to_le_bytes();
        [
            self.request_type,
            self.request,
            v[0],
            v[1],
            i[0],
            i[1],
            l[0],
            l[1],
        ]
    }

    /// Parses the wire form.
    pub fn from_bytes(b: [u8; 8]) -> Self {
        Self {
            request_type: b[0],
            request: b[1],
            value: u16::from_le_bytes([b[2], b[3]]),
            index: u16::from_le_bytes([b[4], b[5]]),
            length: u16::from_le_bytes([b[6], b[7]]),
        }
    }

    /// True for device-to-host requests.
    pub fn is_in(&self) -> bool {
        self.request_type & 0x80 != 0
    }
}

/// Blocking USB I/O on one opened device, with an explicit timeout on every transfer.
///
/// Reads return the number of bytes received, which may be less than the buffer: a short
/// transfer is not an error here, because only the protocol knows whether it is one. Errors are
/// already mapped to [`DeviceError`] (`Disconnected` when the device is gone, `Timeout` when the
/// transfer did not complete in time), so protocols can propagate them with `?`.
pub trait UsbTransport: Send {
    /// Stable id of the device behind this transport, used in error messages.
    fn device_id(&self) -> String;
    /// Claims an interface; protocols claim before their first transfer.
    fn claim_interface(&mut self, interface: u8) -> Result<()>;
    /// Releases a claimed interface (on close).
    fn release_interface(&mut self, interface: u8) -> Result<()>;
    /// Bulk IN on `endpoint` (direction bit set) into `buf`.
    fn read_bulk(&mut self, endpoint: u8, buf: &mut [u8], timeout: Duration) -> Result<usize>;
    /// Bulk OUT of `data` on `endpoint`; returns bytes written.
    fn write_bulk(&mut self, endpoint: u8, data: &[u8], timeout: Duration) -> Result<usize>;
    /// Interrupt IN on `endpoint` into `buf`.
    fn read_interrupt(&mut self, endpoint: u8, buf: &mut [u8], timeout: Duration) -> Result<usize>;
    /// Interrupt OUT of `data` on `endpoint`.
    fn write_interrupt(&mut self, endpoint: u8, data: &[u8], timeout: Duration) -> Result<usize>;
    /// Control transfer with a device-to-host data stage (`setup.length` = `buf.len()`).
    fn read_control(
        &mut self,
        setup: ControlSetup,
        buf: &mut [u8],
        timeout: Duration,
    ) -> Result<usize>;
    /// Control transfer with a host-to-device data stage (`setup.length` = `data.len()`).
    fn write_control(
        &mut self,
        setup: ControlSetup,
        data: &[u8],
        timeout: Duration,
    ) -> Result<usize>;

    /// Keeps an interrupt IN read of `len` bytes posted on `endpoint` from now until the
    /// interface is released, re-posting it as each report arrives; later
    /// [`UsbTransport::read_interrupt`] calls on that endpoint return the queued reports in
    /// order. Why: hosts such as libfprint keep the event endpoint listening while they program
    /// registers, and umockdev replaying such a host's capture hands out URBs only in the
    /// recorded submission order. Transports that replay in completion order need nothing,
    /// hence the default.
    fn listen_interrupt(&mut self, endpoint: u8, len: usize) -> Result<()> {
        let _ = (endpoint, len);
        Ok(())
    }

    /// Posts a bulk IN read on `endpoint`, performs the control `writes` while it is pending,
    /// then waits for the read. Why: a sensor that streams its image as soon as the capture
    /// mode is written needs the read already posted, and a recorded host did exactly that. The
    /// default (writes, then the read) is the same exchange in completion order.
    fn read_bulk_posted_before(
        &mut self,
        endpoint: u8,
        buf: &mut [u8],
        timeout: Duration,
        writes: &[(ControlSetup, &[u8])],
    ) -> Result<usize> {
        for (setup, data) in writes {
            let n = self.write_control(*setup, data, timeout)?;
            check_written(n, data.len())?;
        }
        self.read_bulk(endpoint, buf, timeout)
    }
}

/// A control write that moved fewer bytes than offered is a protocol failure for every
/// register protocol here.
pub(crate) fn check_written(written: usize, offered: usize) -> Result<()> {
    if written == offered {
        Ok(())
    } else {
        Err(DeviceError::Protocol(format!(
            "control write moved {written} of {offered} bytes"
        )))
    }
}

impl<T: UsbTransport + ?Sized> UsbTransport for Box<T> {
    fn device_id(&self) -> String {
        (**self).device_id()
    }
    fn claim_interface(&mut self, interface: u8) -> Result<()> {
        (**self).claim_interface(interface)
    }
    fn release_interface(&mut self, interface: u8) -> Result<()> {
        (**self).release_interface(interface)
    }
    fn read_bulk(&mut self, endpoint: u8, buf: &mut [u8], timeout: Duration) -> Result<usize> {
        (**self).read_bulk(endpoint, buf, timeout)
    }
    fn write_bulk(&mut self, endpoint: u8, data: &[u8], timeout: Duration) -> Result<usize> {
        (**self).write_bulk(endpoint, data, timeout)
    }
    fn read_interrupt(&mut self, endpoint: u8, buf: &mut [u8], timeout: Duration) -> Result<usize> {
        (**self).read_interrupt(endpoint, buf, timeout)
    }
    fn write_interrupt(&mut self, endpoint: u8, data: &[u8], timeout: Duration) -> Result<usize> {
        (**self).write_interrupt(endpoint, data, timeout)
    }
    fn read_control(
        &mut self,
        setup: ControlSetup,
        buf: &mut [u8],
        timeout: Duration,
    ) -> Result<usize> {
        (**self).read_control(setup, buf, timeout)
    }
    fn write_control(
        &mut self,
        setup: ControlSetup,
        data: &[u8],
        timeout: Duration,
    ) -> Result<usize> {
        (**self).write_control(setup, data, timeout)
    }
    fn listen_interrupt(&mut self, endpoint: u8, len: usize) -> Result<()> {
        (**self).listen_interrupt(endpoint, len)
    }
    fn read_bulk_posted_before(
        &mut self,
        endpoint: u8,
        buf: &mut [u8],
        timeout: Duration,
        writes: &[(ControlSetup, &[u8])],
    ) -> Result<usize> {
        (**self).read_bulk_posted_before(endpoint, buf, timeout, writes)
    }
}

/// A transport shared between a driver and the code around it, so that a recorder's
/// [`super::RecordingTransport::recording`] can be read while (or after) a driver that owns a
/// boxed handle runs. A poisoned lock still hands out the transport: the transfers themselves
/// hold no invariant that a panic elsewhere could have broken.
impl<T: UsbTransport> UsbTransport for std::sync::Arc<std::sync::Mutex<T>> {
    fn device_id(&self) -> String {
        lock(self).device_id()
    }
    fn claim_interface(&mut self, interface: u8) -> Result<()> {
        lock(self).claim_interface(interface)
    }
    fn release_interface(&mut self, interface: u8) -> Result<()> {
        lock(self).release_interface(interface)
    }
    fn read_bulk(&mut self, endpoint: u8, buf: &mut [u8], timeout: Duration) -> Result<usize> {
        lock(self).read_bulk(endpoint, buf, timeout)
    }
    fn write_bulk(&mut self, endpoint: u8, data: &[u8], timeout: Duration) -> Result<usize> {
        lock(self).write_bulk(endpoint, data, timeout)
    }
    fn read_interrupt(&mut self, endpoint: u8, buf: &mut [u8], timeout: Duration) -> Result<usize> {
        lock(self).read_interrupt(endpoint, buf, timeout)
    }
    fn write_interrupt(&mut self, endpoint: u8, data: &[u8], timeout: Duration) -> Result<usize> {
        lock(self).write_interrupt(endpoint, data, timeout)
    }
    fn read_control(
        &mut self,
        setup: ControlSetup,
        buf: &mut [u8],
        timeout: Duration,
    ) -> Result<usize> {
        lock(self).read_control(setup, buf, timeout)
    }
    fn write_control(
        &mut self,
        setup: ControlSetup,
        data: &[u8],
        timeout: Duration,
    ) -> Result<usize> {
        lock(self).write_control(setup, data, timeout)
    }
    fn listen_interrupt(&mut self, endpoint: u8, len: usize) -> Result<()> {
        lock(self).listen_interrupt(endpoint, len)
    }
    fn read_bulk_posted_before(
        &mut self,
        endpoint: u8,
        buf: &mut [u8],
        timeout: Duration,
        writes: &[(ControlSetup, &[u8])],
    ) -> Result<usize> {
        lock(self).read_bulk_posted_before(endpoint, buf, timeout, writes)
    }
}

fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Maps a negative Linux errno, as stored in usbmon and usbdevfs URB status fields, to the
/// device error the live transport would have produced, so a replayed failure looks exactly
/// like the original one to the driver.
pub fn status_to_error(status: i32, device: &str, timeout: Duration) -> DeviceError {
    match -status {
        19 | 108 => DeviceError::Disconnected(device.to_string()), // ENODEV, ESHUTDOWN
        110 => DeviceError::Timeout(timeout, "USB transfer"),      // ETIMEDOUT
        2 | 104 => DeviceError::Cancelled,                         // ENOENT, ECONNRESET (unlinked)
        32 => DeviceError::Protocol("endpoint stalled (EPIPE)".into()),
        71 | 84 => DeviceError::Protocol(format!("USB protocol error (status {status})")),
        75 => DeviceError::Protocol("device sent more data than requested (EOVERFLOW)".into()),
        e => DeviceError::Io(std::io::Error::from_raw_os_error(e)),
    }
}

/// Inverse of [`status_to_error`], used by the recorder to store a failed transfer.
pub fn error_to_status(err: &DeviceError) -> i32 {
    match err {
        DeviceError::Disconnected(_) => -19,
        DeviceError::Timeout(..) => -110,
        DeviceError::Cancelled => -2,
        DeviceError::Io(e) => e.raw_os_error().map(|e| -e).unwrap_or(-5),
        _ => -71,
    }
}

/// Remaining time until `deadline`, or a typed timeout naming what was awaited. Protocols use it
/// to cap each transfer so that a whole capture never outlives the caller's timeout.
pub(crate) fn remaining(
    deadline: std::time::Instant,
    total: Duration,
    what: &'static str,
) -> Result<Duration> {
    let now = std::time::Instant::now();
    if now >= deadline {
        return Err(DeviceError::Timeout(total, what));
    }
    Ok(deadline - now)
}
