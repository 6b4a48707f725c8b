//! Autocapture (firing rule, best frame, ISO geometry), liveness (attacks through the real
//! pipeline, simulated live landmark tracks) and matching (real descriptors).

mod common;
use common::*;

use face::liveness::{Challenge, Decision, LivenessConfig, LivenessSession};
use face::synth::{gain, noise, posed_face, warp};
use face::{AutoCapture, AutoCaptureConfig, Embedder, EmbedderConfig, Gallery, FrameAnalysis};

#[test]
fn autocapture_fires_after_n_consecutive_compliant_frames_and_crops_to_iso_geometry() {
    let mut p = pipeline();
    let img = image("obama.jpg");
    let good: Vec<_> = (0..4).map(|i| noise(&frame(&mut p, &img, 0.38, 0.0, (i as f32) * 4.0, 0.0), 2, i)).collect();
    let dark = gain(&good[0], 0.3);
    let mut ac = AutoCapture::new(AutoCaptureConfig { min_consecutive: 3, iso_width: 480 });
    // good, good, dark (breaks the streak), good, good, good -> fires on the 6th frame (index 5)
    let seq = [&good[0], &good[1], &dark, &good[2], &good[3], &good[1]];
    let mut fired_at = None;
    for (i, fr) in seq.iter().enumerate() {
        let a = p.analyze(fr).unwrap();
        let r = ac.feed_with_eye_stage(&mut p, fr, &a).unwrap();
        assert_eq!(r.index, i);
        if i == 2 {
            assert!(!r.compliant && r.streak == 0, "{r:?}");
        }
        if r.captured && fired_at.is_none() {
            fired_at = Some(i);
        }
    }
    assert_eq!(fired_at, Some(5));
    let c = ac.result().unwrap();
    assert!((3..=5).contains(&c.frame_index), "best frame must come from the final streak: {}", c.frame_index);
    // The eye stage ran on the captured frame: its eyes are measured, and open.
    let [er, el] = c.analysis.face.as_ref().unwrap().eye_openness().expect("the captured frame's eyes were measured");
    assert!(er.min(el) >= p.profile.min_eye_openness, "{er} {el}");
    assert!(c.analysis.compliant);
    // the ISO image: 480x640 PNG, eyes level at (240 ± , 288) with 120 px between them
    let iso = face::imaging::decode(&c.iso.png, "iso.png").unwrap();
    assert_eq!(iso.dimensions(), (480, 640));
    assert_eq!((c.iso.width, c.iso.height), (480, 640));
    let f = p.analyze(&iso).unwrap().face.expect("face in the ISO crop");
    let [r, l] = f.eye_centres;
    let mid = ((r[0] + l[0]) / 2.0, (r[1] + l[1]) / 2.0);
    assert!((mid.0 - 240.0).abs() < 8.0 && (mid.1 - 288.0).abs() < 8.0, "eye midpoint {mid:?}");
    assert!((f.eye_distance - 120.0).abs() < 10.0, "eye distance {}", f.eye_distance);
    assert!(f.pose.roll.abs() < 3.0, "levelled: {:?}", f.pose);
    assert!(c.iso.source_eye_distance > 90.0);
}

/// Analyses without the eye stage fed to plain `feed` cannot be captured: the frame that would be
/// captured has no eye measurement, so it is refused with a typed error instead of enrolling a face
/// whose eyes nobody looked at; the same frames with their eyes measured are captured.
#[test]
fn autocapture_refuses_to_capture_a_frame_whose_eyes_were_not_measured() {
    let mut p = pipeline();
    let img = image("obama.jpg");
    let frames: Vec<_> = (0..3).map(|i| noise(&frame(&mut p, &img, 0.38, 0.0, (i as f32) * 4.0, 0.0), 2, i)).collect();
    let mut ac = AutoCapture::new(AutoCaptureConfig { min_consecutive: 3, iso_width: 480 });
    for (i, fr) in frames.iter().enumerate() {
        let a = p.analyze(fr).unwrap();
        assert!(a.compliant, "{:?}", a.feedback);
        match ac.feed(fr, &a) {
            Ok(r) => assert!(i < 2 && !r.captured, "{r:?}"),
            Err(e) => assert!(i == 2 && matches!(e, face::FaceError::EyesNotMeasured), "frame {i}: {e}"),
        }
    }
    assert!(ac.result().is_none());
    // The refused streak is over: the next frame starts a new one.
    let a = p.analyze_with_eyes(&frames[0]).unwrap();
    let r = ac.feed(&frames[0], &a).unwrap();
    assert!(r.streak == 1 && !r.captured, "{r:?}");
    let mut ac = AutoCapture::new(AutoCaptureConfig { min_consecutive: 3, iso_width: 480 });
    for fr in &frames {
        let a = p.analyze_with_eyes(fr).unwrap();
        ac.feed(fr, &a).unwrap();
    }
    assert!(ac.result().is_some());
}

