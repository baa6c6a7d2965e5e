//! Whatever the backtest measured is what scores tonight: for every model kind, train on
//! Online Retail II at cutoff 2011-09-09, save, load and score at 2011-09-09, and check that
//! each client's score is the one `retain evaluate` computed for that model at that cutoff.
//! Also: the reasons add up to the score, the drift check flags a shifted copy of the data,
//! and a mismatched pair of models is refused.

use std::collections::BTreeMap;
use std::path::Path;

use polars::prelude::*;
use retain_clv::RfmKind;
use retain_core::{Cutoff, DataSource, Horizon};
use retain_data::{Layout, Transactions, read_transactions};
use retain_features::{FeatureMatrix, History};
use retain_models::save_checked;
use retain_score::{ScoreOptions, Scorer};
use retain_train::{
    Backtest, BacktestParams, ChurnChoice, Protocol, TrainParams, ValueChoice, backtest, train,
};

fn orii() -> Transactions {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/online_retail_ii/online_retail_II_2009-2011_dedup.csv.gz");
    read_transactions(&p, &Layout::online_retail_ii()).unwrap()
}

fn params(hybrid: bool, platt: bool) -> BacktestParams {
    let h = Horizon::new(91).unwrap();
    let mut p = BacktestParams::new(Protocol {
        cutoff: "2011-09-09".parse().unwrap(),
        horizon: h,
        train_horizon: h,
    });
    // fewer trees than the CLI's 300 keep the debug build's test short; the equality below
    // does not depend on the size of the models
    p.forest_trees = 40;
    p.boosting_trees = 40;
    p.bootstrap_resamples = 0;
    p.hybrid = hybrid;
    p.calibration = platt.then_some(retain_models::CalibrationMethod::Platt);
    // a small tuning grid, for the same reason
    p.grid = retain_train::tuning::Grid {
        cs: vec![0.003, 0.1],
        leaves: vec![4],
        min_leaf: vec![50],
        trees: vec![20, 40],
    };
    p
}

/// The backtest's name of a trained model (its card's kind for a protocol model, the tuned
/// candidate's name with its strength otherwise).
fn candidate(card: &retain_core::ModelCard) -> String {
    card.hyperparameters
        .get("candidate")
        .and_then(|v| v.as_str())
        .map(str::to_string)
        .unwrap_or_else(|| card.kind.clone())
}

