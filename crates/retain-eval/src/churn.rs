//! Metrics for churn scores (BENCHMARK.md section 6).
//!
//! Convention: a higher score means "more likely churned"; the positive class (label 1 / `true`)
//! is "churned".

use serde::{Deserialize, Serialize};

use crate::error::EvalError;
use crate::rank::{average_ranks, order_desc, top_k};

/// Lower clipping bound for probabilities in the log loss (and Brier, as the peer does).
pub const PROB_EPS: f64 = 1e-15;

/// A binary label: anything that can be read as churned (`true`, 1) or not (`false`, 0).
pub trait Label: Copy + std::fmt::Debug {
    /// `Some(true)` for churned, `Some(false)` for not churned, `None` if the value is neither.
    fn churned(self) -> Option<bool>;
}

impl Label for bool {
    fn churned(self) -> Option<bool> {
        Some(self)
    }
}

macro_rules! int_label {
    ($($t:ty),*) => {$(
        impl Label for $t {
            fn churned(self) -> Option<bool> {
                match self {
                    0 => Some(false),
                    1 => Some(true),
                    _ => None,
                }
            }
        }
    )*};
}
int_label!(u8, i8, u32, i32, u64, i64, usize);

/// Churn metrics of one score against the observed labels.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ChurnMetrics {
    /// ROC AUC, ties counted half (`sklearn.metrics.roc_auc_score`).
    pub roc_auc: f64,
    /// Average precision, step-wise (`sklearn.metrics.average_precision_score`).
    pub pr_auc: f64,
    /// Churn rate in the top decile (score desc, id asc; `k = ceil(0.1 n)`) over the base rate.
    pub top_decile_lift: f64,
    /// Mean squared error of the probability; `None` unless the score is a probability.
    pub brier: Option<f64>,
    /// Mean cross-entropy with p clipped to `[1e-15, 1 - 1e-15]`; `None` unless a probability.
    pub log_loss: Option<f64>,
}

/// Checks that every value of `x` is finite; names `what` and the index otherwise.
pub(crate) fn check_finite(what: &'static str, x: &[f64]) -> Result<(), EvalError> {
    match x.iter().position(|v| !v.is_finite()) {
        Some(index) => Err(EvalError::NonFinite {
            what,
            index,
            value: x[index],
        }),
        None => Ok(()),
    }
}

/// Checks that `got` has the reference length `expected`.
pub(crate) fn check_len(what: &'static str, expected: usize, got: usize) -> Result<(), EvalError> {
    if expected == got {
        Ok(())
    } else {
        Err(EvalError::LengthMismatch {
            what,
            expected,
            got,
        })
    }
}

/// Reads labels into booleans, rejecting an empty slice and anything but 0/1.
pub(crate) fn parse_labels<L: Label>(y: &[L]) -> Result<Vec<bool>, EvalError> {
    if y.is_empty() {
        return Err(EvalError::Empty);
    }
    y.iter()
        .enumerate()
        .map(|(index, &l)| {
            l.churned().ok_or_else(|| EvalError::InvalidLabel {
                index,
                value: format!("{l:?}"),
            })
        })
        .collect::<Result<Vec<bool>, _>>()
}

/// Reads labels into booleans, rejecting anything but 0/1 and requiring both classes.
pub(crate) fn labels_to_bool<L: Label>(y: &[L]) -> Result<Vec<bool>, EvalError> {
    let labels = parse_labels(y)?;
    let n_pos = labels.iter().filter(|&&b| b).count();
    if n_pos == 0 || n_pos == labels.len() {
        return Err(EvalError::SingleClass {
            churned: n_pos > 0,
            n: labels.len(),
        });
    }
    Ok(labels)
}

/// ROC AUC by the Mann-Whitney rank sum with average ranks (ties count half), O(n log n):
///
/// `AUC = (R+ - n+ (n+ + 1) / 2) / (n+ n-)`, with `R+` the sum of the positives' ranks
/// (ascending score). Equals `sklearn.metrics.roc_auc_score`. Requires both classes.
pub(crate) fn roc_auc_bool(y: &[bool], score: &[f64]) -> f64 {
    let ranks = average_ranks(score);
    let n_pos = y.iter().filter(|&&b| b).count() as f64;
    let n_neg = y.len() as f64 - n_pos;
    let rank_sum: f64 = ranks
        .iter()
        .zip(y)
        .filter(|(_, b)| **b)
        .map(|(r, _)| r)
        .sum();
    (rank_sum - n_pos * (n_pos + 1.0) / 2.0) / (n_pos * n_neg)
}

/// Step-wise average precision, `AP = sum_k (R_k - R_{k-1}) P_k`, with one threshold per
/// distinct score (tied scores enter together), as `sklearn.metrics.average_precision_score`.
pub(crate) fn average_precision_bool(y: &[bool], score: &[f64]) -> f64 {
    let mut order: Vec<usize> = (0..score.len()).collect();
    order.sort_unstable_by(|&a, &b| score[b].total_cmp(&score[a]));
    let n_pos = y.iter().filter(|&&b| b).count() as f64;
    let (mut tp, mut fp) = (0.0_f64, 0.0_f64);
    let (mut ap, mut prev_recall) = (0.0, 0.0);
    let mut i = 0;
    while i < order.len() {
        let s = score[order[i]];
        while i < order.len() && score[order[i]] == s {
            if y[order[i]] {
                tp += 1.0;
            } else {
                fp += 1.0;
            }
            i += 1;
        }
        let recall = tp / n_pos;
        ap += (recall - prev_recall) * (tp / (tp + fp));
        prev_recall = recall;
    }
    ap
}

