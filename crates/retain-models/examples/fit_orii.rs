//! Times every model's fit on the peer's Online Retail II training features (4,976 clients,
//! 29 used features), as the peer's `fit_orii_peer.py` does for scikit-learn and LightGBM.
//!
//! ```text
//! cargo run --release -p retain-models --example fit_orii [repeats] [name filter]
//! /tmp/peer-venv/bin/python crates/retain-models/examples/fit_orii_peer.py [repeats]
//! ```
//! Prints the median wall time of each fit over `repeats` runs (default 3), the size of the
//! model's JSON and, for classifiers, the ROC AUC on the evaluation features. With a filter,
//! only the models whose name contains it are fitted (for profiling); a filter ending in `$`
//! selects the model of exactly that name. With `CONTRIBUTIONS=1` it also times the
//! per-feature contributions (the "reasons" of `retain score`) of the forest and the boosted
//! classifier on the evaluation features, once each.

#[allow(dead_code)] // the tests' helpers, not all used here
#[path = "../tests/common/mod.rs"]
mod common;

use std::time::Instant;

use common::{read_peer, roc_auc, select, used_columns};
use retain_models::{
    ChurnClassifier, DecisionTreeParams, GradientBoostingParams, GradientBoostingRegressorParams,
    LogisticParams, RandomForestParams, Solver, ValueRegressor,
};

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Times `fit` (the fit only), then measures the JSON size of the last model and, when
/// `auc` is given, its eval ROC AUC, and when `predict` is given, the median time of a
/// prediction on the evaluation features.
fn time<M: serde::Serialize>(
    name: &str,
    repeats: usize,
    mut fit: impl FnMut() -> M,
    auc: impl Fn(&M) -> Option<f64>,
    predict: impl Fn(&M) -> Option<f64>,
) {
    let filter = std::env::args().nth(2).unwrap_or_default();
    let selected = match filter.strip_suffix('$') {
        Some(exact) => name == exact,
        None => name.contains(&filter),
    };
    if !selected {
        return;
    }
    let mut times = Vec::new();
    let mut model = None;
    for _ in 0..repeats {
        let t = Instant::now();
        let m = fit();
        times.push(t.elapsed().as_secs_f64());
        model = Some(m);
    }
    let model = model.expect("at least one repeat");
    let json = serde_json::to_string(&model).unwrap_or_default();
    let size = json.len();
    // FNV-1a of the JSON: equal hashes = the same model, bit for bit.
    let hash = json.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    let auc = auc(&model).map_or(String::new(), |a| format!("  eval AUC {a:.4}"));
    let predict = predict(&model).map_or(String::new(), |t| format!("  predict {t:.4} s"));
    let min = times.iter().copied().fold(f64::INFINITY, f64::min);
    println!(
        "{name:<27} median {:8.4} s  (min {min:.4})  model.json {:>5} KiB {:08x}{auc}{predict}",
        median(times),
        size / 1024,
        hash >> 32
    );
}

fn main() {
    let repeats: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(3)
        .max(1);
    let stem = "online_retail_ii/peer_features/orii_2011-09-09_h91";
    let train = read_peer(&format!("{stem}_train.csv.gz"));
    let eval = read_peer(&format!("{stem}_eval.csv.gz"));
    let cols = used_columns(&train);
    let x = select(&train.x, &cols);
    let xe = select(&eval.x, &cols);
    let (y, v) = (&train.churned, &train.value);
    let auc = |m: &dyn ChurnClassifier| {
        let p = m.predict_proba(xe.view()).ok()?;
        Some(roc_auc(p.as_slice()?, &eval.churned))
    };
    let none = |_: &_| None;
    // The median time of `f` over `repeats` runs.
    let timed = |repeats: usize, f: &dyn Fn()| {
        let times = (0..repeats)
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed().as_secs_f64()
            })
            .collect();
        Some(median(times))
    };
    println!("ORII train: {} rows x {} features", x.nrows(), x.ncols());
    time(
        "logistic_regression",
        repeats,
        || LogisticParams::new().fit(x.view(), y, None).unwrap(),
        |m| auc(m),
        |m| timed(repeats, &|| drop(m.predict_proba(xe.view()))),
    );
    time(
        "logistic_regression(lbfgs)",
        repeats,
        || {
            let p = LogisticParams::new().solver(Solver::Lbfgs);
            p.fit(x.view(), y, None).unwrap()
        },
        |m| auc(m),
        |m| timed(repeats, &|| drop(m.predict_proba(xe.view()))),
    );
    time(
        "decision_tree(depth 6)",
        repeats,
        || DecisionTreeParams::new().fit(x.view(), y, None).unwrap(),
        |m| auc(m),
        |m| timed(repeats, &|| drop(m.predict_proba(xe.view()))),
    );
    time(
        "random_forest(300)",
        repeats,
        || RandomForestParams::new().fit(x.view(), y, None).unwrap(),
        |m| auc(m),
        |m| timed(repeats, &|| drop(m.predict_proba(xe.view()))),
    );
    time(
        "random_forest(300, 2 thr)",
        repeats,
        || {
            let p = RandomForestParams::new().threads(2);
            p.fit(x.view(), y, None).unwrap()
        },
        |m| auc(m),
        |m| timed(repeats, &|| drop(m.predict_proba(xe.view()))),
    );
    time(
        "gbdt_classifier(300)",
        repeats,
        || {
            GradientBoostingParams::new()
                .fit(x.view(), y, None)
                .unwrap()
        },
        |m| auc(m),
        |m| timed(repeats, &|| drop(m.predict_proba(xe.view()))),
    );
    time(
        "gbdt_classifier(300, 2 thr)",
        repeats,
        || {
            let p = GradientBoostingParams::new().threads(2);
            p.fit(x.view(), y, None).unwrap()
        },
        |m| auc(m),
        |m| timed(repeats, &|| drop(m.predict_proba(xe.view()))),
    );
    if std::env::var("CONTRIBUTIONS").as_deref() == Ok("1") {
        let forest = RandomForestParams::new().threads(2).fit(x.view(), y, None);
        let booster = GradientBoostingParams::new().fit(x.view(), y, None);
        let models: [(&str, &dyn ChurnClassifier); 2] = [
            ("random_forest(300)", &forest.unwrap()),
            ("gbdt_classifier(300)", &booster.unwrap()),
        ];
        for (name, m) in models {
            let t = Instant::now();
            let c = m.contributions(xe.view()).unwrap();
            let rows = c.map_or(0, |c| c.nrows());
            let secs = t.elapsed().as_secs_f64();
            println!("{name:<27} contributions of {rows} rows {secs:.3} s");
        }
    }
    time(
        "gbdt_regressor(300)",
        repeats,
        || {
            let p = GradientBoostingRegressorParams::new();
            p.fit(x.view(), v, None).unwrap()
        },
        none,
        |m| timed(repeats, &|| drop(m.predict(xe.view()))),
    );
    time(
        "gbdt_regressor(300, 2 thr)",
        repeats,
        || {
            let p = GradientBoostingRegressorParams::new().threads(2);
            p.fit(x.view(), v, None).unwrap()
        },
        none,
        |m| timed(repeats, &|| drop(m.predict(xe.view()))),
    );
}
