use ndarray::{Array2, ArrayView2, Axis};
use serde::{Deserialize, Serialize};

/// Per-column standardisation `(x - mean) / scale`, with scikit-learn's `StandardScaler`
/// semantics: `mean` is the column mean, `scale` the population standard deviation
/// (ddof = 0), and a constant column gets scale 1 (so it maps to 0, not to NaN).
///
/// A saved scaler is checked as it is read: equal lengths, finite means and finite scales
/// above 0 (a scale of 0 in an edited file would send every value to infinity).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "SavedScaler")]
pub struct StandardScaler {
    mean: Vec<f64>,
    scale: Vec<f64>,
    /// Whether each value goes through `sign(x) ln(1 + |x|)` before it is standardised
    /// (absent from scalers saved before there was a choice: those did not).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    signed_log: bool,
}

/// The scaler as stored, before its numbers are checked.
#[derive(Deserialize)]
struct SavedScaler {
    mean: Vec<f64>,
    scale: Vec<f64>,
    #[serde(default)]
    signed_log: bool,
}

/// `sign(x) ln(1 + |x|)`: compresses heavy tails (spend, counts) while keeping the sign and
/// the order; 0 stays 0.
pub fn signed_log(x: f64) -> f64 {
    x.signum() * x.abs().ln_1p()
}

impl TryFrom<SavedScaler> for StandardScaler {
    type Error = String;
    fn try_from(s: SavedScaler) -> Result<Self, String> {
        if s.mean.len() != s.scale.len() {
            return Err(format!(
                "the scaler has {} means and {} scales",
                s.mean.len(),
                s.scale.len()
            ));
        }
        if let Some((j, m)) = s.mean.iter().enumerate().find(|(_, m)| !m.is_finite()) {
            return Err(format!("the scaler's mean {j} is {m}: it must be finite"));
        }
        if let Some((j, v)) = s
            .scale
            .iter()
            .enumerate()
            .find(|(_, v)| !(v.is_finite() && **v > 0.0))
        {
            return Err(format!(
                "the scaler's scale {j} is {v}: it must be finite and above 0"
            ));
        }
        Ok(Self {
            mean: s.mean,
            scale: s.scale,
            signed_log: s.signed_log,
        })
    }
}

impl StandardScaler {
    /// Learns the mean and scale of each column of `x` (two-pass, for accuracy).
    /// An empty matrix gives mean 0 and scale 1.
    pub fn fit(x: ArrayView2<f64>) -> Self {
        Self::fit_with(x, false)
    }

    /// Like [`Self::fit`], with `signed_log` first sending every value through
    /// [`signed_log`] (the means and scales are then those of the transformed values).
    pub fn fit_with(x: ArrayView2<f64>, signed_log: bool) -> Self {
        if signed_log {
            let mut s = Self::fit(x.mapv(self::signed_log).view());
            s.signed_log = true;
            return s;
        }
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
        Self {
            mean,
            scale,
            signed_log: false,
        }
    }

    /// Whether values go through [`signed_log`] before they are standardised.
    pub fn is_signed_log(&self) -> bool {
        self.signed_log
    }

    /// The standardised value of `v` in column `j`.
    #[inline]
    pub fn apply(&self, j: usize, v: f64) -> f64 {
        let v = if self.signed_log { signed_log(v) } else { v };
        (v - self.mean[j]) / self.scale[j]
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
            for (j, v) in row.iter_mut().enumerate() {
                *v = self.apply(j, *v);
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
    fn a_saved_scaler_round_trips_and_impossible_numbers_are_refused() {
        let s = StandardScaler::fit(array![[1.0, 5.0], [3.0, 5.0]].view());
        let json = serde_json::to_string(&s).unwrap();
        assert_eq!(serde_json::from_str::<StandardScaler>(&json).unwrap(), s);
        for (bad, needle) in [
            (r#"{"mean":[0.0],"scale":[0.0]}"#, "scale 0 is 0"),
            (r#"{"mean":[0.0],"scale":[-2.0]}"#, "scale 0 is -2"),
            (
                r#"{"mean":[0.0,1.0],"scale":[1.0]}"#,
                "2 means and 1 scales",
            ),
        ] {
            let e = serde_json::from_str::<StandardScaler>(bad).unwrap_err();
            assert!(e.to_string().contains(needle), "{bad}: {e}");
        }
    }

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
