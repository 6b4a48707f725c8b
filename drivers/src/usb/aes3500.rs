//! AuthenTec AES3500: a 128x128 4-bit press sensor programmed by register writes over bulk.
//!
//! Written from `PROTOCOL-NOTES.md` beside the recording. The host writes `(register, value)`
//! pairs to [`EP_OUT`], then posts one [`FRAME_LEN`]-byte bulk read that the device completes
//! once a finger has been scanned: 8 sub-frames of a header byte and 1024 bytes of packed 4-bit
//! pixels, column-major, then a status trailer. The image handed out is the one the reference
//! stack produces, so that templates match across stacks: 2x bilinear upscale to 256x256,
//! inverted (ridges dark), rotated 180 degrees.

use std::time::{Duration, Instant};

use super::transport::{remaining, UsbTransport};
use crate::{DeviceError, DeviceInfo, FingerprintScanner, GrayImage, ImageSpec, Result, ScanEvent};

/// USB vendor id (AuthenTec).
pub const VENDOR_ID: u16 = 0x08ff;
/// USB product id (AES3500).
pub const PRODUCT_ID: u16 = 0x5731;
/// Interface claimed for all transfers.
pub const INTERFACE: u8 = 0;
/// Bulk OUT endpoint for register writes.
pub const EP_OUT: u8 = 0x02;
/// Bulk IN endpoint for image data.
pub const EP_IN: u8 = 0x81;
/// Native frame size (square).
pub const RAW_SIZE: usize = 128;
/// Output image size after the 2x upscale (square).
pub const SIZE: u32 = 256;
/// Output resolution as the reference stack declares it for the upscaled image (its matcher
/// assumes 500 ppi); the native sensor pitch is not given in the protocol notes.
pub const DPI: u32 = 500;
/// One image read: 8 x (1 + 1024) bytes + 129-byte trailer.
pub const FRAME_LEN: usize = 8329;
/// Sub-frames per image.
pub const SUBFRAMES: usize = 8;
/// Bytes per sub-frame including its header byte.
pub const SUBFRAME_LEN: usize = 1025;
/// Timeout for register writes.
pub const WRITE_TIMEOUT: Duration = Duration::from_millis(1000);

/// Initialisation, one entry per bulk transfer (the split matters: the device applies a
/// transfer at a time). Master reset, scan reset, register buffering off, then the sensor
/// configuration of registers 0x80-0x9F (drive ring, gain, A/D references, scan window) as the
/// recording carries it.
pub const INIT: &[&[u8]] = &[
    &[0x80, 0x01],
    &[0x80, 0x00],
    &[0x81, 0x00, 0x80, 0x00],
    &[0x80, 0x02],
    &[0x80, 0x00],
    &[0x80, 0x04],
    &[0x80, 0x00],
    &[0x81, 0x00],
    &[
        0x80, 0x00, 0x81, 0x00, 0x82, 0x04, 0x83, 0x13, 0x84, 0x07, 0x85, 0x3D, 0x86, 0x03, 0x87,
        0x01, 0x88, 0x02, 0x89, 0x02, 0x8A, 0x33, 0x8B, 0x33, 0x8C, 0x0F, 0x8D, 0x04, 0x8E, 0x23,
        0x8F, 0x07,
    ],
    &[
        0x90, 0x00, 0x91, 0x1C, 0x92, 0x08, 0x93, 0x00, 0x94, 0x07, 0x95, 0x00, 0x96, 0x1F, 0x97,
        0x04, 0x98, 0x28, 0x99, 0x00, 0x9A, 0x0B, 0x9B, 0x00, 0x9C, 0x00, 0x9D, 0x09, 0x9E, 0x53,
        0x9F, 0x6B,
    ],
];

/// Capture start: clear, pulse the scan bit in register 0x81, clear.
pub const CAPTURE_START: &[&[u8]] = &[&[0x80, 0x00, 0x81, 0x00], &[0x81, 0x04], &[0x81, 0x00]];

/// Unpacks a frame read into the native 128x128 image with 8-bit grey levels (4-bit x 17),
/// ridges bright, as the sensor delivers it.
pub fn decode_raw(frame: &[u8]) -> Result<Vec<u8>> {
    if frame.len() != FRAME_LEN {
        return Err(DeviceError::Protocol(format!(
            "AES3500 frame of {} bytes, expected {FRAME_LEN}",
            frame.len()
        )));
    }
    let mut img = vec![0u8; RAW_SIZE * RAW_SIZE];
    for (i, sub) in frame[..SUBFRAMES * SUBFRAME_LEN]
        .chunks_exact(SUBFRAME_LEN)
        .enumerate()
    {
        if sub[0] != 0xE0 + i as u8 {
            return Err(DeviceError::Protocol(format!(
                "AES3500 sub-frame {i} header {:#04x}",
                sub[0]
            )));
        }
        // 128 columns x 8 bytes; each byte holds rows 2k (low nibble) and 2k+1 (high nibble).
        for (col, bytes) in sub[1..].chunks_exact(8).enumerate() {
            for (k, b) in bytes.iter().enumerate() {
                let row = 16 * i + 2 * k;
                img[row * RAW_SIZE + col] = (b & 0x0F) * 17;
                img[(row + 1) * RAW_SIZE + col] = (b >> 4) * 17;
            }
        }
    }
    Ok(img)
}

