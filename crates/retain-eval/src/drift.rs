//! Population stability: how far today's distribution of a feature (or a score) has moved from
//! the one a model was trained on.
//!
//! The reference is cut into up to ten quantile bins ([`reference_bins`]); today's values are
//! counted in the same bins and compared by the population stability index
//! `PSI = sum_k (a_k - e_k) ln(a_k / e_k)`, with `e_k` the reference share and `a_k` today's,
//! both floored at 1e-4 so an empty bin gives a large but finite term. Rules of thumb: below
//! 0.1 stable, 0.1-0.25 a moderate shift, above 0.25 a large one.

/// The floor of a bin's share in the PSI (keeps `ln(a/e)` finite).
pub const PSI_FLOOR: f64 = 1e-4;

/// Inner cut points of up to `bins` quantile bins of `values` (NaN ignored) and the share of
/// the values in each bin; bin `k` holds `(edges[k-1], edges[k]]`. Repeated quantiles merge,
/// so a feature with few distinct values gets one bin per value.
pub fn reference_bins(values: &[f64], bins: usize) -> (Vec<f64>, Vec<f64>) {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| !x.is_nan()).collect();
    if v.is_empty() || bins < 2 {
        return (Vec::new(), vec![1.0]);
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    let mut edges: Vec<f64> = Vec::with_capacity(bins - 1);
    for q in 1..bins {
        // the largest value of the q-th tenth: bin q holds (edge q-1, edge q]
        let e = v[(q * n / bins).saturating_sub(1).min(n - 1)];
        if e < v[n - 1] && edges.last().is_none_or(|&l| e > l) {
            edges.push(e);
        }
    }
    let shares = shares(&v, &edges);
    (edges, shares)
}

/// The share of `values` (NaN ignored) in each bin of `edges`.
pub fn shares(values: &[f64], edges: &[f64]) -> Vec<f64> {
    let mut counts = vec![0usize; edges.len() + 1];
    let mut n = 0usize;
    for &x in values {
        if x.is_nan() {
            continue;
        }
        counts[edges.partition_point(|&e| e < x)] += 1;
        n += 1;
    }
    counts.iter().map(|&c| c as f64 / n.max(1) as f64).collect()
}

/// The PSI of `values` against a reference's `edges` and `shares`.
pub fn psi(edges: &[f64], reference: &[f64], values: &[f64]) -> f64 {
    let actual = shares(values, edges);
    actual
        .iter()
        .zip(reference)
        .map(|(&a, &e)| {
            let (a, e) = (a.max(PSI_FLOOR), e.max(PSI_FLOOR));
            (a - e) * (a / e).ln()
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_distribution_is_stable_and_a_shift_is_not() {
        let reference: Vec<f64> = (0..1000).map(|i| i as f64).collect();
        let (edges, shares) = reference_bins(&reference, 10);
        assert_eq!(edges.len(), 9);
        assert!(shares.iter().all(|s| (s - 0.1).abs() < 1e-12), "{shares:?}");
        assert!(psi(&edges, &shares, &reference).abs() < 1e-12);
        // every value moved up by a third of the range
        let shifted: Vec<f64> = reference.iter().map(|v| v + 333.0).collect();
        assert!(psi(&edges, &shares, &shifted) > 0.25);
        // hand-worked: half the reference's bins hold all of today's values equally
        let (e2, s2) = (vec![0.5], vec![0.5, 0.5]);
        let today = [1.0, 1.0, 1.0, 1.0];
        // bin 0: a = 1e-4, e = 0.5; bin 1: a = 1, e = 0.5
        let want = (1e-4 - 0.5) * (1e-4f64 / 0.5).ln() + 0.5 * 2f64.ln();
        assert!((psi(&e2, &s2, &today) - want).abs() < 1e-12);
    }

    #[test]
    fn few_distinct_values_get_one_bin_each() {
        let v = [0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 0.0, 1.0];
        let (edges, shares) = reference_bins(&v, 10);
        assert_eq!(edges, vec![0.0]);
        assert_eq!(shares, vec![5.0 / 8.0, 3.0 / 8.0]);
        let constant = [3.0; 5];
        let (edges, shares) = reference_bins(&constant, 10);
        assert!(edges.is_empty());
        assert_eq!(shares, vec![1.0]);
    }
}
