//! The BG/NBD fit of an evaluation, re-applied at its cutoff to the same lines.
//!
//! `retain evaluate` writes the fitted parameters (`customer_base` of the evaluation JSON,
//! weeks) but not each client's prediction. From the lines, the cutoff `c` and the horizon `H`
//! this module rebuilds what the report draws:
//! - each client's (x, t_x, T) in weeks at `c` (x = distinct purchase days - 1, t_x = last -
//!   first purchase day, T = c - first purchase day, over purchase days <= c), the label
//!   `churned` = no purchase day in (c, c + H], BG/NBD P(no purchase in H) and the
//!   days-since-last baseline: the scores behind the ROC and precision-recall curves;
//! - the two fit diagnostics of Fader, Hardie & Lee (2005), figures 2 and 1: the number of
//!   clients making 0, 1, ..., 7+ repeat purchases in the calibration period against
//!   sum_i P(X(T_i) = x), and the cumulative repeat purchases by week against
//!   sum_i E[X(t - s_i)] over calibration and holdout (s_i = the client's first purchase).

use retain_clv::{BgNbd, RfmModel};

use crate::ReportError;
use crate::kpis::Lines;

/// The fitted BG/NBD parameters (weeks).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BgNbdParameters {
    /// Shape of the purchase-rate Gamma.
    pub r: f64,
    /// Scale of the purchase-rate Gamma.
    pub alpha: f64,
    /// Beta parameter a of the dropout probability.
    pub a: f64,
    /// Beta parameter b of the dropout probability.
    pub b: f64,
}

/// One scored population on the holdout: labels (`true` = churned) and scores (higher = more
/// likely to churn), clients ascending.
#[derive(Debug, Clone, PartialEq)]
pub struct HoldoutScores {
    /// The model's name as in the evaluation JSON.
    pub name: String,
    /// Client ids, ascending.
    pub ids: Vec<i64>,
    /// Churned in the holdout.
    pub churned: Vec<bool>,
    /// Scores.
    pub score: Vec<f64>,
}

/// The fit diagnostics of the BG/NBD paper.
#[derive(Debug, Clone, PartialEq)]
pub struct FitDiagnostics {
    /// Labels of the histogram bins: `0`, `1`, ..., `7+`.
    pub bins: Vec<String>,
    /// Clients with that many repeat purchases in the calibration period.
    pub actual: Vec<f64>,
    /// The model's expected number of such clients.
    pub expected: Vec<f64>,
    /// Week numbers (from the first purchase in the data) of the cumulative curves.
    pub weeks: Vec<f64>,
    /// Cumulative repeat purchase days by the end of each week.
    pub cum_actual: Vec<f64>,
    /// The model's cumulative expected repeat purchases.
    pub cum_expected: Vec<f64>,
    /// The cutoff in the same week numbers (where the holdout starts).
    pub cutoff_week: f64,
}

/// Everything the report draws from the BG/NBD of an evaluation.
#[derive(Debug, Clone, PartialEq)]
pub struct Diagnostics {
    /// BG/NBD P(no purchase in H) (`bgnbd_p_no_purchase`).
    pub bgnbd: HoldoutScores,
    /// Days since the last purchase (`baseline_days_since_last`).
    pub baseline: HoldoutScores,
    /// The paper's fit diagnostics.
    pub fit: FitDiagnostics,
}

/// Bins of the repeat-purchase histogram: 0..=6 and 7+.
const HIST_BINS: u32 = 8;

