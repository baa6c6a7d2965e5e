//! The benchmark runs of BENCHMARK.md on the real data, through the pipeline the CLI uses.

use std::path::Path;

use chrono::NaiveDate;
use retain_core::{Cutoff, Horizon};
use retain_data::{Layout, Transactions, read_transactions};
use retain_train::{BacktestParams, Evaluation, Protocol, ProtocolSets, backtest};

/// The protocol run: the backtest at one cutoff, no intervals, no selection.
fn evaluate(tx: &Transactions, protocol: Protocol) -> Evaluation {
    let mut p = BacktestParams::new(protocol);
    p.bootstrap_resamples = 0;
    p.validate = false;
    backtest(tx, &p).unwrap().last_evaluation()
}

fn cutoff(y: i32, m: u32, d: u32) -> Cutoff {
    Cutoff::new(NaiveDate::from_ymd_opt(y, m, d).unwrap())
}

fn h(days: u32) -> Horizon {
    Horizon::new(days).unwrap()
}

fn shared(rel: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data")
        .join(rel)
}

fn rel(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs()
}

#[test]
fn online_retail_ii_protocol_run() {
    let tx = read_transactions(
        &shared("online_retail_ii/online_retail_II_2009-2011_dedup.csv.gz"),
        &Layout::online_retail_ii(),
    )
    .unwrap();
    let protocol = Protocol {
        cutoff: cutoff(2011, 9, 9),
        horizon: h(91),
        train_horizon: h(91),
    };
    let sets = ProtocolSets::build(&tx, protocol).unwrap();
    assert_eq!(sets.used.len(), 29);
    let e = evaluate(&tx, protocol);
    eprintln!("{}", serde_json::to_string_pretty(&e).unwrap());
    assert_eq!(e.population_eval, 5_281);
    assert_eq!(e.population_train, 4_976);
    assert!((e.churn_rate_eval - 0.56599).abs() < 5e-6);

    // issue 3: the logistic regression is at least the peer's (0.798) minus 0.005
    let lr = &e.churn["logistic_regression"];
    assert!(lr.roc_auc >= 0.793, "logistic ROC AUC {}", lr.roc_auc);
    // the baseline reproduces the peer's figures (same scores, same metric definitions)
    let b = &e.churn["baseline_days_since_last"];
    assert!((b.roc_auc - 0.7636).abs() < 1e-4, "{}", b.roc_auc);
    assert!(
        (b.top_decile_lift - 1.600).abs() < 1e-3,
        "{}",
        b.top_decile_lift
    );

    // issue 4: BG/NBD parameters equal the peer's (lifetimes) to 1e-3 relative. Full precision
    // from running ../shared/bench/peer_pipeline.py (BENCHMARK.md section 9) on this run; we
    // agree to better than 1e-6, so assert that too.
    let cb = &e.customer_base;
    for (k, peer) in [
        ("bgnbd_r", 0.6357181516935823),
        ("bgnbd_alpha", 8.938050130284509),
        ("bgnbd_a", 0.1716609374912681),
        ("bgnbd_b", 2.7130884154408266),
        ("gg_p", 2.209067289915888),
        ("gg_q", 3.5355079551106727),
        ("gg_gamma", 457.7886920463016),
    ] {
        assert!(
            rel(cb[k], peer) < 1e-6,
            "{k}: retain {} vs peer {peer}",
            cb[k]
        );
    }
    assert!((cb["bgnbd_log_likelihood"] - -69575.93404771309).abs() < 1e-6);
    let pz = &e.churn["bgnbd_p_no_purchase"];
    assert!(
        (pz.roc_auc - 0.801).abs() <= 0.002,
        "P(no purchase) AUC {}",
        pz.roc_auc
    );
    assert!(
        (pz.roc_auc - 0.8006630770066159).abs() < 1e-9,
        "the peer's, to the digit"
    );
    let clv = &e.value["bgnbd_gg_clv"];
    assert!(
        (clv.spearman - 0.563).abs() <= 0.005,
        "CLV Spearman {}",
        clv.spearman
    );
    // Closer than the bound: the peer's 0.5627088. Not to the digit: Spearman's average
    // ranks see exact ties, and a last-bit difference in a client's monetary value (float
    // summation order) breaks or makes a tie in CLV.
    assert!(
        (clv.spearman - 0.5627088221788181).abs() < 1e-3,
        "{}",
        clv.spearman
    );
}

#[test]
fn cdnow_protocol_run() {
    let tx = read_transactions(&shared("cdnow_sample/CDNOW_sample.txt"), &Layout::cdnow()).unwrap();
    let protocol = Protocol {
        cutoff: cutoff(1997, 9, 30),
        horizon: h(273),
        train_horizon: h(90),
    };
    let sets = ProtocolSets::build(&tx, protocol).unwrap();
    assert_eq!(sets.used.len(), 21, "CDNOW uses 21 of the 29 features");
    let e = evaluate(&tx, protocol);
    assert_eq!(e.population_eval, 2_357);
    assert!(
        (e.churn_rate_eval - 0.710).abs() < 5e-4,
        "{}",
        e.churn_rate_eval
    );
    // the published BG/NBD fit (Fader, Hardie & Lee 2005), through the whole pipeline
    let cb = &e.customer_base;
    for (k, paper) in [
        ("bgnbd_r", 0.2426),
        ("bgnbd_alpha", 4.4136),
        ("bgnbd_a", 0.7929),
        ("bgnbd_b", 2.4259),
    ] {
        assert!(rel(cb[k], paper) < 5e-4, "{k}: {} vs {paper}", cb[k]);
    }
    assert!((cb["bgnbd_log_likelihood"] - -9582.43).abs() < 0.01);
    let lr = &e.churn["logistic_regression"];
    assert!(lr.roc_auc > 0.78, "logistic ROC AUC {}", lr.roc_auc);
    let pz = &e.churn["bgnbd_p_no_purchase"];
    assert!(
        (pz.roc_auc - 0.757).abs() < 0.002,
        "P(no purchase) AUC {}",
        pz.roc_auc
    );
}
