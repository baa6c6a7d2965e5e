//! Additive explanations of churn scores: per-row, per-feature contributions that add up,
//! with the baseline they start from, for every classifier kind
//! ([`crate::ChurnClassifier::explain`]).
//!
//! | kind | scale | baseline | values |
//! |---|---|---|---|
//! | logistic regression | [`ExplanationScale::LogOdds`] | the intercept | coefficient x standardised value |
//! | decision tree | [`ExplanationScale::Probability`] | the root's churned share | Saabas path contributions |
//! | random forest | [`ExplanationScale::Probability`] | the mean root share | Saabas path contributions, averaged over trees |
//! | gradient boosting | [`ExplanationScale::LogOdds`] | the expected log-odds | exact path-dependent Tree SHAP (as LightGBM's `pred_contrib`) |
//! | calibrated | [`ExplanationScale::Probability`] | the calibrated baseline | the base model's, through [`rescale_monotone`] |
//!
//! Composites (rank ensembles, averages of models) combine their parts' explanations with
//! [`combine`], after a monotone transform of each part with [`rescale_monotone`] where the
//! ensemble works on another scale than the part.

use ndarray::{Array1, Array2, Axis};
use serde::{Deserialize, Serialize};

use crate::ModelError;

/// The scale on which an explanation adds up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExplanationScale {
    /// Log-odds of churn (`logit(P(churned))`).
    LogOdds,
    /// `P(churned)`.
    Probability,
    /// A churn score that is neither (e.g. a rank ensemble's mean normalised rank).
    Score,
}

/// Per-row, per-feature contributions that add up: for every row `i`,
/// `base + values.row(i).sum() == scores[i]` (up to rounding, tested to 1e-9 relative).
#[derive(Debug, Clone, PartialEq)]
pub struct Explanation {
    /// The scale of `base`, `values` and `scores`.
    pub scale: ExplanationScale,
    /// The baseline: the score of the reference ("expected") client on `scale`.
    pub base: f64,
    /// rows x features, in the model's feature order; positive = pushes churn risk up.
    pub values: Array2<f64>,
    /// The model's score of each row on `scale` (e.g. logit(predict_proba) for LogOdds).
    pub scores: Array1<f64>,
}

impl Explanation {
    /// Checks the shapes (one score per row) and builds the explanation.
    pub fn new(
        scale: ExplanationScale,
        base: f64,
        values: Array2<f64>,
        scores: Array1<f64>,
    ) -> Result<Self, ModelError> {
        if scores.len() != values.nrows() {
            return Err(ModelError::LengthMismatch {
                what: "scores",
                rows: values.nrows(),
                found: scores.len(),
            });
        }
        Ok(Self {
            scale,
            base,
            values,
            scores,
        })
    }

    /// Number of rows (clients).
    pub fn n_rows(&self) -> usize {
        self.values.nrows()
    }

    /// Number of features.
    pub fn n_features(&self) -> usize {
        self.values.ncols()
    }

    /// `scores[i] - base - values.row(i).sum()` per row: zero up to rounding.
    pub fn residuals(&self) -> Array1<f64> {
        let sums = self.values.sum_axis(Axis(1));
        Array1::from_iter(
            self.scores
                .iter()
                .zip(&sums)
                .map(|(s, v)| s - self.base - v),
        )
    }
}

