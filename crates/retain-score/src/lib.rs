//! Applying a saved churn model to every client and writing the ranked outreach list.
//!
//! The list has one row per client, ranked by churn risk: `risk_rank` (1 = most at risk),
//! `client_id`, `churn_probability` (P(no purchase in the horizon)), and `reason_1..k`, the
//! features that push the client's risk up most (largest positive contributions). With a CLV
//! model ([`customer_base::ClvModel`]) the list also carries `p_alive`, `expected_purchases`,
//! `clv`, `value_at_risk = churn_probability * clv` and the `key_client` flag
//! ([`score_with_value`]).

pub mod backtest;
pub mod customer_base;
pub mod pipeline;

use std::path::{Path, PathBuf};

use ndarray::Axis;
use polars::prelude::*;
use retain_data::{DataError, write_table};
use retain_features::FeatureMatrix;
use retain_models::{ChurnClassifier, ModelError};

use crate::customer_base::ClientValues;

/// Errors while scoring.
#[derive(Debug, thiserror::Error)]
pub enum ScoreError {
    /// The model refused the features.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// Building the output table failed.
    #[error("building the score table: {0}")]
    Polars(#[from] PolarsError),
    /// Writing an output failed.
    #[error(transparent)]
    Data(#[from] DataError),
    /// The inputs of the list do not fit together (lengths, options).
    #[error("scoring: {0}")]
    Invalid(String),
}

/// A ranked score table.
#[derive(Debug, Clone)]
pub struct Scores {
    /// `risk_rank, client_id, churn_probability`, with a CLV model also `p_alive,
    /// expected_purchases, clv, value_at_risk, key_client`, then `reason_1..k`; sorted by rank.
    pub table: DataFrame,
}

/// What orders the list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RankBy {
    /// `churn_probability` descending (the default).
    #[default]
    Churn,
    /// `value_at_risk` descending (needs a CLV model).
    ValueAtRisk,
}

/// How the list is built.
///
/// | Name | Default | Purpose | Range |
/// |---|---|---|---|
/// | `n_reasons` | 3 | reason columns | any |
/// | `rank_by` | [`RankBy::Churn`] | what orders the list; ties go to the smaller client id | |
/// | `key_share` | 0.2 | share of clients flagged `key_client`: the top `ceil(share x n)` by CLV (ties to the smaller id) | `(0, 1]` |
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScoreOptions {
    /// Number of reason columns.
    pub n_reasons: usize,
    /// What orders the list.
    pub rank_by: RankBy,
    /// Share of clients flagged as key clients.
    pub key_share: f64,
}

impl Default for ScoreOptions {
    fn default() -> Self {
        Self {
            n_reasons: 3,
            rank_by: RankBy::Churn,
            key_share: 0.2,
        }
    }
}

/// Scores every row of `features` with `model` and ranks clients: probability descending,
/// ties by client id ascending. `n_reasons` reason columns name the features with the largest
/// positive contributions (empty when fewer features push the risk up, or when the model kind
/// has no per-client decomposition).
pub fn score<M: ChurnClassifier + ?Sized>(
    model: &M,
    features: &FeatureMatrix,
    n_reasons: usize,
) -> Result<Scores, ScoreError> {
    let options = ScoreOptions {
        n_reasons,
        ..ScoreOptions::default()
    };
    score_with_value(model, features, None, &options)
}

/// [`score`], with the value columns of a CLV model when `values` is given (rows in the order of
/// `features`):
///
/// - `p_alive`: P(alive) at the scoring date;
/// - `expected_purchases`: expected purchase days in the horizon;
/// - `clv`: expected purchases x expected spend over the horizon ([`customer_base::Valuation`]);
/// - `value_at_risk = churn_probability * clv`: the value the client takes away if it churns;
/// - `key_client`: whether the client is among the top `key_share` of clients by `clv`.
///
/// The list is ranked by `options.rank_by` descending, ties by client id ascending.
pub fn score_with_value<M: ChurnClassifier + ?Sized>(
    model: &M,
    features: &FeatureMatrix,
    values: Option<&ClientValues>,
    options: &ScoreOptions,
) -> Result<Scores, ScoreError> {
    let n = features.clients.len();
    if let Some(v) = values
        && (v.clv.len() != n || v.p_alive.len() != n || v.expected_purchases.len() != n)
    {
        return Err(ScoreError::Invalid(format!(
            "the CLV model scored {} clients but the churn model {n}",
            v.clv.len()
        )));
    }
    if !(options.key_share > 0.0 && options.key_share <= 1.0) {
        return Err(ScoreError::Invalid(format!(
            "key share {} is not in (0, 1]",
            options.key_share
        )));
    }
    let p = model.predict_proba(features.x.view())?;
    let contributions = model.contributions(features.x.view())?;
    let var: Option<Vec<f64>> = values.map(|v| (0..n).map(|i| p[i] * v.clv[i]).collect());
    let rank_score: Vec<f64> = match (options.rank_by, &var) {
        (RankBy::Churn, _) => p.to_vec(),
        (RankBy::ValueAtRisk, Some(var)) => var.clone(),
        (RankBy::ValueAtRisk, None) => {
            return Err(ScoreError::Invalid(
                "ranking by value at risk needs a CLV model".into(),
            ));
        }
    };
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| {
        rank_score[b]
            .total_cmp(&rank_score[a])
            .then(features.clients[a].cmp(&features.clients[b]))
    });
    let names = features.schema.names();
    let mut reasons: Vec<Vec<String>> = vec![Vec::with_capacity(n); options.n_reasons];
    for &i in &order {
        let mut top: Vec<(usize, f64)> = match &contributions {
            Some(c) => c
                .index_axis(Axis(0), i)
                .iter()
                .copied()
                .enumerate()
                .filter(|(_, v)| *v > 0.0)
                .collect(),
            None => Vec::new(),
        };
        top.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        for (k, col) in reasons.iter_mut().enumerate() {
            col.push(
                top.get(k)
                    .map(|(j, _)| names[*j].clone())
                    .unwrap_or_default(),
            );
        }
    }
    let pick = |v: &[f64]| order.iter().map(|&i| v[i]).collect::<Vec<f64>>();
    let mut cols: Vec<Column> = vec![
        Column::new("risk_rank".into(), (1..=n as u32).collect::<Vec<_>>()),
        Column::new(
            "client_id".into(),
            order
                .iter()
                .map(|&i| features.clients[i])
                .collect::<Vec<_>>(),
        ),
        Column::new("churn_probability".into(), pick(&p.to_vec())),
    ];
    if let (Some(v), Some(var)) = (values, &var) {
        let key_client = key_clients(&v.clv, &features.clients, options.key_share);
        cols.push(Column::new("p_alive".into(), pick(&v.p_alive)));
        cols.push(Column::new(
            "expected_purchases".into(),
            pick(&v.expected_purchases),
        ));
        cols.push(Column::new("clv".into(), pick(&v.clv)));
        cols.push(Column::new("value_at_risk".into(), pick(var)));
        cols.push(Column::new(
            "key_client".into(),
            order.iter().map(|&i| key_client[i]).collect::<Vec<bool>>(),
        ));
    }
    for (k, r) in reasons.into_iter().enumerate() {
        cols.push(Column::new(format!("reason_{}", k + 1).into(), r));
    }
    Ok(Scores {
        table: DataFrame::new_infer_height(cols)?,
    })
}