/// Rebuilds the holdout scores and the fit diagnostics at `cutoff_day` over `horizon_days`.
pub fn diagnose(
    lines: &Lines,
    params: BgNbdParameters,
    cutoff_day: i32,
    horizon_days: u32,
) -> Result<Diagnostics, ReportError> {
    let model =
        BgNbd::from_parameters(params.r, params.alpha, params.a, params.b).ok_or_else(|| {
            ReportError::Invalid(format!("BG/NBD parameters {params:?} are not all positive"))
        })?;
    let h = horizon_days as i32;
    let mut ids = Vec::new();
    let mut churned = Vec::new();
    let mut p_none = Vec::new();
    let mut since = Vec::new();
    let mut x_all = Vec::new();
    let mut big_t = Vec::new();
    let mut firsts = Vec::new();
    let mut repeat_days: Vec<i32> = Vec::new();
    for (client, days) in lines.purchase_days() {
        let before: Vec<i32> = days.iter().copied().filter(|d| *d <= cutoff_day).collect();
        let Some(&first) = before.first() else {
            continue;
        };
        let last = *before.last().expect("not empty");
        let x = (before.len() - 1) as f64;
        let t_x = (last - first) as f64 / 7.0;
        let t = (cutoff_day - first) as f64 / 7.0;
        ids.push(client);
        churned.push(!days.iter().any(|d| *d > cutoff_day && *d <= cutoff_day + h));
        p_none.push(model.p_no_purchase(horizon_days as f64 / 7.0, x, t_x, t));
        since.push((cutoff_day - last) as f64);
        x_all.push(x);
        big_t.push(t);
        firsts.push(first);
        repeat_days.extend(days.iter().skip(1).filter(|d| **d <= cutoff_day + h));
    }
    if ids.is_empty() {
        return Err(ReportError::NoData);
    }

    // histogram of repeat purchases in the calibration period
    let mut actual = vec![0.0; HIST_BINS as usize];
    let mut expected = vec![0.0; HIST_BINS as usize];
    for (x, t) in x_all.iter().zip(&big_t) {
        actual[(*x as usize).min(HIST_BINS as usize - 1)] += 1.0;
        let mut below = 0.0;
        for n in 0..HIST_BINS - 1 {
            let p = model.prob_n_purchases(n, *t);
            expected[n as usize] += p;
            below += p;
        }
        expected[HIST_BINS as usize - 1] += (1.0 - below).max(0.0);
    }
    let bins = (0..HIST_BINS)
        .map(|n| {
            if n == HIST_BINS - 1 {
                format!("{n}+")
            } else {
                n.to_string()
            }
        })
        .collect();

    // cumulative repeat purchases by week, calibration and holdout
    let origin = *firsts.iter().min().expect("not empty");
    let end = cutoff_day + h;
    let n_weeks = ((end - origin) as f64 / 7.0).ceil() as usize;
    repeat_days.sort_unstable();
    let mut weeks = Vec::with_capacity(n_weeks);
    let mut cum_actual = Vec::with_capacity(n_weeks);
    let mut cum_expected = Vec::with_capacity(n_weeks);
    for w in 1..=n_weeks {
        let day_end = (origin + 7 * w as i32 - 1).min(end);
        let t_end = (day_end + 1 - origin) as f64 / 7.0;
        weeks.push(t_end);
        cum_actual.push(repeat_days.partition_point(|d| *d <= day_end) as f64);
        cum_expected.push(
            firsts
                .iter()
                .map(|s| {
                    let age = (day_end - s) as f64 / 7.0;
                    if age > 0.0 {
                        model.expected_purchases(age)
                    } else {
                        0.0
                    }
                })
                .sum(),
        );
    }
    let cutoff_week = (cutoff_day + 1 - origin) as f64 / 7.0;

    Ok(Diagnostics {
        bgnbd: HoldoutScores {
            name: "bgnbd_p_no_purchase".into(),
            ids: ids.clone(),
            churned: churned.clone(),
            score: p_none,
        },
        baseline: HoldoutScores {
            name: "baseline_days_since_last".into(),
            ids,
            churned,
            score: since,
        },
        fit: FitDiagnostics {
            bins,
            actual,
            expected,
            weeks,
            cum_actual,
            cum_expected,
            cutoff_week,
        },
    })
}

/// The ROC curve (false positive rate, true positive rate), thresholds from the highest
/// score down, tied scores taken together; from (0, 0) to (1, 1).
pub fn roc_curve(s: &HoldoutScores) -> Vec<(f64, f64)> {
    let (pos, neg) = class_counts(s);
    sweep(s)
        .into_iter()
        .map(|(tp, fp)| (fp / neg.max(1.0), tp / pos.max(1.0)))
        .collect()
}

/// The precision-recall curve (recall, precision), thresholds from the highest score down,
/// tied scores taken together; starts at recall 0 with the first threshold's precision.
pub fn pr_curve(s: &HoldoutScores) -> Vec<(f64, f64)> {
    let (pos, _) = class_counts(s);
    let pts: Vec<(f64, f64)> = sweep(s)
        .into_iter()
        .skip(1)
        .map(|(tp, fp)| (tp / pos.max(1.0), tp / (tp + fp)))
        .collect();
    let first = pts.first().map(|p| p.1).unwrap_or(1.0);
    std::iter::once((0.0, first)).chain(pts).collect()
}

fn class_counts(s: &HoldoutScores) -> (f64, f64) {
    let pos = s.churned.iter().filter(|c| **c).count() as f64;
    (pos, s.churned.len() as f64 - pos)
}

/// Cumulative (true positives, false positives) after each distinct threshold.
fn sweep(s: &HoldoutScores) -> Vec<(f64, f64)> {
    let mut order: Vec<usize> = (0..s.score.len()).collect();
    order.sort_by(|&a, &b| {
        s.score[b]
            .total_cmp(&s.score[a])
            .then(s.ids[a].cmp(&s.ids[b]))
    });
    let mut out = vec![(0.0, 0.0)];
    let (mut tp, mut fp) = (0.0, 0.0);
    for (k, &i) in order.iter().enumerate() {
        if s.churned[i] {
            tp += 1.0;
        } else {
            fp += 1.0;
        }
        let next_tied = order.get(k + 1).is_some_and(|&j| s.score[j] == s.score[i]);
        if !next_tied {
            out.push((tp, fp));
        }
    }
    out
}

/// The area under a curve of points sorted by x, by the trapezoid rule.
pub fn area(points: &[(f64, f64)]) -> f64 {
    points
        .windows(2)
        .map(|w| (w[1].0 - w[0].0) * (w[1].1 + w[0].1) / 2.0)
        .sum()
}
