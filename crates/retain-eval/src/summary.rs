//! Mean and standard deviation of a metric across cutoffs (or folds, or resamples).

use serde::{Deserialize, Serialize};

use crate::churn::ChurnMetrics;
use crate::value::ValueMetrics;

/// Mean and sample standard deviation (ddof = 1) of `x`: `(mean, std)`.
///
/// `std = sqrt(sum (x_i - mean)^2 / (n - 1))`, as pandas `Series.std()` and
/// `numpy.std(x, ddof=1)` (numpy's own default is ddof = 0). The mean of an empty slice is NaN;
/// the std is NaN for fewer than two values. NaN inputs propagate. Two passes, for accuracy.
pub fn summarize(x: &[f64]) -> (f64, f64) {
    summarize_ddof(x, 1)
}

/// Mean and standard deviation of `x` with `ddof` delta degrees of freedom:
/// `std = sqrt(sum (x_i - mean)^2 / (n - ddof))`; NaN when `n <= ddof` (and mean NaN when empty).
pub fn summarize_ddof(x: &[f64], ddof: usize) -> (f64, f64) {
    let n = x.len();
    if n == 0 {
        return (f64::NAN, f64::NAN);
    }
    let mean = x.iter().sum::<f64>() / n as f64;
    if n <= ddof {
        return (mean, f64::NAN);
    }
    let ss: f64 = x.iter().map(|v| (v - mean) * (v - mean)).sum();
    (mean, (ss / (n - ddof) as f64).sqrt())
}

/// A metric's mean and sample standard deviation (ddof = 1) over several evaluations.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MeanStd {
    /// Mean over the evaluations.
    pub mean: f64,
    /// Sample standard deviation (ddof = 1); NaN for a single evaluation.
    pub std: f64,
}

impl MeanStd {
    /// Summarizes `x` with [`summarize`].
    pub fn of(x: &[f64]) -> Self {
        let (mean, std) = summarize(x);
        Self { mean, std }
    }

    fn of_field<T>(items: &[T], field: impl Fn(&T) -> f64) -> Self {
        Self::of(&items.iter().map(field).collect::<Vec<_>>())
    }
}

/// [`ChurnMetrics`] summarized over several cutoffs.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ChurnMetricsSummary {
    /// Number of evaluations summarized.
    pub n: usize,
    /// ROC AUC.
    pub roc_auc: MeanStd,
    /// PR AUC (average precision).
    pub pr_auc: MeanStd,
    /// Top-decile lift.
    pub top_decile_lift: MeanStd,
    /// Brier score, if every evaluation has one.
    pub brier: Option<MeanStd>,
    /// Log loss, if every evaluation has one.
    pub log_loss: Option<MeanStd>,
}

/// Summarizes churn metrics over cutoffs: mean and std (ddof = 1) of each field.
/// Brier and log loss are summarized only if every evaluation reports them.
pub fn summarize_churn(metrics: &[ChurnMetrics]) -> ChurnMetricsSummary {
    let optional = |field: fn(&ChurnMetrics) -> Option<f64>| {
        metrics
            .iter()
            .map(field)
            .collect::<Option<Vec<f64>>>()
            .map(|v| MeanStd::of(&v))
    };
    ChurnMetricsSummary {
        n: metrics.len(),
        roc_auc: MeanStd::of_field(metrics, |m| m.roc_auc),
        pr_auc: MeanStd::of_field(metrics, |m| m.pr_auc),
        top_decile_lift: MeanStd::of_field(metrics, |m| m.top_decile_lift),
        brier: optional(|m| m.brier),
        log_loss: optional(|m| m.log_loss),
    }
}

/// [`ValueMetrics`] summarized over several cutoffs.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ValueMetricsSummary {
    /// Number of evaluations summarized.
    pub n: usize,
    /// Spearman correlation.
    pub spearman: MeanStd,
    /// Normalized Gini.
    pub normalized_gini: MeanStd,
    /// Mean absolute error.
    pub mae: MeanStd,
    /// Root mean squared error.
    pub rmse: MeanStd,
    /// Top-decile revenue share.
    pub top_decile_revenue_share: MeanStd,
}

/// Summarizes value metrics over cutoffs: mean and std (ddof = 1) of each field.
pub fn summarize_value(metrics: &[ValueMetrics]) -> ValueMetricsSummary {
    ValueMetricsSummary {
        n: metrics.len(),
        spearman: MeanStd::of_field(metrics, |m| m.spearman),
        normalized_gini: MeanStd::of_field(metrics, |m| m.normalized_gini),
        mae: MeanStd::of_field(metrics, |m| m.mae),
        rmse: MeanStd::of_field(metrics, |m| m.rmse),
        top_decile_revenue_share: MeanStd::of_field(metrics, |m| m.top_decile_revenue_share),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_numpy() {
        // x = [0.785, 0.794, 0.798, 0.747, 0.701]
        // np.mean(x) = 0.765, np.std(x, ddof=1) = 0.041079191812887494,
        // np.std(x) = 0.036742346141747706
        let x = [0.785, 0.794, 0.798, 0.747, 0.701];
        let (m, s) = summarize(&x);
        assert!((m - 0.765).abs() < 1e-15);
        assert!((s - 0.041079191812887494).abs() < 1e-15, "{s}");
        assert!((summarize_ddof(&x, 0).1 - 0.036742346141747706).abs() < 1e-15);
    }

    #[test]
    fn degenerate_sizes() {
        assert!(summarize(&[]).0.is_nan());
        let (m, s) = summarize(&[0.7]);
        assert_eq!(m, 0.7);
        assert!(s.is_nan());
        assert_eq!(summarize(&[2.0, 2.0, 2.0]), (2.0, 0.0));
    }

    #[test]
    fn churn_summary_skips_missing_probability_metrics() {
        let a = ChurnMetrics {
            roc_auc: 0.7,
            pr_auc: 0.8,
            top_decile_lift: 1.2,
            brier: Some(0.2),
            log_loss: None,
        };
        let b = ChurnMetrics {
            roc_auc: 0.8,
            brier: Some(0.1),
            ..a
        };
        let s = summarize_churn(&[a, b]);
        assert_eq!(s.n, 2);
        assert!((s.roc_auc.mean - 0.75).abs() < 1e-15);
        assert!((s.roc_auc.std - 0.1 / 2f64.sqrt()).abs() < 1e-15);
        assert!((s.brier.unwrap().mean - 0.15).abs() < 1e-15);
        assert_eq!(s.log_loss, None);
    }
}