/// Flags the top `ceil(share x n)` clients by `clv` (descending, ties to the smaller id).
fn key_clients(clv: &[f64], clients: &[i64], share: f64) -> Vec<bool> {
    let n = clv.len();
    let k = ((share * n as f64).ceil() as usize).min(n);
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| clv[b].total_cmp(&clv[a]).then(clients[a].cmp(&clients[b])));
    let mut key = vec![false; n];
    for &i in &order[..k] {
        key[i] = true;
    }
    key
}

impl Scores {
    /// Writes `<stem>.csv` and `<stem>.parquet` atomically; returns the two paths.
    pub fn write(&mut self, stem: &Path) -> Result<[PathBuf; 2], ScoreError> {
        let csv = stem.with_extension("csv");
        let parquet = stem.with_extension("parquet");
        write_table(&mut self.table, &csv)?;
        write_table(&mut self.table, &parquet)?;
        Ok([csv, parquet])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array1, Array2, ArrayView2, array};
    use retain_core::FeatureSchema;

    /// A toy model: p = sigmoid(x0 - x1); contributions (x0, -x1).
    struct Toy;
    impl ChurnClassifier for Toy {
        fn kind(&self) -> &'static str {
            "toy"
        }
        fn n_features(&self) -> usize {
            2
        }
        fn predict_proba(&self, x: ArrayView2<f64>) -> Result<Array1<f64>, ModelError> {
            Ok(x.rows()
                .into_iter()
                .map(|r| 1.0 / (1.0 + (r[1] - r[0]).exp()))
                .collect())
        }
        fn contributions(&self, x: ArrayView2<f64>) -> Result<Option<Array2<f64>>, ModelError> {
            let mut c = x.to_owned();
            c.column_mut(1).mapv_inplace(|v| -v);
            Ok(Some(c))
        }
        fn feature_importances(&self) -> Vec<f64> {
            vec![0.5, 0.5]
        }
    }

    #[test]
    fn ranks_by_probability_then_id_and_names_reasons() {
        let fm = FeatureMatrix {
            clients: vec![30, 10, 20, 40],
            x: array![[1.0, 0.0], [2.0, -1.0], [1.0, 0.0], [-1.0, 2.0]],
            schema: FeatureSchema::new(["recency", "frequency"]),
        };
        let s = score(&Toy, &fm, 2).unwrap().table;
        let ids: Vec<i64> = s
            .column("client_id")
            .unwrap()
            .i64()
            .unwrap()
            .iter()
            .flatten()
            .collect();
        assert_eq!(ids, vec![10, 20, 30, 40]); // 20 and 30 tie: lower id first
        let r1: Vec<String> = s
            .column("reason_1")
            .unwrap()
            .str()
            .unwrap()
            .iter()
            .map(|v| v.unwrap().to_string())
            .collect();
        assert_eq!(r1, vec!["recency", "recency", "recency", ""]);
        let r2 = s
            .column("reason_2")
            .unwrap()
            .str()
            .unwrap()
            .get(0)
            .unwrap()
            .to_string();
        assert_eq!(r2, "frequency"); // -(-1) > 0
        let ranks: Vec<u32> = s
            .column("risk_rank")
            .unwrap()
            .u32()
            .unwrap()
            .iter()
            .flatten()
            .collect();
        assert_eq!(ranks, vec![1, 2, 3, 4]);
    }

    #[test]
    fn value_columns_rank_and_flag_key_clients() {
        let fm = FeatureMatrix {
            clients: vec![30, 10, 20, 40, 50],
            x: array![[1.0, 0.0], [2.0, -1.0], [1.0, 0.0], [-1.0, 2.0], [0.0, 0.0]],
            schema: FeatureSchema::new(["recency", "frequency"]),
        };
        let values = ClientValues {
            p_alive: vec![0.5, 0.9, 0.5, 1.0, 0.7],
            expected_purchases: vec![1.0, 2.0, 1.0, 3.0, 0.5],
            expected_spend: vec![10.0; 5],
            clv: vec![10.0, 20.0, 500.0, 30.0, 40.0],
        };
        let f64s = |s: &DataFrame, c: &str| -> Vec<f64> {
            s.column(c)
                .unwrap()
                .f64()
                .unwrap()
                .iter()
                .flatten()
                .collect()
        };
        let ids = |s: &DataFrame| -> Vec<i64> {
            s.column("client_id")
                .unwrap()
                .i64()
                .unwrap()
                .iter()
                .flatten()
                .collect()
        };
        let opts = ScoreOptions {
            n_reasons: 1,
            ..ScoreOptions::default()
        };
        let s = score_with_value(&Toy, &fm, Some(&values), &opts)
            .unwrap()
            .table;
        let names: Vec<&str> = s.get_column_names().iter().map(|c| c.as_str()).collect();
        assert_eq!(
            names,
            [
                "risk_rank",
                "client_id",
                "churn_probability",
                "p_alive",
                "expected_purchases",
                "clv",
                "value_at_risk",
                "key_client",
                "reason_1"
            ]
        );
        assert_eq!(ids(&s), vec![10, 20, 30, 50, 40]);
        let (p, clv, var) = (
            f64s(&s, "churn_probability"),
            f64s(&s, "clv"),
            f64s(&s, "value_at_risk"),
        );
        for i in 0..5 {
            assert_eq!(var[i].to_bits(), (p[i] * clv[i]).to_bits());
        }
        // top ceil(0.2 x 5) = 1 client by CLV: client 20
        let key: Vec<bool> = s
            .column("key_client")
            .unwrap()
            .bool()
            .unwrap()
            .iter()
            .flatten()
            .collect();
        assert_eq!(key, vec![false, true, false, false, false]);
        let by_var = ScoreOptions {
            rank_by: RankBy::ValueAtRisk,
            key_share: 0.4,
            ..opts
        };
        let s = score_with_value(&Toy, &fm, Some(&values), &by_var)
            .unwrap()
            .table;
        assert_eq!(ids(&s)[0], 20);
        let var = f64s(&s, "value_at_risk");
        assert!(var.windows(2).all(|w| w[0] >= w[1]), "{var:?}");
        let n_key = s
            .column("key_client")
            .unwrap()
            .bool()
            .unwrap()
            .sum()
            .unwrap();
        assert_eq!(n_key, 2);
        // without a CLV model: no value columns, and no ranking by value
        assert!(score_with_value(&Toy, &fm, None, &by_var).is_err());
        let bad = ScoreOptions {
            key_share: 0.0,
            ..opts
        };
        assert!(score_with_value(&Toy, &fm, Some(&values), &bad).is_err());
    }

    #[test]
    fn writes_csv_and_parquet() {
        let dir = tempfile::tempdir().unwrap();
        let fm = FeatureMatrix {
            clients: vec![1, 2],
            x: array![[1.0, 0.0], [0.0, 1.0]],
            schema: FeatureSchema::new(["a", "b"]),
        };
        let mut s = score(&Toy, &fm, 1).unwrap();
        let [csv, pq] = s.write(&dir.path().join("scores")).unwrap();
        let text = std::fs::read_to_string(csv).unwrap();
        assert!(
            text.starts_with("risk_rank,client_id,churn_probability,reason_1\n1,1,"),
            "{text}"
        );
        assert!(pq.exists());
    }
}
