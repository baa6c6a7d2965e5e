//! A single CART tree (Gini) grown by retain on binned features, stored as a node list with
//! churn probabilities per node.
//!
//! The tree was first grown by linfa-trees; on the Online Retail II training features
//! (4,976 x 29, depth 6) that took 70-100 ms in release against scikit-learn's 40 ms, since
//! it sorts every feature at every node. retain now grows it on histograms: each feature
//! is cut into at most 256 bins at midpoints between distinct training values (at quantiles
//! of the training rows when there are more; the binning of every retain tree), every node
//! histograms (weight, churned weight) per bin for every feature, and the best Gini split
//! is chosen among the bin boundaries (with fewer than 256 distinct values, exactly the
//! midpoints scikit-learn and linfa consider). The rules follow linfa-trees'
//! hyper-parameters: a node splits only if its weight is at least `min_weight_split`,
//! both children weigh at least `min_weight_leaf`, and the Gini impurity falls by at
//! least `min_impurity_decrease` (parent impurity minus the weighted mean of the
//! children's). Unlike linfa, sibling leaves with the same majority label are kept: they
//! carry different probabilities.
//!
//! After growing, the training rows are routed through the tree once to store the
//! (weighted) churned share of every node: leaves give `P(churned)`, and the path from the
//! root gives Saabas contributions (each split's change of that share, credited to the
//! split's feature). A row goes left when `x[feature] < threshold`, the threshold being a
//! midpoint strictly between two training values.

use std::collections::BTreeMap;

use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis};
use serde::{Deserialize, Serialize};

use crate::hist::Binned;
use crate::input::{check_features, check_training};
use crate::logistic::normalized;
use crate::{ChurnClassifier, ClassWeight, Explanation, ExplanationScale, ModelError};

/// Hyper-parameters of [`DecisionTreeModel`]; setters never fail, [`Self::check`] validates.
///
/// | Name | Default | Purpose | Range |
/// |---|---|---|---|
/// | `max_depth` | `Some(6)` | depth limit (`None` = grow until pure) | `>= 1` |
/// | `min_weight_split` | 40.0 | least (weighted) rows in a node to split it | `>= 0` |
/// | `min_weight_leaf` | 20.0 | least (weighted) rows on each side of a split | `>= 0` |
/// | `min_impurity_decrease` | 1e-5 | least Gini decrease for a split | `>= 0` |
/// | `class_weight` | [`ClassWeight::None`] | per-class row weights, multiplied into sample weights | see [`ClassWeight`] |
///
/// With class weights, node shares (and so `P(churned)`) are on the reweighted scale: a
/// `Balanced` tree's probabilities are not the base rate's; calibrate them
/// ([`crate::Calibrated`]) if they are read as probabilities.
///
/// The fit is deterministic (no randomness), so there is no seed. retain grows the tree on
/// histograms (at most 256 bins per feature, edges at midpoints between distinct training
/// values), as linfa-trees' rules above but keeping sibling leaves of equal majority label;
/// it replaced linfa-trees, which sorted every feature at every node (70-100 ms on Online
/// Retail II against scikit-learn's 40 ms).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecisionTreeParams(DecisionTreeValidParams);

/// Checked hyper-parameters of [`DecisionTreeModel`] (table on [`DecisionTreeParams`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecisionTreeValidParams {
    max_depth: Option<usize>,
    min_weight_split: f32,
    min_weight_leaf: f32,
    min_impurity_decrease: f64,
    #[serde(default)]
    class_weight: ClassWeight,
}

impl Default for DecisionTreeParams {
    fn default() -> Self {
        Self::new()
    }
}

impl DecisionTreeParams {
    /// The defaults of the table.
    pub fn new() -> Self {
        Self(DecisionTreeValidParams {
            max_depth: Some(6),
            min_weight_split: 40.0,
            min_weight_leaf: 20.0,
            min_impurity_decrease: 1e-5,
            class_weight: ClassWeight::None,
        })
    }

    /// Sets the depth limit.
    pub fn max_depth(mut self, d: Option<usize>) -> Self {
        self.0.max_depth = d;
        self
    }

    /// Sets the least weight of a node to split.
    pub fn min_weight_split(mut self, w: f32) -> Self {
        self.0.min_weight_split = w;
        self
    }

