//! A reader for YUV4MPEG2 (`.y4m`) video, the uncompressed format `ffmpeg -f yuv4mpegpipe`
//! writes: a text header line, then per frame a `FRAME` line and the raw Y, Cb, Cr planes.
//!
//! It exists so that recorded webcam sessions (for face liveness and autocapture regression
//! tests) can be replayed through the same [`crate::Camera`] trait as a live webcam, without a
//! video codec dependency. Input is untrusted: header lines are bounded
//! ([`MAX_HEADER_BYTES`]), frame geometry is bounded ([`MAX_DIMENSION`], [`MAX_PIXELS`]) before
//! any buffer is allocated, and every malformed or truncated input is a
//! [`DeviceError::Protocol`] error rather than a panic or an unbounded allocation.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use super::convert::{planar_to_rgb, YuvRange};
use crate::{DeviceError, Result};

/// Longest header or `FRAME` line accepted, newline included. Real headers are under 100 bytes;
/// the bound stops a garbage file from making the reader buffer gigabytes looking for `\n`.
pub const MAX_HEADER_BYTES: usize = 4096;
/// Largest width or height accepted.
pub const MAX_DIMENSION: u32 = 8192;
/// Largest frame area accepted (8K UHD), which caps one frame's buffers at about 100 MB.
pub const MAX_PIXELS: u64 = 7680 * 4320;

const MAGIC: &[u8] = b"YUV4MPEG2";

/// Chroma layout of the stream (the `C` header parameter).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Colorspace {
    /// 4:2:0 with JPEG/MPEG-1 chroma siting (the default when `C` is absent).
    C420Jpeg,
    /// 4:2:0 with MPEG-2 siting (`C420mpeg2`) — same plane sizes.
    C420Mpeg2,
    /// 4:2:0 with PAL DV siting (`C420paldv`) — same plane sizes.
    C420PalDv,
    /// 4:2:0, unspecified siting (`C420`).
    C420,
    /// 4:2:2: chroma halved horizontally only.
    C422,
    /// 4:4:4: full-resolution chroma.
    C444,
    /// Luma only (`Cmono`).
    Mono,
}

impl Colorspace {
    fn parse(value: &str) -> Result<Self> {
        Ok(match value {
            "420jpeg" => Self::C420Jpeg,
            "420mpeg2" => Self::C420Mpeg2,
            "420paldv" => Self::C420PalDv,
            "420" => Self::C420,
            "422" => Self::C422,
            "444" => Self::C444,
            "mono" => Self::Mono,
            other => {
                return Err(DeviceError::Protocol(format!(
                    "y4m colourspace C{other} is not supported (8-bit 420/422/444/mono only)"
                )))
            }
        })
    }

    /// Size of each chroma plane for a `width × height` frame (0×0 for mono).
    pub fn chroma_size(self, width: u32, height: u32) -> (u32, u32) {
        match self {
            Self::C420Jpeg | Self::C420Mpeg2 | Self::C420PalDv | Self::C420 => {
                (width.div_ceil(2), height.div_ceil(2))
            }
            Self::C422 => (width.div_ceil(2), height),
            Self::C444 => (width, height),
            Self::Mono => (0, 0),
        }
    }
}

/// The stream parameters from the header line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Y4mHeader {
    /// Frame width in pixels.
    pub width: u32,
    /// Frame height in pixels.
    pub height: u32,
    /// Frame rate numerator (`F30000:1001` → 30000).
    pub fps_num: u32,
    /// Frame rate denominator (`F30000:1001` → 1001).
    pub fps_den: u32,
    /// Chroma layout.
    pub colorspace: Colorspace,
    /// Luma range: limited unless the `XCOLORRANGE=FULL` extension says otherwise.
    pub range: YuvRange,
}

impl Y4mHeader {
    /// Bytes of one frame's planes, which the reader checks before allocating.
    pub fn frame_bytes(&self) -> u64 {
        let (cw, ch) = self.colorspace.chroma_size(self.width, self.height);
        self.width as u64 * self.height as u64 + 2 * cw as u64 * ch as u64
    }

    /// Frame rate rounded to whole frames per second (at least 1), as [`crate::FrameFormat`]
    /// expresses it.
    pub fn fps_rounded(&self) -> u32 {
        ((self.fps_num as f64 / self.fps_den as f64).round() as u32).max(1)
    }

