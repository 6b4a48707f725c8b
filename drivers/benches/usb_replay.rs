//! Replay decode of a full capture, per USB driver: the time from a parsed recording to the
//! finished image (driver state machine, transfer matching, frame validation, descrambling or
//! upscaling). Target: under 5 ms per capture. Also the parse time of the recording files.
//!
//! Run: `cargo bench -p drivers --bench usb_replay` (figures go to docs/benchmarks/usb.md).

use std::time::{Duration, Instant};

use drivers::usb::{aes3500, nb1010, uru4000, Recording, ReplayTransport, UsbTransport};
use drivers::{DeviceInfo, DeviceKind, FingerprintScanner};

fn data(device: &str, name: &str) -> std::path::PathBuf {
    std::path::PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/data/fingerprint/libfprint-umockdev"
    ))
    .join(device)
    .join(name)
}

fn info() -> DeviceInfo {
    DeviceInfo {
        id: "bench".into(),
        name: "bench".into(),
        kind: DeviceKind::FingerprintScanner,
        driver: "bench".into(),
    }
}

fn open(device: &str, t: Box<dyn UsbTransport>) -> Box<dyn FingerprintScanner> {
    match device {
        "nb1010" => Box::new(nb1010::Nb1010::open(t, info()).unwrap()),
        "aes3500" => Box::new(aes3500::Aes3500::open(t, info()).unwrap()),
        "uru4000-4500" => Box::new(
            uru4000::Uru4000::open(
                t,
                info(),
                uru4000::URU4500,
                uru4000::Seed::Fixed(0x51EA_2124),
            )
            .unwrap(),
        ),
        _ => Box::new(
            uru4000::Uru4000::open(t, info(), uru4000::MS_V2, uru4000::Seed::Fixed(0x51EA_2124))
                .unwrap(),
        ),
    }
}

fn stats(mut v: Vec<Duration>) -> (f64, f64, f64) {
    v.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    (
        ms(v[0]),
        ms(v[v.len() / 2]),
        ms(v[(v.len() * 95 / 100).min(v.len() - 1)]),
    )
}

fn main() {
    let iterations: usize = std::env::var("USB_BENCH_ITERATIONS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(200);
    println!(
        "| recording | format | parse ms (median) | capture replay+decode ms min / median / p95 |"
    );
    println!("|---|---|---|---|");
    for (device, file) in [
        ("nb1010", "capture.ioctl"),
        ("aes3500", "capture.ioctl"),
        ("uru4000-4500", "capture.pcapng"),
        ("uru4000-msv2", "capture.pcapng"),
    ] {
        let bytes = std::fs::read(data(device, file)).unwrap();
        let parse = |b: &[u8]| {
            if file.ends_with("pcapng") {
                Recording::parse_pcapng(b, None).unwrap()
            } else {
                Recording::parse_ioctl(std::str::from_utf8(b).unwrap()).unwrap()
            }
        };
        let parse_times: Vec<Duration> = (0..20)
            .map(|_| {
                let t = Instant::now();
                std::hint::black_box(parse(&bytes));
                t.elapsed()
            })
            .collect();
        let rec = parse(&bytes);
        let mut times = Vec::with_capacity(iterations);
        for _ in 0..iterations {
            let transport = Box::new(ReplayTransport::new(device, rec.clone()));
            let t = Instant::now();
            let mut scanner = open(device, transport);
            let img = scanner
                .capture(Duration::from_secs(5), &mut |_| {})
                .unwrap();
            times.push(t.elapsed());
            std::hint::black_box(img);
        }
        let (_, parse_med, _) = stats(parse_times);
        let (min, med, p95) = stats(times);
        println!("| {device} | {file} | {parse_med:.2} | {min:.2} / {med:.2} / {p95:.2} |");
    }
}
