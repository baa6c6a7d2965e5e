//! Reading a retention team's contact log (one row per contact attempt or control-group
//! assignment) into a canonical, sorted contact table.

use std::cmp::Ordering;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use polars::prelude::*;
use rayon::slice::ParallelSliceMut;
use serde::{Deserialize, Serialize};

use crate::DataError;
use crate::read::{TS_FORMATS, has_time, parses, polars_err};
use crate::source::{DataFile, FileFormat, resolve};
use crate::table::{self, FILE, ROW};

/// Canonical column names of the contact table.
pub mod cols {
    /// Client id, `i64`.
    pub const CLIENT: &str = "client_id";
    /// Instant of the contact, `i64` seconds since 1970-01-01 UTC.
    pub const TS: &str = "ts";
    /// UTC day of the contact (days since 1970-01-01), `i32`.
    pub const DAY: &str = "day";
    /// Channel, trimmed lower-case text (`phone`, `email`, ...).
    pub const CHANNEL: &str = "channel";
    /// Action or offer id, trimmed text; null when none.
    pub const ACTION: &str = "action";
    /// Outcome code, `i8`: 0 no answer, 1 responded, 2 converted (see [`Outcome`](crate::Outcome)).
    /// `i8` rather than `u8`: the workspace builds polars without its unsigned 8-bit type.
    pub const OUTCOME: &str = "outcome";
    /// Whether the row is a control-group assignment (no contact made), `bool`.
    pub const CONTROL: &str = "control";
    /// Cost of the contact, `f64`; null when not given.
    pub const COST: &str = "cost";
}

/// The outcome of a contact, ordered: no answer < responded < converted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// No answer, no response (code 0).
    NoAnswer = 0,
    /// The client answered or responded (code 1).
    Responded = 1,
    /// The client took the offer or bought (code 2).
    Converted = 2,
}

impl Outcome {
    /// The three outcomes in order.
    pub const ALL: [Outcome; 3] = [Outcome::NoAnswer, Outcome::Responded, Outcome::Converted];

    /// The code stored in the [`cols::OUTCOME`] column.
    pub fn code(self) -> i8 {
        self as i8
    }

    /// The outcome of a code, `None` above 2.
    pub fn from_code(code: i8) -> Option<Self> {
        usize::try_from(code).ok().and_then(|c| Self::ALL.get(c).copied())
    }

    /// The outcome's name, as in `retain.toml`.
    pub fn name(self) -> &'static str {
        match self {
            Outcome::NoAnswer => "no_answer",
            Outcome::Responded => "responded",
            Outcome::Converted => "converted",
        }
    }
}

/// The spellings of each outcome (`[contacts.outcomes]` in `retain.toml`). Values are matched
/// after trimming, without regard to case. A list left out keeps its default.
///
/// | Outcome | Default spellings |
/// |---|---|
/// | `no_answer` | `no_answer`, `no answer`, `noanswer`, `none`, `0`, and the empty value |
/// | `responded` | `responded`, `response`, `answered`, `1` |
/// | `converted` | `converted`, `conversion`, `accepted`, `2` |
///
/// The empty value is a no-answer by default: exports commonly leave the outcome blank when
/// nothing came of an attempt. Leave `""` out of `no_answer` to make a blank outcome an
/// error instead. A control row's blank outcome is always read as code 0 (no contact was
/// made, so there is no answer to record).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OutcomeLabels {
    /// Spellings of "no answer".
    pub no_answer: Vec<String>,
    /// Spellings of "responded".
    pub responded: Vec<String>,
    /// Spellings of "converted".
    pub converted: Vec<String>,
}

impl Default for OutcomeLabels {
    fn default() -> Self {
        let v = |s: &[&str]| s.iter().map(|s| s.to_string()).collect();
        Self {
            no_answer: v(&["no_answer", "no answer", "noanswer", "none", "0", ""]),
            responded: v(&["responded", "response", "answered", "1"]),
            converted: v(&["converted", "conversion", "accepted", "2"]),
        }
    }
}

impl OutcomeLabels {
    /// Each outcome with its normalised (trimmed, lower-case, deduplicated) spellings.
    fn normalised(&self) -> [(Outcome, Vec<String>); 3] {
        let norm = |v: &[String]| {
            let mut out: Vec<String> = v.iter().map(|s| s.trim().to_lowercase()).collect();
            out.sort();
            out.dedup();
            out
        };
        [
            (Outcome::NoAnswer, norm(&self.no_answer)),
            (Outcome::Responded, norm(&self.responded)),
            (Outcome::Converted, norm(&self.converted)),
        ]
    }

