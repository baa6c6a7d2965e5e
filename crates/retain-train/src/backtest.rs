//! The honest backtest: every churn and value model at several successive evaluation cutoffs,
//! each trained strictly on data before its cutoff, with per-cutoff metrics, their mean and
//! standard deviation, bootstrap intervals at the last cutoff, and a model chosen on the
//! training windows only.
//!
//! **Training windows (rolling origins).** At an evaluation cutoff `c` with training horizon
//! `H_tr`, window `j = 0..W` has its features at `c - H_tr - j * spacing` and its labels from the
//! `H_tr` days after, so every label ends on or before `c`. The windows are stacked into one
//! training set (a client appears once per window). With `W = 1` this is the protocol's
//! out-of-time set (BENCHMARK.md section 2). Windows whose feature cutoff falls before the data
//! start are left out, and so are windows where the customer-base fit fails with `hybrid`
//! (the ones used are reported). Features are used if they vary on the
//! stacked set; the country table is taken at the evaluation cutoff, as the protocol does.
//!
//! **Hybrid features.** With `hybrid`, each window gets three more columns from the
//! customer-base models fitted on *that window's own* calibration data (lines up to its feature
//! cutoff): BG/NBD `P(no purchase in H_tr)`, expected purchase days in `H_tr`, and BG/NBD +
//! Gamma-Gamma CLV over `H_tr`. The evaluation set gets the same three columns from the fit at
//! the evaluation cutoff (the fit the BG/NBD scores use), still over `H_tr`, so train and
//! evaluation columns mean the same thing. Hybrid models are reported beside the plain ones,
//! with the suffix `+cb`.
//!
//! **Models.** Churn: logistic regression, decision tree, random forest, gradient boosting
//! (optionally each calibrated, suffix `+platt` / `+isotonic`), BG/NBD `P(no purchase in H)`,
//! the days-since-last baseline, and the rank ensemble (the mean normalised rank of the
//! logistic regression, a small boosted model of 400 trees of 7 leaves at learning rate 0.02,
//! and BG/NBD `P(no purchase)`: a score, so it has no Brier, log loss or calibration table).
//! Value over `H`: a gradient-boosted regressor (L2, raw
//! target, predictions scaled by `H / H_tr` as the protocol does), the two-part model
//! (`(1 - P(churn)) * E[spend | buy]`, the churn part being the gradient-boosting classifier,
//! also scaled by `H / H_tr`), BG/NBD + Gamma-Gamma CLV, the revenue-rate baseline, and the
//! value rank ensemble (mean normalised rank of the two-part model and the CLV: a ranking,
//! for Spearman and Gini, not an amount).
//!
//! **Calibration** is fitted on a client split of the most recent training window: a seeded
//! 20% of its clients is held out, the base model is refitted on every row (all windows) of the
//! other clients, and the calibrator is fitted on the held-out clients' rows of the most recent
//! window. The evaluation window is never used.
//!
//! **Selection rule (inner out-of-time validation).** At each evaluation cutoff `c`, the whole
//! recipe is rerun at `validation_targets` earlier cutoffs: `c' = c - H_tr` (the most recent
//! training window's feature cutoff, labels `(c', c]`), then `c - 2 H_tr`, and so on, each with
//! the same number and spacing of windows before it (a later target is left out when its
//! training windows would start less than `H_tr` after the data). Every churn model (plain,
//! hybrid, calibrated, BG/NBD, the baseline, and every tuned candidate of the grid on the 29
//! features and on the 29 plus `families`: see [`crate::tuning`]) is scored on each target by
//! the selection metric; the mean over the targets picks each tuned model's strength and the
//! selected model at `c`; the value model with the best mean Spearman is the selected value
//! model. The tuned candidates kept (and the selected ones) are then fitted at `c` and measured
//! there like every other model. Ties go to the name that sorts first. Nothing measured after
//! `c` takes part. When the data are too short for a validation window, nothing is selected
//! (and no tuned candidate is measured). The paired bootstrap intervals of the selected
//! model's ROC AUC and lift minus BG/NBD and recency are computed at the last cutoff.

use std::collections::BTreeMap;

use retain_clv::Valuation;
use retain_core::{Cutoff, Horizon};
use retain_data::Transactions;
use retain_eval::{
    BootstrapParams, CalibrationBins, CalibrationRow, ChurnMetrics, ChurnMetricsSummary, Empc,
    EmpcParams, GainsRow, IndividualProfit, Interval, MeanStd, ValueMetrics, ValueMetricsSummary,
    average_precision, bootstrap, brier, calibration_table, churn_metrics, empc, empc_individual,
    gains_table, gini, resample, roc_auc, spearman, summarize_churn, summarize_value,
    top_decile_lift, value_metrics,
};
use retain_features::{CountryTable, FeatureMatrix};
use retain_models::{BaseMemo, CalibrationMethod};
use serde::Serialize;

use crate::TrainError;
pub(crate) use crate::candidates::window_cutoffs;
pub use crate::candidates::{Candidates, calibration_suffix};
use crate::candidates::{customer_base_values, families_needed, fit_candidates, frame_at};
use crate::frames::{ClientFrames, HistoryFrames};
use crate::progress::Progress;
use crate::protocol::{Evaluation, Protocol, churn_rate, column_f64};
use crate::tuning::{FeatureSet, Grid, Spec, Tuned};
use retain_models::deploy::rank_mean;

/// Names of the hybrid columns appended with [`BacktestParams::hybrid`].
pub use retain_models::deploy::HYBRID_FEATURES;

