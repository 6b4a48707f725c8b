//! Template reading and writing against published samples with expected
//! decodes (fingerprintio-java JSON, the stager's DECODED-ISO2005.json),
//! real OpenAFIS templates and malformed files.

mod common;

use base64::Engine;
use fingerprint_formats::template::{
    self, read_template, read_template_with, write_template, FingerView, LengthCheck, Minutia,
    MinutiaKind, Template, TemplateError, TemplateFormat,
};
use serde_json::Value;

fn position_code(name: &str) -> u8 {
    const NAMES: [&str; 11] = [
        "UNKNOWN",
        "RIGHT_THUMB",
        "RIGHT_INDEX",
        "RIGHT_MIDDLE",
        "RIGHT_RING",
        "RIGHT_LITTLE",
        "LEFT_THUMB",
        "LEFT_INDEX",
        "LEFT_MIDDLE",
        "LEFT_RING",
        "LEFT_LITTLE",
    ];
    NAMES
        .iter()
        .position(|&n| n == name)
        .unwrap_or_else(|| panic!("position {name}")) as u8
}

fn scan_code(name: &str) -> u8 {
    match name {
        "LIVE_PLAIN" => 0,
        "LIVE_ROLLED" => 1,
        "NONLIVE_PLAIN" => 2,
        "NONLIVE_ROLLED" => 3,
        "SWIPE" | "LIVE_SWIPE" => 8,
        other => panic!("scan type {other}"),
    }
}

fn kind(name: &str) -> MinutiaKind {
    match name {
        "OTHER" | "EITHER" => MinutiaKind::Other,
        "ENDING" => MinutiaKind::Ending,
        "BIFURCATION" => MinutiaKind::Bifurcation,
        other => panic!("minutia type {other}"),
    }
}

fn u(v: &Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("not a number: {v}"))
}

fn check_minutiae(got: &[Minutia], exp: &Value, ctx: &str) {
    let exp = exp.as_array().unwrap();
    assert_eq!(got.len(), exp.len(), "{ctx}: minutia count");
    for (i, (m, e)) in got.iter().zip(exp).enumerate() {
        for (key, val) in e.as_object().unwrap() {
            match key.as_str() {
                "type" => assert_eq!(m.kind, kind(val.as_str().unwrap()), "{ctx} minutia {i}"),
                "positionX" => assert_eq!(u64::from(m.x), u(val), "{ctx} minutia {i} x"),
                "positionY" => assert_eq!(u64::from(m.y), u(val), "{ctx} minutia {i} y"),
                "angle" => assert_eq!(u64::from(m.angle), u(val), "{ctx} minutia {i} angle"),
                "quality" => assert_eq!(u64::from(m.quality), u(val), "{ctx} minutia {i} quality"),
                other => panic!("{ctx}: unhandled minutia field {other}"),
            }
        }
    }
}

/// Total bytes of the view's extended data blocks.
fn extension_bytes(v: &FingerView) -> usize {
    v.ridge_counts
        .as_ref()
        .map_or(0, |rc| 5 + 3 * rc.edges.len() + rc.trailing.len())
        + v.extensions.iter().map(|e| 4 + e.data.len()).sum::<usize>()
}