    /// Parses a header line (without the trailing newline).
    pub fn parse(line: &[u8]) -> Result<Self> {
        let rest = line.strip_prefix(MAGIC).ok_or_else(|| {
            DeviceError::Protocol("not a y4m file (no YUV4MPEG2 signature)".into())
        })?;
        let text = std::str::from_utf8(rest)
            .map_err(|_| DeviceError::Protocol("y4m header is not ASCII".into()))?;
        if !text.is_empty() && !text.starts_with(' ') {
            return Err(DeviceError::Protocol(
                "y4m signature not followed by a space".into(),
            ));
        }
        let (mut width, mut height, mut fps) = (None, None, None);
        let mut colorspace = Colorspace::C420Jpeg;
        let mut range = YuvRange::Limited;
        for token in text.split(' ').filter(|t| !t.is_empty()) {
            let (tag, value) = token.split_at(1);
            match tag {
                "W" => width = Some(parse_u32("width", value)?),
                "H" => height = Some(parse_u32("height", value)?),
                "F" => fps = Some(parse_ratio("frame rate", value)?),
                "C" => colorspace = Colorspace::parse(value)?,
                "X" => {
                    if let Some(r) = value.strip_prefix("COLORRANGE=") {
                        range = match r {
                            "FULL" => YuvRange::Full,
                            "LIMITED" => YuvRange::Limited,
                            other => {
                                return Err(DeviceError::Protocol(format!(
                                    "unknown y4m colour range {other}"
                                )))
                            }
                        };
                    }
                }
                // Interlacing and pixel aspect do not change the plane layout; unknown tags are
                // ignored as the format's description asks.
                _ => {}
            }
        }
        let width =
            width.ok_or_else(|| DeviceError::Protocol("y4m header has no width (W)".into()))?;
        let height =
            height.ok_or_else(|| DeviceError::Protocol("y4m header has no height (H)".into()))?;
        let (fps_num, fps_den) =
            fps.ok_or_else(|| DeviceError::Protocol("y4m header has no frame rate (F)".into()))?;
        if width == 0
            || height == 0
            || width > MAX_DIMENSION
            || height > MAX_DIMENSION
            || width as u64 * height as u64 > MAX_PIXELS
        {
            return Err(DeviceError::Protocol(format!(
                "y4m frame size {width}x{height} out of bounds"
            )));
        }
        if fps_num == 0 || fps_den == 0 {
            return Err(DeviceError::Protocol(format!(
                "y4m frame rate {fps_num}:{fps_den} is not positive"
            )));
        }
        Ok(Self {
            width,
            height,
            fps_num,
            fps_den,
            colorspace,
            range,
        })
    }
}

fn parse_u32(what: &str, value: &str) -> Result<u32> {
    value
        .parse()
        .map_err(|_| DeviceError::Protocol(format!("y4m {what} {value:?} is not a number")))
}

fn parse_ratio(what: &str, value: &str) -> Result<(u32, u32)> {
    let (n, d) = value
        .split_once(':')
        .ok_or_else(|| DeviceError::Protocol(format!("y4m {what} {value:?} is not n:d")))?;
    Ok((parse_u32(what, n)?, parse_u32(what, d)?))
}

/// Reads frames of a y4m stream and converts them to packed RGB.
pub struct Y4mReader<R: Read> {
    reader: R,
    header: Y4mHeader,
    planes: Vec<u8>,
    frames: u64,
}

/// Opens a `.y4m` file.
pub fn open(path: &Path) -> Result<Y4mReader<BufReader<File>>> {
    Y4mReader::new(BufReader::new(File::open(path)?))
}

/// Reads one line (up to `\n`, which is consumed and not returned), at most
/// [`MAX_HEADER_BYTES`]. `Ok(None)` means end of input before any byte.
fn read_line<R: Read>(reader: &mut R, what: &str) -> Result<Option<Vec<u8>>> {
    let mut line = Vec::with_capacity(64);
    let mut byte = [0u8; 1];
    loop {
        match reader.read(&mut byte) {
            Ok(0) if line.is_empty() => return Ok(None),
            Ok(0) => return Err(DeviceError::Protocol(format!("y4m {what} line truncated"))),
            Ok(_) if byte[0] == b'\n' => return Ok(Some(line)),
            Ok(_) => {
                if line.len() + 1 >= MAX_HEADER_BYTES {
                    return Err(DeviceError::Protocol(format!(
                        "y4m {what} line longer than {MAX_HEADER_BYTES} bytes"
                    )));
                }
                line.push(byte[0]);
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e.into()),
        }
    }
}

