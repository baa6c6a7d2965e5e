//! Reading the clients' attributes (consent per channel, do-not-contact, time zone, account
//! manager, segment, margin, satisfaction scores): one row per client.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use polars::prelude::*;
use serde::{Deserialize, Serialize};

use crate::DataError;
use crate::read::polars_err;
use crate::source::{DataFile, FileFormat, resolve};
use crate::table::{self, FILE, ROW};
use crate::timezone::TimeZoneSpec;

/// Canonical column names of the client attribute table.
pub mod cols {
    /// Client id, `i64`, unique.
    pub const CLIENT: &str = "client_id";
    /// Prefix of the consent columns: `consent_<channel>`, `bool` (false when unknown).
    pub const CONSENT_PREFIX: &str = "consent_";
    /// Whether the client asked not to be contacted at all, `bool` (false when unknown).
    pub const DO_NOT_CONTACT: &str = "do_not_contact";
    /// Time zone, normalised text (`Europe/Berlin`, `+05:30`); null when unknown (= UTC).
    pub const TIMEZONE: &str = "timezone";
    /// Account manager, text; null when none.
    pub const ACCOUNT_MANAGER: &str = "account_manager";
    /// Segment, text; null when none.
    pub const SEGMENT: &str = "segment";
    /// Gross margin, `f64` fraction in [0, 1]; null when unknown.
    pub const MARGIN: &str = "margin";
    /// Net promoter score, `f64` integer 0-10; null when unknown.
    pub const NPS: &str = "nps";
    /// Customer satisfaction score, `f64` in [1, 5]; null when unknown.
    pub const CSAT: &str = "csat";

    /// The consent column of `channel`.
    pub fn consent(channel: &str) -> String {
        format!("{CONSENT_PREFIX}{channel}")
    }
}

/// Column mapping of a client attribute file (`[clients]` in `retain.toml`): one row per
/// client. Every field but `client_id` is optional.
///
/// | Name | Default | Purpose |
/// |---|---|---|
/// | `client_id` | `"client_id"` | integer client id (read as the transactions reader reads it), unique; a row without one is an error |
/// | `consent` | every `consent_<channel>` column | map channel -> column of yes/no consent to be contacted on that channel |
/// | `do_not_contact` | `"do_not_contact"` if present | yes/no: the client asked not to be contacted at all |
/// | `timezone` | `"timezone"` if present | IANA name (`Europe/Berlin`) or UTC offset (`+01:00`, `-0500`, `UTC+2`, `+5:30`, `Z`); see [`TimeZoneSpec`] |
/// | `account_manager` | `"account_manager"` if present | text |
/// | `segment` | `"segment"` if present | text |
/// | `margin` | `"margin"` if present | fraction in [0, 1] (`0.35`, not `35%`) |
/// | `nps` | `"nps"` if present | net promoter score, an integer from 0 to 10 |
/// | `csat` | `"csat"` if present | satisfaction score from 1 to 5 (an average such as 4.5 is accepted) |
/// | `separator` | `","` | CSV field separator (one character) |
///
/// An optional column left unset is used when the input has a column of its default name;
/// when some files have it and others do not, the read stops naming the file without it. A
/// column the layout names must be in every file. Without a `consent` map, every column
/// whose name starts with `consent_` (in any case) is a consent column, its channel the rest
/// of the name, trimmed and lower-cased (`consent_Email` is the `email` channel).
///
/// Yes/no values are `true/false`, `yes/no`, `y/n` or `1/0` in any case; empty is unknown.
/// **Rule: no consent on record means no consent.** An unknown (or absent) consent reads as
/// false, so a planner never contacts a client on a channel without a recorded yes; an
/// unknown do-not-contact reads as false (no request on record). Texts are trimmed, empty
/// meaning none. A client missing from the file has the same defaults: no consent on any
/// channel, not on the do-not-contact list, UTC, and no manager, segment, margin or scores.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClientsLayout {
    /// Client id column.
    pub client_id: String,
    /// Consent column of each channel; every `consent_<channel>` column when absent.
    pub consent: Option<BTreeMap<String, String>>,
    /// Do-not-contact column; `do_not_contact` when the input has it.
    pub do_not_contact: Option<String>,
    /// Time zone column; `timezone` when the input has it.
    pub timezone: Option<String>,
    /// Account manager column; `account_manager` when the input has it.
    pub account_manager: Option<String>,
    /// Segment column; `segment` when the input has it.
    pub segment: Option<String>,
    /// Margin column; `margin` when the input has it.
    pub margin: Option<String>,
    /// NPS column; `nps` when the input has it.
    pub nps: Option<String>,
    /// CSAT column; `csat` when the input has it.
    pub csat: Option<String>,
    /// CSV separator, one character.
    pub separator: String,
}

