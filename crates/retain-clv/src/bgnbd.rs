//! BG/NBD (Fader, Hardie & Lee 2005) and MBG/NBD (Batislam, Denizel & Filiztekin 2007).
//!
//! Both models share one likelihood with a shift `k`: `k = 0` for BG/NBD (a client can only
//! drop out right after a repeat purchase) and `k = 1` for MBG/NBD (also at time 0).

use crate::data::{Compressed, RfmData};
use crate::error::Result;
use crate::model::RfmModel;
use crate::optim::{self, FitSettings, Objective};
use crate::params::model_params;
use crate::special::{hyp2f1, ln_beta};
use statrs::function::beta::beta_reg;
use statrs::function::gamma::{digamma, ln_gamma};

/// The BG-family likelihood on compressed rows, in log-parameters `(ln r, ln alpha, ln a, ln b)`.
struct BgObjective<'a> {
    data: &'a Compressed,
    k: f64,
}

impl BgObjective<'_> {
    fn eval(&self, p: &[f64], grad: Option<&mut [f64]>) -> f64 {
        let (r, al, a, b) = (p[0].exp(), p[1].exp(), p[2].exp(), p[3].exp());
        let d = self.data;
        let k = self.k;
        let want_grad = grad.is_some();
        let lt: Vec<f64> = d.t_vals.iter().map(|t| (al + t).ln()).collect();
        let ltx: Vec<f64> = d.tx_vals.iter().map(|t| (al + t).ln()).collect();
        let (it, itx): (Vec<f64>, Vec<f64>) = if want_grad {
            (
                d.t_vals.iter().map(|t| 1.0 / (al + t)).collect(),
                d.tx_vals.iter().map(|t| 1.0 / (al + t)).collect(),
            )
        } else {
            (Vec::new(), Vec::new())
        };
        let ln_al = al.ln();
        let lb_ab = ln_beta(a, b);
        let (psi_r, psi_a, psi_b, psi_ab) = if want_grad {
            (digamma(r), digamma(a), digamma(b), digamma(a + b))
        } else {
            (0.0, 0.0, 0.0, 0.0)
        };
        let mut ll = 0.0;
        let mut g = [0.0; 4];
        for (&(s, e), &x) in d.groups.iter().zip(&d.xs) {
            let c1 = ln_gamma(r + x) - ln_gamma(r) + r * ln_al;
            let d1 = ln_beta(a, b + x + k) - lb_ab;
            let has2 = x + k > 0.0;
            let d2 = if has2 {
                ln_beta(a + 1.0, b + x + k - 1.0) - lb_ab
            } else {
                f64::NEG_INFINITY
            };
            let rx = r + x;
            let (dr0, da1, db1, da2, db2) = if want_grad {
                let psi_abx = digamma(a + b + x + k);
                (
                    digamma(rx) - psi_r + ln_al,
                    psi_ab - psi_abx,
                    digamma(b + x + k) - psi_abx - psi_b + psi_ab,
                    1.0 / a + psi_ab - psi_abx,
                    if has2 {
                        digamma(b + x + k - 1.0) - psi_abx - psi_b + psi_ab
                    } else {
                        0.0
                    },
                )
            } else {
                (0.0, 0.0, 0.0, 0.0, 0.0)
            };
            let _ = psi_a;
            for row in &d.rows[s..e] {
                let a1 = d1 - rx * lt[row.t];
                let a2 = d2 - rx * ltx[row.tx];
                let (m, lo) = if a1 >= a2 { (a1, a2) } else { (a2, a1) };
                let el = (lo - m).exp();
                ll += row.w * (c1 + m + el.ln_1p());
                if want_grad {
                    let inv = 1.0 / (1.0 + el);
                    let (w1, w2) = if a1 >= a2 {
                        (inv, el * inv)
                    } else {
                        (el * inv, inv)
                    };
                    g[0] += row.w * (dr0 - w1 * lt[row.t] - w2 * ltx[row.tx]);
                    g[1] += row.w * (r / al - rx * (w1 * it[row.t] + w2 * itx[row.tx]));
                    g[2] += row.w * (w1 * da1 + w2 * da2);
                    g[3] += row.w * (w1 * db1 + w2 * db2);
                }
            }
        }
        let n = d.total_weight;
        if let Some(gr) = grad {
            let theta = [r, al, a, b];
            for i in 0..4 {
                gr[i] = -g[i] * theta[i] / n;
            }
        }
        -ll / n
    }
}