/// The metric a churn model is selected by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SelectMetric {
    /// ROC AUC (higher is better).
    RocAuc,
    /// PR AUC / average precision (higher is better).
    PrAuc,
    /// Top-decile lift (higher is better).
    Lift,
    /// Brier score (lower is better; probability models only).
    Brier,
    /// Log loss (lower is better; probability models only).
    LogLoss,
    /// EMPC with the scalar CLV (higher is better).
    Empc,
    /// Campaign profit with each client's own CLV (higher is better).
    EmpcIndividual,
}

impl SelectMetric {
    /// Every metric with its command-line name.
    pub const ALL: [(&'static str, SelectMetric); 7] = [
        ("roc_auc", Self::RocAuc),
        ("pr_auc", Self::PrAuc),
        ("lift", Self::Lift),
        ("brier", Self::Brier),
        ("log_loss", Self::LogLoss),
        ("empc", Self::Empc),
        ("empc_individual", Self::EmpcIndividual),
    ];

    /// Parses a command-line name (`roc_auc`, `pr_auc`, `lift`, ...).
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.iter().find(|(n, _)| *n == name).map(|(_, m)| *m)
    }

    /// The command-line name.
    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, m)| *m == self)
            .map(|(n, _)| *n)
            .unwrap_or("roc_auc")
    }

    /// True when larger values are better.
    pub fn higher_is_better(self) -> bool {
        !matches!(self, Self::Brier | Self::LogLoss)
    }

    /// The metric's value for a model, `None` when it does not apply (Brier of a baseline).
    pub fn of(self, r: &ChurnResult) -> Option<f64> {
        match self {
            Self::RocAuc => Some(r.metrics.roc_auc),
            Self::PrAuc => Some(r.metrics.pr_auc),
            Self::Lift => Some(r.metrics.top_decile_lift),
            Self::Brier => r.metrics.brier,
            Self::LogLoss => r.metrics.log_loss,
            Self::Empc => Some(r.empc.empc),
            Self::EmpcIndividual => r.empc_individual.map(|e| e.profit_per_client),
        }
    }
}

/// Settings of a backtest. Defaults give the protocol run (one cutoff, one window).
///
/// | Name | Default | Purpose |
/// |---|---|---|
/// | `cutoffs` | 1 | number of successive evaluation cutoffs, the last one = the protocol's |
/// | `cutoff_spacing` | horizon | days between evaluation cutoffs |
/// | `train_windows` | 1 | stacked training windows per cutoff |
/// | `train_spacing` | train horizon | days between training windows |
/// | `hybrid` | false | also fit every ML model with the customer-base columns (`+cb`) |
/// | `calibration` | none | also report each ML model calibrated (Platt or isotonic) |
/// | `select_metric` | ROC AUC | metric of the inner validation selection |
/// | `bootstrap` | 200 resamples, 95%, seed 42 | intervals at the last cutoff (0 resamples = none) |
/// | `empc` | alpha 6, beta 14, CLV 200, incentive 10, contact 1 | EMPC settings |
/// | `forest_trees`, `boosting_trees` | 300, 300 | trees of the forest and the boosted models |
/// | `validate` | true | run the inner validation (selection and tuning) |
/// | `validation_targets` | 2 | validation targets the selection averages over |
/// | `families` | all | feature families the tuned candidates may read ([`FeatureSet`]) |
/// | `grid` | [`Grid::default`] | strengths the tuning tries |
/// | `selection_clients` | 100,000 | the selection's candidates are fitted and judged on a seeded sample of about this many clients when the data hold more (0: every client) |
#[derive(Debug, Clone, Serialize)]
pub struct BacktestParams {
    /// The last evaluation cutoff's windows (cutoff, horizon, training horizon).
    pub protocol: Protocol,
    /// Number of evaluation cutoffs (>= 1).
    pub cutoffs: usize,
    /// Days between evaluation cutoffs.
    pub cutoff_spacing: u32,
    /// Training windows stacked per cutoff (>= 1).
    pub train_windows: usize,
    /// Days between training windows.
    pub train_spacing: u32,
    /// Fit hybrid variants with the customer-base columns.
    pub hybrid: bool,
    /// Calibrated variants (`None`: no calibrated variants).
    pub calibration: Option<CalibrationMethod>,
    /// Metric the churn model is selected by.
    pub select_metric: SelectMetric,
    /// Bootstrap resamples at the last cutoff (0 = no intervals); 95% percentile intervals,
    /// seeded with `seed`.
    pub bootstrap_resamples: usize,
    /// EMPC settings.
    pub empc: EmpcParams,
    /// Trees of the random forest.
    pub forest_trees: u16,
    /// Trees of the gradient-boosting classifier and regressors.
    pub boosting_trees: usize,
    /// Run the inner validation and select models.
    pub validate: bool,
    /// Validation targets averaged by the selection (the most recent at `c - H_tr`, each
    /// next one `H_tr` earlier; fewer when the data are too short).
    pub validation_targets: usize,
    /// Feature families the tuned candidates may read: each is tuned on the 29 alone and on
    /// the 29 plus these.
    pub families: FeatureSet,
    /// Strengths tried by the tuning.
    pub grid: Grid,
    /// The selection (validation targets, tuning) reads a seeded sample of about this many
    /// clients when the data hold more, the same clients in every window
    /// ([`retain_data::in_client_sample`] with `seed`); the models chosen are then fitted on
    /// every client. 0: every client. At a few hundred thousand clients the candidates'
    /// ranking is settled by far fewer, and the selection's cost grows with the clients.
    pub selection_clients: u64,
    /// Seed of the calibration split, of the bootstrap and of the selection's client sample.
    pub seed: u64,
    /// Told of each evaluation run and each model fit (default: nothing).
    #[serde(skip)]
    pub progress: Progress,
}

