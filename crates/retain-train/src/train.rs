//! Training the model a user names, or the one the backtest's selection picks, as a
//! deployable artifact with its card.
//!
//! `retain train --cutoff C` learns the churn model from the training windows before `C` (the
//! most recent one has features at `C - H_tr` and labels from `(C - H_tr, C]`) and fits the
//! customer-base model on every client's history up to `C`: exactly the models
//! `retain evaluate --cutoff C` measures for the same settings. With `auto` the model is the
//! one the inner validation picks at `C` (the whole recipe rerun at `C - H_tr`, judged on
//! `(C - H_tr, C]`), so nothing after `C` is looked at. When the data reach past `C + H`, the
//! card also records the model's metrics on `(C, C + H]`.

use std::collections::BTreeMap;

use polars::prelude::DataFrame;
use retain_clv::{RfmKind, Valuation};
use retain_core::{
    Artifact, BinnedDistribution, DataSource, FamilyInputs, FeatureSchema, ModelCard, kinds,
};
use retain_eval::drift::reference_bins;
use retain_eval::{churn_metrics, value_metrics};
use retain_features::FeatureMatrix;
use retain_models::{ChurnModel, CustomerBasePart, DeployedValue, ValueModel};
use serde_json::json;

use crate::TrainError;
use crate::backtest::{BacktestParams, NoSelection, Selection, calibration_suffix, select};
use crate::candidates::{families_needed, fit_candidates, fit_customer_base, frame_at};
use crate::frames::{ClientFrames, HistoryFrames};
use crate::protocol::{churn_rate, column_f64};
use crate::tuning::Spec;

/// The churn model to train.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChurnChoice {
    /// The one the inner validation selects (every candidate of the backtest's settings).
    Auto,
    /// Logistic regression.
    Logistic,
    /// A decision tree.
    Tree,
    /// A random forest.
    Forest,
    /// Gradient-boosted trees.
    Gbdt,
    /// The rank ensemble of logistic regression, a small booster and BG/NBD.
    Ensemble,
}

/// The value model to train.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueChoice {
    /// The one the inner validation selects (by Spearman).
    Auto,
    /// Purchase model x Gamma-Gamma CLV (of the `--rfm-model` kind).
    Clv,
    /// P(buy) x E[spend | buy].
    TwoPart,
    /// Gradient-boosted regression of the value.
    Gbdt,
    /// The rank ensemble of the two-part model and the CLV.
    Ensemble,
}

/// What to train.
#[derive(Debug, Clone)]
pub struct TrainParams {
    /// The windows, windows stacked, hybrid and calibration settings, trees, seed.
    pub backtest: BacktestParams,
    /// The churn model.
    pub churn: ChurnChoice,
    /// The value model.
    pub value: ValueChoice,
    /// The purchase model of the CLV saved with the value model.
    pub rfm: RfmKind,
}

/// The trained models.
#[derive(Debug, Clone)]
pub struct Trained {
    /// The churn model and its card.
    pub churn: Artifact<ChurnModel>,
    /// The value model (with its customer-base model) and its card.
    pub value: Artifact<DeployedValue>,
    /// The selection, when a choice was `auto` and the data allowed one.
    pub selection: Option<Selection>,
}

fn churn_name(choice: ChurnChoice, params: &BacktestParams) -> Option<String> {
    let base = match choice {
        ChurnChoice::Auto => return None,
        ChurnChoice::Logistic => kinds::LOGISTIC,
        ChurnChoice::Tree => kinds::DECISION_TREE,
        ChurnChoice::Forest => kinds::RANDOM_FOREST,
        ChurnChoice::Gbdt => kinds::GRADIENT_BOOSTING,
        ChurnChoice::Ensemble => kinds::RANK_ENSEMBLE,
    };
    let mut name = base.to_string();
    if params.hybrid {
        name.push_str(kinds::HYBRID_SUFFIX);
    }
    if let Some(m) = params.calibration
        && choice != ChurnChoice::Ensemble
    {
        name.push_str(calibration_suffix(m));
    }
    Some(name)
}

fn value_name(choice: ValueChoice, params: &BacktestParams) -> Option<String> {
    let base = match choice {
        ValueChoice::Auto => return None,
        ValueChoice::Clv => return Some(kinds::BGNBD_GG_CLV.into()),
        ValueChoice::TwoPart => kinds::TWO_PART,
        ValueChoice::Gbdt => kinds::GRADIENT_BOOSTING_REGRESSOR,
        ValueChoice::Ensemble => kinds::RANK_ENSEMBLE_VALUE,
    };
    Some(if params.hybrid {
        format!("{base}{}", kinds::HYBRID_SUFFIX)
    } else {
        base.to_string()
    })
}

