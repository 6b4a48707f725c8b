//! The real R30x driver, opened by path through `serialport`, against the emulated module on the
//! other end of a pty pair, serving real FVC2002 finger images.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use drivers::serial::emulator::{self, Emulator, EmulatorConfig, Fault};
use drivers::serial::protocol::{self, ConfirmationCode, Instruction, Packet};
use drivers::serial::{open, open_with, probe, LinkSettings, ProbeOptions, R30x, R30xError, SerialLink, SystemPort};
use drivers::{DeviceError, FingerprintScanner, GrayImage, ScanEvent};

fn fvc_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data/fingerprint/fvc2002/DB1_B"))
}

fn fvc(name: &str) -> GrayImage {
    let img = image::open(fvc_dir().join(name)).expect("FVC2002 image").to_luma8();
    let (w, h) = img.dimensions();
    GrayImage::new(w, h, 500, img.into_raw()).unwrap()
}

fn client(emu: &Emulator) -> R30x<SystemPort> {
    let link = SystemPort::open(emu.path(), 57600).unwrap();
    R30x::new(link, LinkSettings { timeout: Duration::from_millis(500), ..LinkSettings::default() })
}

#[test]
fn capture_returns_the_served_image_with_events() {
    let images = vec![fvc("101_1.tif"), fvc("102_1.tif")];
    let expected: Vec<Vec<u8>> = images.iter().map(|i| protocol::unpack_4bit(&protocol::pack_4bit(&emulator::fit_to_sensor(i).pixels))).collect();
    let emu = Emulator::start(EmulatorConfig { absent_polls: 3, present_polls: 2, ..Default::default() }, images).unwrap();
    let mut scanner = open(emu.path(), 57600).unwrap();
    assert_eq!(scanner.info().driver, "r30x");
    assert_eq!(scanner.info().id, format!("serial:{}", emu.path()));
    assert_eq!((scanner.image_spec().width, scanner.image_spec().height, scanner.image_spec().dpi), (256, 288, 500));
    for want in &expected {
        let mut events = Vec::new();
        let img = scanner.capture(Duration::from_secs(5), &mut |e| events.push(e)).unwrap();
        assert_eq!((img.width, img.height), (256, 288));
        assert_eq!(&img.pixels, want);
        assert_eq!(events.first(), Some(&ScanEvent::AwaitingFinger));
        assert_eq!(events[1], ScanEvent::FingerPresent);
        assert_eq!(events.last(), Some(&ScanEvent::FingerRemoved));
        let percents: Vec<u8> = events.iter().filter_map(|e| if let ScanEvent::Progress { percent } = e { Some(*percent) } else { None }).collect();
        assert_eq!(percents.first(), Some(&0));
        assert_eq!(percents.last(), Some(&100));
        assert!(percents.windows(2).all(|w| w[0] < w[1]), "{percents:?}");
        assert!(percents.len() > 50, "one event per upload step: {percents:?}");
    }
    assert_eq!(emu.stats().images_uploaded, 2);
    // The image is the real finger, not a blank: plenty of dark ridge pixels.
    assert!(expected[0].iter().filter(|&&p| p < 128).count() > 10_000);
}

#[test]
fn no_finger_times_out_within_the_limit() {
    let emu = Emulator::start(EmulatorConfig::default(), Vec::new()).unwrap();
    let mut scanner = open(emu.path(), 57600).unwrap();
    let t = Instant::now();
    let err = scanner.wait_for_finger(Duration::from_millis(300)).unwrap_err();
    assert!(matches!(err, DeviceError::Timeout(..)), "{err:?}");
    assert!(t.elapsed() < Duration::from_millis(900), "{:?}", t.elapsed());
    assert!(emu.stats().commands >= 3, "GenImg was polled");
}

#[test]
fn enroll_and_search_on_the_module() {
    let emu = Emulator::start(EmulatorConfig::default(), Vec::new()).unwrap();
    let mut c = client(&emu);
    c.handshake().unwrap();
    // Enroll finger 101 from two impressions at page 5, finger 102 at page 7.
    for (finger, page) in [("101", 5u16), ("102", 7)] {
        emu.place_finger(&fvc(&format!("{finger}_1.tif")));
        c.gen_img().unwrap();
        c.img2tz(1).unwrap();
        emu.place_finger(&fvc(&format!("{finger}_2.tif")));
        c.gen_img().unwrap();
        c.img2tz(2).unwrap();
        c.reg_model().unwrap();
        c.store(1, page).unwrap();
    }
    assert_eq!(c.template_count().unwrap(), 2);
    assert_eq!(emu.stored_pages(), vec![5, 7]);
    // The template is the emulator's own descriptor: two 288-byte feature files.
    assert_eq!(c.up_char(1).unwrap().len(), 2 * emulator::FEATURE_LEN);

    // The very impression enrolled is found at its page.
    emu.place_finger(&fvc("102_1.tif"));
    c.gen_img().unwrap();
    c.img2tz(1).unwrap();
    let hit = c.search(1, 0, 200).unwrap().expect("enrolled impression found");
    assert_eq!(hit.page, 7);
    // A blank sensor image has no features.
    emu.place_finger(&GrayImage::new(256, 288, 500, vec![250; 256 * 288]).unwrap());
    c.gen_img().unwrap();
    let e = c.img2tz(1).unwrap_err();
    assert_eq!(e.code(), Some(ConfirmationCode::TooFewFeatures));
    // Searching an empty range is "not found", an outcome rather than an error.
    emu.place_finger(&fvc("101_1.tif"));
    c.gen_img().unwrap();
    c.img2tz(1).unwrap();
    assert_eq!(c.search(1, 100, 50).unwrap(), None);
    c.delete(5, 1).unwrap();
    assert_eq!(c.template_count().unwrap(), 1);
    c.empty_library().unwrap();
    assert_eq!(c.template_count().unwrap(), 0);
    emu.lift_finger();
    assert_eq!(c.gen_img().unwrap_err().code(), Some(ConfirmationCode::NoFinger));
}

