//! Reading transaction files into retain's canonical line table, with validation first.

use std::path::{Path, PathBuf};

use chrono::{NaiveDate, NaiveDateTime};
use polars::prelude::*;
use rayon::prelude::*;

use crate::ids::{ClientIds, IdCollision};
use crate::source::{DataFile, FileFormat, resolve};

/// The trimmed text of an id read as text, for [`ClientIds`] (dropped after reading).
const ID_TEXT: &str = "__id_text";
use crate::{DataError, Layout};

/// Canonical column names of the line table every later stage reads.
pub mod cols {
    /// Client id, `i64`: the id itself, or the code of an id read as text
    /// ([`ClientIds`](crate::ClientIds)).
    pub const CLIENT: &str = "client_id";
    /// Day number (days since 1970-01-01), `i32`.
    pub const DAY: &str = "day";
    /// Hour of day, `i8`; null when the input has dates only.
    pub const HOUR: &str = "hour";
    /// Line value, `f64` (negative for returns).
    pub const AMOUNT: &str = "amount";
    /// Quantity, `f64`; null when the input has none.
    pub const QUANTITY: &str = "quantity";
    /// Invoice / order id, text.
    pub const INVOICE: &str = "invoice";
    /// Product id, text; null when the input has none.
    pub const PRODUCT: &str = "product";
    /// Categorical (country, region), text; null when the input has none.
    pub const CATEGORY: &str = "category";
    /// Whether the line is a return, `bool`.
    pub const IS_RETURN: &str = "is_return";
}

/// What reading the input did, for the run summary and the model card.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct LoadStats {
    /// Data files read.
    pub files: usize,
    /// Lines read.
    pub lines_read: u64,
    /// Lines dropped for having no client id.
    pub lines_without_client: u64,
    /// Purchase lines dropped for a unit price (or amount) <= 0.
    pub free_lines_dropped: u64,
    /// Lines kept.
    pub lines: u64,
    /// Kept lines that are returns.
    pub return_lines: u64,
    /// Distinct clients among kept lines.
    pub clients: u64,
    /// First day in the data.
    pub first_day: Option<NaiveDate>,
    /// Last day in the data.
    pub last_day: Option<NaiveDate>,
}

/// The clean line table: one row per kept input line, in canonical columns ([`cols`](mod@cols)).
#[derive(Debug, Clone)]
pub struct Transactions {
    frame: DataFrame,
    stats: LoadStats,
    source: String,
    layout: Layout,
    ids: ClientIds,
}

impl Transactions {
    /// The text of the ids read as text: what turns the `client_id` codes back into the ids
    /// as read ([`ClientIds::decode`]).
    pub fn ids(&self) -> &ClientIds {
        &self.ids
    }
    /// A lazy view of the line table.
    pub fn lazy(&self) -> LazyFrame {
        self.frame.clone().lazy()
    }
    /// The line table.
    pub fn frame(&self) -> &DataFrame {
        &self.frame
    }
    /// What reading did.
    pub fn stats(&self) -> &LoadStats {
        &self.stats
    }
    /// The input as given.
    pub fn source(&self) -> &str {
        &self.source
    }
    /// The layout used.
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// The fingerprint of the lines ([`crate::LinesDigest`]): the same for the same lines
    /// however they were stored, ordered or split into parts, different when any line's
    /// client, day or value changes, or a line is added or dropped.
    pub fn lines_sha256(&self) -> String {
        self.lines_digest().hex()
    }

    /// The fingerprint of the lines before it is finished ([`crate::LinesDigest`]): what a
    /// worker holding some of the clients hands on, to be merged with the other workers'.
    pub fn lines_digest(&self) -> crate::LinesDigest {
        let mut d = crate::LinesDigest::new();
        // the table's columns are canonical: `add` cannot fail on them
        let _ = d.add(&self.frame);
        d
    }

    /// The lines of a seeded sample of the clients: a client is kept when the hash of its code
    /// and `seed` falls in the first `fraction` of the hash range ([`in_client_sample`]), so
    /// the sample is the same whatever the lines' order or split (every worker of a
    /// distributed run keeps the clients one machine keeps), and the clients kept with a
    /// smaller fraction are kept with any larger one. `fraction` must be in (0, 1].
    pub fn sample_clients(&self, fraction: f64, seed: u64) -> Result<Self, DataError> {
        let file = || PathBuf::from(&self.source);
        if !(fraction > 0.0 && fraction <= 1.0) {
            return Err(DataError::Config(format!(
                "a client sample of {fraction}: the fraction must be above 0 and at most 1"
            )));
        }
        let polars = |source| DataError::Polars {
            file: file(),
            source,
        };
        let clients = self.frame.column(cols::CLIENT).map_err(polars)?;
        let keep: BooleanChunked = clients
            .i64()
            .map_err(polars)?
            .iter()
            .map(|c| c.is_some_and(|c| crate::in_client_sample(c, fraction, seed)))
            .collect();
        let frame = self.frame.filter(&keep).map_err(polars)?;
        let s = &self.stats;
        let stats = summarize(
            &frame,
            s.files,
            s.lines_read,
            s.lines_without_client,
            s.free_lines_dropped,
        )
        .map_err(polars)?;
        Ok(Self {
            frame,
            stats,
            source: self.source.clone(),
            layout: self.layout.clone(),
            ids: self.ids.clone(),
        })
    }

    /// A table of no lines, with the canonical columns and types: what a reader of an empty
    /// part holds (the columns of the features computed from it, for a declared schema).
    pub fn empty(source: &str, layout: Layout) -> Self {
        use crate::cols::*;
        let column = |name: &str, dtype: DataType| Column::new_empty(name.into(), &dtype);
        let frame = DataFrame::new(
            0,
            vec![
                column(CLIENT, DataType::Int64),
                column(DAY, DataType::Int32),
                column(HOUR, DataType::Int8),
                column(AMOUNT, DataType::Float64),
                column(QUANTITY, DataType::Float64),
                column(INVOICE, DataType::String),
                column(PRODUCT, DataType::String),
                column(CATEGORY, DataType::String),
                column(IS_RETURN, DataType::Boolean),
            ],
        )
        .expect("nine empty columns of distinct names");
        Self {
            frame,
            stats: LoadStats::default(),
            source: source.to_string(),
            layout,
            ids: ClientIds::default(),
        }
    }

    /// Builds a table from a frame already in the canonical columns (tests, simulated data).
    pub fn from_frame(frame: DataFrame, source: &str, layout: Layout) -> Result<Self, DataError> {
        let frame = canonical_order(frame).map_err(|e| DataError::Polars {
            file: PathBuf::from(source),
            source: e,
        })?;
        let stats = summarize(&frame, 0, 0, 0, 0).map_err(|e| DataError::Polars {
            file: PathBuf::from(source),
            source: e,
        })?;
        Ok(Self {
            frame,
            stats,
            source: source.to_string(),
            layout,
            ids: ClientIds::default(),
        })
    }
}

pub(crate) const TS_FORMATS: &[&str] = &[
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
    "%Y%m%d",
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y",
];

pub(crate) fn has_time(format: &str) -> bool {
    format.contains("%H") || format.contains("%T")
}

pub(crate) fn parses(format: &str, s: &str) -> bool {
    if has_time(format) {
        NaiveDateTime::parse_from_str(s, format).is_ok()
    } else {
        NaiveDate::parse_from_str(s, format).is_ok()
    }
}

pub(crate) fn polars_err(file: &Path) -> impl Fn(PolarsError) -> DataError + '_ {
    move |source| match source {
        PolarsError::NoData(_) => DataError::EmptyFile {
            file: file.to_path_buf(),
        },
        source => DataError::Polars {
            file: file.to_path_buf(),
            source,
        },
    }
}

/// Scans one file with every column as it is stored (text for CSV). With `typed`, the
/// numeric columns of a CSV file (client id, quantity, unit price, amount) are parsed as
/// numbers by the CSV reader itself: several times cheaper than text plus a cast, but a
/// value that does not parse fails the whole scan without saying where, so the text scan
/// stays the fallback that names the row.
fn scan(file: &DataFile, layout: &Layout, typed: bool) -> Result<LazyFrame, DataError> {
    if let Some(table) = &file.table {
        return Ok(table.0.as_ref().clone().lazy());
    }
    if file.format == FileFormat::Csv && layout.separator == "whitespace" {
        return scan_whitespace(file, layout);
    }
    // the id stays text even in the typed scan: `00123` and `123` must be told apart
    let numeric: Vec<(&str, DataType)> = [
        layout.quantity.as_deref(),
        layout.unit_price.as_deref(),
        layout.amount.as_deref(),
    ]
    .into_iter()
    .flatten()
    .map(|c| (c, DataType::Float64))
    .collect();
    crate::table::scan_with_header(
        file,
        layout.separator.as_bytes()[0],
        layout.has_header,
        &numeric,
        typed,
    )
}

