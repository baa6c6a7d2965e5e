//! The backtest (issue 5) on the real data of BENCHMARK.md: rolling training windows, hybrid
//! customer-base features, every model, inner out-of-time selection.
//!
//! Issue 5's targets and where retain lands (release, `retain evaluate`, 300 trees):
//!
//! | target | needed | best reached (model, flags) |
//! |---|---|---|
//! | ORII churn ROC AUC | >= 0.82 | 0.802 (logistic_regression+cb, `--hybrid`, 1 window) |
//! | ORII top-decile lift | >= 1.70 | 1.63 (logistic_regression+cb, `--hybrid --train-windows 4 --train-spacing 91`) |
//! | CDNOW 273 d ROC AUC | >= 0.80 | 0.785 (logistic_regression) |
//! | ORII value Spearman | >= 0.60 | 0.563 (bgnbd_gg_clv), 0.561 (two_part+cb, 4 windows 91 d apart) |
//! | ORII value normalized Gini | >= 0.85 | 0.826 (two_part+cb, 4 windows 91 d apart) |
//!
//! None is met, so none is asserted as a target; the tests below pin what the backtest
//! guarantees (protocol parity at the defaults, the window rule, selection on training data
//! only, determinism) and the figures it does reach.

use std::path::Path;

use chrono::NaiveDate;
use retain_core::{Cutoff, Horizon};
use retain_data::{Layout, Transactions, read_transactions};
use retain_train::{BacktestParams, Protocol, ProtocolSets, backtest};

fn shared(rel: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data")
        .join(rel)
}

fn cdnow() -> Transactions {
    read_transactions(&shared("cdnow_sample/CDNOW_sample.txt"), &Layout::cdnow()).unwrap()
}

fn date(y: i32, m: u32, d: u32) -> Cutoff {
    Cutoff::new(NaiveDate::from_ymd_opt(y, m, d).unwrap())
}

fn h(days: u32) -> Horizon {
    Horizon::new(days).unwrap()
}

/// Fewer trees than the CLI's 300 keep the debug-mode test short; the assertions below do not
/// depend on the tree models' exact figures.
fn light(p: Protocol) -> BacktestParams {
    let mut b = BacktestParams::new(p);
    b.forest_trees = 60;
    b.boosting_trees = 60;
    b.bootstrap_resamples = 50;
    b
}

#[test]
fn cdnow_defaults_reproduce_the_protocol_run() {
    let tx = cdnow();
    let p = Protocol {
        cutoff: date(1997, 9, 30),
        horizon: h(273),
        train_horizon: h(90),
    };
    let b = backtest(&tx, &light(p)).unwrap();
    let sets = ProtocolSets::build(&tx, p).unwrap();
    let last = b.last_evaluation();
    assert_eq!(last.population_eval, 2_357);
    assert_eq!(last.population_eval, sets.eval.height());
    assert_eq!(last.population_train, sets.train.height());
    assert_eq!(last.features_used, sets.used);
    // BENCHMARK.md section 10, CDNOW 273 days: the peer's figures for the models that are
    // the same model in both (BG/NBD, the baseline)
    assert!((last.churn["bgnbd_p_no_purchase"].roc_auc - 0.757).abs() < 0.002);
    assert!((last.churn["baseline_days_since_last"].roc_auc - 0.771).abs() < 0.002);
    assert!((last.value["bgnbd_gg_clv"].spearman - 0.426).abs() < 0.003);
    assert!((last.value["baseline_revenue_rate"].spearman - 0.399).abs() < 0.003);
    // every model is there, with EMPC, tables and intervals
    for k in [
        "decision_tree",
        "random_forest",
        "gradient_boosting",
        "logistic_regression",
    ] {
        let r = &b.cutoffs[0].churn[k];
        assert_eq!(r.gains.len(), 10);
        assert!(!r.calibration.is_empty());
        assert!(r.empc.empc.is_finite() && r.empc_individual.is_some());
        let ci = &b.churn_intervals[k]["roc_auc"];
        assert!(ci.lower <= ci.estimate && ci.estimate <= ci.upper);
    }
    // the rank ensemble is a score, not a probability: gains but no calibration table
    let ens = &b.cutoffs[0].churn["rank_ensemble"];
    assert_eq!(ens.gains.len(), 10);
    assert!(ens.calibration.is_empty());
    assert!(ens.metrics.roc_auc > 0.75, "{}", ens.metrics.roc_auc);
    for k in [
        "gradient_boosting_regressor",
        "two_part",
        "rank_ensemble_value",
    ] {
        assert!(b.cutoffs[0].value[k].spearman > 0.2, "{k}");
    }
    // selection is made one training horizon earlier, on training data only
    let s = b.cutoffs[0]
        .selection
        .as_ref()
        .expect("a validation window");
    assert_eq!(s.validation_cutoff, date(1997, 7, 2));
    let top = s
        .churn_validation
        .iter()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .map(|(k, _)| k.clone());
    assert_eq!(Some(s.churn_model.clone()), top, "the best on validation");
    assert!(s.churn_validation.contains_key("rank_ensemble"));
    // 0.785 at the evaluation cutoff (the peer: 0.785)
    assert!(last.churn["logistic_regression"].roc_auc > 0.78);
}

