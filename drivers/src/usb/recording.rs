//! Recorded USB exchanges: the in-memory form shared by the replay transport and the recorder,
//! plus the two file formats it is read from — the umockdev `.ioctl` text format (read and
//! written) and usbmon `.pcapng` captures (read).
//!
//! Both parsers are bounded (file size, transfer count, transfer length) and report malformed
//! input as a typed [`RecordingError`]; they never panic on user-supplied bytes, because a
//! recording is exactly the kind of file that arrives from the field damaged or cut short.

use std::collections::{HashMap, VecDeque};
use std::fmt::Write as _;

use super::transport::{ControlSetup, TransferKind};

/// Largest recording file accepted; real captures are a few MB.
pub const MAX_RECORDING_BYTES: usize = 64 * 1024 * 1024;
/// Largest single transfer accepted (a U.are.U frame is 111 kB).
pub const MAX_TRANSFER_BYTES: usize = 4 * 1024 * 1024;
/// Most transfers accepted in one recording.
pub const MAX_TRANSFERS: usize = 200_000;

/// Why a recording could not be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RecordingError {
    /// A line of the umockdev text format does not parse.
    #[error("line {line}: {message}")]
    Syntax {
        /// 1-based line number.
        line: usize,
        /// What was wrong.
        message: String,
    },
    /// The binary data ends before a structure it announces.
    #[error("truncated at byte {offset}: {what}")]
    Truncated {
        /// Byte offset where the missing data should start.
        offset: usize,
        /// Which structure is cut short.
        what: &'static str,
    },
    /// The input is not a file of the expected kind.
    #[error("not a {0} file")]
    BadMagic(&'static str),
    /// Valid, but uses a feature this reader does not handle (another link type, big-endian).
    #[error("unsupported recording: {0}")]
    Unsupported(String),
    /// A size limit was exceeded (see the `MAX_*` constants).
    #[error("recording exceeds a limit: {0}")]
    TooLarge(String),
    /// Structurally valid but inconsistent (lengths that contradict each other).
    #[error("inconsistent recording: {0}")]
    Inconsistent(String),
}

impl From<RecordingError> for crate::DeviceError {
    fn from(e: RecordingError) -> Self {
        crate::DeviceError::Protocol(format!("bad USB recording: {e}"))
    }
}

/// One completed USB transfer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transfer {
    /// Transfer type.
    pub kind: TransferKind,
    /// Endpoint address including the direction bit; control transfers use 0x80 for reads and
    /// 0x00 for writes so that direction is always `endpoint & 0x80`.
    pub endpoint: u8,
    /// SETUP packet, for control transfers only.
    pub setup: Option<ControlSetup>,
    /// Bytes the host asked for (IN) or offered (OUT) — the URB buffer length, without the
    /// SETUP packet.
    pub requested: usize,
    /// OUT: the bytes sent. IN: the bytes received (`len() <= requested`).
    pub data: Vec<u8>,
    /// Completion status: 0, or a negative Linux errno (-110 timeout, -19 gone, -2 cancelled).
    pub status: i32,
}

impl Transfer {
    /// True for device-to-host transfers.
    pub fn is_in(&self) -> bool {
        self.endpoint & 0x80 != 0
    }
}

/// A recorded exchange with one device, in the order the host saw the transfers complete.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recording {
    /// Device node the recording was made on (`/dev/bus/usb/001/003`), if known.
    pub device_node: Option<String>,
    /// The transfers, in completion order.
    pub transfers: Vec<Transfer>,
}

fn syntax(line: usize, message: impl Into<String>) -> RecordingError {
    RecordingError::Syntax {
        line,
        message: message.into(),
    }
}

fn parse_hex(s: &str, line: usize) -> Result<Vec<u8>, RecordingError> {
    let b = s.as_bytes();
    if b.len() & 1 != 0 {
        return Err(syntax(line, "odd number of hex digits"));
    }
    if b.len() / 2 > MAX_TRANSFER_BYTES {
        return Err(RecordingError::TooLarge(format!(
            "line {line}: transfer over {MAX_TRANSFER_BYTES} bytes"
        )));
    }
    let nib = |c: u8| -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            b'A'..=b'F' => Some(c - b'A' + 10),
            _ => None,
        }
    };
    b.chunks_exact(2)
        .map(|p| match (nib(p[0]), nib(p[1])) {
            (Some(h), Some(l)) => Ok(h << 4 | l),
            _ => Err(syntax(line, "invalid hex digit in data")),
        })
        .collect()
}

