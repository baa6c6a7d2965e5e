//! `retain evaluate`: every model and baseline on the holdout after the cutoff.

use std::io::Write;

use anyhow::Result;
use retain_core::Artifact;
use retain_models::AnyClassifier;
use retain_score::pipeline::{Evaluation, Protocol, ProtocolSets, evaluate};

use super::common::{Ui, days_before, last_day, load, resolve_input, source};
use super::report::evaluation_lines;
use crate::args::EvaluateArgs;

pub fn run(args: &EvaluateArgs, ui: &Ui) -> Result<()> {
    let (input, layout) = resolve_input(&args.input, None)?;
    let tx = load(ui, &input, &layout)?;
    let (e, _) = run_protocol(ui, &tx, &args.window)?;
    write_evaluation(&e, &args.out)?;
    for line in evaluation_lines(&e) {
        ui.say(line);
    }
    ui.say(format!("\nfull evaluation: {}", args.out.display()));
    Ok(())
}

/// Builds the sets and evaluates (default cutoff: last day - horizon); also returns the
/// logistic regression trained for it, its card carrying the measured metrics.
pub fn run_protocol(
    ui: &Ui,
    tx: &retain_data::Transactions,
    window: &crate::args::WindowArgs,
) -> Result<(Evaluation, Artifact<AnyClassifier>)> {
    let horizon = window.horizon;
    let protocol = Protocol {
        cutoff: match window.cutoff {
            Some(c) => c,
            None => days_before(last_day(tx)?, horizon),
        },
        horizon,
        train_horizon: window.train_horizon.unwrap_or(horizon),
    };
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
