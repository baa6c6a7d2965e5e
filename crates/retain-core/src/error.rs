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
    #[error("{path} is not a valid retain artifact: {source}{near}")]
    Json {
        /// The file concerned.
        path: PathBuf,
        /// The underlying error.
        source: serde_json::Error,
        /// The text of the line at fault (`, at: "training_cutoff": "2023-02-30"`), or empty.
        near: String,
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
    #[error(
        "{path} was written by retain {written_by} in artifact format {found}; this retain ({}) \
         reads format {expected}: {}",
        crate::RETAIN_VERSION,
        if *found > *expected {
            "upgrade retain to read it, or retrain the model with this retain"
        } else {
            "retrain the model with this retain (`retain train`)"
        }
    )]
    FormatVersion {
        /// The artifact directory.
        path: PathBuf,
        /// The format this build reads.
        expected: u32,
        /// The format in the card (0 when the card has none).
        found: u32,
        /// The retain version written in the card.
        written_by: String,
    },
    /// A saved model holds values outside its domain (an edited or corrupt artifact).
    #[error("{path}: {what}")]
    InvalidArtifact {
        /// The artifact directory.
        path: PathBuf,
        /// What is wrong.
        what: String,
    },
}

/// What kind of failure an error is, which decides the exit code: bad data and bad
/// configuration are the user's to fix (exit 1), an internal fault is retain's (exit 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCategory {
    /// The input data violate what retain needs (a missing column, a bad value, windows the
    /// data do not cover).
    Data,
    /// A setting, flag, config file or saved artifact is wrong or does not fit the data.
    Config,
    /// A fault inside retain or a library it uses.
    Internal,
}

/// An error that knows its [`ErrorCategory`].
pub trait Categorized {
    /// The category of this error.
    fn category(&self) -> ErrorCategory;
}

impl Categorized for CoreError {
    fn category(&self) -> ErrorCategory {
        match self {
            Self::InvalidProbability(_) | Self::SchemaMismatch(_) => ErrorCategory::Data,
            _ => ErrorCategory::Config,
        }
    }
}

/// Result with [`CoreError`].
pub type Result<T, E = CoreError> = std::result::Result<T, E>;
