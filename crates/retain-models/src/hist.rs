//! Feature binning shared by retain's histogram trees (decision tree, random forest,
//! gradient boosting).
//!
//! Each feature is cut into at most `nbins` (at most 256) bins at midpoints between
//! distinct training values, or at quantiles of the training rows when there are more
//! than `nbins` distinct values ([`feature_edges`]). A bin is a `u8`, and `bin(x) <= b` iff `x <= edges[b]`, so a split
//! "bin <= b" is the raw-value rule `x <= edges[b]` and stays exact on new data.

use ndarray::ArrayView2;

/// Bin edges of one feature: `bin(x)` = number of edges `< x`, so `bin(x) <= b` iff
/// `x <= edges[b]`.
///
/// With at most `nbins` distinct values, one edge at the midpoint between each pair of
/// neighbouring values (every split a tree could make). With more, edges at the data's
/// quantiles: after row `k * n / nbins - 1` of the sorted column (`k = 1..nbins`), at the
/// midpoint between that row's value and the next larger value, without duplicates. Ties
/// never straddle an edge, and a heavily repeated value gets one bin of its own instead
/// of pulling neighbouring edges apart.
pub(crate) fn feature_edges(column: impl Iterator<Item = f64>, nbins: usize) -> Vec<f64> {
    let mut v: Vec<f64> = column.collect();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    let mut distinct = v.clone();
    distinct.dedup();
    let mid = |a: f64, b: f64| a + (b - a) / 2.0;
    if distinct.len() <= nbins {
        return distinct.windows(2).map(|w| mid(w[0], w[1])).collect();
    }
    let mut edges = Vec::with_capacity(nbins - 1);
    for k in 1..nbins {
        let a = v[k * n / nbins - 1];
        let next = v.partition_point(|&x| x <= a);
        if next < n {
            edges.push(mid(a, v[next]));
        }
    }
    edges.dedup();
    edges
}

/// The bin of `x` (at most 255 edges, so the count fits in a `u8`).
#[inline]
pub(crate) fn bin_of(edges: &[f64], x: f64) -> u8 {
    edges.partition_point(|&e| e < x) as u8
}

/// Rows of `x` binned with `edges`, row-major (`n x p` bytes).
pub(crate) fn bin_rows(x: ArrayView2<f64>, edges: &[Vec<f64>]) -> Vec<u8> {
    let mut out = Vec::with_capacity(x.len());
    for row in x.rows() {
        out.extend(row.iter().zip(edges).map(|(&v, e)| bin_of(e, v)));
    }
    out
}

/// A training matrix binned once: edges per feature, and the bins both column-major (to
/// partition a node's rows on one feature) and row-major (to histogram a node's rows over
/// every feature in one pass).
pub(crate) struct Binned {
    /// Bin edges per feature (`nbins[f] = edges[f].len() + 1`).
    pub edges: Vec<Vec<f64>>,
    /// Bins per feature.
    pub nbins: Vec<usize>,
    /// `cols[f][i]`: bin of row `i`, feature `f`.
    pub cols: Vec<Vec<u8>>,
    /// `rows[i * p + f]`: the same, row-major.
    pub rows: Vec<u8>,
}

impl Binned {
    /// Bins every column of `x` into at most `nbins` (`<= 256`) bins.
    pub fn new(x: ArrayView2<f64>, nbins: usize) -> Self {
        debug_assert!((2..=256).contains(&nbins));
        let edges: Vec<Vec<f64>> = x
            .columns()
            .into_iter()
            .map(|c| feature_edges(c.iter().copied(), nbins))
            .collect();
        let cols: Vec<Vec<u8>> = x
            .columns()
            .into_iter()
            .zip(&edges)
            .map(|(c, e)| c.iter().map(|&v| bin_of(e, v)).collect())
            .collect();
        let n = x.nrows();
        let mut rows = vec![0u8; n * cols.len()];
        for (f, c) in cols.iter().enumerate() {
            for (i, &b) in c.iter().enumerate() {
                rows[i * cols.len() + f] = b;
            }
        }
        Self {
            nbins: edges.iter().map(|e| e.len() + 1).collect(),
            edges,
            cols,
            rows,
        }
    }

    /// Number of features.
    pub fn n_features(&self) -> usize {
        self.cols.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edges_split_distinct_values_and_quantiles() {
        assert_eq!(
            feature_edges([3.0, 1.0, 2.0, 2.0].into_iter(), 256),
            vec![1.5, 2.5]
        );
        assert!(feature_edges([5.0, 5.0].into_iter(), 256).is_empty());
        let e = feature_edges((0..1000).map(f64::from), 4);
        assert_eq!(e, vec![249.5, 499.5, 749.5]);
        // Quantiles of the rows, not of the distinct values: half the rows are 0, so the
        // first two quantiles fall on 0 and give one edge.
        let skewed = (0..1000).map(|i| if i < 500 { 0.0 } else { f64::from(i) });
        assert_eq!(feature_edges(skewed, 4), vec![250.0, 749.5]);
        assert_eq!(bin_of(&e, 249.5), 0);
        assert_eq!(bin_of(&e, 250.0), 1);
        assert_eq!(bin_of(&e, 1e9), 3);
    }

    #[test]
    fn both_layouts_agree() {
        let x = ndarray::Array2::from_shape_fn((50, 3), |(i, j)| ((i * (j + 7)) % 13) as f64);
        let b = Binned::new(x.view(), 4);
        assert_eq!(b.n_features(), 3);
        assert!(b.nbins.iter().all(|&k| k <= 4));
        assert_eq!(bin_rows(x.view(), &b.edges), b.rows);
        for f in 0..3 {
            for i in 0..50 {
                assert_eq!(b.cols[f][i], b.rows[i * 3 + f]);
                assert!(
                    x[[i, f]]
                        <= b.edges[f]
                            .get(usize::from(b.cols[f][i]))
                            .copied()
                            .unwrap_or(f64::INFINITY)
                );
            }
        }
    }
}