impl Default for ClientsLayout {
    fn default() -> Self {
        Self {
            client_id: cols::CLIENT.into(),
            consent: None,
            do_not_contact: None,
            timezone: None,
            account_manager: None,
            segment: None,
            margin: None,
            nps: None,
            csat: None,
            separator: ",".into(),
        }
    }
}

/// A channel name as used everywhere: trimmed, lower case.
fn channel_name(s: &str) -> String {
    s.trim().to_lowercase()
}

impl ClientsLayout {
    /// Checks the separator and the consent map (channel names non-empty and distinct once
    /// trimmed and lower-cased).
    pub fn check(&self) -> Result<(), DataError> {
        table::separator_byte(&self.separator)?;
        if let Some(map) = &self.consent {
            let mut seen = Vec::new();
            for k in map.keys() {
                let c = channel_name(k);
                if c.is_empty() {
                    return Err(DataError::Config(
                        "a consent channel has an empty name".into(),
                    ));
                }
                if seen.contains(&c) {
                    return Err(DataError::Config(format!(
                        "the consent channel `{c}` is listed twice"
                    )));
                }
                seen.push(c);
            }
        }
        Ok(())
    }

    /// The consent columns of an input: `(channel, column)`, sorted by channel.
    fn consent_columns(&self, schemas: &[Schema]) -> Result<Vec<(String, String)>, DataError> {
        let mut out: Vec<(String, String)> = match &self.consent {
            Some(map) => map
                .iter()
                .map(|(k, v)| (channel_name(k), v.clone()))
                .collect(),
            None => {
                let mut found: Vec<(String, String)> = Vec::new();
                for name in schemas.iter().flat_map(|s| s.iter_names()) {
                    let prefix = cols::CONSENT_PREFIX.len();
                    if name.len() <= prefix
                        || !name.is_char_boundary(prefix)
                        || !name[..prefix].eq_ignore_ascii_case(cols::CONSENT_PREFIX)
                    {
                        continue;
                    }
                    let channel = channel_name(&name[prefix..]);
                    if channel.is_empty() {
                        continue;
                    }
                    match found.iter().find(|(c, _)| *c == channel) {
                        Some((_, other)) if other != name.as_str() => {
                            return Err(DataError::Config(format!(
                                "columns `{other}` and `{name}` both give consent for the `{channel}` channel; name one in `[clients.consent]`"
                            )));
                        }
                        Some(_) => {}
                        None => found.push((channel, name.to_string())),
                    }
                }
                found
            }
        };
        out.sort();
        Ok(out)
    }
}

/// What reading the client attributes found.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ClientsStats {
    /// Data files read.
    pub files: usize,
    /// Clients (rows).
    pub clients: u64,
    /// Per channel (sorted), the clients with consent on record.
    pub consenting: Vec<(String, u64)>,
    /// Clients on the do-not-contact list.
    pub do_not_contact: u64,
    /// Clients with a time zone on record.
    pub with_timezone: u64,
}

/// The clients' attributes: one row per client in the canonical columns of [`cols`](mod@cols), sorted
/// by client id, and look-ups by client id that give the documented defaults for a client
/// missing from the file (see [`ClientsLayout`]).
#[derive(Debug, Clone)]
pub struct ClientAttributes {
    frame: DataFrame,
    stats: ClientsStats,
    source: String,
    channels: Vec<String>,
    ids: Vec<i64>,
    zones: Vec<Option<TimeZoneSpec>>,
    consent: Vec<Vec<bool>>,
    do_not_contact: Vec<bool>,
    present: Vec<&'static str>,
}

