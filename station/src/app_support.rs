//! What the desktop app needs beyond the CLI's building blocks: biographic validation, the
//! enrollment being captured (fingers, missing fingers, face) with its rules, per-finger
//! simulated scanners, the simulated subject at the camera, and the app's own settings (the face
//! step itself is [`crate::app_face`]).
//!
//! The app (`src-tauri`) only translates between its window and these functions.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use drivers::simulated::{CooperativeSubject, Motion, Portrait, ScanTiming, SimulatedCamera, SimulatedScanner};
use drivers::{Camera, DeviceInfo, FingerprintScanner, RgbFrame, ScanEvent};
use serde::{Deserialize, Serialize};
use wire::spid::{KeyValue, MissingBiometric, MissingType};
use wire::BiometricIndex;

use crate::capture::{self, CaptureError};
use crate::queue::{CapturedImage, NewEnrollment};

// ---------------------------------------------------------------------------------------------
// Biographics
// ---------------------------------------------------------------------------------------------

/// Checks a Brazilian CPF (11 digits; dots, dashes and spaces are ignored) and returns its
/// digits. Rejects wrong lengths, repeated digits (000.000.000-00 …) and wrong check digits.
pub fn normalize_cpf(input: &str) -> Result<String, String> {
    let digits: String = input.chars().filter(|c| !matches!(c, '.' | '-' | ' ')).collect();
    if digits.is_empty() {
        return Err("enter the person's CPF".into());
    }
    if !digits.chars().all(|c| c.is_ascii_digit()) {
        return Err("a CPF has digits only".into());
    }
    if digits.len() != 11 {
        return Err(format!("a CPF has 11 digits, this has {}", digits.len()));
    }
    let d: Vec<u32> = digits.chars().map(|c| c.to_digit(10).unwrap_or(0)).collect();
    if d.iter().all(|&x| x == d[0]) {
        return Err("this CPF is not valid (all digits equal)".into());
    }
    let check = |len: usize| {
        let sum: u32 = d[..len].iter().enumerate().map(|(i, &x)| x * (len as u32 + 1 - i as u32)).sum();
        let r = (sum * 10) % 11;
        if r == 10 {
            0
        } else {
            r
        }
    };
    if check(9) != d[9] || check(10) != d[10] {
        return Err("this CPF is not valid (check digits do not match)".into());
    }
    Ok(digits)
}

/// Checks a person's name: 2–120 characters of letters, spaces, apostrophes, dots and dashes,
/// with at least two letters. Returns it trimmed, inner spaces collapsed.
pub fn normalize_name(input: &str) -> Result<String, String> {
    let name = input.split_whitespace().collect::<Vec<_>>().join(" ");
    if name.is_empty() {
        return Err("enter the person's name".into());
    }
    if name.chars().count() > 120 {
        return Err("a name has at most 120 characters".into());
    }
    if let Some(bad) = name.chars().find(|c| !(c.is_alphabetic() || matches!(c, ' ' | '\'' | '.' | '-'))) {
        return Err(format!("a name cannot contain {bad:?}"));
    }
    if name.chars().filter(|c| c.is_alphabetic()).count() < 2 {
        return Err("a name has at least two letters".into());
    }
    Ok(name)
}

/// Per-field problems with a biographic form.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FieldErrors {
    pub user_id: Option<String>,
    pub name: Option<String>,
}

/// Validates the biographic form; on success returns the normalised (CPF digits, name).
pub fn validate_biographics(user_id: &str, name: &str) -> Result<(String, String), FieldErrors> {
    match (normalize_cpf(user_id), normalize_name(name)) {
        (Ok(id), Ok(n)) => Ok((id, n)),
        (id, n) => Err(FieldErrors { user_id: id.err(), name: n.err() }),
    }
}

/// Parses a missing-biometric type from its wire spelling (AMPUTATED, BANDAGED, DAMAGED,
/// UNABLE_TO_CAPTURE).
pub fn parse_missing_type(s: &str) -> Option<MissingType> {
    MissingType::ALL.into_iter().find(|t| t.as_str() == s)
}