/// Each column's quantile bins on the training rows, and the score's under `"score"`.
fn profile(
    x: ndarray::ArrayView2<f64>,
    names: &[String],
    score: &[f64],
) -> BTreeMap<String, BinnedDistribution> {
    let mut out = BTreeMap::new();
    for (j, name) in names.iter().enumerate() {
        let (edges, shares) = reference_bins(&x.column(j).to_vec(), 10);
        out.insert(name.clone(), BinnedDistribution { edges, shares });
    }
    let (edges, shares) = reference_bins(score, 10);
    out.insert("score".into(), BinnedDistribution { edges, shares });
    out
}

/// Trains the chosen models at `params.backtest.protocol.cutoff` (module docs).
pub fn train(
    tx: &retain_data::Transactions,
    params: &TrainParams,
    source: &DataSource,
) -> Result<Trained, TrainError> {
    train_on(&HistoryFrames::of(tx)?, params, source)
}

/// [`train`] on the feature frames of `frames` (one machine's history, or a distributed
/// run's: [`ClientFrames`]); `source` is recorded in the cards. [`select_models`] then
/// [`fit_selected`]: a caller that times the two calls them itself.
pub fn train_on(
    frames: &dyn ClientFrames,
    params: &TrainParams,
    source: &DataSource,
) -> Result<Trained, TrainError> {
    let selection = select_models(frames, params)?;
    fit_selected(frames, params, selection, source)
}

/// The backtest's selection at the cutoff when the churn or the value model is `auto`
/// (`None` when both are named): every candidate fitted and judged on the validation
/// targets before the cutoff. An error when `auto` has no validation window or no
/// candidate scores on every target.
pub fn select_models(
    frames: &dyn ClientFrames,
    params: &TrainParams,
) -> Result<Option<Selection>, TrainError> {
    let bt = &params.backtest;
    let p = bt.protocol;
    let c = p.cutoff;
    crate::candidates::check_train_windows(frames, c, bt)?;
    if churn_name(params.churn, bt).is_some() && value_name(params.value, bt).is_some() {
        return Ok(None);
    }
    let countries = frames.country_table(c)?;
    match select(frames, &countries, c, bt)? {
        Ok(s) => Ok(Some(s)),
        Err(NoSelection::TooShort) => Err(TrainError::Window(format!(
            "`auto` needs a validation window before the cutoff {c}: its training features \
             would be taken at {} (two training horizons back), before the data start; name a \
             model (--model, --value-model) or choose a later --cutoff",
            c.minus(p.train_horizon).minus(p.train_horizon)
        ))),
        Err(why) => Err(TrainError::Window(format!(
            "`auto` could not select a model: {why}; name a model (--model, --value-model)"
        ))),
    }
}

