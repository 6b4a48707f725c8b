//! DigitalPersona U.are.U 4000/4500 family, including the Microsoft Fingerprint Reader v2 with
//! its AES challenge-response.
//!
//! Written from the two `PROTOCOL-NOTES.md` files beside the recordings. Registers are read and
//! written with vendor control request 0x04 (wValue = first register); finger on/off arrives as
//! 64-byte interrupt reports on [`EP_INTR`]; the image is one bulk read on [`EP_DATA`]: a 64-byte
//! header with a block table, then lines of 384 bytes, mostly scrambled with an LFSR key stream
//! whose key the host obtains from registers 0x33/0x34.

use std::time::{Duration, Instant};

use aes::cipher::{BlockEncrypt, KeyInit};

use super::transport::{remaining, ControlSetup, UsbTransport};
use crate::{DeviceError, DeviceInfo, FingerprintScanner, GrayImage, ImageSpec, Result, ScanEvent};

/// Interface claimed for all transfers.
pub const INTERFACE: u8 = 0;
/// Interrupt IN endpoint (64-byte event reports).
pub const EP_INTR: u8 = 0x81;
/// Bulk IN endpoint (image).
pub const EP_DATA: u8 = 0x82;
/// Vendor request used for register access.
pub const REQ_REGISTER: u8 = 0x04;
/// Hardware status: bit 7 low power, bit 2 fault.
pub const REG_HWSTAT: u16 = 0x07;
/// Scramble index: key number, then the 32-bit seed (little-endian).
pub const REG_SCRAMBLE_INDEX: u16 = 0x33;
/// Scramble key: 4 bytes, little-endian; key = value XOR seed.
pub const REG_SCRAMBLE_KEY: u16 = 0x34;
/// Operating mode.
pub const REG_MODE: u16 = 0x4E;
/// 16 bytes of device information.
pub const REG_DEVICE_INFO: u16 = 0xF0;
/// Where the host writes the 16-byte challenge response (MS v2).
pub const REG_RESPONSE: u16 = 0x2000;
/// Where the host reads the 16-byte challenge (MS v2).
pub const REG_CHALLENGE: u16 = 0x2010;
/// Mode: wait for a finger.
pub const MODE_AWAIT_FINGER_ON: u8 = 0x10;
/// Mode: wait for the finger to lift.
pub const MODE_AWAIT_FINGER_OFF: u8 = 0x12;
/// Mode: capture.
pub const MODE_CAPTURE: u8 = 0x20;
/// Mode: off.
pub const MODE_OFF: u8 = 0x70;
/// Interrupt code: scanner powered up.
pub const IRQ_POWER_UP: u16 = 0x56AA;
/// Interrupt code: finger on.
pub const IRQ_FINGER_ON: u16 = 0x0101;
/// Interrupt code: finger off.
pub const IRQ_FINGER_OFF: u16 = 0x0200;
/// Interrupt code: the next scan will probably fail.
pub const IRQ_SCAN_WARNING: u16 = 0x0800;
/// Interrupt report size.
pub const IRQ_LEN: usize = 64;
/// Image width (bytes per line).
pub const WIDTH: u32 = 384;
/// Image height (output lines).
pub const HEIGHT: u32 = 290;
/// Sensor resolution.
pub const DPI: u32 = 500;
/// Frame header length.
pub const HEADER_LEN: usize = 64;
/// Bulk read size: header plus the most lines a frame can hold.
pub const FRAME_BUFFER: usize = HEADER_LEN + (WIDTH * HEIGHT) as usize;
/// Timeout for register access.
pub const CTRL_TIMEOUT: Duration = Duration::from_millis(5000);
/// How long to wait for the power-up report after powering on.
pub const POWER_UP_TIMEOUT: Duration = Duration::from_secs(5);
/// How long to wait for the finger-off report after a capture before giving up on it.
pub const FINGER_OFF_TIMEOUT: Duration = Duration::from_millis(500);
/// Attempts at leaving low-power state.
pub const POWER_UP_ATTEMPTS: usize = 5;
/// AES-128 key of the MS v2 challenge-response (published in the libfprint uru4000 driver).
pub const CR_KEY: [u8; 16] = [
    0x79, 0xac, 0x91, 0x79, 0x5c, 0xa1, 0x47, 0x8e, 0x98, 0xe0, 0x0f, 0x3c, 0x59, 0x8f, 0x5f, 0x4b,
];
/// Taps of the descrambling LFSR.
pub const LFSR_TAPS: u32 = 0x9248_144D;
/// State bits that form one key-stream byte (output bit 0 first).
pub const KEYSTREAM_BITS: [u32; 8] = [4, 8, 11, 14, 18, 21, 24, 29];

