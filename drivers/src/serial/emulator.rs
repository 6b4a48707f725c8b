//! A software R30x / AS608 module on the master side of a pseudo-terminal pair.
//!
//! The emulator exists so that the real driver — opened by path through `serialport`, exactly as
//! in the field — can be tested, demonstrated and benchmarked without hardware. It speaks the
//! packet protocol byte for byte (see [`super::protocol`]), serves real finger images (a folder
//! of images, or any [`GrayImage`]) fitted to the sensor's 256×288 at 500 dpi and packed to 4
//! bits, keeps a small template library, and can inject the faults a field module shows: a
//! corrupted checksum, an unplug in the middle of UpImage, silence, an odd confirmation code, or
//! a module left at another baud rate.
//!
//! # The emulator's own feature files
//! Real modules use an undocumented vendor format. The emulator uses its own, documented, simple
//! but genuine descriptor of the image: the block orientation field. The image is cut into 16×16
//! blocks (16 × 18 = 288 blocks); a block whose grey-level variance is low is background (byte
//! 0), otherwise its dominant ridge orientation from the gradient structure tensor is stored as
//! `1 + degrees` (1..=180). A feature file is those 288 bytes; a template (RegModel) is the two
//! feature files it was made from, 576 bytes. Two descriptors are compared over block shifts of
//! up to ±3 blocks by the mean of cos(2Δθ) over blocks that are foreground in both; the score is
//! that mean scaled to 0..=100 when at least [`MIN_OVERLAP`] blocks overlap. It separates
//! impressions of one finger from most other fingers, which is all a test double needs; it is
//! not a matcher for identification.

use std::collections::BTreeMap;
use std::io::{self, Read, Write};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use serialport::{SerialPort, TTYPort};

use super::protocol::{
    baud_multiplier, pack_4bit, packet_size_from_code, resync_offset, ConfirmationCode, Instruction, Packet, PacketError, Pid, SysParam,
    SystemParameters, DEFAULT_ADDRESS, DEFAULT_BAUD, DEFAULT_PASSWORD, IMAGE_DPI, IMAGE_HEIGHT, IMAGE_WIDTH,
};
use crate::GrayImage;

/// Side of a descriptor block in pixels.
pub const BLOCK: u32 = 16;
/// Descriptor bytes per feature file (16 × 18 blocks).
pub const FEATURE_LEN: usize = ((IMAGE_WIDTH / BLOCK) * (IMAGE_HEIGHT / BLOCK)) as usize;
/// Fewest foreground blocks for a usable feature file (below: confirmation 0x07).
pub const MIN_FOREGROUND: usize = 40;
/// Fewest overlapping foreground blocks for two descriptors to be compared at all.
pub const MIN_OVERLAP: usize = 30;

/// Settings of the emulated module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmulatorConfig {
    /// Module address.
    pub address: u32,
    /// Module password.
    pub password: u32,
    /// Refuse every command but VfyPwd (0x21) until the password was verified.
    pub require_password: bool,
    /// Baud rate the module runs at; a host at another speed gets no answer.
    pub baud: u32,
    /// Data packet size code (0 = 32 .. 3 = 256 bytes; factory default 2 = 128).
    pub packet_size_code: u16,
    /// Library pages.
    pub library_size: u16,
    /// Security level 1..=5 (raises the match threshold).
    pub security_level: u16,
    /// Automatic finger: how many GenImg polls answer "no finger" before each placement.
    pub absent_polls: u32,
    /// Automatic finger: how many GenImg polls see the finger before it lifts again.
    pub present_polls: u32,
    /// Pace replies at the UART's real speed (10 bits a byte), for realistic timings.
    pub pace: bool,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        EmulatorConfig {
            address: DEFAULT_ADDRESS,
            password: DEFAULT_PASSWORD,
            require_password: false,
            baud: DEFAULT_BAUD,
            packet_size_code: 2,
            library_size: 200,
            security_level: 3,
            absent_polls: 2,
            present_polls: 2,
            pace: false,
        }
    }
}

