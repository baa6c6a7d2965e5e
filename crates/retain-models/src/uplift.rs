//! Uplift: how much a contact changes a client's churn probability, learned from a randomised
//! campaign's treated and control clients with the "two models" method (Hansotia & Rukstales
//! 2002; Gutierrez & Gérardy 2017, section 3.1).
//!
//! One churn classifier is fitted on the control clients, one on the treated clients (of one
//! action); the uplift of a client is the difference of the two predictions:
//!
//! `uplift(x) = P(churn | control, x) - P(churn | treated, x)`
//!
//! positive when contacting the client makes it less likely to churn, negative when contact
//! harms ("sleeping dogs"). The treated arm counts every treated client whether or not it
//! answered (intention to treat); [`UpliftModel::per_response`] divides by the arm's response
//! rate to give the effect on a client who answers (the Wald / complier-average estimate,
//! valid when an unanswered contact has no effect). Both arms are any [`AnyClassifier`] kind,
//! fitted by the caller's params; the pair is saved as one JSON value.

use std::collections::BTreeMap;

use ndarray::{Array1, ArrayView2};
use serde::{Deserialize, Serialize};

use crate::{AnyClassifier, ChurnClassifier, ModelError, SavedModel};

/// A fitted two-model uplift of one action.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UpliftModel {
    /// The classifier of the control clients.
    pub control: AnyClassifier,
    /// The classifier of the clients treated with the action.
    pub treated: AnyClassifier,
    /// Share of the treated clients who answered (responded or converted), in `(0, 1]`.
    pub response_rate: f64,
    /// Treated training rows.
    pub n_treated: usize,
    /// Control training rows.
    pub n_control: usize,
}

impl UpliftModel {
    /// Pairs two fitted arms, refusing arms of different widths and a response rate outside
    /// `(0, 1]`.
    pub fn new(
        control: AnyClassifier,
        treated: AnyClassifier,
        response_rate: f64,
        n_treated: usize,
        n_control: usize,
    ) -> Result<Self, ModelError> {
        if control.n_features() != treated.n_features() {
            return Err(ModelError::ColumnCount {
                expected: control.n_features(),
                found: treated.n_features(),
            });
        }
        if !(response_rate > 0.0 && response_rate <= 1.0) {
            return Err(ModelError::InvalidParam {
                name: "response_rate",
                reason: format!("{response_rate} is not in (0, 1]"),
            });
        }
        Ok(Self {
            control,
            treated,
            response_rate,
            n_treated,
            n_control,
        })
    }

    /// Number of feature columns.
    pub fn n_features(&self) -> usize {
        self.control.n_features()
    }

    /// `P(churn | control, x) - P(churn | treated, x)` per row (intention to treat).
    pub fn uplift(&self, x: ArrayView2<f64>) -> Result<Array1<f64>, ModelError> {
        let c = self.control.predict_proba(x)?;
        let t = self.treated.predict_proba(x)?;
        Ok(c - t)
    }

    /// The effect on a client who answers: [`Self::uplift`] divided by the treated arm's
    /// response rate, clamped to `[-1, 1]`.
    pub fn per_response(&self, x: ArrayView2<f64>) -> Result<Array1<f64>, ModelError> {
        Ok(self
            .uplift(x)?
            .mapv(|u| (u / self.response_rate).clamp(-1.0, 1.0)))
    }

    /// `P(churn | not contacted, x)`: the control arm's prediction.
    pub fn baseline(&self, x: ArrayView2<f64>) -> Result<Array1<f64>, ModelError> {
        self.control.predict_proba(x)
    }
}

/// The prior standard deviation of an action's save rate ([`ActionUplift::save_rate`]).
pub const SAVE_RATE_PRIOR_SD: f64 = 0.25;

/// One action's uplift with how well it ranks on clients it was not fitted on.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ActionUplift {
    /// The fitted two models.
    pub model: UpliftModel,
    /// Qini coefficient on the held-out clients (`retain_eval::qini`): above 0, the model
    /// ranks the clients a contact helps above those it does not.
    pub qini: f64,
    /// The held-out Qini curve (share targeted, incremental retained per client).
    pub qini_curve: Vec<(f64, f64)>,
    /// The standard error of the held-out Qini coefficient (bootstrap over the held-out
    /// rows).
    pub qini_se: f64,
    /// The average effect on all training rows: the control rows' churn rate minus the
    /// treated rows' (intention to treat).
    pub average_effect: f64,
    /// The standard error of the average effect (two independent proportions).
    pub average_effect_se: f64,
    /// The control rows' churn rate.
    pub control_churn: f64,
    /// Held-out treated rows.
    pub holdout_treated: usize,
    /// Held-out control rows.
    pub holdout_control: usize,
}