/// A whitespace-separated file (CDNOW's): rewritten as CSV in memory, then read as text.
fn scan_whitespace(file: &DataFile, layout: &Layout) -> Result<LazyFrame, DataError> {
    let err = polars_err(&file.path);
    let bytes = std::fs::read(&file.path).map_err(|source| DataError::Io {
        action: "reading",
        path: file.path.clone(),
        source,
    })?;
    if bytes.is_empty() {
        return Err(DataError::EmptyFile {
            file: file.path.clone(),
        });
    }
    if bytes.starts_with(&[0x1f, 0x8b]) {
        return Err(DataError::Config(format!(
            "{}: whitespace-separated files must be uncompressed",
            file.path.display()
        )));
    }
    let text = String::from_utf8_lossy(&bytes);
    let mut csv = String::with_capacity(bytes.len());
    let mut width: Option<usize> = None;
    let mut row = 0u64;
    for line in text.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        if !fields.is_empty() {
            row += 1;
            // every line has the first line's number of fields (a CSV read with a
            // whitespace layout fails here, by row)
            match width {
                None => width = Some(fields.len()),
                Some(w) if w != fields.len() => {
                    return Err(DataError::BadValue {
                        file: file.path.clone(),
                        column: format!("column_{}", w.min(fields.len()) + 1),
                        row: if layout.has_header { row - 1 } else { row },
                        value: line.chars().take(80).collect(),
                        expected: format!(
                            "a line of {w} whitespace-separated fields, as the first line has \
                             (is the layout right for this file?)"
                        ),
                    });
                }
                Some(_) => {}
            }
            csv.push_str(&fields.join(","));
            csv.push('\n');
        }
    }
    if csv.is_empty() {
        return Err(DataError::EmptyFile {
            file: file.path.clone(),
        });
    }
    let mut lf = CsvReadOptions::default()
        .with_has_header(layout.has_header)
        .with_infer_schema_length(Some(0))
        .into_reader_with_file_handle(std::io::Cursor::new(csv.into_bytes()))
        .finish()
        .map_err(&err)?
        .lazy();
    for (k, v) in &file.partitions {
        lf = lf.with_column(lit(v.clone()).alias(k.as_str()));
    }
    Ok(lf)
}

/// Parses a column to f64; returns (value, is-bad) expressions.
fn number(name: &str, dtype: &DataType) -> (Expr, Expr) {
    let c = col(name);
    if dtype == &DataType::String {
        let v = c
            .clone()
            .str()
            .strip_chars(lit(NULL))
            .cast(DataType::Float64);
        let bad = c
            .is_null()
            .or(v.clone().is_null())
            .or(v.clone().is_finite().not());
        (v, bad)
    } else {
        let v = c.cast(DataType::Float64);
        let bad = v.clone().is_null().or(v.clone().is_finite().not());
        (v, bad)
    }
}