fn check_view(v: &FingerView, e: &Value, ctx: &str) {
    for (key, val) in e.as_object().unwrap() {
        match key.as_str() {
            "position" => assert_eq!(v.position, position_code(val.as_str().unwrap()), "{ctx}"),
            "view" => assert_eq!(u64::from(v.view), u(val), "{ctx} view"),
            "scanType" => assert_eq!(v.impression_type, scan_code(val.as_str().unwrap()), "{ctx}"),
            "quality" => assert_eq!(u64::from(v.quality), u(val), "{ctx} quality"),
            "qualityVendorId" => {
                assert_eq!(u64::from(v.quality_records[0].vendor_id), u(val), "{ctx}")
            }
            "qualityAlgorithmId" => assert_eq!(
                u64::from(v.quality_records[0].algorithm_id),
                u(val),
                "{ctx}"
            ),
            "width" => assert_eq!(u64::from(v.width), u(val), "{ctx} width"),
            "height" => assert_eq!(u64::from(v.height), u(val), "{ctx} height"),
            "resolutionX" => assert_eq!(u64::from(v.resolution_x), u(val), "{ctx}"),
            "resolutionY" => assert_eq!(u64::from(v.resolution_y), u(val), "{ctx}"),
            "minutiae" => check_minutiae(&v.minutiae, val, ctx),
            "minutiaCount" => assert_eq!(v.minutiae.len() as u64, u(val), "{ctx}"),
            "extendedDataBytes" => assert_eq!(extension_bytes(v) as u64, u(val), "{ctx}"),
            "counts" => match val {
                Value::Null => assert!(v.ridge_counts.is_none(), "{ctx}: unexpected ridge counts"),
                _ => {
                    let rc = v
                        .ridge_counts
                        .as_ref()
                        .unwrap_or_else(|| panic!("{ctx}: ridge counts missing"));
                    let method = ["CUSTOM", "QUADRANTS", "OCTANTS"]
                        .iter()
                        .position(|&n| n == val["type"])
                        .unwrap();
                    assert_eq!(usize::from(rc.method), method, "{ctx}");
                    let edges: Vec<(u64, u64, u64)> = val["edges"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|e| (u(&e["from"]), u(&e["to"]), u(&e["count"])))
                        .collect();
                    let got: Vec<(u64, u64, u64)> = rc
                        .edges
                        .iter()
                        .map(|e| (e.from.into(), e.to.into(), e.count.into()))
                        .collect();
                    assert_eq!(got, edges, "{ctx}");
                }
            },
            "coredelta" => {
                assert!(val.is_null());
                assert!(
                    v.extensions
                        .iter()
                        .all(|e| e.type_code != template::CORE_DELTA_EXTENSION),
                    "{ctx}"
                );
            }
            "zones" => {
                assert!(val.is_null());
                assert!(v.extensions.iter().all(|e| e.type_code != 3), "{ctx}");
            }
            "extensions" => {
                let exp: Vec<(u64, Vec<u8>)> = val
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|x| {
                        let data = base64::engine::general_purpose::STANDARD
                            .decode(x["data"].as_str().unwrap())
                            .unwrap();
                        (u(&x["type"]), data)
                    })
                    .collect();
                let got: Vec<(u64, Vec<u8>)> = v
                    .extensions
                    .iter()
                    .map(|x| (u64::from(x.type_code), x.data.clone()))
                    .collect();
                assert_eq!(got, exp, "{ctx}");
            }
            "datetime" => {
                let d = v.capture.unwrap().datetime;
                let got: [u64; 7] = [
                    d.year.into(),
                    d.month.into(),
                    d.day.into(),
                    d.hour.into(),
                    d.minute.into(),
                    d.second.into(),
                    d.millisecond.into(),
                ];
                let names = [
                    "year",
                    "month",
                    "day",
                    "hour",
                    "minute",
                    "second",
                    "millisecond",
                ];
                assert_eq!(val.as_object().unwrap().len(), 7);
                for (g, n) in got.iter().zip(names) {
                    assert_eq!(*g, u(&val[n]), "{ctx} datetime {n}");
                }
            }
            "sensorType" => assert_eq!(
                (val.as_str().unwrap(), v.capture.unwrap().technology),
                ("UNKNOWN", 0),
                "{ctx}"
            ),
            "sensorVendor" => assert_eq!(u64::from(v.capture.unwrap().vendor_id), u(val), "{ctx}"),
            "sensorId" => assert_eq!(u64::from(v.capture.unwrap().device_type), u(val), "{ctx}"),
            "qrecords" => {
                let exp: Vec<(u64, u64, u64)> = val
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|q| (u(&q["quality"]), u(&q["vendor"]), u(&q["algorithm"])))
                    .collect();
                let got: Vec<(u64, u64, u64)> = v
                    .quality_records
                    .iter()
                    .map(|q| (q.quality.into(), q.vendor_id.into(), q.algorithm_id.into()))
                    .collect();
                assert_eq!(got, exp, "{ctx}");
            }
            "certificates" => {
                assert_eq!(v.certificates.len(), val.as_array().unwrap().len(), "{ctx}")
            }
            "endingType" => {
                let code = ["VALLEY_SKELETON_BIFURCATION", "RIDGE_SKELETON_ENDPOINT"]
                    .iter()
                    .position(|&n| n == val)
                    .unwrap();
                assert_eq!(usize::from(v.ending_type), code, "{ctx}");
            }
            other => panic!("{ctx}: unhandled view field {other}"),
        }
    }
}

