//! Expected maximum profit measure for customer churn (EMPC).
//!
//! Verbraken, Verbeke & Baesens (2013), "A novel profit maximizing metric for measuring
//! classification performance of customer churn prediction models", IEEE TKDE 25(5), 961-973.
//!
//! A retention campaign contacts the clients scored above a threshold `t` and offers each an
//! incentive `d` (cost `f` per contact). A contacted churner accepts with probability `gamma` and
//! is then worth `CLV - d`; a contacted non-churner costs `d + f`. Per client of the base, with
//! `pi0` the churn rate, `F0(t)` the share of churners targeted (true positive rate) and `F1(t)`
//! the share of non-churners targeted (false positive rate), the profit is (paper, eq. 9, with
//! `delta = d / CLV`, `phi = f / CLV`)
//!
//! `P(t; gamma) = CLV (gamma (1 - delta) - phi) pi0 F0(t) - CLV (delta + phi) pi1 F1(t)`
//!
//! and the EMPC is `integral_0^1 max_t P(t; gamma) h(gamma) d gamma` with `h` the
//! `Beta(alpha, beta)` density of the acceptance rate (eq. 12). The maximum over `t` lies on the
//! ROC convex hull: hull point `i` is optimal for `gamma` in `[gamma_{i-1}, gamma_i]`, where the
//! segment from hull point `i` to `i + 1` pays off iff `gamma` exceeds
//!
//! `gamma_i = (pi1 (delta + phi) (r1_{i+1} - r1_i) / (pi0 (r0_{i+1} - r0_i)) + phi) / (1 - delta)`
//!
//! (eq. 15; `r0` = TPR, `r1` = FPR). Since `P` is linear in `gamma`, each segment integrates in
//! closed form with the regularized incomplete beta function `I_x`:
//! `int_a^b h = I_b(alpha, beta) - I_a(alpha, beta)` and
//! `int_a^b gamma h = alpha / (alpha + beta) (I_b(alpha + 1, beta) - I_a(alpha + 1, beta))` (eq. 16).
//! The expected fraction targeted is `sum_i (pi0 r0_i + pi1 r1_i) int_{segment i} h` (eq. 17).
//!
//! Scores here follow the crate's convention (higher = more likely churned), so "targeted" means
//! score >= t; tied scores are targeted together (one ROC point per distinct score).

use serde::{Deserialize, Serialize};
use statrs::function::beta::beta_reg;

use crate::churn::{Label, check_finite, check_len, labels_to_bool};
use crate::error::EvalError;
use crate::rank::order_desc;

/// Parameters of the EMPC, the defaults of the paper (section 5).
///
/// | Name | Default | Purpose | Range |
/// |---|---|---|---|
/// | `alpha` | 6 | first shape of the Beta distribution of the acceptance rate gamma | > 0 |
/// | `beta` | 14 | second shape (mean acceptance `alpha / (alpha + beta)` = 0.3) | > 0 |
/// | `clv` | 200 | value of a retained churner (same currency as `incentive`) | > `incentive` |
/// | `incentive` | 10 | cost `d` of the incentive, paid by whoever accepts it | >= 0 |
/// | `contact_cost` | 1 | cost `f` of contacting one client | >= 0 |
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EmpcParams {
    /// First shape parameter of `Beta(alpha, beta)`.
    pub alpha: f64,
    /// Second shape parameter of `Beta(alpha, beta)`.
    pub beta: f64,
    /// Customer lifetime value of a retained churner.
    pub clv: f64,
    /// Incentive cost `d`.
    pub incentive: f64,
    /// Contact cost `f`.
    pub contact_cost: f64,
}

impl Default for EmpcParams {
    fn default() -> Self {
        Self {
            alpha: 6.0,
            beta: 14.0,
            clv: 200.0,
            incentive: 10.0,
            contact_cost: 1.0,
        }
    }
}

