use retain_core::CoreError;

/// Errors of the churn and value models: bad hyper-parameters, inputs of the wrong shape or
/// with non-finite values, failed fits, and artifacts that do not fit the data at hand.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ModelError {
    /// A hyper-parameter is outside its range.
    #[error("invalid hyper-parameter `{name}`: {reason}")]
    InvalidParam {
        /// The hyper-parameter.
        name: &'static str,
        /// What is wrong with its value.
        reason: String,
    },
    /// The feature matrix has no rows.
    #[error("the feature matrix has no rows")]
    NoRows,
    /// The feature matrix has another number of columns than the model.
    #[error("the feature matrix has {found} columns, the model expects {expected}")]
    ColumnCount {
        /// Columns the model was fitted on.
        expected: usize,
        /// Columns in the matrix at hand.
        found: usize,
    },
    /// A feature value is NaN or infinite.
    #[error("row {row}, column {column} (0-based) is {value}: features must be finite")]
    NonFinite {
        /// 0-based row (client) index.
        row: usize,
        /// 0-based column (feature) index, in `FeatureSchema` order.
        column: usize,
        /// The offending value.
        value: f64,
    },
    /// Labels (or weights) and rows do not pair up.
    #[error("{what} has {found} entries for {rows} rows")]
    LengthMismatch {
        /// `labels` or `weights`.
        what: &'static str,
        /// Rows of the feature matrix.
        rows: usize,
        /// Entries given.
        found: usize,
    },
    /// A sample weight is negative or not finite, or all weights are zero.
    #[error("sample weight {index} is {value}: weights must be finite, >= 0, and not all 0")]
    InvalidWeight {
        /// 0-based row index (the first row when all weights are 0).
        index: usize,
        /// The offending weight.
        value: f64,
    },
    /// The labels hold a single class, so there is nothing to separate.
    #[error("every label is churned = {0}: a classifier needs both classes")]
    SingleClass(bool),
    /// The model kind cannot use sample weights.
    #[error("`{kind}` does not support sample weights")]
    WeightsUnsupported {
        /// The model kind.
        kind: &'static str,
    },
    /// A feature a model needs by name is absent from the schema.
    #[error("the features lack `{0}`, which this model needs")]
    MissingFeature(String),
    /// The underlying library failed to fit.
    #[error("fitting `{kind}` failed: {message}")]
    Fit {
        /// The model kind.
        kind: &'static str,
        /// The library's message.
        message: String,
    },
    /// The model kind has no additive explanation ([`crate::ChurnClassifier::explain`]).
    #[error("`{kind}` has no additive explanation")]
    NoExplanation {
        /// The model kind.
        kind: &'static str,
    },
    /// Explanations that cannot be rescaled or combined as asked.
    #[error("invalid explanation: {0}")]
    InvalidExplanation(String),
    /// An artifact's card and model disagree with each other.
    #[error("inconsistent artifact: {0}")]
    InconsistentArtifact(String),
    /// Artifact I/O, format, kind or feature-schema errors.
    #[error(transparent)]
    Core(#[from] CoreError),
}
