//! Plain-text tables of an evaluation and of a backtest.

use retain_core::Cutoff;
use retain_eval::{Interval, MeanStd};
use retain_score::Scores;
use retain_train::Evaluation;
use retain_train::backtest::Backtest;

use super::common::Ui;

use super::common::opt;

fn marked(name: &str, selected: Option<&str>) -> String {
    if selected == Some(name) {
        format!("{name} *")
    } else {
        name.to_string()
    }
}

/// The evaluation as readable lines, the selected churn and value models marked with `*`.
pub fn evaluation_lines_marked(
    e: &Evaluation,
    churn_selected: Option<&str>,
    value_selected: Option<&str>,
) -> Vec<String> {
    let mut out = vec![
        format!(
            "evaluation: features at {}, holdout {} days after; trained on features at {} with \
             labels up to {}",
            e.protocol.cutoff, e.protocol.horizon, e.train_cutoff, e.protocol.cutoff
        ),
        format!(
            "clients: {} evaluated (churn rate {:.3}), {} in training (churn rate {:.3}); {} \
             features used",
            e.population_eval,
            e.churn_rate_eval,
            e.population_train,
            e.churn_rate_train,
            e.features_used.len()
        ),
        String::new(),
        format!(
            "{:<28} {:>8} {:>8} {:>9} {:>7} {:>9}",
            "churn model", "ROC AUC", "PR AUC", "lift@10%", "Brier", "log loss"
        ),
    ];
    for (name, m) in &e.churn {
        out.push(format!(
            "{:<28} {:>8.3} {:>8.3} {:>9.2} {:>7} {:>9}",
            marked(name, churn_selected),
            m.roc_auc,
            m.pr_auc,
            m.top_decile_lift,
            opt(m.brier),
            opt(m.log_loss)
        ));
    }
    out.push(String::new());
    out.push(format!(
        "{:<28} {:>8} {:>8} {:>9} {:>9} {:>9}",
        "value model", "Spearman", "Gini", "MAE", "RMSE", "top-10%"
    ));
    for (name, m) in &e.value {
        out.push(format!(
            "{:<28} {:>8.3} {:>8.3} {:>9.1} {:>9.1} {:>9.3}",
            marked(name, value_selected),
            m.spearman,
            m.normalized_gini,
            m.mae,
            m.rmse,
            m.top_decile_revenue_share
        ));
    }
    out
}

fn ci(i: Option<&Interval>) -> String {
    i.map(|i| format!("[{:.3}, {:.3}]", i.lower, i.upper))
        .unwrap_or_else(|| "-".into())
}

fn ms(m: &MeanStd) -> String {
    if m.std.is_finite() {
        format!("{:.3}±{:.3}", m.mean, m.std)
    } else {
        format!("{:.3}", m.mean)
    }
}

