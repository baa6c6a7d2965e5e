//! Criterion benches of `retain score`'s streamed stages at scale: Online Retail II replicated
//! ten times (BENCHMARK.md section 8, `retain generate --replicate 10`: 8.1M lines, 59,390
//! clients, written to a temporary Parquet file once per run), read part by part as the
//! product reads it, then each stage on its own: the read (decode, validation, canonical
//! order), condensing the parts, the features at the data's last day, and scoring every
//! client with a logistic churn model and the default value model trained on the x1 file,
//! three reasons each. `cargo bench --bench scale`. Whole-process figures (x10, x100, x1000)
//! come from `scripts/bench_scale.sh`; `cargo run --release --example read_timing -- FILE`
//! prints the read's stages of any file once.

use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, criterion_group, criterion_main};
use retain_clv::RfmKind;
use retain_core::{Cutoff, DataSource, Horizon};
use retain_data::{Layout, PartReader, READ_PART_LINES, Transactions, read_transactions};
use retain_features::Condenser;
use retain_score::{ScoreOptions, Scorer};
use retain_train::{BacktestParams, ChurnChoice, Protocol, TrainParams, ValueChoice, train};

fn orii() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/data/online_retail_ii/online_retail_II_2009-2011_dedup.csv.gz")
}

/// Every part of `file`, read as `retain score` reads it.
fn read_parts(file: &Path, layout: &Layout) -> Vec<Transactions> {
    let mut reader = PartReader::open(file, layout, None, READ_PART_LINES).unwrap();
    let mut parts = Vec::new();
    while let Some(part) = reader.next_part() {
        parts.push(part.unwrap());
    }
    parts
}

fn stages(c: &mut Criterion) {
    let layout = Layout::online_retail_ii();
    let dir = tempfile::tempdir().unwrap();
    let x10 = retain_data::write_replicated(&orii(), 10, dir.path(), None)
        .unwrap()
        .path;
    let date: Cutoff = "2011-12-09".parse().unwrap();

    // the models, trained on the x1 file at the protocol's cutoff
    let tx = read_transactions(&orii(), &layout).unwrap();
    let h = Horizon::new(91).unwrap();
    let mut backtest = BacktestParams::new(Protocol {
        cutoff: "2011-09-09".parse().unwrap(),
        horizon: h,
        train_horizon: h,
    });
    backtest.bootstrap_resamples = 0;
    backtest.validate = false;
    let params = TrainParams {
        backtest,
        churn: ChurnChoice::Logistic,
        value: ValueChoice::Ensemble,
        rfm: RfmKind::Bgnbd,
    };
    let trained = train(&tx, &params, &DataSource::default()).unwrap();
    drop(tx);
    let (cd, vd) = (dir.path().join("churn"), dir.path().join("value"));
    retain_models::save_checked(&cd, &trained.churn).unwrap();
    retain_models::save_checked(&vd, &trained.value).unwrap();
    let scorer = Scorer::load(&cd, Some(&vd)).unwrap();

    let mut g = c.benchmark_group("orii_x10");
    g.sample_size(10);
    g.bench_function("read_parts", |b| {
        b.iter(|| black_box(read_parts(&x10, &layout).len()))
    });
    let parts = read_parts(&x10, &layout);
    g.bench_function("condense", |b| {
        b.iter(|| {
            let mut condenser = Condenser::new();
            for part in &parts {
                condenser.push(part).unwrap();
            }
            black_box(condenser)
        })
    });
    let features = || {
        let mut stream = scorer.part_features(Some(date));
        for part in &parts {
            stream.push(part).unwrap();
        }
        stream
    };
    g.bench_function("condense_and_features", |b| {
        b.iter(|| black_box(features().finish(date).unwrap()))
    });
    let mut ids = retain_data::ClientIds::default();
    for part in &parts {
        ids.merge(part.ids()).unwrap();
    }
    let (table, _) = features().finish(date).unwrap();
    g.bench_function("score_logistic_and_value_with_reasons", |b| {
        b.iter(|| {
            black_box(
                scorer
                    .score_features(table.clone(), ids.clone(), date, &ScoreOptions::default())
                    .unwrap(),
            )
        })
    });
    g.finish();
}

criterion_group!(benches, stages);
criterion_main!(benches);
