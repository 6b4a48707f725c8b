//! The R30x / AS608 packet format as pure functions: encoding, decoding, checksums, the
//! instruction set, confirmation codes and the 4-bit image packing.
//!
//! Everything here is free of I/O so that the driver, the emulator, the replay port and the
//! fuzzer all share one implementation of the wire format, and so that every malformed input has
//! a typed [`PacketError`] instead of a panic.

use std::fmt;

/// First two bytes of every packet. Used to resynchronise after line noise (some modules also
/// send a lone `0x55` when they power up, which the decoder skips).
pub const HEADER: [u8; 2] = [0xEF, 0x01];
/// Factory default module address; a module answers only packets carrying its own address.
pub const DEFAULT_ADDRESS: u32 = 0xFFFF_FFFF;
/// Factory default password (VfyPwd).
pub const DEFAULT_PASSWORD: u32 = 0;
/// Bytes before the content: header (2), address (4), PID (1), length (2).
pub const PREFIX_LEN: usize = 9;
/// Largest content a decoder accepts. Data packets carry at most 256 bytes (packet size code 3);
/// replies are far shorter. A length field above this is line noise or a broken module, and is
/// rejected before waiting for that many bytes.
pub const MAX_CONTENT_LEN: usize = 256;
/// Sensor image width in pixels (R30x/AS608 image buffer).
pub const IMAGE_WIDTH: u32 = 256;
/// Sensor image height in pixels.
pub const IMAGE_HEIGHT: u32 = 288;
/// Sensor resolution (about 500 dpi according to the manuals).
pub const IMAGE_DPI: u32 = 500;
/// Bytes of an uploaded image: two 4-bit pixels per byte.
pub const PACKED_IMAGE_LEN: usize = (IMAGE_WIDTH * IMAGE_HEIGHT / 2) as usize;
/// The standard baud rates: 9600 × N for N = 1..=12.
pub const STANDARD_BAUDS: [u32; 12] = [9600, 19200, 28800, 38400, 48000, 57600, 67200, 76800, 86400, 96000, 105600, 115200];
/// Factory default baud rate (N = 6).
pub const DEFAULT_BAUD: u32 = 57600;

/// Package identifier: what kind of packet this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Pid {
    /// 0x01: a command from the host.
    Command,
    /// 0x02: a bulk data packet with more to follow.
    Data,
    /// 0x07: the module's acknowledge (reply) to a command.
    Ack,
    /// 0x08: the last bulk data packet.
    EndData,
}

impl Pid {
    /// The byte on the wire.
    pub fn to_byte(self) -> u8 {
        match self {
            Pid::Command => 0x01,
            Pid::Data => 0x02,
            Pid::Ack => 0x07,
            Pid::EndData => 0x08,
        }
    }

    /// Parses a PID byte; `None` for values the protocol does not define.
    pub fn from_byte(b: u8) -> Option<Self> {
        match b {
            0x01 => Some(Pid::Command),
            0x02 => Some(Pid::Data),
            0x07 => Some(Pid::Ack),
            0x08 => Some(Pid::EndData),
            _ => None,
        }
    }
}

/// Instruction codes (content byte 0 of a command packet) that this crate sends or emulates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Instruction {
    /// Capture an image into the image buffer (answers "no finger" while none is present).
    GenImg = 0x01,
    /// Extract a feature file from the image buffer into a char buffer.
    Img2Tz = 0x02,
    /// Compare char buffers 1 and 2.
    Match = 0x03,
    /// Search the library for char buffer contents.
    Search = 0x04,
    /// Merge char buffers 1 and 2 into a template.
    RegModel = 0x05,
    /// Store a char buffer into a library page.
    Store = 0x06,
    /// Load a library page into a char buffer.
    LoadChar = 0x07,
    /// Upload a char buffer to the host.
    UpChar = 0x08,
    /// Upload the image buffer to the host.
    UpImage = 0x0A,
    /// Delete library pages.
    DeleteChar = 0x0C,
    /// Erase the whole library.
    Empty = 0x0D,
    /// Write a system parameter (baud, security level, packet size).
    SetSysPara = 0x0E,
    /// Read the 16-byte system parameter block.
    ReadSysPara = 0x0F,
    /// Verify the module password (the usual handshake).
    VfyPwd = 0x13,
    /// Number of templates in the library.
    TemplateNum = 0x1D,
}

