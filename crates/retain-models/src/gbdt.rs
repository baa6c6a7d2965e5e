//! retain's histogram gradient boosting, the engine of [`crate::GradientBoostingModel`]
//! (log loss) and [`crate::GradientBoostingRegressor`] (squared error).
//!
//! The algorithm is LightGBM's (Ke et al. 2017, "LightGBM: A Highly Efficient Gradient
//! Boosting Decision Tree", NeurIPS) without its sampling tricks:
//!
//! - **Second-order boosting.** Round `k` fits a tree to the gradients `g_i` and hessians
//!   `h_i` of the loss at the current scores `F_i` (times the sample weight): log loss
//!   `g = p - y`, `h = p (1 - p)` with `p = sigmoid(F)`; squared error `g = F - y`, `h = 1`.
//!   A leaf holding rows `I` outputs `-learning_rate * G / (H + l2)` (`G`, `H` the sums over
//!   `I`), and a split's gain is `G_L^2 / (H_L + l2) + G_R^2 / (H_R + l2) - G^2 / (H + l2)`
//!   (Chen and Guestrin 2016, XGBoost, eq. 7, without the factor 1/2 and `gamma`).
//!   Scores start at the weighted mean target on the link scale (log-odds, or the mean).
//! - **Histograms.** Features are binned once ([`crate::hist`], at most 256 bins), a leaf's
//!   histogram holds (G, H, rows) per bin, and a split is chosen among bin boundaries.
//!   When a leaf splits, only the child with fewer rows is histogrammed; the other child's
//!   histogram is the parent's minus it (the subtraction trick).
//! - **Leaf-wise growth.** The tree grows best-first: the leaf whose best split gains the
//!   most splits next, until `max_leaves` leaves (LightGBM `num_leaves`), subject to
//!   `max_depth`, a least hessian sum per child (`min_leaf_weight`) and a positive gain.
//!   Ties go to the first feature, the lowest bin and the oldest leaf, so a fit is
//!   deterministic; with several threads each thread histograms its own features over the
//!   same rows in the same order, so the result does not depend on the thread count.
//!
//! A tree is stored as flat arrays (split feature, split bin, left child with the right
//! child next to it, value, cover = hessian sum); bin edges are stored once per booster as
//! f64, so the split rule `x <= edge` is exact. Contributions are exact path-dependent Tree
//! SHAP values (Lundberg, Erion and Lee 2018, "Consistent Individualized Feature
//! Attribution for Tree Ensembles") with hessian covers, as XGBoost and LightGBM compute
//! them, from per-leaf tables (`shap.rs`).

use ndarray::{Array1, Array2, ArrayView2};
use serde::{Deserialize, Serialize};

use crate::hist::{Binned, bin_rows};
use crate::shap::{LeafPaths, TreeArrays};
use crate::traverse::{Nodes, per_block, sum_over_trees_of_values};

/// Rows per block of the Tree SHAP values, at most: each block finds its rows' distinct
/// cells and leaf patterns once (`shap.rs`), so larger blocks share more work (on the
/// Online Retail II eval clients, 5,281 rows in two blocks took 0.9 s of processor time
/// against 1.2 s in blocks of 1,024), while smaller ones spread over more threads.
const SHAP_BLOCK: usize = 4096;

/// The loss a booster minimises.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Loss {
    /// Binary cross-entropy on log-odds; targets are 0 or 1.
    LogLoss,
    /// Squared error on the raw scale.
    SquaredError,
}

/// Checked settings of one boosting run.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub n_trees: usize,
    pub learning_rate: f64,
    pub max_leaves: usize,
    pub max_depth: usize,
    pub min_leaf_weight: f64,
    pub l2: f64,
    pub nbins: usize,
    pub threads: usize,
}

/// One tree as flat arrays; node 0 is the root, `left[i] == 0` marks a leaf, the right
/// child of `i` is `left[i] + 1`, and a row goes left when its bin is `<= bin[i]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct Tree {
    feature: Vec<u16>,
    bin: Vec<u8>,
    left: Vec<u32>,
    /// Leaf output (learning rate applied); for a split node, the cover-weighted mean of
    /// its leaves (the expected output of the subtree).
    value: Vec<f64>,
    /// Hessian sum of the training rows in the node.
    cover: Vec<f64>,
}