    /// Sets the least weight of each child.
    pub fn min_weight_leaf(mut self, w: f32) -> Self {
        self.0.min_weight_leaf = w;
        self
    }

    /// Sets the least impurity decrease of a split.
    pub fn min_impurity_decrease(mut self, d: f64) -> Self {
        self.0.min_impurity_decrease = d;
        self
    }

    /// Sets the class weights.
    pub fn class_weight(mut self, w: ClassWeight) -> Self {
        self.0.class_weight = w;
        self
    }

    /// Validates the hyper-parameters.
    pub fn check_ref(&self) -> Result<&DecisionTreeValidParams, ModelError> {
        let p = &self.0;
        p.class_weight.check()?;
        let bad = |name, reason: String| Err(ModelError::InvalidParam { name, reason });
        if p.max_depth == Some(0) {
            return bad("max_depth", "must be at least 1 (or None)".into());
        }
        if !(p.min_weight_split.is_finite() && p.min_weight_split >= 0.0) {
            return bad(
                "min_weight_split",
                format!("{} is not >= 0", p.min_weight_split),
            );
        }
        if !(p.min_weight_leaf.is_finite() && p.min_weight_leaf >= 0.0) {
            return bad(
                "min_weight_leaf",
                format!("{} is not >= 0", p.min_weight_leaf),
            );
        }
        if !(p.min_impurity_decrease.is_finite() && p.min_impurity_decrease >= 0.0) {
            return bad(
                "min_impurity_decrease",
                format!("{} is not >= 0", p.min_impurity_decrease),
            );
        }
        Ok(p)
    }

    /// Validates the hyper-parameters, consuming them.
    pub fn check(self) -> Result<DecisionTreeValidParams, ModelError> {
        self.check_ref()?;
        Ok(self.0)
    }

    /// Checks, then fits (see [`DecisionTreeValidParams::fit`]).
    pub fn fit(
        &self,
        x: ArrayView2<f64>,
        y: &[bool],
        weights: Option<&[f64]>,
    ) -> Result<DecisionTreeModel, ModelError> {
        self.check_ref()?.fit(x, y, weights)
    }
}

impl DecisionTreeValidParams {
    /// The hyper-parameters by name, for a model card.
    pub fn to_record(&self) -> BTreeMap<String, serde_json::Value> {
        BTreeMap::from([
            ("max_depth".into(), self.max_depth.into()),
            ("min_weight_split".into(), self.min_weight_split.into()),
            ("min_weight_leaf".into(), self.min_weight_leaf.into()),
            (
                "min_impurity_decrease".into(),
                self.min_impurity_decrease.into(),
            ),
            ("class_weight".into(), self.class_weight.to_record().into()),
            ("criterion".into(), "gini".into()),
        ])
    }

