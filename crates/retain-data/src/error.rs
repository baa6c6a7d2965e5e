use std::path::PathBuf;

/// Errors reading, validating or writing transaction data. Each names the file, and where
/// there is one, the column, row and value at fault.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// The input path does not exist or matches nothing.
    #[error("{0}: no such file, folder or glob match")]
    NotFound(PathBuf),
    /// A folder or glob holds no readable data file.
    #[error("{path}: no CSV, CSV.gz or Parquet files found")]
    NoFiles {
        /// The folder or pattern.
        path: PathBuf,
    },
    /// A file has no data rows.
    #[error("{file}: the file is empty (no data rows)")]
    EmptyFile {
        /// The file.
        file: PathBuf,
    },
    /// A mapped column is missing from a file.
    #[error("{file}: missing column `{column}` (the {role} column); the file has: {available}")]
    MissingColumn {
        /// The file.
        file: PathBuf,
        /// The column the layout names.
        column: String,
        /// The role of the column (client_id, timestamp, ...).
        role: String,
        /// The columns the file has, comma separated.
        available: String,
    },
    /// A value that does not parse as its column's type.
    #[error("{file}: row {row}, column `{column}`: cannot read {value:?} as {expected}")]
    BadValue {
        /// The file.
        file: PathBuf,
        /// The column.
        column: String,
        /// 1-based data row (the header is not counted).
        row: u64,
        /// The offending text.
        value: String,
        /// What was expected (a date `%Y-%m-%d`, a number, an integer id).
        expected: String,
    },
    /// A client id on two rows of a one-row-per-client input.
    #[error(
        "{file}: row {row}, column `{column}`: client id {id} appears twice (first at row {first_row} of {first_file})"
    )]
    DuplicateClient {
        /// The file of the second row.
        file: PathBuf,
        /// The client id column.
        column: String,
        /// 1-based data row of the second occurrence.
        row: u64,
        /// The client id, as written on the second row.
        id: String,
        /// The file of the first row.
        first_file: PathBuf,
        /// 1-based data row of the first occurrence.
        first_row: u64,
    },
    /// The layout or configuration is invalid.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// The file's reader gave up on it (a corrupt Parquet footer, a broken stream): the
    /// third-party decoder's failure, caught and named.
    #[error("{file}: cannot be read: {detail}")]
    Corrupt {
        /// The input.
        file: PathBuf,
        /// The decoder's words.
        detail: String,
    },
    /// The input reads but leaves nothing to work on (every client id empty, every line a
    /// return): a run on it would write an empty or meaningless result.
    #[error("{file}: {what}")]
    NothingToUse {
        /// The input.
        file: PathBuf,
        /// What is missing, and what to check.
        what: String,
    },
    /// An error from the query engine while reading a file.
    #[error("{file}: {source}")]
    Polars {
        /// The file.
        file: PathBuf,
        /// The engine's error.
        source: polars::error::PolarsError,
    },
    /// An I/O error.
    #[error("{action} {path}: {source}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// The file concerned.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// An error writing an output.
    #[error(transparent)]
    Core(#[from] retain_core::CoreError),
}

impl retain_core::Categorized for DataError {
    fn category(&self) -> retain_core::ErrorCategory {
        match self {
            Self::Config(_) => retain_core::ErrorCategory::Config,
            // Reading a user's file (polars' reader and I/O included) is about their data.
            _ => retain_core::ErrorCategory::Data,
        }
    }
}
