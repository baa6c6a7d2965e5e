//! Key ("golden") clients and the concentration of value among clients: the smallest set of
//! clients bringing a share of the value, and the descending Lorenz curve with its Gini.
//!
//! One definition for every place retain speaks of key clients: the outreach list
//! (`key_client`, by predicted value), the plan (by revenue over a period or by value) and the
//! KPIs (by each period's revenue).

use serde::{Deserialize, Serialize};

use crate::error::EvalError;

/// The default share of value the key clients bring.
pub const DEFAULT_KEY_SHARE: f64 = 0.8;

/// The default number of points of a [`ConcentrationCurve`].
pub const DEFAULT_CURVE_POINTS: usize = 101;

fn check_share(share: f64) -> Result<(), EvalError> {
    // Written so that NaN is refused too.
    if share > 0.0 && share <= 1.0 {
        Ok(())
    } else {
        Err(EvalError::InvalidParameter {
            name: "share",
            reason: format!("{share} is not in (0, 1]"),
        })
    }
}

/// The positive part of a value: what a client counts for in the key clients and the curve.
fn positive(v: f64) -> f64 {
    if v > 0.0 { v } else { 0.0 }
}

/// Checks `values` against `client_ids` and returns the order by positive value descending,
/// then client id ascending, then index.
fn value_order(values: &[f64], client_ids: &[i64]) -> Result<Vec<usize>, EvalError> {
    if values.len() != client_ids.len() {
        return Err(EvalError::LengthMismatch {
            what: "values",
            expected: client_ids.len(),
            got: values.len(),
        });
    }
    if let Some(index) = values.iter().position(|v| !v.is_finite()) {
        return Err(EvalError::NonFinite {
            what: "value",
            index,
            value: values[index],
        });
    }
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_unstable_by(|&a, &b| {
        positive(values[b])
            .total_cmp(&positive(values[a]))
            .then_with(|| client_ids[a].cmp(&client_ids[b]))
            .then_with(|| a.cmp(&b))
    });
    Ok(order)
}

/// The cumulative positive value along `order` (`cum[i]` = sum of the first `i` clients,
/// `cum[0] = 0`), and the key count: the smallest `i` with `cum[i] >= share * cum[n]`, or 0
/// when the total is 0. Summing along the order makes `cum[n]` the total exactly.
fn cumulate(values: &[f64], order: &[usize], share: f64) -> (Vec<f64>, usize) {
    let mut cum = Vec::with_capacity(order.len() + 1);
    cum.push(0.0);
    let mut acc = 0.0;
    for &i in order {
        acc += positive(values[i]);
        cum.push(acc);
    }
    let total = acc;
    let count = if total > 0.0 {
        let target = share * total;
        // cum is non-decreasing and cum[n] = total >= target, so a first index exists. A
        // relative tolerance of 1e-12 lets 80 reach 80% of 100 whatever the rounding of
        // `share * total`.
        let target = target * (1.0 - 1e-12);
        cum.partition_point(|&c| c < target).max(1)
    } else {
        0
    };
    (cum, count)
}

/// The key ("golden") clients: the smallest set whose value reaches `share` of the total.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeyClients {
    /// One flag per client, in the caller's order: `true` for a key client.
    pub flags: Vec<bool>,
    /// Number of key clients.
    pub count: usize,
    /// `count / n` over all the clients given (0 when there is none).
    pub share_of_clients: f64,
    /// Share of the total positive value held by the key clients (0 when the total is 0).
    pub share_of_value: f64,
    /// The smallest value among the key clients (the last one taken), `None` when there is
    /// no key client.
    pub threshold_value: Option<f64>,
    /// The total: the sum of the positive values.
    pub total_value: f64,
}

/// The smallest set of clients whose value reaches `share` of the total.
///
/// Clients are sorted by value descending, ties to the smaller client id (then to the earlier
/// row); they are taken in that order until the cumulative value reaches `share x total`,
/// where the total is the sum of the **positive** values. A client with value `<= 0` is
/// never key; when no value is positive there is no key client. No client is not an error
/// (an empty result). `values` is revenue over a period (`--key-by revenue`) or predicted
/// CLV (`--key-by clv`).
///
/// # Errors
/// [`EvalError::InvalidParameter`] (share outside `(0, 1]`), [`EvalError::LengthMismatch`],
/// [`EvalError::NonFinite`] (naming the row).
pub fn key_clients(
    values: &[f64],
    client_ids: &[i64],
    share: f64,
) -> Result<KeyClients, EvalError> {
    check_share(share)?;
    let order = value_order(values, client_ids)?;
    let (cum, count) = cumulate(values, &order, share);
    let total = cum[cum.len() - 1];
    let mut flags = vec![false; values.len()];
    for &i in &order[..count] {
        flags[i] = true;
    }
    let n = values.len();
    Ok(KeyClients {
        flags,
        count,
        share_of_clients: if n == 0 { 0.0 } else { count as f64 / n as f64 },
        share_of_value: if total > 0.0 { cum[count] / total } else { 0.0 },
        threshold_value: count.checked_sub(1).map(|last| values[order[last]]),
        total_value: total,
    })
}