impl Recording {
    /// Parses the umockdev `.ioctl` text format.
    ///
    /// umockdev stores a tree: an IN transfer is indented under the request before it, and an
    /// identical request is stored once and reused. A depth-first walk of that tree is simply the
    /// file order, so the transfers are returned in file order; [`super::ReplayTransport`] applies
    /// umockdev's matching rule (search onwards from the last match, wrapping) so that reused
    /// requests still replay. `USBDEVFS_REAPURB`/`REAPURBNDELAY` lines become transfers; other
    /// `USBDEVFS_*` lines (capabilities, connect info) carry nothing a driver reads and are
    /// skipped. Control transfers (type 2, written by [`Recording::to_ioctl`]) carry their 8-byte
    /// SETUP packet in front of the data.
    pub fn parse_ioctl(text: &str) -> Result<Self, RecordingError> {
        if text.len() > MAX_RECORDING_BYTES {
            return Err(RecordingError::TooLarge(format!("{} bytes", text.len())));
        }
        let mut rec = Recording::default();
        let mut prev_depth: Option<usize> = None;
        for (i, raw) in text.lines().enumerate() {
            let line = i + 1;
            if raw.trim().is_empty() {
                continue;
            }
            if let Some(dev) = raw.strip_prefix("@DEV ") {
                if rec.device_node.is_some() || !rec.transfers.is_empty() {
                    return Err(syntax(line, "@DEV must come first and only once"));
                }
                rec.device_node = Some(dev.trim().to_string());
                continue;
            }
            let depth = raw.len() - raw.trim_start_matches(' ').len();
            match prev_depth {
                None if depth != 0 => return Err(syntax(line, "first record is indented")),
                Some(p) if depth > p + 1 => {
                    return Err(syntax(line, "indentation jumps more than one level"))
                }
                _ => {}
            }
            prev_depth = Some(depth);
            let mut fields = raw.split_ascii_whitespace();
            let name = fields.next().ok_or_else(|| syntax(line, "empty record"))?;
            if name != "USBDEVFS_REAPURB" && name != "USBDEVFS_REAPURBNDELAY" {
                if name.starts_with("USBDEVFS_") {
                    continue;
                }
                return Err(syntax(line, format!("unknown record {name:?}")));
            }
            let mut num = |what: &str| -> Result<i64, RecordingError> {
                fields
                    .next()
                    .ok_or_else(|| syntax(line, format!("missing field {what}")))?
                    .parse::<i64>()
                    .map_err(|_| syntax(line, format!("field {what} is not a number")))
            };
            let _ret = num("ret")?;
            let urb_type = num("type")?;
            let endpoint = num("endpoint")?;
            let status = num("status")?;
            let _flags = num("flags")?;
            let buffer_length = num("buffer_length")?;
            let actual_length = num("actual_length")?;
            let _error_count = num("error_count")?;
            let hex = fields.next().unwrap_or("");
            if fields.next().is_some() {
                return Err(syntax(line, "trailing fields after data"));
            }
            let kind = u8::try_from(urb_type)
                .ok()
                .and_then(TransferKind::from_urb_type)
                .ok_or_else(|| syntax(line, format!("unsupported URB type {urb_type}")))?;
            let endpoint =
                u8::try_from(endpoint).map_err(|_| syntax(line, "endpoint out of range"))?;
            let status = i32::try_from(status).map_err(|_| syntax(line, "status out of range"))?;
            let in_range = |v: i64| v >= 0 && v as usize <= MAX_TRANSFER_BYTES + 8;
            if !in_range(buffer_length) || !in_range(actual_length) {
                return Err(syntax(line, "length out of range"));
            }
            let (buffer_length, actual_length) = (buffer_length as usize, actual_length as usize);
            let mut bytes = parse_hex(hex, line)?;
            let is_in = endpoint & 0x80 != 0;
            let (setup, requested) = if kind == TransferKind::Control {
                if bytes.len() < 8 || buffer_length < 8 {
                    return Err(syntax(
                        line,
                        "control transfer without an 8-byte SETUP packet",
                    ));
                }
                let s = ControlSetup::from_bytes(bytes[..8].try_into().expect("8 bytes"));
                bytes.drain(..8);
                if s.is_in() != is_in || s.length as usize != buffer_length - 8 {
                    return Err(syntax(
                        line,
                        "SETUP packet disagrees with endpoint or buffer length",
                    ));
                }
                (Some(s), buffer_length - 8)
            } else {
                (None, buffer_length)
            };
            let expected = if is_in { actual_length } else { requested };
            if actual_length > buffer_length {
                return Err(syntax(line, "actual_length exceeds buffer_length"));
            }
            if bytes.len() != expected {
                return Err(syntax(
                    line,
                    format!(
                        "data has {} bytes, the record announces {expected}",
                        bytes.len()
                    ),
                ));
            }
            if rec.transfers.len() >= MAX_TRANSFERS {
                return Err(RecordingError::TooLarge(format!(
                    "more than {MAX_TRANSFERS} transfers"
                )));
            }
            rec.transfers.push(Transfer {
                kind,
                endpoint,
                setup,
                requested,
                data: bytes,
                status,
            });
        }
        Ok(rec)
    }

