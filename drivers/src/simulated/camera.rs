//! A simulated camera: frames made from a portrait (the public-domain NASA astronaut photo the
//! repository ships, or any image), framed like a webcam at arm's length, with small natural
//! motion — or, in `Static` mode, the very same frame again and again, as a photo held up to the
//! camera would give.

use std::sync::OnceLock;
use std::time::Duration;

use rand::{Rng, SeedableRng};

use crate::camera::FramePacer;
use crate::{
    Camera, DeviceError, DeviceInfo, DeviceKind, FrameEncoding, FrameFormat, Result, RgbFrame,
};

/// The portrait embedded in the binary (see `drivers/assets/SOURCES.md`).
pub const ASTRONAUT_PNG: &[u8] = include_bytes!("../../assets/astronaut.png");

/// Face box of the astronaut portrait (x, y, width, height in its 512×512 pixels), measured with
/// the face pipeline's BlazeFace detector; used to frame the face like a webcam would.
const ASTRONAUT_FACE: (f32, f32, f32, f32) = (178.0, 81.0, 94.0, 94.0);

/// How the simulated subject behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Motion {
    /// A live person: slight sway, breathing-scale zoom, light flicker and sub-pixel tremor.
    Natural,
    /// A still photo: every frame identical.
    Static,
    /// A live person who, on top of the natural motion, turns their head left and right every
    /// few seconds. The head is rendered as a curved surface rotating about its vertical axis
    /// (see [`Pose::yaw`]), so the nose moves further than the cheeks as on a real head, which a
    /// flat photo moved in front of a camera cannot do: challenge-response liveness has a real
    /// 3-D turn to confirm in simulation too.
    HeadTurn,
}

/// The embedded portrait, decoded once per process: PNG decoding takes tens of milliseconds
/// and every simulated camera opened afterwards then starts at once.
fn astronaut_image() -> Result<&'static image::RgbImage> {
    static DECODED: OnceLock<std::result::Result<image::RgbImage, String>> = OnceLock::new();
    DECODED
        .get_or_init(|| {
            image::load_from_memory(ASTRONAUT_PNG)
                .map(|i| i.to_rgb8())
                .map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| DeviceError::Device(format!("embedded portrait unreadable: {e}")))
}

/// Pose of the subject in one frame, relative to the framing of the face.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pose {
    /// Shift of the face centre in source pixels.
    pub dx: f32,
    /// Vertical shift in source pixels.
    pub dy: f32,
    /// Zoom factor (1 = framed as configured; >1 = closer).
    pub zoom: f32,
    /// Head rotation about its vertical axis, radians; > 0 is a turn to the subject's right
    /// (the nose moves to the left of an unmirrored frame). The head is modelled as a vertical
    /// elliptic cylinder a little wider than the face and deeper than wide, blended into the
    /// still background at the head's outline.
    pub yaw: f32,
    /// Brightness gain.
    pub gain: f32,
}

impl Pose {
    const STILL: Pose = Pose {
        dx: 0.0,
        dy: 0.0,
        zoom: 1.0,
        yaw: 0.0,
        gain: 1.0,
    };
}

/// Seconds between the starts of two head turns, and the duration of one turn (there and back).
/// Turns alternate, so each direction comes every 5 s: within the 6 s a liveness challenge step
/// allows, whichever direction is asked.
const TURN_PERIOD: f32 = 2.5;
const TURN_DURATION: f32 = 1.6;
/// Largest simulated yaw, radians (about 34°; a turn challenge asks for 18° as the face mesh
/// estimates it, which reads a rendered turn at roughly 60 % of its geometric angle).
const TURN_MAX_YAW: f32 = 0.8;
/// Head radius and outline relative to the face box width / height: the head is wider than the
/// detector's face box; its outline reaches well above the box centre (hair) but stops just
/// below the chin, so the neck and clothes stay still.
const HEAD_RADIUS: f32 = 0.6;
/// Head depth (front to back) relative to its width: a head is deeper than wide, so the nose
/// travels further in a turn than the width alone would make it.
const HEAD_DEPTH: f32 = 1.5;
const HEAD_ABOVE_CENTRE: f32 = 1.0;
const HEAD_BELOW_CENTRE: f32 = 0.62;

