//! Invariants the fast matcher must keep whatever its internal layout: reused
//! scratch buffers never leak between comparisons, hostile templates stay
//! bounded, and synthetic mates outscore strangers. Needs no shared data.
use fingerprint::matcher::MAX_MATCH_MINUTIAE;
use fingerprint::{match_score, perturb, synthetic_template, MatchTemplate, Matcher, Minutia, MinutiaKind, Template};

#[test]
fn reused_matcher_gives_the_same_scores_as_fresh_ones() {
    // Templates of very different sizes, scored in an order that grows and
    // shrinks every scratch buffer: any stale state would change a score.
    let sizes = [45, 12, 120, 3, 60, 200, 30];
    let ts: Vec<MatchTemplate> = sizes
        .iter()
        .enumerate()
        .flat_map(|(k, &n)| {
            let t = synthetic_template(k as u64 + 1, n);
            [
                MatchTemplate::new(&t),
                MatchTemplate::new(&perturb(&t, k as u64)),
            ]
        })
        .collect();
    let mut reused = Matcher::default();
    for a in &ts {
        for b in ts.iter().rev() {
            let s = reused.score(a, b);
            assert_eq!(s.to_bits(), match_score(a, b).to_bits());
            assert!(s.is_finite() && s >= 0.0);
        }
    }
}

#[test]
fn synthetic_mates_outscore_strangers() {
    // A perturbed copy (rotation, shift, jitter, dropped and added minutiae)
    // must beat every unrelated template, for each of several fingers.
    let fingers: Vec<Template> = (0..6).map(|k| synthetic_template(100 + k, 40)).collect();
    let gallery: Vec<MatchTemplate> = fingers.iter().map(MatchTemplate::new).collect();
    let mut m = Matcher::default();
    for (k, f) in fingers.iter().enumerate() {
        let probe = MatchTemplate::new(&perturb(f, 7 + k as u64));
        let mate = m.score(&probe, &gallery[k]);
        for (o, other) in gallery.iter().enumerate().filter(|&(o, _)| o != k) {
            let s = m.score(&probe, other);
            assert!(mate > s, "finger {k}: mate {mate} vs stranger {o} {s}");
        }
        assert!(mate > 20.0, "finger {k}: mate score {mate}");
    }
}

#[test]
fn hostile_templates_stay_bounded_and_score_nothing() {
    let real = MatchTemplate::new(&synthetic_template(5, 40));
    let mut m = Matcher::default();
    // Far more minutiae than the cap, all on one pixel: no edges at all.
    let stacked = Template {
        width: 10,
        height: 10,
        dpi: 500,
        minutiae: vec![
            Minutia {
                x: 5,
                y: 5,
                angle: 1.0,
                kind: MinutiaKind::Ending,
                quality: 50,
            };
            65_535
        ],
    };
    let stacked = MatchTemplate::new(&stacked);
    assert_eq!(stacked.len(), MAX_MATCH_MINUTIAE);
    assert_eq!(m.score(&stacked, &real), 0.0);
    assert_eq!(m.score(&real, &stacked), 0.0);
    // Extreme coordinates and non-finite angles must neither panic nor
    // produce a non-finite score.
    let mut wild = synthetic_template(6, 30);
    for (k, mn) in wild.minutiae.iter_mut().enumerate() {
        if k % 3 == 0 {
            mn.x = u16::MAX - k as u16;
            mn.y = u16::MAX;
        }
        if k % 4 == 0 {
            mn.angle = f32::NAN;
        }
    }
    wild.width = u16::MAX;
    wild.height = u16::MAX;
    let wild = MatchTemplate::new(&wild);
    for s in [
        m.score(&wild, &real),
        m.score(&real, &wild),
        m.score(&wild, &wild),
    ] {
        assert!(s.is_finite() && s >= 0.0, "score {s}");
    }
    // A full-size template against itself: the largest vote matrix allowed.
    let big = MatchTemplate::new(&synthetic_template(8, MAX_MATCH_MINUTIAE));
    assert!(m.score(&big, &big) > 50.0);
}

#[test]
fn tiny_templates_never_match() {
    let real = MatchTemplate::new(&synthetic_template(9, 40));
    for n in 0..3 {
        let t = MatchTemplate::new(&synthetic_template(10, n));
        assert_eq!(match_score(&t, &real), 0.0);
        assert_eq!(match_score(&real, &t), 0.0);
    }
}
