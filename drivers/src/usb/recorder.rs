//! Recording a live session into the replay format, so that a problem seen on a user's station
//! can be reproduced exactly: the user sends the `.ioctl` file, a developer replays it through
//! the same driver with [`super::ReplayTransport`].

use std::time::Duration;

use super::recording::{Recording, Transfer};
use super::transport::{error_to_status, ControlSetup, TransferKind, UsbTransport};
use crate::Result;

/// Wraps any transport and records every transfer (including failed ones, with their errno
/// status) in completion order.
#[derive(Debug)]
pub struct RecordingTransport<T> {
    inner: T,
    recording: Recording,
}

impl<T: UsbTransport> RecordingTransport<T> {
    /// Starts recording transfers made through `inner`. `device_node` goes into the `@DEV` line
    /// (`/dev/bus/usb/BBB/DDD`), which `umockdev-run -i` uses to attach the script.
    pub fn new(inner: T, device_node: Option<String>) -> Self {
        Self {
            inner,
            recording: Recording {
                device_node,
                transfers: Vec::new(),
            },
        }
    }

    /// What has been recorded so far.
    pub fn recording(&self) -> &Recording {
        &self.recording
    }

    /// Stops recording and returns the wrapped transport and the recording.
    pub fn into_parts(self) -> (T, Recording) {
        (self.inner, self.recording)
    }

    /// Writes the recording in the umockdev `.ioctl` text format.
    pub fn save(&self, path: &std::path::Path) -> std::io::Result<()> {
        std::fs::write(path, self.recording.to_ioctl())
    }

    fn push(
        &mut self,
        kind: TransferKind,
        endpoint: u8,
        setup: Option<ControlSetup>,
        requested: usize,
        data: &[u8],
        result: &Result<usize>,
    ) {
        let (data, status) = match result {
            Ok(n) => (data[..(*n).min(data.len())].to_vec(), 0),
            // A failed OUT keeps its payload: replay matches OUT transfers on their bytes.
            Err(e) if endpoint & 0x80 == 0 => (data.to_vec(), error_to_status(e)),
            Err(e) => (Vec::new(), error_to_status(e)),
        };
        self.recording.transfers.push(Transfer {
            kind,
            endpoint,
            setup,
            requested,
            data,
            status,
        });
    }
}

impl<T: UsbTransport> UsbTransport for RecordingTransport<T> {
    fn device_id(&self) -> String {
        self.inner.device_id()
    }
    fn claim_interface(&mut self, interface: u8) -> Result<()> {
        self.inner.claim_interface(interface)
    }
    fn release_interface(&mut self, interface: u8) -> Result<()> {
        self.inner.release_interface(interface)
    }
    fn read_bulk(&mut self, endpoint: u8, buf: &mut [u8], timeout: Duration) -> Result<usize> {
        let r = self.inner.read_bulk(endpoint, buf, timeout);
        self.push(TransferKind::Bulk, endpoint, None, buf.len(), buf, &r);
        r
    }
    fn write_bulk(&mut self, endpoint: u8, data: &[u8], timeout: Duration) -> Result<usize> {
        let r = self.inner.write_bulk(endpoint, data, timeout);
        // An OUT record keeps the full payload: replay matches on what the driver offered.
        self.push(
            TransferKind::Bulk,
            endpoint,
            None,
            data.len(),
            data,
            &r.as_ref().map(|_| data.len()).map_err(clone_err),
        );
        r
    }
    fn read_interrupt(&mut self, endpoint: u8, buf: &mut [u8], timeout: Duration) -> Result<usize> {
        let r = self.inner.read_interrupt(endpoint, buf, timeout);
        self.push(TransferKind::Interrupt, endpoint, None, buf.len(), buf, &r);
        r
    }
    fn write_interrupt(&mut self, endpoint: u8, data: &[u8], timeout: Duration) -> Result<usize> {
        let r = self.inner.write_interrupt(endpoint, data, timeout);
        self.push(
            TransferKind::Interrupt,
            endpoint,
            None,
            data.len(),
            data,
            &r.as_ref().map(|_| data.len()).map_err(clone_err),
        );
        r
    }
    fn read_control(
        &mut self,
        setup: ControlSetup,
        buf: &mut [u8],
        timeout: Duration,
    ) -> Result<usize> {
        let r = self.inner.read_control(setup, buf, timeout);
        self.push(TransferKind::Control, 0x80, Some(setup), buf.len(), buf, &r);
        r
    }
    fn write_control(
        &mut self,
        setup: ControlSetup,
        data: &[u8],
        timeout: Duration,
    ) -> Result<usize> {
        let r = self.inner.write_control(setup, data, timeout);
        self.push(
            TransferKind::Control,
            0x00,
            Some(setup),
            data.len(),
            data,
            &r.as_ref().map(|_| data.len()).map_err(clone_err),
        );
        r
    }
    fn listen_interrupt(&mut self, endpoint: u8, len: usize) -> Result<()> {
        self.inner.listen_interrupt(endpoint, len)
    }
    fn read_bulk_posted_before(
        &mut self,
        endpoint: u8,
        buf: &mut [u8],
        timeout: Duration,
        writes: &[(ControlSetup, &[u8])],
    ) -> Result<usize> {
        let r = self
            .inner
            .read_bulk_posted_before(endpoint, buf, timeout, writes);
        // Completion order: the writes finished while the read was still posted.
        for (setup, data) in writes {
            self.push(
                TransferKind::Control,
                0x00,
                Some(*setup),
                data.len(),
                data,
                &Ok(data.len()),
            );
        }
        self.push(TransferKind::Bulk, endpoint, None, buf.len(), buf, &r);
        r
    }
}

/// Enough of an error to record its status (the original is returned to the caller).
fn clone_err(e: &crate::DeviceError) -> crate::DeviceError {
    use crate::DeviceError as E;
    match e {
        E::Disconnected(s) => E::Disconnected(s.clone()),
        E::Timeout(d, w) => E::Timeout(*d, w),
        E::Cancelled => E::Cancelled,
        E::Io(io) => match io.raw_os_error() {
            Some(code) => E::Io(std::io::Error::from_raw_os_error(code)),
            None => E::Protocol(io.to_string()),
        },
        other => E::Protocol(other.to_string()),
    }
}
