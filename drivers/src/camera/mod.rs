//! Cameras: real webcams through `nokhwa`, and file sources (a folder of still frames or a
//! `.y4m` video) that stand in for a webcam in tests, demos and offline evaluations.
//!
//! Every camera hands out RGB frames ([`crate::RgbFrame`]) whatever its wire format, so the face
//! pipeline above never deals with MJPEG, YUYV or chroma subsampling. The pixel conversions live
//! in [`convert`] and are shared by the webcam driver and the y4m reader, which keeps one tested
//! implementation of each colour transform.
//!
//! The simulated camera (a synthetic live subject) lives in [`crate::simulated::camera`].

pub mod convert;
pub mod file;
pub mod webcam;
pub mod y4m;

pub use file::FileCamera;
pub use webcam::{list_webcams, negotiate_format, Webcam};
pub use y4m::{Colorspace, Y4mHeader, Y4mReader};

use std::time::{Duration, Instant};

use crate::{DeviceError, Result};

/// Paces a stream at a fixed frame rate: frame `n` is due `n / fps` after the start.
///
/// File sources and the simulated camera would otherwise deliver frames as fast as they can be
/// decoded, which hides timing bugs (liveness checks, autocapture timeouts) that a real 30 fps
/// webcam exposes. Deadlines are computed from the start rather than from the previous frame, so
/// a slow consumer does not accumulate drift.
#[derive(Debug, Clone)]
pub struct FramePacer {
    started: Instant,
    /// Frame rate as a fraction, so that due times are exact integers of nanoseconds.
    num: u32,
    den: u32,
}

impl FramePacer {
    /// Starts the clock now; `fps` of 0 is treated as 1 so that a bad header cannot divide by 0.
    pub fn start(fps: u32) -> Self {
        Self::start_fractional(fps.max(1), 1)
    }

    /// Starts the clock for a frame rate of `num / den` frames per second (y4m headers store
    /// rates such as 30000:1001). A zero numerator or denominator falls back to 1.
    pub fn start_fractional(num: u32, den: u32) -> Self {
        Self {
            started: Instant::now(),
            num: num.max(1),
            den: den.max(1),
        }
    }

    /// When frame `sequence` is due, measured from the start.
    pub fn due(&self, sequence: u64) -> Duration {
        let nanos = sequence as u128 * self.den as u128 * 1_000_000_000 / self.num as u128;
        Duration::from_nanos(nanos.min(u64::MAX as u128) as u64)
    }

    /// Time since the stream started.
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// Sleeps until frame `sequence` is due and returns its timestamp; fails with
    /// [`DeviceError::Timeout`] (after sleeping `timeout`) when the frame is due later than
    /// `timeout` from now, as a camera that does not deliver within the caller's patience would.
    pub fn wait_for(&self, sequence: u64, timeout: Duration) -> Result<Duration> {
        let due = self.due(sequence);
        let now = self.started.elapsed();
        if due > now {
            let wait = due - now;
            if wait > timeout {
                std::thread::sleep(timeout);
                return Err(DeviceError::Timeout(timeout, "a camera frame"));
            }
            std::thread::sleep(wait);
        }
        Ok(due)
    }
}
