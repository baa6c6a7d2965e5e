//! Deployable models: every model the backtest can select, as one saved artifact that
//! `retain score` applies. A deployable model reads the columns of its card's feature list by
//! index, so composites (hybrids and rank ensembles) carry their parts inside one artifact.
//!
//! - [`ChurnModel`]: a classifier; a hybrid (a classifier that also sees three customer-base
//!   columns computed by its own BG/NBD + Gamma-Gamma part); BG/NBD P(no purchase); the
//!   days-since-last baseline; or a rank ensemble of any of these (the mean normalised rank).
//! - [`ValueModel`]: the customer-base CLV; a regressor (gradient boosting or the two-part
//!   model, possibly hybrid); the revenue-rate baseline; or a rank ensemble.
//! - [`DeployedValue`]: a [`ValueModel`] with the customer-base model that gives every client's
//!   P(alive), expected purchases and next expected purchase.
//!
//! The customer-base parts are fitted at the training cutoff on every client's history and
//! saved with the model: at a scoring date equal to the training cutoff the scores are exactly
//! those of the backtest at that cutoff (which fits the same models on the same data).
//!
//! Several models scored on the same rows share one [`BaseMemo`]: each customer-base model's
//! outputs (a hypergeometric function per client for BG/NBD, more for MBG/NBD) are then
//! computed once for all of them. The backtest's validation scores about a hundred
//! candidates on the same clients, half of them reading the same BG/NBD and MBG/NBD outputs
//! (every `+cb` model, BG/NBD P(no purchase), the CLV, the ensembles' parts); a nightly
//! `+cb` value ensemble reads them in two parts and again for the outreach list's P(alive).

use std::rc::Rc;

use ndarray::{Array2, ArrayView2, Axis};
use retain_clv::{CLV_FEATURES, ClientValues, ClvModel, RfmRows, Valuation};
use retain_core::{Horizon, kinds};
use serde::{Deserialize, Serialize};

pub use crate::chunked::{ChurnRows, ExplainContext, RowPrediction, Rows, ValueRows};
use crate::explain::{Explanation, ExplanationScale, combine, rescale_monotone};
use crate::{
    AnyClassifier, AnyRegressor, ChurnClassifier, ModelError, RecencyBaseline, SavedModel,
    ValueRegressor,
};

/// Names of the customer-base columns a hybrid model sees after its own features: the first
/// three from BG/NBD + Gamma-Gamma, the last two from MBG/NBD when its part has one
/// ([`CustomerBasePart::mbgnbd`]; models saved before it see the first three).
pub const HYBRID_FEATURES: [&str; 5] = [
    "bgnbd_p_no_purchase",
    "bgnbd_expected_purchases",
    "bgnbd_gg_clv",
    "mbgnbd_p_no_purchase",
    "mbgnbd_p_alive",
];

/// A customer-base model and where its four inputs ([`CLV_FEATURES`]) sit in the artifact's
/// feature list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomerBasePart {
    /// The fitted model (time unit weeks).
    pub model: ClvModel,
    /// Columns of frequency, recency_lt, T and monetary.
    pub columns: [usize; 4],
    /// MBG/NBD fitted on the same clients, giving a hybrid model two more columns (P(no
    /// purchase) and P(alive) of a model in which a client may also leave right after a
    /// purchase, the first one included); absent from parts saved before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mbgnbd: Option<ClvModel>,
}

impl CustomerBasePart {
    /// Wraps `model`, finding its inputs in `features` by name.
    pub fn new(model: ClvModel, features: &[String]) -> Result<Self, ModelError> {
        let mut columns = [0; 4];
        for (c, name) in columns.iter_mut().zip(CLV_FEATURES) {
            *c = features
                .iter()
                .position(|f| f == name)
                .ok_or_else(|| ModelError::MissingFeature(name.to_string()))?;
        }
        Ok(Self {
            model,
            columns,
            mbgnbd: None,
        })
    }

    /// This part with an MBG/NBD fitted on the same clients (five hybrid columns).
    pub fn with_mbgnbd(mut self, mbgnbd: ClvModel) -> Self {
        self.mbgnbd = Some(mbgnbd);
        self
    }

    /// Checks the saved models' numbers (see [`ClvModel::validate`]).
    pub fn validate(&self) -> Result<(), String> {
        self.model.validate()?;
        match &self.mbgnbd {
            Some(m) => m.validate(),
            None => Ok(()),
        }
    }

    /// How many hybrid columns it gives: 5 with an MBG/NBD, else 3.
    pub fn hybrid_width(&self) -> usize {
        if self.mbgnbd.is_some() { 5 } else { 3 }
    }

    /// The customer-base outputs for every row of `x` over `horizon`.
    pub fn values(
        &self,
        x: ArrayView2<f64>,
        horizon: Horizon,
        valuation: &Valuation,
    ) -> Result<ClientValues, ModelError> {
        let v = self.values_in(&mut BaseMemo::new(x), horizon, valuation)?;
        Ok(Rc::unwrap_or_clone(v))
    }

    /// [`CustomerBasePart::values`] of the memo's rows, computed once per memo.
    pub fn values_in(
        &self,
        memo: &mut BaseMemo<'_>,
        horizon: Horizon,
        valuation: &Valuation,
    ) -> Result<Rc<ClientValues>, ModelError> {
        memo.values(&self.model, self.columns, horizon, valuation)
    }