impl BacktestParams {
    /// The defaults of the table for `protocol`.
    pub fn new(protocol: Protocol) -> Self {
        Self {
            protocol,
            cutoffs: 1,
            cutoff_spacing: protocol.horizon.days(),
            train_windows: 1,
            train_spacing: protocol.train_horizon.days(),
            hybrid: false,
            calibration: None,
            select_metric: SelectMetric::RocAuc,
            bootstrap_resamples: 200,
            empc: EmpcParams::default(),
            forest_trees: 300,
            boosting_trees: 300,
            validate: true,
            validation_targets: 2,
            families: FeatureSet::all(),
            grid: Grid::default(),
            selection_clients: 100_000,
            seed: 42,
            progress: Progress::default(),
        }
    }
}

/// Everything measured for one churn model at one cutoff.
#[derive(Debug, Clone, Serialize)]
pub struct ChurnResult {
    /// ROC AUC, PR AUC, lift, Brier and log loss.
    #[serde(flatten)]
    pub metrics: ChurnMetrics,
    /// EMPC with the scalar CLV.
    pub empc: Empc,
    /// Campaign profit at the EMPC's fraction with each client's BG/NBD + Gamma-Gamma CLV.
    pub empc_individual: Option<IndividualProfit>,
    /// Gains table by decile of score.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub gains: Vec<GainsRow>,
    /// Calibration table (deciles of predicted probability), probability models only.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub calibration: Vec<CalibrationRow>,
}

/// What one evaluation cutoff measured.
#[derive(Debug, Clone, Serialize)]
pub struct CutoffResult {
    /// The evaluation cutoff.
    pub cutoff: Cutoff,
    /// Feature cutoffs of the training windows used, most recent first.
    pub train_cutoffs: Vec<Cutoff>,
    /// Clients evaluated.
    pub population_eval: usize,
    /// Training rows (clients x windows).
    pub population_train: usize,
    /// Churn rate of the evaluation population.
    pub churn_rate_eval: f64,
    /// Churn rate of the stacked training set.
    pub churn_rate_train: f64,
    /// Features the models use (before the hybrid columns).
    pub features_used: Vec<String>,
    /// Churn results by model.
    pub churn: BTreeMap<String, ChurnResult>,
    /// Value metrics by model.
    pub value: BTreeMap<String, ValueMetrics>,
    /// Fitted customer-base parameters at the cutoff (BG/NBD in weeks, Gamma-Gamma).
    pub customer_base: BTreeMap<String, f64>,
    /// The selection made on the training windows (absent without a validation window).
    pub selection: Option<Selection>,
    /// Why no selection was made, when it was asked for and none was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub no_selection: Option<String>,
}

/// The models chosen by the inner out-of-time validation (module docs).
#[derive(Debug, Clone, Serialize)]
pub struct Selection {
    /// Validation cutoff (the most recent training window's feature cutoff).
    pub validation_cutoff: Cutoff,
    /// Every validation target's cutoff, most recent first (labels over the `H_tr` days
    /// after each).
    pub validation_cutoffs: Vec<Cutoff>,
    /// The label window of each target (`H_tr`), in days.
    pub target_days: u32,
    /// The selection metric.
    pub metric: SelectMetric,
    /// The chosen churn model.
    pub churn_model: String,
    /// The chosen value model (by validation Spearman).
    pub value_model: String,
    /// Each churn candidate's selection metric, mean over the validation targets.
    pub churn_validation: BTreeMap<String, f64>,
    /// Each value candidate's Spearman, mean over the validation targets.
    pub value_validation: BTreeMap<String, f64>,
    /// Each churn candidate's selection metric at each target (order of
    /// `validation_cutoffs`).
    pub churn_by_target: BTreeMap<String, Vec<f64>>,
    /// Each value candidate's Spearman at each target.
    pub value_by_target: BTreeMap<String, Vec<f64>>,
    /// The tuned candidates kept: the best strength of each tuned model on each feature set
    /// (by the mean), and the rank ensembles of those.
    pub tuned: Vec<String>,
    /// The seeded client sample the selection read, when the data held more clients than
    /// [`BacktestParams::selection_clients`] (absent: every client).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sample: Option<SelectionSample>,
}

/// The seeded client sample a selection read ([`BacktestParams::selection_clients`]).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SelectionSample {
    /// The share of the clients kept ([`retain_data::in_client_sample`]).
    pub fraction: f64,
    /// The clients of the data, of which about `fraction` were read.
    pub of_clients: u64,
    /// The sample's seed.
    pub seed: u64,
}

impl Selection {
    /// How the models were chosen, in words: `the mean roc_auc over 2 validation target(s)
    /// (features at 2011-06-10, 2011-03-11; labels over the 91 days after each)`.
    pub fn describe(&self) -> String {
        format!(
            "the mean {} over {} validation target(s) (features at {}; labels over the {} days \
             after each)",
            self.metric.name(),
            self.validation_cutoffs.len(),
            self.validation_cutoffs
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", "),
            self.target_days
        ) + &self.sample.map_or(String::new(), |s| {
            format!(
                " on a seeded sample of {:.1}% of the {} clients",
                100.0 * s.fraction,
                s.of_clients
            )
        })
    }

    /// The tuned candidates kept, as specs.
    pub fn tuned_specs(&self) -> Vec<Spec> {
        self.tuned.iter().filter_map(|n| Spec::parse(n)).collect()
    }
}

/// A churn model's metrics across cutoffs.
#[derive(Debug, Clone, Serialize)]
pub struct ChurnSummary {
    /// ROC AUC, PR AUC, lift, Brier, log loss: mean and std.
    #[serde(flatten)]
    pub metrics: ChurnMetricsSummary,
    /// EMPC: mean and std.
    pub empc: MeanStd,
    /// Individual-CLV campaign profit per client: mean and std.
    pub empc_individual: Option<MeanStd>,
}