/// Compares every field of an expected JSON decode with the template.
fn check_template(t: &Template, exp: &Value, raw: &[u8], ctx: &str) {
    for (key, val) in exp.as_object().unwrap() {
        match key.as_str() {
            "vendorId" => assert_eq!(u64::from(t.vendor_id), u(val), "{ctx}"),
            "subformat" => assert_eq!(u64::from(t.subformat), u(val), "{ctx}"),
            "sensorCertified" => assert_eq!(t.sensor_certified, val.as_bool().unwrap(), "{ctx}"),
            "sensorId" => assert_eq!(u64::from(t.sensor_id), u(val), "{ctx}"),
            "width" => assert_eq!(u64::from(t.width), u(val), "{ctx}"),
            "height" => assert_eq!(u64::from(t.height), u(val), "{ctx}"),
            "resolutionX" => assert_eq!(u64::from(t.resolution_x), u(val), "{ctx}"),
            "resolutionY" => assert_eq!(u64::from(t.resolution_y), u(val), "{ctx}"),
            "fingerprints" => {
                let views = val.as_array().unwrap();
                assert_eq!(t.fingers.len(), views.len(), "{ctx}: view count");
                for (i, (v, e)) in t.fingers.iter().zip(views).enumerate() {
                    check_view(v, e, &format!("{ctx} view {i}"));
                }
            }
            "sha256" => assert_eq!(common::sha256_hex(raw), val.as_str().unwrap(), "{ctx}"),
            "fileBytes" => assert_eq!(raw.len() as u64, u(val), "{ctx}"),
            "version" => assert_eq!(
                &raw[4..7],
                format!(" {}", val.as_str().unwrap()).as_bytes(),
                "{ctx}"
            ),
            "declaredRecordLength" => {
                assert_eq!(
                    u64::from(u32::from_be_bytes(raw[8..12].try_into().unwrap())),
                    u(val),
                    "{ctx}"
                )
            }
            // Re-serialising yields exactly the parsed part of the record.
            "parseEndsAt" => {
                let end = u(val) as usize;
                assert_eq!(
                    write_template(t).unwrap(),
                    raw[..end],
                    "{ctx}: re-serialised bytes"
                );
            }
            "trailingBytesAfterRecord" => assert_eq!(
                raw.len() as u64 - u(&exp["declaredRecordLength"]),
                u(val),
                "{ctx}"
            ),
            other => panic!("{ctx}: unhandled template field {other}"),
        }
    }
}

/// (sample, format) of the fingerprintio samples.
const FINGERPRINTIO: [(&str, TemplateFormat); 5] = [
    ("iso19794p2v2005-sample", TemplateFormat::Iso19794_2_2005),
    ("iso19794p2v2011-sample", TemplateFormat::Iso19794_2_2011),
    ("ansi378v2004-sample", TemplateFormat::Ansi378_2004),
    ("ansi378v2009-sample", TemplateFormat::Ansi378_2009),
    ("ansi378v2009am1-sample", TemplateFormat::Ansi378_2009Amd1),
];

