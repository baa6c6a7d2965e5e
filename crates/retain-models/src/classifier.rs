use ndarray::{Array1, Array2, ArrayView2};
use serde::{Deserialize, Serialize};

use crate::{
    Calibrated, DecisionTreeModel, Explanation, GradientBoostingModel, LogisticModel, ModelError,
    RandomForestModel,
};

/// A fitted churn classifier. The positive class is "churned": no purchase in the horizon
/// after the cutoff. Every method checks that `x` has [`Self::n_features`] columns in the
/// training `FeatureSchema` order and only finite values, and names the first bad cell.
///
/// Fitting lives on each kind's `XParams` (`fit(&self, x, y, weights) -> Result<X, _>`),
/// so a fitted model keeps no reference to its training data.
pub trait ChurnClassifier {
    /// The kind written in model cards, e.g. `logistic_regression`.
    fn kind(&self) -> &'static str;

    /// Number of feature columns the model was fitted on.
    fn n_features(&self) -> usize;

    /// `P(churned)` per row of `x`.
    fn predict_proba(&self, x: ArrayView2<f64>) -> Result<Array1<f64>, ModelError>;

    /// Per-row, per-feature contributions to the churn score (same shape as `x`; larger =
    /// pushes towards churn), the raw material of a client's "reasons". `Ok(None)` when the
    /// kind has no such decomposition. Each kind documents its scale.
    fn contributions(&self, x: ArrayView2<f64>) -> Result<Option<Array2<f64>>, ModelError>;

    /// Per-row, per-feature contributions with the baseline they start from, adding up to
    /// the row's score on the explanation's scale (see [`Explanation`] and the table in
    /// the `explain` module docs for each kind's scale and baseline). The values are those
    /// of [`Self::contributions`] (rescaled for calibrated models). The default refuses
    /// with [`ModelError::NoExplanation`]; every kind of this crate overrides it.
    fn explain(&self, x: ArrayView2<f64>) -> Result<Explanation, ModelError> {
        let _ = x;
        Err(ModelError::NoExplanation { kind: self.kind() })
    }

    /// The `scores` of [`Self::explain`] without the contributions (what a rank ensemble
    /// ranks its parts by): the default explains; kinds whose score is cheap override it
    /// with the same numbers.
    fn explanation_scores(&self, x: ArrayView2<f64>) -> Result<Array1<f64>, ModelError> {
        Ok(self.explain(x)?.scores)
    }

    /// Global importance per feature, non-negative and summing to 1 (or all 0).
    fn feature_importances(&self) -> Vec<f64>;
}

/// Anything that ranks clients by churn risk: every [`ChurnClassifier`] (its probability)
/// and the training-free baselines (a score that is not a probability).
pub trait ChurnScorer {
    /// The kind written in model cards.
    fn scorer_kind(&self) -> &'static str;

    /// A churn score per row: higher means more likely to churn.
    fn churn_score(&self, x: ArrayView2<f64>) -> Result<Array1<f64>, ModelError>;

    /// True when [`Self::churn_score`] is a calibrated-in-intent probability (so Brier and
    /// log loss make sense).
    fn is_probability(&self) -> bool;
}

impl<T: ChurnClassifier> ChurnScorer for T {
    fn scorer_kind(&self) -> &'static str {
        self.kind()
    }

    fn churn_score(&self, x: ArrayView2<f64>) -> Result<Array1<f64>, ModelError> {
        self.predict_proba(x)
    }

    fn is_probability(&self) -> bool {
        true
    }
}

/// Every churn classifier kind, the one type saved and loaded as an artifact, so
/// `retain score` can load whichever kind a card names. Serialised with a `kind` tag equal
/// to the card's kind.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind")]
#[non_exhaustive]
pub enum AnyClassifier {
    /// [`LogisticModel`].
    #[serde(rename = "logistic_regression")]
    Logistic(LogisticModel),
    /// [`DecisionTreeModel`].
    #[serde(rename = "decision_tree")]
    DecisionTree(DecisionTreeModel),
    /// [`RandomForestModel`].
    #[serde(rename = "random_forest")]
    RandomForest(RandomForestModel),
    /// [`GradientBoostingModel`].
    #[serde(rename = "gradient_boosting")]
    GradientBoosting(GradientBoostingModel),
    /// [`Calibrated`]: any kind above with calibrated probabilities (boxed: it holds an
    /// `AnyClassifier`).
    #[serde(rename = "calibrated")]
    Calibrated(Box<Calibrated>),
}

impl AnyClassifier {
    /// Every kind this enum can hold.
    pub const KINDS: &'static [&'static str] = &[
        LogisticModel::KIND,
        DecisionTreeModel::KIND,
        RandomForestModel::KIND,
        GradientBoostingModel::KIND,
        Calibrated::KIND,
    ];

    fn inner(&self) -> &dyn ChurnClassifier {
        match self {
            Self::Logistic(m) => m,
            Self::DecisionTree(m) => m,
            Self::RandomForest(m) => m,
            Self::GradientBoosting(m) => m,
            Self::Calibrated(m) => m.as_ref(),
        }
    }
}

impl From<LogisticModel> for AnyClassifier {
    fn from(m: LogisticModel) -> Self {
        Self::Logistic(m)
    }
}

impl From<DecisionTreeModel> for AnyClassifier {
    fn from(m: DecisionTreeModel) -> Self {
        Self::DecisionTree(m)
    }
}

impl From<RandomForestModel> for AnyClassifier {
    fn from(m: RandomForestModel) -> Self {
        Self::RandomForest(m)
    }
}

impl From<GradientBoostingModel> for AnyClassifier {
    fn from(m: GradientBoostingModel) -> Self {
        Self::GradientBoosting(m)
    }
}

impl From<Calibrated> for AnyClassifier {
    fn from(m: Calibrated) -> Self {
        Self::Calibrated(Box::new(m))
    }
}

impl ChurnClassifier for AnyClassifier {
    fn kind(&self) -> &'static str {
        self.inner().kind()
    }

    fn n_features(&self) -> usize {
        self.inner().n_features()
    }

    fn predict_proba(&self, x: ArrayView2<f64>) -> Result<Array1<f64>, ModelError> {
        self.inner().predict_proba(x)
    }

    fn contributions(&self, x: ArrayView2<f64>) -> Result<Option<Array2<f64>>, ModelError> {
        self.inner().contributions(x)
    }

    fn explain(&self, x: ArrayView2<f64>) -> Result<Explanation, ModelError> {
        self.inner().explain(x)
    }

    fn explanation_scores(&self, x: ArrayView2<f64>) -> Result<Array1<f64>, ModelError> {
        self.inner().explanation_scores(x)
    }

    fn feature_importances(&self) -> Vec<f64> {
        self.inner().feature_importances()
    }
}
