//! Command-level client for an R30x / AS608 module: one method per instruction, each sending a
//! command packet and checking the acknowledge, plus baud negotiation.
//!
//! Every wait is bounded by [`R30x::timeout`] measured from the start of the reply, so a module
//! that goes silent, an unplugged adapter or line noise ends in a typed [`R30xError`] within that
//! time, never a hang.

use std::io;
use std::time::{Duration, Instant};

use super::link::{is_disconnect, SerialLink};
use super::protocol::{
    baud_multiplier, resync_offset, ConfirmationCode, Instruction, Packet, PacketError, Pid, SysParam, SystemParameters, DEFAULT_ADDRESS,
    DEFAULT_BAUD, DEFAULT_PASSWORD, PACKED_IMAGE_LEN, STANDARD_BAUDS,
};
use crate::DeviceError;

/// Why an exchange with the module failed.
#[derive(Debug, thiserror::Error)]
pub enum R30xError {
    /// No complete reply within the timeout.
    #[error("no reply to {command:?} within {timeout:?}")]
    Timeout {
        /// The command being answered.
        command: Instruction,
        /// The limit that passed.
        timeout: Duration,
    },
    /// The port went away (adapter unplugged, module powered off), possibly mid-transfer.
    #[error("serial device disconnected during {command:?}: {source}")]
    Disconnected {
        /// The command in progress.
        command: Instruction,
        /// The OS error that revealed it.
        source: io::Error,
    },
    /// Bytes arrived that are not a valid packet (bad checksum, bad length, unknown PID).
    #[error("malformed reply to {command:?}: {source}")]
    Packet {
        /// The command being answered.
        command: Instruction,
        /// What was wrong with the bytes.
        source: PacketError,
    },
    /// A well-formed packet of the wrong kind or address, or a reply too short for the command.
    #[error("unexpected reply to {command:?}: {detail}")]
    Unexpected {
        /// The command being answered.
        command: Instruction,
        /// What was wrong.
        detail: String,
    },
    /// The module answered with a confirmation code other than success.
    #[error("{command:?} refused: {code}")]
    Rejected {
        /// The refused command.
        command: Instruction,
        /// The module's confirmation code (unknown codes preserved).
        code: ConfirmationCode,
    },
    /// No baud rate in the candidate list got an answer.
    #[error("no R30x module answered at any of {tried:?} baud")]
    NoBaudAnswered {
        /// Baud rates tried, in order.
        tried: Vec<u32>,
    },
    /// The requested baud rate is not 9600 × (1..=12).
    #[error("unsupported baud rate {0} (must be 9600 × 1..12)")]
    UnsupportedBaud(u32),
    /// Any other I/O failure of the port.
    #[error("serial I/O error: {0}")]
    Io(#[from] io::Error),
}

impl R30xError {
    /// The confirmation code when the module refused the command.
    pub fn code(&self) -> Option<ConfirmationCode> {
        match self {
            R30xError::Rejected { code, .. } => Some(*code),
            _ => None,
        }
    }
}

impl From<R30xError> for DeviceError {
    fn from(e: R30xError) -> Self {
        match e {
            R30xError::Timeout { timeout, .. } => DeviceError::Timeout(timeout, "a reply from the R30x module"),
            R30xError::Disconnected { .. } => DeviceError::Disconnected(e.to_string()),
            R30xError::Packet { .. } | R30xError::Unexpected { .. } | R30xError::NoBaudAnswered { .. } => DeviceError::Protocol(e.to_string()),
            R30xError::Rejected { code: ConfirmationCode::Unknown(_), .. } => DeviceError::Protocol(e.to_string()),
            R30xError::Rejected { .. } => DeviceError::Device(e.to_string()),
            R30xError::UnsupportedBaud(_) => DeviceError::InvalidState("unsupported baud rate"),
            R30xError::Io(io) => DeviceError::Io(io),
        }
    }
}

/// Result of a library search.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SearchHit {
    /// Library page of the best match.
    pub page: u16,
    /// Module's match score (higher is better; scale is firmware-specific).
    pub score: u16,
}

/// Connection settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinkSettings {
    /// Module address (default 0xFFFFFFFF).
    pub address: u32,
    /// Password sent with VfyPwd during the handshake.
    pub password: u32,
    /// Longest wait for one reply packet.
    pub timeout: Duration,
}

