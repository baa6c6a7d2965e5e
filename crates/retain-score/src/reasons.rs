//! The reasons of each client: the features whose contributions push its churn score up most
//! ([`retain_models::ChurnModel::explain`]), each as a code and a sentence built from the
//! client's own values.

use ndarray::Array2;
use rayon::prelude::*;

/// One client's reasons: up to `k` (code, sentence) pairs, largest contribution first.
pub(crate) type ClientReasons = Vec<(String, String)>;

/// The top `k` positive contributions of every row, worded from `value(row, feature)`.
pub(crate) fn top_reasons(
    contributions: &Array2<f64>,
    names: &[String],
    k: usize,
    value: &(dyn Fn(usize, &str) -> Option<f64> + Sync),
) -> Vec<ClientReasons> {
    // rows on rayon's threads: each row's reasons are its own, so the result is the
    // one-thread one
    (0..contributions.nrows())
        .into_par_iter()
        .map(|i| {
            let row = contributions.row(i);
            let mut top: Vec<(usize, f64)> = row
                .iter()
                .copied()
                .enumerate()
                .filter(|(_, v)| *v > 0.0)
                .collect();
            top.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            // Several features can word the same fact (the three 90-day revenue features
            // give one comparison): a sentence is given once, at its first (largest) place.
            let mut out: ClientReasons = Vec::with_capacity(k);
            for (j, _) in top {
                if out.len() == k {
                    break;
                }
                let r = retain_features::describe(&names[j], &|f| value(i, f));
                if !out.iter().any(|(_, t)| *t == r.text) {
                    out.push((r.code.to_string(), r.text));
                }
            }
            out
        })
        .collect()
}
