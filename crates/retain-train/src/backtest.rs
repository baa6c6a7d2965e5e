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
//! recipe is rerun one training horizon earlier: the evaluation cutoff becomes `c' = c - H_tr`
//! (the most recent training window's feature cutoff, labels `(c', c]`), with the same number
//! and spacing of windows before it. Every churn model (plain, hybrid, calibrated, BG/NBD and
//! the baseline) is scored on that validation window by the selection metric, and the best one
//! is the selected model at `c`; the value model with the best validation Spearman is the
//! selected value model. Ties go to the name that sorts first. Nothing measured after `c` takes
//! part. When the data are too short for a validation window, nothing is selected.

use std::collections::BTreeMap;

use ndarray::{Array2, Axis, concatenate};
use polars::prelude::*;
use retain_clv::{CLV_FEATURES, ClvModel, RfmKind, RfmRows, Valuation};
use retain_core::{Cutoff, FeatureSchema, Horizon, kinds};
use retain_data::Transactions;
use retain_eval::{
    BootstrapParams, CalibrationBins, CalibrationRow, ChurnMetrics, ChurnMetricsSummary, Empc,
    EmpcParams, GainsRow, IndividualProfit, Interval, MeanStd, ValueMetrics, ValueMetricsSummary,
    average_precision, bootstrap, brier, calibration_table, churn_metrics, empc, empc_individual,
    gains_table, gini, resample, roc_auc, spearman, summarize_churn, summarize_value,
    top_decile_lift, value_metrics,
};
use retain_features::{CountryTable, FEATURES, FeatureMatrix, History, non_constant};
use retain_models::{
    AnyClassifier, AnyRegressor, Calibrated, CalibrationMethod, ChurnModel, CustomerBasePart,
    DecisionTreeParams, GradientBoostingParams, GradientBoostingRegressorParams, LogisticParams,
    RandomForestParams, RecencyBaseline, RevenueRateBaseline, TwoPartParams, ValueModel,
    holdout_split,
};
use serde::Serialize;

use crate::TrainError;
use crate::protocol::{Evaluation, Protocol, churn_rate, column_f64};

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
/// | `validate` | true | run the inner validation (selection) |
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
    /// Seed of the calibration split and of the bootstrap.
    pub seed: u64,
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
            seed: 42,
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
}

/// The models chosen by the inner out-of-time validation (module docs).
#[derive(Debug, Clone, Serialize)]
pub struct Selection {
    /// Validation cutoff (the most recent training window's feature cutoff).
    pub validation_cutoff: Cutoff,
    /// The selection metric.
    pub metric: SelectMetric,
    /// The chosen churn model.
    pub churn_model: String,
    /// The chosen value model (by validation Spearman).
    pub value_model: String,
    /// Each churn model's selection metric on the validation window.
    pub churn_validation: BTreeMap<String, f64>,
    /// Each value model's Spearman on the validation window.
    pub value_validation: BTreeMap<String, f64>,
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
    /// Every model's per-client scores at the last cutoff.
    #[serde(skip)]
    pub last_scores: LastScores,
}

/// A labelled window with optional customer-base columns.
struct Window {
    cutoff: Cutoff,
    df: DataFrame,
    hybrid: Option<Array2<f64>>,
}

/// A design matrix with labels.
struct Design {
    x: Array2<f64>,
    churned: Vec<bool>,
    value: Vec<f64>,
    ids: Vec<i64>,
    /// Row range of each window in `x`, most recent first.
    spans: Vec<std::ops::Range<usize>>,
}

/// Every client's frequency, recency, age and monetary value of a feature frame (days).
fn rfm_columns(df: &DataFrame) -> Result<[Vec<f64>; 4], TrainError> {
    Ok([
        column_f64(df, "frequency")?,
        column_f64(df, "recency_lt")?,
        column_f64(df, "T")?,
        column_f64(df, "monetary")?,
    ])
}

/// BG/NBD + Gamma-Gamma fitted on every client of `df` (BENCHMARK.md section 5).
pub(crate) fn fit_customer_base(df: &DataFrame, kind: RfmKind) -> Result<ClvModel, TrainError> {
    let [f, r, t, m] = rfm_columns(df)?;
    Ok(ClvModel::fit(kind, &RfmRows::new(&f, &r, &t, &m)?)?)
}