impl Tree {
    fn push(&mut self) -> usize {
        self.feature.push(0);
        self.bin.push(0);
        self.left.push(0);
        self.value.push(0.0);
        self.cover.push(0.0);
        self.value.len() - 1
    }

    fn arrays(&self) -> TreeArrays<'_> {
        TreeArrays {
            feature: &self.feature,
            bin: &self.bin,
            left: &self.left,
            value: &self.value,
            cover: &self.cover,
        }
    }

    fn nodes(&self) -> Nodes<'_> {
        Nodes {
            feature: &self.feature,
            bin: &self.bin,
            left: &self.left,
        }
    }

    /// Covers and values of split nodes from their children (children come after parents).
    fn fill_internal(&mut self) {
        for i in (0..self.left.len()).rev() {
            let l = self.left[i] as usize;
            if l != 0 {
                let (cl, cr) = (self.cover[l], self.cover[l + 1]);
                self.cover[i] = cl + cr;
                self.value[i] = if cl + cr > 0.0 {
                    (cl * self.value[l] + cr * self.value[l + 1]) / (cl + cr)
                } else {
                    0.0
                };
            }
        }
    }
}
/// A fitted ensemble: `score = base_score + sum of tree outputs`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Booster {
    base_score: f64,
    /// Bin edges per feature ([`crate::hist`]).
    edges: Vec<Vec<f64>>,
    trees: Vec<Tree>,
}

impl Booster {
    /// Number of trees.
    pub fn n_trees(&self) -> usize {
        self.trees.len()
    }

    /// The starting score.
    pub fn base_score(&self) -> f64 {
        self.base_score
    }

    /// The raw score per row (the caller has checked the columns).
    pub fn predict(&self, x: ArrayView2<f64>) -> Array1<f64> {
        Array1::from(sum_over_trees_of_values(
            x,
            &self.edges,
            &self.trees,
            Tree::nodes,
            |t, leaf| t.value[leaf],
            self.base_score,
        ))
    }

    /// Tree SHAP values per row and feature; their row sum plus [`Self::expected_value`] is
    /// the row's score.
    pub fn contributions(&self, x: ArrayView2<f64>) -> Array2<f64> {
        let bins = bin_rows(x, &self.edges);
        let paths = LeafPaths::new(self.trees.iter().map(Tree::arrays));
        // One block per thread up to SHAP_BLOCK rows; the values do not depend on it.
        let block = x
            .nrows()
            .div_ceil(rayon::current_num_threads())
            .clamp(256, SHAP_BLOCK);
        per_block(
            &bins,
            (x.nrows(), self.edges.len()),
            block,
            || paths.scratch(),
            |scratch, rows, phi| paths.add_rows(rows, self.edges.len(), phi, scratch),
        )
    }

    /// The score of an average training row: the base score plus each tree's
    /// cover-weighted mean output.
    pub fn expected_value(&self) -> f64 {
        self.trees
            .iter()
            .fold(self.base_score, |z, t| z + t.value[0])
    }
}

/// A booster and the total split gain per feature.
pub(crate) struct Fitted {
    pub booster: Booster,
    pub gains: Vec<f64>,
    /// Each training row's raw score under `booster`: `booster.predict` of the training
    /// matrix, bit for bit, for every row of positive weight (the fit adds the same leaf
    /// values in the same order; a row of weight 0 keeps the base score). Kept by the fit,
    /// so in-sample uses (the log target's smearing factor) walk no tree.
    pub train_scores: Vec<f64>,
}

/// A split candidate of a leaf.
#[derive(Debug, Clone, Copy)]
struct Split {
    gain: f64,
    feature: usize,
    bin: u8,
    /// Gradient sum, hessian sum and rows of the left child.
    g: f64,
    h: f64,
    n: usize,
}

/// A leaf of the tree being grown: its rows are `rows[start..end]`.
struct Leaf {
    node: usize,
    start: usize,
    end: usize,
    depth: usize,
    g: f64,
    h: f64,
    /// Index of its histogram in the pool, while it may still split.
    hist: Option<usize>,
    split: Option<Split>,
}

/// One histogram bin: gradient sum, hessian sum, rows.
type Bin = [f64; 3];