    /// What an error says is accepted.
    fn describe(&self) -> String {
        self.normalised()
            .iter()
            .map(|(o, v)| {
                let v: Vec<String> = v.iter().map(|s| format!("{s:?}")).collect();
                format!("{} ({})", o.name(), v.join(", "))
            })
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// Column mapping of a contact log (`[contacts]` in `retain.toml`). One row per contact
/// attempt, or per control-group assignment.
///
/// | Name | Default | Purpose |
/// |---|---|---|
/// | `client_id` | `"client_id"` | integer client id, read as the transactions reader reads it; a row without one is an error (a contact without a client is a broken export) |
/// | `timestamp` | `"timestamp"` | date-time of the contact (see below) |
/// | `timestamp_format` | detected | chrono format of the date-time without its offset |
/// | `channel` | `"channel"` | free label (`phone`, `email`, `sms`, `meeting`, `chat`, ...), trimmed and lower-cased; empty is an error |
/// | `action` | `"action"` if present | action or offer id, trimmed (case kept); empty = none |
/// | `outcome` | `"outcome"` | mapped to no answer / responded / converted by `outcomes` |
/// | `group` | `"group"` if present | `treated`, `treatment`, `t` or empty = treated; `control`, `c`, `holdout` = control (any case); anything else is an error |
/// | `cost` | `"cost"` if present | cost of the contact, a finite number >= 0; empty = not known |
/// | `outcomes` | see [`OutcomeLabels`] | spellings of each outcome |
/// | `separator` | `","` | CSV field separator (one character) |
///
/// An optional column left unset is used when the input has a column of its default name;
/// when some files of an input have it and others do not, the read stops naming the file
/// without it. A column the layout names must be in every file.
///
/// Date-times: text in one of the formats the transactions reader detects (or
/// `timestamp_format`), optionally followed by an offset: `Z`, `+HH:MM` or `+HHMM` (either
/// sign, a blank before it allowed). A value with an offset is converted to UTC; a value
/// without one is taken to be UTC already; a date alone is midnight UTC. Fractions of a
/// second are dropped. In Parquet, a datetime column is read as UTC (its time zone, if any,
/// only changes how it is displayed), a date column as midnight UTC.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ContactsLayout {
    /// Client id column.
    pub client_id: String,
    /// Date-time column.
    pub timestamp: String,
    /// chrono format of the date-time text, without the offset (a trailing `%z` or `%:z` is
    /// ignored: offsets are always read); detected from the first file when absent.
    pub timestamp_format: Option<String>,
    /// Channel column.
    pub channel: String,
    /// Action / offer id column; `action` when the input has it.
    pub action: Option<String>,
    /// Outcome column.
    pub outcome: String,
    /// Treated / control column; `group` when the input has it.
    pub group: Option<String>,
    /// Cost column; `cost` when the input has it.
    pub cost: Option<String>,
    /// Spellings of the outcomes.
    pub outcomes: OutcomeLabels,
    /// CSV separator, one character.
    pub separator: String,
}

impl Default for ContactsLayout {
    fn default() -> Self {
        Self {
            client_id: "client_id".into(),
            timestamp: "timestamp".into(),
            timestamp_format: None,
            channel: "channel".into(),
            action: None,
            outcome: "outcome".into(),
            group: None,
            cost: None,
            outcomes: OutcomeLabels::default(),
            separator: ",".into(),
        }
    }
}

impl ContactsLayout {
    /// Checks the separator and that no spelling names two outcomes.
    pub fn check(&self) -> Result<(), DataError> {
        table::separator_byte(&self.separator)?;
        let levels = self.outcomes.normalised();
        for (i, (a, va)) in levels.iter().enumerate() {
            for (b, vb) in &levels[i + 1..] {
                if let Some(v) = va.iter().find(|v| vb.contains(v)) {
                    return Err(DataError::Config(format!(
                        "the outcome spelling {v:?} is listed for both {} and {}",
                        a.name(),
                        b.name()
                    )));
                }
            }
        }
        Ok(())
    }

