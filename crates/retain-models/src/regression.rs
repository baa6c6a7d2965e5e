//! Value regressors: what a client will spend over the horizon (`holdout_value`).
//!
//! - [`GradientBoostingRegressor`]: retain's histogram boosting with squared error (the
//!   engine of [`crate::GradientBoostingModel`]), configured after the
//!   peer's `LGBMRegressor(n_estimators=300, learning_rate=0.05)`, on the raw value or on
//!   `log1p(value)` with Duan's smearing correction ([`ValueTarget`]).
//! - [`TwoPartModel`]: `E[value] = P(buy) * E[spend | buy]`, with `P(buy) = 1 - P(churned)`
//!   from any fitted [`ChurnClassifier`] and the spend from a gradient-boosted regression of
//!   `log1p(value)` on the buyers only (see [`TwoPartParams`] for why).
//! - [`AnyRegressor`]: every value model kind (these two and [`RevenueRateBaseline`]), the
//!   one type saved and loaded as an artifact.

use std::collections::BTreeMap;
use std::sync::Arc;

use ndarray::{Array1, ArrayView2, Axis};
use serde::{Deserialize, Serialize};

use crate::gbdt::{self, Booster, Loss};
use crate::input::{check_features, check_finite};
use crate::logistic::normalized;
use crate::{
    AnyClassifier, ChurnClassifier, ClassWeight, GradientBoostingParams,
    GradientBoostingValidParams, ModelError, RevenueRateBaseline,
};

/// A fitted model of a client's value over the horizon (net revenue, in the data's
/// currency). Every method checks that `x` has [`Self::n_features`] finite columns in the
/// training `FeatureSchema` order.
pub trait ValueRegressor {
    /// The kind written in model cards, e.g. `gradient_boosting_regressor`.
    fn kind(&self) -> &'static str;

    /// Number of feature columns the model was fitted on.
    fn n_features(&self) -> usize;

    /// Expected value over the horizon, per row of `x`.
    fn predict(&self, x: ArrayView2<f64>) -> Result<Array1<f64>, ModelError>;
}

/// The scale a value regression is fitted on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ValueTarget {
    /// The value itself, squared error (LightGBM's L2 regression; what the peer does).
    #[default]
    Raw,
    /// `log1p(max(value, 0))`, squared error, then back-transformed with Duan's (1983)
    /// smearing estimate: `E[value | x] = s * exp(f(x)) - 1` with
    /// `s = weighted mean of exp(log1p(v_i) - f(x_i))` over the training rows (clipped at 0).
    /// Negative values (returns larger than purchases) count as 0. The residuals are
    /// in-sample, so `s` is biased low for a flexible model; it scales every prediction
    /// alike, so rankings (Spearman, Gini) do not depend on it, only MAE/RMSE and totals do.
    Log1p,
}

/// Hyper-parameters of [`GradientBoostingRegressor`]; setters never fail, [`Self::check`]
/// validates.
///
/// | Name | Default | Purpose | Range |
/// |---|---|---|---|
/// | `trees` | [`GradientBoostingParams`] with `min_leaf_weight = 20`, `l2 = 0` | tree settings (300 trees, learning rate 0.05, 31 leaves, seed 42; see that table) | its table; `class_weight` must stay `None` |
/// | `target` | [`ValueTarget::Raw`] | fit the raw value or `log1p` of it | see [`ValueTarget`] |
///
/// With squared error every row has hessian 1, so `min_leaf_weight = 20` is LightGBM's
/// `min_child_samples = 20`, and `l2 = 0` is its `lambda_l2` default. Sample weights are
/// supported. The fit is deterministic for a given seed and thread count.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GradientBoostingRegressorParams(GradientBoostingRegressorValidParams);

/// Checked hyper-parameters of [`GradientBoostingRegressor`] (table on
/// [`GradientBoostingRegressorParams`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GradientBoostingRegressorValidParams {
    trees: GradientBoostingParams,
    target: ValueTarget,
}

impl Default for GradientBoostingRegressorParams {
    fn default() -> Self {
        Self::new()
    }
}