/// The customer-base outputs of every client of `df` over `horizon`.
pub(crate) fn customer_base_values(
    base: &ClvModel,
    df: &DataFrame,
    horizon: Horizon,
) -> Result<retain_clv::ClientValues, TrainError> {
    let [f, r, t, m] = rfm_columns(df)?;
    Ok(base.values(
        &RfmRows::new(&f, &r, &t, &m)?,
        horizon,
        &Valuation::default(),
    )?)
}

fn hybrid_columns(
    df: &DataFrame,
    base: &ClvModel,
    horizon: Horizon,
) -> Result<Array2<f64>, TrainError> {
    let s = customer_base_values(base, df, horizon)?;
    let n = s.p_no_purchase.len();
    let mut x = Array2::zeros((n, 3));
    for i in 0..n {
        x[[i, 0]] = s.p_no_purchase[i];
        x[[i, 1]] = s.expected_purchases[i];
        x[[i, 2]] = s.clv[i];
    }
    Ok(x)
}

fn build_window(
    history: &History,
    cutoff: i32,
    horizon: Horizon,
    countries: &CountryTable,
    hybrid: bool,
) -> Result<Window, TrainError> {
    let df = history
        .labelled_set(cutoff, horizon.days() as i32, countries)
        .collect()?;
    let hybrid = if hybrid && df.height() > 0 {
        let base = fit_customer_base(&df, RfmKind::Bgnbd)?;
        Some(hybrid_columns(&df, &base, horizon)?)
    } else {
        None
    };
    Ok(Window {
        cutoff: Cutoff::from_day(cutoff),
        df,
        hybrid,
    })
}

fn bools(df: &DataFrame, name: &str) -> Result<Vec<bool>, TrainError> {
    Ok(column_f64(df, name)?.iter().map(|&v| v == 1.0).collect())
}

fn design(
    windows: &[Window],
    used: &[String],
    with_hybrid: bool,
    value_scale: f64,
) -> Result<Design, TrainError> {
    let mut xs = Vec::new();
    let (mut churned, mut value, mut ids, mut spans) = (vec![], vec![], vec![], vec![]);
    let mut start = 0;
    for w in windows {
        let m = FeatureMatrix::from_frame(&w.df, used)?;
        let x = match (&w.hybrid, with_hybrid) {
            (Some(h), true) => concatenate(Axis(1), &[m.x.view(), h.view()])
                .map_err(|e| TrainError::Window(format!("stacking hybrid columns: {e}")))?,
            _ => m.x,
        };
        spans.push(start..start + x.nrows());
        start += x.nrows();
        xs.push(x);
        churned.extend(bools(&w.df, "churned")?);
        value.extend(
            column_f64(&w.df, "holdout_value")?
                .iter()
                .map(|v| v * value_scale),
        );
        ids.extend(m.clients);
    }
    let views: Vec<_> = xs.iter().map(|x| x.view()).collect();
    let x = concatenate(Axis(0), &views)
        .map_err(|e| TrainError::Window(format!("stacking windows: {e}")))?;
    Ok(Design {
        x,
        churned,
        value,
        ids,
        spans,
    })
}

/// The four ML classifier kinds, in the order they are fitted.
const CLASSIFIERS: [&str; 4] = [
    kinds::LOGISTIC,
    kinds::DECISION_TREE,
    kinds::RANDOM_FOREST,
    kinds::GRADIENT_BOOSTING,
];

/// The ML churn models of one feature set that `want` asks for, fitted on `d` (or its `rows`).
fn fit_classifiers(
    d: &Design,
    params: &BacktestParams,
    rows: Option<&[usize]>,
    want: &dyn Fn(&str) -> bool,
) -> Result<Vec<(&'static str, AnyClassifier)>, TrainError> {
    let (x, y) = match rows {
        Some(r) => (
            d.x.select(Axis(0), r),
            r.iter().map(|&i| d.churned[i]).collect::<Vec<_>>(),
        ),
        None => (d.x.clone(), d.churned.clone()),
    };
    let x = x.view();
    let mut out = Vec::new();
    for name in CLASSIFIERS {
        if !want(name) {
            continue;
        }
        let m: AnyClassifier = match name {
            kinds::LOGISTIC => LogisticParams::new().fit(x, &y, None)?.into(),
            kinds::DECISION_TREE => DecisionTreeParams::new().fit(x, &y, None)?.into(),
            kinds::RANDOM_FOREST => RandomForestParams::new()
                .n_trees(params.forest_trees)
                .threads(2)
                .fit(x, &y, None)?
                .into(),
            _ => GradientBoostingParams::new()
                .n_trees(params.boosting_trees)
                .fit(x, &y, None)?
                .into(),
        };
        out.push((name, m));
    }
    Ok(out)
}

