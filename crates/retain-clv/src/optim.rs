//! A small bounded L-BFGS on log-parameters, multi-start driver and numerical Hessian.

// Dense small-matrix code reads best with explicit indices.
#![allow(clippy::needless_range_loop)]

use crate::error::{ClvError, DataSummary, Result};

/// Lower and upper bound of every log-parameter (parameters in `[e^-25, e^25]`).
pub(crate) const LOG_BOUND: f64 = 25.0;

/// A mean negative log-likelihood in log-parameters.
pub(crate) trait Objective {
    /// Mean NLL at `p` (log-parameters); `+inf` or NaN where undefined.
    fn value(&self, p: &[f64]) -> f64;

    /// Mean NLL and its gradient; central differences unless overridden.
    fn value_grad(&self, p: &[f64], g: &mut [f64]) -> f64 {
        numeric_grad(|q| self.value(q), p, g);
        self.value(p)
    }
}

pub(crate) fn numeric_grad(f: impl Fn(&[f64]) -> f64, p: &[f64], g: &mut [f64]) {
    let mut q = p.to_vec();
    for i in 0..p.len() {
        let h = 1e-5;
        q[i] = p[i] + h;
        let up = f(&q);
        q[i] = p[i] - h;
        let down = f(&q);
        q[i] = p[i];
        g[i] = (up - down) / (2.0 * h);
    }
}

/// Hyper-parameters of the optimiser, shared by every model.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FitSettings {
    /// Maximum L-BFGS iterations per starting point.
    pub max_iterations: usize,
    /// Convergence threshold on the largest gradient component of the mean NLL.
    pub gradient_tolerance: f64,
    /// Maximum number of starting points: the built-in starts are ranked by their likelihood and
    /// tried in turn until one converges to an interior optimum.
    pub n_starts: usize,
}

impl Default for FitSettings {
    fn default() -> Self {
        Self {
            max_iterations: 1000,
            gradient_tolerance: 1e-7,
            n_starts: 3,
        }
    }
}

impl FitSettings {
    pub(crate) fn check(&self) -> Result<()> {
        if self.max_iterations == 0 {
            return Err(ClvError::InvalidParams(
                "max_iterations must be >= 1".into(),
            ));
        }
        if !(self.gradient_tolerance.is_finite() && self.gradient_tolerance > 0.0) {
            return Err(ClvError::InvalidParams(format!(
                "gradient_tolerance must be finite and > 0, got {}",
                self.gradient_tolerance
            )));
        }
        if self.n_starts == 0 {
            return Err(ClvError::InvalidParams("n_starts must be >= 1".into()));
        }
        Ok(())
    }
}

/// Result of one optimisation.
#[derive(Debug, Clone)]
pub(crate) struct OptResult {
    pub x: Vec<f64>,
    pub f: f64,
    pub grad_inf: f64,
    pub iterations: usize,
}

fn clamp(p: &mut [f64]) {
    for v in p {
        *v = v.clamp(-LOG_BOUND, LOG_BOUND);
    }
}

