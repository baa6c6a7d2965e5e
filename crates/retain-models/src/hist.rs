//! Feature binning shared by retain's histogram trees (decision tree, random forest,
//! gradient boosting).
//!
//! Each feature is cut into at most `nbins` (at most 256) bins at midpoints between
//! distinct training values, or at quantiles of the training rows when there are more
//! than `nbins` distinct values ([`feature_edges`]). A bin is a `u8`, and `bin(x) <= b` iff `x <= edges[b]`, so a split
//! "bin <= b" is the raw-value rule `x <= edges[b]` and stays exact on new data.

use ndarray::ArrayView2;
use rayon::prelude::*;

/// Bin edges of one feature: `bin(x)` = number of edges `< x`, so `bin(x) <= b` iff
/// `x <= edges[b]`.
///
/// With at most `nbins` distinct values, one edge at the midpoint between each pair of
/// neighbouring values (every split a tree could make). With more, edges at the data's
/// quantiles: after row `k * n / nbins - 1` of the sorted column (`k = 1..nbins`), at the
/// midpoint between that row's value and the next larger value, without duplicates. Ties
/// never straddle an edge, and a heavily repeated value gets one bin of its own instead
/// of pulling neighbouring edges apart.
#[cfg(test)]
pub(crate) fn feature_edges(column: impl Iterator<Item = f64>, nbins: usize) -> Vec<f64> {
    let mut v: Vec<f64> = column.collect();
    v.sort_unstable_by(f64::total_cmp);
    edges_of_sorted(&v, nbins)
}

/// [`feature_edges`] of a column sorted by `f64::total_cmp`.
fn edges_of_sorted(v: &[f64], nbins: usize) -> Vec<f64> {
    let n = v.len();
    let mid = |a: f64, b: f64| a + (b - a) / 2.0;
    let mut distinct = 0;
    let mut i = 0;
    while i < n && distinct <= nbins {
        distinct += 1;
        i += v[i..].partition_point(|&x| x <= v[i]);
    }
    if distinct <= nbins {
        let mut edges = Vec::with_capacity(distinct.saturating_sub(1));
        let mut i = 0;
        while i < n {
            let next = i + v[i..].partition_point(|&x| x <= v[i]);
            if next < n {
                edges.push(mid(v[i], v[next]));
            }
            i = next;
        }
        return edges;
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
/// Blocks of rows are binned side by side on rayon's threads (each row's bins depend on it
/// alone).
pub(crate) fn bin_rows(x: ArrayView2<f64>, edges: &[Vec<f64>]) -> Vec<u8> {
    const BLOCK: usize = 4096;
    // (a row's bins: one per feature with edges)
    let (n, p) = (x.nrows(), x.ncols().min(edges.len()));
    let mut out = vec![0u8; n * p];
    if p == 0 {
        return out;
    }
    out.par_chunks_mut(BLOCK * p)
        .enumerate()
        .for_each(|(k, block)| {
            for (i, bins) in block.chunks_mut(p).enumerate() {
                let row = x.row(k * BLOCK + i);
                for ((b, &v), e) in bins.iter_mut().zip(row.iter()).zip(edges) {
                    *b = bin_of(e, v);
                }
            }
        });
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
        let (n, p) = x.dim();
        let mut edges = Vec::with_capacity(p);
        let mut cols = Vec::with_capacity(p);
        // Each column is sorted once: its edges come from the sorted values, and its bins
        // from one walk along them (no search per value).
        let mut order: Vec<(f64, u32)> = Vec::with_capacity(n);
        let mut sorted: Vec<f64> = Vec::with_capacity(n);
        for c in x.columns() {
            order.clear();
            order.extend(c.iter().enumerate().map(|(i, &v)| (v, i as u32)));
            order.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
            sorted.clear();
            sorted.extend(order.iter().map(|e| e.0));
            let e = edges_of_sorted(&sorted, nbins);
            let mut col = vec![0u8; n];
            let mut b = 0;
            for &(v, i) in &order {
                while b < e.len() && e[b] < v {
                    b += 1;
                }
                col[i as usize] = b as u8;
            }
            edges.push(e);
            cols.push(col);
        }
        let mut rows = vec![0u8; n * p];
        for (f, c) in cols.iter().enumerate() {
            for (i, &b) in c.iter().enumerate() {
                rows[i * p + f] = b;
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
        // Few distinct values, many (quantile edges), and a heavy tie at zero.
        let x = ndarray::Array2::from_shape_fn((500, 3), |(i, j)| match j {
            0 => (i % 13) as f64,
            1 => ((i * 7919) % 1000) as f64 / 3.0,
            _ => (i % 3 != 0) as u8 as f64 * ((i * 31) % 97) as f64,
        });
        let b = Binned::new(x.view(), 16);
        assert_eq!(b.n_features(), 3);
        assert!(b.nbins.iter().all(|&k| k <= 16));
        assert_eq!(b.nbins[0], 13);
        assert_eq!(bin_rows(x.view(), &b.edges), b.rows);
        for f in 0..3 {
            assert_eq!(b.edges[f], feature_edges(x.column(f).iter().copied(), 16));
            for i in 0..500 {
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
