//! Validated model inputs and their compression into weighted distinct rows.

use crate::error::{ClvError, DataSummary, Result};

fn invalid(field: &'static str, index: usize, value: f64, reason: &'static str) -> ClvError {
    ClvError::InvalidInput {
        field,
        index,
        value,
        reason,
    }
}

fn check_weights(weights: &[f64], n: usize) -> Result<()> {
    if weights.len() != n {
        return Err(ClvError::LengthMismatch(format!(
            "{} weights for {} rows",
            weights.len(),
            n
        )));
    }
    for (i, &w) in weights.iter().enumerate() {
        if !w.is_finite() {
            return Err(invalid("weight", i, w, "not finite"));
        }
        if w < 0.0 {
            return Err(invalid("weight", i, w, "negative"));
        }
    }
    if weights.iter().sum::<f64>() <= 0.0 {
        return Err(ClvError::NoData("all weights are zero".into()));
    }
    Ok(())
}

/// Recency-frequency summaries of continuous-time clients (BG/NBD, Pareto/NBD, MBG/NBD).
///
/// | Field | Meaning | Range |
/// |---|---|---|
/// | `x` | number of repeat purchases (lifetimes' `frequency`) | integer, `>= 0` |
/// | `t_x` | time of the last repeat purchase since the first purchase (`recency`) | `0 <= t_x <= T`, `0` when `x = 0` |
/// | `T` | age of the client at the cutoff (time since the first purchase) | finite, `>= 0` |
/// | weight | number of clients sharing the row | finite, `>= 0` |
///
/// Times are in one unit of the caller's choice (weeks in the published figures); every
/// prediction of a model fitted on the data is in that unit.
#[derive(Debug, Clone, PartialEq)]
pub struct RfmData {
    x: Vec<f64>,
    t_x: Vec<f64>,
    t: Vec<f64>,
    w: Vec<f64>,
}

impl RfmData {
    /// Validates and wraps one row per client. All input checks live here: every value finite,
    /// `x` a non-negative integer, `0 <= t_x <= T`, and `t_x = 0` when `x = 0`. An error names
    /// the offending column, index and value.
    pub fn new(x: Vec<f64>, t_x: Vec<f64>, t: Vec<f64>) -> Result<Self> {
        let n = x.len();
        Self::with_weights(x, t_x, t, vec![1.0; n])
    }

    /// As [`RfmData::new`], with a weight (number of identical clients) per row.
    pub fn with_weights(x: Vec<f64>, t_x: Vec<f64>, t: Vec<f64>, w: Vec<f64>) -> Result<Self> {
        let n = x.len();
        if t_x.len() != n || t.len() != n {
            return Err(ClvError::LengthMismatch(format!(
                "x has {n} rows, t_x {}, T {}",
                t_x.len(),
                t.len()
            )));
        }
        if n == 0 {
            return Err(ClvError::NoData("no client".into()));
        }
        for i in 0..n {
            let (xi, txi, ti) = (x[i], t_x[i], t[i]);
            if !xi.is_finite() {
                return Err(invalid("x", i, xi, "not finite"));
            }
            if xi < 0.0 {
                return Err(invalid("x", i, xi, "negative"));
            }
            if xi.fract() != 0.0 {
                return Err(invalid("x", i, xi, "not an integer count"));
            }
            if !txi.is_finite() {
                return Err(invalid("t_x", i, txi, "not finite"));
            }
            if !ti.is_finite() {
                return Err(invalid("T", i, ti, "not finite"));
            }
            if ti < 0.0 {
                return Err(invalid("T", i, ti, "negative"));
            }
            if txi < 0.0 {
                return Err(invalid("t_x", i, txi, "negative"));
            }
            if txi > ti {
                return Err(invalid("t_x", i, txi, "greater than T"));
            }
            if xi == 0.0 && txi != 0.0 {
                return Err(invalid("t_x", i, txi, "must be 0 when x = 0"));
            }
        }
        check_weights(&w, n)?;
        Ok(Self { x, t_x, t, w })
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.x.len()
    }