/// The canonical table of one file, with `__bad_<role>` flags and `__keep`.
fn canonical(
    lf: LazyFrame,
    schema: &Schema,
    file_idx: usize,
    layout: &Layout,
    ts_format: Option<&str>,
) -> LazyFrame {
    // client id: an integer or text (crate::ids), or missing (the line is dropped)
    let cid_dtype = schema
        .get(&layout.client_id)
        .cloned()
        .unwrap_or(DataType::String);
    let is_text = cid_dtype == DataType::String;
    let lf = crate::table::client_id(lf, &layout.client_id, &cid_dtype, "__cid", "__cid_bad");
    // for text ids the code is null exactly when the id is empty (or blanks)
    let has_client = if is_text {
        col("__cid").is_not_null()
    } else {
        col(&layout.client_id).is_not_null()
    };
    let bad_client = col("__cid_bad");
    // the ids as written (trimmed by ClientIds::collect), for the text ids' dictionary
    let cid_text = if is_text {
        col(&layout.client_id)
    } else {
        lit(NULL).cast(DataType::String)
    };

    // timestamp -> day, hour
    let ts = col(&layout.timestamp);
    let ts_dtype = schema
        .get(&layout.timestamp)
        .cloned()
        .unwrap_or(DataType::String);
    let (day, hour, bad_ts) = match (&ts_dtype, ts_format) {
        (DataType::String, Some(fmt)) if has_time(fmt) => {
            let opts = StrptimeOptions {
                format: Some(fmt.into()),
                strict: false,
                exact: true,
                cache: true,
            };
            let parsed = ts.clone().str().to_datetime(
                Some(TimeUnit::Milliseconds),
                None,
                opts,
                lit("raise"),
            );
            (
                parsed.clone().dt().date().cast(DataType::Int32),
                parsed.clone().dt().hour().cast(DataType::Int8),
                parsed.is_null(),
            )
        }
        (DataType::String, fmt) => {
            let opts = StrptimeOptions {
                format: fmt.map(Into::into),
                strict: false,
                exact: true,
                cache: true,
            };
            let parsed = ts.clone().str().to_date(opts);
            (
                parsed.clone().cast(DataType::Int32),
                lit(NULL).cast(DataType::Int8),
                parsed.is_null(),
            )
        }
        (DataType::Date, _) => (
            ts.clone().cast(DataType::Int32),
            lit(NULL).cast(DataType::Int8),
            ts.clone().is_null(),
        ),
        // A date-time without a time zone: day and hour by integer division of the stored
        // count (what `dt().date()` and `dt().hour()` compute through chrono value by value,
        // at a tenth of the cost).
        (DataType::Datetime(unit, None), _) => {
            let per_day: i64 = match unit {
                TimeUnit::Milliseconds => 86_400_000,
                TimeUnit::Microseconds => 86_400_000_000,
                TimeUnit::Nanoseconds => 86_400_000_000_000,
            };
            let t = ts.clone().cast(DataType::Int64);
            let day = t.clone().floor_div(lit(per_day));
            let hour = (t - day.clone() * lit(per_day)).floor_div(lit(per_day / 24));
            (
                day.cast(DataType::Int32),
                hour.cast(DataType::Int8),
                ts.clone().is_null(),
            )
        }
        _ => (
            ts.clone().dt().date().cast(DataType::Int32),
            ts.clone().dt().hour().cast(DataType::Int8),
            ts.clone().is_null(),
        ),
    };

    let dt = |name: &Option<String>| {
        name.as_ref()
            .map(|n| schema.get(n).cloned().unwrap_or(DataType::String))
    };
    let qty = layout
        .quantity
        .as_ref()
        .map(|q| number(q, &dt(&layout.quantity).unwrap()));
    let price = layout
        .unit_price
        .as_ref()
        .map(|p| number(p, &dt(&layout.unit_price).unwrap()));
    let amt = layout
        .amount
        .as_ref()
        .map(|a| number(a, &dt(&layout.amount).unwrap()));

    let mut bad: Vec<(&'static str, Expr)> = vec![("client_id", bad_client), ("timestamp", bad_ts)];
    let amount = match (&amt, &qty, &price) {
        (Some((a, b)), _, _) => {
            bad.push(("amount", b.clone()));
            a.clone()
        }
        (None, Some((q, bq)), Some((p, bp))) => {
            bad.push(("quantity", bq.clone()));
            bad.push(("unit_price", bp.clone()));
            // two finite numbers whose product is not (1e200 x 1e200): infinite revenue
            let value = q.clone() * p.clone();
            bad.push(("line_value", value.clone().is_finite().not()));
            value
        }
        _ => lit(f64::NAN), // unreachable after Layout::check
    };
    if let (Some(_), Some((_, bq))) = (&amt, &qty) {
        // quantity is informative only: bad if text that is not a number
        bad.push((
            "quantity",
            bq.clone()
                .and(col(layout.quantity.as_deref().unwrap_or_default()).is_not_null()),
        ));
    }
    let quantity = qty
        .as_ref()
        .map(|(q, _)| q.clone())
        .unwrap_or(lit(NULL).cast(DataType::Float64));

    let invoice = match &layout.invoice {
        Some(i) => col(i).cast(DataType::String),
        None => (col("__row").cast(DataType::Int64) + lit(file_idx as i64 * 1_000_000_000_000))
            .cast(DataType::String),
    };
    let text = |name: &Option<String>| match name {
        Some(n) => col(n).cast(DataType::String),
        None => lit(NULL).cast(DataType::String),
    };

    let r = &layout.returns;
    let mut is_return = lit(false);
    if let (Some(prefix), Some(_)) = (&r.invoice_prefix, &layout.invoice) {
        is_return = is_return.or(invoice
            .clone()
            .str()
            .starts_with(lit(prefix.clone()))
            .fill_null(lit(false)));
    }
    if r.negative_quantity && qty.is_some() {
        is_return = is_return.or(quantity.clone().lt(lit(0.0)).fill_null(lit(false)));
    }
    if r.negative_amount {
        is_return = is_return.or(amount.clone().lt(lit(0.0)).fill_null(lit(false)));
    }
    let free = if r.drop_free_purchases {
        let v = price
            .as_ref()
            .map(|(p, _)| p.clone())
            .unwrap_or(amount.clone());
        is_return
            .clone()
            .not()
            .and(v.lt_eq(lit(0.0)).fill_null(lit(false)))
    } else {
        lit(false)
    };

    let mut exprs = vec![
        col("__cid").alias(crate::cols::CLIENT),
        cid_text.alias(ID_TEXT),
        day.alias(crate::cols::DAY),
        hour.alias(crate::cols::HOUR),
        amount.alias(crate::cols::AMOUNT),
        quantity.alias(crate::cols::QUANTITY),
        invoice.alias(crate::cols::INVOICE),
        text(&layout.product).alias(crate::cols::PRODUCT),
        text(&layout.category).alias(crate::cols::CATEGORY),
        is_return.alias(crate::cols::IS_RETURN),
        col("__row"),
        lit(file_idx as u32).cast(DataType::UInt32).alias("__file"),
        has_client.clone().alias("__has_client"),
        free.alias("__free"),
    ];
    for (role, b) in bad {
        exprs.push(
            has_client
                .clone()
                .and(b.fill_null(lit(true)))
                .alias(format!("__bad_{role}")),
        );
    }
    lf.select(exprs)
}

/// Picks the timestamp format: the layout's, else the first candidate that parses the
/// first non-empty values of the first file.
fn detect_format(
    lf: &LazyFrame,
    file: &Path,
    layout: &Layout,
    dtype: &DataType,
) -> Result<Option<String>, DataError> {
    if dtype != &DataType::String {
        return Ok(None);
    }
    if let Some(f) = &layout.timestamp_format {
        return Ok(Some(f.clone()));
    }
    let head = lf
        .clone()
        .select([col(&layout.timestamp)])
        .drop_nulls(None)
        .limit(200)
        .collect()
        .map_err(polars_err(file))?;
    let s = head
        .column(&layout.timestamp)
        .map_err(polars_err(file))?
        .str()
        .map_err(polars_err(file))?
        .clone();
    let values: Vec<&str> = s.iter().flatten().map(str::trim).collect();
    if values.is_empty() {
        return Ok(None);
    }
    TS_FORMATS
        .iter()
        .find(|f| values.iter().all(|v| parses(f, v)))
        .map(|f| Some(f.to_string()))
        .ok_or_else(|| DataError::BadValue {
            file: file.to_path_buf(),
            column: layout.timestamp.clone(),
            row: 1,
            value: values[0].to_string(),
            expected: "a date or date-time in a known format (set `timestamp_format`)".into(),
        })
}

fn expected_of(role: &str, ts_format: Option<&str>) -> String {
    match role {
        "client_id" => {
            "a client id: an integer, text, or a whole number up to 2^53 when stored as a \
             float"
                .into()
        }
        "timestamp" => match ts_format {
            Some(f) => format!("a date in format `{f}`"),
            None => "a date".into(),
        },
        "line_value" => "a quantity whose line value (quantity x unit price) is a finite \
                         number"
            .into(),
        _ => "a finite number".into(),
    }
}

/// Reads `input` (file, glob or folder) with `layout`, validates it, and returns the clean
/// line table. Validation comes before any work: a missing column, an unparsable date, a
/// non-numeric amount or an empty file stops the read with an error naming the file, the
/// column, and the row and value.
pub fn read_transactions(input: &Path, layout: &Layout) -> Result<Transactions, DataError> {
    read_transactions_until(input, layout, None)
}

/// Reads a table handed over in memory (an Arrow stream from Python, a frame built by a
/// program) as [`read_transactions_until`] reads a file: the columns `layout` names, of any
/// type a file could hold them in (text, integers, floats, dates, date-times, categoricals),
/// with the same validation, cleaning and canonical order, so the same lines give the same
/// table bit for bit however they arrive. Errors name `name` where they would name the file,
/// and rows from 1 in the table's order.
pub fn read_table(
    table: DataFrame,
    name: &str,
    layout: &Layout,
    latest: Option<NaiveDate>,
) -> Result<Transactions, DataError> {
    layout.check()?;
    let input = Path::new(name);
    if table.height() == 0 {
        return Err(DataError::EmptyFile {
            file: input.to_path_buf(),
        });
    }
    // categories (pandas' `category`, Arrow dictionaries) are read as their text
    let text: Vec<Expr> = table
        .columns()
        .iter()
        .filter(|c| matches!(c.dtype(), DataType::Categorical(..) | DataType::Enum(..)))
        .map(|c| col(c.name().clone()).cast(DataType::String))
        .collect();
    let table = if text.is_empty() {
        table
    } else {
        table
            .lazy()
            .with_columns(text)
            .collect()
            .map_err(polars_err(input))?
    };
    let files = [DataFile {
        path: input.to_path_buf(),
        format: FileFormat::Table,
        partitions: vec![],
        table: Some(crate::MemoryTable(std::sync::Arc::new(table))),
    }];
    read_explained(input, &files, layout, false, |typed| {
        read(input, &files, layout, typed, latest)
    })
}

/// The latest day a line may carry when the run names no as-of date: tomorrow in UTC, from
/// the system clock (a line dated later is a typo or a placeholder, never a purchase).
pub fn tomorrow_utc() -> NaiveDate {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default() + chrono::Days::new(secs / 86_400 + 1)
}

/// The first day a line may carry: anything earlier is a typo or a placeholder (year 1, 1899),
/// never a purchase.
pub const EARLIEST_DAY: NaiveDate = match NaiveDate::from_ymd_opt(1900, 1, 1) {
    Some(d) => d,
    None => unreachable!(),
};

/// [`read_transactions`], refusing too lines dated after `latest` (the run's as-of date): one
/// line dated 2099 would otherwise become the default cutoff and make every client look
/// safe. Lines dated before [`EARLIEST_DAY`] are always refused. The error names the first
/// such line's file, row and value, and counts them all.
pub fn read_transactions_until(
    input: &Path,
    layout: &Layout,
    latest: Option<NaiveDate>,
) -> Result<Transactions, DataError> {
    let _reading = retain_core::activity::reading(input);
    layout.check()?;
    let files = resolve(input)?;
    let any_csv = files.iter().any(|f| f.format == FileFormat::Csv);
    read_explained(input, &files, layout, any_csv, |typed| {
        read(input, &files, layout, typed, latest)
    })
}

/// Runs `read` with the typed CSV scan when some file is comma-style CSV (`any_csv`), again
/// as text when the typed scan could not parse a value (the text read names it), catching a
/// decoder's panic, and puts the error in the user's terms ([`explain`]).
fn read_explained<T>(
    input: &Path,
    files: &[DataFile],
    layout: &Layout,
    any_csv: bool,
    mut read: impl FnMut(bool) -> Result<T, DataError>,
) -> Result<T, DataError> {
    // Only comma-style CSV files have a typed scan; anything else is read once.
    let typed = layout.separator != "whitespace" && any_csv;
    crate::guarded(input, || match read(typed) {
        // a value the typed CSV reader could not parse: read again as text to find it
        Err(DataError::Polars { .. }) if typed => read(false),
        done => done,
    })
    .map_err(|e| explain(e, files, layout))
}

/// The reader's error in the user's terms when the file's bytes explain it (`diagnose`): a
/// file that is not CSV, an invalid byte, an unclosed quote, by row and column.
fn explain(e: DataError, files: &[DataFile], layout: &Layout) -> DataError {
    let separator = match layout.separator.as_str() {
        "whitespace" => b' ',
        s => s.as_bytes().first().copied().unwrap_or(b','),
    };
    match e {
        DataError::MissingColumn { ref file, .. }
            if files
                .iter()
                .any(|f| f.path == *file && f.format == FileFormat::Csv) =>
        {
            match crate::diagnose::kind(file) {
                Some(what) => DataError::Corrupt {
                    file: file.clone(),
                    detail: what,
                },
                None => e,
            }
        }
        DataError::Polars { .. } | DataError::Corrupt { .. } => files
            .iter()
            .filter(|f| f.format == FileFormat::Csv)
            .find_map(|f| crate::diagnose::explain(&f.path, separator, layout.has_header))
            .unwrap_or(e),
        e => e,
    }
}

fn read(
    input: &Path,
    files: &[DataFile],
    layout: &Layout,
    typed: bool,
    latest: Option<NaiveDate>,
) -> Result<Transactions, DataError> {
    let units: Vec<Unit> = (0..files.len())
        .map(|file| Unit { file, slice: None })
        .collect();
    let mut ts_format = None;
    let piece =
        read_units(input, files, &units, layout, typed, latest, &mut ts_format)?.order(input)?;
    let stats = summarize(
        &piece.keep,
        files.len(),
        piece.lines_read,
        piece.no_client,
        piece.free,
    )
    .map_err(polars_err(input))?;
    check_usable(input, layout, &stats)?;
    Ok(piece.into_transactions(stats, input, layout))
}

/// Refuses a whole input that leaves nothing to work on: every line without a client, or
/// every kept line a return.
fn check_usable(input: &Path, layout: &Layout, stats: &LoadStats) -> Result<(), DataError> {
    let (lines_read, no_client) = (stats.lines_read, stats.lines_without_client);
    if stats.lines == 0 && no_client == lines_read {
        return Err(DataError::NothingToUse {
            file: input.to_path_buf(),
            what: format!(
                "all {lines_read} lines have an empty `{}`: no client to work on",
                layout.client_id
            ),
        });
    }
    if stats.lines > 0 && stats.return_lines == stats.lines {
        return Err(DataError::NothingToUse {
            file: input.to_path_buf(),
            what: format!(
                "every one of the {} lines kept is a return ({}): no purchase to learn from; \
                 check the layout's [layout.returns] rules",
                stats.lines,
                layout.returns.describe()
            ),
        });
    }
    Ok(())
}

/// A piece of one input file: all its rows, or the rows `[offset, offset + len)` (whole row
/// groups of a Parquet file).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Unit {
    file: usize,
    slice: Option<(u64, u64)>,
}

