//! A histogram random forest of retain's own, as scikit-learn's
//! `RandomForestClassifier(n_estimators=300)`: bootstrap rows, `floor(sqrt(p))` features
//! tried per split, Gini impurity, trees grown until pure (`min_samples_leaf = 1`), and
//! `P(churned)` = the mean over trees of the leaf's (bootstrap-weighted) churned share.
//!
//! Why not smartcore's forest (retain's first version): on the Online Retail II training
//! features (4,976 x 29) its 300 trees took 24.7 s in release and 194 s in debug against
//! scikit-learn's 1.8 s, it cannot use sample weights, and its artifact was 60 MB (every
//! node as a verbose serde struct). This forest fits the same model on binned features:
//!
//! - **Binning.** Each feature is cut into at most `nbins` (default 256) bins at midpoints
//!   between distinct training values (at quantiles of the training rows when there are
//!   more than `nbins` distinct values; the binning of every retain tree, `hist.rs`), so
//!   a split is "bin <= b", i.e. `x <= edge[b]` on the raw value. Splits are therefore
//!   chosen among at most 255 thresholds per feature instead of every midpoint
//!   (scikit-learn); with fewer distinct values than bins the candidate splits are exactly
//!   scikit-learn's.
//! - **Determinism.** Tree `k` draws its bootstrap and its features from a ChaCha8 stream
//!   seeded with `seed + k`, so a forest is identical whatever the number of threads
//!   (`threads` only spreads trees over `std::thread::scope` workers).
//! - **Compact artifact.** A tree is four flat arrays (`feature: u16`, `bin: u8`,
//!   `left: u32` with the right child at `left + 1`, and `value: f32`, the node's churned
//!   share rounded to f32, about 7 significant digits). Thresholds live once per forest as
//!   f64 bin edges, so the split rule is exact.
//!
//! Like scikit-learn, the split search goes on past `max_features` features when none of
//! them splits the node, and a node stops splitting when it is pure, has fewer than
//! `min_samples_split` distinct rows, is at `max_depth`, or no split lowers the impurity.

use std::collections::BTreeMap;
use std::sync::Arc;

use ndarray::{Array1, Array2, ArrayView2};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::hist::{Binned, bin_rows};
use crate::input::{check_features, check_training};
use crate::logistic::normalized;
use crate::traverse::{Nodes, per_block, sum_over_trees_of_values};
use crate::{ChurnClassifier, ClassWeight, Explanation, ExplanationScale, ModelError};

/// Rows explained together, tree by tree ([`RandomForestModel`]'s contributions).
const EXPLAIN_BLOCK: usize = 2048;

/// Hyper-parameters of [`RandomForestModel`]; setters never fail, [`Self::check`] validates.
///
/// | Name | Default | Purpose | Range |
/// |---|---|---|---|
/// | `n_trees` | 300 | trees in the forest | `1..=65535` |
/// | `max_features` | `None` = `floor(sqrt(p))` | features tried per split | `1..=p` |
/// | `max_depth` | `None` (until pure) | depth limit | `>= 1` |
/// | `min_samples_leaf` | 1 | least distinct rows in a leaf | `>= 1` |
/// | `min_samples_split` | 2 | least distinct rows in a node to split it | `>= 2` |
/// | `nbins` | 256 | bins per feature | `2..=256` |
/// | `threads` | 1 | fitting threads (results do not depend on it) | `>= 1` |
/// | `seed` | 42 | bootstrap and feature sampling (tree `k` uses `seed + k`) | any `u64` |
/// | `class_weight` | [`ClassWeight::None`] | per-class row weights, multiplied into sample weights | see [`ClassWeight`] |
///
/// Sample weights multiply the bootstrap counts (scikit-learn's rule). Row counts
/// (`min_samples_*`) count distinct rows drawn into the bootstrap.
///
/// retain's own histogram forest (it replaced smartcore's, which took 24.7 s in release for
/// 300 trees on Online Retail II, had no sample weights and wrote 60 MB artifacts): splits
/// are chosen among at most `nbins - 1` bin edges per feature (midpoints between distinct
/// training values, or row quantiles), tree `k` is seeded with `seed + k` so the forest
/// does not depend on `threads`, and each tree is stored as flat arrays with f32 node
/// shares (about 7 significant digits) and exact f64 thresholds kept once per forest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RandomForestParams(RandomForestValidParams);