/// The rescale rule for a monotone non-decreasing transform g of an additive score s = base + sum(phi):
/// with t = g(s) and t0 = g(base), each phi_j becomes phi_j * (t - t0) / (s - base) (0 when s == base), so the
/// new values add up to t - t0 exactly and keep their signs. Used for calibrated models and rank ensembles.
///
/// `transformed[i]` is `g(e.scores[i])` and `transformed_base` is `g(e.base)`; the result's
/// scores are `transformed` and its baseline `transformed_base`, on `scale`. `s - base` is
/// taken as the row sum of `phi` (the additive score itself), so the new row sums are
/// `t - t0` up to one rounding per value. A transform with jumps (isotonic calibration)
/// can make the factor large for a row whose score sits next to a jump: the rule still
/// adds up, it only says the whole jump is the features' doing. A decreasing `g` would
/// flip every sign (the rule still adds up).
pub fn rescale_monotone(
    e: &Explanation,
    transformed: &[f64],
    transformed_base: f64,
    scale: ExplanationScale,
) -> Result<Explanation, ModelError> {
    if transformed.len() != e.n_rows() {
        return Err(ModelError::LengthMismatch {
            what: "transformed scores",
            rows: e.n_rows(),
            found: transformed.len(),
        });
    }
    let mut values = e.values.clone();
    for (mut row, &t) in values.axis_iter_mut(Axis(0)).zip(transformed) {
        let d: f64 = row.sum();
        let factor = if d == 0.0 {
            0.0
        } else {
            (t - transformed_base) / d
        };
        row.mapv_inplace(|v| v * factor);
    }
    Explanation::new(
        scale,
        transformed_base,
        values,
        Array1::from(transformed.to_vec()),
    )
}