    /// The hybrid columns ([`HYBRID_FEATURES`]) over `horizon`: BG/NBD P(no purchase),
    /// expected purchase days and CLV.
    pub fn hybrid_columns(
        &self,
        x: ArrayView2<f64>,
        horizon: Horizon,
    ) -> Result<Array2<f64>, ModelError> {
        self.hybrid_columns_in(&mut BaseMemo::new(x), horizon)
    }

    /// [`CustomerBasePart::hybrid_columns`] of the memo's rows.
    pub fn hybrid_columns_in(
        &self,
        memo: &mut BaseMemo<'_>,
        horizon: Horizon,
    ) -> Result<Array2<f64>, ModelError> {
        let v = memo.values(&self.model, self.columns, horizon, &Valuation::default())?;
        let n = memo.x.nrows();
        let mut out = Array2::zeros((n, self.hybrid_width()));
        for i in 0..n {
            out[[i, 0]] = v.p_no_purchase[i];
            out[[i, 1]] = v.expected_purchases[i];
            out[[i, 2]] = v.clv[i];
        }
        if let Some(mb) = &self.mbgnbd {
            let w = memo.values(mb, self.columns, horizon, &Valuation::default())?;
            for i in 0..n {
                out[[i, 3]] = w.p_no_purchase[i];
                out[[i, 4]] = w.p_alive[i];
            }
        }
        Ok(out)
    }
}

/// The rows a set of models scores, with every customer-base output computed on them so far
/// (module docs): a customer-base model's outputs over a horizon and a valuation are computed
/// at the first model that asks and shared with the others. A memo borrows its rows, so it
/// cannot outlive them or be used with others.
#[derive(Debug)]
pub struct BaseMemo<'a> {
    x: ArrayView2<'a, f64>,
    /// (model, its input columns, horizon, valuation) and its outputs.
    values: Vec<MemoEntry>,
}

#[derive(Debug)]
struct MemoEntry {
    model: ClvModel,
    columns: [usize; 4],
    horizon: Horizon,
    valuation: Valuation,
    values: Rc<ClientValues>,
}

impl<'a> BaseMemo<'a> {
    /// A memo of rows `x` (a matrix of the artifacts' feature lists), empty.
    pub fn new(x: ArrayView2<'a, f64>) -> Self {
        Self {
            x,
            values: Vec::new(),
        }
    }

    /// The rows.
    pub fn x(&self) -> ArrayView2<'a, f64> {
        self.x
    }

    /// The outputs of `model` over `horizon` with `valuation`, its frequency, recency, age and
    /// monetary value in `columns` of the rows.
    fn values(
        &mut self,
        model: &ClvModel,
        columns: [usize; 4],
        horizon: Horizon,
        valuation: &Valuation,
    ) -> Result<Rc<ClientValues>, ModelError> {
        let known = self.values.iter().find(|e| {
            e.columns == columns
                && e.horizon == horizon
                && e.valuation == *valuation
                && e.model == *model
        });
        if let Some(e) = known {
            return Ok(Rc::clone(&e.values));
        }
        let [f, r, t, m] = columns.map(|c| self.x.column(c).to_vec());
        let rows = RfmRows::new(&f, &r, &t, &m).map_err(clv_error)?;
        let values = Rc::new(model.values(&rows, horizon, valuation).map_err(clv_error)?);
        self.values.push(MemoEntry {
            model: model.clone(),
            columns,
            horizon,
            valuation: *valuation,
            values: Rc::clone(&values),
        });
        Ok(values)
    }
}

fn clv_error(e: retain_clv::ClvError) -> ModelError {
    ModelError::Fit {
        kind: "customer_base",
        message: e.to_string(),
    }
}

fn select(x: ArrayView2<f64>, columns: &[usize]) -> Array2<f64> {
    // Row by row: `x.select(Axis(1), ..)` copies column by column, a strided pass over the
    // whole matrix per column, which cost seconds on a few hundred thousand clients.
    Array2::from_shape_fn((x.nrows(), columns.len()), |(i, k)| x[[i, columns[k]]])
}

fn with_hybrid(
    x: ArrayView2<f64>,
    columns: &[usize],
    base: &CustomerBasePart,
    horizon: Horizon,
) -> Result<Array2<f64>, ModelError> {
    with_hybrid_in(&mut BaseMemo::new(x), columns, base, horizon)
}

/// [`with_hybrid`] of the memo's rows.
fn with_hybrid_in(
    memo: &mut BaseMemo<'_>,
    columns: &[usize],
    base: &CustomerBasePart,
    horizon: Horizon,
) -> Result<Array2<f64>, ModelError> {
    let x = memo.x;
    // filled in place, row by row (as `select`): a copy of the own columns, then a second of
    // them and the hybrid ones side by side, was the largest thing held while a value model
    // scored millions
    let cb = base.hybrid_columns_in(memo, horizon)?;
    let own = columns.len();
    Ok(Array2::from_shape_fn(
        (x.nrows(), own + cb.ncols()),
        |(i, k)| {
            if k < own {
                x[[i, columns[k]]]
            } else {
                cb[[i, k - own]]
            }
        },
    ))
}

