//! Class weights, applied as per-row sample weights (scikit-learn's `class_weight`).
//!
//! Every classifier kind takes a [`ClassWeight`] in its params (logistic regression, decision
//! tree, random forest, gradient boosting); at fit time it becomes a weight per row,
//! multiplied into any sample weights given. (Logistic regression uses them with its
//! default Newton solver; its linfa-logistic 0.8 solver, `Solver::Lbfgs`, ignores sample
//! weights, so it refuses class weights other than `None`.)

use serde::{Deserialize, Serialize};

use crate::ModelError;

/// How much each class counts in a fit.
///
/// | Variant | Weight of a churned row | Weight of a retained row |
/// |---|---|---|
/// | `None` (default) | 1 | 1 |
/// | `Balanced` | `n / (2 * n_churned)` | `n / (2 * n_retained)` |
/// | `Explicit { churned, retained }` | `churned` | `retained` |
///
/// `Balanced` is scikit-learn's `class_weight="balanced"`; with sample weights, the counts
/// are the (unweighted) row counts, as in scikit-learn.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum ClassWeight {
    /// Every row counts once.
    #[default]
    None,
    /// Each class gets the same total weight.
    Balanced,
    /// Fixed weights per class, both finite and `> 0`.
    Explicit {
        /// Weight of a churned row.
        churned: f64,
        /// Weight of a retained row.
        retained: f64,
    },
}

impl ClassWeight {
    /// Checks an explicit weight pair (finite, `> 0`).
    pub fn check(&self) -> Result<(), ModelError> {
        if let Self::Explicit { churned, retained } = *self {
            for (name, w) in [("churned", churned), ("retained", retained)] {
                if !(w.is_finite() && w > 0.0) {
                    return Err(ModelError::InvalidParam {
                        name: "class_weight",
                        reason: format!("the {name} weight {w} is not a finite number > 0"),
                    });
                }
            }
        }
        Ok(())
    }

    /// The weight of each class `(churned, retained)` for labels `y` (`(1, 1)` when a class
    /// is absent and the mode is `Balanced`: the fit refuses single-class labels anyway).
    pub fn class_weights(&self, y: &[bool]) -> (f64, f64) {
        match *self {
            Self::None => (1.0, 1.0),
            Self::Explicit { churned, retained } => (churned, retained),
            Self::Balanced => {
                let n = y.len() as f64;
                let c = y.iter().filter(|&&v| v).count() as f64;
                if c == 0.0 || c == n {
                    (1.0, 1.0)
                } else {
                    (n / (2.0 * c), n / (2.0 * (n - c)))
                }
            }
        }
    }

    /// Per-row weights: the class weight times the sample weight (if any). `None` when
    /// neither changes anything, so an unweighted fit stays on its unweighted path.
    pub fn sample_weights(&self, y: &[bool], weights: Option<&[f64]>) -> Option<Vec<f64>> {
        if *self == Self::None {
            return weights.map(<[f64]>::to_vec);
        }
        let (wc, wr) = self.class_weights(y);
        Some(
            y.iter()
                .enumerate()
                .map(|(i, &c)| {
                    let base = weights.map_or(1.0, |w| w.get(i).copied().unwrap_or(1.0));
                    base * if c { wc } else { wr }
                })
                .collect(),
        )
    }

    /// A short description for model cards: `none`, `balanced` or `churned=a,retained=b`.
    pub fn to_record(&self) -> String {
        match self {
            Self::None => "none".into(),
            Self::Balanced => "balanced".into(),
            Self::Explicit { churned, retained } => {
                format!("churned={churned},retained={retained}")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn balanced_gives_each_class_half_the_weight() {
        let y = [true, true, true, false];
        let w = ClassWeight::Balanced.sample_weights(&y, None).unwrap();
        assert_eq!(w, vec![4.0 / 6.0, 4.0 / 6.0, 4.0 / 6.0, 2.0]);
        let churned: f64 = w.iter().zip(&y).filter(|(_, c)| **c).map(|(w, _)| w).sum();
        assert!((churned - 2.0).abs() < 1e-12);
        assert_eq!(ClassWeight::None.sample_weights(&y, None), None);
        let e = ClassWeight::Explicit {
            churned: 2.0,
            retained: 0.5,
        };
        assert_eq!(
            e.sample_weights(&y, Some(&[1.0, 2.0, 3.0, 4.0])).unwrap(),
            vec![2.0, 4.0, 6.0, 2.0]
        );
        assert!(e.check().is_ok());
        let bad = ClassWeight::Explicit {
            churned: 0.0,
            retained: 1.0,
        };
        assert!(bad.check().is_err());
        let json = serde_json::to_string(&e).unwrap();
        assert_eq!(serde_json::from_str::<ClassWeight>(&json).unwrap(), e);
        assert_eq!(e.to_record(), "churned=2,retained=0.5");
    }
}