impl Objective for BgObjective<'_> {
    fn value(&self, p: &[f64]) -> f64 {
        self.eval(p, None)
    }

    fn value_grad(&self, p: &[f64], g: &mut [f64]) -> f64 {
        self.eval(p, Some(g))
    }
}

fn starts(data: &Compressed) -> Vec<Vec<f64>> {
    let mean_t = data.iter().map(|(_, _, t, w)| t * w).sum::<f64>() / data.total_weight;
    let scale = if mean_t > 0.0 { mean_t } else { 1.0 };
    [
        [1.0, scale, 1.0, 1.0],
        [0.3, 0.2 * scale, 0.7, 2.5],
        [3.0, 3.0 * scale, 3.0, 6.0],
        [0.1, 0.05 * scale, 0.3, 0.5],
    ]
    .iter()
    .map(|s| s.iter().map(|v: &f64| v.ln()).collect())
    .collect()
}

/// Beyond this, `a` and `b` of a fit are taken as the limit of a fixed dropout probability
/// (see `BgCore::expected_if_alive`).
const FIXED_DROPOUT: f64 = 1.0e4;

/// Shared fitted state of the BG family.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
struct BgCore {
    r: f64,
    alpha: f64,
    a: f64,
    b: f64,
    log_likelihood: Option<f64>,
    standard_errors: Option<Vec<f64>>,
    n_clients: f64,
    iterations: usize,
}

fn fit_core(data: &RfmData, settings: &FitSettings, k: f64, model: &'static str) -> Result<BgCore> {
    let c = data.compress();
    let obj = BgObjective { data: &c, k };
    let best = optim::minimize(&obj, &starts(&c), settings, model, || data.summary())?;
    let se = Some(optim::checked_standard_errors(
        &obj,
        &best.x,
        c.total_weight,
        model,
        || data.summary(),
    )?);
    Ok(BgCore {
        r: best.x[0].exp(),
        alpha: best.x[1].exp(),
        a: best.x[2].exp(),
        b: best.x[3].exp(),
        log_likelihood: Some(-best.f * c.total_weight),
        standard_errors: se,
        n_clients: c.total_weight,
        iterations: best.iterations,
    })
}

impl BgCore {
    /// `ln` of the odds `P(dead) / P(alive)` given `(x, t_x, T)`.
    fn ln_dead_odds(&self, k: f64, x: f64, t_x: f64, big_t: f64) -> f64 {
        if x + k <= 0.0 {
            return f64::NEG_INFINITY;
        }
        (self.a / (self.b + x + k - 1.0)).ln()
            + (self.r + x) * ((self.alpha + big_t).ln() - (self.alpha + t_x).ln())
    }

    fn p_alive(&self, k: f64, x: f64, t_x: f64, big_t: f64) -> f64 {
        let lo = self.ln_dead_odds(k, x, t_x, big_t);
        if lo > 0.0 {
            let e = (-lo).exp();
            e / (1.0 + e)
        } else {
            1.0 / (1.0 + lo.exp())
        }
    }

    /// `E[X(T, T+t)]` for a client alive at `T` (FHL 2005 eq. 10 without the P(alive) factor).
    ///
    /// When `a` and `b` are both above [`FIXED_DROPOUT`] (a fit that runs off to the edge
    /// where every client has the same dropout probability `p = a / (a + b)`), the Euler-
    /// transformed 2F1 overflows while its factor underflows; the limit is used instead: an
    /// alive client with rate `lambda` makes `(1 - exp(-lambda p t)) / p` purchases in
    /// expectation, and over `lambda ~ Gamma(r + x, alpha + T)` that is
    /// `(1 - ((alpha + T) / (alpha + T + p t))^(r + x)) / p`.
    fn expected_if_alive(&self, k: f64, t: f64, x: f64, big_t: f64) -> f64 {
        if t <= 0.0 {
            return 0.0;
        }
        if self.a > FIXED_DROPOUT && self.b > FIXED_DROPOUT {
            let p = self.a / (self.a + self.b);
            let base = self.alpha + big_t;
            return -(-(self.r + x) * (p * t / base).ln_1p()).exp_m1() / p;
        }
        let f = |a: f64| {
            let c = a + self.b + x + k - 1.0;
            let z = t / (self.alpha + big_t + t);
            // Euler's transformation of 2F1(r+x, b+x+k; c; z) times (1-z)^(r+x).
            let h = (-z).ln_1p() * (a - 1.0);
            let hyp = hyp2f1(a + self.b + k - 1.0 - self.r, a - 1.0, c, z);
            c / (a - 1.0) * -(h.exp() * hyp - 1.0)
        };
        if (self.a - 1.0).abs() < 1e-6 {
            0.5 * (f(1.0 + 1e-6) + f(1.0 - 1e-6))
        } else {
            f(self.a)
        }
    }