#[test]
fn autocapture_never_fires_on_non_compliant_frames() {
    let mut p = pipeline();
    let img = image("obama.jpg");
    let far = frame(&mut p, &img, 0.15, 0.0, 0.0, 0.0);
    let mut ac = AutoCapture::new(AutoCaptureConfig::default());
    for i in 0..8 {
        let fr = noise(&far, 2, i);
        let a = p.analyze(&fr).unwrap();
        assert!(!ac.feed_with_eye_stage(&mut p, &fr, &a).unwrap().captured);
    }
    assert!(ac.result().is_none());
}

fn run_images(p: &mut face::FacePipeline, order: Vec<Challenge>, frames: impl Iterator<Item = image::RgbImage>) -> face::LivenessResult {
    let mut s = LivenessSession::with_order(LivenessConfig::default(), order);
    for (i, fr) in frames.enumerate() {
        // As a live loop does: the eye stage only while the session needs eye openness.
        let mut a = p.analyze(&fr).unwrap();
        if s.needs_eyes() {
            p.measure_eyes(&fr, &mut a).unwrap();
        }
        s.feed(&a, i as u64 * 66);
    }
    s.finish()
}

#[test]
fn photo_attacks_are_spoof() {
    let mut p = pipeline();
    let img = image("astronaut.png");
    let base = frame(&mut p, &img, 0.38, 0.0, 0.0, 0.0);
    let order = vec![Challenge::TurnLeft, Challenge::Blink, Challenge::TurnRight];
    // a still photo in front of a live camera (sensor noise only)
    let r = run_images(&mut p, order.clone(), (0..100).map(|i| noise(&base, 2, i)));
    assert_eq!(r.decision, Decision::Spoof, "{r:?}");
    assert!(r.feedback.iter().any(|f| f == "NO_NATURAL_MOTION"), "{:?}", r.feedback);
    // a replayed (bit-identical) frame
    let r = run_images(&mut p, order.clone(), (0..100).map(|_| base.clone()));
    assert_eq!(r.decision, Decision::Spoof);
    assert!(r.feedback.iter().any(|f| f == "REPEATED_FRAMES"), "{:?}", r.feedback);
    // a photo moved, rotated and zoomed by hand
    let d = p.detect(&img).unwrap()[0].clone();
    let (cx, cy) = d.rect.center();
    let s0 = 0.38 * 640.0 / d.rect.width;
    let r = run_images(
        &mut p,
        order,
        (0..100).map(|i| {
            let t = i as f32 / 15.0;
            noise(&warp(&img, 640, 480, cx, cy, s0 * (1.0 + 0.1 * t.sin()), 10.0 * (0.9 * t).sin(), 40.0 * t.sin(), 20.0 * t.cos(), 0), 2, i)
        }),
    );
    assert_eq!(r.decision, Decision::Spoof, "{r:?}");
    assert!(r.score < 100.0);
}

/// A simulated live session: the measured mesh rotated in 3-D and its eyelids closed, frame by frame.
fn live_track(a0: &FrameAnalysis, order: &[Challenge], turn: f32) -> Vec<(FrameAnalysis, u64)> {
    let f0 = a0.face.clone().unwrap();
    let mut poses: Vec<(f32, f32)> = vec![(0.0, 1.0); 10];
    for c in order {
        poses.extend([(0.0, 1.0); 8]);
        match c {
            Challenge::Blink => poses.extend([(0.0, 0.15), (0.0, 0.1), (0.0, 0.15), (0.0, 1.0), (0.0, 1.0)]),
            Challenge::TurnLeft | Challenge::TurnRight => {
                let s = if *c == Challenge::TurnLeft { -1.0 } else { 1.0 };
                for i in (0..=12).chain((0..=12).rev()) {
                    poses.push((s * turn * i as f32 / 12.0, 1.0));
                }
            }
        }
    }
    poses
        .into_iter()
        .enumerate()
        .map(|(i, (yaw, eye))| {
            let mut a = a0.clone();
            a.face = Some(posed_face(&f0, yaw, eye, 4.0, i as u64));
            (a, i as u64 * 33)
        })
        .collect()
}