/// Every field of fingerprintio's expected decode matches, the format is
/// recognised, and writing the template back reproduces the file exactly,
/// with known deviations of the samples from the standards that the writer
/// corrects: the ANSI 2009 sample's declared length is one byte short, the
/// ANSI 2004 sample's two bytes short and its version spelled "020" instead
/// of " 20".
#[test]
fn fingerprintio_samples_match_expected_json_and_round_trip() {
    for (name, format) in FINGERPRINTIO {
        let raw = common::read(&format!("templates/fingerprintio/{name}.dat"));
        let exp = common::json(&format!("templates/fingerprintio/{name}.json"));
        assert_eq!(template::detect_format(&raw).unwrap(), format, "{name}");
        let t = read_template(&raw).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(t.format, format);
        check_template(&t, &exp, &raw, name);
        let written = write_template(&t).unwrap();
        if format == TemplateFormat::Ansi378_2009 {
            assert_eq!(&raw[8..12], &363u32.to_be_bytes());
            assert_eq!(&written[8..12], &364u32.to_be_bytes());
            assert_eq!(written[12..], raw[12..], "{name}");
        } else if format == TemplateFormat::Ansi378_2004 {
            assert_eq!((&raw[4..8], &written[4..8]), (&b"020\0"[..], &b" 20\0"[..]));
            assert_eq!(
                (&raw[8..10], &written[8..10]),
                (&340u16.to_be_bytes()[..], &342u16.to_be_bytes()[..])
            );
            assert_eq!(written[10..], raw[10..], "{name}");
        } else {
            assert_eq!(written, raw, "{name}: byte-exact round trip");
        }
        assert_eq!(read_template(&written).unwrap(), t, "{name}: write→read");
    }
}

/// Strict length checking flags exactly the samples with wrong lengths.
#[test]
fn strict_length_check_rejects_the_mislabelled_samples() {
    for (name, format) in FINGERPRINTIO {
        let raw = common::read(&format!("templates/fingerprintio/{name}.dat"));
        let strict = read_template_with(&raw, LengthCheck::Strict);
        match format {
            TemplateFormat::Ansi378_2009 => {
                assert_eq!(
                    strict,
                    Err(TemplateError::LengthMismatch {
                        declared: 363,
                        parsed: 364
                    }),
                    "{name}"
                )
            }
            TemplateFormat::Ansi378_2004 => {
                assert_eq!(
                    strict,
                    Err(TemplateError::LengthMismatch {
                        declared: 340,
                        parsed: 342
                    }),
                    "{name}"
                )
            }
            _ => assert!(strict.is_ok(), "{name}: {strict:?}"),
        }
    }
}

/// SourceAFIS records (zero-padded past the declared length) decode as the
/// stager's independent parser says; the libbiomeval record whose last
/// extension block claims one byte more than the file holds is rejected.
#[test]
fn decoded_iso2005_expectations() {
    let all = common::json("templates/DECODED-ISO2005.json");
    let mut checked = 0;
    for (name, exp) in all
        .as_object()
        .unwrap()
        .iter()
        .filter(|(k, _)| !k.starts_with('_'))
    {
        let raw = common::read(&format!("templates/{name}"));
        if u(&exp["parseEndsAt"]) > raw.len() as u64 {
            let err = read_template(&raw).unwrap_err();
            assert!(
                matches!(err, TemplateError::Truncated { .. }),
                "{name}: {err:?}"
            );
            continue;
        }
        let t =
            read_template_with(&raw, LengthCheck::Strict).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(t.format, TemplateFormat::Iso19794_2_2005);
        check_template(&t, exp, &raw, name);
        checked += 1;
    }
    assert_eq!(checked, 3);
}

/// OpenAFIS templates that were cut short by 1–3 bytes must fail.
#[test]
fn truncated_openafis_templates_are_rejected() {
    for n in ["1_byte", "2_bytes", "3_bytes"] {
        let raw = common::read(&format!(
            "templates/openafis-invalid/101_1_truncate_{n}.iso"
        ));
        let err = read_template(&raw).unwrap_err();
        assert!(
            matches!(
                err,
                TemplateError::DeclaredLengthExceedsData { .. } | TemplateError::Truncated { .. }
            ),
            "{n}: {err:?}"
        );
    }
}