/// Below this many (row, feature) updates a histogram is built on one thread.
const PARALLEL_WORK: usize = 1 << 16;

struct Grower<'a> {
    s: &'a Settings,
    data: &'a Binned,
    /// Each feature's first bin in a histogram; a row's bins are read from the binned
    /// rows (a byte per value) and offset here. (A copy of the rows with the offsets added
    /// in, four bytes per value, made every histogram pass read four times the memory: the
    /// root's pass over every row is most of a small tree's cost.)
    offsets: Vec<usize>,
    total_bins: usize,
    /// Histograms: `pool[k]` has `total_bins` bins; `free` lists the unused ones.
    pool: Vec<Vec<Bin>>,
    free: Vec<usize>,
    scratch: Vec<u32>,
}

impl<'a> Grower<'a> {
    fn new(s: &'a Settings, data: &'a Binned) -> Self {
        let p = data.n_features();
        let mut offsets = Vec::with_capacity(p + 1);
        let mut total = 0;
        for &k in &data.nbins {
            offsets.push(total);
            total += k;
        }
        offsets.push(total);
        Self {
            s,
            data,
            offsets,
            total_bins: total,
            pool: Vec::new(),
            free: Vec::new(),
            scratch: Vec::new(),
        }
    }

    fn take_hist(&mut self) -> usize {
        self.free.pop().unwrap_or_else(|| {
            self.pool.push(vec![[0.0; 3]; self.total_bins]);
            self.pool.len() - 1
        })
    }

    /// Histograms `rows` into `pool[k]`.
    fn build(&mut self, k: usize, rows: &[u32], gh: &[[f64; 2]]) {
        let p = self.data.n_features();
        let hist = &mut self.pool[k];
        let threads = self.s.threads.min(p);
        if threads <= 1 || rows.len() * p < PARALLEL_WORK {
            hist.fill([0.0; 3]);
            fill(hist, 0, &self.data.rows, &self.offsets, 0..p, rows, gh);
            return;
        }
        // Contiguous feature ranges per thread, each writing its own bins.
        let bins = &self.data.rows;
        let offsets = &self.offsets;
        std::thread::scope(|sc| {
            let mut rest: &mut [Bin] = hist;
            let mut start_bin = 0;
            for t in 0..threads {
                let (f0, f1) = (t * p / threads, (t + 1) * p / threads);
                let (mine, tail) = rest.split_at_mut(offsets[f1] - start_bin);
                rest = tail;
                let base = start_bin;
                start_bin = offsets[f1];
                let mut work = move || {
                    mine.fill([0.0; 3]);
                    fill(mine, base, bins, offsets, f0..f1, rows, gh);
                };
                if t + 1 == threads {
                    work();
                } else {
                    sc.spawn(work);
                }
            }
        });
    }

    /// The best split of a leaf with sums `(g, h, n)` from its histogram `pool[k]`.
    ///
    /// Candidates are compared by their children's score `G_L^2 / D_L + G_R^2 / D_R`
    /// (`D = H + l2`) as one fraction, cross-multiplied, so the scan divides nothing.
    fn best_split(&self, k: usize, g: f64, h: f64, n: usize) -> Option<Split> {
        // Children need a positive hessian even when `min_leaf_weight` is 0.
        let (l2, min_h) = (self.s.l2, self.s.min_leaf_weight.max(f64::MIN_POSITIVE));
        let hist = &self.pool[k];
        let nf = n as f64;
        // The best score so far as num / den, starting from the parent's (gain 0).
        let (mut num, mut den) = (g * g, h + l2);
        let mut best: Option<Split> = None;
        for f in 0..self.data.n_features() {
            let bins = &hist[self.offsets[f]..self.offsets[f + 1]];
            let (mut gl, mut hl, mut nl) = (0.0, 0.0, 0.0);
            // One pass without unpredictable branches: every bin is a candidate, the
            // invalid ones masked. An empty bin holds exact zeros (subtractions wipe their
            // rounding residue), so it repeats the previous candidate, which cannot win
            // twice.
            for (b, e) in bins[..bins.len().saturating_sub(1)].iter().enumerate() {
                gl += e[0];
                hl += e[1];
                nl += e[2];
                let (gr, hr) = (g - gl, h - hl);
                let ok = (hl >= min_h) & (hr >= min_h) & (nl < nf);
                let (dl, dr) = (hl + l2, hr + l2);
                let (cn, cd) = (gl * gl * dr + gr * gr * dl, dl * dr);
                if ok & (cn * den > num * cd) {
                    (num, den) = (cn, cd);
                    best = Some(Split {
                        gain: 0.0,
                        feature: f,
                        bin: b as u8,
                        g: gl,
                        h: hl,
                        n: nl as usize,
                    });
                }
            }
        }
        best.map(|mut s| {
            s.gain = num / den - g * g / (h + l2);
            s
        })
    }

