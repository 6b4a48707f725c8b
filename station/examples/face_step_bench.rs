//! Throughput of the app's face step without a window: the simulated walk-up subject streamed
//! through `app_face::run_face_step` (camera + JPEG preview on one thread, face analysis of the
//! newest frame on another) for a fixed time, against the same work done one frame after the
//! other on one thread (what the app did before).
//!
//!   ORT_DYLIB_PATH=… cargo run --release -p station --example face_step_bench [seconds]
//!   ORT_DYLIB_PATH=… cargo run --release -p station --example face_step_bench capture [runs]
//!
//! `capture` runs the app's whole face step (walk-up, liveness challenge, autocapture) with each
//! simulated subject — the drivers' astronaut and the frontal portrait the app uses
//! (`app_face::frontal_subject`) — and prints the time to capture and the measured head pitch
//! once the face is in position, on the frames where the head is not turned (|yaw| < 5°: the
//! simulated head turns every few seconds, and a turned head is refused for its yaw anyway).
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

fn load_average() -> String {
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    load.split_whitespace().take(3).collect::<Vec<_>>().join(" ")
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut pipeline = face::FacePipeline::new(&face::PipelineConfig::default())?;
    println!("load average before: {}", load_average());
    if std::env::args().nth(1).as_deref() == Some("capture") {
        let runs: usize = std::env::args().nth(2).map(|s| s.parse()).transpose()?.unwrap_or(3);
        return time_to_capture(&mut pipeline, runs);
    }
    let seconds: u64 = std::env::args().nth(1).map(|s| s.parse()).transpose()?.unwrap_or(10);

    // Never captures (the subject stays far away), so the stream runs for the whole time.
    let subject = || WalkUpCamera::new(Duration::from_secs(3600), Duration::from_secs(1)).with_motion(Motion::HeadTurn);
    let cfg = FaceStepConfig { max_duration: Duration::from_secs(seconds), ..FaceStepConfig::default() };
    type Encode = fn(&drivers::RgbFrame, u64) -> Result<Vec<u8>, String>;
    let encodings: [(&str, Encode); 2] = [
        ("raw RGBA", |f, i| Ok(app_face::preview_rgba(f, i))),
        ("JPEG q70 (what the app sends)", |f, _| app_face::preview_jpeg(f, 640, 70).map(|(j, _, _)| j)),
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
            None,
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
    println!("load average after: {}", load_average());
    Ok(())
}

/// The app's face step, as the app runs it, until the capture fires (or a minute passes).
fn time_to_capture(pipeline: &mut face::FacePipeline, runs: usize) -> Result<(), Box<dyn std::error::Error>> {
    let portrait = app_face::frontal_subject()?;
    for subject in ["astronaut", "frontal portrait"] {
        for run in 0..runs {
            let walk_up = WalkUpCamera::new(Duration::from_millis(2500), Duration::from_millis(1500)).with_motion(Motion::HeadTurn);
            let mut camera = if subject == "astronaut" { walk_up } else { walk_up.with_portrait(portrait.clone()) };
            let stop = AtomicBool::new(false);
            let t0 = Instant::now();
            let (mut in_position, mut capturing) = (None, None);
            let mut pitches = Vec::new();
            let outcome = app_face::run_face_step(&mut camera, None, pipeline, &FaceStepConfig::default(), &stop, |_, _| Ok(()), |v| {
                if v.phase != app_face::FacePhase::Positioning {
                    in_position.get_or_insert(t0.elapsed());
                    if let Some(p) = v.pose.filter(|p| p.yaw.abs() < 5.0) {
                        pitches.push(p.pitch);
                    }
                }
                if v.phase == app_face::FacePhase::Capturing || v.phase == app_face::FacePhase::Captured {
                    capturing.get_or_insert(t0.elapsed());
                }
            })?;
            let total = t0.elapsed().as_secs_f32();
            let captured = matches!(outcome, app_face::FaceStepOutcome::Captured { .. });
            pitches.sort_by(|a, b| a.total_cmp(b));
            let max_pitch = face::PipelineConfig::default().profile.max_pitch;
            let over = pitches.iter().filter(|p| p.abs() > max_pitch).count();
            let q = |f: f32| pitches.get(((pitches.len() as f32 - 1.0) * f).round() as usize).copied().unwrap_or(f32::NAN);
            let secs = |d: Option<Duration>| d.map_or(f32::NAN, |d| d.as_secs_f32());
            println!(
                "{subject} run {run}: {} after {total:.1} s (in position {:.1} s, challenge over {:.1} s, capture phase {:.1} s); \
                 unturned head in position: pitch median {:.1}°, min {:.1}°, max {:.1}° over {} frames, beyond the {max_pitch}° limit on {:.0} %",
                if captured { "captured" } else { "NOT captured" },
                secs(in_position),
                secs(capturing),
                total - secs(capturing),
                q(0.5),
                q(0.0),
                q(1.0),
                pitches.len(),
                100.0 * over as f32 / pitches.len().max(1) as f32,
            );
        }
    }
    println!("load average after: {}", load_average());
    Ok(())
}
