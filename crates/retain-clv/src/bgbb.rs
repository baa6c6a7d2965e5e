//! BG/BB for discrete-time data (Fader, Hardie & Shang 2010).

use crate::data::BgBbData;
use crate::error::Result;
use crate::optim::{self, Objective};
use crate::params::model_params;
use crate::special::{ln_beta, log_add_exp};

fn log_sum(terms: impl Iterator<Item = f64>) -> f64 {
    terms.fold(f64::NEG_INFINITY, log_add_exp)
}

/// `(ln alive-part, ln dead-part)` of the BG/BB likelihood of `(x, t_x, n)` (FHS 2010 eq. 5).
fn ln_parts(th: [f64; 4], x: f64, t_x: f64, n: f64) -> (f64, f64) {
    let [al, be, ga, de] = th;
    let lb_ab = ln_beta(al, be);
    let lb_gd = ln_beta(ga, de);
    let alive = ln_beta(al + x, be + n - x) - lb_ab + ln_beta(ga, de + n) - lb_gd;
    let m = (n - t_x) as usize;
    let dead = log_sum((0..m).map(|i| {
        let i = i as f64;
        ln_beta(al + x, be + t_x - x + i) - lb_ab + ln_beta(ga + 1.0, de + t_x + i) - lb_gd
    }));
    (alive, dead)
}

struct BgBbObjective<'a> {
    data: &'a BgBbData,
}

impl Objective for BgBbObjective<'_> {
    fn value(&self, p: &[f64]) -> f64 {
        let th = [p[0].exp(), p[1].exp(), p[2].exp(), p[3].exp()];
        let mut ll = 0.0;
        let mut n = 0.0;
        for &(x, t_x, big_n, w) in &self.data.rows {
            let (a, d) = ln_parts(th, x, t_x, big_n);
            ll += w * log_add_exp(a, d);
            n += w;
        }
        let v = -ll / n;
        if v.is_nan() { f64::INFINITY } else { v }
    }
}

model_params!(BgBbParams, BgBbValidParams, "BG/BB");

impl BgBbValidParams {
    /// Fits BG/BB by maximum likelihood. Likelihood: Fader, Hardie & Shang (2010),
    /// "Customer-Base Analysis in a Discrete-Time Noncontractual Setting", Marketing Science
    /// 29(6), eq. (5), in log space:
    /// `L = B(alpha+x, beta+n-x)/B(alpha,beta) B(gamma, delta+n)/B(gamma,delta) +
    /// sum_{i=0}^{n-t_x-1} B(alpha+x, beta+t_x-x+i)/B(alpha,beta) B(gamma+1, delta+t_x+i)/B(gamma,delta)`.
    pub fn fit(&self, data: &BgBbData) -> Result<BgBb> {
        let obj = BgBbObjective { data };
        let starts: Vec<Vec<f64>> = [
            [1.0, 1.0, 1.0, 1.0],
            [0.5, 0.5, 0.5, 3.0],
            [2.0, 2.0, 2.0, 2.0],
            [0.2, 0.2, 0.2, 0.5],
        ]
        .iter()
        .map(|s| s.iter().map(|v: &f64| v.ln()).collect())
        .collect();
        let best = optim::minimize(&obj, &starts, &self.settings, "BG/BB", || data.summary())?;
        let n: f64 = data.rows.iter().map(|r| r.3).sum();
        let se = Some(optim::checked_standard_errors(
            &obj,
            &best.x,
            n,
            "BG/BB",
            || data.summary(),
        )?);
        Ok(BgBb {
            alpha: best.x[0].exp(),
            beta: best.x[1].exp(),
            gamma: best.x[2].exp(),
            delta: best.x[3].exp(),
            log_likelihood: -best.f * n,
            standard_errors: se,
            n_clients: n,
        })
    }
}

impl BgBbParams {
    /// Checks the hyper-parameters and fits (see [`BgBbValidParams::fit`]).
    pub fn fit(self, data: &BgBbData) -> Result<BgBb> {
        self.check()?.fit(data)
    }
}

