//! Random forest of smartcore 0.7 CART trees (bootstrap + `sqrt(p)` features per split),
//! as scikit-learn's `RandomForestClassifier(n_estimators=300)`.
//!
//! smartcore's forest only predicts majority labels and keeps its trees private, so retain
//! fits the forest with smartcore's own `RandomForestClassifier::fit` and then takes the
//! trees out of it through its serde form (field `trees`; a test guards that layout).
//! `P(churned)` is the share of trees whose leaf says churned (trees are grown until pure,
//! so this is close to scikit-learn's mean of leaf probabilities).
//!
//! smartcore reads a [`DenseMatrix`] built from a flat buffer plus a `column_major` flag;
//! [`dense_matrix`] fills it row by row with the flag `false` (tested: a wrong flag would
//! silently train on scrambled data).

use std::collections::BTreeMap;
use std::sync::Arc;

use ndarray::{Array1, Array2, ArrayView2};
use serde::{Deserialize, Serialize};
use smartcore::ensemble::random_forest_classifier::{
    RandomForestClassifier, RandomForestClassifierParameters,
};
use smartcore::linalg::basic::matrix::DenseMatrix;
use smartcore::tree::decision_tree_classifier::{DecisionTreeClassifier, SplitCriterion};

use crate::input::{check_features, check_training};
use crate::logistic::normalized;
use crate::{ChurnClassifier, ModelError};

type Tree = DecisionTreeClassifier<f64, u8, DenseMatrix<f64>, Vec<u8>>;

/// Copies an ndarray matrix into smartcore's `DenseMatrix` (row-major buffer,
/// `column_major = false`).
pub(crate) fn dense_matrix(x: ArrayView2<f64>) -> Result<DenseMatrix<f64>, ModelError> {
    let values: Vec<f64> = x.iter().copied().collect(); // logical (row-major) order
    DenseMatrix::new(x.nrows(), x.ncols(), values, false).map_err(|e| ModelError::Fit {
        kind: RandomForestModel::KIND,
        message: e.to_string(),
    })
}

/// Hyper-parameters of [`RandomForestModel`]; setters never fail, [`Self::check`] validates.
///
/// | Name | Default | Purpose | Range |
/// |---|---|---|---|
/// | `n_trees` | 300 | trees in the forest | `1..=65535` |
/// | `max_features` | `None` = `floor(sqrt(p))` | features tried per split | `1..=p` |
/// | `max_depth` | `None` (until pure) | depth limit | `>= 1` |
/// | `min_samples_leaf` | 1 | least rows in a leaf | `>= 1` |
/// | `min_samples_split` | 2 | least rows in a node to split it | `>= 2` |
/// | `seed` | 42 | bootstrap and feature sampling (tree `k` uses `seed + k`) | any `u64` |
///
/// Sample weights are not supported by smartcore: `fit` with `Some` weights fails with
/// [`ModelError::WeightsUnsupported`]. smartcore's bootstrap is stratified by class (each
/// class is resampled to its own size).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RandomForestParams(RandomForestValidParams);

/// Checked hyper-parameters of [`RandomForestModel`] (table on [`RandomForestParams`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RandomForestValidParams {
    n_trees: u16,
    max_features: Option<usize>,
    max_depth: Option<u16>,
    min_samples_leaf: usize,
    min_samples_split: usize,
    seed: u64,
}

impl Default for RandomForestParams {
    fn default() -> Self {
        Self::new()
    }
}

impl RandomForestParams {
    /// The defaults of the table.
    pub fn new() -> Self {
        Self(RandomForestValidParams {
            n_trees: 300,
            max_features: None,
            max_depth: None,
            min_samples_leaf: 1,
            min_samples_split: 2,
            seed: 42,
        })
    }

    /// Sets the number of trees.
    pub fn n_trees(mut self, n: u16) -> Self {
        self.0.n_trees = n;
        self
    }

    /// Sets the features tried per split (`None` = `floor(sqrt(p))`).
    pub fn max_features(mut self, m: Option<usize>) -> Self {
        self.0.max_features = m;
        self
    }

    /// Sets the depth limit.
    pub fn max_depth(mut self, d: Option<u16>) -> Self {
        self.0.max_depth = d;
        self
    }