    /// The date-time format without a trailing offset directive.
    fn timestamp_format(&self) -> Option<String> {
        self.timestamp_format.as_ref().map(|f| {
            let f = f.trim_end();
            let f = ["%:z", "%#z", "%z"]
                .iter()
                .find_map(|z| f.strip_suffix(z))
                .unwrap_or(f);
            f.trim_end().to_string()
        })
    }
}

/// What reading the contact log found, for the run summary.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ContactsStats {
    /// Data files read.
    pub files: usize,
    /// Rows read (all are kept: a bad row stops the read).
    pub rows: u64,
    /// Distinct clients.
    pub clients: u64,
    /// UTC day of the first contact.
    pub first_day: Option<NaiveDate>,
    /// UTC day of the last contact.
    pub last_day: Option<NaiveDate>,
    /// Treated rows with no answer.
    pub no_answer_rows: u64,
    /// Treated rows with a response.
    pub responded_rows: u64,
    /// Treated rows with a conversion.
    pub converted_rows: u64,
    /// Control-group rows (not counted by outcome): the three outcome counts and this one
    /// add up to `rows`.
    pub control_rows: u64,
    /// The distinct channels, sorted.
    pub channels: Vec<String>,
}

/// The clean contact table: one row per input row in the canonical columns of [`cols`],
/// sorted by client, instant, channel, action (then outcome, control and cost, so rows are
/// in the same order however the input was ordered and every later sum is deterministic).
#[derive(Debug, Clone)]
pub struct Contacts {
    frame: DataFrame,
    stats: ContactsStats,
    source: String,
}

impl Contacts {
    /// A lazy view of the contact table.
    pub fn lazy(&self) -> LazyFrame {
        self.frame.clone().lazy()
    }
    /// The contact table.
    pub fn frame(&self) -> &DataFrame {
        &self.frame
    }
    /// What reading found.
    pub fn stats(&self) -> &ContactsStats {
        &self.stats
    }
    /// The input as given.
    pub fn source(&self) -> &str {
        &self.source
    }
    /// The distinct channels, sorted.
    pub fn channels(&self) -> &[String] {
        &self.stats.channels
    }
    /// Number of rows.
    pub fn len(&self) -> usize {
        self.frame.height()
    }
    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.frame.height() == 0
    }

    /// Builds a contact table from a frame already in the canonical columns and types of
    /// [`cols`] (tests, simulated data); it is sorted canonically. A null in a column that
    /// must not have one, a wrong type or an outcome code above 2 is refused.
    pub fn from_frame(frame: DataFrame, source: &str) -> Result<Self, DataError> {
        let err = |e| DataError::Polars {
            file: PathBuf::from(source),
            source: e,
        };
        let frame = frame
            .lazy()
            .select([
                col(cols::CLIENT).strict_cast(DataType::Int64),
                col(cols::TS).strict_cast(DataType::Int64),
                col(cols::TS)
                    .strict_cast(DataType::Int64)
                    .floor_div(lit(86_400i64))
                    .cast(DataType::Int32)
                    .alias(cols::DAY),
                col(cols::CHANNEL).strict_cast(DataType::String),
                col(cols::ACTION).strict_cast(DataType::String),
                col(cols::OUTCOME).strict_cast(DataType::Int8),
                col(cols::CONTROL).strict_cast(DataType::Boolean),
                col(cols::COST).strict_cast(DataType::Float64),
            ])
            .collect()
            .map_err(err)?;
        let outcome = frame.column(cols::OUTCOME).map_err(err)?.i8().map_err(err)?;
        if outcome.max().is_some_and(|m| m > 2) {
            return Err(DataError::Config(format!(
                "{source}: outcome codes are 0, 1 and 2"
            )));
        }
        let frame = canonical_order(frame).map_err(err)?;
        let stats = summarize(&frame, 0).map_err(err)?;
        Ok(Self {
            frame,
            stats,
            source: source.to_string(),
        })
    }
}

/// Strips a trailing UTC offset (`Z`, `+HH:MM`, `+HHMM`, either sign) and blanks: the same
/// rule as the read's expressions, for detecting the format.
fn strip_offset(s: &str) -> &str {
    let b = s.as_bytes();
    let n = b.len();
    let cut = if s.ends_with(['Z', 'z']) {
        1
    } else if n >= 6 && matches!(b[n - 6], b'+' | b'-') && b[n - 3] == b':' {
        6
    } else if n >= 5 && matches!(b[n - 5], b'+' | b'-') {
        5
    } else {
        0
    };
    s[..n - cut].trim_end()
}

