//! Writing tables atomically (temporary file, then rename).

use std::path::{Path, PathBuf};

use polars::prelude::*;

use crate::DataError;

/// An output table format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableFormat {
    /// Comma-separated text with a header.
    Csv,
    /// Apache Parquet (zstd).
    Parquet,
    /// JSON lines: one object per row, keys in column order (`.jsonl`, `.ndjson`).
    JsonLines,
}

impl TableFormat {
    /// The format an output path asks for, by extension (`.parquet` or else CSV).
    pub fn of(path: &Path) -> Self {
        match path.extension().and_then(|e| e.to_str()) {
            Some("parquet") | Some("pq") => TableFormat::Parquet,
            Some("jsonl") | Some("ndjson") => TableFormat::JsonLines,
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
            TableFormat::JsonLines => return write_json_lines(df, w),
        };
        r.map_err(std::io::Error::other)
    })?;
    Ok(())
}

/// One JSON object per row; numbers as JSON numbers (non-finite floats as `null`), text as
/// strings, dates as `YYYY-MM-DD`, missing values as `null`. Written by hand: polars' JSON
/// writer needs a feature (and a build) of its own for this one use.
fn write_json_lines(df: &DataFrame, w: &mut dyn std::io::Write) -> std::io::Result<()> {
    use std::io::Write as _;
    let names: Vec<String> = df
        .get_column_names()
        .iter()
        .map(|n| serde_json::to_string(n.as_str()).unwrap_or_default())
        .collect();
    let columns = df.columns();
    let mut line = Vec::with_capacity(1024);
    let mut out = std::io::BufWriter::new(w);
    for row in 0..df.height() {
        line.clear();
        line.push(b'{');
        for (k, c) in columns.iter().enumerate() {
            if k > 0 {
                line.push(b',');
            }
            line.extend_from_slice(names[k].as_bytes());
            line.push(b':');
            let v = c.get(row).map_err(std::io::Error::other)?;
            let json = match v {
                AnyValue::Null => serde_json::Value::Null,
                AnyValue::Boolean(b) => b.into(),
                AnyValue::String(s) => s.into(),
                AnyValue::StringOwned(s) => s.as_str().into(),
                AnyValue::Float64(x) => serde_json::Number::from_f64(x)
                    .map_or(serde_json::Value::Null, serde_json::Value::Number),
                AnyValue::Float32(x) => serde_json::Number::from_f64(f64::from(x))
                    .map_or(serde_json::Value::Null, serde_json::Value::Number),
                AnyValue::Int64(x) => x.into(),
                AnyValue::Int32(x) => x.into(),
                AnyValue::Int16(x) => x.into(),
                AnyValue::Int8(x) => x.into(),
                AnyValue::UInt64(x) => x.into(),
                AnyValue::UInt32(x) => x.into(),
                AnyValue::UInt16(x) => x.into(),
                AnyValue::Date(d) => crate::date_text(d).into(),
                other => other.to_string().into(),
            };
            serde_json::to_writer(&mut line, &json).map_err(std::io::Error::other)?;
        }
        line.extend_from_slice(b"}\n");
        out.write_all(&line)?;
    }
    out.flush()
}

/// The folder and file name of the outputs written at `stem`: `-o out/` (or a folder that
/// exists) means `out/<default_name>.*`; otherwise the stem's folder and name, whose dots are
/// kept (`-o out/scores.2024.01` gives `out/scores.2024.01.csv`: extensions are appended to
/// the name, never substituted).
pub fn output_stem(stem: &Path, default_name: &str) -> (PathBuf, String) {
    let is_dir = stem
        .as_os_str()
        .to_string_lossy()
        .ends_with(std::path::MAIN_SEPARATOR)
        || stem.is_dir();
    if is_dir {
        return (stem.to_path_buf(), default_name.to_string());
    }
    (
        stem.parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .to_path_buf(),
        stem.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| default_name.into()),
    )
}
