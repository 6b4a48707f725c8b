//! A simulated fingerprint scanner: synthetic fingers of a simulated person, or the images of a
//! folder, delivered with the timing and events of a real optical scanner, and with faults that
//! can be injected to test how the station copes with a device that misbehaves.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::synthesis::{self, FingerSeed};
use crate::{
    DeviceError, DeviceInfo, DeviceKind, FingerprintScanner, GrayImage, ImageSpec, Result,
    ScanEvent,
};

/// How long a simulated capture takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScanTiming {
    /// From arming until the finger is on the glass.
    pub placement: Duration,
    /// Image transfer, reported as progress in four steps.
    pub transfer: Duration,
}

impl ScanTiming {
    /// Roughly what a person and a USB 2.0 optical scanner take.
    pub const REALISTIC: ScanTiming = ScanTiming {
        placement: Duration::from_millis(400),
        transfer: Duration::from_millis(200),
    };
    /// No waiting (tests, galleries).
    pub const INSTANT: ScanTiming = ScanTiming {
        placement: Duration::ZERO,
        transfer: Duration::ZERO,
    };
}

/// A fault to inject.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InjectedFault {
    /// The device disappears halfway through the image transfer of capture attempt `n` (0-based,
    /// counting every call to `capture`); every later call reports it disconnected.
    UnplugDuringCapture(u32),
    /// Nobody ever places a finger: captures time out.
    NoFinger,
    /// The image transfer of capture attempt `n` (0-based) stalls halfway (a USB stall, a
    /// finger lifted too early): that capture fails with [`DeviceError::Timeout`] once the
    /// caller's timeout has passed; the scanner stays usable.
    StallDuringCapture(u32),
}

enum Source {
    /// Synthetic fingers of one simulated person; `sequence` lists the finger positions (0–9)
    /// presented in turn.
    Synthetic { subject: u64, sequence: Vec<u8> },
    /// Images from a folder, in file-name order.
    Folder { files: Vec<PathBuf> },
}

/// The simulated scanner.
pub struct SimulatedScanner {
    source: Source,
    spec: ImageSpec,
    timing: ScanTiming,
    fault: Option<InjectedFault>,
    captures: u32,
    /// Calls to `capture`, successful or not: injected faults are keyed by attempt.
    attempts: u32,
    closed: bool,
    unplugged: bool,
    /// Master prints already grown, by finger: a retake of the same finger (a quality retry)
    /// then costs only the impression.
    masters: HashMap<FingerSeed, synthesis::MasterPrint>,
}

const SYNTHETIC_SPEC: ImageSpec = ImageSpec {
    width: synthesis::WIDTH,
    height: synthesis::HEIGHT,
    dpi: synthesis::DPI,
};

impl SimulatedScanner {
    /// Presents the fingers of simulated person `subject`, in the order of `sequence` (finger
    /// positions 0–9), cycling when it runs out. Each placement is a new impression.
    pub fn synthetic(subject: u64, sequence: Vec<u8>) -> Self {
        let sequence = if sequence.is_empty() {
            (0..10).collect()
        } else {
            sequence
        };
        Self::with_source(Source::Synthetic { subject, sequence }, SYNTHETIC_SPEC)
    }

    fn with_source(source: Source, spec: ImageSpec) -> Self {
        Self {
            source,
            spec,
            timing: ScanTiming::REALISTIC,
            fault: None,
            captures: 0,
            attempts: 0,
            closed: false,
            unplugged: false,
            masters: HashMap::new(),
        }
    }

    /// Switches to another simulated person (or another finger order) without reopening, as
    /// when the next person in the queue steps up; the capture count restarts, so the first
    /// placement of each finger is impression 0 again. Ignored for folder sources.
    pub fn set_subject(&mut self, subject: u64, sequence: Vec<u8>) {
        if let Source::Synthetic { .. } = self.source {
            let sequence = if sequence.is_empty() {
                (0..10).collect()
            } else {
                sequence
            };
            self.source = Source::Synthetic { subject, sequence };
            self.captures = 0;
            self.attempts = 0;
            self.masters.clear();
        }
    }

    /// Sets the resolution reported for folder images (FVC2002 DB2 is 569 dpi, most others 500).
    pub fn with_dpi(mut self, dpi: u32) -> Self {
        if let Source::Folder { .. } = self.source {
            self.spec.dpi = dpi;
        }
        self
    }

    /// Captures completed so far.
    pub fn captures(&self) -> u32 {
        self.captures
    }