impl EmpcParams {
    /// Validates the parameters.
    ///
    /// # Errors
    /// [`EvalError::InvalidParameter`] naming the first parameter out of its range (see the table).
    pub fn check(&self) -> Result<(), EvalError> {
        let bad =
            |name: &'static str, reason: String| Err(EvalError::InvalidParameter { name, reason });
        if !(self.alpha > 0.0 && self.alpha.is_finite()) {
            return bad(
                "alpha",
                format!("must be positive and finite, got {}", self.alpha),
            );
        }
        if !(self.beta > 0.0 && self.beta.is_finite()) {
            return bad(
                "beta",
                format!("must be positive and finite, got {}", self.beta),
            );
        }
        if !(self.incentive >= 0.0 && self.incentive.is_finite()) {
            return bad(
                "incentive",
                format!("must be >= 0 and finite, got {}", self.incentive),
            );
        }
        if !(self.contact_cost >= 0.0 && self.contact_cost.is_finite()) {
            return bad(
                "contact_cost",
                format!("must be >= 0 and finite, got {}", self.contact_cost),
            );
        }
        if !(self.clv > self.incentive && self.clv.is_finite()) {
            return bad(
                "clv",
                format!(
                    "must be finite and exceed the incentive ({}), got {}",
                    self.incentive, self.clv
                ),
            );
        }
        Ok(())
    }

    /// Mean acceptance rate `alpha / (alpha + beta)`.
    pub fn mean_acceptance(&self) -> f64 {
        self.alpha / (self.alpha + self.beta)
    }
}

/// The EMPC of a score and the fraction of the base its optimal campaign targets.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Empc {
    /// Expected maximum profit per client of the base (currency of `clv`).
    pub empc: f64,
    /// Expected fraction of the base targeted at the optimal threshold (eq. 17).
    pub fraction_targeted: f64,
}

/// Points of the ROC convex hull as counts `(false positives, true positives)`, from `(0, 0)` to
/// `(N1, N0)`, one candidate point per distinct score; collinear points are dropped.
fn roc_hull_counts(y: &[bool], score: &[f64]) -> Vec<(u64, u64)> {
    let mut order: Vec<usize> = (0..score.len()).collect();
    order.sort_unstable_by(|&a, &b| score[b].total_cmp(&score[a]));
    let mut hull: Vec<(u64, u64)> = vec![(0, 0)];
    let (mut fp, mut tp) = (0u64, 0u64);
    let mut i = 0;
    while i < order.len() {
        let s = score[order[i]];
        while i < order.len() && score[order[i]] == s {
            if y[order[i]] {
                tp += 1;
            } else {
                fp += 1;
            }
            i += 1;
        }
        let p = (fp, tp);
        // Upper hull, x = fp increasing: pop the last point unless it turns clockwise.
        while hull.len() >= 2 {
            let (a, b) = (hull[hull.len() - 2], hull[hull.len() - 1]);
            let cross = (b.0 as i128 - a.0 as i128) * (p.1 as i128 - a.1 as i128)
                - (b.1 as i128 - a.1 as i128) * (p.0 as i128 - a.0 as i128);
            if cross >= 0 {
                hull.pop();
            } else {
                break;
            }
        }
        hull.push(p);
    }
    hull
}

/// EMPC of `score` (higher = more likely churned) against `y` (1 / `true` = churned), computed on
/// the ROC convex hull in closed form (see the module docs for the formulas).
///
/// # Errors
/// As [`crate::roc_auc`] (lengths, empty, labels, a single class, non-finite scores), plus
/// [`EvalError::InvalidParameter`] from [`EmpcParams::check`].
///
/// # Example
/// ```
/// use retain_eval::{EmpcParams, empc};
/// let m = empc(&[1u8, 0, 1, 0], &[0.9, 0.8, 0.3, 0.1], &EmpcParams::default()).unwrap();
/// assert!((m.empc - 25.250395612245).abs() < 1e-9); // empulse 0.13.1 empc_score
/// ```
pub fn empc<L: Label>(y: &[L], score: &[f64], params: &EmpcParams) -> Result<Empc, EvalError> {
    params.check()?;
    check_len("score", y.len(), score.len())?;
    let labels = labels_to_bool(y)?;
    check_finite("score", score)?;
    Ok(empc_bool(&labels, score, params))
}