/// A deployable churn model (module docs). Its inputs are the columns of the artifact's
/// feature list; each variant records which it reads.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "model", rename_all = "snake_case")]
pub enum ChurnModel {
    /// A classifier on some of the columns.
    Classifier {
        /// The fitted classifier (possibly calibrated).
        classifier: AnyClassifier,
        /// The columns it reads, in its training order.
        columns: Vec<usize>,
    },
    /// A classifier on some columns plus the three [`HYBRID_FEATURES`] of its own
    /// customer-base part over `cb_horizon_days` (the training label window).
    Hybrid {
        /// The fitted classifier.
        classifier: AnyClassifier,
        /// Its own columns, before the hybrid ones.
        columns: Vec<usize>,
        /// The BG/NBD + Gamma-Gamma part.
        base: CustomerBasePart,
        /// The horizon of the hybrid columns.
        cb_horizon_days: u32,
    },
    /// BG/NBD P(no purchase in the horizon).
    PNoPurchase {
        /// The BG/NBD + Gamma-Gamma part.
        base: CustomerBasePart,
        /// The horizon.
        horizon_days: u32,
    },
    /// Days since the last purchase (a score, not a probability).
    Recency {
        /// The baseline, reading the whole feature list.
        baseline: RecencyBaseline,
    },
    /// The mean normalised rank of the parts, `(rank - 1) / (n - 1)` over the scored clients;
    /// its probability is the mean of the parts' probabilities.
    RankEnsemble {
        /// The parts (each a probability model).
        parts: Vec<ChurnModel>,
    },
}

/// What a churn model says about each row.
#[derive(Debug, Clone, PartialEq)]
pub struct ChurnPrediction {
    /// The ranking score: higher = more likely to churn.
    pub score: Vec<f64>,
    /// P(churn) per row, when the model gives one.
    pub probability: Option<Vec<f64>>,
    /// True when `score` is itself the probability (Brier and log loss apply).
    pub score_is_probability: bool,
}

impl ChurnModel {
    /// The card kind of a plain model of `kind` (used for composites' parts too).
    pub fn kind_name(&self) -> String {
        match self {
            Self::Classifier { classifier, .. } => classifier_name(classifier),
            Self::Hybrid { classifier, .. } => {
                let name = classifier_name(classifier);
                // the calibration suffix goes after the hybrid one, as the backtest names it
                match name.split_once('+') {
                    Some((base, cal)) => format!("{base}{}+{cal}", kinds::HYBRID_SUFFIX),
                    None => format!("{name}{}", kinds::HYBRID_SUFFIX),
                }
            }
            Self::PNoPurchase { .. } => kinds::BGNBD_P_NO_PURCHASE.into(),
            Self::Recency { .. } => kinds::BASELINE_DAYS_SINCE_LAST.into(),
            Self::RankEnsemble { parts } => {
                if parts.iter().any(|p| matches!(p, Self::Hybrid { .. })) {
                    format!("{}{}", kinds::RANK_ENSEMBLE, kinds::HYBRID_SUFFIX)
                } else {
                    kinds::RANK_ENSEMBLE.into()
                }
            }
        }
    }

    /// The largest column index read plus one (the narrowest feature list it accepts).
    pub fn width(&self) -> usize {
        match self {
            Self::Classifier { columns, .. } => columns.iter().max().map_or(0, |m| m + 1),
            Self::Hybrid { columns, base, .. } => columns
                .iter()
                .chain(base.columns.iter())
                .max()
                .map_or(0, |m| m + 1),
            Self::PNoPurchase { base, .. } => base.columns.iter().max().map_or(0, |m| m + 1),
            Self::Recency { baseline } => baseline.n_features(),
            Self::RankEnsemble { parts } => parts.iter().map(Self::width).max().unwrap_or(0),
        }
    }

    /// Scores every row of `x` (the artifact's features, in card order).
    pub fn predict(&self, x: ArrayView2<f64>) -> Result<ChurnPrediction, ModelError> {
        self.predict_in(&mut BaseMemo::new(x))
    }

    /// [`ChurnModel::predict`] of the memo's rows, sharing its customer-base outputs with the
    /// other models scored on them.
    pub fn predict_in(&self, memo: &mut BaseMemo<'_>) -> Result<ChurnPrediction, ModelError> {
        let x = memo.x;
        if x.ncols() < self.width() {
            return Err(ModelError::ColumnCount {
                expected: self.width(),
                found: x.ncols(),
            });
        }
        Ok(match self {
            Self::Classifier {
                classifier,
                columns,
            } => prob(
                classifier
                    .predict_proba(select(x, columns).view())?
                    .to_vec(),
            ),
            Self::Hybrid {
                classifier,
                columns,
                base,
                cb_horizon_days,
            } => {
                let h = horizon(*cb_horizon_days)?;
                let z = with_hybrid_in(memo, columns, base, h)?;
                prob(classifier.predict_proba(z.view())?.to_vec())
            }
            Self::PNoPurchase { base, horizon_days } => {
                let v = base.values_in(memo, horizon(*horizon_days)?, &Valuation::default())?;
                prob(v.p_no_purchase.clone())
            }
            Self::Recency { baseline } => ChurnPrediction {
                score: baseline.score(x)?.to_vec(),
                probability: None,
                score_is_probability: false,
            },
            Self::RankEnsemble { parts } => ensemble_churn(
                &parts
                    .iter()
                    .map(|p| p.predict_in(memo))
                    .collect::<Result<Vec<_>, _>>()?,
            ),
        })
    }

