//! The Gamma-Gamma model of spend per transaction (Fader & Hardie 2013).

use crate::data::SpendData;
use crate::error::Result;
use crate::optim::{self, Objective};
use crate::params::model_params;
use statrs::function::gamma::{digamma, ln_gamma};

struct GgObjective<'a> {
    data: &'a SpendData,
}

impl GgObjective<'_> {
    fn eval(&self, p: &[f64], grad: Option<&mut [f64]>) -> f64 {
        let (pp, q, g) = (p[0].exp(), p[1].exp(), p[2].exp());
        let want = grad.is_some();
        let (lgq, psi_q, ln_g) = (ln_gamma(q), if want { digamma(q) } else { 0.0 }, g.ln());
        let mut ll = 0.0;
        let mut n = 0.0;
        let mut gr = [0.0; 3];
        let mut last_x = f64::NAN;
        let (mut lg_px, mut lg_pxq, mut psi_px, mut psi_pxq) = (0.0, 0.0, 0.0, 0.0);
        for &(x, m, w) in &self.data.rows {
            if x != last_x {
                last_x = x;
                lg_px = ln_gamma(pp * x);
                lg_pxq = ln_gamma(pp * x + q);
                if want {
                    psi_px = digamma(pp * x);
                    psi_pxq = digamma(pp * x + q);
                }
            }
            let ln_x = x.ln();
            let ln_m = m.ln();
            let ln_d = (g + x * m).ln();
            ll += w
                * (lg_pxq - lg_px - lgq + q * ln_g + pp * x * ln_x + (pp * x - 1.0) * ln_m
                    - (pp * x + q) * ln_d);
            n += w;
            if want {
                gr[0] += w * x * (psi_pxq - psi_px + ln_x + ln_m - ln_d);
                gr[1] += w * (psi_pxq - psi_q + ln_g - ln_d);
                gr[2] += w * (q / g - (pp * x + q) / (g + x * m));
            }
        }
        if let Some(out) = grad {
            let th = [pp, q, g];
            for i in 0..3 {
                out[i] = -gr[i] * th[i] / n;
            }
        }
        -ll / n
    }
}

impl Objective for GgObjective<'_> {
    fn value(&self, p: &[f64]) -> f64 {
        self.eval(p, None)
    }

    fn value_grad(&self, p: &[f64], g: &mut [f64]) -> f64 {
        self.eval(p, Some(g))
    }
}

model_params!(GammaGammaParams, GammaGammaValidParams, "Gamma-Gamma");

impl GammaGammaValidParams {
    /// Fits the Gamma-Gamma model on repeat buyers. Likelihood: Fader & Hardie (2013), "The
    /// Gamma-Gamma Model of Monetary Value", eq. (5): the density of the mean spend `zbar` of `x`
    /// transactions, `G(px+q) / (G(px) G(q)) gamma^q x^(px) zbar^(px-1) / (gamma + x zbar)^(px+q)`,
    /// in log space with analytic gradients.
    pub fn fit(&self, data: &SpendData) -> Result<GammaGamma> {
        let obj = GgObjective { data };
        let mean_m = data.rows.iter().map(|r| r.1 * r.2).sum::<f64>() / data.n_clients();
        let starts: Vec<Vec<f64>> = [
            [1.0, 1.0, mean_m],
            [5.0, 3.0, mean_m],
            [0.5, 5.0, 5.0 * mean_m],
            [20.0, 10.0, mean_m],
        ]
        .iter()
        .map(|s| s.iter().map(|v: &f64| v.ln()).collect())
        .collect();
        let best = optim::minimize(&obj, &starts, &self.settings, "Gamma-Gamma", || {
            data.summary()
        })?;
        let n = data.n_clients();
        let se = Some(optim::checked_standard_errors(
            &obj,
            &best.x,
            n,
            "Gamma-Gamma",
            || data.summary(),
        )?);
        Ok(GammaGamma {
            p: best.x[0].exp(),
            q: best.x[1].exp(),
            gamma: best.x[2].exp(),
            log_likelihood: Some(-best.f * n),
            standard_errors: se,
            n_clients: n,
        })
    }
}