    /// Grows a Gini tree on binned features (`y[i]` true = churned; optional per-row
    /// weights), then stores each node's weighted churned share (module docs).
    pub fn fit(
        &self,
        x: ArrayView2<f64>,
        y: &[bool],
        weights: Option<&[f64]>,
    ) -> Result<DecisionTreeModel, ModelError> {
        check_training(x, y, weights)?;
        let weights = self.class_weight.sample_weights(y, weights);
        let weights = weights.as_deref();
        let Binned {
            edges, rows: bins, ..
        } = Binned::new(x, 256);
        let p = x.ncols();
        let wy: Vec<[f64; 2]> = (0..y.len())
            .map(|i| {
                let w = weights.map_or(1.0, |w| w[i]);
                [w, if y[i] { w } else { 0.0 }]
            })
            .collect();
        let mut flat = FlatTree::default();
        let mut rows: Vec<usize> = (0..y.len()).filter(|&i| wy[i][0] > 0.0).collect();
        flat.nodes.push(FlatNode::leaf());
        let nb: Vec<usize> = edges.iter().map(|e| e.len() + 1).collect();
        let stats = |rows: &[usize]| {
            rows.iter()
                .fold((0.0, 0.0), |(w, c), &r| (w + wy[r][0], c + wy[r][1]))
        };
        let splittable = |w: f64, c: f64, depth: usize| {
            w >= f64::from(self.min_weight_split)
                && self.max_depth.is_none_or(|d| depth < d)
                && c > 0.0
                && c < w
        };
        // Histograms (weight, churned weight, rows) of the nodes waiting on the stack:
        // only the smaller child of a split is histogrammed, the larger one gets its
        // parent's histogram minus the smaller's.
        let mut pool: Vec<Vec<[f64; 3]>> = Vec::new();
        let mut free: Vec<usize> = Vec::new();
        let take = |pool: &mut Vec<Vec<[f64; 3]>>, free: &mut Vec<usize>| {
            free.pop().unwrap_or_else(|| {
                pool.push(vec![[0.0; 3]; p * 256]);
                pool.len() - 1
            })
        };
        let build = |hist: &mut [[f64; 3]], rows: &[usize]| {
            for (f, &k) in nb.iter().enumerate() {
                hist[f * 256..f * 256 + k].fill([0.0; 3]);
            }
            for &r in rows {
                let [wi, ci] = wy[r];
                for (f, &b) in bins[r * p..(r + 1) * p].iter().enumerate() {
                    let h = &mut hist[f * 256 + usize::from(b)];
                    h[0] += wi;
                    h[1] += ci;
                    h[2] += 1.0;
                }
            }
        };
        let (w, c) = stats(&rows);
        // (node, start, end, depth, weight, churned weight, histogram)
        let mut stack = Vec::new();
        if splittable(w, c, 0) {
            let k = take(&mut pool, &mut free);
            build(&mut pool[k], &rows);
            stack.push((0usize, 0usize, rows.len(), 0usize, w, c, k));
        }
        while let Some((node, start, end, depth, w, c, k)) = stack.pop() {
            let hist = &pool[k];
            let gini = |w: f64, c: f64| 2.0 * (c / w) * (1.0 - c / w);
            let parent = gini(w, c);
            let min_leaf = f64::from(self.min_weight_leaf);
            // The children's weighted impurity is 2 (A / lw + B / rw) / w with A = lc (lw -
            // lc) and B = rc (rw - rc): candidates are compared as the fraction
            // (A rw + B lw) / (lw rw), cross-multiplied, so the scan divides nothing. Empty
            // bins are skipped; the first of equal candidates wins.
            let (mut num, mut den) = (f64::INFINITY, 1.0);
            let mut best: Option<(usize, usize)> = None;
            for (f, e) in edges.iter().enumerate() {
                let (mut lw, mut lc) = (0.0, 0.0);
                for (b, &[bw, bc, bn]) in hist[f * 256..f * 256 + e.len()].iter().enumerate() {
                    if bn == 0.0 {
                        continue;
                    }
                    lw += bw;
                    lc += bc;
                    let (rw, rc) = (w - lw, c - lc);
                    let ok = (lw >= min_leaf) & (rw >= min_leaf) & (lw > 0.0) & (rw > 0.0);
                    let (cn, cd) = (lc * (lw - lc) * rw + rc * (rw - rc) * lw, lw * rw);
                    if ok & (cn * den < num * cd) {
                        (num, den) = (cn, cd);
                        best = Some((f, b));
                    }
                }
            }
            let best = best.map(|(f, b)| (parent - 2.0 * (num / den) / w, f, b));
            let Some((_, f, b)) =
                best.filter(|&(d, _, _)| d >= self.min_impurity_decrease && d > 0.0)
            else {
                free.push(k);
                continue;
            };
            let slice = &mut rows[start..end];
            let mut m = 0;
            for i in 0..slice.len() {
                if bins[slice[i] * p + f] <= b as u8 {
                    slice.swap(i, m);
                    m += 1;
                }
            }
            let mid = start + m;
            let l = flat.nodes.len();
            flat.nodes.push(FlatNode::leaf());
            flat.nodes.push(FlatNode::leaf());
            let n = &mut flat.nodes[node];
            n.feature = f;
            n.threshold = edges[f][b];
            n.children = Some((l, l + 1));
            let (lw, lc) = stats(&rows[start..mid]);
            let (rw, rc) = stats(&rows[mid..end]);
            let (ls, rs) = (splittable(lw, lc, depth + 1), splittable(rw, rc, depth + 1));
            let left_small = mid - start <= end - mid;
            let (small, large) = if left_small {
                ((start, mid, ls), (mid, end, rs))
            } else {
                ((mid, end, rs), (start, mid, ls))
            };
            let sk = small.2.then(|| {
                let sk = take(&mut pool, &mut free);
                build(&mut pool[sk], &rows[small.0..small.1]);
                sk
            });
            let lk = if large.2 {
                if let Some(sk) = sk {
                    let (a, s) = if sk < k {
                        let (lo, hi) = pool.split_at_mut(k);
                        (&mut hi[0], &lo[sk])
                    } else {
                        let (lo, hi) = pool.split_at_mut(sk);
                        (&mut lo[k], &hi[0])
                    };
                    for (f, &nbf) in nb.iter().enumerate() {
                        let r = f * 256..f * 256 + nbf;
                        for (x, y) in a[r.clone()].iter_mut().zip(&s[r]) {
                            *x = [x[0] - y[0], x[1] - y[1], x[2] - y[2]];
                        }
                    }
                } else {
                    let hist = &mut pool[k];
                    for &r in &rows[small.0..small.1] {
                        let [wi, ci] = wy[r];
                        for (f, &b) in bins[r * p..(r + 1) * p].iter().enumerate() {
                            let h = &mut hist[f * 256 + usize::from(b)];
                            h[0] -= wi;
                            h[1] -= ci;
                            h[2] -= 1.0;
                        }
                    }
                }
                Some(k)
            } else {
                free.push(k);
                None
            };
            let (lk, rk) = if left_small { (sk, lk) } else { (lk, sk) };
            if let Some(rk) = rk {
                stack.push((l + 1, mid, end, depth + 1, rw, rc, rk));
            }
            if let Some(lk) = lk {
                stack.push((l, start, mid, depth + 1, lw, lc, lk));
            }
        }
        flat.fill_values(x, y, weights);
        let importances = flat.gini_importances(x.ncols());
        Ok(DecisionTreeModel {
            tree: flat,
            n_features: x.ncols(),
            importances,
        })
    }
}

