//! Metrics against values computed by scikit-learn 1.9.1 / scipy 1.17.1 / numpy 2.4.6 through the
//! peer's own functions (`/work/shared/bench/peer_pipeline.py`). The script that printed every
//! fixture and every expected value is `tests/oracle/oracle.py`:
//! `/tmp/peer-venv/bin/python tests/oracle/oracle.py`.

use retain_eval::{
    CalibrationBins, average_precision, brier, calibration_table, churn_metrics, gini, log_loss,
    purchase_metrics, roc_auc, top_decile_lift, value_metrics,
};

fn close(got: f64, want: f64) {
    assert!(
        (got - want).abs() <= 1e-12 * want.abs().max(1.0),
        "got {got:.17}, want {want:.17}"
    );
}

// Fixture A: 20 clients, tied probabilities, p = 0 and p = 1 (clipped), and a tie straddling the
// top-decile boundary (k = 2): after id 13 (p = 1.0, churned) come ids 3 (not churned), 8 and 15
// (churned), all at p = 0.8; id 3 wins the tie, so the lift is 0.5 / 0.6.
const A_IDS: [i64; 20] = [
    15, 3, 8, 21, 4, 11, 9, 2, 17, 6, 30, 12, 5, 14, 1, 7, 19, 10, 13, 16,
];
const A_Y: [u8; 20] = [1, 0, 1, 1, 0, 1, 0, 0, 1, 1, 0, 1, 0, 1, 0, 1, 1, 0, 1, 1];
const A_P: [f64; 20] = [
    0.8, 0.8, 0.8, 0.75, 0.6, 0.6, 0.6, 0.5, 0.45, 0.4, 0.4, 0.35, 0.3, 0.3, 0.2, 0.1, 0.0, 0.05,
    1.0, 0.55,
];

#[test]
fn churn_fixture_a_matches_sklearn() {
    // peer_pipeline.churn_metrics(A_Y, A_P, A_IDS, prob=True), i.e.
    // roc_auc_score(y, p), average_precision_score(y, p),
    // brier_score_loss(y, np.clip(p, 1e-15, 1 - 1e-15)),
    // log_loss(y, np.clip(p, 1e-15, 1 - 1e-15), labels=[0, 1]).
    let m = churn_metrics(&A_Y, &A_P, &A_IDS, true).unwrap();
    close(m.roc_auc, 0.5729166666666666);
    close(m.pr_auc, 0.6935319310319311);
    close(m.top_decile_lift, 0.8333333333333334);
    close(m.brier.unwrap(), 0.2896249999999999);
    close(m.log_loss.unwrap(), 2.396484530728596);
    // The single-metric functions agree, and accept booleans.
    let yb: Vec<bool> = A_Y.iter().map(|&v| v == 1).collect();
    close(roc_auc(&yb, &A_P).unwrap(), m.roc_auc);
    close(average_precision(&yb, &A_P).unwrap(), m.pr_auc);
    close(
        top_decile_lift(&yb, &A_P, &A_IDS).unwrap(),
        m.top_decile_lift,
    );
    close(brier(&yb, &A_P).unwrap(), m.brier.unwrap());
    close(log_loss(&yb, &A_P).unwrap(), m.log_loss.unwrap());
}

// Fixture B: 53 clients (k = 6), numpy default_rng(7), scores N(0.8 y, 1) rounded to 1 decimal:
// many ties, including -0.0 against 0.0; not probabilities.
const B_IDS: [i64; 53] = [
    110, 147, 126, 137, 150, 112, 116, 100, 124, 106, 119, 104, 142, 122, 127, 140, 151, 135, 128,
    120, 109, 144, 114, 132, 146, 103, 136, 152, 101, 113, 139, 117, 118, 148, 149, 145, 108, 107,
    133, 130, 115, 129, 138, 123, 125, 105, 143, 102, 131, 134, 121, 141, 111,
];
const B_Y: [u8; 53] = [
    0, 1, 1, 1, 0, 1, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 1, 1, 1, 1, 0, 1, 0, 0, 0, 0, 0, 1, 0, 1,
    0, 1, 0, 1, 0, 1, 0, 0, 1, 0, 0, 0, 0, 1, 1, 0, 0, 1, 0, 0, 0,
];
const B_S: [f64; 53] = [
    -0.0, 0.4, 2.0, 1.5, -0.0, 1.5, 0.5, 1.1, -0.0, 0.6, -1.3, 0.3, -0.9, -2.0, -0.3, -0.9, 1.0,
    2.2, -0.0, 0.2, 1.0, 1.3, -0.2, 0.6, 0.7, 0.5, -1.0, -0.1, 0.0, -0.3, 0.3, -0.1, 1.0, 1.0, 0.1,
    0.2, -0.1, -1.2, -1.1, 0.4, -1.3, 0.8, -1.7, 0.8, -0.8, 1.6, 0.9, -1.5, 1.2, 2.2, -0.1, -0.3,
    -0.2,
];