impl GradientBoostingRegressorParams {
    /// The defaults of the table.
    pub fn new() -> Self {
        Self(GradientBoostingRegressorValidParams {
            trees: GradientBoostingParams::new().min_leaf_weight(20.0).l2(0.0),
            target: ValueTarget::Raw,
        })
    }

    /// Replaces the tree settings.
    pub fn trees(mut self, trees: GradientBoostingParams) -> Self {
        self.0.trees = trees;
        self
    }

    /// Sets the number of boosting rounds.
    pub fn n_trees(mut self, n: usize) -> Self {
        self.0.trees = self.0.trees.n_trees(n);
        self
    }

    /// Sets the learning rate.
    pub fn learning_rate(mut self, lr: f32) -> Self {
        self.0.trees = self.0.trees.learning_rate(lr);
        self
    }

    /// Sets the least number of (weighted) rows in a leaf.
    pub fn min_leaf_weight(mut self, w: f32) -> Self {
        self.0.trees = self.0.trees.min_leaf_weight(w);
        self
    }

    /// Sets the fitting threads.
    pub fn threads(mut self, n: usize) -> Self {
        self.0.trees = self.0.trees.threads(n);
        self
    }

    /// Sets the seed.
    pub fn seed(mut self, seed: u64) -> Self {
        self.0.trees = self.0.trees.seed(seed);
        self
    }

    /// Sets the target scale.
    pub fn target(mut self, target: ValueTarget) -> Self {
        self.0.target = target;
        self
    }

    /// Validates the hyper-parameters.
    pub fn check_ref(&self) -> Result<&GradientBoostingRegressorValidParams, ModelError> {
        let trees = self.0.trees.check_ref()?;
        if trees.class_weight_mode() != ClassWeight::None {
            return Err(ModelError::InvalidParam {
                name: "class_weight",
                reason: "class weights apply to classifiers, not to a value regression".into(),
            });
        }
        Ok(&self.0)
    }

    /// Validates the hyper-parameters, consuming them.
    pub fn check(self) -> Result<GradientBoostingRegressorValidParams, ModelError> {
        self.check_ref()?;
        Ok(self.0)
    }

    /// Checks, then fits (see [`GradientBoostingRegressorValidParams::fit`]).
    pub fn fit(
        &self,
        x: ArrayView2<f64>,
        value: &[f64],
        weights: Option<&[f64]>,
    ) -> Result<GradientBoostingRegressor, ModelError> {
        self.check_ref()?.fit(x, value, weights)
    }

    /// Checks, then fits the stages (see [`GradientBoostingRegressorValidParams::fit_staged`]).
    pub fn fit_staged(
        &self,
        x: ArrayView2<f64>,
        value: &[f64],
        weights: Option<&[f64]>,
        stages: &[usize],
    ) -> Result<Vec<GradientBoostingRegressor>, ModelError> {
        self.check_ref()?.fit_staged(x, value, weights, stages)
    }
}

/// Checks a regression training set: rows, finite features, one finite target per row,
/// weights (if any) finite, non-negative and not all zero.
fn check_value_training(
    x: ArrayView2<f64>,
    value: &[f64],
    weights: Option<&[f64]>,
) -> Result<(), ModelError> {
    if x.nrows() == 0 {
        return Err(ModelError::NoRows);
    }
    if x.ncols() == 0 {
        return Err(ModelError::ColumnCount {
            expected: 1,
            found: 0,
        });
    }
    if value.len() != x.nrows() {
        return Err(ModelError::LengthMismatch {
            what: "values",
            rows: x.nrows(),
            found: value.len(),
        });
    }
    check_finite(x)?;
    if let Some((row, &v)) = value.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        return Err(ModelError::InvalidParam {
            name: "value",
            reason: format!("target {row} is {v}: values must be finite"),
        });
    }
    crate::input::check_weights(x.nrows(), weights)
}

impl GradientBoostingRegressorValidParams {
    /// The hyper-parameters by name, for a model card.
    pub fn to_record(&self) -> BTreeMap<String, serde_json::Value> {
        let mut r = self
            .trees
            .check_ref()
            .map(GradientBoostingValidParams::to_record)
            .unwrap_or_default();
        r.remove("class_weight");
        r.insert("objective".into(), "squared_error".into());
        r.insert(
            "target".into(),
            match self.target {
                ValueTarget::Raw => "raw",
                ValueTarget::Log1p => "log1p_smearing",
            }
            .into(),
        );
        r
    }

