//! A simulated camera: frames made from a portrait (the public-domain NASA astronaut photo the
//! repository ships, or any image), framed like a webcam at arm's length, with small natural
//! motion — or, in `Static` mode, the very same frame again and again, as a photo held up to the
//! camera would give — or with a person who follows the prompts on the screen
//! ([`Motion::Cooperative`], see [`super::subject`]).

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use rand::{Rng, SeedableRng};

use super::eyelids::EyeOutline;
use super::subject::CooperativeSubject;
use crate::camera::FramePacer;
use crate::{
    Camera, DeviceError, DeviceInfo, DeviceKind, FrameEncoding, FrameFormat, Result, RgbFrame,
};

/// The portrait embedded in the binary (see `drivers/assets/SOURCES.md`).
pub const ASTRONAUT_PNG: &[u8] = include_bytes!("../../assets/astronaut.png");

/// Face box of the astronaut portrait (x, y, width, height in its 512×512 pixels), measured with
/// the face pipeline's BlazeFace detector; used to frame the face like a webcam would.
const ASTRONAUT_FACE: (f32, f32, f32, f32) = (178.0, 81.0, 94.0, 94.0);
/// Her eyes (subject's right, left), measured with the face pipeline's mesh, for blinks.
const ASTRONAUT_EYES: [EyeOutline; 2] = [
    EyeOutline { outer: [194.8, 100.1], inner: [213.3, 102.8], upper: 3.4, lower: 1.7 },
    EyeOutline { outer: [255.1, 104.6], inner: [236.3, 104.5], upper: 3.3, lower: 1.5 },
];

/// A portrait to film: the image, where its face is and, for blinks, where its eyes are.
#[derive(Debug, Clone)]
pub struct Portrait {
    /// The picture, shared: cameras re-framing the same person every frame do not copy it.
    pub image: Arc<image::RgbImage>,
    /// Face box (x, y, width, height) in the picture's pixels, as a face detector gives it.
    pub face: (f32, f32, f32, f32),
    /// The eyes (subject's right, left); without them the subject cannot be seen to blink.
    pub eyes: Option<[EyeOutline; 2]>,
}

impl Portrait {
    /// The astronaut photo embedded in the binary, with its measured face and eyes.
    pub fn astronaut() -> Result<Self> {
        Ok(Self { image: astronaut_image()?, face: ASTRONAUT_FACE, eyes: Some(ASTRONAUT_EYES) })
    }
}

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
    /// A live person who does what the prompt on the screen asks — turns their head left or
    /// right (the same 3-D rotation as [`Motion::HeadTurn`]) or blinks — after a human reaction
    /// delay, on top of the natural motion. The prompts reach them through the camera's
    /// [`CooperativeSubject`] ([`SimulatedCamera::subject`]); unprompted they look straight ahead.
    Cooperative,
}

/// The embedded portrait, decoded once per process: PNG decoding takes tens of milliseconds
/// and every simulated camera opened afterwards then starts at once.
fn astronaut_image() -> Result<Arc<image::RgbImage>> {
    static DECODED: OnceLock<std::result::Result<Arc<image::RgbImage>, String>> = OnceLock::new();
    DECODED
        .get_or_init(|| {
            image::load_from_memory(ASTRONAUT_PNG)
                .map(|i| Arc::new(i.to_rgb8()))
                .map_err(|e| e.to_string())
        })
        .clone()
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
    /// How far the eyelids are closed: 0 open, 1 shut (drawn when the portrait's eyes are known).
    pub eyelids: f32,
}

impl Pose {
    const STILL: Pose = Pose {
        dx: 0.0,
        dy: 0.0,
        zoom: 1.0,
        yaw: 0.0,
        gain: 1.0,
        eyelids: 0.0,
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
    source: Arc<image::RgbImage>,
    face: (f32, f32, f32, f32),
    eyes: Option<[EyeOutline; 2]>,
    motion: Motion,
    /// The person who follows the prompts, in [`Motion::Cooperative`].
    subject: Option<CooperativeSubject>,
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
        Ok(Self::from_portrait(Portrait::astronaut()?, motion))
    }