/// Fits the named models of `params`, or the ones `selection` picked for an `auto` choice
/// ([`select_models`] of the same `params`), at the cutoff on every client, with their
/// cards; `source` is recorded in the cards.
pub fn fit_selected(
    frames: &dyn ClientFrames,
    params: &TrainParams,
    selection: Option<Selection>,
    source: &DataSource,
) -> Result<Trained, TrainError> {
    let bt = &params.backtest;
    let p = bt.protocol;
    let c = p.cutoff;
    crate::candidates::check_train_windows(frames, c, bt)?;
    let countries = frames.country_table(c)?;
    let mut churn = churn_name(params.churn, bt);
    let mut value = value_name(params.value, bt);
    if churn.is_none() || value.is_none() {
        let s = selection.as_ref().ok_or_else(|| {
            TrainError::Internal("an `auto` model to fit without its selection".into())
        })?;
        churn.get_or_insert_with(|| s.churn_model.clone());
        value.get_or_insert_with(|| s.value_model.clone());
    }
    let (churn, value) = (churn.unwrap_or_default(), value.unwrap_or_default());
    let tuned: Vec<Spec> = [&churn, &value]
        .into_iter()
        .filter_map(|n| Spec::parse(n))
        .collect();
    let needed = families_needed(&tuned, bt.hybrid);
    let last = frames.last_day();
    let labelled = last.is_some_and(|l| l >= c.plus(p.horizon).date());
    let eval: DataFrame = frame_at(
        frames,
        c,
        labelled.then_some(p.horizon),
        &countries,
        &needed,
        p.train_horizon,
    )?;
    if eval.height() == 0 {
        return Err(TrainError::Window(format!(
            "no client has a purchase on or before the cutoff {c}"
        )));
    }
    let cands = fit_candidates(
        frames,
        &countries,
        c,
        &eval,
        bt,
        &|n| n == churn || n == value,
        &tuned,
    )?;
    let churn_model = cands.churn.get(&churn).cloned().ok_or_else(|| {
        TrainError::Config(format!(
            "no churn model `{churn}` with these settings (the candidates are {})",
            cands.churn.keys().cloned().collect::<Vec<_>>().join(", ")
        ))
    })?;
    let mut value_model = cands.value.get(&value).cloned().ok_or_else(|| {
        TrainError::Config(format!("no value model `{value}` with these settings"))
    })?;
    // The CLV of the value side and the list's P(alive) come from the --rfm-model kind.
    let clv = if params.rfm == RfmKind::Bgnbd {
        cands.base.clone()
    } else {
        fit_customer_base(&eval, params.rfm)?
    };
    let part = CustomerBasePart::new(clv.clone(), &cands.features)?;
    if matches!(value_model, ValueModel::Clv { .. }) {
        value_model = ValueModel::Clv { base: part.clone() };
    }
    let value_name = value_model.kind_name();
    let schema = FeatureSchema::new(cands.features.iter().cloned());
    // The drift reference: the clients at the cutoff, the population the model was built to
    // score (the training rows are one horizon older, and their ages (T) would differ from
    // any later night's by construction).
    let at_cutoff = FeatureMatrix::from_frame(&eval, &cands.features)?;
    let reference_scores = churn_model.predict(at_cutoff.x.view())?.score;
    let source = DataSource {
        clients: cands.population_train as u64,
        ..source.clone()
    };
    let selection_json = selection.as_ref().map(|s| json!(s));
    let mut hyper = BTreeMap::from([
        ("cutoff".to_string(), json!(c)),
        ("horizon_days".to_string(), json!(p.horizon.days())),
        (
            "train_horizon_days".to_string(),
            json!(p.train_horizon.days()),
        ),
        ("train_cutoffs".to_string(), json!(cands.train_cutoffs)),
        ("train_windows".to_string(), json!(bt.train_windows)),
        ("hybrid".to_string(), json!(bt.hybrid)),
        (
            "calibration".to_string(),
            json!(bt.calibration.map(calibration_suffix)),
        ),
        ("forest_trees".to_string(), json!(bt.forest_trees)),
        ("boosting_trees".to_string(), json!(bt.boosting_trees)),
        ("seed".to_string(), json!(bt.seed)),
        ("candidate".to_string(), json!(churn)),
        ("value_candidate".to_string(), json!(value)),
        ("families".to_string(), json!(bt.families)),
        (
            "validation_targets".to_string(),
            json!(bt.validation_targets),
        ),
        (
            "choice".to_string(),
            json!(if params.churn == ChurnChoice::Auto {
                "auto"
            } else {
                "named"
            }),
        ),
    ]);
    if let (Some(s), ChurnChoice::Auto) = (&selection, params.churn) {
        hyper.insert(
            "why".to_string(),
            json!(format!(
                "best by {}: {:.4}",
                s.describe(),
                s.churn_validation.get(&churn).copied().unwrap_or(f64::NAN)
            )),
        );
    }
    if let Some(j) = &selection_json {
        hyper.insert("selection".to_string(), j.clone());
    }
    let mut card = ModelCard::new(
        churn_model.kind_name(),
        p.train_cutoff().date(),
        p.train_horizon.days(),
        None,
        schema.clone(),
        source.clone(),
        hyper.clone(),
    );
    card.profile = profile(at_cutoff.x.view(), &cands.features, &reference_scores);
    let family_cols = needed.family_columns();
    let families = cands
        .features
        .iter()
        .any(|f| family_cols.contains(f))
        .then(|| FamilyInputs {
            names: needed
                .families
                .iter()
                .map(|f| f.name().to_string())
                .collect(),
            horizon_days: p.train_horizon.days(),
        });
    card.families = families.clone();
    let mut value_card = clv.card(c.date(), p.horizon.days(), &source);
    value_card.kind = value_name.clone();
    value_card.features = schema;
    value_card.families = families;
    for (k, v) in hyper {
        value_card.hyperparameters.entry(k).or_insert(v);
    }
    // each card names its own model
    value_card
        .hyperparameters
        .insert("candidate".to_string(), json!(value));
    if labelled {
        let m = FeatureMatrix::from_frame(&eval, &cands.features)?;
        let y: Vec<bool> = column_f64(&eval, "churned")?
            .iter()
            .map(|&v| v == 1.0)
            .collect();
        let pred = churn_model.predict(m.x.view())?;
        let cm = churn_metrics(&y, &pred.score, &m.clients, pred.score_is_probability)?;
        card.metrics = BTreeMap::from([
            ("roc_auc".to_string(), cm.roc_auc),
            ("pr_auc".to_string(), cm.pr_auc),
            ("top_decile_lift".to_string(), cm.top_decile_lift),
            ("churn_rate".to_string(), churn_rate(&y)),
        ]);
        if let (Some(b), Some(l)) = (cm.brier, cm.log_loss) {
            card.metrics.insert("brier".into(), b);
            card.metrics.insert("log_loss".into(), l);
        }
        let actual = column_f64(&eval, "holdout_value")?;
        let v = value_model.predict(m.x.view(), p.horizon, &Valuation::default())?;
        let vm = value_metrics(&actual, &v.score, &m.clients)?;
        value_card.metrics.insert("spearman".into(), vm.spearman);
        value_card
            .metrics
            .insert("normalized_gini".into(), vm.normalized_gini);
    }
    let deployed = DeployedValue {
        value: value_model,
        customer_base: part,
    };
    Ok(Trained {
        churn: Artifact {
            card,
            model: churn_model,
        },
        value: Artifact {
            card: value_card,
            model: deployed,
        },
        selection,
    })
}

