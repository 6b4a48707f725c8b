//! Helpers shared by the USB test binaries: where the recordings live and how to load the
//! expected images.
#![allow(dead_code)]

use std::path::PathBuf;

/// The libfprint recordings in the shared data folder.
pub fn data_dir() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/data/fingerprint/libfprint-umockdev"
    ))
}

/// A file of one recording folder.
pub fn file(device: &str, name: &str) -> PathBuf {
    data_dir().join(device).join(name)
}

/// Decodes a PNG (grey, or RGB with R = G = B as libfprint stores them) to (width, height, grey).
pub fn load_gray_png(path: &std::path::Path) -> (u32, u32, Vec<u8>) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    let mut reader = decoder.read_info().expect("png header");
    let mut buf = vec![0u8; reader.output_buffer_size().expect("png size")];
    let info = reader.next_frame(&mut buf).expect("png data");
    assert_eq!(info.bit_depth, png::BitDepth::Eight, "{}", path.display());
    let channels = match info.color_type {
        png::ColorType::Grayscale => 1,
        png::ColorType::GrayscaleAlpha => 2,
        png::ColorType::Rgb => 3,
        png::ColorType::Rgba => 4,
        other => panic!("unexpected colour type {other:?}"),
    };
    let gray: Vec<u8> = buf[..info.buffer_size()]
        .chunks_exact(channels)
        .map(|p| {
            if channels >= 3 {
                assert!(p[0] == p[1] && p[1] == p[2], "expected image is not grey");
            }
            p[0]
        })
        .collect();
    (info.width, info.height, gray)
}

/// Asserts a captured image equals the expected PNG pixel for pixel, reporting how many differ.
pub fn assert_image_eq(image: &drivers::GrayImage, expected: &std::path::Path) {
    let (w, h, px) = load_gray_png(expected);
    assert_eq!(
        (image.width, image.height),
        (w, h),
        "geometry vs {}",
        expected.display()
    );
    let diff = image.pixels.iter().zip(&px).filter(|(a, b)| a != b).count();
    assert_eq!(
        diff,
        0,
        "{diff} of {} pixels differ from {}",
        px.len(),
        expected.display()
    );
}
