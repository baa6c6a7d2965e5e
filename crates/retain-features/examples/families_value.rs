//! A quick check of what the feature families are worth to a strongly regularised logistic
//! regression on Online Retail II, out of time as in BENCHMARK.md: trained on the features at
//! `t - 91` days with labels over the 91 days up to `t`, judged on the features at `t` with
//! labels over the 91 days after it, for two targets:
//!
//! - **validation**: `t` = 2011-03-11 (trained on the features at 2010-12-10 with labels to
//!   2011-03-11, judged on the features at 2011-03-11 with labels to 2011-06-10): the target
//!   to choose on;
//! - **evaluation**: trained at 2011-06-10 with labels to 2011-09-09, judged at 2011-09-09 on
//!   labels to 2011-12-09: reported, never chosen on.
//!
//! Every feature is signed-log transformed (`sign(x) ln(1 + |x|)`) and standardised (the
//! model's own scaler); the feature sets are the 29 protocol features (the non-constant ones
//! of the training set), the 29 plus each family, and the 29 plus every family, for a few `C`.
//!
//! `cargo run --release -p retain-features --example families_value`
//!
//! Measured 2026-12-02 (ROC AUC, validation -> evaluation): the 29 alone, C chosen on
//! validation (C = 1: 0.7843) -> 0.7965; the 29 plus every family, C chosen on validation
//! (C = 0.003: 0.7868) -> 0.8056 (PR AUC 0.8247, lift 1.613). `last_year` and `windows` add
//! the most on their own.

use polars::prelude::*;
use retain_core::day_number;
use retain_core::{Cutoff, Horizon};
use retain_data::{Layout, read_transactions};
use retain_eval::{average_precision, roc_auc, top_decile_lift};
use retain_features::{
    FEATURES, FeatureFamilies, FeatureFamily, FeatureMatrix, History, family_columns, non_constant,
};
use retain_models::{ChurnClassifier, LogisticParams};

const H: i32 = 91;

fn day(s: &str) -> i32 {
    day_number(chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date"))
}

/// Features (29 + every family) with labels at `cutoff` over `(cutoff, cutoff + H]`.
fn labelled(
    h: &History,
    cutoff: i32,
    countries: &retain_features::CountryTable,
) -> PolarsResult<DataFrame> {
    let mut args = JoinArgs::new(JoinType::Left);
    args.maintain_order = MaintainOrderJoin::Left;
    h.labelled_set(
        Cutoff::from_day(cutoff),
        Horizon::new(H as u32).unwrap(),
        countries,
    )
    .join(
        h.family_features_at(
            Cutoff::from_day(cutoff),
            Horizon::new(H as u32).unwrap(),
            &FeatureFamilies::all(),
        ),
        [col("client_id")],
        [col("client_id")],
        args,
    )
    .collect()
}

/// The signed-log matrix of `names`.
fn matrix(df: &DataFrame, names: &[String]) -> Result<FeatureMatrix, Box<dyn std::error::Error>> {
    let mut m = FeatureMatrix::from_frame(df, names)?;
    m.x.mapv_inplace(|v| v.signum() * v.abs().ln_1p());
    Ok(m)
}

fn churned(df: &DataFrame) -> PolarsResult<Vec<bool>> {
    Ok(df
        .column("churned")?
        .cast(&DataType::Int32)?
        .i32()?
        .iter()
        .map(|v| v == Some(1))
        .collect())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let data = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/online_retail_ii/online_retail_II_2009-2011_dedup.csv.gz"
    );
    let tx = read_transactions(data.as_ref(), &Layout::online_retail_ii())?;
    let h = History::of(&tx)?;
    let targets = [
        ("validation", day("2011-03-11")),
        ("evaluation", day("2011-09-09")),
    ];

    let mut sets: Vec<(String, Vec<String>)> = Vec::new();
    let fam = |f: FeatureFamilies| family_columns(&f);
    sets.push(("29".into(), Vec::new()));
    for f in FeatureFamily::ALL {
        sets.push((format!("29+{f}"), fam(FeatureFamilies::none().with(f))));
    }
    sets.push(("29+all".into(), fam(FeatureFamilies::all())));
    let cs = [0.003, 0.01, 0.03, 1.0];

    println!("target  features  n_features  C  roc_auc  pr_auc  lift");
    for (name, t) in targets {
        let countries = h.country_table(Cutoff::from_day(t))?;
        let train = labelled(&h, t - H, &countries)?;
        let test = labelled(&h, t, &countries)?;
        let (yt, ye) = (churned(&train)?, churned(&test)?);
        let base = non_constant(&train, &FEATURES)?;
        for (set, extra) in &sets {
            let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
            let used: Vec<String> = base
                .iter()
                .cloned()
                .chain(non_constant(&train, &extra)?)
                .collect();
            let (xt, xe) = (matrix(&train, &used)?, matrix(&test, &used)?);
            for c in cs {
                let m = LogisticParams::new().c(c).fit(xt.x.view(), &yt, None)?;
                let p = m.predict_proba(xe.x.view())?.to_vec();
                println!(
                    "{name}  {set}  {}  {c}  {:.4}  {:.4}  {:.3}",
                    used.len(),
                    roc_auc(&ye, &p)?,
                    average_precision(&ye, &p)?,
                    top_decile_lift(&ye, &p, &xe.clients)?
                );
            }
        }
    }
    Ok(())
}