impl ClientAttributes {
    /// The attribute table.
    pub fn frame(&self) -> &DataFrame {
        &self.frame
    }
    /// A lazy view of the attribute table.
    pub fn lazy(&self) -> LazyFrame {
        self.frame.clone().lazy()
    }
    /// What reading found.
    pub fn stats(&self) -> &ClientsStats {
        &self.stats
    }
    /// The input as given.
    pub fn source(&self) -> &str {
        &self.source
    }
    /// The channels with a consent column, sorted (their columns are `consent_<channel>`).
    pub fn channels(&self) -> &[String] {
        &self.channels
    }
    /// Whether the input has the optional attribute `column` (a canonical name of
    /// [`cols`](mod@cols): `do_not_contact`, `timezone`, `account_manager`, `segment`,
    /// `margin`, `nps`, `csat`). The table always has these columns; one the input lacks is
    /// all defaults (false or null), which this tells apart from a column with no value.
    pub fn has_column(&self, column: &str) -> bool {
        self.present.contains(&column)
    }
    /// Number of clients.
    pub fn len(&self) -> usize {
        self.ids.len()
    }
    /// Whether there are no clients.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
    /// The client ids, sorted (the table's row order).
    pub fn ids(&self) -> &[i64] {
        &self.ids
    }
    /// The table row of a client, `None` when the client is not in the file.
    pub fn row_of(&self, client: i64) -> Option<usize> {
        self.ids.binary_search(&client).ok()
    }
    /// Each row's time zone, `None` when unknown (aligned with the table's rows).
    pub fn time_zones(&self) -> &[Option<TimeZoneSpec>] {
        &self.zones
    }
    /// A client's time zone: UTC when unknown or when the client is not in the file.
    pub fn time_zone(&self, client: i64) -> TimeZoneSpec {
        self.row_of(client)
            .and_then(|r| self.zones[r])
            .unwrap_or_default()
    }
    /// Whether the client has consent on record for `channel` (trimmed, any case): false for
    /// an unknown value, a channel without a consent column, or a client not in the file.
    pub fn consent(&self, client: i64, channel: &str) -> bool {
        let channel = channel_name(channel);
        match (
            self.row_of(client),
            self.channels.iter().position(|c| *c == channel),
        ) {
            (Some(r), Some(c)) => self.consent[c][r],
            _ => false,
        }
    }
    /// Whether the client is on the do-not-contact list (false when unknown or not in the file).
    pub fn do_not_contact(&self, client: i64) -> bool {
        self.row_of(client).is_some_and(|r| self.do_not_contact[r])
    }
    /// Whether the client may be contacted on `channel`: consent on record and not on the
    /// do-not-contact list.
    pub fn may_contact(&self, client: i64, channel: &str) -> bool {
        self.consent(client, channel) && !self.do_not_contact(client)
    }
}

/// One checked input column: the column, and what is expected of its values.
struct Check {
    column: String,
    expected: &'static str,
}

const YES_NO: &str = "yes or no (true/false, yes/no, y/n, 1/0), or empty for unknown";
const TIMEZONE: &str =
    "an IANA time zone name (Europe/Berlin) or a UTC offset (+01:00, -0500, UTC+2, Z), or empty";

/// The columns an input uses.
struct Plan {
    consent: Vec<(String, String)>,
    do_not_contact: Option<String>,
    timezone: Option<String>,
    account_manager: Option<String>,
    segment: Option<String>,
    margin: Option<String>,
    nps: Option<String>,
    csat: Option<String>,
}

impl Plan {
    fn of(layout: &ClientsLayout, schemas: &[Schema]) -> Result<Self, DataError> {
        let opt = |named: &Option<String>, default| {
            table::optional_column(named.as_deref(), default, schemas)
        };
        Ok(Self {
            consent: layout.consent_columns(schemas)?,
            do_not_contact: opt(&layout.do_not_contact, cols::DO_NOT_CONTACT),
            timezone: opt(&layout.timezone, cols::TIMEZONE),
            account_manager: opt(&layout.account_manager, cols::ACCOUNT_MANAGER),
            segment: opt(&layout.segment, cols::SEGMENT),
            margin: opt(&layout.margin, cols::MARGIN),
            nps: opt(&layout.nps, cols::NPS),
            csat: opt(&layout.csat, cols::CSAT),
        })
    }

    fn columns<'a>(&'a self, layout: &'a ClientsLayout) -> Vec<(String, &'a str)> {
        let mut v = vec![("client_id".to_string(), layout.client_id.as_str())];
        for (channel, c) in &self.consent {
            v.push((cols::consent(channel), c.as_str()));
        }
        for (role, c) in [
            (cols::DO_NOT_CONTACT, &self.do_not_contact),
            (cols::TIMEZONE, &self.timezone),
            (cols::ACCOUNT_MANAGER, &self.account_manager),
            (cols::SEGMENT, &self.segment),
            (cols::MARGIN, &self.margin),
            (cols::NPS, &self.nps),
            (cols::CSAT, &self.csat),
        ] {
            if let Some(c) = c {
                v.push((role.to_string(), c.as_str()));
            }
        }
        v
    }
}