impl Instruction {
    /// Parses an instruction byte; `None` for codes this crate does not implement.
    pub fn from_byte(b: u8) -> Option<Self> {
        use Instruction::*;
        Some(match b {
            0x01 => GenImg,
            0x02 => Img2Tz,
            0x03 => Match,
            0x04 => Search,
            0x05 => RegModel,
            0x06 => Store,
            0x07 => LoadChar,
            0x08 => UpChar,
            0x0A => UpImage,
            0x0C => DeleteChar,
            0x0D => Empty,
            0x0E => SetSysPara,
            0x0F => ReadSysPara,
            0x13 => VfyPwd,
            0x1D => TemplateNum,
            _ => return None,
        })
    }
}

/// SetSysPara parameter numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum SysParam {
    /// Baud rate multiplier N (baud = 9600 × N).
    BaudMultiplier = 4,
    /// Matching security level 1..=5.
    SecurityLevel = 5,
    /// Data packet size code (0 = 32, 1 = 64, 2 = 128, 3 = 256 bytes).
    PacketSize = 6,
}

macro_rules! confirmation_codes {
    ($( $(#[$doc:meta])* $name:ident = $code:literal ),* $(,)?) => {
        /// The confirmation code of an acknowledge packet. Codes the manuals do not list are kept
        /// as [`ConfirmationCode::Unknown`] so that a newer firmware's answer is reported, not lost.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ConfirmationCode {
            $( $(#[$doc])* $name, )*
            /// A code not in the manuals, preserved verbatim.
            Unknown(u8),
        }

        impl ConfirmationCode {
            /// Interprets a confirmation byte (never fails: unknown bytes become `Unknown`).
            pub fn from_byte(b: u8) -> Self {
                match b {
                    $( $code => ConfirmationCode::$name, )*
                    other => ConfirmationCode::Unknown(other),
                }
            }

            /// The byte on the wire.
            pub fn to_byte(self) -> u8 {
                match self {
                    $( ConfirmationCode::$name => $code, )*
                    ConfirmationCode::Unknown(b) => b,
                }
            }
        }
    };
}

confirmation_codes! {
    /// 0x00: the command succeeded.
    Success = 0x00,
    /// 0x01: the module could not receive the packet.
    PacketReceiveError = 0x01,
    /// 0x02: no finger on the sensor (GenImg is polled until this changes).
    NoFinger = 0x02,
    /// 0x03: capturing (enrolling) the image failed.
    EnrollFailed = 0x03,
    /// 0x06: the image is too disordered to make a feature file.
    ImageTooDisordered = 0x06,
    /// 0x07: too few feature points for a feature file.
    TooFewFeatures = 0x07,
    /// 0x08: the two char buffers do not match.
    NoMatch = 0x08,
    /// 0x09: no library template matches (Search).
    NotFound = 0x09,
    /// 0x0A: the feature files could not be merged (RegModel).
    MergeFailed = 0x0A,
    /// 0x0B: page id outside the library.
    PageOutOfRange = 0x0B,
    /// 0x0C: error reading the template, or template invalid.
    TemplateInvalid = 0x0C,
    /// 0x0D: error uploading the template.
    TemplateUploadError = 0x0D,
    /// 0x0E: the module cannot receive the following data packets.
    CannotReceiveData = 0x0E,
    /// 0x0F: error uploading the image.
    ImageUploadError = 0x0F,
    /// 0x10: deleting the template failed.
    DeleteFailed = 0x10,
    /// 0x11: clearing the library failed.
    ClearFailed = 0x11,
    /// 0x13: wrong password.
    WrongPassword = 0x13,
    /// 0x15: no valid primary image in the buffer.
    NoValidImage = 0x15,
    /// 0x18: error writing flash.
    FlashWriteError = 0x18,
    /// 0x19: undefined error.
    UndefinedError = 0x19,
    /// 0x1A: invalid register number.
    InvalidRegister = 0x1A,
    /// 0x1B: wrong register configuration.
    WrongRegisterConfig = 0x1B,
    /// 0x1C: wrong notepad page number.
    WrongNotepadPage = 0x1C,
    /// 0x1D: communication port failure.
    PortFailure = 0x1D,
    /// 0x20: the address in the packet is not the module's.
    WrongAddress = 0x20,
    /// 0x21: the password must be verified first.
    PasswordRequired = 0x21,
}

impl fmt::Display for ConfirmationCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfirmationCode::Unknown(b) => write!(f, "unknown confirmation code 0x{b:02X}"),
            other => write!(f, "{other:?} (0x{:02X})", other.to_byte()),
        }
    }
}