/// Checked hyper-parameters of [`RandomForestModel`] (table on [`RandomForestParams`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RandomForestValidParams {
    n_trees: u16,
    max_features: Option<usize>,
    max_depth: Option<u16>,
    min_samples_leaf: usize,
    min_samples_split: usize,
    seed: u64,
    #[serde(default = "default_nbins")]
    nbins: u16,
    #[serde(default = "default_threads")]
    threads: usize,
    #[serde(default)]
    class_weight: ClassWeight,
}

fn default_nbins() -> u16 {
    256
}

fn default_threads() -> usize {
    1
}

impl Default for RandomForestParams {
    fn default() -> Self {
        Self::new()
    }
}

impl RandomForestParams {
    /// The defaults of the table.
    pub fn new() -> Self {
        Self(RandomForestValidParams {
            n_trees: 300,
            max_features: None,
            max_depth: None,
            min_samples_leaf: 1,
            min_samples_split: 2,
            seed: 42,
            nbins: default_nbins(),
            threads: default_threads(),
            class_weight: ClassWeight::None,
        })
    }

    /// Sets the number of trees.
    pub fn n_trees(mut self, n: u16) -> Self {
        self.0.n_trees = n;
        self
    }

    /// Sets the features tried per split (`None` = `floor(sqrt(p))`).
    pub fn max_features(mut self, m: Option<usize>) -> Self {
        self.0.max_features = m;
        self
    }

    /// Sets the depth limit.
    pub fn max_depth(mut self, d: Option<u16>) -> Self {
        self.0.max_depth = d;
        self
    }

    /// Sets the least rows in a leaf.
    pub fn min_samples_leaf(mut self, n: usize) -> Self {
        self.0.min_samples_leaf = n;
        self
    }

    /// Sets the least rows in a node to split it.
    pub fn min_samples_split(mut self, n: usize) -> Self {
        self.0.min_samples_split = n;
        self
    }

    /// Sets the bins per feature.
    pub fn nbins(mut self, n: u16) -> Self {
        self.0.nbins = n;
        self
    }

    /// Sets the fitting threads.
    pub fn threads(mut self, n: usize) -> Self {
        self.0.threads = n;
        self
    }

    /// Sets the seed.
    pub fn seed(mut self, seed: u64) -> Self {
        self.0.seed = seed;
        self
    }

    /// Sets the class weights.
    pub fn class_weight(mut self, w: ClassWeight) -> Self {
        self.0.class_weight = w;
        self
    }

    /// Validates the hyper-parameters (`max_features <= p` is checked at fit).
    pub fn check_ref(&self) -> Result<&RandomForestValidParams, ModelError> {
        let p = &self.0;
        let bad = |name, reason: &str| {
            Err(ModelError::InvalidParam {
                name,
                reason: reason.into(),
            })
        };
        if p.n_trees == 0 {
            return bad("n_trees", "must be at least 1");
        }
        if p.max_features == Some(0) {
            return bad("max_features", "must be at least 1 (or None)");
        }
        if p.max_depth == Some(0) {
            return bad("max_depth", "must be at least 1 (or None)");
        }
        if p.min_samples_leaf == 0 {
            return bad("min_samples_leaf", "must be at least 1");
        }
        if p.min_samples_split < 2 {
            return bad("min_samples_split", "must be at least 2");
        }
        if !(2..=256).contains(&p.nbins) {
            return bad("nbins", "must be in 2..=256");
        }
        if p.threads == 0 {
            return bad("threads", "must be at least 1");
        }
        p.class_weight.check()?;
        Ok(p)
    }

