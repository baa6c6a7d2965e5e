//! The protocol run: features and labels at the evaluation cutoff and at the out-of-time
//! training cutoff, the churn and value models trained on the earlier window, and their
//! metrics on the later one against the baselines (BENCHMARK.md sections 2-6).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use polars::prelude::*;
use retain_core::{
    ARTIFACT_FORMAT, Artifact, DataSource, FeatureSchema, ModelCard, RETAIN_VERSION, day_number,
    from_day_number,
};

pub use crate::customer_base::{CustomerBase, CustomerBaseScores};
use retain_data::Transactions;
use retain_eval::{ChurnMetrics, ValueMetrics, churn_metrics, value_metrics};
use retain_features::{FEATURES, FeatureMatrix, History, non_constant};
use retain_models::{
    AnyClassifier, ChurnClassifier, LogisticParams, RecencyBaseline, RevenueRateBaseline,
};
use serde::Serialize;

/// Errors of a protocol run.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// The data do not cover the windows asked for.
    #[error("{0}")]
    Window(String),
    /// A query failed.
    #[error("computing features: {0}")]
    Polars(#[from] PolarsError),
    /// Building the feature matrix failed.
    #[error(transparent)]
    Features(#[from] retain_features::FeatureError),
    /// A churn model failed.
    #[error(transparent)]
    Model(#[from] retain_models::ModelError),
    /// A customer-base model failed.
    #[error("customer-base model: {0}")]
    Clv(#[from] retain_clv::ClvError),
    /// A metric could not be computed.
    #[error("metrics: {0}")]
    Eval(#[from] retain_eval::EvalError),
}

/// The windows of a run.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Protocol {
    /// Last calibration day of the evaluation set (inclusive).
    pub cutoff: NaiveDate,
    /// Evaluation horizon in days: labels come from `(cutoff, cutoff + horizon]`.
    pub horizon: u32,
    /// Label window of the out-of-time training set: features at `cutoff - train_horizon`,
    /// labels from `(cutoff - train_horizon, cutoff]`.
    pub train_horizon: u32,
}

impl Protocol {
    /// The training set's feature cutoff.
    pub fn train_cutoff(&self) -> NaiveDate {
        from_day_number(day_number(self.cutoff) - self.train_horizon as i32)
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
    pub fn build(tx: &Transactions, protocol: Protocol) -> Result<Self, PipelineError> {
        let c = day_number(protocol.cutoff);
        let c_tr = c - protocol.train_horizon as i32;
        let (first, last) = (tx.stats().first_day, tx.stats().last_day);
        if let Some(first) = first
            && from_day_number(c_tr) < first
        {
            return Err(PipelineError::Window(format!(
                "the training features would be taken at {} (cutoff {} minus the {}-day training \
                 horizon), before the data start on {first}: choose a later cutoff",
                from_day_number(c_tr),
                protocol.cutoff,
                protocol.train_horizon
            )));
        }
        // The line table is read once, into the tables both sets are computed from.
        let history = History::of(tx)?;
        let countries = history.country_table(c)?;
        let eval = history.labelled_set(c, protocol.horizon as i32, &countries);
        let train = history.labelled_set(c_tr, protocol.train_horizon as i32, &countries);
        let eval = eval.collect()?;
        let train = train.collect()?;
        if train.height() == 0 {
            return Err(PipelineError::Window(format!(
                "no client has a purchase on or before the training cutoff {}",
                from_day_number(c_tr)
            )));
        }
        let used = non_constant(&train, &FEATURES)?;
        let eval_labels_complete = last
            .map(|l| day_number(l) >= c + protocol.horizon as i32)
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
    pub fn matrix(df: &DataFrame, features: &[String]) -> Result<FeatureMatrix, PipelineError> {
        Ok(FeatureMatrix::from_frame(df, features)?)
    }
}

pub(crate) fn column_f64(df: &DataFrame, name: &str) -> Result<Vec<f64>, PipelineError> {
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

fn churned(df: &DataFrame) -> Result<Vec<bool>, PipelineError> {
    Ok(column_f64(df, "churned")?
        .iter()
        .map(|&v| v == 1.0)
        .collect())
}

/// Fits the logistic regression on the training set's used features and returns it as an
/// artifact whose card records the windows, schema and data source (metrics empty).
pub fn train_logistic(
    sets: &ProtocolSets,
    source: &DataSource,
) -> Result<Artifact<AnyClassifier>, PipelineError> {
    let m = ProtocolSets::matrix(&sets.train, &sets.used)?;
    let y = churned(&sets.train)?;
    let params = LogisticParams::new();
    let model = params.fit(m.x.view(), &y, None)?;
    let hyper = params.check_ref()?.to_record();
    let card = ModelCard {
        format: ARTIFACT_FORMAT,
        kind: model.kind().to_string(),
        retain_version: RETAIN_VERSION.to_string(),
        training_cutoff: sets.protocol.train_cutoff(),
        horizon_days: sets.protocol.train_horizon,
        time_unit: None,
        features: FeatureSchema::new(sets.used.iter().cloned()),
        data_source: DataSource {
            clients: sets.train.height() as u64,
            ..source.clone()
        },
        hyperparameters: hyper,
        metrics: BTreeMap::new(),
    };
    Ok(Artifact {
        card,
        model: model.into(),
    })
}

/// Everything a protocol run measured.
#[derive(Debug, Clone, Serialize)]
pub struct Evaluation {
    /// The windows.
    pub protocol: Protocol,
    /// Training cutoff.
    pub train_cutoff: NaiveDate,
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

/// Runs the protocol: trains the logistic regression out of time, fits the customer-base
/// models on the evaluation calibration window, and measures every model and baseline on the
/// evaluation holdout. Returns the evaluation and the trained logistic artifact (its card
/// carrying the logistic regression's metrics).
pub fn evaluate(
    sets: &ProtocolSets,
    source: &DataSource,
) -> Result<(Evaluation, Artifact<AnyClassifier>), PipelineError> {
    if !sets.eval_labels_complete {
        return Err(PipelineError::Window(format!(
            "the data end before {} (cutoff {} + {} days): there is no complete holdout to \
             evaluate on; choose an earlier --cutoff",
            from_day_number(day_number(sets.protocol.cutoff) + sets.protocol.horizon as i32),
            sets.protocol.cutoff,
            sets.protocol.horizon
        )));
    }
    let mut artifact = train_logistic(sets, source)?;
    let eval = &sets.eval;
    let ids: Vec<i64> = column_f64(eval, "client_id")?
        .iter()
        .map(|&v| v as i64)
        .collect();
    let y = churned(eval)?;
    let value = column_f64(eval, "holdout_value")?;
    let m = ProtocolSets::matrix(eval, &sets.used)?;
    let all: Vec<String> = FEATURES.iter().map(|s| s.to_string()).collect();
    let full = ProtocolSets::matrix(eval, &all)?;

    let mut churn = BTreeMap::new();
    let p_lr = artifact.model.predict_proba(m.x.view())?;
    churn.insert(
        "logistic_regression".to_string(),
        churn_metrics(&y, p_lr.as_slice().unwrap_or(&p_lr.to_vec()), &ids, true)?,
    );
    let recency = RecencyBaseline::new(&full.schema)?.score(full.x.view())?;
    churn.insert(
        "baseline_days_since_last".to_string(),
        churn_metrics(&y, &recency.to_vec(), &ids, false)?,
    );

    let base = CustomerBase::fit(eval)?;
    let cb = base.score(eval, sets.protocol.horizon)?;
    churn.insert(
        "bgnbd_p_no_purchase".to_string(),
        churn_metrics(&y, &cb.p_no_purchase, &ids, true)?,
    );
    let mut values = BTreeMap::new();
    values.insert(
        "bgnbd_gg_clv".to_string(),
        value_metrics(&value, &cb.clv, &ids)?,
    );
    let rate =
        RevenueRateBaseline::new(&full.schema, sets.protocol.horizon)?.predict(full.x.view())?;
    values.insert(
        "baseline_revenue_rate".to_string(),
        value_metrics(&value, &rate.to_vec(), &ids)?,
    );

    let lr = &churn["logistic_regression"];
    artifact.card.metrics = BTreeMap::from([
        ("roc_auc".to_string(), lr.roc_auc),
        ("pr_auc".to_string(), lr.pr_auc),
        ("top_decile_lift".to_string(), lr.top_decile_lift),
        ("brier".to_string(), lr.brier.unwrap_or(f64::NAN)),
        ("log_loss".to_string(), lr.log_loss.unwrap_or(f64::NAN)),
    ]);
    let rate_of = |df: &DataFrame| -> Result<f64, PipelineError> { Ok(churn_rate(&churned(df)?)) };
    let customer_base = base.parameters();
    let evaluation = Evaluation {
        protocol: sets.protocol,
        train_cutoff: sets.protocol.train_cutoff(),
        population_eval: eval.height(),
        population_train: sets.train.height(),
        churn_rate_eval: rate_of(eval)?,
        churn_rate_train: rate_of(&sets.train)?,
        features_used: sets.used.clone(),
        churn,
        value: values,
        customer_base,
    };
    Ok((evaluation, artifact))
}

/// The backtest lives in its own module; re-exported here for existing paths.
pub use crate::backtest;
