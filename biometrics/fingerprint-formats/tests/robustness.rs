//! Hostile and degenerate input: truncated, corrupted and forged WSQ files,
//! images of zero, one or absurd size, and blank images must all produce
//! typed errors (never a panic or a huge allocation).

mod common;

use fingerprint_formats::raster::{self, GrayImage, ImageError, ImageFormat};
use fingerprint_formats::wsq::{self, EncodeOptions, WsqError};

const SMALL_WSQ: &str = "wsq/vectors/libbiomeval-img.wsq";

/// Offset of the first occurrence of a 2-byte marker.
fn find_marker(data: &[u8], marker: u16) -> usize {
    data.windows(2)
        .position(|w| u16::from_be_bytes([w[0], w[1]]) == marker)
        .unwrap()
}

#[test]
fn every_truncation_of_a_wsq_file_is_an_error() {
    let data = common::read(SMALL_WSQ);
    for cut in (0..data.len())
        .step_by(7)
        .chain(data.len() - 40..data.len())
    {
        let r = wsq::decode(&data[..cut]);
        assert!(r.is_err(), "cut at {cut} decoded");
    }
    assert_eq!(wsq::decode(&[]), Err(WsqError::NotWsq));
    assert!(matches!(
        wsq::decode(&data[..data.len() - 2]),
        Err(WsqError::Truncated { .. })
    ));
}

/// Rewrites the frame header's width and height of a valid file.
fn with_size(width: u16, height: u16) -> Vec<u8> {
    let mut data = common::read(SMALL_WSQ);
    let sof = find_marker(&data, 0xFFA2);
    data[sof + 6..sof + 8].copy_from_slice(&height.to_be_bytes());
    data[sof + 8..sof + 10].copy_from_slice(&width.to_be_bytes());
    data
}

#[test]
fn forged_frame_sizes_are_rejected_before_allocation() {
    assert_eq!(
        wsq::decode(&with_size(50_000, 50_000)),
        Err(WsqError::TooLarge {
            width: 50_000,
            height: 50_000
        })
    );
    assert_eq!(
        wsq::decode(&with_size(0, 256)),
        Err(WsqError::TooSmall {
            width: 0,
            height: 256
        })
    );
    assert_eq!(
        wsq::decode(&with_size(1, 1)),
        Err(WsqError::TooSmall {
            width: 1,
            height: 1
        })
    );
    // Plausible but wrong sizes: the coefficient count no longer matches.
    assert!(matches!(
        wsq::decode(&with_size(300, 256)),
        Err(WsqError::CoefficientCount { .. })
    ));
    assert!(matches!(
        wsq::decode(&with_size(128, 256)),
        Err(WsqError::CoefficientCount { .. })
    ));
    assert!(matches!(
        raster::probe_dimensions(&with_size(50_000, 50_000)),
        Err(ImageError::TooLarge { .. })
    ));
}

#[test]
fn missing_or_broken_tables_are_reported() {
    let data = common::read(SMALL_WSQ);
    // Turn the quantisation table into an unknown marker.
    let mut no_dqt = data.clone();
    let dqt = find_marker(&no_dqt, 0xFFA5);
    no_dqt[dqt + 1] = 0xA7;
    assert!(matches!(
        wsq::decode(&no_dqt),
        Err(WsqError::UnexpectedMarker { marker: 0xFFA7, .. })
    ));
    // A transform table announcing other filter lengths.
    let mut filters = data.clone();
    let dtt = find_marker(&filters, 0xFFA4);
    filters[dtt + 4] = 8;
    assert_eq!(
        wsq::decode(&filters),
        Err(WsqError::UnsupportedFilter {
            low_pass: 8,
            high_pass: 7
        })
    );
    // A segment length of 1.
    let mut short = data.clone();
    short[dtt + 2..dtt + 4].copy_from_slice(&1u16.to_be_bytes());
    assert_eq!(
        wsq::decode(&short),
        Err(WsqError::BadSegmentLength {
            marker: 0xFFA4,
            length: 1
        })
    );
    // A block header selecting an undefined Huffman table.
    let mut table = data.clone();
    let sob = find_marker(&table, 0xFFA3);
    table[sob + 4] = 5;
    assert_eq!(
        wsq::decode(&table),
        Err(WsqError::Missing("huffman table for a block"))
    );
}

