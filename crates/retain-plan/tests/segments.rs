//! RFM cut points and scores on hand-worked examples, the segment map against its documented
//! table, key clients and the concentration curve on hand examples, bad inputs, and
//! properties (minimal key sets, monotone scores, concave curves).

use proptest::prelude::*;
use retain_eval::EvalError;
use retain_plan::segments::{
    DEFAULT_KEY_SHARE, Rfm, RfmCuts, RfmScore, Segment, SegmentError, concentration_curve,
    key_clients, rfm,
};

fn ids(n: usize) -> Vec<i64> {
    (1..=n as i64).collect()
}

fn assert_close(got: &[f64], want: &[f64]) {
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(want) {
        assert!((g - w).abs() < 1e-12, "got {got:?}, want {want:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// Cut points and scores
// ---------------------------------------------------------------------------------------------

/// Ten distinct values: positions 1.8, 3.6, 5.4, 7.2 give cuts 2.8, 4.6, 6.4, 8.2 and exactly
/// two clients per score.
#[test]
fn distinct_values_give_even_quintiles() {
    let n = 10;
    let f: Vec<f64> = (1..=10).map(f64::from).collect();
    let r: Vec<f64> = f.iter().map(|v| v * 7.0).collect();
    let Rfm { cuts, scores } = rfm(&ids(n), &r, &f, &f).unwrap();
    assert_close(&cuts.frequency, &[2.8, 4.6, 6.4, 8.2]);
    assert_close(&cuts.recency, &[19.6, 32.2, 44.8, 57.4]);
    let fs: Vec<u8> = scores.iter().map(|s| s.f).collect();
    assert_eq!(fs, [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]);
    // Recency runs the other way: the most recent (smallest) scores 5.
    let rs: Vec<u8> = scores.iter().map(|s| s.r).collect();
    assert_eq!(rs, [5, 5, 4, 4, 3, 3, 2, 2, 1, 1]);
}

/// Massive ties in frequency: sorted 1,1,1,1,1,1,2,2,3,5; positions 9k/5 = 1.8, 3.6, 5.4, 7.2:
/// cuts 1, 1, 1 + 0.4 (2 - 1) = 1.4, 2 + 0.2 (3 - 2) = 2.2. Every one-time buyer equals the
/// first cuts and goes to the lower bin: F = 1 for all six; 2 is above three cuts: F = 4.
#[test]
fn tied_frequencies_share_a_score() {
    let f = [1.0, 2.0, 1.0, 5.0, 1.0, 1.0, 3.0, 1.0, 2.0, 1.0];
    let r = [10.0; 10];
    let m = [1.0; 10];
    let Rfm { cuts, scores } = rfm(&ids(10), &r, &f, &m).unwrap();
    assert_close(&cuts.frequency, &[1.0, 1.0, 1.4, 2.2]);
    let fs: Vec<u8> = scores.iter().map(|s| s.f).collect();
    assert_eq!(fs, [1, 4, 1, 5, 1, 1, 5, 1, 4, 1]);
    // All equal: every cut is the value, and every client gets the lowest bin.
    assert_eq!(cuts.recency, [10.0; 4]);
    assert!(scores.iter().all(|s| s.r == 5 && s.m == 1));
}

/// Recency 0, 3, 3, 10, 30: positions 0.8, 1.6, 2.4, 3.2 give cuts 2.4, 3, 5.8, 14. A recency
/// equal to the cut 3 goes to the more recent side (R = 4, not 3), and both 3s agree.
#[test]
fn recency_equal_to_a_cut_goes_to_the_recent_side() {
    let r = [30.0, 3.0, 0.0, 10.0, 3.0];
    let cuts = RfmCuts::fit(&ids(5), &r, &[1.0; 5], &[1.0; 5]).unwrap();
    assert_close(&cuts.recency, &[2.4, 3.0, 5.8, 14.0]);
    let rs: Vec<u8> = r.iter().map(|&v| cuts.score(v, 1.0, 1.0).0).collect();
    assert_eq!(rs, [1, 4, 5, 2, 4]);
    // Just above the cut falls one score lower.
    assert_eq!(cuts.score(3.000001, 1.0, 1.0).0, 3);
    assert_eq!(cuts.score(14.0, 1.0, 1.0).0, 2);
    assert_eq!(cuts.score(14.5, 1.0, 1.0).0, 1);
}

/// Monetary -10, 0, 5, 5, 5, 20: positions k exactly, cuts 0, 5, 5, 5. Zero equals the first
/// cut (M = 1, with the negative client); the three 5s are above one cut only (M = 2); 20 is
/// above all (M = 5): uneven quintiles, no score 3 or 4.
#[test]
fn monetary_with_negatives_and_ties() {
    let m = [5.0, -10.0, 20.0, 0.0, 5.0, 5.0];
    let Rfm { cuts, scores } = rfm(&ids(6), &[1.0; 6], &[1.0; 6], &m).unwrap();
    assert_eq!(cuts.monetary, [0.0, 5.0, 5.0, 5.0]);
    let ms: Vec<u8> = scores.iter().map(|s| s.m).collect();
    assert_eq!(ms, [2, 1, 5, 1, 2, 2]);
}

#[test]
fn one_client_and_saved_cuts() {
    let Rfm { cuts, scores } = rfm(&[42], &[7.0], &[3.0], &[-1.0]).unwrap();
    assert_eq!(cuts.frequency, [3.0; 4]);
    assert_eq!(scores, [RfmScore { r: 5, f: 1, m: 1 }]);
    // Saved cuts score new clients; a round trip through JSON keeps them.
    let json = serde_json::to_string(&cuts).unwrap();
    let back: RfmCuts = serde_json::from_str(&json).unwrap();
    assert_eq!(back, cuts);
    back.check().unwrap();
    assert_eq!(back.score(100.0, 4.0, 0.0), (1, 5, 5));
    let more = back
        .score_clients(&[1, 2], &[0.0, 8.0], &[3.0, 3.5], &[-1.0, -2.0])
        .unwrap();
    assert_eq!(
        more,
        [RfmScore { r: 5, f: 1, m: 1 }, RfmScore { r: 1, f: 5, m: 1 }]
    );
    assert_eq!(more[1].code(), "151");
}

#[test]
fn bad_saved_cuts_are_refused() {
    let mut cuts = RfmCuts {
        recency: [1.0, 2.0, 3.0, 4.0],
        frequency: [1.0, 1.0, 2.0, 3.0],
        monetary: [0.0, 10.0, 5.0, 20.0],
    };
    assert!(matches!(
        cuts.check(),
        Err(SegmentError::InvalidCuts {
            field: "monetary",
            ..
        })
    ));
    cuts.monetary = [0.0, 1.0, 2.0, 3.0];
    cuts.recency[2] = f64::NAN;
    assert!(matches!(
        cuts.check(),
        Err(SegmentError::InvalidCuts {
            field: "recency",
            ..
        })
    ));
}

#[test]
fn bad_rfm_inputs_name_the_client_and_field() {
    let err = rfm(
        &[5, 6, 7],
        &[1.0, 2.0, 3.0],
        &[1.0, f64::NAN, 2.0],
        &[0.0; 3],
    )
    .unwrap_err();
    assert!(matches!(
        err,
        SegmentError::NonFinite { client_id: 6, field: "frequency", value } if value.is_nan()
    ));
    assert!(err.to_string().contains("client 6"));
    let err = rfm(&[5, 6], &[1.0, 2.0], &[1.0, 1.0], &[0.0, f64::INFINITY]).unwrap_err();
    assert!(matches!(
        err,
        SegmentError::NonFinite {
            client_id: 6,
            field: "monetary",
            ..
        }
    ));
    let err = rfm(&[5, 6], &[-1.0, 2.0], &[1.0, 1.0], &[0.0, 0.0]).unwrap_err();
    assert_eq!(
        err,
        SegmentError::Negative {
            client_id: 5,
            field: "recency_days",
            value: -1.0
        }
    );
    let err = rfm(&[5, 6], &[1.0, 2.0], &[1.0], &[0.0, 0.0]).unwrap_err();
    assert_eq!(
        err,
        SegmentError::LengthMismatch {
            what: "frequency",
            expected: 2,
            got: 1
        }
    );
    assert!(matches!(
        rfm(&[], &[], &[], &[]),
        Err(SegmentError::Empty(_))
    ));
}

// ---------------------------------------------------------------------------------------------
// Segments
// ---------------------------------------------------------------------------------------------

/// The table as written in the module documentation, parsed from the source file.
fn documented_table() -> Vec<(u8, u8, String)> {
    let src = include_str!("../src/segments.rs");
    let mut cells = Vec::new();
    for line in src.lines().filter_map(|l| l.strip_prefix("//! | ")) {
        let cols: Vec<&str> = line.split('|').map(str::trim).collect();
        let Ok(r) = cols[0].parse::<u8>() else {
            continue;
        };
        for f in 1..=5u8 {
            cells.push((r, f, cols[usize::from(f)].to_owned()));
        }
    }
    cells
}

#[test]
fn every_cell_maps_to_the_documented_segment() {
    let table = documented_table();
    assert_eq!(table.len(), 25, "the documented table has 5 x 5 cells");
    let mut seen = std::collections::BTreeSet::new();
    for (r, f, name) in &table {
        assert!(seen.insert((*r, *f)), "cell ({r}, {f}) documented twice");
        let seg = Segment::from_rf(*r, *f).unwrap();
        assert_eq!(seg.name(), name, "cell R={r} F={f}");
        assert_eq!(RfmScore { r: *r, f: *f, m: 3 }.segment(), seg);
    }
    // A few cells written out by hand, from the usual grid.
    let hand = [
        (5, 5, Segment::Champions),
        (5, 4, Segment::Champions),
        (3, 5, Segment::Loyal),
        (4, 4, Segment::Loyal),
        (5, 2, Segment::PotentialLoyalists),
        (4, 3, Segment::PotentialLoyalists),
        (5, 1, Segment::New),
        (4, 1, Segment::Promising),
        (3, 3, Segment::NeedAttention),
        (3, 1, Segment::AboutToSleep),
        (3, 2, Segment::AboutToSleep),
        (2, 3, Segment::AtRisk),
        (1, 4, Segment::AtRisk),
        (1, 5, Segment::CantLose),
        (2, 5, Segment::CantLose),
        (1, 1, Segment::Hibernating),
        (2, 2, Segment::Hibernating),
    ];
    for (r, f, seg) in hand {
        assert_eq!(Segment::from_rf(r, f).unwrap(), seg, "R={r} F={f}");
    }
    // Every segment has at least one cell.
    for seg in Segment::ALL {
        assert!(
            table.iter().any(|(_, _, n)| n == seg.name()),
            "{seg} has no cell"
        );
    }
}

#[test]
fn segment_names_parse_and_serialise() {
    let names = [
        "champions",
        "loyal",
        "potential_loyalists",
        "new",
        "promising",
        "need_attention",
        "about_to_sleep",
        "at_risk",
        "cant_lose",
        "hibernating",
    ];
    let got: Vec<&str> = Segment::ALL.iter().map(|s| s.name()).collect();
    assert_eq!(got, names);
    let mut descriptions = std::collections::BTreeSet::new();
    for seg in Segment::ALL {
        assert_eq!(seg.name().parse::<Segment>().unwrap(), seg);
        assert_eq!(seg.to_string(), seg.name());
        assert_eq!(
            serde_json::to_string(&seg).unwrap(),
            format!("\"{}\"", seg.name())
        );
        assert_eq!(
            serde_json::from_str::<Segment>(&format!("\"{}\"", seg.name())).unwrap(),
            seg
        );
        let d = seg.description();
        assert!(!d.is_empty() && !d.contains('\n'));
        assert!(descriptions.insert(d), "{seg} repeats a description");
    }
    assert_eq!(
        "Need attention".parse::<Segment>().unwrap(),
        Segment::NeedAttention
    );
    assert_eq!(" cant-lose ".parse::<Segment>().unwrap(), Segment::CantLose);
    assert_eq!(
        "lost".parse::<Segment>().unwrap_err(),
        SegmentError::UnknownSegment("lost".into())
    );
    assert_eq!(
        Segment::from_rf(0, 3).unwrap_err(),
        SegmentError::ScoreOutOfRange {
            field: "r",
            score: 0
        }
    );
    assert_eq!(
        Segment::from_rf(3, 6).unwrap_err(),
        SegmentError::ScoreOutOfRange {
            field: "f",
            score: 6
        }
    );
}

// ---------------------------------------------------------------------------------------------
// Key clients and concentration
// ---------------------------------------------------------------------------------------------

#[test]
fn key_clients_hand_example() {
    let k = key_clients(&[50.0, 30.0, 10.0, 5.0, 5.0], &ids(5), DEFAULT_KEY_SHARE).unwrap();
    assert_eq!(k.flags, [true, true, false, false, false]);
    assert_eq!(k.count, 2);
    assert_eq!(k.share_of_clients, 0.4);
    assert_eq!(k.share_of_value, 0.8);
    assert_eq!(k.threshold_value, Some(30.0));
    assert_eq!(k.total_value, 100.0);
    // Share 0.81 needs the third client.
    let k = key_clients(&[50.0, 30.0, 10.0, 5.0, 5.0], &ids(5), 0.81).unwrap();
    assert_eq!(k.flags, [true, true, true, false, false]);
    // Share 1: every positive client.
    let k = key_clients(&[50.0, 30.0, 10.0, 5.0, 5.0], &ids(5), 1.0).unwrap();
    assert_eq!(k.count, 5);
    assert_eq!(k.share_of_value, 1.0);
}

/// 40 then three 20s (ids 9, 3, 5 in row order): share 0.6 of 100 is reached by 40 + 20 with
/// the smallest id (3); share 0.7 needs one more 20: the next smallest id (5), never 9.
#[test]
fn key_clients_ties_go_to_the_smaller_id() {
    let values = [40.0, 20.0, 20.0, 20.0];
    let client_ids = [7, 9, 3, 5];
    let k = key_clients(&values, &client_ids, 0.6).unwrap();
    assert_eq!(k.flags, [true, false, true, false]);
    assert_eq!(k.count, 2);
    assert_eq!(k.threshold_value, Some(20.0));
    let k = key_clients(&values, &client_ids, 0.7).unwrap();
    assert_eq!(k.flags, [true, false, true, true]);
    assert_eq!(k.share_of_value, 0.8);
}

#[test]
fn non_positive_values_are_never_key() {
    let k = key_clients(&[-5.0, 10.0, 0.0, 10.0], &[1, 2, 3, 4], 1.0).unwrap();
    assert_eq!(k.flags, [false, true, false, true]);
    assert_eq!(k.total_value, 20.0);
    assert_eq!(k.share_of_clients, 0.5);
    let k = key_clients(&[-5.0, 0.0], &[1, 2], 0.8).unwrap();
    assert_eq!(k.flags, [false, false]);
    assert_eq!(
        (k.count, k.threshold_value, k.share_of_value),
        (0, None, 0.0)
    );
    let k = key_clients(&[], &[], 0.8).unwrap();
    assert_eq!((k.count, k.share_of_clients), (0, 0.0));
}

#[test]
fn key_client_errors() {
    for share in [0.0, -0.1, 1.0 + 1e-12, f64::NAN] {
        let err = key_clients(&[1.0], &[1], share).unwrap_err();
        assert!(
            matches!(err, EvalError::InvalidParameter { name: "share", .. }),
            "{share}"
        );
    }
    assert_eq!(
        key_clients(&[1.0, 2.0], &[1], 0.8).unwrap_err(),
        EvalError::LengthMismatch {
            what: "values",
            expected: 1,
            got: 2
        }
    );
    let err = key_clients(&[1.0, f64::NEG_INFINITY], &[10, 11], 0.8).unwrap_err();
    assert_eq!(
        err,
        EvalError::NonFinite {
            what: "value",
            index: 1,
            value: f64::NEG_INFINITY
        }
    );
    assert!(err.to_string().contains("index 1") && err.to_string().contains("value"));
}

/// Values 50, 30, 10, 5, 5 of 100: points (0, 0), (.2, .5), (.4, .8), (.6, .9), (.8, .95),
/// (1, 1); Gini (2/5)(0.5 + 0.8 + 0.9 + 0.95 + 1) - 1 - 1/5 = 0.46, which is also the mean
/// absolute difference over twice the mean: 460 / (2 x 25 x 20).
#[test]
fn concentration_hand_example() {
    let c = concentration_curve(&[5.0, 50.0, 10.0, 30.0, 5.0], &ids(5), 0.8, 101).unwrap();
    let xs: Vec<f64> = c.points.iter().map(|p| p.share_of_clients).collect();
    let ys: Vec<f64> = c.points.iter().map(|p| p.share_of_value).collect();
    assert_close(&xs, &[0.0, 0.2, 0.4, 0.6, 0.8, 1.0]);
    assert_close(&ys, &[0.0, 0.5, 0.8, 0.9, 0.95, 1.0]);
    assert!((c.gini - 0.46).abs() < 1e-12, "{}", c.gini);
    assert_eq!(c.key_count, 2);
    assert_close(
        &[c.key_point.share_of_clients, c.key_point.share_of_value],
        &[0.4, 0.8],
    );
    assert!((c.value_share_at(0.3) - 0.65).abs() < 1e-12);
    assert_eq!(c.value_share_at(2.0), 1.0);
    // One holder of everything: Gini 1 - 1/n; all equal: 0; nothing positive: diagonal, 0.
    let c = concentration_curve(&[0.0, 0.0, 9.0, -1.0], &ids(4), 0.8, 10).unwrap();
    assert!((c.gini - 0.75).abs() < 1e-12);
    let c = concentration_curve(&[3.0; 7], &ids(7), 0.8, 10).unwrap();
    assert!(c.gini.abs() < 1e-12);
    let c = concentration_curve(&[0.0, -2.0], &ids(2), 0.8, 10).unwrap();
    assert_eq!(c.gini, 0.0);
    assert_close(
        &c.points
            .iter()
            .map(|p| p.share_of_value)
            .collect::<Vec<_>>(),
        &[0.0, 0.5, 1.0],
    );
    // Round trip.
    let json = serde_json::to_string(&c).unwrap();
    assert_eq!(
        serde_json::from_str::<retain_plan::segments::ConcentrationCurve>(&json).unwrap(),
        c
    );
}

#[test]
fn concentration_downsamples_and_keeps_the_key_point() {
    // 1000 clients with value i^2: 9 evenly spaced points plus the key point.
    let values: Vec<f64> = (1..=1000).map(|i| f64::from(i * i)).collect();
    let c = concentration_curve(&values, &ids(1000), 0.8, 11).unwrap();
    assert!(c.points.len() <= 11, "{}", c.points.len());
    assert_eq!(c.points.first().unwrap().share_of_clients, 0.0);
    let last = c.points.last().unwrap();
    assert_eq!((last.share_of_clients, last.share_of_value), (1.0, 1.0));
    assert!(c.points.contains(&c.key_point));
    let k = key_clients(&values, &ids(1000), 0.8).unwrap();
    assert_eq!(c.key_count, k.count);
    assert!((c.key_point.share_of_value - k.share_of_value).abs() < 1e-15);
    assert!(matches!(
        concentration_curve(&values, &ids(1000), 0.8, 2),
        Err(EvalError::InvalidParameter {
            name: "max_points",
            ..
        })
    ));
    assert!(matches!(
        concentration_curve(&[], &[], 0.8, 10),
        Err(EvalError::Empty)
    ));
}

// ---------------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------------

/// Integer-valued amounts (exact sums) with ties, zeros and negatives.
fn amounts() -> impl Strategy<Value = Vec<f64>> {
    prop::collection::vec((-20i32..200).prop_map(f64::from), 1..60)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn key_set_is_minimal_and_reaches_the_share(values in amounts(), share in 0.01f64..=1.0,
                                                 shuffle in any::<u64>()) {
        let n = values.len();
        // Distinct ids in a scrambled order.
        let offset = (shuffle % 97) as i64;
        let client_ids: Vec<i64> = (0..n as i64).map(|i| (i * 7919 + offset) % 100_003).collect();
        let k = key_clients(&values, &client_ids, share).unwrap();
        let total: f64 = values.iter().filter(|v| **v > 0.0).sum();
        let key: Vec<usize> = (0..n).filter(|&i| k.flags[i]).collect();
        prop_assert_eq!(key.len(), k.count);
        prop_assert!(key.iter().all(|&i| values[i] > 0.0));
        let sum: f64 = key.iter().map(|&i| values[i]).sum();
        if total > 0.0 {
            prop_assert!(sum >= share * total, "{} < {} x {}", sum, share, total);
            prop_assert!((k.share_of_value - sum / total).abs() < 1e-12);
            // Dropping the smallest member falls below the share.
            let smallest = key.iter().map(|&i| values[i]).fold(f64::INFINITY, f64::min);
            prop_assert!(sum - smallest < share * total);
            prop_assert_eq!(k.threshold_value, Some(smallest));
            // No outsider beats a member; at a tie, members have the smaller ids.
            for i in (0..n).filter(|&i| !k.flags[i]) {
                for &j in &key {
                    prop_assert!(values[i] < values[j]
                        || (values[i] == values[j] && client_ids[i] > client_ids[j]));
                }
            }
        } else {
            prop_assert_eq!(k.count, 0);
        }
    }

    #[test]
    fn scores_are_monotone_and_ties_agree(r in prop::collection::vec(0u16..400, 1..50),
                                          f in prop::collection::vec(1u8..8, 1..50),
                                          m in amounts()) {
        let n = r.len().min(f.len()).min(m.len());
        let r: Vec<f64> = r[..n].iter().map(|&v| f64::from(v) / 4.0).collect();
        let f: Vec<f64> = f[..n].iter().map(|&v| f64::from(v)).collect();
        let m = &m[..n];
        let Rfm { cuts, scores } = rfm(&ids(n), &r, &f, m).unwrap();
        cuts.check().unwrap();
        for i in 0..n {
            let s = scores[i];
            prop_assert!([s.r, s.f, s.m].iter().all(|v| (1..=5).contains(v)));
            for j in 0..n {
                let t = scores[j];
                if r[i] <= r[j] { prop_assert!(s.r >= t.r); }
                if f[i] <= f[j] { prop_assert!(s.f <= t.f); }
                if m[i] <= m[j] { prop_assert!(s.m <= t.m); }
            }
        }
        // The top score is reached by the largest frequency unless it ties the 80 % cut.
        let fmax = f.iter().cloned().fold(f64::MIN, f64::max);
        let top = scores.iter().zip(&f).filter(|(_, v)| **v == fmax).map(|(s, _)| s.f).max();
        let top = top.unwrap();
        prop_assert_eq!(top == 5, fmax > cuts.frequency[3]);
    }

    #[test]
    fn saved_cuts_score_monotonically(a in -1e6f64..1e6, b in -1e6f64..1e6,
                                      c in prop::array::uniform4(-1e3f64..1e3)) {
        let mut c = c;
        c.sort_by(f64::total_cmp);
        let cuts = RfmCuts { recency: c, frequency: c, monetary: c };
        let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
        let (r1, f1, m1) = cuts.score(lo, lo, lo);
        let (r2, f2, m2) = cuts.score(hi, hi, hi);
        prop_assert!(r1 >= r2 && f1 <= f2 && m1 <= m2);
        prop_assert_eq!(r1 + f1, 6);
    }

    #[test]
    fn curve_is_increasing_concave_and_ends_at_one(values in amounts(), share in 0.01f64..=1.0,
                                                  max_points in 3usize..40) {
        let n = values.len();
        let client_ids = ids(n);
        let c = concentration_curve(&values, &client_ids, share, max_points).unwrap();
        let pts = &c.points;
        prop_assert!(pts.len() <= max_points);
        prop_assert_eq!((pts[0].share_of_clients, pts[0].share_of_value), (0.0, 0.0));
        let last = pts[pts.len() - 1];
        prop_assert_eq!((last.share_of_clients, last.share_of_value), (1.0, 1.0));
        prop_assert!(pts.contains(&c.key_point));
        let mut prev_slope = f64::INFINITY;
        for w in pts.windows(2) {
            let dx = w[1].share_of_clients - w[0].share_of_clients;
            let dy = w[1].share_of_value - w[0].share_of_value;
            prop_assert!(dx > 0.0 && dy >= 0.0);
            let slope = dy / dx;
            prop_assert!(slope <= prev_slope + 1e-9, "slope {} after {}", slope, prev_slope);
            prev_slope = slope;
        }
        // The Gini is twice the unnormalised Gini of retain-eval on the positive parts.
        let pos: Vec<f64> = values.iter().map(|v| v.max(0.0)).collect();
        if pos.iter().sum::<f64>() > 0.0 {
            let g = 2.0 * retain_eval::gini(&pos, &pos, &client_ids);
            prop_assert!((c.gini - g).abs() < 1e-9, "{} vs {}", c.gini, g);
        }
        prop_assert!((0.0..1.0).contains(&c.gini));
    }
}
