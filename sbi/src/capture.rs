//! The capture loops behind RCAPTURE: place fingers / look at the camera until the requested
//! quality is reached or the time is up, keeping the best image seen — the spec's "respond back
//! before the timeout with the best frame". Blocking; run on a blocking thread.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use drivers::{Camera, DeviceError, FingerprintScanner, GrayImage, RgbFrame};
use wire::sbi::{BioSubType, SbiError, SbiErrorCode};

use crate::iso;

/// One finger, ready for the answer.
#[derive(Debug, Clone)]
pub struct CapturedFinger {
    pub sub_type: BioSubType,
    /// ISO/IEC 19794-4:2011 record.
    pub iso: Vec<u8>,
    /// The fingerprint crate's quality (NFIQ 2 scale, 0–100) of the kept image.
    pub quality: u8,
    pub timestamp: DateTime<Utc>,
}

/// The face, ready for the answer.
#[derive(Debug, Clone)]
pub struct CapturedFace {
    /// ISO/IEC 19794-5:2011 record.
    pub iso: Vec<u8>,
    /// The face pipeline's frame quality (0–100).
    pub quality: f32,
    pub timestamp: DateTime<Utc>,
}

/// Captures `targets` one placement after another on a single-finger scanner.
///
/// The time left is shared out: each finger may retry for better quality until its share of the
/// remaining time is used (the first placement of a finger may use all the remaining time, since
/// a finger without any image fails the call). A finger reaching `requested` stops at once.
pub fn capture_fingers(
    scanner: &mut dyn FingerprintScanner,
    targets: &[BioSubType],
    requested: f64,
    deadline: Instant,
) -> Result<Vec<CapturedFinger>, SbiError> {
    let mut out = Vec::with_capacity(targets.len());
    for (i, target) in targets.iter().enumerate() {
        let start = Instant::now();
        let share_end =
            start + deadline.saturating_duration_since(start) / (targets.len() - i) as u32;
        let mut best: Option<(u8, GrayImage, DateTime<Utc>)> = None;
        loop {
            let now = Instant::now();
            let limit = if best.is_none() { deadline } else { share_end };
            let timeout = limit.saturating_duration_since(now);
            if timeout.is_zero() {
                break;
            }
            match scanner.capture(timeout, &mut |_| {}) {
                Ok(image) => {
                    let image = at_500_ppi(image)?;
                    let score = finger_quality(&image)?;
                    let reached = f64::from(score) >= requested;
                    if best.as_ref().is_none_or(|(s, _, _)| score > *s) {
                        best = Some((score, image, Utc::now()));
                    }
                    if reached {
                        break;
                    }
                }
                Err(DeviceError::Timeout(..)) => break,
                Err(e) => return Err(device_failure(e)),
            }
        }
        let Some((quality, image, timestamp)) = best else {
            return Err(SbiError::new(
                SbiErrorCode::NoBiometricDetected,
                format!("Unable to detect a biometric object: no finger placed for {target} before the timeout"),
            ));
        };
        let position = match target {
            BioSubType::Finger(f) => f.iso_code(),
            _ => 0,
        };
        let record = iso::finger_record(
            &image.pixels,
            image.width,
            image.height,
            image.dpi,
            position,
            quality,
            timestamp,
        )
        .map_err(extraction_failed)?;
        out.push(CapturedFinger {
            sub_type: target.clone(),
            iso: record,
            quality,
            timestamp,
        });
    }
    Ok(out)
}

