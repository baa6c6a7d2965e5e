//! The prediction interface shared by the continuous-time models.

use crate::data::RfmData;

/// Predictions of a fitted continuous-time customer-base model (BG/NBD, MBG/NBD, Pareto/NBD).
///
/// `x`, `t_x`, `big_t` are a client's repeat purchases, recency and age at the cutoff, in the
/// time unit of the fitting data; `t` is a horizon in that unit. Inputs are expected to satisfy
/// the checks of [`RfmData::new`]; the `_all` methods take validated data.
pub trait RfmModel {
    /// Probability that the client is still alive at `T`.
    fn p_alive(&self, x: f64, t_x: f64, big_t: f64) -> f64;

    /// Expected repeat purchases in `(T, T + t]` given the client's history.
    fn conditional_expected_purchases(&self, t: f64, x: f64, t_x: f64, big_t: f64) -> f64;

    /// Expected repeat purchases in `(0, t]` of a newly acquired client (unconditional).
    fn expected_purchases(&self, t: f64) -> f64;

    /// Probability of no purchase in `(T, T + t]` given the history: the churn score
    /// (`churn_probability`). Unlike `1 - P(alive)`, it counts alive clients who stay silent.
    fn p_no_purchase(&self, t: f64, x: f64, t_x: f64, big_t: f64) -> f64;

    /// Probability of exactly `n` repeat purchases in `(0, t]` for a newly acquired client.
    fn prob_n_purchases(&self, n: u32, t: f64) -> f64;

    /// [`RfmModel::p_alive`] for every row, in input order.
    fn p_alive_all(&self, data: &RfmData) -> Vec<f64> {
        (0..data.len())
            .map(|i| self.p_alive(data.x()[i], data.t_x()[i], data.big_t()[i]))
            .collect()
    }

    /// [`RfmModel::conditional_expected_purchases`] for every row, in input order.
    fn conditional_expected_purchases_all(&self, t: f64, data: &RfmData) -> Vec<f64> {
        (0..data.len())
            .map(|i| {
                self.conditional_expected_purchases(t, data.x()[i], data.t_x()[i], data.big_t()[i])
            })
            .collect()
    }

    /// [`RfmModel::p_no_purchase`] for every row, in input order.
    fn p_no_purchase_all(&self, t: f64, data: &RfmData) -> Vec<f64> {
        (0..data.len())
            .map(|i| self.p_no_purchase(t, data.x()[i], data.t_x()[i], data.big_t()[i]))
            .collect()
    }
}