/// One packet, decoded. `content` excludes the checksum.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet {
    /// Module address the packet is for / from.
    pub address: u32,
    /// Kind of packet.
    pub pid: Pid,
    /// Instruction + parameters, confirmation + results, or raw data.
    pub content: Vec<u8>,
}

/// Why bytes are not a valid packet. `Incomplete` is not a defect: it asks for more bytes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PacketError {
    /// More bytes are needed; at least `needed` in total from the start of the buffer.
    #[error("incomplete packet: need at least {needed} bytes")]
    Incomplete {
        /// Total buffer length needed before decoding can progress.
        needed: usize,
    },
    /// The buffer does not start with `EF 01`.
    #[error("bad header {0:02X?}")]
    BadHeader([u8; 2]),
    /// The PID byte is not one the protocol defines.
    #[error("unknown packet identifier 0x{0:02X}")]
    UnknownPid(u8),
    /// The length field is below 2 (it must count the checksum) or above [`MAX_CONTENT_LEN`] + 2.
    #[error("invalid length field {0}")]
    BadLength(u16),
    /// The checksum does not match the packet.
    #[error("checksum mismatch: packet says 0x{received:04X}, computed 0x{computed:04X}")]
    BadChecksum {
        /// Checksum carried by the packet.
        received: u16,
        /// Checksum computed over PID, length and content.
        computed: u16,
    },
}

/// The protocol checksum: low 16 bits of the sum of PID, both length bytes and the content.
pub fn checksum(pid: u8, length: u16, content: &[u8]) -> u16 {
    let mut sum = pid as u32 + (length >> 8) as u32 + (length & 0xFF) as u32;
    for &b in content {
        sum += b as u32;
    }
    (sum & 0xFFFF) as u16
}

impl Packet {
    /// A command packet: instruction code followed by its parameters.
    pub fn command(address: u32, instruction: Instruction, params: &[u8]) -> Self {
        let mut content = Vec::with_capacity(1 + params.len());
        content.push(instruction as u8);
        content.extend_from_slice(params);
        Packet { address, pid: Pid::Command, content }
    }

    /// An acknowledge packet: confirmation code followed by results.
    pub fn ack(address: u32, code: ConfirmationCode, results: &[u8]) -> Self {
        let mut content = Vec::with_capacity(1 + results.len());
        content.push(code.to_byte());
        content.extend_from_slice(results);
        Packet { address, pid: Pid::Ack, content }
    }

    /// Serialises the packet with its header and checksum.
    ///
    /// # Panics
    /// Never for packets whose content fits the protocol; content above 65533 bytes (which
    /// the length field cannot express) is a programming error and panics.
    pub fn encode(&self) -> Vec<u8> {
        let length = u16::try_from(self.content.len() + 2).expect("packet content longer than the length field allows");
        let mut out = Vec::with_capacity(PREFIX_LEN + self.content.len() + 2);
        out.extend_from_slice(&HEADER);
        out.extend_from_slice(&self.address.to_be_bytes());
        out.push(self.pid.to_byte());
        out.extend_from_slice(&length.to_be_bytes());
        out.extend_from_slice(&self.content);
        out.extend_from_slice(&checksum(self.pid.to_byte(), length, &self.content).to_be_bytes());
        out
    }

