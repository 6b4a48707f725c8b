//! STREAM: a live preview as `multipart/x-mixed-replace` JPEG parts (M-JPEG over HTTP).
//!
//! A blocking producer pulls frames from the device (camera frames; for a scanner, each finger
//! placement's image) and publishes the latest one; the HTTP body sends the latest frame every
//! [`PART_INTERVAL`] so the client sees at least the spec's 3 frames per second even when a
//! scanner delivers images more slowly. While a capture holds the device the producer pauses, so
//! capture frames never reach the preview.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use drivers::{DeviceError, DeviceKind};
use tokio::sync::watch;
use wire::sbi::{SbiError, SbiErrorCode};

use crate::capture::{device_failure, encode_jpeg, rgb_image};
use crate::devices::{Registry, Slot};

/// The multipart boundary.
pub const BOUNDARY: &str = "mosipframe";
/// How often a part is sent: 5 per second.
pub const PART_INTERVAL: Duration = Duration::from_millis(200);
/// Longest wait for one frame before checking whether to stop.
const FRAME_WAIT: Duration = Duration::from_secs(1);
/// Frames wider than this are scaled down for the preview.
const PREVIEW_WIDTH: u32 = 640;

/// Opens the device and answers the stream; `Err` when the device cannot deliver.
pub async fn start(
    registry: Arc<Registry>,
    slot: Arc<Slot>,
    duration: Duration,
) -> Result<Response, SbiError> {
    // Open now, so that a device that cannot stream is an error answer, not an empty stream.
    let opened = {
        let registry = registry.clone();
        let slot = slot.clone();
        tokio::task::spawn_blocking(move || {
            let mut dev = slot.device_blocking();
            let result = match slot.kind {
                DeviceKind::Camera => dev.camera(registry.manager(), &slot.id).map(|_| ()),
                DeviceKind::FingerprintScanner => {
                    dev.scanner(registry.manager(), &slot.id).map(|_| ())
                }
            };
            if result.is_err() {
                dev.reset();
            }
            result
        })
        .await
    };
    match opened {
        Ok(Ok(())) => {}
        Ok(Err(e)) => return Err(device_failure(e)),
        Err(e) => {
            return Err(SbiError::new(
                SbiErrorCode::DeviceNotReady,
                format!("Device is not ready: {e}"),
            ))
        }
    }

    let (frames_tx, frames_rx) = watch::channel::<Option<Bytes>>(None);
    let deadline = Instant::now() + duration;
    slot.stream_started();
    tokio::task::spawn_blocking(move || produce(&registry, &slot, &frames_tx, deadline));

    let (part_tx, part_rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(2);
    tokio::spawn(send_parts(frames_rx, part_tx, deadline));
    let body = Body::from_stream(futures_util::stream::unfold(part_rx, |mut rx| async move {
        rx.recv().await.map(|part| (part, rx))
    }));
    Ok((
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            format!("multipart/x-mixed-replace; boundary={BOUNDARY}"),
        )],
        body,
    )
        .into_response())
}

/// Pulls frames until the deadline, the client leaving, or a device failure.
fn produce(
    registry: &Registry,
    slot: &Slot,
    frames: &watch::Sender<Option<Bytes>>,
    deadline: Instant,
) {
    while Instant::now() < deadline && !frames.is_closed() {
        if slot.is_busy() {
            std::thread::sleep(Duration::from_millis(50));
            continue;
        }
        let started = Instant::now();
        let frame = {
            let mut dev = slot.device_blocking();
            let frame = preview_frame(registry, slot, &mut dev);
            if let Err(e) = &frame {
                if !matches!(e, DeviceError::Timeout(..)) {
                    dev.reset();
                }
            }
            frame
        };
        match frame {
            Ok(jpeg) => {
                frames.send_replace(Some(jpeg));
            }
            Err(DeviceError::Timeout(..)) => {}
            Err(err) => {
                tracing::warn!(device = %slot.id, %err, "stream stopped: device failed");
                break;
            }
        }
        // Do not pull faster than parts go out.
        if let Some(rest) = PART_INTERVAL.checked_sub(started.elapsed()) {
            std::thread::sleep(rest);
        }
    }
    if slot.stream_ended() && !slot.is_busy() {
        slot.device_blocking().stop_camera();
    }
}

fn preview_frame(
    registry: &Registry,
    slot: &Slot,
    dev: &mut crate::devices::Handles,
) -> Result<Bytes, DeviceError> {
    let encode_failed =
        |e: image::ImageError| DeviceError::Device(format!("preview encoding failed: {e}"));
    let img = match slot.kind {
        DeviceKind::Camera => {
            let frame = dev
                .camera(registry.manager(), &slot.id)?
                .next_frame(FRAME_WAIT)?;
            let rgb = rgb_image(frame).ok_or_else(|| {
                DeviceError::Protocol("frame size does not match its buffer".into())
            })?;
            let img = image::DynamicImage::ImageRgb8(rgb);
            if img.width() > PREVIEW_WIDTH {
                let h = img.height() * PREVIEW_WIDTH / img.width();
                img.thumbnail(PREVIEW_WIDTH, h.max(1))
            } else {
                img
            }
        }
        DeviceKind::FingerprintScanner => {
            let g = dev
                .scanner(registry.manager(), &slot.id)?
                .capture(FRAME_WAIT, &mut |_| {})?;
            let luma =
                image::GrayImage::from_raw(g.width, g.height, g.pixels).ok_or_else(|| {
                    DeviceError::Protocol("image size does not match its buffer".into())
                })?;
            image::DynamicImage::ImageLuma8(luma)
        }
    };
    encode_jpeg(&img, 75)
        .map(Bytes::from)
        .map_err(encode_failed)
}

/// Sends the latest frame as a multipart part every [`PART_INTERVAL`].
async fn send_parts(
    mut frames: watch::Receiver<Option<Bytes>>,
    parts: tokio::sync::mpsc::Sender<Result<Bytes, std::io::Error>>,
    deadline: Instant,
) {
    let mut tick = tokio::time::interval(PART_INTERVAL);
    while Instant::now() < deadline {
        tick.tick().await;
        // The producer ended (deadline or device failure) and every frame was sent.
        if frames.has_changed().is_err() {
            break;
        }
        let latest = frames.borrow_and_update().clone();
        if let Some(jpeg) = latest {
            if parts.send(Ok(part(&jpeg))).await.is_err() {
                break; // the client went away
            }
        }
    }
}

/// One multipart part: boundary, headers, JPEG.
pub fn part(jpeg: &[u8]) -> Bytes {
    let mut out = Vec::with_capacity(jpeg.len() + 96);
    out.extend_from_slice(
        format!(
            "--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {}\r\n\r\n",
            jpeg.len()
        )
        .as_bytes(),
    );
    out.extend_from_slice(jpeg);
    out.extend_from_slice(b"\r\n");
    Bytes::from(out)
}
