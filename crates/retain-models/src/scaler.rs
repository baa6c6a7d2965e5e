use ndarray::{Array2, ArrayView2, Axis};
use serde::{Deserialize, Serialize};

/// Per-column standardisation `(x - mean) / scale`, with scikit-learn's `StandardScaler`
/// semantics: `mean` is the column mean, `scale` the population standard deviation
/// (ddof = 0), and a constant column gets scale 1 (so it maps to 0, not to NaN).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StandardScaler {
    mean: Vec<f64>,
    scale: Vec<f64>,
}

impl StandardScaler {
    /// Learns the mean and scale of each column of `x` (two-pass, for accuracy).
    /// An empty matrix gives mean 0 and scale 1.
    pub fn fit(x: ArrayView2<f64>) -> Self {
        let n = x.nrows() as f64;
        let mut mean = Vec::with_capacity(x.ncols());
        let mut scale = Vec::with_capacity(x.ncols());
        for col in x.axis_iter(Axis(1)) {
            if col.is_empty() {
                mean.push(0.0);
                scale.push(1.0);
                continue;
            }
            let m = col.sum() / n;
            let var = col.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / n;
            let constant = col.iter().all(|&v| v == col[0]);
            let s = var.sqrt();
            mean.push(m);
            scale.push(if constant || s == 0.0 { 1.0 } else { s });
        }
        Self { mean, scale }
    }

    /// The column means.
    pub fn mean(&self) -> &[f64] {
        &self.mean
    }

    /// The column scales (population standard deviations; 1 for constant columns).
    pub fn scale(&self) -> &[f64] {
        &self.scale
    }

    /// Number of columns.
    pub fn n_features(&self) -> usize {
        self.mean.len()
    }

    /// Standardises `x`. The caller has checked that it has [`Self::n_features`] columns.
    pub fn transform(&self, x: ArrayView2<f64>) -> Array2<f64> {
        let mut z = x.to_owned();
        // Row by row: the rows are contiguous in the standard layout.
        for mut row in z.rows_mut() {
            for ((v, m), s) in row.iter_mut().zip(&self.mean).zip(&self.scale) {
                *v = (*v - m) / s;
            }
        }
        z
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn population_std_and_constant_columns() {
        let x = array![[1.0, 5.0], [3.0, 5.0]];
        let s = StandardScaler::fit(x.view());
        assert_eq!(s.mean(), &[2.0, 5.0]);
        assert_eq!(s.scale(), &[1.0, 1.0]); // std of {1, 3} with ddof 0 is 1; constant -> 1
        let x = array![[0.0], [0.0], [3.0]];
        let s = StandardScaler::fit(x.view());
        assert!((s.scale()[0] - 2.0_f64.sqrt()).abs() < 1e-15);
        let z = s.transform(x.view());
        assert!((z.column(0).sum()).abs() < 1e-12);
        assert!((z.column(0).mapv(|v| v * v).sum() / 3.0 - 1.0).abs() < 1e-12);
    }
}