    /// The customer-base part, if the model has one (the first found).
    pub fn customer_base(&self) -> Option<&CustomerBasePart> {
        match self {
            Self::Hybrid { base, .. } | Self::PNoPurchase { base, .. } => Some(base),
            Self::RankEnsemble { parts } => parts.iter().find_map(Self::customer_base),
            _ => None,
        }
    }

    /// Checks every saved number is usable (finite parameters inside their domains) and the
    /// horizons are at least one day, naming the first that is not.
    pub fn validate(&self) -> Result<(), String> {
        match self {
            Self::Hybrid {
                base,
                cb_horizon_days,
                ..
            } => {
                base.validate()?;
                horizon(*cb_horizon_days)
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            }
            Self::PNoPurchase { base, horizon_days } => {
                base.validate()?;
                horizon(*horizon_days)
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            }
            Self::RankEnsemble { parts } => {
                if parts.is_empty() {
                    return Err("a rank ensemble without parts".into());
                }
                if parts.iter().any(|p| matches!(p, Self::RankEnsemble { .. })) {
                    // its ranks would be taken among a chunk's rows, not the scored set's
                    return Err("a rank ensemble whose part is itself a rank ensemble".into());
                }
                parts.iter().try_for_each(Self::validate)
            }
            _ => Ok(()),
        }
    }
}

fn classifier_name(c: &AnyClassifier) -> String {
    match c {
        AnyClassifier::Calibrated(m) => {
            let tag = match m.calibrator() {
                crate::Calibrator::Platt { .. } => kinds::PLATT_SUFFIX,
                _ => kinds::ISOTONIC_SUFFIX,
            };
            format!("{}{tag}", m.base().kind())
        }
        other => other.kind().to_string(),
    }
}

fn prob(p: Vec<f64>) -> ChurnPrediction {
    ChurnPrediction {
        probability: Some(p.clone()),
        score: p,
        score_is_probability: true,
    }
}

fn horizon(days: u32) -> Result<Horizon, ModelError> {
    Horizon::new(days).map_err(|reason| ModelError::InvalidParam {
        name: "horizon_days",
        reason,
    })
}

/// A rank ensemble's prediction from its parts' predictions of the same rows: the mean
/// normalised rank of their scores, the mean of their probabilities.
pub(crate) fn ensemble_churn(preds: &[ChurnPrediction]) -> ChurnPrediction {
    let scores: Vec<&[f64]> = preds.iter().map(|p| p.score.as_slice()).collect();
    let probability = preds
        .iter()
        .map(|p| p.probability.as_deref())
        .collect::<Option<Vec<&[f64]>>>()
        .map(|ps| mean_of(&ps));
    ChurnPrediction {
        score: rank_mean(&scores),
        probability,
        score_is_probability: false,
    }
}

/// A value rank ensemble's prediction from its parts' predictions of the same rows.
pub(crate) fn ensemble_value(preds: &[ValuePrediction]) -> ValuePrediction {
    let scores: Vec<&[f64]> = preds.iter().map(|p| p.score.as_slice()).collect();
    let amounts: Vec<&[f64]> = preds.iter().map(|p| p.amount.as_slice()).collect();
    ValuePrediction {
        score: rank_mean(&scores),
        amount: mean_of(&amounts),
    }
}

fn mean_of(parts: &[&[f64]]) -> Vec<f64> {
    let n = parts.first().map_or(0, |p| p.len());
    let k = parts.len() as f64;
    (0..n)
        .map(|i| parts.iter().map(|p| p[i]).sum::<f64>() / k)
        .collect()
}

/// The mean over `scores` of each row's normalised average rank, `(rank - 1) / (n - 1)` in
/// `[0, 1]` (higher score = higher rank; ties share their average rank).
pub fn rank_mean(scores: &[&[f64]]) -> Vec<f64> {
    let n = scores.first().map_or(0, |s| s.len());
    let mut out = vec![0.0; n];
    let den = (n.max(2) - 1) as f64 * scores.len() as f64;
    for s in scores {
        for (o, r) in out.iter_mut().zip(retain_eval::average_ranks(s)) {
            *o += (r - 1.0) / den;
        }
    }
    out
}

/// A deployable value model (module docs): the value of each client over the card's horizon.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "model", rename_all = "snake_case")]
pub enum ValueModel {
    /// Expected purchases x expected spend of a customer-base model.
    Clv {
        /// The customer-base part.
        base: CustomerBasePart,
    },
    /// A regressor on some columns (its predictions already on the card's horizon).
    Regressor {
        /// The fitted regressor (gradient boosting, two-part, revenue rate).
        regressor: AnyRegressor,
        /// The columns it reads.
        columns: Vec<usize>,
    },
    /// A regressor that also sees the [`HYBRID_FEATURES`] over `cb_horizon_days`.
    Hybrid {
        /// The fitted regressor.
        regressor: AnyRegressor,
        /// Its own columns.
        columns: Vec<usize>,
        /// The BG/NBD + Gamma-Gamma part.
        base: CustomerBasePart,
        /// The horizon of the hybrid columns.
        cb_horizon_days: u32,
    },
    /// The mean normalised rank of the parts (a ranking); its amount is the parts' mean.
    RankEnsemble {
        /// The parts.
        parts: Vec<ValueModel>,
    },
}

/// What a value model says about each row.
#[derive(Debug, Clone, PartialEq)]
pub struct ValuePrediction {
    /// The ranking score (the amount, or a rank mean for ensembles).
    pub score: Vec<f64>,
    /// The value over the horizon.
    pub amount: Vec<f64>,
}