/// Bootstrap intervals of one model at the last cutoff, by metric name.
pub type Intervals = BTreeMap<String, Interval>;

/// The whole backtest.
#[derive(Debug, Clone, Serialize)]
pub struct Backtest {
    /// The settings.
    pub settings: BacktestParams,
    /// One result per cutoff, oldest first.
    pub cutoffs: Vec<CutoffResult>,
    /// Churn metrics across cutoffs (mean, sample std), by model.
    pub churn_summary: BTreeMap<String, ChurnSummary>,
    /// Value metrics across cutoffs, by model.
    pub value_summary: BTreeMap<String, ValueMetricsSummary>,
    /// The selected churn model's metrics at each cutoff (the selection procedure's
    /// out-of-time performance), when every cutoff had a selection.
    pub selected_churn_summary: Option<ChurnSummary>,
    /// Bootstrap intervals at the last cutoff, churn models.
    pub churn_intervals: BTreeMap<String, Intervals>,
    /// Bootstrap intervals at the last cutoff, value models.
    pub value_intervals: BTreeMap<String, Intervals>,
    /// Paired bootstrap intervals at the last cutoff of the selected churn model's ROC AUC
    /// and top-decile lift minus each baseline's (`bgnbd_p_no_purchase`,
    /// `baseline_days_since_last`), every difference computed on the same resample: by
    /// baseline, then metric. Empty without a selection or without resamples.
    pub selected_vs_baselines: BTreeMap<String, Intervals>,
    /// Every model's per-client scores at the last cutoff.
    #[serde(skip)]
    pub last_scores: LastScores,
}

/// One evaluation (or validation) cutoff: windows, fits, scores, metrics.
struct CutoffRun {
    result: CutoffResult,
    /// Scores by churn model (for the bootstrap), and whether each is a probability.
    churn_scores: BTreeMap<String, (Vec<f64>, bool)>,
    /// Predictions by value model.
    value_preds: BTreeMap<String, Vec<f64>>,
    y: Vec<bool>,
    value: Vec<f64>,
    ids: Vec<i64>,
    clv: Vec<f64>,
}

fn churn_result(
    y: &[bool],
    score: &[f64],
    ids: &[i64],
    clv: &[f64],
    is_probability: bool,
    params: &BacktestParams,
    tables: bool,
) -> Result<ChurnResult, TrainError> {
    let metrics = churn_metrics(y, score, ids, is_probability)?;
    let e = empc(y, score, &params.empc)?;
    let ind = empc_individual(y, score, ids, clv, &params.empc)?;
    let (gains, calibration) = if tables {
        (
            gains_table(y, score, ids, 10)?,
            if is_probability {
                calibration_table(y, score, 10, CalibrationBins::Quantile)?
            } else {
                Vec::new()
            },
        )
    } else {
        (Vec::new(), Vec::new())
    };
    Ok(ChurnResult {
        metrics,
        empc: e,
        empc_individual: Some(ind),
        gains,
        calibration,
    })
}

#[allow(clippy::too_many_arguments)]
fn run_cutoff(
    frames: &dyn ClientFrames,
    countries: &CountryTable,
    c: Cutoff,
    horizon: Horizon,
    params: &BacktestParams,
    full: bool,
    tuned: &[Spec],
) -> Result<CutoffRun, TrainError> {
    params.progress.run(c, !full);
    let needed = families_needed(tuned, params.hybrid);
    let h_tr = params.protocol.train_horizon;
    let eval = frame_at(frames, c, Some(horizon), countries, &needed, h_tr)?;
    let mut p = params.clone();
    p.protocol.horizon = horizon;
    let cands = fit_candidates(frames, countries, c, &eval, &p, &|_| true, tuned)?;
    let m = FeatureMatrix::from_frame(&eval, &cands.features)?;
    let y = crate::candidates::bools(&eval, "churned")?;
    let value = column_f64(&eval, "holdout_value")?;
    let ids: Vec<i64> = m.clients.clone();
    let clv = customer_base_values(&cands.base, &eval, horizon)?.clv;
    // Every candidate scores the same clients: the customer-base outputs that many of them
    // read (BG/NBD, MBG/NBD) are computed once.
    let mut memo = BaseMemo::new(m.x.view());
    let mut churn_scores: BTreeMap<String, (Vec<f64>, bool)> = BTreeMap::new();
    for (name, model) in &cands.churn {
        let pred = model.predict_in(&mut memo)?;
        churn_scores.insert(name.clone(), (pred.score, pred.score_is_probability));
    }
    let mut value_preds: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for (name, model) in &cands.value {
        let pred = model.predict_in(&mut memo, horizon, &Valuation::default())?;
        value_preds.insert(name.clone(), pred.score);
    }
    let mut churn = BTreeMap::new();
    for (name, (s, prob)) in &churn_scores {
        churn.insert(
            name.clone(),
            churn_result(&y, s, &ids, &clv, *prob, params, full)?,
        );
    }
    let mut values = BTreeMap::new();
    for (name, p) in &value_preds {
        values.insert(name.clone(), value_metrics(&value, p, &ids)?);
    }
    Ok(CutoffRun {
        result: CutoffResult {
            cutoff: c,
            train_cutoffs: cands.train_cutoffs.clone(),
            population_eval: y.len(),
            population_train: cands.population_train,
            churn_rate_eval: churn_rate(&y),
            churn_rate_train: cands.churn_rate_train,
            features_used: cands.used.clone(),
            churn,
            value: values,
            customer_base: cands.base.parameters(),
            selection: None,
            no_selection: None,
        },
        churn_scores,
        value_preds,
        y,
        value,
        ids,
        clv,
    })
}

