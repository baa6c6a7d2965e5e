//! Sampling primitives shared by the summary simulators and the transaction-log generator.
//!
//! Every function draws from the caller's RNG in a fixed order, so a seed fixes the output.

use rand::Rng;
use rand_distr::{Beta, Distribution, Exp1, Gamma};

use crate::truth::{BgNbdTruth, GammaGammaTruth, ParetoNbdTruth};

/// Draws a client's latent BG/NBD parameters and its repeat purchases.
#[derive(Debug, Clone)]
pub(crate) struct BgNbdSampler {
    /// Gamma(r, 1): divided by alpha it gives lambda ~ Gamma(shape r, rate alpha).
    lambda_unit: Gamma<f64>,
    alpha: f64,
    dropout: Beta<f64>,
}

impl BgNbdSampler {
    /// Builds the sampler; `truth` must have passed `check()`.
    pub(crate) fn new(truth: &BgNbdTruth) -> Self {
        Self {
            lambda_unit: Gamma::new(truth.r, 1.0).expect("checked r"),
            alpha: truth.alpha,
            dropout: Beta::new(truth.a, truth.b).expect("checked a, b"),
        }
    }

    /// Draws `(lambda, p)`: the purchase rate per week and the drop-out probability.
    pub(crate) fn draw_client<R: Rng>(&self, rng: &mut R) -> (f64, f64) {
        let lambda = self.lambda_unit.sample(rng) / self.alpha;
        let p = self.dropout.sample(rng);
        (lambda, p)
    }

    /// Walks the repeat purchases in `(0, age]` (weeks after the first purchase at 0).
    ///
    /// Waiting times are Exponential(lambda); after each repeat purchase the client drops out
    /// with probability `p` (FHL 2005, assumptions i-iv). `on_purchase(t, rng)` is called once per
    /// repeat purchase, in time order, and may draw from `rng` (e.g. the spend). Returns true if
    /// the client dropped out (right after its last purchase), false if alive at `age`.
    pub(crate) fn repeat_purchases<R: Rng>(
        rng: &mut R,
        lambda: f64,
        p: f64,
        age: f64,
        mut on_purchase: impl FnMut(f64, &mut R),
    ) -> bool {
        let mut t = 0.0;
        loop {
            let wait: f64 = Exp1.sample(rng);
            t += wait / lambda;
            if t > age || !t.is_finite() {
                return false;
            }
            on_purchase(t, rng);
            if rng.random::<f64>() < p {
                return true;
            }
        }
    }
}

/// Draws a client's latent Pareto/NBD parameters and its repeat purchases.
#[derive(Debug, Clone)]
pub(crate) struct ParetoNbdSampler {
    lambda_unit: Gamma<f64>,
    alpha: f64,
    mu_unit: Gamma<f64>,
    beta: f64,
}

impl ParetoNbdSampler {
    /// Builds the sampler; `truth` must have passed `check()`.
    pub(crate) fn new(truth: &ParetoNbdTruth) -> Self {
        Self {
            lambda_unit: Gamma::new(truth.r, 1.0).expect("checked r"),
            alpha: truth.alpha,
            mu_unit: Gamma::new(truth.s, 1.0).expect("checked s"),
            beta: truth.beta,
        }
    }

    /// Draws `(lambda, lifetime)`: the purchase rate per week and the lifetime in weeks
    /// (`lifetime ~ Exp(mu)`, `mu ~ Gamma(s, beta)`).
    pub(crate) fn draw_client<R: Rng>(&self, rng: &mut R) -> (f64, f64) {
        let lambda = self.lambda_unit.sample(rng) / self.alpha;
        let mu = self.mu_unit.sample(rng) / self.beta;
        let e: f64 = Exp1.sample(rng);
        (lambda, e / mu)
    }

    /// Walks the repeat purchases in `(0, min(age, lifetime)]`, calling `on_purchase(t, rng)`.
    pub(crate) fn repeat_purchases<R: Rng>(
        rng: &mut R,
        lambda: f64,
        lifetime: f64,
        age: f64,
        mut on_purchase: impl FnMut(f64, &mut R),
    ) {
        let end = age.min(lifetime);
        let mut t = 0.0;
        loop {
            let wait: f64 = Exp1.sample(rng);
            t += wait / lambda;
            if t > end || !t.is_finite() {
                return;
            }
            on_purchase(t, rng);
        }
    }
}

/// Draws Gamma-Gamma spends (Fader & Hardie 2013).
#[derive(Debug, Clone)]
pub(crate) struct SpendSampler {
    /// Gamma(q, 1): divided by gamma it gives nu ~ Gamma(shape q, rate gamma).
    nu_unit: Gamma<f64>,
    gamma: f64,
    /// Gamma(p, 1): divided by nu it gives z ~ Gamma(shape p, rate nu).
    z_unit: Gamma<f64>,
}

impl SpendSampler {
    /// Builds the sampler; `truth` must have passed `check()`.
    pub(crate) fn new(truth: &GammaGammaTruth) -> Self {
        Self {
            nu_unit: Gamma::new(truth.q, 1.0).expect("checked q"),
            gamma: truth.gamma,
            z_unit: Gamma::new(truth.p, 1.0).expect("checked p"),
        }
    }

    /// Draws a client's rate `nu`.
    pub(crate) fn draw_nu<R: Rng>(&self, rng: &mut R) -> f64 {
        self.nu_unit.sample(rng) / self.gamma
    }

    /// Draws one transaction's spend for a client of rate `nu`.
    pub(crate) fn draw_spend<R: Rng>(&self, rng: &mut R, nu: f64) -> f64 {
        self.z_unit.sample(rng) / nu
    }
}