    /// Decodes one packet from the start of `buf`, returning it and the number of bytes it took.
    /// Trailing bytes are left for the next call. Never panics, whatever `buf` holds.
    pub fn decode(buf: &[u8]) -> Result<(Packet, usize), PacketError> {
        if buf.len() < 2 {
            return Err(PacketError::Incomplete { needed: PREFIX_LEN });
        }
        if buf[..2] != HEADER {
            return Err(PacketError::BadHeader([buf[0], buf[1]]));
        }
        if buf.len() < PREFIX_LEN {
            return Err(PacketError::Incomplete { needed: PREFIX_LEN });
        }
        let address = u32::from_be_bytes([buf[2], buf[3], buf[4], buf[5]]);
        let pid = Pid::from_byte(buf[6]).ok_or(PacketError::UnknownPid(buf[6]))?;
        let length = u16::from_be_bytes([buf[7], buf[8]]);
        if length < 2 || length as usize > MAX_CONTENT_LEN + 2 {
            return Err(PacketError::BadLength(length));
        }
        let total = PREFIX_LEN + length as usize;
        if buf.len() < total {
            return Err(PacketError::Incomplete { needed: total });
        }
        let content = &buf[PREFIX_LEN..total - 2];
        let received = u16::from_be_bytes([buf[total - 2], buf[total - 1]]);
        let computed = checksum(buf[6], length, content);
        if received != computed {
            return Err(PacketError::BadChecksum { received, computed });
        }
        Ok((Packet { address, pid, content: content.to_vec() }, total))
    }

    /// For an acknowledge packet: its confirmation code (`None` when the content is empty).
    pub fn confirmation(&self) -> Option<ConfirmationCode> {
        self.content.first().map(|&b| ConfirmationCode::from_byte(b))
    }
}

/// Index of the next possible packet start in `buf` (the first `EF 01`, or a trailing `EF` that
/// may be followed by `01`), so a reader can drop noise before it. `buf.len()` when none.
pub fn resync_offset(buf: &[u8]) -> usize {
    for i in 0..buf.len() {
        if buf[i] == HEADER[0] && (i + 1 == buf.len() || buf[i + 1] == HEADER[1]) {
            return i;
        }
    }
    buf.len()
}

/// The 16-byte ReadSysPara block, decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SystemParameters {
    /// Status register (bit 0 busy, bit 1 pass, bit 2 password verified, bit 3 image buffer valid).
    pub status: u16,
    /// System identifier code (0x0009 on most modules).
    pub system_id: u16,
    /// Number of template pages in the library.
    pub library_size: u16,
    /// Matching security level 1..=5.
    pub security_level: u16,
    /// The module address.
    pub address: u32,
    /// Data packet size code (0 = 32 .. 3 = 256 bytes).
    pub packet_size_code: u16,
    /// Baud multiplier N (baud = 9600 × N).
    pub baud_multiplier: u16,
}

impl SystemParameters {
    /// Length of the block on the wire.
    pub const LEN: usize = 16;

    /// Parses the block following the confirmation code; `None` when it is too short.
    pub fn parse(b: &[u8]) -> Option<Self> {
        if b.len() < Self::LEN {
            return None;
        }
        let w = |i: usize| u16::from_be_bytes([b[i], b[i + 1]]);
        Some(SystemParameters {
            status: w(0),
            system_id: w(2),
            library_size: w(4),
            security_level: w(6),
            address: u32::from_be_bytes([b[8], b[9], b[10], b[11]]),
            packet_size_code: w(12),
            baud_multiplier: w(14),
        })
    }

    /// Serialises the block (used by the emulator).
    pub fn to_bytes(&self) -> [u8; 16] {
        let mut out = [0u8; 16];
        out[0..2].copy_from_slice(&self.status.to_be_bytes());
        out[2..4].copy_from_slice(&self.system_id.to_be_bytes());
        out[4..6].copy_from_slice(&self.library_size.to_be_bytes());
        out[6..8].copy_from_slice(&self.security_level.to_be_bytes());
        out[8..12].copy_from_slice(&self.address.to_be_bytes());
        out[12..14].copy_from_slice(&self.packet_size_code.to_be_bytes());
        out[14..16].copy_from_slice(&self.baud_multiplier.to_be_bytes());
        out
    }

    /// Data packet payload size in bytes, when the code is one the manuals define.
    pub fn packet_size(&self) -> Option<usize> {
        packet_size_from_code(self.packet_size_code)
    }

