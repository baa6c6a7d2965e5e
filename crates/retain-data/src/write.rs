//! Writing tables atomically (temporary file, then rename).

use std::path::Path;

use polars::prelude::*;

use crate::DataError;

/// An output table format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableFormat {
    /// Comma-separated text with a header.
    Csv,
    /// Apache Parquet (zstd).
    Parquet,
}

impl TableFormat {
    /// The format an output path asks for, by extension (`.parquet` or else CSV).
    pub fn of(path: &Path) -> Self {
        match path.extension().and_then(|e| e.to_str()) {
            Some("parquet") | Some("pq") => TableFormat::Parquet,
            _ => TableFormat::Csv,
        }
    }
}

/// Writes `df` to `path` in the format its extension asks for, atomically: a failed write
/// leaves no half-written file (and any earlier file untouched).
pub fn write_table(df: &mut DataFrame, path: &Path) -> Result<(), DataError> {
    let format = TableFormat::of(path);
    retain_core::write_atomic(path, |w| {
        let r = match format {
            TableFormat::Csv => CsvWriter::new(w).include_header(true).finish(df),
            TableFormat::Parquet => ParquetWriter::new(w).finish(df).map(|_| ()),
        };
        r.map_err(std::io::Error::other)
    })?;
    Ok(())
}
