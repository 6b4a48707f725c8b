//! Webcams through `nokhwa` (V4L2 on Linux, AVFoundation on macOS, Media Foundation on Windows).
//!
//! The driver enumerates cameras, picks a format with [`negotiate_format`] (prefer 640×480,
//! then 1280×720, MJPEG or YUYV, near 30 fps — what the face pipeline is tuned for and what
//! every UVC camera offers), and converts each frame to RGB itself with [`super::convert`], so
//! that the conversion code is the same tested code whatever the backend delivers. A machine
//! without cameras simply lists none; nothing here panics when `/dev/video*` is absent.

use std::sync::mpsc;
use std::time::{Duration, Instant};

use nokhwa::pixel_format::RgbFormat;
use nokhwa::utils::{
    ApiBackend, CameraFormat, CameraIndex, RequestedFormat, RequestedFormatType, Resolution,
};

use super::convert::{self, YuvRange};
use crate::{
    Camera, DeviceError, DeviceInfo, DeviceKind, FrameEncoding, FrameFormat, Result, RgbFrame,
};

/// Prefix of webcam device ids.
pub const ID_PREFIX: &str = "camera:";

fn nokhwa_error(context: &str, e: nokhwa::NokhwaError) -> DeviceError {
    let text = e.to_string();
    if text.contains("Permission denied") || text.contains("EACCES") {
        DeviceError::PermissionDenied {
            device: context.to_owned(),
            hint: "add the user to the `video` group".into(),
        }
    } else {
        DeviceError::Device(format!("{context}: {text}"))
    }
}

fn index_id(index: &CameraIndex) -> String {
    match index {
        CameraIndex::Index(n) if cfg!(target_os = "linux") => format!("{ID_PREFIX}/dev/video{n}"),
        CameraIndex::Index(n) => format!("{ID_PREFIX}{n}"),
        CameraIndex::String(s) => format!("{ID_PREFIX}{s}"),
    }
}

/// Parses `camera:/dev/videoN`, `camera:N` or `camera:<backend string>` back to an index.
pub fn parse_id(id: &str) -> Result<CameraIndex> {
    let rest = id
        .strip_prefix(ID_PREFIX)
        .ok_or_else(|| DeviceError::NotFound(id.to_owned()))?;
    let number = rest.strip_prefix("/dev/video").unwrap_or(rest);
    Ok(match number.parse::<u32>() {
        Ok(n) => CameraIndex::Index(n),
        Err(_) if !rest.is_empty() => CameraIndex::String(rest.to_owned()),
        Err(_) => return Err(DeviceError::NotFound(id.to_owned())),
    })
}

/// Lists the webcams the OS reports. An OS without camera support, or a machine without any,
/// gives an empty list; only a failing camera subsystem is an error.
pub fn list_webcams() -> Result<Vec<DeviceInfo>> {
    let cameras = match nokhwa::query(ApiBackend::Auto) {
        Ok(c) => c,
        // No backend for this platform: no cameras rather than an error.
        Err(nokhwa::NokhwaError::UnsupportedOperationError(_)) => return Ok(Vec::new()),
        Err(e) => return Err(nokhwa_error("listing cameras", e)),
    };
    Ok(cameras
        .into_iter()
        .map(|c| DeviceInfo {
            id: index_id(c.index()),
            name: c.human_name(),
            kind: DeviceKind::Camera,
            driver: "nokhwa".into(),
        })
        .collect())
}

fn encoding_of(f: nokhwa::utils::FrameFormat) -> Option<FrameEncoding> {
    use nokhwa::utils::FrameFormat as N;
    match f {
        N::MJPEG => Some(FrameEncoding::Mjpeg),
        N::YUYV => Some(FrameEncoding::Yuyv),
        N::GRAY => Some(FrameEncoding::Gray),
        N::RAWRGB => Some(FrameEncoding::Rgb),
        // NV12 and BGR have no `FrameEncoding` to request them by; every UVC camera also
        // offers YUYV or MJPEG, so they are left out of the offered list.
        N::NV12 | N::RAWBGR => None,
    }
}

fn nokhwa_format(f: FrameEncoding) -> nokhwa::utils::FrameFormat {
    use nokhwa::utils::FrameFormat as N;
    match f {
        FrameEncoding::Mjpeg => N::MJPEG,
        FrameEncoding::Yuyv => N::YUYV,
        FrameEncoding::Gray => N::GRAY,
        FrameEncoding::Rgb => N::RAWRGB,
    }
}

