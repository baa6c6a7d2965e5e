//! Special functions: the Gauss hypergeometric function 2F1 and log-space helpers.

use statrs::function::gamma::ln_gamma;
use std::f64::consts::PI;

/// `ln(exp(a) + exp(b))` without overflow; `-inf` terms are allowed.
pub fn log_add_exp(a: f64, b: f64) -> f64 {
    let m = a.max(b);
    if m == f64::NEG_INFINITY {
        return m;
    }
    m + ((a - m).exp() + (b - m).exp()).ln()
}

/// `ln(exp(a) - exp(b))` for `a >= b`; `-inf` when the difference is not positive.
pub fn log_sub_exp(a: f64, b: f64) -> f64 {
    if b == f64::NEG_INFINITY {
        return a;
    }
    if b >= a {
        return f64::NEG_INFINITY;
    }
    a + (-(b - a).exp()).ln_1p()
}

/// `ln B(a, b)` for positive arguments.
pub fn ln_beta(a: f64, b: f64) -> f64 {
    ln_gamma(a) + ln_gamma(b) - ln_gamma(a + b)
}

/// `(ln |Gamma(x)|, sign of Gamma(x))`; `None` at the poles `x = 0, -1, -2, ...`.
fn ln_gamma_signed(x: f64) -> Option<(f64, f64)> {
    if x > 0.0 {
        return Some((ln_gamma(x), 1.0));
    }
    if x == x.floor() {
        return None;
    }
    // Reflection: Gamma(x) = pi / (sin(pi x) Gamma(1 - x)).
    let s = (PI * x).sin();
    Some((PI.ln() - s.abs().ln() - ln_gamma(1.0 - x), s.signum()))
}

fn is_nonpositive_integer(v: f64) -> bool {
    v <= 0.0 && v == v.floor()
}

/// Sums the hypergeometric series with the term-ratio recurrence
/// `t_{k+1} = t_k (a+k)(b+k) / ((c+k)(k+1)) z`; `None` if it has not converged after
/// `max_terms` terms.
fn series(a: f64, b: f64, c: f64, z: f64, max_terms: usize) -> Option<f64> {
    let mut term = 1.0;
    let mut sum = 1.0;
    for k in 0..max_terms {
        let kf = k as f64;
        term *= (a + kf) * (b + kf) / ((c + kf) * (kf + 1.0)) * z;
        sum += term;
        if term == 0.0 {
            return Some(sum);
        }
        if !sum.is_finite() {
            return None;
        }
        let k1 = kf + 1.0;
        let next = ((a + k1) * (b + k1) / ((c + k1) * (k1 + 1.0)) * z).abs();
        if next < 1.0 && term.abs() * next / (1.0 - next) <= 1e-17 * sum.abs() {
            return Some(sum);
        }
    }
    None
}

/// Whether [`series`] with `max_terms` terms certainly returns `None` for `0 < z < 1` and
/// positive `a`, `b`, `c` with `b <= c` (so the terms fall from 1 monotonically when `a <= 1`):
/// the last term, `t_K = Gamma(a+K) Gamma(b+K) Gamma(c) / (Gamma(a) Gamma(b) Gamma(c+K) K!) z^K`,
/// is above `1e-17` times the largest sum `K + 1` terms can reach, with a term ratio of at
/// least one half there, so the stopping rule holds at no term. Only a shortcut: `false` means
/// "try it".
fn series_cannot_converge(a: f64, b: f64, c: f64, z: f64, max_terms: usize) -> bool {
    if !(a > 0.0 && a <= 1.0 && b > 0.0 && c >= b && z > 0.0 && z < 1.0) {
        return false;
    }
    let k = max_terms as f64;
    let next = (a + k) * (b + k) / ((c + k) * (k + 1.0)) * z;
    let ln_last = ln_gamma(a + k) + ln_gamma(b + k) + ln_gamma(c)
        - ln_gamma(a)
        - ln_gamma(b)
        - ln_gamma(c + k)
        - ln_gamma(k + 1.0)
        + k * z.ln();
    next >= 0.5 && ln_last > (1e-17 * (k + 1.0)).ln() + 1.0
}

