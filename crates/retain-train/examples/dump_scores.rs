//! Writes every candidate's scores of every client at a cutoff, with the labels, to a CSV: the
//! raw material of a study of combinations, done on validation cutoffs only. Column names are
//! quoted (a tuned candidate's name holds commas).
//!
//! `cargo run --release -p retain-train --example dump_scores -- CUTOFF OUT.csv`
//! (Online Retail II, horizon 91).

use std::io::Write;

use retain_core::{Cutoff, Horizon};
use retain_data::{Layout, read_transactions};
use retain_features::History;
use retain_train::{BacktestParams, Protocol, backtest};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let cutoff: Cutoff = args[1].parse()?;
    let data = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/online_retail_ii/online_retail_II_2009-2011_dedup.csv.gz"
    );
    let tx = read_transactions(data.as_ref(), &Layout::online_retail_ii())?;
    let h = Horizon::new(91)?;
    let mut p = BacktestParams::new(Protocol {
        cutoff,
        horizon: h,
        train_horizon: h,
    });
    p.bootstrap_resamples = 0;
    let b = backtest(&tx, &p)?;
    let history = History::of(&tx)?;
    let countries = history.country_table(cutoff)?;
    let df = history.labelled_set(cutoff, h, &countries).collect()?;
    let churned = df
        .column("churned")?
        .cast(&polars::prelude::DataType::Float64)?;
    let value = df
        .column("holdout_value")?
        .cast(&polars::prelude::DataType::Float64)?;
    let (churned, value) = (churned.f64()?, value.f64()?);
    let s = &b.last_scores;
    let mut out = std::io::BufWriter::new(std::fs::File::create(&args[2])?);
    let names: Vec<String> = s
        .churn
        .keys()
        .map(|k| format!("\"churn:{k}\""))
        .chain(s.value.keys().map(|k| format!("\"value:{k}\"")))
        .collect();
    writeln!(out, "client_id,churned,holdout_value,{}", names.join(","))?;
    for i in 0..s.ids.len() {
        let mut row = vec![
            s.ids[i].to_string(),
            churned.get(i).unwrap_or(f64::NAN).to_string(),
            value.get(i).unwrap_or(f64::NAN).to_string(),
        ];
        row.extend(s.churn.values().map(|v| v[i].to_string()));
        row.extend(s.value.values().map(|v| v[i].to_string()));
        writeln!(out, "{}", row.join(","))?;
    }
    Ok(())
}
