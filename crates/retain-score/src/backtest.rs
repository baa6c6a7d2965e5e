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

use chrono::NaiveDate;
use ndarray::{Array2, Axis, concatenate};
use polars::prelude::*;
use retain_core::{day_number, from_day_number};
use retain_data::Transactions;
use retain_eval::{
    BootstrapParams, CalibrationBins, CalibrationRow, ChurnMetrics, ChurnMetricsSummary, Empc,
    EmpcParams, GainsRow, IndividualProfit, Interval, MeanStd, ValueMetrics, ValueMetricsSummary,
    average_precision, average_ranks, bootstrap, brier, calibration_table, churn_metrics, empc,
    empc_individual, gains_table, gini, resample, roc_auc, spearman, summarize_churn,
    summarize_value, top_decile_lift, value_metrics,
};
use retain_features::{CountryTable, FEATURES, History, non_constant};
use retain_models::{
    AnyClassifier, Calibrated, CalibrationMethod, ChurnClassifier, DecisionTreeParams,
    GradientBoostingParams, GradientBoostingRegressorParams, LogisticParams, RandomForestParams,
    RecencyBaseline, RevenueRateBaseline, TwoPartParams, ValueRegressor, holdout_split,
};
use serde::Serialize;

use crate::customer_base::CustomerBase;
use crate::pipeline::{Evaluation, PipelineError, Protocol, ProtocolSets, churn_rate, column_f64};

/// Names of the hybrid columns appended with [`BacktestParams::hybrid`].
pub const HYBRID_FEATURES: [&str; 3] = [
    "bgnbd_p_no_purchase",
    "bgnbd_expected_purchases",
    "bgnbd_gg_clv",
];

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
            cutoff_spacing: protocol.horizon,
            train_windows: 1,
            train_spacing: protocol.train_horizon,
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
    pub cutoff: NaiveDate,
    /// Feature cutoffs of the training windows used, most recent first.
    pub train_cutoffs: Vec<NaiveDate>,
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
    pub validation_cutoff: NaiveDate,
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
}

