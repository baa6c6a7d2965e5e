//! Probability calibration: Platt scaling and isotonic regression, fitted on a held-out
//! slice of the training set (never on the evaluation set), and [`Calibrated`], a churn
//! classifier that applies one to a base model.
//!
//! - **Platt** (Platt 1999, "Probabilistic outputs for support vector machines", eq. 1):
//!   `p' = sigmoid(a * logit(p) + b)`, a one-feature logistic regression on the base
//!   model's log-odds, fitted by Newton's method with Platt's smoothed targets
//!   `(N+ + 1) / (N+ + 2)` for churned rows and `1 / (N- + 2)` for retained rows (as
//!   scikit-learn's `_sigmoid_calibration`). `logit(p)` uses `p` clipped to
//!   `[1e-15, 1 - 1e-15]`, so a tree's exact 0 or 1 stays finite.
//! - **Isotonic** (pool-adjacent-violators, Ayer et al. 1955; Barlow et al. 1972): the
//!   non-decreasing step function of the score closest to the labels in weighted squared
//!   error. Ties: rows with equal scores are first merged into one point (weight = their
//!   count, label = their churned share), so equal scores always get equal calibrated
//!   values (de Leeuw's "secondary" approach, as scikit-learn). Prediction: linear
//!   interpolation between the ends of the pooled blocks, and constant beyond the
//!   smallest and largest calibration scores (scikit-learn's `out_of_bounds="clip"`). The
//!   output can be exactly 0 or 1 at the ends; log loss clips it, Brier does not mind.

use ndarray::{Array1, Array2, ArrayView2};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};

use crate::{
    AnyClassifier, ChurnClassifier, Explanation, ExplanationScale, ModelError, rescale_monotone,
};

/// Platt's input clip: `logit(p)` of `p` in `[EPS, 1 - EPS]`. A forest's exact 0 and 1 votes
/// would otherwise sit at +-34.5 and flatten the fitted slope; at 1e-3 they sit at +-6.9, just
/// beyond the log-odds of one vote in 300 trees.
const EPS: f64 = 1e-3;

fn logit(p: f64) -> f64 {
    let p = p.clamp(EPS, 1.0 - EPS);
    (p / (1.0 - p)).ln()
}

fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

/// Which calibrator to fit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CalibrationMethod {
    /// [`Calibrator::Platt`].
    Platt,
    /// [`Calibrator::Isotonic`].
    Isotonic,
}

/// A fitted map from a base model's `P(churned)` to a calibrated one (module docs).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case")]
pub enum Calibrator {
    /// `p' = sigmoid(a * logit(p) + b)`.
    Platt {
        /// Slope on the base log-odds.
        a: f64,
        /// Intercept.
        b: f64,
    },
    /// A non-decreasing piecewise-linear map through the knots `(x[k], y[k])`, `x`
    /// non-decreasing (a block's first and last score), constant outside `[x[0], x[last]]`.
    Isotonic {
        /// Knot scores (base probabilities).
        x: Vec<f64>,
        /// Calibrated probabilities at the knots.
        y: Vec<f64>,
    },
}

fn check_pairs(scores: &[f64], y: &[bool]) -> Result<(), ModelError> {
    if scores.is_empty() {
        return Err(ModelError::NoRows);
    }
    if scores.len() != y.len() {
        return Err(ModelError::LengthMismatch {
            what: "labels",
            rows: scores.len(),
            found: y.len(),
        });
    }
    if let Some((row, &value)) = scores.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        return Err(ModelError::NonFinite {
            row,
            column: 0,
            value,
        });
    }
    if y.iter().all(|&c| c == y[0]) {
        return Err(ModelError::SingleClass(y[0]));
    }
    Ok(())
}

impl Calibrator {
    /// Fits the calibrator `method` on base probabilities `scores` and labels `y`
    /// (true = churned).
    pub fn fit(method: CalibrationMethod, scores: &[f64], y: &[bool]) -> Result<Self, ModelError> {
        match method {
            CalibrationMethod::Platt => Self::fit_platt(scores, y),
            CalibrationMethod::Isotonic => Self::fit_isotonic(scores, y),
        }
    }