/// A fault to inject. Each applies once, to the next exchange it fits; `ChangeBaud` takes effect
/// at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The next packet the module sends has a wrong checksum.
    CorruptChecksum,
    /// During the next UpImage, hang up the line after this many data packets (the adapter was
    /// unplugged mid-transfer). The emulator stops.
    UnplugDuringUpImage {
        /// Data packets sent before the line goes dead.
        after_packets: usize,
    },
    /// The next command gets no answer at all.
    Silence,
    /// The next command is answered with this confirmation code instead of its real outcome.
    Confirmation(u8),
    /// The module now runs at this baud rate (as if another host had changed it).
    ChangeBaud(u32),
}

/// Counters, for tests and benchmarks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EmulatorStats {
    /// Valid command packets received.
    pub commands: u64,
    /// Packets rejected for a bad checksum or format.
    pub bad_packets: u64,
    /// Bytes ignored because the host was at the wrong baud rate.
    pub garbled_bytes: u64,
    /// Completed image uploads.
    pub images_uploaded: u64,
    /// Baud rate the module runs at now.
    pub baud: u32,
    /// An injected unplug happened: the module is gone for good.
    pub unplugged: bool,
}

/// Where the finger comes from.
#[derive(Debug, Clone)]
enum Finger {
    /// Cycle through the image list: absent for `absent_polls` GenImg, present for `present_polls`.
    Auto { next: usize, polls: u32 },
    /// Placed and lifted by the test through [`Emulator::place_finger`] / [`Emulator::lift_finger`].
    Manual(Option<Arc<GrayImage>>),
}

struct State {
    config: EmulatorConfig,
    images: Vec<Arc<GrayImage>>,
    finger: Finger,
    image_buffer: Option<Arc<GrayImage>>,
    char_buffers: [Vec<Vec<u8>>; 2],
    library: BTreeMap<u16, Vec<Vec<u8>>>,
    verified: bool,
    faults: Vec<Fault>,
    stats: EmulatorStats,
}

/// A running emulated module. Dropping it stops the module thread and closes the pty.
pub struct Emulator {
    path: String,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    /// Held open so the master never sees a hang-up while no driver has the slave open.
    _slave: TTYPort,
}

impl std::fmt::Debug for Emulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Emulator").field("path", &self.path).finish()
    }
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(|p| p.into_inner())
}

/// Fits an image to the sensor: rescales to 500 dpi (bilinear) when its resolution differs, then
/// crops the centre to 256×288, padding with white (the empty sensor) where it is smaller.
pub fn fit_to_sensor(image: &GrayImage) -> GrayImage {
    let (w, h) = (image.width as usize, image.height as usize);
    let scale = if image.dpi == 0 { 1.0 } else { IMAGE_DPI as f64 / image.dpi as f64 };
    let (sw, sh) = (((w as f64 * scale).round() as usize).max(1), ((h as f64 * scale).round() as usize).max(1));
    let sample = |x: usize, y: usize| -> u8 {
        if scale == 1.0 {
            return image.pixels[y * w + x];
        }
        let fx = ((x as f64 + 0.5) / scale - 0.5).clamp(0.0, (w - 1) as f64);
        let fy = ((y as f64 + 0.5) / scale - 0.5).clamp(0.0, (h - 1) as f64);
        let (x0, y0) = (fx.floor() as usize, fy.floor() as usize);
        let (x1, y1) = ((x0 + 1).min(w - 1), (y0 + 1).min(h - 1));
        let (ax, ay) = (fx - x0 as f64, fy - y0 as f64);
        let p = |x: usize, y: usize| image.pixels[y * w + x] as f64;
        let top = p(x0, y0) * (1.0 - ax) + p(x1, y0) * ax;
        let bottom = p(x0, y1) * (1.0 - ax) + p(x1, y1) * ax;
        (top * (1.0 - ay) + bottom * ay).round() as u8
    };
    let (tw, th) = (IMAGE_WIDTH as usize, IMAGE_HEIGHT as usize);
    let (ox, oy) = (sw as i64 / 2 - tw as i64 / 2, sh as i64 / 2 - th as i64 / 2);
    let mut pixels = vec![255u8; tw * th];
    if w > 0 && h > 0 {
        for y in 0..th {
            let sy = y as i64 + oy;
            if sy < 0 || sy >= sh as i64 {
                continue;
            }
            for x in 0..tw {
                let sx = x as i64 + ox;
                if sx >= 0 && sx < sw as i64 {
                    pixels[y * tw + x] = sample(sx as usize, sy as usize);
                }
            }
        }
    }
    GrayImage { width: IMAGE_WIDTH, height: IMAGE_HEIGHT, dpi: IMAGE_DPI, pixels }
}

