//! Batch prediction for the histogram trees of the forest and the booster: many rows walk
//! one tree side by side ([`sum_over_trees`]); and per-row work spread over threads
//! ([`per_row`], for the contributions).
//!
//! Walking one row down one tree is a chain of dependent loads with a branch per level
//! that the processor cannot predict (left or right is the data's choice), so a row at a
//! time spends most of its cycles waiting. Here the rows go tree by tree in blocks (the
//! tree's nodes stay in the first-level cache for the whole block), [`LANES`] rows at a
//! time: each step moves every lane one level down with a data-dependent select instead
//! of a branch, so the lanes' loads overlap. A lane that has reached its leaf stays
//! there until the deepest lane has too.
//!
//! Each row's leaf values are added in tree order, as a row-by-row loop would add them, so
//! predictions are the same bit for bit. Blocks of rows are independent: from
//! [`PARALLEL_ROWS`] rows on they are spread over rayon's threads, which changes nothing in
//! the result.

use ndarray::Array2;
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
/// From this many rows on, blocks are spread over rayon's threads.
const PARALLEL_ROWS: usize = 4 * BLOCK;

/// A node packed into one word for the walk: `left` (0 for a leaf), `feature`, `bin`.
#[derive(Clone, Copy)]
struct Packed {
    left: u32,
    feature: u16,
    bin: u8,
}

/// For each row of `bins` (row-major, `p` bins per row, `n` rows), `init` plus
/// `value(t, leaf)` summed over the trees `t` of `trees` in order, where `leaf` is the
/// row's leaf in tree `t`.
pub(crate) fn sum_over_trees<'a, T: Sync + 'a>(
    bins: &[u8],
    p: usize,
    n: usize,
    trees: &'a [T],
    nodes: impl Fn(&'a T) -> Nodes<'a>,
    value: impl Fn(&'a T, usize) -> f64 + Sync,
    init: f64,
) -> Vec<f64> {
    let mut out = vec![init; n];
    if n == 0 {
        return out;
    }
    let p = p.max(1);
    let packed: Vec<Vec<Packed>> = trees
        .iter()
        .map(|t| {
            let nd = nodes(t);
            (0..nd.left.len())
                .map(|i| Packed {
                    left: nd.left[i],
                    feature: nd.feature[i],
                    bin: nd.bin[i],
                })
                .collect()
        })
        .collect();
    let block = |(b, scores): (usize, &mut [f64])| {
        let first = b * BLOCK;
        for (t, tree) in trees.iter().zip(&packed) {
            for (c, lane_scores) in scores.chunks_mut(LANES).enumerate() {
                let start = first + c * LANES;
                // Row offsets of the lanes; lanes past the last row walk the last row again.
                let mut base = [0usize; LANES];
                for (j, o) in base.iter_mut().enumerate() {
                    *o = (start + j).min(n - 1) * p;
                }
                let leaf = walk(tree, bins, &base);
                for (s, &l) in lane_scores.iter_mut().zip(&leaf) {
                    *s += value(t, l);
                }
            }
        }
    };
    // Blocks are independent, so spreading them over threads changes no bit of the result.
    if n >= PARALLEL_ROWS {
        out.par_chunks_mut(BLOCK).enumerate().for_each(block);
    } else {
        out.chunks_mut(BLOCK).enumerate().for_each(block);
    }
    out
}

/// An `n x p` matrix whose row `i` is filled by `fill(scratch, bins_i, row_i)` (`bins_i` =
/// the `p` bins of row `i` of `bins`, `row_i` starting at zero), rows in blocks of `block`
/// on rayon's threads, each thread with its own `scratch` from `init`. Rows are independent,
/// so the result is the one-thread one bit for bit.
pub(crate) fn per_row<S>(
    bins: &[u8],
    (n, p): (usize, usize),
    block: usize,
    init: impl Fn() -> S + Sync + Send,
    fill: impl Fn(&mut S, &[u8], &mut [f64]) + Sync + Send,
) -> Array2<f64> {
    let mut out = vec![0.0; n * p];
    out.par_chunks_mut((block * p).max(1))
        .enumerate()
        .for_each_init(init, |scratch, (b, rows)| {
            for (j, row) in rows.chunks_mut(p.max(1)).enumerate() {
                let i = b * block + j;
                fill(scratch, &bins[i * p..(i + 1) * p], row);
            }
        });
    Array2::from_shape_vec((n, p), out).expect("n x p values")
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

/// The leaf of each of [`LANES`] rows (starting at `base[j]` in `bins`) in one tree, the
/// rows stepping down together.
#[inline]
fn walk(tree: &[Packed], bins: &[u8], base: &[usize; LANES]) -> [usize; LANES] {
    let mut id = [0usize; LANES];
    loop {
        let mut moved = false;
        for j in 0..LANES {
            let node = tree[id[j]];
            let l = node.left as usize;
            let right = usize::from(bins[base[j] + usize::from(node.feature)] > node.bin);
            // A leaf (left = 0) keeps its id: the select costs no branch.
            id[j] = if l != 0 { l + right } else { id[j] };
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
}
