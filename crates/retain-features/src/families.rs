//! Feature families beyond the 29 of the protocol: named groups of per-client features that a
//! run switches on or off (`retain.toml`, the command line), each computed at a cutoff from the
//! purchase days on or before it.
//!
//! | family | columns | what |
//! |---|---|---|
//! | `windows` | `win_pd_{w}`, `win_spend_{w}` for w in [`WINDOW_DAYS`] | purchase days and spend in `(c - w, c]` |
//! | `decayed` | `dec_pd_hl{h}`, `dec_spend_hl{h}` for h in [`HALF_LIVES`] | purchase days and spend weighted by `2^-(age / h)`, `age = c - day` |
//! | `last_year` | `ly_pd`, `ly_spend`, `ly_next_pd`, `ly_next_spend`, `ly_active`, `ly_churned` | the same windows [`YEAR_DAYS`] earlier |
//! | `gap_recency` | `gap_ratio`, `gap_over_max`, `gap_share_shorter` | days since the last purchase against the client's own gaps |
//!
//! A purchase day is a (client, day) with at least one purchase line (the protocol's unit, as
//! `frequency` counts them); its spend is the net amount of that day's purchase lines (returns
//! are not netted, as in `total_revenue` and `rev_last_30`). The customer-base outputs (BG/NBD
//! refitted at the cutoff) are a family of the training crate, not of this one.
//!
//! Every value is computed by [`History::family_features_at`] in one pass over the purchase
//! days on or before the cutoff, in client then day order, so the columns are the same bit for
//! bit whatever order the input lines came in, whether the history was condensed in one pass
//! or in parts, and whatever lines follow the cutoff. No value is NaN or null: the fills are
//! documented per column in [`FeatureFamily`].

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use polars::prelude::*;
use rayon::prelude::*;
use retain_core::{Cutoff, Horizon};
use retain_data::cols::{CLIENT, DAY};
use serde::{Deserialize, Serialize};

use crate::builder::History;
use crate::builder::{CountryTable, FEATURES};

/// Window lengths of the `windows` family, in days: the window of `w` is `(c - w, c]`.
pub const WINDOW_DAYS: [i32; 7] = [7, 14, 30, 60, 90, 180, 365];

/// Half-lives of the `decayed` family, in days.
pub const HALF_LIVES: [i32; 4] = [7, 30, 90, 365];

/// How far back the `last_year` family looks, in days.
pub const YEAR_DAYS: i32 = 365;

/// A named family of per-client features beyond the protocol's 29 (serde and [`FromStr`] use
/// the snake_case names: `windows`, `decayed`, `last_year`, `gap_recency`).
///
/// With `c` the cutoff, `H` the horizon and `age = c - day` of a purchase day:
///
/// - **`windows`**: for every `w` in [`WINDOW_DAYS`], `win_pd_{w}` the purchase days with
///   `age < w` (the window `(c - w, c]`) and `win_spend_{w}` their spend. 0 when there is none.
///   (`win_pd_90` is `n_purchase_days_last_90`; `win_spend_30` and `win_spend_90` are
///   `rev_last_30` and `rev_last_90` up to the rounding of a sum taken in another order.)
/// - **`decayed`**: for every half-life `h` in [`HALF_LIVES`], `dec_pd_hl{h}` the sum over
///   purchase days of `2^-(age / h)` and `dec_spend_hl{h}` the sum of spend times that weight:
///   a purchase on the cutoff day counts 1, one `h` days before counts 1/2.
/// - **`last_year`**: with `y` = [`YEAR_DAYS`], `ly_pd` and `ly_spend` the purchase days and
///   spend in `(c - y - H, c - y]` (the last `H` days before the cutoff, a year earlier);
///   `ly_next_pd` and `ly_next_spend` those in `(c - y, c - y + H]` (the horizon, a year
///   earlier; the window ends at `c` when `H > y`, so it never passes the cutoff); `ly_active`
///   1 if the client had a purchase day on or before `c - y` (it was in the population a year
///   earlier), else 0; `ly_churned` 1 if it was and had no purchase day in `(c - y, c - y + H]`
///   (it "churned" a year earlier), else 0 (also 0 for a client that was not a client yet).
///   Needs `H >= 1`.
/// - **`gap_recency`**: with `d` = days since the last purchase day and the client's gaps the
///   day differences of its consecutive purchase days (`frequency` of them):
///   `gap_ratio = d / mean gap` (the mean gap is `mean_interval`), `gap_over_max = d - largest
///   gap`, `gap_share_shorter` the share of the client's gaps strictly shorter than `d`. A
///   client with no gap (one purchase day) gets `gap_ratio = 1` and `gap_share_shorter = 0.5`
///   (a wait neither short nor long: nothing to compare it with) and `gap_over_max = d` (the
///   largest of no gap taken as 0). A client with one gap gets the formulas as they are
///   (`gap_share_shorter` is then 0 or 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeatureFamily {
    /// Purchase days and spend over the last 7 to 365 days.
    Windows,
    /// Exponentially decayed purchase days and spend, half-lives 7 to 365 days.
    Decayed,
    /// The windows before and after the cutoff one year earlier, and whether the client
    /// churned then.
    LastYear,
    /// Days since the last purchase against the client's own gaps.
    GapRecency,
}

