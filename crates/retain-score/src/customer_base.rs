//! The customer-base models in the pipeline: BG/NBD (weeks) and Gamma-Gamma fitted on the
//! calibration features, and their per-client outputs over a horizon.

use polars::prelude::DataFrame;
use retain_clv::{BgNbd, BgNbdParams, GammaGamma, GammaGammaParams, RfmData, RfmModel, SpendData};
use retain_core::TimeUnit;

use crate::pipeline::{PipelineError, column_f64};

/// Fitted customer-base models of a run (BG/NBD in weeks, Gamma-Gamma on repeat buyers).
#[derive(Debug, Clone)]
pub struct CustomerBase {
    /// BG/NBD, time unit weeks.
    pub bgnbd: BgNbd,
    /// Gamma-Gamma spend model.
    pub gamma_gamma: GammaGamma,
}

/// Per-client outputs of the customer-base models over a horizon.
#[derive(Debug, Clone, Default)]
pub struct CustomerBaseScores {
    /// P(alive).
    pub p_alive: Vec<f64>,
    /// P(no purchase in the horizon): the BG/NBD churn score.
    pub p_no_purchase: Vec<f64>,
    /// Expected purchase days in the horizon.
    pub expected_purchases: Vec<f64>,
    /// Expected average order value (Gamma-Gamma).
    pub expected_spend: Vec<f64>,
    /// CLV over the horizon = expected purchases x expected spend (undiscounted).
    pub clv: Vec<f64>,
}

/// Per-client (x, t_x, T, monetary), times in weeks.
type Rfm = (Vec<f64>, Vec<f64>, Vec<f64>, Vec<f64>);

fn rfm(df: &DataFrame) -> Result<Rfm, PipelineError> {
    let w = TimeUnit::Weeks.days();
    let x = column_f64(df, "frequency")?;
    let t_x = column_f64(df, "recency_lt")?
        .iter()
        .map(|v| v / w)
        .collect();
    let t = column_f64(df, "T")?.iter().map(|v| v / w).collect();
    let m = column_f64(df, "monetary")?;
    Ok((x, t_x, t, m))
}

impl CustomerBase {
    /// Fits BG/NBD on (frequency, recency_lt / 7, T / 7) of every client of `df`, and
    /// Gamma-Gamma on the clients with frequency > 0 and monetary > 0 (BENCHMARK.md section 5).
    pub fn fit(df: &DataFrame) -> Result<Self, PipelineError> {
        let (x, t_x, t, m) = rfm(df)?;
        let bgnbd = BgNbdParams::new().fit(&RfmData::new(x.clone(), t_x, t)?)?;
        let gamma_gamma = GammaGammaParams::new().fit(&SpendData::repeat_buyers(x, m)?)?;
        Ok(Self { bgnbd, gamma_gamma })
    }

    /// Scores every client of `df` over `horizon_days`.
    pub fn score(
        &self,
        df: &DataFrame,
        horizon_days: u32,
    ) -> Result<CustomerBaseScores, PipelineError> {
        let (x, t_x, t, m) = rfm(df)?;
        let h = horizon_days as f64 / TimeUnit::Weeks.days();
        let mut s = CustomerBaseScores::default();
        for i in 0..x.len() {
            let e = self
                .bgnbd
                .conditional_expected_purchases(h, x[i], t_x[i], t[i]);
            let spend = self
                .gamma_gamma
                .conditional_expected_average_profit(x[i], m[i]);
            s.p_alive.push(self.bgnbd.p_alive(x[i], t_x[i], t[i]));
            s.p_no_purchase
                .push(self.bgnbd.p_no_purchase(h, x[i], t_x[i], t[i]));
            s.expected_purchases.push(e);
            s.expected_spend.push(spend);
            s.clv.push(e * spend);
        }
        Ok(s)
    }
}
