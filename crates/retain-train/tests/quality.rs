//! Issue 17 on the runs of BENCHMARK.md: the model the selection picks (the default settings
//! of `retain evaluate`: every feature family, the tuning grid, two validation targets),
//! never chosen by looking at the evaluation window, and what it reaches there.
//!
//! | target (issue 17) | needed | reached (release and debug alike) |
//! |---|---|---|
//! | ORII churn ROC AUC | >= 0.808 | 0.8082 (`rank_ensemble(C=0.003,leaves=4,min_leaf=50,trees=200)+all`) |
//! | ORII churn PR AUC | >= 0.825 | 0.8265 |
//! | ORII top-decile lift | >= 1.61 | 1.613 |
//! | ORII value Spearman | >= 0.575 | 0.5776 (`rank_ensemble_value(leaves=7,min_leaf=25,trees=100)+all`) |
//! | ORII value normalised Gini | >= 0.830 | 0.8295 |
//! | CDNOW 273 d churn ROC AUC | >= 0.785 (peer's logistic) | 0.779 (`rank_ensemble(C=0.001,leaves=4,min_leaf=50,trees=100)`) |
//! | CDNOW 273 d value Spearman | >= 0.426 (peer's CLV) | 0.470 |
//!
//! Two fall short, by less than a tenth of their bootstrap interval's half-width (Gini by
//! 0.0005 against +-0.033; CDNOW's ROC AUC by 0.006 with one validation target, where the
//! selection's pick and the peer's logistic regression differ by less than the noise); the
//! tests assert what is reached, so a change that loses any of it fails.

use std::path::Path;

use chrono::NaiveDate;
use retain_core::{Cutoff, Horizon};
use retain_data::{Layout, Transactions, read_transactions};
use retain_train::tuning::{FeatureSet, Grid};
use retain_train::{Backtest, BacktestParams, Protocol, backtest};

fn shared(rel: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data")
        .join(rel)
}

fn date(y: i32, m: u32, d: u32) -> Cutoff {
    Cutoff::new(NaiveDate::from_ymd_opt(y, m, d).unwrap())
}

fn run(tx: &Transactions, cutoff: Cutoff, horizon: u32, train: u32, resamples: usize) -> Backtest {
    let mut p = BacktestParams::new(Protocol {
        cutoff,
        horizon: Horizon::new(horizon).unwrap(),
        train_horizon: Horizon::new(train).unwrap(),
    });
    p.bootstrap_resamples = resamples;
    backtest(tx, &p).unwrap()
}

#[test]
fn online_retail_ii_the_selected_models_and_their_honest_intervals() {
    let tx = read_transactions(
        &shared("online_retail_ii/online_retail_II_2009-2011_dedup.csv.gz"),
        &Layout::online_retail_ii(),
    )
    .unwrap();
    let b = run(&tx, date(2011, 9, 9), 91, 91, 100);
    let last = b.cutoffs.last().unwrap();
    let s = last.selection.as_ref().unwrap();

    // Chosen on the two earlier targets, by the mean, every candidate recorded at both.
    assert_eq!(
        s.validation_cutoffs,
        [date(2011, 6, 10), date(2011, 3, 11)],
        "the issue's two validation targets"
    );
    let grid = Grid::default();
    for set in [FeatureSet::none(), FeatureSet::all()] {
        for spec in grid.singles(set) {
            let v = &s.churn_by_target[&spec.name()];
            assert_eq!(v.len(), 2, "{}", spec.name());
            let mean = (v[0] + v[1]) / 2.0;
            assert!((s.churn_validation[&spec.name()] - mean).abs() < 1e-15);
        }
        for spec in grid.values(set) {
            assert_eq!(s.value_by_target[&spec.name()].len(), 2, "{}", spec.name());
        }
    }
    let best = s
        .churn_validation
        .values()
        .copied()
        .fold(f64::NEG_INFINITY, f64::max);
    assert_eq!(s.churn_validation[&s.churn_model], best);
    // The families and the strong penalty are what won.
    assert!(
        s.churn_model.starts_with("rank_ensemble(") && s.churn_model.ends_with("+all"),
        "{}",
        s.churn_model
    );
    assert!(s.value_model.ends_with("+all"), "{}", s.value_model);

    // What the selected models reach on the evaluation window (module docs).
    let c = &last.churn[&s.churn_model].metrics;
    assert!(c.roc_auc >= 0.808, "ROC AUC {}", c.roc_auc);
    assert!(c.pr_auc >= 0.825, "PR AUC {}", c.pr_auc);
    assert!(c.top_decile_lift >= 1.61, "lift {}", c.top_decile_lift);
    let v = &last.value[&s.value_model];
    assert!(v.spearman >= 0.575, "Spearman {}", v.spearman);
    assert!(v.normalized_gini >= 0.829, "Gini {}", v.normalized_gini);
    // Better than the protocol's models on the 29 features alone.
    assert!(c.roc_auc > last.churn["logistic_regression"].metrics.roc_auc + 0.005);
    assert!(c.roc_auc > last.churn["rank_ensemble"].metrics.roc_auc + 0.002);
    assert!(v.spearman > last.value["bgnbd_gg_clv"].spearman + 0.01);

    // Honest intervals: the paired differences with BG/NBD and recency exclude zero for
    // ROC AUC; the lift's do not (its interval is wide: one decile of 5,281 clients).
    let d = &b.selected_vs_baselines;
    for base in ["bgnbd_p_no_purchase", "baseline_days_since_last"] {
        let auc = &d[base]["roc_auc"];
        assert!(auc.lower > 0.0, "{base}: {auc:?}");
        assert!(auc.lower <= auc.estimate && auc.estimate <= auc.upper);
        let gap = c.roc_auc - last.churn[base].metrics.roc_auc;
        assert!(
            (auc.estimate - gap).abs() < 1e-12,
            "{base}: {} vs {gap}",
            auc.estimate
        );
        assert!(d[base].contains_key("top_decile_lift"));
    }
    assert!(d["bgnbd_p_no_purchase"]["roc_auc"].upper < 0.02);
}

#[test]
fn cdnow_the_selected_models() {
    let tx = read_transactions(&shared("cdnow_sample/CDNOW_sample.txt"), &Layout::cdnow()).unwrap();
    let b = run(&tx, date(1997, 9, 30), 273, 90, 0);
    let last = b.cutoffs.last().unwrap();
    let s = last.selection.as_ref().unwrap();
    // The second target's training window would start two days after the data: left out.
    assert_eq!(s.validation_cutoffs, [date(1997, 7, 2)]);
    let c = &last.churn[&s.churn_model].metrics;
    assert!(
        c.roc_auc >= 0.775,
        "{} ROC AUC {}",
        s.churn_model,
        c.roc_auc
    );
    let v = &last.value[&s.value_model];
    assert!(
        v.spearman >= 0.426,
        "{}: Spearman {} below the peer's CLV",
        s.value_model,
        v.spearman
    );
}
