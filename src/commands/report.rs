//! Plain-text tables of an evaluation.

use retain_score::pipeline::Evaluation;

use super::common::opt;

/// The evaluation as readable lines.
pub fn evaluation_lines(e: &Evaluation) -> Vec<String> {
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
            name,
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
            name, m.spearman, m.normalized_gini, m.mae, m.rmse, m.top_decile_revenue_share
        ));
    }
    out
}