/// The kept lines of some units, in canonical order, with what reading them did.
struct Piece {
    keep: DataFrame,
    lines_read: u64,
    no_client: u64,
    free: u64,
    ids: ClientIds,
}

impl Piece {
    /// The line table of these lines, read from `input` with `layout`.
    fn into_transactions(self, stats: LoadStats, input: &Path, layout: &Layout) -> Transactions {
        Transactions::of_clean(self.keep, stats, input, layout, self.ids)
    }
}

impl Transactions {
    /// The line table of clean lines `frame` (canonical columns and order), read from `input`
    /// with `layout`.
    pub(crate) fn of_clean(
        frame: DataFrame,
        stats: LoadStats,
        input: &Path,
        layout: &Layout,
        ids: ClientIds,
    ) -> Self {
        Self {
            frame,
            stats,
            source: input.to_string_lossy().into_owned(),
            layout: layout.clone(),
            ids,
        }
    }
}

/// Reads, validates and cleans `units` of `files` (in order): the first bad value in file,
/// then row order stops the read, naming it. `ts_format` carries the timestamp format found
/// in the first text timestamps from one call to the next (`None`: not looked for yet).
fn read_units(
    input: &Path,
    files: &[DataFile],
    units: &[Unit],
    layout: &Layout,
    typed: bool,
    latest: Option<NaiveDate>,
    ts_format: &mut Option<Option<String>>,
) -> Result<Unordered, DataError> {
    let mut frames = Vec::with_capacity(units.len());
    for unit in units {
        let file = &files[unit.file];
        let mut lf = scan(file, layout, typed)?;
        let schema = lf.collect_schema().map_err(polars_err(&file.path))?;
        crate::table::check_columns(file, &schema, &layout.columns())?;
        let ts_dtype = schema
            .get(&layout.timestamp)
            .cloned()
            .unwrap_or(DataType::String);
        if ts_format.as_ref().is_none_or(Option::is_none) && ts_dtype == DataType::String {
            let found = detect_format(&lf, &file.path, layout, &ts_dtype)?;
            if found.is_some() {
                *ts_format = Some(found);
            }
        }
        let lf = match unit.slice {
            None => lf.with_row_index("__row", None),
            Some((offset, len)) => lf
                .slice(offset as i64, len as IdxSize)
                .with_row_index("__row", Some(offset as IdxSize)),
        };
        let format = ts_format.as_ref().and_then(|f| f.as_deref());
        frames.push(canonical(lf, &schema, unit.file, layout, format));
    }
    let ts_format = ts_format.as_ref().and_then(|f| f.as_deref());
    let all = concat(frames, UnionArgs::default()).map_err(polars_err(input))?;
    let df = all
        .collect_with_engine(Engine::Streaming)
        .map_err(polars_err(input))?;
    let df = df.unwrap_single();

    // empty files (a header and no rows), among the files read whole
    let counts = df
        .column("__file")
        .map_err(polars_err(input))?
        .u32()
        .map_err(polars_err(input))?
        .clone();
    let mut per_file = vec![0u64; files.len()];
    for v in counts.iter().flatten() {
        per_file[v as usize] += 1;
    }
    if let Some(u) = units
        .iter()
        .find(|u| u.slice.is_none() && per_file[u.file] == 0)
    {
        return Err(DataError::EmptyFile {
            file: files[u.file].path.clone(),
        });
    }

    // the first bad value, in file order, then row order
    let line_value = layout.quantity.as_deref().map(|q| ("line_value", q));
    for (role, column) in layout.columns().into_iter().chain(line_value) {
        let flag = format!("__bad_{role}");
        let Ok(c) = df.column(&flag) else { continue };
        let mask = c.bool().map_err(polars_err(input))?;
        // (`any` reads the bits a word at a time: the line-by-line search runs only when
        // there is a bad value to name)
        if !mask.any() {
            continue;
        }
        if let Some(pos) = mask.iter().position(|b| b == Some(true)) {
            let file_idx = df
                .column("__file")
                .unwrap()
                .u32()
                .unwrap()
                .get(pos)
                .unwrap() as usize;
            let row = df.column("__row").unwrap().idx().unwrap().get(pos).unwrap() as u64;
            let file = &files[file_idx];
            let value = raw_value(file, layout, column, row).unwrap_or_default();
            return Err(DataError::BadValue {
                file: file.path.clone(),
                column: column.to_string(),
                row: row + 1,
                value,
                expected: expected_of(role, ts_format),
            });
        }
    }

    check_dates(&df, input, files, layout, latest)?;

    let lines_read = df.height() as u64;
    let no_client = df
        .column("__has_client")
        .and_then(|c| c.bool().map(|b| b.sum().unwrap_or(0) as u64))
        .map_err(polars_err(input))?;
    let no_client = lines_read - no_client;
    // the lines kept: with a client, not a free line (the sort below gathers only those)
    let kept = {
        let column = |name: &str| -> Result<BooleanChunked, DataError> {
            let c = df.column(name).map_err(polars_err(input))?;
            Ok(c.bool().map_err(polars_err(input))?.clone())
        };
        let (has_client, free) = (column("__has_client")?, column("__free")?);
        (&has_client & &!&free)
            .fill_null_with_values(false)
            .map_err(polars_err(input))?
    };
    let lines = df
        .select([
            crate::cols::CLIENT,
            crate::cols::DAY,
            crate::cols::HOUR,
            crate::cols::AMOUNT,
            crate::cols::QUANTITY,
            crate::cols::INVOICE,
            crate::cols::PRODUCT,
            crate::cols::CATEGORY,
            crate::cols::IS_RETURN,
        ])
        .map_err(polars_err(input))?;
    // the dictionary from every line read (no gather of the text: a dropped line's id
    // only adds an unused entry)
    let ids = client_ids(&df, input)?;
    drop(df);
    Ok(Unordered {
        lines,
        kept,
        lines_read,
        no_client,
        ids,
    })
}

/// The lines of some units read, validated and cleaned, before the canonical order: every
/// line read, and which are kept.
struct Unordered {
    lines: DataFrame,
    kept: BooleanChunked,
    lines_read: u64,
    no_client: u64,
    ids: ClientIds,
}

impl Unordered {
    /// The lines kept, in canonical order ([`canonical_order_of`]).
    fn order(self, input: &Path) -> Result<Piece, DataError> {
        let Self {
            lines,
            kept,
            lines_read,
            no_client,
            ids,
        } = self;
        let keep = crate::guarded(input, || {
            canonical_order_of(lines, Some(&kept)).map_err(polars_err(input))
        })?;
        let free = lines_read - no_client - keep.height() as u64;
        Ok(Piece {
            keep,
            lines_read,
            no_client,
            free,
            ids,
        })
    }
}

/// Lines per part of [`PartReader`] when the caller does not choose: about a million, the
/// size of Online Retail II, so a file that size is read in one piece.
pub const READ_PART_LINES: u64 = 1 << 20;

/// Reads a large input part by part, each part of whole clients, so that a caller condenses
/// each part and drops its lines before the next ([`read_transactions_until`]'s validation
/// and cleaning, part by part, in file then row order).
///
/// The parts are runs of whole files and of whole Parquet row groups of about `part_lines`
/// lines (a CSV file is always read whole; a row group is never split): the memory a part
/// takes depends on `part_lines` and the row groups' size, not on the input's. Every part
/// must hold whole clients: a client whose lines are in two parts (an input neither sorted nor
/// partitioned by client) makes [`PartReader::next_part`] fail with
/// [`PartError::NotClustered`], and the caller reads the input another way (a reader made
/// [`PartReader::unclustered`] hands its parts to a [`crate::Spill`]). The counts
/// ([`LoadStats`]) add up over the parts; the whole input's checks (no client at all, nothing
/// but returns) are made by [`PartReader::finish`].
pub struct PartReader {
    source: PartSource,
    checks: PartChecks,
}