    /// Validates the hyper-parameters, consuming them.
    pub fn check(self) -> Result<RandomForestValidParams, ModelError> {
        self.check_ref()?;
        Ok(self.0)
    }

    /// Checks, then fits (see [`RandomForestValidParams::fit`]).
    pub fn fit(
        &self,
        x: ArrayView2<f64>,
        y: &[bool],
        weights: Option<&[f64]>,
    ) -> Result<RandomForestModel, ModelError> {
        self.check_ref()?.fit(x, y, weights)
    }
}

/// One tree as flat arrays; node 0 is the root, `left[i] == 0` marks a leaf.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct Tree {
    feature: Vec<u16>,
    bin: Vec<u8>,
    left: Vec<u32>,
    value: Vec<f32>,
}

impl Tree {
    fn push_leaf(&mut self, value: f64) -> usize {
        self.feature.push(0);
        self.bin.push(0);
        self.left.push(0);
        self.value.push(value as f32);
        self.value.len() - 1
    }

    fn nodes(&self) -> Nodes<'_> {
        Nodes {
            feature: &self.feature,
            bin: &self.bin,
            left: &self.left,
        }
    }

    /// Visits the nodes from the root to the row's leaf.
    #[inline]
    fn path(&self, bins: &[u8], mut visit: impl FnMut(usize)) -> usize {
        let mut id = 0;
        visit(id);
        while self.left[id] != 0 {
            let l = self.left[id] as usize;
            id = if bins[self.feature[id] as usize] <= self.bin[id] {
                l
            } else {
                l + 1
            };
            visit(id);
        }
        id
    }
}

struct Grower<'a> {
    data: &'a Binned,
    params: &'a RandomForestValidParams,
    mtry: usize,
    rng: ChaCha8Rng,
    /// Per row: (weight in this tree = bootstrap count x base weight, the same if churned
    /// else 0).
    wy: Vec<[f64; 2]>,
    /// Gini decrease per feature, weighted by node weight.
    importance: Vec<f64>,
    tree: Tree,
    scratch: Scratch,
}

/// Buffers of the split search, allocated once per tree.
struct Scratch {
    features: Vec<usize>,
    batch: Vec<usize>,
    /// 256 bins per feature of the batch: (weight, churned weight, distinct rows); all
    /// zero between two searches (a scan clears the bins it reads).
    hist: Vec<[f64; 3]>,
    /// Per feature of the batch, a bit per occupied bin.
    occupied: Vec<[u64; 4]>,
}

impl Scratch {
    fn new() -> Self {
        Self {
            features: Vec::new(),
            batch: Vec::new(),
            hist: Vec::new(),
            occupied: Vec::new(),
        }
    }
}

struct Split {
    feature: usize,
    bin: u8,
    score: f64,
    /// Weight and churned weight of the left child.
    left: (f64, f64),
}