/// Saves the churn and value artifacts of `trained` (and the uplift models, if any) into
/// fresh sibling folders, then swaps them in: a failed save leaves the previous models as
/// they were. Each artifact is checked against its card first ([`retain_models::save_checked`]).
pub fn save_trained(
    trained: &Trained,
    churn_dir: &std::path::Path,
    value_dir: &std::path::Path,
    uplift: Option<(
        &retain_core::Artifact<retain_models::UpliftSet>,
        &std::path::Path,
    )>,
) -> Result<(), TrainError> {
    use retain_models::save_checked;
    let staging = |d: &std::path::Path| {
        let name = d
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "model".into());
        d.with_file_name(format!(".{name}.{}.new", std::process::id()))
    };
    let (tc, tv) = (staging(churn_dir), staging(value_dir));
    let tu = uplift.map(|(_, d)| staging(d));
    let io = |path: &std::path::Path| {
        let path = path.to_path_buf();
        move |source| TrainError::Save { path, source }
    };
    let result = (|| -> Result<(), TrainError> {
        save_checked(&tc, &trained.churn)?;
        save_checked(&tv, &trained.value)?;
        let mut swaps = vec![(tc.clone(), churn_dir.to_path_buf())];
        swaps.push((tv.clone(), value_dir.to_path_buf()));
        if let (Some((u, d)), Some(t)) = (uplift, &tu) {
            save_checked(t, u)?;
            swaps.push((t.clone(), d.to_path_buf()));
        }
        for (t, d) in swaps {
            if d.exists() {
                std::fs::remove_dir_all(&d).map_err(io(&d))?;
            }
            std::fs::rename(&t, &d).map_err(io(&d))?;
        }
        Ok(())
    })();
    if result.is_err() {
        for t in [Some(&tc), Some(&tv), tu.as_ref()].into_iter().flatten() {
            let _ = std::fs::remove_dir_all(t);
        }
    }
    result
}

/// The data source recorded in model cards: where the lines came from, how many, and their
/// fingerprint ([`retain_data::Transactions::lines_sha256`]).
pub fn data_source(tx: &retain_data::Transactions) -> retain_core::DataSource {
    data_source_of(
        tx.source(),
        &tx.layout().name,
        tx.stats(),
        tx.lines_sha256(),
    )
}

/// The data source of lines read from `path` with the layout named `layout`, counted by
/// `stats`, whose fingerprint is `lines_sha256` ([`retain_data::LinesDigest::hex`]): for
/// lines read part by part, never held as one table.
pub fn data_source_of(
    path: &str,
    layout: &str,
    stats: &retain_data::LoadStats,
    lines_sha256: String,
) -> retain_core::DataSource {
    retain_core::DataSource {
        path: path.to_string(),
        layout: layout.to_string(),
        rows: stats.lines,
        clients: stats.clients,
        first_day: stats.first_day,
        last_day: stats.last_day,
        lines_sha256,
    }
}
