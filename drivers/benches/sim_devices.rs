//! Timing of the simulated devices and camera sources, for docs/benchmarks/simdev.md.
//!
//! `cargo bench -p drivers --bench sim_devices` (release). Prints median and 90th percentile of:
//! master print synthesis, one impression, a full simulated capture (INSTANT timing); the
//! simulated camera's first frame (cold: first in the process, including PNG decoding; warm)
//! and its per-frame render; how late paced frames are delivered after their due time; and the
//! file camera's overhead over decoding the same y4m frames directly.

use std::io::Cursor;
use std::time::{Duration, Instant};

use drivers::camera::y4m::Y4mReader;
use drivers::camera::FileCamera;
use drivers::simulated::synthesis::{self, FingerSeed, Impression};
use drivers::simulated::{Motion, ScanTiming, SimulatedCamera, SimulatedScanner};
use drivers::{Camera, FingerprintScanner, FrameEncoding, FrameFormat};

fn stats(name: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let p = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    println!("{name:<48} n={:<4} median {:>8.3} ms   p90 {:>8.3} ms   max {:>8.3} ms", samples.len(), ms(p(0.5)), ms(p(0.9)), ms(p(1.0)));
}

fn time<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let t = Instant::now();
    let v = f();
    (v, t.elapsed())
}

fn main() {
    let vga = FrameFormat { width: 640, height: 480, fps: 30, encoding: FrameEncoding::Rgb };

    // Camera cold start first, before anything else has decoded the portrait.
    let (_, cold) = time(|| {
        let mut cam = SimulatedCamera::astronaut(Motion::Natural).unwrap();
        cam.start(vga).unwrap();
        cam.next_frame(Duration::from_secs(1)).unwrap()
    });
    stats("sim camera: first frame, cold (decode PNG)", vec![cold]);
    stats(
        "sim camera: first frame, warm",
        (0..20)
            .map(|_| {
                time(|| {
                    let mut cam = SimulatedCamera::astronaut(Motion::Natural).unwrap();
                    cam.start(vga).unwrap();
                    cam.next_frame(Duration::from_secs(1)).unwrap()
                })
                .1
            })
            .collect(),
    );
    let cam = SimulatedCamera::astronaut(Motion::Natural).unwrap();
    stats("sim camera: pose + render 640x480", (0..60).map(|i| time(|| cam.frame_at(Duration::from_millis(33 * i), i)).1).collect());

    // Paced delivery: how long after its due time each frame is returned.
    let mut cam = SimulatedCamera::astronaut(Motion::Natural).unwrap();
    cam.start(vga).unwrap();
    let start = Instant::now();
    let mut late = Vec::new();
    for _ in 0..60 {
        let f = cam.next_frame(Duration::from_secs(1)).unwrap();
        late.push(start.elapsed().saturating_sub(f.timestamp));
    }
    stats("sim camera 30 fps: return after due time", late);

    // File camera overhead over the bare y4m decoder, 640x480 C420jpeg.
    let video = synthetic_video(60);
    let path = std::env::temp_dir().join(format!("simdev-bench-{}.y4m", std::process::id()));
    std::fs::write(&path, &video).unwrap();
    let mut reader = Y4mReader::new(Cursor::new(video)).unwrap();
    let bare: Vec<Duration> = (0..60).map(|_| time(|| reader.next_rgb().unwrap().unwrap()).1).collect();
    let mut fcam = FileCamera::open(&path).unwrap().with_pacing(false).with_looping(false);
    fcam.start(fcam.native_format()).unwrap();
    let through: Vec<Duration> = (0..60).map(|_| time(|| fcam.next_frame(Duration::from_secs(1)).unwrap()).1).collect();
    std::fs::remove_file(&path).unwrap();
    let overhead: Vec<Duration> = {
        let (mut b, mut t) = (bare.clone(), through.clone());
        b.sort();
        t.sort();
        b.iter().zip(&t).map(|(b, t)| t.saturating_sub(*b)).collect()
    };
    stats("y4m decode 640x480 420 (in memory)", bare);
    stats("file camera next_frame (file, unpaced)", through);
    stats("file camera overhead over decode (sorted pairs)", overhead);

    // Synthesis.
    let seeds: Vec<FingerSeed> = (0..20).map(|i| FingerSeed { subject: 1000 + i, finger: (i % 10) as u8 }).collect();
    let masters: Vec<_> = seeds.iter().map(|&s| time(|| synthesis::master(s))).collect();
    stats("synthesis: master print 320x400", masters.iter().map(|m| m.1).collect());
    stats(
        "synthesis: impression",
        seeds.iter().zip(&masters).map(|(&s, (m, _))| time(|| m.impression(&Impression::random(s, 1), s, 1)).1).collect(),
    );
    let mut scanner = SimulatedScanner::synthetic(7, vec![]).with_timing(ScanTiming::INSTANT);
    stats(
        "sim scanner: capture (new finger, INSTANT timing)",
        (0..10).map(|_| time(|| scanner.capture(Duration::from_secs(5), &mut |_| {}).unwrap()).1).collect(),
    );
    stats(
        "sim scanner: capture (finger seen before)",
        (0..10).map(|_| time(|| scanner.capture(Duration::from_secs(5), &mut |_| {}).unwrap()).1).collect(),
    );
}

/// A 640×480 C420jpeg video with a moving gradient.
fn synthetic_video(frames: usize) -> Vec<u8> {
    let (w, h) = (640usize, 480usize);
    let mut data = b"YUV4MPEG2 W640 H480 F30:1 Ip A1:1 C420jpeg\n".to_vec();
    for k in 0..frames {
        data.extend_from_slice(b"FRAME\n");
        for y in 0..h {
            data.extend((0..w).map(|x| ((x + y + k * 3) % 220 + 16) as u8));
        }
        data.extend(std::iter::repeat_n(100u8, w * h / 4));
        data.extend(std::iter::repeat_n(160u8, w * h / 4));
    }
    data
}