    fn p_n(&self, k: f64, n: u32, t: f64) -> f64 {
        let nf = f64::from(n);
        let (r, al, a, b) = (self.r, self.alpha, self.a, self.b);
        let lb = ln_beta(a, b);
        let ln_nbd = ln_gamma(r + nf) - ln_gamma(r) - ln_gamma(nf + 1.0)
            + r * (al / (al + t)).ln()
            + if n > 0 { nf * (t / (al + t)).ln() } else { 0.0 };
        let alive = (ln_beta(a, b + nf + k) - lb + ln_nbd).exp();
        if nf + k <= 0.0 {
            return alive;
        }
        let tail = if n == 0 {
            1.0
        } else {
            beta_reg(nf, r, t / (al + t))
        };
        let dead = (ln_beta(a + 1.0, b + nf + k - 1.0) - lb).exp() * tail;
        (alive + dead).clamp(0.0, 1.0)
    }
}

macro_rules! bg_model {
    ($model:ident, $params:ident, $valid:ident, $name:literal, $k:expr, $doc:literal) => {
        model_params!($params, $valid, $name);

        impl $valid {
            #[doc = concat!("Fits ", $name, " by maximum likelihood: ", $doc)]
            ///
            /// Identical `(x, t_x, T)` rows are merged, the mean negative log-likelihood is
            /// minimised over log-parameters by L-BFGS with analytic gradients from several
            /// starting points, and standard errors come from the numerical Hessian. Errors with a
            /// data summary when no finite interior optimum is found.
            pub fn fit(&self, data: &RfmData) -> Result<$model> {
                fit_core(data, &self.settings, $k, $name).map(|core| $model { core })
            }
        }

        impl $params {
            /// Checks the hyper-parameters and fits (see the checked type's `fit`).
            pub fn fit(self, data: &RfmData) -> Result<$model> {
                self.check()?.fit(data)
            }
        }

        #[doc = concat!("A fitted ", $name, " model (", $doc, ").")]
        #[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
        pub struct $model {
            core: BgCore,
        }

        impl $model {
            /// Builds a model from known parameters (e.g. for simulation or tests); `None`
            /// unless all are finite and positive.
            pub fn from_parameters(r: f64, alpha: f64, a: f64, b: f64) -> Option<Self> {
                [r, alpha, a, b]
                    .iter()
                    .all(|v| v.is_finite() && *v > 0.0)
                    .then(|| Self {
                        core: BgCore {
                            r,
                            alpha,
                            a,
                            b,
                            log_likelihood: None,
                            standard_errors: None,
                            n_clients: 0.0,
                            iterations: 0,
                        },
                    })
            }

            /// Shape of the gamma mixing distribution of purchase rates.
            pub fn r(&self) -> f64 {
                self.core.r
            }

            /// Scale (rate) of the gamma mixing distribution of purchase rates, in time units.
            pub fn alpha(&self) -> f64 {
                self.core.alpha
            }

            /// First shape of the beta mixing distribution of drop-out probabilities.
            pub fn a(&self) -> f64 {
                self.core.a
            }

            /// Second shape of the beta mixing distribution of drop-out probabilities.
            pub fn b(&self) -> f64 {
                self.core.b
            }

            /// Log-likelihood (summed over clients) at the optimum; NaN for
            /// [`Self::from_parameters`] models.
            pub fn log_likelihood(&self) -> f64 {
                self.core.log_likelihood.unwrap_or(f64::NAN)
            }

            /// Standard errors of `(r, alpha, a, b)` from the inverse Hessian of the negative
            /// log-likelihood (delta method from log-parameters); `None` when the Hessian is not
            /// positive definite.
            pub fn standard_errors(&self) -> Option<&[f64]> {
                self.core.standard_errors.as_deref()
            }

            /// Number of clients (sum of weights) the model was fitted on.
            pub fn n_clients(&self) -> f64 {
                self.core.n_clients
            }

            /// L-BFGS iterations used by the best start.
            pub fn iterations(&self) -> usize {
                self.core.iterations
            }
        }

        impl RfmModel for $model {
            fn p_alive(&self, x: f64, t_x: f64, big_t: f64) -> f64 {
                self.core.p_alive($k, x, t_x, big_t)
            }

            fn conditional_expected_purchases(&self, t: f64, x: f64, t_x: f64, big_t: f64) -> f64 {
                self.core.p_alive($k, x, t_x, big_t) * self.core.expected_if_alive($k, t, x, big_t)
            }

            fn expected_purchases(&self, t: f64) -> f64 {
                self.conditional_expected_purchases(t, 0.0, 0.0, 0.0)
            }

            fn p_no_purchase(&self, t: f64, x: f64, t_x: f64, big_t: f64) -> f64 {
                let pa = self.core.p_alive($k, x, t_x, big_t);
                let al = self.core.alpha;
                let stay = ((al + big_t) / (al + big_t + t.max(0.0))).powf(self.core.r + x);
                (1.0 - pa + pa * stay).clamp(0.0, 1.0)
            }

            fn prob_n_purchases(&self, n: u32, t: f64) -> f64 {
                self.core.p_n($k, n, t)
            }
        }
    };
}