const BLOCK_SKIPPED: u8 = 0x01;
const BLOCK_ENCRYPTED: u8 = 0x02;
const BLOCK_KEY_HOLD: u8 = 0x04;
const BLOCK_KEY_CHANGE: u8 = 0x80;

/// Per-model differences.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Profile {
    /// Model name.
    pub name: &'static str,
    /// idVendor.
    pub vendor_id: u16,
    /// idProduct.
    pub product_id: u16,
    /// Needs the AES challenge-response to leave low power.
    pub challenge_response: bool,
    /// The reference stack rotates this model's image by 180 degrees.
    pub rotate_180: bool,
}

/// DigitalPersona U.are.U 4500 (filed under the 4000B profile).
pub const URU4500: Profile = Profile {
    name: "DigitalPersona U.are.U 4500",
    vendor_id: 0x05ba,
    product_id: 0x000a,
    challenge_response: false,
    rotate_180: true,
};

/// Microsoft Fingerprint Reader v2.
pub const MS_V2: Profile = Profile {
    name: "Microsoft Fingerprint Reader v2",
    vendor_id: 0x045e,
    product_id: 0x00ca,
    challenge_response: true,
    rotate_180: false,
};

/// The profile for a VID/PID.
pub fn profile_for(vendor_id: u16, product_id: u16) -> Option<Profile> {
    [URU4500, MS_V2]
        .into_iter()
        .find(|p| p.vendor_id == vendor_id && p.product_id == product_id)
}

/// Where the seed for the scramble-key handshake comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seed {
    /// A fresh value per handshake (normal operation).
    Random,
    /// A fixed value: replaying a recording must send the recorded seed.
    Fixed(u32),
}

fn random_u32() -> u32 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    h.finish() as u32
}

/// AES-128-ECB of the 16-byte challenge with [`CR_KEY`]: the MS v2 response.
pub fn challenge_response(challenge: &[u8; 16]) -> [u8; 16] {
    let cipher = aes::Aes128::new(&CR_KEY.into());
    let mut block = aes::Block::from(*challenge);
    cipher.encrypt_block(&mut block);
    block.into()
}

/// The descrambling LFSR.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lfsr(pub u32);

impl Lfsr {
    /// One step: feedback is the parity of the tapped bits, shifted in at the top.
    #[inline]
    pub fn step(&mut self) {
        let fb = (self.0 & LFSR_TAPS).count_ones() & 1;
        self.0 = (fb << 31) | (self.0 >> 1);
    }

    /// The current key-stream byte (does not step).
    #[inline]
    pub fn byte(&self) -> u8 {
        let mut b = 0u8;
        for (i, bit) in KEYSTREAM_BITS.iter().enumerate() {
            b |= (((self.0 >> bit) & 1) as u8) << i;
        }
        b
    }
}

/// One entry of the frame header's block table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Block {
    /// Flags (0x01 skipped, 0x02 encrypted, 0x04 key stream held, 0x80 key change).
    pub flags: u8,
    /// Lines covered.
    pub lines: usize,
}

/// The parts of the 64-byte frame header that decoding needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameHeader {
    /// Data lines present after the header.
    pub data_lines: usize,
    /// Key number for the scramble handshake.
    pub key_number: u8,
    /// Block table, without the terminator.
    pub blocks: Vec<Block>,
}

