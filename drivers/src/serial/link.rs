//! The byte pipe the driver talks through.
//!
//! The driver does not use `serialport::SerialPort` directly: that trait has two dozen methods
//! (flow control, modem lines, break) that a recorder or a replay would have to fake. [`SerialLink`]
//! is the handful the R30x protocol needs, so a real port, a [`crate::serial::RecordingLink`] and a
//! [`crate::serial::ReplayLink`] are interchangeable under the driver.

use std::io::{self, Read, Write};
use std::time::Duration;

use serialport::{ClearBuffer, SerialPort};

/// A bidirectional byte stream with a per-read timeout and a settable baud rate.
pub trait SerialLink: Send {
    /// Reads at least one byte into `buf`, waiting at most `timeout`. Returns
    /// `Err(ErrorKind::TimedOut)` when nothing arrived, and an error of kind `BrokenPipe`,
    /// `UnexpectedEof` or `NotConnected` when the device is gone.
    fn read(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<usize>;
    /// Writes all of `data` and flushes it to the device.
    fn write_all(&mut self, data: &[u8]) -> io::Result<()>;
    /// Changes the line speed (baud negotiation).
    fn set_baud_rate(&mut self, baud: u32) -> io::Result<()>;
    /// Current line speed.
    fn baud_rate(&self) -> io::Result<u32>;
    /// Discards bytes received but not read (stale replies after a timeout or a baud change).
    fn clear_input(&mut self) -> io::Result<()>;
    /// Name of the underlying port, for logs and device ids.
    fn name(&self) -> String;
}

/// A real serial port (or a pty) opened through `serialport`.
pub struct SystemPort {
    port: Box<dyn SerialPort>,
    name: String,
}

impl std::fmt::Debug for SystemPort {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SystemPort").field("name", &self.name).finish()
    }
}

impl SystemPort {
    /// Opens `path` at `baud`, 8N1 without flow control, as the R30x modules expect. A port
    /// another program holds gives `ErrorKind::ResourceBusy`, a missing one `NotFound`.
    pub fn open(path: &str, baud: u32) -> io::Result<Self> {
        let port = serialport::new(path, baud)
            .data_bits(serialport::DataBits::Eight)
            .parity(serialport::Parity::None)
            .stop_bits(serialport::StopBits::One)
            .flow_control(serialport::FlowControl::None)
            .timeout(Duration::from_millis(100))
            .open()
            .map_err(|e| {
                // serialport reports a port held by someone else (TIOCEXCL/flock: EBUSY) as
                // "no device", which would read as "not there" to the device manager.
                if e.kind() == serialport::ErrorKind::NoDevice && std::path::Path::new(path).exists() {
                    io::Error::new(io::ErrorKind::ResourceBusy, format!("{path} is in use by another program: {e}"))
                } else {
                    io::Error::from(e)
                }
            })?;
        Ok(SystemPort { port, name: path.to_owned() })
    }

    /// Wraps a port opened elsewhere (e.g. one end of `TTYPort::pair()`).
    pub fn from_port(port: Box<dyn SerialPort>) -> Self {
        let name = port.name().unwrap_or_else(|| "<unnamed>".into());
        SystemPort { port, name }
    }
}

impl SerialLink for SystemPort {
    fn read(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<usize> {
        // serialport rejects a zero timeout on some platforms; 1 ms is the floor.
        self.port.set_timeout(timeout.max(Duration::from_millis(1))).map_err(io::Error::from)?;
        match self.port.read(buf) {
            // A tty read of 0 bytes after poll said "readable" means hang-up.
            Ok(0) if !buf.is_empty() => Err(io::Error::new(io::ErrorKind::UnexpectedEof, "serial port closed")),
            other => other,
        }
    }

    fn write_all(&mut self, data: &[u8]) -> io::Result<()> {
        self.port.set_timeout(Duration::from_secs(2)).map_err(io::Error::from)?;
        Write::write_all(&mut self.port, data)?;
        self.port.flush()
    }

    fn set_baud_rate(&mut self, baud: u32) -> io::Result<()> {
        self.port.set_baud_rate(baud).map_err(io::Error::from)
    }

    fn baud_rate(&self) -> io::Result<u32> {
        self.port.baud_rate().map_err(io::Error::from)
    }

    fn clear_input(&mut self) -> io::Result<()> {
        self.port.clear(ClearBuffer::Input).map_err(io::Error::from)
    }

    fn name(&self) -> String {
        self.name.clone()
    }
}

impl<L: SerialLink + ?Sized> SerialLink for Box<L> {
    fn read(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<usize> {
        (**self).read(buf, timeout)
    }
    fn write_all(&mut self, data: &[u8]) -> io::Result<()> {
        (**self).write_all(data)
    }
    fn set_baud_rate(&mut self, baud: u32) -> io::Result<()> {
        (**self).set_baud_rate(baud)
    }
    fn baud_rate(&self) -> io::Result<u32> {
        (**self).baud_rate()
    }
    fn clear_input(&mut self) -> io::Result<()> {
        (**self).clear_input()
    }
    fn name(&self) -> String {
        (**self).name()
    }
}

/// True for I/O errors that mean the device went away rather than a transient failure.
pub fn is_disconnect(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::BrokenPipe | io::ErrorKind::UnexpectedEof | io::ErrorKind::NotConnected | io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted
    ) || e.raw_os_error() == Some(5) // EIO: the tty's other side hung up
        || e.raw_os_error() == Some(19) // ENODEV: USB adapter unplugged
}