    /// Always false: construction refuses empty data.
    pub fn is_empty(&self) -> bool {
        self.x.is_empty()
    }

    /// Repeat purchases per row.
    pub fn x(&self) -> &[f64] {
        &self.x
    }

    /// Recency per row.
    pub fn t_x(&self) -> &[f64] {
        &self.t_x
    }

    /// Age `T` per row.
    pub fn big_t(&self) -> &[f64] {
        &self.t
    }

    /// Weight per row.
    pub fn weights(&self) -> &[f64] {
        &self.w
    }

    /// A summary of the data (used in error messages).
    pub fn summary(&self) -> DataSummary {
        let n: f64 = self.w.iter().sum();
        let zero: f64 = self
            .x
            .iter()
            .zip(&self.w)
            .filter(|(x, _)| **x == 0.0)
            .map(|(_, w)| *w)
            .sum();
        DataSummary {
            n,
            distinct_rows: self.compress().rows.len(),
            share_zero: zero / n,
            max_x: self.x.iter().copied().fold(0.0, f64::max),
            t_min: self.t.iter().copied().fold(f64::INFINITY, f64::min),
            t_max: self.t.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        }
    }

    /// Merges identical `(x, t_x, T)` rows into weighted rows, sorted by `x`, with tables of the
    /// distinct `t_x` and `T` values so that a likelihood evaluates each logarithm once per
    /// distinct value.
    pub(crate) fn compress(&self) -> Compressed {
        let mut keyed: Vec<(f64, f64, f64, f64)> = (0..self.len())
            .filter(|&i| self.w[i] > 0.0)
            .map(|i| (self.x[i], self.t_x[i], self.t[i], self.w[i]))
            .collect();
        keyed.sort_unstable_by(|a, b| {
            a.0.total_cmp(&b.0)
                .then(a.1.total_cmp(&b.1))
                .then(a.2.total_cmp(&b.2))
        });
        let mut tx_vals: Vec<f64> = keyed.iter().map(|k| k.1).collect();
        tx_vals.sort_unstable_by(f64::total_cmp);
        tx_vals.dedup();
        let mut t_vals: Vec<f64> = keyed.iter().map(|k| k.2).collect();
        t_vals.sort_unstable_by(f64::total_cmp);
        t_vals.dedup();
        let pos = |vals: &[f64], v: f64| vals.partition_point(|&u| u < v);
        let mut rows: Vec<Row> = Vec::new();
        let mut xs: Vec<f64> = Vec::new();
        let mut groups: Vec<(usize, usize)> = Vec::new();
        let mut last: Option<(f64, f64, f64)> = None;
        for &(x, tx, t, w) in &keyed {
            let k = (x, tx, t);
            if last == Some(k) {
                if let Some(r) = rows.last_mut() {
                    r.w += w;
                }
                continue;
            }
            if last.is_none_or(|l| l.0 != x) {
                xs.push(x);
                groups.push((rows.len(), rows.len()));
            }
            rows.push(Row {
                tx: pos(&tx_vals, tx),
                t: pos(&t_vals, t),
                w,
            });
            if let Some(g) = groups.last_mut() {
                g.1 = rows.len();
            }
            last = Some(k);
        }
        let total_weight = rows.iter().map(|r| r.w).sum();
        Compressed {
            xs,
            groups,
            tx_vals,
            t_vals,
            rows,
            total_weight,
        }
    }
}

/// One distinct `(x, t_x, T)` row: indices into the value tables and a weight.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Row {
    pub tx: usize,
    pub t: usize,
    pub w: f64,
}

/// Distinct rows grouped by `x`.
#[derive(Debug, Clone)]
pub(crate) struct Compressed {
    pub xs: Vec<f64>,
    pub groups: Vec<(usize, usize)>,
    pub tx_vals: Vec<f64>,
    pub t_vals: Vec<f64>,
    pub rows: Vec<Row>,
    pub total_weight: f64,
}

