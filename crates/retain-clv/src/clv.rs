//! Customer lifetime value over a horizon: expected purchases times expected spend.

use crate::error::{ClvError, Result};
use crate::gamma_gamma::GammaGamma;
use crate::model::RfmModel;

/// Settings of a CLV computation. Setters never fail; [`ClvParams::check`] validates.
///
/// | Name | Default | Purpose | Range |
/// |---|---|---|---|
/// | `horizon` | (required) | length of the future window after the cutoff, in the model's time unit | finite, `>= 0` |
/// | `discount_rate` | 0 | discount rate per time unit; cash in step `i` is divided by `(1+d)^(t_i)` | finite, `> -1` |
/// | `margin` | 1 | profit margin applied to spend | finite, `>= 0` |
/// | `step` | 1 | length of the discounting steps, in time units | finite, `> 0` |
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ClvParams(ClvValidParams);

/// Checked CLV settings.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ClvValidParams {
    horizon: f64,
    discount_rate: f64,
    margin: f64,
    step: f64,
}

impl ClvParams {
    /// CLV over `horizon` time units, undiscounted, margin 1.
    pub fn new(horizon: f64) -> Self {
        Self(ClvValidParams {
            horizon,
            discount_rate: 0.0,
            margin: 1.0,
            step: 1.0,
        })
    }

    /// Sets the discount rate per time unit.
    pub fn discount_rate(mut self, d: f64) -> Self {
        self.0.discount_rate = d;
        self
    }

    /// Sets the profit margin.
    pub fn margin(mut self, m: f64) -> Self {
        self.0.margin = m;
        self
    }

    /// Sets the discounting step length.
    pub fn step(mut self, s: f64) -> Self {
        self.0.step = s;
        self
    }

    /// Validates the settings.
    pub fn check(self) -> Result<ClvValidParams> {
        let v = &self.0;
        if !(v.horizon.is_finite() && v.horizon >= 0.0) {
            return Err(ClvError::InvalidParams(format!("horizon {}", v.horizon)));
        }
        if !(v.discount_rate.is_finite() && v.discount_rate > -1.0) {
            return Err(ClvError::InvalidParams(format!(
                "discount_rate {}",
                v.discount_rate
            )));
        }
        if !(v.margin.is_finite() && v.margin >= 0.0) {
            return Err(ClvError::InvalidParams(format!("margin {}", v.margin)));
        }
        if !(v.step.is_finite() && v.step > 0.0) {
            return Err(ClvError::InvalidParams(format!("step {}", v.step)));
        }
        Ok(self.0)
    }
}

impl ClvValidParams {
    /// The horizon.
    pub fn horizon(&self) -> f64 {
        self.horizon
    }

    /// Discounted CLV of one client: `margin * E[spend] * sum_i (E[X(T, T+t_i)] -
    /// E[X(T, T+t_{i-1})]) / (1+d)^(t_i)`, with `t_i` the step ends up to the horizon and
    /// `E[spend]` the Gamma-Gamma conditional expected average profit.
    pub fn clv<M: RfmModel + ?Sized>(
        &self,
        model: &M,
        spend: &GammaGamma,
        x: f64,
        t_x: f64,
        big_t: f64,
        monetary: f64,
    ) -> f64 {
        let value = spend.conditional_expected_average_profit(x, monetary);
        let steps = (self.horizon / self.step).ceil() as usize;
        let mut prev = 0.0;
        let mut total = 0.0;
        for i in 1..=steps {
            let ti = (i as f64 * self.step).min(self.horizon);
            let e = model.conditional_expected_purchases(ti, x, t_x, big_t);
            total += (e - prev) / (1.0 + self.discount_rate).powf(ti);
            prev = e;
        }
        self.margin * value * total
    }
}

/// Undiscounted value over the horizon `t` without margin: expected purchases in `(T, T+t]` times
/// the Gamma-Gamma expected spend (the CLV of BENCHMARK.md section 5).
pub fn expected_value<M: RfmModel + ?Sized>(
    model: &M,
    spend: &GammaGamma,
    t: f64,
    x: f64,
    t_x: f64,
    big_t: f64,
    monetary: f64,
) -> f64 {
    model.conditional_expected_purchases(t, x, t_x, big_t)
        * spend.conditional_expected_average_profit(x, monetary)
}
