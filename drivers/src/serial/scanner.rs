//! [`R30xScanner`]: an R30x module behind the station's [`FingerprintScanner`] trait.
//!
//! The module has no "finger arrived" interrupt on its UART, so presence is found the way every
//! host library does it: poll GenImg until it stops answering "no finger". The image captured by
//! that GenImg is then uploaded with UpImage, and GenImg is polled again until the finger is gone,
//! so the UI can say "lift your finger" at the right moment.

use std::time::{Duration, Instant};

use super::client::{R30x, R30xError};
use super::link::SerialLink;
use super::protocol::{unpack_4bit, ConfirmationCode, SystemParameters, IMAGE_DPI, IMAGE_HEIGHT, IMAGE_WIDTH, PACKED_IMAGE_LEN};
use crate::{DeviceError, DeviceInfo, DeviceKind, FingerprintScanner, GrayImage, ImageSpec, Result, ScanEvent};

/// Driver name in [`DeviceInfo::driver`].
pub const DRIVER_NAME: &str = "r30x";

/// Pacing of the GenImg polls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PollSettings {
    /// Pause between two GenImg polls. Real modules take 100–500 ms per GenImg themselves, so a
    /// short pause keeps latency low without flooding the UART.
    pub interval: Duration,
    /// How long to wait for the finger to leave after the upload before returning the image
    /// anyway (without a `FingerRemoved` event). The image is good either way.
    pub removal_timeout: Duration,
}

impl Default for PollSettings {
    fn default() -> Self {
        PollSettings { interval: Duration::from_millis(20), removal_timeout: Duration::from_secs(5) }
    }
}

/// An R30x / AS608 / ZFM sensor as a [`FingerprintScanner`].
pub struct R30xScanner<L: SerialLink> {
    client: Option<R30x<L>>,
    params: SystemParameters,
    id: String,
    poll: PollSettings,
}

impl<L: SerialLink> std::fmt::Debug for R30xScanner<L> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("R30xScanner").field("id", &self.id).field("params", &self.params).finish()
    }
}

impl<L: SerialLink> R30xScanner<L> {
    /// Wraps a client whose handshake already succeeded (`params` is its answer). `id` is the
    /// device id reported by [`FingerprintScanner::info`], e.g. `serial:/dev/ttyUSB0`.
    pub fn new(client: R30x<L>, params: SystemParameters, id: String) -> Self {
        R30xScanner { client: Some(client), params, id, poll: PollSettings::default() }
    }

    /// Handshakes over `link` (VfyPwd + ReadSysPara) and wraps the client.
    pub fn connect(mut client: R30x<L>, id: String) -> Result<Self> {
        let params = client.handshake()?;
        Ok(Self::new(client, params, id))
    }

    /// Changes the poll pacing.
    pub fn with_poll_settings(mut self, poll: PollSettings) -> Self {
        self.poll = poll;
        self
    }

    /// The module's system parameters read at connection time.
    pub fn system_parameters(&self) -> SystemParameters {
        self.params
    }

    /// Direct access to the command client (enroll/search flows on the module itself).
    pub fn client(&mut self) -> Result<&mut R30x<L>> {
        self.client.as_mut().ok_or(DeviceError::InvalidState("scanner is closed"))
    }

    /// Closes the scanner and hands back the client (to read a recording out of its link).
    pub fn into_client(mut self) -> Option<R30x<L>> {
        self.client.take()
    }

    /// Polls GenImg until it reports `want_finger` (success when true, "no finger" when false),
    /// or `timeout` passes. Returns whether the state was reached.
    fn poll_gen_img(&mut self, want_finger: bool, timeout: Duration) -> Result<bool> {
        let interval = self.poll.interval;
        let client = self.client()?;
        let deadline = Instant::now() + timeout;
        loop {
            let reached = match client.gen_img() {
                Ok(()) => want_finger,
                Err(R30xError::Rejected { code: ConfirmationCode::NoFinger, .. }) => !want_finger,
                // 0x03: the module saw something but could not take an image (finger moving,
                // too wet or dry): a finger is there, but there is no image yet. Poll again.
                Err(R30xError::Rejected { code: ConfirmationCode::EnrollFailed, .. }) => false,
                Err(e) => return Err(e.into()),
            };
            if reached {
                return Ok(true);
            }
            let now = Instant::now();
            if now >= deadline {
                return Ok(false);
            }
            std::thread::sleep(interval.min(deadline - now));
        }
    }
}

impl<L: SerialLink> FingerprintScanner for R30xScanner<L> {
    fn info(&self) -> DeviceInfo {
        DeviceInfo {
            id: self.id.clone(),
            name: format!("R30x/AS608 optical sensor (system id 0x{:04X}, {} templates)", self.params.system_id, self.params.library_size),
            kind: DeviceKind::FingerprintScanner,
            driver: DRIVER_NAME.into(),
        }
    }

    fn image_spec(&self) -> ImageSpec {
        ImageSpec { width: IMAGE_WIDTH, height: IMAGE_HEIGHT, dpi: IMAGE_DPI }
    }

    fn wait_for_finger(&mut self, timeout: Duration) -> Result<()> {
        if self.poll_gen_img(true, timeout)? {
            Ok(())
        } else {
            Err(DeviceError::Timeout(timeout, "a finger on the R30x sensor"))
        }
    }

    fn capture(&mut self, timeout: Duration, events: &mut dyn FnMut(ScanEvent)) -> Result<GrayImage> {
        events(ScanEvent::AwaitingFinger);
        // The successful GenImg inside wait_for_finger left the image in the module's buffer.
        self.wait_for_finger(timeout)?;
        events(ScanEvent::FingerPresent);
        events(ScanEvent::Progress { percent: 0 });
        let mut last = 0u8;
        let packed = self.client()?.up_image(&mut |got| {
            let percent = (got * 100 / PACKED_IMAGE_LEN) as u8;
            if percent != last {
                last = percent;
                events(ScanEvent::Progress { percent });
            }
        })?;
        let image = GrayImage::new(IMAGE_WIDTH, IMAGE_HEIGHT, IMAGE_DPI, unpack_4bit(&packed)).expect("UpImage length checked by the client");
        if self.poll_gen_img(false, self.poll.removal_timeout)? {
            events(ScanEvent::FingerRemoved);
        }
        Ok(image)
    }

    fn close(&mut self) -> Result<()> {
        self.client = None;
        Ok(())
    }
}