impl ValueModel {
    /// The card kind (the backtest's name of the model).
    pub fn kind_name(&self) -> String {
        match self {
            Self::Clv { base } => base.model.kind().to_string(),
            Self::Regressor { regressor, .. } => regressor_name(regressor).into(),
            Self::Hybrid { regressor, .. } => {
                format!("{}{}", regressor_name(regressor), kinds::HYBRID_SUFFIX)
            }
            Self::RankEnsemble { parts } => {
                if parts.iter().any(|p| matches!(p, Self::Hybrid { .. })) {
                    format!("{}{}", kinds::RANK_ENSEMBLE_VALUE, kinds::HYBRID_SUFFIX)
                } else {
                    kinds::RANK_ENSEMBLE_VALUE.into()
                }
            }
        }
    }

    /// The narrowest feature list it accepts.
    pub fn width(&self) -> usize {
        let max = |c: &mut dyn Iterator<Item = &usize>| c.max().map_or(0, |m| m + 1);
        match self {
            Self::Clv { base } => max(&mut base.columns.iter()),
            Self::Regressor { columns, .. } => max(&mut columns.iter()),
            Self::Hybrid { columns, base, .. } => max(&mut columns.iter().chain(&base.columns)),
            Self::RankEnsemble { parts } => parts.iter().map(Self::width).max().unwrap_or(0),
        }
    }

    /// Values every row of `x` over `horizon` (the CLV honours `valuation`; the regressors'
    /// amounts are multiplied by its margin).
    pub fn predict(
        &self,
        x: ArrayView2<f64>,
        horizon: Horizon,
        valuation: &Valuation,
    ) -> Result<ValuePrediction, ModelError> {
        self.predict_in(&mut BaseMemo::new(x), horizon, valuation)
    }

    /// [`ValueModel::predict`] of the memo's rows, sharing its customer-base outputs with the
    /// other models scored on them.
    pub fn predict_in(
        &self,
        memo: &mut BaseMemo<'_>,
        horizon: Horizon,
        valuation: &Valuation,
    ) -> Result<ValuePrediction, ModelError> {
        let x = memo.x;
        if x.ncols() < self.width() {
            return Err(ModelError::ColumnCount {
                expected: self.width(),
                found: x.ncols(),
            });
        }
        let amount = |v: Vec<f64>| {
            let v: Vec<f64> = if valuation.margin == 1.0 {
                v
            } else {
                v.into_iter().map(|a| a * valuation.margin).collect()
            };
            ValuePrediction {
                score: v.clone(),
                amount: v,
            }
        };
        Ok(match self {
            Self::Clv { base } => {
                let v = base.values_in(memo, horizon, valuation)?;
                ValuePrediction {
                    score: v.clv.clone(),
                    amount: v.clv.clone(),
                }
            }
            Self::Regressor { regressor, columns } => {
                amount(regressor.predict(select(x, columns).view())?.to_vec())
            }
            Self::Hybrid {
                regressor,
                columns,
                base,
                cb_horizon_days,
            } => {
                let z = with_hybrid_in(memo, columns, base, self::horizon(*cb_horizon_days)?)?;
                amount(regressor.predict(z.view())?.to_vec())
            }
            Self::RankEnsemble { parts } => ensemble_value(
                &parts
                    .iter()
                    .map(|p| p.predict_in(memo, horizon, valuation))
                    .collect::<Result<Vec<_>, _>>()?,
            ),
        })
    }

    /// Checks the saved numbers (module docs of [`ChurnModel::validate`]).
    pub fn validate(&self) -> Result<(), String> {
        match self {
            Self::Clv { base } => base.validate(),
            Self::Hybrid {
                base,
                cb_horizon_days,
                ..
            } => {
                base.validate()?;
                horizon(*cb_horizon_days)
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            }
            Self::RankEnsemble { parts } => {
                if parts.is_empty() {
                    return Err("a rank ensemble without parts".into());
                }
                if parts.iter().any(|p| matches!(p, Self::RankEnsemble { .. })) {
                    // its ranks would be taken among a chunk's rows, not the scored set's
                    return Err("a rank ensemble whose part is itself a rank ensemble".into());
                }
                parts.iter().try_for_each(Self::validate)
            }
            Self::Regressor { .. } => Ok(()),
        }
    }
}

fn regressor_name(r: &AnyRegressor) -> &'static str {
    match r {
        AnyRegressor::GradientBoosting(_) => kinds::GRADIENT_BOOSTING_REGRESSOR,
        AnyRegressor::TwoPart(_) => kinds::TWO_PART,
        AnyRegressor::RevenueRate(_) => kinds::BASELINE_REVENUE_RATE,
        #[allow(unreachable_patterns)]
        _ => "value_regressor",
    }
}

/// A [`ValueModel`] with the customer-base model that gives every client's P(alive), expected
/// purchases and next expected purchase in the outreach list.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeployedValue {
    /// The value model.
    pub value: ValueModel,
    /// The customer-base model (the value model's own for the CLV kind).
    pub customer_base: CustomerBasePart,
}

/// The churn kinds a [`ChurnModel`] card may name: a base kind, then optionally `+cb`, then
/// optionally `+platt` or `+isotonic`.
pub const CHURN_BASE_KINDS: [&str; 7] = [
    kinds::LOGISTIC,
    kinds::DECISION_TREE,
    kinds::RANDOM_FOREST,
    kinds::GRADIENT_BOOSTING,
    kinds::RANK_ENSEMBLE,
    kinds::BGNBD_P_NO_PURCHASE,
    kinds::BASELINE_DAYS_SINCE_LAST,
];