    /// Writes the umockdev `.ioctl` text format, one top-level record per transfer in time
    /// order, which [`Recording::parse_ioctl`] (and `umockdev-run -i` for bulk and interrupt
    /// transfers) reads back. Control transfers are written with type 2 and the SETUP packet in
    /// front of the data, as usbdevfs lays out a control URB.
    pub fn to_ioctl(&self) -> String {
        let mut out = String::new();
        if let Some(dev) = &self.device_node {
            let _ = writeln!(out, "@DEV {dev}");
        }
        for t in &self.transfers {
            let setup_len = if t.setup.is_some() { 8 } else { 0 };
            let buffer_length = t.requested + setup_len;
            // A failed OUT keeps its payload (replay matches on it) but transferred nothing.
            let actual = if !t.is_in() && t.status != 0 {
                0
            } else {
                t.data.len()
            };
            let _ = write!(
                out,
                "USBDEVFS_REAPURBNDELAY 0 {} {} {} 0 {} {} 0 ",
                t.kind.urb_type(),
                t.endpoint,
                t.status,
                buffer_length,
                actual
            );
            if let Some(s) = t.setup {
                for b in s.to_bytes() {
                    let _ = write!(out, "{b:02X}");
                }
            }
            for b in &t.data {
                let _ = write!(out, "{b:02X}");
            }
            out.push('\n');
        }
        out
    }

    /// Writes the recording as a usbmon capture in pcapng form (link type 220), one submission
    /// and one completion per transfer, strictly in turn, for device `(bus, address)`.
    ///
    /// This is the form `umockdev-run -p NODE=FILE` replays to libusb. The `.ioctl` text form
    /// cannot carry control reads to libusb: libusb submits every control URB on endpoint 0,
    /// and umockdev's ioctl replay copies IN data only for URBs whose endpoint has the IN bit,
    /// so register reads would come back empty. The pcap replay copies the data stage of
    /// control reads, and since each URB here completes before the next is submitted, it
    /// replays to any driver that issues its transfers one at a time in this order.
    pub fn to_pcapng(&self, bus: u16, address: u8) -> Vec<u8> {
        let mut out = Vec::new();
        // Section header: byte-order magic, version 1.0, section length unknown.
        let mut shb = Vec::new();
        shb.extend_from_slice(&0x1A2B_3C4Du32.to_le_bytes());
        shb.extend_from_slice(&1u16.to_le_bytes());
        shb.extend_from_slice(&0u16.to_le_bytes());
        shb.extend_from_slice(&(-1i64).to_le_bytes());
        push_block(&mut out, 0x0A0D_0D0A, &shb);
        // Interface description: usbmon mmapped, no snap limit.
        let mut idb = Vec::new();
        idb.extend_from_slice(&LINKTYPE_USB_LINUX_MMAPPED.to_le_bytes());
        idb.extend_from_slice(&0u16.to_le_bytes());
        idb.extend_from_slice(&0u32.to_le_bytes());
        push_block(&mut out, 1, &idb);

        let mut micros = 0u64;
        for (n, t) in self.transfers.iter().enumerate() {
            let id = 0x1000 + n as u64; // usbmon ids are kernel addresses; any unique value pairs
            let requested = t.requested as u32;
            let (sub_data, done_data): (&[u8], &[u8]) = if t.is_in() {
                (&[], &t.data)
            } else {
                (&t.data, &[])
            };
            let done_len = if !t.is_in() && t.status != 0 {
                0
            } else {
                t.data.len() as u32
            };
            let endpoint = match t.setup {
                Some(s) if s.is_in() => 0x80,
                Some(_) => 0x00,
                None => t.endpoint,
            };
            let events = [
                (b'S', 0, requested, sub_data, t.setup),
                (b'C', t.status, done_len, done_data, None),
            ];
            for (event, status, urb_len, data, setup) in events {
                let mut p = Vec::with_capacity(USBMON_HEADER + data.len());
                p.extend_from_slice(&id.to_le_bytes());
                p.push(event);
                p.push(t.kind.urb_type());
                p.push(endpoint);
                p.push(address);
                p.extend_from_slice(&bus.to_le_bytes());
                p.push(if setup.is_some() { 0 } else { b'-' }); // setup flag: 0 = present
                p.push(if data.is_empty() { b'<' } else { 0 }); // data flag: 0 = present
                p.extend_from_slice(&((micros / 1_000_000) as i64).to_le_bytes());
                p.extend_from_slice(&((micros % 1_000_000) as i32).to_le_bytes());
                p.extend_from_slice(&status.to_le_bytes());
                p.extend_from_slice(&urb_len.to_le_bytes());
                p.extend_from_slice(&(data.len() as u32).to_le_bytes());
                p.extend_from_slice(&setup.map_or([0; 8], |s| s.to_bytes()));
                p.extend_from_slice(&[0; 16]); // interval, start frame, flags, iso descriptors
                p.extend_from_slice(data);
                let mut epb = Vec::with_capacity(20 + p.len());
                epb.extend_from_slice(&0u32.to_le_bytes()); // interface 0
                epb.extend_from_slice(&((micros >> 32) as u32).to_le_bytes());
                epb.extend_from_slice(&(micros as u32).to_le_bytes());
                epb.extend_from_slice(&(p.len() as u32).to_le_bytes());
                epb.extend_from_slice(&(p.len() as u32).to_le_bytes());
                epb.extend_from_slice(&p);
                push_block(&mut out, 6, &epb);
                micros += 1000;
            }
        }
        out
    }