/// The boosted member of the rank ensemble: 400 trees of at most 7 leaves, learning rate
/// 0.02, and about 50 clients a leaf (hessian 10 at p(1 - p) near 0.2): a smoother model than
/// the 31-leaf default, which over-fits a few thousand clients.
fn ensemble_boosting(params: &BacktestParams) -> GradientBoostingParams {
    GradientBoostingParams::new()
        .n_trees(400)
        .learning_rate(0.02)
        .max_leaves(7)
        .min_leaf_weight(10.0)
        .seed(params.seed)
}

/// Calibrated variants: refit on the clients outside a seeded 20% of the most recent window,
/// calibrate on that 20% (module docs).
fn fit_calibrated(
    d: &Design,
    params: &BacktestParams,
    method: CalibrationMethod,
    want: &dyn Fn(&str) -> bool,
) -> Result<Vec<(&'static str, AnyClassifier)>, TrainError> {
    let recent = d.spans[0].clone();
    let (_, held_local) = holdout_split(recent.len(), 0.2, params.seed)?;
    let held_rows: Vec<usize> = held_local.iter().map(|&i| recent.start + i).collect();
    let held_ids: std::collections::BTreeSet<i64> = held_rows.iter().map(|&i| d.ids[i]).collect();
    let fit_rows: Vec<usize> = (0..d.ids.len())
        .filter(|&i| !held_ids.contains(&d.ids[i]))
        .collect();
    let x_cal = d.x.select(Axis(0), &held_rows);
    let y_cal: Vec<bool> = held_rows.iter().map(|&i| d.churned[i]).collect();
    fit_classifiers(d, params, Some(&fit_rows), want)?
        .into_iter()
        .map(|(name, m)| {
            Ok((
                name,
                Calibrated::fit(m, method, x_cal.view(), &y_cal)?.into(),
            ))
        })
        .collect()
}

/// The suffix of a calibration method.
pub fn calibration_suffix(method: CalibrationMethod) -> &'static str {
    match method {
        CalibrationMethod::Platt => kinds::PLATT_SUFFIX,
        CalibrationMethod::Isotonic => kinds::ISOTONIC_SUFFIX,
    }
}

/// The models fitted at one cutoff, as deployable models on one feature list, and what was
/// learned on the way.
pub struct Candidates {
    /// The feature list every candidate reads: the used features, then any of the
    /// customer-base inputs and baseline columns they lack.
    pub features: Vec<String>,
    /// The features that vary on the stacked training set (the ML models' own inputs).
    pub used: Vec<String>,
    /// Churn models by name.
    pub churn: BTreeMap<String, ChurnModel>,
    /// Value models by name.
    pub value: BTreeMap<String, ValueModel>,
    /// BG/NBD + Gamma-Gamma fitted on the clients at the cutoff.
    pub base: ClvModel,
    /// Feature cutoffs of the training windows used, most recent first.
    pub train_cutoffs: Vec<Cutoff>,
    /// Training rows (clients x windows).
    pub population_train: usize,
    /// Churn rate of the stacked training set.
    pub churn_rate_train: f64,
}

/// The feature list of the candidates: `used`, then the customer-base inputs and the
/// baselines' columns it lacks.
fn candidate_features(used: &[String]) -> Vec<String> {
    let mut f = used.to_vec();
    for extra in CLV_FEATURES
        .iter()
        .chain(&["days_since_last", "net_revenue"])
    {
        if !f.iter().any(|u| u == extra) {
            f.push(extra.to_string());
        }
    }
    f
}