impl Default for LinkSettings {
    fn default() -> Self {
        LinkSettings { address: DEFAULT_ADDRESS, password: DEFAULT_PASSWORD, timeout: Duration::from_secs(1) }
    }
}

/// Baud rates to try, in order: `first`, then the factory default, then the rest of 9600 × N
/// from fastest (the usual reason to change it) down. Duplicates removed.
pub fn baud_candidates(first: u32) -> Vec<u32> {
    let mut out = vec![first, DEFAULT_BAUD];
    out.extend(STANDARD_BAUDS.iter().rev());
    let mut seen = Vec::new();
    out.retain(|b| {
        let new = !seen.contains(b);
        seen.push(*b);
        new
    });
    out
}

/// A connected module speaking the R30x protocol over some [`SerialLink`].
pub struct R30x<L: SerialLink> {
    link: L,
    settings: LinkSettings,
    /// Bytes read but not yet decoded (a reply may arrive in pieces, or two at once).
    pending: Vec<u8>,
}

impl<L: SerialLink> std::fmt::Debug for R30x<L> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("R30x").field("port", &self.link.name()).field("settings", &self.settings).finish()
    }
}

impl<L: SerialLink> R30x<L> {
    /// Wraps a link without talking to the module (see [`Self::handshake`]).
    pub fn new(link: L, settings: LinkSettings) -> Self {
        R30x { link, settings, pending: Vec::new() }
    }

    /// The per-reply timeout.
    pub fn timeout(&self) -> Duration {
        self.settings.timeout
    }

    /// Changes the per-reply timeout (probing uses a short one).
    pub fn set_timeout(&mut self, timeout: Duration) {
        self.settings.timeout = timeout;
    }

    /// Connection settings in use.
    pub fn settings(&self) -> LinkSettings {
        self.settings
    }

    /// The underlying link (for its name or baud rate).
    pub fn link(&self) -> &L {
        &self.link
    }

    /// Gives the link back (e.g. to read a recording out of a [`super::RecordingLink`]).
    pub fn into_link(self) -> L {
        self.link
    }

    fn send(&mut self, command: Instruction, params: &[u8]) -> Result<(), R30xError> {
        let bytes = Packet::command(self.settings.address, command, params).encode();
        self.link.write_all(&bytes).map_err(|e| io_error(command, e))
    }

    /// Reads one packet, skipping noise before a header, within `timeout` from now.
    fn receive(&mut self, command: Instruction) -> Result<Packet, R30xError> {
        let timeout = self.settings.timeout;
        let deadline = Instant::now() + timeout;
        let mut buf = [0u8; 512];
        loop {
            let skip = resync_offset(&self.pending);
            self.pending.drain(..skip);
            match Packet::decode(&self.pending) {
                Ok((packet, used)) => {
                    self.pending.drain(..used);
                    if packet.address != self.settings.address {
                        return Err(R30xError::Unexpected { command, detail: format!("packet from address 0x{:08X}", packet.address) });
                    }
                    return Ok(packet);
                }
                Err(PacketError::Incomplete { .. }) => {}
                Err(source) => {
                    // Drop the broken packet's header so the next call resynchronises.
                    self.pending.drain(..self.pending.len().min(2));
                    return Err(R30xError::Packet { command, source });
                }
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(R30xError::Timeout { command, timeout });
            }
            match self.link.read(&mut buf, deadline - now) {
                Ok(n) => self.pending.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == io::ErrorKind::TimedOut || e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(io_error(command, e)),
            }
        }
    }

    /// Sends `command` and returns the acknowledge's results (after the confirmation code), or
    /// `Rejected` for any code other than success.
    pub fn execute(&mut self, command: Instruction, params: &[u8]) -> Result<Vec<u8>, R30xError> {
        self.send(command, params)?;
        let ack = self.receive(command)?;
        if ack.pid != Pid::Ack {
            return Err(R30xError::Unexpected { command, detail: format!("{:?} packet where an acknowledge was due", ack.pid) });
        }
        match ack.confirmation() {
            None => Err(R30xError::Unexpected { command, detail: "empty acknowledge".into() }),
            Some(ConfirmationCode::Success) => Ok(ack.content[1..].to_vec()),
            Some(code) => Err(R30xError::Rejected { command, code }),
        }
    }