    /// Any portrait, with its face box (x, y, width, height) in source pixels (its eyes unknown:
    /// a cooperative subject turns but cannot be seen to blink; see [`Self::from_portrait`]).
    pub fn from_image(source: image::RgbImage, face: (f32, f32, f32, f32), motion: Motion) -> Self {
        Self::from_portrait(Portrait { image: Arc::new(source), face, eyes: None }, motion)
    }

    /// A portrait with its face box and eyes. In [`Motion::Cooperative`] the camera films a new
    /// [`CooperativeSubject`] (see [`Self::subject`], [`Self::with_subject`]).
    pub fn from_portrait(portrait: Portrait, motion: Motion) -> Self {
        const SEED: u64 = 0x5eed;
        Self {
            source: portrait.image,
            face: portrait.face,
            eyes: portrait.eyes,
            motion,
            subject: (motion == Motion::Cooperative).then(|| CooperativeSubject::new(SEED)),
            format: FrameFormat {
                width: 640,
                height: 480,
                fps: 30,
                encoding: FrameEncoding::Rgb,
            },
            pacer: None,
            sequence: 0,
            seed: SEED,
            face_fraction: 0.34,
        }
    }

    /// Films `subject` (a person who follows the prompts) instead of the camera's own: a caller
    /// that re-creates the camera for every frame keeps the same person across frames.
    pub fn with_subject(mut self, subject: CooperativeSubject) -> Self {
        self.motion = Motion::Cooperative;
        self.subject = Some(subject);
        self
    }

    /// The person in front of the camera, in [`Motion::Cooperative`]: whoever shows the prompts
    /// tells them what is asked ([`CooperativeSubject::ask`]). `None` for the other motions: a
    /// still photo or a scripted subject does not react to anything.
    pub fn subject(&self) -> Option<CooperativeSubject> {
        self.subject.clone()
    }

    /// Changes how large the face appears (0.1 = far away, 0.6 = very close).
    pub fn with_face_fraction(mut self, fraction: f32) -> Self {
        self.face_fraction = fraction.clamp(0.05, 0.9);
        self
    }

