//! Applying a saved churn model to every client and writing the ranked outreach list.
//!
//! The list has one row per client, ranked by churn risk: `risk_rank` (1 = most at risk),
//! `client_id`, `churn_probability` (P(no purchase in the horizon)), and `reason_1..k`, the
//! features that push the client's risk up most (largest positive contributions).

pub mod customer_base;
pub mod pipeline;

use std::path::{Path, PathBuf};

use ndarray::Axis;
use polars::prelude::*;
use retain_data::{DataError, write_table};
use retain_features::FeatureMatrix;
use retain_models::{ChurnClassifier, ModelError};

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
}

/// A ranked score table.
#[derive(Debug, Clone)]
pub struct Scores {
    /// `risk_rank, client_id, churn_probability, reason_1..k`, sorted by rank.
    pub table: DataFrame,
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
    let p = model.predict_proba(features.x.view())?;
    let contributions = model.contributions(features.x.view())?;
    let n = features.clients.len();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| {
        p[b].total_cmp(&p[a])
            .then(features.clients[a].cmp(&features.clients[b]))
    });
    let names = features.schema.names();
    let mut reasons: Vec<Vec<String>> = vec![Vec::with_capacity(n); n_reasons];
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
    let mut cols: Vec<Column> = vec![
        Column::new("risk_rank".into(), (1..=n as u32).collect::<Vec<_>>()),
        Column::new(
            "client_id".into(),
            order
                .iter()
                .map(|&i| features.clients[i])
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "churn_probability".into(),
            order.iter().map(|&i| p[i]).collect::<Vec<_>>(),
        ),
    ];
    for (k, r) in reasons.into_iter().enumerate() {
        cols.push(Column::new(format!("reason_{}", k + 1).into(), r));
    }
    Ok(Scores {
        table: DataFrame::new_infer_height(cols)?,
    })
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
