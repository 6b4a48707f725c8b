//! In-process replay of a recorded exchange: the fast test tier, and the way a user's field
//! recording is reproduced on a developer's machine without the device.
//!
//! Matching follows umockdev's rule so that recordings made by `umockdev-record` replay here
//! exactly as under `umockdev-run`: each request is matched against the recorded transfers
//! starting after the previous match and wrapping around, because umockdev stores an identical
//! request once and reuses it. On top of that, every IN record (data *from* the device) is
//! handed out at most once, so a script that runs out mid-capture ends in
//! [`DeviceError::Disconnected`] instead of silently repeating old data.
//!
//! What is checked: transfer type, endpoint, SETUP packet, requested length, and for OUT
//! transfers the exact bytes. A mismatch is a [`DeviceError::Protocol`] that shows both sides.

use std::time::Duration;

use super::recording::{Recording, Transfer};
use super::transport::{status_to_error, ControlSetup, TransferKind, UsbTransport};
use crate::{DeviceError, Result};

/// A [`UsbTransport`] that plays a [`Recording`] back.
#[derive(Debug, Clone)]
pub struct ReplayTransport {
    id: String,
    recording: Recording,
    /// IN records already handed out.
    consumed: Vec<bool>,
    /// Records matched at least once (OUT records may be matched repeatedly).
    used: Vec<bool>,
    /// Index of the last matched record.
    cursor: Option<usize>,
    claimed: Vec<u8>,
    /// Simulated unplug: after this many transfers every call reports `Disconnected`.
    unplug_after: Option<usize>,
    transfers_done: usize,
}

/// What the driver asked for, in the shape used for matching.
struct Request<'a> {
    kind: TransferKind,
    endpoint: u8,
    setup: Option<ControlSetup>,
    requested: usize,
    out: Option<&'a [u8]>,
}

fn hex_preview(b: &[u8]) -> String {
    let mut s: String = b.iter().take(24).map(|x| format!("{x:02x}")).collect();
    if b.len() > 24 {
        s.push_str(&format!("… ({} bytes)", b.len()));
    }
    s
}

impl ReplayTransport {
    /// Replays `recording`, reporting `id` as the device id.
    pub fn new(id: impl Into<String>, recording: Recording) -> Self {
        let n = recording.transfers.len();
        Self {
            id: id.into(),
            recording,
            consumed: vec![false; n],
            used: vec![false; n],
            cursor: None,
            claimed: Vec::new(),
            unplug_after: None,
            transfers_done: 0,
        }
    }

    /// Makes the replayed device vanish after `n` transfers, to test unplug mid-capture.
    pub fn unplug_after(mut self, n: usize) -> Self {
        self.unplug_after = Some(n);
        self
    }

    /// The recording being replayed.
    pub fn recording(&self) -> &Recording {
        &self.recording
    }

    /// How many IN records have not been handed out yet (0 after a complete, exact replay).
    pub fn unconsumed_in_records(&self) -> usize {
        self.recording
            .transfers
            .iter()
            .zip(&self.consumed)
            .filter(|(t, c)| t.is_in() && !**c)
            .count()
    }

    fn matches(t: &Transfer, r: &Request<'_>) -> bool {
        t.kind == r.kind
            && t.endpoint == r.endpoint
            && t.setup == r.setup
            && t.requested == r.requested
            && r.out.is_none_or(|d| t.data == d)
    }

    fn exchange(&mut self, r: Request<'_>, timeout: Duration) -> Result<&Transfer> {
        if let Some(n) = self.unplug_after {
            if self.transfers_done >= n {
                return Err(DeviceError::Disconnected(self.id.clone()));
            }
        }
        if self.claimed.is_empty() {
            return Err(DeviceError::InvalidState(
                "USB transfer before claiming an interface",
            ));
        }
        let n = self.recording.transfers.len();
        let start = self.cursor.map_or(0, |c| c + 1);
        let is_in = r.endpoint & 0x80 != 0;
        let found = (0..n).map(|k| (start + k) % n).find(|&i| {
            (!is_in || !self.consumed[i]) && Self::matches(&self.recording.transfers[i], &r)
        });
        let Some(i) = found else {
            return Err(self.no_match(&r, start));
        };
        self.cursor = Some(i);
        self.used[i] = true;
        if is_in {
            self.consumed[i] = true;
        }
        self.transfers_done += 1;
        let t = &self.recording.transfers[i];
        if t.status != 0 {
            return Err(status_to_error(t.status, &self.id, timeout));
        }
        Ok(t)
    }