/// Top-decile lift: mean of `y` over the first `ceil(0.1 n)` clients by score desc, id asc,
/// divided by the mean of `y`.
pub(crate) fn top_decile_lift_bool(y: &[bool], score: &[f64], ids: &[i64]) -> f64 {
    let order = order_desc(score, ids);
    let k = top_k(y.len());
    let top = order[..k].iter().filter(|&&i| y[i]).count() as f64 / k as f64;
    let base = y.iter().filter(|&&b| b).count() as f64 / y.len() as f64;
    top / base
}

/// Validates labels and scores together: same length, non-empty, both classes, finite scores.
fn validate<L: Label>(y: &[L], score: &[f64]) -> Result<Vec<bool>, EvalError> {
    check_len("score", y.len(), score.len())?;
    let labels = labels_to_bool(y)?;
    check_finite("score", score)?;
    Ok(labels)
}

/// ROC AUC of `score` against `y` (`sklearn.metrics.roc_auc_score`; ties count half).
///
/// Computed by the Mann-Whitney rank sum with average ranks in O(n log n).
pub fn roc_auc<L: Label>(y: &[L], score: &[f64]) -> Result<f64, EvalError> {
    let labels = validate(y, score)?;
    Ok(roc_auc_bool(&labels, score))
}

/// Average precision (PR AUC) of `score` against `y` (`sklearn.metrics.average_precision_score`):
/// `sum_k (R_k - R_{k-1}) P_k` over the distinct score thresholds, highest first.
pub fn average_precision<L: Label>(y: &[L], score: &[f64]) -> Result<f64, EvalError> {
    let labels = validate(y, score)?;
    Ok(average_precision_bool(&labels, score))
}

/// Brier score `mean((p - y)^2)` with p clipped to `[1e-15, 1 - 1e-15]` (as the peer does before
/// calling `sklearn.metrics.brier_score_loss`; the clipping changes the result by < 3e-15).
/// Probabilities must lie in [0, 1].
pub fn brier<L: Label>(y: &[L], p: &[f64]) -> Result<f64, EvalError> {
    check_len("p", y.len(), p.len())?;
    let labels = parse_labels(y)?;
    check_probabilities(p)?;
    Ok(brier_bool(&labels, p))
}

/// Log loss `-mean(y ln p + (1 - y) ln(1 - p))` with p clipped to `[1e-15, 1 - 1e-15]`
/// (`sklearn.metrics.log_loss(y, p, labels=[0, 1])`). Probabilities must lie in [0, 1].
pub fn log_loss<L: Label>(y: &[L], p: &[f64]) -> Result<f64, EvalError> {
    check_len("p", y.len(), p.len())?;
    let labels = parse_labels(y)?;
    check_probabilities(p)?;
    Ok(log_loss_bool(&labels, p))
}

pub(crate) fn check_probabilities(p: &[f64]) -> Result<(), EvalError> {
    check_finite("probability", p)?;
    match p.iter().position(|v| !(0.0..=1.0).contains(v)) {
        Some(index) => Err(EvalError::ProbabilityOutOfRange {
            index,
            value: p[index],
        }),
        None => Ok(()),
    }
}

fn clip(p: f64) -> f64 {
    p.clamp(PROB_EPS, 1.0 - PROB_EPS)
}

pub(crate) fn brier_bool(y: &[bool], p: &[f64]) -> f64 {
    let s: f64 = y
        .iter()
        .zip(p)
        .map(|(&b, &p)| {
            let d = clip(p) - if b { 1.0 } else { 0.0 };
            d * d
        })
        .sum();
    s / y.len() as f64
}

pub(crate) fn log_loss_bool(y: &[bool], p: &[f64]) -> f64 {
    let s: f64 = y
        .iter()
        .zip(p)
        .map(|(&b, &p)| {
            let p = clip(p);
            if b { -p.ln() } else { -(1.0 - p).ln() }
        })
        .sum();
    s / y.len() as f64
}

/// Top-decile lift of `score` (BENCHMARK.md section 6): the churn rate among the first
/// `k = ceil(0.1 n)` clients, sorted by score descending then id ascending, over the base rate.
pub fn top_decile_lift<L: Label>(y: &[L], score: &[f64], ids: &[i64]) -> Result<f64, EvalError> {
    let labels = validate(y, score)?;
    check_len("ids", y.len(), ids.len())?;
    Ok(top_decile_lift_bool(&labels, score, ids))
}

/// All churn metrics of BENCHMARK.md section 6 for one score, as the peer's `churn_metrics`.
///
/// * `y`: 1 / `true` = churned; both classes must be present.
/// * `score`: higher = more likely churned; finite.
/// * `ids`: client ids, used only to break score ties in the top decile.
/// * `is_probability`: if true, `score` must lie in [0, 1] and Brier and log loss are reported.
///
/// # Errors
/// [`EvalError::LengthMismatch`], [`EvalError::Empty`], [`EvalError::InvalidLabel`],
/// [`EvalError::SingleClass`], [`EvalError::NonFinite`] (with the index of the first bad score),
/// [`EvalError::ProbabilityOutOfRange`].
pub fn churn_metrics<L: Label>(
    y: &[L],
    score: &[f64],
    ids: &[i64],
    is_probability: bool,
) -> Result<ChurnMetrics, EvalError> {
    let labels = validate(y, score)?;
    check_len("ids", y.len(), ids.len())?;
    if is_probability {
        check_probabilities(score)?;
    }
    Ok(ChurnMetrics {
        roc_auc: roc_auc_bool(&labels, score),
        pr_auc: average_precision_bool(&labels, score),
        top_decile_lift: top_decile_lift_bool(&labels, score, ids),
        brier: is_probability.then(|| brier_bool(&labels, score)),
        log_loss: is_probability.then(|| log_loss_bool(&labels, score)),
    })
}
