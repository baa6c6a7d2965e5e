//! Bad and awkward inputs: every one gets a clear error or a finite fit, never NaN.

mod common;

use retain_clv::{
    BgBbData, BgNbdParams, ClvError, GammaGammaParams, MbgNbdParams, ParetoNbdParams, RfmData,
    RfmModel, SpendData,
};

fn finite_or_no_convergence<T>(r: Result<T, ClvError>, params: impl Fn(&T) -> Vec<f64>) {
    match r {
        Ok(m) => assert!(params(&m).iter().all(|v| v.is_finite() && *v > 0.0)),
        Err(ClvError::NoConvergence {
            reason, summary, ..
        }) => {
            assert!(!reason.is_empty());
            assert!(summary.n > 0.0);
            let text = format!("{summary}");
            assert!(text.contains("n=") && text.contains("max x"), "{text}");
        }
        Err(e) => panic!("unexpected error {e}"),
    }
}

#[test]
fn all_one_time_buyers_is_a_clear_error() {
    let n = 500;
    let data = RfmData::new(
        vec![0.0; n],
        vec![0.0; n],
        (0..n).map(|i| 10.0 + (i % 30) as f64).collect(),
    )
    .expect("valid");
    let err = BgNbdParams::new().fit(&data).expect_err("not identified");
    let msg = err.to_string();
    assert!(
        msg.contains("BG/NBD") && msg.contains("share with x=0: 1.000"),
        "{msg}"
    );
    finite_or_no_convergence(MbgNbdParams::new().fit(&data), |m| {
        vec![m.r(), m.alpha(), m.a(), m.b()]
    });
    finite_or_no_convergence(ParetoNbdParams::new().n_starts(1).fit(&data), |m| {
        vec![m.r(), m.alpha(), m.s(), m.beta()]
    });
}

#[test]
fn one_client() {
    let data = RfmData::new(vec![3.0], vec![20.0], vec![30.0]).expect("valid");
    finite_or_no_convergence(BgNbdParams::new().fit(&data), |m| {
        vec![m.r(), m.alpha(), m.a(), m.b()]
    });
    finite_or_no_convergence(ParetoNbdParams::new().n_starts(1).fit(&data), |m| {
        vec![m.r(), m.alpha(), m.s(), m.beta()]
    });
    let spend = SpendData::new(vec![2.0], vec![10.0]).expect("valid");
    finite_or_no_convergence(GammaGammaParams::new().fit(&spend), |m| {
        vec![m.p(), m.q(), m.gamma()]
    });
}

#[test]
fn zero_value_purchases() {
    let err = SpendData::new(vec![2.0, 1.0, 3.0], vec![10.0, 0.0, 5.0]).expect_err("zero");
    assert!(
        matches!(
            err,
            ClvError::InvalidInput {
                field: "monetary",
                index: 1,
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("strictly positive"));
    let err = SpendData::new(vec![0.0], vec![10.0]).expect_err("x = 0");
    assert!(matches!(
        err,
        ClvError::InvalidInput {
            field: "x",
            index: 0,
            ..
        }
    ));
    let kept = SpendData::repeat_buyers(vec![0.0, 2.0, 1.0, 4.0], vec![0.0, 10.0, -1.0, 8.0])
        .expect("two usable rows");
    assert_eq!((kept.skipped(), kept.n_clients()), (2, 2.0));
    let err = SpendData::repeat_buyers(vec![0.0, 1.0], vec![0.0, 0.0]).expect_err("none left");
    assert!(matches!(err, ClvError::NoData(_)));
    let err = SpendData::new(vec![1.0], vec![f64::NAN]).expect_err("nan");
    assert!(err.to_string().contains("monetary at index 0"));
    // Identical spends: the between-client gamma is not identified; error or finite, never NaN.
    let spend = SpendData::new(vec![1.0; 50], vec![20.0; 50]).expect("valid");
    finite_or_no_convergence(GammaGammaParams::new().fit(&spend), |m| {
        vec![m.p(), m.q(), m.gamma()]
    });
}

#[test]
fn huge_t_and_ties() {
    let base = common::cdnow();
    let scale = 1e5;
    let data = RfmData::new(
        base.x().to_vec(),
        base.t_x().iter().map(|v| v * scale).collect(),
        base.big_t().iter().map(|v| v * scale).collect(),
    )
    .expect("valid");
    let m = BgNbdParams::new()
        .fit(&data)
        .expect("fit in huge time units");
    // Rescaling time only rescales alpha.
    assert!((m.r() - 0.2426).abs() < 1e-3 && (m.alpha() / scale - 4.4136).abs() < 1e-2);
    let p = m.p_no_purchase(39.0 * scale, 2.0, 30.43 * scale, 38.86 * scale);
    assert!((0.0..=1.0).contains(&p));

    // Heavy ties: 3 distinct rows repeated.
    let n = 3000;
    let x: Vec<f64> = (0..n).map(|i| [0.0, 1.0, 4.0][i % 3]).collect();
    let tx: Vec<f64> = (0..n).map(|i| [0.0, 10.0, 25.0][i % 3]).collect();
    let data = RfmData::new(x, tx, vec![30.0; n]).expect("valid");
    finite_or_no_convergence(BgNbdParams::new().fit(&data), |m| {
        vec![m.r(), m.alpha(), m.a(), m.b()]
    });
}

#[test]
fn invalid_inputs_name_index_and_value() {
    type Case = (Vec<f64>, Vec<f64>, Vec<f64>, &'static str);
    let cases: Vec<Case> = vec![
        (
            vec![1.0, f64::NAN],
            vec![1.0, 1.0],
            vec![2.0, 2.0],
            "invalid x at index 1: NaN",
        ),
        (
            vec![1.0, -1.0],
            vec![1.0, 0.0],
            vec![2.0, 2.0],
            "invalid x at index 1: -1",
        ),
        (vec![1.5], vec![1.0], vec![2.0], "not an integer"),
        (
            vec![1.0, 2.0],
            vec![1.0, 3.0],
            vec![2.0, 2.0],
            "t_x at index 1: 3 (greater than T)",
        ),
        (vec![0.0], vec![1.0], vec![2.0], "must be 0 when x = 0"),
        (
            vec![1.0],
            vec![1.0],
            vec![f64::INFINITY],
            "invalid T at index 0: inf",
        ),
        (
            vec![1.0],
            vec![-1.0],
            vec![2.0],
            "t_x at index 0: -1 (negative)",
        ),
    ];
    for (x, tx, t, want) in cases {
        let msg = RfmData::new(x, tx, t).expect_err(want).to_string();
        assert!(msg.contains(want), "{msg} / {want}");
    }
    assert!(matches!(
        RfmData::new(vec![1.0], vec![], vec![2.0]),
        Err(ClvError::LengthMismatch(_))
    ));
    assert!(matches!(
        RfmData::new(vec![], vec![], vec![]),
        Err(ClvError::NoData(_))
    ));
    let msg = RfmData::with_weights(vec![1.0], vec![1.0], vec![2.0], vec![-2.0])
        .expect_err("negative weight")
        .to_string();
    assert!(msg.contains("weight at index 0"));
    let msg = BgBbData::new(vec![3.0], vec![2.0], vec![6.0])
        .expect_err("x > t_x")
        .to_string();
    assert!(msg.contains("x at index 0: 3"), "{msg}");
    assert!(matches!(
        BgNbdParams::new().n_starts(0).check(),
        Err(ClvError::InvalidParams(_))
    ));
    assert!(
        BgNbdParams::new()
            .gradient_tolerance(f64::NAN)
            .check()
            .is_err()
    );
}