/// The reading half of a [`PartReader`] ([`PartReader::halves`]): each part's lines read,
/// validated and cleaned, in part order.
pub struct PartSource {
    input: PathBuf,
    files: Vec<DataFile>,
    layout: Layout,
    latest: Option<NaiveDate>,
    parts: Vec<Vec<Unit>>,
    /// The most lines a part is planned to hold.
    largest: u64,
    next: usize,
    ts_format: Option<Option<String>>,
}

/// The other half of a [`PartReader`] ([`PartReader::halves`]): each part read by the
/// [`PartSource`], in part order, put in canonical order, checked to hold whole clients and
/// counted.
pub struct PartChecks {
    input: PathBuf,
    layout: Layout,
    seen: std::collections::HashSet<i64>,
    clustered: bool,
    stats: LoadStats,
    ids: ClientIds,
}

/// One part's lines as the [`PartSource`] read them, before their canonical order
/// ([`PartChecks::order`]).
pub struct ReadPart {
    lines: Unordered,
    files: usize,
}

/// Why a part could not be read.
#[derive(Debug, thiserror::Error)]
pub enum PartError {
    /// A client's lines are in two parts: the input is not clustered by client.
    #[error(
        "{file}: client {client} has lines in two parts of the input (it is neither sorted nor \
         partitioned by client)"
    )]
    NotClustered {
        /// The input.
        file: PathBuf,
        /// The client's code.
        client: i64,
    },
    /// The data are bad.
    #[error(transparent)]
    Data(#[from] DataError),
}

impl PartReader {
    /// Plans the parts of `input` (no line is read yet: only the files' list and the Parquet
    /// files' row-group sizes).
    pub fn open(
        input: &Path,
        layout: &Layout,
        latest: Option<NaiveDate>,
        part_lines: u64,
    ) -> Result<Self, DataError> {
        layout.check()?;
        let files = resolve(input)?;
        let part_lines = part_lines.max(1);
        let mut units = Vec::new();
        for (i, f) in files.iter().enumerate() {
            match f.format {
                FileFormat::Parquet => {
                    for (slice, lines) in row_group_slices(&f.path, part_lines)? {
                        units.push((Unit { file: i, slice }, lines));
                    }
                }
                FileFormat::Csv | FileFormat::Table => units.push((
                    Unit {
                        file: i,
                        slice: None,
                    },
                    part_lines,
                )),
            }
        }
        let mut parts: Vec<Vec<Unit>> = Vec::new();
        let mut largest = 0u64;
        let mut size = u64::MAX;
        for (unit, lines) in units {
            if size.saturating_add(lines) > part_lines {
                parts.push(Vec::new());
                size = 0;
            }
            size += lines;
            largest = largest.max(size);
            parts.last_mut().expect("a part was pushed").push(unit);
        }
        Ok(Self {
            checks: PartChecks {
                input: input.to_path_buf(),
                layout: layout.clone(),
                stats: LoadStats {
                    files: files.len(),
                    ..LoadStats::default()
                },
                seen: std::collections::HashSet::new(),
                clustered: true,
                ids: ClientIds::default(),
            },
            source: PartSource {
                input: input.to_path_buf(),
                files,
                layout: layout.clone(),
                latest,
                parts,
                largest,
                next: 0,
                ts_format: layout.timestamp_format.clone().map(Some),
            },
        })
    }

    /// Reads the parts without asking for whole clients (for [`crate::Spill`], which
    /// partitions them by client): no part is refused as [`PartError::NotClustered`], and
    /// the client count of [`PartReader::finish`] counts a client once per part it is in.
    pub fn unclustered(mut self) -> Self {
        self.checks.clustered = false;
        self
    }

    /// How many parts the input is read in.
    pub fn parts(&self) -> usize {
        self.source.parts.len()
    }

    /// The most lines one part holds, as planned: a Parquet part's row groups' line counts
    /// (a row group larger than `part_lines` makes a part that large), a CSV file's
    /// `part_lines` (its lines are not counted before it is read).
    pub fn largest_part_lines(&self) -> u64 {
        self.source.largest
    }

    /// The next part's clean lines, in canonical order; `None` after the last.
    pub fn next_part(&mut self) -> Option<Result<Transactions, PartError>> {
        let read = self.source.next_read()?;
        Some(
            read.map_err(PartError::from)
                .and_then(|r| self.checks.order(r)),
        )
    }

    /// The two halves of the reader, for a caller that reads the next part while the one
    /// before is put in order on another thread: `source.next_read()` then
    /// `checks.order(..)` of each part, in part order, is [`PartReader::next_part`].
    pub fn halves(&mut self) -> (&mut PartSource, &mut PartChecks) {
        (&mut self.source, &mut self.checks)
    }

    /// The counts over every part read, and the ids read as text, after the whole input's
    /// checks: no line with a client, or nothing but returns, is an error.
    pub fn finish(self) -> Result<(LoadStats, ClientIds), DataError> {
        let c = self.checks;
        check_usable(&c.input, &c.layout, &c.stats)?;
        Ok((c.stats, c.ids))
    }
}

impl PartSource {
    /// The next part's lines read, validated and cleaned (the first bad value stops the
    /// read, naming it); `None` after the last.
    pub fn next_read(&mut self) -> Option<Result<ReadPart, DataError>> {
        let units = self.parts.get(self.next)?.clone();
        self.next += 1;
        Some(self.read(&units))
    }

    fn read(&mut self, units: &[Unit]) -> Result<ReadPart, DataError> {
        let _reading = retain_core::activity::reading(&self.input);
        let (input, files, layout) = (&self.input, &self.files, &self.layout);
        let any_csv = units
            .iter()
            .any(|u| files[u.file].format == FileFormat::Csv);
        let mut ts = self.ts_format.clone();
        let latest = self.latest;
        let lines = read_explained(input, files, layout, any_csv, |typed| {
            read_units(input, files, units, layout, typed, latest, &mut ts)
        })?;
        self.ts_format = ts;
        let mut part_files: Vec<usize> = units.iter().map(|u| u.file).collect();
        part_files.dedup();
        Ok(ReadPart {
            lines,
            files: part_files.len(),
        })
    }
}

impl PartChecks {
    /// The clean lines of a part the [`PartSource`] read, in canonical order, once they
    /// are found to hold whole clients (unless the reader is
    /// [`PartReader::unclustered`]); the parts must come in the order they were read.
    pub fn order(&mut self, part: ReadPart) -> Result<Transactions, PartError> {
        let input = &self.input;
        let piece = part.lines.order(input)?;
        if self.clustered {
            whole_clients(&mut self.seen, input, &piece.keep)?;
        }
        let stats = summarize(
            &piece.keep,
            part.files,
            piece.lines_read,
            piece.no_client,
            piece.free,
        )
        .map_err(polars_err(input))?;
        self.ids
            .merge(&piece.ids)
            .map_err(|crate::IdCollision(a, b)| DataError::NothingToUse {
                file: input.clone(),
                what: format!(
                    "the client ids {a:?} and {b:?} have the same 64-bit code; rename one of them"
                ),
            })?;
        let t = &mut self.stats;
        t.lines_read += stats.lines_read;
        t.lines_without_client += stats.lines_without_client;
        t.free_lines_dropped += stats.free_lines_dropped;
        t.lines += stats.lines;
        t.return_lines += stats.return_lines;
        t.clients += stats.clients;
        t.first_day = t.first_day.into_iter().chain(stats.first_day).min();
        t.last_day = t.last_day.into_iter().chain(stats.last_day).max();
        Ok(piece.into_transactions(stats, input, &self.layout))
    }
}

/// Refuses a part (`keep`, a canonical line table) with a client in `seen`, the clients of
/// the earlier parts, and adds its clients to them: whole clients only.
fn whole_clients(
    seen: &mut std::collections::HashSet<i64>,
    input: &Path,
    keep: &DataFrame,
) -> Result<(), PartError> {
    let client = keep
        .column(crate::cols::CLIENT)
        .and_then(|c| c.i64().cloned())
        .map_err(polars_err(input))
        .map_err(PartError::Data)?;
    let mut last = None;
    for c in client.into_no_null_iter() {
        if last != Some(c) {
            if !seen.insert(c) {
                return Err(PartError::NotClustered {
                    file: input.to_path_buf(),
                    client: c,
                });
            }
            last = Some(c);
        }
    }
    Ok(())
}

/// Rows `[offset, offset + len)` of a file, as `(offset, len)`.
type RowRange = (u64, u64);

