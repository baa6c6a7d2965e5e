//! Churn classifiers and value models behind one trait, saved as artifacts.
//!
//! Model crates never see polars: the pipeline hands over an `ndarray::Array2<f64>` whose
//! rows are clients and whose columns are the features in [`retain_core::FeatureSchema`]
//! order. Labels are `bool`, true = churned (no purchase in the horizon after the cutoff).
//!
//! - [`ChurnClassifier`]: `predict_proba` (`P(churned)`), per-feature `contributions`
//!   (the "reasons"), `feature_importances`. Each kind is fitted through its `XParams`
//!   (setters never fail, `check()` validates, `fit(x, y, weights)` returns the fitted type).
//! - [`LogisticModel`]: standardised L2 logistic regression matching scikit-learn's
//!   `StandardScaler` + `LogisticRegression(C = 1)`; see [`logistic`] for `C` vs linfa's
//!   `alpha`.
//! - [`DecisionTreeModel`] (linfa-trees), [`RandomForestModel`] (smartcore),
//!   [`GradientBoostingModel`] (forust-ml): tree models behind the same trait.
//! - [`RecencyBaseline`], [`RevenueRateBaseline`]: training-free baselines.
//! - [`AnyClassifier`] + [`save_checked`] / [`load_checked`]: artifacts of any kind, refused
//!   when their feature schema differs from the data at hand.

mod artifact;
mod baseline;
mod boosting;
mod classifier;
mod decision_tree;
mod error;
mod forest;
mod input;
pub mod logistic;
mod scaler;

pub use artifact::{SavedModel, load_checked, save_checked};
pub use baseline::{RecencyBaseline, RevenueRateBaseline};
pub use boosting::{GradientBoostingModel, GradientBoostingParams, GradientBoostingValidParams};
pub use classifier::{AnyClassifier, ChurnClassifier, ChurnScorer};
pub use decision_tree::{DecisionTreeModel, DecisionTreeParams, DecisionTreeValidParams};
pub use error::ModelError;
pub use forest::{RandomForestModel, RandomForestParams, RandomForestValidParams};
pub use logistic::{LogisticModel, LogisticParams, LogisticValidParams};
pub use scaler::StandardScaler;