impl Grower<'_> {
    /// Node stats over `rows`: (weight, churned weight).
    fn stats(&self, rows: &[u32]) -> (f64, f64) {
        rows.iter().fold((0.0, 0.0), |(w, c), &r| {
            let [wi, ci] = self.wy[r as usize];
            (w + wi, c + ci)
        })
    }

    /// Fills `hist` (one 256-bin block per feature of `batch`) from `rows`, whose
    /// (weight, churned weight) are `wys` (in the same order), and marks the occupied bins.
    ///
    /// One pass over the node per feature, reading the feature's column: a column holds a
    /// byte per training row (563 KB at 563,057 rows) and stays in the processor's cache
    /// while the node's rows jump about in it, where a row-major row (a byte per feature)
    /// and its weights were a cache miss each (16 MB and 9 MB at that size); the weights
    /// travel with the rows instead. Each bin adds its rows in the node's order either
    /// way, so the sums are the same, bit for bit.
    fn fill_histograms(&mut self, rows: &[u32], wys: &[[f64; 2]], batch: &[usize]) {
        let (hist, occupied) = (&mut self.scratch.hist, &mut self.scratch.occupied);
        if hist.len() < batch.len() * 256 {
            hist.resize(batch.len() * 256, [0.0; 3]);
            occupied.resize(batch.len(), [0; 4]);
        }
        for (k, &f) in batch.iter().enumerate() {
            let col = &self.data.cols[f][..];
            let h = &mut hist[k * 256..(k + 1) * 256];
            let occ = &mut occupied[k];
            for (&r, &[wi, ci]) in rows.iter().zip(wys) {
                let b = usize::from(col[r as usize]);
                let e = &mut h[b];
                e[0] += wi;
                e[1] += ci;
                e[2] += 1.0;
                occ[b >> 6] |= 1 << (b & 63);
            }
        }
    }

    /// Scans the occupied bins of histogram block `k` (feature `f`) in order for the best
    /// split of a node of weight `w`, churned weight `c` and `n` rows, improving `best` if
    /// it can, and clears the block. Only occupied bins are visited, so a small node costs
    /// its rows, not 256 bins. Candidates are compared by cross-multiplying their scores
    /// (no division in the loop); the first of equal scores wins.
    fn scan(&mut self, k: usize, f: usize, (w, c, n): (f64, f64, usize), best: &mut Option<Split>) {
        let hist = &mut self.scratch.hist[k * 256..(k + 1) * 256];
        let occupied = std::mem::take(&mut self.scratch.occupied[k]);
        let parent = (c * c + (w - c) * (w - c)) / w;
        // A split must beat the parent (and the best so far): its score as num / den.
        let floor = parent + 1e-12 * w;
        let (mut num, mut den) = (best.as_ref().map_or(floor, |s| s.score.max(floor)), 1.0);
        let (nf, mf) = (n as f64, self.params.min_samples_leaf as f64);
        let (mut lw, mut lc, mut ln) = (0.0, 0.0, 0.0);
        let mut found = None;
        for (word, mut bits) in occupied.into_iter().enumerate() {
            while bits != 0 {
                let b = word * 64 + bits.trailing_zeros() as usize;
                bits &= bits - 1;
                let [bw, bc, bn] = std::mem::take(&mut hist[b]);
                lw += bw;
                lc += bc;
                ln += bn;
                // The last occupied bin leaves no rows on the right: masked by the counts.
                let (rw, rc) = (w - lw, c - lc);
                let ok = (ln >= mf) & (nf - ln >= mf) & (lw > 0.0) & (rw > 0.0);
                let (sl, sr) = (
                    lc * lc + (lw - lc) * (lw - lc),
                    rc * rc + (rw - rc) * (rw - rc),
                );
                let (cn, cd) = (sl * rw + sr * lw, lw * rw);
                if ok & (cn * den > num * cd) {
                    (num, den) = (cn, cd);
                    found = Some((b, lw, lc));
                }
            }
        }
        if let Some((b, lw, lc)) = found {
            *best = Some(Split {
                feature: f,
                bin: b as u8,
                score: num / den,
                left: (lw, lc),
            });
        }
    }

    /// The best split over `max_features` random features (more if none of them splits the
    /// node), in draw order, the first of equal scores winning.
    fn best_split(&mut self, rows: &[u32], wys: &[[f64; 2]], w: f64, c: f64) -> Option<Split> {
        let p = self.data.nbins.len();
        let mut features = std::mem::take(&mut self.scratch.features);
        features.clear();
        features.extend(0..p);
        let mut best: Option<Split> = None;
        let node = (w, c, rows.len());
        // The first `mtry` draws, histogrammed in one pass; splittable features only.
        let mut batch = std::mem::take(&mut self.scratch.batch);
        batch.clear();
        let mut t = 0;
        while t < p && batch.len() < self.mtry {
            let j = self.rng.random_range(t..p);
            features.swap(t, j);
            if self.data.nbins[features[t]] >= 2 {
                batch.push(features[t]);
            }
            t += 1;
        }
        self.fill_histograms(rows, wys, &batch);
        for (k, &f) in batch.iter().enumerate() {
            self.scan(k, f, node, &mut best);
        }
        // No split among them: go on one feature at a time, as scikit-learn does.
        while best.is_none() && t < p {
            let j = self.rng.random_range(t..p);
            features.swap(t, j);
            let f = features[t];
            t += 1;
            if self.data.nbins[f] < 2 {
                continue;
            }
            self.fill_histograms(rows, wys, &[f]);
            self.scan(0, f, node, &mut best);
        }
        self.scratch.features = features;
        self.scratch.batch = batch;
        let parent = (c * c + (w - c) * (w - c)) / w;
        best.map(|mut s| {
            // The weighted Gini decrease of the split is exactly score - parent.
            s.score -= parent;
            s
        })
    }

    fn grow(mut self, mut rows: Vec<u32>) -> (Tree, Vec<f64>) {
        let (w, c) = self.stats(&rows);
        // Each row's weights, kept beside it through the partitions.
        let mut wys: Vec<[f64; 2]> = rows.iter().map(|&r| self.wy[r as usize]).collect();
        let root = self.tree.push_leaf(c / w);
        // (node, start, end, depth, weight, churned weight)
        let mut stack = vec![(root, 0usize, rows.len(), 0u16, w, c)];
        while let Some((node, start, end, depth, w, c)) = stack.pop() {
            let n = end - start;
            let pure = c <= 0.0 || c >= w;
            if pure
                || n < self.params.min_samples_split
                || n < 2 * self.params.min_samples_leaf
                || self.params.max_depth.is_some_and(|d| depth >= d)
            {
                continue;
            }
            let Some(split) = self.best_split(&rows[start..end], &wys[start..end], w, c) else {
                continue;
            };
            self.importance[split.feature] += split.score;
            let col = &self.data.cols[split.feature];
            let (slice, ws) = (&mut rows[start..end], &mut wys[start..end]);
            // Stable-enough in-place partition: left rows first.
            let mut k = 0;
            for i in 0..slice.len() {
                if col[slice[i] as usize] <= split.bin {
                    slice.swap(i, k);
                    ws.swap(i, k);
                    k += 1;
                }
            }
            let mid = start + k;
            let (lw, lc) = split.left;
            let (rw, rc) = (w - lw, c - lc);
            let l = self.tree.push_leaf(lc / lw);
            self.tree.push_leaf(rc / rw);
            self.tree.feature[node] = split.feature as u16;
            self.tree.bin[node] = split.bin;
            self.tree.left[node] = l as u32;
            stack.push((l + 1, mid, end, depth + 1, rw, rc));
            stack.push((l, start, mid, depth + 1, lw, lc));
        }
        (self.tree, self.importance)
    }
}