/// Loads every image (tif, png, bmp, jpg, pgm) in `dir`, sorted by name, as 500 dpi grey.
pub fn load_images(dir: &Path) -> io::Result<Vec<GrayImage>> {
    let mut files: Vec<_> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            let ext = p.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
            matches!(ext.as_str(), "tif" | "tiff" | "png" | "bmp" | "jpg" | "jpeg" | "pgm")
        })
        .collect();
    files.sort();
    files
        .iter()
        .map(|p| {
            let img = image::open(p).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("{}: {e}", p.display())))?.to_luma8();
            let (w, h) = img.dimensions();
            Ok(GrayImage { width: w, height: h, dpi: IMAGE_DPI, pixels: img.into_raw() })
        })
        .collect()
}

/// The emulator's feature file of a sensor-sized image (see the module docs): one byte a 16×16
/// block, 0 for background, else 1 + ridge orientation in degrees. Returns the descriptor and its
/// number of foreground blocks.
pub fn describe(image: &GrayImage) -> (Vec<u8>, usize) {
    let (w, h) = (image.width as usize, image.height as usize);
    let (bw, bh) = (IMAGE_WIDTH as usize / BLOCK as usize, IMAGE_HEIGHT as usize / BLOCK as usize);
    let b = BLOCK as usize;
    let px = |x: usize, y: usize| -> f64 { if x < w && y < h { image.pixels[y * w + x] as f64 } else { 255.0 } };
    let mut out = vec![0u8; bw * bh];
    let mut foreground = 0;
    for by in 0..bh {
        for bx in 0..bw {
            let (mut sum, mut sum2) = (0.0, 0.0);
            let (mut gxx, mut gyy, mut gxy) = (0.0, 0.0, 0.0);
            for y in by * b..(by + 1) * b {
                for x in bx * b..(bx + 1) * b {
                    let v = px(x, y);
                    sum += v;
                    sum2 += v * v;
                    let gx = px(x + 1, y) - px(x.saturating_sub(1), y);
                    let gy = px(x, y + 1) - px(x, y.saturating_sub(1));
                    gxx += gx * gx;
                    gyy += gy * gy;
                    gxy += gx * gy;
                }
            }
            let n = (b * b) as f64;
            let var = sum2 / n - (sum / n) * (sum / n);
            let coherence_den = gxx + gyy;
            if var < 150.0 || coherence_den <= 0.0 {
                continue;
            }
            // Ridge orientation is perpendicular to the dominant gradient direction.
            let grad = 0.5 * (2.0 * gxy).atan2(gxx - gyy);
            let ridge = grad + std::f64::consts::FRAC_PI_2;
            let deg = (ridge.to_degrees().rem_euclid(180.0)).round() as u32 % 180;
            out[by * bw + bx] = 1 + deg as u8;
            foreground += 1;
        }
    }
    (out, foreground)
}

/// Similarity 0..=100 of two descriptors (see the module docs); 0 when they overlap too little.
pub fn compare(a: &[u8], b: &[u8]) -> u16 {
    let (bw, bh) = ((IMAGE_WIDTH / BLOCK) as i32, (IMAGE_HEIGHT / BLOCK) as i32);
    if a.len() != FEATURE_LEN || b.len() != FEATURE_LEN {
        return 0;
    }
    let mut best = 0.0f64;
    for dy in -3..=3 {
        for dx in -3..=3 {
            let (mut total, mut n) = (0.0, 0usize);
            for y in 0..bh {
                let y2 = y + dy;
                if y2 < 0 || y2 >= bh {
                    continue;
                }
                for x in 0..bw {
                    let x2 = x + dx;
                    if x2 < 0 || x2 >= bw {
                        continue;
                    }
                    let (p, q) = (a[(y * bw + x) as usize], b[(y2 * bw + x2) as usize]);
                    if p == 0 || q == 0 {
                        continue;
                    }
                    let d = ((p as f64 - q as f64) * 2.0).to_radians();
                    total += d.cos();
                    n += 1;
                }
            }
            if n >= MIN_OVERLAP {
                best = best.max(total / n as f64);
            }
        }
    }
    (best.max(0.0) * 100.0).round() as u16
}

