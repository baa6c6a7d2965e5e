//! Pareto/NBD (Schmittlein, Morrison & Colombo 1987), likelihood as in Fader & Hardie (2005),
//! "A Note on Deriving the Pareto/NBD Model and Related Expressions".

use crate::data::{Compressed, RfmData};
use crate::error::Result;
use crate::model::RfmModel;
use crate::optim::{self, Objective};
use crate::params::model_params;
use crate::special::{hyp2f1, integrate, log_add_exp, log_sub_exp};
use statrs::function::gamma::ln_gamma;

/// `ln H(tau)` where `int (A+u)^-p (B+u)^-(q+1) du = (H(tau0) - H(tau1)) / (p + q)` on
/// `[tau0, tau1]`. With `z` in `[0, 1)` and Euler's transformation applied to the 2F1 of the
/// Fader-Hardie note (eqs. 19-20), every series term is positive:
/// `A >= B`: `H = 2F1(1, p; p+q+1; (A-B)/(A+tau)) / ((B+tau)^q (A+tau)^p)`;
/// `A < B`: `H = 2F1(1, q+1; p+q+1; (B-A)/(B+tau)) / ((A+tau)^(p-1) (B+tau)^(q+1))`.
fn ln_h(p: f64, q: f64, a: f64, b: f64, tau: f64) -> f64 {
    if a >= b {
        let z = (a - b) / (a + tau);
        hyp2f1(1.0, p, p + q + 1.0, z).ln() - q * (b + tau).ln() - p * (a + tau).ln()
    } else {
        let z = (b - a) / (b + tau);
        hyp2f1(1.0, q + 1.0, p + q + 1.0, z).ln()
            - (p - 1.0) * (a + tau).ln()
            - (q + 1.0) * (b + tau).ln()
    }
}

/// `ln int_{tau0}^{tau1} (A+u)^-p (B+u)^-(q+1) du`.
fn ln_j(p: f64, q: f64, a: f64, b: f64, tau0: f64, tau1: f64) -> f64 {
    if tau1 <= tau0 {
        return f64::NEG_INFINITY;
    }
    log_sub_exp(ln_h(p, q, a, b, tau0), ln_h(p, q, a, b, tau1)) - (p + q).ln()
}

struct ParetoObjective<'a> {
    data: &'a Compressed,
}

/// Per-client log-likelihood pieces: `(ln C, ln alive-term, ln dead-term)`.
fn pieces(th: [f64; 4], x: f64, t_x: f64, big_t: f64) -> (f64, f64, f64) {
    let [r, al, s, be] = th;
    let lc = ln_gamma(r + x) - ln_gamma(r) + r * al.ln() + s * be.ln();
    let t1 = -(r + x) * (al + big_t).ln() - s * (be + big_t).ln();
    let t2 = s.ln() + ln_j(r + x, s, al, be, t_x, big_t);
    (lc, t1, t2)
}

impl Objective for ParetoObjective<'_> {
    fn value(&self, p: &[f64]) -> f64 {
        let th = [p[0].exp(), p[1].exp(), p[2].exp(), p[3].exp()];
        let d = self.data;
        let mut ll = 0.0;
        for (x, t_x, big_t, w) in d.iter() {
            let (lc, t1, t2) = pieces(th, x, t_x, big_t);
            ll += w * (lc + log_add_exp(t1, t2));
        }
        let v = -ll / d.total_weight;
        if v.is_nan() { f64::INFINITY } else { v }
    }
}

model_params!(ParetoNbdParams, ParetoNbdValidParams, "Pareto/NBD");

impl ParetoNbdValidParams {
    /// Fits Pareto/NBD by maximum likelihood. The likelihood is Fader & Hardie (2005), "A Note on
    /// Deriving the Pareto/NBD Model and Related Expressions", eq. (22):
    /// `L = G(r+x) alpha^r beta^s / G(r) * [1 / ((alpha+T)^(r+x) (beta+T)^s) + s/(r+s+x) A0]`
    /// with `A0` the difference of the two 2F1 terms of their eqs. (19)-(20), computed here as a
    /// log-difference of Euler-transformed series. Rows are compressed, the mean NLL minimised
    /// over log-parameters by L-BFGS (central-difference gradients) from several starts;
    /// standard errors from the numerical Hessian.
    pub fn fit(&self, data: &RfmData) -> Result<ParetoNbd> {
        let c = data.compress();
        let obj = ParetoObjective { data: &c };
        let mean_t = c.iter().map(|(_, _, t, w)| t * w).sum::<f64>() / c.total_weight;
        let sc = if mean_t > 0.0 { mean_t } else { 1.0 };
        let starts: Vec<Vec<f64>> = [
            [1.0, sc, 1.0, sc],
            [0.5, 0.3 * sc, 0.5, 0.3 * sc],
            [2.0, 2.0 * sc, 2.0, 3.0 * sc],
            [0.2, 0.1 * sc, 0.3, 0.1 * sc],
        ]
        .iter()
        .map(|s| s.iter().map(|v: &f64| v.ln()).collect())
        .collect();
        let best = optim::minimize(&obj, &starts, &self.settings, "Pareto/NBD", || {
            data.summary()
        })?;
        let se = match optim::standard_errors(&obj, &best.x, c.total_weight) {
            Some(se) => Some(se),
            None => return Err(flat_optimum(&best.x, data)),
        };
        Ok(ParetoNbd {
            r: best.x[0].exp(),
            alpha: best.x[1].exp(),
            s: best.x[2].exp(),
            beta: best.x[3].exp(),
            log_likelihood: Some(-best.f * c.total_weight),
            standard_errors: se,
            n_clients: c.total_weight,
        })
    }
}

