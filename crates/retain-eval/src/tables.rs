//! Gains (lift) and calibration tables.

use serde::{Deserialize, Serialize};

use crate::churn::{
    Label, check_finite, check_len, check_probabilities, labels_to_bool, parse_labels,
};
use crate::error::EvalError;
use crate::rank::order_desc;

/// One row of a gains table: one bin of clients ranked by score.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GainsRow {
    /// Bin number, 1 = highest scores.
    pub bin: usize,
    /// Clients in the bin.
    pub count: usize,
    /// Churners in the bin.
    pub churners: usize,
    /// `churners / count`.
    pub churn_rate: f64,
    /// Clients in this bin and all higher-scored bins.
    pub cum_count: usize,
    /// Churners in this bin and all higher-scored bins.
    pub cum_churners: usize,
    /// Share of all churners captured so far: `cum_churners / total churners` (the gains curve).
    pub cum_churn_share: f64,
    /// `churn_rate / base rate`.
    pub lift: f64,
    /// Cumulative lift: `(cum_churners / cum_count) / base rate`. For bin 1 of a decile table this
    /// equals the top-decile lift of [`crate::churn_metrics`].
    pub cum_lift: f64,
    /// Lowest score in the bin.
    pub min_score: f64,
    /// Highest score in the bin.
    pub max_score: f64,
}

/// Gains table of `score` in `n_bins` bins (10 for deciles).
///
/// Clients are ordered by score descending, then id ascending (the ranking of BENCHMARK.md
/// section 6), and bin `b` (0-based) takes positions `ceil(b n / n_bins) .. ceil((b+1) n / n_bins)`.
/// So the first bin holds exactly the `ceil(0.1 n)` clients of the top-decile lift, bin sizes differ
/// by at most one, and tied scores may straddle a bin boundary (ids decide).
///
/// # Errors
/// As [`crate::churn_metrics`] (both classes are required), plus
/// [`EvalError::InvalidParameter`] if `n_bins` is 0 or exceeds the number of clients.
pub fn gains_table<L: Label>(
    y: &[L],
    score: &[f64],
    ids: &[i64],
    n_bins: usize,
) -> Result<Vec<GainsRow>, EvalError> {
    check_len("score", y.len(), score.len())?;
    check_len("ids", y.len(), ids.len())?;
    let labels = labels_to_bool(y)?;
    check_finite("score", score)?;
    let n = labels.len();
    if n_bins == 0 || n_bins > n {
        return Err(EvalError::InvalidParameter {
            name: "n_bins",
            reason: format!("must be between 1 and the number of clients ({n}), got {n_bins}"),
        });
    }
    let order = order_desc(score, ids);
    let total_churners = labels.iter().filter(|&&b| b).count();
    let base = total_churners as f64 / n as f64;
    let (mut cum_count, mut cum_churners) = (0, 0);
    let rows = (0..n_bins)
        .map(|b| {
            let members = &order[(b * n).div_ceil(n_bins)..((b + 1) * n).div_ceil(n_bins)];
            let count = members.len();
            let churners = members.iter().filter(|&&i| labels[i]).count();
            cum_count += count;
            cum_churners += churners;
            let churn_rate = churners as f64 / count as f64;
            GainsRow {
                bin: b + 1,
                count,
                churners,
                churn_rate,
                cum_count,
                cum_churners,
                cum_churn_share: cum_churners as f64 / total_churners as f64,
                lift: churn_rate / base,
                cum_lift: (cum_churners as f64 / cum_count as f64) / base,
                min_score: members
                    .iter()
                    .map(|&i| score[i])
                    .fold(f64::INFINITY, f64::min),
                max_score: members
                    .iter()
                    .map(|&i| score[i])
                    .fold(f64::NEG_INFINITY, f64::max),
            }
        })
        .collect();
    Ok(rows)
}

/// How the probability axis of a calibration table is cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum CalibrationBins {
    /// Edges at the quantiles of the predicted probabilities (deciles for 10 bins):
    /// `np.percentile(p, np.linspace(0, 1, n_bins + 1) * 100)`, linear interpolation.
    #[default]
    Quantile,
    /// Equal-width edges `np.linspace(0, 1, n_bins + 1)`.
    Uniform,
}

