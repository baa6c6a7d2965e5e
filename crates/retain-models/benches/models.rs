//! Fit (and one predict) per model kind on a seeded synthetic churn set: 2,000 clients x
//! 12 features, small ensembles so a run takes seconds. `cargo bench -p retain-models`.
//! The full-size Online Retail II timings are `examples/fit_orii.rs`.

use criterion::{Criterion, criterion_group, criterion_main};
use ndarray::Array2;
use rand::{Rng, SeedableRng};
use retain_models::{
    ChurnClassifier, DecisionTreeParams, GradientBoostingParams, GradientBoostingRegressorParams,
    LogisticParams, RandomForestParams,
};
use std::hint::black_box;

/// Features ~ U(0, 1) scaled per column; churn from a noisy logistic of three of them;
/// value log-normal for non-churners.
fn synthetic(n: usize, p: usize) -> (Array2<f64>, Vec<bool>, Vec<f64>) {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(42);
    let x = Array2::from_shape_fn((n, p), |(_, j)| rng.random::<f64>() * (1.0 + j as f64));
    let mut y = Vec::with_capacity(n);
    let mut v = Vec::with_capacity(n);
    for row in x.rows() {
        let z = 2.0 * row[0] - 0.7 * row[1] + 0.3 * row[2] - 0.5;
        let churned = rng.random::<f64>() < 1.0 / (1.0 + (-z).exp());
        y.push(churned);
        v.push(if churned {
            0.0
        } else {
            (1.0 + row[3] + rng.random::<f64>()).exp()
        });
    }
    (x, y, v)
}

fn models(c: &mut Criterion) {
    let (x, y, v) = synthetic(2_000, 12);
    let mut g = c.benchmark_group("fit_2000x12");
    g.sample_size(10);
    g.bench_function("logistic", |b| {
        b.iter(|| {
            LogisticParams::new()
                .fit(black_box(x.view()), &y, None)
                .unwrap()
        })
    });
    g.bench_function("decision_tree", |b| {
        b.iter(|| {
            DecisionTreeParams::new()
                .fit(black_box(x.view()), &y, None)
                .unwrap()
        })
    });
    let rf = RandomForestParams::new().n_trees(50);
    g.bench_function("random_forest_50", |b| {
        b.iter(|| rf.fit(black_box(x.view()), &y, None).unwrap())
    });
    let gb = GradientBoostingParams::new().n_trees(50);
    g.bench_function("gbdt_classifier_50", |b| {
        b.iter(|| gb.fit(black_box(x.view()), &y, None).unwrap())
    });
    let gr = GradientBoostingRegressorParams::new().n_trees(50);
    g.bench_function("gbdt_regressor_50", |b| {
        b.iter(|| gr.fit(black_box(x.view()), &v, None).unwrap())
    });
    g.finish();
    let forest = rf.fit(x.view(), &y, None).unwrap();
    c.bench_function("predict_2000/random_forest_50", |b| {
        b.iter(|| forest.predict_proba(black_box(x.view())).unwrap())
    });
    let booster = gb.fit(x.view(), &y, None).unwrap();
    c.bench_function("predict_2000/gbdt_classifier_50", |b| {
        b.iter(|| booster.predict_proba(black_box(x.view())).unwrap())
    });
}

criterion_group!(benches, models);
criterion_main!(benches);