    /// Parses a usbmon capture in pcapng form (link type 220, Linux USB with the 64-byte
    /// mmapped header), as written by Wireshark/dumpcap and used by `umockdev-run -p`.
    ///
    /// Submissions and completions are paired by URB id; each completed URB becomes one
    /// [`Transfer`], in completion order, with OUT data taken from the submission and IN data
    /// from the completion. URBs still in flight at the end are dropped; isochronous URBs are
    /// skipped (no scanner here uses them). `device` selects `(bus, address)` when the capture
    /// holds more than one device; with `None` the capture must hold exactly one.
    pub fn parse_pcapng(bytes: &[u8], device: Option<(u16, u8)>) -> Result<Self, RecordingError> {
        if bytes.len() > MAX_RECORDING_BYTES {
            return Err(RecordingError::TooLarge(format!("{} bytes", bytes.len())));
        }
        let packets = pcapng_usb_packets(bytes)?;
        let mut devices: Vec<(u16, u8)> = Vec::new();
        for p in &packets {
            if !devices.contains(&(p.bus, p.device)) {
                devices.push((p.bus, p.device));
            }
        }
        let wanted = match device {
            Some(d) => d,
            None if devices.len() <= 1 => devices.first().copied().unwrap_or((0, 0)),
            None => {
                return Err(RecordingError::Unsupported(format!(
                    "capture holds {} devices; select one by bus and address",
                    devices.len()
                )))
            }
        };
        let mut pending: HashMap<u64, VecDeque<UsbPacket>> = HashMap::new();
        let mut rec = Recording {
            device_node: Some(format!("/dev/bus/usb/{:03}/{:03}", wanted.0, wanted.1)),
            transfers: vec![],
        };
        for p in packets.into_iter().filter(|p| (p.bus, p.device) == wanted) {
            match p.event {
                b'S' => pending.entry(p.id).or_default().push_back(p),
                b'C' | b'E' => {
                    let Some(sub) = pending.get_mut(&p.id).and_then(|q| q.pop_front()) else {
                        continue; // completion of a URB submitted before the capture started
                    };
                    let Some(kind) = TransferKind::from_urb_type(sub.transfer_type) else {
                        continue; // isochronous
                    };
                    let (endpoint, setup) = if kind == TransferKind::Control {
                        let s = sub.setup.ok_or_else(|| {
                            RecordingError::Inconsistent(format!(
                                "control URB {:#x} submitted without SETUP",
                                p.id
                            ))
                        })?;
                        let s = ControlSetup::from_bytes(s);
                        (if s.is_in() { 0x80 } else { 0x00 }, Some(s))
                    } else {
                        (sub.endpoint, None)
                    };
                    let is_in = endpoint & 0x80 != 0;
                    let data = if is_in { p.data } else { sub.data };
                    let requested = sub.urb_len as usize;
                    if requested > MAX_TRANSFER_BYTES || data.len() > requested {
                        return Err(RecordingError::Inconsistent(format!(
                            "URB {:#x}: {} bytes for a {requested}-byte buffer",
                            p.id,
                            data.len()
                        )));
                    }
                    let status = if p.event == b'E' && p.status == 0 {
                        -71
                    } else {
                        p.status
                    };
                    if rec.transfers.len() >= MAX_TRANSFERS {
                        return Err(RecordingError::TooLarge(format!(
                            "more than {MAX_TRANSFERS} transfers"
                        )));
                    }
                    rec.transfers.push(Transfer {
                        kind,
                        endpoint,
                        setup,
                        requested,
                        data,
                        status,
                    });
                }
                _ => {}
            }
        }
        Ok(rec)
    }
}