impl RandomForestValidParams {
    /// The hyper-parameters by name, for a model card.
    pub fn to_record(&self) -> BTreeMap<String, serde_json::Value> {
        BTreeMap::from([
            ("n_trees".into(), self.n_trees.into()),
            ("max_features".into(), self.max_features.into()),
            ("max_depth".into(), self.max_depth.into()),
            ("min_samples_leaf".into(), self.min_samples_leaf.into()),
            ("min_samples_split".into(), self.min_samples_split.into()),
            ("nbins".into(), self.nbins.into()),
            ("threads".into(), self.threads.into()),
            ("seed".into(), self.seed.into()),
            ("class_weight".into(), self.class_weight.to_record().into()),
            ("criterion".into(), "gini".into()),
        ])
    }

    /// Fits the forest on raw features (`y[i]` true = churned), with optional sample
    /// weights.
    pub fn fit(
        &self,
        x: ArrayView2<f64>,
        y: &[bool],
        weights: Option<&[f64]>,
    ) -> Result<RandomForestModel, ModelError> {
        check_training(x, y, weights)?;
        let p = x.ncols();
        if let Some(m) = self.max_features
            && m > p
        {
            return Err(ModelError::InvalidParam {
                name: "max_features",
                reason: format!("{m} is more than the {p} features"),
            });
        }
        if p > usize::from(u16::MAX) || x.nrows() > u32::MAX as usize {
            return Err(ModelError::Fit {
                kind: RandomForestModel::KIND,
                message: format!("{} rows x {p} features is too large", x.nrows()),
            });
        }
        let weights = self.class_weight.sample_weights(y, weights);
        let data = Binned::new(x, usize::from(self.nbins));
        let base_w = weights.as_deref();
        let mtry = self
            .max_features
            .unwrap_or_else(|| ((p as f64).sqrt().floor() as usize).max(1));
        let n_trees = usize::from(self.n_trees);
        let fit_tree = |k: usize| -> (Tree, Vec<f64>) {
            let mut rng = ChaCha8Rng::seed_from_u64(self.seed.wrapping_add(k as u64));
            let n = y.len();
            let mut counts = vec![0u32; n];
            for _ in 0..n {
                counts[rng.random_range(0..n)] += 1;
            }
            let wy: Vec<[f64; 2]> = counts
                .iter()
                .enumerate()
                .map(|(i, &k)| {
                    let wi = f64::from(k) * base_w.map_or(1.0, |w| w[i]);
                    [wi, if y[i] { wi } else { 0.0 }]
                })
                .collect();
            let rows: Vec<u32> = (0..n as u32).filter(|&i| wy[i as usize][0] > 0.0).collect();
            let g = Grower {
                data: &data,
                params: self,
                mtry,
                rng,
                wy,
                importance: vec![0.0; p],
                tree: Tree::default(),
                scratch: Scratch::new(),
            };
            if rows.is_empty() {
                let mut t = Tree::default();
                t.push_leaf(0.5);
                return (t, vec![0.0; p]);
            }
            g.grow(rows)
        };
        let threads = self.threads.min(n_trees);
        let mut out: Vec<Option<(Tree, Vec<f64>)>> = vec![None; n_trees];
        if threads <= 1 {
            for (k, slot) in out.iter_mut().enumerate() {
                *slot = Some(fit_tree(k));
            }
        } else {
            std::thread::scope(|s| {
                let handles: Vec<_> = (0..threads)
                    .map(|t| {
                        let fit_tree = &fit_tree;
                        s.spawn(move || {
                            (t..n_trees)
                                .step_by(threads)
                                .map(|k| (k, fit_tree(k)))
                                .collect::<Vec<_>>()
                        })
                    })
                    .collect();
                for h in handles {
                    for (k, r) in h.join().expect("a forest worker panicked") {
                        out[k] = Some(r);
                    }
                }
            });
        }
        let mut trees = Vec::with_capacity(n_trees);
        let mut importances = vec![0.0; p];
        for (tree, imp) in out.into_iter().flatten() {
            // scikit-learn: normalise per tree, then average.
            for (acc, v) in importances.iter_mut().zip(normalized(imp)) {
                *acc += v;
            }
            trees.push(tree);
        }
        Ok(RandomForestModel {
            edges: data.edges,
            trees: Arc::new(trees),
            n_features: p,
            importances: normalized(importances),
        })
    }
}

