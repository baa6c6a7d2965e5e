//! `retain evaluate`: every model and baseline on the holdout after the cutoff, optionally
//! backtested at several cutoffs with stacked training windows and hybrid features.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Result;
use serde::Serialize;

use super::common::{
    ReadSummary, Ui, backtest_params, check_outputs, load_frames, print_backtest, protocol,
    resolve_input, run_backtest, write_backtest,
};
use super::report::{BacktestView, backtest_view};
use crate::args::EvaluateArgs;

/// `retain evaluate --format json`.
#[derive(Serialize)]
struct EvaluateOutput<'a> {
    read: ReadSummary,
    evaluation: BacktestView<'a>,
    outputs: BTreeMap<&'static str, &'a Path>,
}

pub fn run(args: &EvaluateArgs, ui: &Ui) -> Result<()> {
    ui.plan(2);
    let (input, layout) = resolve_input(&args.input, None)?;
    check_outputs(&[&input], &[&args.out])?;
    super::common::check_files_writable(&[&args.out])?;
    let loaded = load_frames(ui, &input, &layout, args.input.as_of)?;
    let default_cutoff = loaded.read.last_day()?.minus(args.window.horizon);
    let p = protocol(&args.window, default_cutoff);
    let mut params = backtest_params(p, &args.settings, &args.input)?;
    params.cutoffs = args.cutoffs as usize;
    params.cutoff_spacing = args.cutoff_spacing.map_or(p.horizon.days(), |h| h.days());
    params.bootstrap_resamples = args.bootstrap as usize;
    let what = match params.cutoffs {
        1 => "training and evaluating every model".to_string(),
        k => format!("training and evaluating every model at {k} cutoffs"),
    };
    let b = run_backtest(ui, &what, &loaded.frames, &mut params)?;
    write_backtest(&b, &args.out)?;
    if ui.emit(&EvaluateOutput {
        read: loaded.read,
        evaluation: backtest_view(&b),
        outputs: [("evaluation", args.out.as_path())].into(),
    })? {
        return Ok(());
    }
    ui.say("");
    print_backtest(ui, &b);
    ui.say("");
    ui.say(format!("full evaluation: {}", args.out.display()));
    Ok(())
}