/// The row ranges of a Parquet file's row groups, merged into runs of about `part_lines`
/// lines, each with its lines: `[(None, lines)]` for a file of one run.
fn row_group_slices(
    path: &Path,
    part_lines: u64,
) -> Result<Vec<(Option<RowRange>, u64)>, DataError> {
    let file = std::fs::File::open(path).map_err(|source| DataError::Io {
        action: "reading",
        path: path.to_path_buf(),
        source,
    })?;
    let rows: Vec<u64> = crate::guarded(path, || {
        let mut reader = ParquetReader::new(file);
        let meta = reader.get_metadata().map_err(polars_err(path))?;
        Ok(meta
            .row_groups
            .iter()
            .map(|g| g.num_rows() as u64)
            .collect())
    })?;
    let mut slices = Vec::new();
    let (mut start, mut len) = (0u64, 0u64);
    for n in rows {
        if len > 0 && len + n > part_lines {
            slices.push((start, len));
            start += len;
            len = 0;
        }
        len += n;
    }
    if len > 0 || slices.is_empty() {
        slices.push((start, len));
    }
    if let [(_, lines)] = slices[..] {
        return Ok(vec![(None, lines)]);
    }
    Ok(slices.into_iter().map(|s| (Some(s), s.1)).collect())
}

/// The text of the ids read as text (the codes' dictionary, [`ClientIds`]) of the lines
/// read. Two ids with one code are refused, naming both.
fn client_ids(keep: &DataFrame, input: &Path) -> Result<ClientIds, DataError> {
    let err = polars_err(input);
    let text = keep.column(ID_TEXT).map_err(&err)?;
    let ids = if text.null_count() == text.len() {
        ClientIds::default()
    } else {
        let codes = keep
            .column(crate::cols::CLIENT)
            .map_err(&err)?
            .i64()
            .map_err(&err)?;
        ClientIds::collect(codes, text.str().map_err(&err)?).map_err(|IdCollision(a, b)| {
            let what = if crate::ids::is_text_code(crate::ids::code_of_text(&a)) {
                format!(
                    "the client ids {a:?} and {b:?} have the same 64-bit code (a chance of \
                     about one in 10^12 per pair); rename one of them"
                )
            } else {
                format!(
                    "the client ids {a:?} and {b:?} are two spellings of the integer {}: one \
                     client or two? write every id of a client the same way",
                    crate::ids::code_of_text(&a)
                )
            };
            DataError::NothingToUse {
                file: input.to_path_buf(),
                what,
            }
        })?
    };
    Ok(ids)
}

/// Refuses lines dated before [`EARLIEST_DAY`] or after `latest`, naming the first (in file,
/// then row order) and counting all.
fn check_dates(
    df: &DataFrame,
    input: &Path,
    files: &[DataFile],
    layout: &Layout,
    latest: Option<NaiveDate>,
) -> Result<(), DataError> {
    let lo = retain_core::day_number(EARLIEST_DAY);
    let hi = latest.map_or(i32::MAX, retain_core::day_number);
    let days = df
        .column(crate::cols::DAY)
        .and_then(|c| c.i32())
        .map_err(polars_err(input))?;
    if days.min().is_none_or(|d| d >= lo) && days.max().is_none_or(|d| d <= hi) {
        return Ok(());
    }
    let outside = |d: i32| d < lo || d > hi;
    let n = days.iter().flatten().filter(|&d| outside(d)).count();
    let Some(pos) = days.iter().position(|d| d.is_some_and(outside)) else {
        return Ok(());
    };
    let at = |c: &str| -> Result<u64, PolarsError> {
        let c = df.column(c)?;
        Ok(match c.dtype() {
            DataType::UInt32 => c.u32()?.get(pos).unwrap_or(0) as u64,
            _ => c.idx()?.get(pos).unwrap_or(0) as u64,
        })
    };
    let file = &files[at("__file").map_err(polars_err(input))? as usize];
    let row = at("__row").map_err(polars_err(input))?;
    let value = raw_value(file, layout, &layout.timestamp, row).unwrap_or_default();
    let range = match latest {
        Some(l) => format!(
            "a date from {EARLIEST_DAY} to {l} (the run's as-of date; pass --as-of for a later one)"
        ),
        None => format!("a date from {EARLIEST_DAY} on"),
    };
    Err(DataError::BadValue {
        file: file.path.clone(),
        column: layout.timestamp.clone(),
        row: row + 1,
        value,
        expected: format!(
            "{range}; {n} line{} outside it: correct or remove them",
            if n == 1 { " is" } else { "s are" }
        ),
    })
}

/// Sorts lines by (client, day, amount, quantity), so every sum over the table is taken in
/// the same order whatever order the input rows came in: lines that tie on all four keys add
/// the same values, so their relative order cannot change a sum. (Sorting on the text columns
/// too would cost three times as much for no difference in any feature.)
pub(crate) fn canonical_order(df: DataFrame) -> PolarsResult<DataFrame> {
    canonical_order_of(df, None)
}

/// [`canonical_order`] of the lines of `df` marked in `keep` (every line with `None`): the
/// lines dropped are left out of the one gather, instead of filtered out by a gather of
/// their own first. The lines kept must have a client, a day and an amount.
fn canonical_order_of(mut df: DataFrame, keep: Option<&BooleanChunked>) -> PolarsResult<DataFrame> {
    use crate::cols::*;
    // One permutation, then one gather. The keys are sorted as plain tuples, contiguous in
    // memory, with the input position last (so the order is total and stable): about two
    // thirds of the CPU of polars' multi-column sort on ORII (0.45 s against 0.64 s), which
    // encodes every row's keys into bytes and compares those.
    // Floats are ordered by `ordered`: the IEEE total order; a missing quantity sorts last.
    fn ordered(x: f64) -> u64 {
        let b = x.to_bits();
        if b >> 63 == 1 { !b } else { b | (1 << 63) }
    }
    df.rechunk_mut_par();
    let client = df.column(CLIENT)?.i64()?;
    let day = df.column(DAY)?.i32()?;
    let amount = df.column(AMOUNT)?.f64()?;
    let quantity = df.column(QUANTITY)?.f64()?;
    // the positions of the lines kept
    let rows: Option<Vec<IdxSize>> = keep.map(|k| {
        k.iter()
            .enumerate()
            .filter(|(_, b)| *b == Some(true))
            .map(|(i, _)| i as IdxSize)
            .collect()
    });
    let n = rows.as_ref().map_or(df.height(), Vec::len);
    let row_of = |i: usize| rows.as_ref().map_or(i, |r| r[i] as usize);
    let (client, day, amount) = (
        client.rechunk().into_owned(),
        day.rechunk().into_owned(),
        amount.rechunk().into_owned(),
    );
    let (client, day, amount) = (
        client.downcast_as_array(),
        day.downcast_as_array(),
        amount.downcast_as_array(),
    );
    // every line kept has a client, a day and an amount
    for (name, valid) in [
        (CLIENT, client.validity()),
        (DAY, day.validity()),
        (AMOUNT, amount.validity()),
    ] {
        let nulls = valid.map_or(0, |v| (0..n).filter(|&i| !v.get_bit(row_of(i))).count());
        polars_ensure!(nulls == 0, ComputeError: "the line table has {nulls} null values in `{name}`");
    }
    // (the values of one chunk: only lines kept are read, and they have no nulls)
    let (client, day, amount) = (
        client.values().as_slice(),
        day.values().as_slice(),
        amount.values().as_slice(),
    );
    // Lines bucketed by client first (one hash lookup per line, the buckets laid out in
    // client order), then each client's few lines sorted by the other keys: the same
    // permutation as one sort of every (client, day, amount, quantity, position) tuple,
    // at a third of its cost on a part of a million lines.
    let mut dense: PlHashMap<i64, u32> = PlHashMap::new();
    let mut of_line: Vec<u32> = Vec::with_capacity(n);
    let mut counts: Vec<u32> = Vec::new();
    // (a line of the previous line's client, as most lines of an invoice are, skips the
    // lookup)
    let mut previous: Option<(i64, u32)> = None;
    for i in 0..n {
        let c = client[row_of(i)];
        let d = match previous {
            Some((p, d)) if p == c => d,
            _ => {
                let next = counts.len() as u32;
                let d = *dense.entry(c).or_insert(next);
                if d == next {
                    counts.push(0);
                }
                previous = Some((c, d));
                d
            }
        };
        counts[d as usize] += 1;
        of_line.push(d);
    }
    let mut clients: Vec<(i64, u32)> = dense.into_iter().collect();
    clients.sort_unstable();
    let mut start = vec![0usize; counts.len()];
    let mut bounds = Vec::with_capacity(clients.len() + 1);
    let mut at = 0usize;
    for &(_, d) in &clients {
        start[d as usize] = at;
        bounds.push(at);
        at += counts[d as usize] as usize;
    }
    bounds.push(at);
    let quantity = quantity.rechunk();
    let quantity = quantity.downcast_as_array();
    let mut keys: Vec<(i32, u64, u64, IdxSize)> = vec![(0, 0, 0, 0); n];
    for i in 0..n {
        let r = row_of(i);
        let q = quantity.get(r).unwrap_or(f64::NAN);
        let slot = &mut start[of_line[i] as usize];
        keys[*slot] = (day[r], ordered(amount[r]), ordered(q), r as IdxSize);
        *slot += 1;
    }
    drop(of_line);
    // each client's lines sorted, clients side by side
    let mut rest: &mut [(i32, u64, u64, IdxSize)] = &mut keys;
    let mut pieces = Vec::with_capacity(clients.len());
    for w in bounds.windows(2) {
        let (piece, tail) = rest.split_at_mut(w[1] - w[0]);
        pieces.push(piece);
        rest = tail;
    }
    pieces.par_iter_mut().for_each(|p| p.sort_unstable());
    let idx = IdxCa::from_vec("idx".into(), keys.into_iter().map(|k| k.3).collect());
    let mut df = df.take(&idx)?;
    // One chunk per column: polars' float sums depend on chunk boundaries. And the client
    // column is marked sorted, as polars' own sort would: group-bys on it then take its
    // sorted path, which sums each group's lines in table order (the hash path combines
    // per-thread partial sums in whatever order the threads finish).
    df.rechunk_mut_par();
    let mut client = df.column(CLIENT)?.clone();
    client.set_sorted_flag(polars::series::IsSorted::Ascending);
    df.with_column(client)?;
    Ok(df)
}

