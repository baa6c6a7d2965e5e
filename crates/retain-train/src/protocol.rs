//! The windows of a run (BENCHMARK.md section 2) and the labelled feature sets at the
//! evaluation and out-of-time training cutoffs.

use std::collections::BTreeMap;

use polars::prelude::*;
use retain_core::{Cutoff, Horizon};
use retain_data::Transactions;
use retain_eval::{ChurnMetrics, ValueMetrics};
use retain_features::{FEATURES, FeatureMatrix, History, non_constant};
use serde::Serialize;

use crate::TrainError;

/// The windows of a run.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Protocol {
    /// Last calibration day of the evaluation set (inclusive).
    pub cutoff: Cutoff,
    /// Evaluation horizon: labels come from `(cutoff, cutoff + horizon]`.
    pub horizon: Horizon,
    /// Label window of the out-of-time training set: features at `cutoff - train_horizon`,
    /// labels from `(cutoff - train_horizon, cutoff]`.
    pub train_horizon: Horizon,
}

impl Protocol {
    /// The training set's feature cutoff: the one place it is derived.
    pub fn train_cutoff(&self) -> Cutoff {
        self.cutoff.minus(self.train_horizon)
    }

    /// `horizon / train_horizon`: the factor the value regressors' targets are scaled by, so
    /// a model trained on `train_horizon` days predicts `horizon` days.
    pub fn value_scale(&self) -> f64 {
        self.horizon.days() as f64 / self.train_horizon.days() as f64
    }
}

/// Labelled feature sets at the training and evaluation cutoffs.
#[derive(Debug, Clone)]
pub struct ProtocolSets {
    /// The windows.
    pub protocol: Protocol,
    /// `client_id`, 29 features, labels at the evaluation cutoff.
    pub eval: DataFrame,
    /// The same at the training cutoff.
    pub train: DataFrame,
    /// Features that vary on the training set (the ones the models use), in protocol order.
    pub used: Vec<String>,
    /// Whether the data cover the whole evaluation horizon (else eval labels are partial).
    pub eval_labels_complete: bool,
}

impl ProtocolSets {
    /// Builds both sets. The country table is taken at the evaluation cutoff for both, as the
    /// protocol does. Fails if the training window starts before the data.
    pub fn build(tx: &Transactions, protocol: Protocol) -> Result<Self, TrainError> {
        let c = protocol.cutoff;
        let c_tr = protocol.train_cutoff();
        let (first, last) = (tx.stats().first_day, tx.stats().last_day);
        if let Some(first) = first
            && c_tr.date() < first
        {
            return Err(TrainError::Window(format!(
                "the training features would be taken at {c_tr} (cutoff {c} minus the {}-day \
                 training horizon), before the data start on {first}: choose a later cutoff",
                protocol.train_horizon
            )));
        }
        // The line table is read once, into the tables both sets are computed from.
        let history = History::of(tx)?;
        let countries = history.country_table(c)?;
        let eval = history.labelled_set(c, protocol.horizon, &countries);
        let train = history.labelled_set(c_tr, protocol.train_horizon, &countries);
        let eval = eval.collect()?;
        let train = train.collect()?;
        if train.height() == 0 {
            return Err(TrainError::Window(format!(
                "no client has a purchase on or before the training cutoff {c_tr}"
            )));
        }
        let used = non_constant(&train, &FEATURES)?;
        let eval_labels_complete = last
            .map(|l| l >= c.plus(protocol.horizon).date())
            .unwrap_or(false);
        Ok(Self {
            protocol,
            eval,
            train,
            used,
            eval_labels_complete,
        })
    }

    /// The used-feature matrix of a set.
    pub fn matrix(df: &DataFrame, features: &[String]) -> Result<FeatureMatrix, TrainError> {
        Ok(FeatureMatrix::from_frame(df, features)?)
    }
}

pub(crate) fn column_f64(df: &DataFrame, name: &str) -> Result<Vec<f64>, TrainError> {
    Ok(df
        .column(name)?
        .cast(&DataType::Float64)?
        .f64()?
        .iter()
        .map(|v| v.unwrap_or(f64::NAN))
        .collect())
}

/// Share of `true` in `churned` (0 for no clients).
pub(crate) fn churn_rate(churned: &[bool]) -> f64 {
    churned.iter().filter(|&&b| b).count() as f64 / churned.len().max(1) as f64
}

/// Everything a protocol run measured: the last cutoff of a backtest, in the shape
/// `retain evaluate` has always written.
#[derive(Debug, Clone, Serialize)]
pub struct Evaluation {
    /// The windows.
    pub protocol: Protocol,
    /// Training cutoff.
    pub train_cutoff: Cutoff,
    /// Clients evaluated.
    pub population_eval: usize,
    /// Clients trained on.
    pub population_train: usize,
    /// Churn rate of the evaluation population.
    pub churn_rate_eval: f64,
    /// Churn rate of the training population.
    pub churn_rate_train: f64,
    /// Features the models use.
    pub features_used: Vec<String>,
    /// Churn metrics by model.
    pub churn: BTreeMap<String, ChurnMetrics>,
    /// Holdout-value metrics by model.
    pub value: BTreeMap<String, ValueMetrics>,
    /// Fitted BG/NBD parameters (weeks) and Gamma-Gamma parameters.
    pub customer_base: BTreeMap<String, f64>,
}