/// OpenAFIS/SecuGen ISO 2005 templates of FVC2002 DB1_B: 300x400 frame at
/// 197 px/cm, one view, minutia counts as in MANIFEST.csv, all minutiae inside
/// the frame, quality not reported; each re-serialises byte for byte.
#[test]
fn openafis_fvc_templates_parse() {
    let manifest = String::from_utf8(common::read("fvc2002/DB1_B/MANIFEST.csv")).unwrap();
    let mut rows = 0;
    for line in manifest.lines().skip(1) {
        let cols: Vec<&str> = line.split(',').collect();
        let (file, count, fw, fh) = (cols[7], cols[8], cols[9], cols[10]);
        let raw = common::read(&format!("fvc2002/DB1_B/{file}"));
        let t =
            read_template_with(&raw, LengthCheck::Strict).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(t.format, TemplateFormat::Iso19794_2_2005);
        assert_eq!(
            (t.width.to_string(), t.height.to_string()),
            (fw.to_string(), fh.to_string())
        );
        assert_eq!((t.resolution_x, t.resolution_y), (197, 197));
        assert_eq!(t.fingers.len(), 1);
        let v = &t.fingers[0];
        assert_eq!(v.minutiae.len().to_string(), count, "{file}");
        assert!(
            v.minutiae
                .iter()
                .all(|m| m.x < t.width && m.y < t.height && m.quality == 0),
            "{file}"
        );
        assert_eq!(write_template(&t).unwrap(), raw, "{file}");
        rows += 1;
    }
    assert_eq!(rows, 80);
}

/// A template built in memory survives write→read in every format, and
/// converting between ISO and ANSI keeps angles within one unit and
/// qualities unchanged; "not reported" (0) becomes 254 in ISO 2011 and back.
#[test]
fn write_read_round_trip_every_format() {
    let mut view = FingerView::new(7, 400, 500, 197);
    view.quality = 80;
    view.minutiae = (0..40u16)
        .map(|i| Minutia {
            kind: [
                MinutiaKind::Ending,
                MinutiaKind::Bifurcation,
                MinutiaKind::Other,
            ][usize::from(i % 3)],
            x: 10 + i * 9,
            y: 20 + i * 11,
            angle: (i * 6) as u8,
            quality: 40 + (i % 60) as u8,
        })
        .collect();
    let base = Template {
        format: TemplateFormat::Iso19794_2_2005,
        vendor_id: 0,
        subformat: 0,
        sensor_certified: false,
        sensor_id: 0,
        width: 400,
        height: 500,
        resolution_x: 197,
        resolution_y: 197,
        fingers: vec![view],
    };
    let mut unreported = base.convert_to(TemplateFormat::Iso19794_2_2005);
    unreported.fingers[0].minutiae[0].quality = 0;
    let in_2011 = unreported.convert_to(TemplateFormat::Iso19794_2_2011);
    assert_eq!(in_2011.fingers[0].minutiae[0].quality, 254);
    assert_eq!(
        in_2011.convert_to(TemplateFormat::Ansi378_2009).fingers[0].minutiae[0].quality,
        0
    );
    for (_, format) in FINGERPRINTIO {
        let t = base.convert_to(format);
        let bytes = write_template(&t).unwrap();
        assert_eq!(template::detect_format(&bytes).unwrap(), format);
        let back = read_template_with(&bytes, LengthCheck::Strict).unwrap();
        assert_eq!(back.fingers[0].minutiae.len(), 40, "{format:?}");
        assert_eq!(
            back.fingers[0].minutiae, t.fingers[0].minutiae,
            "{format:?}"
        );
        assert_eq!((back.width, back.height), (400, 500), "{format:?}");
        assert!(
            back.fingers[0].minutiae.iter().all(|m| m.quality <= 100),
            "{format:?}"
        );
        let again = back.convert_to(TemplateFormat::Iso19794_2_2005);
        assert_eq!(
            again.fingers[0]
                .minutiae
                .iter()
                .map(|m| m.quality)
                .collect::<Vec<_>>(),
            base.fingers[0]
                .minutiae
                .iter()
                .map(|m| m.quality)
                .collect::<Vec<_>>(),
            "{format:?}"
        );
        for (a, b) in again.fingers[0]
            .minutiae
            .iter()
            .zip(&base.fingers[0].minutiae)
        {
            let d = (i32::from(a.angle) - i32::from(b.angle)).rem_euclid(256);
            assert!(
                d.min(256 - d) <= 1,
                "{format:?}: {} vs {}",
                a.angle,
                b.angle
            );
        }
    }
}

