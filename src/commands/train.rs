//! `retain train`: fit the churn and value models (named, or chosen by the backtest's
//! selection) at the cutoff and save both.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Result, bail};
use retain_clv::RfmKind;
use retain_train::{ChurnChoice, TrainParams, ValueChoice, fit_selected, select_models};
use serde::Serialize;

use super::common::{
    ReadSummary, Ui, backtest_params, check_known_ids, check_outputs, load_contacts, load_frames,
    protocol, resolve_input,
};
use super::report::{TrainView, selection_lines, train_view};
use crate::args::{ModelArg, RfmArg, TrainArgs, UpliftLearnerArg, ValueModelArg};
use crate::table::{duration, thousands};
use retain_train::{UpliftLearner, UpliftParams, train_uplift};

/// `retain train --format json`.
#[derive(Serialize)]
struct TrainOutput<'a> {
    read: ReadSummary,
    /// Each stage's wall time, CPU time and peak heap: `read`, `select` (only with `auto`),
    /// `fit`, `uplift` (with a contacts log) and `save`.
    stages: &'a [retain_score::StageCost],
    #[serde(flatten)]
    trained: TrainView<'a>,
    outputs: BTreeMap<&'static str, &'a Path>,
}

pub fn run(args: &TrainArgs, ui: &Ui) -> Result<()> {
    if args.model_dir == args.value_model_dir {
        bail!(
            "--model-dir and --value-model-dir are both {}: the two models need two folders",
            args.model_dir.display()
        );
    }
    let auto = args.model == ModelArg::Auto || args.value_model == ValueModelArg::Auto;
    ui.plan(3 + usize::from(auto));
    let (input, layout) = resolve_input(&args.input, None)?;
    let inputs: Vec<&Path> = std::iter::once(input.as_path())
        .chain(args.contact.contacts.as_deref())
        .chain(args.contact.clients.as_deref())
        .collect();
    check_outputs(
        &inputs,
        &[
            &args.model_dir,
            &args.value_model_dir,
            &args.uplift_model_dir,
        ],
    )?;
    let mut dirs: Vec<&Path> = vec![&args.model_dir, &args.value_model_dir];
    if args.contact.contacts.is_some() {
        dirs.push(&args.uplift_model_dir);
    }
    super::common::check_dirs_writable(&dirs)?;
    let mut stages = Vec::new();
    let loaded = crate::memory::stage(&mut stages, "read", || {
        load_frames(ui, &input, &layout, args.input.as_of)
    })?;
    let p = protocol(&args.window, loaded.read.last_day()?);
    let params = TrainParams {
        backtest: backtest_params(p, &args.settings, &args.input)?,
        churn: match args.model {
            ModelArg::Auto => ChurnChoice::Auto,
            ModelArg::Logistic => ChurnChoice::Logistic,
            ModelArg::Tree => ChurnChoice::Tree,
            ModelArg::Forest => ChurnChoice::Forest,
            ModelArg::Gbdt => ChurnChoice::Gbdt,
            ModelArg::Ensemble => ChurnChoice::Ensemble,
        },
        value: match args.value_model {
            ValueModelArg::Auto => ValueChoice::Auto,
            ValueModelArg::Clv => ValueChoice::Clv,
            ValueModelArg::TwoPart => ValueChoice::TwoPart,
            ValueModelArg::Gbdt => ValueChoice::Gbdt,
            ValueModelArg::Ensemble => ValueChoice::Ensemble,
        },
        rfm: match args.rfm_model {
            RfmArg::Bgnbd => RfmKind::Bgnbd,
            RfmArg::Pareto => RfmKind::ParetoNbd,
            RfmArg::Mbgnbd => RfmKind::Mbgnbd,
        },
    };
    let (contacts, clients) = load_contacts(ui, &args.input, &args.contact, (None, None))?;
    if contacts.is_some() || clients.is_some() {
        check_known_ids(
            &loaded.frames.history().clients()?,
            &loaded.read.input,
            contacts.as_ref(),
            clients.as_ref(),
        )?;
    }
    let source = loaded.data_source();
    let mut params = params;
    let selection = if auto {
        crate::memory::stage(&mut stages, "select", || {
            ui.step_with_progress(
                "selecting on the validation targets",
                params.backtest.validation_targets.max(1),
                |progress| {
                    params.backtest.progress = progress;
                    Ok(select_models(&loaded.frames, &params)?)
                },
                |s, d| match s {
                    Some(s) => format!(
                        "selected {} and {} in {}",
                        s.churn_model,
                        s.value_model,
                        duration(d)
                    ),
                    None => format!("nothing to select ({})", duration(d)),
                },
            )
        })?
    } else {
        None
    };
    params.backtest.progress = Default::default();
    let trained = crate::memory::stage(&mut stages, "fit", || {
        ui.step("training on every client", || {
            Ok(fit_selected(&loaded.frames, &params, selection, &source)?)
        })
    })?;
    let uplift = match &contacts {
        Some(c) => crate::memory::stage(&mut stages, "uplift", || {
            ui.step(
                "learning each action's uplift from the contacts log",
                || {
                    let mut up = UpliftParams::new(p.cutoff, p.horizon);
                    up.learner = match args.uplift_learner {
                        UpliftLearnerArg::Gbdt => UpliftLearner::Gbdt,
                        UpliftLearnerArg::Logistic => UpliftLearner::Logistic { c: 0.1 },
                    };
                    Ok(train_uplift(loaded.frames.history(), c, &up, &source)?)
                },
            )
        })?,
        None => None,
    };
    if contacts.is_some() && uplift.is_none() {
        ui.warn(
            "the contacts log has too few treated and control clients before the cutoff to learn \
             any action's uplift: the planner will use the catalogue's stated save rates",
        );
    }
    let dirs = [
        &args.model_dir,
        &args.value_model_dir,
        &args.uplift_model_dir,
    ];
    if uplift.is_some() && (dirs[2] == dirs[0] || dirs[2] == dirs[1]) {
        bail!(
            "--uplift-model-dir {} is also the churn or value model's folder: each model needs \
             its own folder",
            args.uplift_model_dir.display()
        );
    }
    // Every model is written before any folder is replaced: a failed save leaves the
    // previous models as they were.
    crate::memory::stage(&mut stages, "save", || {
        ui.step("saving the models", || {
            retain_train::save_trained(
                &trained,
                &args.model_dir,
                &args.value_model_dir,
                uplift
                    .as_ref()
                    .map(|u| (u, args.uplift_model_dir.as_path())),
            )
            .map_err(Into::into)
        })
    })?;
    if let Some(u) = &uplift {
        for (id, a) in &u.model.actions {
            ui.say(format!(
                "uplift of {id}: {} treated and {} control rows, answered {:.0}%, average effect \
                 {:+.1} points of churn, held-out Qini {:.4}",
                thousands(a.model.n_treated as i64),
                thousands(a.model.n_control as i64),
                100.0 * a.model.response_rate,
                100.0 * a.average_effect,
                a.qini
            ));
        }
    }
    if ui.emit(&TrainOutput {
        read: loaded.read.clone(),
        stages: &stages,
        trained: train_view(&trained, p, &args.model_dir, &args.value_model_dir),
        outputs: [
            ("churn_model", args.model_dir.as_path()),
            ("value_model", args.value_model_dir.as_path()),
        ]
        .into(),
    })? {
        return Ok(());
    }
    let c = &trained.churn.card;
    ui.say(format!(
        "trained {} on {} rows: features at {}, labels {} .. {}; {} features",
        super::report::card_candidate(c),
        thousands(c.data_source.clients as i64),
        c.training_cutoff,
        c.training_cutoff + chrono::Days::new(1),
        p.cutoff,
        c.features.len()
    ));
    if let Some(s) = &trained.selection {
        ui.say(format!(
            "selected by {}: churn {} ({:.4}), value {} (Spearman {:.4})",
            s.describe(),
            s.churn_model,
            s.churn_validation
                .get(&s.churn_model)
                .copied()
                .unwrap_or(f64::NAN),
            s.value_model,
            s.value_validation
                .get(&s.value_model)
                .copied()
                .unwrap_or(f64::NAN),
        ));
        ui.say("");
        for line in selection_lines(s) {
            ui.say(format!("  {line}").trim_end());
        }
        ui.say("");
    }
    match c.metrics.get("roc_auc") {
        Some(auc) => ui.say(format!(
            "out-of-time ROC AUC {auc:.3} on the {} days after {}",
            p.horizon, p.cutoff
        )),
        None => ui.say(
            "no holdout after the cutoff: the card records no metrics (use an earlier --cutoff \
             to measure)",
        ),
    }
    let v = &trained.value.card;
    ui.say(format!(
        "value model {} over {} days; customer-base model {} fitted on {} clients up to {}",
        super::report::card_candidate(v),
        v.horizon_days,
        trained.value.model.customer_base.model.kind(),
        thousands(
            trained
                .value
                .model
                .customer_base
                .model
                .purchases
                .n_clients()
                .round() as i64
        ),
        v.training_cutoff
    ));
    ui.say(format!(
        "saved to {} and {}",
        args.model_dir.display(),
        args.value_model_dir.display()
    ));
    Ok(())
}
