//! The liveness challenge on frames rendered by the simulated camera and analysed by the real
//! face pipeline (ONNX). The head-turning subject is rendered as a 3-D head, so its turns show the
//! non-rigid landmark motion a flat photo cannot: LIVE when its turns come in the order asked.
//! A subject that turns the wrong way first (a replay of another order), or does not turn at all,
//! is not LIVE.

use std::time::Duration;

use drivers::simulated::{Motion, SimulatedCamera};
use face::{Challenge, Decision, LivenessConfig, LivenessResult, LivenessSession};

/// The public-domain portrait the app's simulated subject uses, with its face box.
const PORTRAIT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../biometrics/face/tests/data/obama.jpg");
const FACE: (f32, f32, f32, f32) = (348.3, 142.3, 276.9, 276.9);
/// Frames analysed per second of simulated time (what the app's analysis thread reaches).
const ANALYSED_FPS: u64 = 15;

fn pipeline() -> Option<face::FacePipeline> {
    match face::FacePipeline::new(&face::PipelineConfig::default()) {
        Ok(p) => Some(p),
        Err(e) => {
            eprintln!("skipped: face pipeline unavailable ({e}); set ORT_DYLIB_PATH");
            None
        }
    }
}

/// Asks `order` (fixed, not shuffled) of a simulated subject moving as `motion`, for at most
/// `seconds` of simulated time.
fn challenge(pipe: &mut face::FacePipeline, motion: Motion, order: &[Challenge], seconds: u64) -> LivenessResult {
    let photo = image::open(PORTRAIT).unwrap().to_rgb8();
    let camera = SimulatedCamera::from_image(photo, FACE, motion);
    let cfg = LivenessConfig { challenges: order.to_vec(), randomize: false, ..LivenessConfig::default() };
    let mut session = LivenessSession::with_order(cfg, order.to_vec());
    for sequence in 0..seconds * ANALYSED_FPS {
        let at = Duration::from_millis(sequence * 1000 / ANALYSED_FPS);
        let frame = camera.frame_at(at, sequence);
        let rgb = image::RgbImage::from_raw(frame.width, frame.height, frame.rgb).unwrap();
        let analysis = pipe.analyze(&rgb).unwrap();
        if session.feed(&analysis, at.as_millis() as u64).done {
            break;
        }
    }
    session.finish()
}

#[test]
fn a_turning_head_is_live_and_the_wrong_order_or_no_turn_is_not() {
    let Some(mut pipe) = pipeline() else { return };
    // The scripted subject turns to its right first, then left, alternating every 2.5 s.
    let live = challenge(&mut pipe, Motion::HeadTurn, &[Challenge::TurnRight, Challenge::TurnLeft], 12);
    assert_eq!(live.decision, Decision::Live, "{live:#?}");
    for step in &live.challenges {
        assert!(step.nonrigid > 2.0 * face::DEFAULT_TURN_MIN_NONRIGID, "a 3-D turn: {step:?}");
    }

    let wrong_way = challenge(&mut pipe, Motion::HeadTurn, &[Challenge::TurnLeft, Challenge::TurnRight], 12);
    assert_eq!(wrong_way.decision, Decision::Spoof, "{wrong_way:#?}");
    assert!(wrong_way.feedback.iter().any(|f| f == "CHALLENGE_NOT_3D_OR_WRONG_WAY_TURN_LEFT"), "{wrong_way:?}");

    let no_turn = challenge(&mut pipe, Motion::Natural, &[Challenge::TurnRight], 8);
    assert_ne!(no_turn.decision, Decision::Live, "{no_turn:#?}");
}
