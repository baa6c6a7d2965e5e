//! Criterion benches of the pipeline stages on the Online Retail II protocol run
//! (BENCHMARK.md): reading, features at both cutoffs, the whole evaluation, and scoring.
//! `cargo bench --bench pipeline`. Whole-process figures against the peer come from
//! `scripts/bench_vs_peer.sh`.

use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, criterion_group, criterion_main};
use retain_clv::RfmKind;
use retain_core::{DataSource, Horizon};
use retain_data::{Layout, read_transactions};
use retain_features::{History, country_table, features_at};
use retain_score::{ScoreOptions, Scorer};
use retain_train::{
    BacktestParams, ChurnChoice, Protocol, ProtocolSets, TrainParams, ValueChoice, backtest, train,
};

fn orii() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/data/online_retail_ii/online_retail_II_2009-2011_dedup.csv.gz")
}

fn stages(c: &mut Criterion) {
    let path = orii();
    let layout = Layout::online_retail_ii();
    let mut g = c.benchmark_group("orii");
    g.sample_size(10);
    g.bench_function("read_csv_gz", |b| {
        b.iter(|| black_box(read_transactions(&path, &layout).unwrap()))
    });
    let tx = read_transactions(&path, &layout).unwrap();
    let h = Horizon::new(91).unwrap();
    let protocol = Protocol {
        cutoff: "2011-09-09".parse().unwrap(),
        horizon: h,
        train_horizon: h,
    };
    let cutoff = protocol.cutoff;
    g.bench_function("features_one_cutoff", |b| {
        let countries = country_table(tx.lazy(), cutoff).unwrap();
        b.iter(|| {
            black_box(
                features_at(tx.lazy(), cutoff, &countries)
                    .collect()
                    .unwrap(),
            )
        })
    });
    g.bench_function("features_and_labels_both_cutoffs", |b| {
        b.iter(|| black_box(ProtocolSets::build(&tx, protocol).unwrap()))
    });
    let mut params = BacktestParams::new(protocol);
    params.bootstrap_resamples = 0;
    params.validate = false;
    g.bench_function("backtest_one_cutoff_no_selection", |b| {
        b.iter(|| black_box(backtest(&tx, &params).unwrap()))
    });
    let tp = TrainParams {
        backtest: params.clone(),
        churn: ChurnChoice::Gbdt,
        value: ValueChoice::Clv,
        rfm: RfmKind::Bgnbd,
    };
    let trained = train(&tx, &tp, &DataSource::default()).unwrap();
    g.bench_function("train_gbdt_and_clv", |b| {
        b.iter(|| black_box(train(&tx, &tp, &DataSource::default()).unwrap()))
    });
    let dir = tempfile::tempdir().unwrap();
    let (cd, vd) = (dir.path().join("churn"), dir.path().join("value"));
    retain_models::save_checked(&cd, &trained.churn).unwrap();
    retain_models::save_checked(&vd, &trained.value).unwrap();
    let scorer = Scorer::load(&cd, Some(&vd)).unwrap();
    let history = History::of(&tx).unwrap();
    g.bench_function("score_gbdt_with_reasons", |b| {
        b.iter(|| {
            black_box(
                scorer
                    .score(&history, protocol.cutoff, &ScoreOptions::default())
                    .unwrap(),
            )
        })
    });
    g.finish();
}

criterion_group!(benches, stages);
criterion_main!(benches);
