//! Where the time of `retain train` and `retain score` goes, stage by stage, on one file:
//! `cargo run --release --example stage_timing -- FILE [LAYOUT] [CUTOFF] [HORIZON] [MODEL]`
//! (MODEL: logistic, gbdt, forest, tree, ensemble; default logistic).

use std::time::Instant;

use retain_clv::RfmKind;
use retain_core::{Cutoff, DataSource, Horizon};
use retain_data::{Layout, read_transactions};
use retain_features::History;
use retain_score::{ScoreOptions, Scorer};
use retain_train::{BacktestParams, ChurnChoice, Protocol, TrainParams, ValueChoice, train};

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().expect("a file");
    let layout = Layout::preset(&args.next().unwrap_or("online-retail-ii".into())).unwrap();
    let cutoff: Cutoff = args.next().unwrap_or("2011-09-09".into()).parse().unwrap();
    let horizon: Horizon = args.next().unwrap_or("91".into()).parse().unwrap();
    let churn = match args.next().as_deref().unwrap_or("logistic") {
        "gbdt" => ChurnChoice::Gbdt,
        "forest" => ChurnChoice::Forest,
        "tree" => ChurnChoice::Tree,
        "ensemble" => ChurnChoice::Ensemble,
        _ => ChurnChoice::Logistic,
    };
    let t0 = Instant::now();
    let t = Instant::now();
    let tx = read_transactions(std::path::Path::new(&path), &layout).unwrap();
    println!(
        "read + validate + clean: {:.3} s ({} lines)",
        t.elapsed().as_secs_f64(),
        tx.stats().lines
    );
    let protocol = Protocol {
        cutoff,
        horizon,
        train_horizon: horizon,
    };
    let t = Instant::now();
    let trained = train(
        &tx,
        &TrainParams {
            backtest: BacktestParams::new(protocol),
            churn,
            value: ValueChoice::Clv,
            rfm: RfmKind::Bgnbd,
        },
        &DataSource::default(),
    )
    .unwrap();
    println!(
        "train {} + CLV (features, fits, holdout metrics): {:.3} s (ROC AUC {:?})",
        trained.churn.card.kind,
        t.elapsed().as_secs_f64(),
        trained.churn.card.metrics.get("roc_auc")
    );
    let dir = tempfile::tempdir().unwrap();
    let (cd, vd) = (dir.path().join("churn"), dir.path().join("value"));
    retain_models::save_checked(&cd, &trained.churn).unwrap();
    retain_models::save_checked(&vd, &trained.value).unwrap();
    let scorer = Scorer::load(&cd, Some(&vd)).unwrap();
    let t = Instant::now();
    let history = History::of(&tx).unwrap();
    println!("condense the history: {:.3} s", t.elapsed().as_secs_f64());
    for reasons in [0, 3] {
        let t = Instant::now();
        let options = ScoreOptions {
            n_reasons: reasons,
            ..ScoreOptions::default()
        };
        let s = scorer.score(&history, cutoff, &options).unwrap();
        println!(
            "score {} clients with {reasons} reasons: {:.3} s",
            s.table.height(),
            t.elapsed().as_secs_f64()
        );
    }
    println!("total: {:.3} s", t0.elapsed().as_secs_f64());
}