    /// Sets the least rows in a leaf.
    pub fn min_samples_leaf(mut self, n: usize) -> Self {
        self.0.min_samples_leaf = n;
        self
    }

    /// Sets the least rows in a node to split it.
    pub fn min_samples_split(mut self, n: usize) -> Self {
        self.0.min_samples_split = n;
        self
    }

    /// Sets the seed.
    pub fn seed(mut self, seed: u64) -> Self {
        self.0.seed = seed;
        self
    }

    /// Validates the hyper-parameters (`max_features <= p` is checked at fit).
    pub fn check_ref(&self) -> Result<&RandomForestValidParams, ModelError> {
        let p = &self.0;
        let bad = |name, reason: &str| {
            Err(ModelError::InvalidParam {
                name,
                reason: reason.into(),
            })
        };
        if p.n_trees == 0 {
            return bad("n_trees", "must be at least 1");
        }
        if p.max_features == Some(0) {
            return bad("max_features", "must be at least 1 (or None)");
        }
        if p.max_depth == Some(0) {
            return bad("max_depth", "must be at least 1 (or None)");
        }
        if p.min_samples_leaf == 0 {
            return bad("min_samples_leaf", "must be at least 1");
        }
        if p.min_samples_split < 2 {
            return bad("min_samples_split", "must be at least 2");
        }
        Ok(p)
    }

    /// Validates the hyper-parameters, consuming them.
    pub fn check(self) -> Result<RandomForestValidParams, ModelError> {
        self.check_ref()?;
        Ok(self.0)
    }

    /// Checks, then fits (see [`RandomForestValidParams::fit`]).
    pub fn fit(
        &self,
        x: ArrayView2<f64>,
        y: &[bool],
        weights: Option<&[f64]>,
    ) -> Result<RandomForestModel, ModelError> {
        self.check_ref()?.fit(x, y, weights)
    }
}

#[derive(Deserialize)]
struct ForestTrees {
    trees: Option<Vec<Tree>>,
}

impl RandomForestValidParams {
    /// The hyper-parameters by name, for a model card.
    pub fn to_record(&self) -> BTreeMap<String, serde_json::Value> {
        BTreeMap::from([
            ("n_trees".into(), self.n_trees.into()),
            ("max_features".into(), self.max_features.into()),
            ("max_depth".into(), self.max_depth.into()),
            ("min_samples_leaf".into(), self.min_samples_leaf.into()),
            ("min_samples_split".into(), self.min_samples_split.into()),
            ("seed".into(), self.seed.into()),
            ("criterion".into(), "gini".into()),
        ])
    }

    /// Fits the forest on raw features (`y[i]` true = churned). No sample weights.
    pub fn fit(
        &self,
        x: ArrayView2<f64>,
        y: &[bool],
        weights: Option<&[f64]>,
    ) -> Result<RandomForestModel, ModelError> {
        check_training(x, y, weights)?;
        if weights.is_some() {
            return Err(ModelError::WeightsUnsupported {
                kind: RandomForestModel::KIND,
            });
        }
        if let Some(m) = self.max_features
            && m > x.ncols()
        {
            return Err(ModelError::InvalidParam {
                name: "max_features",
                reason: format!("{m} is more than the {} features", x.ncols()),
            });
        }
        let fail = |message: String| ModelError::Fit {
            kind: RandomForestModel::KIND,
            message,
        };
        let labels: Vec<u8> = y.iter().map(|&c| u8::from(c)).collect();
        let mut params = RandomForestClassifierParameters::default()
            .with_criterion(SplitCriterion::Gini)
            .with_n_trees(self.n_trees)
            .with_min_samples_leaf(self.min_samples_leaf)
            .with_min_samples_split(self.min_samples_split)
            .with_keep_samples(false)
            .with_seed(self.seed);
        params.max_depth = self.max_depth;
        params.m = self.max_features;
        let forest: RandomForestClassifier<f64, u8, DenseMatrix<f64>, Vec<u8>> =
            RandomForestClassifier::fit(&dense_matrix(x)?, &labels, params)
                .map_err(|e| fail(e.to_string()))?;
        let value = serde_json::to_value(&forest).map_err(|e| fail(e.to_string()))?;
        let trees = serde_json::from_value::<ForestTrees>(value)
            .map_err(|e| fail(format!("reading smartcore's trees: {e}")))?
            .trees
            .ok_or_else(|| fail("smartcore returned no trees".into()))?;
        let mut importances = vec![0.0; x.ncols()];
        for t in &trees {
            for (acc, v) in importances
                .iter_mut()
                .zip(t.compute_feature_importances(false))
            {
                if v.is_finite() {
                    *acc += v.max(0.0);
                }
            }
        }
        Ok(RandomForestModel {
            trees: Arc::new(trees),
            n_features: x.ncols(),
            importances: normalized(importances),
        })
    }
}

