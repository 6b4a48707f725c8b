//! The y4m reader on valid, truncated and hostile input, and the file camera built on it.

use std::io::Cursor;
use std::time::{Duration, Instant};

use drivers::camera::convert::YuvRange;
use drivers::camera::y4m::{Y4mReader, MAX_HEADER_BYTES};
use drivers::camera::FileCamera;
use drivers::{Camera, DeviceError};

/// A 4×2 C420jpeg stream: frame k has luma 16 + 50k (grey), neutral chroma.
fn grey_video(frames: usize, header: &str) -> Vec<u8> {
    let mut data = format!("{header}\n").into_bytes();
    for k in 0..frames {
        data.extend_from_slice(b"FRAME\n");
        data.extend(std::iter::repeat_n(16 + 50 * k as u8, 8));
        data.extend([128u8; 4]);
    }
    data
}

#[test]
fn a_valid_420_stream_decodes_every_frame() {
    let data = grey_video(3, "YUV4MPEG2 W4 H2 F25:1 Ip A1:1 C420jpeg");
    let mut reader = Y4mReader::new(Cursor::new(data)).unwrap();
    assert_eq!(
        (
            reader.header().width,
            reader.header().height,
            reader.header().fps_rounded()
        ),
        (4, 2, 25)
    );
    let mut greys = Vec::new();
    while let Some(rgb) = reader.next_rgb().unwrap() {
        assert_eq!(rgb.len(), 4 * 2 * 3);
        assert!(
            rgb.iter().all(|&v| v == rgb[0]),
            "a grey frame has equal channels everywhere"
        );
        greys.push(rgb[0]);
    }
    // Limited range: 16 → 0, 66 → 58, 116 → 116.
    assert_eq!(greys, vec![0, 58, 116]);
    assert_eq!(reader.frames_read(), 3);
}

#[test]
fn a_444_full_range_stream_keeps_per_pixel_colour() {
    // 2×1, C444 full range: a red pixel and a blue pixel (JPEG YCbCr values).
    let mut data = b"YUV4MPEG2 W2 H1 F30:1 C444 XCOLORRANGE=FULL\nFRAME Ixyz\n".to_vec();
    data.extend([76, 29]); // Y
    data.extend([85, 255]); // Cb
    data.extend([255, 107]); // Cr
    let mut reader = Y4mReader::new(Cursor::new(data)).unwrap();
    assert_eq!(reader.header().range, YuvRange::Full);
    let rgb = reader.next_rgb().unwrap().unwrap();
    let (red, blue) = (&rgb[..3], &rgb[3..]);
    assert!(red[0] > 250 && red[1] < 5 && red[2] < 5, "{red:?}");
    assert!(blue[2] > 250 && blue[0] < 5 && blue[1] < 5, "{blue:?}");
    assert!(reader.next_rgb().unwrap().is_none());
}

#[test]
fn a_truncated_frame_is_a_protocol_error() {
    let mut data = grey_video(2, "YUV4MPEG2 W4 H2 F25:1 C420");
    data.truncate(data.len() - 3);
    let mut reader = Y4mReader::new(Cursor::new(data)).unwrap();
    assert!(reader.next_rgb().unwrap().is_some());
    match reader.next_rgb() {
        Err(DeviceError::Protocol(msg)) => assert!(msg.contains("truncated"), "{msg}"),
        other => panic!("expected a truncation error, got {other:?}"),
    }
    // Truncated inside a FRAME line, and inside the header.
    let data = b"YUV4MPEG2 W4 H2 F25:1\nFRA".to_vec();
    assert!(matches!(
        Y4mReader::new(Cursor::new(data)).unwrap().next_rgb(),
        Err(DeviceError::Protocol(_))
    ));
    assert!(matches!(
        Y4mReader::new(Cursor::new(b"YUV4MPEG2 W4 H2".to_vec())),
        Err(DeviceError::Protocol(_))
    ));
    assert!(matches!(
        Y4mReader::new(Cursor::new(Vec::new())),
        Err(DeviceError::Protocol(_))
    ));
}

#[test]
fn a_huge_header_is_rejected_without_reading_it_all() {
    // 64 MiB of header with no newline: the reader must stop at its bound.
    struct Endless(usize);
    impl std::io::Read for Endless {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let start = self.0;
            self.0 += buf.len();
            let prefix = b"YUV4MPEG2 W4 H2 F25:1 X";
            for (i, b) in buf.iter_mut().enumerate() {
                *b = *prefix.get(start + i).unwrap_or(&b'A');
            }
            Ok(buf.len())
        }
    }
    let mut source = Endless(0);
    let result = Y4mReader::new(&mut source);
    assert!(
        matches!(result, Err(DeviceError::Protocol(ref m)) if m.contains("longer")),
        "{:?}",
        result.err()
    );
    assert!(source.0 <= MAX_HEADER_BYTES, "read {} bytes", source.0);
    // Huge declared geometry is refused before any allocation.
    assert!(matches!(
        Y4mReader::new(Cursor::new(b"YUV4MPEG2 W8192 H8192 F1:1\n".to_vec())),
        Err(DeviceError::Protocol(_))
    ));
}

