//! NEXT Biometrics NB-1010-U: a bulk-only press sensor with a tiny command protocol.
//!
//! Written from `PROTOCOL-NOTES.md` beside the recording. Every command starts `0x80, opcode,
//! sequence, 0` and a little-endian u32 total length; every short reply is 16 bytes in the same
//! framing. A capture is: poll the finger level (opcode 0x38) until it exceeds
//! [`FINGER_LEVEL_THRESHOLD`], send the pre-capture (0x0D) and start-capture (0x12) commands, then
//! read [`CHUNKS`] chunks of [`CHUNK_LEN`] bytes, each carrying two image rows.

use std::time::{Duration, Instant};

use super::transport::{remaining, UsbTransport};
use crate::{DeviceError, DeviceInfo, FingerprintScanner, GrayImage, ImageSpec, Result, ScanEvent};

/// USB vendor id (NEXT Biometrics).
pub const VENDOR_ID: u16 = 0x298d;
/// USB product id (NB-1010-U).
pub const PRODUCT_ID: u16 = 0x1010;
/// Interface claimed for all transfers.
pub const INTERFACE: u8 = 0;
/// Bulk OUT endpoint for commands.
pub const EP_OUT: u8 = 0x02;
/// Bulk IN endpoint for replies and image data.
pub const EP_IN: u8 = 0x83;
/// Image width in pixels.
pub const WIDTH: u32 = 256;
/// Image height in pixels.
pub const HEIGHT: u32 = 180;
/// Sensor resolution (the NB-1010 is a 500 ppi sensor: 256 px over 13 mm).
pub const DPI: u32 = 500;
/// Per-transfer timeout used by the reference driver.
pub const TRANSFER_TIMEOUT: Duration = Duration::from_millis(500);
/// Finger-presence level above which a finger counts as placed.
pub const FINGER_LEVEL_THRESHOLD: u8 = 0x30;
/// Pause between finger polls.
pub const POLL_INTERVAL: Duration = Duration::from_millis(50);
/// Image chunks per capture.
pub const CHUNKS: usize = 90;
/// Bytes per image chunk: 25-byte header, 512 pixels, 3 bytes padding.
pub const CHUNK_LEN: usize = 540;
/// Length of the chunk header.
pub const CHUNK_HEADER: usize = 25;
/// Short reply length.
pub const REPLY_LEN: usize = 16;

const OP_CHECK_FINGER: u8 = 0x38;
const OP_PRE_CAPTURE: u8 = 0x0D;
const OP_START_CAPTURE: u8 = 0x12;
const REPLY_FINGER: u8 = 0x37;
const REPLY_GENERIC: u8 = 0x20;
const REPLY_CHUNK: u8 = 0x21;

/// Builds a command: framing header, then `payload` (the total length includes the header).
fn command(opcode: u8, seq: u8, payload: &[u8]) -> Vec<u8> {
    let len = (8 + payload.len()) as u32;
    let mut c = vec![0x80, opcode, seq, 0];
    c.extend_from_slice(&len.to_le_bytes());
    c.extend_from_slice(payload);
    c
}

/// Validates the framing of a 16-byte reply and returns it.
fn check_reply(buf: &[u8], n: usize, expect: u8) -> Result<&[u8]> {
    if n != REPLY_LEN {
        return Err(DeviceError::Protocol(format!(
            "NB-1010 reply of {n} bytes, expected {REPLY_LEN}"
        )));
    }
    let r = &buf[..n];
    if r[0] != 0x80
        || r[1] != expect
        || u32::from_le_bytes([r[4], r[5], r[6], r[7]]) != REPLY_LEN as u32
    {
        return Err(DeviceError::Protocol(format!(
            "NB-1010 unexpected reply {:02x?} (wanted code {expect:#04x})",
            &r[..8]
        )));
    }
    Ok(r)
}

/// Parses one image chunk, checking its header against the chunk's position, and returns its
/// 512 pixel bytes.
pub fn parse_chunk(chunk: &[u8], index: usize) -> Result<&[u8]> {
    if chunk.len() != CHUNK_LEN {
        return Err(DeviceError::Protocol(format!(
            "NB-1010 chunk {index} has {} bytes, expected {CHUNK_LEN}",
            chunk.len()
        )));
    }
    let u32_at =
        |o: usize| u32::from_le_bytes([chunk[o], chunk[o + 1], chunk[o + 2], chunk[o + 3]]);
    let more = u32_at(12);
    let row = u32_at(16);
    let width = u32_at(20);
    let bad = chunk[0] != 0x80
        || chunk[1] != REPLY_CHUNK
        || u32_at(4) != CHUNK_LEN as u32
        || more != u32::from(index + 1 < CHUNKS)
        || row != (2 * index + 1) as u32
        || width != WIDTH;
    if bad {
        return Err(DeviceError::Protocol(format!(
            "NB-1010 chunk {index}: bad header (code {:#04x}, more {more}, row {row}, width {width})",
            chunk[1]
        )));
    }
    Ok(&chunk[CHUNK_HEADER..CHUNK_HEADER + 2 * WIDTH as usize])
}

/// Decodes a full capture (the 90 chunks, in order) into the image. Used by the driver and by
/// the decode benchmark.
pub fn decode_chunks<'a>(chunks: impl IntoIterator<Item = &'a [u8]>) -> Result<GrayImage> {
    let mut pixels = Vec::with_capacity((WIDTH * HEIGHT) as usize);
    let mut count = 0;
    for (i, c) in chunks.into_iter().enumerate() {
        pixels.extend_from_slice(parse_chunk(c, i)?);
        count += 1;
    }
    if count != CHUNKS {
        return Err(DeviceError::Protocol(format!(
            "NB-1010 frame has {count} chunks, expected {CHUNKS}"
        )));
    }
    GrayImage::new(WIDTH, HEIGHT, DPI, pixels)
        .ok_or(DeviceError::Protocol("NB-1010 frame size".into()))
}