    /// Boosts squared-error trees on raw features towards `value` (or `log1p` of it, see
    /// [`ValueTarget`]), starting from the (weighted) mean target.
    pub fn fit(
        &self,
        x: ArrayView2<f64>,
        value: &[f64],
        weights: Option<&[f64]>,
    ) -> Result<GradientBoostingRegressor, ModelError> {
        let n = self.trees.check_ref()?.n_trees;
        let mut models = self.fit_staged(x, value, weights, &[n])?;
        Ok(models.pop().expect("one stage"))
    }

    /// The regressions of `stages` trees (increasing, from 1 to the tree count) from one
    /// fit of the largest, each equal to its own fit bit for bit (see
    /// [`crate::GradientBoostingParams::fit_staged`]; the smearing factor is each stage's
    /// own).
    pub fn fit_staged(
        &self,
        x: ArrayView2<f64>,
        value: &[f64],
        weights: Option<&[f64]>,
        stages: &[usize],
    ) -> Result<Vec<GradientBoostingRegressor>, ModelError> {
        check_value_training(x, value, weights)?;
        let trees = self.trees.check_ref()?;
        crate::boosting::check_stages(stages, trees.n_trees)?;
        let target: Vec<f64> = match self.target {
            ValueTarget::Raw => value.to_vec(),
            ValueTarget::Log1p => value.iter().map(|v| v.max(0.0).ln_1p()).collect(),
        };
        gbdt::fit_staged(
            &trees.settings(),
            Loss::SquaredError,
            x,
            &target,
            weights,
            stages,
        )
        .into_iter()
        .map(|f| self.finish(f, x, &target, weights))
        .collect()
    }

    /// The regression of one fitted booster: its smearing factor and importances.
    fn finish(
        &self,
        fitted: gbdt::Fitted,
        x: ArrayView2<f64>,
        target: &[f64],
        weights: Option<&[f64]>,
    ) -> Result<GradientBoostingRegressor, ModelError> {
        let kind = GradientBoostingRegressor::KIND;
        let gbdt::Fitted {
            booster: b,
            gains,
            train_scores: fitted,
        } = fitted;
        let smearing = match self.target {
            ValueTarget::Raw => 1.0,
            ValueTarget::Log1p => {
                // (the fit's own in-sample scores: `b.predict(x)` bit for bit, no tree walked)
                let (mut num, mut den) = (0.0, 0.0);
                for (i, (t, f)) in target.iter().zip(&fitted).enumerate() {
                    let wi = weights.map_or(1.0, |w| w[i]);
                    if wi > 0.0 {
                        num += wi * (t - f).exp();
                        den += wi;
                    }
                }
                num / den
            }
        };
        if !smearing.is_finite() {
            return Err(ModelError::Fit {
                kind,
                message: format!("the smearing factor is {smearing}"),
            });
        }
        let importances = normalized(gains);
        Ok(GradientBoostingRegressor {
            booster: Arc::new(b),
            n_features: x.ncols(),
            target: self.target,
            smearing,
            importances,
        })
    }
}

/// A fitted gradient-boosted value regression.
#[derive(Clone, Serialize, Deserialize)]
pub struct GradientBoostingRegressor {
    booster: Arc<Booster>,
    n_features: usize,
    target: ValueTarget,
    /// Duan's smearing factor (1 for a raw target).
    smearing: f64,
    importances: Vec<f64>,
}

impl std::fmt::Debug for GradientBoostingRegressor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GradientBoostingRegressor")
            .field("trees", &self.booster.n_trees())
            .field("target", &self.target)
            .field("smearing", &self.smearing)
            .field("n_features", &self.n_features)
            .finish()
    }
}

impl GradientBoostingRegressor {
    /// The kind written in model cards.
    pub const KIND: &'static str = "gradient_boosting_regressor";

    /// Number of trees.
    pub fn n_trees(&self) -> usize {
        self.booster.n_trees()
    }

    /// The target scale it was fitted on.
    pub fn target(&self) -> ValueTarget {
        self.target
    }