/// Appends one pcapng block: type, total length, body padded to 4 bytes, total length again.
fn push_block(out: &mut Vec<u8>, block_type: u32, body: &[u8]) {
    let padded = body.len().div_ceil(4) * 4;
    let len = (12 + padded) as u32;
    out.extend_from_slice(&block_type.to_le_bytes());
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(body);
    out.resize(out.len() + padded - body.len(), 0);
    out.extend_from_slice(&len.to_le_bytes());
}

/// One usbmon event (the fields of the 64-byte mmapped header that replay needs).
#[derive(Debug, Clone)]
struct UsbPacket {
    id: u64,
    event: u8,
    transfer_type: u8,
    endpoint: u8,
    device: u8,
    bus: u16,
    setup: Option<[u8; 8]>,
    status: i32,
    urb_len: u32,
    data: Vec<u8>,
}

const USBMON_HEADER: usize = 64;
const LINKTYPE_USB_LINUX_MMAPPED: u16 = 220;

fn rd_u16(b: &[u8], o: usize) -> u16 {
    u16::from_le_bytes([b[o], b[o + 1]])
}
fn rd_u32(b: &[u8], o: usize) -> u32 {
    u32::from_le_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]])
}

/// Walks the pcapng blocks and decodes every packet on a usbmon interface.
fn pcapng_usb_packets(b: &[u8]) -> Result<Vec<UsbPacket>, RecordingError> {
    if b.len() < 12 || rd_u32(b, 0) != 0x0A0D_0D0A {
        return Err(RecordingError::BadMagic("pcapng"));
    }
    let mut link_types: Vec<u16> = Vec::new();
    let mut out = Vec::new();
    let mut off = 0usize;
    while off < b.len() {
        if b.len() - off < 12 {
            return Err(RecordingError::Truncated {
                offset: off,
                what: "pcapng block header",
            });
        }
        let block_type = rd_u32(b, off);
        let len = rd_u32(b, off + 4) as usize;
        if len < 12 || len & 3 != 0 {
            return Err(RecordingError::Inconsistent(format!(
                "block at {off} has length {len}"
            )));
        }
        if len > b.len() - off {
            return Err(RecordingError::Truncated {
                offset: off,
                what: "pcapng block",
            });
        }
        if rd_u32(b, off + len - 4) as usize != len {
            return Err(RecordingError::Inconsistent(format!(
                "block at {off}: trailing length differs"
            )));
        }
        let body = &b[off + 8..off + len - 4];
        match block_type {
            0x0A0D_0D0A => {
                if body.len() < 4 {
                    return Err(RecordingError::Truncated {
                        offset: off,
                        what: "section header",
                    });
                }
                match rd_u32(body, 0) {
                    0x1A2B_3C4D => {}
                    0x4D3C_2B1A => {
                        return Err(RecordingError::Unsupported("big-endian pcapng".into()))
                    }
                    _ => return Err(RecordingError::BadMagic("pcapng")),
                }
                link_types.clear(); // interface ids are per section
            }
            1 => {
                if body.len() < 8 {
                    return Err(RecordingError::Truncated {
                        offset: off,
                        what: "interface description",
                    });
                }
                link_types.push(rd_u16(body, 0));
            }
            6 => {
                if body.len() < 20 {
                    return Err(RecordingError::Truncated {
                        offset: off,
                        what: "enhanced packet header",
                    });
                }
                let iface = rd_u32(body, 0) as usize;
                let caplen = rd_u32(body, 12) as usize;
                let lt = *link_types.get(iface).ok_or_else(|| {
                    RecordingError::Inconsistent(format!(
                        "packet at {off} names undeclared interface {iface}"
                    ))
                })?;
                if caplen > body.len() - 20 {
                    return Err(RecordingError::Truncated {
                        offset: off,
                        what: "packet data",
                    });
                }
                if lt != LINKTYPE_USB_LINUX_MMAPPED {
                    return Err(RecordingError::Unsupported(format!(
                        "link type {lt} (need 220, usbmon mmapped)"
                    )));
                }
                out.push(usbmon_packet(&body[20..20 + caplen], off)?);
                if out.len() > 4 * MAX_TRANSFERS {
                    return Err(RecordingError::TooLarge("too many packets".into()));
                }
            }
            _ => {} // name resolution, statistics, custom blocks: nothing for replay
        }
        off += len;
    }
    Ok(out)
}