/// Score a match needs at a security level (1 = lenient .. 5 = strict).
pub fn threshold(security_level: u16) -> u16 {
    80 + 3 * security_level.clamp(1, 5)
}

fn best_score(a: &[Vec<u8>], b: &[Vec<u8>]) -> u16 {
    a.iter().flat_map(|x| b.iter().map(move |y| compare(x, y))).max().unwrap_or(0)
}

impl Emulator {
    /// Starts an emulated module serving `images` (fitted to the sensor on the way in).
    pub fn start(config: EmulatorConfig, images: Vec<GrayImage>) -> io::Result<Emulator> {
        let (master, slave) = TTYPort::pair().map_err(io::Error::from)?;
        let path = slave.name().ok_or_else(|| io::Error::other("pty without a name"))?;
        let stats = EmulatorStats { baud: config.baud, ..Default::default() };
        let state = Arc::new(Mutex::new(State {
            images: images.iter().map(|i| Arc::new(fit_to_sensor(i))).collect(),
            finger: Finger::Auto { next: 0, polls: 0 },
            image_buffer: None,
            char_buffers: [Vec::new(), Vec::new()],
            library: BTreeMap::new(),
            verified: false,
            faults: Vec::new(),
            stats,
            config,
        }));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (state, stop) = (Arc::clone(&state), Arc::clone(&stop));
            std::thread::Builder::new().name("r30x-emulator".into()).spawn(move || run(master, state, stop))?
        };
        Ok(Emulator { path, state, stop, thread: Some(thread), _slave: slave })
    }

    /// Starts an emulated module serving the images of a folder (see [`load_images`]).
    pub fn from_folder(config: EmulatorConfig, dir: &Path) -> io::Result<Emulator> {
        Self::start(config, load_images(dir)?)
    }

    /// Path of the pty the driver opens (e.g. `/dev/pts/7`).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Puts a finger with this image on the sensor until [`Self::lift_finger`]; switches the
    /// emulator from the automatic finger to manual control.
    pub fn place_finger(&self, image: &GrayImage) {
        lock(&self.state).finger = Finger::Manual(Some(Arc::new(fit_to_sensor(image))));
    }

    /// Lifts the manually placed finger.
    pub fn lift_finger(&self) {
        lock(&self.state).finger = Finger::Manual(None);
    }

    /// Queues a fault.
    pub fn inject(&self, fault: Fault) {
        let mut s = lock(&self.state);
        if let Fault::ChangeBaud(b) = fault {
            s.config.baud = b;
            s.stats.baud = b;
        } else {
            s.faults.push(fault);
        }
    }

    /// The counters so far.
    pub fn stats(&self) -> EmulatorStats {
        lock(&self.state).stats
    }

    /// Pages in use in the template library.
    pub fn stored_pages(&self) -> Vec<u16> {
        lock(&self.state).library.keys().copied().collect()
    }

    /// The image the module would upload now (its image buffer), as the host will see it.
    pub fn image_buffer(&self) -> Option<GrayImage> {
        lock(&self.state).image_buffer.as_deref().cloned()
    }

    /// Whether the module thread is still serving (false after an injected unplug).
    pub fn is_running(&self) -> bool {
        !lock(&self.state).stats.unplugged && self.thread.as_ref().is_some_and(|t| !t.is_finished())
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Why the serving loop ended early.
enum Stop {
    Unplugged,
    Io,
}

fn run(mut master: TTYPort, state: Arc<Mutex<State>>, stop: Arc<AtomicBool>) {
    let _ = master.set_timeout(Duration::from_millis(20));
    let mut pending = Vec::new();
    let mut buf = [0u8; 1024];
    while !stop.load(Ordering::Relaxed) {
        let n = match master.read(&mut buf) {
            Ok(n) => n,
            Err(e) if matches!(e.kind(), io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted) => continue,
            // No slave open at the moment (cannot happen while Emulator holds one), or closed.
            Err(_) => {
                std::thread::sleep(Duration::from_millis(20));
                continue;
            }
        };
        // The pty carries the host's termios: a host at another speed than the module's would
        // put only framing garbage on a real line, so the module hears nothing it can decode.
        let module_baud = lock(&state).config.baud;
        if master.baud_rate().map(|b| b != module_baud).unwrap_or(false) {
            lock(&state).stats.garbled_bytes += n as u64;
            continue;
        }
        pending.extend_from_slice(&buf[..n]);
        loop {
            let skip = resync_offset(&pending);
            pending.drain(..skip);
            match Packet::decode(&pending) {
                Ok((packet, used)) => {
                    pending.drain(..used);
                    match serve(&mut master, &state, packet) {
                        Ok(()) => {}
                        Err(Stop::Unplugged) => {
                            // Flag first: the driver sees the hang-up the moment `master` drops.
                            lock(&state).stats.unplugged = true;
                            return;
                        }
                        Err(Stop::Io) => break,
                    }
                }
                Err(PacketError::Incomplete { .. }) => break,
                Err(PacketError::BadChecksum { .. }) => {
                    pending.drain(..2);
                    let (address, pace) = {
                        let mut s = lock(&state);
                        s.stats.bad_packets += 1;
                        (s.config.address, s.config.pace.then_some(s.config.baud))
                    };
                    let _ = send(&mut master, &state, &Packet::ack(address, ConfirmationCode::PacketReceiveError, &[]), pace);
                }
                Err(_) => {
                    pending.drain(..2);
                    lock(&state).stats.bad_packets += 1;
                }
            }
        }
    }
}

fn send(master: &mut TTYPort, state: &Mutex<State>, packet: &Packet, pace: Option<u32>) -> Result<(), Stop> {
    let mut bytes = packet.encode();
    {
        let mut s = lock(state);
        if let Some(i) = s.faults.iter().position(|f| *f == Fault::CorruptChecksum) {
            s.faults.remove(i);
            let last = bytes.len() - 1;
            bytes[last] ^= 0x5A;
        }
    }
    if let Some(baud) = pace {
        std::thread::sleep(Duration::from_secs_f64(bytes.len() as f64 * 10.0 / baud as f64));
    }
    master.write_all(&bytes).and_then(|_| master.flush()).map_err(|_| Stop::Io)
}

fn take_fault(s: &mut State, pred: impl Fn(&Fault) -> bool) -> Option<Fault> {
    let i = s.faults.iter().position(pred)?;
    Some(s.faults.remove(i))
}

/// Answers one command packet.
fn serve(master: &mut TTYPort, state: &Mutex<State>, packet: Packet) -> Result<(), Stop> {
    let mut s = lock(state);
    if packet.address != s.config.address || packet.pid != Pid::Command || packet.content.is_empty() {
        // Real modules ignore packets for other addresses and stray data packets.
        s.stats.bad_packets += 1;
        return Ok(());
    }
    s.stats.commands += 1;
    let address = s.config.address;
    let pace = s.config.pace.then_some(s.config.baud);
    if take_fault(&mut s, |f| *f == Fault::Silence).is_some() {
        return Ok(());
    }
    let forced = take_fault(&mut s, |f| matches!(f, Fault::Confirmation(_)));
    let instruction = packet.content[0];
    let params = &packet.content[1..];
    let outcome = if let Some(Fault::Confirmation(code)) = forced {
        Reply::code(ConfirmationCode::from_byte(code))
    } else if s.config.require_password && !s.verified && instruction != Instruction::VfyPwd as u8 {
        Reply::code(ConfirmationCode::PasswordRequired)
    } else {
        execute(&mut s, instruction, params)
    };
    let unplug_after = if outcome.upload_image.is_some() {
        take_fault(&mut s, |f| matches!(f, Fault::UnplugDuringUpImage { .. })).map(|f| match f {
            Fault::UnplugDuringUpImage { after_packets } => after_packets,
            _ => unreachable!(),
        })
    } else {
        None
    };
    let new_baud = outcome.new_baud;
    let chunk = packet_size_from_code(s.config.packet_size_code).unwrap_or(128);
    drop(s);
    send(master, state, &Packet::ack(address, outcome.code, &outcome.results), pace)?;
    if let Some(b) = new_baud {
        let mut s = lock(state);
        s.config.baud = b;
        s.stats.baud = b;
    }
    let is_image = outcome.upload_image.is_some();
    let data = match (outcome.upload_image, outcome.upload_data) {
        (Some(img), _) => pack_4bit(&img.pixels),
        (None, Some(d)) => d,
        (None, None) => return Ok(()),
    };
    let packets = data.len().div_ceil(chunk);
    for (i, piece) in data.chunks(chunk).enumerate() {
        if unplug_after == Some(i) {
            // Returning drops the master fd: the slave side sees a hang-up, as when a USB-serial
            // adapter is pulled.
            return Err(Stop::Unplugged);
        }
        let pid = if i + 1 == packets { Pid::EndData } else { Pid::Data };
        send(master, state, &Packet { address, pid, content: piece.to_vec() }, pace)?;
    }
    if is_image {
        lock(state).stats.images_uploaded += 1;
    }
    Ok(())
}

/// What a command produced: the acknowledge, and possibly data packets to follow.
struct Reply {
    code: ConfirmationCode,
    results: Vec<u8>,
    upload_image: Option<Arc<GrayImage>>,
    upload_data: Option<Vec<u8>>,
    new_baud: Option<u32>,
}

impl Reply {
    fn code(code: ConfirmationCode) -> Self {
        Reply { code, results: Vec::new(), upload_image: None, upload_data: None, new_baud: None }
    }
    fn ok(results: Vec<u8>) -> Self {
        Reply { results, ..Self::code(ConfirmationCode::Success) }
    }
}

fn buffer_index(b: Option<&u8>) -> Option<usize> {
    match b {
        Some(1) => Some(0),
        Some(2) => Some(1),
        _ => None,
    }
}

fn u16_at(p: &[u8], i: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*p.get(i)?, *p.get(i + 1)?]))
}

