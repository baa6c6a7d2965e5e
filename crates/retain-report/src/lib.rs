//! Retention KPIs per period and the self-contained HTML report.
//!
//! - [`kpis`]: customer retention rate, churn, repeat purchases, order value, returns, revenue
//!   retention, revenue concentration and the cohort matrix, from the clean line table
//!   ([`kpis::compute`]), plus NPS/CSAT from the client attributes ([`kpis::satisfaction_of`]).
//! - [`diagnostics`]: the BG/NBD fit of an evaluation re-applied at its cutoff: the holdout
//!   scores behind the ROC and precision-recall curves, and the paper's fit diagnostics.
//! - [`charts`]: SVG charts drawn by plotters (text as SVG `<text>`, no system fonts).
//! - [`html`]: the one-file HTML page ([`html::render`]).
//!
//! The library never prints; the `retain` binary talks to the terminal.

pub mod charts;
pub mod diagnostics;
pub mod format;
pub mod html;
pub mod kpis;

pub use kpis::{KpiParams, KpiReport, Lines, Period, PeriodKpis};

/// What can go wrong building the KPIs or the report.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// A table operation failed (a missing or mistyped column).
    #[error(transparent)]
    Polars(#[from] polars::error::PolarsError),
    /// The input has no lines.
    #[error("the input has no transaction lines")]
    NoData,
    /// A setting or an input value is out of range.
    #[error("{0}")]
    Invalid(String),
    /// An evaluation or KPI output lacks something the report needs.
    #[error("{file}: {what}")]
    Input {
        /// The file read.
        file: String,
        /// What is missing or wrong.
        what: String,
    },
    /// A metric could not be computed.
    #[error(transparent)]
    Eval(#[from] retain_eval::EvalError),
    /// A chart could not be drawn.
    #[error("drawing the chart `{0}`")]
    Chart(String),
}