impl FeatureFamily {
    /// Every family, in column order.
    pub const ALL: [FeatureFamily; 4] = [
        FeatureFamily::Windows,
        FeatureFamily::Decayed,
        FeatureFamily::LastYear,
        FeatureFamily::GapRecency,
    ];

    /// The family's name, as in `retain.toml` and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            FeatureFamily::Windows => "windows",
            FeatureFamily::Decayed => "decayed",
            FeatureFamily::LastYear => "last_year",
            FeatureFamily::GapRecency => "gap_recency",
        }
    }

    /// The family's columns, in order.
    pub fn columns(self) -> Vec<String> {
        match self {
            FeatureFamily::Windows => WINDOW_DAYS
                .iter()
                .flat_map(|w| [format!("win_pd_{w}"), format!("win_spend_{w}")])
                .collect(),
            FeatureFamily::Decayed => HALF_LIVES
                .iter()
                .flat_map(|h| [format!("dec_pd_hl{h}"), format!("dec_spend_hl{h}")])
                .collect(),
            FeatureFamily::LastYear => [
                "ly_pd",
                "ly_spend",
                "ly_next_pd",
                "ly_next_spend",
                "ly_active",
                "ly_churned",
            ]
            .map(String::from)
            .to_vec(),
            FeatureFamily::GapRecency => ["gap_ratio", "gap_over_max", "gap_share_shorter"]
                .map(String::from)
                .to_vec(),
        }
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

impl fmt::Display for FeatureFamily {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A name that is no [`FeatureFamily`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown feature family `{0}`: expected windows, decayed, last_year or gap_recency \
     (a comma-separated list, or all, or none)"
)]
pub struct UnknownFamily(pub String);

impl FromStr for FeatureFamily {
    type Err = UnknownFamily;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        FeatureFamily::ALL
            .into_iter()
            .find(|f| f.name() == s)
            .ok_or_else(|| UnknownFamily(s.to_string()))
    }
}

/// Which [`FeatureFamily`]s are on (default: none). In `retain.toml` a list of names
/// (`families = ["windows", "gap_recency"]`); on the command line ([`FromStr`]) a
/// comma-separated list, `all` or `none`. Iterates in column order whatever order it was
/// given in.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(from = "Vec<FeatureFamily>", into = "Vec<FeatureFamily>")]
pub struct FeatureFamilies {
    bits: u8,
}

impl FeatureFamilies {
    /// No family.
    pub fn none() -> Self {
        Self::default()
    }

    /// Every family.
    pub fn all() -> Self {
        FeatureFamily::ALL.into_iter().collect()
    }

    /// This set with `family` on.
    pub fn with(mut self, family: FeatureFamily) -> Self {
        self.insert(family);
        self
    }

    /// Switches `family` on.
    pub fn insert(&mut self, family: FeatureFamily) {
        self.bits |= family.bit();
    }

    /// Switches `family` off.
    pub fn remove(&mut self, family: FeatureFamily) {
        self.bits &= !family.bit();
    }

    /// Whether `family` is on.
    pub fn contains(&self, family: FeatureFamily) -> bool {
        self.bits & family.bit() != 0
    }

