//! Data-driven and robustness tests on the shared FVC / NFIQ 2 images.

use fingerprint::eval::{list_fvc, rates, write_det_png, DetCurve};
use fingerprint::matcher::FMR_1_IN_10000_THRESHOLD;
use fingerprint::quality::{assess, Autocapture, CaptureState, Reason};
use fingerprint::{extract, match_score, FpError, Gallery, GrayImage, MatchTemplate, Template};
use std::path::PathBuf;

fn shared(rel: &str) -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/fingerprint"
    ))
    .join(rel)
}

fn load(rel: &str) -> GrayImage {
    GrayImage::load(&shared(rel)).expect("shared image")
}

fn tpl(rel: &str) -> Template {
    extract(&load(rel)).expect("extract")
}

#[test]
fn sourceafis_reference_pairs_separate() {
    // SourceAFIS's own test trio (pixel-identical to FVC2002 DB1_B files).
    let probe = MatchTemplate::new(&tpl("fvc2002/DB1_B/102_1.tif"));
    let mate = MatchTemplate::new(&tpl("fvc2002/DB1_B/102_2.tif"));
    let other = MatchTemplate::new(&tpl("fvc2002/DB1_B/103_7.tif"));
    let g = match_score(&probe, &mate);
    let i = match_score(&probe, &other);
    // The pooled FMR 1:10,000 threshold measured in docs/benchmarks/fpengine.md.
    assert!(g > FMR_1_IN_10000_THRESHOLD, "genuine score {g}");
    assert!(i < 10.0, "impostor score {i}");
}

#[test]
fn small_subset_eer_is_low() {
    // Fingers 101-105, impressions 1-4 of FVC2002 DB2_B: 30 genuine, 160 impostor pairs.
    let imgs: Vec<_> = list_fvc(&shared("fvc2002/DB2_B"))
        .expect("list")
        .into_iter()
        .filter(|x| x.finger <= 105 && x.impression <= 4)
        .collect();
    assert_eq!(imgs.len(), 20);
    let ts: Vec<MatchTemplate> = imgs
        .iter()
        .map(|x| MatchTemplate::new(&extract(&GrayImage::load(&x.path).unwrap()).unwrap()))
        .collect();
    let (mut gen, mut imp) = (Vec::new(), Vec::new());
    for a in 0..ts.len() {
        for b in a + 1..ts.len() {
            let s = match_score(&ts[a], &ts[b]);
            if imgs[a].finger == imgs[b].finger {
                gen.push(s);
            } else {
                imp.push(s);
            }
        }
    }
    let r = rates(&gen, &imp);
    assert!(r.eer <= 0.10, "EER {}", r.eer);
    let dir = std::env::temp_dir().join(format!("fp-det-{}.png", std::process::id()));
    let curve = DetCurve {
        label: "FVC2002 DB2_B subset".into(),
        genuine: &gen,
        impostor: &imp,
        colour: 0,
        dashed: false,
    };
    write_det_png(&dir, "subset", &[curve]).expect("det");
    let png = GrayImage::load(&dir).expect("det png readable");
    // The layout belongs to eval's DET module; only check a real plot came out.
    assert!(png.width() >= 400 && png.height() >= 400);
    let _ = std::fs::remove_file(dir);
}

#[test]
fn fvc2002_db1_eer_stays_within_target() {
    // Issue 5 target: EER <= 3 % on FVC2002 DB1_B, all 280 genuine and all
    // 2,880 impostor pairs (the protocol of docs/benchmarks/fpengine.md).
    let dir = shared("fvc2002/DB1_B");
    if !dir.exists() {
        eprintln!("skipped: {} is absent", dir.display());
        return;
    }
    let imgs = list_fvc(&dir).expect("list");
    assert_eq!(imgs.len(), 80);
    let (templates, _) = fingerprint::eval::extract_all(&imgs, 2).expect("extract");
    let ts: Vec<MatchTemplate> = templates.iter().map(MatchTemplate::new).collect();
    let mut m = fingerprint::Matcher::default();
    let (mut gen, mut imp) = (Vec::new(), Vec::new());
    for a in 0..ts.len() {
        for b in a + 1..ts.len() {
            let s = m.score(&ts[a], &ts[b]);
            if imgs[a].finger == imgs[b].finger {
                gen.push(s);
            } else {
                imp.push(s);
            }
        }
    }
    assert_eq!((gen.len(), imp.len()), (280, 2880));
    let r = rates(&gen, &imp);
    assert!(r.eer <= 0.03, "EER {:.2} %", r.eer * 100.0);
}