#[test]
fn churn_fixture_b_matches_sklearn() {
    // peer_pipeline.churn_metrics(B_Y, B_S, B_IDS, prob=False)
    let m = churn_metrics(&B_Y, &B_S, &B_IDS, false).unwrap();
    close(m.roc_auc, 0.6904761904761905);
    close(m.pr_auc, 0.6042932231294441);
    close(m.top_decile_lift, 2.1031746031746033);
    assert_eq!((m.brier, m.log_loss), (None, None));
}

// Fixture V: 23 clients (k = 3), negative and zero values; four predictions tie at 300 across the
// top-decile boundary (ids 1, 7, 8 are in, id 11, worth 310, is out).
const V_IDS: [i64; 23] = [
    5, 9, 2, 14, 7, 1, 22, 3, 18, 11, 4, 16, 8, 20, 6, 13, 10, 12, 19, 15, 17, 21, 23,
];
const V_ACT: [f64; 23] = [
    120.5, -30.0, 0.0, 0.0, 455.25, 80.0, 12.0, -5.5, 0.0, 310.0, 45.0, 0.0, 99.99, 15.0, 0.0,
    200.0, -12.25, 60.0, 0.0, 5.0, 33.3, 0.0, 150.0,
];
const V_PRED: [f64; 23] = [
    100.0, 10.0, 5.0, 5.0, 300.0, 300.0, 20.0, 0.0, -3.0, 300.0, 40.0, 5.0, 300.0, 20.0, 1.0,
    180.0, 0.0, 55.0, 2.0, 8.0, 30.0, 0.0, 120.0,
];

#[test]
fn value_fixture_matches_scipy() {
    // peer_pipeline.value_metrics(V_ACT, V_PRED, V_IDS) (spearman = scipy.stats.spearmanr)
    let m = value_metrics(&V_ACT, &V_PRED, &V_IDS).unwrap();
    close(m.spearman, 0.8945769262927193);
    close(m.normalized_gini, 0.8878782059995152);
    close(m.mae, 33.20913043478261);
    close(m.rmse, 71.12604094141611);
    close(m.top_decile_revenue_share, 0.4129520441529231);
    close(m.sum_pred, 1798.0);
    close(m.sum_actual, 1538.29);
    // peer_pipeline.gini(V_ACT, V_PRED, V_IDS), peer_pipeline.gini(V_ACT, V_ACT, V_IDS)
    close(gini(&V_ACT, &V_PRED, &V_IDS), 0.3489408199449021);
    close(gini(&V_ACT, &V_ACT, &V_IDS), 0.3930052766100812);
}

#[test]
fn purchase_fixture_matches_scipy() {
    // spearmanr(a, e).correlation, np.mean(np.abs(a - e)), np.sqrt(np.mean((a - e) ** 2)), e.sum()
    let act = [0.0, 1.0, 0.0, 3.0, 2.0, 0.0, 5.0, 1.0, 0.0, 2.0];
    let exp = [0.21, 0.93, 0.4, 2.5, 2.5, 0.05, 3.7, 0.4, 0.12, 1.8];
    let m = purchase_metrics(&act, &exp).unwrap();
    close(m.spearman, 0.9403443858801399);
    close(m.mae, 0.395);
    close(m.rmse, 0.5306505441436953);
    close(m.sum_pred, 12.610000000000001);
    close(m.sum_actual, 14.0);
}