bg_model!(
    BgNbd,
    BgNbdParams,
    BgNbdValidParams,
    "BG/NBD",
    0.0,
    "Fader, Hardie & Lee (2005), \"Counting Your Customers the Easy Way\", Marketing Science \
     24(2), likelihood eq. (6): L = B(a,b+x)/B(a,b) G(r+x) a^r / (G(r) (alpha+T)^(r+x)) + \
     [x>0] B(a+1,b+x-1)/B(a,b) G(r+x) alpha^r / (G(r) (alpha+t_x)^(r+x)), evaluated in log space; \
     predictions eqs. (8)-(10) and the P(alive) expression of their appendix"
);

bg_model!(
    MbgNbd,
    MbgNbdParams,
    MbgNbdValidParams,
    "MBG/NBD",
    1.0,
    "Batislam, Denizel & Filiztekin (2007), \"Empirical validation and comparison of models for \
     customer base analysis\", IJRM 24(3), likelihood eq. (3): L = B(a,b+x+1)/B(a,b) G(r+x) \
     alpha^r / (G(r) (alpha+T)^(r+x)) + B(a+1,b+x)/B(a,b) G(r+x) alpha^r / (G(r) \
     (alpha+t_x)^(r+x)) for every x (drop-out also possible at time 0)"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn analytic_gradient_matches_numeric() {
        let data = RfmData::new(
            vec![0.0, 1.0, 3.0, 2.0, 0.0, 7.0],
            vec![0.0, 2.0, 10.0, 30.0, 0.0, 35.0],
            vec![5.0, 20.0, 30.0, 38.0, 38.0, 39.0],
        )
        .expect("valid");
        let c = data.compress();
        for k in [0.0, 1.0] {
            let obj = BgObjective { data: &c, k };
            let p = [0.3_f64.ln(), 4.0_f64.ln(), 0.8_f64.ln(), 2.4_f64.ln()];
            let mut ga = [0.0; 4];
            let mut gn = [0.0; 4];
            obj.value_grad(&p, &mut ga);
            optim::numeric_grad(|q| obj.value(q), &p, &mut gn);
            for i in 0..4 {
                assert!(
                    (ga[i] - gn[i]).abs() < 1e-7,
                    "k={k} i={i}: {ga:?} vs {gn:?}"
                );
            }
        }
    }

    /// A fit at the edge where `a` and `b` run off to infinity (one dropout probability for
    /// all): the expectations stay finite and match the exact formula's approach to the limit.
    #[test]
    fn fixed_dropout_limit_is_finite_and_continuous() {
        let core = |a: f64, b: f64| BgCore {
            r: 0.75,
            alpha: 9.9,
            a,
            b,
            log_likelihood: None,
            standard_errors: None,
            n_clients: 1.0,
            iterations: 0,
        };
        let p = 0.038;
        for (x, t_x, big_t) in [(0.0, 0.0, 30.0), (3.0, 20.0, 40.0), (12.0, 50.0, 52.0)] {
            // exact formula with large (but computable) a, b against the limit
            let near =
                core(p * 3_000.0, (1.0 - p) * 3_000.0).expected_if_alive(0.0, 13.0, x, big_t);
            let limit = core(p * 1.0e7, (1.0 - p) * 1.0e7).expected_if_alive(0.0, 13.0, x, big_t);
            assert!(limit.is_finite() && limit > 0.0, "{limit}");
            assert!(
                (near - limit).abs() / limit < 0.02,
                "{near} vs {limit} at x={x}"
            );
            let _ = t_x;
        }
    }
}
