//! The Qini curve and coefficient of an uplift model (Radcliffe 2007, "Using control groups
//! to target on predicted lift").
//!
//! Clients of a randomised campaign are either treated (contacted) or control (held out);
//! `outcome` is the good outcome the campaign wants (here: the client stayed, i.e. bought in
//! the horizon). Rank everyone by predicted uplift, highest first (ties by position, so the
//! caller's order decides: pass rows in a fixed order). After the first `k`:
//!
//! `Q(k) = R_T(k) - R_C(k) * N_T(k) / N_C(k)`
//!
//! with `R_T(k)`, `R_C(k)` the good outcomes and `N_T(k)`, `N_C(k)` the clients among the
//! treated and the control clients of the first `k` (`Q = R_T` while `N_C(k) = 0`): the
//! incremental good outcomes of treating the top `k`, measured against the control clients
//! ranked alongside them. A random ranking gives the straight line from `(0, 0)` to
//! `(n, Q(n))`. The **Qini coefficient** here is the area between the model's curve and
//! that line, as a share of the population on both axes (curve `Q(k) / n` against `k / n`,
//! trapezoids): positive when the model ranks the persuadable first, 0 for a random
//! ranking, negative when it ranks them last.

use crate::error::EvalError;

/// A Qini curve and its coefficient.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Qini {
    /// `(share targeted, Q / n)` at up to 101 evenly spaced shares (0 and 1 included).
    pub curve: Vec<(f64, f64)>,
    /// Area between the curve and the random line (see the module docs).
    pub coefficient: f64,
    /// `Q(n) / n`: the overall incremental rate of treating everyone (the average effect
    /// weighted by the treated share).
    pub overall: f64,
    /// Treated clients.
    pub treated: usize,
    /// Control clients.
    pub control: usize,
}

/// The Qini curve of `uplift` (predicted, higher = more persuadable) given who was treated
/// and who had the good outcome.
pub fn qini(uplift: &[f64], treated: &[bool], outcome: &[bool]) -> Result<Qini, EvalError> {
    let n = uplift.len();
    for (what, len) in [("treated", treated.len()), ("outcome", outcome.len())] {
        if len != n {
            return Err(EvalError::LengthMismatch {
                what,
                expected: n,
                got: len,
            });
        }
    }
    if n == 0 {
        return Err(EvalError::Empty);
    }
    if let Some(i) = uplift.iter().position(|v| !v.is_finite()) {
        return Err(EvalError::NonFinite {
            what: "uplift",
            index: i,
            value: uplift[i],
        });
    }
    let nt = treated.iter().filter(|&&t| t).count();
    if nt == 0 || nt == n {
        return Err(EvalError::SingleClass {
            churned: nt == n,
            n,
        });
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| uplift[b].total_cmp(&uplift[a]).then(a.cmp(&b)));
    let mut q = Vec::with_capacity(n + 1);
    q.push(0.0);
    let (mut rt, mut rc, mut ct, mut cc) = (0.0, 0.0, 0.0, 0.0);
    for &i in &order {
        if treated[i] {
            ct += 1.0;
            rt += f64::from(u8::from(outcome[i]));
        } else {
            cc += 1.0;
            rc += f64::from(u8::from(outcome[i]));
        }
        q.push(if cc > 0.0 { rt - rc * ct / cc } else { rt });
    }
    let nf = n as f64;
    let end = q[n];
    let mut area = 0.0;
    for k in 1..=n {
        let random = |j: usize| end * j as f64 / nf;
        let d0 = q[k - 1] - random(k - 1);
        let d1 = q[k] - random(k);
        area += (d0 + d1) / 2.0;
    }
    let coefficient = area / (nf * nf);
    let curve = (0..=100)
        .map(|p| {
            let k = (p * n).div_ceil(100).min(n);
            (k as f64 / nf, q[k] / nf)
        })
        .collect();
    Ok(Qini {
        curve,
        coefficient,
        overall: end / nf,
        treated: nt,
        control: n - nt,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_worked_curve() {
        // Ranked: T good, C bad, T bad, C good.
        // k=1: R_T=1, N_C=0 -> Q=1; k=2: R_T=1, R_C=0, N_T=1, N_C=1 -> 1;
        // k=3: R_T=1, N_T=2, R_C=0 -> 1; k=4: R_T=1, R_C=1, N_T=2, N_C=2 -> 0.
        let up = [0.9, 0.5, 0.3, 0.1];
        let t = [true, false, true, false];
        let y = [true, false, false, true];
        let q = qini(&up, &t, &y).unwrap();
        assert_eq!(q.overall, 0.0);
        // area of (0,1,1,1,0) against the zero line by trapezoids: 0.5 + 1 + 1 + 0.5 = 3
        assert!((q.coefficient - 3.0 / 16.0).abs() < 1e-15);
        // the reverse ranking is below the random line
        let rev: Vec<f64> = up.iter().map(|v| -v).collect();
        assert!(qini(&rev, &t, &y).unwrap().coefficient < 0.0);
    }

    #[test]
    fn refuses_bad_inputs() {
        assert!(qini(&[], &[], &[]).is_err());
        assert!(qini(&[1.0], &[true, false], &[true]).is_err());
        assert!(qini(&[1.0, 2.0], &[true, true], &[true, false]).is_err());
        assert!(qini(&[f64::NAN, 2.0], &[true, false], &[true, false]).is_err());
    }
}
