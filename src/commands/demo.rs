//! `retain demo`: the whole pipeline on the built-in sample data.

use std::path::{Path, PathBuf};

use anyhow::Result;
use retain_core::Artifact;
use retain_models::save_checked;
use retain_score::ScoreOptions;
use retain_score::customer_base::{ClvModel, RfmKind, Valuation};
use retain_score::pipeline::{Protocol, ProtocolSets};

use super::common::{Ui, last_day, load, resolve_input, source};
use super::evaluate::{run_protocol, write_evaluation};
use super::report::evaluation_lines;
use super::score::{ValueSettings, score_at, summarize};
use crate::args::{DemoArgs, GenerateArgs};

/// The built-in sample: data/sample/transactions.csv.gz, made by `retain generate`.
pub const SAMPLE: &str = "data/sample/transactions.csv.gz";

pub fn run(args: &DemoArgs, ui: &Ui) -> Result<()> {
    let sample = PathBuf::from(SAMPLE);
    if args.input.input.is_none() && !sample.exists() {
        ui.say(format!("{SAMPLE} is missing: generating it"));
        super::generate::run(
            &GenerateArgs {
                clients: 3000,
                seed: 42,
                start: None,
                days: None,
                out: sample.parent().unwrap_or(Path::new(".")).to_path_buf(),
            },
            ui,
        )?;
    }
    let (input, layout) = resolve_input(&args.input, Some(&sample))?;
    let tx = load(ui, &input, &layout)?;

    // 1. honest evaluation: train on an earlier window, measure on the last horizon
    let (e, measured) = run_protocol(ui, &tx, &args.window)?;
    let eval_path = args.out.join("evaluation.json");
    write_evaluation(&e, &eval_path)?;
    ui.say("");
    for line in evaluation_lines(&e) {
        ui.say(line);
    }

    // 2. the production model: learn from the most recent complete label window
    let last = last_day(&tx)?;
    let horizon = args.window.horizon;
    let protocol = Protocol {
        cutoff: last,
        horizon,
        train_horizon: args.window.train_horizon.unwrap_or(horizon),
    };
    let recent = ui.step("training on the latest window", || {
        Ok(ProtocolSets::build(&tx, protocol)?)
    })?;
    let mut artifact = retain_score::pipeline::train_logistic(&recent, &source(&tx))?;
    // the card carries the metrics measured out of time in step 1 by the same recipe
    artifact.card.metrics = measured.card.metrics;
    save_checked(&args.model_dir, &artifact)?;
    let clv = ui.step("fitting BG/NBD + Gamma-Gamma", || {
        Ok(ClvModel::fit(&recent.eval, RfmKind::Bgnbd)?)
    })?;
    let card = clv.card(last, horizon, &source(&tx));
    save_checked(&args.clv_model_dir, &Artifact { card, model: clv })?;

    // 3. tonight's outreach list
    let value = ValueSettings {
        clv_model: Some(args.clv_model_dir.clone()),
        valuation: Valuation::default(),
    };
    let mut scores = score_at(
        ui,
        &tx,
        &args.model_dir,
        &value,
        last,
        &ScoreOptions::default(),
    )?;
    let [csv, parquet] = scores.write(&args.out.join("scores"))?;
    ui.say("");
    summarize(ui, &scores, last);
    ui.say("");
    ui.say(format!("evaluation:     {}", eval_path.display()));
    ui.say(format!("model:          {}", args.model_dir.display()));
    ui.say(format!("CLV model:      {}", args.clv_model_dir.display()));
    ui.say(format!(
        "outreach list:  {} and {}",
        csv.display(),
        parquet.display()
    ));

    // 4. the retention KPIs and the HTML report over these outputs
    let kpi_params = retain_report::KpiParams {
        horizon_days: horizon,
        ..Default::default()
    };
    let (_, kpis) =
        super::kpis::compute_and_write(ui, &tx, &kpi_params, None, &args.out.join("kpis"))?;
    let report = super::html_report::write_report(
        ui,
        &tx,
        &input,
        &super::html_report::ReportPaths {
            evaluation: eval_path.clone(),
            scores: parquet.clone(),
            kpis: kpis[2].clone(),
            out: args.out.join("report.html"),
            top: 25,
        },
    )?;
    ui.say(format!("KPIs:           {}", kpis[2].display()));
    ui.say(format!("report:         {}", report.report));
    Ok(())
}
