//! Percentile-bootstrap confidence intervals for any metric.
//!
//! A metric is a closure over **resampled row indices**: it receives `n` indices drawn uniformly
//! with replacement from `0..n` and returns the metric of those rows (see [`resample`] to gather
//! the rows). The interval is the percentile interval of Efron & Tibshirani (1993, *An
//! Introduction to the Bootstrap*, ch. 13): the `(1 - level) / 2` and `(1 + level) / 2` quantiles
//! of the `B` replicates, interpolated linearly as `numpy.percentile`.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::error::EvalError;

/// The default seed, so that intervals are reproducible unless a seed is chosen.
pub const DEFAULT_SEED: u64 = 20_130_901;

/// Settings of a percentile bootstrap.
///
/// | Name | Default | Purpose | Range |
/// |---|---|---|---|
/// | `n_resamples` | 1000 | B, the number of bootstrap resamples | >= 1 |
/// | `level` | 0.95 | coverage of the interval | (0, 1) |
/// | `seed` | [`DEFAULT_SEED`] | seed of the ChaCha8 generator | any |
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BootstrapParams {
    /// B, the number of resamples.
    pub n_resamples: usize,
    /// Coverage of the interval, e.g. 0.95.
    pub level: f64,
    /// Seed of the `ChaCha8Rng` drawing the resamples.
    pub seed: u64,
}

impl Default for BootstrapParams {
    fn default() -> Self {
        Self {
            n_resamples: 1000,
            level: 0.95,
            seed: DEFAULT_SEED,
        }
    }
}

impl BootstrapParams {
    /// Sets B, the number of resamples.
    pub fn n_resamples(mut self, n_resamples: usize) -> Self {
        self.n_resamples = n_resamples;
        self
    }

    /// Sets the coverage level.
    pub fn level(mut self, level: f64) -> Self {
        self.level = level;
        self
    }

    /// Sets the seed.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Validates the settings.
    ///
    /// # Errors
    /// [`EvalError::InvalidParameter`] if `n_resamples` is 0 or `level` is not in (0, 1).
    pub fn check(&self) -> Result<(), EvalError> {
        if self.n_resamples == 0 {
            return Err(EvalError::InvalidParameter {
                name: "n_resamples",
                reason: "must be at least 1".into(),
            });
        }
        if !(self.level > 0.0 && self.level < 1.0) {
            return Err(EvalError::InvalidParameter {
                name: "level",
                reason: format!("must lie in (0, 1), got {}", self.level),
            });
        }
        Ok(())
    }
}

/// A point estimate with its bootstrap interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Interval {
    /// The metric on the original rows (indices `0..n` in order).
    pub estimate: f64,
    /// Lower bound: the `(1 - level) / 2` quantile of the finite replicates.
    pub lower: f64,
    /// Upper bound: the `(1 + level) / 2` quantile of the finite replicates.
    pub upper: f64,
    /// Coverage level of the interval.
    pub level: f64,
    /// Number of resamples drawn (B).
    pub n_resamples: usize,
    /// Resamples whose metric was not finite (e.g. a single class in the resample), left out of
    /// the quantiles.
    pub n_failed: usize,
}

/// Gathers the rows `idx` of `x` (a resample).
pub fn resample<T: Clone>(x: &[T], idx: &[usize]) -> Vec<T> {
    idx.iter().map(|&i| x[i].clone()).collect()
}

/// `numpy.percentile(sorted, 100 q)` (linear interpolation) of a sorted, non-empty slice.
fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    let h = (sorted.len() - 1) as f64 * q;
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

/// Percentile-bootstrap interval of `metric` over `n` rows.
///
/// Each of the `B` resamples draws `n` indices uniformly with replacement from `0..n` with a
/// `ChaCha8Rng` seeded by `params.seed`, so the result is deterministic for a seed. The metric
/// may return NaN (or an infinity) for a degenerate resample, e.g. `roc_auc(..).unwrap_or(f64::NAN)`
/// on a resample with one class: such replicates are counted in [`Interval::n_failed`] and left
/// out. Resamples are drawn sequentially; the closure is called `B + 1` times.
///
/// # Errors
/// [`EvalError::Empty`] if `n` is 0, [`EvalError::InvalidParameter`] from
/// [`BootstrapParams::check`] or if every replicate failed, [`EvalError::NonFinite`] if the
/// estimate itself is not finite.
///
/// # Example
/// ```
/// use retain_eval::{BootstrapParams, bootstrap, resample};
/// let x = [1.0, 4.0, 2.0, 8.0, 5.0, 7.0];
/// let mean = |idx: &[usize]| resample(&x, idx).iter().sum::<f64>() / idx.len() as f64;
/// let ci = bootstrap(x.len(), &BootstrapParams::default().n_resamples(200), mean).unwrap();
/// assert!(ci.lower <= ci.estimate && ci.estimate <= ci.upper);
/// ```
pub fn bootstrap<F>(n: usize, params: &BootstrapParams, metric: F) -> Result<Interval, EvalError>
where
    F: Fn(&[usize]) -> f64,
{
    params.check()?;
    if n == 0 {
        return Err(EvalError::Empty);
    }
    let all: Vec<usize> = (0..n).collect();
    let estimate = metric(&all);
    if !estimate.is_finite() {
        return Err(EvalError::NonFinite {
            what: "metric on the original sample",
            index: 0,
            value: estimate,
        });
    }
    let mut rng = ChaCha8Rng::seed_from_u64(params.seed);
    let mut idx = vec![0usize; n];
    let mut reps = Vec::with_capacity(params.n_resamples);
    for _ in 0..params.n_resamples {
        for slot in idx.iter_mut() {
            *slot = rng.random_range(0..n);
        }
        let m = metric(&idx);
        if m.is_finite() {
            reps.push(m);
        }
    }
    let n_failed = params.n_resamples - reps.len();
    if reps.is_empty() {
        return Err(EvalError::InvalidParameter {
            name: "metric",
            reason: format!("not finite on any of the {} resamples", params.n_resamples),
        });
    }
    reps.sort_unstable_by(f64::total_cmp);
    let tail = (1.0 - params.level) / 2.0;
    Ok(Interval {
        estimate,
        lower: quantile_sorted(&reps, tail),
        upper: quantile_sorted(&reps, 1.0 - tail),
        level: params.level,
        n_resamples: params.n_resamples,
        n_failed,
    })
}
