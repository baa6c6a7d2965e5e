//! Churn classifiers and value models behind one trait, saved as artifacts.
//!
//! Model crates never see polars: the pipeline hands over an `ndarray::Array2<f64>` whose
//! rows are clients and whose columns are the features in [`retain_core::FeatureSchema`]
//! order. Labels are `bool`, true = churned (no purchase in the horizon after the cutoff).
//!
//! - [`ChurnClassifier`]: `predict_proba` (`P(churned)`), per-feature `contributions`
//!   (the "reasons"), `explain` (an [`Explanation`]: the contributions with their baseline,
//!   adding up to the score on a named [`ExplanationScale`]), `feature_importances`. Each kind is fitted through its `XParams`
//!   (setters never fail, `check()` validates, `fit(x, y, weights)` returns the fitted type).
//! - [`LogisticModel`]: standardised L2 logistic regression matching scikit-learn's
//!   `StandardScaler` + `LogisticRegression(C = 1)`, fitted by Newton's method (default)
//!   or linfa-logistic's L-BFGS ([`Solver`]); see [`logistic`] for `C` vs `alpha` and the
//!   two solvers.
//! - [`DecisionTreeModel`], [`RandomForestModel`] and [`GradientBoostingModel`]: retain's
//!   own histogram trees on one shared binning (see their modules for why not linfa-trees,
//!   smartcore and forust-ml), behind the same trait.
//! - [`RecencyBaseline`], [`RevenueRateBaseline`]: training-free baselines.
//! - [`Calibrated`]: any classifier with Platt or isotonic calibration ([`Calibrator`]),
//!   itself a [`ChurnClassifier`] and an [`AnyClassifier`] kind.
//! - [`ClassWeight`]: none, balanced or explicit class weights, for every classifier kind.
//! - [`ValueRegressor`]: value over the horizon; [`GradientBoostingRegressor`] (retain's
//!   booster, squared error, raw or `log1p` target), [`TwoPartModel`] (`P(buy) * E[spend | buy]`),
//!   and [`AnyRegressor`], the value artifact type.
//! - [`AnyClassifier`] + [`save_checked`] / [`load_checked`]: artifacts of any kind, refused
//!   when their feature schema differs from the data at hand.

mod artifact;
mod baseline;
mod boosting;
mod calibration;
mod chunked;
mod class_weight;
mod classifier;
mod decision_tree;
pub mod deploy;
mod error;
mod explain;
mod forest;
mod gbdt;
mod hist;
mod input;
pub mod logistic;
mod regression;
mod scaler;
mod shap;
mod traverse;
mod uplift;

pub use artifact::{SavedModel, load_checked, save_checked};
pub use baseline::{RecencyBaseline, RevenueRateBaseline};
pub use boosting::{GradientBoostingModel, GradientBoostingParams, GradientBoostingValidParams};
pub use calibration::{Calibrated, CalibrationMethod, Calibrator, holdout_split};
pub use class_weight::ClassWeight;
pub use classifier::{AnyClassifier, ChurnClassifier, ChurnScorer};
pub use decision_tree::{DecisionTreeModel, DecisionTreeParams, DecisionTreeValidParams};
pub use deploy::{
    BaseMemo, ChurnModel, ChurnPrediction, ChurnRows, CustomerBasePart, DeployedValue,
    ExplainContext, RowPrediction, Rows, ValueModel, ValuePrediction, ValueRows,
};
pub use error::ModelError;
pub use explain::{Explanation, ExplanationScale, combine, rescale_monotone};
pub use forest::{RandomForestModel, RandomForestParams, RandomForestValidParams};
pub use logistic::{LogisticModel, LogisticParams, LogisticValidParams, Solver};
pub use regression::{
    AnyRegressor, GradientBoostingRegressor, GradientBoostingRegressorParams,
    GradientBoostingRegressorValidParams, TwoPartModel, TwoPartParams, ValueRegressor, ValueTarget,
};
pub use scaler::{StandardScaler, signed_log};
pub use uplift::{ActionUplift, UpliftModel, UpliftSet};