/// Drop-out rates whose spread the data cannot see: the likelihood rises along a ridge where
/// `s` and `beta` grow together (their ratio, the mean drop-out rate, fixed), towards one
/// drop-out rate for every client. Above this `s` (a coefficient of variation of the rates
/// under 10%), a flat optimum is reported as that ridge.
const RIDGE_S: f64 = 100.0;

/// The error of an optimum whose Hessian is not positive definite, saying which flat
/// direction the data leave when it is the drop-out ridge.
fn flat_optimum(x: &[f64], data: &RfmData) -> crate::error::ClvError {
    let (s, beta) = (x[2].exp(), x[3].exp());
    let reason = if s > RIDGE_S {
        format!(
            "the likelihood keeps rising as s and beta grow together (s = {s:.4e}, beta = \
             {beta:.4e}, mean drop-out rate s/beta = {:.4e} per week): the clients' drop-out \
             rates look the same for everyone, which Pareto/NBD reaches only in the limit; use \
             BG/NBD or MBG/NBD (--rfm-model bgnbd)",
            s / beta
        )
    } else {
        "the Hessian at the optimum is not positive definite: the data do not identify every \
         parameter (too few clients or too little repeat behaviour)"
            .into()
    };
    crate::error::ClvError::NoConvergence {
        model: "Pareto/NBD",
        reason,
        summary: data.summary(),
    }
}

impl ParetoNbdParams {
    /// Checks the hyper-parameters and fits (see [`ParetoNbdValidParams::fit`]).
    pub fn fit(self, data: &RfmData) -> Result<ParetoNbd> {
        self.check()?.fit(data)
    }
}

/// A fitted Pareto/NBD model: purchase rates `~ Gamma(r, alpha)`, drop-out rates
/// `~ Gamma(s, beta)`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ParetoNbd {
    r: f64,
    alpha: f64,
    s: f64,
    beta: f64,
    log_likelihood: Option<f64>,
    standard_errors: Option<Vec<f64>>,
    n_clients: f64,
}

impl ParetoNbd {
    /// Builds a model from known parameters; `None` unless all are finite and positive.
    pub fn from_parameters(r: f64, alpha: f64, s: f64, beta: f64) -> Option<Self> {
        [r, alpha, s, beta]
            .iter()
            .all(|v| v.is_finite() && *v > 0.0)
            .then_some(Self {
                r,
                alpha,
                s,
                beta,
                log_likelihood: None,
                standard_errors: None,
                n_clients: 0.0,
            })
    }

    /// Shape of the purchase-rate gamma.
    pub fn r(&self) -> f64 {
        self.r
    }

    /// Rate of the purchase-rate gamma.
    pub fn alpha(&self) -> f64 {
        self.alpha
    }

    /// Shape of the drop-out-rate gamma.
    pub fn s(&self) -> f64 {
        self.s
    }

    /// Rate of the drop-out-rate gamma.
    pub fn beta(&self) -> f64 {
        self.beta
    }

    /// Log-likelihood at the optimum (NaN for [`Self::from_parameters`] models).
    pub fn log_likelihood(&self) -> f64 {
        self.log_likelihood.unwrap_or(f64::NAN)
    }

    /// Standard errors of `(r, alpha, s, beta)`; `None` if the Hessian is not positive definite.
    pub fn standard_errors(&self) -> Option<&[f64]> {
        self.standard_errors.as_deref()
    }

    /// Number of clients (sum of weights) the model was fitted on.
    pub fn n_clients(&self) -> f64 {
        self.n_clients
    }

    fn theta(&self) -> [f64; 4] {
        [self.r, self.alpha, self.s, self.beta]
    }

    /// `E[X(T, T+t)]` for an alive client (Schmittlein et al. 1987 eq. 22 without P(alive)).
    fn expected_if_alive(&self, t: f64, x: f64, big_t: f64) -> f64 {
        if t <= 0.0 {
            return 0.0;
        }
        let bt = self.beta + big_t;
        let l = ((bt + t) / bt).ln();
        let sm1 = self.s - 1.0;
        // (1 - (bt/(bt+t))^(s-1)) / (s-1), stable at s = 1.
        let frac = if sm1.abs() < 1e-12 {
            l
        } else {
            -(-sm1 * l).exp_m1() / sm1
        };
        (self.r + x) * bt / (self.alpha + big_t) * frac
    }
}

