//! Reading a retention team's contact log (one row per contact attempt or control-group
//! assignment) into a canonical, sorted contact table.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use polars::prelude::*;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::DataError;
use crate::datetime::{DateTimeFormat, split_offset};
use crate::read::{TS_FORMATS, parses, polars_err};
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
    /// Whether the row belongs to a randomised experiment (its group is given: treated or
    /// control), `bool`. An ordinary contact (empty group, or no group column) is treated but
    /// in no experiment: it counts for answer rates, time windows, cooldowns and contact
    /// pressure, never for uplift.
    pub const EXPERIMENT: &str = "experiment";
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
        usize::try_from(code)
            .ok()
            .and_then(|c| Self::ALL.get(c).copied())
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
/// | `group` | `"group"` if present | `treated`, `treatment`, `t` = treated in an experiment; `control`, `c`, `holdout` = control; empty = an ordinary contact, in no experiment (any case); anything else is an error |
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
    /// chrono format of the date-time text, without the offset (a trailing `%z`, `%:z` or
    /// literal `Z` is ignored: offsets are always read); detected from the first file when
    /// absent.
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
            let f = ["%:z", "%#z", "%z", "Z"]
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

/// The clean contact table: one row per input row in the canonical columns of [`cols`](mod@cols),
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
    /// [`cols`](mod@cols) (tests, simulated data); it is sorted canonically. A null in a column that
    /// must not have one, a wrong type or an outcome code above 2 is refused. Without an
    /// `experiment` column, no row is in an experiment.
    pub fn from_frame(frame: DataFrame, source: &str) -> Result<Self, DataError> {
        let err = |e| DataError::Polars {
            file: PathBuf::from(source),
            source: e,
        };
        let mut lf = frame.lazy();
        if lf
            .collect_schema()
            .map_err(err)?
            .get(cols::EXPERIMENT)
            .is_none()
        {
            lf = lf.with_column(lit(false).alias(cols::EXPERIMENT));
        }
        let frame = lf
            .select([
                col(cols::CLIENT).strict_cast(DataType::Int64),
                col(cols::TS).strict_cast(DataType::Int64),
                col(cols::CHANNEL).strict_cast(DataType::String),
                col(cols::ACTION).strict_cast(DataType::String),
                col(cols::OUTCOME).strict_cast(DataType::Int8),
                col(cols::CONTROL).strict_cast(DataType::Boolean),
                col(cols::EXPERIMENT).strict_cast(DataType::Boolean),
                col(cols::COST).strict_cast(DataType::Float64),
            ])
            .collect()
            .map_err(err)?;
        let outcome = frame
            .column(cols::OUTCOME)
            .map_err(err)?
            .i8()
            .map_err(err)?;
        if outcome.max().is_some_and(|m| m > 2) {
            return Err(DataError::Config(format!(
                "{source}: outcome codes are 0, 1 and 2"
            )));
        }
        let (frame, channels) = canonical_order(frame, None).map_err(err)?;
        let stats = summarize(&frame, 0, channels).map_err(err)?;
        Ok(Self {
            frame,
            stats,
            source: source.to_string(),
        })
    }
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
    // the first rows, then (when they have no date-time) the whole file
    let sample = |lf: LazyFrame| {
        lf.with_row_index(ROW, None)
            .select([col(ROW), table::text(column)])
            .filter(col(column).neq(lit("")))
            .limit(200)
            .collect()
            .map_err(&err)
    };
    let mut head = sample(lf.clone().limit(10_000))?;
    if head.height() == 0 {
        head = sample(lf.clone())?;
    }
    let s = head.column(column).map_err(&err)?.str().map_err(&err)?;
    let values: Vec<&str> = s.iter().flatten().map(|v| split_offset(v).0).collect();
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
/// timestamp column `name` of type `dtype`. Text is read by [`split_offset`] and
/// [`DateTimeFormat`] in one pass.
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
            let format = format.map(DateTimeFormat::new);
            let seconds = move |c: Column| {
                let out: Int64Chunked = c
                    .str()?
                    .iter()
                    .map(|v| {
                        let (local, offset) = split_offset(v?);
                        Some(format.as_ref()?.seconds(local)? - offset?)
                    })
                    .collect();
                Ok(out.with_name(c.name().clone()).into_column())
            };
            lf.with_column(
                col(name)
                    .cast(DataType::String)
                    .map(seconds, |_: &Schema, f: &Field| {
                        Ok(Field::new(f.name().clone(), DataType::Int64))
                    })
                    .alias("__ts"),
            )
            .with_column(col("__ts").is_null().alias("__bad_timestamp"))
        }
    }
}

