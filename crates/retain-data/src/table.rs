//! Pieces shared by the contacts and client readers: scanning one file, checking its columns,
//! cleaning expressions with a bad-value flag, and finding the first bad value to name.

use std::path::Path;

use polars::prelude::*;

use crate::DataError;
use crate::read::polars_err;
use crate::source::{DataFile, FileFormat};

/// Name of the per-file row index (0-based data row).
pub(crate) const ROW: &str = "__row";
/// Name of the file index column.
pub(crate) const FILE: &str = "__file";

/// Checks a layout's CSV separator and returns it as a byte.
pub(crate) fn separator_byte(separator: &str) -> Result<u8, DataError> {
    match separator.as_bytes() {
        [b] if b.is_ascii() => Ok(*b),
        _ => Err(DataError::Config(format!(
            "separator must be one ASCII character, not `{separator}`"
        ))),
    }
}

/// Scans one file with every column as stored (text for CSV). With `typed`, the `numeric`
/// columns of a CSV file are parsed as `f64` by the CSV reader itself: several times cheaper
/// than text plus a cast, but a value that does not parse fails the whole scan without
/// saying where, so the text scan stays the fallback that names the row.
pub(crate) fn scan(
    file: &DataFile,
    separator: u8,
    numeric: &[&str],
    typed: bool,
) -> Result<LazyFrame, DataError> {
    let err = polars_err(&file.path);
    let meta = std::fs::metadata(&file.path).map_err(|source| DataError::Io {
        action: "reading",
        path: file.path.clone(),
        source,
    })?;
    if meta.len() == 0 {
        return Err(DataError::EmptyFile {
            file: file.path.clone(),
        });
    }
    let path = PlRefPath::new(file.path.to_string_lossy().as_ref());
    let mut lf = match file.format {
        FileFormat::Parquet => {
            LazyFrame::scan_parquet(path, ScanArgsParquet::default()).map_err(&err)?
        }
        FileFormat::Csv => {
            let mut reader = LazyCsvReader::new(path)
                .with_has_header(true)
                .with_separator(separator)
                .with_infer_schema_length(Some(0));
            if typed && !numeric.is_empty() {
                let schema: Schema = numeric
                    .iter()
                    .map(|c| Field::new((*c).into(), DataType::Float64))
                    .collect();
                reader = reader.with_dtype_overwrite(Some(Arc::new(schema)));
            }
            reader.finish().map_err(&err)?
        }
    };
    for (k, v) in &file.partitions {
        lf = lf.with_column(lit(v.clone()).alias(k.as_str()));
    }
    Ok(lf)
}

/// The schema of each file (scanned as text), in file order.
pub(crate) fn schemas(files: &[DataFile], separator: u8) -> Result<Vec<Schema>, DataError> {
    files
        .iter()
        .map(|f| {
            scan(f, separator, &[], false)?
                .collect_schema()
                .map(|s| s.as_ref().clone())
                .map_err(polars_err(&f.path))
        })
        .collect()
}

/// The column an optional role reads: the one the layout names (which every file must then
/// have), else `default` when any file has a column of that name (then every file must).
pub(crate) fn optional_column(
    named: Option<&str>,
    default: &str,
    schemas: &[Schema],
) -> Option<String> {
    match named {
        Some(n) => Some(n.to_string()),
        None => schemas
            .iter()
            .any(|s| s.contains(default))
            .then(|| default.to_string()),
    }
}