    /// Baud rate the module runs at.
    pub fn baud(&self) -> u32 {
        9600 * self.baud_multiplier as u32
    }
}

/// Data packet payload size for a packet size code (0..=3).
pub fn packet_size_from_code(code: u16) -> Option<usize> {
    match code {
        0 => Some(32),
        1 => Some(64),
        2 => Some(128),
        3 => Some(256),
        _ => None,
    }
}

/// Baud multiplier N for a standard baud rate, `None` when `baud` is not 9600 × (1..=12).
pub fn baud_multiplier(baud: u32) -> Option<u8> {
    (baud.checked_rem(9600) == Some(0) && (1..=12).contains(&(baud / 9600))).then_some((baud / 9600) as u8)
}

/// Packs 8-bit grey into the sensor's 4-bit format: two pixels a byte, high nibble = left pixel.
/// Each pixel keeps its top four bits. An odd-length input pads the last low nibble with 0.
pub fn pack_4bit(pixels: &[u8]) -> Vec<u8> {
    pixels.chunks(2).map(|p| (p[0] & 0xF0) | (p.get(1).copied().unwrap_or(0) >> 4)).collect()
}

/// Unpacks the sensor's 4-bit pixels to 8-bit grey, scaling each nibble by 17 so that 0x0 → 0
/// and 0xF → 255 (full range, as the host libraries do).
pub fn unpack_4bit(packed: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(packed.len() * 2);
    for &b in packed {
        out.push((b >> 4) * 17);
        out.push((b & 0x0F) * 17);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        s.split_whitespace().map(|h| u8::from_str_radix(h, 16).unwrap()).collect()
    }

    #[test]
    fn worked_packets_from_the_protocol_notes() {
        let a = DEFAULT_ADDRESS;
        let cases: Vec<(Packet, &str)> = vec![
            (Packet::command(a, Instruction::GenImg, &[]), "EF 01 FF FF FF FF 01 00 03 01 00 05"),
            (Packet::command(a, Instruction::Img2Tz, &[1]), "EF 01 FF FF FF FF 01 00 04 02 01 00 08"),
            (Packet::command(a, Instruction::Img2Tz, &[2]), "EF 01 FF FF FF FF 01 00 04 02 02 00 09"),
            (Packet::command(a, Instruction::Match, &[]), "EF 01 FF FF FF FF 01 00 03 03 00 07"),
            (Packet::command(a, Instruction::Search, &[1, 0, 0, 0x03, 0xE8]), "EF 01 FF FF FF FF 01 00 08 04 01 00 00 03 E8 00 F9"),
            (Packet::command(a, Instruction::RegModel, &[]), "EF 01 FF FF FF FF 01 00 03 05 00 09"),
            (Packet::command(a, Instruction::Store, &[1, 0, 5]), "EF 01 FF FF FF FF 01 00 06 06 01 00 05 00 13"),
            (Packet::command(a, Instruction::UpImage, &[]), "EF 01 FF FF FF FF 01 00 03 0A 00 0E"),
            (Packet::command(a, Instruction::UpChar, &[1]), "EF 01 FF FF FF FF 01 00 04 08 01 00 0E"),
            (Packet::command(a, Instruction::DeleteChar, &[0, 5, 0, 1]), "EF 01 FF FF FF FF 01 00 07 0C 00 05 00 01 00 1A"),
            (Packet::command(a, Instruction::Empty, &[]), "EF 01 FF FF FF FF 01 00 03 0D 00 11"),
            (Packet::command(a, Instruction::ReadSysPara, &[]), "EF 01 FF FF FF FF 01 00 03 0F 00 13"),
            (Packet::command(a, Instruction::VfyPwd, &[0, 0, 0, 0]), "EF 01 FF FF FF FF 01 00 07 13 00 00 00 00 00 1B"),
            (Packet::command(a, Instruction::TemplateNum, &[]), "EF 01 FF FF FF FF 01 00 03 1D 00 21"),
            (Packet::ack(a, ConfirmationCode::Success, &[]), "EF 01 FF FF FF FF 07 00 03 00 00 0A"),
            (Packet::ack(a, ConfirmationCode::NoFinger, &[]), "EF 01 FF FF FF FF 07 00 03 02 00 0C"),
            (Packet::ack(a, ConfirmationCode::Success, &[0, 5, 0, 100]), "EF 01 FF FF FF FF 07 00 07 00 00 05 00 64 00 77"),
            (Packet::ack(a, ConfirmationCode::NotFound, &[0, 0, 0, 0]), "EF 01 FF FF FF FF 07 00 07 09 00 00 00 00 00 17"),
        ];
        for (packet, bytes) in cases {
            let bytes = hex(bytes);
            assert_eq!(packet.encode(), bytes, "{packet:?}");
            assert_eq!(Packet::decode(&bytes), Ok((packet, bytes.len())));
        }
    }

    #[test]
    fn malformed_packets_are_typed_errors() {
        let good = hex("EF 01 FF FF FF FF 07 00 03 00 00 0A");
        let mut bad_sum = good.clone();
        bad_sum[11] ^= 1;
        assert_eq!(Packet::decode(&bad_sum), Err(PacketError::BadChecksum { received: 0x0B, computed: 0x0A }));
        for n in 0..good.len() {
            assert!(matches!(Packet::decode(&good[..n]), Err(PacketError::Incomplete { .. })), "prefix {n}");
        }
        let mut bad_pid = good.clone();
        bad_pid[6] = 0x05;
        assert_eq!(Packet::decode(&bad_pid), Err(PacketError::UnknownPid(5)));
        let mut bad_len = good.clone();
        bad_len[8] = 1;
        assert_eq!(Packet::decode(&bad_len), Err(PacketError::BadLength(1)));
        bad_len[7] = 0x10;
        assert_eq!(Packet::decode(&bad_len), Err(PacketError::BadLength(0x1001)));
        assert_eq!(Packet::decode(&[0x55, 0xEF]), Err(PacketError::BadHeader([0x55, 0xEF])));
        assert_eq!(resync_offset(&[0x55, 0x00, 0xEF, 0x01]), 2);
        assert_eq!(resync_offset(&[0x55, 0xEF]), 1);
        assert_eq!(resync_offset(&[0xEF, 0x02, 0x00]), 3);
    }

    #[test]
    fn confirmation_codes_round_trip_and_keep_unknown_bytes() {
        for b in 0..=255u8 {
            assert_eq!(ConfirmationCode::from_byte(b).to_byte(), b);
        }
        assert_eq!(ConfirmationCode::from_byte(0x02), ConfirmationCode::NoFinger);
        assert_eq!(ConfirmationCode::from_byte(0x03), ConfirmationCode::EnrollFailed);
        assert_eq!(ConfirmationCode::from_byte(0x09), ConfirmationCode::NotFound);
        assert_eq!(ConfirmationCode::from_byte(0x42), ConfirmationCode::Unknown(0x42));
    }

    #[test]
    fn four_bit_packing() {
        assert_eq!(pack_4bit(&[0xFF, 0x00, 0x12, 0xAB]), vec![0xF0, 0x1A]);
        assert_eq!(unpack_4bit(&[0xF0, 0x1A]), vec![255, 0, 17, 170]);
        let px: Vec<u8> = (0..=255).collect();
        let back = unpack_4bit(&pack_4bit(&px));
        for (a, b) in px.iter().zip(&back) {
            assert_eq!(a >> 4, b >> 4);
        }
    }

    #[test]
    fn sys_params_and_bauds() {
        let p = SystemParameters { status: 4, system_id: 9, library_size: 300, security_level: 3, address: 0xFFFF_FFFF, packet_size_code: 2, baud_multiplier: 6 };
        assert_eq!(SystemParameters::parse(&p.to_bytes()), Some(p));
        assert_eq!(SystemParameters::parse(&p.to_bytes()[..15]), None);
        assert_eq!(p.baud(), 57600);
        assert_eq!(p.packet_size(), Some(128));
        assert_eq!(baud_multiplier(115200), Some(12));
        assert_eq!(baud_multiplier(9600 * 13), None);
        assert_eq!(baud_multiplier(0), None);
        assert_eq!(baud_multiplier(14400), None);
    }
}