/// The best entry of `scores` (ties to the first name), larger or smaller being better.
fn best(scores: &BTreeMap<String, f64>, higher: bool) -> Option<String> {
    let mut out: Option<(&String, f64)> = None;
    for (k, &v) in scores {
        if !v.is_finite() {
            continue;
        }
        let better = match out {
            None => true,
            Some((_, b)) => {
                if higher {
                    v > b
                } else {
                    v < b
                }
            }
        };
        if better {
            out = Some((k, v));
        }
    }
    out.map(|(k, _)| k.clone())
}

/// Every tuned candidate the validation tries: the grid's logistic regressions, boosters and
/// two-part models on the 29 alone and on the 29 plus `params.families`.
fn grid_specs(params: &BacktestParams) -> Vec<Spec> {
    let mut sets = vec![FeatureSet::none()];
    if !params.families.is_empty() {
        sets.push(params.families);
    }
    sets.iter()
        .flat_map(|&set| {
            let mut v = params.grid.singles(set);
            v.extend(params.grid.values(set));
            v
        })
        .collect()
}

/// The mean of `v` when every value is finite.
fn finite_mean(v: &[f64]) -> Option<f64> {
    (!v.is_empty() && v.iter().all(|x| x.is_finite()))
        .then(|| v.iter().sum::<f64>() / v.len() as f64)
}

/// The best of `names` by their mean in `means`, ties to the first name in sort order.
fn best_of<'a>(
    means: &BTreeMap<String, f64>,
    names: impl Iterator<Item = &'a String>,
    higher: bool,
) -> Option<String> {
    let subset: BTreeMap<String, f64> = names
        .filter_map(|n| means.get(n).map(|&v| (n.clone(), v)))
        .collect();
    best(&subset, higher)
}

/// The inner validation at evaluation cutoff `c` (module docs): every candidate (the
/// protocol's models and the tuning grid) at `params.validation_targets` targets, `c - H_tr`,
/// `c - 2 H_tr`, ..., each trained strictly before its target; the tuned strength of each
/// model on each feature set and the selected models, by the mean over the targets. A target
/// after the first is used only when its training windows' features have at least `H_tr`
/// days of history behind them (fewer targets otherwise). `None` if the data are too short
/// for one target.
/// Why [`select`] chose nothing.
#[derive(Debug, Clone)]
pub(crate) enum NoSelection {
    /// No validation target has a training window in the data.
    TooShort,
    /// The targets could not be fitted or scored (the reason).
    Failed(String),
}

impl std::fmt::Display for NoSelection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::TooShort => f.write_str(
                "the data are too short for a validation window before the training windows",
            ),
            Self::Failed(why) => f.write_str(why),
        }
    }
}

