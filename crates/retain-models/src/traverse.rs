//! Batch prediction for the histogram trees of the forest and the booster: many rows walk
//! one tree side by side ([`sum_over_trees_of_values`]); and work on blocks of rows spread
//! over threads ([`per_block`], for the contributions).
//!
//! A prediction reads the rows' values, not their bins: each split's bin is turned into its
//! edge once per call, so no pass bins every value of every row first (that pass cost as
//! much as the walk itself on a few hundred thousand clients).
//!
//! Walking one row down one tree is a chain of dependent loads with a branch per level
//! that the processor cannot predict (left or right is the data's choice), so a row at a
//! time spends most of its cycles waiting. Here the rows go tree by tree in blocks (the
//! tree's nodes stay in cache for the whole block), [`LANES`] rows at a
//! time: each step moves every lane one level down with a data-dependent select instead
//! of a branch, so the lanes' loads overlap. A lane that has reached its leaf stays
//! there until the deepest lane has too. A booster's trees (a few leaves) fit in the
//! first-level cache, and blocks of [`BLOCK`] rows keep the rows' values there too; a
//! forest's trees grown until pure (thousands of nodes) do not, and a block of 256 rows
//! fetched all 300 of them from memory: they go in blocks of up to [`DEEP_BLOCK`] rows,
//! which made the x100 forest's predictions 2.4 times faster (`retain score --reasons 0`,
//! 563,057 clients: 32.4 s to 13.4 s).
//!
//! Each row's leaf values are added in tree order, as a row-by-row loop would add them, so
//! predictions are the same bit for bit. Blocks of rows are independent: from
//! [`PARALLEL_ROWS`] rows on they are spread over rayon's threads, which changes nothing in
//! the result.

use ndarray::{Array2, ArrayView2};
use rayon::prelude::*;

/// The split arrays of a tree stored flat: node `i` is a leaf when `left[i] == 0`; else a
/// row goes to `left[i]` when its bin of `feature[i]` is `<= bin[i]`, and to
/// `left[i] + 1` otherwise.
#[derive(Clone, Copy)]
pub(crate) struct Nodes<'a> {
    pub feature: &'a [u16],
    pub bin: &'a [u8],
    pub left: &'a [u32],
}

/// Rows walked side by side.
const LANES: usize = 8;
/// Rows per block: every tree is walked by one block before the next block starts.
const BLOCK: usize = 256;
/// Trees up to this size (the first-level cache's share of one) are walked in [`BLOCK`]s.
const SMALL_TREE_BYTES: usize = 32 * 1024;
/// Rows per block for larger trees (a random forest grown until pure: thousands of nodes
/// each): the tree's nodes are fetched once per block, so more rows share each fetch.
const DEEP_BLOCK: usize = 8192;
/// From this many rows on, blocks are spread over rayon's threads.
const PARALLEL_ROWS: usize = 4 * BLOCK;

/// A node packed for the walk: `left` (0 for a leaf), `feature`, and the split's `cut` (a
/// bin, or the value of that bin's upper edge).
#[derive(Clone, Copy)]
struct Packed<C> {
    left: u32,
    feature: u16,
    cut: C,
}

