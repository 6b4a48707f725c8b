//! Timing of the R30x serial driver, for docs/benchmarks/serial.md.
//!
//! `cargo bench -p drivers --bench serial_link` (or `cargo test -p drivers --bench serial_link`, the
//! dev profile, where `drivers` is built at opt-level 3 too). Prints median / p90 / max of:
//! packet encode+decode of a 128-byte data packet; a full capture (GenImg poll + UpImage of 288
//! packets + removal poll) through the real driver over a pty against the emulator, unpaced
//! (driver + pty overhead) and paced at 57600 and 115200 baud (what a real module's UART allows);
//! replaying a recorded capture; the emulator's descriptor and its library search.

use std::time::{Duration, Instant};

use drivers::serial::emulator::{self, Emulator, EmulatorConfig};
use drivers::serial::protocol::{Packet, Pid};
use drivers::serial::{baud_candidates, LinkSettings, R30x, R30xScanner, RecordingLink, ReplayLink, SystemPort};
use drivers::{FingerprintScanner, GrayImage};

fn stats(name: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let p = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    println!("{name:<52} n={:<6} median {:>9.3} ms   p90 {:>9.3} ms   max {:>9.3} ms", samples.len(), ms(p(0.5)), ms(p(0.9)), ms(p(1.0)));
}

fn fvc(name: &str) -> GrayImage {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data/fingerprint/fvc2002/DB1_B/");
    let img = image::open(format!("{path}{name}")).expect("FVC2002 image").to_luma8();
    let (w, h) = img.dimensions();
    GrayImage::new(w, h, 500, img.into_raw()).unwrap()
}

fn capture_times(cfg: EmulatorConfig, n: usize) -> Vec<Duration> {
    let baud = cfg.baud;
    let emu = Emulator::start(cfg, vec![fvc("101_1.tif"), fvc("102_1.tif")]).unwrap();
    let mut scanner = drivers::serial::open(emu.path(), baud).unwrap();
    (0..n)
        .map(|_| {
            let t = Instant::now();
            scanner.capture(Duration::from_secs(30), &mut |_| {}).unwrap();
            t.elapsed()
        })
        .collect()
}

fn main() {
    let packet = Packet { address: 0xFFFF_FFFF, pid: Pid::Data, content: (0..128u8).collect() };
    let mut samples = Vec::new();
    for _ in 0..200 {
        let t = Instant::now();
        for _ in 0..1000 {
            let bytes = std::hint::black_box(&packet).encode();
            std::hint::black_box(Packet::decode(&bytes).unwrap());
        }
        samples.push(t.elapsed());
    }
    samples.sort();
    println!("{:<52} median {:>9.1} ns per packet", "encode+decode 128-byte data packet", samples[samples.len() / 2].as_nanos() as f64 / 1000.0);

    let instant = EmulatorConfig { absent_polls: 1, present_polls: 1, ..Default::default() };
    stats("capture over pty, unpaced", capture_times(instant.clone(), 30));
    stats("capture over pty, paced 57600 baud", capture_times(EmulatorConfig { pace: true, ..instant.clone() }, 3));
    stats("capture over pty, paced 115200 baud", capture_times(EmulatorConfig { pace: true, baud: 115200, ..instant.clone() }, 3));

    // Record one capture, then replay it repeatedly.
    let emu = Emulator::start(instant, vec![fvc("103_1.tif")]).unwrap();
    let rec = RecordingLink::new(SystemPort::open(emu.path(), 57600).unwrap());
    let shared = rec.shared();
    let mut client = R30x::new(rec, LinkSettings::default());
    let (_, params) = client.negotiate_baud(&baud_candidates(57600), Duration::from_millis(200)).unwrap();
    let mut s = R30xScanner::new(client, params, "bench".into());
    s.capture(Duration::from_secs(5), &mut |_| {}).unwrap();
    let recording = shared.lock().unwrap().clone();
    println!("recording of one capture: {} events, {} bytes as text", recording.events.len(), recording.to_text().len());
    let samples = (0..30)
        .map(|_| {
            let t = Instant::now();
            let mut c = R30x::new(ReplayLink::new(recording.clone()), LinkSettings::default());
            let (_, params) = c.negotiate_baud(&baud_candidates(57600), Duration::from_millis(200)).unwrap();
            R30xScanner::new(c, params, "replay".into()).capture(Duration::from_secs(5), &mut |_| {}).unwrap();
            t.elapsed()
        })
        .collect();
    stats("replay of a recorded capture", samples);

    let images: Vec<GrayImage> = (101..=110).map(|f| emulator::fit_to_sensor(&fvc(&format!("{f}_1.tif")))).collect();
    let samples = (0..50)
        .map(|i| {
            let t = Instant::now();
            std::hint::black_box(emulator::describe(&images[i % images.len()]));
            t.elapsed()
        })
        .collect();
    stats("emulator descriptor (Img2Tz)", samples);
    let descs: Vec<Vec<u8>> = images.iter().map(|i| emulator::describe(i).0).collect();
    let samples = (0..50)
        .map(|i| {
            let t = Instant::now();
            std::hint::black_box(emulator::compare(&descs[i % 10], &descs[(i + 3) % 10]));
            t.elapsed()
        })
        .collect();
    stats("emulator descriptor compare (one pair)", samples);
}
