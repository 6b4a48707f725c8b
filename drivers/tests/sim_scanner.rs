//! The simulated scanner behaves like a real one: events in the order a real capture produces
//! them, the configured timing, the configured person's fingers, and injected faults surfacing
//! as the typed errors the station handles.

use std::path::Path;
use std::time::{Duration, Instant};

use drivers::simulated::synthesis::{self, FingerSeed};
use drivers::simulated::{InjectedFault, ScanTiming, SimulatedScanner};
use drivers::{DeviceError, FingerprintScanner, ScanEvent};

const FAST: ScanTiming = ScanTiming {
    placement: Duration::from_millis(30),
    transfer: Duration::from_millis(40),
};

fn capture(
    scanner: &mut SimulatedScanner,
    timeout: Duration,
) -> (Result<drivers::GrayImage, DeviceError>, Vec<ScanEvent>) {
    let mut events = Vec::new();
    let result = scanner.capture(timeout, &mut |e| events.push(e));
    (result, events)
}

#[test]
fn a_capture_reports_events_in_order_and_takes_the_configured_time() {
    let mut scanner = SimulatedScanner::synthetic(9, vec![1]).with_timing(FAST);
    let started = Instant::now();
    let (image, events) = capture(&mut scanner, Duration::from_secs(5));
    let took = started.elapsed();
    let image = image.unwrap();
    assert_eq!(
        events,
        vec![
            ScanEvent::AwaitingFinger,
            ScanEvent::FingerPresent,
            ScanEvent::Progress { percent: 0 },
            ScanEvent::Progress { percent: 25 },
            ScanEvent::Progress { percent: 50 },
            ScanEvent::Progress { percent: 75 },
            ScanEvent::Progress { percent: 100 },
            ScanEvent::FingerRemoved,
        ]
    );
    assert!(
        took >= Duration::from_millis(70),
        "capture took {took:?}, timing asks for 70 ms"
    );
    let spec = scanner.image_spec();
    assert_eq!(
        (image.width, image.height, image.dpi),
        (spec.width, spec.height, spec.dpi)
    );
}

#[test]
fn the_subject_setting_picks_the_person_and_finger_presented() {
    let mut scanner = SimulatedScanner::synthetic(77, vec![3, 8]).with_timing(ScanTiming::INSTANT);
    let first = capture(&mut scanner, Duration::from_secs(1)).0.unwrap();
    let second = capture(&mut scanner, Duration::from_secs(1)).0.unwrap();
    let third = capture(&mut scanner, Duration::from_secs(1)).0.unwrap();
    assert_eq!(
        first,
        synthesis::impression(
            FingerSeed {
                subject: 77,
                finger: 3
            },
            0
        )
    );
    assert_eq!(
        second,
        synthesis::impression(
            FingerSeed {
                subject: 77,
                finger: 8
            },
            0
        )
    );
    // The sequence cycles, and the second round is a new impression of finger 3.
    assert_eq!(
        third,
        synthesis::impression(
            FingerSeed {
                subject: 77,
                finger: 3
            },
            1
        )
    );
    assert_ne!(first, third);

    scanner.set_subject(78, vec![3]);
    let other = capture(&mut scanner, Duration::from_secs(1)).0.unwrap();
    assert_eq!(
        other,
        synthesis::impression(
            FingerSeed {
                subject: 78,
                finger: 3
            },
            0
        )
    );
}

#[test]
fn unplugging_mid_capture_reports_disconnected_then_stays_gone() {
    let mut scanner = SimulatedScanner::synthetic(1, vec![])
        .with_timing(FAST)
        .with_fault(InjectedFault::UnplugDuringCapture(1));
    assert!(capture(&mut scanner, Duration::from_secs(1)).0.is_ok());
    let (result, events) = capture(&mut scanner, Duration::from_secs(1));
    assert!(
        matches!(result, Err(DeviceError::Disconnected(ref id)) if id == "sim:finger:1"),
        "{result:?}"
    );
    // The finger was on the glass and the transfer had started, but never finished.
    assert!(events.contains(&ScanEvent::FingerPresent));
    assert!(!events.contains(&ScanEvent::FingerRemoved));
    assert!(!events.contains(&ScanEvent::Progress { percent: 100 }));
    assert!(matches!(
        capture(&mut scanner, Duration::from_secs(1)).0,
        Err(DeviceError::Disconnected(_))
    ));
    assert!(matches!(
        scanner.wait_for_finger(Duration::from_millis(1)),
        Err(DeviceError::Disconnected(_))
    ));
}