/// The simulated camera.
pub struct SimulatedCamera {
    source: image::RgbImage,
    face: (f32, f32, f32, f32),
    motion: Motion,
    format: FrameFormat,
    pacer: Option<FramePacer>,
    sequence: u64,
    /// Seed of the per-frame tremor, so that a run is reproducible.
    seed: u64,
    /// Fraction of the frame width the face should fill.
    face_fraction: f32,
}

impl SimulatedCamera {
    /// The astronaut portrait, framed so that the face fills about a third of a 640×480 frame.
    pub fn astronaut(motion: Motion) -> Result<Self> {
        Ok(Self::from_image(
            astronaut_image()?.clone(),
            ASTRONAUT_FACE,
            motion,
        ))
    }

    /// Any portrait, with its face box (x, y, width, height) in source pixels.
    pub fn from_image(source: image::RgbImage, face: (f32, f32, f32, f32), motion: Motion) -> Self {
        Self {
            source,
            face,
            motion,
            format: FrameFormat {
                width: 640,
                height: 480,
                fps: 30,
                encoding: FrameEncoding::Rgb,
            },
            pacer: None,
            sequence: 0,
            seed: 0x5eed,
            face_fraction: 0.34,
        }
    }

    /// Changes how large the face appears (0.1 = far away, 0.6 = very close).
    pub fn with_face_fraction(mut self, fraction: f32) -> Self {
        self.face_fraction = fraction.clamp(0.05, 0.9);
        self
    }

    /// Changes the seed of the random tremor (two cameras with different seeds move
    /// differently; the same seed replays the same motion).
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// The subject's pose `t` seconds into the stream of frame `sequence`: smooth sway and
    /// breathing (sums of incommensurate sines, so the motion never visibly repeats), plus a
    /// seeded sub-pixel tremor per frame, plus scripted head turns in [`Motion::HeadTurn`].
    pub fn pose(&self, t: f32, sequence: u64) -> Pose {
        if self.motion == Motion::Static {
            return Pose::STILL;
        }
        let mut rng = rand::rngs::StdRng::seed_from_u64(
            self.seed ^ sequence.wrapping_mul(0x9E37_79B9_7F4A_7C15),
        );
        let mut pose = Pose {
            dx: 1.6 * (t * 1.3).sin() + 0.7 * (t * 3.1).sin() + rng.gen_range(-0.35..0.35),
            dy: 1.2 * (t * 0.9).cos() + 0.5 * (t * 2.3).sin() + rng.gen_range(-0.35..0.35),
            zoom: 1.0 + 0.012 * (t * 0.6).sin(),
            yaw: 0.0,
            gain: 1.0 + 0.02 * (t * 2.0).sin() + rng.gen_range(-0.004..0.004),
        };
        if self.motion == Motion::HeadTurn {
            // Turns alternate left and right; each is a raised-cosine out and back.
            let cycle = (t / TURN_PERIOD).floor();
            let phase = t - cycle * TURN_PERIOD - (TURN_PERIOD - TURN_DURATION);
            if phase > 0.0 {
                let direction = if cycle as i64 % 2 == 0 { 1.0 } else { -1.0 };
                let yaw = direction
                    * TURN_MAX_YAW
                    * 0.5
                    * (1.0 - (2.0 * std::f32::consts::PI * phase / TURN_DURATION).cos());
                pose.yaw = yaw;
            }
        }
        pose
    }