impl ActionUplift {
    /// Whether the model ranks held-out clients better than chance beyond doubt: its Qini is
    /// above twice its standard error. Only then are its per-client effects worth more than
    /// the action's average effect.
    pub fn reliable(&self) -> bool {
        self.qini_se > 0.0 && self.qini > 2.0 * self.qini_se
    }

    /// The measured save rate: the share of answering clients who would have churned and
    /// stay, `s = average_effect / (response_rate x control_churn)` (the average effect per
    /// answer, as a share of the churners), shrunk toward 0 by its uncertainty: with a normal
    /// prior of mean 0 and standard deviation [`SAVE_RATE_PRIOR_SD`] (most actions save less
    /// than a quarter of the answering churners), the posterior mean is
    /// `s x sd^2 / (sd^2 + se^2)`, `se` the standard error of `s`. A noisy estimate from a
    /// few rows (or a tiny answer rate) is worth little; a precise one is kept. In `[-1, 1]`.
    pub fn save_rate(&self) -> f64 {
        let den = self.model.response_rate * self.control_churn;
        if den <= 0.0 {
            return 0.0;
        }
        let s = self.average_effect / den;
        let se = self.average_effect_se / den;
        let prior = SAVE_RATE_PRIOR_SD * SAVE_RATE_PRIOR_SD;
        (s * prior / (prior + se * se)).clamp(-1.0, 1.0)
    }
}

/// The uplift of every action learned from one contacts log: saved as one artifact
/// (kind [`UpliftSet::KIND`]), each action's two models inside.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UpliftSet {
    /// By action id.
    pub actions: BTreeMap<String, ActionUplift>,
}

impl UpliftSet {
    /// The artifact kind.
    pub const KIND: &'static str = "two_model_uplift";
}

impl SavedModel for UpliftSet {
    const KINDS: &'static [&'static str] = &[Self::KIND];

    fn model_kind(&self) -> String {
        Self::KIND.to_string()
    }

    fn width(&self) -> usize {
        self.actions
            .values()
            .next()
            .map_or(0, |a| a.model.n_features())
    }

    fn validate(&self) -> Result<(), String> {
        let w = self.width();
        for (id, a) in &self.actions {
            let m = &a.model;
            if m.n_features() != w || m.treated.n_features() != w {
                return Err(format!(
                    "action `{id}`: its models read {} features, not {w}",
                    m.n_features()
                ));
            }
            if !(m.response_rate > 0.0 && m.response_rate <= 1.0) {
                return Err(format!(
                    "action `{id}`: response rate {} is not in (0, 1]",
                    m.response_rate
                ));
            }
            if !a.qini.is_finite() || !a.average_effect.is_finite() {
                return Err(format!(
                    "action `{id}`: a non-finite Qini or average effect"
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::LogisticParams;
    use ndarray::Array2;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// Simulated campaign: churn 0.6 for everybody untreated; treatment cuts it to 0.3 for
    /// clients with x > 0 and raises it to 0.7 for x < 0. The fitted uplift has the truth's
    /// sign on each side and about its size.
    #[test]
    fn recovers_a_known_heterogeneous_effect() {
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let n = 40_000;
        let mut x = Array2::zeros((n, 1));
        let (mut yt, mut yc, mut xt, mut xc) = (vec![], vec![], vec![], vec![]);
        for i in 0..n {
            let v: f64 = rng.random_range(-1.0..1.0);
            x[[i, 0]] = v;
            let treated = rng.random_bool(0.5);
            let p = if !treated {
                0.6
            } else if v > 0.0 {
                0.3
            } else {
                0.7
            };
            let churn = rng.random_bool(p);
            if treated {
                xt.push(v);
                yt.push(churn);
            } else {
                xc.push(v);
                yc.push(churn);
            }
        }
        let fit = |xs: &[f64], ys: &[bool]| {
            let m = Array2::from_shape_vec((xs.len(), 1), xs.to_vec()).unwrap();
            AnyClassifier::from(LogisticParams::new().fit(m.view(), ys, None).unwrap())
        };
        let (c, t) = (fit(&xc, &yc), fit(&xt, &yt));
        let m = UpliftModel::new(c, t, 0.5, xt.len(), xc.len()).unwrap();
        let probe = Array2::from_shape_vec((2, 1), vec![0.9, -0.9]).unwrap();
        let u = m.uplift(probe.view()).unwrap();
        assert!(u[0] > 0.15 && u[1] < -0.0, "{u:?}");
        let r = m.per_response(probe.view()).unwrap();
        assert!((r[0] - 2.0 * u[0]).abs() < 1e-12);
        let back: UpliftModel = serde_json::from_str(&serde_json::to_string(&m).unwrap()).unwrap();
        assert_eq!(back.uplift(probe.view()).unwrap(), u);
        assert!(UpliftModel::new(m.control.clone(), m.treated.clone(), 0.0, 1, 1).is_err());
    }
}
