//! L2-regularised logistic regression on standardised features, fitted with
//! [`linfa_logistic`] (L-BFGS with a Moré-Thuente line search).
//!
//! # Regularisation: scikit-learn's `C` and linfa's `alpha`
//!
//! scikit-learn's `LogisticRegression(C)` minimises
//! `0.5 * ||w||^2 + C * sum_i logloss_i` with the intercept unpenalised.
//! linfa-logistic 0.8.1 (`logistic_loss` in its `lib.rs`) minimises
//! `sum_i logloss_i + 0.5 * alpha * ||w||^2`, also leaving the intercept out of `||w||`
//! (`convert_params` splits it off before the penalty). Dividing scikit-learn's objective by
//! `C` gives linfa's with **`alpha = 1 / C`**, the same minimiser. So `C = 1` is `alpha = 1`.
//!
//! linfa-logistic ignores sample weights (its `fit` reads only records and targets), so
//! [`LogisticValidParams::fit`] refuses them with [`ModelError::WeightsUnsupported`] rather
//! than silently fitting unweighted.

use std::collections::BTreeMap;

use linfa::prelude::*;
use ndarray::{Array1, Array2, ArrayView2, Axis};
use serde::{Deserialize, Serialize};

use crate::input::{check_features, check_training};
use crate::{ChurnClassifier, ModelError, StandardScaler};

/// Hyper-parameters of [`LogisticModel`], unchecked: setters never fail, [`Self::check`]
/// validates and [`Self::fit`] checks then fits.
///
/// | Name | Default | Purpose | Range |
/// |---|---|---|---|
/// | `c` | 1.0 | inverse L2 strength, as scikit-learn's `C` (linfa `alpha = 1 / c`) | `(0, inf)` |
/// | `max_iterations` | 1000 | L-BFGS iteration cap | `>= 1` |
/// | `gradient_tolerance` | 1e-9 | stop when the L2 norm of the gradient of the *mean* penalised log loss is below this (passed to linfa multiplied by the row count, since linfa's objective is a sum) | `(0, inf)` |
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogisticParams(LogisticValidParams);

/// Checked hyper-parameters of [`LogisticModel`] (see [`LogisticParams`] for the table).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogisticValidParams {
    c: f64,
    max_iterations: u64,
    gradient_tolerance: f64,
}

impl Default for LogisticParams {
    fn default() -> Self {
        Self::new()
    }
}

impl LogisticParams {
    /// The defaults of the table above (scikit-learn's `C = 1`).
    pub fn new() -> Self {
        Self(LogisticValidParams {
            c: 1.0,
            max_iterations: 1000,
            gradient_tolerance: 1e-9,
        })
    }

    /// Sets the inverse regularisation strength `C`.
    pub fn c(mut self, c: f64) -> Self {
        self.0.c = c;
        self
    }

    /// Sets the L-BFGS iteration cap.
    pub fn max_iterations(mut self, n: u64) -> Self {
        self.0.max_iterations = n;
        self
    }

    /// Sets the gradient tolerance (on the mean objective).
    pub fn gradient_tolerance(mut self, tol: f64) -> Self {
        self.0.gradient_tolerance = tol;
        self
    }

    /// Validates the hyper-parameters.
    pub fn check_ref(&self) -> Result<&LogisticValidParams, ModelError> {
        let p = &self.0;
        if !(p.c.is_finite() && p.c > 0.0) {
            return Err(ModelError::InvalidParam {
                name: "c",
                reason: format!("{} is not a finite number > 0", p.c),
            });
        }
        if p.max_iterations == 0 {
            return Err(ModelError::InvalidParam {
                name: "max_iterations",
                reason: "must be at least 1".into(),
            });
        }
        if !(p.gradient_tolerance.is_finite() && p.gradient_tolerance > 0.0) {
            return Err(ModelError::InvalidParam {
                name: "gradient_tolerance",
                reason: format!("{} is not a finite number > 0", p.gradient_tolerance),
            });
        }
        Ok(p)
    }

    /// Validates the hyper-parameters, consuming them.
    pub fn check(self) -> Result<LogisticValidParams, ModelError> {
        self.check_ref()?;
        Ok(self.0)
    }

    /// Checks the hyper-parameters, then fits (see [`LogisticValidParams::fit`]).
    pub fn fit(
        &self,
        x: ArrayView2<f64>,
        y: &[bool],
        weights: Option<&[f64]>,
    ) -> Result<LogisticModel, ModelError> {
        self.check_ref()?.fit(x, y, weights)
    }
}