#[test]
fn merging_impressions_of_different_fingers_fails() {
    let emu = Emulator::start(EmulatorConfig::default(), Vec::new()).unwrap();
    let mut c = client(&emu);
    let mut failures = 0;
    for (a, b) in [("101_1.tif", "104_1.tif"), ("102_1.tif", "105_1.tif"), ("103_1.tif", "106_1.tif")] {
        emu.place_finger(&fvc(a));
        c.gen_img().unwrap();
        c.img2tz(1).unwrap();
        emu.place_finger(&fvc(b));
        c.gen_img().unwrap();
        c.img2tz(2).unwrap();
        if let Err(e) = c.reg_model() {
            assert_eq!(e.code(), Some(ConfirmationCode::MergeFailed));
            failures += 1;
        }
    }
    assert!(failures >= 2, "impostor pairs merged: {}", 3 - failures);
}

#[test]
fn corrupted_checksum_and_unknown_code_are_typed_errors_and_the_link_recovers() {
    let emu = Emulator::start(EmulatorConfig::default(), Vec::new()).unwrap();
    let mut c = client(&emu);
    emu.inject(Fault::CorruptChecksum);
    let e = c.template_count().unwrap_err();
    assert!(matches!(e, R30xError::Packet { source: protocol::PacketError::BadChecksum { .. }, .. }), "{e:?}");
    assert!(matches!(DeviceError::from(e), DeviceError::Protocol(_)));
    emu.inject(Fault::Confirmation(0x42));
    let e = c.template_count().unwrap_err();
    assert_eq!(e.code(), Some(ConfirmationCode::Unknown(0x42)));
    assert!(matches!(DeviceError::from(e), DeviceError::Protocol(_)));
    emu.inject(Fault::Silence);
    let t = Instant::now();
    let e = c.template_count().unwrap_err();
    assert!(matches!(e, R30xError::Timeout { command: Instruction::TemplateNum, .. }), "{e:?}");
    assert!(t.elapsed() < Duration::from_millis(900));
    // The next exchange works again.
    assert_eq!(c.template_count().unwrap(), 0);
}

#[test]
fn module_rejects_a_host_packet_with_a_bad_checksum() {
    let emu = Emulator::start(EmulatorConfig::default(), Vec::new()).unwrap();
    let mut link = SystemPort::open(emu.path(), 57600).unwrap();
    let mut bytes = Packet::command(protocol::DEFAULT_ADDRESS, Instruction::GenImg, &[]).encode();
    *bytes.last_mut().unwrap() ^= 1;
    link.write_all(&bytes).unwrap();
    let mut got = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(2);
    while got.len() < 12 && Instant::now() < deadline {
        let mut b = [0u8; 64];
        if let Ok(n) = link.read(&mut b, Duration::from_millis(100)) {
            got.extend_from_slice(&b[..n]);
        }
    }
    let (ack, _) = Packet::decode(&got).unwrap();
    assert_eq!(ack.confirmation(), Some(ConfirmationCode::PacketReceiveError));
    assert_eq!(emu.stats().bad_packets, 1);
}

#[test]
fn unplug_during_upimage_is_a_disconnect_not_a_hang() {
    let emu = Emulator::start(EmulatorConfig { absent_polls: 0, ..Default::default() }, vec![fvc("101_1.tif")]).unwrap();
    let mut scanner = open(emu.path(), 57600).unwrap();
    emu.inject(Fault::UnplugDuringUpImage { after_packets: 100 });
    let mut progress = 0;
    let t = Instant::now();
    let err = scanner
        .capture(Duration::from_secs(5), &mut |e| {
            if let ScanEvent::Progress { percent } = e {
                progress = percent;
            }
        })
        .unwrap_err();
    assert!(matches!(err, DeviceError::Disconnected(_)), "{err:?}");
    assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
    // 100 of 288 packets were sent (34 %); the hang-up may discard what the tty still buffered.
    assert!(progress <= 35, "{progress}%");
    assert!(!emu.is_running());
}

