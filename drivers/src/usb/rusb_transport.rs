//! The live transport: libusb through `rusb`, with libusb errors mapped to the device layer's
//! typed errors so the UI can tell an unplugged scanner from a missing udev rule.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use super::transport::{check_written, ControlSetup, UsbTransport};
use crate::{DeviceError, Result};

/// How long one posted interrupt read of a listener waits before it is re-posted. It bounds how
/// long releasing the interface waits for the listener to stop.
const LISTEN_REPOST: Duration = Duration::from_millis(500);

/// An opened USB device.
pub struct RusbTransport {
    handle: Arc<rusb::DeviceHandle<rusb::Context>>,
    id: String,
    claimed: Vec<u8>,
    listeners: Vec<InterruptListener>,
}

/// A thread that keeps one interrupt IN read posted and queues what arrives.
struct InterruptListener {
    endpoint: u8,
    stop: Arc<AtomicBool>,
    reports: mpsc::Receiver<std::result::Result<Vec<u8>, rusb::Error>>,
    thread: Option<JoinHandle<()>>,
}

impl InterruptListener {
    fn start(handle: Arc<rusb::DeviceHandle<rusb::Context>>, endpoint: u8, len: usize) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let (tx, reports) = mpsc::channel();
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut buf = vec![0u8; len];
            while !flag.load(Ordering::Relaxed) {
                match handle.read_interrupt(endpoint, &mut buf, LISTEN_REPOST) {
                    Ok(n) => {
                        if tx.send(Ok(buf[..n].to_vec())).is_err() {
                            return;
                        }
                    }
                    Err(rusb::Error::Timeout) => {}
                    Err(e) => {
                        let _ = tx.send(Err(e));
                        return;
                    }
                }
            }
        });
        Self {
            endpoint,
            stop,
            reports,
            thread: Some(thread),
        }
    }
}

impl Drop for InterruptListener {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl std::fmt::Debug for RusbTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RusbTransport")
            .field("id", &self.id)
            .field("claimed", &self.claimed)
            .field(
                "listening",
                &self
                    .listeners
                    .iter()
                    .map(|l| l.endpoint)
                    .collect::<Vec<_>>(),
            )
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
            handle: Arc::new(handle),
            id,
            claimed: Vec::new(),
            listeners: Vec::new(),
        })
    }

    fn err(&self, timeout: Duration) -> impl Fn(rusb::Error) -> DeviceError + '_ {
        move |e| map_rusb_error(e, &self.id, timeout)
    }
}

impl Drop for RusbTransport {
    fn drop(&mut self) {
        self.listeners.clear(); // stops and joins them before the interface goes
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
        self.listeners.clear();
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
        if let Some(l) = self.listeners.iter().find(|l| l.endpoint == endpoint) {
            return match l.reports.recv_timeout(timeout) {
                Ok(Ok(report)) => {
                    let n = report.len().min(buf.len());
                    buf[..n].copy_from_slice(&report[..n]);
                    Ok(n)
                }
                Ok(Err(e)) => Err(map_rusb_error(e, &self.id, timeout)),
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    Err(DeviceError::Timeout(timeout, "USB transfer"))
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    Err(DeviceError::Disconnected(self.id.clone()))
                }
            };
        }
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
    fn listen_interrupt(&mut self, endpoint: u8, len: usize) -> Result<()> {
        if !self.listeners.iter().any(|l| l.endpoint == endpoint) {
            let listener = InterruptListener::start(self.handle.clone(), endpoint, len);
            self.listeners.push(listener);
        }
        Ok(())
    }
    fn read_bulk_posted_before(
        &mut self,
        endpoint: u8,
        buf: &mut [u8],
        timeout: Duration,
        writes: &[(ControlSetup, &[u8])],
    ) -> Result<usize> {
        let handle = &*self.handle;
        // The read runs on a scoped thread so that it is posted while the writes go out; if a
        // write fails the read still ends by its own timeout (or at once when the device is gone).
        let (read, written) = std::thread::scope(|scope| {
            let reader = scope.spawn(|| handle.read_bulk(endpoint, buf, timeout));
            let written = writes.iter().try_for_each(|(s, data)| {
                let n = handle
                    .write_control(s.request_type, s.request, s.value, s.index, data, timeout)
                    .map_err(|e| map_rusb_error(e, &self.id, timeout))?;
                check_written(n, data.len())
            });
            let read = reader.join().unwrap_or(Err(rusb::Error::Other));
            (read, written)
        });
        written?;
        read.map_err(self.err(timeout))
    }
}