#[test]
fn cdnow_rolling_windows_hybrid_and_cutoffs() {
    let tx = cdnow();
    let p = Protocol {
        cutoff: date(1997, 9, 30),
        horizon: h(90),
        train_horizon: h(90),
    };
    let mut params = light(p);
    params.cutoffs = 2;
    params.train_windows = 3;
    params.train_spacing = 30;
    params.hybrid = true;
    params.calibration = Some(retain_models::CalibrationMethod::Platt);
    let b = backtest(&tx, &params).unwrap();
    assert_eq!(b.cutoffs.len(), 2);
    assert_eq!(b.cutoffs[0].cutoff, date(1997, 7, 2));
    let last = &b.cutoffs[1];
    assert_eq!(
        last.train_cutoffs,
        vec![date(1997, 7, 2), date(1997, 6, 2), date(1997, 5, 3)]
    );
    // every label window ends on or before its evaluation cutoff
    for c in &b.cutoffs {
        for t in &c.train_cutoffs {
            assert!(t.plus(h(90)) <= c.cutoff);
        }
    }
    assert_eq!(last.population_train, 3 * 2_357);
    for k in [
        "logistic_regression+cb",
        "gradient_boosting+platt",
        "two_part+cb",
    ] {
        assert!(
            last.churn.contains_key(k) || last.value.contains_key(k),
            "{k}"
        );
    }
    let s = &b.churn_summary["logistic_regression"];
    assert_eq!(s.metrics.n, 2);
    assert!(s.metrics.roc_auc.std.is_finite());
    // the first cutoff's validation window would take its features in the data's first
    // days (BG/NBD not identified there): nothing is selected rather than something unfit
    assert!(b.cutoffs[0].selection.is_none());
    assert!(last.selection.is_some());
    assert!(b.selected_churn_summary.is_none());
    // calibrated probabilities are closer to the labels than the forest's raw votes
    assert!(
        last.churn["random_forest+platt"].metrics.brier.unwrap()
            <= last.churn["random_forest"].metrics.brier.unwrap() + 0.01
    );
    // same input, same output bytes
    let again = backtest(&tx, &params).unwrap();
    assert_eq!(
        serde_json::to_string(&b).unwrap(),
        serde_json::to_string(&again).unwrap()
    );
}

/// Release: `retain evaluate --cutoff 2011-09-09 --horizon 91 --hybrid` gives
/// logistic_regression 0.798 (the protocol's), logistic_regression+cb 0.802, BG/NBD 0.801
/// (selected on the 2011-06-10 validation window, 0.825 there), two_part+cb Spearman 0.557.
/// Ignored: eight feature sets of Online Retail II take minutes in a debug build.
#[test]
#[ignore]
fn online_retail_ii_hybrid_backtest() {
    let tx = read_transactions(
        &shared("online_retail_ii/online_retail_II_2009-2011_dedup.csv.gz"),
        &Layout::online_retail_ii(),
    )
    .unwrap();
    let mut params = BacktestParams::new(Protocol {
        cutoff: date(2011, 9, 9),
        horizon: h(91),
        train_horizon: h(91),
    });
    params.hybrid = true;
    params.bootstrap_resamples = 0;
    let b = backtest(&tx, &params).unwrap();
    let last = &b.cutoffs[0];
    assert!((last.churn["logistic_regression"].metrics.roc_auc - 0.798).abs() < 0.005);
    assert!(last.churn["logistic_regression+cb"].metrics.roc_auc >= 0.80);
    assert_eq!(
        last.selection.as_ref().unwrap().churn_model,
        "bgnbd_p_no_purchase"
    );
    assert!(last.value["two_part+cb"].spearman > 0.55);
}