#[test]
fn extraction_and_matching_are_deterministic() {
    let img = load("fvc2004/DB1_B/101_1.tif");
    let a = extract(&img).unwrap();
    let b = extract(&img).unwrap();
    assert_eq!(a, b);
    assert!(a.minutiae.len() >= 10);
    let c = MatchTemplate::new(&tpl("fvc2004/DB1_B/101_2.tif"));
    let s1 = match_score(&MatchTemplate::new(&a), &c);
    let s2 = match_score(&MatchTemplate::new(&b), &c);
    assert_eq!(s1.to_bits(), s2.to_bits());
}

#[test]
fn minutiae_are_inside_image_and_iso_ranged() {
    let t = tpl("fvc2002/DB1_B/101_1.tif");
    assert_eq!((t.width, t.height, t.dpi), (388, 374, 500));
    for m in &t.minutiae {
        assert!(m.x < t.width && m.y < t.height);
        assert!((0.0..std::f32::consts::TAU).contains(&m.angle));
        assert!((1..=100).contains(&m.quality));
    }
}

#[test]
fn template_bytes_round_trip_and_reject_corruption() {
    let t = tpl("fvc2002/DB1_B/101_1.tif");
    let bytes = t.to_bytes();
    let back = Template::from_bytes(&bytes).unwrap();
    assert_eq!(back.minutiae.len(), t.minutiae.len());
    for (a, b) in t.minutiae.iter().zip(&back.minutiae) {
        assert_eq!((a.x, a.y, a.kind, a.quality), (b.x, b.y, b.kind, b.quality));
        assert!(
            (a.angle - b.angle).abs() < 1e-3
                || (a.angle - b.angle).abs() > std::f32::consts::TAU - 1e-3
        );
    }
    assert!(matches!(
        Template::from_bytes(&bytes[..bytes.len() - 1]),
        Err(FpError::InvalidTemplate(_))
    ));
    let mut extra = bytes.clone();
    extra.push(0);
    assert!(Template::from_bytes(&extra).is_err());
    let mut magic = bytes.clone();
    magic[0] = b'X';
    assert!(Template::from_bytes(&magic).is_err());
    let mut ver = bytes.clone();
    ver[4] = 9;
    assert!(Template::from_bytes(&ver).is_err());
    assert!(Template::from_bytes(&[]).is_err());
}

#[test]
fn bad_images_give_typed_errors() {
    assert!(matches!(
        GrayImage::new(1, 1, vec![0]),
        Err(FpError::ImageTooSmall { .. })
    ));
    assert!(matches!(
        GrayImage::new(100_000, 100_000, vec![]),
        Err(FpError::ImageTooLarge { .. })
    ));
    assert!(matches!(
        GrayImage::new(100, 100, vec![0; 10]),
        Err(FpError::BufferSize { .. })
    ));
    let blank = GrayImage::new(300, 300, vec![255; 90_000]).unwrap();
    assert!(matches!(extract(&blank), Err(FpError::NoForeground)));
    let q = assess(&blank).unwrap();
    assert_eq!(q.score, 0);
    // Pseudo-random noise: must not panic; any outcome is acceptable but a template
    // from noise must not match a real finger well.
    let mut s = 12345u32;
    let noise: Vec<u8> = (0..300 * 300)
        .map(|_| {
            s = s.wrapping_mul(1_103_515_245).wrapping_add(12345);
            (s >> 24) as u8
        })
        .collect();
    let noise = GrayImage::new(300, 300, noise).unwrap();
    if let Ok(t) = extract(&noise) {
        let real = MatchTemplate::new(&tpl("fvc2002/DB1_B/101_1.tif"));
        assert!(match_score(&MatchTemplate::new(&t), &real) < FMR_1_IN_10000_THRESHOLD);
    }
    assert!(matches!(
        GrayImage::load(&shared("does-not-exist.tif")),
        Err(FpError::ImageLoad { .. })
    ));
}

#[test]
fn quality_ranks_partial_print_below_full_one() {
    let img = load("fvc2002/DB2_B/101_1.tif");
    let full = assess(&img).unwrap();
    // Keep only a 100-pixel-high strip of the print: partial contact.
    let (w, h) = (img.width(), img.height());
    let mut px = img.pixels().to_vec();
    for y in 0..h {
        if !(200..300).contains(&y) {
            for x in 0..w {
                px[(y * w + x) as usize] = 255;
            }
        }
    }
    let part = assess(&GrayImage::new(w, h, px).unwrap()).unwrap();
    assert!(
        full.score > part.score + 10,
        "full {} partial {}",
        full.score,
        part.score
    );
    assert!(part
        .reasons
        .iter()
        .any(|r| matches!(r, Reason::TooSmall | Reason::PartialContact)));
    assert!(full.reasons.is_empty() || !full.reasons.contains(&Reason::TooSmall));
}

