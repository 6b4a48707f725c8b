//! `enroll --simulated`: a capture session with the simulated scanner and camera, run through
//! the same station capture code and face pipeline as real devices.

use std::time::Duration;

use anyhow::{bail, Context};
use drivers::simulated::{Motion, ScanTiming, SimulatedCamera, SimulatedScanner};
use drivers::ScanEvent;
use station::capture;
use station::queue::CapturedImage;
use wire::BiometricIndex;

/// The simulated person behind `user_id`: the same key always presents the same fingers.
fn subject_of(user_id: &str) -> u64 {
    user_id.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ b as u64).wrapping_mul(0x0100_0000_01b3))
}

/// Captures `fingers` and (optionally) the face of the simulated person `user_id`.
pub fn capture_person(user_id: &str, fingers: &[BiometricIndex], with_face: bool) -> anyhow::Result<Vec<CapturedImage>> {
    let sequence: Vec<u8> = fingers.iter().map(|f| f.code() as u8).collect();
    let mut scanner = SimulatedScanner::synthetic(subject_of(user_id), sequence)
        .with_timing(ScanTiming { placement: Duration::from_millis(120), transfer: Duration::from_millis(60) });
    let captured = capture::capture_fingers(&mut scanner, fingers, Duration::from_secs(10), |position, event| {
        if let ScanEvent::FingerPresent = event {
            println!("  {}: finger on the scanner", position.label());
        }
    })?;
    let mut images = capture::finger_images(&captured)?;
    println!("  {} fingers captured", images.len());

    if with_face {
        let mut camera = SimulatedCamera::astronaut(Motion::Natural)?;
        let mut pipeline = face::FacePipeline::new(&face::PipelineConfig::default())
            .context("loading the face pipeline (run scripts/fetch-onnxruntime.sh and set ORT_DYLIB_PATH)")?;
        let mut last = Vec::new();
        let result = capture::autocapture_face(
            &mut camera,
            &mut pipeline,
            face::AutoCaptureConfig::default(),
            150,
            Duration::from_secs(2),
            |frame| {
                let prompts: Vec<String> = frame.feedback.iter().map(|f| f.prompt.to_string()).collect();
                if prompts != last && !prompts.is_empty() {
                    println!("  face: {}", prompts.join("; "));
                }
                if !prompts.is_empty() {
                    last = prompts;
                }
            },
        )?;
        match result {
            Some((image, capture)) => {
                println!(
                    "  face captured automatically (frame {}, ISO 19794-5 crop {}x{}, eyes {:.0} px apart)",
                    capture.frame_index, image.width, image.height, capture.iso.eye_distance
                );
                images.push(image);
            }
            None => bail!("face autocapture did not fire within 150 frames (last feedback: {})", last.join("; ")),
        }
    }
    Ok(images)
}