    /// The frame the stream would deliver as number `sequence` at `timestamp`, rendered now
    /// without waiting: tests and offline generation of liveness sequences use it to get
    /// exactly the frames a paced stream would give, at full speed.
    pub fn frame_at(&self, timestamp: Duration, sequence: u64) -> RgbFrame {
        let rgb = self.render_pose(self.pose(timestamp.as_secs_f32(), sequence));
        RgbFrame {
            width: self.format.width,
            height: self.format.height,
            rgb,
            sequence,
            timestamp,
        }
    }

    /// The RGB bytes of a frame showing the subject in exactly `pose` (tests and tools that
    /// need one pose without the scripted motion).
    pub fn render_pose(&self, pose: Pose) -> Vec<u8> {
        let (w, h) = (self.format.width as usize, self.format.height as usize);
        let (fx, fy, fw, fh) = self.face;
        let cx = fx + fw / 2.0 + pose.dx;
        let cy = fy + fh / 2.0 + pose.dy;
        let scale = fw / (self.face_fraction * w as f32) / pose.zoom;
        let gain = (pose.gain * 256.0).round() as u32;
        let (sw, sh) = (self.source.width() as f32, self.source.height() as f32);
        let mut out = vec![40u8; w * h * 3];
        let source_x = |k: usize| cx + (k as f32 - w as f32 / 2.0) * scale;
        let source_y = |k: usize| cy + (k as f32 - h as f32 / 2.0) * scale;
        if pose.yaw == 0.0 {
            // Axis-aligned mapping: source columns and rows and their bilinear weights are
            // computed once per column and once per row, in 8-bit fixed point.
            let fixed = |v: f32, limit: f32| (v >= 0.0 && v < limit - 1.0).then(|| (v as usize, ((v - v.floor()) * 256.0) as u32));
            let columns: Vec<_> = (0..w).map(|k| fixed(source_x(k), sw)).collect();
            for y in 0..h {
                let Some((y0, ay)) = fixed(source_y(y), sh) else { continue };
                let line = &mut out[y * w * 3..(y + 1) * w * 3];
                for (x, column) in columns.iter().enumerate() {
                    let Some((x0, ax)) = *column else { continue };
                    self.sample_fixed(x0, ax, y0, ay, gain, &mut line[x * 3..x * 3 + 3]);
                }
            }
            return out;
        }
        // Turned head: each pixel inside the head's outline shows the point of the head surface
        // that the rotation brought there; outside, the background stays put. A horizontal
        // section of the head is an ellipse, half-width R and half-depth D: a point at angle φ
        // (x = R sin φ, z = D cos φ) appears after a turn by θ at x' = R sin φ cos θ − D cos φ sin θ
        // = A sin(φ − α), so φ = asin(x'/A) + α; the turned outline is ±A wide.
        let (hx, hy) = (fx + fw / 2.0, fy + fh / 2.0);
        let radius = HEAD_RADIUS * fw;
        let depth = HEAD_DEPTH * radius;
        let (sin_t, cos_t) = pose.yaw.sin_cos();
        let outline = ((radius * cos_t).powi(2) + (depth * sin_t).powi(2)).sqrt();
        let alpha = (depth * sin_t).atan2(radius * cos_t);
        for y in 0..h {
            let sy = source_y(y);
            if sy < 0.0 || sy >= sh - 1.0 {
                continue;
            }
            let (y0, ay) = (sy as usize, ((sy - sy.floor()) * 256.0) as u32);
            let line = &mut out[y * w * 3..(y + 1) * w * 3];
            let dy = (sy - hy) / if sy < hy { HEAD_ABOVE_CENTRE * fh } else { HEAD_BELOW_CENTRE * fh };
            for x in 0..w {
                let u_out = source_x(x) - hx;
                let s_out = u_out / outline;
                let r = (s_out * s_out + dy * dy).sqrt();
                let sx = if r < 1.0 {
                    let mut angle = s_out.asin() + alpha;
                    // Past the side of the head the back comes into view: show the side's texture
                    // mirrored (hair continues) rather than a smear of the last column.
                    if angle.abs() > std::f32::consts::FRAC_PI_2 {
                        angle = angle.signum() * std::f32::consts::PI - angle;
                    }
                    let u_src = radius * angle.sin();
                    // Near the outline, fade to the still background.
                    let inside = ((1.0 - r) / 0.3).clamp(0.0, 1.0);
                    let inside = inside * inside * (3.0 - 2.0 * inside);
                    hx + inside * u_src + (1.0 - inside) * u_out
                } else {
                    hx + u_out
                };
                if sx < 0.0 || sx >= sw - 1.0 {
                    continue;
                }
                let (x0, ax) = (sx as usize, ((sx - sx.floor()) * 256.0) as u32);
                self.sample_fixed(x0, ax, y0, ay, gain, &mut line[x * 3..x * 3 + 3]);
            }
        }
        out
    }