    /// Duan's smearing factor (1 for [`ValueTarget::Raw`]).
    pub fn smearing(&self) -> f64 {
        self.smearing
    }

    /// Total split gain per feature, normalised to sum to 1.
    pub fn feature_importances(&self) -> Vec<f64> {
        self.importances.clone()
    }

    /// The boosted sum per row, on the fitted scale (`log1p` for [`ValueTarget::Log1p`]).
    pub fn decision_function(&self, x: ArrayView2<f64>) -> Result<Array1<f64>, ModelError> {
        check_features(x, self.n_features)?;
        Ok(self.booster.predict(x))
    }
}

impl ValueRegressor for GradientBoostingRegressor {
    fn kind(&self) -> &'static str {
        Self::KIND
    }

    fn n_features(&self) -> usize {
        self.n_features
    }

    /// The raw prediction, or `smearing * exp(f) - 1` clipped at 0 for a `log1p` target.
    fn predict(&self, x: ArrayView2<f64>) -> Result<Array1<f64>, ModelError> {
        let f = self.decision_function(x)?;
        Ok(match self.target {
            ValueTarget::Raw => f,
            ValueTarget::Log1p => f.mapv_into(|f| (self.smearing * f.exp() - 1.0).max(0.0)),
        })
    }
}

/// Hyper-parameters of [`TwoPartModel`]: the spend regression fitted on buyers.
///
/// | Name | Default | Purpose | Range |
/// |---|---|---|---|
/// | `spend` | [`GradientBoostingRegressorParams`] with [`ValueTarget::Log1p`] | `E[spend | buy]` | its table |
///
/// Why a `log1p` GBDT for the spend: a buyer's holdout spend is heavy-tailed (on Online
/// Retail II a few wholesale clients spend 100x the median), so a squared error on the raw
/// value is dominated by those few rows and the trees chase them; on the `log1p` scale the
/// fit ranks the ordinary buyers well, and the smearing factor turns the fitted log mean
/// back into a mean. Trees (not a log-linear model) because spend depends on past spend
/// through thresholds and interactions (one-off vs regular buyers).
///
/// `P(buy)` comes from a classifier the caller fits on `churned` with the same features
/// (any [`AnyClassifier`], calibrated or not): a buyer is a row with `churned = false`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TwoPartParams {
    spend: GradientBoostingRegressorParams,
}

impl Default for TwoPartParams {
    fn default() -> Self {
        Self::new()
    }
}

impl TwoPartParams {
    /// The defaults of the table.
    pub fn new() -> Self {
        Self {
            spend: GradientBoostingRegressorParams::new().target(ValueTarget::Log1p),
        }
    }

    /// Replaces the spend regression's settings.
    pub fn spend(mut self, spend: GradientBoostingRegressorParams) -> Self {
        self.spend = spend;
        self
    }

    /// The spend regression's settings.
    pub fn spend_params(&self) -> &GradientBoostingRegressorParams {
        &self.spend
    }

    /// The hyper-parameters by name, for a model card (the spend regression's, prefixed
    /// `spend_`).
    pub fn to_record(&self) -> BTreeMap<String, serde_json::Value> {
        self.spend
            .check_ref()
            .map(|p| p.to_record())
            .unwrap_or_default()
            .into_iter()
            .map(|(k, v)| (format!("spend_{k}"), v))
            .collect()
    }

    /// Fits `E[spend | buy]` on the rows with `churned[i] == false`, and pairs it with
    /// `churn` (already fitted on `churned`, same columns) for `P(buy)`.
    pub fn fit(
        &self,
        x: ArrayView2<f64>,
        churned: &[bool],
        value: &[f64],
        churn: AnyClassifier,
    ) -> Result<TwoPartModel, ModelError> {
        if churned.len() != x.nrows() {
            return Err(ModelError::LengthMismatch {
                what: "labels",
                rows: x.nrows(),
                found: churned.len(),
            });
        }
        if churn.n_features() != x.ncols() {
            return Err(ModelError::ColumnCount {
                expected: churn.n_features(),
                found: x.ncols(),
            });
        }
        let buyers: Vec<usize> = (0..x.nrows()).filter(|&i| !churned[i]).collect();
        if buyers.is_empty() {
            return Err(ModelError::SingleClass(true));
        }
        if value.len() != x.nrows() {
            return Err(ModelError::LengthMismatch {
                what: "values",
                rows: x.nrows(),
                found: value.len(),
            });
        }
        let xb = x.select(Axis(0), &buyers);
        let vb: Vec<f64> = buyers.iter().map(|&i| value[i]).collect();
        let spend = self.spend.fit(xb.view(), &vb, None)?;
        Ok(TwoPartModel { churn, spend })
    }