#[test]
fn corrupted_entropy_data_never_panics() {
    let data = common::read(SMALL_WSQ);
    let sob = find_marker(&data, 0xFFA3) + 5;
    let mut errors = 0;
    for i in (sob..data.len() - 2).step_by(31) {
        let mut bad = data.clone();
        bad[i] ^= 0x5A;
        if bad[i] == 0xFF {
            bad[i] = 0xFE;
        }
        if wsq::decode(&bad).is_err() {
            errors += 1;
        }
    }
    // Most flips desynchronise the Huffman stream and are caught.
    assert!(errors > 0);
}

#[test]
fn degenerate_images_give_typed_errors() {
    assert_eq!(GrayImage::new(0, 0, 500, vec![]), Err(ImageError::ZeroSize));
    let one = GrayImage::new(1, 1, 500, vec![9]).unwrap();
    assert!(matches!(
        wsq::encode(&one, &EncodeOptions::default()),
        Err(WsqError::TooSmall { .. })
    ));
    let blank = GrayImage::new(300, 300, 500, vec![255; 90_000]).unwrap();
    assert!(blank.is_blank());
    assert_eq!(
        wsq::encode(&blank, &EncodeOptions::default()),
        Err(WsqError::BlankImage)
    );
    assert!(matches!(
        GrayImage::new(10_000, 10_000, 500, vec![]),
        Err(ImageError::TooLarge { .. })
    ));
    // A 1x1 image still resamples (to 2x2 at double resolution).
    assert_eq!(one.resample_to_dpi(1000).unwrap().pixels(), &[9, 9, 9, 9]);
}

/// The smallest images WSQ accepts round-trip; one pixel less is refused.
#[test]
fn smallest_wsq_sizes() {
    let make = |w: u32, h: u32| {
        GrayImage::new(
            w,
            h,
            500,
            (0..w * h).map(|i| ((i * 37) % 256) as u8).collect(),
        )
        .unwrap()
    };
    let ok = make(wsq::MIN_SIDE, wsq::MIN_SIDE);
    let back = wsq::decode(&wsq::encode(&ok, &EncodeOptions::default()).unwrap()).unwrap();
    assert_eq!((back.image.width(), back.image.height()), (65, 65));
    assert!(matches!(
        wsq::encode(&make(64, 200), &EncodeOptions::default()),
        Err(WsqError::TooSmall { .. })
    ));
}

#[test]
fn probe_reads_headers_of_real_files() {
    let cases: [(&str, ImageFormat, u32, u32); 6] = [
        (
            "wsq/vectors/sourceafis-wsq-original.wsq",
            ImageFormat::Wsq,
            832,
            768,
        ),
        (
            "wsq/vectors/pypi-wsq-test.decoded.png",
            ImageFormat::Png,
            540,
            520,
        ),
        ("sourceafis-images/probe.jpeg", ImageFormat::Jpeg, 388, 374),
        ("fvc2004/DB1_B/101_1.tif", ImageFormat::Tiff, 640, 480),
        ("nfiq2/SFinGe_Test01.pgm", ImageFormat::Pgm, 416, 560),
        ("fvc2002/DB2_B/101_1.tif", ImageFormat::Tiff, 296, 560),
    ];
    for (path, format, w, h) in cases {
        assert_eq!(
            raster::probe_dimensions(&common::read(path)).unwrap(),
            (format, w, h),
            "{path}"
        );
    }
    let info = raster::probe(&common::read("wsq/vectors/sourceafis-wsq-original.wsq")).unwrap();
    assert_eq!(info.dpi, Some(500));
    // The pypi WSQ declares PPI -1: no resolution, so loading falls back.
    let pypi = common::read("wsq/vectors/pypi-wsq-test.wsq");
    assert_eq!(raster::probe(&pypi).unwrap().dpi, None);
    assert_eq!(raster::load(&pypi, 508).unwrap().dpi(), 508);
}