/// A node of a [`FlatTree`]: a split (`left`/`right` set) or a leaf.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct FlatNode {
    /// Split feature (unused in leaves).
    feature: usize,
    /// Rows with `x[feature] < threshold` go left.
    threshold: f64,
    /// Children, `None` in leaves.
    children: Option<(usize, usize)>,
    /// Weighted churned share of the training rows reaching the node.
    value: f64,
    /// Weighted rows reaching the node, and weighted churned rows.
    weight: f64,
    churned: f64,
}

impl FlatNode {
    fn leaf() -> Self {
        Self {
            feature: 0,
            threshold: 0.0,
            children: None,
            value: 0.0,
            weight: 0.0,
            churned: 0.0,
        }
    }
}

/// A binary tree as a node list (root first).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct FlatTree {
    nodes: Vec<FlatNode>,
}

impl FlatTree {
    fn path(&self, row: ArrayView1<f64>, mut visit: impl FnMut(usize)) {
        let mut id = 0;
        visit(id);
        while let Some((l, r)) = self.nodes[id].children {
            let n = &self.nodes[id];
            id = if row[n.feature] < n.threshold { l } else { r };
            visit(id);
        }
    }

    fn fill_values(&mut self, x: ArrayView2<f64>, y: &[bool], weights: Option<&[f64]>) {
        for (i, row) in x.axis_iter(Axis(0)).enumerate() {
            let w = weights.map_or(1.0, |w| w[i]);
            let mut ids = Vec::new();
            self.path(row, |id| ids.push(id));
            for id in ids {
                self.nodes[id].weight += w;
                if y[i] {
                    self.nodes[id].churned += w;
                }
            }
        }
        // Parents come before children, so a weightless node can inherit its parent's value.
        let mut parent_value = vec![0.5; self.nodes.len()];
        for id in 0..self.nodes.len() {
            let n = &mut self.nodes[id];
            n.value = if n.weight > 0.0 {
                n.churned / n.weight
            } else {
                parent_value[id]
            };
            if let Some((l, r)) = n.children {
                parent_value[l] = n.value;
                parent_value[r] = n.value;
            }
        }
    }

    fn gini_importances(&self, n_features: usize) -> Vec<f64> {
        let impurity = |n: &FlatNode| n.weight * 2.0 * n.value * (1.0 - n.value);
        let mut imp = vec![0.0; n_features];
        for n in &self.nodes {
            if let Some((l, r)) = n.children {
                let gain = impurity(n) - impurity(&self.nodes[l]) - impurity(&self.nodes[r]);
                imp[n.feature] += gain.max(0.0);
            }
        }
        normalized(imp)
    }
}