/// `Gamma(c) Gamma(m) / (Gamma(u) Gamma(v))` with signs; zero when `u` or `v` is a pole.
fn gamma_ratio(c: f64, m: f64, u: f64, v: f64) -> Option<f64> {
    if is_nonpositive_integer(u) || is_nonpositive_integer(v) {
        return Some(0.0);
    }
    let (lc, sc) = ln_gamma_signed(c)?;
    let (lm, sm) = ln_gamma_signed(m)?;
    let (lu, su) = ln_gamma_signed(u)?;
    let (lv, sv) = ln_gamma_signed(v)?;
    Some(sc * sm * su * sv * (lc + lm - lu - lv).exp())
}

/// Abramowitz & Stegun 15.3.6: the linear transformation `z -> 1 - z`, valid when `c - a - b`
/// is not an integer.
fn connection(a: f64, b: f64, c: f64, z: f64) -> Option<f64> {
    let m = c - a - b;
    let w = 1.0 - z;
    let g1 = gamma_ratio(c, m, c - a, c - b)?;
    let g2 = gamma_ratio(c, -m, a, b)?;
    let f1 = if g1 == 0.0 {
        0.0
    } else {
        series(a, b, 1.0 - m, w, 100_000)?
    };
    let f2 = if g2 == 0.0 {
        0.0
    } else {
        series(c - a, c - b, 1.0 + m, w, 100_000)?
    };
    let v = g1 * f1 + w.powf(m) * g2 * f2;
    v.is_finite().then_some(v)
}

/// 2F1 for `0 <= z < 1`.
fn hyp2f1_unit(a: f64, b: f64, c: f64, z: f64) -> f64 {
    if z <= 0.75 {
        return series(a, b, c, z, 200_000).unwrap_or(f64::NAN);
    }
    // Up to z ~ 0.98 the direct series converges in a few thousand terms. Beyond, it is
    // skipped when it certainly cannot (the same value as trying it, without the terms).
    if !series_cannot_converge(a, b, c, z, 3_000)
        && let Some(v) = series(a, b, c, z, 3_000)
    {
        return v;
    }
    let m = c - a - b;
    let frac = (m - m.round()).abs();
    let conn = if frac < 1e-4 {
        // c - a - b (nearly) an integer: the two terms of 15.3.6 have poles that cancel.
        // 2F1 is analytic in c, so average the values at c +- delta (error O(delta^2)) and
        // cancel the delta^2 term by Richardson extrapolation with c +- 2 delta.
        let delta = 2e-4;
        let avg = |d: f64| match (connection(a, b, c + d, z), connection(a, b, c - d, z)) {
            (Some(u), Some(v)) => Some(0.5 * (u + v)),
            _ => None,
        };
        match (avg(delta), avg(2.0 * delta)) {
            (Some(u), Some(v)) => Some((4.0 * u - v) / 3.0),
            _ => None,
        }
    } else {
        connection(a, b, c, z)
    };
    conn.or_else(|| series(a, b, c, z, 5_000_000))
        .unwrap_or(f64::NAN)
}

/// The Gauss hypergeometric function `2F1(a, b; c; z)` for real arguments and `z <= 1`.
///
/// * `0 <= z <= 0.75`: the power series, summed with the term-ratio recurrence.
/// * `0.75 < z < 1`: the series if it converges within a few thousand terms, else the
///   `z -> 1 - z` transformation (Abramowitz & Stegun 15.3.6), with the integer `c - a - b` case
///   handled by averaging over `c +- delta`.
/// * `z < 0`: Pfaff's transformation `2F1(a,b;c;z) = (1-z)^-a 2F1(a, c-b; c; z/(z-1))`, which
///   maps `z` into `(0, 1)`.
/// * `z = 1`: Gauss's sum when `c - a - b > 0`.
///
/// Euler's transformation `2F1(a,b;c;z) = (1-z)^(c-a-b) 2F1(c-a, c-b; c; z)` is applied by the
/// callers (the models) where it turns a growing series into a decaying one. Returns NaN when
/// the value is undefined (`c` a non-positive integer, `z > 1`) or cannot be computed.
pub fn hyp2f1(a: f64, b: f64, c: f64, z: f64) -> f64 {
    if !(a.is_finite() && b.is_finite() && c.is_finite() && z.is_finite()) {
        return f64::NAN;
    }
    if z == 0.0 {
        return 1.0;
    }
    if is_nonpositive_integer(a) || is_nonpositive_integer(b) {
        // A polynomial: the series terminates. (Checked before the pole in c.)
        return series(a, b, c, z, 1_000_000).unwrap_or(f64::NAN);
    }
    if is_nonpositive_integer(c) || z > 1.0 {
        return f64::NAN;
    }
    if z == 1.0 {
        let m = c - a - b;
        if m <= 0.0 {
            return f64::NAN;
        }
        return gamma_ratio(c, m, c - a, c - b).unwrap_or(f64::NAN);
    }
    if z < 0.0 {
        let w = z / (z - 1.0);
        return (1.0 - z).powf(-a) * hyp2f1_unit(a, c - b, c, w);
    }
    hyp2f1_unit(a, b, c, z)
}

