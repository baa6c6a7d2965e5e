//! Properties of the predictions, weighting and serialisation.

mod common;

use proptest::prelude::*;
use retain_clv::{
    BgBbData, BgBbParams, BgNbd, BgNbdParams, ClvParams, GammaGamma, MbgNbd, ParetoNbd,
    ParetoNbdParams, RfmData, RfmModel, expected_value,
};

fn models(r: f64, alpha: f64, a: f64, b: f64) -> Vec<Box<dyn RfmModel>> {
    vec![
        Box::new(BgNbd::from_parameters(r, alpha, a, b).expect("valid")),
        Box::new(MbgNbd::from_parameters(r, alpha, a, b).expect("valid")),
        Box::new(ParetoNbd::from_parameters(r, alpha, a, b).expect("valid")),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn probabilities_in_unit_interval_and_expectations_monotone(
        r in 0.05f64..5.0, alpha in 0.1f64..50.0, a in 0.05f64..5.0, b in 0.05f64..10.0,
        x in 0u32..60, frac_tx in 0.0f64..1.0, big_t in 0.0f64..200.0, t in 0.0f64..300.0,
    ) {
        let x = f64::from(x);
        let t_x = if x == 0.0 { 0.0 } else { frac_tx * big_t };
        for m in models(r, alpha, a, b) {
            let pa = m.p_alive(x, t_x, big_t);
            prop_assert!((0.0..=1.0).contains(&pa), "p_alive {}", pa);
            let pn = m.p_no_purchase(t, x, t_x, big_t);
            prop_assert!((0.0..=1.0).contains(&pn), "p_no_purchase {}", pn);
            // Not buying is at least as likely as being dead.
            prop_assert!(pn >= 1.0 - pa - 1e-9);
            let e1 = m.conditional_expected_purchases(t, x, t_x, big_t);
            let e2 = m.conditional_expected_purchases(t * 1.5 + 0.5, x, t_x, big_t);
            prop_assert!(e1.is_finite() && e1 >= -1e-12 && e2 >= e1 - 1e-9 * e1.abs().max(1.0),
                "{} then {}", e1, e2);
            let u1 = m.expected_purchases(t);
            let u2 = m.expected_purchases(t + 1.0);
            prop_assert!(u1 >= -1e-12 && u2 >= u1 - 1e-9 * u1.max(1.0), "{} then {}", u1, u2);
            let p0 = m.prob_n_purchases(0, t);
            prop_assert!((0.0..=1.0).contains(&p0));
        }
    }
}

#[test]
fn prob_n_purchases_sums_to_one_and_matches_mean() {
    for m in models(0.24, 4.4, 0.79, 2.4) {
        let probs: Vec<f64> = (0..2000).map(|n| m.prob_n_purchases(n, 39.0)).collect();
        let total: f64 = probs.iter().sum();
        assert!((total - 1.0).abs() < 1e-6, "{total}");
        let mean: f64 = probs.iter().enumerate().map(|(n, p)| n as f64 * p).sum();
        assert!((mean - m.expected_purchases(39.0)).abs() < 1e-4, "{mean}");
    }
}

#[test]
fn weights_equal_duplicated_rows() {
    let base = common::cdnow();
    let n = 400;
    let w: Vec<f64> = (0..n).map(|i| (1 + i % 3) as f64).collect();
    let (x, tx, t) = (&base.x()[..n], &base.t_x()[..n], &base.big_t()[..n]);
    let weighted =
        RfmData::with_weights(x.to_vec(), tx.to_vec(), t.to_vec(), w.clone()).expect("valid");
    let mut dx = Vec::new();
    let mut dtx = Vec::new();
    let mut dt = Vec::new();
    for i in 0..n {
        for _ in 0..w[i] as usize {
            dx.push(x[i]);
            dtx.push(tx[i]);
            dt.push(t[i]);
        }
    }
    let dup = RfmData::new(dx, dtx, dt).expect("valid");
    let a = BgNbdParams::new().fit(&weighted).expect("fit");
    let b = BgNbdParams::new().fit(&dup).expect("fit");
    for (u, v) in [
        (a.r(), b.r()),
        (a.alpha(), b.alpha()),
        (a.a(), b.a()),
        (a.b(), b.b()),
    ] {
        assert!((u - v).abs() <= 1e-9 * v.abs(), "{u} vs {v}");
    }
    assert!((a.log_likelihood() - b.log_likelihood()).abs() < 1e-6);
    let a = ParetoNbdParams::new()
        .n_starts(1)
        .fit(&weighted)
        .expect("fit");
    let b = ParetoNbdParams::new().n_starts(1).fit(&dup).expect("fit");
    assert!(
        (a.r() - b.r()).abs() <= 1e-9 * b.r() && (a.beta() - b.beta()).abs() <= 1e-9 * b.beta()
    );

    // BG/BB: the weighted donations table against one row per donor.
    let c = common::read_csv(common::DONATIONS);
    let table = common::donations();
    let (mut x, mut tx, mut nn) = (Vec::new(), Vec::new(), Vec::new());
    for (i, &w) in c[3].iter().enumerate() {
        for _ in 0..w as usize {
            x.push(c[0][i]);
            tx.push(c[1][i]);
            nn.push(c[2][i]);
        }
    }
    let donors = BgBbData::new(x, tx, nn).expect("valid");
    let a = BgBbParams::new().fit(&table).expect("fit");
    let b = BgBbParams::new().fit(&donors).expect("fit");
    assert!((a.alpha() - b.alpha()).abs() < 1e-9 && (a.delta() - b.delta()).abs() < 1e-9);
}

#[test]
fn fitted_models_round_trip_through_json() {
    let m = BgNbdParams::new().fit(&common::cdnow()).expect("fit");
    let text = serde_json::to_string(&m).expect("serialise");
    let back: BgNbd = serde_json::from_str(&text).expect("deserialise");
    // serde_json parses floats to within one ulp (no `float_roundtrip` feature).
    let close = |u: f64, v: f64| (u - v).abs() <= 4.0 * f64::EPSILON * v.abs();
    assert!(close(m.r(), back.r()) && close(m.alpha(), back.alpha()));
    assert!(close(m.a(), back.a()) && close(m.b(), back.b()));
    assert!(close(m.log_likelihood(), back.log_likelihood()));
    let (s1, s2) = (
        m.standard_errors().expect("se"),
        back.standard_errors().expect("se"),
    );
    assert!(s1.iter().zip(s2).all(|(u, v)| close(*u, *v)));
    let g = GammaGamma::from_parameters(6.25, 3.74, 15.44).expect("valid");
    let back: GammaGamma =
        serde_json::from_str(&serde_json::to_string(&g).expect("ser")).expect("de");
    assert_eq!(back.p(), 6.25);
}

#[test]
fn churn_score_and_clv() {
    let m = BgNbd::from_parameters(0.2426, 4.4136, 0.7929, 2.4259).expect("valid");
    let g = GammaGamma::from_parameters(6.25, 3.74, 15.44).expect("valid");
    // P(no purchase) = 1 - P(alive) + P(alive) ((alpha+T)/(alpha+T+t))^(r+x).
    let (x, tx, t_big, h) = (2.0, 30.43, 38.86, 13.0);
    let pa = m.p_alive(x, tx, t_big);
    let want = 1.0 - pa + pa * ((4.4136 + t_big) / (4.4136 + t_big + h)).powf(0.2426 + x);
    assert!((m.p_no_purchase(h, x, tx, t_big) - want).abs() < 1e-14);
    assert_eq!(m.p_alive(0.0, 0.0, 38.0), 1.0);
    // Undiscounted CLV with margin 1 equals expected purchases x expected spend.
    let clv = ClvParams::new(h).check().expect("valid");
    let v = clv.clv(&m, &g, x, tx, t_big, 22.35);
    let e = expected_value(&m, &g, h, x, tx, t_big, 22.35);
    assert!((v - e).abs() < 1e-10 * e, "{v} vs {e}");
    // Discounting and margin lower it.
    let d = ClvParams::new(h)
        .discount_rate(0.01)
        .margin(0.3)
        .check()
        .expect("valid");
    assert!(d.clv(&m, &g, x, tx, t_big, 22.35) < 0.3 * e);
    // A new client's expected spend is the population mean p gamma / (q - 1).
    let mean = 6.25 * 15.44 / 2.74;
    assert!((g.conditional_expected_average_profit(0.0, 0.0) - mean).abs() < 1e-12);
    assert!(ClvParams::new(-1.0).check().is_err());
}