impl GammaGammaParams {
    /// Checks the hyper-parameters and fits (see [`GammaGammaValidParams::fit`]).
    pub fn fit(self, data: &SpendData) -> Result<GammaGamma> {
        self.check()?.fit(data)
    }
}

/// A fitted Gamma-Gamma spend model: a transaction's value `~ Gamma(p, nu)`, with
/// `nu ~ Gamma(q, gamma)` across clients.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct GammaGamma {
    p: f64,
    q: f64,
    gamma: f64,
    log_likelihood: Option<f64>,
    standard_errors: Option<Vec<f64>>,
    n_clients: f64,
}

impl GammaGamma {
    /// Builds a model from known parameters; `None` unless all are finite and positive.
    pub fn from_parameters(p: f64, q: f64, gamma: f64) -> Option<Self> {
        [p, q, gamma]
            .iter()
            .all(|v| v.is_finite() && *v > 0.0)
            .then_some(Self {
                p,
                q,
                gamma,
                log_likelihood: None,
                standard_errors: None,
                n_clients: 0.0,
            })
    }

    /// Shape of a transaction's value.
    pub fn p(&self) -> f64 {
        self.p
    }

    /// Shape of the gamma of the scale across clients.
    pub fn q(&self) -> f64 {
        self.q
    }

    /// Rate of the gamma of the scale across clients (lifetimes calls it `v`).
    pub fn gamma(&self) -> f64 {
        self.gamma
    }

    /// Log-likelihood at the optimum (NaN for [`Self::from_parameters`] models).
    pub fn log_likelihood(&self) -> f64 {
        self.log_likelihood.unwrap_or(f64::NAN)
    }

    /// Standard errors of `(p, q, gamma)`; `None` if the Hessian is not positive definite.
    pub fn standard_errors(&self) -> Option<&[f64]> {
        self.standard_errors.as_deref()
    }

    /// Number of clients the model was fitted on.
    pub fn n_clients(&self) -> f64 {
        self.n_clients
    }

    /// Population mean spend per transaction, `p gamma / (q - 1)`; infinite when `q <= 1`.
    pub fn population_mean(&self) -> f64 {
        if self.q <= 1.0 {
            f64::INFINITY
        } else {
            self.p * self.gamma / (self.q - 1.0)
        }
    }

    /// Expected spend per transaction given `x` repeat purchases with mean value `monetary`
    /// (Fader & Hardie 2013 eq. 6): `p (gamma + x zbar) / (p x + q - 1)`, a weighted mean of the
    /// population mean and `zbar`. A client with `x = 0` (or a non-positive or non-finite
    /// `monetary`) gets the population mean.
    pub fn conditional_expected_average_profit(&self, x: f64, monetary: f64) -> f64 {
        if x <= 0.0 || !(monetary.is_finite() && monetary > 0.0) {
            return self.population_mean();
        }
        let den = self.p * x + self.q - 1.0;
        if den <= 0.0 {
            return f64::INFINITY;
        }
        self.p * (self.gamma + x * monetary) / den
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gradient_matches_numeric() {
        let data =
            SpendData::new(vec![1.0, 2.0, 5.0, 1.0], vec![10.0, 30.0, 12.5, 7.0]).expect("valid");
        let obj = GgObjective { data: &data };
        let p = [1.5_f64.ln(), 3.0_f64.ln(), 12.0_f64.ln()];
        let (mut ga, mut gn) = ([0.0; 3], [0.0; 3]);
        obj.value_grad(&p, &mut ga);
        optim::numeric_grad(|q| obj.value(q), &p, &mut gn);
        for i in 0..3 {
            assert!((ga[i] - gn[i]).abs() < 1e-7, "{ga:?} {gn:?}");
        }
    }
}