/// A fitted random forest: `P(churned)` = mean over trees of the leaf's churned share.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RandomForestModel {
    /// Bin edges per feature (module docs).
    edges: Vec<Vec<f64>>,
    trees: Arc<Vec<Tree>>,
    n_features: usize,
    importances: Vec<f64>,
}

impl RandomForestModel {
    /// The kind written in model cards.
    pub const KIND: &'static str = "random_forest";

    /// Number of trees.
    pub fn n_trees(&self) -> usize {
        self.trees.len()
    }

    /// Total nodes over all trees.
    pub fn n_nodes(&self) -> usize {
        self.trees.iter().map(|t| t.value.len()).sum()
    }

    /// Rows binned as the trees read them, row-major.
    fn binned(&self, x: ArrayView2<f64>) -> Vec<u8> {
        bin_rows(x, &self.edges)
    }
}

impl ChurnClassifier for RandomForestModel {
    fn kind(&self) -> &'static str {
        Self::KIND
    }

    fn n_features(&self) -> usize {
        self.n_features
    }

    fn predict_proba(&self, x: ArrayView2<f64>) -> Result<Array1<f64>, ModelError> {
        check_features(x, self.n_features)?;
        let sums = sum_over_trees_of_values(
            x,
            &self.edges,
            &self.trees,
            Tree::nodes,
            |t, leaf| f64::from(t.value[leaf]),
            0.0,
        );
        let trees = self.trees.len() as f64;
        Ok(sums.into_iter().map(|s| s / trees).collect())
    }

    /// Saabas contributions on the probability scale, averaged over trees: along a row's
    /// path, each split's change in churned share is credited to its feature, so the mean
    /// root share plus the row sum is the row's `P(churned)` (up to f32 rounding of the
    /// stored shares).
    ///
    /// The rows go in blocks of [`EXPLAIN_BLOCK`], tree by tree within a block: a tree grown
    /// until pure has thousands of nodes, fetched once per block instead of once per row
    /// (row by row, every row walked all 300 trees through memory). Each row still adds
    /// its trees' terms in tree order, so the values are the same bit for bit.
    fn contributions(&self, x: ArrayView2<f64>) -> Result<Option<Array2<f64>>, ModelError> {
        check_features(x, self.n_features)?;
        let bins = self.binned(x);
        let p = self.n_features;
        let scale = 1.0 / self.trees.len() as f64;
        let out = per_block(
            &bins,
            (x.nrows(), p),
            EXPLAIN_BLOCK,
            || (),
            |_, rows, phis| {
                for t in self.trees.iter() {
                    for (row, phi) in rows.chunks(p.max(1)).zip(phis.chunks_mut(p.max(1))) {
                        let mut prev: Option<usize> = None;
                        t.path(row, |id| {
                            if let Some(par) = prev {
                                let d = f64::from(t.value[id]) - f64::from(t.value[par]);
                                phi[t.feature[par] as usize] += d * scale;
                            }
                            prev = Some(id);
                        });
                    }
                }
            },
        );
        Ok(Some(out))
    }

    /// Probability: the mean root share plus the Saabas contributions.
    fn explain(&self, x: ArrayView2<f64>) -> Result<Explanation, ModelError> {
        let values = self.contributions(x)?.expect("forest contributions");
        let roots: f64 = self.trees.iter().map(|t| f64::from(t.value[0])).sum();
        Explanation::new(
            ExplanationScale::Probability,
            roots / self.trees.len() as f64,
            values,
            self.predict_proba(x)?,
        )
    }

    /// Mean decrease in Gini impurity (normalised per tree, averaged, normalised).
    fn feature_importances(&self) -> Vec<f64> {
        self.importances.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toy(n: usize) -> (Array2<f64>, Vec<bool>) {
        // churn iff column 2 > 0.5; a scrambled matrix would not learn it.
        let x = Array2::from_shape_fn((n, 3), |(i, j)| match j {
            0 => ((i * 7919) % 101) as f64 / 101.0,
            1 => ((i * 104_729) % 97) as f64 / 97.0,
            _ => ((i * 31) % 100) as f64 / 100.0,
        });
        let y: Vec<bool> = (0..n).map(|i| x[[i, 2]] > 0.5).collect();
        (x, y)
    }

    #[test]
    fn contributions_in_blocks_are_a_row_at_a_time_walk_bit_for_bit() {
        // Noisy labels grow deep trees; more rows than two blocks, with a partial one.
        let n = 2 * EXPLAIN_BLOCK + 77;
        let (x, mut y) = toy(n);
        for (i, v) in y.iter_mut().enumerate() {
            *v ^= (i * 2_654_435_761) % 7 == 0;
        }
        let m = RandomForestParams::new()
            .n_trees(7)
            .fit(x.view(), &y, None)
            .unwrap();
        let got = m.contributions(x.view()).unwrap().unwrap();
        let bins = m.binned(x.view());
        let scale = 1.0 / m.n_trees() as f64;
        for i in 0..n {
            let row = &bins[i * 3..i * 3 + 3];
            let mut want = [0.0f64; 3];
            for t in m.trees.iter() {
                let mut prev: Option<usize> = None;
                t.path(row, |id| {
                    if let Some(par) = prev {
                        let d = f64::from(t.value[id]) - f64::from(t.value[par]);
                        want[t.feature[par] as usize] += d * scale;
                    }
                    prev = Some(id);
                });
            }
            for f in 0..3 {
                assert_eq!(
                    got[[i, f]].to_bits(),
                    want[f].to_bits(),
                    "row {i} feature {f}"
                );
            }
        }
    }

    #[test]
    fn forest_learns_the_informative_column_only() {
        let n = 300;
        let (x, y) = toy(n);
        let p = RandomForestParams::new().n_trees(20).max_features(Some(1));
        let m = p.fit(x.view(), &y, None).unwrap();
        assert_eq!(m.n_trees(), 20);
        let prob = m.predict_proba(x.view()).unwrap();
        let correct = prob
            .iter()
            .zip(&y)
            .filter(|(p, y)| (**p > 0.5) == **y)
            .count();
        assert!(correct >= n - 3, "{correct}");
        let imp = m.feature_importances();
        assert!(imp[2] > 0.8, "{imp:?}");
        // Seeded, and independent of the thread count.
        let again = p.clone().threads(3).fit(x.view(), &y, None).unwrap();
        assert_eq!(again.predict_proba(x.view()).unwrap(), prob);
        assert_eq!(again.trees, m.trees);
        // Saabas contributions add up to the probability.
        let c = m.contributions(x.view()).unwrap().unwrap();
        let root: f64 =
            m.trees.iter().map(|t| f64::from(t.value[0])).sum::<f64>() / m.n_trees() as f64;
        for i in 0..n {
            assert!((root + c.row(i).sum() - prob[i]).abs() < 1e-6);
        }
        assert!(
            RandomForestParams::new()
                .nbins(1)
                .fit(x.view(), &y, None)
                .is_err()
        );
        assert!(
            RandomForestParams::new()
                .max_features(Some(4))
                .fit(x.view(), &y, None)
                .is_err()
        );
    }

    #[test]
    fn weights_and_class_weights_shift_the_leaves() {
        let n = 200;
        let (x, _) = toy(n);
        // Pure noise labels: with balanced weights the mean probability moves to ~0.5.
        let y: Vec<bool> = (0..n).map(|i| i % 4 != 0).collect();
        let p = RandomForestParams::new().n_trees(30).max_depth(Some(2));
        let mean = |m: &RandomForestModel| m.predict_proba(x.view()).unwrap().mean().unwrap();
        let plain = p.fit(x.view(), &y, None).unwrap();
        let bal = p
            .clone()
            .class_weight(ClassWeight::Balanced)
            .fit(x.view(), &y, None)
            .unwrap();
        assert!(mean(&plain) > 0.7 && (mean(&bal) - 0.5).abs() < 0.1);
        // Zero weight on every churned row but one: the forest hardly predicts churn.
        let w: Vec<f64> = (0..n)
            .map(|i| if y[i] && i != 1 { 0.0 } else { 1.0 })
            .collect();
        let m = p.fit(x.view(), &y, Some(&w)).unwrap();
        assert!(mean(&m) < 0.2, "{}", mean(&m));
    }

    #[test]
    fn artifact_is_compact() {
        let (x, y) = toy(300);
        let m = RandomForestParams::new()
            .n_trees(10)
            .fit(x.view(), &y, None)
            .unwrap();
        let json = serde_json::to_string(&m).unwrap();
        let back: RandomForestModel = serde_json::from_str(&json).unwrap();
        assert_eq!(
            back.predict_proba(x.view()).unwrap(),
            m.predict_proba(x.view()).unwrap()
        );
        // About 12 bytes per node.
        assert!(json.len() < 40 * m.n_nodes() + 10_000, "{}", json.len());
    }
}
