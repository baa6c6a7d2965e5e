//! `retain evaluate`: every model and baseline on the holdout after the cutoff, optionally
//! backtested at several cutoffs with stacked training windows and hybrid features.

use std::io::Write;

use anyhow::{Result, bail};
use retain_core::Artifact;
use retain_models::{AnyClassifier, CalibrationMethod};
use retain_score::pipeline::backtest::{Backtest, BacktestParams, SelectMetric, backtest};
use retain_score::pipeline::{Evaluation, Protocol, ProtocolSets, evaluate};
use serde::Serialize;

use super::common::{Ui, days_before, last_day, load, resolve_input, source};
use super::report::{backtest_lines, evaluation_lines_marked};
use crate::args::{EvaluateArgs, WindowArgs};

/// The JSON written by `retain evaluate`: the last cutoff's evaluation in the protocol shape
/// (as before), plus the whole backtest under `backtest`.
#[derive(Serialize)]
struct Output<'a> {
    #[serde(flatten)]
    evaluation: Evaluation,
    backtest: &'a Backtest,
}

pub fn run(args: &EvaluateArgs, ui: &Ui) -> Result<()> {
    let (input, layout) = resolve_input(&args.input, None)?;
    let tx = load(ui, &input, &layout)?;
    let protocol = protocol_of(&tx, &args.window)?;
    let mut params = BacktestParams::new(protocol);
    params.cutoffs = args.cutoffs;
    params.cutoff_spacing = args.cutoff_spacing.unwrap_or(protocol.horizon);
    params.train_windows = args.train_windows;
    params.train_spacing = args.train_spacing.unwrap_or(protocol.train_horizon);
    params.hybrid = args.hybrid;
    params.calibration = match args.calibration.as_str() {
        "platt" => Some(CalibrationMethod::Platt),
        "isotonic" => Some(CalibrationMethod::Isotonic),
        _ => None,
    };
    params.select_metric = match SelectMetric::parse(&args.select_metric) {
        Some(m) => m,
        None => bail!("unknown --select-metric {}", args.select_metric),
    };
    params.bootstrap_resamples = args.bootstrap;
    let b = ui.step("training and evaluating", || Ok(backtest(&tx, &params)?))?;
    let e = b.last_evaluation();
    retain_core::write_atomic(&args.out, |w| {
        serde_json::to_writer_pretty(
            &mut *w,
            &Output {
                evaluation: e.clone(),
                backtest: &b,
            },
        )
        .map_err(std::io::Error::other)?;
        w.write_all(b"\n")
    })?;
    let sel = b.cutoffs.last().and_then(|c| c.selection.as_ref());
    for line in evaluation_lines_marked(
        &e,
        sel.map(|s| s.churn_model.as_str()),
        sel.map(|s| s.value_model.as_str()),
    ) {
        ui.say(line);
    }
    for line in backtest_lines(&b) {
        ui.say(line);
    }
    ui.say(format!("\nfull evaluation: {}", args.out.display()));
    Ok(())
}

/// The protocol's windows from the flags (default cutoff: last day - horizon).
fn protocol_of(tx: &retain_data::Transactions, window: &WindowArgs) -> Result<Protocol> {
    let horizon = window.horizon;
    Ok(Protocol {
        cutoff: match window.cutoff {
            Some(c) => c,
            None => days_before(last_day(tx)?, horizon),
        },
        horizon,
        train_horizon: window.train_horizon.unwrap_or(horizon),
    })
}

/// Builds the sets and evaluates (default cutoff: last day - horizon); also returns the
/// logistic regression trained for it, its card carrying the measured metrics.
pub fn run_protocol(
    ui: &Ui,
    tx: &retain_data::Transactions,
    window: &WindowArgs,
) -> Result<(Evaluation, Artifact<AnyClassifier>)> {
    let protocol = protocol_of(tx, window)?;
    let sets = ui.step("computing features", || {
        Ok(ProtocolSets::build(tx, protocol)?)
    })?;
    ui.step("training and evaluating", || {
        Ok(evaluate(&sets, &source(tx))?)
    })
}

/// Writes the evaluation JSON atomically.
pub fn write_evaluation(e: &Evaluation, path: &std::path::Path) -> Result<()> {
    retain_core::write_atomic(path, |w| {
        serde_json::to_writer_pretty(&mut *w, e).map_err(std::io::Error::other)?;
        w.write_all(b"\n")
    })?;
    Ok(())
}