    /// Takes the rows of a child out of the histogram `pool[k]` of its parent, leaving its
    /// sibling's.
    fn remove_rows(&mut self, k: usize, rows: &[u32], gh: &[[f64; 2]]) {
        let p = self.data.n_features();
        let hist = &mut self.pool[k];
        for &r in rows {
            let r = r as usize;
            let [g, h] = gh[r];
            for (&b, &o) in self.data.rows[r * p..(r + 1) * p].iter().zip(&self.offsets) {
                let e = &mut hist[o + usize::from(b)];
                e[0] -= g;
                e[1] -= h;
                e[2] -= 1.0;
            }
        }
        // Bins left empty hold exact zeros, not rounding residue.
        for &r in rows {
            let r = r as usize;
            for (&b, &o) in self.data.rows[r * p..(r + 1) * p].iter().zip(&self.offsets) {
                let e = &mut hist[o + usize::from(b)];
                if e[2] == 0.0 {
                    *e = [0.0; 3];
                }
            }
        }
    }

    /// `pool[a] -= pool[b]`, bin by bin.
    fn subtract(&mut self, a: usize, b: usize) {
        let (x, y) = if b < a {
            let (lo, hi) = self.pool.split_at_mut(a);
            (&mut hi[0], &lo[b])
        } else {
            let (lo, hi) = self.pool.split_at_mut(b);
            (&mut lo[a], &hi[0])
        };
        for (p, s) in x.iter_mut().zip(y.iter()) {
            // Bins left empty hold exact zeros, not rounding residue.
            let n = p[2] - s[2];
            let full = n.min(1.0);
            *p = [(p[0] - s[0]) * full, (p[1] - s[1]) * full, n];
        }
    }

    fn can_split(&self, n: usize, h: f64, depth: usize) -> bool {
        depth < self.s.max_depth && n >= 2 && h >= 2.0 * self.s.min_leaf_weight
    }

