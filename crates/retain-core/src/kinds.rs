//! Model kinds: one name for each model, shared by model cards, evaluation keys and the
//! command line. A model's card kind is the key its metrics have in `retain evaluate`'s JSON.

/// Logistic regression on the standardised features.
pub const LOGISTIC: &str = "logistic_regression";
/// One decision tree.
pub const DECISION_TREE: &str = "decision_tree";
/// Random forest.
pub const RANDOM_FOREST: &str = "random_forest";
/// Gradient-boosted trees (the churn classifier).
pub const GRADIENT_BOOSTING: &str = "gradient_boosting";
/// Mean normalised rank of the logistic regression, a small boosted model and BG/NBD
/// P(no purchase).
pub const RANK_ENSEMBLE: &str = "rank_ensemble";
/// BG/NBD P(no purchase in the horizon).
pub const BGNBD_P_NO_PURCHASE: &str = "bgnbd_p_no_purchase";
/// Days since the last purchase (the churn baseline).
pub const BASELINE_DAYS_SINCE_LAST: &str = "baseline_days_since_last";
/// Suffix of a model that also sees the customer-base columns.
pub const HYBRID_SUFFIX: &str = "+cb";
/// Suffix of a Platt-calibrated model.
pub const PLATT_SUFFIX: &str = "+platt";
/// Suffix of an isotonic-calibrated model.
pub const ISOTONIC_SUFFIX: &str = "+isotonic";

/// Gradient-boosted regression of the holdout value.
pub const GRADIENT_BOOSTING_REGRESSOR: &str = "gradient_boosting_regressor";
/// P(buy) x E[spend | buy].
pub const TWO_PART: &str = "two_part";
/// Mean normalised rank of the two-part model and the CLV.
pub const RANK_ENSEMBLE_VALUE: &str = "rank_ensemble_value";
/// BG/NBD purchases x Gamma-Gamma spend.
pub const BGNBD_GG_CLV: &str = "bgnbd_gg_clv";
/// Pareto/NBD purchases x Gamma-Gamma spend.
pub const PARETO_NBD_GG_CLV: &str = "pareto_nbd_gg_clv";
/// MBG/NBD purchases x Gamma-Gamma spend.
pub const MBGNBD_GG_CLV: &str = "mbgnbd_gg_clv";
/// Revenue per day of tenure x horizon (the value baseline).
pub const BASELINE_REVENUE_RATE: &str = "baseline_revenue_rate";