/// One non-empty bin of a calibration table.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CalibrationRow {
    /// Bin index, 0-based, among all `n_bins` bins (empty bins are skipped, so gaps can occur).
    pub bin: usize,
    /// Lower edge of the bin.
    pub lower: f64,
    /// Upper edge of the bin.
    pub upper: f64,
    /// Clients in the bin.
    pub count: usize,
    /// Mean predicted probability in the bin (sklearn's `prob_pred`).
    pub mean_predicted: f64,
    /// Observed churn rate in the bin (sklearn's `prob_true`).
    pub observed_rate: f64,
}

/// `np.linspace(0, 1, m + 1)` exactly as numpy computes it: `i * (1 / m)`, last value 1.
fn linspace01(m: usize) -> Vec<f64> {
    let step = 1.0 / m as f64;
    (0..=m)
        .map(|i| if i == m { 1.0 } else { i as f64 * step })
        .collect()
}

/// `np.percentile(sorted, q * 100)` with the default linear method, replicating numpy's float
/// steps (`q * 100 / 100`, virtual index `(n - 1) q`, and `_lerp`) so that edges that equal a data
/// point do so bit for bit.
fn numpy_quantile(sorted: &[f64], q: f64) -> f64 {
    let n = sorted.len();
    let q = (q * 100.0) / 100.0;
    let v = (n - 1) as f64 * q;
    if v >= (n - 1) as f64 {
        return sorted[n - 1];
    }
    let prev = v.floor();
    let gamma = v - prev;
    let (a, b) = (sorted[prev as usize], sorted[prev as usize + 1]);
    let d = b - a;
    if gamma >= 0.5 {
        b - d * (1.0 - gamma)
    } else {
        a + d * gamma
    }
}

/// Calibration table: mean predicted probability against the observed churn rate per bin, as
/// `sklearn.calibration.calibration_curve(y, p, n_bins, strategy)` (same edges and the same
/// assignment `np.searchsorted(edges[1:-1], p)`: a bin is `(lower, upper]`, the first one also
/// takes its lower edge), with the bin edges and counts added. Empty bins are skipped, as sklearn
/// does; with [`CalibrationBins::Quantile`] tied probabilities always share a bin, so bins can be
/// uneven or empty.
///
/// # Errors
/// [`EvalError::LengthMismatch`], [`EvalError::Empty`], [`EvalError::InvalidLabel`],
/// [`EvalError::NonFinite`], [`EvalError::ProbabilityOutOfRange`], and
/// [`EvalError::InvalidParameter`] if `n_bins` is 0. One class alone is allowed.
pub fn calibration_table<L: Label>(
    y: &[L],
    p: &[f64],
    n_bins: usize,
    bins: CalibrationBins,
) -> Result<Vec<CalibrationRow>, EvalError> {
    check_len("p", y.len(), p.len())?;
    let labels = parse_labels(y)?;
    check_probabilities(p)?;
    if n_bins == 0 {
        return Err(EvalError::InvalidParameter {
            name: "n_bins",
            reason: "must be at least 1".into(),
        });
    }
    let q = linspace01(n_bins);
    let edges: Vec<f64> = match bins {
        CalibrationBins::Uniform => q,
        CalibrationBins::Quantile => {
            let mut sorted = p.to_vec();
            sorted.sort_unstable_by(f64::total_cmp);
            q.iter().map(|&qi| numpy_quantile(&sorted, qi)).collect()
        }
    };
    let inner = &edges[1..n_bins];
    let mut count = vec![0usize; n_bins];
    let mut sum_p = vec![0.0; n_bins];
    let mut sum_y = vec![0.0; n_bins];
    for (&pi, &yi) in p.iter().zip(&labels) {
        // searchsorted(side="left"): the number of inner edges strictly below pi.
        let b = inner.partition_point(|&e| e < pi);
        count[b] += 1;
        sum_p[b] += pi;
        sum_y[b] += f64::from(u8::from(yi));
    }
    Ok((0..n_bins)
        .filter(|&b| count[b] > 0)
        .map(|b| CalibrationRow {
            bin: b,
            lower: edges[b],
            upper: edges[b + 1],
            count: count[b],
            mean_predicted: sum_p[b] / count[b] as f64,
            observed_rate: sum_y[b] / count[b] as f64,
        })
        .collect())
}
