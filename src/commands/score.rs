//! `retain score`: apply a saved model and write the ranked outreach list.

use std::path::Path;

use anyhow::{Context, Result};
use chrono::NaiveDate;
use retain_core::{ModelCard, day_number};
use retain_data::Transactions;
use retain_features::{FeatureMatrix, country_table, features_at};
use retain_models::{AnyClassifier, load_checked};
use retain_score::{Scores, score};

use super::common::{Ui, last_day, load, resolve_input};
use crate::args::ScoreArgs;

pub fn run(args: &ScoreArgs, ui: &Ui) -> Result<()> {
    let (input, layout) = resolve_input(&args.input, None)?;
    let tx = load(ui, &input, &layout)?;
    let date = match args.date {
        Some(d) => d,
        None => last_day(&tx)?,
    };
    let mut scores = score_at(ui, &tx, &args.model, date, args.reasons)?;
    let [csv, parquet] = scores.write(&args.out)?;
    summarize(ui, &scores, date);
    ui.say(format!("wrote {} and {}", csv.display(), parquet.display()));
    Ok(())
}

/// Scores every client with a purchase up to `date` with the model saved in `model_dir`.
pub fn score_at(
    ui: &Ui,
    tx: &Transactions,
    model_dir: &Path,
    date: NaiveDate,
    reasons: usize,
) -> Result<Scores> {
    let card = ModelCard::load(model_dir)
        .with_context(|| format!("loading the model in {}", model_dir.display()))?;
    let matrix = ui.step(&format!("computing features at {date}"), || {
        let c = day_number(date);
        let countries = country_table(tx.lazy(), c)?;
        let df = features_at(tx.lazy(), c, &countries).collect()?;
        Ok(FeatureMatrix::from_frame(&df, card.features.names())?)
    })?;
    let artifact = load_checked::<AnyClassifier>(model_dir, &matrix.schema)?;
    ui.step(&format!("scoring {} clients", matrix.clients.len()), || {
        Ok(score(&artifact.model, &matrix, reasons)?)
    })
}

/// Prints the head of the list.
pub fn summarize(ui: &Ui, scores: &Scores, date: NaiveDate) {
    let t = &scores.table;
    let n = t.height();
    ui.say(format!(
        "{n} clients scored as of {date}; the five most at risk:"
    ));
    for i in 0..n.min(5) {
        let row = t.get_row(i).map(|r| r.0).unwrap_or_default();
        let cells: Vec<String> = row.iter().map(|v| v.to_string().replace('"', "")).collect();
        ui.say(format!("  {}", cells.join("  ")));
    }
}
