//! USB fingerprint scanners.
//!
//! Layers, bottom up:
//! - [`UsbTransport`]: blocking bulk/interrupt/control transfers with timeouts. Implemented by
//!   [`RusbTransport`] (libusb, real devices), [`ReplayTransport`] (a recorded exchange, in
//!   process) and [`RecordingTransport`] (records whatever it wraps).
//! - [`Recording`]: the recorded exchange, read from umockdev `.ioctl` text or usbmon `.pcapng`,
//!   and written as `.ioctl` text.
//! - One module per protocol, each a small state machine implementing
//!   [`crate::FingerprintScanner`]: [`nb1010`], [`aes3500`], [`uru4000`].
//! - [`devices`]: the supported-model table, enumeration, open-by-id and the hot-plug
//!   [`UsbWatcher`].
//!
//! Drivers were written from the protocol notes next to the libfprint recordings in
//! `shared/data/fingerprint/libfprint-umockdev/`, and are tested by replaying those recordings
//! (in process, and through libusb under `umockdev-run`, see `scripts/ci/usb.sh`).

#![warn(missing_docs)]

pub mod aes3500;
pub mod devices;
pub mod nb1010;
pub mod recorder;
pub mod recording;
pub mod replay;
pub mod rusb_transport;
pub mod transport;
pub mod uru4000;

pub use devices::{
    list_devices, list_scanners, lookup, open, open_recording, open_transport, open_with_transport,
    KnownDevice, UsbDeviceEntry, UsbEvent, UsbWatcher, WatchMode, KNOWN_DEVICES,
};
pub use recorder::RecordingTransport;
pub use recording::{DeviceDescription, Recording, RecordingError, Transfer};
pub use replay::ReplayTransport;
pub use rusb_transport::RusbTransport;
pub use transport::{ControlSetup, TransferKind, UsbTransport};