/// 2x bilinear upscale with the reference stack's rules: output pixel X samples the source at
/// (X + 0.5) / 2 - 0.5, weights are 7-bit fixed point, the weighted sum is shifted right by 14
/// (truncating), and pixels outside the frame count as black.
pub fn upscale2x(src: &[u8], w: usize, h: usize) -> Vec<u8> {
    // For output index o: source indices (o/2 - 1 + o%2, o/2 + o%2) with weights (32, 96) for
    // even o, (96, 32) for odd o.
    let taps = |o: usize| -> [(isize, u32); 2] {
        let k = (o / 2) as isize;
        if o & 1 == 0 {
            [(k - 1, 32), (k, 96)]
        } else {
            [(k, 96), (k + 1, 32)]
        }
    };
    let px = |x: isize, y: isize| -> u32 {
        if x < 0 || y < 0 || x >= w as isize || y >= h as isize {
            0
        } else {
            u32::from(src[y as usize * w + x as usize])
        }
    };
    let mut out = vec![0u8; 4 * w * h];
    for oy in 0..2 * h {
        let ty = taps(oy);
        for ox in 0..2 * w {
            let tx = taps(ox);
            let mut sum = 0u32;
            for (sy, wy) in ty {
                for (sx, wx) in tx {
                    sum += px(sx, sy) * wx * wy;
                }
            }
            out[oy * 2 * w + ox] = (sum >> 14) as u8;
        }
    }
    out
}

/// Full decode of a frame read into the output image: unpack, upscale, invert, rotate 180.
pub fn decode_frame(frame: &[u8]) -> Result<GrayImage> {
    let raw = decode_raw(frame)?;
    let mut up = upscale2x(&raw, RAW_SIZE, RAW_SIZE);
    up.reverse(); // horizontal + vertical flip of a row-major buffer
    for p in &mut up {
        *p = 255 - *p;
    }
    GrayImage::new(SIZE, SIZE, DPI, up).ok_or(DeviceError::Protocol("AES3500 frame size".into()))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Idle,
    /// A finger was scanned by `wait_for_finger`; the frame is kept for `capture`.
    FramePending,
    Closed,
}

/// The AES3500 driver over any [`UsbTransport`].
pub struct Aes3500 {
    transport: Box<dyn UsbTransport>,
    info: DeviceInfo,
    state: State,
    frame: Vec<u8>,
}

impl Aes3500 {
    /// Claims the interface and programs the sensor.
    pub fn open(mut transport: Box<dyn UsbTransport>, info: DeviceInfo) -> Result<Self> {
        transport.claim_interface(INTERFACE)?;
        let mut dev = Self {
            transport,
            info,
            state: State::Idle,
            frame: vec![0; FRAME_LEN],
        };
        dev.write_all(INIT)?;
        Ok(dev)
    }

    fn write_all(&mut self, writes: &[&[u8]]) -> Result<()> {
        for w in writes {
            let n = self.transport.write_bulk(EP_OUT, w, WRITE_TIMEOUT)?;
            if n != w.len() {
                return Err(DeviceError::Protocol(format!(
                    "AES3500 accepted {n} of {} register bytes",
                    w.len()
                )));
            }
        }
        Ok(())
    }

    /// Arms a scan and blocks until the device delivers the frame, which it does only once a
    /// finger has been scanned: this sensor has no separate finger-detect command.
    fn scan(&mut self, timeout: Duration) -> Result<()> {
        match self.state {
            State::Closed => return Err(DeviceError::InvalidState("AES3500 is closed")),
            State::FramePending => return Ok(()),
            State::Idle => {}
        }
        let deadline = Instant::now() + timeout;
        self.write_all(CAPTURE_START)?;
        let t = remaining(deadline, timeout, "finger on the AES3500")?;
        let n = self.transport.read_bulk(EP_IN, &mut self.frame, t)?;
        if n != FRAME_LEN {
            return Err(DeviceError::Protocol(format!(
                "AES3500 frame of {n} bytes, expected {FRAME_LEN}"
            )));
        }
        self.state = State::FramePending;
        Ok(())
    }
}

impl FingerprintScanner for Aes3500 {
    fn info(&self) -> DeviceInfo {
        self.info.clone()
    }

    fn image_spec(&self) -> ImageSpec {
        ImageSpec {
            width: SIZE,
            height: SIZE,
            dpi: DPI,
        }
    }

    fn wait_for_finger(&mut self, timeout: Duration) -> Result<()> {
        self.scan(timeout)
    }

    fn capture(
        &mut self,
        timeout: Duration,
        events: &mut dyn FnMut(ScanEvent),
    ) -> Result<GrayImage> {
        if self.state != State::FramePending {
            events(ScanEvent::AwaitingFinger);
        }
        self.scan(timeout)?;
        self.state = State::Idle;
        events(ScanEvent::FingerPresent);
        events(ScanEvent::Progress { percent: 100 });
        decode_frame(&self.frame)
    }

    fn close(&mut self) -> Result<()> {
        if self.state == State::Closed {
            return Ok(());
        }
        self.state = State::Closed;
        self.transport.release_interface(INTERFACE)
    }
}

impl Drop for Aes3500 {
    /// Leaves the device as the next user expects it (interface released) even
    /// when the caller forgets `close`; errors are moot at that point (the device may be gone).
    fn drop(&mut self) {
        let _ = self.close();
    }
}
