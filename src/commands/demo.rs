//! `retain demo`: the whole pipeline on the built-in sample data: the backtest, training the
//! selected models on the latest window, and tonight's outreach list.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Result;
use retain_clv::RfmKind;
use retain_score::{ScoreOptions, Scorer};
use retain_train::{BacktestParams, ChurnChoice, TrainParams, ValueChoice, train};
use serde::Serialize;

use super::common::{
    Generated, PlanRequest, ReadSummary, Ui, generate_sample, last_day, load, load_contacts,
    plan_scored, print_backtest, protocol, read_summary, resolve_input, run_backtest, score_all,
    write_backtest,
};
use super::pages::{ReportPaths, ReportSummary, compute_and_write, write_report};
use super::report::{
    BacktestView, ScoresView, TrainView, backtest_view, report_drift, scores_view, summarize,
    train_view,
};
use crate::args::{ContactArgs, DemoArgs, GenerateArgs, defaults};
use crate::table::{Align, Table};
use retain_features::History;
use retain_train::{UpliftParams, train_uplift};

/// Rows of the outreach list shown.
const HEAD: usize = 5;

/// `retain demo --format json`.
#[derive(Serialize)]
struct DemoOutput<'a> {
    /// The sample, when it was missing and generated.
    generated: Option<Generated>,
    read: ReadSummary,
    /// The backtest on the last complete horizon.
    evaluation: BacktestView<'a>,
    /// The models selected and trained on the latest window.
    training: TrainView<'a>,
    /// Tonight's outreach list: the run summary and its head.
    scores: ScoresView<'a>,
    /// The HTML report.
    report: ReportSummary,
    outputs: BTreeMap<&'static str, &'a Path>,
}