    /// The spend regressions of `stages` trees (see
    /// [`GradientBoostingRegressorParams::fit_staged`]) on the rows with `churned[i] ==
    /// false`, from one fit: pair each with a classifier by [`TwoPartModel::from_parts`].
    pub fn fit_spend_staged(
        &self,
        x: ArrayView2<f64>,
        churned: &[bool],
        value: &[f64],
        stages: &[usize],
    ) -> Result<Vec<GradientBoostingRegressor>, ModelError> {
        if churned.len() != x.nrows() || value.len() != x.nrows() {
            return Err(ModelError::LengthMismatch {
                what: "labels and values",
                rows: x.nrows(),
                found: churned.len().min(value.len()),
            });
        }
        let buyers: Vec<usize> = (0..x.nrows()).filter(|&i| !churned[i]).collect();
        if buyers.is_empty() {
            return Err(ModelError::SingleClass(true));
        }
        let xb = x.select(Axis(0), &buyers);
        let vb: Vec<f64> = buyers.iter().map(|&i| value[i]).collect();
        self.spend.fit_staged(xb.view(), &vb, None, stages)
    }
}

/// A fitted two-part value model: `E[value] = (1 - P(churned)) * E[spend | buy]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TwoPartModel {
    churn: AnyClassifier,
    spend: GradientBoostingRegressor,
}

impl TwoPartModel {
    /// The kind written in model cards.
    pub const KIND: &'static str = retain_core::kinds::TWO_PART;

    /// Pairs a fitted churn classifier (for `P(buy)`) with a spend regression fitted on the
    /// buyers of the same columns (as [`TwoPartParams::fit`] does; see
    /// [`TwoPartParams::fit_spend_staged`] for several spend regressions from one fit).
    pub fn from_parts(
        churn: AnyClassifier,
        spend: GradientBoostingRegressor,
    ) -> Result<Self, ModelError> {
        if churn.n_features() != spend.n_features {
            return Err(ModelError::ColumnCount {
                expected: churn.n_features(),
                found: spend.n_features,
            });
        }
        Ok(Self { churn, spend })
    }

    /// The churn classifier giving `P(buy) = 1 - P(churned)`.
    pub fn churn_model(&self) -> &AnyClassifier {
        &self.churn
    }

    /// The spend regression fitted on buyers.
    pub fn spend_model(&self) -> &GradientBoostingRegressor {
        &self.spend
    }

    /// `P(buy)` per row.
    pub fn buy_probability(&self, x: ArrayView2<f64>) -> Result<Array1<f64>, ModelError> {
        Ok(self.churn.predict_proba(x)?.mapv_into(|p| 1.0 - p))
    }

    /// `E[spend | buy]` per row.
    pub fn expected_spend(&self, x: ArrayView2<f64>) -> Result<Array1<f64>, ModelError> {
        self.spend.predict(x)
    }
}

impl ValueRegressor for TwoPartModel {
    fn kind(&self) -> &'static str {
        Self::KIND
    }

    fn n_features(&self) -> usize {
        self.churn.n_features()
    }

    fn predict(&self, x: ArrayView2<f64>) -> Result<Array1<f64>, ModelError> {
        Ok(self.buy_probability(x)? * self.expected_spend(x)?)
    }
}

impl ValueRegressor for RevenueRateBaseline {
    fn kind(&self) -> &'static str {
        Self::KIND
    }

    fn n_features(&self) -> usize {
        RevenueRateBaseline::n_features(self)
    }

    fn predict(&self, x: ArrayView2<f64>) -> Result<Array1<f64>, ModelError> {
        RevenueRateBaseline::predict(self, x)
    }
}

