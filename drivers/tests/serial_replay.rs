//! Record a driver session against the emulator, save it as text, replay it into the same
//! driver code without any port, and get the same image; a driver that behaves differently from
//! the recording is caught.

use std::time::Duration;

use drivers::serial::emulator::{Emulator, EmulatorConfig, Fault};
use drivers::serial::recorder::{EventKind, ReplayError};
use drivers::serial::{baud_candidates, LinkSettings, R30x, R30xScanner, RecordingLink, ReplayLink, SerialRecording, SystemPort};
use drivers::{DeviceError, FingerprintScanner, GrayImage, ScanEvent};

fn fvc(name: &str) -> GrayImage {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data/fingerprint/fvc2002/DB1_B/");
    let img = image::open(format!("{path}{name}")).expect("FVC2002 image").to_luma8();
    let (w, h) = img.dimensions();
    GrayImage::new(w, h, 500, img.into_raw()).unwrap()
}

fn settings() -> LinkSettings {
    LinkSettings { timeout: Duration::from_millis(400), ..Default::default() }
}

/// Opens the scanner over `link` the way `drivers::serial::open` does (baud negotiation first).
fn scanner_over<L: drivers::serial::SerialLink>(link: L) -> R30xScanner<L> {
    let mut client = R30x::new(link, settings());
    let (_, params) = client.negotiate_baud(&baud_candidates(57600), Duration::from_millis(150)).unwrap();
    R30xScanner::new(client, params, "serial:replay".into())
}

#[test]
fn recorded_session_replays_to_the_same_image() {
    // The module sits at 115200, so the recording also holds a failed try at 57600.
    let cfg = EmulatorConfig { baud: 115200, absent_polls: 4, present_polls: 3, ..Default::default() };
    let emu = Emulator::start(cfg, vec![fvc("104_3.tif")]).unwrap();
    let recorder = RecordingLink::new(SystemPort::open(emu.path(), 57600).unwrap());
    let shared = recorder.shared();
    let mut scanner = scanner_over(recorder);
    let mut live_events = Vec::new();
    let live = scanner.capture(Duration::from_secs(5), &mut |e| live_events.push(e)).unwrap();
    drop(scanner);
    let recording = shared.lock().unwrap().clone();
    assert!(recording.events.iter().any(|e| matches!(e.kind, EventKind::Timeout(_))), "failed baud try recorded");
    assert!(recording.events.iter().any(|e| e.kind == EventKind::Baud(115200)));

    // Through the text format, as a field recording would travel.
    let dir = std::env::temp_dir().join(format!("r30x-replay-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("session.r30x.txt");
    recording.save(&file).unwrap();
    let loaded = SerialRecording::load(&file).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(loaded == recording, "text round trip changed the recording");

    drop(emu); // no device at all from here on
    let mut replayed = scanner_over(ReplayLink::new(loaded));
    let mut replay_events = Vec::new();
    let image = replayed.capture(Duration::from_secs(5), &mut |e| replay_events.push(e)).unwrap();
    assert!(image == live, "replayed image differs from the live one");
    assert_eq!(replay_events, live_events);
    assert!(live_events.contains(&ScanEvent::FingerRemoved));
    let link = replayed.into_client().unwrap().into_link();
    assert_eq!(link.remaining(), 0, "the driver did everything the recording shows");
}

#[test]
fn replay_reproduces_a_field_fault_and_detects_divergence() {
    let emu = Emulator::start(EmulatorConfig { absent_polls: 1, ..Default::default() }, vec![fvc("105_1.tif")]).unwrap();
    emu.inject(Fault::UnplugDuringUpImage { after_packets: 10 });
    let recorder = RecordingLink::new(SystemPort::open(emu.path(), 57600).unwrap());
    let shared = recorder.shared();
    let mut scanner = scanner_over(recorder);
    let live = scanner.capture(Duration::from_secs(5), &mut |_| {}).unwrap_err();
    assert!(matches!(live, DeviceError::Disconnected(_)), "{live:?}");
    let recording = shared.lock().unwrap().clone();
    assert!(recording.events.iter().any(|e| matches!(&e.kind, EventKind::Error(k) if k == "BrokenPipe")), "{}", recording.to_text());

    let text = recording.to_text();
    let mut replayed = scanner_over(ReplayLink::new(SerialRecording::parse(&text).unwrap()));
    let again = replayed.capture(Duration::from_secs(5), &mut |_| {}).unwrap_err();
    assert!(matches!(again, DeviceError::Disconnected(_)), "{again:?}");

    // A driver that sends something else than recorded is told so.
    let mut client = R30x::new(ReplayLink::new(SerialRecording::parse(&text).unwrap()), settings());
    let err = client.gen_img().unwrap_err();
    let source = match &err {
        drivers::serial::R30xError::Io(e) => e.get_ref().and_then(|e| e.downcast_ref::<ReplayError>()).cloned(),
        _ => None,
    };
    assert!(matches!(source, Some(ReplayError::WriteMismatch { .. })), "{err:?}");
}