#[test]
fn loads_real_images_of_every_format() {
    let tif = raster::load(&common::read("fvc2002/DB1_B/102_1.tif"), 500).unwrap();
    assert_eq!((tif.width(), tif.height(), tif.dpi()), (388, 374, 500));
    // The JPEG is the same finger (SourceAFIS probe); after grey conversion it
    // is within a mean absolute difference of about 1.7 of the TIFF.
    let jpg = raster::load(&common::read("sourceafis-images/probe.jpeg"), 500).unwrap();
    let mad: f64 = tif
        .pixels()
        .iter()
        .zip(jpg.pixels())
        .map(|(&a, &b)| f64::from(a.abs_diff(b)))
        .sum::<f64>()
        / tif.pixels().len() as f64;
    assert!(mad < 2.0, "mean abs diff {mad}");
    let pgm = raster::load(&common::read("nfiq2/SFinGe_Test01.pgm"), 500).unwrap();
    assert_eq!((pgm.width(), pgm.height()), (416, 560));
    // The WSQ decode PNG and the WSQ itself load to the same pixels.
    let png = raster::load(
        &common::read("wsq/vectors/libbiomeval-img.decoded.png"),
        500,
    )
    .unwrap();
    let wsq_img = raster::load(&common::read("wsq/vectors/libbiomeval-img.wsq"), 500).unwrap();
    assert_eq!(png.pixels(), wsq_img.pixels());
    // BMP: re-encode the TIFF in memory (no BMP in the shared data).
    let mut bmp = Vec::new();
    image::codecs::bmp::BmpEncoder::new(&mut bmp)
        .encode(
            tif.pixels(),
            tif.width(),
            tif.height(),
            image::ExtendedColorType::L8,
        )
        .unwrap();
    let from_bmp = raster::load(&bmp, 500).unwrap();
    assert_eq!(
        raster::probe_dimensions(&bmp).unwrap(),
        (ImageFormat::Bmp, 388, 374)
    );
    assert_eq!(from_bmp.pixels(), tif.pixels());
    // Truncated real files fail cleanly.
    let png_bytes = common::read("wsq/vectors/libbiomeval-img.decoded.png");
    assert!(raster::load(&png_bytes[..png_bytes.len() / 2], 500).is_err());
    let tif_bytes = common::read("fvc2002/DB1_B/102_1.tif");
    assert!(raster::load(&tif_bytes[..1000], 500).is_err());
}

/// CRC-32 (IEEE) for building PNG chunks in tests.
fn crc32(bytes: &[u8]) -> u32 {
    let mut c = 0xFFFF_FFFFu32;
    for &b in bytes {
        c ^= u32::from(b);
        for _ in 0..8 {
            c = if c & 1 != 0 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
        }
    }
    !c
}

/// A PNG with a pHYs chunk of `dpi` inserted after IHDR.
fn png_with_dpi(img: &GrayImage, dpi: u32) -> Vec<u8> {
    let mut png = Vec::new();
    image::codecs::png::PngEncoder::new(&mut png)
        .write_image(
            img.pixels(),
            img.width(),
            img.height(),
            image::ExtendedColorType::L8,
        )
        .unwrap();
    let ppm = (f64::from(dpi) / 0.0254).round() as u32;
    let mut chunk = b"pHYs".to_vec();
    chunk.extend_from_slice(&ppm.to_be_bytes());
    chunk.extend_from_slice(&ppm.to_be_bytes());
    chunk.push(1);
    let mut out = png[..33].to_vec(); // signature + IHDR
    out.extend_from_slice(&9u32.to_be_bytes());
    out.extend_from_slice(&chunk);
    out.extend_from_slice(&crc32(&chunk).to_be_bytes());
    out.extend_from_slice(&png[33..]);
    out
}

use image::ImageEncoder;

#[test]
fn resolution_from_file_drives_resampling() {
    let tif = raster::load(&common::read("fvc2002/DB1_B/101_1.tif"), 500).unwrap();
    let png = png_with_dpi(&tif, 1000);
    assert_eq!(raster::probe(&png).unwrap().dpi, Some(1000));
    let loaded = raster::load(&png, 500).unwrap();
    assert_eq!(loaded.dpi(), 1000);
    let at500 = loaded.to_500_dpi().unwrap();
    assert_eq!(
        (at500.width(), at500.height(), at500.dpi()),
        (194, 187, 500)
    );
    // An implausible 72 dpi stamp is ignored in favour of the fallback.
    assert_eq!(
        raster::load(&png_with_dpi(&tif, 72), 500).unwrap().dpi(),
        500
    );
    // Down- then up-sampling keeps the ridge image recognisable (PSNR > 20 dB).
    let back = at500.resample_to_dpi(1000).unwrap();
    assert_eq!((back.width(), back.height()), (388, 374));
    assert!(raster::psnr(&tif, &back).unwrap() > 20.0);
}
