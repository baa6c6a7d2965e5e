//! Closed-form moments of the models, used by the statistical tests only.

use crate::truth::{BgNbdTruth, ParetoNbdTruth};

/// Gauss hypergeometric 2F1(a, b; c; z) by its plain power series, for 0 <= z < 1.
pub(crate) fn hyp2f1(a: f64, b: f64, c: f64, z: f64) -> f64 {
    assert!((0.0..1.0).contains(&z), "series needs 0 <= z < 1, got {z}");
    let mut term = 1.0;
    let mut sum = 1.0;
    for n in 0..100_000 {
        let n = n as f64;
        term *= (a + n) * (b + n) / ((c + n) * (n + 1.0)) * z;
        sum += term;
        if term.abs() < 1e-15 * sum.abs() {
            return sum;
        }
    }
    panic!("2F1({a}, {b}; {c}; {z}) did not converge");
}

/// BG/NBD unconditional E[X(t)] (FHL 2005, eq. 9).
pub(crate) fn bgnbd_expected_x(m: &BgNbdTruth, t: f64) -> f64 {
    let z = t / (m.alpha + t);
    (m.a + m.b - 1.0) / (m.a - 1.0)
        * (1.0 - (m.alpha / (m.alpha + t)).powf(m.r) * hyp2f1(m.r, m.b, m.a + m.b - 1.0, z))
}

/// BG/NBD P(X(t) = 0) = (alpha / (alpha + t))^r (FHL 2005, eq. 8 with x = 0).
pub(crate) fn bgnbd_p_zero(m: &BgNbdTruth, t: f64) -> f64 {
    (m.alpha / (m.alpha + t)).powf(m.r)
}

/// Pareto/NBD unconditional E[X(t)] = r beta / (alpha (s - 1)) [1 - (beta / (beta + t))^(s - 1)]
/// (Schmittlein, Morrison & Colombo 1987; Fader & Hardie's note on the Pareto/NBD, eq. 17), s != 1.
pub(crate) fn pareto_expected_x(m: &ParetoNbdTruth, t: f64) -> f64 {
    m.r * m.beta / (m.alpha * (m.s - 1.0)) * (1.0 - (m.beta / (m.beta + t)).powf(m.s - 1.0))
}

/// Mean and standard error of the mean.
pub(crate) fn mean_se(v: impl IntoIterator<Item = f64>) -> (f64, f64) {
    let (mut n, mut s, mut s2) = (0.0, 0.0, 0.0);
    for x in v {
        n += 1.0;
        s += x;
        s2 += x * x;
    }
    let mean = s / n;
    let var = (s2 / n - mean * mean) * n / (n - 1.0);
    (mean, (var / n).sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hyp2f1_matches_closed_forms() {
        for z in [0.0_f64, 0.3, 0.9, 0.99] {
            // 2F1(1, 1; 2; z) = -ln(1 - z) / z
            let want = if z == 0.0 { 1.0 } else { -(1.0 - z).ln() / z };
            assert!((hyp2f1(1.0, 1.0, 2.0, z) - want).abs() < 1e-10, "z = {z}");
            // 2F1(a, b; b; z) = (1 - z)^-a
            assert!(
                (hyp2f1(0.7, 2.5, 2.5, z) - (1.0 - z).powf(-0.7)).abs() < 1e-9,
                "z = {z}"
            );
        }
    }

    #[test]
    fn expected_x_is_zero_at_zero_and_grows() {
        let m = BgNbdTruth::default();
        assert!(bgnbd_expected_x(&m, 0.0).abs() < 1e-12);
        let p = ParetoNbdTruth::default();
        let mut last = (0.0, 0.0);
        for t in [1.0, 10.0, 50.0, 100.0] {
            let now = (bgnbd_expected_x(&m, t), pareto_expected_x(&p, t));
            assert!(now.0 > last.0 && now.1 > last.1);
            last = now;
        }
        // Small t: E[X(t)] ~ t * r / alpha (no drop-out before the first repeat purchase).
        assert!((bgnbd_expected_x(&m, 1e-4) / (1e-4 * m.r / m.alpha) - 1.0).abs() < 1e-3);
    }
}
