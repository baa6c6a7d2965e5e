//! Metrics for churn scores and value predictions.
//!
//! Every metric works on plain slices, one entry per client, and follows the definitions of the
//! shared benchmark (BENCHMARK.md section 6) and the peer's Python reference
//! (`peer_pipeline.py`: `churn_metrics`, `value_metrics`, `gini`, `order_desc`, `top_k`):
//!
//! * churn: [`churn_metrics`] (ROC AUC, PR AUC, top-decile lift, Brier, log loss);
//! * value: [`value_metrics`] (Spearman, normalized Gini, MAE, RMSE, top-decile revenue share)
//!   and [`purchase_metrics`];
//! * tables: [`gains_table`] (lift by decile of score), [`calibration_table`] (as sklearn's
//!   `calibration_curve`);
//! * profit: [`empc()`] (expected maximum profit for churn, Verbraken et al. 2013) and
//!   [`empc_individual`] (with each client's CLV);
//! * concentration: [`key_clients`] (the smallest set of clients bringing a share of the
//!   value) and [`concentration_curve`] (the descending Lorenz curve and its Gini);
//! * uplift: [`qini()`] (the Qini curve and coefficient of a randomised campaign);
//! * uncertainty: [`bootstrap()`] (percentile intervals of any metric over resampled rows);
//! * across cutoffs: [`summarize`] (mean and sample std, ddof = 1), [`summarize_churn`],
//!   [`summarize_value`];
//! * ordering helpers: [`order_desc`] (score desc, client id asc), [`top_k`], [`average_ranks`].
//!
//! Nothing here prints or reads files; errors are [`EvalError`].

pub mod bootstrap;
pub mod churn;
pub mod concentration;
pub mod drift;
pub mod empc;
pub mod error;
pub mod qini;
pub mod rank;
pub mod summary;
pub mod tables;
pub mod value;

pub use bootstrap::{BootstrapParams, DEFAULT_SEED, Interval, bootstrap, resample};
pub use churn::{
    ChurnMetrics, Label, average_precision, brier, churn_metrics, log_loss, roc_auc,
    top_decile_lift,
};
pub use concentration::{
    ConcentrationCurve, CurvePoint, KeyClients, concentration_curve, key_clients,
};
pub use empc::{Empc, EmpcParams, IndividualProfit, empc, empc_individual};
pub use error::EvalError;
pub use qini::{Qini, qini};
pub use rank::{average_ranks, order_desc, spearman, top_k};
pub use summary::{
    ChurnMetricsSummary, MeanStd, ValueMetricsSummary, summarize, summarize_churn, summarize_ddof,
    summarize_value,
};
pub use tables::{CalibrationBins, CalibrationRow, GainsRow, calibration_table, gains_table};
pub use value::{PurchaseMetrics, ValueMetrics, gini, purchase_metrics, value_metrics};