// ---------------------------------------------------------------------------------------------
// The enrollment being captured
// ---------------------------------------------------------------------------------------------

/// An enrollment under capture: biographics, finger images, declared missing fingers, face.
/// Each finger is either captured or declared missing, never both.
#[derive(Debug, Clone)]
pub struct EnrollmentDraft {
    pub user_id: String,
    pub name: String,
    fingers: BTreeMap<BiometricIndex, CapturedImage>,
    missing: BTreeMap<BiometricIndex, MissingBiometric>,
    face: Option<CapturedImage>,
    /// The liveness challenge's result for the face, when one was asked.
    liveness: Option<face::LivenessResult>,
}

impl EnrollmentDraft {
    /// Starts a draft after validating the biographics.
    pub fn new(user_id: &str, name: &str) -> Result<Self, FieldErrors> {
        let (user_id, name) = validate_biographics(user_id, name)?;
        Ok(Self { user_id, name, fingers: BTreeMap::new(), missing: BTreeMap::new(), face: None, liveness: None })
    }

    /// Records (or replaces, on re-capture) a finger image; a finger captured is no longer missing.
    pub fn put_finger(&mut self, image: CapturedImage) -> Result<(), String> {
        if !image.index.is_finger() {
            return Err(format!("{} is not a finger", image.index.label()));
        }
        self.missing.remove(&image.index);
        self.fingers.insert(image.index, image);
        Ok(())
    }