/// A fitted BG/BB model: transaction probability `p ~ Beta(alpha, beta)`, drop-out probability
/// per opportunity `theta ~ Beta(gamma, delta)`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct BgBb {
    alpha: f64,
    beta: f64,
    gamma: f64,
    delta: f64,
    log_likelihood: f64,
    standard_errors: Option<Vec<f64>>,
    n_clients: f64,
}

impl BgBb {
    /// First shape of the transaction-probability beta.
    pub fn alpha(&self) -> f64 {
        self.alpha
    }

    /// Second shape of the transaction-probability beta.
    pub fn beta(&self) -> f64 {
        self.beta
    }

    /// First shape of the drop-out-probability beta.
    pub fn gamma(&self) -> f64 {
        self.gamma
    }

    /// Second shape of the drop-out-probability beta.
    pub fn delta(&self) -> f64 {
        self.delta
    }

    /// Log-likelihood at the optimum.
    pub fn log_likelihood(&self) -> f64 {
        self.log_likelihood
    }

    /// Standard errors of `(alpha, beta, gamma, delta)`; `None` if the Hessian is not positive
    /// definite.
    pub fn standard_errors(&self) -> Option<&[f64]> {
        self.standard_errors.as_deref()
    }

    /// Number of clients the model was fitted on.
    pub fn n_clients(&self) -> f64 {
        self.n_clients
    }

    fn theta(&self) -> [f64; 4] {
        [self.alpha, self.beta, self.gamma, self.delta]
    }

    /// Probability of being alive at opportunity `n + 1` (FHS 2010 eq. 11).
    pub fn p_alive(&self, x: f64, t_x: f64, n: f64) -> f64 {
        let (a, d) = ln_parts(self.theta(), x, t_x, n);
        let next = ln_beta(self.gamma, self.delta + n + 1.0) - ln_beta(self.gamma, self.delta + n);
        (a + next - log_add_exp(a, d)).exp().clamp(0.0, 1.0)
    }

    /// Expected transactions in opportunities `n+1 .. n+n_star` (FHS 2010 eq. 13, summed term by
    /// term: `sum_k B(alpha+x+1, beta+n-x)/B(alpha,beta) B(gamma, delta+n+k)/B(gamma,delta) / L`).
    pub fn conditional_expected_purchases(&self, n_star: u32, x: f64, t_x: f64, n: f64) -> f64 {
        let th = self.theta();
        let (a, d) = ln_parts(th, x, t_x, n);
        let ll = log_add_exp(a, d);
        let lp = ln_beta(self.alpha + x + 1.0, self.beta + n - x) - ln_beta(self.alpha, self.beta);
        let lb_gd = ln_beta(self.gamma, self.delta);
        (1..=n_star)
            .map(|k| (lp + ln_beta(self.gamma, self.delta + n + f64::from(k)) - lb_gd - ll).exp())
            .sum()
    }

    /// Probability of no transaction in opportunities `n+1 .. n+n_star`: the dead part of the
    /// likelihood plus, for a client alive at `n`, dropping out at opportunity `n+j` after
    /// `j-1` silent ones, or surviving all `n_star` silently; divided by the likelihood.
    pub fn p_no_purchase(&self, n_star: u32, x: f64, t_x: f64, n: f64) -> f64 {
        let [al, be, ga, de] = self.theta();
        let (a, d) = ln_parts(self.theta(), x, t_x, n);
        let ll = log_add_exp(a, d);
        let lb_ab = ln_beta(al, be);
        let lb_gd = ln_beta(ga, de);
        let ns = f64::from(n_star);
        let mut num = d;
        for j in 1..=n_star {
            let j = f64::from(j);
            num = log_add_exp(
                num,
                ln_beta(al + x, be + n - x + j - 1.0) - lb_ab + ln_beta(ga + 1.0, de + n + j - 1.0)
                    - lb_gd,
            );
        }
        num = log_add_exp(
            num,
            ln_beta(al + x, be + n - x + ns) - lb_ab + ln_beta(ga, de + n + ns) - lb_gd,
        );
        (num - ll).exp().clamp(0.0, 1.0)
    }
}