#[test]
fn no_finger_times_out_after_the_callers_timeout() {
    let mut scanner = SimulatedScanner::synthetic(1, vec![])
        .with_timing(FAST)
        .with_fault(InjectedFault::NoFinger);
    let started = Instant::now();
    let (result, events) = capture(&mut scanner, Duration::from_millis(120));
    assert!(
        matches!(result, Err(DeviceError::Timeout(t, _)) if t == Duration::from_millis(120)),
        "{result:?}"
    );
    assert!(started.elapsed() >= Duration::from_millis(120));
    assert_eq!(events, vec![ScanEvent::AwaitingFinger]);
}

#[test]
fn a_stalled_transfer_times_out_and_the_retry_presents_the_same_finger() {
    let mut scanner = SimulatedScanner::synthetic(4, vec![2, 5])
        .with_timing(FAST)
        .with_fault(InjectedFault::StallDuringCapture(0));
    let started = Instant::now();
    let (result, _) = capture(&mut scanner, Duration::from_millis(200));
    assert!(
        matches!(result, Err(DeviceError::Timeout(..))),
        "{result:?}"
    );
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(190) && waited < Duration::from_millis(600),
        "{waited:?}"
    );
    let retry = capture(&mut scanner, Duration::from_secs(1)).0.unwrap();
    assert_eq!(
        retry,
        synthesis::impression(
            FingerSeed {
                subject: 4,
                finger: 2
            },
            0
        )
    );
}

#[test]
fn a_closed_scanner_refuses_to_capture() {
    let mut scanner = SimulatedScanner::synthetic(1, vec![]).with_timing(ScanTiming::INSTANT);
    scanner.close().unwrap();
    assert!(matches!(
        capture(&mut scanner, Duration::from_secs(1)).0,
        Err(DeviceError::InvalidState(_))
    ));
}

#[test]
fn a_folder_of_images_is_replayed_in_name_order() {
    let dir = std::env::temp_dir().join(format!("simdev-folder-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (name, finger) in [("b.png", 1u8), ("a.png", 0)] {
        let img = synthesis::impression(FingerSeed { subject: 3, finger }, 0);
        image::GrayImage::from_raw(img.width, img.height, img.pixels)
            .unwrap()
            .save(dir.join(name))
            .unwrap();
    }
    std::fs::write(dir.join("notes.txt"), "not an image").unwrap();
    let mut scanner = SimulatedScanner::from_folder(&dir)
        .unwrap()
        .with_timing(ScanTiming::INSTANT);
    let a = capture(&mut scanner, Duration::from_secs(1)).0.unwrap();
    let b = capture(&mut scanner, Duration::from_secs(1)).0.unwrap();
    let again = capture(&mut scanner, Duration::from_secs(1)).0.unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(
        a,
        synthesis::impression(
            FingerSeed {
                subject: 3,
                finger: 0
            },
            0
        )
    );
    assert_eq!(
        b,
        synthesis::impression(
            FingerSeed {
                subject: 3,
                finger: 1
            },
            0
        )
    );
    assert_eq!(again, a);
}

#[test]
fn an_empty_folder_is_not_found() {
    let dir = std::env::temp_dir().join(format!("simdev-empty-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let result = SimulatedScanner::from_folder(&dir);
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(matches!(result, Err(DeviceError::NotFound(_))));
    assert!(matches!(
        SimulatedScanner::from_folder(Path::new("/nonexistent/simdev")),
        Err(DeviceError::Io(_))
    ));
}

#[test]
fn fvc2002_images_replay_with_their_geometry() {
    let dir = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/data/fingerprint/fvc2002/DB2_B"
    ));
    if !dir.is_dir() {
        eprintln!(
            "skipped: shared FVC2002 data not present at {}",
            dir.display()
        );
        return;
    }
    // DB2 was captured at 569 dpi with a 296×560 optical sensor.
    let mut scanner = SimulatedScanner::from_folder(dir)
        .unwrap()
        .with_timing(ScanTiming::INSTANT)
        .with_dpi(569);
    let spec = scanner.image_spec();
    assert_eq!((spec.width, spec.height, spec.dpi), (296, 560, 569));
    let img = capture(&mut scanner, Duration::from_secs(1)).0.unwrap();
    assert_eq!((img.width, img.height, img.dpi), (296, 560, 569));
    let mean = img.pixels.iter().map(|&v| v as u64).sum::<u64>() / img.pixels.len() as u64;
    assert!((40..250).contains(&mean), "mean grey {mean}");
}