fn projected_inf(x: &[f64], g: &[f64]) -> f64 {
    x.iter()
        .zip(g)
        .map(|(&xi, &gi)| {
            if (xi <= -LOG_BOUND && gi > 0.0) || (xi >= LOG_BOUND && gi < 0.0) {
                0.0
            } else {
                gi.abs()
            }
        })
        .fold(0.0, f64::max)
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// L-BFGS (memory 8) with a backtracking Armijo line search; steps are projected onto the box
/// `[-LOG_BOUND, LOG_BOUND]`, and NaN or infinite trial values are treated as rejections.
pub(crate) fn lbfgs(obj: &dyn Objective, x0: &[f64], settings: &FitSettings) -> Option<OptResult> {
    let n = x0.len();
    let mut x = x0.to_vec();
    clamp(&mut x);
    let mut g = vec![0.0; n];
    let mut f = obj.value_grad(&x, &mut g);
    if !f.is_finite() || g.iter().any(|v| !v.is_finite()) {
        return None;
    }
    let mem = 8;
    let mut s_hist: Vec<Vec<f64>> = Vec::new();
    let mut y_hist: Vec<Vec<f64>> = Vec::new();
    let mut small_steps = 0;
    let mut iterations = 0;
    let mut xn = vec![0.0; n];
    let mut gn = vec![0.0; n];
    while iterations < settings.max_iterations {
        if projected_inf(&x, &g) < settings.gradient_tolerance {
            break;
        }
        iterations += 1;
        // Two-loop recursion.
        let mut d: Vec<f64> = g.iter().map(|v| -v).collect();
        let k = s_hist.len();
        let mut alphas = vec![0.0; k];
        for i in (0..k).rev() {
            let rho = 1.0 / dot(&y_hist[i], &s_hist[i]);
            alphas[i] = rho * dot(&s_hist[i], &d);
            for j in 0..n {
                d[j] -= alphas[i] * y_hist[i][j];
            }
        }
        let gamma = if k > 0 {
            dot(&s_hist[k - 1], &y_hist[k - 1]) / dot(&y_hist[k - 1], &y_hist[k - 1])
        } else {
            1.0 / g.iter().map(|v| v.abs()).fold(0.0, f64::max).max(1.0)
        };
        for v in d.iter_mut() {
            *v *= gamma;
        }
        for i in 0..k {
            let rho = 1.0 / dot(&y_hist[i], &s_hist[i]);
            let beta = rho * dot(&y_hist[i], &d);
            for j in 0..n {
                d[j] += (alphas[i] - beta) * s_hist[i][j];
            }
        }
        if dot(&g, &d) >= 0.0 || d.iter().any(|v| !v.is_finite()) {
            // Not a descent direction: restart from steepest descent.
            s_hist.clear();
            y_hist.clear();
            let scale = 1.0 / g.iter().map(|v| v.abs()).fold(0.0, f64::max).max(1e-12);
            d = g.iter().map(|v| -v * scale.min(1.0)).collect();
        }
        // Cap the step so a log-parameter moves by at most 5 per iteration.
        let dmax = d.iter().map(|v| v.abs()).fold(0.0, f64::max);
        let mut step = if dmax > 5.0 { 5.0 / dmax } else { 1.0 };
        let mut fn_ = f64::INFINITY;
        let mut accepted = false;
        for _ in 0..60 {
            for j in 0..n {
                xn[j] = x[j] + step * d[j];
            }
            clamp(&mut xn);
            fn_ = obj.value_grad(&xn, &mut gn);
            let actual: f64 = (0..n).map(|j| g[j] * (xn[j] - x[j])).sum();
            if fn_.is_finite()
                && gn.iter().all(|v| v.is_finite())
                && fn_ <= f + 1e-4 * actual.min(0.0)
            {
                accepted = true;
                break;
            }
            step *= 0.5;
        }
        if !accepted {
            if s_hist.is_empty() {
                break;
            }
            s_hist.clear();
            y_hist.clear();
            continue;
        }
        let s: Vec<f64> = xn.iter().zip(&x).map(|(a, b)| a - b).collect();
        let y: Vec<f64> = gn.iter().zip(&g).map(|(a, b)| a - b).collect();
        let sy = dot(&s, &y);
        if sy > 1e-16 * dot(&y, &y).max(1e-300) && sy > 0.0 {
            s_hist.push(s);
            y_hist.push(y);
            if s_hist.len() > mem {
                s_hist.remove(0);
                y_hist.remove(0);
            }
        }
        let df = f - fn_;
        x.copy_from_slice(&xn);
        g.copy_from_slice(&gn);
        f = fn_;
        if df.abs() <= 1e-15 * f.abs().max(1.0) {
            small_steps += 1;
            if small_steps >= 5 {
                break;
            }
        } else {
            small_steps = 0;
        }
    }
    Some(OptResult {
        grad_inf: projected_inf(&x, &g),
        x,
        f,
        iterations,
    })
}

/// Ranks the first `settings.n_starts` of `starts` by their objective value and runs L-BFGS from
/// each in turn until one reaches an interior optimum with a small gradient (at most `1e-4` in
/// the mean NLL); the best result seen decides the error message when none does.
pub(crate) fn minimize(
    obj: &dyn Objective,
    starts: &[Vec<f64>],
    settings: &FitSettings,
    model: &'static str,
    summary: impl Fn() -> DataSummary,
) -> Result<OptResult> {
    let mut ranked: Vec<(f64, &Vec<f64>)> = starts
        .iter()
        .take(settings.n_starts.max(1))
        .map(|s| (obj.value(s), s))
        .map(|(f, s)| (if f.is_finite() { f } else { f64::INFINITY }, s))
        .collect();
    ranked.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut best: Option<OptResult> = None;
    for (_, s) in ranked {
        let Some(r) = lbfgs(obj, s, settings) else {
            continue;
        };
        if !r.f.is_finite() {
            continue;
        }
        let interior =
            r.x.iter()
                .all(|v| v.is_finite() && v.abs() < LOG_BOUND - 1e-9);
        if interior && r.grad_inf <= 1e-4 {
            return Ok(r);
        }
        if best.as_ref().is_none_or(|b| r.f < b.f) {
            best = Some(r);
        }
    }
    let Some(best) = best else {
        return Err(ClvError::NoConvergence {
            model,
            reason: "the likelihood is not finite at any starting point".into(),
            summary: summary(),
        });
    };
    if let Some(i) = best.x.iter().position(|v| v.abs() >= LOG_BOUND - 1e-9) {
        return Err(ClvError::NoConvergence {
            model,
            reason: format!(
                "parameter {i} ran to {} (the data do not identify the model: the optimum is at \
                 the boundary)",
                if best.x[i] > 0.0 { "+inf" } else { "0" }
            ),
            summary: summary(),
        });
    }
    Err(ClvError::NoConvergence {
        model,
        reason: format!(
            "gradient still {:.3e} after {} iterations",
            best.grad_inf, best.iterations
        ),
        summary: summary(),
    })
}

/// Hessian of `n * f` in log-parameters by central differences of the gradient, symmetrised.
pub(crate) fn hessian(obj: &dyn Objective, p: &[f64], n: f64) -> Vec<Vec<f64>> {
    let k = p.len();
    let h = 1e-4;
    let mut hm = vec![vec![0.0; k]; k];
    let mut q = p.to_vec();
    let mut gu = vec![0.0; k];
    let mut gd = vec![0.0; k];
    for i in 0..k {
        q[i] = p[i] + h;
        obj.value_grad(&q, &mut gu);
        q[i] = p[i] - h;
        obj.value_grad(&q, &mut gd);
        q[i] = p[i];
        for j in 0..k {
            hm[i][j] = n * (gu[j] - gd[j]) / (2.0 * h);
        }
    }
    for i in 0..k {
        for j in 0..i {
            let m = 0.5 * (hm[i][j] + hm[j][i]);
            hm[i][j] = m;
            hm[j][i] = m;
        }
    }
    hm
}

/// Inverse of a symmetric positive-definite matrix by Cholesky; `None` if not positive definite.
pub(crate) fn spd_inverse(a: &[Vec<f64>]) -> Option<Vec<Vec<f64>>> {
    let n = a.len();
    let mut l = vec![vec![0.0; n]; n];
    for i in 0..n {
        for j in 0..=i {
            let s: f64 = a[i][j] - (0..j).map(|k| l[i][k] * l[j][k]).sum::<f64>();
            if i == j {
                if s.is_nan() || s <= 0.0 || !s.is_finite() {
                    return None;
                }
                l[i][j] = s.sqrt();
            } else {
                l[i][j] = s / l[j][j];
            }
        }
    }
    // inverse of L, then L^-T L^-1
    let mut li = vec![vec![0.0; n]; n];
    for i in 0..n {
        li[i][i] = 1.0 / l[i][i];
        for j in 0..i {
            let s: f64 = (j..i).map(|k| l[i][k] * li[k][j]).sum();
            li[i][j] = -s / l[i][i];
        }
    }
    let mut inv = vec![vec![0.0; n]; n];
    for i in 0..n {
        for j in 0..n {
            inv[i][j] = (i.max(j)..n).map(|k| li[k][i] * li[k][j]).sum();
        }
    }
    Some(inv)
}

/// Standard errors of the parameters `exp(p)` by the delta method from the Hessian of the total
/// NLL in log-parameters: `se_i = theta_i * sqrt((H^-1)_ii)`. `None` if `H` is not positive
/// definite.
pub(crate) fn standard_errors(obj: &dyn Objective, p: &[f64], n: f64) -> Option<Vec<f64>> {
    let h = hessian(obj, p, n);
    let inv = spd_inverse(&h)?;
    let se: Vec<f64> = (0..p.len())
        .map(|i| p[i].exp() * inv[i][i].sqrt())
        .collect();
    se.iter().all(|v| v.is_finite()).then_some(se)
}

/// As [`standard_errors`], but a Hessian that is not positive definite is a fitting error: the
/// optimum is flat in some direction, so the data do not identify every parameter.
pub(crate) fn checked_standard_errors(
    obj: &dyn Objective,
    p: &[f64],
    n: f64,
    model: &'static str,
    summary: impl Fn() -> DataSummary,
) -> Result<Vec<f64>> {
    standard_errors(obj, p, n).ok_or_else(|| ClvError::NoConvergence {
        model,
        reason: "the Hessian at the optimum is not positive definite: the data do not identify \
                 every parameter (too few clients or too little repeat behaviour)"
            .into(),
        summary: summary(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Rosen;
    impl Objective for Rosen {
        fn value(&self, p: &[f64]) -> f64 {
            (1.0 - p[0]).powi(2) + 100.0 * (p[1] - p[0] * p[0]).powi(2)
        }
    }

    #[test]
    fn rosenbrock() {
        let r = lbfgs(&Rosen, &[-1.2, 1.0], &FitSettings::default()).expect("finite");
        assert!(
            (r.x[0] - 1.0).abs() < 1e-5 && (r.x[1] - 1.0).abs() < 1e-5,
            "{r:?}"
        );
    }

    #[test]
    fn inverse() {
        let a = vec![vec![4.0, 1.0], vec![1.0, 3.0]];
        let inv = spd_inverse(&a).expect("spd");
        let det = 11.0;
        assert!((inv[0][0] - 3.0 / det).abs() < 1e-14);
        assert!((inv[0][1] + 1.0 / det).abs() < 1e-14);
        assert!(spd_inverse(&[vec![1.0, 2.0], vec![2.0, 1.0]]).is_none());
    }
}