    /// Whether no family is on.
    pub fn is_empty(&self) -> bool {
        self.bits == 0
    }

    /// The families that are on, in column order.
    pub fn iter(&self) -> impl Iterator<Item = FeatureFamily> + '_ {
        FeatureFamily::ALL.into_iter().filter(|f| self.contains(*f))
    }
}

impl FromIterator<FeatureFamily> for FeatureFamilies {
    fn from_iter<I: IntoIterator<Item = FeatureFamily>>(iter: I) -> Self {
        let mut set = Self::none();
        for f in iter {
            set.insert(f);
        }
        set
    }
}

impl From<Vec<FeatureFamily>> for FeatureFamilies {
    fn from(v: Vec<FeatureFamily>) -> Self {
        v.into_iter().collect()
    }
}

impl From<FeatureFamilies> for Vec<FeatureFamily> {
    fn from(s: FeatureFamilies) -> Self {
        s.iter().collect()
    }
}

impl fmt::Display for FeatureFamilies {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return f.write_str("none");
        }
        let names: Vec<&str> = self.iter().map(FeatureFamily::name).collect();
        f.write_str(&names.join(","))
    }
}

impl FromStr for FeatureFamilies {
    type Err = UnknownFamily;
    /// `windows,decayed`, `all`, `none` (or an empty string): names separated by commas.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "" | "none" => Ok(Self::none()),
            "all" => Ok(Self::all()),
            list => list.split(',').map(str::parse).collect(),
        }
    }
}

/// The columns of `families`, in the order [`History::family_features_at`] gives them (after
/// `client_id`).
pub fn family_columns(families: &FeatureFamilies) -> Vec<String> {
    families.iter().flat_map(FeatureFamily::columns).collect()
}

impl History {
    /// The columns of `families` at `cutoff` for horizon `horizon` (days): `client_id` then
    /// [`family_columns`] (all `f64`, never NaN or null; see [`FeatureFamily`] for each column
    /// and its fill), one row per client with a purchase day on or before `cutoff` (the
    /// population of [`History::features_at`]), sorted by client id. Reads the purchase days
    /// with `day <= cutoff` only. `horizon` matters to `last_year` only.
    ///
    /// Every column is computed in one pass over the purchase days in client then day order
    /// (sums in day order), so the values are the same bit for bit however the lines were
    /// ordered or condensed.
    pub fn family_features_at(
        &self,
        cutoff: Cutoff,
        horizon: Horizon,
        families: &FeatureFamilies,
    ) -> LazyFrame {
        let cutoff = cutoff.day();
        let spec = Spec {
            cutoff,
            horizon: horizon.days() as i32,
            families: *families,
        };
        let names = family_columns(families);
        let schema: Schema = std::iter::once(Field::new(CLIENT.into(), DataType::Int64))
            .chain(
                names
                    .iter()
                    .map(|n| Field::new(n.as_str().into(), DataType::Float64)),
            )
            .collect();
        let schema = Arc::new(schema);
        let out_schema = move |_: &Schema| -> PolarsResult<SchemaRef> { Ok(schema.clone()) };
        self.purchase_days_until(cutoff).map(
            move |df| spec.compute(df),
            OptFlags::empty(),
            Some(Arc::new(out_schema)),
            Some("feature families"),
        )
    }

    /// `client_id`, the 29 [`FEATURES`] of [`History::features_at`], then the
    /// [`family_columns`] of [`History::family_features_at`]: the two joined on the client,
    /// sorted by client id.
    pub fn features_with_families_at(
        &self,
        cutoff: Cutoff,
        horizon: Horizon,
        countries: &CountryTable,
        families: &FeatureFamilies,
    ) -> LazyFrame {
        let order: Vec<Expr> = std::iter::once(CLIENT.to_string())
            .chain(FEATURES.iter().map(|f| f.to_string()))
            .chain(family_columns(families))
            .map(|c| col(c.as_str()))
            .collect();
        self.frame_at(cutoff, None, countries, families, horizon)
            .select(order)
    }