/// The date-time format: the layout's, else the candidate that parses the most of the first
/// 200 non-empty values of `lf` (the first in list order on a tie), so that a bad value
/// among them is named at its own row by the read. When no candidate parses any, the first
/// value is named.
fn detect_format(
    lf: &LazyFrame,
    file: &Path,
    layout: &ContactsLayout,
) -> Result<Option<String>, DataError> {
    if let Some(f) = layout.timestamp_format() {
        return Ok(Some(f));
    }
    let column = &layout.timestamp;
    let err = polars_err(file);
    let head = lf
        .clone()
        .with_row_index(ROW, None)
        .select([col(ROW), table::text(column)])
        .filter(col(column).neq(lit("")))
        .limit(200)
        .collect()
        .map_err(&err)?;
    let s = head.column(column).map_err(&err)?.str().map_err(&err)?;
    let values: Vec<&str> = s.iter().flatten().map(strip_offset).collect();
    if values.is_empty() {
        return Ok(None);
    }
    let parsed = |f: &str| values.iter().filter(|v| parses(f, v)).count();
    // `max_by_key` keeps the last of equals: reversed, the first in list order wins
    let best = TS_FORMATS
        .iter()
        .rev()
        .map(|f| (*f, parsed(f)))
        .max_by_key(|(_, n)| *n)
        .filter(|(_, n)| *n > 0);
    match best {
        Some((f, _)) => Ok(Some(f.to_string())),
        None => Err(DataError::BadValue {
            file: file.to_path_buf(),
            column: column.clone(),
            row: head
                .column(ROW)
                .map_err(&err)?
                .idx()
                .map_err(&err)?
                .get(0)
                .map_or(1, |r| r as u64 + 1),
            value: s.get(0).unwrap_or_default().to_string(),
            expected: "a date-time in a known format (set `timestamp_format`)".into(),
        }),
    }
}