fn execute(s: &mut State, instruction: u8, p: &[u8]) -> Reply {
    use ConfirmationCode as C;
    let Some(instruction) = Instruction::from_byte(instruction) else {
        return Reply::code(C::PacketReceiveError);
    };
    match instruction {
        Instruction::VfyPwd => match p.get(..4) {
            Some(pw) if u32::from_be_bytes([pw[0], pw[1], pw[2], pw[3]]) == s.config.password => {
                s.verified = true;
                Reply::ok(Vec::new())
            }
            Some(_) => Reply::code(C::WrongPassword),
            None => Reply::code(C::PacketReceiveError),
        },
        Instruction::ReadSysPara => {
            let params = SystemParameters {
                status: if s.verified { 0b100 } else { 0 } | if s.image_buffer.is_some() { 0b1000 } else { 0 },
                system_id: 0x0009,
                library_size: s.config.library_size,
                security_level: s.config.security_level,
                address: s.config.address,
                packet_size_code: s.config.packet_size_code,
                baud_multiplier: (s.config.baud / 9600) as u16,
            };
            Reply::ok(params.to_bytes().to_vec())
        }
        Instruction::SetSysPara => match (p.first().copied(), p.get(1).copied()) {
            (Some(n), Some(v)) if n == SysParam::BaudMultiplier as u8 => match baud_multiplier(9600 * v as u32) {
                Some(_) => Reply { new_baud: Some(9600 * v as u32), ..Reply::ok(Vec::new()) },
                None => Reply::code(C::WrongRegisterConfig),
            },
            (Some(n), Some(v)) if n == SysParam::SecurityLevel as u8 => {
                if (1..=5).contains(&v) {
                    s.config.security_level = v as u16;
                    Reply::ok(Vec::new())
                } else {
                    Reply::code(C::WrongRegisterConfig)
                }
            }
            (Some(n), Some(v)) if n == SysParam::PacketSize as u8 => {
                if v <= 3 {
                    s.config.packet_size_code = v as u16;
                    Reply::ok(Vec::new())
                } else {
                    Reply::code(C::WrongRegisterConfig)
                }
            }
            (Some(_), Some(_)) => Reply::code(C::InvalidRegister),
            _ => Reply::code(C::PacketReceiveError),
        },
        Instruction::GenImg => {
            let on_sensor = match &mut s.finger {
                Finger::Manual(f) => f.clone(),
                Finger::Auto { next, polls } => {
                    let (absent, present) = (s.config.absent_polls, s.config.present_polls.max(1));
                    let image = if s.images.is_empty() || *polls < absent { None } else { Some(Arc::clone(&s.images[*next % s.images.len()])) };
                    *polls += 1;
                    if *polls >= absent + present {
                        *polls = 0;
                        *next += 1;
                    }
                    image
                }
            };
            match on_sensor {
                Some(img) => {
                    s.image_buffer = Some(img);
                    Reply::ok(Vec::new())
                }
                None => Reply::code(C::NoFinger),
            }
        }
        Instruction::UpImage => match &s.image_buffer {
            Some(img) => Reply { upload_image: Some(Arc::clone(img)), ..Reply::ok(Vec::new()) },
            None => Reply::code(C::ImageUploadError),
        },
        Instruction::Img2Tz => {
            let Some(b) = buffer_index(p.first()) else { return Reply::code(C::InvalidRegister) };
            let Some(img) = s.image_buffer.clone() else { return Reply::code(C::NoValidImage) };
            let (desc, foreground) = describe(&img);
            if foreground < MIN_FOREGROUND {
                return Reply::code(C::TooFewFeatures);
            }
            s.char_buffers[b] = vec![desc];
            Reply::ok(Vec::new())
        }
        Instruction::Match => {
            if s.char_buffers[0].is_empty() || s.char_buffers[1].is_empty() {
                return Reply::code(C::TemplateInvalid);
            }
            let score = best_score(&s.char_buffers[0], &s.char_buffers[1]);
            if score >= threshold(s.config.security_level) {
                Reply::ok(score.to_be_bytes().to_vec())
            } else {
                Reply { results: vec![0, 0], ..Reply::code(C::NoMatch) }
            }
        }
        Instruction::RegModel => {
            let [a, b] = &s.char_buffers;
            if a.len() != 1 || b.len() != 1 || best_score(a, b) < threshold(s.config.security_level) {
                return Reply::code(C::MergeFailed);
            }
            let template = vec![a[0].clone(), b[0].clone()];
            s.char_buffers = [template.clone(), template];
            Reply::ok(Vec::new())
        }
        Instruction::Store => {
            let (Some(b), Some(page)) = (buffer_index(p.first()), u16_at(p, 1)) else { return Reply::code(C::InvalidRegister) };
            if page >= s.config.library_size {
                return Reply::code(C::PageOutOfRange);
            }
            if s.char_buffers[b].is_empty() {
                return Reply::code(C::TemplateInvalid);
            }
            let t = s.char_buffers[b].clone();
            s.library.insert(page, t);
            Reply::ok(Vec::new())
        }
        Instruction::LoadChar => {
            let (Some(b), Some(page)) = (buffer_index(p.first()), u16_at(p, 1)) else { return Reply::code(C::InvalidRegister) };
            match s.library.get(&page).cloned() {
                Some(t) => {
                    s.char_buffers[b] = t;
                    Reply::ok(Vec::new())
                }
                None if page >= s.config.library_size => Reply::code(C::PageOutOfRange),
                None => Reply::code(C::TemplateInvalid),
            }
        }
        Instruction::UpChar => {
            let Some(b) = buffer_index(p.first()) else { return Reply::code(C::InvalidRegister) };
            if s.char_buffers[b].is_empty() {
                return Reply::code(C::TemplateUploadError);
            }
            Reply { upload_data: Some(s.char_buffers[b].concat()), ..Reply::ok(Vec::new()) }
        }
        Instruction::Search => {
            let (Some(b), Some(start), Some(count)) = (buffer_index(p.first()), u16_at(p, 1), u16_at(p, 3)) else {
                return Reply::code(C::InvalidRegister);
            };
            if s.char_buffers[b].is_empty() {
                return Reply::code(C::TemplateInvalid);
            }
            let end = start.saturating_add(count);
            let probe = &s.char_buffers[b];
            let best = s.library.range(start..end).map(|(page, t)| (*page, best_score(probe, t))).max_by_key(|&(page, score)| (score, std::cmp::Reverse(page)));
            match best {
                Some((page, score)) if score >= threshold(s.config.security_level) => {
                    let mut r = page.to_be_bytes().to_vec();
                    r.extend_from_slice(&score.to_be_bytes());
                    Reply::ok(r)
                }
                _ => Reply { results: vec![0, 0, 0, 0], ..Reply::code(C::NotFound) },
            }
        }
        Instruction::DeleteChar => {
            let (Some(page), Some(count)) = (u16_at(p, 0), u16_at(p, 2)) else { return Reply::code(C::PacketReceiveError) };
            if page >= s.config.library_size {
                return Reply::code(C::DeleteFailed);
            }
            let end = page.saturating_add(count);
            let doomed: Vec<u16> = s.library.range(page..end).map(|(k, _)| *k).collect();
            for k in doomed {
                s.library.remove(&k);
            }
            Reply::ok(Vec::new())
        }
        Instruction::Empty => {
            s.library.clear();
            Reply::ok(Vec::new())
        }
        Instruction::TemplateNum => Reply::ok((s.library.len() as u16).to_be_bytes().to_vec()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stripes(period: f64, angle_deg: f64) -> GrayImage {
        let (w, h) = (IMAGE_WIDTH as usize, IMAGE_HEIGHT as usize);
        let (s, c) = angle_deg.to_radians().sin_cos();
        let pixels = (0..w * h)
            .map(|i| {
                let (x, y) = ((i % w) as f64, (i / w) as f64);
                // Ridges run along `angle_deg`: intensity varies across them.
                let t = -x * s + y * c;
                (128.0 + 100.0 * (t * std::f64::consts::TAU / period).sin()) as u8
            })
            .collect();
        GrayImage { width: IMAGE_WIDTH, height: IMAGE_HEIGHT, dpi: IMAGE_DPI, pixels }
    }

    #[test]
    fn descriptor_measures_ridge_orientation() {
        for angle in [0.0, 30.0, 90.0, 135.0] {
            let (d, fg) = describe(&stripes(9.0, angle));
            assert_eq!(fg, FEATURE_LEN);
            let mid = d[FEATURE_LEN / 2] as f64 - 1.0;
            let err = ((mid - angle).rem_euclid(180.0)).min((angle - mid).rem_euclid(180.0));
            assert!(err <= 3.0, "angle {angle}: got {mid}");
        }
        let (_, fg) = describe(&GrayImage { width: 256, height: 288, dpi: 500, pixels: vec![255; 256 * 288] });
        assert_eq!(fg, 0);
    }

    #[test]
    fn compare_scores_same_high_and_perpendicular_zero() {
        let (a, _) = describe(&stripes(9.0, 20.0));
        let (b, _) = describe(&stripes(9.0, 110.0));
        assert_eq!(compare(&a, &a), 100);
        assert_eq!(compare(&a, &b), 0);
        assert_eq!(compare(&a, &a[..10]), 0);
    }

    #[test]
    fn fit_to_sensor_crops_pads_and_rescales() {
        let big = GrayImage { width: 388, height: 374, dpi: 500, pixels: (0..388 * 374).map(|i| (i % 388) as u8).collect() };
        let f = fit_to_sensor(&big);
        assert_eq!((f.width, f.height), (256, 288));
        // Centre crop: x offset (388 - 256) / 2 = 66.
        assert_eq!(f.pixels[0], 66);
        let small = GrayImage { width: 2, height: 2, dpi: 500, pixels: vec![0; 4] };
        let f = fit_to_sensor(&small);
        assert_eq!(f.pixels[0], 255);
        assert_eq!(f.pixels[143 * 256 + 127], 0);
        let low = GrayImage { width: 128, height: 144, dpi: 250, pixels: vec![7; 128 * 144] };
        let f = fit_to_sensor(&low);
        assert!(f.pixels.iter().all(|&p| p == 7));
    }
}