/// Reads the client attributes `input` (a CSV, CSV.gz or Parquet file, a glob, or a folder)
/// with `layout`, validates every row, and returns one row per client sorted by id.
///
/// Validation comes first: a missing column (the error lists the file's columns), an empty
/// file, a missing or non-integer client id, a yes/no value that is neither, a time zone
/// that is neither an IANA name nor an offset, a margin outside [0, 1], an NPS that is not
/// an integer from 0 to 10 or a CSAT outside [1, 5] stops the read with an error naming the
/// file, column, 1-based data row and value; a client id on two rows names both rows.
pub fn read_clients(input: &Path, layout: &ClientsLayout) -> Result<ClientAttributes, DataError> {
    let _reading = retain_core::activity::reading(input);
    crate::guarded(input, || read_clients_unguarded(input, layout))
}

fn read_clients_unguarded(
    input: &Path,
    layout: &ClientsLayout,
) -> Result<ClientAttributes, DataError> {
    layout.check()?;
    let separator = table::separator_byte(&layout.separator)?;
    let files = resolve(input)?;
    let schemas = table::schemas(&files, separator)?;
    let plan = Plan::of(layout, &schemas)?;
    let columns: Vec<(String, &str)> = plan.columns(layout);
    let pairs: Vec<(&str, &str)> = columns.iter().map(|(r, c)| (r.as_str(), *c)).collect();
    for (file, schema) in files.iter().zip(&schemas) {
        table::check_columns(file, schema, &pairs)?;
    }
    let typed = files.iter().any(|f| f.format == FileFormat::Csv);
    let ctx = Ctx {
        input,
        files: &files,
        layout,
        plan: &plan,
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
    layout: &'a ClientsLayout,
    plan: &'a Plan,
    separator: u8,
}

impl Ctx<'_> {
    /// The clean columns of one file, with the bad-value flags `__bad_<i>` (in `checks`
    /// order). Every value is built under a temporary name and renamed at the end, so an
    /// input column is never read after a clean one took its name.
    fn canonical(
        &self,
        lf: LazyFrame,
        schema: &Schema,
        file_idx: usize,
    ) -> (LazyFrame, Vec<Check>) {
        let dtype = |c: &str| schema.get(c).cloned().unwrap_or(DataType::String);
        let plan = self.plan;
        let mut out: Vec<Expr> = Vec::new();
        let mut checks: Vec<Check> = Vec::new();
        let mut check = |column: &str, expected| {
            checks.push(Check {
                column: column.to_string(),
                expected,
            });
            format!("__bad_{}", checks.len() - 1)
        };
        let tmp = |name: &str| format!("__out_{name}");

        let id = &self.layout.client_id;
        let bad = check(id, "a client id (an integer or text)");
        let mut lf = table::client_id(lf, id, &dtype(id), &tmp(cols::CLIENT), &bad);
        out.push(col(tmp(cols::CLIENT)).alias(cols::CLIENT));

        let yes_no: Vec<(String, &String)> = plan
            .consent
            .iter()
            .map(|(channel, c)| (cols::consent(channel), c))
            .chain(
                plan.do_not_contact
                    .iter()
                    .map(|c| (cols::DO_NOT_CONTACT.to_string(), c)),
            )
            .collect();
        for (name, c) in &yes_no {
            let bad = check(c, YES_NO);
            lf = table::boolean(lf, c, &tmp(name), &bad);
            out.push(col(tmp(name)).fill_null(lit(false)).alias(name.as_str()));
        }
        if plan.do_not_contact.is_none() {
            out.push(lit(false).alias(cols::DO_NOT_CONTACT));
        }
        for (name, c) in [
            (cols::TIMEZONE, &plan.timezone),
            (cols::ACCOUNT_MANAGER, &plan.account_manager),
            (cols::SEGMENT, &plan.segment),
        ] {
            match c {
                Some(c) => {
                    lf = table::nullable_text(lf, c, &tmp(name));
                    out.push(col(tmp(name)).alias(name));
                }
                None => out.push(lit(NULL).cast(DataType::String).alias(name)),
            }
        }
        type Outside = fn(Expr) -> Expr;
        let scores: [(&str, &Option<String>, Outside, &'static str); 3] = [
            (
                cols::MARGIN,
                &plan.margin,
                |v| v.clone().lt(lit(0.0)).or(v.gt(lit(1.0))),
                "a margin: a fraction from 0 to 1 (0.35, not 35%), or empty",
            ),
            (
                cols::NPS,
                &plan.nps,
                |v| {
                    v.clone()
                        .lt(lit(0.0))
                        .or(v.clone().gt(lit(10.0)))
                        .or(v.clone().neq(v.floor()))
                },
                "an NPS score: an integer from 0 to 10, or empty",
            ),
            (
                cols::CSAT,
                &plan.csat,
                |v| v.clone().lt(lit(1.0)).or(v.gt(lit(5.0))),
                "a CSAT score: a number from 1 to 5, or empty",
            ),
        ];
        for (name, c, outside, expected) in scores {
            match c {
                Some(c) => {
                    let bad = check(c, expected);
                    let text_bad = format!("{bad}_text");
                    lf = table::optional_number(lf, c, &dtype(c), &tmp(name), &text_bad)
                        .with_column(
                            col(text_bad.as_str())
                                .or(outside(col(tmp(name))).fill_null(lit(false)))
                                .alias(bad.as_str()),
                        );
                    out.push(col(tmp(name)).alias(name));
                }
                None => out.push(lit(NULL).cast(DataType::Float64).alias(name)),
            }
        }
        out.push(col(ROW));
        out.push(lit(file_idx as u32).cast(DataType::UInt32).alias(FILE));
        out.extend((0..checks.len()).map(|i| {
            col(format!("__bad_{i}"))
                .fill_null(lit(true))
                .alias(format!("__bad_{i}"))
        }));
        (lf.select(out), checks)
    }

    fn read(&self, typed: bool) -> Result<ClientAttributes, DataError> {
        let input = self.input;
        let err = polars_err(input);
        let plan = self.plan;
        let numeric = table::typed_id(
            self.layout.client_id.as_str(),
            [
                plan.margin.as_deref(),
                plan.nps.as_deref(),
                plan.csat.as_deref(),
            ],
        );
        let mut frames = Vec::with_capacity(self.files.len());
        let mut checks = Vec::new();
        for (idx, file) in self.files.iter().enumerate() {
            let mut lf = table::read(file, self.separator, &numeric, typed)?;
            let schema = lf.collect_schema().map_err(polars_err(&file.path))?;
            let (lf, c) = self.canonical(lf.with_row_index(ROW, None), &schema, idx);
            frames.push(lf);
            checks = c;
        }
        let all = concat(frames, UnionArgs::default()).map_err(&err)?;
        let df = all
            .collect_with_engine(Engine::Streaming)
            .map_err(&err)?
            .unwrap_single();
        table::check_not_empty(&df, self.files, input)?;

        // time zones: each distinct text parsed once
        let tz_text = df
            .column(cols::TIMEZONE)
            .map_err(&err)?
            .str()
            .map_err(&err)?;
        let mut parsed: HashMap<&str, Option<TimeZoneSpec>> = HashMap::new();
        let zones: Vec<Option<TimeZoneSpec>> = tz_text
            .iter()
            .map(|t| {
                t.and_then(|t| {
                    *parsed
                        .entry(t)
                        .or_insert_with(|| TimeZoneSpec::parse(t).ok())
                })
            })
            .collect();
        let files_col = df.column(FILE).map_err(&err)?.u32().map_err(&err)?;
        let rows_col = df.column(ROW).map_err(&err)?.idx().map_err(&err)?;
        let at = |pos: usize| {
            (
                files_col.get(pos).unwrap_or(u32::MAX) as usize,
                rows_col.get(pos).unwrap_or(IdxSize::MAX) as u64,
            )
        };
        let bad_zone = tz_text
            .iter()
            .zip(&zones)
            .enumerate()
            .filter(|(_, (t, z))| t.is_some() && z.is_none())
            .map(|(pos, _)| at(pos))
            .min();

        let flags: Vec<String> = (0..checks.len()).map(|i| format!("__bad_{i}")).collect();
        let bad_flag = table::first_bad(&df, &flags, input)?;
        let bad = match (bad_flag, bad_zone) {
            (Some((_, f, r)), Some(z)) if z < (f, r) => Some((None, z.0, z.1)),
            (Some((i, f, r)), _) => Some((Some(i), f, r)),
            (None, Some(z)) => Some((None, z.0, z.1)),
            (None, None) => None,
        };
        if let Some((check, f, row)) = bad {
            let (column, expected) = match check {
                Some(i) => (checks[i].column.as_str(), checks[i].expected),
                None => (plan.timezone.as_deref().unwrap_or(cols::TIMEZONE), TIMEZONE),
            };
            let file = &self.files[f];
            return Err(DataError::BadValue {
                file: file.path.clone(),
                column: column.to_string(),
                row: row + 1,
                value: table::raw_value(file, self.separator, column, row),
                expected: expected.to_string(),
            });
        }

        // one row per client: sort by id, then a duplicate sits next to its first row
        let ids = df.column(cols::CLIENT).map_err(&err)?.i64().map_err(&err)?;
        let mut order: Vec<(i64, (usize, u64), IdxSize)> = ids
            .into_no_null_iter()
            .enumerate()
            .map(|(pos, id)| (id, at(pos), pos as IdxSize))
            .collect();
        order.sort_unstable();
        if let Some(w) = order
            .windows(2)
            .filter(|w| w[0].0 == w[1].0)
            .min_by_key(|w| w[1].1)
        {
            let (first, second) = (w[0].1, w[1].1);
            return Err(DataError::DuplicateClient {
                file: self.files[second.0].path.clone(),
                column: self.layout.client_id.clone(),
                row: second.1 + 1,
                id: table::raw_value(
                    &self.files[second.0],
                    self.separator,
                    &self.layout.client_id,
                    second.1,
                ),
                first_file: self.files[first.0].path.clone(),
                first_row: first.1 + 1,
            });
        }
        let idx = IdxCa::from_vec("idx".into(), order.iter().map(|o| o.2).collect());
        let zones: Vec<Option<TimeZoneSpec>> = order.iter().map(|o| zones[o.2 as usize]).collect();
        let ids: Vec<i64> = order.iter().map(|o| o.0).collect();

        let mut names: Vec<String> = vec![cols::CLIENT.into()];
        names.extend(plan.consent.iter().map(|(ch, _)| cols::consent(ch)));
        names.extend(
            [
                cols::DO_NOT_CONTACT,
                cols::TIMEZONE,
                cols::ACCOUNT_MANAGER,
                cols::SEGMENT,
                cols::MARGIN,
                cols::NPS,
                cols::CSAT,
            ]
            .map(String::from),
        );
        let mut frame = df.select(names).map_err(&err)?.take(&idx).map_err(&err)?;
        let normalised: StringChunked = zones
            .iter()
            .map(|z| z.map(|z| z.to_string()))
            .collect::<StringChunked>()
            .with_name(cols::TIMEZONE.into());
        frame.with_column(normalised.into_column()).map_err(&err)?;
        frame.rechunk_mut_par();
        let mut client = frame.column(cols::CLIENT).map_err(&err)?.clone();
        client.set_sorted_flag(polars::series::IsSorted::Ascending);
        frame.with_column(client).map_err(&err)?;

        let bools = |name: &str| -> Result<Vec<bool>, DataError> {
            Ok(frame
                .column(name)
                .map_err(&err)?
                .bool()
                .map_err(&err)?
                .iter()
                .map(|b| b.unwrap_or(false))
                .collect())
        };
        let channels: Vec<String> = plan.consent.iter().map(|(c, _)| c.clone()).collect();
        let consent = channels
            .iter()
            .map(|c| bools(&cols::consent(c)))
            .collect::<Result<Vec<_>, _>>()?;
        let do_not_contact = bools(cols::DO_NOT_CONTACT)?;
        let stats = ClientsStats {
            files: self.files.len(),
            clients: ids.len() as u64,
            consenting: channels
                .iter()
                .zip(&consent)
                .map(|(c, v)| (c.clone(), v.iter().filter(|&&b| b).count() as u64))
                .collect(),
            do_not_contact: do_not_contact.iter().filter(|&&b| b).count() as u64,
            with_timezone: zones.iter().filter(|z| z.is_some()).count() as u64,
        };
        let present = [
            (cols::DO_NOT_CONTACT, &plan.do_not_contact),
            (cols::TIMEZONE, &plan.timezone),
            (cols::ACCOUNT_MANAGER, &plan.account_manager),
            (cols::SEGMENT, &plan.segment),
            (cols::MARGIN, &plan.margin),
            (cols::NPS, &plan.nps),
            (cols::CSAT, &plan.csat),
        ]
        .into_iter()
        .filter(|(_, c)| c.is_some())
        .map(|(name, _)| name)
        .collect();
        Ok(ClientAttributes {
            frame,
            stats,
            source: input.to_string_lossy().into_owned(),
            channels,
            ids,
            zones,
            consent,
            do_not_contact,
            present,
        })
    }
}
