//! The reasons of each client: the features whose contributions push its churn score up most
//! ([`retain_models::ChurnModel::explain`]), each as a code and a sentence built from the
//! client's own values.

use ndarray::{Array2, Axis};

/// One client's reasons: up to `k` (code, sentence) pairs, largest contribution first.
pub(crate) type ClientReasons = Vec<(String, String)>;

/// The top `k` positive contributions of every row, worded from `value(row, feature)`.
pub(crate) fn top_reasons(
    contributions: &Array2<f64>,
    names: &[String],
    k: usize,
    value: &dyn Fn(usize, &str) -> Option<f64>,
) -> Vec<ClientReasons> {
    contributions
        .axis_iter(Axis(0))
        .enumerate()
        .map(|(i, row)| {
            let mut top: Vec<(usize, f64)> = row
                .iter()
                .copied()
                .enumerate()
                .filter(|(_, v)| *v > 0.0)
                .collect();
            top.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            top.into_iter()
                .take(k)
                .map(|(j, _)| {
                    describe(&names[j], &|f| value(i, f))
                })
                .collect()
        })
        .collect()
}

/// Placeholder wording until the feature vocabulary lands: the feature name and its value.
fn describe(feature: &str, value: &dyn Fn(&str) -> Option<f64>) -> (String, String) {
    let v = value(feature).unwrap_or(f64::NAN);
    (feature.to_string(), format!("{feature} is {v}"))
}