    /// Grows one tree on `rows` (reordered in place), adding its outputs to `score` and
    /// its split gains to `gains`.
    fn grow(
        &mut self,
        rows: &mut [u32],
        gh: &[[f64; 2]],
        score: &mut [f64],
        gains: &mut [f64],
    ) -> Tree {
        let p = self.data.n_features();
        let mut tree = Tree::default();
        let root = tree.push();
        let (g, h) = rows.iter().fold((0.0, 0.0), |(g, h), &r| {
            let [gi, hi] = gh[r as usize];
            (g + gi, h + hi)
        });
        let mut leaves = vec![Leaf {
            node: root,
            start: 0,
            end: rows.len(),
            depth: 0,
            g,
            h,
            hist: None,
            split: None,
        }];
        if self.s.max_leaves > 1 && self.can_split(rows.len(), h, 0) {
            let k = self.take_hist();
            self.build(k, rows, gh);
            leaves[0].split = self.best_split(k, g, h, rows.len());
            if leaves[0].split.is_some() {
                leaves[0].hist = Some(k);
            } else {
                self.free.push(k);
            }
        }
        while leaves.len() < self.s.max_leaves {
            // The leaf whose split gains most; the oldest of equal gains.
            let mut pick: Option<(usize, f64)> = None;
            for (i, l) in leaves.iter().enumerate() {
                if let Some(s) = &l.split
                    && pick.is_none_or(|(_, g)| s.gain > g)
                {
                    pick = Some((i, s.gain));
                }
            }
            let Some((i, _)) = pick else { break };
            let leaf = &mut leaves[i];
            let split = leaf.split.take().expect("picked leaves have a split");
            let parent_hist = leaf.hist.take();
            let (start, end, depth, node) = (leaf.start, leaf.end, leaf.depth, leaf.node);
            let (pg, ph) = (leaf.g, leaf.h);
            // Stable partition: left rows first, both sides keep their order.
            let col = &self.data.cols[split.feature];
            let slice = &mut rows[start..end];
            self.scratch.clear();
            let mut k = 0;
            for j in 0..slice.len() {
                let r = slice[j];
                if col[r as usize] <= split.bin {
                    slice[k] = r;
                    k += 1;
                } else {
                    self.scratch.push(r);
                }
            }
            slice[k..].copy_from_slice(&self.scratch);
            debug_assert_eq!(k, split.n);
            let mid = start + k;
            gains[split.feature] += split.gain;
            let l = tree.push();
            tree.push();
            tree.feature[node] = split.feature as u16;
            tree.bin[node] = split.bin;
            tree.left[node] = l as u32;
            let mut left = Leaf {
                node: l,
                start,
                end: mid,
                depth: depth + 1,
                g: split.g,
                h: split.h,
                hist: None,
                split: None,
            };
            let mut right = Leaf {
                node: l + 1,
                start: mid,
                end,
                depth: depth + 1,
                g: pg - split.g,
                h: ph - split.h,
                hist: None,
                split: None,
            };
            let more = leaves.len() + 1 < self.s.max_leaves;
            let (lc, rc) = (
                self.can_split(mid - start, left.h, depth + 1),
                self.can_split(end - mid, right.h, depth + 1),
            );
            match parent_hist {
                Some(pk) if more && (lc || rc) => {
                    let left_small = mid - start <= end - mid;
                    let (small, large, small_can, large_can) = if left_small {
                        (&mut left, &mut right, lc, rc)
                    } else {
                        (&mut right, &mut left, rc, lc)
                    };
                    let small_rows = &rows[small.start..small.end];
                    // The smaller child is histogrammed only if it may split; the larger
                    // child's histogram is the parent's minus the smaller's, taken bin by
                    // bin or, when that is less work, row by row.
                    let sk = small_can.then(|| {
                        let sk = self.take_hist();
                        self.build(sk, small_rows, gh);
                        sk
                    });
                    if large_can {
                        match sk {
                            Some(sk) if 2 * small_rows.len() * p >= self.total_bins => {
                                self.subtract(pk, sk);
                            }
                            _ => self.remove_rows(pk, small_rows, gh),
                        }
                        large.hist = Some(pk);
                    } else {
                        self.free.push(pk);
                    }
                    small.hist = sk;
                    for c in [small, large] {
                        let Some(k) = c.hist else { continue };
                        c.split = self.best_split(k, c.g, c.h, c.end - c.start);
                        if c.split.is_none() {
                            self.free.push(k);
                            c.hist = None;
                        }
                    }
                }
                Some(pk) => self.free.push(pk),
                None => {}
            }
            leaves[i] = left;
            leaves.push(right);
        }
        let (lr, l2) = (self.s.learning_rate, self.s.l2);
        for leaf in &leaves {
            if let Some(k) = leaf.hist {
                self.free.push(k);
            }
            let v = if leaf.h + l2 > 0.0 {
                -lr * leaf.g / (leaf.h + l2)
            } else {
                0.0
            };
            tree.value[leaf.node] = v;
            tree.cover[leaf.node] = leaf.h;
            for &r in &rows[leaf.start..leaf.end] {
                score[r as usize] += v;
            }
        }
        tree.fill_internal();
        tree
    }
}

/// Adds `(g, h, 1)` of each row in `rows` to the bins of features `features`: feature `f`
/// of row `r` (its bin in `bins`, row-major, `offsets.len() - 1` per row) to global bin
/// `offsets[f] + bin`; `hist[0]` is global bin `base`.
#[inline]
fn fill(
    hist: &mut [Bin],
    base: usize,
    bins: &[u8],
    offsets: &[usize],
    features: std::ops::Range<usize>,
    rows: &[u32],
    gh: &[[f64; 2]],
) {
    let p = offsets.len() - 1;
    let offsets = &offsets[features.clone()];
    for &r in rows {
        let r = r as usize;
        let [g, h] = gh[r];
        let row = &bins[r * p + features.start..r * p + features.end];
        for (&b, &o) in row.iter().zip(offsets) {
            let e = &mut hist[o + usize::from(b) - base];
            e[0] += g;
            e[1] += h;
            e[2] += 1.0;
        }
    }
}

