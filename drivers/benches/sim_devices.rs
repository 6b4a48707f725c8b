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

/// CPU time this thread has run (Linux: `/proc/thread-self/schedstat`, nanoseconds). On a
/// machine shared with other builds, wall time measures the queue as much as the code; CPU
/// time is what the code costs on a free core.
fn thread_cpu() -> Option<Duration> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    Some(Duration::from_nanos(
        text.split_whitespace().next()?.parse().ok()?,
    ))
}

/// Wall time of each sample, and the CPU time of the whole group divided by the sample count.
struct Samples {
    wall: Vec<Duration>,
    cpu: Option<Duration>,
}

fn stats(name: &str, samples: Samples) {
    let mut wall = samples.wall;
    wall.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let p = |q: f64| wall[((wall.len() - 1) as f64 * q).round() as usize];
    let cpu = samples
        .cpu
        .map_or("   n/a".to_owned(), |c| format!("{:>8.3}", ms(c)));
    println!(
        "{name:<50} n={:<3} wall median {:>8.3} ms  p90 {:>8.3} ms  max {:>8.3} ms | CPU mean {cpu} ms",
        wall.len(),
        ms(p(0.5)),
        ms(p(0.9)),
        ms(p(1.0))
    );
}

/// Runs `f` `n` times, timing each run.
fn group<T>(n: usize, mut f: impl FnMut(usize) -> T) -> Samples {
    let cpu0 = thread_cpu();
    let wall = (0..n)
        .map(|i| {
            let t = Instant::now();
            std::hint::black_box(f(i));
            t.elapsed()
        })
        .collect();
    let cpu = cpu0.zip(thread_cpu()).map(|(a, b)| (b - a) / n as u32);
    Samples { wall, cpu }
}

fn main() {
    let vga = FrameFormat {
        width: 640,
        height: 480,
        fps: 30,
        encoding: FrameEncoding::Rgb,
    };
    let open_and_grab = |_| {
        let mut cam = SimulatedCamera::astronaut(Motion::Natural).unwrap();
        cam.start(vga).unwrap();
        cam.next_frame(Duration::from_secs(1)).unwrap()
    };

    // Camera cold start first, before anything else has decoded the portrait.
    stats(
        "sim camera: first frame, cold (decodes the PNG)",
        group(1, open_and_grab),
    );
    stats("sim camera: first frame, warm", group(20, open_and_grab));
    let cam = SimulatedCamera::astronaut(Motion::Natural).unwrap();
    stats(
        "sim camera: pose + render 640x480",
        group(60, |i| {
            cam.frame_at(Duration::from_millis(33 * i as u64), i as u64)
        }),
    );

    // Paced delivery: how long after its due time each frame is returned (render included).
    let mut cam = SimulatedCamera::astronaut(Motion::Natural).unwrap();
    cam.start(vga).unwrap();
    let start = Instant::now();
    let mut late = Vec::new();
    for _ in 0..60 {
        let f = cam.next_frame(Duration::from_secs(1)).unwrap();
        late.push(start.elapsed().saturating_sub(f.timestamp));
    }
    stats(
        "sim camera 30 fps: returned after due time",
        Samples {
            wall: late,
            cpu: None,
        },
    );

    // File camera overhead over the bare y4m decoder, 640x480 C420jpeg.
    let video = synthetic_video(60);
    let path = std::env::temp_dir().join(format!("simdev-bench-{}.y4m", std::process::id()));
    std::fs::write(&path, &video).unwrap();
    let mut reader = Y4mReader::new(Cursor::new(video)).unwrap();
    let bare = group(60, |_| reader.next_rgb().unwrap().unwrap());
    let mut fcam = FileCamera::open(&path)
        .unwrap()
        .with_pacing(false)
        .with_looping(false);
    fcam.start(fcam.native_format()).unwrap();
    let through = group(60, |_| fcam.next_frame(Duration::from_secs(1)).unwrap());
    std::fs::remove_file(&path).unwrap();
    let overhead = bare.cpu.zip(through.cpu).map(|(b, t)| t.saturating_sub(b));
    stats("y4m decode 640x480 420 (from memory)", bare);
    stats("file camera next_frame (from file, unpaced)", through);
    println!(
        "file camera overhead over the decoder: CPU {:?} per frame",
        overhead
    );

    // Synthesis.
    let seeds: Vec<FingerSeed> = (0..20)
        .map(|i| FingerSeed {
            subject: 1000 + i,
            finger: (i % 10) as u8,
        })
        .collect();
    let mut masters = Vec::new();
    stats(
        "synthesis: master print 320x400",
        group(seeds.len(), |i| masters.push(synthesis::master(seeds[i]))),
    );
    stats(
        "synthesis: impression",
        group(seeds.len(), |i| {
            masters[i].impression(&Impression::random(seeds[i], 1), seeds[i], 1)
        }),
    );
    let mut scanner = SimulatedScanner::synthetic(7, vec![]).with_timing(ScanTiming::INSTANT);
    stats(
        "sim scanner: capture, new finger (INSTANT timing)",
        group(10, |_| {
            scanner
                .capture(Duration::from_secs(5), &mut |_| {})
                .unwrap()
        }),
    );
    stats(
        "sim scanner: capture, finger seen before",
        group(10, |_| {
            scanner
                .capture(Duration::from_secs(5), &mut |_| {})
                .unwrap()
        }),
    );
    println!(
        "load average: {}",
        std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .trim()
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