/// For each row of `bins` (row-major, `p` bins per row, `n` rows), `init` plus
/// `value(t, leaf)` summed over the trees `t` of `trees` in order, where `leaf` is the
/// row's leaf in tree `t`. (The rows binned first: the reference the tests hold
/// [`sum_over_trees_of_values`] to.)
#[cfg(test)]
pub(crate) fn sum_over_trees<'a, T: Sync + 'a>(
    bins: &[u8],
    p: usize,
    n: usize,
    trees: &'a [T],
    nodes: impl Fn(&'a T) -> Nodes<'a>,
    value: impl Fn(&'a T, usize) -> f64 + Sync,
    init: f64,
) -> Vec<f64> {
    sum_over(
        bins,
        p,
        n,
        trees,
        nodes,
        |_, b| b,
        |v, b| v > b,
        value,
        init,
    )
}

/// [`sum_over_trees`] of the rows of `x` themselves, the trees' bins read with `edges` (a
/// row goes right at a split on bin `b` of feature `f` when `edges[f][b] < x`, left when
/// there is no such edge): the same leaves as binning the rows first, bit for bit, without
/// the pass that bins every value. A bin counts the edges below the value
/// ([`crate::hist::bin_of`]), and the edges are sorted, so `bin(x) > b` exactly when
/// `edges[f][b] < x`; both comparisons are false for a missing (NaN) value, which goes
/// left either way.
pub(crate) fn sum_over_trees_of_values<'a, T: Sync + 'a>(
    x: ArrayView2<f64>,
    edges: &[Vec<f64>],
    trees: &'a [T],
    nodes: impl Fn(&'a T) -> Nodes<'a>,
    value: impl Fn(&'a T, usize) -> f64 + Sync,
    init: f64,
) -> Vec<f64> {
    let x = x.as_standard_layout();
    let (n, p) = x.dim();
    let values = x.as_slice().expect("a standard-layout matrix is one slice");
    let cut = |f: u16, b: u8| {
        edges
            .get(usize::from(f))
            .and_then(|e| e.get(usize::from(b)))
            .copied()
            .unwrap_or(f64::INFINITY)
    };
    sum_over(values, p, n, trees, nodes, cut, |v, c| c < v, value, init)
}

/// The walk of [`sum_over_trees`] over cells `V` of `data` (row-major, `p` per row), a
/// split's cut made by `cut(feature, bin)`, a row going right when `right(cell, cut)`.
#[allow(clippy::too_many_arguments)]
fn sum_over<'a, T: Sync + 'a, V: Copy + Sync, C: Copy + Send + Sync>(
    data: &[V],
    p: usize,
    n: usize,
    trees: &'a [T],
    nodes: impl Fn(&'a T) -> Nodes<'a>,
    cut: impl Fn(u16, u8) -> C,
    right: impl Fn(V, C) -> bool + Sync,
    value: impl Fn(&'a T, usize) -> f64 + Sync,
    init: f64,
) -> Vec<f64> {
    let mut out = vec![init; n];
    if n == 0 {
        return out;
    }
    let p = p.max(1);
    let packed: Vec<Vec<Packed<C>>> = trees
        .iter()
        .map(|t| {
            let nd = nodes(t);
            (0..nd.left.len())
                .map(|i| Packed {
                    left: nd.left[i],
                    feature: nd.feature[i],
                    cut: cut(nd.feature[i], nd.bin[i]),
                })
                .collect()
        })
        .collect();
    let bs = block_rows(&packed, n);
    let block = |(b, scores): (usize, &mut [f64])| {
        let first = b * bs;
        for (t, tree) in trees.iter().zip(&packed) {
            for (c, lane_scores) in scores.chunks_mut(LANES).enumerate() {
                let start = first + c * LANES;
                // Row offsets of the lanes; lanes past the last row walk the last row again.
                let mut base = [0usize; LANES];
                for (j, o) in base.iter_mut().enumerate() {
                    *o = (start + j).min(n - 1) * p;
                }
                let leaf = walk(tree, data, &base, &right);
                for (s, &l) in lane_scores.iter_mut().zip(&leaf) {
                    *s += value(t, l);
                }
            }
        }
    };
    // Blocks are independent, so spreading them over threads changes no bit of the result.
    if n >= PARALLEL_ROWS {
        out.par_chunks_mut(bs).enumerate().for_each(block);
    } else {
        out.chunks_mut(bs).enumerate().for_each(block);
    }
    out
}

/// An `n x p` matrix filled block by block: `fill(scratch, bins_b, out_b)` gets the bins of
/// up to `block` consecutive rows (row-major, `p` per row) and their rows of the output
/// (zeros), blocks on rayon's threads, each thread with its own `scratch` from `init`. The
/// result does not depend on the threads when `fill` treats each row on its own.
pub(crate) fn per_block<S>(
    bins: &[u8],
    (n, p): (usize, usize),
    block: usize,
    init: impl Fn() -> S + Sync + Send,
    fill: impl Fn(&mut S, &[u8], &mut [f64]) + Sync + Send,
) -> Array2<f64> {
    let mut out = vec![0.0; n * p];
    let step = (block * p).max(1);
    out.par_chunks_mut(step)
        .zip(bins.par_chunks(step))
        .for_each_init(init, |scratch, (rows, bins)| fill(scratch, bins, rows));
    Array2::from_shape_vec((n, p), out).expect("n x p values")
}

/// Rows per block for these trees: [`BLOCK`] when the mean tree fits in the first-level
/// cache, else up to [`DEEP_BLOCK`] (at least eight blocks for the threads).
fn block_rows<C>(packed: &[Vec<Packed<C>>], n: usize) -> usize {
    let nodes = packed.iter().map(Vec::len).sum::<usize>() / packed.len().max(1);
    if nodes * std::mem::size_of::<Packed<C>>() <= SMALL_TREE_BYTES {
        return BLOCK;
    }
    (n / 8).clamp(BLOCK, DEEP_BLOCK) / LANES * LANES
}

/// The leaf of each of [`LANES`] rows (starting at `base[j]` in `data`) in one tree, the
/// rows stepping down together.
#[inline]
fn walk<V: Copy, C: Copy>(
    tree: &[Packed<C>],
    data: &[V],
    base: &[usize; LANES],
    right: &impl Fn(V, C) -> bool,
) -> [usize; LANES] {
    let mut id = [0usize; LANES];
    loop {
        let mut moved = false;
        for j in 0..LANES {
            let node = tree[id[j]];
            let l = node.left as usize;
            let r = usize::from(right(data[base[j] + usize::from(node.feature)], node.cut));
            // A leaf (left = 0) keeps its id: the select costs no branch.
            id[j] = if l != 0 { l + r } else { id[j] };
            moved |= l != 0;
        }
        if !moved {
            return id;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Node arrays of a small tree: root splits feature 1 at bin 2; its left child splits
    /// feature 0 at bin 0; three leaves, ids 2, 3 and 4 with values 30, 10 and 20 (root and
    /// node 1 carry none).
    fn tree() -> (Vec<u16>, Vec<u8>, Vec<u32>, Vec<f64>) {
        (
            vec![1, 0, 0, 0, 0],
            vec![2, 0, 0, 0, 0],
            vec![1, 3, 0, 0, 0],
            vec![0.0, 0.0, 30.0, 10.0, 20.0],
        )
    }

    fn one_row(t: Nodes<'_>, row: &[u8]) -> usize {
        let mut id = 0;
        while t.left[id] != 0 {
            let l = t.left[id] as usize;
            id = if row[usize::from(t.feature[id])] <= t.bin[id] {
                l
            } else {
                l + 1
            };
        }
        id
    }

    #[test]
    fn matches_a_row_at_a_time_walk_for_every_block_and_lane_remainder() {
        let (f, b, l, v) = tree();
        let nodes = Nodes {
            feature: &f,
            bin: &b,
            left: &l,
        };
        let trees = [0usize, 1, 2];
        // 2 features; row counts that leave partial lanes and partial blocks, and one large
        // enough to be spread over threads.
        for n in [0, 1, 7, 8, 9, 255, 256, 257, 600, 3000] {
            let bins: Vec<u8> = (0..n * 2).map(|i| ((i * 7 + i / 3) % 5) as u8).collect();
            let got = sum_over_trees(
                &bins,
                2,
                n,
                &trees,
                |_| nodes,
                |t, leaf| v[leaf] * (*t as f64 + 1.0),
                0.5,
            );
            for (r, g) in got.iter().enumerate() {
                let row = &bins[r * 2..r * 2 + 2];
                let leaf = one_row(nodes, row);
                let want = trees
                    .iter()
                    .fold(0.5, |z, &t| z + v[leaf] * (t as f64 + 1.0));
                assert_eq!(g.to_bits(), want.to_bits(), "n {n} row {r}");
                assert!([2, 3, 4].contains(&leaf));
            }
        }
    }

    #[test]
    fn deep_trees_walked_in_large_blocks_match_a_row_at_a_time_walk() {
        // Complete trees of depth 12 (8,191 nodes, past the small-tree size), random splits
        // on 5 features; row counts around the deep block and its lanes.
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let internal = (1usize << 12) - 1;
        let trees: Vec<Arrays> = (0..4)
            .map(|_| {
                let nodes = 2 * internal + 1;
                let feature = (0..nodes).map(|_| (next() % 5) as u16).collect();
                let bin = (0..nodes).map(|_| (next() % 256) as u8).collect();
                let left = (0..nodes)
                    .map(|i| if i < internal { 2 * i as u32 + 1 } else { 0 })
                    .collect();
                let value = (0..nodes).map(|_| (next() % 1000) as f64 / 7.0).collect();
                (feature, bin, left, value)
            })
            .collect();
        type Arrays = (Vec<u16>, Vec<u8>, Vec<u32>, Vec<f64>);
        fn nodes(t: &Arrays) -> Nodes<'_> {
            Nodes {
                feature: &t.0,
                bin: &t.1,
                left: &t.2,
            }
        }
        let packed: Vec<Vec<Packed<u8>>> = trees
            .iter()
            .map(|t| {
                (0..t.2.len())
                    .map(|i| Packed {
                        left: t.2[i],
                        feature: t.0[i],
                        cut: t.1[i],
                    })
                    .collect()
            })
            .collect();
        assert_eq!(block_rows(&packed, 70_003), DEEP_BLOCK);
        assert_eq!(
            block_rows(&packed, 3_000),
            368,
            "an eighth of the rows, whole lanes"
        );
        assert_eq!(block_rows(&packed[..0], 3_000), BLOCK);
        for n in [0, 5, 3_000, 20_001, 70_003] {
            let bins: Vec<u8> = (0..n * 5).map(|_| (next() % 256) as u8).collect();
            let got = sum_over_trees(&bins, 5, n, &trees, nodes, |t, leaf| t.3[leaf], 0.125);
            for (r, g) in got.iter().enumerate() {
                let row = &bins[r * 5..r * 5 + 5];
                let want = trees
                    .iter()
                    .fold(0.125, |z, t| z + t.3[one_row(nodes(t), row)]);
                assert_eq!(g.to_bits(), want.to_bits(), "n {n} row {r}");
            }
        }
    }

    #[test]
    fn values_walked_against_the_edges_reach_the_leaves_of_their_bins() {
        use crate::hist::bin_rows;
        use ndarray::ShapeBuilder;
        // Feature 0 has edges [-1, 0, 2.5]; feature 1 has edges [10, 20]: a split on its
        // bin 2 has no edge (every row goes left). Node 0 splits feature 1 at bin 0, node 1
        // feature 0 at bin 1, node 2 feature 1 at bin 2, node 3 feature 0 at bin 0.
        let edges = vec![vec![-1.0, 0.0, 2.5], vec![10.0, 20.0]];
        let feature = vec![1u16, 0, 1, 0, 0, 0, 0, 0, 0];
        let bin = vec![0u8, 1, 2, 0, 0, 0, 0, 0, 0];
        let left = vec![1u32, 3, 5, 7, 0, 0, 0, 0, 0];
        let value: Vec<f64> = (0..9).map(|i| 1.0 + i as f64 * 0.37).collect();
        let nodes = Nodes {
            feature: &feature,
            bin: &bin,
            left: &left,
        };
        // the edges themselves, either side of them, signed zeros, infinities and NaN
        let cells = [
            f64::NEG_INFINITY,
            -2.0,
            -1.0,
            -0.5,
            -0.0,
            0.0,
            1e-300,
            2.5,
            2.5000000000000004,
            9.999999999999998,
            10.0,
            15.0,
            20.0,
            21.0,
            f64::INFINITY,
            f64::NAN,
        ];
        let trees = [0usize, 1, 2];
        for n in [0, 1, 9, 256, 1500] {
            // every pair of cells (a column-major matrix: the walk takes it in row order)
            let x = ndarray::Array2::from_shape_fn((n, 2).f(), |(i, j)| {
                cells[(i / if j == 0 { 1 } else { cells.len() }) % cells.len()]
            });
            let bins = bin_rows(x.view(), &edges);
            let by_bins = sum_over_trees(
                &bins,
                2,
                n,
                &trees,
                |_| nodes,
                |t, leaf| value[leaf] * (*t as f64 + 0.5),
                0.25,
            );
            let by_values = sum_over_trees_of_values(
                x.view(),
                &edges,
                &trees,
                |_| nodes,
                |t, leaf| value[leaf] * (*t as f64 + 0.5),
                0.25,
            );
            let bits = |v: &[f64]| v.iter().map(|z| z.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&by_values), bits(&by_bins), "n {n}");
            // every leaf is reached but node 2's right child (its split has no edge)
            if n == 1500 {
                let mut leaves: Vec<f64> = by_bins.clone();
                leaves.sort_by(f64::total_cmp);
                leaves.dedup();
                assert_eq!(leaves.len(), 4, "{leaves:?}");
            }
        }
    }
}