pub(crate) fn select(
    frames: &dyn ClientFrames,
    countries: &CountryTable,
    c: Cutoff,
    params: &BacktestParams,
) -> Result<Result<Selection, NoSelection>, TrainError> {
    let h_tr = params.protocol.train_horizon;
    let specs = grid_specs(params);
    // Beyond `selection_clients` clients, every window of the selection reads the same
    // seeded sample of them.
    let all = frames.clients();
    let sample =
        (params.selection_clients > 0 && all > params.selection_clients).then(|| SelectionSample {
            fraction: params.selection_clients as f64 / all as f64,
            of_clients: all,
            seed: params.seed,
        });
    let sampled;
    let frames: &dyn ClientFrames = match sample {
        Some(s) => {
            sampled = crate::frames::SampledFrames::new(frames, s.fraction, s.seed);
            &sampled
        }
        None => frames,
    };
    // The targets that have a training window, most recent first.
    let mut targets = Vec::new();
    let mut v = c;
    let first_day = frames.first_day().map(Cutoff::new);
    for _ in 0..params.validation_targets.max(1) {
        v = v.minus(h_tr);
        let windows = window_cutoffs(frames, v, params);
        if windows.is_empty() {
            break;
        }
        // A later target needs a training horizon of history before its oldest training
        // window's features: a window taken a few days after the data start holds the few
        // clients of those days, with features (90-day spend, trend, intervals) that mean
        // something else there, and would judge the models on noise.
        let short = first_day.is_some_and(|f| windows.iter().any(|w| *w < f.plus(h_tr)));
        if !targets.is_empty() && short {
            break;
        }
        targets.push(v);
    }
    // The targets are independent: they run side by side (two at a time), each on its own
    // thread, and their results are kept in target order, so the outcome is the same as
    // one after the other.
    let mut outcomes: Vec<Result<CutoffRun, TrainError>> = Vec::with_capacity(targets.len());
    for pair in targets.chunks(2) {
        let done: Vec<Result<CutoffRun, TrainError>> = std::thread::scope(|scope| {
            let handles: Vec<_> = pair
                .iter()
                .map(|&v| {
                    let specs = &specs;
                    scope
                        .spawn(move || run_cutoff(frames, countries, v, h_tr, params, false, specs))
                })
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join().unwrap_or_else(|_| {
                        Err(TrainError::Window(
                            "a validation target's fit panicked".into(),
                        ))
                    })
                })
                .collect()
        });
        outcomes.extend(done);
    }
    if targets.is_empty() {
        return Ok(Err(NoSelection::TooShort));
    }
    let mut runs: Vec<(Cutoff, CutoffRun)> = Vec::new();
    for (v, outcome) in targets.into_iter().zip(outcomes) {
        // A target too short for the customer-base fit ends the list (older ones are
        // shorter still).
        match outcome {
            Ok(r) => runs.push((v, r)),
            Err(e @ (TrainError::Window(_) | TrainError::Clv(_))) => {
                if runs.is_empty() {
                    return Ok(Err(NoSelection::Failed(format!(
                        "the validation target at {v} could not be fitted: {e}"
                    ))));
                }
                break;
            }
            Err(e) => return Err(e),
        }
    }
    let metric = params.select_metric;
    let higher = metric.higher_is_better();
    let mut churn_by_target: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    let mut value_by_target: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for (_, run) in &runs {
        for (k, r) in &run.result.churn {
            if let Some(m) = metric.of(r) {
                churn_by_target.entry(k.clone()).or_default().push(m);
            }
        }
        for (k, m) in &run.result.value {
            value_by_target
                .entry(k.clone())
                .or_default()
                .push(m.spearman);
        }
    }
    let means = |by: &BTreeMap<String, Vec<f64>>| -> BTreeMap<String, f64> {
        by.iter()
            .filter(|(_, v)| v.len() == runs.len())
            .filter_map(|(k, v)| finite_mean(v).map(|m| (k.clone(), m)))
            .collect()
    };
    let churn_means = means(&churn_by_target);
    let value_means = means(&value_by_target);
    // The tuned strength of each model on each set, then the ensembles made of them.
    let sets: Vec<FeatureSet> = {
        let mut v: Vec<FeatureSet> = specs.iter().map(|s| s.set).collect();
        v.dedup();
        v
    };
    let mut tuned: Vec<Spec> = Vec::new();
    for set in sets {
        let of = |f: &dyn Fn(&Tuned) -> bool| -> Vec<String> {
            specs
                .iter()
                .filter(|s| s.set == set && f(&s.model))
                .map(Spec::name)
                .collect()
        };
        let logistic = of(&|m| matches!(m, Tuned::Logistic { .. }));
        let boosting = of(&|m| matches!(m, Tuned::Boosting(_)));
        let two = of(&|m| matches!(m, Tuned::TwoPart(_)));
        let logv = of(&|m| matches!(m, Tuned::LogValue(_)));
        let pick = |names: &[String], means: &BTreeMap<String, f64>, higher: bool| {
            best_of(means, names.iter(), higher).and_then(|n| Spec::parse(&n))
        };
        tuned.extend(pick(&logistic, &churn_means, higher));
        tuned.extend(pick(&boosting, &churn_means, higher));
        tuned.extend(pick(&logv, &value_means, true));
        // The rank ensemble of every logistic strength with every booster shape (and BG/NBD
        // P(no purchase)), from the stored scores; the best pair by the ensemble's own mean is
        // kept, as for the value ensemble.
        let mut ens_names = Vec::new();
        for ls in specs.iter().filter(|s| s.set == set) {
            let Tuned::Logistic { c } = ls.model else {
                continue;
            };
            for bs in specs.iter().filter(|s| s.set == set) {
                let Tuned::Boosting(shape) = bs.model else {
                    continue;
                };
                let ens = Spec {
                    model: Tuned::Ensemble { c, shape },
                    set,
                };
                for (_, run) in &runs {
                    let part = |n: &str| run.churn_scores.get(n).map(|(s, _)| s.as_slice());
                    let (Some(a), Some(b), Some(g)) = (
                        part(&ls.name()),
                        part(&bs.name()),
                        part(retain_core::kinds::BGNBD_P_NO_PURCHASE),
                    ) else {
                        continue;
                    };
                    let score = rank_mean(&[a, b, g]);
                    let r = churn_result(&run.y, &score, &run.ids, &run.clv, false, params, false)?;
                    if let Some(m) = metric.of(&r) {
                        churn_by_target.entry(ens.name()).or_default().push(m);
                    }
                }
                ens_names.push(ens.name());
            }
        }
        tuned.extend(pick(&ens_names, &means(&churn_by_target), higher));
        tuned.extend(pick(&two, &value_means, true));
        // The value ensemble of each shape (its two-part model, its log1p regression and
        // the CLV), from the stored predictions; the best shape is kept.
        let mut ens_names = Vec::new();
        for spec in specs.iter().filter(|s| s.set == set) {
            let Tuned::TwoPart(shape) = spec.model else {
                continue;
            };
            let ens = Spec {
                model: Tuned::ValueEnsemble(shape),
                set,
            };
            let log = Spec {
                model: Tuned::LogValue(shape),
                set,
            };
            for (_, run) in &runs {
                let (Some(a), Some(b), Some(g)) = (
                    run.value_preds.get(&spec.name()),
                    run.value_preds.get(&log.name()),
                    run.value_preds.get(retain_core::kinds::BGNBD_GG_CLV),
                ) else {
                    continue;
                };
                let score = rank_mean(&[a, b, g]);
                let m = value_metrics(&run.value, &score, &run.ids)?;
                value_by_target
                    .entry(ens.name())
                    .or_default()
                    .push(m.spearman);
            }
            ens_names.push(ens.name());
        }
        tuned.extend(pick(&ens_names, &means(&value_by_target), true));
    }
    let churn_validation = means(&churn_by_target);
    let value_validation = means(&value_by_target);
    let (Some(churn_model), Some(value_model)) = (
        best(&churn_validation, higher),
        best(&value_validation, true),
    ) else {
        return Ok(Err(NoSelection::Failed(
            "no candidate has a validation score on every target".into(),
        )));
    };
    Ok(Ok(Selection {
        validation_cutoff: runs[0].0,
        validation_cutoffs: runs.iter().map(|(v, _)| *v).collect(),
        target_days: h_tr.days(),
        metric,
        churn_model,
        value_model,
        churn_validation,
        value_validation,
        churn_by_target,
        value_by_target,
        tuned: tuned.iter().map(Spec::name).collect(),
        sample,
    }))
}