/// Hand-made malformed records give typed errors, never panics.
#[test]
fn malformed_records_give_typed_errors() {
    let good = common::read("templates/fingerprintio/iso19794p2v2005-sample.dat");
    assert_eq!(read_template(b""), Err(TemplateError::NotFmr));
    assert_eq!(
        read_template(b"FMR\0"),
        Err(TemplateError::Truncated {
            offset: 4,
            needed: 4
        })
    );
    assert!(matches!(
        read_template(b"FMR\0 99\0\0\0\0\0"),
        Err(TemplateError::UnsupportedVersion(_))
    ));
    // Every truncation of a valid record is an error.
    for cut in 0..good.len() {
        assert!(read_template(&good[..cut]).is_err(), "cut at {cut}");
    }
    // Declared length below the header.
    let mut small = common::read("templates/fingerprintio/ansi378v2009am1-sample.dat");
    small[8..12].copy_from_slice(&10u32.to_be_bytes());
    assert_eq!(
        read_template(&small),
        Err(TemplateError::DeclaredLengthTooSmall {
            declared: 10,
            minimum: 21
        })
    );
    // Minutia count larger than the data.
    let mut many = good.clone();
    many[27] = 255;
    assert!(matches!(
        read_template(&many),
        Err(TemplateError::Truncated { .. })
    ));
    // Reserved minutia type 3.
    let mut reserved = good.clone();
    reserved[28] |= 0xC0;
    assert_eq!(
        read_template(&reserved),
        Err(TemplateError::BadMinutiaType(3))
    );
    // An extension block whose length fits neither convention.
    let mut ext = good.clone();
    let tail = ext.len() - 10;
    ext[tail + 2..tail + 4].copy_from_slice(&2u16.to_be_bytes());
    assert!(matches!(
        read_template(&ext),
        Err(TemplateError::BadExtension { .. })
    ));
    // Writing out-of-range values is refused.
    let mut t = read_template(&good).unwrap();
    t.fingers[0].minutiae[0].x = 0x4000;
    assert!(matches!(
        write_template(&t),
        Err(TemplateError::FieldTooLarge { .. })
    ));
}

