//! Metrics for value predictions (holdout revenue, CLV) and purchase counts
//! (BENCHMARK.md section 6).
//!
//! Where the peer (numpy/scipy) returns NaN, so do these functions: Spearman when either side is
//! constant, the normalized Gini when `sum(actual) = 0` or `G(actual, actual) = 0`, the revenue
//! share when `sum(actual) = 0`. `serde_json` writes NaN as `null`.

use serde::{Deserialize, Serialize};

use crate::churn::{check_finite, check_len};
use crate::error::EvalError;
use crate::rank::{order_desc, spearman, top_k};

/// Value metrics of one prediction against the observed holdout value.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ValueMetrics {
    /// Spearman rank correlation (`scipy.stats.spearmanr`, average ranks).
    pub spearman: f64,
    /// `G(actual, pred) / G(actual, actual)`, see [`gini`].
    pub normalized_gini: f64,
    /// Mean absolute error.
    pub mae: f64,
    /// Root mean squared error.
    pub rmse: f64,
    /// Share of the total actual value held by the top `ceil(0.1 n)` clients by prediction
    /// (prediction desc, id asc).
    pub top_decile_revenue_share: f64,
    /// Sum of the predictions.
    pub sum_pred: f64,
    /// Sum of the actual values.
    pub sum_actual: f64,
}

/// Purchase-count metrics (expected vs actual holdout purchase days).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PurchaseMetrics {
    /// Spearman rank correlation (`scipy.stats.spearmanr`, average ranks).
    pub spearman: f64,
    /// Mean absolute error.
    pub mae: f64,
    /// Root mean squared error.
    pub rmse: f64,
    /// Sum of the predictions.
    pub sum_pred: f64,
    /// Sum of the actual values.
    pub sum_actual: f64,
}

fn validate(actual: &[f64], pred: &[f64]) -> Result<(), EvalError> {
    check_len("pred", actual.len(), pred.len())?;
    if actual.is_empty() {
        return Err(EvalError::Empty);
    }
    check_finite("actual", actual)?;
    check_finite("pred", pred)
}

/// Unnormalized Gini of `actual` ordered by `score` (desc, ties by id asc), as the peer:
///
/// `G(a, s) = (1/n) sum_{i=1..n} C_i / sum(a) - (n + 1) / (2n)`, with `C_i` the cumulative sum of
/// `a` over the first `i` clients of the order. Inputs are assumed aligned and finite.
pub fn gini(actual: &[f64], score: &[f64], ids: &[i64]) -> f64 {
    let n = actual.len() as f64;
    let total: f64 = actual.iter().sum();
    let mut cum = 0.0;
    let mut sum_cum = 0.0;
    for i in order_desc(score, ids) {
        cum += actual[i];
        sum_cum += cum / total;
    }
    sum_cum / n - (n + 1.0) / (2.0 * n)
}

fn mae_rmse(actual: &[f64], pred: &[f64]) -> (f64, f64) {
    let n = actual.len() as f64;
    let (mut abs, mut sq) = (0.0, 0.0);
    for (&a, &p) in actual.iter().zip(pred) {
        abs += (a - p).abs();
        sq += (a - p) * (a - p);
    }
    (abs / n, (sq / n).sqrt())
}

/// All value metrics of BENCHMARK.md section 6, as the peer's `value_metrics`.
///
/// * `actual`: observed holdout value (net revenue; may be negative).
/// * `pred`: predicted value; higher = more valuable.
/// * `ids`: client ids, used only to break ties in the orderings.
///
/// # Errors
/// [`EvalError::LengthMismatch`], [`EvalError::Empty`], [`EvalError::NonFinite`].
pub fn value_metrics(actual: &[f64], pred: &[f64], ids: &[i64]) -> Result<ValueMetrics, EvalError> {
    validate(actual, pred)?;
    check_len("ids", actual.len(), ids.len())?;
    let (mae, rmse) = mae_rmse(actual, pred);
    let sum_actual: f64 = actual.iter().sum();
    let k = top_k(actual.len());
    let top: f64 = order_desc(pred, ids)[..k].iter().map(|&i| actual[i]).sum();
    Ok(ValueMetrics {
        spearman: spearman(actual, pred),
        normalized_gini: gini(actual, pred, ids) / gini(actual, actual, ids),
        mae,
        rmse,
        top_decile_revenue_share: top / sum_actual,
        sum_pred: pred.iter().sum(),
        sum_actual,
    })
}

/// Purchase-count metrics: Spearman, MAE, RMSE and both totals of expected vs actual counts.
///
/// # Errors
/// [`EvalError::LengthMismatch`], [`EvalError::Empty`], [`EvalError::NonFinite`].
pub fn purchase_metrics(actual: &[f64], pred: &[f64]) -> Result<PurchaseMetrics, EvalError> {
    validate(actual, pred)?;
    let (mae, rmse) = mae_rmse(actual, pred);
    Ok(PurchaseMetrics {
        spearman: spearman(actual, pred),
        mae,
        rmse,
        sum_pred: pred.iter().sum(),
        sum_actual: actual.iter().sum(),
    })
}