/// Picks the format to stream from what a camera offers, or `None` when it offers nothing.
///
/// Preference, in order: a preferred size (640×480 first — enough for ISO 19794-5 face crops at
/// arm's length and cheap to process — then 1280×720); then the frame rate closest to 30 fps
/// (liveness needs motion sampling, more costs CPU); then MJPEG over YUYV (YUYV at 720p exceeds
/// USB 2.0 bandwidth at 30 fps, MJPEG does not); failing a preferred size, the smallest size of
/// at least 640×480, then the largest smaller one.
pub fn negotiate_format(offered: &[FrameFormat]) -> Option<FrameFormat> {
    const PREFERRED: [(u32, u32); 2] = [(640, 480), (1280, 720)];
    let size_rank = |f: &FrameFormat| -> (u32, u64) {
        if let Some(i) = PREFERRED.iter().position(|&s| s == (f.width, f.height)) {
            return (0, i as u64);
        }
        let area = f.width as u64 * f.height as u64;
        if f.width >= 640 && f.height >= 480 {
            (1, area)
        } else {
            (2, u64::MAX - area)
        }
    };
    let encoding_rank = |e: FrameEncoding| match e {
        FrameEncoding::Mjpeg => 0,
        FrameEncoding::Yuyv => 1,
        FrameEncoding::Rgb => 2,
        FrameEncoding::Gray => 3,
    };
    offered.iter().copied().min_by_key(|f| {
        (
            size_rank(f),
            (f.fps as i64 - 30).unsigned_abs(),
            encoding_rank(f.encoding),
        )
    })
}

/// A raw frame as the camera sent it, moved from the capture thread to the caller.
struct RawFrame {
    width: u32,
    height: u32,
    format: nokhwa::utils::FrameFormat,
    data: Vec<u8>,
}

enum Command {
    Start(FrameFormat, mpsc::Sender<Result<()>>),
    Stop(mpsc::Sender<Result<()>>),
}

/// A webcam opened through nokhwa.
///
/// nokhwa's camera handle is not `Send`, while the station moves devices onto blocking threads,
/// so the handle lives on a capture thread of its own: it is opened, streamed and dropped
/// there, and raw frames come back over a one-slot channel (a consumer slower than the camera
/// gets the newest frame the slot holds, not a growing backlog). This also gives
/// [`Camera::next_frame`] a real timeout, which a blocking V4L2 read does not have.
pub struct Webcam {
    id: String,
    name: String,
    formats: Vec<FrameFormat>,
    commands: Option<mpsc::Sender<Command>>,
    frames: mpsc::Receiver<Result<RawFrame>>,
    streaming: Option<(FrameFormat, Instant)>,
    sequence: u64,
    worker: Option<std::thread::JoinHandle<()>>,
}

/// The capture thread: owns the nokhwa camera from open to drop.
fn capture_thread(
    id: String,
    index: CameraIndex,
    opened: mpsc::Sender<Result<(String, Vec<FrameFormat>)>>,
    commands: mpsc::Receiver<Command>,
    frames: mpsc::SyncSender<Result<RawFrame>>,
) {
    let requested = RequestedFormat::new::<RgbFormat>(RequestedFormatType::None);
    let mut camera = match nokhwa::Camera::new(index, requested) {
        Ok(c) => c,
        Err(nokhwa::NokhwaError::OpenDeviceError(..)) => {
            let _ = opened.send(Err(DeviceError::NotFound(id)));
            return;
        }
        Err(e) => {
            let _ = opened.send(Err(nokhwa_error(&id, e)));
            return;
        }
    };
    let formats = match camera.compatible_camera_formats() {
        Ok(list) => list
            .into_iter()
            .filter_map(|f| {
                Some(FrameFormat {
                    width: f.width(),
                    height: f.height(),
                    fps: f.frame_rate(),
                    encoding: encoding_of(f.format())?,
                })
            })
            .collect(),
        Err(e) => {
            let _ = opened.send(Err(nokhwa_error(&id, e)));
            return;
        }
    };
    if opened
        .send(Ok((camera.info().human_name(), formats)))
        .is_err()
    {
        return;
    }
    let mut streaming = false;
    loop {
        // While streaming, poll for commands between frames; otherwise block on them.
        let command = if streaming {
            match commands.try_recv() {
                Ok(c) => Some(c),
                Err(mpsc::TryRecvError::Empty) => None,
                Err(mpsc::TryRecvError::Disconnected) => break,
            }
        } else {
            match commands.recv() {
                Ok(c) => Some(c),
                Err(_) => break,
            }
        };
        match command {
            Some(Command::Start(format, reply)) => {
                let cf = CameraFormat::new(
                    Resolution::new(format.width, format.height),
                    nokhwa_format(format.encoding),
                    format.fps,
                );
                let result = camera
                    .set_camera_requset(RequestedFormat::new::<RgbFormat>(
                        RequestedFormatType::Exact(cf),
                    ))
                    .and_then(|_| camera.open_stream())
                    .map_err(|e| nokhwa_error(&id, e));
                streaming = result.is_ok();
                let _ = reply.send(result);
            }
            Some(Command::Stop(reply)) => {
                streaming = false;
                let _ = reply.send(camera.stop_stream().map_err(|e| nokhwa_error(&id, e)));
            }
            None => {
                let frame = camera.frame().map(|b| {
                    let res = b.resolution();
                    RawFrame {
                        width: res.width(),
                        height: res.height(),
                        format: b.source_frame_format(),
                        data: b.buffer().to_vec(),
                    }
                });
                let frame = frame.map_err(|e| match e {
                    nokhwa::NokhwaError::ReadFrameError(msg) if msg.contains("No such device") => {
                        DeviceError::Disconnected(id.clone())
                    }
                    other => nokhwa_error(&id, other),
                });
                let failed = frame.is_err();
                match frames.try_send(frame) {
                    Ok(()) | Err(mpsc::TrySendError::Full(_)) => {}
                    Err(mpsc::TrySendError::Disconnected(_)) => break,
                }
                if failed {
                    // The error has been reported; stop reading from a broken stream.
                    streaming = false;
                }
            }
        }
    }
    if streaming {
        let _ = camera.stop_stream();
    }
}