/// Takes camera frames until one scores `requested` on the face pipeline or the time is up, and
/// returns the best frame with a face.
pub fn capture_face(
    camera: &mut dyn Camera,
    pipeline: &mut face::FacePipeline,
    requested: f64,
    deadline: Instant,
) -> Result<CapturedFace, SbiError> {
    let mut best: Option<(f32, image::RgbImage, DateTime<Utc>)> = None;
    loop {
        let timeout = deadline.saturating_duration_since(Instant::now());
        if timeout.is_zero() {
            break;
        }
        let frame = match camera.next_frame(timeout) {
            Ok(frame) => frame,
            Err(DeviceError::Timeout(..)) => break,
            Err(e) => return Err(device_failure(e)),
        };
        let Some(rgb) = rgb_image(frame) else {
            continue;
        };
        let analysis = pipeline.analyze_with_eyes(&rgb).map_err(extraction_failed)?;
        let Some(face) = analysis.face else { continue };
        let reached = f64::from(face.quality) >= requested;
        if best.as_ref().is_none_or(|(q, _, _)| face.quality > *q) {
            best = Some((face.quality, rgb, Utc::now()));
        }
        if reached {
            break;
        }
    }
    let Some((quality, rgb, timestamp)) = best else {
        return Err(SbiError::new(
            SbiErrorCode::NoBiometricDetected,
            "Unable to detect a biometric object: no face in view before the timeout",
        ));
    };
    let jpeg = encode_jpeg(&image::DynamicImage::ImageRgb8(rgb.clone()), 90).map_err(extraction_failed)?;
    let record = iso::face_record(
        &jpeg,
        rgb.width(),
        rgb.height(),
        quality.round().clamp(0.0, 100.0) as u8,
        timestamp,
    )
    .map_err(extraction_failed)?;
    Ok(CapturedFace {
        iso: record,
        quality,
        timestamp,
    })
}

/// The fingerprint crate's quality score of an image.
pub fn finger_quality(image: &GrayImage) -> Result<u8, SbiError> {
    let engine = fingerprint::GrayImage::new(image.width, image.height, image.pixels.clone())
        .map_err(extraction_failed)?;
    fingerprint::quality::assess(&engine)
        .map(|q| q.score)
        .map_err(extraction_failed)
}

/// The quality code works at 500 ppi; scanners at other resolutions are resampled first.
fn at_500_ppi(image: GrayImage) -> Result<GrayImage, SbiError> {
    if image.dpi == 500 {
        return Ok(image);
    }
    let fail = |e: &dyn std::fmt::Display| {
        SbiError::new(
            SbiErrorCode::ExtractionFailed,
            format!("Technical error during extraction: {e}"),
        )
    };
    let resampled =
        fingerprint_formats::GrayImage::new(image.width, image.height, image.dpi, image.pixels)
            .and_then(|g| g.resample_to_dpi(500))
            .map_err(|e| fail(&e))?;
    Ok(GrayImage {
        width: resampled.width(),
        height: resampled.height(),
        dpi: 500,
        pixels: resampled.pixels().to_vec(),
    })
}

/// A driver frame as an `image` buffer (`None` for a frame whose buffer does not match its size).
pub fn rgb_image(frame: RgbFrame) -> Option<image::RgbImage> {
    image::RgbImage::from_raw(frame.width, frame.height, frame.rgb)
}

/// JPEG bytes of an image.
pub fn encode_jpeg(img: &image::DynamicImage, quality: u8) -> Result<Vec<u8>, image::ImageError> {
    let mut out = Vec::new();
    let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality);
    img.write_with_encoder(encoder)?;
    Ok(out)
}

/// A driver failure as the SBI error a client can act on.
pub fn device_failure(e: DeviceError) -> SbiError {
    match e {
        DeviceError::NotFound(id) => SbiError::new(
            SbiErrorCode::DeviceNotFound,
            format!("Device not found: {id}"),
        ),
        DeviceError::Timeout(d, what) => SbiError::new(
            SbiErrorCode::NoBiometricDetected,
            format!(
                "Unable to detect a biometric object: waited {} ms for {what}",
                d.as_millis()
            ),
        ),
        other => SbiError::new(
            SbiErrorCode::DeviceNotReady,
            format!("Device is not ready: {other}"),
        ),
    }
}

/// The deadline of a capture: the request's timeout, with 0 meaning the default.
pub fn deadline_for(timeout_ms: u64, default: Duration, max: Duration) -> Instant {
    let t = if timeout_ms == 0 {
        default
    } else {
        Duration::from_millis(timeout_ms).min(max)
    };
    Instant::now() + t
}

/// The spec's error for a capture whose analysis or record could not be made.
fn extraction_failed(e: impl std::fmt::Display) -> SbiError {
    SbiError::new(SbiErrorCode::ExtractionFailed, format!("Technical error during extraction: {e}"))
}