    /// Presents the PNG/TIFF/BMP/JPEG images of `dir` in file-name order, cycling.
    pub fn from_folder(dir: &Path) -> Result<Self> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.extension().and_then(|e| e.to_str()).is_some_and(|e| {
                    matches!(
                        e.to_ascii_lowercase().as_str(),
                        "png" | "tif" | "tiff" | "bmp" | "jpg" | "jpeg" | "pgm"
                    )
                })
            })
            .collect();
        files.sort();
        let first = files.first().ok_or_else(|| {
            DeviceError::NotFound(format!("no fingerprint images in {}", dir.display()))
        })?;
        let (width, height) = image::image_dimensions(first)
            .map_err(|e| DeviceError::Device(format!("cannot read {}: {e}", first.display())))?;
        Ok(Self::with_source(
            Source::Folder { files },
            ImageSpec {
                width,
                height,
                dpi: synthesis::DPI,
            },
        ))
    }

    /// Changes the capture timing.
    pub fn with_timing(mut self, timing: ScanTiming) -> Self {
        self.timing = timing;
        self
    }

    /// Injects a fault.
    pub fn with_fault(mut self, fault: InjectedFault) -> Self {
        self.fault = Some(fault);
        self
    }

    fn next_image(&mut self) -> Result<GrayImage> {
        let n = self.captures;
        match &self.source {
            Source::Synthetic { subject, sequence } => {
                let finger = sequence[n as usize % sequence.len()];
                let round = n / sequence.len() as u32;
                let seed = FingerSeed {
                    subject: *subject,
                    finger,
                };
                let master = self
                    .masters
                    .entry(seed)
                    .or_insert_with(|| synthesis::master(seed));
                Ok(master.impression(&synthesis::Impression::random(seed, round), seed, round))
            }
            Source::Folder { files } => {
                let path = &files[n as usize % files.len()];
                let img = image::open(path)
                    .map_err(|e| {
                        DeviceError::Device(format!("cannot read {}: {e}", path.display()))
                    })?
                    .to_luma8();
                let (w, h) = img.dimensions();
                Ok(GrayImage {
                    width: w,
                    height: h,
                    dpi: self.spec.dpi,
                    pixels: img.into_raw(),
                })
            }
        }
    }
}

impl FingerprintScanner for SimulatedScanner {
    fn info(&self) -> DeviceInfo {
        let (id, name) = match &self.source {
            Source::Synthetic { subject, .. } => (
                format!("sim:finger:{subject}"),
                "Simulated optical scanner (synthetic fingers)".to_owned(),
            ),
            Source::Folder { files } => (
                format!(
                    "sim:folder:{}",
                    files[0]
                        .parent()
                        .map(|p| p.display().to_string())
                        .unwrap_or_default()
                ),
                "Simulated scanner (image folder)".to_owned(),
            ),
        };
        DeviceInfo {
            id,
            name,
            kind: DeviceKind::FingerprintScanner,
            driver: "simulated".into(),
        }
    }

    fn image_spec(&self) -> ImageSpec {
        self.spec
    }

    fn wait_for_finger(&mut self, timeout: Duration) -> Result<()> {
        if self.unplugged {
            return Err(DeviceError::Disconnected(self.info().id));
        }
        if self.closed {
            return Err(DeviceError::InvalidState("the scanner is closed"));
        }
        if self.fault == Some(InjectedFault::NoFinger) || self.timing.placement > timeout {
            std::thread::sleep(timeout);
            return Err(DeviceError::Timeout(timeout, "a finger on the scanner"));
        }
        std::thread::sleep(self.timing.placement);
        Ok(())
    }

    fn capture(
        &mut self,
        timeout: Duration,
        events: &mut dyn FnMut(ScanEvent),
    ) -> Result<GrayImage> {
        let attempt = self.attempts;
        self.attempts += 1;
        events(ScanEvent::AwaitingFinger);
        self.wait_for_finger(timeout)?;
        events(ScanEvent::FingerPresent);
        let step = self.timing.transfer / 4;
        for (i, percent) in [0u8, 25, 50, 75].into_iter().enumerate() {
            events(ScanEvent::Progress { percent });
            if i == 2 && self.fault == Some(InjectedFault::UnplugDuringCapture(attempt)) {
                self.unplugged = true;
                return Err(DeviceError::Disconnected(self.info().id));
            }
            if i == 2 && self.fault == Some(InjectedFault::StallDuringCapture(attempt)) {
                // The transfer never completes; the caller gives up at its deadline. The next
                // attempt presents the same finger again.
                std::thread::sleep(timeout.saturating_sub(self.timing.placement + step * 2));
                return Err(DeviceError::Timeout(timeout, "the image transfer"));
            }
            std::thread::sleep(step);
        }
        let image = self.next_image()?;
        events(ScanEvent::Progress { percent: 100 });
        events(ScanEvent::FingerRemoved);
        self.captures += 1;
        Ok(image)
    }

    fn close(&mut self) -> Result<()> {
        self.closed = true;
        Ok(())
    }
}