/// The value kinds a [`ValueModel`] card may name (optionally with `+cb`).
pub const VALUE_BASE_KINDS: [&str; 7] = [
    kinds::GRADIENT_BOOSTING_REGRESSOR,
    kinds::TWO_PART,
    kinds::RANK_ENSEMBLE_VALUE,
    kinds::BASELINE_REVENUE_RATE,
    kinds::BGNBD_GG_CLV,
    kinds::PARETO_NBD_GG_CLV,
    kinds::MBGNBD_GG_CLV,
];

fn strip_suffixes<'a>(kind: &'a str, suffixes: &[&str]) -> &'a str {
    let mut k = kind;
    for s in suffixes.iter().rev() {
        k = k.strip_suffix(s).unwrap_or(k);
    }
    k
}

/// A deployable churn model as an artifact: its kind is the backtest's name.
impl SavedModel for ChurnModel {
    const KINDS: &'static [&'static str] = &CHURN_BASE_KINDS;
    fn accepts_kind(kind: &str) -> bool {
        let base = strip_suffixes(
            strip_suffixes(kind, &[kinds::PLATT_SUFFIX]),
            &[kinds::ISOTONIC_SUFFIX],
        );
        CHURN_BASE_KINDS.contains(&strip_suffixes(base, &[kinds::HYBRID_SUFFIX]))
    }
    fn model_kind(&self) -> String {
        self.kind_name()
    }
    fn reads_every_column() -> bool {
        false
    }
    fn width(&self) -> usize {
        ChurnModel::width(self)
    }
    fn validate(&self) -> Result<(), String> {
        ChurnModel::validate(self)
    }
}

/// A deployable value model as an artifact.
impl SavedModel for DeployedValue {
    const KINDS: &'static [&'static str] = &VALUE_BASE_KINDS;
    fn accepts_kind(kind: &str) -> bool {
        VALUE_BASE_KINDS.contains(&strip_suffixes(kind, &[kinds::HYBRID_SUFFIX]))
    }
    fn model_kind(&self) -> String {
        self.value.kind_name()
    }
    fn reads_every_column() -> bool {
        false
    }
    fn width(&self) -> usize {
        self.value
            .width()
            .max(self.customer_base.columns.iter().max().map_or(0, |m| m + 1))
    }
    fn validate(&self) -> Result<(), String> {
        self.value.validate()?;
        self.customer_base.validate()
    }
}

impl retain_core::Categorized for ModelError {
    fn category(&self) -> retain_core::ErrorCategory {
        use retain_core::ErrorCategory::{Config, Data};
        match self {
            Self::InvalidParam { .. }
            | Self::InconsistentArtifact(_)
            | Self::WeightsUnsupported { .. } => Config,
            Self::Core(e) => e.category(),
            _ => Data,
        }
    }
}

/// The normalised rank `(rank - 1) / (n - 1)` a value `v` would have among `sorted` (sorted
/// ascending), with ties sharing their average rank: for a member of the set this is its own
/// normalised average rank, and the function is non-decreasing in `v`.
pub(crate) fn normalised_rank_of(sorted: &[f64], v: f64) -> f64 {
    let n = sorted.len();
    let below = sorted.partition_point(|&s| s < v);
    let equal = sorted[below..].partition_point(|&s| s <= v);
    // average 1-based rank of the equal block, or the half-way point when v is not a member
    let rank = if equal > 0 {
        below as f64 + (equal as f64 + 1.0) / 2.0
    } else {
        below as f64 + 0.5
    };
    (rank - 1.0) / (n.max(2) - 1) as f64
}

/// The P(no purchase) score of one client with `(frequency, recency, age)` in days.
fn p_no_purchase_of(base: &CustomerBasePart, h: Horizon, xs: [f64; 3], monetary: f64) -> f64 {
    let rows = RfmRows {
        frequency: &[xs[0]],
        recency_days: &[xs[1]],
        age_days: &[xs[2]],
        monetary: &[monetary],
    };
    base.model
        .values(&rows, h, &Valuation::default())
        .map(|v| v.p_no_purchase[0])
        .unwrap_or(f64::NAN)
}

impl ChurnModel {
    /// Per-client contributions over the artifact's features followed by the three
    /// [`HYBRID_FEATURES`] (zero unless a part is hybrid) that add up to the score
    /// ([`Explanation`]):
    ///
    /// - classifiers and hybrids: the classifier's own explanation (logistic: coefficient x
    ///   standardised value on log-odds; trees: Tree SHAP or path contributions; calibrated:
    ///   rescaled onto the calibrated probability), mapped onto the columns it reads;
    /// - BG/NBD P(no purchase): exact Shapley values of its three inputs (frequency,
    ///   recency, age) against the scored clients' mean client, on the probability scale;
    /// - days since last: the whole score is that feature's (baseline 0);
    /// - rank ensembles: each part's explanation rescaled onto its normalised rank (the
    ///   rescale rule: each contribution keeps its sign and share), then averaged with the
    ///   ensemble's equal weights, so they add up to the ensemble's mean normalised rank.
    pub fn explain(&self, x: ArrayView2<f64>) -> Result<Explanation, ModelError> {
        self.explain_within(x, None)
    }