/// One point of a [`ConcentrationCurve`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CurvePoint {
    /// Share of the clients, the most valuable first (`i / n`).
    pub share_of_clients: f64,
    /// Cumulative share of the total positive value held by those clients.
    pub share_of_value: f64,
}

/// The revenue concentration curve (descending Lorenz curve) and the Gini of the values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConcentrationCurve {
    /// Points from `(0, 0)` to `(1, 1)`, non-decreasing and concave, downsampled to at most
    /// the requested number; always holding both end points and [`ConcentrationCurve::key_point`].
    pub points: Vec<CurvePoint>,
    /// The key-client threshold point: (share of clients, share of value) of the key clients.
    pub key_point: CurvePoint,
    /// Number of key clients (see [`key_clients`]).
    pub key_count: usize,
    /// The Gini coefficient of the positive parts of the values, from all `n` clients (not
    /// the downsampled points): `(2/n) sum_i C_i / C_n - 1 - 1/n` with `C_i` the cumulative
    /// value of the `i` most valuable clients; 0 for equal values, `1 - 1/n` when one client
    /// holds everything.
    pub gini: f64,
    /// Number of clients.
    pub n_clients: usize,
    /// The total: the sum of the positive values.
    pub total_value: f64,
}

/// The descending concentration curve of `values`, downsampled to at most `max_points`.
///
/// Clients are sorted as in [`key_clients`] (value descending, ties to the smaller id) and the
/// curve holds, for `i = 0..=n`, the point `(i / n, C_i / C_n)` with `C_i` the cumulative
/// positive value of the first `i` clients. Values count by their positive part, so the curve
/// is non-decreasing, concave and ends at `(1, 1)`. When no value is positive the curve is
/// the diagonal and the Gini is 0 (all clients are equal, at nothing).
///
/// Downsampling keeps the points at `round(j n / (max_points - 2))` for
/// `j = 0..=max_points - 2` (both ends included) plus the key-client threshold point, so at
/// most `max_points` points; keeping a subset of a concave polyline's vertices keeps it
/// concave.
///
/// # Errors
/// [`EvalError::InvalidParameter`] (a share outside `(0, 1]`, `max_points < 3`),
/// [`EvalError::LengthMismatch`], [`EvalError::NonFinite`], [`EvalError::Empty`] (no client).
pub fn concentration_curve(
    values: &[f64],
    client_ids: &[i64],
    share: f64,
    max_points: usize,
) -> Result<ConcentrationCurve, EvalError> {
    check_share(share)?;
    if max_points < 3 {
        return Err(EvalError::InvalidParameter {
            name: "max_points",
            reason: format!("{max_points} is below 3 (two end points and the key point)"),
        });
    }
    let order = value_order(values, client_ids)?;
    let n = values.len();
    if n == 0 {
        return Err(EvalError::Empty);
    }
    let (cum, key_count) = cumulate(values, &order, share);
    let total = cum[n];
    let nf = n as f64;
    let point = |i: usize| CurvePoint {
        share_of_clients: i as f64 / nf,
        share_of_value: if total > 0.0 {
            cum[i] / total
        } else {
            i as f64 / nf
        },
    };
    let gini = if total > 0.0 {
        let sum_share: f64 = cum[1..].iter().map(|c| c / total).sum();
        (2.0 * sum_share / nf - 1.0 - 1.0 / nf).max(0.0)
    } else {
        0.0
    };
    let mut idx: Vec<usize> = if n < max_points {
        (0..=n).collect()
    } else {
        let steps = max_points - 2;
        let mut idx: Vec<usize> = (0..=steps)
            .map(|j| ((j as u128 * n as u128 + steps as u128 / 2) / steps as u128) as usize)
            .collect();
        idx.push(key_count);
        idx
    };
    idx.sort_unstable();
    idx.dedup();
    Ok(ConcentrationCurve {
        points: idx.into_iter().map(point).collect(),
        key_point: point(key_count),
        key_count,
        gini,
        n_clients: n,
        total_value: total,
    })
}

impl ConcentrationCurve {
    /// The share of value at a share of clients `x` in `[0, 1]`, linear between the points
    /// (`x` is clamped into `[0, 1]`; NaN, or a curve without points, gives NaN).
    pub fn value_share_at(&self, x: f64) -> f64 {
        if x.is_nan() || self.points.is_empty() {
            return f64::NAN;
        }
        let x = x.clamp(0.0, 1.0);
        let pts = &self.points;
        let j = pts.partition_point(|p| p.share_of_clients < x);
        if j == 0 {
            return pts[0].share_of_value;
        }
        if j == pts.len() {
            return pts[j - 1].share_of_value;
        }
        let (a, b) = (pts[j - 1], pts[j]);
        let t = (x - a.share_of_clients) / (b.share_of_clients - a.share_of_clients);
        a.share_of_value + t.min(1.0) * (b.share_of_value - a.share_of_value)
    }
}