#[test]
fn garbage_between_frames_is_rejected() {
    let mut data = grey_video(1, "YUV4MPEG2 W4 H2 F25:1");
    data.extend_from_slice(b"JUNK\n");
    let mut reader = Y4mReader::new(Cursor::new(data)).unwrap();
    reader.next_rgb().unwrap();
    assert!(matches!(reader.next_rgb(), Err(DeviceError::Protocol(_))));
}

fn temp_path(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("simdev-{}-{name}", std::process::id()))
}

#[test]
fn the_file_camera_plays_a_video_at_its_rate_and_loops() {
    let path = temp_path("loop.y4m");
    std::fs::write(&path, grey_video(3, "YUV4MPEG2 W4 H2 F50:1 C420jpeg")).unwrap();
    let mut cam = FileCamera::open(&path).unwrap();
    let format = cam.formats().unwrap()[0];
    assert_eq!((format.width, format.height, format.fps), (4, 2, 50));
    cam.start(format).unwrap();
    let started = Instant::now();
    let frames: Vec<_> = (0..7)
        .map(|_| cam.next_frame(Duration::from_secs(1)).unwrap())
        .collect();
    let took = started.elapsed();
    // 7 frames at 50 fps: the last is due at 120 ms.
    assert!(took >= Duration::from_millis(115), "{took:?}");
    assert_eq!(
        frames.iter().map(|f| f.sequence).collect::<Vec<_>>(),
        (0..7).collect::<Vec<_>>()
    );
    assert_eq!(frames[6].timestamp, Duration::from_millis(120));
    let greys: Vec<u8> = frames.iter().map(|f| f.rgb[0]).collect();
    assert_eq!(greys, vec![0, 58, 116, 0, 58, 116, 0]);
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn without_looping_the_end_of_a_recording_disconnects() {
    let path = temp_path("once.y4m");
    std::fs::write(&path, grey_video(2, "YUV4MPEG2 W4 H2 F1000:1")).unwrap();
    let mut cam = FileCamera::open(&path)
        .unwrap()
        .with_looping(false)
        .with_pacing(false);
    cam.start(cam.native_format()).unwrap();
    assert!(cam.next_frame(Duration::from_secs(1)).is_ok());
    assert!(cam.next_frame(Duration::from_secs(1)).is_ok());
    assert!(matches!(
        cam.next_frame(Duration::from_secs(1)),
        Err(DeviceError::Disconnected(_))
    ));
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn a_folder_of_frames_plays_in_name_order() {
    let dir = temp_path("frames");
    std::fs::create_dir_all(&dir).unwrap();
    for (name, v) in [("002.png", 200u8), ("001.jpg", 10), ("003.bmp", 90)] {
        image::RgbImage::from_pixel(8, 6, image::Rgb([v, v, v]))
            .save(dir.join(name))
            .unwrap();
    }
    let mut cam = FileCamera::open(&dir).unwrap().with_pacing(false);
    assert!(
        cam.next_frame(Duration::from_secs(1)).is_err(),
        "frames before start"
    );
    cam.start(cam.native_format()).unwrap();
    let greys: Vec<u8> = (0..4)
        .map(|_| cam.next_frame(Duration::from_secs(1)).unwrap().rgb[0])
        .collect();
    std::fs::remove_dir_all(&dir).unwrap();
    // JPEG is lossy: allow a few levels.
    assert!(
        greys[0].abs_diff(10) <= 3
            && greys[1] == 200
            && greys[2] == 90
            && greys[3].abs_diff(10) <= 3,
        "{greys:?}"
    );
}

#[test]
fn a_missing_source_is_not_found() {
    assert!(matches!(
        FileCamera::open(std::path::Path::new("/nonexistent/simdev.y4m")),
        Err(DeviceError::NotFound(_))
    ));
}

#[test]
fn a_recording_can_be_replayed_at_another_rate() {
    let path = temp_path("rate.y4m");
    std::fs::write(&path, grey_video(3, "YUV4MPEG2 W4 H2 F30000:1001")).unwrap();
    let mut cam = FileCamera::open(&path).unwrap();
    let native = cam.native_format();
    assert_eq!(native.fps, 30);
    cam.start(drivers::FrameFormat { fps: 100, ..native })
        .unwrap();
    let stamps: Vec<Duration> = (0..3)
        .map(|_| cam.next_frame(Duration::from_secs(1)).unwrap().timestamp)
        .collect();
    assert_eq!(
        stamps,
        vec![
            Duration::ZERO,
            Duration::from_millis(10),
            Duration::from_millis(20)
        ]
    );
    cam.stop().unwrap();
    assert_eq!(
        cam.formats().unwrap(),
        vec![native],
        "the offered format stays the native one"
    );
    // At the native rate the exact NTSC fraction is kept: frame 1 is due at 33.366… ms.
    cam.start(native).unwrap();
    cam.next_frame(Duration::from_secs(1)).unwrap();
    assert_eq!(
        cam.next_frame(Duration::from_secs(1)).unwrap().timestamp,
        Duration::from_nanos(33_366_666)
    );
    std::fs::remove_file(&path).unwrap();
}