impl Webcam {
    /// Opens the camera with id `camera:...` (as listed by [`list_webcams`]) and reads the
    /// formats it offers.
    pub fn open(id: &str) -> Result<Self> {
        let index = parse_id(id)?;
        let (opened_tx, opened_rx) = mpsc::channel();
        let (command_tx, command_rx) = mpsc::channel();
        let (frame_tx, frame_rx) = mpsc::sync_channel(1);
        let thread_id = id.to_owned();
        let worker = std::thread::Builder::new()
            .name(format!("webcam {id}"))
            .spawn(move || capture_thread(thread_id, index, opened_tx, command_rx, frame_tx))?;
        let (name, formats) = opened_rx
            .recv()
            .map_err(|_| DeviceError::Device(format!("{id}: capture thread ended")))??;
        Ok(Self {
            id: id.to_owned(),
            name,
            formats,
            commands: Some(command_tx),
            frames: frame_rx,
            streaming: None,
            sequence: 0,
            worker: Some(worker),
        })
    }

    /// Opens the camera and starts it in the negotiated format.
    pub fn open_negotiated(id: &str) -> Result<Self> {
        let mut cam = Self::open(id)?;
        let format = negotiate_format(&cam.formats()?)
            .ok_or_else(|| DeviceError::Device(format!("{id} offers no usable format")))?;
        cam.start(format)?;
        Ok(cam)
    }

    fn command(&self, make: impl FnOnce(mpsc::Sender<Result<()>>) -> Command) -> Result<()> {
        let (tx, rx) = mpsc::channel();
        let gone = || DeviceError::Disconnected(self.id.clone());
        self.commands
            .as_ref()
            .ok_or_else(gone)?
            .send(make(tx))
            .map_err(|_| gone())?;
        rx.recv().map_err(|_| gone())?
    }

    fn convert(&self, format: &FrameFormat, raw: &RawFrame) -> Result<Vec<u8>> {
        use nokhwa::utils::FrameFormat as N;
        let (w, h) = (raw.width, raw.height);
        if (w, h) != (format.width, format.height) {
            return Err(DeviceError::Protocol(format!(
                "camera sent {w}x{h}, negotiated {}x{}",
                format.width, format.height
            )));
        }
        let data = &raw.data;
        match raw.format {
            N::MJPEG => {
                let (jw, jh, rgb) = convert::mjpeg_to_rgb(data)?;
                if (jw, jh) != (w, h) {
                    return Err(DeviceError::Protocol(format!(
                        "MJPEG frame is {jw}x{jh}, negotiated {w}x{h}"
                    )));
                }
                Ok(rgb)
            }
            N::YUYV => convert::yuyv_to_rgb(w, h, data, YuvRange::Limited),
            N::NV12 => convert::nv12_to_rgb(w, h, data, YuvRange::Limited),
            N::GRAY => convert::gray_to_rgb(w, h, data),
            N::RAWBGR => convert::bgr_to_rgb(w, h, data),
            N::RAWRGB => {
                if data.len() as u64 != w as u64 * h as u64 * 3 {
                    return Err(DeviceError::Protocol(format!(
                        "RGB frame has {} bytes",
                        data.len()
                    )));
                }
                Ok(data.clone())
            }
        }
    }
}