/// The clean columns of one file, with the `__bad_<role>` flags, the file and the row.
/// Each input column is read once; channels and actions are left as text here and cleaned
/// once per distinct value ([`Ranked`]) after the collect (an empty channel is found there).
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

    let levels = layout.outcomes.normalised();
    let outcome_code = move |v: &str| {
        let w = v.trim().to_lowercase();
        levels
            .iter()
            .find(|(_, spellings)| spellings.contains(&w))
            .map(|(o, _)| o.code())
            .or(if w.is_empty() { Some(-1) } else { None })
    };
    // 0: an ordinary contact (in no experiment), 1: control, 2: treated in an experiment
    let group_code = |v: &str| match v.trim().to_lowercase().as_str() {
        "" => Some(0),
        "control" | "c" | "holdout" => Some(1),
        "treated" | "treatment" | "t" => Some(2),
        _ => None,
    };
    let lf = lf.with_columns([
        col(&layout.channel)
            .cast(DataType::String)
            .fill_null(lit(""))
            .alias("__channel"),
        match &roles.action {
            Some(a) => col(a).cast(DataType::String),
            None => lit(NULL).cast(DataType::String),
        }
        .alias("__action"),
        // -1: a blank outcome the lists do not accept (fine on a control row)
        table::map_codes(col(&layout.outcome), outcome_code).alias("__o"),
        match &roles.group {
            Some(g) => table::map_codes(col(g), group_code),
            None => lit(0i8).cast(DataType::Int8),
        }
        .alias("__g"),
    ]);
    let lf = lf.with_columns([
        col("__g").eq(lit(1i8)).alias("__control"),
        col("__g").gt_eq(lit(1i8)).alias("__experiment"),
    ]);
    // a control row's blank outcome is 0 whatever the lists say
    let lf = lf.with_column(
        when(col("__o").eq(lit(-1i8)))
            .then(
                when(col("__control"))
                    .then(lit(0i8).cast(DataType::Int8))
                    .otherwise(lit(NULL).cast(DataType::Int8)),
            )
            .otherwise(col("__o"))
            .alias("__outcome"),
    );

    let mut exprs = vec![
        col("__client").alias(cols::CLIENT),
        col("__ts").alias(cols::TS),
        col("__channel").alias(cols::CHANNEL),
        col("__action").alias(cols::ACTION),
        col("__outcome").alias(cols::OUTCOME),
        col("__control").alias(cols::CONTROL),
        col("__experiment").alias(cols::EXPERIMENT),
        col("__cost").alias(cols::COST),
        col(ROW),
        lit(file_idx as u32).cast(DataType::UInt32).alias(FILE),
    ];
    for (role, bad) in [
        ("client_id", col("__bad_client_id")),
        ("timestamp", col("__bad_timestamp")),
        ("outcome", col("__outcome").is_null()),
        ("group", col("__g").is_null()),
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
        "client_id" => "a client id, an integer or text (every contact needs its client)".into(),
        "timestamp" => format!(
            "a date-time{}, optionally followed by an offset (Z, +01:00, -0500)",
            ts_format
                .map(|f| format!(" in format `{f}`"))
                .unwrap_or_default()
        ),
        "channel" => "a channel label such as phone or email (it is empty)".into(),
        "outcome" => format!("an outcome: {}", layout.outcomes.describe()),
        "group" => {
            "a group: treated (treated, treatment, t), control (control, c, holdout) or empty (an ordinary contact, in no experiment)"
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
///
/// Contacts dated (UTC day) before [`EARLIEST_DAY`](crate::EARLIEST_DAY) are refused too;
/// [`Contacts::read_until`] also refuses those after the run's as-of date.
pub fn read_contacts(input: &Path, layout: &ContactsLayout) -> Result<Contacts, DataError> {
    Contacts::read_until(input, layout, None)
}

impl Contacts {
    /// [`read_contacts`], refusing too contacts dated (UTC day) after `latest`, the run's
    /// as-of date, as the transactions are: a contact dated 2099 is a typo, and would count
    /// as the latest contact of its client in every cooldown and time window. The error names
    /// the first such row's file, row and value, and counts them all.
    pub fn read_until(
        input: &Path,
        layout: &ContactsLayout,
        latest: Option<NaiveDate>,
    ) -> Result<Contacts, DataError> {
        let _reading = retain_core::activity::reading(input);
        crate::guarded(input, || read_contacts_unguarded(input, layout, latest))
    }
}

fn read_contacts_unguarded(
    input: &Path,
    layout: &ContactsLayout,
    latest: Option<NaiveDate>,
) -> Result<Contacts, DataError> {
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
        latest,
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
    latest: Option<NaiveDate>,
}

impl Ctx<'_> {
    fn read(&self, typed: bool) -> Result<Contacts, DataError> {
        let (input, layout) = (self.input, self.layout);
        let numeric = table::typed_id(layout.client_id.as_str(), [self.roles.cost.as_deref()]);
        let mut frames = Vec::with_capacity(self.files.len());
        let mut ts_format: Option<String> = None;
        for (idx, file) in self.files.iter().enumerate() {
            let mut lf = table::read(file, self.separator, &numeric, typed)?;
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

        let err = polars_err(input);
        let channels = Ranked::new(
            df.column(cols::CHANNEL)
                .map_err(&err)?
                .str()
                .map_err(&err)?,
            clean_channel,
        );
        if channels.sorted.len() > MAX_CHANNELS {
            return Err(DataError::Config(format!(
                "{}: column `{}` has {} distinct channels (at most {MAX_CHANNELS}): is it the channel column?",
                input.display(),
                layout.channel,
                channels.sorted.len()
            )));
        }
        let flags: Vec<String> = ROLES.iter().map(|r| format!("__bad_{r}")).collect();
        let mut bad = table::first_bad(&df, &flags, input)?.map(|(i, f, r)| (f, r, i));
        if let Some(empty) = channels.rank_of("") {
            let files = df.column(FILE).map_err(&err)?.u32().map_err(&err)?;
            let rows = df.column(ROW).map_err(&err)?.idx().map_err(&err)?;
            let channel_role = ROLES.iter().position(|r| *r == "channel").unwrap_or(0);
            let first = (0..df.height())
                .filter(|&i| channels.of(i) == empty)
                .filter_map(|i| Some((files.get(i)? as usize, rows.get(i)? as u64, channel_role)))
                .min();
            bad = bad.into_iter().chain(first).min();
        }
        if let Some((f, row, i)) = bad {
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
        self.check_dates(&df)?;

        let frame = df
            .select([
                cols::CLIENT,
                cols::TS,
                cols::CHANNEL,
                cols::ACTION,
                cols::OUTCOME,
                cols::CONTROL,
                cols::EXPERIMENT,
                cols::COST,
            ])
            .map_err(polars_err(input))?;
        let (frame, channels) = canonical_order(frame, Some(channels)).map_err(&err)?;
        let stats = summarize(&frame, self.files.len(), channels).map_err(&err)?;
        Ok(Contacts {
            frame,
            stats,
            source: input.to_string_lossy().into_owned(),
        })
    }
}

impl Ctx<'_> {
    /// Refuses contacts dated (UTC day) before [`EARLIEST_DAY`](crate::EARLIEST_DAY) or
    /// after `latest`, naming the first (in file, then row order) and counting them all.
    fn check_dates(&self, df: &DataFrame) -> Result<(), DataError> {
        let err = polars_err(self.input);
        let lo = retain_core::day_number(crate::EARLIEST_DAY);
        let hi = self.latest.map_or(i32::MAX, retain_core::day_number);
        let ts = df.column(cols::TS).map_err(&err)?.i64().map_err(&err)?;
        let outside = |t: i64| {
            let day = t.div_euclid(86_400);
            day < i64::from(lo) || day > i64::from(hi)
        };
        let n = ts.iter().flatten().filter(|&t| outside(t)).count();
        if n == 0 {
            return Ok(());
        }
        let files = df.column(FILE).map_err(&err)?.u32().map_err(&err)?;
        let rows = df.column(ROW).map_err(&err)?.idx().map_err(&err)?;
        let Some((f, row)) = ts
            .iter()
            .enumerate()
            .filter(|(_, t)| t.is_some_and(outside))
            .filter_map(|(i, _)| Some((files.get(i)? as usize, rows.get(i)? as u64)))
            .min()
        else {
            return Ok(());
        };
        let file = &self.files[f];
        let earliest = crate::EARLIEST_DAY;
        let range = match self.latest {
            Some(l) => format!(
                "a date-time from {earliest} to {l} (the run's as-of date; pass --as-of for a later one)"
            ),
            None => format!("a date-time from {earliest} on"),
        };
        Err(DataError::BadValue {
            file: file.path.clone(),
            column: self.layout.timestamp.clone(),
            row: row + 1,
            value: table::raw_value(file, self.separator, &self.layout.timestamp, row),
            expected: format!(
                "{range}; {n} contact{} outside it: correct or remove {}",
                if n == 1 { " is" } else { "s are" },
                if n == 1 { "it" } else { "them" }
            ),
        })
    }
}

/// The most distinct channels a contact log may have: channels are a handful of labels, and
/// tens of thousands of them mean the layout names the wrong column.
const MAX_CHANNELS: usize = u16::MAX as usize;

/// One row as a sort key that carries the whole row: sorting these moves every value along
/// in cache-friendly passes, where sorting indices and then gathering each column reads
/// memory at random (over a second for 5 million rows). Fields compare in declaration
/// order; rows equal on every field are equal rows, so the order is the same however the
/// input was ordered.
#[derive(Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
struct Row {
    client: i64,
    ts: i64,
    /// Rank of the channel among the sorted distinct channels (at most [`MAX_CHANNELS`]:
    /// a row of 32 bytes sorts faster than one of 40).
    channel: u16,
    /// Rank of the action among the sorted distinct actions, none first.
    action: u32,
    outcome: i8,
    control: bool,
    experiment: bool,
    /// 0 for no cost, else 1 + the bits of the cost: a cost is >= 0 (-0 is read as 0),
    /// and the bits of such floats order as the floats do.
    cost: u64,
}

/// A text column by rank: each row's raw distinct value (`raw`), the rank of each raw value's
/// clean form among the sorted distinct clean forms (`rank`), and those forms (`sorted`,
/// none first).
struct Ranked {
    raw: Vec<u32>,
    rank: Vec<u32>,
    sorted: Vec<Option<String>>,
}

impl Ranked {
    /// Ranks `ca`, each distinct value cleaned once by `clean`.
    fn new(ca: &StringChunked, clean: impl Fn(Option<&str>) -> Option<String>) -> Self {
        let mut cleaned: Vec<Option<String>> = Vec::new();
        let raw = table::distinct_map(ca, |v| {
            cleaned.push(clean(v));
            cleaned.len() as u32 - 1
        });
        let mut sorted = cleaned.clone();
        sorted.sort();
        sorted.dedup();
        let rank = cleaned
            .iter()
            .map(|c| sorted.partition_point(|s| s < c) as u32)
            .collect();
        Self { raw, rank, sorted }
    }

    /// The rank of a clean value, if any row has it.
    fn rank_of(&self, clean: &str) -> Option<u32> {
        self.sorted
            .binary_search_by(|s| s.as_deref().cmp(&Some(clean)))
            .ok()
            .map(|r| r as u32)
    }

    /// The rank of row `i`.
    fn of(&self, i: usize) -> u32 {
        self.rank[self.raw[i] as usize]
    }

    /// A text column of the values of `ranks` (a gather from the short list of distinct
    /// values: far cheaper than building every row's text).
    fn column(&self, name: &str, ranks: impl Iterator<Item = u32>) -> PolarsResult<Column> {
        let dict: StringChunked = self.sorted.iter().map(|s| s.as_deref()).collect();
        let idx = IdxCa::from_vec("idx".into(), ranks.map(|r| r as IdxSize).collect());
        Ok(dict.take(&idx)?.with_name(name.into()).into_column())
    }
}

/// A channel's clean form: trimmed, lower case.
fn clean_channel(v: Option<&str>) -> Option<String> {
    Some(v.unwrap_or("").trim().to_lowercase())
}

/// An action's clean form: trimmed; none when empty.
fn clean_action(v: Option<&str>) -> Option<String> {
    v.map(str::trim)
        .filter(|a| !a.is_empty())
        .map(str::to_string)
}

/// Sorts rows by (client, instant, channel, action, outcome, control, cost) and rebuilds
/// the table from the sorted rows, `day` included; returns it with its distinct channels.
/// Channels (unless already `channels`) and actions are cleaned here, each distinct value
/// once: trimmed, channels lower-cased, empty actions none.
fn canonical_order(
    df: DataFrame,
    channels: Option<Ranked>,
) -> PolarsResult<(DataFrame, Vec<String>)> {
    let client = df.column(cols::CLIENT)?.i64()?;
    let ts = df.column(cols::TS)?.i64()?;
    let channel = df.column(cols::CHANNEL)?.str()?;
    let action = df.column(cols::ACTION)?.str()?;
    let outcome = df.column(cols::OUTCOME)?.i8()?;
    let control = df.column(cols::CONTROL)?.bool()?;
    let experiment = df.column(cols::EXPERIMENT)?.bool()?;
    let cost = df.column(cols::COST)?.f64()?;
    for (name, nulls) in [
        (cols::CLIENT, client.null_count()),
        (cols::TS, ts.null_count()),
        (cols::CHANNEL, channel.null_count()),
        (cols::OUTCOME, outcome.null_count()),
        (cols::CONTROL, control.null_count()),
        (cols::EXPERIMENT, experiment.null_count()),
    ] {
        polars_ensure!(nulls == 0, ComputeError: "the contact table has {nulls} null values in `{name}`");
    }
    let channels = channels.unwrap_or_else(|| Ranked::new(channel, clean_channel));
    polars_ensure!(
        channels.sorted.len() <= MAX_CHANNELS,
        ComputeError: "{} distinct channels: more than {MAX_CHANNELS}", channels.sorted.len()
    );
    let actions = Ranked::new(action, clean_action);
    // Rows are placed straight into buckets of consecutive client ids, then each bucket is
    // sorted on its own: buckets of a few thousand rows sort in cache, in parallel, about
    // twice as fast as one sort of the whole table. Buckets split the id range evenly, so
    // their concatenation is in order whatever the ids (skewed ids only unbalance them).
    let n = client.len();
    let (lo, hi) = (client.min().unwrap_or(0), client.max().unwrap_or(0));
    let span = (i128::from(hi) - i128::from(lo) + 1) as u128;
    let buckets = (n / 2048).clamp(1, 1 << 16) as u128;
    let bucket = |c: i64| ((i128::from(c) - i128::from(lo)) as u128 * buckets / span) as usize;
    let mut start = vec![0usize; buckets as usize + 1];
    for c in client.into_no_null_iter() {
        start[bucket(c) + 1] += 1;
    }
    for b in 1..start.len() {
        start[b] += start[b - 1];
    }
    let mut next = start.clone();
    let mut rows = vec![Row::default(); n];
    for (i, (((((client, ts), outcome), control), experiment), cost)) in client
        .into_no_null_iter()
        .zip(ts.into_no_null_iter())
        .zip(outcome.into_no_null_iter())
        .zip(control.iter())
        .zip(experiment.iter())
        .zip(cost.iter())
        .enumerate()
    {
        let slot = &mut next[bucket(client)];
        rows[*slot] = Row {
            client,
            ts,
            channel: channels.of(i) as u16,
            action: actions.of(i),
            outcome,
            control: control.unwrap_or(false),
            experiment: experiment.unwrap_or(false),
            cost: cost.map_or(0, |c| (c + 0.0).to_bits() + 1),
        };
        *slot += 1;
    }
    let mut parts: Vec<&mut [Row]> = Vec::with_capacity(start.len());
    let mut rest: &mut [Row] = &mut rows;
    for w in start.windows(2) {
        let (part, tail) = rest.split_at_mut(w[1] - w[0]);
        parts.push(part);
        rest = tail;
    }
    parts.into_par_iter().for_each(|p| p.sort_unstable());

    let ts: Vec<i64> = rows.par_iter().map(|r| r.ts).collect();
    let day: Vec<i32> = ts.par_iter().map(|t| t.div_euclid(86_400) as i32).collect();
    let mut client = Column::new(
        cols::CLIENT.into(),
        rows.par_iter().map(|r| r.client).collect::<Vec<_>>(),
    );
    client.set_sorted_flag(polars::series::IsSorted::Ascending);
    let cost: Float64Chunked = rows
        .iter()
        .map(|r| (r.cost != 0).then(|| f64::from_bits(r.cost - 1)))
        .collect();
    let columns = vec![
        client,
        Column::new(cols::TS.into(), ts),
        Column::new(cols::DAY.into(), day),
        channels.column(cols::CHANNEL, rows.iter().map(|r| u32::from(r.channel)))?,
        actions.column(cols::ACTION, rows.iter().map(|r| r.action))?,
        Column::new(
            cols::OUTCOME.into(),
            rows.par_iter().map(|r| r.outcome).collect::<Vec<_>>(),
        ),
        Column::new(
            cols::CONTROL.into(),
            rows.iter().map(|r| r.control).collect::<Vec<_>>(),
        ),
        Column::new(
            cols::EXPERIMENT.into(),
            rows.iter().map(|r| r.experiment).collect::<Vec<_>>(),
        ),
        cost.with_name(cols::COST.into()).into_column(),
    ];
    let distinct = channels.sorted.into_iter().flatten().collect();
    Ok((DataFrame::new(n, columns)?, distinct))
}

fn summarize(
    frame: &DataFrame,
    files: usize,
    channels: Vec<String>,
) -> PolarsResult<ContactsStats> {
    // the client column is sorted: a new client starts where the id changes
    let client = frame.column(cols::CLIENT)?.i64()?;
    let mut clients = 0u64;
    let mut last = None;
    for c in client.iter() {
        if c != last {
            clients += 1;
            last = c;
        }
    }
    let day = frame.column(cols::DAY)?.i32()?;
    let mut counts = [0u64; 3];
    let mut control_rows = 0u64;
    for (o, c) in frame
        .column(cols::OUTCOME)?
        .i8()?
        .iter()
        .zip(frame.column(cols::CONTROL)?.bool()?.iter())
    {
        if c == Some(true) {
            control_rows += 1;
        } else if let Some(slot) = o.and_then(|o| counts.get_mut(usize::try_from(o).ok()?)) {
            *slot += 1;
        }
    }
    Ok(ContactsStats {
        files,
        rows: frame.height() as u64,
        clients,
        first_day: day.min().map(retain_core::from_day_number),
        last_day: day.max().map(retain_core::from_day_number),
        no_answer_rows: counts[0],
        responded_rows: counts[1],
        converted_rows: counts[2],
        control_rows,
        channels,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_trailing_offset_is_dropped_from_the_format() {
        let with = |f: &str| ContactsLayout {
            timestamp_format: Some(f.into()),
            ..Default::default()
        };
        for f in [
            "%Y-%m-%dT%H:%M:%S%z",
            "%Y-%m-%dT%H:%M:%S%:z",
            "%Y-%m-%dT%H:%M:%SZ",
            "%Y-%m-%dT%H:%M:%S %z",
            "%Y-%m-%dT%H:%M:%S",
        ] {
            assert_eq!(
                with(f).timestamp_format().as_deref(),
                Some("%Y-%m-%dT%H:%M:%S"),
                "{f}"
            );
        }
        assert_eq!(ContactsLayout::default().timestamp_format(), None);
    }
}
