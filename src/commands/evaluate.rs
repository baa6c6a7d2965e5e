//! `retain evaluate`: every model and baseline on the holdout after the cutoff, optionally
//! backtested at several cutoffs with stacked training windows and hybrid features.

use anyhow::Result;
use retain_train::backtest;

use super::common::{
    Ui, backtest_params, last_day, load, print_backtest, protocol, resolve_input, write_backtest,
};
use crate::args::EvaluateArgs;

pub fn run(args: &EvaluateArgs, ui: &Ui) -> Result<()> {
    let (input, layout) = resolve_input(&args.input, None)?;
    let tx = load(ui, &input, &layout)?;
    let default_cutoff = last_day(&tx)?.minus(args.window.horizon);
    let p = protocol(&args.window, default_cutoff);
    let mut params = backtest_params(p, &args.settings);
    params.cutoffs = args.cutoffs as usize;
    params.cutoff_spacing = args.cutoff_spacing.map_or(p.horizon.days(), |h| h.days());
    params.bootstrap_resamples = args.bootstrap as usize;
    let b = ui.step("training and evaluating", || Ok(backtest(&tx, &params)?))?;
    write_backtest(&b, &args.out)?;
    print_backtest(ui, &b);
    ui.say(format!("\nfull evaluation: {}", args.out.display()));
    Ok(())
}
