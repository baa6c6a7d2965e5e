//! Errors of the customer-base models.

use std::fmt;

/// A short description of a fitting data set, attached to fitting errors so that a failure can be
/// diagnosed without the data at hand.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DataSummary {
    /// Number of clients (sum of the weights).
    pub n: f64,
    /// Number of distinct rows after compression.
    pub distinct_rows: usize,
    /// Share of clients with no repeat purchase (`x = 0`).
    pub share_zero: f64,
    /// Largest repeat count.
    pub max_x: f64,
    /// Smallest age `T`.
    pub t_min: f64,
    /// Largest age `T`.
    pub t_max: f64,
}

impl fmt::Display for DataSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "n={}, distinct rows={}, share with x=0: {:.3}, max x={}, T in [{}, {}]",
            self.n, self.distinct_rows, self.share_zero, self.max_x, self.t_min, self.t_max
        )
    }
}

/// Errors raised while validating inputs or fitting a model.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ClvError {
    /// One input value is invalid; `index` is the row in the caller's order.
    #[error("invalid {field} at index {index}: {value} ({reason})")]
    InvalidInput {
        /// Name of the column (`x`, `t_x`, `T`, `weight`, `monetary`, ...).
        field: &'static str,
        /// Row index in the input.
        index: usize,
        /// The offending value.
        value: f64,
        /// Why it is refused.
        reason: &'static str,
    },
    /// Input columns have different lengths.
    #[error("input columns have different lengths: {0}")]
    LengthMismatch(String),
    /// No usable row.
    #[error("no data: {0}")]
    NoData(String),
    /// A hyper-parameter is out of its range.
    #[error("invalid hyper-parameter: {0}")]
    InvalidParams(String),
    /// The optimiser did not reach a finite optimum.
    #[error("{model} fit did not converge: {reason}; data: {summary}")]
    NoConvergence {
        /// Model name.
        model: &'static str,
        /// What went wrong.
        reason: String,
        /// Summary of the data that was fitted.
        summary: DataSummary,
    },
}

/// Result alias of this crate.
pub type Result<T, E = ClvError> = std::result::Result<T, E>;

impl retain_core::Categorized for ClvError {
    /// Bad or unfittable data; a bad hyper-parameter is a configuration error.
    fn category(&self) -> retain_core::ErrorCategory {
        match self {
            Self::InvalidParams(_) => retain_core::ErrorCategory::Config,
            _ => retain_core::ErrorCategory::Data,
        }
    }
}