pub fn run(args: &DemoArgs, ui: &Ui) -> Result<()> {
    ui.plan(8);
    let sample = PathBuf::from(defaults::SAMPLE);
    let mut generated = None;
    if args.input.input.is_none() && !sample.exists() {
        ui.say(format!("{} is missing: generating it", defaults::SAMPLE));
        ui.plan(1);
        generated = Some(generate_sample(
            &GenerateArgs {
                clients: 3000,
                seed: 42,
                start: None,
                days: None,
                out: sample.parent().unwrap_or(Path::new(".")).to_path_buf(),
                no_contacts: false,
                replicate: None,
                from: None,
                buckets: None,
            },
            ui,
        )?);
    }
    let (input, layout) = resolve_input(&args.input, Some(&sample))?;
    // every output checked before any work: none may replace an input, be a folder where a
    // file goes or a file where a folder goes (a demo that fails half-way would otherwise
    // have replaced the models and tables written before the failure)
    let files: Vec<PathBuf> = [
        "evaluation.json",
        "scores.csv",
        "scores.parquet",
        "summary.json",
        "kpis.csv",
        "kpis.parquet",
        "kpis.json",
        "report.html",
    ]
    .iter()
    .map(|f| args.out.join(f))
    .collect();
    let files: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    let dirs: Vec<&Path> = vec![&args.model_dir, &args.value_model_dir];
    let inputs: Vec<&Path> = vec![input.as_path()];
    let outputs: Vec<&Path> = files.iter().chain(&dirs).copied().collect();
    super::common::check_outputs(&inputs, &outputs)?;
    super::common::check_files_writable(&files)?;
    super::common::check_dirs_writable(&dirs)?;
    let tx = load(ui, &input, &layout, args.input.as_of)?;
    let last = last_day(&tx)?;

    // 1. honest evaluation: every model trained on earlier windows, measured on the last
    //    horizon, and the selection made on the training windows only
    let p = protocol(&args.window, last.minus(args.window.horizon));
    let mut params = BacktestParams::new(p);
    params.bootstrap_resamples = 0;
    let frames = retain_train::HistoryFrames::of(&tx)?;
    let b = run_backtest(
        ui,
        "training and evaluating every model",
        &frames,
        &mut params,
    )?;
    let eval_path = args.out.join("evaluation.json");
    write_backtest(&b, &eval_path)?;
    ui.say("");
    print_backtest(ui, &b);
    ui.say("");

    // 2. the production models: selected and trained on the most recent windows
    params.progress = retain_train::Progress::default();
    let mut latest = params.clone();
    let latest_protocol = protocol(&args.window, last);
    latest.protocol = latest_protocol;
    let trained = ui.step("selecting and training on the latest window", || {
        Ok(train(
            &tx,
            &TrainParams {
                backtest: latest,
                churn: ChurnChoice::Auto,
                value: ValueChoice::Auto,
                rfm: RfmKind::Bgnbd,
            },
            &retain_train::data_source(&tx),
        )?)
    })?;
    // The sample's contacts log and client attributes (or retain.toml's): the uplift of each
    // action, learned from its treated and control clients.
    let on_sample = args.input.input.is_none();
    let contact_defaults = if on_sample {
        (
            Some(Path::new(defaults::SAMPLE_CONTACTS)),
            Some(Path::new(defaults::SAMPLE_CLIENTS)),
        )
    } else {
        (None, None)
    };
    let no_flags = ContactArgs::default();
    let (contacts, clients) = load_contacts(ui, &args.input, &no_flags, contact_defaults)?;
    let uplift = match &contacts {
        Some(c) => ui.step(
            "learning each action's uplift from the contacts log",
            || {
                Ok(train_uplift(
                    &History::of(&tx)?,
                    c,
                    &UpliftParams::new(latest_protocol.cutoff, latest_protocol.horizon),
                    &retain_train::data_source(&tx),
                )?)
            },
        )?,
        None => None,
    };
    let uplift_dir = PathBuf::from(defaults::DEMO_UPLIFT_MODEL);
    retain_train::save_trained(
        &trained,
        &args.model_dir,
        &args.value_model_dir,
        uplift.as_ref().map(|u| (u, uplift_dir.as_path())),
    )?;

    // 3. tonight's outreach list, with each client's next best contact and the week's plan
    let scorer = Scorer::load(&args.model_dir, Some(&args.value_model_dir))?;
    let mut scores = score_all(ui, &scorer, &tx, last, &ScoreOptions::default())?;
    plan_scored(
        ui,
        &PlanRequest {
            input: &args.input,
            contact: &no_flags,
            contact_defaults,
            uplift_dir: uplift.is_some().then(|| uplift_dir.clone()),
            days: None,
            holdout_share: None,
            key_by: None,
            start: None,
            loaded: Some((contacts.as_ref(), clients.as_ref())),
        },
        &scorer,
        &tx,
        &mut scores,
    )?;
    let [csv, parquet, summary] = scores.write(&args.out.join("scores"))?;
    ui.say("");
    report_drift(ui, &scores);
    summarize(ui, &scores, last, HEAD);
    super::report::plan_lines(ui, &scores);

    // 4. the retention KPIs and the HTML report over these outputs
    let kpi_params = retain_report::KpiParams {
        horizon_days: args.window.horizon.days(),
        ..Default::default()
    };
    let (_, kpis) = compute_and_write(ui, &tx, &kpi_params, None, &args.out.join("kpis"))?;
    let report = write_report(
        ui,
        &tx,
        &input,
        &ReportPaths {
            evaluation: eval_path.clone(),
            scores: parquet.clone(),
            kpis: kpis[2].clone(),
            out: args.out.join("report.html"),
            top: 25,
        },
    )?;
    let [kpis_csv, kpis_parquet, kpis_json] = kpis;
    let report_path = PathBuf::from(&report.report);
    if ui.emit(&DemoOutput {
        generated,
        read: read_summary(&tx),
        evaluation: backtest_view(&b),
        training: train_view(
            &trained,
            latest_protocol,
            &args.model_dir,
            &args.value_model_dir,
        ),
        scores: scores_view(&scores, HEAD),
        report,
        outputs: [
            ("evaluation", &*eval_path),
            ("churn_model", &*args.model_dir),
            ("value_model", &*args.value_model_dir),
            ("scores_csv", &*csv),
            ("scores_parquet", &*parquet),
            ("summary", &*summary),
            ("kpis_csv", &*kpis_csv),
            ("kpis_parquet", &*kpis_parquet),
            ("kpis_json", &*kpis_json),
            ("report", &*report_path),
        ]
        .into(),
    })? {
        return Ok(());
    }
    let mut t = Table::new(&["output", "path"]).align(1, Align::Left);
    let shown = |p: &Path| p.display().to_string();
    for (what, path) in [
        ("evaluation", shown(&eval_path)),
        (
            "churn model",
            format!(
                "{} ({})",
                shown(&args.model_dir),
                super::report::card_candidate(&trained.churn.card)
            ),
        ),
        (
            "value model",
            format!(
                "{} ({})",
                shown(&args.value_model_dir),
                super::report::card_candidate(&trained.value.card)
            ),
        ),
        (
            "outreach list",
            format!("{} and {}", shown(&csv), shown(&parquet)),
        ),
        ("run summary", shown(&summary)),
        ("KPIs", shown(&kpis_json)),
        ("report", shown(&report_path)),
    ] {
        t.row(vec![what.into(), path]);
    }
    ui.say("");
    ui.table(&t, 0);
    Ok(())
}