impl FrameHeader {
    /// Parses and validates the header of a received frame of `len` bytes.
    pub fn parse(frame: &[u8]) -> Result<Self> {
        if frame.len() < HEADER_LEN {
            return Err(DeviceError::Protocol(format!(
                "U.are.U frame of {} bytes has no header",
                frame.len()
            )));
        }
        let data_lines = u16::from_le_bytes([frame[4], frame[5]]) as usize;
        if HEADER_LEN + data_lines * WIDTH as usize > frame.len() {
            return Err(DeviceError::Protocol(format!(
                "U.are.U frame announces {data_lines} lines but carries {} bytes",
                frame.len()
            )));
        }
        let mut blocks = Vec::new();
        for d in frame[16..46].chunks_exact(2) {
            if d[1] == 0 {
                break;
            }
            blocks.push(Block {
                flags: d[0],
                lines: d[1] as usize,
            });
        }
        let covered_data: usize = blocks
            .iter()
            .filter(|b| b.flags & BLOCK_SKIPPED == 0)
            .map(|b| b.lines)
            .sum();
        let output: usize = blocks.iter().map(|b| b.lines).sum();
        if covered_data != data_lines || output != HEIGHT as usize {
            return Err(DeviceError::Protocol(format!(
                "U.are.U block table covers {covered_data} data / {output} output lines; frame has {data_lines} / {HEIGHT}"
            )));
        }
        Ok(Self {
            data_lines,
            key_number: frame[6],
            blocks,
        })
    }

    /// Whether any block is scrambled (and the key handshake is needed).
    pub fn encrypted(&self) -> bool {
        self.blocks.iter().any(|b| b.flags & BLOCK_ENCRYPTED != 0)
    }
}

/// Descrambles the frame data in place and assembles the 384x290 image (before inversion).
/// `next_key` is called when a block demands a key change, with the new key number, and returns
/// the new key.
pub fn descramble(
    frame: &mut [u8],
    header: &FrameHeader,
    key: u32,
    next_key: &mut dyn FnMut(u8) -> Result<u32>,
) -> Result<Vec<u8>> {
    let w = WIDTH as usize;
    let data = &mut frame[HEADER_LEN..HEADER_LEN + header.data_lines * w];
    let mut lfsr = Lfsr(key);
    let mut key_number = header.key_number;
    let mut out = Vec::with_capacity(w * HEIGHT as usize);
    let mut line = 0usize; // data line pointer
                           // Skipped lines repeat the following data line *after* descrambling: remember where they go.
    let mut fill: Vec<(usize, usize)> = Vec::new();
    for b in &header.blocks {
        if b.flags & BLOCK_KEY_CHANGE != 0 {
            key_number = key_number.wrapping_add(1);
            lfsr = Lfsr(next_key(key_number)?);
        }
        if b.flags & BLOCK_SKIPPED != 0 {
            // Lines the sensor did not send: the data pointer stays, but the key stream moves on
            // as if they had been sent (the recording only descrambles exactly with this).
            for k in 0..b.lines {
                fill.push((
                    out.len(),
                    (line + k).min(header.data_lines.saturating_sub(1)),
                ));
                out.resize(out.len() + w, 0);
            }
            if b.flags & BLOCK_KEY_HOLD == 0 {
                for _ in 0..b.lines * w {
                    lfsr.step();
                }
            }
            continue;
        }
        let n = b.lines * w;
        let block = &mut data[line * w..line * w + n];
        if b.flags & BLOCK_ENCRYPTED != 0 {
            let saved = lfsr;
            for i in 0..n - 1 {
                block[i] = block[i + 1] ^ lfsr.byte();
                lfsr.step();
            }
            block[n - 1] = 0;
            lfsr.step();
            if b.flags & BLOCK_KEY_HOLD != 0 {
                lfsr = saved;
            }
        } else if b.flags & BLOCK_KEY_HOLD == 0 {
            for _ in 0..n {
                lfsr.step();
            }
        }
        out.extend_from_slice(block);
        line += b.lines;
    }
    if header.data_lines > 0 {
        for (at, src) in fill {
            out[at..at + w].copy_from_slice(&data[src * w..(src + 1) * w]);
        }
    }
    Ok(out)
}

/// Turns the assembled frame into the handed-out image: inverted (ridges dark), rotated for the
/// models the reference stack rotates.
pub fn normalise(mut pixels: Vec<u8>, profile: &Profile) -> Result<GrayImage> {
    for p in &mut pixels {
        *p = 255 - *p;
    }
    if profile.rotate_180 {
        pixels.reverse();
    }
    GrayImage::new(WIDTH, HEIGHT, DPI, pixels)
        .ok_or(DeviceError::Protocol("U.are.U frame size".into()))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Ready,
    FingerPresent,
    Closed,
}