#[test]
fn metrics_serialize_with_peer_keys() {
    let m = churn_metrics(&B_Y, &B_S, &B_IDS, false).unwrap();
    let json = serde_json::to_value(m).unwrap();
    for key in ["roc_auc", "pr_auc", "top_decile_lift", "brier", "log_loss"] {
        assert!(json.get(key).is_some(), "missing {key}");
    }
    let v = value_metrics(&V_ACT, &V_PRED, &V_IDS).unwrap();
    let back: retain_eval::ValueMetrics =
        serde_json::from_str(&serde_json::to_string(&v).unwrap()).unwrap();
    assert_eq!(back, v);
}

// Fixture C: 53 clients, numpy default_rng(11): y ~ Bernoulli(0.5),
// p = round(clip(Beta(2, 3) + 0.2 y, 0, 1), 2) -- ties, and edges falling on data points.
const C_Y: [u8; 53] = [
    1, 1, 0, 1, 1, 0, 1, 1, 0, 0, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 1, 0, 1, 1, 0, 1, 0, 0, 1, 1, 1,
    1, 0, 1, 1, 0, 1, 0, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 0, 1, 0, 1,
];
const C_P: [f64; 53] = [
    0.89, 0.64, 0.52, 0.68, 0.53, 0.21, 0.29, 0.58, 0.64, 0.21, 0.34, 0.25, 0.22, 0.62, 0.41, 0.76,
    0.72, 0.53, 0.42, 0.71, 0.44, 0.66, 0.32, 0.45, 0.27, 0.61, 0.47, 0.38, 0.69, 0.76, 0.65, 0.63,
    0.57, 0.65, 0.56, 0.43, 0.2, 0.92, 0.52, 0.55, 0.59, 0.29, 0.55, 0.57, 0.51, 0.53, 0.52, 0.44,
    0.34, 0.62, 0.6, 0.4, 0.24,
];

fn check(
    y: &[u8],
    p: &[f64],
    n_bins: usize,
    bins: CalibrationBins,
    prob_true: &[f64],
    prob_pred: &[f64],
    counts: &[usize],
) {
    let rows = calibration_table(y, p, n_bins, bins).unwrap();
    assert_eq!(
        rows.iter().map(|r| r.count).collect::<Vec<_>>(),
        counts,
        "{bins:?} {n_bins}"
    );
    for (r, (&t, &m)) in rows.iter().zip(prob_true.iter().zip(prob_pred)) {
        close(r.observed_rate, t);
        close(r.mean_predicted, m);
    }
}