/// Every value model kind, the one type saved and loaded as a value artifact. Serialised
/// with a `kind` tag equal to the card's kind.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind")]
#[non_exhaustive]
pub enum AnyRegressor {
    /// [`GradientBoostingRegressor`].
    #[serde(rename = "gradient_boosting_regressor")]
    GradientBoosting(GradientBoostingRegressor),
    /// [`TwoPartModel`].
    #[serde(rename = "two_part")]
    TwoPart(TwoPartModel),
    /// [`RevenueRateBaseline`].
    #[serde(rename = "baseline_revenue_rate")]
    RevenueRate(RevenueRateBaseline),
}

impl AnyRegressor {
    /// Every kind this enum can hold.
    pub const KINDS: &'static [&'static str] = &[
        GradientBoostingRegressor::KIND,
        TwoPartModel::KIND,
        RevenueRateBaseline::KIND,
    ];

    fn inner(&self) -> &dyn ValueRegressor {
        match self {
            Self::GradientBoosting(m) => m,
            Self::TwoPart(m) => m,
            Self::RevenueRate(m) => m,
        }
    }
}

impl From<GradientBoostingRegressor> for AnyRegressor {
    fn from(m: GradientBoostingRegressor) -> Self {
        Self::GradientBoosting(m)
    }
}

impl From<TwoPartModel> for AnyRegressor {
    fn from(m: TwoPartModel) -> Self {
        Self::TwoPart(m)
    }
}

impl From<RevenueRateBaseline> for AnyRegressor {
    fn from(m: RevenueRateBaseline) -> Self {
        Self::RevenueRate(m)
    }
}