    /// Bilinear sample of the source at (`x0` + `ax`/256, `y0` + `ay`/256), times `gain`/256.
    fn sample_fixed(&self, x0: usize, ax: u32, y0: usize, ay: u32, gain: u32, pixel: &mut [u8]) {
        let src = self.source.as_raw();
        let stride = self.source.width() as usize * 3;
        let i = y0 * stride + x0 * 3;
        for ch in 0..3 {
            let top = src[i + ch] as u32 * (256 - ax) + src[i + 3 + ch] as u32 * ax;
            let bottom = src[i + stride + ch] as u32 * (256 - ax) + src[i + stride + 3 + ch] as u32 * ax;
            let v = (top * (256 - ay) + bottom * ay) >> 16;
            pixel[ch] = ((v * gain) >> 8).min(255) as u8;
        }
    }
}

impl Camera for SimulatedCamera {
    fn info(&self) -> DeviceInfo {
        let mode = match self.motion {
            Motion::Natural => "live subject",
            Motion::Static => "still photo",
            Motion::HeadTurn => "head turns",
        };
        let id = match self.motion {
            Motion::Natural => "sim:camera",
            Motion::Static => "sim:camera:static",
            Motion::HeadTurn => "sim:camera:headturn",
        };
        DeviceInfo {
            id: id.into(),
            name: format!("Simulated camera ({mode})"),
            kind: DeviceKind::Camera,
            driver: "simulated".into(),
        }
    }

    fn formats(&self) -> Result<Vec<FrameFormat>> {
        Ok(vec![
            FrameFormat {
                width: 640,
                height: 480,
                fps: 30,
                encoding: FrameEncoding::Rgb,
            },
            FrameFormat {
                width: 1280,
                height: 720,
                fps: 15,
                encoding: FrameEncoding::Rgb,
            },
        ])
    }

    fn start(&mut self, format: FrameFormat) -> Result<()> {
        if self.pacer.is_some() {
            return Err(DeviceError::InvalidState("the camera is already streaming"));
        }
        let offered = self.formats()?;
        // Any offered size at any rate from 1 to 120 fps: tests run fast streams, demos slow ones.
        if format.fps == 0
            || format.fps > 120
            || !offered.iter().any(|f| {
                (f.width, f.height, f.encoding) == (format.width, format.height, format.encoding)
            })
        {
            return Err(DeviceError::Device(format!(
                "format {}x{}@{} not offered",
                format.width, format.height, format.fps
            )));
        }
        self.format = format;
        self.sequence = 0;
        self.pacer = Some(FramePacer::start(format.fps));
        Ok(())
    }

    fn next_frame(&mut self, timeout: Duration) -> Result<RgbFrame> {
        let pacer = self
            .pacer
            .as_ref()
            .ok_or(DeviceError::InvalidState("next_frame before start"))?;
        let timestamp = pacer.wait_for(self.sequence, timeout)?;
        let frame = self.frame_at(timestamp, self.sequence);
        self.sequence += 1;
        Ok(frame)
    }

    fn stop(&mut self) -> Result<()> {
        self.pacer = None;
        Ok(())
    }
}
