//! Serial fingerprint sensors of the R30x / AS608 / ZFM family (Synochip AS60x clones).
//!
//! These modules are cheap, common in kiosks and hobby builds, and speak one packet protocol over
//! a TTL UART (see `shared/data/fingerprint/SERIAL-R30X.md`). Layers, bottom up:
//! - [`protocol`]: the wire format as pure functions (packets, checksums, confirmation codes,
//!   4-bit image packing), shared by the driver, the emulator and the fuzz test;
//! - [`SerialLink`]: the byte pipe, implemented by a real port ([`SystemPort`]), a
//!   [`RecordingLink`] (records a session in a documented text format) and a [`ReplayLink`]
//!   (plays a recording back into the driver to reproduce a field problem);
//! - [`R30x`]: one method per instruction, baud negotiation, typed [`R30xError`]s;
//! - [`R30xScanner`]: the module as a [`crate::FingerprintScanner`];
//! - [`enumerate`]: port listing, probing, `open(path, baud)` and the manager [`SerialBackend`];
//! - [`emulator`]: a software module on a pty pair, serving real finger images, with fault
//!   injection, so the real driver is tested by path without hardware.

pub mod client;
pub mod emulator;
pub mod enumerate;
pub mod link;
pub mod protocol;
pub mod recorder;
pub mod scanner;

pub use client::{baud_candidates, LinkSettings, R30x, R30xError, SearchHit};
pub use emulator::{Emulator, EmulatorConfig, EmulatorStats, Fault};
pub use enumerate::{list_ports, list_r30x_candidates, open, open_with, probe, PortEntry, ProbeOptions, R30xCandidate, SerialBackend, SerialScanner, ID_PREFIX};
pub use link::{SerialLink, SystemPort};
pub use protocol::{ConfirmationCode, Instruction, Packet, PacketError, Pid, SystemParameters};
pub use recorder::{RecordingLink, ReplayError, ReplayLink, SerialRecording};
pub use scanner::{PollSettings, R30xScanner};