    /// Platt scaling on `logit(scores)` (module docs), by Newton's method with step halving
    /// on the mean cross-entropy.
    pub fn fit_platt(scores: &[f64], y: &[bool]) -> Result<Self, ModelError> {
        check_pairs(scores, y)?;
        let f: Vec<f64> = scores.iter().map(|&p| logit(p)).collect();
        let n_pos = y.iter().filter(|&&c| c).count() as f64;
        let n_neg = y.len() as f64 - n_pos;
        let (t_pos, t_neg) = ((n_pos + 1.0) / (n_pos + 2.0), 1.0 / (n_neg + 2.0));
        let t: Vec<f64> = y.iter().map(|&c| if c { t_pos } else { t_neg }).collect();
        let n = f.len() as f64;
        let loss = |a: f64, b: f64| -> f64 {
            f.iter()
                .zip(&t)
                .map(|(fi, ti)| {
                    // Stable cross-entropy: log(1 + e^z) - t z.
                    let z = a * fi + b;
                    let softplus = if z > 0.0 {
                        z + (-z).exp().ln_1p()
                    } else {
                        z.exp().ln_1p()
                    };
                    softplus - ti * z
                })
                .sum::<f64>()
                / n
        };
        let (mut a, mut b) = (0.0, ((n_pos + 1.0) / (n_neg + 1.0)).ln());
        let mut current = loss(a, b);
        for _ in 0..100 {
            let (mut ga, mut gb, mut haa, mut hab, mut hbb) = (0.0, 0.0, 0.0, 0.0, 0.0);
            for (fi, ti) in f.iter().zip(&t) {
                let p = sigmoid(a * fi + b);
                let (d, w) = (p - ti, p * (1.0 - p));
                ga += d * fi;
                gb += d;
                haa += w * fi * fi;
                hab += w * fi;
                hbb += w;
            }
            let (ga, gb) = (ga / n, gb / n);
            if ga.hypot(gb) < 1e-10 {
                break;
            }
            // A tiny ridge keeps the 2x2 system solvable when every score is equal.
            let (haa, hab, hbb) = (haa / n + 1e-12, hab / n, hbb / n + 1e-12);
            let det = haa * hbb - hab * hab;
            let (da, db) = if det > 0.0 {
                ((hbb * ga - hab * gb) / det, (haa * gb - hab * ga) / det)
            } else {
                (ga, gb)
            };
            let mut step = 1.0;
            let mut improved = false;
            while step > 1e-10 {
                let (na, nb) = (a - step * da, b - step * db);
                let l = loss(na, nb);
                if l <= current {
                    (a, b, current) = (na, nb, l);
                    improved = true;
                    break;
                }
                step /= 2.0;
            }
            if !improved {
                break;
            }
        }
        if !(a.is_finite() && b.is_finite()) {
            return Err(ModelError::Fit {
                kind: Calibrated::KIND,
                message: "Platt scaling diverged".into(),
            });
        }
        Ok(Self::Platt { a, b })
    }

    /// Isotonic regression by pool-adjacent-violators, ties merged first (module docs).
    pub fn fit_isotonic(scores: &[f64], y: &[bool]) -> Result<Self, ModelError> {
        check_pairs(scores, y)?;
        let labels: Vec<f64> = y.iter().map(|&c| f64::from(u8::from(c))).collect();
        let (x, y) = pav(scores, &labels, None);
        Ok(Self::Isotonic { x, y })
    }

    /// The calibrated probability of one base probability.
    pub fn apply(&self, p: f64) -> f64 {
        match self {
            Self::Platt { a, b } => sigmoid(a * logit(p) + b),
            Self::Isotonic { x, y } => interpolate(x, y, p),
        }
    }

    /// [`Self::apply`] to every entry.
    pub fn transform(&self, p: &Array1<f64>) -> Array1<f64> {
        p.mapv(|v| self.apply(v))
    }
}