fn usbmon_packet(p: &[u8], off: usize) -> Result<UsbPacket, RecordingError> {
    if p.len() < USBMON_HEADER {
        return Err(RecordingError::Truncated {
            offset: off,
            what: "usbmon header",
        });
    }
    let id = u64::from_le_bytes(p[0..8].try_into().expect("8 bytes"));
    let event = p[8];
    let setup_flag = p[14];
    let status = i32::from_le_bytes(p[28..32].try_into().expect("4 bytes"));
    let urb_len = rd_u32(p, 32);
    let data_len = rd_u32(p, 36) as usize;
    if !matches!(event, b'S' | b'C' | b'E') {
        return Err(RecordingError::Inconsistent(format!(
            "packet at {off}: event type {event:#x}"
        )));
    }
    let payload = &p[USBMON_HEADER..];
    if data_len > payload.len() {
        return Err(RecordingError::Truncated {
            offset: off,
            what: "usbmon payload (capture snap length too small)",
        });
    }
    let setup = (event == b'S' && p[9] == 2 && setup_flag == 0)
        .then(|| p[40..48].try_into().expect("8 bytes"));
    Ok(UsbPacket {
        id,
        event,
        transfer_type: p[9],
        endpoint: p[10],
        device: p[11],
        bus: rd_u16(p, 12),
        setup,
        status,
        urb_len,
        data: payload[..data_len].to_vec(),
    })
}

/// Device facts from a umockdev device description (`umockdev-record` output), so a recording
/// can be opened with the right driver without a device attached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceDescription {
    /// idVendor.
    pub vendor_id: u16,
    /// idProduct.
    pub product_id: u16,
    /// USB bus number.
    pub bus: u16,
    /// Device address on the bus.
    pub address: u8,
}

impl DeviceDescription {
    /// Reads `idVendor`, `idProduct`, `busnum` and `devnum` from the first device of a
    /// umockdev description.
    pub fn parse_umockdev(text: &str) -> Result<Self, RecordingError> {
        let mut found: HashMap<&str, &str> = HashMap::new();
        for line in text.lines() {
            if line.starts_with("P: ") && found.contains_key("idVendor") {
                break; // second device: stop at the first one
            }
            if let Some(attr) = line.strip_prefix("A: ") {
                if let Some((k, v)) = attr.split_once('=') {
                    found.entry(k).or_insert(v.trim_end_matches("\\n").trim());
                }
            }
        }
        let get = |k: &'static str| {
            found
                .get(k)
                .copied()
                .ok_or_else(|| RecordingError::Inconsistent(format!("no {k} attribute")))
        };
        let hex16 = |k: &'static str| -> Result<u16, RecordingError> {
            u16::from_str_radix(get(k)?, 16)
                .map_err(|_| RecordingError::Inconsistent(format!("bad {k}")))
        };
        let dec = |k: &'static str| -> Result<u32, RecordingError> {
            get(k)?
                .parse::<u32>()
                .map_err(|_| RecordingError::Inconsistent(format!("bad {k}")))
        };
        Ok(Self {
            vendor_id: hex16("idVendor")?,
            product_id: hex16("idProduct")?,
            bus: dec("busnum")? as u16,
            address: dec("devnum")? as u8,
        })
    }
}