#[test]
fn calibration_tables_match_sklearn_calibration_curve() {
    // sklearn.calibration.calibration_curve(A_Y, A_P, n_bins=10, strategy="quantile") -> prob_true,
    // prob_pred; counts: np.bincount(np.searchsorted(edges[1:-1], p)) without the zeros.
    check(
        &A_Y,
        &A_P,
        10,
        CalibrationBins::Quantile,
        &[
            0.5,
            0.5,
            0.5,
            0.6666666666666666,
            1.0,
            0.5,
            0.3333333333333333,
            1.0,
            0.6666666666666666,
            1.0,
        ],
        &[
            0.025,
            0.15000000000000002,
            0.3,
            0.3833333333333333,
            0.45,
            0.525,
            0.6,
            0.75,
            0.8000000000000002,
            1.0,
        ],
        &[2, 2, 2, 3, 1, 2, 3, 1, 3, 1],
    );
    // sklearn.calibration.calibration_curve(A_Y, A_P, n_bins=4, strategy="quantile") -> prob_true,
    // prob_pred; counts: np.bincount(np.searchsorted(edges[1:-1], p)) without the zeros.
    check(
        &A_Y,
        &A_P,
        4,
        CalibrationBins::Quantile,
        &[0.5, 0.75, 0.4, 0.8],
        &[0.15833333333333335, 0.4, 0.57, 0.8300000000000001],
        &[6, 4, 5, 5],
    );
    // sklearn.calibration.calibration_curve(A_Y, A_P, n_bins=10, strategy="uniform") -> prob_true,
    // prob_pred; counts: np.bincount(np.searchsorted(edges[1:-1], p)) without the zeros.
    check(
        &A_Y,
        &A_P,
        10,
        CalibrationBins::Uniform,
        &[
            0.6666666666666666,
            0.0,
            0.5,
            0.6666666666666666,
            0.5,
            0.5,
            0.75,
            1.0,
        ],
        &[
            0.05000000000000001,
            0.2,
            0.3,
            0.3833333333333333,
            0.475,
            0.5874999999999999,
            0.7875000000000001,
            1.0,
        ],
        &[3, 1, 2, 3, 2, 4, 4, 1],
    );
    // sklearn.calibration.calibration_curve(A_Y, A_P, n_bins=4, strategy="uniform") -> prob_true,
    // prob_pred; counts: np.bincount(np.searchsorted(edges[1:-1], p)) without the zeros.
    check(
        &A_Y,
        &A_P,
        4,
        CalibrationBins::Uniform,
        &[0.5, 0.5714285714285714, 0.6, 0.75],
        &[
            0.08750000000000001,
            0.3857142857142857,
            0.6200000000000001,
            0.8500000000000001,
        ],
        &[4, 7, 5, 4],
    );
    // sklearn.calibration.calibration_curve(C_Y, C_P, n_bins=10, strategy="quantile") -> prob_true,
    // prob_pred; counts: np.bincount(np.searchsorted(edges[1:-1], p)) without the zeros.
    check(
        &C_Y,
        &C_P,
        10,
        CalibrationBins::Quantile,
        &[
            0.16666666666666666,
            0.8333333333333334,
            0.25,
            0.8,
            0.2857142857142857,
            1.0,
            0.75,
            0.6,
            0.6,
            0.5,
        ],
        &[
            0.22166666666666665,
            0.30833333333333335,
            0.40249999999999997,
            0.446,
            0.5228571428571429,
            0.5599999999999999,
            0.595,
            0.63,
            0.666,
            0.7933333333333333,
        ],
        &[6, 6, 4, 5, 7, 5, 4, 5, 5, 6],
    );
    // sklearn.calibration.calibration_curve(C_Y, C_P, n_bins=4, strategy="quantile") -> prob_true,
    // prob_pred; counts: np.bincount(np.searchsorted(edges[1:-1], p)) without the zeros.
    check(
        &C_Y,
        &C_P,
        4,
        CalibrationBins::Quantile,
        &[
            0.42857142857142855,
            0.5,
            0.8333333333333334,
            0.5384615384615384,
        ],
        &[
            0.28285714285714286,
            0.4800000000000001,
            0.5875,
            0.7207692307692308,
        ],
        &[14, 14, 12, 13],
    );
    // sklearn.calibration.calibration_curve(C_Y, C_P, n_bins=10, strategy="uniform") -> prob_true,
    // prob_pred; counts: np.bincount(np.searchsorted(edges[1:-1], p)) without the zeros.
    check(
        &C_Y,
        &C_P,
        10,
        CalibrationBins::Uniform,
        &[
            0.0,
            0.5,
            0.4,
            0.7142857142857143,
            0.6666666666666666,
            0.5454545454545454,
            0.25,
            1.0,
            1.0,
        ],
        &[
            0.2,
            0.2475,
            0.35600000000000004,
            0.43714285714285717,
            0.5486666666666667,
            0.6445454545454546,
            0.7375,
            0.89,
            0.92,
        ],
        &[1, 8, 5, 7, 15, 11, 4, 1, 1],
    );
    // sklearn.calibration.calibration_curve(C_Y, C_P, n_bins=4, strategy="uniform") -> prob_true,
    // prob_pred; counts: np.bincount(np.searchsorted(edges[1:-1], p)) without the zeros.
    check(
        &C_Y,
        &C_P,
        4,
        CalibrationBins::Uniform,
        &[
            0.16666666666666666,
            0.6666666666666666,
            0.5714285714285714,
            0.75,
        ],
        &[
            0.22166666666666665,
            0.37933333333333336,
            0.5982142857142858,
            0.8325,
        ],
        &[6, 15, 28, 4],
    );
}