impl<R: Read> Y4mReader<R> {
    /// Parses the header; give it a buffered reader (lines are read byte by byte).
    pub fn new(mut reader: R) -> Result<Self> {
        let line = read_line(&mut reader, "header")?
            .ok_or_else(|| DeviceError::Protocol("empty y4m file".into()))?;
        let header = Y4mHeader::parse(&line)?;
        Ok(Self {
            reader,
            header,
            planes: Vec::new(),
            frames: 0,
        })
    }

    /// The stream parameters.
    pub fn header(&self) -> &Y4mHeader {
        &self.header
    }

    /// Frames read so far.
    pub fn frames_read(&self) -> u64 {
        self.frames
    }

    /// Reads the next frame's raw planes (Y, then Cb, then Cr) into an internal buffer.
    /// `Ok(false)` at a clean end of stream (between frames).
    pub fn next_planes(&mut self) -> Result<bool> {
        let Some(line) = read_line(&mut self.reader, "FRAME")? else {
            return Ok(false);
        };
        if !(line == b"FRAME" || line.starts_with(b"FRAME ")) {
            return Err(DeviceError::Protocol(format!(
                "y4m frame {} does not start with FRAME",
                self.frames
            )));
        }
        // Bounded by the header checks: at most 3 × MAX_PIXELS bytes.
        let size = self.header.frame_bytes() as usize;
        self.planes.resize(size, 0);
        let mut filled = 0;
        while filled < size {
            match self.reader.read(&mut self.planes[filled..]) {
                Ok(0) => {
                    return Err(DeviceError::Protocol(format!(
                        "y4m frame {} truncated: {filled} of {size} bytes",
                        self.frames
                    )))
                }
                Ok(n) => filled += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e.into()),
            }
        }
        self.frames += 1;
        Ok(true)
    }

    /// Reads and converts the next frame to packed RGB; `Ok(None)` at the end of the stream.
    pub fn next_rgb(&mut self) -> Result<Option<Vec<u8>>> {
        if !self.next_planes()? {
            return Ok(None);
        }
        let h = &self.header;
        let luma_len = h.width as usize * h.height as usize;
        let (luma, chroma) = self.planes.split_at(luma_len);
        if h.colorspace == Colorspace::Mono {
            return Ok(Some(
                luma.iter()
                    .flat_map(|&y| super::convert::ycbcr_to_rgb(y, 128, 128, h.range))
                    .collect(),
            ));
        }
        let (cw, ch) = h.colorspace.chroma_size(h.width, h.height);
        let (cb, cr) = chroma.split_at(cw as usize * ch as usize);
        planar_to_rgb(h.width, h.height, (luma, cb, cr), cw, ch, h.range).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_parameters_are_read() {
        let h =
            Y4mHeader::parse(b"YUV4MPEG2 W640 H480 F30000:1001 Ip A1:1 C420jpeg XYSCSS=420JPEG")
                .unwrap();
        assert_eq!(
            (
                h.width,
                h.height,
                h.fps_num,
                h.fps_den,
                h.colorspace,
                h.range
            ),
            (
                640,
                480,
                30000,
                1001,
                Colorspace::C420Jpeg,
                YuvRange::Limited
            )
        );
        assert_eq!(h.fps_rounded(), 30);
        assert_eq!(h.frame_bytes(), 640 * 480 * 3 / 2);
        let h = Y4mHeader::parse(b"YUV4MPEG2 W3 H3 F25:1 C444 XCOLORRANGE=FULL").unwrap();
        assert_eq!(
            (h.colorspace, h.range, h.frame_bytes()),
            (Colorspace::C444, YuvRange::Full, 27)
        );
    }

    #[test]
    fn bad_headers_are_rejected() {
        for bad in [
            &b"YUV4MPEG W2 H2 F1:1"[..],
            b"YUV4MPEG2 H2 F1:1",
            b"YUV4MPEG2 W2 F1:1",
            b"YUV4MPEG2 W2 H2",
            b"YUV4MPEG2 W2 H2 F1:0",
            b"YUV4MPEG2 W0 H2 F1:1",
            b"YUV4MPEG2 W99999 H2 F1:1",
            b"YUV4MPEG2 W8000 H8000 F1:1",
            b"YUV4MPEG2 W2 H2 F1:1 C420p10",
            b"YUV4MPEG2 W-2 H2 F1:1",
        ] {
            assert!(
                matches!(Y4mHeader::parse(bad), Err(DeviceError::Protocol(_))),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