/// Pool-adjacent-violators: the weighted least-squares non-decreasing fit of `v` on `s`.
/// Returns the knots: for each pooled block, its first and last distinct score (once if
/// equal) with the block mean.
pub(crate) fn pav(s: &[f64], v: &[f64], w: Option<&[f64]>) -> (Vec<f64>, Vec<f64>) {
    let mut order: Vec<usize> = (0..s.len()).collect();
    order.sort_by(|&i, &j| s[i].total_cmp(&s[j]));
    // Blocks: (first score, last score, sum of w * v, sum of w).
    let mut blocks: Vec<(f64, f64, f64, f64)> = Vec::new();
    let mut k = 0;
    while k < order.len() {
        // Merge tied scores into one point first.
        let x = s[order[k]];
        let (mut sv, mut sw) = (0.0, 0.0);
        while k < order.len() && s[order[k]] == x {
            let wi = w.map_or(1.0, |w| w[order[k]]);
            sv += wi * v[order[k]];
            sw += wi;
            k += 1;
        }
        if sw == 0.0 {
            continue;
        }
        blocks.push((x, x, sv, sw));
        // Pool while the last two blocks violate monotonicity.
        while blocks.len() > 1 {
            let (l, p) = (blocks[blocks.len() - 1], blocks[blocks.len() - 2]);
            if p.2 / p.3 > l.2 / l.3 {
                blocks.pop();
                let last = blocks.len() - 1;
                blocks[last] = (p.0, l.1, p.2 + l.2, p.3 + l.3);
            } else {
                break;
            }
        }
    }
    let (mut kx, mut ky) = (Vec::new(), Vec::new());
    for (first, last, sv, sw) in blocks {
        let m = sv / sw;
        kx.push(first);
        ky.push(m);
        if last != first {
            kx.push(last);
            ky.push(m);
        }
    }
    (kx, ky)
}

/// Piecewise-linear interpolation through non-decreasing knots, constant outside them.
fn interpolate(x: &[f64], y: &[f64], p: f64) -> f64 {
    let last = x.len() - 1;
    if p <= x[0] {
        return y[0];
    }
    if p >= x[last] {
        return y[last];
    }
    // First knot strictly above p; p > x[0] so k >= 1.
    let k = x.partition_point(|&v| v <= p);
    let (x0, x1, y0, y1) = (x[k - 1], x[k], y[k - 1], y[k]);
    if x1 == x0 {
        y1
    } else {
        y0 + (y1 - y0) * (p - x0) / (x1 - x0)
    }
}

/// Splits `0..n_rows` into (fit rows, calibration rows): a seeded shuffle, then the first
/// `round(holdout_fraction * n_rows)` shuffled rows (at least 1, at most `n_rows - 1`) are
/// held out for calibration. Both lists come back sorted.
pub fn holdout_split(
    n_rows: usize,
    holdout_fraction: f64,
    seed: u64,
) -> Result<(Vec<usize>, Vec<usize>), ModelError> {
    if !(holdout_fraction > 0.0 && holdout_fraction < 1.0) {
        return Err(ModelError::InvalidParam {
            name: "holdout_fraction",
            reason: format!("{holdout_fraction} is not in (0, 1)"),
        });
    }
    if n_rows < 2 {
        return Err(ModelError::NoRows);
    }
    let mut idx: Vec<usize> = (0..n_rows).collect();
    idx.shuffle(&mut rand_chacha::ChaCha8Rng::seed_from_u64(seed));
    let k = ((holdout_fraction * n_rows as f64).round() as usize).clamp(1, n_rows - 1);
    let mut held = idx[..k].to_vec();
    let mut fit = idx[k..].to_vec();
    held.sort_unstable();
    fit.sort_unstable();
    Ok((fit, held))
}

/// A churn classifier whose probabilities pass through a [`Calibrator`]. Contributions and
/// feature importances are the base model's (on its own scale: both calibrators are
/// monotone, so they keep the order of the base log-odds; isotonic steps can tie rows).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Calibrated {
    model: AnyClassifier,
    calibrator: Calibrator,
}

impl Calibrated {
    /// The kind written in model cards (the base kind is in the artifact's model).
    pub const KIND: &'static str = "calibrated";

