//! Capture sessions: drive a fingerprint scanner and a camera through the `drivers` traits and
//! turn what they deliver into queue-ready images.
//!
//! Blocking on purpose (devices are blocking); async callers run these on a blocking thread.

use std::io::Cursor;
use std::time::Duration;

use drivers::{Camera, DeviceError, FingerprintScanner, FrameFormat, GrayImage, RgbFrame, ScanEvent};
use wire::BiometricIndex;

use crate::queue::CapturedImage;

/// Why a capture could not be completed.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    #[error("{position}: {source}")]
    Device { position: String, source: DeviceError },
    #[error("cannot encode the {0} image: {1}")]
    Encode(String, String),
    #[error("the camera offers no usable format")]
    NoFormat,
    #[error("face pipeline: {0}")]
    Face(String),
}

/// Encodes a greyscale device image as PNG (lossless: fingerprints must not be JPEG-compressed).
pub fn png_from_gray(img: &GrayImage) -> Result<Vec<u8>, String> {
    let buffer = image::GrayImage::from_raw(img.width, img.height, img.pixels.clone())
        .ok_or_else(|| format!("buffer of {} bytes does not fit {}x{}", img.pixels.len(), img.width, img.height))?;
    let mut out = Cursor::new(Vec::new());
    buffer.write_to(&mut out, image::ImageFormat::Png).map_err(|e| e.to_string())?;
    Ok(out.into_inner())
}

/// Encodes an RGB camera frame as PNG.
pub fn png_from_rgb(frame: &RgbFrame) -> Result<Vec<u8>, String> {
    let buffer = image::RgbImage::from_raw(frame.width, frame.height, frame.rgb.clone())
        .ok_or_else(|| format!("buffer of {} bytes does not fit {}x{}x3", frame.rgb.len(), frame.width, frame.height))?;
    let mut out = Cursor::new(Vec::new());
    buffer.write_to(&mut out, image::ImageFormat::Png).map_err(|e| e.to_string())?;
    Ok(out.into_inner())
}

/// Captures each finger in `positions`, one placement each, reporting scanner events with the
/// position they belong to.
pub fn capture_fingers(
    scanner: &mut dyn FingerprintScanner,
    positions: &[BiometricIndex],
    timeout: Duration,
    mut on_event: impl FnMut(BiometricIndex, &ScanEvent),
) -> Result<Vec<(BiometricIndex, GrayImage)>, CaptureError> {
    let mut images = Vec::with_capacity(positions.len());
    for &position in positions {
        let image = scanner
            .capture(timeout, &mut |event| on_event(position, &event))
            .map_err(|source| CaptureError::Device { position: position.label().to_owned(), source })?;
        images.push((position, image));
    }
    Ok(images)
}

/// Turns captured finger images into queue images (PNG, with the scanner's resolution).
pub fn finger_images(captures: &[(BiometricIndex, GrayImage)]) -> Result<Vec<CapturedImage>, CaptureError> {
    captures
        .iter()
        .map(|(index, img)| {
            Ok(CapturedImage {
                index: *index,
                width: img.width,
                height: img.height,
                resolution: Some(img.dpi),
                bytes: png_from_gray(img).map_err(|e| CaptureError::Encode(index.label().into(), e))?,
            })
        })
        .collect()
}

/// Picks the camera format closest to 640×480 (the face pipeline's working size).
pub fn preferred_format(formats: &[FrameFormat]) -> Option<FrameFormat> {
    formats.iter().copied().min_by_key(|f| (f.width as i64 - 640).abs() + (f.height as i64 - 480).abs())
}

/// Streams `frames` frames from `camera` and hands each to `choose`, which returns a score for
/// frames good enough to keep; the best-scoring frame wins. Stops early when `choose` says the
/// capture is complete.
pub fn capture_face(
    camera: &mut dyn Camera,
    frames: usize,
    timeout: Duration,
    mut choose: impl FnMut(&RgbFrame) -> FrameVerdict,
) -> Result<Option<RgbFrame>, CaptureError> {
    let device = |source| CaptureError::Device { position: BiometricIndex::Face.label().to_owned(), source };
    let format = preferred_format(&camera.formats().map_err(device)?).ok_or(CaptureError::NoFormat)?;
    camera.start(format).map_err(device)?;
    let mut best: Option<(f32, RgbFrame)> = None;
    let mut outcome = Ok(());
    for _ in 0..frames {
        let frame = match camera.next_frame(timeout) {
            Ok(f) => f,
            Err(e) => {
                outcome = Err(device(e));
                break;
            }
        };
        match choose(&frame) {
            FrameVerdict::Skip => {}
            FrameVerdict::Keep(score) => {
                if best.as_ref().is_none_or(|(s, _)| score > *s) {
                    best = Some((score, frame));
                }
            }
            FrameVerdict::Done(score) => {
                if best.as_ref().is_none_or(|(s, _)| score > *s) {
                    best = Some((score, frame));
                }
                break;
            }
        }
    }
    let stopped = camera.stop().map_err(device);
    outcome?;
    stopped?;
    Ok(best.map(|(_, f)| f))
}

/// What the face chooser thinks of one frame.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FrameVerdict {
    /// Not usable.
    Skip,
    /// Usable, with a quality score (higher is better).
    Keep(f32),
    /// Usable and enough: stop streaming.
    Done(f32),
}

/// Turns the chosen face frame into a queue image.
pub fn face_image(frame: &RgbFrame) -> Result<CapturedImage, CaptureError> {
    Ok(CapturedImage {
        index: BiometricIndex::Face,
        width: frame.width,
        height: frame.height,
        resolution: None,
        bytes: png_from_rgb(frame).map_err(|e| CaptureError::Encode("face".into(), e))?,
    })
}

/// Face autocapture over a camera: every frame goes through the face pipeline (without the eye
/// stage); the capture fires when `AutoCapture` has seen enough consecutive compliant frames and the
/// kept frame's eyes, measured then, are open; the enrolled image is its ISO/IEC 19794-5
/// full-frontal crop. `on_frame` receives each frame's feedback so the
/// operator (or the subject) can be told what to change.
pub fn autocapture_face(
    camera: &mut dyn Camera,
    pipeline: &mut face::FacePipeline,
    config: face::AutoCaptureConfig,
    max_frames: usize,
    frame_timeout: Duration,
    mut on_frame: impl FnMut(&face::FrameResult),
) -> Result<Option<(CapturedImage, face::CaptureResult)>, CaptureError> {
    let mut auto = face::AutoCapture::new(config);
    let mut failure: Option<String> = None;
    capture_face(camera, max_frames, frame_timeout, |frame| {
        let Some(rgb) = image::RgbImage::from_raw(frame.width, frame.height, frame.rgb.clone()) else {
            return FrameVerdict::Skip;
        };
        let verdict = match pipeline.analyze(&rgb) {
            Ok(analysis) => auto.feed_with_eye_stage(pipeline, &rgb, &analysis),
            Err(e) => Err(e),
        };
        match verdict {
            Ok(result) => {
                on_frame(&result);
                if result.captured {
                    FrameVerdict::Done(1.0)
                } else {
                    FrameVerdict::Skip
                }
            }
            Err(e) => {
                failure = Some(e.to_string());
                FrameVerdict::Done(0.0)
            }
        }
    })?;
    if let Some(e) = failure {
        return Err(CaptureError::Face(e));
    }
    Ok(auto.result().map(|r| {
        let image = CapturedImage {
            index: BiometricIndex::Face,
            width: r.iso.width,
            height: r.iso.height,
            resolution: None,
            bytes: r.iso.png.clone(),
        };
        (image, r.clone())
    }))
}