/// A fitted random forest: `P(churned)` = share of trees voting churned.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RandomForestModel {
    trees: Arc<Vec<Tree>>,
    n_features: usize,
    importances: Vec<f64>,
}

impl RandomForestModel {
    /// The kind written in model cards.
    pub const KIND: &'static str = "random_forest";

    /// Number of trees.
    pub fn n_trees(&self) -> usize {
        self.trees.len()
    }
}

impl ChurnClassifier for RandomForestModel {
    fn kind(&self) -> &'static str {
        Self::KIND
    }

    fn n_features(&self) -> usize {
        self.n_features
    }

    fn predict_proba(&self, x: ArrayView2<f64>) -> Result<Array1<f64>, ModelError> {
        check_features(x, self.n_features)?;
        let m = dense_matrix(x)?;
        let mut votes = Array1::<f64>::zeros(x.nrows());
        for t in self.trees.iter() {
            let pred = t.predict(&m).map_err(|e| ModelError::Fit {
                kind: Self::KIND,
                message: e.to_string(),
            })?;
            for (v, p) in votes.iter_mut().zip(pred) {
                *v += f64::from(p);
            }
        }
        Ok(votes / self.trees.len() as f64)
    }

    /// Not available: smartcore's trees do not expose their paths.
    fn contributions(&self, x: ArrayView2<f64>) -> Result<Option<Array2<f64>>, ModelError> {
        check_features(x, self.n_features)?;
        Ok(None)
    }

    /// Mean decrease in Gini impurity over the trees, normalised.
    fn feature_importances(&self) -> Vec<f64> {
        self.importances.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;
    use smartcore::linalg::basic::arrays::Array;

    #[test]
    fn dense_matrix_keeps_rows_and_columns() {
        let x = array![[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]];
        let m = dense_matrix(x.view()).unwrap();
        assert_eq!(m.shape(), (2, 3));
        for i in 0..2 {
            for j in 0..3 {
                assert_eq!(*m.get((i, j)), x[[i, j]]);
            }
        }
        // A column-sliced (non-contiguous) view is copied in logical order too.
        let v = x.slice(ndarray::s![.., 1..]);
        let m = dense_matrix(v).unwrap();
        assert_eq!(*m.get((1, 0)), 5.0);
    }

    #[test]
    fn forest_learns_the_informative_column_only() {
        // churn iff column 2 > 0.5; a scrambled matrix would not learn it.
        let n = 300;
        let x = Array2::from_shape_fn((n, 3), |(i, j)| match j {
            0 => ((i * 7919) % 101) as f64 / 101.0,
            1 => ((i * 104_729) % 97) as f64 / 97.0,
            _ => ((i * 31) % 100) as f64 / 100.0,
        });
        let y: Vec<bool> = (0..n).map(|i| x[[i, 2]] > 0.5).collect();
        let m = RandomForestParams::new()
            .n_trees(20)
            .max_features(Some(1))
            .fit(x.view(), &y, None)
            .unwrap();
        assert_eq!(m.n_trees(), 20);
        let p = m.predict_proba(x.view()).unwrap();
        let correct = p.iter().zip(&y).filter(|(p, y)| (**p > 0.5) == **y).count();
        assert!(correct >= n - 3, "{correct}");
        let imp = m.feature_importances();
        assert!(imp[2] > 0.8, "{imp:?}");
        let again = RandomForestParams::new()
            .n_trees(20)
            .max_features(Some(1))
            .fit(x.view(), &y, None)
            .unwrap();
        assert_eq!(again.predict_proba(x.view()).unwrap(), p, "seeded");
        assert!(matches!(
            RandomForestParams::new().fit(x.view(), &y, Some(&vec![1.0; n])),
            Err(ModelError::WeightsUnsupported { .. })
        ));
    }
}