/// Nodes and weights of the 20-point Gauss-Legendre rule on `[-1, 1]` (positive half).
const GL20: [(f64, f64); 10] = [
    (0.076_526_521_133_497_33, 0.152_753_387_130_725_85),
    (0.227_785_851_141_645_08, 0.149_172_986_472_603_75),
    (0.373_706_088_715_419_56, 0.142_096_109_318_382_05),
    (0.510_867_001_950_827_1, 0.131_688_638_449_176_63),
    (0.636_053_680_726_515, 0.118_194_531_961_518_42),
    (0.746_331_906_460_150_8, 0.101_930_119_817_240_44),
    (0.839_116_971_822_218_8, 0.083_276_741_576_704_75),
    (0.912_234_428_251_326, 0.062_672_048_334_109_06),
    (0.963_971_927_277_913_8, 0.040_601_429_800_386_94),
    (0.993_128_599_185_094_9, 0.017_614_007_139_152_12),
];

/// `int_lo^hi f(u) du` by composite 20-point Gauss-Legendre on `panels` equal panels.
pub(crate) fn integrate(f: impl Fn(f64) -> f64, lo: f64, hi: f64, panels: usize) -> f64 {
    let h = (hi - lo) / panels as f64;
    let mut total = 0.0;
    for p in 0..panels {
        let mid = lo + (p as f64 + 0.5) * h;
        let half = 0.5 * h;
        for &(x, w) in &GL20 {
            total += w * half * (f(mid - half * x) + f(mid + half * x));
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shortcut never skips a series that would have converged: over a grid of the
    /// Pareto/NBD's arguments (`a = 1`, `b <= c`, `z` in (0.75, 1)), wherever it says the
    /// series cannot converge in 3,000 terms, the series indeed does not; and it does skip
    /// near `z = 1`, where the terms fall slowest.
    #[test]
    fn the_series_shortcut_skips_only_series_that_fail() {
        let mut skipped = 0;
        for b in [0.05, 0.5, 1.0, 1.6, 3.0, 12.0, 80.0, 400.0, 3000.0] {
            for extra in [0.01, 0.3, 1.0, 2.5, 20.0, 300.0] {
                let c = b + extra;
                // finely around the edge (z^3000 near 1e-17 at z ~ 0.987), and beyond
                let edge = (0..300).map(|i| 0.975 + 0.0001 * f64::from(i));
                for z in edge.chain([0.76, 0.9, 0.999, 0.9999, 0.999_999]) {
                    if series_cannot_converge(1.0, b, c, z, 3_000) {
                        skipped += 1;
                        assert!(
                            series(1.0, b, c, z, 3_000).is_none(),
                            "skipped a series that converges: b={b} c={c} z={z}"
                        );
                    }
                }
            }
        }
        assert!(skipped > 50, "only {skipped} skipped");
    }

    fn close(got: f64, want: f64, rel: f64) {
        assert!(
            (got - want).abs() <= rel * want.abs().max(1e-300),
            "got {got}, want {want}"
        );
    }

    #[test]
    fn log_one_plus() {
        // 2F1(1,1;2;z) = -ln(1-z)/z, c - a - b = 0 (integer case).
        for z in [
            0.1, 0.5, 0.75, 0.9, 0.99, 0.999_9, 0.999_999, -0.5, -0.99, -10.0, -1e4,
        ] {
            close(hyp2f1(1.0, 1.0, 2.0, z), -(-z).ln_1p() / z, 1e-9);
        }
    }

    #[test]
    fn power_and_trig_identities() {
        for z in [0.3, 0.8, 0.97, 0.995, -3.0] {
            // 2F1(a, b; b; z) = (1 - z)^-a
            close(hyp2f1(0.7, 2.3, 2.3, z), (1.0 - z).powf(-0.7), 1e-9);
        }
        for x in [0.2_f64, 0.6, 0.9, 0.99] {
            // 2F1(1/2, 1/2; 3/2; x^2) = asin(x)/x (c - a - b = 1/2)
            close(hyp2f1(0.5, 0.5, 1.5, x * x), x.asin() / x, 1e-10);
        }
        for x in [0.5_f64, 3.0, 30.0] {
            // 2F1(1/2, 1; 3/2; -x^2) = atan(x)/x
            close(hyp2f1(0.5, 1.0, 1.5, -x * x), x.atan() / x, 1e-10);
        }
        // Gauss's sum: 2F1(a,b;c;1) = Gamma(c)Gamma(c-a-b)/(Gamma(c-a)Gamma(c-b)).
        let want = (ln_gamma(3.5) + ln_gamma(1.2) - ln_gamma(2.6) - ln_gamma(2.1)).exp();
        close(hyp2f1(0.9, 1.4, 3.5, 1.0), want, 1e-12);
        // Near z = 1 with non-integer c-a-b, compare with Gauss's sum limit trend.
        close(hyp2f1(0.9, 1.4, 3.5, 1.0 - 1e-12), want, 1e-6);
        // Polynomial case: 2F1(-2, b; c; z) = 1 - 2bz/c + b(b+1)z^2/(c(c+1)).
        let (b, c, z) = (1.5, 2.5, -4.0);
        close(
            hyp2f1(-2.0, b, c, z),
            1.0 - 2.0 * b * z / c + b * (b + 1.0) * z * z / (c * (c + 1.0)),
            1e-13,
        );
        // Incomplete-beta form: 2F1(a, 1-b; a+1; z) = a z^-a B_z(a, b); with a = 1:
        // 2F1(1, 1-b; 2; z) = (1 - (1-z)^b) / (b z).
        for z in [0.4, 0.9, 0.9999, -7.0] {
            let b = 2.7;
            close(
                hyp2f1(1.0, 1.0 - b, 2.0, z),
                (1.0 - (1.0 - z).powf(b)) / (b * z),
                1e-9,
            );
        }
    }

    #[test]
    fn pareto_shapes_near_one() {
        // 2F1(1, b; c; z) with the Pareto/NBD parameters, against numerical integration of the
        // Euler integral (c - 1) int_0^1 (1-t)^(c-2) (1 - z t)^-b dt with c = b + s + 1.
        for (b, s) in [(2.5, 0.6), (40.0, 1.0), (0.3, 3.0)] {
            let c = b + s + 1.0;
            for z in [0.5, 0.95, 0.995] {
                let f = |t: f64| (c - 1.0) * (1.0 - t).powf(c - 2.0) * (1.0 - z * t).powf(-b);
                let num = integrate(f, 0.0, 1.0, 400);
                close(hyp2f1(1.0, b, c, z), num, 1e-6);
            }
        }
    }

    #[test]
    fn log_helpers() {
        close(log_add_exp(1.0, 2.0), (1f64.exp() + 2f64.exp()).ln(), 1e-15);
        assert_eq!(log_add_exp(f64::NEG_INFINITY, 3.0), 3.0);
        close(log_sub_exp(2.0, 1.0), (2f64.exp() - 1f64.exp()).ln(), 1e-14);
        assert_eq!(log_sub_exp(1.0, 1.0), f64::NEG_INFINITY);
        assert!(log_add_exp(1000.0, 1000.0).is_finite());
    }
}