    fn execute_expecting(&mut self, command: Instruction, params: &[u8], len: usize) -> Result<Vec<u8>, R30xError> {
        let results = self.execute(command, params)?;
        if results.len() < len {
            return Err(R30xError::Unexpected { command, detail: format!("{} result bytes, expected {len}", results.len()) });
        }
        Ok(results)
    }

    /// VfyPwd with the configured password: the handshake most modules accept, and the one
    /// some require before anything else.
    pub fn verify_password(&mut self) -> Result<(), R30xError> {
        let pw = self.settings.password.to_be_bytes();
        self.execute(Instruction::VfyPwd, &pw).map(drop)
    }

    /// Reads the 16-byte system parameter block.
    pub fn read_system_parameters(&mut self) -> Result<SystemParameters, R30xError> {
        let r = self.execute_expecting(Instruction::ReadSysPara, &[], SystemParameters::LEN)?;
        Ok(SystemParameters::parse(&r).expect("length checked above"))
    }

    /// Handshake: verify the password, then read the system parameters.
    pub fn handshake(&mut self) -> Result<SystemParameters, R30xError> {
        self.verify_password()?;
        self.read_system_parameters()
    }

    /// GenImg: capture into the image buffer. `Rejected(NoFinger)` while no finger is present.
    pub fn gen_img(&mut self) -> Result<(), R30xError> {
        self.execute(Instruction::GenImg, &[]).map(drop)
    }

    /// Img2Tz: extract a feature file from the image buffer into char buffer `buffer` (1 or 2).
    pub fn img2tz(&mut self, buffer: u8) -> Result<(), R30xError> {
        self.execute(Instruction::Img2Tz, &[buffer]).map(drop)
    }

    /// RegModel: merge char buffers 1 and 2 into a template.
    pub fn reg_model(&mut self) -> Result<(), R30xError> {
        self.execute(Instruction::RegModel, &[]).map(drop)
    }

    /// Store: write char buffer `buffer` into library page `page`.
    pub fn store(&mut self, buffer: u8, page: u16) -> Result<(), R30xError> {
        let p = page.to_be_bytes();
        self.execute(Instruction::Store, &[buffer, p[0], p[1]]).map(drop)
    }

    /// Match: compare char buffers 1 and 2; the score, or `Rejected(NoMatch)`.
    pub fn match_buffers(&mut self) -> Result<u16, R30xError> {
        let r = self.execute_expecting(Instruction::Match, &[], 2)?;
        Ok(u16::from_be_bytes([r[0], r[1]]))
    }