    /// Wraps a fitted model and a fitted calibrator.
    pub fn new(model: AnyClassifier, calibrator: Calibrator) -> Self {
        Self { model, calibrator }
    }

    /// Fits `method` on `model`'s probabilities for the held-out rows `x_cal`, `y_cal`
    /// (rows the model was not fitted on).
    pub fn fit(
        model: AnyClassifier,
        method: CalibrationMethod,
        x_cal: ArrayView2<f64>,
        y_cal: &[bool],
    ) -> Result<Self, ModelError> {
        let p = model.predict_proba(x_cal)?.to_vec();
        let calibrator = Calibrator::fit(method, &p, y_cal)?;
        Ok(Self { model, calibrator })
    }

    /// The base model.
    pub fn base(&self) -> &AnyClassifier {
        &self.model
    }

    /// The calibrator.
    pub fn calibrator(&self) -> &Calibrator {
        &self.calibrator
    }
}

impl ChurnClassifier for Calibrated {
    fn kind(&self) -> &'static str {
        Self::KIND
    }

    fn n_features(&self) -> usize {
        self.model.n_features()
    }

    fn predict_proba(&self, x: ArrayView2<f64>) -> Result<Array1<f64>, ModelError> {
        Ok(self.calibrator.transform(&self.model.predict_proba(x)?))
    }

    /// The base model's contributions, unchanged.
    fn contributions(&self, x: ArrayView2<f64>) -> Result<Option<Array2<f64>>, ModelError> {
        self.model.contributions(x)
    }

    /// Probability: the base model's explanation put through [`rescale_monotone`] with
    /// `g(s)` = the calibrated probability of base score `s` (`s` on the base model's
    /// scale: log-odds or probability). The baseline is `g` of the base model's baseline;
    /// each row's values are the base values times `(p_cal - g(base)) / (s - base)`, so
    /// they keep their signs (both calibrators are non-decreasing when fitted on data
    /// where churn rises with the score) and add up to the calibrated probability.
    fn explain(&self, x: ArrayView2<f64>) -> Result<Explanation, ModelError> {
        let e = self.model.explain(x)?;
        let to_probability: fn(f64) -> f64 = match e.scale {
            ExplanationScale::LogOdds => crate::logistic::sigmoid,
            ExplanationScale::Probability => |p: f64| p,
            ExplanationScale::Score => {
                return Err(ModelError::NoExplanation { kind: Self::KIND });
            }
        };
        let base = self.calibrator.apply(to_probability(e.base));
        let p = self.predict_proba(x)?;
        rescale_monotone(
            &e,
            p.as_slice().expect("a contiguous vector"),
            base,
            ExplanationScale::Probability,
        )
    }

    /// The calibrated probability (the rescaled explanation's scores).
    fn explanation_scores(&self, x: ArrayView2<f64>) -> Result<Array1<f64>, ModelError> {
        self.predict_proba(x)
    }

    fn feature_importances(&self) -> Vec<f64> {
        self.model.feature_importances()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    #[test]
    fn pav_pools_violators_on_hand_examples() {
        // 1, 3, 2, 4 -> the violating pair (3, 2) pools to 2.5.
        let (x, y) = pav(&[1.0, 2.0, 3.0, 4.0], &[1.0, 3.0, 2.0, 4.0], None);
        assert_eq!(x, vec![1.0, 2.0, 3.0, 4.0]);
        assert_eq!(y, vec![1.0, 2.5, 2.5, 4.0]);
        // A decreasing run pools entirely: mean of 3, 2, 1 = 2.
        let (x, y) = pav(&[0.1, 0.2, 0.3], &[3.0, 2.0, 1.0], None);
        assert_eq!((x, y), (vec![0.1, 0.3], vec![2.0, 2.0]));
        // Cascading pool: 1, 4, 5, 0 -> (4, 5, 0) pools to 3, then (1, 3) is fine... but
        // 1 <= 3, so blocks are [1], [3, 3, 3].
        let (_, y) = pav(&[1.0, 2.0, 3.0, 4.0], &[1.0, 4.0, 5.0, 0.0], None);
        assert_eq!(y, vec![1.0, 3.0, 3.0]);
        // Weights: (2 at weight 3, 0 at weight 1) pool to 1.5.
        let (_, y) = pav(&[1.0, 2.0], &[2.0, 0.0], Some(&[3.0, 1.0]));
        assert_eq!(y, vec![1.5, 1.5]);
        // Ties merge before pooling, whatever their input order: scores 0.5 (x3) with
        // labels 0, 1, 1 -> one point at 2/3.
        let (x, y) = pav(&[0.5, 0.2, 0.5, 0.5], &[0.0, 0.0, 1.0, 1.0], None);
        assert_eq!(x, vec![0.2, 0.5]);
        assert!((y[1] - 2.0 / 3.0).abs() < 1e-15 && y[0] == 0.0);
    }

    #[test]
    fn isotonic_is_monotone_and_interpolates() {
        let s = [0.1, 0.2, 0.3, 0.4, 0.6, 0.8];
        let y = [false, true, false, false, true, true];
        let c = Calibrator::fit_isotonic(&s, &y).unwrap();
        let Calibrator::Isotonic { x: kx, y: ky } = &c else {
            panic!("{c:?}")
        };
        assert!(ky.windows(2).all(|w| w[0] <= w[1]));
        assert!(kx.windows(2).all(|w| w[0] <= w[1]));
        // Blocks: [0.1] -> 0, [0.2, 0.3, 0.4] -> 1/3, [0.6, 0.8] -> 1.
        assert_eq!(c.apply(0.1), 0.0);
        assert!((c.apply(0.3) - 1.0 / 3.0).abs() < 1e-15);
        assert!((c.apply(0.5) - (1.0 / 3.0 + 2.0 / 3.0 * 0.5)).abs() < 1e-12);
        assert_eq!(c.apply(0.0), 0.0);
        assert_eq!(c.apply(0.99), 1.0);
        let grid: Vec<f64> = (0..=100).map(|i| c.apply(f64::from(i) / 100.0)).collect();
        assert!(grid.windows(2).all(|w| w[0] <= w[1]));
        assert!(matches!(
            Calibrator::fit_isotonic(&s, &[true; 6]),
            Err(ModelError::SingleClass(true))
        ));
        assert!(Calibrator::fit_isotonic(&[0.1, f64::NAN], &[true, false]).is_err());
    }

    #[test]
    fn platt_recovers_known_slope_and_intercept() {
        // Base log-odds f ~ N(0, 1.5^2); true P(churned | f) = sigmoid(0.6 f - 0.4).
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let n = 40_000;
        let (mut s, mut y) = (Vec::with_capacity(n), Vec::with_capacity(n));
        for _ in 0..n {
            let u: f64 = rng.random::<f64>().max(1e-12);
            let v: f64 = rng.random();
            let f = 1.5 * (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos();
            s.push(sigmoid(f));
            y.push(rng.random::<f64>() < sigmoid(0.6 * f - 0.4));
        }
        let Calibrator::Platt { a, b } = Calibrator::fit_platt(&s, &y).unwrap() else {
            unreachable!()
        };
        assert!((a - 0.6).abs() < 0.03, "a = {a}");
        assert!((b + 0.4).abs() < 0.03, "b = {b}");
        // Identity on already calibrated scores (a = 1, b = 0).
        let y2: Vec<bool> = s.iter().map(|&p| rng.random::<f64>() < p).collect();
        let Calibrator::Platt { a, b } = Calibrator::fit_platt(&s, &y2).unwrap() else {
            unreachable!()
        };
        assert!((a - 1.0).abs() < 0.04 && b.abs() < 0.04, "a = {a}, b = {b}");
    }

    #[test]
    fn holdout_split_is_seeded_and_disjoint() {
        let (fit, held) = holdout_split(100, 0.25, 3).unwrap();
        assert_eq!((fit.len(), held.len()), (75, 25));
        assert!(held.iter().all(|i| !fit.contains(i)));
        assert_eq!(holdout_split(100, 0.25, 3).unwrap().1, held);
        assert_ne!(holdout_split(100, 0.25, 4).unwrap().1, held);
        assert!(holdout_split(100, 1.0, 3).is_err());
    }
}