/// The SETUP packet that writes `count` consecutive registers from `first`.
fn register_write(first: u16, count: u16) -> ControlSetup {
    ControlSetup {
        request_type: 0x40,
        request: REQ_REGISTER,
        value: first,
        index: 0,
        length: count,
    }
}

/// The U.are.U driver over any [`UsbTransport`].
pub struct Uru4000 {
    transport: Box<dyn UsbTransport>,
    info: DeviceInfo,
    profile: Profile,
    seed: Seed,
    state: State,
    device_info: [u8; 16],
}

impl Uru4000 {
    /// Claims the interface, powers the sensor up (with challenge-response where the model needs
    /// it) and waits for its power-up report.
    pub fn open(
        mut transport: Box<dyn UsbTransport>,
        info: DeviceInfo,
        profile: Profile,
        seed: Seed,
    ) -> Result<Self> {
        transport.claim_interface(INTERFACE)?;
        // Events are listened for throughout, as libfprint does; see `listen_interrupt`.
        transport.listen_interrupt(EP_INTR, IRQ_LEN)?;
        let mut dev = Self {
            transport,
            info,
            profile,
            seed,
            state: State::Ready,
            device_info: [0; 16],
        };
        dev.power_up()?;
        dev.wait_irq(
            &[IRQ_POWER_UP],
            Instant::now() + POWER_UP_TIMEOUT,
            POWER_UP_TIMEOUT,
            "U.are.U power-up",
        )?;
        let mut di = [0u8; 16];
        dev.read_regs(REG_DEVICE_INFO, &mut di)?;
        dev.device_info = di;
        Ok(dev)
    }

    /// The 16 bytes of register 0xF0 (firmware and hardware versions), for the device doctor.
    pub fn device_info_block(&self) -> [u8; 16] {
        self.device_info
    }

    fn read_regs(&mut self, first: u16, buf: &mut [u8]) -> Result<()> {
        let setup = ControlSetup {
            request_type: 0xC0,
            request: REQ_REGISTER,
            value: first,
            index: 0,
            length: buf.len() as u16,
        };
        let n = self.transport.read_control(setup, buf, CTRL_TIMEOUT)?;
        if n != buf.len() {
            return Err(DeviceError::Protocol(format!(
                "U.are.U register {first:#06x}: read {n} of {} bytes",
                buf.len()
            )));
        }
        Ok(())
    }

    fn write_regs(&mut self, first: u16, values: &[u8]) -> Result<()> {
        let setup = register_write(first, values.len() as u16);
        let n = self.transport.write_control(setup, values, CTRL_TIMEOUT)?;
        if n != values.len() {
            return Err(DeviceError::Protocol(format!(
                "U.are.U register {first:#06x}: wrote {n} of {} bytes",
                values.len()
            )));
        }
        Ok(())
    }

    fn hwstat(&mut self) -> Result<u8> {
        let mut b = [0u8; 1];
        self.read_regs(REG_HWSTAT, &mut b)?;
        Ok(b[0])
    }

    fn power_up(&mut self) -> Result<()> {
        let hw = self.hwstat()?;
        if hw & 0x84 == 0x84 {
            return Err(DeviceError::Device(format!(
                "U.are.U reports a fault (HWSTAT {hw:#04x}); unplug and re-plug the reader"
            )));
        }
        if hw & 0x80 == 0 {
            // Enter low power first so power-up starts from a known state.
            self.write_regs(REG_HWSTAT, &[hw | 0x80])?;
        }
        for _ in 0..POWER_UP_ATTEMPTS {
            self.write_regs(REG_HWSTAT, &[hw & 0x7F])?;
            let now = self.hwstat()?;
            if now & 0x80 == 0 {
                return Ok(());
            }
            if self.profile.challenge_response {
                let mut challenge = [0u8; 16];
                self.read_regs(REG_CHALLENGE, &mut challenge)?;
                let response = challenge_response(&challenge);
                self.write_regs(REG_RESPONSE, &response)?;
            }
        }
        Err(DeviceError::Device(
            "U.are.U stays in low-power state".into(),
        ))
    }

