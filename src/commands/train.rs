//! `retain train`: fit the churn model out of time and save it.

use anyhow::Result;
use retain_core::{day_number, from_day_number};
use retain_models::save_checked;
use retain_score::pipeline::{Protocol, ProtocolSets, evaluate, train_logistic};

use super::common::{Ui, last_day, load, resolve_input, source};
use crate::args::TrainArgs;

pub fn run(args: &TrainArgs, ui: &Ui) -> Result<()> {
    let (input, layout) = resolve_input(&args.input, None)?;
    let tx = load(ui, &input, &layout)?;
    let last = last_day(&tx)?;
    let horizon = args.window.horizon;
    let protocol = Protocol {
        cutoff: args.window.cutoff.unwrap_or(last),
        horizon,
        train_horizon: args.window.train_horizon.unwrap_or(horizon),
    };
    let sets = ui.step("computing features", || {
        Ok(ProtocolSets::build(&tx, protocol)?)
    })?;
    let artifact = ui.step("training the logistic regression", || {
        if sets.eval_labels_complete {
            Ok(evaluate(&sets, &source(&tx))?.1)
        } else {
            Ok(train_logistic(&sets, &source(&tx))?)
        }
    })?;
    save_checked(&args.model_dir, &artifact)?;
    ui.say(format!(
        "trained {} on {} clients: features at {}, labels {} .. {}; {} features",
        artifact.card.kind,
        artifact.card.data_source.clients,
        artifact.card.training_cutoff,
        from_day_number(day_number(artifact.card.training_cutoff) + 1),
        protocol.cutoff,
        artifact.card.features.len()
    ));
    match artifact.card.metrics.get("roc_auc") {
        Some(auc) => ui.say(format!(
            "out-of-time ROC AUC {auc:.3} on the {} days after {}",
            horizon, protocol.cutoff
        )),
        None => ui.say("no holdout after the cutoff: the card records no metrics (use an earlier --cutoff to measure)"),
    }
    ui.say(format!("saved to {}", args.model_dir.display()));
    Ok(())
}