    /// Declares a finger missing with its type and reason (a reason is required); drops its image.
    pub fn mark_missing(&mut self, index: BiometricIndex, kind: MissingType, reason: &str) -> Result<(), String> {
        if !index.is_finger() {
            return Err(format!("{} is not a finger", index.label()));
        }
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(format!("say why the {} cannot be captured", index.label()));
        }
        self.fingers.remove(&index);
        self.missing.insert(index, MissingBiometric { index, kind, reason: reason.to_owned() });
        Ok(())
    }

    /// Withdraws a missing-finger declaration.
    pub fn clear_missing(&mut self, index: BiometricIndex) {
        self.missing.remove(&index);
    }

    /// Records the face image with the liveness result of its capture (replacing both on a retake).
    pub fn set_face(&mut self, image: CapturedImage, liveness: Option<face::LivenessResult>) {
        self.face = Some(image);
        self.liveness = liveness;
    }

    /// The liveness result of the face capture, when a challenge was asked.
    pub fn liveness(&self) -> Option<&face::LivenessResult> {
        self.liveness.as_ref()
    }

    /// Captured fingers, in position order.
    pub fn fingers(&self) -> impl Iterator<Item = &CapturedImage> {
        self.fingers.values()
    }

    /// Declared missing fingers, in position order.
    pub fn missing(&self) -> impl Iterator<Item = &MissingBiometric> {
        self.missing.values()
    }

    /// The face image, when captured.
    pub fn face(&self) -> Option<&CapturedImage> {
        self.face.as_ref()
    }

    /// Finger positions (0–9) neither captured nor declared missing.
    pub fn unresolved_fingers(&self) -> Vec<BiometricIndex> {
        BiometricIndex::FINGERS.into_iter().filter(|f| !self.fingers.contains_key(f) && !self.missing.contains_key(f)).collect()
    }

    /// What still prevents submitting: every finger captured or declared missing, and the face.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let open = self.unresolved_fingers();
        if !open.is_empty() {
            let labels: Vec<&str> = open.iter().map(|f| f.label()).collect();
            problems.push(format!("capture or mark as missing: {}", labels.join(", ")));
        }
        if self.face.is_none() {
            problems.push("capture the face".into());
        }
        problems
    }

    /// The queue entry for this draft, when nothing is missing.
    pub fn to_enrollment(&self, operator: &str, captured_at: i64) -> Result<NewEnrollment, String> {
        let problems = self.problems();
        if !problems.is_empty() {
            return Err(problems.join("; "));
        }
        let mut images: Vec<CapturedImage> = self.fingers.values().cloned().collect();
        images.extend(self.face.clone());
        Ok(NewEnrollment {
            user_id: self.user_id.clone(),
            operator_id: operator.to_owned(),
            biographics: vec![KeyValue { id: "NAME".into(), value: self.name.clone() }],
            missing: self.missing.values().cloned().collect(),
            images,
            captured_at,
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Simulated devices
// ---------------------------------------------------------------------------------------------

/// The simulated person behind `user_id`: the same key always presents the same fingers (the
/// same mapping as the CLI's `enroll --simulated`).
pub fn simulated_subject(user_id: &str) -> u64 {
    user_id.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ b as u64).wrapping_mul(0x0100_0000_01b3))
}

/// Simulated scanners for one person, one per finger position, so that a re-capture of a finger
/// is a new impression of the same finger.
pub struct SimulatedFingers {
    subject: u64,
    timing: ScanTiming,
    scanners: HashMap<BiometricIndex, SimulatedScanner>,
}

impl SimulatedFingers {
    /// Scanners presenting the fingers of the simulated person `user_id`.
    pub fn new(user_id: &str, timing: ScanTiming) -> Self {
        Self { subject: simulated_subject(user_id), timing, scanners: HashMap::new() }
    }

    /// The device as listed in settings.
    pub fn info() -> DeviceInfo {
        SimulatedScanner::synthetic(0, vec![]).info()
    }

    /// Captures `position` once, reporting scanner events, as a queue-ready PNG image.
    pub fn capture(
        &mut self,
        position: BiometricIndex,
        timeout: Duration,
        mut on_event: impl FnMut(&ScanEvent),
    ) -> Result<CapturedImage, CaptureError> {
        let (subject, timing) = (self.subject, self.timing);
        let scanner = self
            .scanners
            .entry(position)
            .or_insert_with(|| SimulatedScanner::synthetic(subject, vec![position.code() as u8]).with_timing(timing));
        let captured = capture::capture_fingers(scanner, &[position], timeout, |_, e| on_event(e))?;
        Ok(capture::finger_images(&captured)?.remove(0))
    }
}

/// The simulated camera's description, for settings.
pub fn simulated_camera_info() -> DeviceInfo {
    WalkUpCamera::new(Duration::ZERO, Duration::ZERO).info()
}

/// A simulated person stepping up to the camera: for `far` they stand too far away (the
/// pipeline asks them to move closer), then over `approach` they come to a normal distance
/// (the face filling about a third of the frame) and stay there, moving naturally. Frames are
/// rendered by the drivers' [`SimulatedCamera`] and paced at the stream's frame rate.
pub struct WalkUpCamera {
    motion: Motion,
    /// The subject's portrait; `None` = the drivers' astronaut.
    portrait: Option<Portrait>,
    /// The person who follows the prompts, in [`Motion::Cooperative`] (the same one in every frame).
    subject: Option<CooperativeSubject>,
    far: Duration,
    approach: Duration,
    format: Option<drivers::FrameFormat>,
    started: Option<Instant>,
    sequence: u64,
}

impl WalkUpCamera {
    /// Face fraction when far away and when arrived.
    const FAR: f32 = 0.13;
    const NEAR: f32 = 0.34;

    /// A subject who stays far for `far`, then approaches during `approach`.
    pub fn new(far: Duration, approach: Duration) -> Self {
        Self { motion: Motion::Natural, portrait: None, subject: None, far, approach, format: None, started: None, sequence: 0 }
    }

    /// The same walk-up with another behaviour once there: [`Motion::HeadTurn`] turns the head
    /// left and right every few seconds on a fixed script, [`Motion::Cooperative`] does what the
    /// prompts ask (see [`Self::subject`]); both render a 3-D head turn (see the drivers' camera).
    pub fn with_motion(mut self, motion: Motion) -> Self {
        self.motion = motion;
        self.subject = (motion == Motion::Cooperative).then(|| CooperativeSubject::new(0x5eed));
        self
    }

    /// The same walk-up by the person of another portrait. The astronaut's head is pitched about
    /// 5° down in her photo, at the ISO limit: a subject who looks straight at the camera lets
    /// autocapture behave as it would with a person who follows the prompt
    /// (docs/benchmarks/app.md).
    pub fn with_portrait(mut self, portrait: Portrait) -> Self {
        self.portrait = Some(portrait);
        self
    }

    /// The person stepping up, when they follow the prompts ([`Motion::Cooperative`]): the face
    /// step shows them each prompt (`app_face::run_face_step`).
    pub fn subject(&self) -> Option<CooperativeSubject> {
        self.subject.clone()
    }

    /// How much of the frame width the face fills `t` into the stream.
    pub fn face_fraction(&self, t: Duration) -> f32 {
        let x = (t.saturating_sub(self.far).as_secs_f32() / self.approach.as_secs_f32().max(1e-3)).clamp(0.0, 1.0);
        let eased = x * x * (3.0 - 2.0 * x);
        Self::FAR + (Self::NEAR - Self::FAR) * eased
    }
}

impl Camera for WalkUpCamera {
    fn info(&self) -> DeviceInfo {
        let mut info = SimulatedCamera::astronaut(Motion::Natural).map(|c| c.info()).unwrap_or(DeviceInfo {
            id: "sim:camera".into(),
            name: "Simulated camera".into(),
            kind: drivers::DeviceKind::Camera,
            driver: "simulated".into(),
        });
        info.name = match self.motion {
            Motion::HeadTurn => "Simulated camera (subject stepping up, turning their head)",
            Motion::Cooperative => "Simulated camera (subject stepping up, following the prompts)",
            _ => "Simulated camera (live subject stepping up)",
        }
        .into();
        info
    }

    fn formats(&self) -> drivers::Result<Vec<drivers::FrameFormat>> {
        SimulatedCamera::astronaut(Motion::Natural)?.formats()
    }

    fn start(&mut self, format: drivers::FrameFormat) -> drivers::Result<()> {
        if self.started.is_some() {
            return Err(drivers::DeviceError::InvalidState("the camera is already streaming"));
        }
        if format.fps == 0 || !self.formats()?.iter().any(|f| (f.width, f.height) == (format.width, format.height)) {
            return Err(drivers::DeviceError::Device(format!("format {}x{}@{} not offered", format.width, format.height, format.fps)));
        }
        self.format = Some(format);
        self.started = Some(Instant::now());
        self.sequence = 0;
        Ok(())
    }

    fn next_frame(&mut self, timeout: Duration) -> drivers::Result<RgbFrame> {
        let (Some(started), Some(format)) = (self.started, self.format) else {
            return Err(drivers::DeviceError::InvalidState("next_frame before start"));
        };
        let due = Duration::from_secs_f64(self.sequence as f64 / format.fps as f64);
        let now = started.elapsed();
        if due > now {
            if due - now > timeout {
                return Err(drivers::DeviceError::Timeout(timeout, "a camera frame"));
            }
            std::thread::sleep(due - now);
        }
        // A consumer slower than the frame rate gets the newest frame, as from a real camera.
        let t = started.elapsed().max(due);
        self.sequence = (t.as_secs_f64() * format.fps as f64).floor() as u64;
        let portrait = match &self.portrait {
            Some(p) => p.clone(),
            None => Portrait::astronaut()?,
        };
        let camera = SimulatedCamera::from_portrait(portrait, self.motion).with_face_fraction(self.face_fraction(t));
        let camera = match &self.subject {
            Some(subject) => camera.with_subject(subject.clone()),
            None => camera,
        };
        let frame = camera.frame_at(t, self.sequence);
        self.sequence += 1;
        Ok(frame)
    }

    fn stop(&mut self) -> drivers::Result<()> {
        self.started = None;
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// App settings
// ---------------------------------------------------------------------------------------------

/// The desktop app's own settings, kept in `<data_dir>/app.toml` (the station's settings stay
/// in `station.toml` and `STATION_*`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AppSettings {
    /// Run the SPID server inside the app on the server URL's loopback port.
    pub embedded_server: bool,
    /// Server URL; `None` keeps the station configuration's.
    pub server_url: Option<String>,
    /// Fingerprint scanner id (`simulated`).
    pub scanner: String,
    /// Camera id (`simulated`).
    pub camera: String,
    /// Kiosk: seconds without input before the session is wiped.
    pub idle_timeout_s: u32,
}

impl Default for AppSettings {
    fn default() -> Self {
        Self { embedded_server: true, server_url: None, scanner: "simulated".into(), camera: "simulated".into(), idle_timeout_s: 60 }
    }
}

impl AppSettings {
    /// Where the settings live for a data directory.
    pub fn path(data_dir: &Path) -> PathBuf {
        data_dir.join("app.toml")
    }

    /// Loads the settings (defaults when the file is absent).
    pub fn load(data_dir: &Path) -> Result<Self, String> {
        let path = Self::path(data_dir);
        match std::fs::read_to_string(&path) {
            Ok(text) => toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(e) => Err(format!("{}: {e}", path.display())),
        }
    }

    /// Checks and saves the settings.
    pub fn save(&self, data_dir: &Path) -> Result<(), String> {
        self.validate()?;
        std::fs::create_dir_all(data_dir).map_err(|e| format!("{}: {e}", data_dir.display()))?;
        let text = toml::to_string_pretty(self).map_err(|e| e.to_string())?;
        let path = Self::path(data_dir);
        std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Rejects settings the app cannot act on.
    pub fn validate(&self) -> Result<(), String> {
        if let Some(url) = &self.server_url {
            let addr = server_address(url)?;
            if self.embedded_server && !addr.ip().is_loopback() {
                return Err(format!("the embedded server only listens on this machine (127.0.0.1), not {}", addr.ip()));
            }
        }
        if self.scanner != "simulated" {
            return Err(format!("unknown fingerprint scanner {:?}", self.scanner));
        }
        if self.camera != "simulated" {
            return Err(format!("unknown camera {:?}", self.camera));
        }
        if !(10..=3600).contains(&self.idle_timeout_s) {
            return Err("the idle timeout must be between 10 and 3600 seconds".into());
        }
        Ok(())
    }
}

/// The socket address of an `http://IP:PORT` server URL (what the embedded server binds).
pub fn server_address(url: &str) -> Result<std::net::SocketAddr, String> {
    let rest = url.trim().strip_prefix("http://").ok_or_else(|| format!("{url:?}: the server URL must start with http://"))?;
    let hostport = rest.split('/').next().unwrap_or("");
    let hostport = if hostport.starts_with("localhost") { hostport.replacen("localhost", "127.0.0.1", 1) } else { hostport.to_owned() };
    let with_port = if hostport.contains(':') { hostport } else { format!("{hostport}:80") };
    with_port.parse().map_err(|_| format!("{url:?}: expected http://IP:PORT"))
}

/// Secret-store name of the admin PIN that leaves kiosk mode.
pub const KIOSK_PIN_SECRET: &str = "kiosk-admin-pin";

/// Constant-time comparison of an entered PIN with the configured one.
pub fn pin_matches(configured: &str, entered: &str) -> bool {
    let (a, b) = (configured.as_bytes(), entered.as_bytes());
    let mut diff = a.len() ^ b.len();
    for i in 0..a.len().max(b.len()) {
        diff |= (a.get(i).copied().unwrap_or(0) ^ b.get(i).copied().unwrap_or(0xff)) as usize;
    }
    diff == 0 && !configured.is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpf_check_digits() {
        assert_eq!(normalize_cpf("529.982.247-25").unwrap(), "52998224725");
        assert!(normalize_cpf("52998224724").unwrap_err().contains("check digits"));
        assert!(normalize_cpf("111.111.111-11").unwrap_err().contains("all digits equal"));
        assert!(normalize_cpf("1234").unwrap_err().contains("11 digits"));
        assert!(normalize_cpf("5299822472a").unwrap_err().contains("digits only"));
        assert!(normalize_cpf("").is_err());
    }

    #[test]
    fn names() {
        assert_eq!(normalize_name("  Maria   da Silva ").unwrap(), "Maria da Silva");
        assert!(normalize_name("R2D2").is_err());
        assert!(normalize_name("A").is_err());
        assert_eq!(normalize_name("João D'Ávila-Neto").unwrap(), "João D'Ávila-Neto");
    }

    fn image(index: BiometricIndex) -> CapturedImage {
        CapturedImage { index, width: 1, height: 1, resolution: Some(500), bytes: vec![1] }
    }

    #[test]
    fn a_draft_needs_every_finger_resolved_and_the_face() {
        let err = EnrollmentDraft::new("123", "").unwrap_err();
        assert!(err.user_id.is_some() && err.name.is_some());
        let mut d = EnrollmentDraft::new("52998224725", "Maria").unwrap();
        for f in BiometricIndex::FINGERS.into_iter().skip(1) {
            d.put_finger(image(f)).unwrap();
        }
        assert_eq!(d.problems().len(), 2);
        let thumb = BiometricIndex::FINGERS[0];
        assert!(d.mark_missing(thumb, MissingType::Amputated, " ").is_err(), "a reason is required");
        d.mark_missing(thumb, MissingType::Amputated, "declared").unwrap();
        assert!(d.to_enrollment("admin", 1).unwrap_err().contains("face"));
        d.set_face(image(BiometricIndex::Face), None);
        let e = d.to_enrollment("admin", 1).unwrap();
        assert_eq!((e.images.len(), e.missing.len()), (10, 1));
        // Capturing a finger declared missing withdraws the declaration.
        d.put_finger(image(thumb)).unwrap();
        assert_eq!(d.missing().count(), 0);
        assert!(d.put_finger(image(BiometricIndex::Face)).is_err());
    }

    #[test]
    fn settings_and_pins() {
        let mut s = AppSettings::default();
        s.validate().unwrap();
        s.server_url = Some("http://10.1.2.3:8082".into());
        assert!(s.validate().unwrap_err().contains("127.0.0.1"));
        s.embedded_server = false;
        s.validate().unwrap();
        assert_eq!(server_address("http://localhost:9000/x").unwrap().port(), 9000);
        assert!(server_address("https://a").is_err());
        assert!(pin_matches("2468", "2468"));
        assert!(!pin_matches("2468", "246"));
        assert!(!pin_matches("2468", "24680"));
        assert!(!pin_matches("", ""));
    }

    #[test]
    fn the_walk_up_subject_approaches() {
        let cam = WalkUpCamera::new(Duration::from_secs(2), Duration::from_secs(1));
        assert_eq!(cam.face_fraction(Duration::ZERO), WalkUpCamera::FAR);
        assert_eq!(cam.face_fraction(Duration::from_secs(2)), WalkUpCamera::FAR);
        let mid = cam.face_fraction(Duration::from_millis(2500));
        assert!(mid > WalkUpCamera::FAR && mid < WalkUpCamera::NEAR);
        assert_eq!(cam.face_fraction(Duration::from_secs(9)), WalkUpCamera::NEAR);
        let mut cam = cam;
        let format = cam.formats().unwrap()[0];
        cam.start(format).unwrap();
        let a = cam.next_frame(Duration::from_secs(1)).unwrap();
        let b = cam.next_frame(Duration::from_secs(1)).unwrap();
        assert_eq!((a.width, a.height), (format.width, format.height));
        assert!(b.sequence > a.sequence && b.timestamp > a.timestamp);
        cam.stop().unwrap();
    }

    #[test]
    fn simulated_fingers_differ_between_captures() {
        let mut sim = SimulatedFingers::new("52998224725", ScanTiming::INSTANT);
        let thumb = BiometricIndex::FINGERS[1];
        let a = sim.capture(thumb, Duration::from_secs(5), |_| {}).unwrap();
        let b = sim.capture(thumb, Duration::from_secs(5), |_| {}).unwrap();
        assert_eq!(a.index, thumb);
        assert_ne!(a.bytes, b.bytes, "a re-capture is a new impression");
    }
}
