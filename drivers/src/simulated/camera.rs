//! A simulated camera: frames made from a portrait (the public-domain NASA astronaut photo the
//! repository ships, or any image), framed like a webcam at arm's length, with small natural
//! motion — or, in `Static` mode, the very same frame again and again, as a photo held up to the
//! camera would give.

use std::time::{Duration, Instant};

use crate::{Camera, DeviceError, DeviceInfo, DeviceKind, FrameEncoding, FrameFormat, Result, RgbFrame};

/// The portrait embedded in the binary (see `drivers/assets/SOURCES.md`).
pub const ASTRONAUT_PNG: &[u8] = include_bytes!("../../assets/astronaut.png");

/// Face box of the astronaut portrait (x, y, width, height in its 512×512 pixels), measured with
/// the face pipeline's BlazeFace detector; used to frame the face like a webcam would.
const ASTRONAUT_FACE: (f32, f32, f32, f32) = (178.0, 81.0, 94.0, 94.0);

/// How the simulated subject behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Motion {
    /// A live person: slight sway, breathing-scale zoom and light flicker.
    Natural,
    /// A still photo: every frame identical.
    Static,
}

/// The simulated camera.
pub struct SimulatedCamera {
    source: image::RgbImage,
    face: (f32, f32, f32, f32),
    motion: Motion,
    format: FrameFormat,
    started: Option<Instant>,
    sequence: u64,
    /// Fraction of the frame width the face should fill.
    face_fraction: f32,
}

impl SimulatedCamera {
    /// The astronaut portrait, framed so that the face fills about a third of a 640×480 frame.
    pub fn astronaut(motion: Motion) -> Result<Self> {
        let source = image::load_from_memory(ASTRONAUT_PNG)
            .map_err(|e| DeviceError::Device(format!("embedded portrait unreadable: {e}")))?
            .to_rgb8();
        Ok(Self::from_image(source, ASTRONAUT_FACE, motion))
    }

    /// Any portrait, with its face box (x, y, width, height) in source pixels.
    pub fn from_image(source: image::RgbImage, face: (f32, f32, f32, f32), motion: Motion) -> Self {
        Self {
            source,
            face,
            motion,
            format: FrameFormat { width: 640, height: 480, fps: 30, encoding: FrameEncoding::Rgb },
            started: None,
            sequence: 0,
            face_fraction: 0.34,
        }
    }

    /// Changes how large the face appears (0.1 = far away, 0.6 = very close).
    pub fn with_face_fraction(mut self, fraction: f32) -> Self {
        self.face_fraction = fraction.clamp(0.05, 0.9);
        self
    }

    fn render(&self, t: f32) -> Vec<u8> {
        let (w, h) = (self.format.width as usize, self.format.height as usize);
        let (fx, fy, fw, fh) = self.face;
        let (mut cx, mut cy, mut scale, mut gain) = (fx + fw / 2.0, fy + fh / 2.0, fw / (self.face_fraction * w as f32), 1.0f32);
        if self.motion == Motion::Natural {
            cx += 1.6 * (t * 1.3).sin() + 0.7 * (t * 3.1).sin();
            cy += 1.2 * (t * 0.9).cos() + 0.5 * (t * 2.3).sin();
            scale *= 1.0 + 0.012 * (t * 0.6).sin();
            gain = 1.0 + 0.02 * (t * 2.0).sin();
        }
        let (sw, sh) = (self.source.width() as f32, self.source.height() as f32);
        let src = self.source.as_raw();
        let stride = self.source.width() as usize * 3;
        let mut out = vec![0u8; w * h * 3];
        for y in 0..h {
            let sy = cy + (y as f32 - h as f32 / 2.0) * scale;
            for x in 0..w {
                let sx = cx + (x as f32 - w as f32 / 2.0) * scale;
                let o = (y * w + x) * 3;
                if sx < 0.0 || sy < 0.0 || sx >= sw - 1.0 || sy >= sh - 1.0 {
                    out[o..o + 3].copy_from_slice(&[40, 40, 40]);
                    continue;
                }
                let (x0, y0) = (sx as usize, sy as usize);
                let (ax, ay) = (sx - x0 as f32, sy - y0 as f32);
                let i = y0 * stride + x0 * 3;
                for ch in 0..3 {
                    let top = src[i + ch] as f32 * (1.0 - ax) + src[i + 3 + ch] as f32 * ax;
                    let bottom = src[i + stride + ch] as f32 * (1.0 - ax) + src[i + stride + 3 + ch] as f32 * ax;
                    out[o + ch] = ((top * (1.0 - ay) + bottom * ay) * gain).clamp(0.0, 255.0) as u8;
                }
            }
        }
        out
    }
}

impl Camera for SimulatedCamera {
    fn info(&self) -> DeviceInfo {
        let mode = match self.motion {
            Motion::Natural => "live subject",
            Motion::Static => "still photo",
        };
        DeviceInfo { id: "sim:camera".into(), name: format!("Simulated camera ({mode})"), kind: DeviceKind::Camera, driver: "simulated".into() }
    }

    fn formats(&self) -> Result<Vec<FrameFormat>> {
        Ok(vec![
            FrameFormat { width: 640, height: 480, fps: 30, encoding: FrameEncoding::Rgb },
            FrameFormat { width: 1280, height: 720, fps: 15, encoding: FrameEncoding::Rgb },
        ])
    }

    fn start(&mut self, format: FrameFormat) -> Result<()> {
        if self.started.is_some() {
            return Err(DeviceError::InvalidState("the camera is already streaming"));
        }
        if !self.formats()?.contains(&format) {
            return Err(DeviceError::Device(format!("format {}x{}@{} not offered", format.width, format.height, format.fps)));
        }
        self.format = format;
        self.sequence = 0;
        self.started = Some(Instant::now());
        Ok(())
    }

    fn next_frame(&mut self, timeout: Duration) -> Result<RgbFrame> {
        let started = self.started.ok_or(DeviceError::InvalidState("next_frame before start"))?;
        let period = Duration::from_secs_f64(1.0 / self.format.fps.max(1) as f64);
        let due = period * self.sequence as u32;
        let now = started.elapsed();
        if due > now {
            let wait = due - now;
            if wait > timeout {
                std::thread::sleep(timeout);
                return Err(DeviceError::Timeout(timeout, "a camera frame"));
            }
            std::thread::sleep(wait);
        }
        let timestamp = due;
        let rgb = self.render(timestamp.as_secs_f32());
        let frame = RgbFrame { width: self.format.width, height: self.format.height, rgb, sequence: self.sequence, timestamp };
        self.sequence += 1;
        Ok(frame)
    }

    fn stop(&mut self) -> Result<()> {
        self.started = None;
        Ok(())
    }
}
