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
/// columns of a CSV file are parsed as their types (`i64` for a client id, [`typed_id`],
/// `f64` for numbers) by the CSV reader itself: several times cheaper
/// than text plus a cast, but a value that does not parse fails the whole scan without
/// saying where, so the text scan stays the fallback that names the row. CSV files have a
/// header row (the transactions' layout may say they have none: [`scan_with_header`]).
/// The typed columns of a CSV scan: the client id as `i64` (an id that is not an integer
/// fails the typed scan, and the text scan reads it), the numbers as `f64`.
pub(crate) fn typed_id<'a>(
    id: &'a str,
    numbers: impl IntoIterator<Item = Option<&'a str>>,
) -> Vec<(&'a str, DataType)> {
    std::iter::once((id, DataType::Int64))
        .chain(
            numbers
                .into_iter()
                .flatten()
                .map(|c| (c, DataType::Float64)),
        )
        .collect()
}

pub(crate) fn scan(
    file: &DataFile,
    separator: u8,
    numeric: &[(&str, DataType)],
    typed: bool,
) -> Result<LazyFrame, DataError> {
    scan_with_header(file, separator, true, numeric, typed)
}

/// [`scan`] of a CSV file with or without a header row.
pub(crate) fn scan_with_header(
    file: &DataFile,
    separator: u8,
    has_header: bool,
    numeric: &[(&str, DataType)],
    typed: bool,
) -> Result<LazyFrame, DataError> {
    if let Some(table) = &file.table {
        return Ok(table.0.as_ref().clone().lazy());
    }
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
        FileFormat::Table => {
            return Err(DataError::Config(format!(
                "{}: a table handed over in memory came without its lines",
                file.path.display()
            )));
        }
        FileFormat::Csv => {
            let mut reader = LazyCsvReader::new(path)
                .with_has_header(has_header)
                .with_separator(separator)
                .with_infer_schema_length(Some(0));
            if typed && !numeric.is_empty() {
                let schema: Schema = numeric
                    .iter()
                    .map(|(c, t)| Field::new((*c).into(), t.clone()))
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

/// Reads one file for the main pass: a CSV file is read whole by the eager CSV reader (it
/// splits the file between threads without first counting every line, which the streaming
/// scan does: about 30% fewer instructions), with the `numeric` columns typed as in
/// [`scan`]; a Parquet file is scanned.
pub(crate) fn read(
    file: &DataFile,
    separator: u8,
    numeric: &[(&str, DataType)],
    typed: bool,
) -> Result<LazyFrame, DataError> {
    if file.format != FileFormat::Csv {
        return scan(file, separator, numeric, typed);
    }
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
    let mut options = CsvReadOptions::default()
        .with_has_header(true)
        .with_infer_schema_length(Some(0))
        .map_parse_options(|o| o.with_separator(separator));
    if typed && !numeric.is_empty() {
        let schema: Schema = numeric
            .iter()
            .map(|(c, t)| Field::new((*c).into(), t.clone()))
            .collect();
        options = options.with_schema_overwrite(Some(Arc::new(schema)));
    }
    let df = options
        .try_into_reader_with_file_path(Some(file.path.clone()))
        .and_then(|r| r.finish())
        .map_err(polars_err(&file.path))?;
    let mut lf = df.lazy();
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
    if let Some(name) = schema.iter_names().find(|n| n.contains('\u{fffd}')) {
        return Err(DataError::Corrupt {
            file: file.path.clone(),
            detail: format!(
                "the header is not UTF-8 text (the column {name:?} has a byte of another \
                 encoding, such as Latin-1 or Windows-1252): save the file as UTF-8"
            ),
        });
    }
    for (role, column) in columns {
        if !schema.contains(column) {
            // the header as the user would read it: at most 20 names of at most 40 characters
            let names: Vec<String> = schema
                .iter_names()
                .take(20)
                .map(|n| {
                    let n: String = n.chars().take(40).collect();
                    n.chars()
                        .map(|c| if c.is_control() { '\u{fffd}' } else { c })
                        .collect()
                })
                .collect();
            let more = schema.len().saturating_sub(names.len());
            return Err(DataError::MissingColumn {
                file: file.path.clone(),
                column: column.to_string(),
                role: role.to_string(),
                available: if more > 0 {
                    format!("{}, ... ({more} more)", names.join(", "))
                } else {
                    names.join(", ")
                },
            });
        }
        // polars renames a repeated header name `<name>_duplicated_<n>`
        if schema.contains(&format!("{column}_duplicated_0")) {
            return Err(DataError::Corrupt {
                file: file.path.clone(),
                detail: format!(
                    "the header names the column `{column}` (the {role} column) twice: which \
                     one holds the data? rename or remove the other"
                ),
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

/// Adds `out`, the `i64` code of a client id ([`crate::ids`]: an integer exactly, text by
/// its code), and its flag `bad`: a missing id, a float that is not a whole number up to
/// 2^53, an integer in the text codes' range, a column of another type.
pub(crate) fn client_id(
    lf: LazyFrame,
    name: &str,
    dtype: &DataType,
    out: &str,
    bad: &str,
) -> LazyFrame {
    let c = col(name);
    let (code, is_bad) = match dtype {
        // text: every non-empty id has a code (crate::ids); only a missing id is bad
        DataType::String => {
            let code = map_ids(col(name));
            (code.clone(), code.is_null())
        }
        d if d.is_integer() => {
            // a UInt64 above i64::MAX does not cast (null): bad
            let v = c.clone().cast(DataType::Int64);
            let bad = v
                .clone()
                .is_null()
                .or(v.clone().lt(lit(crate::ids::TEXT_CODES.end)));
            (v, bad)
        }
        d if d.is_float() => {
            // whole numbers up to 2^53 only: beyond, a float no longer holds every integer
            let f = c.clone().cast(DataType::Float64);
            let bad = f
                .clone()
                .is_null()
                .or(f.clone().neq(f.clone().floor()))
                .or(f.clone().abs().gt(lit(9_007_199_254_740_992.0)));
            (f.cast(DataType::Int64), bad)
        }
        // booleans, dates, lists: not ids
        _ => (lit(NULL).cast(DataType::Int64), lit(true)),
    };
    let is_bad = is_bad.fill_null(lit(true));
    lf.with_columns([
        when(is_bad.clone())
            .then(lit(NULL).cast(DataType::Int64))
            .otherwise(code)
            .alias(out),
        is_bad.alias(bad),
    ])
}

/// The code of each id written as text, blanks around it ignored
/// ([`crate::ids::code_of_text`]); null when empty.
pub(crate) fn map_ids(e: Expr) -> Expr {
    e.map(
        move |c: Column| {
            let codes = distinct_map(c.str()?, |v| {
                v.map(str::trim)
                    .filter(|v| !v.is_empty())
                    .map(crate::ids::code_of_text)
            });
            let out = Int64Chunked::from_iter_options(c.name().clone(), codes.into_iter());
            Ok(out.into_column())
        },
        |_: &Schema, field: &Field| Ok(Field::new(field.name().clone(), DataType::Int64)),
    )
}

/// Adds `out`, a yes/no value, and its flag `bad`: `true/false`, `yes/no`, `y/n`, `1/0` in
/// any case, with blanks around; empty (or null) is unknown (null); anything else is bad.
pub(crate) fn boolean(lf: LazyFrame, name: &str, out: &str, bad: &str) -> LazyFrame {
    let code = format!("__{out}_code");
    lf.with_column(map_codes(col(name), yes_no_code).alias(code.as_str()))
        .with_columns([
            when(col(code.as_str()).eq(lit(-1i8)))
                .then(lit(NULL).cast(DataType::Boolean))
                .otherwise(col(code.as_str()).eq(lit(1i8)))
                .alias(out),
            col(code.as_str()).is_null().alias(bad),
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

// Columns with few distinct values (channel, outcome, group, yes/no) are cleaned by mapping
// each distinct text once per batch through a plain Rust rule, and each row by a look-up:
// about three times cheaper than trimming and lower-casing every row with the string kernels
// (0.2 s against 0.75 s of CPU for 5 million rows), and the rule reads as Rust.

/// Calls `f` once per distinct value of `ca` (null included) and returns each row's result.
/// A text of up to 12 bytes is held whole in its 16-byte view, so rows with equal views
/// hold equal texts: they are looked up by the view, first against the previous short
/// row's (a client's id repeats down the lines of an invoice), then in a short list, which is
/// several times cheaper than hashing the text; longer texts and nulls are looked up by hash.
pub(crate) fn distinct_map<T: Copy>(
    ca: &StringChunked,
    mut f: impl FnMut(Option<&str>) -> T,
) -> Vec<T> {
    const SHORT_LIST: usize = 32;
    let mut out = Vec::with_capacity(ca.len());
    let mut by_text: PlHashMap<Option<&str>, T> = PlHashMap::new();
    let mut by_view: Vec<(u128, T)> = Vec::with_capacity(SHORT_LIST);
    for (arr, validity) in ca.downcast_iter().zip(ca.iter_validities()) {
        // the previous short row's view and result
        let mut previous: Option<(u128, T)> = None;
        for (i, v) in arr.views().iter().enumerate() {
            if validity.is_some_and(|b| !b.get_bit(i)) {
                out.push(*by_text.entry(None).or_insert_with(|| f(None)));
                continue;
            }
            if v.length <= 12 {
                let key = u128::from(v.length)
                    | u128::from(v.prefix) << 32
                    | u128::from(v.buffer_idx) << 64
                    | u128::from(v.offset) << 96;
                if let Some((k, t)) = previous
                    && k == key
                {
                    out.push(t);
                    continue;
                }
                if let Some(&(_, t)) = by_view.iter().find(|(k, _)| *k == key) {
                    previous = Some((key, t));
                    out.push(t);
                    continue;
                }
                let text = Some(arr.value(i));
                let t = *by_text.entry(text).or_insert_with(|| f(text));
                if by_view.len() < SHORT_LIST {
                    by_view.push((key, t));
                }
                previous = Some((key, t));
                out.push(t);
            } else {
                let text = Some(arr.value(i));
                out.push(*by_text.entry(text).or_insert_with(|| f(text)));
            }
        }
    }
    out
}

/// Maps each distinct text of `e` (read as text; null read as "") once per batch through
/// `f` to an `i8` code; null where `f` gives none.
pub(crate) fn map_codes<F>(e: Expr, f: F) -> Expr
where
    F: Fn(&str) -> Option<i8> + Send + Sync + 'static,
{
    e.cast(DataType::String).map(
        move |c: Column| {
            let codes = distinct_map(c.str()?, |v| f(v.unwrap_or("")));
            let out = Int8Chunked::from_iter_options(c.name().clone(), codes.into_iter());
            Ok(out.into_column())
        },
        |_: &Schema, field: &Field| Ok(Field::new(field.name().clone(), DataType::Int8)),
    )
}

/// A yes/no text as a code: 1 for `true/yes/y/1`, 0 for `false/no/n/0` (any case, blanks
/// around), -1 for empty (unknown); `None` for anything else.
pub(crate) fn yes_no_code(v: &str) -> Option<i8> {
    match v.trim().to_lowercase().as_str() {
        "true" | "yes" | "y" | "1" => Some(1),
        "false" | "no" | "n" | "0" => Some(0),
        "" => Some(-1),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distinct_map_gives_each_row_its_value_calling_once_per_distinct_text() {
        // short texts (held in the view), long ones (in a buffer), nulls, runs and
        // returns to earlier values, more distinct short texts than the short list holds,
        // over two chunks
        let mut values: Vec<Option<String>> = Vec::new();
        for i in 0..200u32 {
            let short = format!("{}", i % 45);
            let long = format!("a client id longer than twelve bytes {}", i % 7);
            for _ in 0..(i % 4) {
                values.push(Some(short.clone()));
            }
            values.push(Some(long));
            values.push(if i % 9 == 0 { None } else { Some(short) });
            values.push(Some(format!("{}", (i * 7) % 45)));
        }
        let half = values.len() / 2;
        let mut ca = StringChunked::from_iter_options("v".into(), values[..half].iter().cloned());
        ca.append(&StringChunked::from_iter_options(
            "v".into(),
            values[half..].iter().cloned(),
        ))
        .unwrap();
        assert_eq!(ca.chunks().len(), 2);
        let mut calls: Vec<Option<String>> = Vec::new();
        let codes = distinct_map(&ca, |v| {
            calls.push(v.map(str::to_string));
            v.map_or(-1, |s| {
                s.len() as i64 * 1000 + s.bytes().map(i64::from).sum::<i64>()
            })
        });
        let expected: Vec<i64> = values
            .iter()
            .map(|v| {
                v.as_deref().map_or(-1, |s| {
                    s.len() as i64 * 1000 + s.bytes().map(i64::from).sum::<i64>()
                })
            })
            .collect();
        assert_eq!(codes, expected);
        let distinct: PlHashSet<Option<String>> = values.iter().cloned().collect();
        assert_eq!(calls.len(), distinct.len());
    }
}