    /// Explains a failed match: the script ran out (the device is gone) or the driver sent
    /// something the device never saw (a protocol regression).
    fn no_match(&self, r: &Request<'_>, start: usize) -> DeviceError {
        let is_in = r.endpoint & 0x80 != 0;
        let remaining_in = |ep: u8| {
            self.recording
                .transfers
                .iter()
                .zip(&self.consumed)
                .any(|(t, c)| t.is_in() && !c && t.endpoint == ep)
        };
        let exhausted = if is_in {
            !remaining_in(r.endpoint)
        } else {
            self.used.iter().all(|u| *u)
        };
        if exhausted {
            return DeviceError::Disconnected(format!("{} (replay script ended)", self.id));
        }
        let expected = self.recording.transfers
            [start.min(self.recording.transfers.len().saturating_sub(1))..]
            .iter()
            .zip(&self.consumed[start.min(self.consumed.len())..])
            .find(|(t, c)| !(t.is_in() && **c))
            .map(|(t, _)| {
                format!(
                    "{:?} ep {:#04x} setup {:?} len {} data {}",
                    t.kind,
                    t.endpoint,
                    t.setup.map(|s| s.to_bytes()),
                    t.requested,
                    hex_preview(&t.data)
                )
            })
            .unwrap_or_else(|| "nothing further".into());
        DeviceError::Protocol(format!(
            "replay mismatch: driver sent {:?} ep {:#04x} setup {:?} len {}{}; recording has next: {expected}",
            r.kind,
            r.endpoint,
            r.setup.map(|s| s.to_bytes()),
            r.requested,
            r.out.map(|d| format!(" data {}", hex_preview(d))).unwrap_or_default()
        ))
    }

    fn read(&mut self, r: Request<'_>, buf: &mut [u8], timeout: Duration) -> Result<usize> {
        let t = self.exchange(r, timeout)?;
        if t.data.len() > buf.len() {
            return Err(DeviceError::Protocol(
                "recorded IN data longer than the buffer".into(),
            ));
        }
        buf[..t.data.len()].copy_from_slice(&t.data);
        Ok(t.data.len())
    }
}

impl UsbTransport for ReplayTransport {
    fn device_id(&self) -> String {
        self.id.clone()
    }

    fn claim_interface(&mut self, interface: u8) -> Result<()> {
        if !self.claimed.contains(&interface) {
            self.claimed.push(interface);
        }
        Ok(())
    }

    fn release_interface(&mut self, interface: u8) -> Result<()> {
        self.claimed.retain(|i| *i != interface);
        Ok(())
    }

    fn read_bulk(&mut self, endpoint: u8, buf: &mut [u8], timeout: Duration) -> Result<usize> {
        let req = Request {
            kind: TransferKind::Bulk,
            endpoint,
            setup: None,
            requested: buf.len(),
            out: None,
        };
        self.read(req, buf, timeout)
    }

    fn write_bulk(&mut self, endpoint: u8, data: &[u8], timeout: Duration) -> Result<usize> {
        let req = Request {
            kind: TransferKind::Bulk,
            endpoint,
            setup: None,
            requested: data.len(),
            out: Some(data),
        };
        self.exchange(req, timeout).map(|_| data.len())
    }

    fn read_interrupt(&mut self, endpoint: u8, buf: &mut [u8], timeout: Duration) -> Result<usize> {
        let req = Request {
            kind: TransferKind::Interrupt,
            endpoint,
            setup: None,
            requested: buf.len(),
            out: None,
        };
        self.read(req, buf, timeout)
    }

    fn write_interrupt(&mut self, endpoint: u8, data: &[u8], timeout: Duration) -> Result<usize> {
        let req = Request {
            kind: TransferKind::Interrupt,
            endpoint,
            setup: None,
            requested: data.len(),
            out: Some(data),
        };
        self.exchange(req, timeout).map(|_| data.len())
    }

    fn read_control(
        &mut self,
        setup: ControlSetup,
        buf: &mut [u8],
        timeout: Duration,
    ) -> Result<usize> {
        let req = Request {
            kind: TransferKind::Control,
            endpoint: 0x80,
            setup: Some(setup),
            requested: buf.len(),
            out: None,
        };
        self.read(req, buf, timeout)
    }

    fn write_control(
        &mut self,
        setup: ControlSetup,
        data: &[u8],
        timeout: Duration,
    ) -> Result<usize> {
        let req = Request {
            kind: TransferKind::Control,
            endpoint: 0x00,
            setup: Some(setup),
            requested: data.len(),
            out: Some(data),
        };
        self.exchange(req, timeout).map(|_| data.len())
    }
}
