//! The true parameters of the customer-base models the simulator draws from.

use serde::{Deserialize, Serialize};

use crate::error::{SimError, check_positive};

/// True BG/NBD parameters (Fader, Hardie & Lee 2005, "Counting your customers the easy way").
///
/// Time unit: **weeks**. The purchase rate of a client is `lambda ~ Gamma(shape r, rate alpha)`;
/// its drop-out probability after each repeat purchase is `p ~ Beta(a, b)`.
///
/// The defaults are the sample data's truth: with clients acquired over the first 60% of two
/// years, about 20% make no repeat purchase, the mean number of repeat purchases is about 5,
/// and about 60% of the clients make no purchase in the last 91 days.
///
/// | Name | Default | Purpose | Range |
/// |---|---|---|---|
/// | `r` | 0.75 | shape of the purchase-rate heterogeneity | (0, inf) |
/// | `alpha` | 9.0 | rate (in weeks) of the purchase-rate heterogeneity; mean rate = r/alpha per week | (0, inf) |
/// | `a` | 0.3 | first shape of the drop-out probability Beta | (0, inf) |
/// | `b` | 6.0 | second shape of the drop-out probability Beta; mean p = a/(a+b) | (0, inf) |
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BgNbdTruth {
    /// Shape of the Gamma heterogeneity of the purchase rate lambda.
    pub r: f64,
    /// Rate of the Gamma heterogeneity of lambda, in weeks.
    pub alpha: f64,
    /// First shape of the Beta heterogeneity of the drop-out probability p.
    pub a: f64,
    /// Second shape of the Beta heterogeneity of p.
    pub b: f64,
}

impl Default for BgNbdTruth {
    fn default() -> Self {
        Self {
            r: 0.75,
            alpha: 9.0,
            a: 0.3,
            b: 6.0,
        }
    }
}

impl BgNbdTruth {
    /// Checks that every parameter is finite and > 0; errors name the field as `bgnbd.<name>`.
    pub fn check(&self) -> Result<(), SimError> {
        check_positive("bgnbd.r", self.r)?;
        check_positive("bgnbd.alpha", self.alpha)?;
        check_positive("bgnbd.a", self.a)?;
        check_positive("bgnbd.b", self.b)
    }
}

/// True Pareto/NBD parameters (Schmittlein, Morrison & Colombo 1987).
///
/// Time unit: **weeks**. Purchase rate `lambda ~ Gamma(shape r, rate alpha)`; drop-out rate
/// `mu ~ Gamma(shape s, rate beta)`; lifetime `~ Exp(mu)`.
///
/// | Name | Default | Purpose | Range |
/// |---|---|---|---|
/// | `r` | 0.75 | shape of the purchase-rate heterogeneity | (0, inf) |
/// | `alpha` | 5.0 | rate (weeks) of the purchase-rate heterogeneity | (0, inf) |
/// | `s` | 0.6 | shape of the drop-out-rate heterogeneity | (0, inf) |
/// | `beta` | 30.0 | rate (weeks) of the drop-out-rate heterogeneity; mean mu = s/beta per week | (0, inf) |
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ParetoNbdTruth {
    /// Shape of the Gamma heterogeneity of the purchase rate lambda.
    pub r: f64,
    /// Rate of the Gamma heterogeneity of lambda, in weeks.
    pub alpha: f64,
    /// Shape of the Gamma heterogeneity of the drop-out rate mu.
    pub s: f64,
    /// Rate of the Gamma heterogeneity of mu, in weeks.
    pub beta: f64,
}

impl Default for ParetoNbdTruth {
    fn default() -> Self {
        Self {
            r: 0.75,
            alpha: 5.0,
            s: 0.6,
            beta: 30.0,
        }
    }
}

impl ParetoNbdTruth {
    /// Checks that every parameter is finite and > 0; errors name the field as `pareto_nbd.<name>`.
    pub fn check(&self) -> Result<(), SimError> {
        check_positive("pareto_nbd.r", self.r)?;
        check_positive("pareto_nbd.alpha", self.alpha)?;
        check_positive("pareto_nbd.s", self.s)?;
        check_positive("pareto_nbd.beta", self.beta)
    }
}

/// True Gamma-Gamma spend parameters (Fader & Hardie 2013, "The Gamma-Gamma model of monetary value").
///
/// A client's scale is `nu ~ Gamma(shape q, rate gamma)`; each transaction's spend is
/// `z ~ Gamma(shape p, rate nu)`. The mean spend is `p * gamma / (q - 1)` (for `q > 1`).
///
/// | Name | Default | Purpose | Range |
/// |---|---|---|---|
/// | `p` | 4.0 | shape of a transaction's spend | (0, inf) |
/// | `q` | 3.5 | shape of the client-level scale heterogeneity | (0, inf); > 1 for a finite mean |
/// | `gamma` | 180.0 | rate of the client-level scale heterogeneity (money units) | (0, inf) |
///
/// The defaults give a mean invoice value of 4 * 180 / 2.5 = 288.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GammaGammaTruth {
    /// Shape of the Gamma distribution of one transaction's spend.
    pub p: f64,
    /// Shape of the Gamma heterogeneity of the client-level rate nu.
    pub q: f64,
    /// Rate of the Gamma heterogeneity of nu.
    pub gamma: f64,
}

impl Default for GammaGammaTruth {
    fn default() -> Self {
        Self {
            p: 4.0,
            q: 3.5,
            gamma: 180.0,
        }
    }
}

impl GammaGammaTruth {
    /// Checks that every parameter is finite and > 0; errors name the field as `gamma_gamma.<name>`.
    pub fn check(&self) -> Result<(), SimError> {
        check_positive("gamma_gamma.p", self.p)?;
        check_positive("gamma_gamma.q", self.q)?;
        check_positive("gamma_gamma.gamma", self.gamma)
    }

    /// The population mean spend per transaction, `p * gamma / (q - 1)`; infinite when `q <= 1`.
    pub fn mean_spend(&self) -> f64 {
        if self.q > 1.0 {
            self.p * self.gamma / (self.q - 1.0)
        } else {
            f64::INFINITY
        }
    }
}