impl ValueRegressor for AnyRegressor {
    fn kind(&self) -> &'static str {
        self.inner().kind()
    }

    fn n_features(&self) -> usize {
        self.inner().n_features()
    }

    fn predict(&self, x: ArrayView2<f64>) -> Result<Array1<f64>, ModelError> {
        self.inner().predict(x)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::LogisticParams;
    use ndarray::Array2;

    /// value = 0 for churners, else exp(col 1 / 20) (a heavy tail); col 0 drives churn.
    pub(crate) fn toy(n: usize) -> (Array2<f64>, Vec<bool>, Vec<f64>) {
        let x = Array2::from_shape_fn((n, 3), |(i, j)| match j {
            0 => ((i * 7919) % 101) as f64,
            1 => ((i * 31) % 100) as f64,
            _ => ((i * 104_729) % 97) as f64,
        });
        let churned: Vec<bool> = (0..n).map(|i| x[[i, 0]] >= 60.0).collect();
        let value: Vec<f64> = (0..n)
            .map(|i| {
                if churned[i] {
                    0.0
                } else {
                    (x[[i, 1]] / 20.0).exp()
                }
            })
            .collect();
        (x, churned, value)
    }

    #[test]
    fn gbdt_regressor_fits_and_is_reproducible() {
        let (x, _, value) = toy(400);
        let p = GradientBoostingRegressorParams::new()
            .n_trees(50)
            .learning_rate(0.2);
        let m = p.fit(x.view(), &value, None).unwrap();
        let again = p.fit(x.view(), &value, None).unwrap();
        assert_eq!(
            serde_json::to_string(&m).unwrap(),
            serde_json::to_string(&again).unwrap()
        );
        let pred = m.predict(x.view()).unwrap();
        let mse: f64 = pred
            .iter()
            .zip(&value)
            .map(|(p, v)| (p - v).powi(2))
            .sum::<f64>()
            / 400.0;
        let var = {
            let mean = value.iter().sum::<f64>() / 400.0;
            value.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / 400.0
        };
        assert!(mse < 0.1 * var, "mse {mse} var {var}");
        assert_eq!(m.smearing(), 1.0);
        let imp = m.feature_importances();
        assert!(imp[0] + imp[1] > 0.9, "{imp:?}");
        // log1p target: non-negative predictions, smearing >= 1 up to rounding.
        let ml = p
            .clone()
            .target(ValueTarget::Log1p)
            .fit(x.view(), &value, None)
            .unwrap();
        assert!(
            ml.smearing() > 0.99 && ml.smearing() < 1.5,
            "{}",
            ml.smearing()
        );
        assert!(ml.predict(x.view()).unwrap().iter().all(|&v| v >= 0.0));
        // Bad inputs.
        assert!(matches!(
            p.fit(x.view(), &value[1..], None),
            Err(ModelError::LengthMismatch { what: "values", .. })
        ));
        let mut bad = value.clone();
        bad[3] = f64::NAN;
        assert!(p.fit(x.view(), &bad, None).is_err());
        assert!(
            GradientBoostingRegressorParams::new()
                .trees(GradientBoostingParams::new().class_weight(ClassWeight::Balanced))
                .check()
                .is_err()
        );
    }

    #[test]
    fn two_part_multiplies_buy_probability_and_spend() {
        let (x, churned, value) = toy(500);
        let churn: AnyClassifier = LogisticParams::new()
            .fit(x.view(), &churned, None)
            .unwrap()
            .into();
        let tp = TwoPartParams::new()
            .spend(
                GradientBoostingRegressorParams::new()
                    .target(ValueTarget::Log1p)
                    .n_trees(60)
                    .learning_rate(0.2),
            )
            .fit(x.view(), &churned, &value, churn.clone())
            .unwrap();
        let pred = tp.predict(x.view()).unwrap();
        let pb = tp.buy_probability(x.view()).unwrap();
        let s = tp.expected_spend(x.view()).unwrap();
        for i in 0..500 {
            assert!((pred[i] - pb[i] * s[i]).abs() < 1e-9);
            assert!(pred[i] >= 0.0);
        }
        // The spend model was fitted on buyers: it tracks exp(col 1 / 20) there.
        let buyers: Vec<usize> = (0..500).filter(|&i| !churned[i]).collect();
        let rel: f64 = buyers
            .iter()
            .map(|&i| (s[i] / value[i] - 1.0).abs())
            .sum::<f64>()
            / buyers.len() as f64;
        assert!(rel < 0.15, "mean relative spend error {rel}");
        assert_eq!(ValueRegressor::n_features(&tp), 3);
        let wrong = LogisticParams::new()
            .fit(x.slice(ndarray::s![.., ..2]), &churned, None)
            .unwrap()
            .into();
        assert!(matches!(
            TwoPartParams::new().fit(x.view(), &churned, &value, wrong),
            Err(ModelError::ColumnCount { .. })
        ));
    }

    #[test]
    fn gbdt_regressor_recovers_a_step_function() {
        // value = 10 below x0 = 0.4, 30 above, plus small noise; x1 is noise.
        let n = 1000;
        let x = Array2::from_shape_fn((n, 2), |(i, j)| match j {
            0 => ((i * 7919) % 1000) as f64 / 1000.0,
            _ => ((i * 104_729) % 997) as f64,
        });
        let step = |v: f64| if v < 0.4 { 10.0 } else { 30.0 };
        let value: Vec<f64> = (0..n)
            .map(|i| step(x[[i, 0]]) + ((i * 31) % 7) as f64 * 0.1 - 0.3)
            .collect();
        let m = GradientBoostingRegressorParams::new()
            .n_trees(200)
            .learning_rate(0.1)
            .fit(x.view(), &value, None)
            .unwrap();
        let probe = ndarray::array![[0.1, 5.0], [0.39, 500.0], [0.41, 5.0], [0.9, 900.0]];
        let pred = m.predict(probe.view()).unwrap();
        for (p, v) in pred.iter().zip([0.1, 0.39, 0.41, 0.9]) {
            assert!((p - step(v)).abs() < 0.5, "f({v}) = {p}, truth {}", step(v));
        }
        assert!(
            m.feature_importances()[0] > 0.95,
            "{:?}",
            m.feature_importances()
        );
        // Sample weights: zero weight on every row above the step leaves only the low level.
        let w: Vec<f64> = (0..n)
            .map(|i| f64::from(u8::from(x[[i, 0]] < 0.4)))
            .collect();
        let low = GradientBoostingRegressorParams::new()
            .n_trees(50)
            .fit(x.view(), &value, Some(&w))
            .unwrap();
        let pl = low.predict(probe.view()).unwrap();
        assert!(pl.iter().all(|p| (p - 10.0).abs() < 0.5), "{pl:?}");
    }
}
