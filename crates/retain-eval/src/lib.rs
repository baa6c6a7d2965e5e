//! Metrics for churn scores and value predictions.