fn summarize_results(results: &[&ChurnResult]) -> ChurnSummary {
    let metrics: Vec<ChurnMetrics> = results.iter().map(|r| r.metrics).collect();
    let ind: Option<Vec<f64>> = results
        .iter()
        .map(|r| r.empc_individual.map(|e| e.profit_per_client))
        .collect();
    ChurnSummary {
        metrics: summarize_churn(&metrics),
        empc: MeanStd::of(&results.iter().map(|r| r.empc.empc).collect::<Vec<_>>()),
        empc_individual: ind.map(|v| MeanStd::of(&v)),
    }
}

fn intervals(
    run: &CutoffRun,
    params: &BacktestParams,
) -> Result<[BTreeMap<String, Intervals>; 2], TrainError> {
    let mut churn = BTreeMap::new();
    let mut value = BTreeMap::new();
    if params.bootstrap_resamples == 0 {
        return Ok([churn, value]);
    }
    let b = &BootstrapParams::default()
        .n_resamples(params.bootstrap_resamples)
        .seed(params.seed);
    let (y, ids) = (&run.y, &run.ids);
    let n = y.len();
    for (name, (s, prob)) in &run.churn_scores {
        let mut m = Intervals::new();
        m.insert(
            "roc_auc".into(),
            bootstrap(n, b, |i| {
                roc_auc(&resample(y, i), &resample(s, i)).unwrap_or(f64::NAN)
            })?,
        );
        m.insert(
            "pr_auc".into(),
            bootstrap(n, b, |i| {
                average_precision(&resample(y, i), &resample(s, i)).unwrap_or(f64::NAN)
            })?,
        );
        m.insert(
            "top_decile_lift".into(),
            bootstrap(n, b, |i| {
                top_decile_lift(&resample(y, i), &resample(s, i), &resample(ids, i))
                    .unwrap_or(f64::NAN)
            })?,
        );
        if *prob {
            m.insert(
                "brier".into(),
                bootstrap(n, b, |i| {
                    brier(&resample(y, i), &resample(s, i)).unwrap_or(f64::NAN)
                })?,
            );
        }
        m.insert(
            "empc".into(),
            bootstrap(n, b, |i| {
                empc(&resample(y, i), &resample(s, i), &params.empc)
                    .map(|e| e.empc)
                    .unwrap_or(f64::NAN)
            })?,
        );
        m.insert(
            "empc_individual".into(),
            bootstrap(n, b, |i| {
                empc_individual(
                    &resample(y, i),
                    &resample(s, i),
                    &resample(ids, i),
                    &resample(&run.clv, i),
                    &params.empc,
                )
                .map(|e| e.profit_per_client)
                .unwrap_or(f64::NAN)
            })?,
        );
        churn.insert(name.clone(), m);
    }
    let v = &run.value;
    for (name, p) in &run.value_preds {
        let mut m = Intervals::new();
        m.insert(
            "spearman".into(),
            bootstrap(n, b, |i| spearman(&resample(v, i), &resample(p, i)))?,
        );
        m.insert(
            "normalized_gini".into(),
            bootstrap(n, b, |i| {
                let (a, s, k) = (resample(v, i), resample(p, i), resample(ids, i));
                gini(&a, &s, &k) / gini(&a, &a, &k)
            })?,
        );
        value.insert(name.clone(), m);
    }
    Ok([churn, value])
}

/// The baselines the selected model is compared with, pairwise.
pub const PAIRED_BASELINES: [&str; 2] = [
    retain_core::kinds::BGNBD_P_NO_PURCHASE,
    retain_core::kinds::BASELINE_DAYS_SINCE_LAST,
];

/// The paired bootstrap intervals of `selected`'s ROC AUC and top-decile lift minus each
/// of [`PAIRED_BASELINES`] (see [`Backtest::selected_vs_baselines`]): the same resamples and
/// seed as the per-model intervals, each replicate the difference on one resample, so the
/// clients both scores share cancel out of the interval.
fn paired_differences(
    run: &CutoffRun,
    selected: &str,
    params: &BacktestParams,
) -> Result<BTreeMap<String, Intervals>, TrainError> {
    let mut out = BTreeMap::new();
    if params.bootstrap_resamples == 0 {
        return Ok(out);
    }
    let Some((s, _)) = run.churn_scores.get(selected) else {
        return Ok(out);
    };
    let b = &BootstrapParams::default()
        .n_resamples(params.bootstrap_resamples)
        .seed(params.seed);
    let (y, ids) = (&run.y, &run.ids);
    let n = y.len();
    for base in PAIRED_BASELINES {
        if base == selected {
            continue;
        }
        let Some((t, _)) = run.churn_scores.get(base) else {
            continue;
        };
        let mut m = Intervals::new();
        m.insert(
            "roc_auc".into(),
            bootstrap(n, b, |i| {
                let yi = resample(y, i);
                match (roc_auc(&yi, &resample(s, i)), roc_auc(&yi, &resample(t, i))) {
                    (Ok(a), Ok(c)) => a - c,
                    _ => f64::NAN,
                }
            })?,
        );
        m.insert(
            "top_decile_lift".into(),
            bootstrap(n, b, |i| {
                let (yi, ki) = (resample(y, i), resample(ids, i));
                match (
                    top_decile_lift(&yi, &resample(s, i), &ki),
                    top_decile_lift(&yi, &resample(t, i), &ki),
                ) {
                    (Ok(a), Ok(c)) => a - c,
                    _ => f64::NAN,
                }
            })?,
        );
        out.insert(base.to_string(), m);
    }
    Ok(out)
}