    /// Search the library pages `start..start+count` for char buffer `buffer`. `Ok(None)` when
    /// the module answers "not found" (0x09), which is an outcome, not a failure.
    pub fn search(&mut self, buffer: u8, start: u16, count: u16) -> Result<Option<SearchHit>, R30xError> {
        let (s, c) = (start.to_be_bytes(), count.to_be_bytes());
        match self.execute_expecting(Instruction::Search, &[buffer, s[0], s[1], c[0], c[1]], 4) {
            Ok(r) => Ok(Some(SearchHit { page: u16::from_be_bytes([r[0], r[1]]), score: u16::from_be_bytes([r[2], r[3]]) })),
            Err(R30xError::Rejected { code: ConfirmationCode::NotFound, .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Number of templates stored in the library.
    pub fn template_count(&mut self) -> Result<u16, R30xError> {
        let r = self.execute_expecting(Instruction::TemplateNum, &[], 2)?;
        Ok(u16::from_be_bytes([r[0], r[1]]))
    }

    /// Erases the whole template library.
    pub fn empty_library(&mut self) -> Result<(), R30xError> {
        self.execute(Instruction::Empty, &[]).map(drop)
    }

    /// Deletes `count` library pages from `page`.
    pub fn delete(&mut self, page: u16, count: u16) -> Result<(), R30xError> {
        let (p, c) = (page.to_be_bytes(), count.to_be_bytes());
        self.execute(Instruction::DeleteChar, &[p[0], p[1], c[0], c[1]]).map(drop)
    }

    /// SetSysPara: write one system parameter.
    pub fn set_system_parameter(&mut self, param: SysParam, value: u8) -> Result<(), R30xError> {
        self.execute(Instruction::SetSysPara, &[param as u8, value]).map(drop)
    }

    /// Receives a run of data packets (PID 02 … 08) after a bulk command, calling `progress`
    /// with the bytes received so far. `expected` bounds the total: more is a protocol error.
    fn receive_data(&mut self, command: Instruction, expected: usize, progress: &mut dyn FnMut(usize)) -> Result<Vec<u8>, R30xError> {
        let mut data = Vec::with_capacity(expected);
        loop {
            let p = self.receive(command)?;
            match p.pid {
                Pid::Data | Pid::EndData => {
                    data.extend_from_slice(&p.content);
                    if data.len() > expected {
                        return Err(R30xError::Unexpected { command, detail: format!("more than {expected} data bytes") });
                    }
                    progress(data.len());
                    if p.pid == Pid::EndData {
                        return Ok(data);
                    }
                }
                other => return Err(R30xError::Unexpected { command, detail: format!("{other:?} packet inside the data phase") }),
            }
        }
    }

    /// UpImage: uploads the image buffer as 36864 packed bytes (two 4-bit pixels per byte),
    /// calling `progress` with the bytes received so far. Use
    /// [`super::protocol::unpack_4bit`] for 8-bit pixels.
    pub fn up_image(&mut self, progress: &mut dyn FnMut(usize)) -> Result<Vec<u8>, R30xError> {
        self.execute(Instruction::UpImage, &[])?;
        let data = self.receive_data(Instruction::UpImage, PACKED_IMAGE_LEN, progress)?;
        if data.len() != PACKED_IMAGE_LEN {
            return Err(R30xError::Unexpected { command: Instruction::UpImage, detail: format!("image of {} bytes, expected {PACKED_IMAGE_LEN}", data.len()) });
        }
        Ok(data)
    }

    /// UpChar: uploads char buffer `buffer` (a feature file or template, vendor format).
    pub fn up_char(&mut self, buffer: u8) -> Result<Vec<u8>, R30xError> {
        self.execute(Instruction::UpChar, &[buffer])?;
        self.receive_data(Instruction::UpChar, 4096, &mut |_| {})
    }

    /// Switches the module and the port to `baud`: SetSysPara(4, N) is acknowledged at the old
    /// speed, then both sides change, and a handshake at the new speed confirms it.
    pub fn set_baud(&mut self, baud: u32) -> Result<SystemParameters, R30xError> {
        let n = baud_multiplier(baud).ok_or(R30xError::UnsupportedBaud(baud))?;
        self.set_system_parameter(SysParam::BaudMultiplier, n)?;
        // Let the acknowledge's last bits leave the UART before the speed changes.
        std::thread::sleep(Duration::from_millis(20));
        self.link.set_baud_rate(baud)?;
        self.pending.clear();
        self.link.clear_input()?;
        self.handshake()
    }

    /// Finds the module's baud rate: tries each candidate (see [`baud_candidates`]) with a
    /// handshake limited to `per_try`, and leaves the port at the first that answers. A wrong
    /// password or a refusal proves a module is there, so it ends the search with that error.
    pub fn negotiate_baud(&mut self, candidates: &[u32], per_try: Duration) -> Result<(u32, SystemParameters), R30xError> {
        let saved = self.settings.timeout;
        self.settings.timeout = per_try;
        let mut result = Err(R30xError::NoBaudAnswered { tried: candidates.to_vec() });
        for &baud in candidates {
            if let Err(e) = self.link.set_baud_rate(baud) {
                result = Err(e.into());
                break;
            }
            self.pending.clear();
            let _ = self.link.clear_input();
            match self.handshake() {
                Ok(params) => {
                    result = Ok((baud, params));
                    break;
                }
                Err(R30xError::Timeout { .. } | R30xError::Packet { .. } | R30xError::Unexpected { .. }) => continue,
                Err(e) => {
                    result = Err(e);
                    break;
                }
            }
        }
        self.settings.timeout = saved;
        result
    }
}

fn io_error(command: Instruction, e: io::Error) -> R30xError {
    if is_disconnect(&e) {
        R30xError::Disconnected { command, source: e }
    } else {
        R30xError::Io(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn candidates_start_with_the_configured_baud_and_cover_all_standard_rates() {
        let c = baud_candidates(115200);
        assert_eq!(&c[..3], &[115200, 57600, 105600]);
        assert_eq!(c.len(), 12);
        let c = baud_candidates(57600);
        assert_eq!(c[0], 57600);
        assert_eq!(c.len(), 12);
        let c = baud_candidates(250000);
        assert_eq!(c.len(), 13);
    }
}