/// Refuses a file that lacks one of the `(role, column)` pairs, listing the columns it has.
pub(crate) fn check_columns(
    file: &DataFile,
    schema: &Schema,
    columns: &[(&str, &str)],
) -> Result<(), DataError> {
    for (role, column) in columns {
        if !schema.contains(column) {
            return Err(DataError::MissingColumn {
                file: file.path.clone(),
                column: column.to_string(),
                role: role.to_string(),
                available: schema
                    .iter_names()
                    .map(|n| n.to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
    }
    Ok(())
}

/// A column as trimmed text (any stored type cast to text); null stays null.
pub(crate) fn text(name: &str) -> Expr {
    col(name)
        .cast(DataType::String)
        .str()
        .strip_chars(lit(NULL))
}

/// A column as trimmed lower-case text, with null read as the empty string.
pub(crate) fn word(name: &str) -> Expr {
    text(name).str().to_lowercase().fill_null(lit(""))
}

// The cleaning steps below add their result to a plan in stages: each stage is a projection
// over the columns of the one before, so a value used several times (the trimmed text, the
// parsed number) is computed once. Inside one projection, an expression used twice is
// evaluated twice.

/// Adds `out`: the trimmed text of `name` with the empty string read as null.
pub(crate) fn nullable_text(lf: LazyFrame, name: &str, out: &str) -> LazyFrame {
    let t = format!("__{out}_text");
    lf.with_column(text(name).alias(t.as_str())).with_column(
        when(col(t.as_str()).eq(lit("")))
            .then(lit(NULL).cast(DataType::String))
            .otherwise(col(t.as_str()))
            .alias(out),
    )
}

/// Adds `out`, an optional number (`f64`), and its flag `bad`. Empty text and nulls give a
/// null; text that is not a finite number, or a stored NaN or infinity, is bad.
pub(crate) fn optional_number(
    lf: LazyFrame,
    name: &str,
    dtype: &DataType,
    out: &str,
    bad: &str,
) -> LazyFrame {
    let (v, given) = (format!("__{out}_v"), format!("__{out}_given"));
    let lf = if dtype == &DataType::String {
        let t = format!("__{out}_text");
        lf.with_column(text(name).alias(t.as_str())).with_columns([
            col(t.as_str()).cast(DataType::Float64).alias(v.as_str()),
            col(t.as_str())
                .is_not_null()
                .and(col(t.as_str()).neq(lit("")))
                .alias(given.as_str()),
        ])
    } else {
        lf.with_column(col(name).cast(DataType::Float64).alias(v.as_str()))
            .with_column(col(v.as_str()).is_not_null().alias(given.as_str()))
    };
    let v = col(v.as_str());
    lf.with_columns([
        when(v.clone().is_finite())
            .then(v.clone())
            .otherwise(lit(NULL).cast(DataType::Float64))
            .alias(out),
        col(given.as_str())
            .and(v.clone().is_null().or(v.is_finite().not()))
            .fill_null(lit(true))
            .alias(bad),
    ])
}

/// Adds `out`, a client id read as the transactions reader reads it (a number with no
/// fractional part, via `f64`, as `i64`), and its flag `bad`. A missing id is bad too.
pub(crate) fn client_id(
    lf: LazyFrame,
    name: &str,
    dtype: &DataType,
    out: &str,
    bad: &str,
) -> LazyFrame {
    let f = format!("__{out}_f");
    let parsed = if dtype == &DataType::String {
        text(name).cast(DataType::Float64)
    } else {
        col(name).cast(DataType::Float64)
    };
    let v = col(f.as_str());
    // 2^63: beyond it the cast to i64 overflows
    lf.with_column(parsed.alias(f.as_str())).with_columns([
        v.clone().cast(DataType::Int64).alias(out),
        v.clone()
            .is_null()
            .or(v.clone().neq(v.clone().floor()))
            .or(v.abs().gt_eq(lit(9.223_372_036_854_776e18)))
            .fill_null(lit(true))
            .alias(bad),
    ])
}

/// Adds `out`, a yes/no value, and its flag `bad`: `true/false`, `yes/no`, `y/n`, `1/0` in
/// any case, with blanks around; empty (or null) is unknown (null); anything else is bad.
pub(crate) fn boolean(lf: LazyFrame, name: &str, out: &str, bad: &str) -> LazyFrame {
    let w = format!("__{out}_word");
    let any = |vals: &[&str]| {
        vals.iter()
            .map(|v| col(w.as_str()).eq(lit(*v)))
            .reduce(Expr::or)
            .unwrap_or(lit(false))
    };
    let (yes, no) = (format!("__{out}_yes"), format!("__{out}_no"));
    lf.with_column(word(name).alias(w.as_str()))
        .with_columns([
            any(&["true", "yes", "y", "1"]).alias(yes.as_str()),
            any(&["false", "no", "n", "0"]).alias(no.as_str()),
        ])
        .with_columns([
            when(col(yes.as_str()))
                .then(lit(true))
                .when(col(no.as_str()))
                .then(lit(false))
                .otherwise(lit(NULL).cast(DataType::Boolean))
                .alias(out),
            col(yes.as_str())
                .or(col(no.as_str()))
                .or(col(w.as_str()).eq(lit("")))
                .not()
                .alias(bad),
        ])
}

/// The first bad value: the earliest row (in file order, then row order) with any flag set,
/// and at that row the first flag in `flags` order. Returns `(flag index, file, 0-based row)`.
pub(crate) fn first_bad(
    df: &DataFrame,
    flags: &[String],
    input: &Path,
) -> Result<Option<(usize, usize, u64)>, DataError> {
    let err = polars_err(input);
    let files = df.column(FILE).map_err(&err)?.u32().map_err(&err)?;
    let rows = df.column(ROW).map_err(&err)?.idx().map_err(&err)?;
    let mut best: Option<(u32, IdxSize, usize)> = None;
    for (i, flag) in flags.iter().enumerate() {
        let Ok(c) = df.column(flag) else { continue };
        let mask = c.bool().map_err(&err)?;
        if mask.sum().unwrap_or(0) == 0 {
            continue;
        }
        for (pos, b) in mask.iter().enumerate() {
            if b == Some(true) {
                let key = (
                    files.get(pos).unwrap_or(u32::MAX),
                    rows.get(pos).unwrap_or(IdxSize::MAX),
                    i,
                );
                if best.is_none_or(|b| key < b) {
                    best = Some(key);
                }
            }
        }
    }
    Ok(best.map(|(f, r, i)| (i, f as usize, r as u64)))
}

/// Refuses an input one of whose files has no data rows.
pub(crate) fn check_not_empty(
    df: &DataFrame,
    files: &[DataFile],
    input: &Path,
) -> Result<(), DataError> {
    let err = polars_err(input);
    let mut per_file = vec![0u64; files.len()];
    for v in df.column(FILE).map_err(&err)?.u32().map_err(&err)?.iter() {
        if let Some(slot) = v.and_then(|v| per_file.get_mut(v as usize)) {
            *slot += 1;
        }
    }
    match per_file.iter().position(|&n| n == 0) {
        Some(i) => Err(DataError::EmptyFile {
            file: files[i].path.clone(),
        }),
        None => Ok(()),
    }
}

/// The text of one cell as stored (read again as text, for an error message).
pub(crate) fn raw_value(file: &DataFile, separator: u8, column: &str, row: u64) -> String {
    let value = || -> Option<String> {
        let df = scan(file, separator, &[], false)
            .ok()?
            .slice(row as i64, 1)
            .select([col(column).cast(DataType::String)])
            .collect()
            .ok()?;
        Some(
            df.column(column)
                .ok()?
                .str()
                .ok()?
                .get(0)
                .unwrap_or_default()
                .to_string(),
        )
    };
    value().unwrap_or_default()
}

/// Orders floats by the IEEE total order (for sort keys).
pub(crate) fn ordered(x: f64) -> u64 {
    let b = x.to_bits();
    if b >> 63 == 1 { !b } else { b | (1 << 63) }
}