/// NIST libbiomeval samples: the ANSI 2004 record (three views, ridge
/// counts and a core/delta block; two unexplained bytes inside its declared
/// length) and the "030" record with a 2-byte equipment field, which holds
/// the same views as fingerprintio's ANSI 2009 sample.
#[test]
fn libbiomeval_ansi_records() {
    let raw = common::read("templates/libbiomeval/fmr.ansi2004");
    let t = read_template(&raw).unwrap();
    assert_eq!(t.format, TemplateFormat::Ansi378_2004);
    assert_eq!(
        t.fingers
            .iter()
            .map(|v| v.minutiae.len())
            .collect::<Vec<_>>(),
        vec![27, 22, 28]
    );
    assert_eq!(
        t.fingers.iter().map(|v| v.position).collect::<Vec<_>>(),
        vec![7, 2, 3]
    );
    assert!(t.fingers[1].ridge_counts.is_some() && t.fingers[2].ridge_counts.is_some());
    assert_eq!(
        t.fingers[2]
            .extensions
            .iter()
            .map(|e| e.type_code)
            .collect::<Vec<_>>(),
        vec![template::CORE_DELTA_EXTENSION]
    );
    assert_eq!(
        read_template_with(&raw, LengthCheck::Strict),
        Err(TemplateError::LengthMismatch {
            declared: 1238,
            parsed: 1236
        })
    );
    assert_eq!(write_template(&t).unwrap()[10..], raw[10..1236]);

    let raw = common::read("templates/libbiomeval/fmr.ansi2007");
    let t = read_template_with(&raw, LengthCheck::Strict).unwrap();
    assert_eq!(t.format, TemplateFormat::Ansi378_2007);
    assert_eq!((t.vendor_id, t.subformat, t.sensor_id), (66, 17, 181));
    assert_eq!(write_template(&t).unwrap(), raw);
    let sample = read_template(&common::read(
        "templates/fingerprintio/ansi378v2009-sample.dat",
    ))
    .unwrap();
    assert_eq!(t.fingers, sample.fingers);
}

/// Less common layouts: an ANSI 2004 record above 64 KiB (6-byte length
/// field) and an ISO 2011 record with certification blocks, capture data and
/// 5-byte minutiae (no quality) survive write→read unchanged.
#[test]
fn large_and_certified_records_round_trip() {
    let mut view = FingerView::new(1, 800, 750, 197);
    view.minutiae = (0..255u16)
        .map(|i| Minutia {
            kind: MinutiaKind::Bifurcation,
            x: i * 3,
            y: 749 - i * 2,
            angle: (i % 180) as u8,
            quality: 60,
        })
        .collect();
    let mut big = Template {
        format: TemplateFormat::Ansi378_2004,
        vendor_id: 0x33,
        subformat: 7,
        sensor_certified: true,
        sensor_id: 0x123,
        width: 800,
        height: 750,
        resolution_x: 197,
        resolution_y: 197,
        fingers: Vec::new(),
    };
    for v in 0..50u8 {
        let mut f = view.clone();
        f.position = 1 + v % 10;
        f.view = v / 10;
        big.fingers.push(f);
    }
    let bytes = write_template(&big).unwrap();
    assert!(bytes.len() > 0xFFFF);
    assert_eq!(&bytes[8..10], &[0, 0]);
    assert_eq!(
        template::detect_format(&bytes).unwrap(),
        TemplateFormat::Ansi378_2004
    );
    assert_eq!(
        read_template_with(&bytes, LengthCheck::Strict).unwrap(),
        big
    );

    let mut iso = big.convert_to(TemplateFormat::Iso19794_2_2011);
    iso.fingers.truncate(2);
    for m in &mut iso.fingers[1].minutiae {
        m.quality = 254;
    }
    iso.fingers[0].certificates = vec![template::Certificate {
        authority_id: 0x0101,
        scheme_id: 3,
    }];
    iso.fingers[0].capture = Some(template::CaptureInfo {
        datetime: template::CaptureDateTime {
            year: 2026,
            month: 11,
            day: 23,
            hour: 8,
            minute: 35,
            second: 0,
            millisecond: 250,
        },
        technology: 14,
        vendor_id: 0xABCD,
        device_type: 0x0042,
    });
    iso.fingers[0].ending_type = 1;
    let bytes = write_template(&iso).unwrap();
    assert_eq!(bytes[14], 1, "certification flag");
    let back = read_template_with(&bytes, LengthCheck::Strict).unwrap();
    assert_eq!(back.fingers[0].certificates, iso.fingers[0].certificates);
    assert_eq!(back.fingers[0].capture, iso.fingers[0].capture);
    assert_eq!(back.fingers[0].ending_type, 1);
    assert_eq!(
        back.fingers[1].minutiae, iso.fingers[1].minutiae,
        "5-byte minutiae keep quality 254"
    );
    assert_eq!(write_template(&back).unwrap(), bytes);
}
