//! The error type of every metric in this crate.

use thiserror::Error;

/// Why a metric could not be computed. Every variant names the offending input.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum EvalError {
    /// Two inputs that must be aligned (one entry per client) have different lengths.
    #[error("length mismatch: `{what}` has {got} entries, expected {expected} (one per client)")]
    LengthMismatch {
        /// The input whose length is wrong.
        what: &'static str,
        /// The length of the reference input (the first one).
        expected: usize,
        /// The length found.
        got: usize,
    },
    /// The inputs have no entries.
    #[error("no data: the inputs are empty")]
    Empty,
    /// All labels belong to one class, so a ranking metric is undefined.
    #[error("only one class in the labels: all {n} clients are {}", if *.churned { "churned (1)" } else { "not churned (0)" })]
    SingleClass {
        /// The only class present.
        churned: bool,
        /// Number of clients.
        n: usize,
    },
    /// A value is NaN or infinite.
    #[error("`{what}` at index {index} is not finite ({value})")]
    NonFinite {
        /// The input holding the value.
        what: &'static str,
        /// Position of the value.
        index: usize,
        /// The value itself.
        value: f64,
    },
    /// A label is neither 0 nor 1.
    #[error("label at index {index} is {value}, expected 0 or 1")]
    InvalidLabel {
        /// Position of the label.
        index: usize,
        /// The label, printed.
        value: String,
    },
    /// A score declared to be a probability lies outside [0, 1].
    #[error("probability at index {index} is {value}, outside [0, 1]")]
    ProbabilityOutOfRange {
        /// Position of the value.
        index: usize,
        /// The value itself.
        value: f64,
    },
    /// A parameter of a metric is invalid.
    #[error("invalid parameter `{name}`: {reason}")]
    InvalidParameter {
        /// The parameter name.
        name: &'static str,
        /// What is wrong with it.
        reason: String,
    },
}
