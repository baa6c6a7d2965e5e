//! `retain score`: apply a saved model and write the ranked outreach list.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use chrono::NaiveDate;
use retain_core::{FeatureSchema, ModelCard, day_number};
use retain_data::Transactions;
use retain_features::{FeatureMatrix, History};
use retain_models::{AnyClassifier, load_checked};
use retain_score::customer_base::{CLV_FEATURES, ClvModel, Valuation};
use retain_score::{ScoreOptions, Scores, score_with_value};

use super::common::{Ui, last_day, load, resolve_input};
use crate::args::ScoreArgs;

/// The CLV model `retain score` reads when --clv-model is not given (if it exists).
pub const DEFAULT_CLV_MODEL: &str = "models/clv-bgnbd";

/// The value side of a scoring run: which CLV model, and how its CLV is valued.
pub struct ValueSettings {
    /// The CLV model's folder; `None` omits the value columns.
    pub clv_model: Option<PathBuf>,
    /// Discounting and margin.
    pub valuation: Valuation,
}

pub fn run(args: &ScoreArgs, ui: &Ui) -> Result<()> {
    let (input, layout) = resolve_input(&args.input, None)?;
    let tx = load(ui, &input, &layout)?;
    let date = match args.date {
        Some(d) => d,
        None => last_day(&tx)?,
    };
    let clv_model = args
        .clv_model
        .clone()
        .or_else(|| Some(PathBuf::from(DEFAULT_CLV_MODEL)).filter(|p| p.exists()));
    if clv_model.is_none() {
        ui.say(format!(
            "no CLV model ({DEFAULT_CLV_MODEL} does not exist and --clv-model is not given): the \
             columns p_alive, expected_purchases, clv, value_at_risk and key_client are omitted"
        ));
    }
    let value = ValueSettings {
        clv_model,
        valuation: Valuation {
            annual_discount_rate: args.discount_rate,
            margin: args.margin,
        },
    };
    let options = ScoreOptions {
        n_reasons: args.reasons,
        rank_by: args.rank_by,
        key_share: args.key_share,
    };
    let mut scores = score_at(ui, &tx, &args.model, &value, date, &options)?;
    let [csv, parquet] = scores.write(&args.out)?;
    summarize(ui, &scores, date);
    ui.say(format!("wrote {} and {}", csv.display(), parquet.display()));
    Ok(())
}

/// Scores every client with a purchase up to `date` with the model saved in `model_dir` and,
/// if `value.clv_model` is set, values them with that CLV model over the churn model's horizon.
pub fn score_at(
    ui: &Ui,
    tx: &Transactions,
    model_dir: &Path,
    value: &ValueSettings,
    date: NaiveDate,
    options: &ScoreOptions,
) -> Result<Scores> {
    let card = ModelCard::load(model_dir)
        .with_context(|| format!("loading the model in {}", model_dir.display()))?;
    let clv_schema = FeatureSchema::new(CLV_FEATURES);
    let (matrix, rfm) = ui.step(&format!("computing features at {date}"), || {
        let c = day_number(date);
        let history = History::of(tx)?;
        let countries = history.country_table(c)?;
        let df = history.features_at(c, &countries).collect()?;
        Ok((
            FeatureMatrix::from_frame(&df, card.features.names())?,
            FeatureMatrix::from_frame(&df, clv_schema.names())?,
        ))
    })?;
    let artifact = load_checked::<AnyClassifier>(model_dir, &matrix.schema)?;
    let values = match &value.clv_model {
        Some(dir) => {
            let clv = load_checked::<ClvModel>(dir, &clv_schema)
                .with_context(|| format!("loading the CLV model in {}", dir.display()))?;
            let horizon = artifact.card.horizon_days;
            ui.say(format!(
                "CLV over the next {horizon} days (the churn model's horizon) from {} ({}, fitted \
                 at {}); key clients: the top {}% by CLV",
                dir.display(),
                clv.card.kind,
                clv.card.training_cutoff,
                100.0 * options.key_share
            ));
            Some(clv.model.values(&rfm, horizon, &value.valuation)?)
        }
        None => None,
    };
    ui.step(&format!("scoring {} clients", matrix.clients.len()), || {
        Ok(score_with_value(
            &artifact.model,
            &matrix,
            values.as_ref(),
            options,
        )?)
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