    /// [`ChurnModel::explain`] of rows `x` taken from a larger explained set, whose
    /// `context` ([`ExplainContext`]) holds what the explanation reads from every row of the
    /// set: the reference client of BG/NBD P(no purchase) and each rank-ensemble part's scores
    /// to rank among. `None`: `x` is the whole set. Explaining a set chunk by chunk with its
    /// context gives the rows of the one-piece explanation bit for bit.
    pub fn explain_within(
        &self,
        x: ArrayView2<f64>,
        context: Option<&ExplainContext>,
    ) -> Result<Explanation, ModelError> {
        let n = x.ncols() + HYBRID_FEATURES.len();
        let hybrid_map = |columns: &[usize], base: &CustomerBasePart| -> Vec<usize> {
            columns
                .iter()
                .copied()
                .chain(x.ncols()..x.ncols() + base.hybrid_width())
                .collect::<Vec<_>>()
        };
        match self {
            Self::Classifier {
                classifier,
                columns,
            } => {
                let e = classifier.explain(select(x, columns).view())?;
                combine(&[(1.0, &e, columns)], n)
            }
            Self::Hybrid {
                classifier,
                columns,
                base,
                cb_horizon_days,
            } => {
                let z = with_hybrid(x, columns, base, horizon(*cb_horizon_days)?)?;
                let e = classifier.explain(z.view())?;
                combine(&[(1.0, &e, &hybrid_map(columns, base))], n)
            }
            Self::PNoPurchase { base, horizon_days } => {
                let h = horizon(*horizon_days)?;
                let rows = x.nrows();
                let cols = [base.columns[0], base.columns[1], base.columns[2]];
                let mean: Vec<f64> = match context.and_then(ExplainContext::mean) {
                    Some(m) => m.to_vec(),
                    None => cols
                        .iter()
                        .map(|&c| x.column(c).mean().unwrap_or(0.0))
                        .collect(),
                };
                let reference = [mean[0], mean[1], mean[2]];
                let base_value = p_no_purchase_of(base, h, reference, 0.0);
                let mut values = Array2::zeros((rows, 3));
                let mut scores = ndarray::Array1::zeros(rows);
                for i in 0..rows {
                    let own = cols.map(|c| x[[i, c]]);
                    // f(S) for every subset S of the three inputs (bit k set = input k own)
                    let f: Vec<f64> = (0..8u8)
                        .map(|s| {
                            let xs = [0, 1, 2].map(|k| {
                                if s >> k & 1 == 1 {
                                    own[k]
                                } else {
                                    reference[k]
                                }
                            });
                            p_no_purchase_of(base, h, xs, 0.0)
                        })
                        .collect();
                    for k in 0..3 {
                        let mut phi = 0.0;
                        for s in 0..8u8 {
                            if s >> k & 1 == 1 {
                                continue;
                            }
                            // Shapley weight |S|! (2 - |S|)! / 3!
                            let w = match s.count_ones() {
                                0 | 2 => 1.0 / 3.0,
                                _ => 1.0 / 6.0,
                            };
                            phi += w * (f[(s | 1 << k) as usize] - f[s as usize]);
                        }
                        values[[i, k]] = phi;
                    }
                    scores[i] = f[7];
                }
                let e =
                    Explanation::new(ExplanationScale::Probability, base_value, values, scores)?;
                combine(&[(1.0, &e, &cols)], n)
            }
            Self::Recency { baseline } => {
                let s = baseline.score(x)?;
                let col = baseline.column();
                let e = Explanation::new(
                    ExplanationScale::Score,
                    0.0,
                    s.clone().insert_axis(Axis(1)),
                    s,
                )?;
                combine(&[(1.0, &e, &[col])], n)
            }
            Self::RankEnsemble { parts } => {
                let k = parts.len() as f64;
                let mut rescaled = Vec::with_capacity(parts.len());
                for (i, p) in parts.iter().enumerate() {
                    let part = context.and_then(|c| c.part(i));
                    let e = p.explain_within(x, part.map(|(_, c)| c))?;
                    let scores = e.scores.to_vec();
                    let (u, u0) = match part {
                        // ranked among the whole set's scores (sorted)
                        Some((sorted, _)) => (
                            scores
                                .iter()
                                .map(|&s| normalised_rank_of(sorted, s))
                                .collect(),
                            normalised_rank_of(sorted, e.base),
                        ),
                        None => {
                            let mut sorted = scores.clone();
                            sorted.sort_by(f64::total_cmp);
                            let u: Vec<f64> = retain_eval::average_ranks(&scores)
                                .into_iter()
                                .map(|r| (r - 1.0) / (scores.len().max(2) - 1) as f64)
                                .collect();
                            (u, normalised_rank_of(&sorted, e.base))
                        }
                    };
                    rescaled.push(rescale_monotone(&e, &u, u0, ExplanationScale::Score)?);
                }
                let identity: Vec<usize> = (0..n).collect();
                let weighted: Vec<(f64, &Explanation, &[usize])> = rescaled
                    .iter()
                    .map(|e| (1.0 / k, e, identity.as_slice()))
                    .collect();
                combine(&weighted, n)
            }
        }
    }

