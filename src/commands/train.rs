//! `retain train`: fit the churn model out of time and the CLV model at the cutoff; save both.

use std::path::PathBuf;

use anyhow::Result;
use retain_core::{Artifact, day_number, from_day_number};
use retain_models::save_checked;
use retain_score::customer_base::ClvModel;
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
    let clv_dir = args
        .clv_model_dir
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("models/clv-{}", args.rfm_model)));
    let clv = ui.step(&format!("fitting {} + Gamma-Gamma", args.rfm_model), || {
        Ok(ClvModel::fit(&sets.eval, args.rfm_model)?)
    })?;
    let clv_card = clv.card(protocol.cutoff, horizon, &source(&tx));
    save_checked(
        &clv_dir,
        &Artifact {
            card: clv_card,
            model: clv.clone(),
        },
    )?;
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
    let params: Vec<String> = clv
        .purchases
        .parameters()
        .iter()
        .map(|(k, v)| format!("{k}={v:.4}"))
        .collect();
    ui.say(format!(
        "CLV model {} on {} clients up to {} (weeks): {}, LL {:.2}; Gamma-Gamma p={:.4} q={:.4} \
         gamma={:.4} on {} repeat buyers; saved to {}",
        clv.kind(),
        clv.purchases.n_clients(),
        protocol.cutoff,
        params.join(" "),
        clv.purchases.log_likelihood(),
        clv.spend.p(),
        clv.spend.q(),
        clv.spend.gamma(),
        clv.spend.n_clients(),
        clv_dir.display()
    ));
    Ok(())
}