/// Saves a trained pair, loads it back through the scorer and scores at the cutoff.
fn scored(
    tx: &Transactions,
    history: &History,
    p: &BacktestParams,
    churn: ChurnChoice,
    value: ValueChoice,
) -> (
    String,
    String,
    DataFrame,
    retain_core::Artifact<retain_models::DeployedValue>,
) {
    let t = train(
        tx,
        &TrainParams {
            backtest: p.clone(),
            churn,
            value,
            rfm: RfmKind::Bgnbd,
        },
        &DataSource::default(),
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap().keep();
    let (cd, vd) = (dir.join("churn"), dir.join("value"));
    save_checked(&cd, &t.churn).unwrap();
    save_checked(&vd, &t.value).unwrap();
    let scorer = Scorer::load(&cd, Some(&vd)).unwrap();
    let s = scorer
        .score(history, p.protocol.cutoff, &ScoreOptions::default())
        .unwrap();
    // Scored and explained a thousand clients at a time (six chunks, a rank ensemble ranked
    // and BG/NBD P(no purchase) explained over every client), the list is the one-piece
    // list bit for bit: with reasons for every client, and for the head of the list only
    // (a head that ends inside the second chunk).
    for reasons_for in [None, Some(1_700)] {
        let options = ScoreOptions {
            reasons_for,
            ..ScoreOptions::default()
        };
        let one = scorer.score(history, p.protocol.cutoff, &options).unwrap();
        assert!(one.table.height() > 5_000);
        let chunked = ScoreOptions {
            chunk_clients: 1_000,
            ..options
        };
        let chunked = scorer.score(history, p.protocol.cutoff, &chunked).unwrap();
        assert!(
            one.table.equals_missing(&chunked.table),
            "{}: the list scored in chunks of clients differs (reasons for {reasons_for:?})",
            t.churn.card.kind
        );
        assert_eq!(one.summary, chunked.summary);
    }
    (
        candidate(&t.churn.card),
        candidate(&t.value.card),
        s.table,
        t.value,
    )
}

fn by_client(df: &DataFrame, col: &str) -> BTreeMap<i64, f64> {
    let ids = df.column("client_id").unwrap().i64().unwrap().clone();
    let v = df.column(col).unwrap().f64().unwrap().clone();
    ids.into_no_null_iter().zip(v.into_no_null_iter()).collect()
}

fn assert_same(b: &Backtest, kind: &str, got: &BTreeMap<i64, f64>, churn: bool) {
    let want = if churn {
        &b.last_scores.churn[kind]
    } else {
        &b.last_scores.value[kind]
    };
    assert_eq!(got.len(), want.len(), "{kind}: clients");
    let mut worst = 0.0f64;
    for (id, w) in b.last_scores.ids.iter().zip(want) {
        let g = got[id];
        worst = worst.max((g - w).abs());
        assert!(
            g.to_bits() == w.to_bits() || (g - w).abs() <= 1e-12 * w.abs().max(1.0),
            "{kind}: client {id} scores {g} tonight, {w} in the evaluation"
        );
    }
    eprintln!("{kind:<36} {} clients, max |diff| {worst:e}", want.len());
}

#[test]
fn every_model_kind_scores_what_the_evaluation_measured() {
    let tx = orii();
    let history = History::of(&tx).unwrap();
    let full = params(true, true);
    let b = backtest(&tx, &full).unwrap();
    let runs: [(bool, bool, ChurnChoice, ValueChoice); 10] = [
        (false, false, ChurnChoice::Logistic, ValueChoice::Clv),
        (false, false, ChurnChoice::Tree, ValueChoice::TwoPart),
        (false, false, ChurnChoice::Forest, ValueChoice::Gbdt),
        (false, false, ChurnChoice::Gbdt, ValueChoice::Ensemble),
        (false, false, ChurnChoice::Ensemble, ValueChoice::Clv),
        (true, false, ChurnChoice::Logistic, ValueChoice::TwoPart),
        (true, false, ChurnChoice::Gbdt, ValueChoice::Gbdt),
        (true, false, ChurnChoice::Ensemble, ValueChoice::Ensemble),
        (false, true, ChurnChoice::Logistic, ValueChoice::Clv),
        (true, true, ChurnChoice::Gbdt, ValueChoice::Clv),
    ];
    let mut seen = Vec::new();
    for (hybrid, platt, churn, value) in runs {
        let mut p = params(hybrid, platt);
        p.validate = false;
        let (ck, vk, table, v) = scored(&tx, &history, &p, churn, value);
        let col = if table.column("churn_score").is_ok() {
            "churn_score"
        } else {
            "churn_probability"
        };
        assert_same(&b, &ck, &by_client(&table, col), true);
        // the value side: the list's amount, or the ensemble's rank score
        assert_value_same(&b, &history, &p, &vk, &table, &v);
        seen.push(ck);
        seen.push(vk);
    }
    // and `auto` saves the model the selection picked (a tuned candidate on the feature
    // families, here), scoring what it measured
    let p = params(true, true);
    let (ck, vk, table, v) = scored(&tx, &history, &p, ChurnChoice::Auto, ValueChoice::Auto);
    let sel = b.cutoffs.last().unwrap().selection.as_ref().unwrap();
    assert_eq!(
        (ck.as_str(), vk.as_str()),
        (sel.churn_model.as_str(), sel.value_model.as_str())
    );
    let col = if table.column("churn_score").is_ok() {
        "churn_score"
    } else {
        "churn_probability"
    };
    assert_same(&b, &ck, &by_client(&table, col), true);
    assert_value_same(&b, &history, &p, &vk, &table, &v);
    assert!(
        ck.contains('('),
        "the selection picks a tuned candidate here: {ck}"
    );
    eprintln!("kinds checked: {seen:?}, auto: {ck}, {vk}");
}

/// The value side of a scored pair: the list's amount, or the ensemble's rank score (not in
/// the list: computed from the saved model on the features it reads).
fn assert_value_same(
    b: &Backtest,
    history: &History,
    p: &BacktestParams,
    vk: &str,
    table: &DataFrame,
    v: &retain_core::Artifact<retain_models::DeployedValue>,
) {
    if !vk.starts_with("rank_ensemble_value") {
        assert_same(b, vk, &by_client(table, "clv"), false);
        return;
    }
    let c = p.protocol.cutoff;
    let countries = history.country_table(c).unwrap();
    let df = match &v.card.families {
        Some(f) => {
            let fams: retain_features::FeatureFamilies =
                f.names.iter().map(|n| n.parse().unwrap()).collect();
            history
                .features_with_families_at(
                    c,
                    Horizon::new(f.horizon_days).unwrap(),
                    &countries,
                    &fams,
                )
                .collect()
                .unwrap()
        }
        None => history.features_at(c, &countries).collect().unwrap(),
    };
    let m = FeatureMatrix::from_frame(&df, v.card.features.names()).unwrap();
    let pred = v
        .model
        .value
        .predict(m.x.view(), Horizon::new(91).unwrap(), &Default::default())
        .unwrap();
    let got: BTreeMap<i64, f64> = m.clients.iter().copied().zip(pred.score).collect();
    assert_same(b, vk, &got, false);
}

#[test]
fn reasons_add_up_and_push_the_score_up() {
    let tx = orii();
    let history = History::of(&tx).unwrap();
    let c: Cutoff = "2011-09-09".parse().unwrap();
    let countries = history.country_table(c).unwrap();
    let df = history.features_at(c, &countries).collect().unwrap();
    for (hybrid, churn) in [
        (false, ChurnChoice::Logistic),
        (false, ChurnChoice::Gbdt),
        (false, ChurnChoice::Forest),
        (false, ChurnChoice::Tree),
        (true, ChurnChoice::Ensemble),
    ] {
        let mut p = params(hybrid, false);
        p.validate = false;
        let t = train(
            &tx,
            &TrainParams {
                backtest: p,
                churn,
                value: ValueChoice::Clv,
                rfm: RfmKind::Bgnbd,
            },
            &DataSource::default(),
        )
        .unwrap();
        let m = FeatureMatrix::from_frame(&df, t.churn.card.features.names()).unwrap();
        let pred = t.churn.model.predict(m.x.view()).unwrap();
        let e = t.churn.model.explain(m.x.view()).unwrap();
        let kind = &t.churn.card.kind;
        for i in 0..m.clients.len() {
            let sum: f64 = e.base + e.values.row(i).sum();
            // the explanation's scale: log-odds, probability or the rank score
            let s = pred.score[i];
            let on_scale = match e.scale {
                retain_models::ExplanationScale::LogOdds => (s / (1.0 - s)).ln(),
                _ => s,
            };
            assert!(
                (sum - on_scale).abs() <= 1e-9 * on_scale.abs().max(1.0),
                "{kind}: client {} reasons + baseline {sum} vs score {on_scale}",
                m.clients[i]
            );
        }
    }
}

#[test]
fn drift_is_flagged_on_a_shifted_copy_and_a_foreign_pair_is_refused() {
    let tx = orii();
    let mut p = params(false, false);
    p.validate = false;
    let tp = TrainParams {
        backtest: p.clone(),
        churn: ChurnChoice::Logistic,
        value: ValueChoice::Clv,
        rfm: RfmKind::Bgnbd,
    };
    let t = train(&tx, &tp, &DataSource::default()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (cd, vd) = (dir.path().join("churn"), dir.path().join("value"));
    save_checked(&cd, &t.churn).unwrap();
    save_checked(&vd, &t.value).unwrap();
    let scorer = Scorer::load(&cd, Some(&vd)).unwrap();
    let history = History::of(&tx).unwrap();
    let c = p.protocol.cutoff;
    let same = scorer.score(&history, c, &ScoreOptions::default()).unwrap();
    let worst = same.summary.drift.first().unwrap();
    assert!(worst.psi < 1e-9, "the same clients: PSI 0, not {worst:?}");
    assert!(
        same.summary.drifted().is_empty(),
        "the clients it was trained for should not drift: {worst:?}"
    );
    // a copy where every amount is 5x: spend features move, recency does not
    let mut lines = tx.frame().clone();
    let amount = lines.column("amount").unwrap().f64().unwrap() * 5.0;
    lines.with_column(amount.into_column()).unwrap();
    let shifted = Transactions::from_frame(lines, "shifted", tx.layout().clone()).unwrap();
    let s = scorer
        .score(&History::of(&shifted).unwrap(), c, &ScoreOptions::default())
        .unwrap();
    let drifted: Vec<&str> = s
        .summary
        .drifted()
        .iter()
        .map(|d| d.feature.as_str())
        .collect();
    assert!(drifted.contains(&"total_revenue"), "{drifted:?}");
    assert!(!drifted.contains(&"days_since_last"), "{drifted:?}");
    // a value model trained on other data is refused as a pair, naming both folders
    let t2 = train(
        &shifted,
        &tp,
        &DataSource {
            lines_sha256: shifted.lines_sha256(),
            ..DataSource::default()
        },
    )
    .unwrap();
    let vd2 = dir.path().join("value-other");
    save_checked(&vd2, &t2.value).unwrap();
    let e = Scorer::load(&cd, Some(&vd2)).unwrap_err().to_string();
    assert!(
        e.contains("churn") && e.contains("value-other") && e.contains("different data"),
        "{e}"
    );
}

#[test]
fn reasons_for_the_head_of_the_list_are_the_full_runs_and_the_rest_are_empty() {
    let tx = orii();
    let history = History::of(&tx).unwrap();
    let mut p = params(false, false);
    p.validate = false;
    let t = train(
        &tx,
        &TrainParams {
            backtest: p.clone(),
            churn: ChurnChoice::Gbdt,
            value: ValueChoice::Clv,
            rfm: RfmKind::Bgnbd,
        },
        &DataSource::default(),
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (cd, vd) = (dir.path().join("churn"), dir.path().join("value"));
    save_checked(&cd, &t.churn).unwrap();
    save_checked(&vd, &t.value).unwrap();
    let scorer = Scorer::load(&cd, Some(&vd)).unwrap();
    let date = p.protocol.cutoff;
    let all = scorer
        .score(&history, date, &ScoreOptions::default())
        .unwrap()
        .table;
    let head = 100;
    let some = scorer
        .score(
            &history,
            date,
            &ScoreOptions {
                reasons_for: Some(head),
                ..ScoreOptions::default()
            },
        )
        .unwrap()
        .table;
    assert_eq!(all.shape(), some.shape());
    for c in all.get_column_names() {
        let (a, b) = (all.column(c).unwrap(), some.column(c).unwrap());
        if !c.starts_with("reason_") {
            assert!(
                a.as_materialized_series()
                    .equals_missing(b.as_materialized_series()),
                "{c}"
            );
            continue;
        }
        let (a, b) = (a.str().unwrap(), b.str().unwrap());
        for r in 0..all.height() {
            if r < head {
                assert_eq!(a.get(r), b.get(r), "{c}, row {r}: the full run's reason");
            } else {
                assert_eq!(b.get(r), Some(""), "{c}, row {r}: no reason past the head");
            }
        }
    }
}
