//! `retain demo`: the whole pipeline on the built-in sample data: the backtest, training the
//! selected models on the latest window, and tonight's outreach list.

use std::path::{Path, PathBuf};

use anyhow::Result;
use retain_clv::RfmKind;
use retain_score::{ScoreOptions, Scorer};
use retain_train::{BacktestParams, ChurnChoice, TrainParams, ValueChoice, backtest, train};

use super::common::{
    Ui, generate_sample, last_day, load, print_backtest, protocol, resolve_input, save_pair,
    score_all, source, write_backtest,
};
use super::report::{report_drift, summarize};
use crate::args::{DemoArgs, GenerateArgs, defaults};

pub fn run(args: &DemoArgs, ui: &Ui) -> Result<()> {
    let sample = PathBuf::from(defaults::SAMPLE);
    if args.input.input.is_none() && !sample.exists() {
        ui.say(format!("{} is missing: generating it", defaults::SAMPLE));
        generate_sample(
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
    let last = last_day(&tx)?;

    // 1. honest evaluation: every model trained on earlier windows, measured on the last
    //    horizon, and the selection made on the training windows only
    let p = protocol(&args.window, last.minus(args.window.horizon));
    let mut params = BacktestParams::new(p);
    params.bootstrap_resamples = 0;
    let b = ui.step("training and evaluating every model", || {
        Ok(backtest(&tx, &params)?)
    })?;
    let eval_path = args.out.join("evaluation.json");
    write_backtest(&b, &eval_path)?;
    ui.say("");
    print_backtest(ui, &b);

    // 2. the production models: selected and trained on the most recent windows
    let mut latest = params.clone();
    latest.protocol = protocol(&args.window, last);
    let trained = ui.step("selecting and training on the latest window", || {
        Ok(train(
            &tx,
            &TrainParams {
                backtest: latest,
                churn: ChurnChoice::Auto,
                value: ValueChoice::Auto,
                rfm: RfmKind::Bgnbd,
            },
            &source(&tx),
        )?)
    })?;
    save_pair(&trained, &args.model_dir, &args.value_model_dir)?;

    // 3. tonight's outreach list
    let scorer = Scorer::load(&args.model_dir, Some(&args.value_model_dir))?;
    let mut scores = score_all(ui, &scorer, &tx, last, &ScoreOptions::default())?;
    let [csv, parquet, summary] = scores.write(&args.out.join("scores"))?;
    ui.say("");
    report_drift(ui, &scores);
    summarize(ui, &scores, last);
    ui.say("");
    ui.say(format!("evaluation:     {}", eval_path.display()));
    ui.say(format!(
        "models:         {} ({}) and {} ({})",
        args.model_dir.display(),
        trained.churn.card.kind,
        args.value_model_dir.display(),
        trained.value.card.kind
    ));
    ui.say(format!(
        "outreach list:  {} and {}; run summary {}",
        csv.display(),
        parquet.display(),
        summary.display()
    ));

    // 4. the retention KPIs and the HTML report over these outputs
    let kpi_params = retain_report::KpiParams {
        horizon_days: args.window.horizon.days(),
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