/// Protocol state: whether a finger has been seen since the last capture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Ready,
    FingerPresent,
    Closed,
}

/// The NB-1010 driver over any [`UsbTransport`].
pub struct Nb1010 {
    transport: Box<dyn UsbTransport>,
    info: DeviceInfo,
    state: State,
    seq: u8,
}

impl Nb1010 {
    /// Claims the interface; the device needs no initialisation before the first finger poll.
    pub fn open(mut transport: Box<dyn UsbTransport>, info: DeviceInfo) -> Result<Self> {
        transport.claim_interface(INTERFACE)?;
        Ok(Self {
            transport,
            info,
            state: State::Ready,
            seq: 1,
        })
    }

    fn next_seq(&mut self) -> u8 {
        let s = self.seq;
        self.seq = self.seq.wrapping_add(1);
        s
    }

    /// Sends a command and reads its 16-byte reply.
    fn exchange(
        &mut self,
        opcode: u8,
        payload: &[u8],
        expect: u8,
        deadline: Instant,
        total: Duration,
    ) -> Result<[u8; REPLY_LEN]> {
        let seq = self.next_seq();
        let cmd = command(opcode, seq, payload);
        let t = remaining(deadline, total, "NB-1010 reply")?.min(TRANSFER_TIMEOUT);
        let n = self.transport.write_bulk(EP_OUT, &cmd, t)?;
        if n != cmd.len() {
            return Err(DeviceError::Protocol(format!(
                "NB-1010 accepted {n} of {} command bytes",
                cmd.len()
            )));
        }
        let mut buf = [0u8; REPLY_LEN];
        let t = remaining(deadline, total, "NB-1010 reply")?.min(TRANSFER_TIMEOUT);
        let n = self.transport.read_bulk(EP_IN, &mut buf, t)?;
        check_reply(&buf, n, expect)?;
        if buf[2] != seq {
            return Err(DeviceError::Protocol(format!(
                "NB-1010 reply sequence {} for command {seq}",
                buf[2]
            )));
        }
        Ok(buf)
    }

    fn poll_finger(&mut self, deadline: Instant, total: Duration) -> Result<()> {
        if self.state == State::Closed {
            return Err(DeviceError::InvalidState("NB-1010 is closed"));
        }
        loop {
            let reply = self.exchange(OP_CHECK_FINGER, &[], REPLY_FINGER, deadline, total)?;
            if reply[12] > FINGER_LEVEL_THRESHOLD {
                // The reference host spends one sequence number between a positive finger check
                // and the next command (the recorded sequence goes 1, 3, 4). The device echoes
                // without checking; we follow the same numbering so recordings replay byte-exact.
                self.next_seq();
                self.state = State::FingerPresent;
                return Ok(());
            }
            let left = remaining(deadline, total, "finger on the NB-1010")?;
            std::thread::sleep(POLL_INTERVAL.min(left));
        }
    }
}

impl FingerprintScanner for Nb1010 {
    fn info(&self) -> DeviceInfo {
        self.info.clone()
    }

    fn image_spec(&self) -> ImageSpec {
        ImageSpec {
            width: WIDTH,
            height: HEIGHT,
            dpi: DPI,
        }
    }

    fn wait_for_finger(&mut self, timeout: Duration) -> Result<()> {
        if self.state == State::FingerPresent {
            return Ok(());
        }
        self.poll_finger(Instant::now() + timeout, timeout)
    }

    fn capture(
        &mut self,
        timeout: Duration,
        events: &mut dyn FnMut(ScanEvent),
    ) -> Result<GrayImage> {
        let deadline = Instant::now() + timeout;
        if self.state != State::FingerPresent {
            events(ScanEvent::AwaitingFinger);
            self.poll_finger(deadline, timeout)?;
        }
        events(ScanEvent::FingerPresent);
        self.state = State::Ready; // whatever happens next, the next capture polls again
        self.exchange(
            OP_PRE_CAPTURE,
            &[0x00, 0x04, 0x00, 0x00],
            REPLY_GENERIC,
            deadline,
            timeout,
        )?;
        let mut start = [0u8; 24];
        start[0] = 0x02;
        start[20] = 0x20;
        self.exchange(OP_START_CAPTURE, &start, REPLY_GENERIC, deadline, timeout)?;
        let mut raw = vec![0u8; CHUNKS * CHUNK_LEN];
        for (i, chunk) in raw.chunks_exact_mut(CHUNK_LEN).enumerate() {
            let t = remaining(deadline, timeout, "NB-1010 image data")?.min(TRANSFER_TIMEOUT);
            let n = self.transport.read_bulk(EP_IN, chunk, t)?;
            if n != CHUNK_LEN {
                return Err(DeviceError::Protocol(format!(
                    "NB-1010 chunk {i} was {n} bytes, expected {CHUNK_LEN}"
                )));
            }
            parse_chunk(chunk, i)?;
            if i % 9 == 8 {
                events(ScanEvent::Progress {
                    percent: ((i + 1) * 100 / CHUNKS) as u8,
                });
            }
        }
        decode_chunks(raw.chunks_exact(CHUNK_LEN))
    }

    fn close(&mut self) -> Result<()> {
        if self.state == State::Closed {
            return Ok(());
        }
        self.state = State::Closed;
        self.transport.release_interface(INTERFACE)
    }
}

impl Drop for Nb1010 {
    /// Leaves the device as the next user expects it (interface released) even
    /// when the caller forgets `close`; errors are moot at that point (the device may be gone).
    fn drop(&mut self) {
        let _ = self.close();
    }
}