    /// Changes the seed of the random tremor and, in [`Motion::Cooperative`], of the subject's
    /// reactions (two cameras with different seeds move differently; the same seed replays the
    /// same motion). Call it before taking [`Self::subject`]: it brings a new person.
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        if self.motion == Motion::Cooperative {
            self.subject = Some(CooperativeSubject::new(seed));
        }
        self
    }

    /// The subject's pose `t` seconds into the stream of frame `sequence`: smooth sway and
    /// breathing (sums of incommensurate sines, so the motion never visibly repeats), plus a
    /// seeded sub-pixel tremor per frame, plus scripted head turns in [`Motion::HeadTurn`] or the
    /// subject's own turns and blinks in [`Motion::Cooperative`] (which are asked for frame times
    /// in increasing order: the subject lives through them).
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
            eyelids: 0.0,
        };
        if let (Motion::Cooperative, Some(subject)) = (self.motion, &self.subject) {
            let m = subject.movement_at(t);
            pose.yaw = m.yaw;
            pose.eyelids = m.eyelids;
        }
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
        let map = SourceMap::new(self, pose);
        let gain = (pose.gain * 256.0).round() as u32;
        let (sw, sh) = (self.source.width() as f32, self.source.height() as f32);
        let mut out = vec![40u8; w * h * 3];
        if map.turn.is_none() {
            // Axis-aligned mapping: source columns and rows and their bilinear weights are
            // computed once per column and once per row, in 8-bit fixed point.
            let fixed = |v: f32, limit: f32| (v >= 0.0 && v < limit - 1.0).then(|| (v as usize, ((v - v.floor()) * 256.0) as u32));
            let columns: Vec<_> = (0..w).map(|k| fixed(map.x(k), sw)).collect();
            for y in 0..h {
                let Some((y0, ay)) = fixed(map.y(y), sh) else { continue };
                let line = &mut out[y * w * 3..(y + 1) * w * 3];
                for (x, column) in columns.iter().enumerate() {
                    let Some((x0, ax)) = *column else { continue };
                    self.sample_fixed(x0, ax, y0, ay, gain, &mut line[x * 3..x * 3 + 3]);
                }
            }
        } else {
            for y in 0..h {
                let line = &mut out[y * w * 3..(y + 1) * w * 3];
                for x in 0..w {
                    let (sx, sy) = map.point(x, y);
                    self.sample(sx, sy, gain, &mut line[x * 3..x * 3 + 3]);
                }
            }
        }
        if pose.eyelids > 0.0 {
            self.close_eyelids(&map, pose.eyelids, gain, &mut out);
        }
        out
    }

    /// Redraws the pixels of `out` that show the eyes with the lids closed by `closure`.
    fn close_eyelids(&self, map: &SourceMap, closure: f32, gain: u32, out: &mut [u8]) {
        let Some(eyes) = &self.eyes else { return };
        let (w, h) = (self.format.width as usize, self.format.height as usize);
        for eye in eyes {
            let (x0, y0, x1, y1) = eye.region();
            // Output rows and columns whose source falls in the eye's region (a turn moves source
            // columns around, so then every column of those rows is looked at).
            let rows = map.output_range(y0, y1, map.cy, h);
            let columns = if map.turn.is_none() { map.output_range(x0, x1, map.cx, w) } else { 0..w };
            for y in rows {
                for x in columns.clone() {
                    let (sx, sy) = map.point(x, y);
                    if sx < x0 || sx > x1 || sy < y0 || sy > y1 {
                        continue;
                    }
                    if let Some(((lx, ly), shade)) = eye.lid_source(sx, sy, closure) {
                        let i = (y * w + x) * 3;
                        self.sample(lx, ly, (gain as f32 * shade) as u32, &mut out[i..i + 3]);
                    }
                }
            }
        }
    }

    /// Bilinear sample of the source at (`sx`, `sy`) times `gain`/256; pixels outside the source
    /// are left as they are.
    fn sample(&self, sx: f32, sy: f32, gain: u32, pixel: &mut [u8]) {
        let (sw, sh) = (self.source.width() as f32, self.source.height() as f32);
        if sx < 0.0 || sx >= sw - 1.0 || sy < 0.0 || sy >= sh - 1.0 {
            return;
        }
        let (x0, ax) = (sx as usize, ((sx - sx.floor()) * 256.0) as u32);
        let (y0, ay) = (sy as usize, ((sy - sy.floor()) * 256.0) as u32);
        self.sample_fixed(x0, ax, y0, ay, gain, pixel);
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

/// Where each output pixel of a frame takes its colour from in the portrait, for one pose.
struct SourceMap {
    /// Source point shown at the frame's centre, and source pixels per output pixel.
    cx: f32,
    cy: f32,
    scale: f32,
    half_w: f32,
    half_h: f32,
    turn: Option<Turn>,
}

/// A turned head (see [`Pose::yaw`]). A horizontal section of the head is an ellipse, half-width
/// R and half-depth D: a point at angle φ (x = R sin φ, z = D cos φ) appears after a turn by θ at
/// x' = R sin φ cos θ − D cos φ sin θ = A sin(φ − α), so φ = asin(x'/A) + α; the turned outline is
/// ±A wide.
struct Turn {
    /// Head centre (the face box centre) in source pixels.
    hx: f32,
    hy: f32,
    radius: f32,
    /// A, α above.
    outline: f32,
    alpha: f32,
    /// Head outline above and below the centre, source pixels.
    above: f32,
    below: f32,
}

impl SourceMap {
    fn new(camera: &SimulatedCamera, pose: Pose) -> Self {
        let (fx, fy, fw, fh) = camera.face;
        let (w, h) = (camera.format.width as f32, camera.format.height as f32);
        let turn = (pose.yaw != 0.0).then(|| {
            let radius = HEAD_RADIUS * fw;
            let depth = HEAD_DEPTH * radius;
            let (sin_t, cos_t) = pose.yaw.sin_cos();
            Turn {
                hx: fx + fw / 2.0,
                hy: fy + fh / 2.0,
                radius,
                outline: ((radius * cos_t).powi(2) + (depth * sin_t).powi(2)).sqrt(),
                alpha: (depth * sin_t).atan2(radius * cos_t),
                above: HEAD_ABOVE_CENTRE * fh,
                below: HEAD_BELOW_CENTRE * fh,
            }
        });
        Self {
            cx: fx + fw / 2.0 + pose.dx,
            cy: fy + fh / 2.0 + pose.dy,
            scale: fw / (camera.face_fraction * w) / pose.zoom,
            half_w: w / 2.0,
            half_h: h / 2.0,
            turn,
        }
    }

    /// Source x of output column `k` with the head straight.
    fn x(&self, k: usize) -> f32 {
        self.cx + (k as f32 - self.half_w) * self.scale
    }

    /// Source y of output row `k` (a turn about the vertical axis leaves rows where they are).
    fn y(&self, k: usize) -> f32 {
        self.cy + (k as f32 - self.half_h) * self.scale
    }

    /// Output indices (below `limit`) whose straight-head source coordinate, centred on `centre`,
    /// lies in `from..=to`.
    fn output_range(&self, from: f32, to: f32, centre: f32, limit: usize) -> std::ops::Range<usize> {
        let half = limit as f32 / 2.0;
        let first = ((from - centre) / self.scale + half).floor().max(0.0) as usize;
        let last = (((to - centre) / self.scale + half).ceil().max(0.0) as usize + 1).min(limit);
        first.min(last)..last
    }

    /// Source point of output pixel (`x`, `y`): inside the turned head's outline, the point of the
    /// head surface that the rotation brought there; outside, the still background.
    fn point(&self, x: usize, y: usize) -> (f32, f32) {
        let (sx, sy) = (self.x(x), self.y(y));
        let Some(t) = &self.turn else { return (sx, sy) };
        let dy = (sy - t.hy) / if sy < t.hy { t.above } else { t.below };
        let u_out = sx - t.hx;
        let s_out = u_out / t.outline;
        let r = (s_out * s_out + dy * dy).sqrt();
        if r >= 1.0 {
            return (sx, sy);
        }
        let mut angle = s_out.asin() + t.alpha;
        // Past the side of the head the back comes into view: show the side's texture mirrored
        // (hair continues) rather than a smear of the last column.
        if angle.abs() > std::f32::consts::FRAC_PI_2 {
            angle = angle.signum() * std::f32::consts::PI - angle;
        }
        let u_src = t.radius * angle.sin();
        // Near the outline, fade to the still background.
        let inside = ((1.0 - r) / 0.3).clamp(0.0, 1.0);
        let inside = inside * inside * (3.0 - 2.0 * inside);
        (t.hx + inside * u_src + (1.0 - inside) * u_out, sy)
    }
}

impl Camera for SimulatedCamera {
    fn info(&self) -> DeviceInfo {
        let mode = match self.motion {
            Motion::Natural => "live subject",
            Motion::Static => "still photo",
            Motion::HeadTurn => "head turns",
            Motion::Cooperative => "subject following the prompts",
        };
        let id = match self.motion {
            Motion::Natural => "sim:camera",
            Motion::Static => "sim:camera:static",
            Motion::HeadTurn => "sim:camera:headturn",
            Motion::Cooperative => "sim:camera:cooperative",
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