#[test]
fn baud_negotiation_finds_a_module_left_at_another_speed_and_can_change_it() {
    let emu = Emulator::start(EmulatorConfig { baud: 115200, ..Default::default() }, Vec::new()).unwrap();
    // Configured 57600, module at 115200: found via the standard list.
    let mut scanner = open(emu.path(), 57600).unwrap();
    assert_eq!(scanner.system_parameters().baud(), 115200);
    assert!(emu.stats().garbled_bytes > 0, "the first attempt at 57600 went unheard");
    let c = scanner.client().unwrap();
    assert_eq!(c.link().baud_rate().unwrap(), 115200);
    // Ask the module to move to 19200: SetSysPara(4, 2), then both ends switch.
    let params = c.set_baud(19200).unwrap();
    assert_eq!(params.baud(), 19200);
    assert_eq!(emu.stats().baud, 19200);
    assert_eq!(c.link().baud_rate().unwrap(), 19200);
    assert!(matches!(c.set_baud(14400), Err(R30xError::UnsupportedBaud(14400))));
    drop(scanner);
    // A module moved behind our back is unheard at the old speed: typed timeout.
    emu.inject(Fault::ChangeBaud(38400));
    let mut c = R30x::new(SystemPort::open(emu.path(), 19200).unwrap(), LinkSettings { timeout: Duration::from_millis(200), ..Default::default() });
    assert!(matches!(c.handshake(), Err(R30xError::Timeout { .. })));
    let (baud, _) = c.negotiate_baud(&drivers::serial::baud_candidates(19200), Duration::from_millis(150)).unwrap();
    assert_eq!(baud, 38400);
}

#[test]
fn password_protected_module() {
    let cfg = EmulatorConfig { password: 0x1234_5678, require_password: true, ..Default::default() };
    let emu = Emulator::start(cfg, Vec::new()).unwrap();
    let mut c = client(&emu);
    assert_eq!(c.gen_img().unwrap_err().code(), Some(ConfirmationCode::PasswordRequired));
    assert_eq!(c.verify_password().unwrap_err().code(), Some(ConfirmationCode::WrongPassword));
    // A port in use by another program is busy, not absent.
    let busy = probe(emu.path(), &ProbeOptions::default()).unwrap_err();
    assert!(matches!(&busy, DeviceError::Io(e) if e.kind() == std::io::ErrorKind::ResourceBusy), "{busy:?}");
    drop(c);
    // A wrong password proves an R30x is there: the probe reports the refusal, not "nothing".
    let err = probe(emu.path(), &ProbeOptions { per_try: Duration::from_millis(150), ..Default::default() }).unwrap_err();
    assert!(matches!(err, DeviceError::Device(_)), "{err:?}");
    let settings = LinkSettings { password: 0x1234_5678, ..Default::default() };
    let scanner = open_with(emu.path(), 57600, settings).unwrap();
    assert_eq!(scanner.system_parameters().status & 0b100, 0b100, "password verified flag");
}

#[test]
fn probe_identifies_the_emulator_and_rejects_a_silent_port() {
    let emu = Emulator::start(EmulatorConfig::default(), Vec::new()).unwrap();
    let opts = ProbeOptions { per_try: Duration::from_millis(100), ..Default::default() };
    let (baud, params) = probe(emu.path(), &opts).unwrap().unwrap();
    assert_eq!((baud, params.library_size, params.packet_size()), (57600, 200, Some(128)));
    // The slave of a pair nobody serves answers nothing at any baud.
    let (_master, slave) = serialport::TTYPort::pair().unwrap();
    use serialport::SerialPort;
    let t = Instant::now();
    assert_eq!(probe(&slave.name().unwrap(), &opts).unwrap(), None);
    assert!(t.elapsed() < Duration::from_secs(3));
    let found = drivers::serial::list_r30x_candidates(&ProbeOptions { extra_paths: vec![emu.path().to_owned()], ..opts }).unwrap();
    assert!(found.iter().any(|c| c.port.path == emu.path() && c.baud == 57600), "{found:?}");
    assert!(matches!(open("/dev/does-not-exist-r30x", 57600), Err(DeviceError::NotFound(_))));
}

#[test]
fn serial_backend_lists_and_opens_through_the_manager() {
    use drivers::manager::{Backend, DeviceManager};
    use std::sync::Arc;
    let emu = Emulator::start(EmulatorConfig { absent_polls: 0, ..Default::default() }, vec![fvc("101_1.tif")]).unwrap();
    let backend = drivers::serial::SerialBackend::new(ProbeOptions { per_try: Duration::from_millis(100), extra_paths: vec![emu.path().to_owned()], ..Default::default() });
    let listed = backend.list().unwrap();
    let id = format!("serial:{}", emu.path());
    assert!(listed.iter().any(|d| d.id == id && d.driver == "r30x"), "{listed:?}");
    let mut manager = DeviceManager::empty();
    manager.register(Arc::new(backend));
    let mut scanner = manager.open_scanner(&id).unwrap();
    let img = scanner.capture(Duration::from_secs(5), &mut |_| {}).unwrap();
    assert_eq!(img.pixels.len(), 256 * 288);
    assert!(matches!(manager.open_scanner("usb:1234:5678"), Err(DeviceError::NotFound(_))));
}