#[test]
fn simulated_live_track_passes_and_wrong_order_or_slowness_fails() {
    let mut p = pipeline();
    let img = image("obama.jpg");
    let a0 = { let fr = frame(&mut p, &img, 0.38, 0.0, 0.0, 0.0); p.analyze_with_eyes(&fr) }.unwrap();
    let order = vec![Challenge::TurnRight, Challenge::Blink, Challenge::TurnLeft];
    let mut s = LivenessSession::with_order(LivenessConfig::default(), order.clone());
    for (a, t) in live_track(&a0, &order, 28.0) {
        s.feed(&a, t);
    }
    let r = s.finish();
    assert_eq!(r.decision, Decision::Live, "{r:?}");
    assert_eq!(r.score, 100.0);
    assert!(r.challenges.iter().all(|c| c.passed));
    // the same recording replayed against a different prompt order fails
    let other = vec![Challenge::TurnLeft, Challenge::Blink, Challenge::TurnRight];
    let mut s = LivenessSession::with_order(LivenessConfig::default(), other);
    for (a, t) in live_track(&a0, &order, 28.0) {
        s.feed(&a, t);
    }
    assert_eq!(s.finish().decision, Decision::Spoof);
    // a turn too small never completes
    let mut s = LivenessSession::with_order(LivenessConfig::default(), order.clone());
    for (a, t) in live_track(&a0, &order, 8.0) {
        s.feed(&a, t);
    }
    let r = s.finish();
    assert_eq!(r.decision, Decision::Spoof);
    // too slow: the same track at 1/10 of the speed exceeds the step deadline
    let mut s = LivenessSession::with_order(LivenessConfig::default(), order.clone());
    for (a, t) in live_track(&a0, &order, 28.0) {
        s.feed(&a, t * 10);
    }
    let r = s.finish();
    assert_eq!(r.decision, Decision::Spoof, "{r:?}");
    assert!(r.feedback.iter().any(|f| f.starts_with("CHALLENGE_NOT_COMPLETED")), "{:?}", r.feedback);
}

/// The session asks for eye openness only while it learns the open-eye baseline and during the
/// blink step; a live track whose frames carry eyes only then is LIVE, and a session of turns never
/// asks for eyes. Eyes withheld during the blink step mean no blink is seen.
#[test]
fn liveness_needs_eyes_only_for_the_baseline_and_the_blink() {
    let mut p = pipeline();
    let img = image("obama.jpg");
    let a0 = { let fr = frame(&mut p, &img, 0.38, 0.0, 0.0, 0.0); p.analyze_with_eyes(&fr) }.unwrap();
    let without_eyes = |a: &FrameAnalysis| {
        let mut a = a.clone();
        a.face.as_mut().unwrap().eyes = None;
        a
    };
    let cfg = LivenessConfig::default();
    let order = vec![Challenge::TurnRight, Challenge::Blink, Challenge::TurnLeft];
    let mut s = LivenessSession::with_order(cfg.clone(), order.clone());
    // (step being asked, needs_eyes) for every frame fed
    let mut asked = Vec::new();
    for (a, t) in live_track(&a0, &order, 28.0) {
        let needs = s.needs_eyes();
        let step = s.progress().current;
        asked.push((step, needs));
        s.feed(&if needs { a } else { without_eyes(&a) }, t);
    }
    let r = s.finish();
    assert_eq!(r.decision, Decision::Live, "{r:?}");
    assert!(!s.needs_eyes(), "a finished session needs no eyes");
    // baseline frames (no step yet) and the blink step need eyes; the turns do not
    let baseline = asked.iter().take_while(|(step, _)| step.is_none()).count();
    assert_eq!(baseline, cfg.baseline_frames);
    assert!(asked[..baseline].iter().all(|(_, needs)| *needs), "{asked:?}");
    for (step, needs) in &asked[baseline..] {
        assert_eq!(*needs, *step == Some(Challenge::Blink), "{asked:?}");
    }
    assert!(asked.iter().any(|(step, _)| *step == Some(Challenge::Blink)));
    // turns only: eyes are never needed, and the session is LIVE without them
    let turns = vec![Challenge::TurnLeft, Challenge::TurnRight];
    let mut s = LivenessSession::with_order(cfg.clone(), turns.clone());
    for (a, t) in live_track(&a0, &turns, 28.0) {
        assert!(!s.needs_eyes());
        s.feed(&without_eyes(&a), t);
    }
    assert_eq!(s.finish().decision, Decision::Live);
    // the blink step fed without eyes sees no blink (the deadline then fails it)
    let mut s = LivenessSession::with_order(cfg.clone(), vec![Challenge::Blink]);
    let mut last = 0;
    for (a, t) in live_track(&a0, &[Challenge::Blink], 28.0) {
        let blinking = s.progress().current == Some(Challenge::Blink);
        s.feed(&if blinking { without_eyes(&a) } else { a }, t);
        last = t;
    }
    s.feed(&without_eyes(&a0), last + cfg.step_timeout_ms + 100);
    let r = s.finish();
    assert_eq!(r.decision, Decision::Spoof, "{r:?}");
    assert!(r.feedback.iter().any(|f| f == "CHALLENGE_NOT_COMPLETED_BLINK"), "{r:?}");
}