impl Drop for Webcam {
    fn drop(&mut self) {
        // Closing the command channel ends the capture thread, which stops the stream.
        self.commands = None;
        if let Some(worker) = self.worker.take() {
            // Unblock a capture thread waiting for the frame slot.
            while self.frames.try_recv().is_ok() {}
            let _ = worker.join();
        }
    }
}

impl Camera for Webcam {
    fn info(&self) -> DeviceInfo {
        DeviceInfo {
            id: self.id.clone(),
            name: self.name.clone(),
            kind: DeviceKind::Camera,
            driver: "nokhwa".into(),
        }
    }

    fn formats(&self) -> Result<Vec<FrameFormat>> {
        Ok(self.formats.clone())
    }

    fn start(&mut self, format: FrameFormat) -> Result<()> {
        if self.streaming.is_some() {
            return Err(DeviceError::InvalidState("the camera is already streaming"));
        }
        self.command(|reply| Command::Start(format, reply))?;
        self.streaming = Some((format, Instant::now()));
        self.sequence = 0;
        Ok(())
    }

    fn next_frame(&mut self, timeout: Duration) -> Result<RgbFrame> {
        let (format, started) = self
            .streaming
            .ok_or(DeviceError::InvalidState("next_frame before start"))?;
        let raw = match self.frames.recv_timeout(timeout) {
            Ok(frame) => frame?,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                return Err(DeviceError::Timeout(timeout, "a camera frame"))
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                return Err(DeviceError::Disconnected(self.id.clone()))
            }
        };
        let rgb = self.convert(&format, &raw)?;
        let frame = RgbFrame {
            width: format.width,
            height: format.height,
            rgb,
            sequence: self.sequence,
            timestamp: started.elapsed(),
        };
        self.sequence += 1;
        Ok(frame)
    }

    fn stop(&mut self) -> Result<()> {
        if self.streaming.take().is_some() {
            self.command(Command::Stop)?;
            // Drop a frame read before the stop, so a restart does not return a stale one.
            while self.frames.try_recv().is_ok() {}
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(width: u32, height: u32, fps: u32, encoding: FrameEncoding) -> FrameFormat {
        FrameFormat {
            width,
            height,
            fps,
            encoding,
        }
    }

    #[test]
    fn negotiation_prefers_vga_near_30_fps_and_mjpeg() {
        use FrameEncoding::*;
        let offered = [
            f(1920, 1080, 30, Mjpeg),
            f(1280, 720, 30, Mjpeg),
            f(640, 480, 30, Yuyv),
            f(640, 480, 30, Mjpeg),
            f(640, 480, 60, Mjpeg),
            f(320, 240, 30, Yuyv),
        ];
        assert_eq!(negotiate_format(&offered), Some(f(640, 480, 30, Mjpeg)));
        // Without VGA, 720p; without either, the smallest size of at least VGA.
        assert_eq!(
            negotiate_format(&offered[..2]),
            Some(f(1280, 720, 30, Mjpeg))
        );
        assert_eq!(
            negotiate_format(&[
                f(1920, 1080, 30, Yuyv),
                f(800, 600, 15, Yuyv),
                f(320, 240, 30, Mjpeg)
            ]),
            Some(f(800, 600, 15, Yuyv))
        );
        // Only small sizes: the largest of them.
        assert_eq!(
            negotiate_format(&[f(160, 120, 30, Yuyv), f(320, 240, 30, Yuyv)]),
            Some(f(320, 240, 30, Yuyv))
        );
        assert_eq!(negotiate_format(&[]), None);
    }

    #[test]
    fn ids_round_trip() {
        assert!(matches!(
            parse_id("camera:/dev/video2"),
            Ok(CameraIndex::Index(2))
        ));
        assert!(matches!(parse_id("camera:3"), Ok(CameraIndex::Index(3))));
        assert!(
            matches!(parse_id("camera:0x1234-usb"), Ok(CameraIndex::String(ref s)) if s == "0x1234-usb")
        );
        assert!(matches!(parse_id("camera:"), Err(DeviceError::NotFound(_))));
        assert!(matches!(
            parse_id("sim:camera"),
            Err(DeviceError::NotFound(_))
        ));
        let id = index_id(&CameraIndex::Index(2));
        assert!(matches!(parse_id(&id), Ok(CameraIndex::Index(2))), "{id}");
    }
}