impl Compressed {
    /// Iterates `(x, t_x, T, w)`.
    pub fn iter(&self) -> impl Iterator<Item = (f64, f64, f64, f64)> + '_ {
        self.groups
            .iter()
            .zip(&self.xs)
            .flat_map(move |(&(s, e), &x)| {
                self.rows[s..e]
                    .iter()
                    .map(move |r| (x, self.tx_vals[r.tx], self.t_vals[r.t], r.w))
            })
    }
}

/// Discrete-time histories for BG/BB: `x` transactions in `n` opportunities, the last one at
/// opportunity `t_x`.
///
/// | Field | Meaning | Range |
/// |---|---|---|
/// | `x` | repeat transactions | integer, `0 <= x <= t_x` |
/// | `t_x` | opportunity of the last transaction (`0` if none) | integer, `t_x <= n` |
/// | `n` | number of opportunities | integer, `>= 1` |
/// | weight | number of clients sharing the row | finite, `>= 0` |
#[derive(Debug, Clone, PartialEq)]
pub struct BgBbData {
    pub(crate) rows: Vec<(f64, f64, f64, f64)>,
}

impl BgBbData {
    /// Validates one row per client.
    pub fn new(x: Vec<f64>, t_x: Vec<f64>, n: Vec<f64>) -> Result<Self> {
        let len = x.len();
        Self::with_weights(x, t_x, n, vec![1.0; len])
    }

    /// Validates weighted rows (e.g. the published sufficient-statistics table).
    pub fn with_weights(x: Vec<f64>, t_x: Vec<f64>, n: Vec<f64>, w: Vec<f64>) -> Result<Self> {
        let len = x.len();
        if t_x.len() != len || n.len() != len {
            return Err(ClvError::LengthMismatch(format!(
                "x has {len} rows, t_x {}, n {}",
                t_x.len(),
                n.len()
            )));
        }
        if len == 0 {
            return Err(ClvError::NoData("no client".into()));
        }
        for i in 0..len {
            for (field, v) in [("x", x[i]), ("t_x", t_x[i]), ("n", n[i])] {
                if !v.is_finite() {
                    return Err(invalid(field, i, v, "not finite"));
                }
                if v < 0.0 || v.fract() != 0.0 {
                    return Err(invalid(field, i, v, "not a non-negative integer"));
                }
            }
            if n[i] < 1.0 {
                return Err(invalid("n", i, n[i], "must be at least 1"));
            }
            if t_x[i] > n[i] {
                return Err(invalid("t_x", i, t_x[i], "greater than n"));
            }
            if x[i] > t_x[i] {
                return Err(invalid("x", i, x[i], "greater than t_x"));
            }
            if x[i] == 0.0 && t_x[i] != 0.0 {
                return Err(invalid("t_x", i, t_x[i], "must be 0 when x = 0"));
            }
        }
        check_weights(&w, len)?;
        let mut rows: Vec<(f64, f64, f64, f64)> = (0..len)
            .filter(|&i| w[i] > 0.0)
            .map(|i| (x[i], t_x[i], n[i], w[i]))
            .collect();
        rows.sort_unstable_by(|a, b| {
            a.0.total_cmp(&b.0)
                .then(a.1.total_cmp(&b.1))
                .then(a.2.total_cmp(&b.2))
        });
        let mut merged: Vec<(f64, f64, f64, f64)> = Vec::with_capacity(rows.len());
        for r in rows {
            match merged.last_mut() {
                Some(m) if (m.0, m.1, m.2) == (r.0, r.1, r.2) => m.3 += r.3,
                _ => merged.push(r),
            }
        }
        Ok(Self { rows: merged })
    }

    /// A summary of the data (used in error messages); `T` is the number of opportunities.
    pub fn summary(&self) -> DataSummary {
        let n: f64 = self.rows.iter().map(|r| r.3).sum();
        let zero: f64 = self.rows.iter().filter(|r| r.0 == 0.0).map(|r| r.3).sum();
        DataSummary {
            n,
            distinct_rows: self.rows.len(),
            share_zero: zero / n,
            max_x: self.rows.iter().map(|r| r.0).fold(0.0, f64::max),
            t_min: self.rows.iter().map(|r| r.2).fold(f64::INFINITY, f64::min),
            t_max: self
                .rows
                .iter()
                .map(|r| r.2)
                .fold(f64::NEG_INFINITY, f64::max),
        }
    }
}