    /// The `scores` of [`ChurnModel::explain`] without the contributions where the model
    /// gives them cheaply (a classifier's own scores; the explanation otherwise).
    pub fn explanation_scores(&self, x: ArrayView2<f64>) -> Result<Vec<f64>, ModelError> {
        match self {
            Self::Classifier {
                classifier,
                columns,
            } => Ok(classifier
                .explanation_scores(select(x, columns).view())?
                .to_vec()),
            Self::Hybrid {
                classifier,
                columns,
                base,
                cb_horizon_days,
            } => {
                let z = with_hybrid(x, columns, base, horizon(*cb_horizon_days)?)?;
                Ok(classifier.explanation_scores(z.view())?.to_vec())
            }
            _ => Ok(self.explain(x)?.scores.to_vec()),
        }
    }

    /// The names of [`ChurnModel::explain`]'s columns: `features`, then [`HYBRID_FEATURES`].
    pub fn explanation_names(features: &[String]) -> Vec<String> {
        features
            .iter()
            .cloned()
            .chain(HYBRID_FEATURES.iter().map(|s| s.to_string()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::LogisticParams;
    use retain_clv::RfmKind;

    /// 800 clients simulated from a BG/NBD process (frequency, recency, age in days,
    /// monetary value), plus a noise column, and a customer-base part with BG/NBD and
    /// MBG/NBD fitted on them.
    fn clients() -> (Array2<f64>, CustomerBasePart) {
        use rand::{Rng, SeedableRng};
        let n = 800;
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let mut x = Array2::zeros((n, 5));
        for i in 0..n {
            let rate = 1.0 / rng.random_range(5.0..120.0);
            let drop = rng.random_range(0.02..0.4);
            let age: f64 = rng.random_range(60.0..700.0);
            let (mut t, mut freq, mut rec) = (0.0, 0.0, 0.0);
            loop {
                let u: f64 = rng.random_range(1e-12..1.0);
                t += -u.ln() / rate;
                if t > age {
                    break;
                }
                freq += 1.0;
                rec = t;
                if rng.random_range(0.0..1.0) < drop {
                    break;
                }
            }
            let spend = if freq > 0.0 {
                rng.random_range(10.0..200.0)
            } else {
                0.0
            };
            let noise = rng.random_range(0.0..1.0);
            for (j, v) in [freq, rec, age, spend, noise].into_iter().enumerate() {
                x[[i, j]] = v;
            }
        }
        let cols: Vec<Vec<f64>> = (0..4).map(|j| x.column(j).to_vec()).collect();
        let rows = RfmRows::new(&cols[0], &cols[1], &cols[2], &cols[3]).unwrap();
        let bg = ClvModel::fit(RfmKind::Bgnbd, &rows).unwrap();
        let mb = ClvModel::fit(RfmKind::Mbgnbd, &rows).unwrap();
        let names: Vec<String> = CLV_FEATURES
            .iter()
            .map(|s| s.to_string())
            .chain(["noise".to_string()])
            .collect();
        let part = CustomerBasePart::new(bg, &names).unwrap().with_mbgnbd(mb);
        (x, part)
    }

    #[test]
    fn models_scored_on_one_memo_equal_their_own_predictions_and_share_its_outputs() {
        let (x, part) = clients();
        let h = Horizon::new(90).unwrap();
        let own = vec![0, 4];
        let z = with_hybrid(x.view(), &own, &part, h).unwrap();
        let y: Vec<bool> = (0..x.nrows()).map(|i| x[[i, 0]] < 3.0).collect();
        let classifier: AnyClassifier = LogisticParams::new()
            .fit(z.view(), &y, None)
            .unwrap()
            .into();
        let hybrid = ChurnModel::Hybrid {
            classifier,
            columns: own,
            base: part.clone(),
            cb_horizon_days: 90,
        };
        let p_no_purchase = ChurnModel::PNoPurchase {
            base: part.clone(),
            horizon_days: 90,
        };
        let ensemble = ChurnModel::RankEnsemble {
            parts: vec![hybrid.clone(), p_no_purchase.clone()],
        };
        let clv = ValueModel::Clv { base: part.clone() };
        let plain = Valuation::default();
        let mut memo = BaseMemo::new(x.view());
        for m in [&hybrid, &p_no_purchase, &ensemble] {
            assert_eq!(
                m.predict_in(&mut memo).unwrap(),
                m.predict(x.view()).unwrap()
            );
        }
        assert_eq!(
            clv.predict_in(&mut memo, h, &plain).unwrap(),
            clv.predict(x.view(), h, &plain).unwrap()
        );
        // BG/NBD and MBG/NBD over 90 days with the plain valuation, each computed once
        assert_eq!(memo.values.len(), 2);
        // another horizon or valuation is computed on its own, and matches too
        let margin = Valuation {
            margin: 0.3,
            ..plain
        };
        for (days, v) in [(30, plain), (90, margin)] {
            let h = Horizon::new(days).unwrap();
            assert_eq!(
                clv.predict_in(&mut memo, h, &v).unwrap(),
                clv.predict(x.view(), h, &v).unwrap()
            );
        }
        assert_eq!(memo.values.len(), 4);
        // chunks predicted in one memo each are the one-piece prediction
        let mut rows = ensemble
            .predict_rows_in(&mut BaseMemo::new(x.slice(ndarray::s![..250, ..])))
            .unwrap();
        rows.append(
            ensemble
                .predict_rows_in(&mut BaseMemo::new(x.slice(ndarray::s![250.., ..])))
                .unwrap(),
        );
        assert_eq!(rows.finish(), ensemble.predict(x.view()).unwrap());
    }
}