impl LogisticValidParams {
    /// Inverse regularisation strength `C`.
    pub fn c(&self) -> f64 {
        self.c
    }

    /// L-BFGS iteration cap.
    pub fn max_iterations(&self) -> u64 {
        self.max_iterations
    }

    /// Gradient tolerance on the mean objective.
    pub fn gradient_tolerance(&self) -> f64 {
        self.gradient_tolerance
    }

    /// The hyper-parameters by name, for a model card.
    pub fn to_record(&self) -> BTreeMap<String, serde_json::Value> {
        BTreeMap::from([
            ("c".into(), self.c.into()),
            ("max_iterations".into(), self.max_iterations.into()),
            ("gradient_tolerance".into(), self.gradient_tolerance.into()),
            ("standardize".into(), true.into()),
        ])
    }

    /// Standardises `x` ([`StandardScaler`]), then fits `P(churned) = sigmoid(b + w . z)`
    /// by L2-penalised maximum likelihood (see the module docs for the penalty).
    /// `y[i]` is true when client `i` churned. Sample weights are not supported: `Some`
    /// gives [`ModelError::WeightsUnsupported`].
    pub fn fit(
        &self,
        x: ArrayView2<f64>,
        y: &[bool],
        weights: Option<&[f64]>,
    ) -> Result<LogisticModel, ModelError> {
        check_training(x, y, weights)?;
        if weights.is_some() {
            return Err(ModelError::WeightsUnsupported {
                kind: LogisticModel::KIND,
            });
        }
        let scaler = StandardScaler::fit(x);
        let z = scaler.transform(x);
        let fit_err = |e: linfa_logistic::error::Error| ModelError::Fit {
            kind: LogisticModel::KIND,
            message: e.to_string(),
        };
        let data = Dataset::new(z, Array1::from(y.to_vec()));
        let fitted = linfa_logistic::LogisticRegression::default()
            .alpha(1.0 / self.c)
            .with_intercept(true)
            .max_iterations(self.max_iterations)
            .gradient_tolerance(self.gradient_tolerance * y.len() as f64)
            .fit(&data)
            .map_err(fit_err)?;
        // linfa's probabilities are those of its "positive" class, the more frequent label.
        let sign = if fitted.labels().pos.class { 1.0 } else { -1.0 };
        let coef: Vec<f64> = fitted.params().iter().map(|w| sign * w).collect();
        let intercept = sign * fitted.intercept();
        if !intercept.is_finite() || coef.iter().any(|w| !w.is_finite()) {
            return Err(ModelError::Fit {
                kind: LogisticModel::KIND,
                message: "the optimiser returned non-finite coefficients".into(),
            });
        }
        Ok(LogisticModel {
            scaler,
            coef,
            intercept,
        })
    }
}

/// A fitted logistic regression: `P(churned | x) = sigmoid(intercept + sum_j coef_j * z_j)`
/// with `z_j = (x_j - mean_j) / scale_j` (the scaler learnt at fit time). Keeps no training
/// data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogisticModel {
    scaler: StandardScaler,
    coef: Vec<f64>,
    intercept: f64,
}

impl LogisticModel {
    /// The kind written in model cards.
    pub const KIND: &'static str = "logistic_regression";

    /// Coefficients on the standardised features, in feature order (positive = raises the
    /// churn probability).
    pub fn coefficients(&self) -> &[f64] {
        &self.coef
    }

    /// Intercept (log-odds of churn for a client at the training means).
    pub fn intercept(&self) -> f64 {
        self.intercept
    }

    /// The standardisation learnt at fit time.
    pub fn scaler(&self) -> &StandardScaler {
        &self.scaler
    }

    /// Log-odds of churn per row.
    pub fn decision_function(&self, x: ArrayView2<f64>) -> Result<Array1<f64>, ModelError> {
        check_features(x, self.coef.len())?;
        Ok(self.logits(x))
    }

    fn logits(&self, x: ArrayView2<f64>) -> Array1<f64> {
        let (mean, scale) = (self.scaler.mean(), self.scaler.scale());
        x.axis_iter(Axis(0))
            .map(|row| {
                row.iter().enumerate().fold(self.intercept, |acc, (j, v)| {
                    acc + self.coef[j] * ((v - mean[j]) / scale[j])
                })
            })
            .collect()
    }
}

fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