/// Fits, at evaluation cutoff `c` (day number), every candidate `want` asks for (by name),
/// on the training windows before `c`; `eval` is the feature frame of the clients at `c`
/// (labels not needed), on which the customer-base model is fitted.
pub(crate) fn fit_candidates(
    tx: &Transactions,
    history: &History,
    countries: &CountryTable,
    c: i32,
    eval: &DataFrame,
    params: &BacktestParams,
    want: &dyn Fn(&str) -> bool,
) -> Result<Candidates, TrainError> {
    let h_tr = params.protocol.train_horizon;
    let horizon = params.protocol.horizon;
    let cuts = window_cutoffs(tx, c, params);
    if cuts.is_empty() {
        return Err(TrainError::Window(format!(
            "no training window fits before {}: the features would be taken at {}, before the \
             data start; choose a later cutoff or fewer cutoffs",
            Cutoff::from_day(c),
            Cutoff::from_day(c).minus(h_tr)
        )));
    }
    let mut windows = Vec::with_capacity(cuts.len());
    for &w in &cuts {
        // A window whose customer-base fit fails (too little history to identify BG/NBD)
        // cannot give hybrid columns: it is left out, and `train_cutoffs` shows it.
        match build_window(history, w, h_tr, countries, params.hybrid) {
            Ok(win) if win.df.height() > 0 => windows.push(win),
            Ok(_) | Err(TrainError::Clv(_)) => {}
            Err(e) => return Err(e),
        }
    }
    if windows.is_empty() {
        return Err(TrainError::Window(format!(
            "no client has a purchase on or before the training cutoff {}",
            Cutoff::from_day(cuts[0])
        )));
    }
    let stacked = {
        let mut s = windows[0].df.clone();
        for w in &windows[1..] {
            s.vstack_mut(&w.df)?;
        }
        s
    };
    let used = non_constant(&stacked, &FEATURES)?;
    let features = candidate_features(&used);
    let own: Vec<usize> = (0..used.len()).collect();
    let base = fit_customer_base(eval, RfmKind::Bgnbd)?;
    let part = CustomerBasePart::new(base.clone(), &features)?;
    let scale = params.protocol.value_scale();
    let mut churn: BTreeMap<String, ChurnModel> = BTreeMap::new();
    let mut value: BTreeMap<String, ValueModel> = BTreeMap::new();
    let deploy = |c: AnyClassifier, hybrid: bool| -> ChurnModel {
        if hybrid {
            ChurnModel::Hybrid {
                classifier: c,
                columns: own.clone(),
                base: part.clone(),
                cb_horizon_days: h_tr.days(),
            }
        } else {
            ChurnModel::Classifier {
                classifier: c,
                columns: own.clone(),
            }
        }
    };
    let deploy_value = |r: AnyRegressor, hybrid: bool| -> ValueModel {
        if hybrid {
            ValueModel::Hybrid {
                regressor: r,
                columns: own.clone(),
                base: part.clone(),
                cb_horizon_days: h_tr.days(),
            }
        } else {
            ValueModel::Regressor {
                regressor: r,
                columns: own.clone(),
            }
        }
    };
    let p_no_purchase = ChurnModel::PNoPurchase {
        base: part.clone(),
        horizon_days: horizon.days(),
    };
    let feature_sets: &[(bool, &str)] = if params.hybrid {
        &[(false, ""), (true, kinds::HYBRID_SUFFIX)]
    } else {
        &[(false, "")]
    };
    for &(with_hybrid, suffix) in feature_sets {
        let named = |k: &str| format!("{k}{suffix}");
        let want_ensemble = want(&named(kinds::RANK_ENSEMBLE));
        let want_two = want(&named(kinds::TWO_PART)) || want(&named(kinds::RANK_ENSEMBLE_VALUE));
        let want_gbr = want(&named(kinds::GRADIENT_BOOSTING_REGRESSOR));
        let need = |k: &str| {
            want(&named(k))
                || (k == kinds::LOGISTIC && want_ensemble)
                || (k == kinds::GRADIENT_BOOSTING && want_two)
        };
        let tag = params.calibration.map(calibration_suffix);
        let need_cal = |k: &str| tag.is_some_and(|t| want(&format!("{k}{suffix}{t}")));
        let any = CLASSIFIERS.iter().any(|k| need(k) || need_cal(k)) || want_ensemble || want_gbr;
        if !any {
            continue;
        }
        let train = design(&windows, &used, with_hybrid, scale)?;
        let models = fit_classifiers(&train, params, None, &need)?;
        if let (Some(method), Some(tag)) = (params.calibration, tag) {
            for (name, m) in fit_calibrated(&train, params, method, &need_cal)? {
                churn.insert(format!("{name}{suffix}{tag}"), deploy(m, with_hybrid));
            }
        }
        // The rank ensemble: the mean of the normalised ranks of the logistic regression, a
        // small, slow-learning boosted model and BG/NBD P(no purchase in H): the three see
        // the clients differently (linear in the features, interactions, the purchase
        // process), and rank averaging needs no weights, so nothing is tuned.
        if want_ensemble {
            let small = ensemble_boosting(params).fit(train.x.view(), &train.churned, None)?;
            let logistic = models
                .iter()
                .find(|(n, _)| *n == kinds::LOGISTIC)
                .map(|(_, m)| m.clone())
                .ok_or_else(|| TrainError::Window("no logistic regression".into()))?;
            churn.insert(
                named(kinds::RANK_ENSEMBLE),
                ChurnModel::RankEnsemble {
                    parts: vec![
                        deploy(logistic, with_hybrid),
                        deploy(small.into(), with_hybrid),
                        p_no_purchase.clone(),
                    ],
                },
            );
        }
        if want_gbr {
            let gbr = GradientBoostingRegressorParams::new()
                .n_trees(params.boosting_trees)
                .fit(train.x.view(), &train.value, None)?;
            value.insert(
                named(kinds::GRADIENT_BOOSTING_REGRESSOR),
                deploy_value(gbr.into(), with_hybrid),
            );
        }
        if want_two {
            let gbc = models
                .iter()
                .find(|(n, _)| *n == kinds::GRADIENT_BOOSTING)
                .map(|(_, m)| m.clone())
                .ok_or_else(|| TrainError::Window("no gradient boosting model".into()))?;
            let two = TwoPartParams::new()
                .spend(
                    GradientBoostingRegressorParams::new()
                        .n_trees(params.boosting_trees)
                        .target(retain_models::ValueTarget::Log1p),
                )
                .fit(train.x.view(), &train.churned, &train.value, gbc)?;
            let two = deploy_value(two.into(), with_hybrid);
            value.insert(
                named(kinds::RANK_ENSEMBLE_VALUE),
                ValueModel::RankEnsemble {
                    parts: vec![two.clone(), ValueModel::Clv { base: part.clone() }],
                },
            );
            value.insert(named(kinds::TWO_PART), two);
        }
        for (name, m) in models {
            if want(&named(name)) {
                churn.insert(named(name), deploy(m, with_hybrid));
            }
        }
    }
    let schema = FeatureSchema::new(features.iter().cloned());
    churn.insert(
        kinds::BASELINE_DAYS_SINCE_LAST.into(),
        ChurnModel::Recency {
            baseline: RecencyBaseline::new(&schema)?,
        },
    );
    churn.insert(kinds::BGNBD_P_NO_PURCHASE.into(), p_no_purchase);
    value.insert(kinds::BGNBD_GG_CLV.into(), ValueModel::Clv { base: part });
    value.insert(
        kinds::BASELINE_REVENUE_RATE.into(),
        ValueModel::Regressor {
            regressor: RevenueRateBaseline::new(&schema, horizon.days())?.into(),
            columns: (0..features.len()).collect(),
        },
    );
    let stacked_churned = bools(&stacked, "churned")?;
    Ok(Candidates {
        features,
        used,
        churn,
        value,
        base,
        train_cutoffs: windows.iter().map(|w| w.cutoff).collect(),
        population_train: stacked.height(),
        churn_rate_train: churn_rate(&stacked_churned),
    })
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

/// Windows for an evaluation at `c` (day number): feature cutoffs `c - H_tr - j * spacing`,
/// those on or after the first data day.
fn window_cutoffs(tx: &Transactions, c: i32, params: &BacktestParams) -> Vec<i32> {
    let first = tx
        .stats()
        .first_day
        .map(|d| Cutoff::new(d).day())
        .unwrap_or(i32::MIN);
    let h_tr = params.protocol.train_horizon.days() as i32;
    (0..params.train_windows as i32)
        .map(|j| c - h_tr - j * params.train_spacing as i32)
        .filter(|&d| d >= first)
        .collect()
}

fn run_cutoff(
    tx: &Transactions,
    history: &History,
    countries: &CountryTable,
    c: i32,
    horizon: Horizon,
    params: &BacktestParams,
    full: bool,
) -> Result<CutoffRun, TrainError> {
    let eval = history
        .labelled_set(c, horizon.days() as i32, countries)
        .collect()?;
    let mut p = params.clone();
    p.protocol.horizon = horizon;
    let cands = fit_candidates(tx, history, countries, c, &eval, &p, &|_| true)?;
    let m = FeatureMatrix::from_frame(&eval, &cands.features)?;
    let y = bools(&eval, "churned")?;
    let value = column_f64(&eval, "holdout_value")?;
    let ids: Vec<i64> = m.clients.clone();
    let clv = customer_base_values(&cands.base, &eval, horizon)?.clv;
    let mut churn_scores: BTreeMap<String, (Vec<f64>, bool)> = BTreeMap::new();
    for (name, model) in &cands.churn {
        let pred = model.predict(m.x.view())?;
        churn_scores.insert(name.clone(), (pred.score, pred.score_is_probability));
    }
    let mut value_preds: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for (name, model) in &cands.value {
        let pred = model.predict(m.x.view(), horizon, &Valuation::default())?;
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
            cutoff: Cutoff::from_day(c),
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

/// The inner validation at evaluation cutoff `c` (module docs); `None` if the data are too
/// short.
pub(crate) fn select(
    tx: &Transactions,
    history: &History,
    countries: &CountryTable,
    c: i32,
    params: &BacktestParams,
) -> Result<Option<Selection>, TrainError> {
    let h_tr = params.protocol.train_horizon;
    let v = c - h_tr.days() as i32;
    if window_cutoffs(tx, v, params).is_empty() {
        return Ok(None);
    }
    let run = match run_cutoff(tx, history, countries, v, h_tr, params, false) {
        Ok(r) => r,
        Err(TrainError::Window(_)) => return Ok(None),
        Err(e) => return Err(e),
    };
    let churn_validation: BTreeMap<String, f64> = run
        .result
        .churn
        .iter()
        .filter_map(|(k, r)| params.select_metric.of(r).map(|m| (k.clone(), m)))
        .collect();
    let value_validation: BTreeMap<String, f64> = run
        .result
        .value
        .iter()
        .map(|(k, m)| (k.clone(), m.spearman))
        .collect();
    let (Some(churn_model), Some(value_model)) = (
        best(&churn_validation, params.select_metric.higher_is_better()),
        best(&value_validation, true),
    ) else {
        return Ok(None);
    };
    Ok(Some(Selection {
        validation_cutoff: Cutoff::from_day(v),
        metric: params.select_metric,
        churn_model,
        value_model,
        churn_validation,
        value_validation,
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

/// Runs the backtest (module docs): `params.cutoffs` evaluation cutoffs ending at
/// `params.protocol.cutoff`, `params.cutoff_spacing` days apart.
pub fn backtest(tx: &Transactions, params: &BacktestParams) -> Result<Backtest, TrainError> {
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
    let last = params.protocol.cutoff.day();
    let horizon = params.protocol.horizon;
    let data_end = tx
        .stats()
        .last_day
        .map(|d| Cutoff::new(d).day())
        .unwrap_or(i32::MIN);
    if data_end < last + horizon.days() as i32 {
        return Err(TrainError::Window(format!(
            "the data end before {} (cutoff {} + {} days): there is no complete holdout to \
             evaluate on; choose an earlier --cutoff",
            params.protocol.cutoff.plus(horizon),
            params.protocol.cutoff,
            horizon
        )));
    }
    // The line table is read once; every window's features come from its condensed tables.
    let history = History::of(tx)?;
    let mut runs = Vec::with_capacity(params.cutoffs);
    let mut last_run = None;
    for k in (0..params.cutoffs).rev() {
        let c = last - (k as u32 * params.cutoff_spacing) as i32;
        let countries = history.country_table(c)?;
        let is_last = k == 0;
        let mut run = run_cutoff(tx, &history, &countries, c, horizon, params, true)?;
        if params.validate {
            run.result.selection = select(tx, &history, &countries, c, params)?;
        }
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