    /// The feature frame of every client with a purchase day on or before `cutoff`: the 29
    /// [`FEATURES`] (as [`History::features_at`] with `countries`), with `labels` the
    /// [`crate::LABELS`] over `(cutoff, cutoff + labels]` (as [`History::labelled_set`]), then
    /// the columns of `families` over `family_horizon` (as [`History::family_features_at`]),
    /// sorted by client id. What one training window, validation target or scoring night
    /// reads: the one definition every caller (one machine, or the parts of a distributed run
    /// finished together) shares.
    pub fn frame_at(
        &self,
        cutoff: Cutoff,
        labels: Option<Horizon>,
        countries: &CountryTable,
        families: &FeatureFamilies,
        family_horizon: Horizon,
    ) -> LazyFrame {
        let base = match labels {
            Some(h) => self.labelled_set(cutoff, h, countries),
            None => self.features_at(cutoff, countries),
        };
        if families.is_empty() {
            return base;
        }
        let mut args = JoinArgs::new(JoinType::Left);
        args.maintain_order = MaintainOrderJoin::Left;
        base.join(
            self.family_features_at(cutoff, family_horizon, families),
            [col(CLIENT)],
            [col(CLIENT)],
            args,
        )
    }
}

/// What [`History::family_features_at`] computes.
#[derive(Debug, Clone, Copy)]
struct Spec {
    cutoff: i32,
    horizon: i32,
    families: FeatureFamilies,
}

/// The values of a column without nulls.
fn values<T: PolarsNumericType>(ca: &ChunkedArray<T>, name: &str) -> PolarsResult<Vec<T::Native>> {
    polars_ensure!(
        ca.null_count() == 0,
        ComputeError: "feature families: `{name}` of a purchase day is null"
    );
    Ok(ca.into_no_null_iter().collect())
}

/// `2^-(age / half_life)` for every age from 0 to `max_age` (one table per half-life), so the
/// weights are computed once per age rather than once per purchase day.
fn decay_table(max_age: usize) -> Vec<[f64; HALF_LIVES.len()]> {
    (0..=max_age)
        .map(|age| HALF_LIVES.map(|h| (-(age as f64) / f64::from(h)).exp2()))
        .collect()
}

impl Spec {
    /// The family columns of the purchase days `df` (`client_id`, `day`, purchase value, all
    /// with `day <= cutoff`).
    fn compute(&self, df: DataFrame) -> PolarsResult<DataFrame> {
        let c = self.cutoff;
        let fam = self.families;
        let names = family_columns(&fam);
        let mut client = values(df.column(CLIENT)?.i64()?, CLIENT)?;
        let mut day = values(df.column(DAY)?.i32()?, DAY)?;
        let mut value = values(df[2].f64()?, "purchase value")?;
        let n = client.len();
        let sorted = (1..n).all(|i| (client[i - 1], day[i - 1]) < (client[i], day[i]));
        if !sorted {
            // The condensed table is in this order already; a history built otherwise is
            // put in it (the (client, day) rows are unique, so the order is total).
            let mut idx: Vec<usize> = (0..n).collect();
            idx.sort_unstable_by_key(|&i| (client[i], day[i]));
            client = idx.iter().map(|&i| client[i]).collect();
            day = idx.iter().map(|&i| day[i]).collect();
            value = idx.iter().map(|&i| value[i]).collect();
        }
        if let Some(&d) = day.iter().find(|&&d| d > c) {
            polars_bail!(ComputeError: "feature families: a purchase day {d} after the cutoff {c}");
        }
        let decay = if fam.contains(FeatureFamily::Decayed) {
            let max_age = day.iter().map(|&d| (c - d) as usize).max().unwrap_or(0);
            decay_table(max_age)
        } else {
            Vec::new()
        };

        // pieces of whole clients, computed side by side and appended in order
        let bounds = crate::condense::client_pieces(&client);
        let parts: Vec<(Vec<i64>, Vec<Vec<f64>>)> = bounds
            .par_windows(2)
            .map(|w| {
                let mut ids: Vec<i64> = Vec::new();
                let mut out: Vec<Vec<f64>> = vec![Vec::new(); names.len()];
                let mut row: Vec<f64> = Vec::with_capacity(names.len());
                let mut start = w[0];
                while start < w[1] {
                    let mut end = start + 1;
                    while end < w[1] && client[end] == client[start] {
                        end += 1;
                    }
                    row.clear();
                    self.client_row(&day[start..end], &value[start..end], &decay, &mut row);
                    ids.push(client[start]);
                    for (col, v) in out.iter_mut().zip(&row) {
                        col.push(*v);
                    }
                    start = end;
                }
                (ids, out)
            })
            .collect();
        let mut ids: Vec<i64> = Vec::new();
        let mut out: Vec<Vec<f64>> = vec![Vec::new(); names.len()];
        for (part_ids, part_out) in parts {
            ids.extend(part_ids);
            for (all, part) in out.iter_mut().zip(part_out) {
                all.extend(part);
            }
        }
        let height = ids.len();
        let columns: Vec<Column> = std::iter::once(Column::new(CLIENT.into(), ids))
            .chain(
                names
                    .iter()
                    .zip(out)
                    .map(|(name, v)| Column::new(name.as_str().into(), v)),
            )
            .collect();
        DataFrame::new(height, columns)
    }