/// Repeat-purchase spend for the Gamma-Gamma model: `x` repeat purchases with mean value
/// `monetary` (lifetimes' `monetary_value`, Fader & Hardie's `zbar`).
#[derive(Debug, Clone, PartialEq)]
pub struct SpendData {
    pub(crate) rows: Vec<(f64, f64, f64)>,
    skipped: usize,
}

impl SpendData {
    /// Validates one row per repeat buyer: `x` a positive integer and `monetary` finite and
    /// strictly positive. A zero or negative value is refused with its index (the model is a
    /// gamma density on positive spend).
    pub fn new(x: Vec<f64>, monetary: Vec<f64>) -> Result<Self> {
        Self::build(x, monetary, false)
    }

    /// As [`SpendData::new`] but rows with `x = 0` or `monetary <= 0` are skipped (their count is
    /// kept in [`SpendData::skipped`]); non-finite values are still refused. Errors if no row is
    /// left.
    pub fn repeat_buyers(x: Vec<f64>, monetary: Vec<f64>) -> Result<Self> {
        Self::build(x, monetary, true)
    }

    fn build(x: Vec<f64>, m: Vec<f64>, skip: bool) -> Result<Self> {
        if x.len() != m.len() {
            return Err(ClvError::LengthMismatch(format!(
                "x has {} rows, monetary {}",
                x.len(),
                m.len()
            )));
        }
        let mut rows = Vec::with_capacity(x.len());
        let mut skipped = 0;
        for i in 0..x.len() {
            if !x[i].is_finite() || x[i] < 0.0 || x[i].fract() != 0.0 {
                return Err(invalid("x", i, x[i], "not a non-negative integer"));
            }
            if !m[i].is_finite() {
                return Err(invalid("monetary", i, m[i], "not finite"));
            }
            if x[i] == 0.0 || m[i] <= 0.0 {
                if skip {
                    skipped += 1;
                    continue;
                }
                if x[i] == 0.0 {
                    return Err(invalid(
                        "x",
                        i,
                        x[i],
                        "Gamma-Gamma needs repeat buyers (x >= 1)",
                    ));
                }
                return Err(invalid(
                    "monetary",
                    i,
                    m[i],
                    "Gamma-Gamma needs a strictly positive average spend",
                ));
            }
            rows.push((x[i], m[i], 1.0));
        }
        if rows.is_empty() {
            return Err(ClvError::NoData(format!(
                "no repeat buyer with positive spend ({skipped} rows skipped)"
            )));
        }
        rows.sort_unstable_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
        let mut merged: Vec<(f64, f64, f64)> = Vec::with_capacity(rows.len());
        for r in rows {
            match merged.last_mut() {
                Some(l) if (l.0, l.1) == (r.0, r.1) => l.2 += 1.0,
                _ => merged.push(r),
            }
        }
        Ok(Self {
            rows: merged,
            skipped,
        })
    }

    /// Rows skipped by [`SpendData::repeat_buyers`].
    pub fn skipped(&self) -> usize {
        self.skipped
    }

    /// Number of clients kept.
    pub fn n_clients(&self) -> f64 {
        self.rows.iter().map(|r| r.2).sum()
    }

    /// Summary used in error messages (`T` range is reported as the spend range).
    pub fn summary(&self) -> DataSummary {
        DataSummary {
            n: self.n_clients(),
            distinct_rows: self.rows.len(),
            share_zero: 0.0,
            max_x: self.rows.iter().map(|r| r.0).fold(0.0, f64::max),
            t_min: self.rows.iter().map(|r| r.1).fold(f64::INFINITY, f64::min),
            t_max: self
                .rows
                .iter()
                .map(|r| r.1)
                .fold(f64::NEG_INFINITY, f64::max),
        }
    }
}
