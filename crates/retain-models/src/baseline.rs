//! Training-free baselines (BENCHMARK.md section 5): they read named columns of the feature
//! matrix, found by name in a [`FeatureSchema`] once, at construction.

use ndarray::{Array1, ArrayView2, Axis};
use retain_core::FeatureSchema;
use serde::{Deserialize, Serialize};

use crate::input::check_features;
use crate::{ChurnScorer, ModelError};

fn column(schema: &FeatureSchema, name: &str) -> Result<usize, ModelError> {
    schema
        .names()
        .iter()
        .position(|n| n == name)
        .ok_or_else(|| ModelError::MissingFeature(name.to_string()))
}

/// Churn score = `days_since_last` (days from the last purchase day to the cutoff). Not a
/// probability: use it for ranking metrics only.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecencyBaseline {
    days_since_last: usize,
    n_features: usize,
}

impl RecencyBaseline {
    /// The kind written in model cards.
    pub const KIND: &'static str = retain_core::kinds::BASELINE_DAYS_SINCE_LAST;

    /// Finds `days_since_last` in `schema`.
    pub fn new(schema: &FeatureSchema) -> Result<Self, ModelError> {
        Ok(Self {
            days_since_last: column(schema, "days_since_last")?,
            n_features: schema.len(),
        })
    }

    /// Number of feature columns expected.
    pub fn n_features(&self) -> usize {
        self.n_features
    }

    /// The column of `days_since_last`.
    pub fn column(&self) -> usize {
        self.days_since_last
    }

    /// The churn score per row: its `days_since_last`.
    pub fn score(&self, x: ArrayView2<f64>) -> Result<Array1<f64>, ModelError> {
        check_features(x, self.n_features)?;
        Ok(x.column(self.days_since_last).to_owned())
    }
}

impl ChurnScorer for RecencyBaseline {
    fn scorer_kind(&self) -> &'static str {
        Self::KIND
    }

    fn churn_score(&self, x: ArrayView2<f64>) -> Result<Array1<f64>, ModelError> {
        self.score(x)
    }

    fn is_probability(&self) -> bool {
        false
    }
}

/// Holdout value = `net_revenue / (T + 1) * H`: the client's net revenue per day of age
/// (`T` = days since the first purchase day) carried over a horizon of `H` days.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RevenueRateBaseline {
    net_revenue: usize,
    age: usize,
    horizon_days: f64,
    n_features: usize,
}

impl RevenueRateBaseline {
    /// The kind written in model cards.
    pub const KIND: &'static str = retain_core::kinds::BASELINE_REVENUE_RATE;

    /// Finds `net_revenue` and `T` in `schema`; `horizon_days` is `H`.
    pub fn new(schema: &FeatureSchema, horizon_days: u32) -> Result<Self, ModelError> {
        Ok(Self {
            net_revenue: column(schema, "net_revenue")?,
            age: column(schema, "T")?,
            horizon_days: f64::from(horizon_days),
            n_features: schema.len(),
        })
    }

    /// Number of feature columns expected.
    pub fn n_features(&self) -> usize {
        self.n_features
    }

    /// The horizon `H` in days.
    pub fn horizon_days(&self) -> f64 {
        self.horizon_days
    }

    /// Expected net revenue over the horizon, per row.
    pub fn predict(&self, x: ArrayView2<f64>) -> Result<Array1<f64>, ModelError> {
        check_features(x, self.n_features)?;
        Ok(x.axis_iter(Axis(0))
            .map(|r| r[self.net_revenue] / (r[self.age] + 1.0) * self.horizon_days)
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn baselines_read_their_columns_by_name() {
        let schema = FeatureSchema::new(["T", "net_revenue", "days_since_last"]);
        let x = array![[9.0, 100.0, 3.0], [0.0, 5.0, 40.0]];
        let r = RecencyBaseline::new(&schema).unwrap();
        assert_eq!(r.score(x.view()).unwrap().to_vec(), vec![3.0, 40.0]);
        assert!(!r.is_probability());
        let v = RevenueRateBaseline::new(&schema, 91).unwrap();
        assert_eq!(v.predict(x.view()).unwrap().to_vec(), vec![910.0, 455.0]);
        let e = RecencyBaseline::new(&FeatureSchema::new(["T"])).unwrap_err();
        assert!(e.to_string().contains("`days_since_last`"), "{e}");
        assert!(matches!(
            v.predict(x.slice(ndarray::s![.., ..2])),
            Err(ModelError::ColumnCount {
                expected: 3,
                found: 2
            })
        ));
    }
}