/// Runs the backtest (module docs): `params.cutoffs` evaluation cutoffs ending at
/// `params.protocol.cutoff`, `params.cutoff_spacing` days apart.
pub fn backtest(tx: &Transactions, params: &BacktestParams) -> Result<Backtest, TrainError> {
    // The line table is read once; every window's features come from its condensed tables.
    backtest_on(&HistoryFrames::of(tx)?, params)
}

/// [`backtest`] on the feature frames of `frames` (one machine's history, or a distributed
/// run's: [`ClientFrames`]).
pub fn backtest_on(
    frames: &dyn ClientFrames,
    params: &BacktestParams,
) -> Result<Backtest, TrainError> {
    if params.cutoffs == 0 || params.train_windows == 0 {
        return Err(TrainError::Window(
            "--cutoffs and --train-windows must be at least 1".into(),
        ));
    }
    if params.train_spacing == 0 || params.cutoff_spacing == 0 {
        return Err(TrainError::Window(
            "--train-spacing and --cutoff-spacing must be at least 1 day".into(),
        ));
    }
    let last = params.protocol.cutoff;
    let horizon = params.protocol.horizon;
    if frames
        .last_day()
        .is_none_or(|d| d < last.plus(horizon).date())
    {
        return Err(TrainError::Window(format!(
            "the data end before {} (cutoff {} + {} days): there is no complete holdout to \
             evaluate on; choose an earlier --cutoff",
            params.protocol.cutoff.plus(horizon),
            params.protocol.cutoff,
            horizon
        )));
    }
    crate::candidates::check_train_windows(
        frames,
        last.days_before((params.cutoffs as i64 - 1) * i64::from(params.cutoff_spacing)),
        params,
    )?;
    let mut runs = Vec::with_capacity(params.cutoffs);
    let mut last_run = None;
    for k in (0..params.cutoffs).rev() {
        let c = last.days_before(k as i64 * i64::from(params.cutoff_spacing));
        let countries = frames.country_table(c)?;
        let is_last = k == 0;
        // The selection first: its tuned strengths are the tuned candidates measured at c.
        let (selection, no_selection) = if params.validate {
            match select(frames, &countries, c, params)? {
                Ok(s) => (Some(s), None),
                Err(why) => (None, Some(why.to_string())),
            }
        } else {
            (None, None)
        };
        let tuned = selection
            .as_ref()
            .map(Selection::tuned_specs)
            .unwrap_or_default();
        let mut run = run_cutoff(frames, &countries, c, horizon, params, true, &tuned)?;
        run.result.selection = selection;
        run.result.no_selection = no_selection;
        runs.push(run.result.clone());
        if is_last {
            last_run = Some(run);
        }
    }
    let last_run = last_run.expect("at least one cutoff");
    let mut churn_summary = BTreeMap::new();
    for name in last_run.result.churn.keys() {
        let rs: Vec<&ChurnResult> = runs.iter().filter_map(|r| r.churn.get(name)).collect();
        churn_summary.insert(name.clone(), summarize_results(&rs));
    }
    let mut value_summary = BTreeMap::new();
    for name in last_run.result.value.keys() {
        let ms: Vec<ValueMetrics> = runs
            .iter()
            .filter_map(|r| r.value.get(name).copied())
            .collect();
        value_summary.insert(name.clone(), summarize_value(&ms));
    }
    let selected: Option<Vec<&ChurnResult>> = runs
        .iter()
        .map(|r| {
            r.selection
                .as_ref()
                .and_then(|s| r.churn.get(&s.churn_model))
        })
        .collect();
    let selected_churn_summary = selected.map(|s| summarize_results(&s));
    let [churn_intervals, value_intervals] = intervals(&last_run, params)?;
    let selected_vs_baselines = match &last_run.result.selection {
        Some(sel) => paired_differences(&last_run, &sel.churn_model, params)?,
        None => BTreeMap::new(),
    };
    let last_scores = LastScores {
        ids: last_run.ids.clone(),
        churn: last_run
            .churn_scores
            .iter()
            .map(|(k, (s, _))| (k.clone(), s.clone()))
            .collect(),
        value: last_run.value_preds.clone(),
    };
    Ok(Backtest {
        settings: params.clone(),
        cutoffs: runs,
        churn_summary,
        value_summary,
        selected_churn_summary,
        churn_intervals,
        value_intervals,
        selected_vs_baselines,
        last_scores,
    })
}

/// Every model's score of every client at the last cutoff (not written to the JSON): what a
/// saved model must reproduce when it scores the same clients.
#[derive(Debug, Clone, Default)]
pub struct LastScores {
    /// Client ids, in the order of the scores.
    pub ids: Vec<i64>,
    /// Churn scores by model.
    pub churn: BTreeMap<String, Vec<f64>>,
    /// Value predictions (rank scores for the rank ensembles) by model.
    pub value: BTreeMap<String, Vec<f64>>,
}

impl Backtest {
    /// The last cutoff as a protocol [`Evaluation`] (the shape `retain evaluate` has always
    /// written), with every model's churn and value metrics.
    pub fn last_evaluation(&self) -> Evaluation {
        let r = self.cutoffs.last().expect("at least one cutoff");
        let p = self.settings.protocol;
        Evaluation {
            protocol: p,
            train_cutoff: p.train_cutoff(),
            population_eval: r.population_eval,
            population_train: r.population_train,
            churn_rate_eval: r.churn_rate_eval,
            churn_rate_train: r.churn_rate_train,
            features_used: r.features_used.clone(),
            churn: r
                .churn
                .iter()
                .map(|(k, v)| (k.clone(), v.metrics))
                .collect(),
            value: r.value.clone(),
            customer_base: r.customer_base.clone(),
        }
    }
}