/// A fitted decision tree: `P(churned)` is the churned share of the training rows in the
/// row's leaf. Keeps per-node counts, not the training rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecisionTreeModel {
    tree: FlatTree,
    n_features: usize,
    importances: Vec<f64>,
}

impl DecisionTreeModel {
    /// The kind written in model cards.
    pub const KIND: &'static str = "decision_tree";

    /// Number of nodes (splits and leaves).
    pub fn n_nodes(&self) -> usize {
        self.tree.nodes.len()
    }
}

impl ChurnClassifier for DecisionTreeModel {
    fn kind(&self) -> &'static str {
        Self::KIND
    }

    fn n_features(&self) -> usize {
        self.n_features
    }

    fn predict_proba(&self, x: ArrayView2<f64>) -> Result<Array1<f64>, ModelError> {
        check_features(x, self.n_features)?;
        Ok(x.axis_iter(Axis(0))
            .map(|row| {
                let mut last = 0;
                self.tree.path(row, |id| last = id);
                self.tree.nodes[last].value
            })
            .collect())
    }

    /// Saabas contributions on the probability scale: along the row's path, each split's
    /// change in churned share is credited to its feature, so the root's share plus the row
    /// sum is the row's `P(churned)`.
    fn contributions(&self, x: ArrayView2<f64>) -> Result<Option<Array2<f64>>, ModelError> {
        check_features(x, self.n_features)?;
        let mut out = Array2::zeros((x.nrows(), self.n_features));
        for (i, row) in x.axis_iter(Axis(0)).enumerate() {
            let mut prev: Option<usize> = None;
            self.tree.path(row, |id| {
                if let Some(p) = prev {
                    let parent = &self.tree.nodes[p];
                    out[[i, parent.feature]] += self.tree.nodes[id].value - parent.value;
                }
                prev = Some(id);
            });
        }
        Ok(Some(out))
    }

    /// Probability: the root's churned share plus the Saabas contributions.
    fn explain(&self, x: ArrayView2<f64>) -> Result<Explanation, ModelError> {
        let values = self.contributions(x)?.expect("tree contributions");
        Explanation::new(
            ExplanationScale::Probability,
            self.tree.nodes[0].value,
            values,
            self.predict_proba(x)?,
        )
    }

    /// Weighted Gini decrease per feature (recomputed on the flattened tree), normalised.
    fn feature_importances(&self) -> Vec<f64> {
        self.importances.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array2, array};

    #[test]
    fn learns_a_threshold_and_decomposes_probabilities() {
        // churn iff column 1 >= 50; column 0 is noise.
        let n = 200;
        let x = Array2::from_shape_fn((n, 2), |(i, j)| {
            if j == 0 {
                ((i * 37) % 11) as f64
            } else {
                (i % 100) as f64
            }
        });
        let y: Vec<bool> = (0..n).map(|i| i % 100 >= 50).collect();
        let m = DecisionTreeParams::new().fit(x.view(), &y, None).unwrap();
        let p = m.predict_proba(x.view()).unwrap();
        for (pi, yi) in p.iter().zip(&y) {
            assert_eq!(*pi, if *yi { 1.0 } else { 0.0 });
        }
        let imp = m.feature_importances();
        assert!(imp[1] > 0.99, "{imp:?}");
        let c = m.contributions(x.view()).unwrap().unwrap();
        let root = m.tree.nodes[0].value;
        for i in 0..n {
            assert!((root + c.row(i).sum() - p[i]).abs() < 1e-12);
        }
        // Weights shift the leaf shares.
        let w: Vec<f64> = (0..n).map(|i| if i % 2 == 0 { 3.0 } else { 1.0 }).collect();
        let mw = DecisionTreeParams::new()
            .fit(x.view(), &y, Some(&w))
            .unwrap();
        assert!((mw.tree.nodes[0].value - 0.5).abs() < 1e-12);
        let bad = array![[1.0]];
        assert!(m.predict_proba(bad.view()).is_err());
        assert!(
            DecisionTreeParams::new()
                .max_depth(Some(0))
                .check()
                .is_err()
        );
    }
}