/// Boosts `s.n_trees` trees of `loss` towards `target` (0/1 for log loss) with optional
/// sample weights. The caller has checked the inputs and the settings.
#[cfg(test)]
pub(crate) fn fit(
    s: &Settings,
    loss: Loss,
    x: ArrayView2<f64>,
    target: &[f64],
    weights: Option<&[f64]>,
) -> Fitted {
    fit_staged(s, loss, x, target, weights, &[s.n_trees])
        .pop()
        .expect("one stage")
}

/// Like [`fit`], returning the booster after each of `stages` trees (each at most
/// `s.n_trees`, in increasing order): the first `k` trees of a fit are the whole of a fit of
/// `k` trees (each tree depends only on the ones before it), so every stage equals its own
/// fit bit for bit, gains included, at the cost of the largest.
pub(crate) fn fit_staged(
    s: &Settings,
    loss: Loss,
    x: ArrayView2<f64>,
    target: &[f64],
    weights: Option<&[f64]>,
    stages: &[usize],
) -> Vec<Fitted> {
    let n = x.nrows();
    let data = Binned::new(x, s.nbins);
    let w = |i: usize| weights.map_or(1.0, |w| w[i]);
    let total: f64 = (0..n).map(w).sum();
    let mean = (0..n).map(|i| w(i) * target[i]).sum::<f64>() / total;
    let base_score = match loss {
        Loss::LogLoss => {
            let m = mean.clamp(1e-12, 1.0 - 1e-12);
            (m / (1.0 - m)).ln()
        }
        Loss::SquaredError => mean,
    };
    // Rows with weight 0 take no part in the fit.
    let active: Vec<u32> = (0..n as u32).filter(|&i| w(i as usize) > 0.0).collect();
    let mut rows = active.clone();
    let mut score = vec![base_score; n];
    let mut gh = vec![[0.0; 2]; n];
    let mut gains = vec![0.0; x.ncols()];
    let mut trees = Vec::with_capacity(s.n_trees);
    let mut grower = Grower::new(s, &data);
    let mut out = Vec::with_capacity(stages.len());
    let last = stages.iter().copied().max().unwrap_or(0).min(s.n_trees);
    let snapshot = |trees: &[Tree], gains: &[f64], score: &[f64]| Fitted {
        booster: Booster {
            base_score,
            edges: data.edges.clone(),
            trees: trees.to_vec(),
        },
        gains: gains.to_vec(),
        train_scores: score.to_vec(),
    };
    for t in 0..last {
        for &r in &active {
            let i = r as usize;
            let wi = w(i);
            gh[i] = match loss {
                Loss::LogLoss => {
                    let p = 1.0 / (1.0 + (-score[i]).exp());
                    [(p - target[i]) * wi, (p * (1.0 - p)).max(1e-16) * wi]
                }
                Loss::SquaredError => [(score[i] - target[i]) * wi, wi],
            };
        }
        rows.copy_from_slice(&active);
        trees.push(grower.grow(&mut rows, &gh, &mut score, &mut gains));
        for _ in stages.iter().filter(|&&k| k == t + 1) {
            out.push(snapshot(&trees, &gains, &score));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> Settings {
        Settings {
            n_trees: 20,
            learning_rate: 0.3,
            max_leaves: 8,
            max_depth: 64,
            min_leaf_weight: 1.0,
            l2: 1.0,
            nbins: 256,
            threads: 1,
        }
    }

    /// Brute-force Shapley values of a single tree with "interventional on the path"
    /// expectation (Tree SHAP's cover-weighted conditional expectation).
    fn brute_shap(t: &Tree, row: &[u8], p: usize) -> Vec<f64> {
        // E[f | features in S fixed to row]: follow the row on S, average by cover elsewhere.
        fn cond(t: &Tree, node: usize, row: &[u8], set: u32) -> f64 {
            let l = t.left[node] as usize;
            if l == 0 {
                return t.value[node];
            }
            let f = usize::from(t.feature[node]);
            if set & (1 << f) != 0 {
                let c = if row[f] <= t.bin[node] { l } else { l + 1 };
                cond(t, c, row, set)
            } else {
                (t.cover[l] * cond(t, l, row, set) + t.cover[l + 1] * cond(t, l + 1, row, set))
                    / t.cover[node]
            }
        }
        let fact = |k: usize| (1..=k).map(|v| v as f64).product::<f64>();
        let mut phi = vec![0.0; p];
        for (i, phi_i) in phi.iter_mut().enumerate() {
            for set in 0u32..(1 << p) {
                if set & (1 << i) != 0 {
                    continue;
                }
                let k = set.count_ones() as usize;
                let wgt = fact(k) * fact(p - k - 1) / fact(p);
                *phi_i += wgt * (cond(t, 0, row, set | (1 << i)) - cond(t, 0, row, set));
            }
        }
        phi
    }

    #[test]
    fn tree_shap_matches_brute_force_shapley_values() {
        let n = 300;
        let x = Array2::from_shape_fn((n, 3), |(i, j)| ((i * (7 + 13 * j)) % 29) as f64);
        let y: Vec<f64> = (0..n)
            .map(|i| {
                f64::from(u8::from(
                    x[[i, 0]] + 0.5 * x[[i, 1]] > 20.0 || x[[i, 2]] < 3.0,
                ))
            })
            .collect();
        let f = fit(&settings(), Loss::LogLoss, x.view(), &y, None);
        let b = &f.booster;
        let bins = bin_rows(x.view(), &b.edges);
        for i in (0..n).step_by(37) {
            let row = &bins[i * 3..(i + 1) * 3];
            for t in &b.trees {
                let mut phi = vec![0.0; 3];
                let paths = LeafPaths::new([t.arrays()]);
                paths.add_rows(row, 3, &mut phi, &mut paths.scratch());
                let brute = brute_shap(t, row, 3);
                for j in 0..3 {
                    assert!((phi[j] - brute[j]).abs() < 1e-9, "{phi:?} vs {brute:?}");
                }
            }
        }
        let z = b.predict(x.view());
        let c = b.contributions(x.view());
        for i in 0..n {
            assert!((b.expected_value() + c.row(i).sum() - z[i]).abs() < 1e-9);
        }
    }

    /// Deep trees on many features (paths with up to a dozen or more distinct features,
    /// beyond brute force): the leaf tables give Algorithm 2's values to 1e-12, tree by
    /// tree and summed over the booster.
    #[test]
    fn leaf_tables_match_algorithm_2_on_deep_trees() {
        let n = 2000;
        let p = 24;
        let x = Array2::from_shape_fn((n, p), |(i, j)| ((i * (7 + 13 * j) + i / 7) % 53) as f64);
        let y: Vec<f64> = (0..n)
            .map(|i| {
                let s: f64 = (0..p).map(|j| x[[i, j]] * ((j % 5) as f64 - 2.0)).sum();
                f64::from(u8::from(s.sin() > 0.2))
            })
            .collect();
        // 63 leaves: 62 splits, cells of 64-bit split bits; 90 leaves: the row-by-row path.
        for leaves in [63, 90] {
            let mut s = settings();
            s.n_trees = 8;
            s.max_leaves = leaves;
            s.min_leaf_weight = 0.01;
            let f = fit(&s, Loss::LogLoss, x.view(), &y, None);
            let splits = |t: &Tree| t.left.iter().filter(|&&l| l != 0).count();
            let most = f.booster.trees.iter().map(splits).max().unwrap_or(0);
            assert_eq!(most > 64, leaves > 64, "{most} splits");
            check_against_algorithm_2(&f.booster, x.view());
        }
    }

    fn check_against_algorithm_2(b: &Booster, x: ArrayView2<f64>) {
        let (n, p) = x.dim();
        let bins = bin_rows(x, &b.edges);
        let all = b.contributions(x);
        let deepest = LeafPaths::new(b.trees.iter().map(Tree::arrays)).max_d();
        assert!(deepest >= 10, "paths of at most {deepest} features");
        for i in (0..n).step_by(97) {
            let row = &bins[i * p..(i + 1) * p];
            let mut total = vec![0.0; p];
            for t in &b.trees {
                let (mut got, mut want) = (vec![0.0; p], vec![0.0; p]);
                let paths = LeafPaths::new([t.arrays()]);
                paths.add_rows(row, p, &mut got, &mut paths.scratch());
                crate::shap::tests::algorithm_2(&t.arrays(), row, &mut want);
                for j in 0..p {
                    assert!((got[j] - want[j]).abs() < 1e-12, "{got:?} vs {want:?}");
                    total[j] += want[j];
                }
            }
            for j in 0..p {
                assert!((all[[i, j]] - total[j]).abs() < 1e-11);
            }
        }
        let z = b.predict(x);
        for i in 0..n {
            assert!((b.expected_value() + all.row(i).sum() - z[i]).abs() < 1e-9);
        }
        // A row's values do not depend on the rows computed beside it: alone, in blocks
        // of 7, or all together, bit for bit.
        let paths = LeafPaths::new(b.trees.iter().map(Tree::arrays));
        let mut scratch = paths.scratch();
        for rows in [1, 7] {
            for (k, chunk) in bins.chunks(rows * p).enumerate().step_by(13) {
                let mut phi = vec![0.0; chunk.len()];
                paths.add_rows(chunk, p, &mut phi, &mut scratch);
                for (r, got) in phi.chunks(p).enumerate() {
                    let want = all.row(k * rows + r);
                    assert!(
                        got.iter()
                            .zip(want)
                            .all(|(g, w)| g.to_bits() == w.to_bits())
                    );
                }
            }
        }
    }

    #[test]
    fn threads_do_not_change_the_fit() {
        let n = 3000;
        let x = Array2::from_shape_fn((n, 24), |(i, j)| ((i * (7 + 13 * j)) % 101) as f64);
        let y: Vec<f64> = (0..n)
            .map(|i| x[[i, 0]] * 0.1 + (x[[i, 5]] - 50.0).abs() * 0.05)
            .collect();
        let mut s = settings();
        let one = fit(&s, Loss::SquaredError, x.view(), &y, None);
        s.threads = 3;
        let three = fit(&s, Loss::SquaredError, x.view(), &y, None);
        assert_eq!(one.booster, three.booster);
        assert_eq!(one.gains, three.gains);
    }

    /// The fit's in-sample scores are the booster's predictions of its own training rows,
    /// bit for bit, at every stage, for both losses and with rows of weight 0 left at the
    /// base score.
    #[test]
    fn train_scores_are_the_predictions_of_the_training_rows() {
        let n = 2500;
        // ties, a feature with more distinct values than bins, and a constant one
        let x = Array2::from_shape_fn((n, 6), |(i, j)| match j {
            0 => ((i * 37) % 1009) as f64 * 0.37,
            1 => (i % 7) as f64,
            2 => 1.0,
            _ => (((i * (3 + j)) % 97) as f64).sqrt(),
        });
        let y: Vec<f64> = (0..n)
            .map(|i| f64::from(u8::from((x[[i, 0]] + 13.0 * x[[i, 1]]) % 7.0 < 3.0)))
            .collect();
        let w: Vec<f64> = (0..n).map(|i| (i % 5) as f64 * 0.5).collect();
        let mut s = settings();
        s.max_leaves = 15;
        s.min_leaf_weight = 0.0;
        s.n_trees = 30;
        for (loss, weights) in [
            (Loss::LogLoss, Some(w.as_slice())),
            (Loss::SquaredError, None),
        ] {
            let stages = [1, 7, 30];
            let fits = fit_staged(&s, loss, x.view(), &y, weights, &stages);
            assert_eq!(fits.len(), 3);
            for (f, k) in fits.iter().zip(stages) {
                assert_eq!(f.booster.n_trees(), k);
                let predicted = f.booster.predict(x.view());
                for i in 0..n {
                    let want = if weights.is_some_and(|w| w[i] == 0.0) {
                        f.booster.base_score()
                    } else {
                        predicted[i]
                    };
                    assert_eq!(
                        f.train_scores[i].to_bits(),
                        want.to_bits(),
                        "row {i} after {k} trees"
                    );
                }
            }
        }
    }
}
