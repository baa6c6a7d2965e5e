//! Criterion benches of the pipeline stages on the Online Retail II protocol run
//! (BENCHMARK.md): reading, features at both cutoffs, the whole evaluation, and scoring.
//! `cargo bench --bench pipeline`. Whole-process figures against the peer come from
//! `scripts/bench_vs_peer.sh`.

use std::hint::black_box;
use std::path::Path;

use chrono::NaiveDate;
use criterion::{Criterion, criterion_group, criterion_main};
use retain_core::{DataSource, day_number};
use retain_data::{Layout, read_transactions};
use retain_features::{country_table, features_at};
use retain_score::pipeline::{Protocol, ProtocolSets, evaluate};

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
    let protocol = Protocol {
        cutoff: NaiveDate::from_ymd_opt(2011, 9, 9).unwrap(),
        horizon: 91,
        train_horizon: 91,
    };
    let cutoff = day_number(protocol.cutoff);
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
    let sets = ProtocolSets::build(&tx, protocol).unwrap();
    g.bench_function("train_and_evaluate", |b| {
        b.iter(|| black_box(evaluate(&sets, &DataSource::default()).unwrap()))
    });
    g.finish();
}

criterion_group!(benches, stages);
criterion_main!(benches);