    /// The family columns of one client, from its purchase days `days` (ascending, on or
    /// before the cutoff) and their spend, appended to `row`.
    fn client_row(
        &self,
        days: &[i32],
        spend: &[f64],
        decay: &[[f64; HALF_LIVES.len()]],
        row: &mut Vec<f64>,
    ) {
        let (c, fam) = (self.cutoff, self.families);
        let (h, y) = (self.horizon, YEAR_DAYS);
        if fam.contains(FeatureFamily::Windows) {
            let mut pd = [0.0; WINDOW_DAYS.len()];
            let mut sp = [0.0; WINDOW_DAYS.len()];
            for (&d, &v) in days.iter().zip(spend) {
                let age = c - d;
                for (j, &w) in WINDOW_DAYS.iter().enumerate() {
                    if age < w {
                        pd[j] += 1.0;
                        sp[j] += v;
                    }
                }
            }
            for j in 0..WINDOW_DAYS.len() {
                row.extend([pd[j], sp[j]]);
            }
        }
        if fam.contains(FeatureFamily::Decayed) {
            let mut pd = [0.0; HALF_LIVES.len()];
            let mut sp = [0.0; HALF_LIVES.len()];
            for (&d, &v) in days.iter().zip(spend) {
                let w = &decay[(c - d) as usize];
                for j in 0..HALF_LIVES.len() {
                    pd[j] += w[j];
                    sp[j] += w[j] * v;
                }
            }
            for j in 0..HALF_LIVES.len() {
                row.extend([pd[j], sp[j]]);
            }
        }
        if fam.contains(FeatureFamily::LastYear) {
            // ages: before = [y, y + H), next = [max(y - H, 0), y)
            let next_lo = (y - h).max(0);
            let (mut pd, mut sp, mut next_pd, mut next_sp) = (0.0, 0.0, 0.0, 0.0);
            for (&d, &v) in days.iter().zip(spend) {
                let age = c - d;
                if age >= y && age < y + h {
                    pd += 1.0;
                    sp += v;
                } else if age < y && age >= next_lo {
                    next_pd += 1.0;
                    next_sp += v;
                }
            }
            let active = c - days[0] >= y;
            let churned = active && next_pd == 0.0;
            row.extend([
                pd,
                sp,
                next_pd,
                next_sp,
                f64::from(u8::from(active)),
                f64::from(u8::from(churned)),
            ]);
        }
        if fam.contains(FeatureFamily::GapRecency) {
            let last = days[days.len() - 1];
            let since = f64::from(c - last);
            let n_gaps = days.len() - 1;
            if n_gaps == 0 {
                row.extend([1.0, since, 0.5]);
            } else {
                let mean = f64::from(last - days[0]) / n_gaps as f64;
                let (mut largest, mut shorter) = (0, 0usize);
                for g in days.windows(2).map(|p| p[1] - p[0]) {
                    largest = largest.max(g);
                    shorter += usize::from(f64::from(g) < since);
                }
                row.extend([
                    since / mean,
                    since - f64::from(largest),
                    shorter as f64 / n_gaps as f64,
                ]);
            }
        }
    }
}