fn raw_value(file: &DataFile, layout: &Layout, column: &str, row: u64) -> Option<String> {
    let lf = scan(file, layout, false).ok()?;
    let df = lf
        .slice(row as i64, 1)
        .select([col(column).cast(DataType::String)])
        .collect()
        .ok()?;
    let v = df
        .column(column)
        .ok()?
        .str()
        .ok()?
        .get(0)
        .map(str::to_string);
    Some(v.unwrap_or_default())
}

pub(crate) fn summarize(
    keep: &DataFrame,
    files: usize,
    lines_read: u64,
    no_client: u64,
    free: u64,
) -> PolarsResult<LoadStats> {
    let s = keep
        .clone()
        .lazy()
        .select([
            col(crate::cols::IS_RETURN)
                .sum()
                .cast(DataType::UInt64)
                .alias("ret"),
            col(crate::cols::CLIENT)
                .n_unique()
                .cast(DataType::UInt64)
                .alias("clients"),
            col(crate::cols::DAY).min().alias("first"),
            col(crate::cols::DAY).max().alias("last"),
        ])
        .collect()?;
    let u = |name: &str| -> PolarsResult<u64> { Ok(s.column(name)?.u64()?.get(0).unwrap_or(0)) };
    let d = |name: &str| -> PolarsResult<Option<NaiveDate>> {
        Ok(s.column(name)?
            .i32()?
            .get(0)
            .map(retain_core::from_day_number))
    };
    Ok(LoadStats {
        files,
        lines_read: if files == 0 {
            keep.height() as u64
        } else {
            lines_read
        },
        lines_without_client: no_client,
        free_lines_dropped: free,
        lines: keep.height() as u64,
        return_lines: u("ret")?,
        clients: u("clients")?,
        first_day: d("first")?,
        last_day: d("last")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str =
        "Invoice,StockCode,Description,Quantity,InvoiceDate,Price,Customer ID,Country\n";

    fn write(dir: &Path, name: &str, body: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, format!("{HEADER}{body}")).unwrap();
        p
    }

    /// The distinct ids of a read, as written back ([`ClientIds::ids`]).
    fn ids_of(tx: &Transactions) -> Vec<String> {
        let ids = tx
            .ids()
            .ids(tx.frame().column(cols::CLIENT).unwrap())
            .unwrap();
        let mut out: Vec<String> = (0..ids.len())
            .map(|i| match ids.get(i).unwrap() {
                AnyValue::String(s) => s.to_string(),
                v => v.to_string(),
            })
            .collect();
        out.dedup();
        out.sort();
        out
    }

    #[test]
    fn ids_are_read_exactly_as_integers_of_any_size_or_as_text() {
        let dir = tempfile::tempdir().unwrap();
        let layout = Layout::online_retail_ii();
        // 2^53 + 1 and 2^53 + 2 are one float: read exactly they stay two clients
        let big = "1,A,x,2,2011-01-02 10:00:00,1.5,9007199254740993,UK\n\
                   2,A,x,2,2011-01-03 10:00:00,1.5,9007199254740994,UK\n\
                   3,A,x,2,2011-01-04 10:00:00,1.5,9223372036854775807,UK\n";
        let tx = read_transactions(&write(dir.path(), "big.csv", big), &layout).unwrap();
        assert_eq!(tx.stats().clients, 3);
        assert!(!tx.ids().has_text());
        let c: Vec<i64> = tx
            .frame()
            .column(cols::CLIENT)
            .unwrap()
            .i64()
            .unwrap()
            .into_no_null_iter()
            .collect();
        assert_eq!(c, [9_007_199_254_740_993, 9_007_199_254_740_994, i64::MAX]);

        // the same ids in an int64 Parquet column
        let mut df = df! {
            "Invoice" => ["1", "2"],
            "StockCode" => ["A", "A"],
            "Description" => ["x", "x"],
            "Quantity" => [2i64, 2],
            "InvoiceDate" => ["2011-01-02 10:00:00", "2011-01-03 10:00:00"],
            "Price" => [1.5, 1.5],
            "Customer ID" => [9_007_199_254_740_993i64, 9_007_199_254_740_994],
            "Country" => ["UK", "UK"],
        }
        .unwrap();
        let pq = dir.path().join("big.parquet");
        ParquetWriter::new(std::fs::File::create(&pq).unwrap())
            .finish(&mut df)
            .unwrap();
        let tx = read_transactions(&pq, &layout).unwrap();
        assert_eq!(ids_of(&tx), ["9007199254740993", "9007199254740994"]);

        // text ids, of any length, kept as written; zero-padded digits are the integer
        let uuid = "4f1c2a9e-7d3b-4c55-9a61-0b8f3e2d1c77";
        let long = "client-00000000000000000000000000000001";
        let text = format!(
            "1,A,x,2,2011-01-02 10:00:00,1.5,{uuid},UK\n\
             2,A,x,2,2011-01-03 10:00:00,1.5,{long},UK\n\
             3,A,x,2,2011-01-04 10:00:00,1.5,123456789012345678901234567890,UK\n\
             4,A,x,2,2011-01-05 10:00:00,1.5,00042,UK\n\
             6,A,x,2,2011-01-07 10:00:00,1.5,00042,UK\n\
             5,A,x,2,2011-01-06 10:00:00,1.5, C-00123 ,UK\n"
        );
        let tx = read_transactions(&write(dir.path(), "text.csv", &text), &layout).unwrap();
        assert!(tx.ids().has_text());
        assert_eq!(
            ids_of(&tx),
            [
                "123456789012345678901234567890",
                "42",
                uuid,
                "C-00123",
                long
            ]
        );
    }

    #[test]
    fn an_input_with_no_client_or_no_purchase_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let layout = Layout::online_retail_ii();
        let p = write(
            dir.path(),
            "no_ids.csv",
            "1,A,x,2,2011-01-02 10:00:00,1.5,,UK\n2,A,x,2,2011-01-03 10:00:00,1.5, ,UK\n",
        );
        let e = read_transactions(&p, &layout).unwrap_err().to_string();
        assert!(
            e.contains("no_ids.csv") && e.contains("all 2 lines have an empty `Customer ID`"),
            "{e}"
        );
        let p = write(
            dir.path(),
            "returns.csv",
            "C1,A,x,-2,2011-01-02 10:00:00,1.5,7,UK\nC2,A,x,-2,2011-01-03 10:00:00,1.5,8,UK\n",
        );
        let e = read_transactions(&p, &layout).unwrap_err().to_string();
        assert!(
            e.contains("returns.csv") && e.contains("every one of the 2 lines kept is a return"),
            "{e}"
        );
        let mut empty_prefix = layout.clone();
        empty_prefix.returns.invoice_prefix = Some(String::new());
        let e = read_transactions(&p, &empty_prefix)
            .unwrap_err()
            .to_string();
        assert!(e.contains("invoice_prefix is empty"), "{e}");
    }

    #[test]
    fn ids_a_float_cannot_hold_and_ids_of_no_id_type_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let layout = Layout::online_retail_ii();
        let frame = |ids: Column| {
            let mut df = df! {
                "Invoice" => ["1", "2"],
                "StockCode" => ["A", "A"],
                "Description" => ["x", "x"],
                "Quantity" => [2i64, 2],
                "InvoiceDate" => ["2011-01-02 10:00:00", "2011-01-03 10:00:00"],
                "Price" => [1.5, 1.5],
                "Country" => ["UK", "UK"],
            }
            .unwrap();
            df.with_column(ids).unwrap();
            df
        };
        for (name, ids, value) in [
            (
                "float",
                Column::new("Customer ID".into(), [12.0, 2f64.powi(60)]),
                "1.152921504606847e+18",
            ),
            (
                "bool",
                Column::new("Customer ID".into(), [true, false]),
                "true",
            ),
        ] {
            let pq = dir.path().join(format!("{name}.parquet"));
            ParquetWriter::new(std::fs::File::create(&pq).unwrap())
                .finish(&mut frame(ids))
                .unwrap();
            match read_transactions(&pq, &layout) {
                Err(DataError::BadValue {
                    column,
                    row,
                    value: v,
                    ..
                }) => {
                    assert_eq!(column, "Customer ID");
                    assert_eq!(row, if name == "float" { 2 } else { 1 }, "{name}");
                    assert!(v.starts_with(&value[..4]), "{name}: {v}");
                }
                other => panic!("{name}: {other:?}"),
            }
        }
    }

    #[test]
    fn typed_and_text_reads_give_the_same_table() {
        let dir = tempfile::tempdir().unwrap();
        let body = "1,A,x,2,2011-01-02 10:00:00,1.5,12,UK\n\
                    C2,A,x,-1,2011-01-03 11:00:00,1.5,12,UK\n\
                    3,B,x,1,2011-01-02 09:00:00,0,13,FR\n\
                    4,B,x,3,2011-01-02 09:30:00,2.25,,FR\n\
                    5,C,\"a, b\",1,2011-01-01 08:00:00,4,13,FR\n";
        let p = write(dir.path(), "t.csv", body);
        let layout = Layout::online_retail_ii();
        let files = resolve(&p).unwrap();
        let typed = read(&p, &files, &layout, true, None).unwrap();
        let text = read(&p, &files, &layout, false, None).unwrap();
        assert!(typed.frame().equals_missing(text.frame()));
        assert_eq!(typed.stats(), text.stats());
        assert_eq!(
            typed.stats().lines,
            3,
            "no client and a free line are dropped"
        );
        assert_eq!(typed.stats().return_lines, 1);
    }

    #[test]
    fn a_value_the_typed_reader_refuses_is_found_by_the_text_read() {
        let dir = tempfile::tempdir().unwrap();
        // " 2" parses after trimming: the text read accepts it, same value as "2"
        let padded = write(
            dir.path(),
            "p.csv",
            "1,A,x, 2,2011-01-02 10:00:00,1.5,12,UK\n",
        );
        let plain = write(
            dir.path(),
            "q.csv",
            "1,A,x,2,2011-01-02 10:00:00,1.5,12,UK\n",
        );
        let layout = Layout::online_retail_ii();
        let a = read_transactions(&padded, &layout).unwrap();
        let b = read_transactions(&plain, &layout).unwrap();
        assert!(a.frame().equals_missing(b.frame()));
        // "two" does not: the error names the file, column, row and value
        let bad = write(
            dir.path(),
            "b.csv",
            "1,A,x,2,2011-01-02 10:00:00,1.5,12,UK\n1,A,x,two,2011-01-02 10:00:00,1.5,12,UK\n",
        );
        match read_transactions(&bad, &layout) {
            Err(DataError::BadValue {
                file,
                column,
                row,
                value,
                ..
            }) => {
                assert_eq!(
                    (file, column.as_str(), row, value.as_str()),
                    (bad, "Quantity", 2, "two")
                );
            }
            other => panic!("expected a bad value, got {other:?}"),
        }
    }

    #[test]
    fn lines_are_in_canonical_order_with_the_client_column_marked_sorted() {
        let df = df! {
            cols::CLIENT => [2i64, 1, 2, 1, 1],
            cols::DAY => [5i32, 7, 5, 7, 3],
            cols::AMOUNT => [1.0f64, -0.5, 0.5, -2.0, 9.0],
            cols::QUANTITY => [Some(1.0f64), None, Some(2.0), Some(1.0), Some(3.0)],
        }
        .unwrap();
        let out = canonical_order(df).unwrap();
        let amounts: Vec<f64> = out
            .column(cols::AMOUNT)
            .unwrap()
            .f64()
            .unwrap()
            .into_no_null_iter()
            .collect();
        assert_eq!(amounts, [9.0, -2.0, -0.5, 0.5, 1.0]);
        assert_eq!(
            out.column(cols::CLIENT).unwrap().is_sorted_flag(),
            polars::series::IsSorted::Ascending
        );
        assert_eq!(out.column(cols::AMOUNT).unwrap().n_chunks(), 1);
    }

    #[test]
    fn lines_are_ordered_by_client_day_then_amount_and_quantity_in_the_total_order() {
        // signed zeros, infinities, NaN quantities, ties on every key, many clients in no
        // order; `__pos` says where each line came from, and every value travels with its line
        let specials = [
            0.0f64,
            -0.0,
            1.5,
            -1.5,
            f64::INFINITY,
            f64::NEG_INFINITY,
            1e-310,
        ];
        let n = 2_000usize;
        let client: Vec<i64> = (0..n).map(|i| ((i * 7919) % 97) as i64 - 40).collect();
        let day: Vec<i32> = (0..n).map(|i| ((i * 31) % 5) as i32).collect();
        let amount: Vec<f64> = (0..n)
            .map(|i| specials[(i * 13) % specials.len()])
            .collect();
        let quantity: Vec<f64> = (0..n)
            .map(|i| {
                if i % 11 == 0 {
                    f64::NAN
                } else {
                    specials[(i * 3) % specials.len()]
                }
            })
            .collect();
        let pos: Vec<u32> = (0..n as u32).collect();
        let df = df! {
            cols::CLIENT => &client,
            cols::DAY => &day,
            cols::AMOUNT => &amount,
            cols::QUANTITY => &quantity,
            "__pos" => &pos,
        }
        .unwrap();
        let out = canonical_order(df).unwrap();
        let got_pos: Vec<u32> = out
            .column("__pos")
            .unwrap()
            .u32()
            .unwrap()
            .into_no_null_iter()
            .collect();
        // the order: by client, day, then amount and quantity in the IEEE total order, then position
        let mut expected: Vec<u32> = pos.clone();
        expected.sort_by(|&a, &b| {
            let (a, b) = (a as usize, b as usize);
            (client[a], day[a])
                .cmp(&(client[b], day[b]))
                .then(amount[a].total_cmp(&amount[b]))
                .then(quantity[a].total_cmp(&quantity[b]))
                .then(a.cmp(&b))
        });
        assert_eq!(got_pos, expected);
        let c = out.column(cols::CLIENT).unwrap().i64().unwrap();
        let d = out.column(cols::DAY).unwrap().i32().unwrap();
        let a = out.column(cols::AMOUNT).unwrap().f64().unwrap();
        let q = out.column(cols::QUANTITY).unwrap().f64().unwrap();
        for (i, &p) in got_pos.iter().enumerate() {
            let p = p as usize;
            assert_eq!(c.get(i), Some(client[p]));
            assert_eq!(d.get(i), Some(day[p]));
            assert_eq!(a.get(i).map(f64::to_bits), Some(amount[p].to_bits()));
            assert_eq!(q.get(i).map(f64::to_bits), Some(quantity[p].to_bits()));
        }
        let names: Vec<&str> = out.get_column_names().iter().map(|s| s.as_str()).collect();
        assert_eq!(
            names,
            [
                cols::CLIENT,
                cols::DAY,
                cols::AMOUNT,
                cols::QUANTITY,
                "__pos"
            ]
        );
    }

    #[test]
    fn the_lines_kept_are_ordered_as_the_filtered_table_would_be() {
        // lines dropped (no client, so nulls; a free line) between the lines kept, with ties
        // on every key but the position
        let df = df! {
            cols::CLIENT => [Some(2i64), None, Some(1), Some(1), Some(2), Some(1), None, Some(1)],
            cols::DAY => [Some(5i32), None, Some(7), Some(7), Some(5), Some(3), Some(1), Some(7)],
            cols::AMOUNT => [Some(1.0f64), Some(4.0), Some(-0.5), Some(0.0), Some(1.0), Some(9.0), None, Some(-0.5)],
            cols::QUANTITY => [Some(1.0f64), None, None, Some(1.0), Some(1.0), Some(3.0), None, None],
            cols::INVOICE => ["a", "b", "c", "d", "e", "f", "g", "h"],
        }
        .unwrap();
        let keep = BooleanChunked::new(
            "keep".into(),
            [true, false, true, false, true, true, false, true],
        );
        let filtered = df.filter(&keep).unwrap();
        let text = |d: &DataFrame| -> Vec<String> {
            d.column(cols::INVOICE)
                .unwrap()
                .str()
                .unwrap()
                .iter()
                .map(|v| v.unwrap_or_default().to_string())
                .collect()
        };
        let expected = canonical_order(filtered).unwrap();
        let got = canonical_order_of(df.clone(), Some(&keep)).unwrap();
        assert!(got.equals_missing(&expected));
        assert_eq!(text(&got), ["f", "c", "h", "a", "e"]);
        assert_eq!(
            got.column(cols::CLIENT).unwrap().is_sorted_flag(),
            polars::series::IsSorted::Ascending
        );
        // a line kept without a client is refused, naming the column
        let keep_all = BooleanChunked::new("keep".into(), [true; 8]);
        let e = canonical_order_of(df, Some(&keep_all)).unwrap_err();
        assert!(
            e.to_string().contains("2 null values in `client_id`"),
            "{e}"
        );
    }
}