fn empc_bool(y: &[bool], score: &[f64], p: &EmpcParams) -> Empc {
    let n = y.len() as f64;
    let hull = roc_hull_counts(y, score);
    let (d, f, clv) = (p.incentive, p.contact_cost, p.clv);
    let mean = p.mean_acceptance();
    // Regularized incomplete beta of the density and of gamma * density, on [0, 1].
    let cdf = |g: f64| {
        if g <= 0.0 {
            0.0
        } else if g >= 1.0 {
            1.0
        } else {
            beta_reg(p.alpha, p.beta, g)
        }
    };
    let cdf1 = |g: f64| {
        if g <= 0.0 {
            0.0
        } else if g >= 1.0 {
            1.0
        } else {
            beta_reg(p.alpha + 1.0, p.beta, g)
        }
    };
    let (mut total, mut fraction) = (0.0, 0.0);
    let mut lo = 0.0_f64;
    for (i, &(fp, tp)) in hull.iter().enumerate() {
        // Upper end of the gamma range where hull point i is optimal (eq. 15, in counts:
        // pi1 dr1 / (pi0 dr0) = dfp / dtp; multiplied through by CLV).
        let hi = match hull.get(i + 1) {
            Some(&(fp2, tp2)) if tp2 > tp => {
                ((d + f) * (fp2 - fp) as f64 / (tp2 - tp) as f64 + f) / (clv - d)
            }
            _ => f64::INFINITY,
        };
        let (a, b) = (lo.clamp(0.0, 1.0), hi.clamp(0.0, 1.0));
        if b > a {
            let (r_tp, r_fp) = (tp as f64 / n, fp as f64 / n);
            let mass = cdf(b) - cdf(a);
            let first_moment = mean * (cdf1(b) - cdf1(a));
            // int (gamma (CLV - d) - f) pi0 F0 - (d + f) pi1 F1 over the segment.
            total += (clv - d) * r_tp * first_moment - (f * r_tp + (d + f) * r_fp) * mass;
            fraction += (r_tp + r_fp) * mass;
        }
        lo = lo.max(hi);
    }
    Empc {
        empc: total,
        fraction_targeted: fraction,
    }
}

/// Expected campaign profit with each client's own CLV, at the EMPC's optimal fraction.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct IndividualProfit {
    /// The EMPC's expected optimal fraction (computed with the scalar `params.clv`).
    pub fraction_targeted: f64,
    /// Clients targeted: `round(fraction_targeted * n)`, the top ones by score desc, id asc.
    pub n_targeted: usize,
    /// Expected profit of that campaign per client of the base.
    pub profit_per_client: f64,
    /// Expected profit of that campaign in total (`profit_per_client * n`).
    pub total_profit: f64,
}

/// Expected profit of targeting the EMPC's optimal fraction when each client has its own CLV.
///
/// Definition used here (an extension of the paper, which assumes one CLV for all clients):
///
/// 1. `eta` = [`Empc::fraction_targeted`] of [`empc()`] with the scalar `params.clv` (e.g. the mean
///    CLV); `k = round(eta n)` (half away from zero).
/// 2. The campaign targets the first `k` clients by score descending, ties by id ascending.
/// 3. Its expected profit per client of the base is
///    `(1/n) sum_{j in top k} [ y_j (gamma_bar (CLV_j - d) - f) - (1 - y_j) (d + f) ]`,
///    with `gamma_bar = alpha / (alpha + beta)`. The profit is linear in gamma, so this is its
///    exact expectation under `Beta(alpha, beta)` for that fixed target set.
///
/// With every `CLV_j = params.clv` this is the expected profit of the fixed campaign of size
/// `k`, which is at most the EMPC (the EMPC re-optimizes the threshold for every gamma).
///
/// # Errors
/// As [`empc()`], plus [`EvalError::LengthMismatch`] / [`EvalError::NonFinite`] for `ids` and `clv`.
pub fn empc_individual<L: Label>(
    y: &[L],
    score: &[f64],
    ids: &[i64],
    clv: &[f64],
    params: &EmpcParams,
) -> Result<IndividualProfit, EvalError> {
    params.check()?;
    check_len("score", y.len(), score.len())?;
    check_len("ids", y.len(), ids.len())?;
    check_len("clv", y.len(), clv.len())?;
    let labels = labels_to_bool(y)?;
    check_finite("score", score)?;
    check_finite("clv", clv)?;
    let eta = empc_bool(&labels, score, params).fraction_targeted;
    let n = labels.len();
    let k = ((eta * n as f64).round() as usize).min(n);
    let (d, f, g) = (
        params.incentive,
        params.contact_cost,
        params.mean_acceptance(),
    );
    let total: f64 = order_desc(score, ids)[..k]
        .iter()
        .map(|&j| {
            if labels[j] {
                g * (clv[j] - d) - f
            } else {
                -(d + f)
            }
        })
        .sum();
    Ok(IndividualProfit {
        fraction_targeted: eta,
        n_targeted: k,
        profit_per_client: total / n as f64,
        total_profit: total,
    })
}
