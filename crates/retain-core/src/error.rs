use std::path::PathBuf;

/// Errors of the shared vocabulary: schema mismatches, bad probabilities, artifact I/O.
#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    /// A value that should be a probability is not in `[0, 1]`.
    #[error("{0} is not a probability (must be in [0, 1])")]
    InvalidProbability(f64),
    /// The features at hand are not the ones a model was trained on.
    #[error("feature schema mismatch: {0}")]
    SchemaMismatch(String),
    /// An artifact could not be read or written.
    #[error("{action} {path}: {source}")]
    Io {
        /// What was being done ("reading", "writing", ...).
        action: &'static str,
        /// The file concerned.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// An artifact file is not valid JSON of the expected shape.
    #[error("{path} is not a valid retain artifact: {source}")]
    Json {
        /// The file concerned.
        path: PathBuf,
        /// The underlying error.
        source: serde_json::Error,
    },
    /// An artifact holds a different kind of model than the one asked for.
    #[error("{path} holds a `{found}` model, expected `{expected}`")]
    WrongKind {
        /// The artifact directory.
        path: PathBuf,
        /// The kind the caller asked for.
        expected: String,
        /// The kind written in the card.
        found: String,
    },
    /// An artifact was written by an incompatible format version.
    #[error("{path} has artifact format {found}, this retain reads format {expected}")]
    FormatVersion {
        /// The artifact directory.
        path: PathBuf,
        /// The format this build reads.
        expected: u32,
        /// The format in the card.
        found: u32,
    },
}

/// Result with [`CoreError`].
pub type Result<T, E = CoreError> = std::result::Result<T, E>;