    /// Reads interrupt reports until one of `codes` arrives; other codes are ignored (the
    /// reader repeats power-up reports).
    fn wait_irq(
        &mut self,
        codes: &[u16],
        deadline: Instant,
        total: Duration,
        what: &'static str,
    ) -> Result<u16> {
        loop {
            let mut buf = [0u8; IRQ_LEN];
            let t = remaining(deadline, total, what)?;
            let n = self.transport.read_interrupt(EP_INTR, &mut buf, t)?;
            if n < 2 {
                return Err(DeviceError::Protocol(format!(
                    "U.are.U interrupt report of {n} bytes"
                )));
            }
            let code = u16::from_be_bytes([buf[0], buf[1]]);
            if codes.contains(&code) {
                return Ok(code);
            }
        }
    }

    fn set_mode(&mut self, mode: u8) -> Result<()> {
        self.write_regs(REG_MODE, &[mode])
    }

    /// Obtains the descrambling key for `key_number`: write the number and a seed to 0x33, read
    /// 0x34, XOR with the seed.
    fn scramble_key(&mut self, key_number: u8) -> Result<u32> {
        let seed = match self.seed {
            Seed::Random => random_u32(),
            Seed::Fixed(s) => s,
        };
        let mut idx = [key_number, 0, 0, 0, 0];
        idx[1..].copy_from_slice(&seed.to_le_bytes());
        self.write_regs(REG_SCRAMBLE_INDEX, &idx)?;
        let mut k = [0u8; 4];
        self.read_regs(REG_SCRAMBLE_KEY, &mut k)?;
        Ok(u32::from_le_bytes(k) ^ seed)
    }

    fn await_finger(&mut self, deadline: Instant, total: Duration) -> Result<()> {
        if self.state == State::Closed {
            return Err(DeviceError::InvalidState("U.are.U is closed"));
        }
        if self.state == State::FingerPresent {
            return Ok(());
        }
        self.set_mode(MODE_AWAIT_FINGER_ON)?;
        self.wait_irq(&[IRQ_FINGER_ON], deadline, total, "finger on the U.are.U")?;
        self.state = State::FingerPresent;
        Ok(())
    }
}

impl FingerprintScanner for Uru4000 {
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
        self.await_finger(Instant::now() + timeout, timeout)
    }

    fn capture(
        &mut self,
        timeout: Duration,
        events: &mut dyn FnMut(ScanEvent),
    ) -> Result<GrayImage> {
        let deadline = Instant::now() + timeout;
        if self.state != State::FingerPresent {
            events(ScanEvent::AwaitingFinger);
            self.await_finger(deadline, timeout)?;
        }
        events(ScanEvent::FingerPresent);
        self.state = State::Ready;
        let mut frame = vec![0u8; FRAME_BUFFER];
        let t = remaining(deadline, timeout, "U.are.U image")?;
        // The image read is posted before the capture mode is written: the sensor starts
        // streaming at once.
        let n = self.transport.read_bulk_posted_before(
            EP_DATA,
            &mut frame,
            t,
            &[(register_write(REG_MODE, 1), &[MODE_CAPTURE])],
        )?;
        frame.truncate(n);
        events(ScanEvent::Progress { percent: 100 });
        let header = FrameHeader::parse(&frame)?;
        let key = if header.encrypted() {
            self.scramble_key(header.key_number)?
        } else {
            0
        };
        let mut next_key = |k: u8| self.scramble_key(k);
        let pixels = descramble(&mut frame, &header, key, &mut next_key)?;
        let image = normalise(pixels, &self.profile)?;
        // Report the finger lifting if it does so promptly; the image is complete either way.
        self.set_mode(MODE_AWAIT_FINGER_OFF)?;
        let off_deadline = Instant::now() + FINGER_OFF_TIMEOUT;
        match self.wait_irq(
            &[IRQ_FINGER_OFF],
            off_deadline,
            FINGER_OFF_TIMEOUT,
            "finger off the U.are.U",
        ) {
            Ok(_) => events(ScanEvent::FingerRemoved),
            Err(DeviceError::Timeout(..)) => {}
            Err(e) => return Err(e),
        }
        Ok(image)
    }

    fn close(&mut self) -> Result<()> {
        if self.state == State::Closed {
            return Ok(());
        }
        self.state = State::Closed;
        self.set_mode(MODE_OFF)?;
        self.transport.release_interface(INTERFACE)
    }
}

impl Drop for Uru4000 {
    /// Leaves the device as the next user expects it (interface released, sensor off) even
    /// when the caller forgets `close`; errors are moot at that point (the device may be gone).
    fn drop(&mut self) {
        let _ = self.close();
    }
}