impl RfmModel for ParetoNbd {
    /// Fader & Hardie (2005) note, eq. (23): `1 / (1 + s/(r+s+x) (alpha+T)^(r+x) (beta+T)^s A0)`.
    fn p_alive(&self, x: f64, t_x: f64, big_t: f64) -> f64 {
        let (_, t1, t2) = pieces(self.theta(), x, t_x, big_t);
        let lo = t2 - t1;
        if lo > 0.0 {
            let e = (-lo).exp();
            e / (1.0 + e)
        } else if lo.is_nan() {
            f64::NAN
        } else {
            1.0 / (1.0 + lo.exp())
        }
    }

    fn conditional_expected_purchases(&self, t: f64, x: f64, t_x: f64, big_t: f64) -> f64 {
        self.p_alive(x, t_x, big_t) * self.expected_if_alive(t, x, big_t)
    }

    /// Schmittlein et al. (1987): `r beta / (alpha (s-1)) [1 - (beta/(beta+t))^(s-1)]`.
    fn expected_purchases(&self, t: f64) -> f64 {
        self.expected_if_alive(t, 0.0, 0.0)
    }

    /// `1 - P(alive) * P(purchase in (T, T+t] | alive)`, where for an alive client the rates
    /// are `lambda ~ Gamma(r+x, alpha+T)` and `mu ~ Gamma(s, beta+T)` independently, so
    /// `P(purchase | alive) = int_0^t E[lambda e^(-lambda u)] E[e^(-mu u)] du`, evaluated with the
    /// same 2F1 closed form as the likelihood.
    fn p_no_purchase(&self, t: f64, x: f64, t_x: f64, big_t: f64) -> f64 {
        if t <= 0.0 {
            return 1.0;
        }
        let pa = self.p_alive(x, t_x, big_t);
        let p = self.r + x;
        let a = self.alpha + big_t;
        let b = self.beta + big_t;
        let ln_buy = p.ln() + p * a.ln() + self.s * b.ln() + ln_j(self.s, p, b, a, 0.0, t);
        (1.0 - pa * ln_buy.exp().min(1.0)).clamp(0.0, 1.0)
    }

    /// `P(X(t) = n) = NBD(n; t) (beta/(beta+t))^s + int_0^t NBD(n; tau) s beta^s
    /// (beta+tau)^-(s+1) d tau` (Fader & Hardie note, section 4), the integral by Gauss-Legendre
    /// quadrature in `ln(beta + tau)`.
    fn prob_n_purchases(&self, n: u32, t: f64) -> f64 {
        let (r, al, s, be) = (self.r, self.alpha, self.s, self.beta);
        let nf = f64::from(n);
        let ln_coef = ln_gamma(r + nf) - ln_gamma(r) - ln_gamma(nf + 1.0);
        let nbd = |tau: f64| {
            if tau <= 0.0 {
                return if n == 0 { 1.0 } else { 0.0 };
            }
            (ln_coef + r * (al / (al + tau)).ln() + nf * (tau / (al + tau)).ln()).exp()
        };
        if t <= 0.0 {
            return nbd(0.0);
        }
        let alive = nbd(t) * (be / (be + t)).powf(s);
        let f = |u: f64| {
            let tau = (u.exp() - be).max(0.0);
            nbd(tau) * s * (be / u.exp()).powf(s)
        };
        let dead = integrate(f, be.ln(), (be + t).ln(), 64);
        (alive + dead).clamp(0.0, 1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn j_matches_quadrature() {
        for (p, q, a, b) in [
            (2.5, 0.6, 10.0, 12.0),
            (1.3, 2.0, 12.0, 3.0),
            (40.0, 0.2, 5.0, 5.0),
        ] {
            let (t0, t1) = (3.0, 30.0);
            let num = integrate(|u| (a + u).powf(-p) * (b + u).powf(-(q + 1.0)), t0, t1, 200);
            let got = ln_j(p, q, a, b, t0, t1).exp();
            assert!((got - num).abs() < 1e-9 * num, "{got} vs {num}");
        }
    }

    #[test]
    fn a_flat_optimum_on_the_drop_out_ridge_is_named_with_its_rate() {
        let data =
            RfmData::new(vec![0.0, 2.0, 5.0], vec![0.0, 10.0, 30.0], vec![40.0; 3]).expect("valid");
        let ridge = flat_optimum(&[0.0, 2.0, 3000f64.ln(), 1e6f64.ln()], &data).to_string();
        assert!(
            ridge.contains("s and beta grow together") && ridge.contains("s/beta = 3.0000e-3"),
            "{ridge}"
        );
        let flat = flat_optimum(&[0.0, 2.0, 0.5f64.ln(), 10f64.ln()], &data).to_string();
        assert!(flat.contains("not positive definite"), "{flat}");
    }

    #[test]
    fn probabilities_sum_to_one() {
        let m = ParetoNbd::from_parameters(0.55, 10.6, 0.61, 11.7).expect("valid");
        let total: f64 = (0..400).map(|n| m.prob_n_purchases(n, 39.0)).sum();
        assert!((total - 1.0).abs() < 1e-6, "{total}");
        let mean: f64 = (0..400)
            .map(|n| f64::from(n) * m.prob_n_purchases(n, 39.0))
            .sum();
        assert!((mean - m.expected_purchases(39.0)).abs() < 1e-4);
    }
}