/// Adds `__ts` (seconds since 1970-01-01 UTC) and `__bad_timestamp` to `lf`, from the
/// timestamp column `name` of type `dtype`.
///
/// Text is taken apart in stages, each a projection over the previous one's columns (an
/// expression repeated inside one projection is evaluated once per use): the trimmed text;
/// its last six characters and length; single characters of those; the offset and the cut;
/// the local part parsed.
fn instant(lf: LazyFrame, name: &str, dtype: &DataType, format: Option<&str>) -> LazyFrame {
    let with_bad = |lf: LazyFrame, ts: Expr| {
        lf.with_columns([ts.alias("__ts")])
            .with_column(col("__ts").is_null().alias("__bad_timestamp"))
    };
    match dtype {
        DataType::Datetime(_, _) => with_bad(
            lf,
            col(name)
                .dt()
                .timestamp(TimeUnit::Milliseconds)
                .floor_div(lit(1000i64)),
        ),
        DataType::Date => with_bad(lf, col(name).cast(DataType::Int64) * lit(86_400i64)),
        _ => {
            // text (anything else is read as its text, and refused if it does not parse)
            let lf = lf.with_column(table::text(name).alias("__t"));
            let lf = lf.with_columns([
                col("__t").str().tail(lit(6i64)).alias("__tail"),
                col("__t").str().len_chars().cast(DataType::Int64).alias("__len"),
            ]);
            // `...+HH:MM`: sign at 0, colon at 3; `...+HHMM`: sign at 1; `...Z`: Z at 5
            let ch = |i: i64| col("__tail").str().slice(lit(i), lit(1u64));
            let int = |i: i64| {
                col("__tail")
                    .str()
                    .slice(lit(i), lit(2u64))
                    .cast(DataType::Int64)
            };
            let lf = lf.with_columns([
                ch(0).alias("__c0"),
                ch(1).alias("__c1"),
                ch(3).alias("__c3"),
                ch(5).alias("__c5"),
                int(1).alias("__hh6"),
                int(4).alias("__mm"),
                int(2).alias("__hh5"),
                col("__tail").str().len_chars().alias("__tail_len"),
            ]);
            let sign = |c: &str| col(c).eq(lit("+")).or(col(c).eq(lit("-")));
            let full = col("__tail_len").eq(lit(6u32));
            let lf = lf.with_columns([
                col("__c5")
                    .eq(lit("Z"))
                    .or(col("__c5").eq(lit("z")))
                    .alias("__z"),
                full.clone()
                    .and(sign("__c0"))
                    .and(col("__c3").eq(lit(":")))
                    .alias("__colon"),
                full.and(sign("__c1")).alias("__plain"),
            ]);
            // a Z ends the text: it has no other offset
            let lf = lf.with_columns([
                col("__colon").and(col("__z").not()).alias("__colon"),
                col("__plain").and(col("__z").not()).alias("__plain"),
                when(col("__colon"))
                    .then(col("__hh6"))
                    .otherwise(col("__hh5"))
                    .alias("__hh"),
                when(col("__colon"))
                    .then(col("__c0").eq(lit("-")))
                    .otherwise(col("__c1").eq(lit("-")))
                    .alias("__neg"),
            ]);
            let has_offset = col("__colon").or(col("__plain"));
            let magnitude = col("__hh") * lit(3600i64) + col("__mm") * lit(60i64);
            let lf = lf.with_columns([
                when(has_offset.clone())
                    .then(
                        when(col("__neg"))
                            .then(lit(0i64) - magnitude.clone())
                            .otherwise(magnitude),
                    )
                    .otherwise(lit(0i64))
                    .alias("__offset"),
                has_offset
                    .clone()
                    .and(
                        col("__hh")
                            .is_null()
                            .or(col("__mm").is_null())
                            .or(col("__hh").gt(lit(18i64)))
                            .or(col("__mm").gt_eq(lit(60i64))),
                    )
                    .alias("__bad_offset"),
                when(col("__z"))
                    .then(lit(1i64))
                    .when(col("__colon"))
                    .then(lit(6i64))
                    .when(col("__plain"))
                    .then(lit(5i64))
                    .otherwise(lit(0i64))
                    .alias("__cut"),
            ]);
            // the local part: cut only when there is something to cut
            let lf = lf.with_column(
                when(col("__cut").eq(lit(0i64)))
                    .then(col("__t"))
                    .otherwise(
                        col("__t")
                            .str()
                            .head(col("__len") - col("__cut"))
                            .str()
                            .strip_chars_end(lit(NULL)),
                    )
                    .alias("__local_text"),
            );
            let opts = StrptimeOptions {
                format: format.map(Into::into),
                strict: false,
                exact: true,
                cache: false,
            };
            let local = match format {
                Some(f) if has_time(f) => col("__local_text")
                    .str()
                    .to_datetime(Some(TimeUnit::Milliseconds), None, opts, lit("raise"))
                    .cast(DataType::Int64)
                    .floor_div(lit(1000i64)),
                _ => {
                    col("__local_text").str().to_date(opts).cast(DataType::Int64)
                        * lit(86_400i64)
                }
            };
            let lf = lf.with_column(local.alias("__local"));
            lf.with_columns([
                (col("__local") - col("__offset")).alias("__ts"),
                col("__local")
                    .is_null()
                    .or(col("__bad_offset"))
                    .alias("__bad_timestamp"),
            ])
        }
    }
}

