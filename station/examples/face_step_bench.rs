//! Throughput of the app's face step without a window: the simulated walk-up subject streamed
//! through `app_face::run_face_step` (camera + JPEG preview on one thread, face analysis of the
//! newest frame on another) for a fixed time, against the same work done one frame after the
//! other on one thread (what the app did before).
//!
//!   ORT_DYLIB_PATH=… cargo run --release -p station --example face_step_bench [seconds]
//!
//! (In a debug build add `--config 'profile.dev.package.station.opt-level=2'`, as
//! scripts/ci/app.sh does for the app: the image encoders are instantiated in this crate.)
//!
//! Prints previews per second (what the window can show at most), analyses per second, preview
//! size and the machine's load average.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use drivers::simulated::Motion;
use drivers::Camera;
use station::app_face::{self, FaceStepConfig};
use station::app_support::WalkUpCamera;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let seconds: u64 = std::env::args().nth(1).map(|s| s.parse()).transpose()?.unwrap_or(10);
    let mut pipeline = face::FacePipeline::new(&face::PipelineConfig::default())?;
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!("load average before: {}", load.split_whitespace().take(3).collect::<Vec<_>>().join(" "));

    // Never captures (the subject stays far away), so the stream runs for the whole time.
    let subject = || WalkUpCamera::new(Duration::from_secs(3600), Duration::from_secs(1)).with_motion(Motion::HeadTurn);
    let cfg = FaceStepConfig { max_duration: Duration::from_secs(seconds), ..FaceStepConfig::default() };
    type Encode = fn(&drivers::RgbFrame, u64) -> Result<Vec<u8>, String>;
    let encodings: [(&str, Encode); 2] = [
        ("raw RGBA (what the app sends)", |f, i| Ok(app_face::preview_rgba(f, i))),
        ("JPEG q70", |f, _| app_face::preview_jpeg(f, 640, 70).map(|(j, _, _)| j)),
    ];
    for (label, encode) in encodings {
        let mut camera = subject();
        let (previews, bytes) = (AtomicU64::new(0), AtomicU64::new(0));
        let mut analyses = 0u64;
        let mut analysis_ms = 0f32;
        let stop = AtomicBool::new(false);
        let t0 = Instant::now();
        app_face::run_face_step(
            &mut camera,
            &mut pipeline,
            &cfg,
            &stop,
            |f, i| {
                let payload = encode(f, i)?;
                previews.fetch_add(1, Ordering::Relaxed);
                bytes.fetch_add(payload.len() as u64, Ordering::Relaxed);
                Ok(())
            },
            |v| {
                analyses += 1;
                analysis_ms += v.analysis_ms;
            },
        )?;
        let s = t0.elapsed().as_secs_f32();
        let n = previews.load(Ordering::Relaxed).max(1);
        println!(
            "decoupled, {label}: {:.1} previews/s, {:.1} analyses/s, analysis {:.1} ms, preview {:.0} kB",
            n as f32 / s,
            analyses as f32 / s,
            analysis_ms / analyses.max(1) as f32,
            bytes.load(Ordering::Relaxed) as f32 / n as f32 / 1000.0
        );
    }

    // Before: capture, analyse, encode, one after the other.
    let mut camera = subject();
    let format = camera.formats()?[0];
    camera.start(format)?;
    let t0 = Instant::now();
    let mut frames = 0u32;
    while t0.elapsed() < Duration::from_secs(seconds) {
        let frame = camera.next_frame(Duration::from_secs(2))?;
        let rgb = image::RgbImage::from_raw(frame.width, frame.height, frame.rgb.clone()).ok_or("bad frame")?;
        pipeline.analyze(&rgb)?;
        app_face::preview_jpeg(&frame, 640, 80)?;
        frames += 1;
    }
    camera.stop()?;
    println!("sequential (before), q80 640 px: {:.1} frames/s", frames as f32 / t0.elapsed().as_secs_f32());
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!("load average after: {}", load.split_whitespace().take(3).collect::<Vec<_>>().join(" "));
    Ok(())
}
