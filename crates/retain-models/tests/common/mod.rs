//! Shared helpers of the integration tests: the peer's feature files and a rank-based AUC.

use std::io::Read;

use ndarray::Array2;

/// One of the peer's feature files (BENCHMARK.md section 9): client_id, 29 features,
/// churned, holdout_purchases, holdout_value.
pub struct PeerSet {
    #[allow(dead_code)] // used by some tests only
    pub names: Vec<String>,
    pub x: Array2<f64>,
    pub churned: Vec<bool>,
    #[allow(dead_code)] // used by some tests only
    pub ids: Vec<i64>,
    #[allow(dead_code)] // used by some tests only
    pub value: Vec<f64>,
}

pub fn peer_path(rel: &str) -> String {
    format!("{}/../../../shared/data/{rel}", env!("CARGO_MANIFEST_DIR"))
}

pub fn read_peer(rel: &str) -> PeerSet {
    let path = peer_path(rel);
    let file = std::fs::File::open(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut text = String::new();
    flate2::read::GzDecoder::new(file)
        .read_to_string(&mut text)
        .unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!(header[0], "client_id");
    assert_eq!(header[30], "churned");
    assert_eq!(header[32], "holdout_value");
    let names: Vec<String> = header[1..30].iter().map(|s| s.to_string()).collect();
    let mut values = Vec::new();
    let mut churned = Vec::new();
    let mut ids = Vec::new();
    let mut value = Vec::new();
    let mut rows = 0;
    for line in lines {
        let f: Vec<&str> = line.split(',').collect();
        assert_eq!(f.len(), header.len(), "{line}");
        values.extend(f[1..30].iter().map(|v| v.parse::<f64>().unwrap()));
        churned.push(f[30] == "1");
        ids.push(f[0].parse::<i64>().unwrap());
        value.push(f[32].parse::<f64>().unwrap());
        rows += 1;
    }
    PeerSet {
        names,
        x: Array2::from_shape_vec((rows, 29), values).unwrap(),
        churned,
        ids,
        value,
    }
}

/// The peer's rule: keep the features that are non-constant on the training set.
pub fn used_columns(train: &PeerSet) -> Vec<usize> {
    (0..train.x.ncols())
        .filter(|&j| {
            let c = train.x.column(j);
            c.iter().any(|&v| v != c[0])
        })
        .collect()
}

pub fn select(x: &Array2<f64>, cols: &[usize]) -> Array2<f64> {
    x.select(ndarray::Axis(1), cols)
}

/// ROC AUC by ranks (Mann-Whitney U), ties counted half, as `sklearn.roc_auc_score`.
pub fn roc_auc(score: &[f64], y: &[bool]) -> f64 {
    let mut idx: Vec<usize> = (0..score.len()).collect();
    idx.sort_by(|&a, &b| score[a].total_cmp(&score[b]));
    let mut ranks = vec![0.0; score.len()];
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && score[idx[j + 1]] == score[idx[i]] {
            j += 1;
        }
        let avg = (i + j) as f64 / 2.0 + 1.0;
        for k in i..=j {
            ranks[idx[k]] = avg;
        }
        i = j + 1;
    }
    let n_pos = y.iter().filter(|&&c| c).count() as f64;
    let n_neg = y.len() as f64 - n_pos;
    let rank_sum: f64 = ranks
        .iter()
        .zip(y)
        .filter(|(_, c)| **c)
        .map(|(r, _)| r)
        .sum();
    (rank_sum - n_pos * (n_pos + 1.0) / 2.0) / (n_pos * n_neg)
}

#[test]
fn auc_counts_ties_half() {
    assert_eq!(roc_auc(&[0.1, 0.9], &[false, true]), 1.0);
    assert_eq!(roc_auc(&[0.9, 0.1], &[false, true]), 0.0);
    assert_eq!(roc_auc(&[0.5, 0.5], &[false, true]), 0.5);
    // sklearn: roc_auc_score([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == 0.75
    assert_eq!(
        roc_auc(&[0.1, 0.4, 0.35, 0.8], &[false, false, true, true]),
        0.75
    );
}