/// The clean columns of one file, with the `__bad_<role>` flags, the file and the row.
/// Each input column is cleaned once (trimmed, lower-cased, parsed) and the checks and
/// mappings read the clean column.
fn canonical(
    lf: LazyFrame,
    schema: &Schema,
    file_idx: usize,
    roles: &Roles,
    layout: &ContactsLayout,
    ts_format: Option<&str>,
) -> LazyFrame {
    let dtype = |c: &str| schema.get(c).cloned().unwrap_or(DataType::String);
    let id = &layout.client_id;
    let lf = table::client_id(lf, id, &dtype(id), "__client", "__bad_client_id");
    let lf = instant(lf, &layout.timestamp, &dtype(&layout.timestamp), ts_format);
    let lf = match &roles.action {
        Some(a) => table::nullable_text(lf, a, "__action"),
        None => lf.with_column(lit(NULL).cast(DataType::String).alias("__action")),
    };
    let lf = match &roles.cost {
        Some(c) => {
            let lf = table::optional_number(lf, c, &dtype(c), "__cost", "__bad_cost_text");
            lf.with_column(
                col("__bad_cost_text")
                    .or(col("__cost").lt(lit(0.0)).fill_null(lit(false)))
                    .alias("__bad_cost"),
            )
        }
        None => lf.with_columns([
            lit(NULL).cast(DataType::Float64).alias("__cost"),
            lit(false).alias("__bad_cost"),
        ]),
    };
    let lf = lf.with_columns([
        table::word(&layout.channel).alias("__channel"),
        table::word(&layout.outcome).alias("__o"),
        match &roles.group {
            Some(g) => table::word(g),
            None => lit(""),
        }
        .alias("__g"),
    ]);

    let any = |c: &str, vals: &[String]| {
        vals.iter()
            .map(|v| col(c).eq(lit(v.clone())))
            .reduce(Expr::or)
            .unwrap_or(lit(false))
    };
    let words = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let lf = lf.with_columns([
        any("__g", &words(&["control", "c", "holdout"])).alias("__control"),
        any("__g", &words(&["treated", "treatment", "t", ""])).alias("__treated"),
    ]);

    // levels as nested conditions; a control row's blank outcome is 0 whatever the lists say
    let mut outcome = lit(NULL).cast(DataType::Int8);
    for (level, spellings) in layout.outcomes.normalised().into_iter().rev() {
        if !spellings.is_empty() {
            outcome = when(any("__o", &spellings))
                .then(lit(level.code()).cast(DataType::Int8))
                .otherwise(outcome);
        }
    }
    let outcome = when(col("__control").and(col("__o").eq(lit(""))))
        .then(lit(0i8).cast(DataType::Int8))
        .otherwise(outcome);
    let lf = lf.with_column(outcome.alias("__outcome"));

    let mut exprs = vec![
        col("__client").alias(cols::CLIENT),
        col("__ts").alias(cols::TS),
        col("__ts")
            .floor_div(lit(86_400i64))
            .cast(DataType::Int32)
            .alias(cols::DAY),
        col("__channel").alias(cols::CHANNEL),
        col("__action").alias(cols::ACTION),
        col("__outcome").alias(cols::OUTCOME),
        col("__control").alias(cols::CONTROL),
        col("__cost").alias(cols::COST),
        col(ROW),
        lit(file_idx as u32).cast(DataType::UInt32).alias(FILE),
    ];
    for (role, bad) in [
        ("client_id", col("__bad_client_id")),
        ("timestamp", col("__bad_timestamp")),
        ("channel", col("__channel").eq(lit(""))),
        ("outcome", col("__outcome").is_null()),
        ("group", col("__control").or(col("__treated")).not()),
        ("cost", col("__bad_cost")),
    ] {
        exprs.push(bad.fill_null(lit(true)).alias(format!("__bad_{role}")));
    }
    lf.select(exprs)
}

/// The roles whose flags are checked, in the order a row's problems are reported.
const ROLES: [&str; 6] = [
    "client_id",
    "timestamp",
    "channel",
    "outcome",
    "group",
    "cost",
];

/// The optional columns an input uses.
struct Roles {
    action: Option<String>,
    group: Option<String>,
    cost: Option<String>,
}

impl Roles {
    fn of(layout: &ContactsLayout, schemas: &[Schema]) -> Self {
        Self {
            action: table::optional_column(layout.action.as_deref(), cols::ACTION, schemas),
            group: table::optional_column(layout.group.as_deref(), "group", schemas),
            cost: table::optional_column(layout.cost.as_deref(), cols::COST, schemas),
        }
    }

    /// Every column read, with its role.
    fn columns<'a>(&'a self, layout: &'a ContactsLayout) -> Vec<(&'static str, &'a str)> {
        let mut v = vec![
            ("client_id", layout.client_id.as_str()),
            ("timestamp", layout.timestamp.as_str()),
            ("channel", layout.channel.as_str()),
            ("outcome", layout.outcome.as_str()),
        ];
        for (role, c) in [
            ("action", &self.action),
            ("group", &self.group),
            ("cost", &self.cost),
        ] {
            if let Some(c) = c {
                v.push((role, c.as_str()));
            }
        }
        v
    }

    fn column_of<'a>(&'a self, layout: &'a ContactsLayout, role: &'a str) -> &'a str {
        self.columns(layout)
            .into_iter()
            .find(|(r, _)| *r == role)
            .map(|(_, c)| c)
            .unwrap_or(role)
    }
}

fn expected_of(role: &str, layout: &ContactsLayout, ts_format: Option<&str>) -> String {
    match role {
        "client_id" => "an integer client id (every contact needs its client)".into(),
        "timestamp" => format!(
            "a date-time{}, optionally followed by an offset (Z, +01:00, -0500)",
            ts_format.map(|f| format!(" in format `{f}`")).unwrap_or_default()
        ),
        "channel" => "a channel label such as phone or email (it is empty)".into(),
        "outcome" => format!("an outcome: {}", layout.outcomes.describe()),
        "group" => {
            "a group: treated (treated, treatment, t, empty) or control (control, c, holdout)"
                .into()
        }
        _ => "a cost: a finite number >= 0, or empty".into(),
    }
}