/// The backtest's extra tables: profit and intervals at the last cutoff, metrics across
/// cutoffs, and the selection.
pub fn backtest_lines(b: &Backtest) -> Vec<String> {
    let Some(last) = b.cutoffs.last() else {
        return Vec::new();
    };
    let s = &b.settings;
    let mut out = vec![
        String::new(),
        format!(
            "training: {} window(s) per cutoff, {} days apart (features at {}); hybrid \
             customer-base features: {}; calibration: {}",
            s.train_windows,
            s.train_spacing,
            last.train_cutoffs
                .iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join(", "),
            if s.hybrid { "yes (+cb)" } else { "no" },
            match s.calibration {
                Some(m) => format!("{m:?}").to_lowercase(),
                None => "none".into(),
            }
        ),
        String::new(),
        format!(
            "{:<28} {:>7} {:>7} {:>9} {:>16} {:>16}",
            "churn model", "EMPC", "target", "profit/cl", "ROC AUC 95% CI", "lift 95% CI"
        ),
    ];
    let sel = last.selection.as_ref();
    for (name, r) in &last.churn {
        let iv = b.churn_intervals.get(name);
        out.push(format!(
            "{:<28} {:>7.3} {:>6.1}% {:>9.3} {:>16} {:>16}",
            marked(name, sel.map(|s| s.churn_model.as_str())),
            r.empc.empc,
            100.0 * r.empc.fraction_targeted,
            r.empc_individual
                .map(|e| e.profit_per_client)
                .unwrap_or(f64::NAN),
            ci(iv.and_then(|m| m.get("roc_auc"))),
            ci(iv.and_then(|m| m.get("top_decile_lift"))),
        ));
    }
    out.push(String::new());
    out.push(format!(
        "{:<28} {:>16} {:>16}",
        "value model", "Spearman 95% CI", "Gini 95% CI"
    ));
    for name in last.value.keys() {
        let iv = b.value_intervals.get(name);
        out.push(format!(
            "{:<28} {:>16} {:>16}",
            marked(name, sel.map(|s| s.value_model.as_str())),
            ci(iv.and_then(|m| m.get("spearman"))),
            ci(iv.and_then(|m| m.get("normalized_gini"))),
        ));
    }
    if b.cutoffs.len() > 1 {
        out.push(String::new());
        out.push(format!(
            "across {} cutoffs ({}), mean±std:",
            b.cutoffs.len(),
            b.cutoffs
                .iter()
                .map(|c| c.cutoff.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ));
        out.push(format!(
            "{:<28} {:>12} {:>12} {:>12} {:>12} {:>12}",
            "churn model", "ROC AUC", "PR AUC", "lift@10%", "Brier", "EMPC"
        ));
        let mut rows: Vec<(String, &retain_train::backtest::ChurnSummary)> = b
            .churn_summary
            .iter()
            .map(|(k, v)| (k.clone(), v))
            .collect();
        if let Some(selected) = &b.selected_churn_summary {
            rows.push(("(selected at each cutoff)".into(), selected));
        }
        for (name, m) in rows {
            out.push(format!(
                "{:<28} {:>12} {:>12} {:>12} {:>12} {:>12}",
                name,
                ms(&m.metrics.roc_auc),
                ms(&m.metrics.pr_auc),
                ms(&m.metrics.top_decile_lift),
                m.metrics
                    .brier
                    .as_ref()
                    .map(ms)
                    .unwrap_or_else(|| "-".into()),
                ms(&m.empc),
            ));
        }
        out.push(format!(
            "{:<28} {:>12} {:>12} {:>12}",
            "value model", "Spearman", "Gini", "top-10%"
        ));
        for (name, m) in &b.value_summary {
            out.push(format!(
                "{:<28} {:>12} {:>12} {:>12}",
                name,
                ms(&m.spearman),
                ms(&m.normalized_gini),
                ms(&m.top_decile_revenue_share),
            ));
        }
    }
    out.push(String::new());
    match sel {
        Some(s) => out.push(format!(
            "* selected on the most recent training window (validation cutoff {}, labels up to \
             {}) by {}: churn {} ({:.3}), value {} (Spearman {:.3})",
            s.validation_cutoff,
            last.cutoff,
            s.metric.name(),
            s.churn_model,
            s.churn_validation
                .get(&s.churn_model)
                .copied()
                .unwrap_or(f64::NAN),
            s.value_model,
            s.value_validation
                .get(&s.value_model)
                .copied()
                .unwrap_or(f64::NAN),
        )),
        None => out.push(
            "no model selected: the data are too short for a validation window before the \
             training windows"
                .into(),
        ),
    }
    out
}

/// Prints the features and score whose distribution moved past the threshold.
pub fn report_drift(ui: &Ui, scores: &Scores) {
    let s = &scores.summary;
    let drifted = s.drifted();
    if drifted.is_empty() {
        let top = s.drift.first();
        ui.say(format!(
            "drift: none above PSI {}{}",
            s.drift_threshold,
            top.map(|d| format!(" (largest: {} {:.3})", d.feature, d.psi))
                .unwrap_or_default()
        ));
    } else {
        eprintln!(
            "warning: {} distribution(s) drifted from the training data (PSI > {}): {}",
            drifted.len(),
            s.drift_threshold,
            drifted
                .iter()
                .map(|d| format!("{} {:.3}", d.feature, d.psi))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
}

/// Prints the head of the list as a table with headers.
pub fn summarize(ui: &Ui, scores: &Scores, date: Cutoff) {
    let t = &scores.table;
    let n = t.height();
    let s = &scores.summary;
    ui.say(format!(
        "{n} clients scored as of {date}: {} high, {} medium, {} low risk{}",
        s.bands[2],
        s.bands[1],
        s.bands[0],
        s.total_value_at_risk
            .map(|v| format!("; value at risk {v:.0}"))
            .unwrap_or_default()
    ));
    let cols: Vec<&str> = [
        "risk_rank",
        "client_id",
        "churn_probability",
        "churn_band",
        "clv",
        "value_at_risk",
        "reason_1_text",
    ]
    .into_iter()
    .filter(|c| t.column(c).is_ok())
    .collect();
    let mut rows: Vec<Vec<String>> = vec![cols.iter().map(|c| c.to_string()).collect()];
    for i in 0..n.min(5) {
        rows.push(
            cols.iter()
                .map(|c| match t.column(c).ok().and_then(|s| s.get(i).ok()) {
                    Some(polars::prelude::AnyValue::Float64(v)) => format!("{v:.3}"),
                    Some(v) => v.to_string().trim_matches('"').to_string(),
                    None => String::new(),
                })
                .collect(),
        );
    }
    let widths: Vec<usize> = (0..cols.len())
        .map(|j| rows.iter().map(|r| r[j].chars().count()).max().unwrap_or(0))
        .collect();
    ui.say("the five most at risk:");
    for r in rows {
        let cells: Vec<String> = r
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        ui.say(format!("  {}", cells.join("  ").trim_end()));
    }
}