/// Combines explanations of ensemble parts with weights w_k (same rows; each part's values mapped onto a shared
/// feature list by column index maps): base = sum w_k base_k, values = sum w_k values_k, scores = sum w_k scores_k.
///
/// Part `k` is `(w_k, explanation_k, map_k)`: column `j` of `explanation_k` is feature
/// `map_k[j]` (`< n_features`) of the result; columns mapped to the same feature add up.
/// The result is on the parts' common scale, or [`ExplanationScale::Score`] when they
/// differ. Fails on no parts, parts with other row counts, a map of the wrong length or
/// one pointing past `n_features`, and non-finite weights.
pub fn combine(
    parts: &[(f64, &Explanation, &[usize])],
    n_features: usize,
) -> Result<Explanation, ModelError> {
    let Some((_, first, _)) = parts.first() else {
        return Err(ModelError::InvalidExplanation(
            "an ensemble needs at least one part".into(),
        ));
    };
    let rows = first.n_rows();
    let mut values = Array2::zeros((rows, n_features));
    let mut scores = Array1::zeros(rows);
    let mut base = 0.0;
    let mut scale = first.scale;
    for (k, &(w, e, map)) in parts.iter().enumerate() {
        if !w.is_finite() {
            return Err(ModelError::InvalidExplanation(format!(
                "part {k} has weight {w}"
            )));
        }
        if e.n_rows() != rows {
            return Err(ModelError::LengthMismatch {
                what: "an ensemble part's explanation",
                rows,
                found: e.n_rows(),
            });
        }
        if map.len() != e.n_features() {
            return Err(ModelError::InvalidExplanation(format!(
                "part {k} has {} features but its column map {}",
                e.n_features(),
                map.len()
            )));
        }
        if let Some(&bad) = map.iter().find(|&&j| j >= n_features) {
            return Err(ModelError::InvalidExplanation(format!(
                "part {k} maps a column to feature {bad}, past the {n_features} features"
            )));
        }
        if e.scale != scale {
            scale = ExplanationScale::Score;
        }
        base += w * e.base;
        scores.scaled_add(w, &e.scores);
        // row by row (a column at a time would stride over the whole matrix per feature);
        // each value gets the same additions in the same order
        for (mut out, row) in values.rows_mut().into_iter().zip(e.values.rows()) {
            for (&to, &v) in map.iter().zip(row.iter()) {
                out[to] += w * v;
            }
        }
    }
    Explanation::new(scale, base, values, scores)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::logistic::sigmoid as logistic;
    use ndarray::array;

    /// Asserts that `e` adds up to 1e-9 relative (to the larger of 1 and the score).
    pub(crate) fn assert_adds_up(e: &Explanation) {
        for (i, r) in e.residuals().iter().enumerate() {
            let tol = 1e-9 * e.scores[i].abs().max(1.0);
            assert!(r.abs() <= tol, "row {i}: residual {r}");
        }
    }

    fn toy() -> Explanation {
        // Three rows: up, down, and exactly at the baseline.
        Explanation::new(
            ExplanationScale::LogOdds,
            -1.0,
            array![[0.5, 1.5, -1.0], [-0.25, -0.5, 0.25], [0.5, -0.5, 0.0]],
            array![0.0, -1.5, -1.0],
        )
        .unwrap()
    }

    /// A seeded simulated churn problem: five features on different scales, churn more
    /// likely with a long silence (column 0), few purchases (column 1) and an interaction
    /// of columns 2 and 3; column 4 is noise.
    fn simulated(n: usize, seed: u64) -> (Array2<f64>, Vec<bool>) {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let x = Array2::from_shape_fn((n, 5), |(_, j)| {
            let u: f64 = rng.random();
            match j {
                0 => (u * 300.0).round(),
                1 => (u * u * 20.0).floor(),
                2 => u * 2.0 - 1.0,
                3 => (u * 4.0).floor(),
                _ => u * 1000.0,
            }
        });
        let y = (0..n)
            .map(|i| {
                let z = 0.012 * x[[i, 0]] - 0.25 * x[[i, 1]] + 1.5 * x[[i, 2]] * (x[[i, 3]] - 1.5)
                    - 0.8;
                rng.random::<f64>() < logistic(z)
            })
            .collect();
        (x, y)
    }

    /// Every kind: the explanation adds up, its scores are the model's own (through the
    /// logistic function on the log-odds scale), and its values are the contributions
    /// (rescaled, with the same signs, for calibrated models).
    #[test]
    fn every_kind_explains_its_own_scores() {
        use crate::{
            AnyClassifier, Calibrated, CalibrationMethod, ChurnClassifier, DecisionTreeParams,
            GradientBoostingParams, LogisticParams, RandomForestParams,
        };
        let (x, y) = simulated(600, 11);
        let (xc, yc) = simulated(400, 12);
        let (xt, _) = simulated(200, 13);
        let logistic_model: AnyClassifier = LogisticParams::new()
            .fit(x.view(), &y, None)
            .unwrap()
            .into();
        let tree: AnyClassifier = DecisionTreeParams::new()
            .fit(x.view(), &y, None)
            .unwrap()
            .into();
        let forest: AnyClassifier = RandomForestParams::new()
            .n_trees(25)
            .fit(x.view(), &y, None)
            .unwrap()
            .into();
        let booster: AnyClassifier = GradientBoostingParams::new()
            .n_trees(40)
            .learning_rate(0.1)
            .fit(x.view(), &y, None)
            .unwrap()
            .into();
        let plain = [
            (logistic_model, ExplanationScale::LogOdds),
            (tree, ExplanationScale::Probability),
            (forest, ExplanationScale::Probability),
            (booster, ExplanationScale::LogOdds),
        ];
        let mut models = Vec::new();
        for (m, scale) in &plain {
            for method in [CalibrationMethod::Platt, CalibrationMethod::Isotonic] {
                let cal = Calibrated::fit(m.clone(), method, xc.view(), &yc).unwrap();
                models.push((
                    AnyClassifier::from(cal),
                    ExplanationScale::Probability,
                    Some(m),
                ));
            }
            models.push((m.clone(), *scale, None));
        }
        for (m, scale, base) in &models {
            let e = m.explain(xt.view()).unwrap();
            let what = format!("{} over {:?}", m.kind(), base.map(|b| b.kind()));
            assert_eq!(e.scale, *scale, "{what}");
            assert_eq!(e.values.dim(), (200, 5), "{what}");
            assert_adds_up(&e);
            let p = m.predict_proba(xt.view()).unwrap();
            for (s, p) in e.scores.iter().zip(&p) {
                let q = if *scale == ExplanationScale::LogOdds {
                    logistic(*s)
                } else {
                    *s
                };
                assert!((q - p).abs() <= 1e-12, "{what}: {q} vs {p}");
            }
            let c = m.contributions(xt.view()).unwrap().unwrap();
            match base {
                None => assert_eq!(e.values, c, "{what}"),
                Some(_) => {
                    for (a, b) in e.values.iter().zip(&c) {
                        assert!(a * b >= 0.0, "{what}: {a} vs {b}");
                    }
                }
            }
        }
    }

    /// A kind outside this crate that does not explain itself is refused by name.
    #[test]
    fn the_default_explanation_is_a_refusal() {
        struct Flat;
        impl crate::ChurnClassifier for Flat {
            fn kind(&self) -> &'static str {
                "flat"
            }
            fn n_features(&self) -> usize {
                1
            }
            fn predict_proba(
                &self,
                x: ndarray::ArrayView2<f64>,
            ) -> Result<Array1<f64>, ModelError> {
                Ok(Array1::from_elem(x.nrows(), 0.5))
            }
            fn contributions(
                &self,
                _: ndarray::ArrayView2<f64>,
            ) -> Result<Option<Array2<f64>>, ModelError> {
                Ok(None)
            }
            fn feature_importances(&self) -> Vec<f64> {
                vec![0.0]
            }
        }
        let err = crate::ChurnClassifier::explain(&Flat, Array2::zeros((2, 1)).view());
        assert!(matches!(
            err,
            Err(ModelError::NoExplanation { kind: "flat" })
        ));
    }

    #[test]
    fn rescaling_keeps_signs_and_adds_up() {
        let e = toy();
        assert_adds_up(&e);
        let t: Vec<f64> = e.scores.iter().map(|&s| logistic(s)).collect();
        let r = rescale_monotone(&e, &t, logistic(-1.0), ExplanationScale::Probability).unwrap();
        assert_adds_up(&r);
        assert_eq!(r.scale, ExplanationScale::Probability);
        assert_eq!(r.base, logistic(-1.0));
        // Row 0: s - base = 1, t - t0 = 0.5 - 0.2689 = 0.2311: every value times 0.2311.
        let f = 0.5 - logistic(-1.0);
        for j in 0..3 {
            assert!((r.values[[0, j]] - e.values[[0, j]] * f).abs() < 1e-15);
        }
        // Rows 0 and 1 move away from the baseline: every value keeps its sign.
        for i in 0..2 {
            for j in 0..3 {
                let (a, b) = (r.values[[i, j]], e.values[[i, j]]);
                assert!(a * b > 0.0 || a == b, "row {i} column {j}: {a} vs {b}");
            }
        }
        // Row 2 sits at the baseline: its values become 0.
        assert!(r.values.row(2).iter().all(|&v| v == 0.0));
        assert!(rescale_monotone(&e, &t[..2], 0.0, ExplanationScale::Score).is_err());
    }

    #[test]
    fn combining_weights_parts_and_maps_their_columns() {
        let a = toy();
        let b = Explanation::new(
            ExplanationScale::Probability,
            0.25,
            array![[0.5], [-0.125], [0.0]],
            array![0.75, 0.125, 0.25],
        )
        .unwrap();
        // a's columns are features 0, 1, 2; b's one column is feature 1.
        let c = combine(&[(0.5, &a, &[0, 1, 2]), (2.0, &b, &[1])], 3).unwrap();
        assert_eq!(c.scale, ExplanationScale::Score);
        assert_eq!(c.base, -0.5 + 2.0 * 0.25);
        assert_eq!(c.values.row(0).to_vec(), vec![0.25, 0.75 + 1.0, -0.5]);
        assert_eq!(c.scores.to_vec(), vec![1.5, -0.5, 0.0]);
        assert_adds_up(&c);
        let same = combine(&[(1.0, &a, &[2, 1, 0])], 4).unwrap();
        assert_eq!(same.scale, ExplanationScale::LogOdds);
        assert_eq!(same.values.row(0).to_vec(), vec![-1.0, 1.5, 0.5, 0.0]);
        assert!(combine(&[], 3).is_err());
        assert!(combine(&[(1.0, &a, &[0, 1])], 3).is_err());
        assert!(combine(&[(1.0, &a, &[0, 1, 3])], 3).is_err());
        assert!(combine(&[(f64::NAN, &a, &[0, 1, 2])], 3).is_err());
        let short = Explanation::new(
            ExplanationScale::Probability,
            0.0,
            Array2::zeros((1, 1)),
            array![0.0],
        )
        .unwrap();
        assert!(combine(&[(1.0, &a, &[0, 1, 2]), (1.0, &short, &[0])], 3).is_err());
    }
}