#[test]
fn no_face_sequence_is_unable_to_calculate() {
    let mut p = pipeline();
    let blank = image::RgbImage::from_pixel(320, 240, image::Rgb([90, 90, 90]));
    let r = run_images(&mut p, vec![Challenge::Blink], (0..10).map(|i| noise(&blank, 5, i)));
    assert_eq!(r.decision, Decision::UnableToCalculateLiveness);
    assert_eq!(r.score, -1.0);
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["decision"], "UNABLE_TO_CALCULATE_LIVENESS");
}

#[test]
fn random_order_is_a_permutation_of_the_challenges() {
    use rand::SeedableRng;
    let mut seen = std::collections::HashSet::new();
    for seed in 0..40 {
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let s = LivenessSession::new(LivenessConfig::default(), &mut rng);
        let mut o = s.order();
        seen.insert(o.clone());
        o.sort_by_key(|c| format!("{c:?}"));
        assert_eq!(o, vec![Challenge::Blink, Challenge::TurnLeft, Challenge::TurnRight]);
    }
    assert!(seen.len() >= 4, "orders should vary: {seen:?}");
}

#[test]
fn verify_and_search_with_real_descriptors() {
    let mut p = pipeline();
    let mut e = Embedder::new(EmbedderConfig::default()).unwrap();
    let astro = image("astronaut.png");
    let obama = image("obama.jpg");
    let mut emb = |img: &image::RgbImage, p: &mut face::FacePipeline| {
        let a = p.analyze(img).unwrap();
        e.embed(img, a.face.as_ref().unwrap()).unwrap()
    };
    let a1 = { let fr = frame(&mut p, &astro, 0.38, 0.0, 0.0, 0.0); emb(&fr, &mut p) };
    let a2 = { let fr = gain(&frame(&mut p, &astro, 0.3, 7.0, 30.0, -10.0), 0.8); emb(&fr, &mut p) };
    let o1 = { let fr = frame(&mut p, &obama, 0.38, 0.0, 0.0, 0.0); emb(&fr, &mut p) };
    let o2 = { let fr = frame(&mut p, &obama, 0.45, -6.0, -20.0, 0.0); emb(&fr, &mut p) };
    assert_eq!(a1.0.len(), 128);
    let t = face::matching::DEFAULT_THRESHOLD;
    let same = face::matching::verify(&a1, &a2, t).unwrap();
    assert!(same.is_match, "{same:?}");
    assert!(face::matching::verify(&o1, &o2, t).unwrap().is_match);
    let diff = face::matching::verify(&a1, &o1, t).unwrap();
    assert!(!diff.is_match && diff.distance > same.distance + 0.2, "{diff:?} vs {same:?}");
    let mut g = Gallery::default();
    g.add("astronaut", a1);
    g.add("obama", o1);
    let hits = g.search(&o2, 2, t).unwrap();
    assert_eq!(hits[0].id, "obama");
    assert!(hits[0].is_match && !hits[1].is_match, "{hits:?}");
}

#[test]
fn descriptor_model_is_swappable_by_configuration_and_still_checked() {
    let bad = EmbedderConfig {
        model: face::ModelFile::new("face_descriptor_128.onnx", &"0".repeat(64)),
        ..Default::default()
    };
    assert!(matches!(Embedder::new(bad), Err(face::FaceError::ModelChecksum { .. })));
    // the detector model as "descriptor": loads (correct sha256) but has no `descriptor` output
    let (f, s) = face::runtime::pinned::BLAZEFACE_FRONT_128;
    let wrong = EmbedderConfig { model: face::ModelFile::new(f, s), input_size: 128, input_name: "input:0".into(), ..Default::default() };
    let mut e = Embedder::new(wrong).unwrap();
    let mut p = pipeline();
    let img = image("astronaut.png");
    let a = p.analyze(&img).unwrap();
    assert!(e.embed(&img, a.face.as_ref().unwrap()).is_err());
}