/// A labelled window with optional customer-base columns.
struct Window {
    cutoff: NaiveDate,
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

fn hybrid_columns(
    df: &DataFrame,
    base: &CustomerBase,
    horizon: u32,
) -> Result<Array2<f64>, PipelineError> {
    let s = base.score(df, horizon)?;
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
    horizon: u32,
    countries: &CountryTable,
    hybrid: bool,
    train_horizon: u32,
) -> Result<Window, PipelineError> {
    let df = history
        .labelled_set(cutoff, horizon as i32, countries)
        .collect()?;
    let hybrid = if hybrid && df.height() > 0 {
        let base = CustomerBase::fit(&df)?;
        Some(hybrid_columns(&df, &base, train_horizon)?)
    } else {
        None
    };
    Ok(Window {
        cutoff: from_day_number(cutoff),
        df,
        hybrid,
    })
}

fn bools(df: &DataFrame, name: &str) -> Result<Vec<bool>, PipelineError> {
    Ok(column_f64(df, name)?.iter().map(|&v| v == 1.0).collect())
}

fn design(
    windows: &[Window],
    used: &[String],
    with_hybrid: bool,
    value_scale: f64,
) -> Result<Design, PipelineError> {
    let mut xs = Vec::new();
    let (mut churned, mut value, mut ids, mut spans) = (vec![], vec![], vec![], vec![]);
    let mut start = 0;
    for w in windows {
        let m = ProtocolSets::matrix(&w.df, used)?;
        let x = match (&w.hybrid, with_hybrid) {
            (Some(h), true) => concatenate(Axis(1), &[m.x.view(), h.view()])
                .map_err(|e| PipelineError::Window(format!("stacking hybrid columns: {e}")))?,
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
        .map_err(|e| PipelineError::Window(format!("stacking windows: {e}")))?;
    Ok(Design {
        x,
        churned,
        value,
        ids,
        spans,
    })
}

/// The ML churn models of one feature set, fitted on `d`.
fn fit_classifiers(
    d: &Design,
    params: &BacktestParams,
    rows: Option<&[usize]>,
) -> Result<Vec<(&'static str, AnyClassifier)>, PipelineError> {
    let (x, y) = match rows {
        Some(r) => (
            d.x.select(Axis(0), r),
            r.iter().map(|&i| d.churned[i]).collect::<Vec<_>>(),
        ),
        None => (d.x.clone(), d.churned.clone()),
    };
    let x = x.view();
    Ok(vec![
        (
            "logistic_regression",
            LogisticParams::new().fit(x, &y, None)?.into(),
        ),
        (
            "decision_tree",
            DecisionTreeParams::new().fit(x, &y, None)?.into(),
        ),
        (
            "random_forest",
            RandomForestParams::new()
                .n_trees(params.forest_trees)
                .threads(2)
                .fit(x, &y, None)?
                .into(),
        ),
        (
            "gradient_boosting",
            GradientBoostingParams::new()
                .n_trees(params.boosting_trees)
                .fit(x, &y, None)?
                .into(),
        ),
    ])
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

/// The mean over `scores` of each client's normalised average rank, `(rank - 1) / (n - 1)`
/// in `[0, 1]`, higher score = higher rank.
fn rank_mean(scores: &[&[f64]]) -> Vec<f64> {
    let n = scores.first().map_or(0, |s| s.len());
    let mut out = vec![0.0; n];
    let den = (n.max(2) - 1) as f64 * scores.len() as f64;
    for s in scores {
        for (o, r) in out.iter_mut().zip(average_ranks(s)) {
            *o += (r - 1.0) / den;
        }
    }
    out
}

/// Calibrated variants: refit on the clients outside a seeded 20% of the most recent window,
/// calibrate on that 20% (module docs).
fn fit_calibrated(
    d: &Design,
    params: &BacktestParams,
    method: CalibrationMethod,
) -> Result<Vec<(&'static str, AnyClassifier)>, PipelineError> {
    let recent = d.spans[0].clone();
    let (_, held_local) = holdout_split(recent.len(), 0.2, params.seed)?;
    let held_rows: Vec<usize> = held_local.iter().map(|&i| recent.start + i).collect();
    let held_ids: std::collections::BTreeSet<i64> = held_rows.iter().map(|&i| d.ids[i]).collect();
    let fit_rows: Vec<usize> = (0..d.ids.len())
        .filter(|&i| !held_ids.contains(&d.ids[i]))
        .collect();
    let x_cal = d.x.select(Axis(0), &held_rows);
    let y_cal: Vec<bool> = held_rows.iter().map(|&i| d.churned[i]).collect();
    fit_classifiers(d, params, Some(&fit_rows))?
        .into_iter()
        .map(|(name, m)| {
            Ok((
                name,
                Calibrated::fit(m, method, x_cal.view(), &y_cal)?.into(),
            ))
        })
        .collect()
}

/// One evaluation (or validation) cutoff: windows, fits, scores, metrics.
struct CutoffRun {
    result: CutoffResult,
    /// Scores by churn model (for the bootstrap).
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
) -> Result<ChurnResult, PipelineError> {
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
    let first = tx.stats().first_day.map(day_number).unwrap_or(i32::MIN);
    let h_tr = params.protocol.train_horizon as i32;
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
    horizon: u32,
    params: &BacktestParams,
    full: bool,
) -> Result<CutoffRun, PipelineError> {
    let h_tr = params.protocol.train_horizon;
    let cuts = window_cutoffs(tx, c, params);
    if cuts.is_empty() {
        return Err(PipelineError::Window(format!(
            "no training window fits before {}: the features would be taken at {}, before the \
             data start; choose a later cutoff or fewer cutoffs",
            from_day_number(c),
            from_day_number(c - h_tr as i32)
        )));
    }
    let mut windows = Vec::with_capacity(cuts.len());
    for &w in &cuts {
        // A window whose customer-base fit fails (too little history to identify BG/NBD)
        // cannot give hybrid columns: it is left out, and `train_cutoffs` shows it.
        match build_window(history, w, h_tr, countries, params.hybrid, h_tr) {
            Ok(win) if win.df.height() > 0 => windows.push(win),
            Ok(_) | Err(PipelineError::Clv(_)) => {}
            Err(e) => return Err(e),
        }
    }
    if windows.is_empty() {
        return Err(PipelineError::Window(format!(
            "no client has a purchase on or before the training cutoff {}",
            from_day_number(cuts[0])
        )));
    }
    let eval = history
        .labelled_set(c, horizon as i32, countries)
        .collect()?;
    let stacked = {
        let mut s = windows[0].df.clone();
        for w in &windows[1..] {
            s.vstack_mut(&w.df)?;
        }
        s
    };
    let used = non_constant(&stacked, &FEATURES)?;
    let base = CustomerBase::fit(&eval)?;
    let cb = base.score(&eval, horizon)?;
    let eval_window = Window {
        cutoff: from_day_number(c),
        hybrid: if params.hybrid {
            Some(hybrid_columns(&eval, &base, h_tr)?)
        } else {
            None
        },
        df: eval,
    };
    let scale = horizon as f64 / h_tr as f64;
    let y = bools(&eval_window.df, "churned")?;
    let value = column_f64(&eval_window.df, "holdout_value")?;
    let ids: Vec<i64> = column_f64(&eval_window.df, "client_id")?
        .iter()
        .map(|&v| v as i64)
        .collect();
    let clv = cb.clv.clone();
    let mut churn_scores: BTreeMap<String, (Vec<f64>, bool)> = BTreeMap::new();
    let mut value_preds: BTreeMap<String, Vec<f64>> = BTreeMap::new();

    let feature_sets: &[(bool, &str)] = if params.hybrid {
        &[(false, ""), (true, "+cb")]
    } else {
        &[(false, "")]
    };
    for &(with_hybrid, suffix) in feature_sets {
        let train = design(&windows, &used, with_hybrid, scale)?;
        let test = design(std::slice::from_ref(&eval_window), &used, with_hybrid, 1.0)?;
        let models = fit_classifiers(&train, params, None)?;
        for (name, m) in &models {
            let p = m.predict_proba(test.x.view())?.to_vec();
            churn_scores.insert(format!("{name}{suffix}"), (p, true));
        }
        if let Some(method) = params.calibration {
            let tag = match method {
                CalibrationMethod::Platt => "+platt",
                CalibrationMethod::Isotonic => "+isotonic",
            };
            for (name, m) in fit_calibrated(&train, params, method)? {
                let p = m.predict_proba(test.x.view())?.to_vec();
                churn_scores.insert(format!("{name}{suffix}{tag}"), (p, true));
            }
        }
        // The rank ensemble: the mean of the normalised ranks of the logistic regression, a
        // small, slow-learning boosted model and BG/NBD P(no purchase in H): the three see
        // the clients differently (linear in the features, interactions, the purchase
        // process), and rank averaging needs no weights, so nothing is tuned.
        let small = ensemble_boosting(params).fit(train.x.view(), &train.churned, None)?;
        let logistic = &churn_scores[&format!("logistic_regression{suffix}")].0;
        churn_scores.insert(
            format!("rank_ensemble{suffix}"),
            (
                rank_mean(&[
                    logistic,
                    &small.predict_proba(test.x.view())?.to_vec(),
                    &cb.p_no_purchase,
                ]),
                false,
            ),
        );
        let gbr = GradientBoostingRegressorParams::new()
            .n_trees(params.boosting_trees)
            .fit(train.x.view(), &train.value, None)?;
        value_preds.insert(
            format!("gradient_boosting_regressor{suffix}"),
            gbr.predict(test.x.view())?.to_vec(),
        );
        let gbc = models
            .iter()
            .find(|(n, _)| *n == "gradient_boosting")
            .map(|(_, m)| m.clone())
            .ok_or_else(|| PipelineError::Window("no gradient boosting model".into()))?;
        let two = TwoPartParams::new()
            .spend(
                GradientBoostingRegressorParams::new()
                    .n_trees(params.boosting_trees)
                    .target(retain_models::ValueTarget::Log1p),
            )
            .fit(train.x.view(), &train.churned, &train.value, gbc)?;
        let two_part = two.predict(test.x.view())?.to_vec();
        value_preds.insert(
            format!("rank_ensemble_value{suffix}"),
            rank_mean(&[&two_part, &cb.clv]),
        );
        value_preds.insert(format!("two_part{suffix}"), two_part);
    }
    let all: Vec<String> = FEATURES.iter().map(|s| s.to_string()).collect();
    let full_m = ProtocolSets::matrix(&eval_window.df, &all)?;
    churn_scores.insert(
        "baseline_days_since_last".into(),
        (
            RecencyBaseline::new(&full_m.schema)?
                .score(full_m.x.view())?
                .to_vec(),
            false,
        ),
    );
    churn_scores.insert(
        "bgnbd_p_no_purchase".into(),
        (cb.p_no_purchase.clone(), true),
    );
    value_preds.insert("bgnbd_gg_clv".into(), cb.clv.clone());
    value_preds.insert(
        "baseline_revenue_rate".into(),
        RevenueRateBaseline::new(&full_m.schema, horizon)?
            .predict(full_m.x.view())?
            .to_vec(),
    );

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
    let stacked_churned = bools(&stacked, "churned")?;
    let customer_base = base.parameters();
    Ok(CutoffRun {
        result: CutoffResult {
            cutoff: eval_window.cutoff,
            train_cutoffs: windows.iter().map(|w| w.cutoff).collect(),
            population_eval: y.len(),
            population_train: stacked.height(),
            churn_rate_eval: churn_rate(&y),
            churn_rate_train: churn_rate(&stacked_churned),
            features_used: used,
            churn,
            value: values,
            customer_base,
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
fn select(
    tx: &Transactions,
    history: &History,
    countries: &CountryTable,
    c: i32,
    params: &BacktestParams,
) -> Result<Option<Selection>, PipelineError> {
    let h_tr = params.protocol.train_horizon;
    let v = c - h_tr as i32;
    if window_cutoffs(tx, v, params).is_empty() {
        return Ok(None);
    }
    let run = match run_cutoff(tx, history, countries, v, h_tr, params, false) {
        Ok(r) => r,
        Err(PipelineError::Window(_)) => return Ok(None),
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
        validation_cutoff: from_day_number(v),
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
) -> Result<[BTreeMap<String, Intervals>; 2], PipelineError> {
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
pub fn backtest(tx: &Transactions, params: &BacktestParams) -> Result<Backtest, PipelineError> {
    if params.cutoffs == 0 || params.train_windows == 0 {
        return Err(PipelineError::Window(
            "--cutoffs and --train-windows must be at least 1".into(),
        ));
    }
    if params.train_spacing == 0 || params.cutoff_spacing == 0 {
        return Err(PipelineError::Window(
            "--train-spacing and --cutoff-spacing must be at least 1 day".into(),
        ));
    }
    let last = day_number(params.protocol.cutoff);
    let horizon = params.protocol.horizon;
    let data_end = tx.stats().last_day.map(day_number).unwrap_or(i32::MIN);
    if data_end < last + horizon as i32 {
        return Err(PipelineError::Window(format!(
            "the data end before {} (cutoff {} + {} days): there is no complete holdout to \
             evaluate on; choose an earlier --cutoff",
            from_day_number(last + horizon as i32),
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
    Ok(Backtest {
        settings: params.clone(),
        cutoffs: runs,
        churn_summary,
        value_summary,
        selected_churn_summary,
        churn_intervals,
        value_intervals,
    })
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

#[cfg(test)]
mod tests {
    use super::rank_mean;

    #[test]
    fn rank_mean_averages_normalised_ranks_with_ties_shared() {
        let a = [0.1, 0.9, 0.5, 0.5];
        let b = [3.0, 1.0, 2.0, 4.0];
        // ranks a: 1, 4, 2.5, 2.5; b: 3, 1, 2, 4 -> (r - 1) / 3, averaged
        let m = rank_mean(&[&a, &b]);
        let want = [
            (0.0 + 2.0) / 6.0,
            (3.0 + 0.0) / 6.0,
            (1.5 + 1.0) / 6.0,
            (1.5 + 3.0) / 6.0,
        ];
        for (x, y) in m.iter().zip(want) {
            assert!((x - y).abs() < 1e-15, "{m:?}");
        }
        // one score: its own order, spread over [0, 1]
        assert_eq!(rank_mean(&[&b]), vec![2.0 / 3.0, 0.0, 1.0 / 3.0, 1.0]);
    }
}