/// Reads a contact log `input` (a CSV, CSV.gz or Parquet file, a glob, or a folder) with
/// `layout`, validates every row, and returns the canonical, sorted contact table.
///
/// Validation comes first: a missing column (the error lists the file's columns), an empty
/// file, a missing or non-integer client id, a date-time that does not parse, an empty
/// channel, an outcome or group not in the accepted spellings, or a cost that is not a
/// number >= 0 stops the read with an error naming the file, the column, the 1-based data
/// row and the value. Nothing is dropped silently.
pub fn read_contacts(input: &Path, layout: &ContactsLayout) -> Result<Contacts, DataError> {
    layout.check()?;
    let separator = table::separator_byte(&layout.separator)?;
    let files = resolve(input)?;
    let schemas = table::schemas(&files, separator)?;
    let roles = Roles::of(layout, &schemas);
    for (file, schema) in files.iter().zip(&schemas) {
        table::check_columns(file, schema, &roles.columns(layout))?;
    }
    let typed = files.iter().any(|f| f.format == FileFormat::Csv);
    let ctx = Ctx {
        input,
        files: &files,
        layout,
        roles: &roles,
        separator,
    };
    match ctx.read(typed) {
        // a value the typed CSV reader could not parse: read again as text to find it
        Err(DataError::Polars { .. }) if typed => ctx.read(false),
        done => done,
    }
}

struct Ctx<'a> {
    input: &'a Path,
    files: &'a [DataFile],
    layout: &'a ContactsLayout,
    roles: &'a Roles,
    separator: u8,
}

impl Ctx<'_> {
    fn read(&self, typed: bool) -> Result<Contacts, DataError> {
        let (input, layout) = (self.input, self.layout);
        let numeric: Vec<&str> = [Some(layout.client_id.as_str()), self.roles.cost.as_deref()]
            .into_iter()
            .flatten()
            .collect();
        let mut frames = Vec::with_capacity(self.files.len());
        let mut ts_format: Option<String> = None;
        for (idx, file) in self.files.iter().enumerate() {
            let mut lf = table::scan(file, self.separator, &numeric, typed)?;
            let schema = lf.collect_schema().map_err(polars_err(&file.path))?;
            let ts_dtype = schema.get(&layout.timestamp).cloned();
            let is_text = !matches!(ts_dtype, Some(DataType::Datetime(..) | DataType::Date));
            if ts_format.is_none() && is_text {
                ts_format = detect_format(&lf, &file.path, layout)?;
            }
            let lf = lf.with_row_index(ROW, None);
            frames.push(canonical(
                lf,
                &schema,
                idx,
                self.roles,
                layout,
                ts_format.as_deref(),
            ));
        }
        let all = concat(frames, UnionArgs::default()).map_err(polars_err(input))?;
        let df = all
            .collect_with_engine(Engine::Streaming)
            .map_err(polars_err(input))?
            .unwrap_single();
        table::check_not_empty(&df, self.files, input)?;

        let flags: Vec<String> = ROLES.iter().map(|r| format!("__bad_{r}")).collect();
        if let Some((i, f, row)) = table::first_bad(&df, &flags, input)? {
            let role = ROLES[i];
            let column = self.roles.column_of(layout, role);
            let file = &self.files[f];
            return Err(DataError::BadValue {
                file: file.path.clone(),
                column: column.to_string(),
                row: row + 1,
                value: table::raw_value(file, self.separator, column, row),
                expected: expected_of(role, layout, ts_format.as_deref()),
            });
        }

        let frame = df
            .select([
                cols::CLIENT,
                cols::TS,
                cols::DAY,
                cols::CHANNEL,
                cols::ACTION,
                cols::OUTCOME,
                cols::CONTROL,
                cols::COST,
            ])
            .map_err(polars_err(input))?;
        let frame = canonical_order(frame).map_err(polars_err(input))?;
        let stats = summarize(&frame, self.files.len()).map_err(polars_err(input))?;
        Ok(Contacts {
            frame,
            stats,
            source: input.to_string_lossy().into_owned(),
        })
    }
}