impl ChurnClassifier for LogisticModel {
    fn kind(&self) -> &'static str {
        Self::KIND
    }

    fn n_features(&self) -> usize {
        self.coef.len()
    }

    fn predict_proba(&self, x: ArrayView2<f64>) -> Result<Array1<f64>, ModelError> {
        Ok(self.decision_function(x)?.mapv_into(sigmoid))
    }

    /// `coef_j * z_j` per row and feature: the row's log-odds are the intercept plus the
    /// row sum.
    fn contributions(&self, x: ArrayView2<f64>) -> Result<Option<Array2<f64>>, ModelError> {
        check_features(x, self.coef.len())?;
        let mut z = self.scaler.transform(x);
        for (j, mut col) in z.axis_iter_mut(Axis(1)).enumerate() {
            col *= self.coef[j];
        }
        Ok(Some(z))
    }

    /// `|coef_j|` on the standardised scale, normalised to sum to 1 (all 0 if every
    /// coefficient is 0).
    fn feature_importances(&self) -> Vec<f64> {
        normalized(self.coef.iter().map(|w| w.abs()).collect())
    }
}

/// Scales non-negative values to sum to 1 (leaves an all-zero vector alone).
pub(crate) fn normalized(mut v: Vec<f64>) -> Vec<f64> {
    let total: f64 = v.iter().sum();
    if total > 0.0 {
        v.iter_mut().for_each(|x| *x /= total);
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    fn toy() -> (Array2<f64>, Vec<bool>) {
        // Churn rises with column 0 (days since last purchase); column 1 is constant.
        let x = array![
            [1.0, 7.0],
            [2.0, 7.0],
            [3.0, 7.0],
            [4.0, 7.0],
            [5.0, 7.0],
            [6.0, 7.0],
            [7.0, 7.0],
            [8.0, 7.0]
        ];
        let y = vec![false, false, true, false, true, false, true, true];
        (x, y)
    }

    #[test]
    fn fits_a_monotone_signal_and_ignores_a_constant_column() {
        let (x, y) = toy();
        let m = LogisticParams::new().fit(x.view(), &y, None).unwrap();
        assert!(m.coefficients()[0] > 0.0);
        assert_eq!(m.coefficients()[1], 0.0);
        let p = m.predict_proba(x.view()).unwrap();
        assert!(p.windows(2).into_iter().all(|w| w[0] < w[1]));
        let c = m.contributions(x.view()).unwrap().unwrap();
        let logit = m.decision_function(x.view()).unwrap();
        for i in 0..x.nrows() {
            assert!((c.row(i).sum() + m.intercept() - logit[i]).abs() < 1e-12);
        }
        assert_eq!(m.feature_importances(), vec![1.0, 0.0]);
    }

    #[test]
    fn minority_churn_keeps_the_sign() {
        // Same data with labels flipped and x negated: P(churn) must still follow the data
        // whichever class linfa calls positive.
        let (x, y) = toy();
        let y2: Vec<bool> = y.iter().map(|c| !c).collect();
        let m1 = LogisticParams::new().fit(x.view(), &y, None).unwrap();
        let m2 = LogisticParams::new().fit(x.view(), &y2, None).unwrap();
        let p1 = m1.predict_proba(x.view()).unwrap();
        let p2 = m2.predict_proba(x.view()).unwrap();
        for (a, b) in p1.iter().zip(&p2) {
            assert!((a + b - 1.0).abs() < 1e-6, "{a} + {b}");
        }
    }

    #[test]
    fn refuses_bad_params_and_weights() {
        let (x, y) = toy();
        for p in [
            LogisticParams::new().c(0.0),
            LogisticParams::new().c(f64::NAN),
            LogisticParams::new().max_iterations(0),
            LogisticParams::new().gradient_tolerance(-1.0),
        ] {
            assert!(matches!(
                p.fit(x.view(), &y, None),
                Err(ModelError::InvalidParam { .. })
            ));
        }
        let w = vec![1.0; y.len()];
        assert!(matches!(
            LogisticParams::new().fit(x.view(), &y, Some(&w)),
            Err(ModelError::WeightsUnsupported { .. })
        ));
        let m = LogisticParams::new().fit(x.view(), &y, None).unwrap();
        let bad = array![[1.0, 2.0, 3.0]];
        assert!(matches!(
            m.predict_proba(bad.view()),
            Err(ModelError::ColumnCount {
                expected: 2,
                found: 3
            })
        ));
    }
}