#[test]
fn nfiq2_images_land_near_nfiq2_scores() {
    // Expected NFIQ 2.3 scores from the NFIQ2 repository's example outputs.
    let expected = [54.0, 45.0, 53.0, 52.0, 57.0];
    let mut err = 0.0;
    for (i, e) in expected.iter().enumerate() {
        let q = assess(&load(&format!("nfiq2/SFinGe_Test0{}.pgm", i + 1))).unwrap();
        err += (q.score as f64 - e).abs();
    }
    let mae = err / expected.len() as f64;
    assert!(mae < 15.0, "mean absolute error {mae}");
}

#[test]
fn autocapture_waits_for_a_streak_and_keeps_the_best() {
    let blank = GrayImage::new(300, 300, vec![255; 90_000]).unwrap();
    let good = load("fvc2002/DB1_B/101_1.tif");
    let mut ac = Autocapture::new(30, 2);
    assert!(matches!(
        ac.feed(blank.clone()).unwrap(),
        CaptureState::Waiting { streak: 0, .. }
    ));
    assert!(matches!(
        ac.feed(good.clone()).unwrap(),
        CaptureState::Waiting { streak: 1, .. }
    ));
    assert!(matches!(
        ac.feed(blank).unwrap(),
        CaptureState::Waiting { streak: 0, .. }
    ));
    assert!(ac.best().is_none());
    ac.feed(good.clone()).unwrap();
    assert!(matches!(
        ac.feed(good.clone()).unwrap(),
        CaptureState::Accepted { .. }
    ));
    assert_eq!(ac.best().unwrap().1, &good);
}

#[test]
fn gallery_search_finds_mates() {
    let imgs = list_fvc(&shared("fvc2002/DB1_B")).unwrap();
    let mut g = Gallery::new().with_threads(2);
    let mut probes = Vec::new();
    for im in imgs.iter().filter(|x| x.impression <= 2) {
        let t = extract(&GrayImage::load(&im.path).unwrap()).unwrap();
        if im.impression == 1 {
            g.insert(im.finger as u64, &t);
        } else {
            probes.push((im.finger as u64, t));
        }
    }
    assert_eq!(g.len(), 10);
    let hits = probes
        .iter()
        .filter(|(id, t)| g.search(t, 1, 0.0).first().map(|c| c.id) == Some(*id))
        .count();
    assert!(hits >= 8, "rank-1 hits {hits}/10");
    assert!(g.search(&probes[0].1, 0, 0.0).is_empty());
    assert!(Gallery::new().search(&probes[0].1, 3, 0.0).is_empty());
}

#[test]
fn gallery_prefilter_keeps_mates_among_thousands() {
    // 2,010 entries, so the shortlist (64 + n/25 = 144) is far smaller than the
    // gallery and the indexed prefilter decides which templates get matched.
    // Background: rotated/shifted/thinned variants of other real fingers.
    let enrolled = list_fvc(&shared("fvc2002/DB1_B")).unwrap();
    let others = list_fvc(&shared("fvc2002/DB2_B")).unwrap();
    let mut g = Gallery::new().with_threads(2);
    let mut probes = Vec::new();
    for im in enrolled.iter().filter(|x| x.impression <= 2) {
        let t = extract(&GrayImage::load(&im.path).unwrap()).unwrap();
        if im.impression == 1 {
            g.insert(im.finger as u64, &t);
        } else {
            probes.push((im.finger as u64, t));
        }
    }
    let background: Vec<Template> = others
        .iter()
        .filter(|x| x.impression == 1)
        .map(|x| extract(&GrayImage::load(&x.path).unwrap()).unwrap())
        .collect();
    let mut seed = 0u64;
    while g.len() < 2010 {
        let src = &background[seed as usize % background.len()];
        g.insert(100_000 + seed, &fingerprint::perturb(src, seed));
        seed += 1;
    }
    let hits = probes
        .iter()
        .filter(|(id, t)| g.search(t, 1, 0.0).first().map(|c| c.id) == Some(*id))
        .count();
    assert!(hits >= 8, "rank-1 hits {hits}/10");
}

#[test]
fn fvc_listing_rejects_folders_without_fvc_files() {
    assert!(matches!(
        list_fvc(&shared("nfiq2")),
        Err(FpError::InvalidDataset(_))
    ));
}

#[test]
fn oversized_template_is_capped_not_exploding() {
    let mut t = tpl("fvc2002/DB1_B/101_1.tif");
    let base = t.minutiae.clone();
    while t.minutiae.len() < 5000 {
        t.minutiae.extend(base.iter().copied());
    }
    let m = MatchTemplate::new(&t);
    assert_eq!(m.len(), fingerprint::matcher::MAX_MATCH_MINUTIAE);
    let real = MatchTemplate::new(&tpl("fvc2002/DB1_B/101_2.tif"));
    assert!(match_score(&m, &real).is_finite());
}