/// Sorts rows by (client, instant, channel, action, outcome, control, cost): rows equal on
/// every key are equal rows, so the table is the same however the input was ordered. The
/// (client, instant) pairs are sorted as plain tuples; the text keys are only compared
/// between rows that tie on both, which is rare.
fn canonical_order(mut df: DataFrame) -> PolarsResult<DataFrame> {
    df.rechunk_mut_par();
    let client = df.column(cols::CLIENT)?.i64()?;
    let ts = df.column(cols::TS)?.i64()?;
    let channel = df.column(cols::CHANNEL)?.str()?;
    let action = df.column(cols::ACTION)?.str()?;
    let outcome = df.column(cols::OUTCOME)?.i8()?;
    let control = df.column(cols::CONTROL)?.bool()?;
    let cost = df.column(cols::COST)?.f64()?;
    for (name, nulls) in [
        (cols::CLIENT, client.null_count()),
        (cols::TS, ts.null_count()),
        (cols::CHANNEL, channel.null_count()),
        (cols::OUTCOME, outcome.null_count()),
        (cols::CONTROL, control.null_count()),
    ] {
        polars_ensure!(nulls == 0, ComputeError: "the contact table has {nulls} null values in `{name}`");
    }
    let tie = |a: IdxSize, b: IdxSize| -> Ordering {
        let (i, j) = (a as usize, b as usize);
        channel
            .get(i)
            .cmp(&channel.get(j))
            .then_with(|| action.get(i).cmp(&action.get(j)))
            .then_with(|| outcome.get(i).cmp(&outcome.get(j)))
            .then_with(|| control.get(i).cmp(&control.get(j)))
            .then_with(|| {
                let c = |k| cost.get(k).map(table::ordered);
                c(i).cmp(&c(j))
            })
            .then(a.cmp(&b))
    };
    let mut keys: Vec<(i64, i64, IdxSize)> = client
        .into_no_null_iter()
        .zip(ts.into_no_null_iter())
        .enumerate()
        .map(|(i, (c, t))| (c, t, i as IdxSize))
        .collect();
    keys.par_sort_unstable_by(|x, y| (x.0, x.1).cmp(&(y.0, y.1)).then_with(|| tie(x.2, y.2)));
    let idx = IdxCa::from_vec("idx".into(), keys.into_iter().map(|k| k.2).collect());
    let mut df = df.take(&idx)?;
    df.rechunk_mut_par();
    let mut client = df.column(cols::CLIENT)?.clone();
    client.set_sorted_flag(polars::series::IsSorted::Ascending);
    df.with_column(client)?;
    Ok(df)
}

fn summarize(frame: &DataFrame, files: usize) -> PolarsResult<ContactsStats> {
    let treated_with = |code: i8| {
        col(cols::OUTCOME)
            .eq(lit(code))
            .and(col(cols::CONTROL).not())
            .sum()
            .cast(DataType::UInt64)
            .alias(format!("o{code}"))
    };
    let s = frame
        .clone()
        .lazy()
        .select([
            col(cols::CLIENT)
                .n_unique()
                .cast(DataType::UInt64)
                .alias("clients"),
            col(cols::DAY).min().alias("first"),
            col(cols::DAY).max().alias("last"),
            col(cols::CONTROL)
                .sum()
                .cast(DataType::UInt64)
                .alias("control"),
            treated_with(0),
            treated_with(1),
            treated_with(2),
        ])
        .collect()?;
    let u = |name: &str| -> PolarsResult<u64> { Ok(s.column(name)?.u64()?.get(0).unwrap_or(0)) };
    let d = |name: &str| -> PolarsResult<Option<NaiveDate>> {
        Ok(s.column(name)?
            .i32()?
            .get(0)
            .map(retain_core::from_day_number))
    };
    let distinct = frame
        .clone()
        .lazy()
        .select([col(cols::CHANNEL).unique()])
        .collect()?;
    let mut channels: Vec<String> = distinct
        .column(cols::CHANNEL)?
        .str()?
        .iter()
        .flatten()
        .map(str::to_string)
        .collect();
    channels.sort();
    Ok(ContactsStats {
        files,
        rows: frame.height() as u64,
        clients: u("clients")?,
        first_day: d("first")?,
        last_day: d("last")?,
        no_answer_rows: u("o0")?,
        responded_rows: u("o1")?,
        converted_rows: u("o2")?,
        control_rows: u("control")?,
        channels,
    })
}
