//! The 29 features alone against the 29 plus every feature family, on Online Retail II at the
//! evaluation cutoff (2011-09-09, horizon 91 days), from the condensed history
//! (`cargo bench -p retain-features --bench families`). The figures at scale (x10, x100) are
//! printed by `cargo run --release -p retain-features --example families_cost`.

use criterion::{Criterion, criterion_group, criterion_main};
use retain_core::{Cutoff, Horizon};
use retain_data::{Layout, read_transactions};
use retain_features::{FeatureFamilies, FeatureFamily, History};

fn families(c: &mut Criterion) {
    let data = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/online_retail_ii/online_retail_II_2009-2011_dedup.csv.gz"
    );
    let tx = read_transactions(data.as_ref(), &Layout::online_retail_ii()).expect("ORII");
    let cutoff = Cutoff::new(chrono::NaiveDate::from_ymd_opt(2011, 9, 9).expect("date"));
    let horizon = Horizon::new(91).expect("a horizon");
    let history = History::of(&tx).expect("history");
    let countries = history.country_table(cutoff).expect("countries");
    let all = FeatureFamilies::all();

    let mut g = c.benchmark_group("orii_features");
    g.sample_size(20);
    g.bench_function("features_at (29)", |b| {
        b.iter(|| history.features_at(cutoff, &countries).collect().unwrap())
    });
    g.bench_function("features_at + every family", |b| {
        b.iter(|| {
            history
                .features_with_families_at(cutoff, horizon, &countries, &all)
                .collect()
                .unwrap()
        })
    });
    g.bench_function("every family alone", |b| {
        b.iter(|| {
            history
                .family_features_at(cutoff, horizon, &all)
                .collect()
                .unwrap()
        })
    });
    for f in FeatureFamily::ALL {
        let one = FeatureFamilies::none().with(f);
        g.bench_function(format!("family {f} alone"), |b| {
            b.iter(|| {
                history
                    .family_features_at(cutoff, horizon, &one)
                    .collect()
                    .unwrap()
            })
        });
    }
    g.bench_function("condense the lines (History::of)", |b| {
        b.iter(|| History::of(&tx).unwrap())
    });
    g.finish();
}

criterion_group!(benches, families);
criterion_main!(benches);
