//! The feature and label plans (BENCHMARK.md sections 1-4).

use std::sync::Arc;

use polars::prelude::*;
use retain_core::{Cutoff, Horizon};
use retain_data::cols::{
    AMOUNT, CATEGORY, CLIENT, DAY, HOUR, INVOICE, IS_RETURN, PRODUCT, QUANTITY,
};
use retain_data::{ClientIds, Transactions};

/// The 29 candidate features, in the protocol's order (BENCHMARK.md section 4).
pub const FEATURES: [&str; 29] = [
    "days_since_last",
    "recency_lt",
    "frequency",
    "T",
    "monetary",
    "total_revenue",
    "net_revenue",
    "n_invoices",
    "distinct_products",
    "total_quantity",
    "avg_basket_size",
    "avg_invoice_value",
    "avg_unit_price",
    "mean_interval",
    "std_interval",
    "single_purchase",
    "rev_last_30",
    "rev_last_90",
    "rev_prev_90",
    "trend_90",
    "n_purchase_days_last_90",
    "return_count",
    "return_value_share",
    "country_freq",
    "country_top1",
    "country_top2",
    "country_top3",
    "preferred_weekday",
    "preferred_hour",
];

/// The label columns of a labelled set: `churned` (1 if no purchase day in the horizon),
/// `holdout_purchases` (distinct purchase days in the horizon) and `holdout_value` (net
/// amount of all lines in the horizon, returns included).
pub const LABELS: [&str; 3] = ["churned", "holdout_purchases", "holdout_value"];

/// The categorical table: each value's share of clients and the three most frequent values.
///
/// A client's category (country) is the mode of the category over all its lines up to the
/// table's cutoff, ties to the smallest name; the share is over every client with a line up
/// to that cutoff. The protocol builds it once at the evaluation cutoff and uses it for the
/// training features too.
#[derive(Debug, Clone)]
pub struct CountryTable {
    shares: DataFrame,
    top: Vec<String>,
}

impl CountryTable {
    /// The most frequent categories, most frequent first (ties by name), at most three.
    pub fn top(&self) -> &[String] {
        &self.top
    }
    /// `(category, share)` rows.
    pub fn shares(&self) -> &DataFrame {
        &self.shares
    }

    /// The table of every client's category, from `(client_id, __country)` rows (one per
    /// client with a category, as [`History::category_mode`] gives them): each category's
    /// share of those clients, most frequent first (ties by name).
    pub(crate) fn of_modes(modes: LazyFrame) -> PolarsResult<Self> {
        let shares = modes
            .group_by([col(COUNTRY)])
            .agg([len().cast(DataType::Float64).alias("__n")])
            .select([
                col(COUNTRY).alias(CATEGORY),
                (col("__n") / col("__n").sum()).alias("country_freq"),
            ])
            .sort_by_exprs([col("country_freq"), col(CATEGORY)], desc_then_asc())
            .collect()?;
        let top = shares
            .column(CATEGORY)?
            .str()?
            .iter()
            .take(3)
            .flatten()
            .map(str::to_string)
            .collect();
        Ok(Self { shares, top })
    }

    /// A table without categories: every client's share and flags come out 0 (the
    /// placeholder of features computed before the table is known, [`crate::PartFeatures`]).
    pub(crate) fn empty() -> Self {
        let shares = DataFrame::new_infer_height(vec![
            Column::new_empty(CATEGORY.into(), &DataType::String),
            Column::new_empty("country_freq".into(), &DataType::Float64),
        ])
        .expect("two empty columns");
        Self {
            shares,
            top: Vec::new(),
        }
    }

    /// `client_id`, `__country` and the four country features of each client in `modes`
    /// (`(client_id, __country)`, [`History::category_mode`]), before their fill.
    pub(crate) fn columns(&self, modes: LazyFrame) -> LazyFrame {
        let mut country = modes.join(
            self.shares.clone().lazy(),
            [col(COUNTRY)],
            [col(CATEGORY)],
            JoinArgs::new(JoinType::Left),
        );
        for i in 0..3 {
            let flag = match self.top.get(i) {
                Some(name) => col(COUNTRY).eq(lit(name.clone())).cast(DataType::Float64),
                None => lit(0.0),
            };
            country = country.with_column(flag.alias(format!("country_top{}", i + 1)));
        }
        country
    }
}

/// A client's category in the tables of [`History::category_mode`].
pub(crate) const COUNTRY: &str = "__country";

/// The country features, in [`FEATURES`]' order.
pub(crate) const COUNTRY_FEATURES: [&str; 4] = [
    "country_freq",
    "country_top1",
    "country_top2",
    "country_top3",
];

/// A feature column as every table of features holds it: `f64`, missing and NaN as 0.
pub(crate) fn filled(name: &str) -> Expr {
    col(name)
        .cast(DataType::Float64)
        .fill_null(lit(0.0))
        .fill_nan(lit(0.0))
}

fn desc_then_asc() -> SortMultipleOptions {
    SortMultipleOptions::default()
        .with_order_descending_multi([true, false])
        .with_maintain_order(true)
}

// Columns of the condensed tables.
/// Purchase lines (non-returns) of a (client, day).
pub(crate) const N_PURCHASE: &str = "__n_purchase";
/// Net amount of a (client, day)'s purchase lines.
pub(crate) const PURCHASE_VALUE: &str = "__purchase_value";
/// Net amount of a (client, day)'s return lines.
pub(crate) const RETURN_VALUE: &str = "__return_value";
/// Net amount of all of a (client, day)'s lines.
pub(crate) const ALL_VALUE: &str = "__all_value";
/// Quantity of a (client, day)'s purchase lines.
pub(crate) const PURCHASE_QUANTITY: &str = "__purchase_quantity";
/// The day a client first bought a product (products table).
pub(crate) const FIRST_DAY: &str = "__first_day";
/// Lines of a (client, category, day).
pub(crate) const N_LINES: &str = "__n";
/// Products first bought by a client on a day.
pub(crate) const N_PRODUCTS: &str = "__n_products";

/// Per-client mode of `value` weighted by the counts in `n` (ties to the smallest value),
/// as `(client_id, alias)`.
fn mode(lf: LazyFrame, value: &str, n: Expr, alias: &str) -> LazyFrame {
    lf.filter(col(value).is_not_null())
        .group_by([col(CLIENT), col(value)])
        .agg([n.alias("__count")])
        .group_by([col(CLIENT)])
        .agg([col(value)
            .sort_by([col("__count"), col(value)], desc_then_asc())
            .first()
            .alias(alias)])
}

/// Lines per part when [`History::of_lines`] condenses a long line table part by part:
/// large enough that a table the size of Online Retail II (0.8M lines) is one part.
pub const PART_LINES: usize = 1 << 20;

/// Condenses an input part by part ([`retain_data::PartReader`]): each part's lines are
/// condensed when it arrives and then dropped, so memory holds one part's lines and the
/// (small) condensed tables of every part. [`Condenser::finish`] gives the history one table of
/// every line would give, bit for bit: every table row comes from one client's lines, each
/// part's clients are whole, and the tables are put in client order when the parts' clients
/// were not ascending from one part to the next.
#[derive(Default)]
pub struct Condenser {
    parts: Vec<[DataFrame; 4]>,
    ascending: bool,
    last: Option<i64>,
}

impl Condenser {
    /// An empty condenser.
    pub fn new() -> Self {
        Self {
            ascending: true,
            ..Self::default()
        }
    }

    /// Condenses one part of whole clients (a canonical line table, as
    /// [`retain_data::PartReader::next_part`] gives it).
    pub fn push(&mut self, part: &Transactions) -> PolarsResult<()> {
        let lines = part.frame();
        if lines.height() == 0 {
            // a part whose every line was dropped (no client, free): nothing to condense
            if self.parts.is_empty() {
                self.parts.push(History::condense(lines)?);
            }
            return Ok(());
        }
        let client = lines.column(CLIENT)?.i64()?;
        if let (Some(first), Some(last)) = (client.first(), client.last()) {
            if self.last.is_some_and(|l| first <= l) {
                self.ascending = false;
            }
            self.last = Some(self.last.map_or(last, |l| l.max(last)));
        }
        self.parts.extend(History::part_tables(lines, PART_LINES)?);
        Ok(())
    }

    /// The history of every part pushed, with `ids` to decode its client codes.
    pub fn finish(self, ids: ClientIds) -> PolarsResult<History> {
        polars_ensure!(!self.parts.is_empty(), ComputeError: "no part of the input was condensed");
        let mut h = History::stacked(self.parts, !self.ascending)?;
        h.ids = ids;
        Ok(h)
    }
}

/// The line table condensed to the four small tables every feature and label is computed
/// from, so that features at several cutoffs read the (large) line table once:
///
/// - **days**, one row per (client, day) with any line: purchase lines, purchase value,
///   purchase quantity, return value and net value of all lines, sorted by client and day;
/// - **invoices**, one row per (client, invoice, day, is-return): the earliest hour;
/// - **products**, one row per (client, day) on which the client first bought some
///   products: how many;
/// - **categories**, one row per (client, category, day): the number of lines.
///
/// Every table keeps the day of what it condenses, and every feature at a cutoff starts by
/// keeping the rows with `day <= cutoff` (the products' first purchase day for products), so
/// no feature reads a line after the cutoff. [`History::new`] only builds the plans;
/// [`History::collect`] runs them once, for reuse at many cutoffs.
#[derive(Clone)]
pub struct History {
    pub(crate) days: LazyFrame,
    invoices: LazyFrame,
    products: LazyFrame,
    categories: LazyFrame,
    /// The four tables, when they are collected: what [`crate::kernel`] reads.
    pub(crate) collected: Option<Arc<[DataFrame; 4]>>,
    ids: ClientIds,
}

impl History {
    /// The plans of the four tables over the canonical line table `lines` (nothing runs).
    /// `lines` must be in the reader's canonical order (by client, then day, as
    /// `Transactions::lazy` gives it): the products' first days and the float sums rely on it.
    pub fn new(lines: LazyFrame) -> Self {
        let purchase = col(IS_RETURN).not();
        // Each (client, day)'s lines are summed in table order, which the reader made
        // canonical, so the sums are the same bit for bit whatever order the input came in.
        let days = lines
            .clone()
            .group_by([col(CLIENT), col(DAY)])
            .agg([
                purchase.clone().sum().alias(N_PURCHASE),
                col(AMOUNT)
                    .filter(purchase.clone())
                    .sum()
                    .alias(PURCHASE_VALUE),
                col(QUANTITY)
                    .filter(purchase.clone())
                    .sum()
                    .cast(DataType::Float64)
                    .alias(PURCHASE_QUANTITY),
                col(AMOUNT).filter(col(IS_RETURN)).sum().alias(RETURN_VALUE),
                col(AMOUNT).sum().alias(ALL_VALUE),
            ])
            .sort([CLIENT, DAY], SortMultipleOptions::default());
        let invoices = lines
            .clone()
            .group_by([col(CLIENT), col(INVOICE), col(DAY), col(IS_RETURN)])
            .agg([col(HOUR).min()]);
        // The lines are in day order within each client (the reader's canonical order), so
        // a (client, product)'s first line is on its first day: `unique` keeping the first
        // row is `min(day)` without the text group-by's aggregation (a third cheaper on ORII).
        let products = lines
            .clone()
            .filter(purchase.and(col(PRODUCT).is_not_null()))
            .select([col(CLIENT), col(PRODUCT), col(DAY)])
            .unique(Some(cols([CLIENT, PRODUCT])), UniqueKeepStrategy::First)
            .group_by([col(CLIENT), col(DAY)])
            .agg([len().alias(N_PRODUCTS)])
            .select([col(CLIENT), col(DAY).alias(FIRST_DAY), col(N_PRODUCTS)]);
        let categories = lines
            .group_by([col(CLIENT), col(CATEGORY), col(DAY)])
            .agg([len().alias(N_LINES)]);
        Self {
            days,
            invoices,
            products,
            categories,
            collected: None,
            ids: ClientIds::default(),
        }
    }

    /// Runs the four plans, so later features and labels read the small tables only.
    pub fn collect(self) -> PolarsResult<Self> {
        let ids = self.ids.clone();
        let mut h = Self::of_tables(self.tables()?);
        h.ids = ids;
        Ok(h)
    }

    /// The four tables, collected side by side on polars' thread pool (each plan alone
    /// leaves a core idle part of the time).
    fn tables(self) -> PolarsResult<[DataFrame; 4]> {
        let plans = [self.days, self.invoices, self.products, self.categories]
            .map(|lf| lf.logical_plan)
            .to_vec();
        let tables = LazyFrame::collect_all_with_engine(plans, Engine::Auto, OptFlags::default())?;
        let wrong =
            |_| polars_err!(ComputeError: "collect_all returned the wrong number of tables");
        tables.try_into().map_err(wrong)
    }

    /// The history of the reader's line table, condensed in parts of [`PART_LINES`] lines
    /// ([`History::of_lines`]): what every command computes its features and labels from.
    pub fn of(tx: &Transactions) -> PolarsResult<Self> {
        let mut h = Self::of_lines(tx.frame(), PART_LINES)?;
        h.ids = tx.ids().clone();
        Ok(h)
    }

    /// Every client with a line (a row of the days table), ascending.
    pub fn clients(&self) -> PolarsResult<Vec<i64>> {
        let days = self.days.clone().select([col(CLIENT)]).collect()?;
        let mut ids: Vec<i64> = days.column(CLIENT)?.i64()?.iter().flatten().collect();
        ids.sort_unstable();
        ids.dedup();
        Ok(ids)
    }

    /// The text of the ids read as text ([`ClientIds`]): what turns the `client_id` codes of
    /// every table built from this history back into the ids as read. Empty for a history
    /// built from lines in memory.
    pub fn ids(&self) -> &ClientIds {
        &self.ids
    }

    /// Condenses the reader's line table `lines` (a collected, canonical table, as
    /// `Transactions::frame` gives it) with [`History::new`] and [`History::collect`], one
    /// part of about `part_lines` lines at a time when it is longer: each part holds whole
    /// clients (a part ends where the client changes), every table row comes from one
    /// client's lines, and the parts' tables are stacked in order. The result is the one
    /// pass's, bit for bit, while each part's group-bys keep their hash tables the size of
    /// a part instead of the whole table: the condensing then grows with the lines instead of
    /// faster (on ORII replicated x10, 8.1M lines: 0.5 s per part of 0.8M lines, against 7.4
    /// s in one pass). [`PART_LINES`] is the default part size.
    pub fn of_lines(lines: &DataFrame, part_lines: usize) -> PolarsResult<Self> {
        Self::stacked(Self::part_tables(lines, part_lines)?, false)
    }

    /// The four tables of each part of whole clients of about `part_lines` lines of the
    /// canonical line table `lines`, in order.
    pub(crate) fn part_tables(
        lines: &DataFrame,
        part_lines: usize,
    ) -> PolarsResult<Vec<[DataFrame; 4]>> {
        let n = lines.height();
        let part_lines = part_lines.max(1);
        if n <= part_lines {
            return Ok(vec![Self::condense(lines)?]);
        }
        let client = lines.column(CLIENT)?.i64()?;
        let mut parts: Vec<[DataFrame; 4]> = Vec::new();
        let mut start = 0;
        while start < n {
            let mut end = (start + part_lines).min(n);
            // Whole clients only: move the end past the last line of its client.
            while end < n && client.get(end) == client.get(end - 1) {
                end += 1;
            }
            parts.push(Self::condense(&lines.slice(start as i64, end - start))?);
            start = end;
        }
        Ok(parts)
    }

    /// The four tables of a canonical line table of whole clients: the days by
    /// [`History::new`]'s plan, the three tables keyed by text in one pass
    /// ([`crate::condense`]), side by side.
    pub(crate) fn condense(lines: &DataFrame) -> PolarsResult<[DataFrame; 4]> {
        let (days, text) = rayon::join(
            || match crate::condense::days_table(lines)? {
                Some(days) => Ok(days),
                // lines not in client and day order: polars' group-by
                None => Self::new(lines.clone().lazy()).days.collect(),
            },
            || crate::condense::text_tables(lines),
        );
        let [invoices, products, categories] = text?;
        Ok([days?, invoices, products, categories])
    }

    /// The history of one part's four tables ([`History::condense`]).
    pub(crate) fn of_tables(tables: [DataFrame; 4]) -> Self {
        let [days, invoices, products, categories] = tables.clone();
        Self {
            days: days.lazy(),
            invoices: invoices.lazy(),
            products: products.lazy(),
            categories: categories.lazy(),
            collected: Some(Arc::new(tables)),
            ids: ClientIds::default(),
        }
    }

    /// The parts' tables stacked in order; with `sort`, then put in client order (the days
    /// by client and day), as one table of every line would give them.
    fn stacked(parts: Vec<[DataFrame; 4]>, sort: bool) -> PolarsResult<Self> {
        let mut tables: [Option<DataFrame>; 4] = Default::default();
        for part in parts {
            for (all, df) in tables.iter_mut().zip(part) {
                match all {
                    Some(all) => {
                        all.vstack_mut_owned(df)?;
                    }
                    None => *all = Some(df),
                }
            }
        }
        let mut tables = tables.map(Option::unwrap_or_default);
        for (k, t) in tables.iter_mut().enumerate() {
            if sort {
                let by: &[&str] = if k == 0 { &[CLIENT, DAY] } else { &[CLIENT] };
                *t = t.sort(
                    by.iter().map(|c| PlSmallStr::from(*c)).collect::<Vec<_>>(),
                    SortMultipleOptions::default().with_maintain_order(true),
                )?;
            }
            t.rechunk_mut_par();
        }
        Ok(Self::of_tables(tables))
    }

    /// `(client_id, day, purchase value)` of every purchase day (a (client, day) with a
    /// purchase line) on or before `cutoff`, in client then day order: what the feature
    /// families ([`crate::FeatureFamily`]) read, behind the same `day <= cutoff` filter as
    /// the 29 features.
    pub(crate) fn purchase_days_until(&self, cutoff: i32) -> LazyFrame {
        self.days
            .clone()
            .filter(col(DAY).lt_eq(lit(cutoff)).and(col(N_PURCHASE).gt(lit(0))))
            .select([col(CLIENT), col(DAY), col(PURCHASE_VALUE)])
    }

    /// Each client's category (the mode over its lines up to `cutoff`), as
    /// `(client_id, alias)`.
    pub(crate) fn category_mode(&self, cutoff: i32, alias: &str) -> LazyFrame {
        if let Some(tables) = &self.collected
            && let Ok(Some(modes)) = crate::kernel::category_modes(tables, cutoff, alias)
        {
            return modes.lazy();
        }
        self.category_mode_plan(cutoff, alias)
    }

    /// [`History::category_mode`] by polars' plan.
    pub(crate) fn category_mode_plan(&self, cutoff: i32, alias: &str) -> LazyFrame {
        mode(
            self.categories.clone().filter(col(DAY).lt_eq(lit(cutoff))),
            CATEGORY,
            col(N_LINES).sum(),
            alias,
        )
    }

    /// Builds the category table from lines with `day <= cutoff` (see [`CountryTable`]).
    pub fn country_table(&self, cutoff: Cutoff) -> PolarsResult<CountryTable> {
        CountryTable::of_modes(self.category_mode(cutoff.day(), COUNTRY))
    }

    /// The 29 features of every client with a purchase day `<= cutoff`, from lines with
    /// `day <= cutoff` only: `client_id` then [`FEATURES`] (all `f64`, NaN filled with 0),
    /// sorted by client id.
    ///
    /// With the tables collected in client order (as [`History::of`] and the readers' parts
    /// give them), the features are computed at once in one pass over the tables
    /// ([`crate::kernel`]) and the plan returned only reads them; otherwise the plan computes
    /// them when it is collected. Both give the same values bit for bit.
    pub fn features_at(&self, cutoff: Cutoff, countries: &CountryTable) -> LazyFrame {
        if let Some(tables) = &self.collected
            && let Ok(Some(features)) = crate::kernel::features(tables, cutoff.day(), countries)
        {
            return features.lazy();
        }
        self.features_plan(cutoff, countries)
    }

    /// [`History::features_at`] by polars' plan.
    pub(crate) fn features_plan(&self, cutoff: Cutoff, countries: &CountryTable) -> LazyFrame {
        let c = cutoff.day();
        let days = self.days.clone().filter(col(DAY).lt_eq(lit(c)));

        // purchase days (lifetimes' aggregation unit): (client, day) with its value
        let pdays = days.clone().filter(col(N_PURCHASE).gt(lit(0)));
        // Sum each client's days in day order, so every value is the same bit for bit
        // whatever order the rows or threads came in (float sums are not associative).
        let day_sorted = col(DAY).sort(SortOptions::default());
        let value_by_day = col(PURCHASE_VALUE).sort_by([col(DAY)], SortMultipleOptions::default());
        let in_window = |lo: i32, hi: i32| {
            value_by_day
                .clone()
                .filter(
                    day_sorted
                        .clone()
                        .gt(lit(lo))
                        .and(day_sorted.clone().lt_eq(lit(hi))),
                )
                .sum()
        };
        let base = pdays.group_by([col(CLIENT)]).agg([
            col(DAY).min().alias("__first"),
            col(DAY).max().alias("__last"),
            col(DAY).count().cast(DataType::Float64).alias("__n_days"),
            // (a plain sort_by().sum() would be simplified back to sum(); the filter keeps
            // the order)
            in_window(i32::MIN, c).alias("total_revenue"),
            value_by_day.clone().first().alias("__first_amount"),
            (day_sorted.clone() - day_sorted.clone().shift(lit(1)))
                .cast(DataType::Float64)
                .std(0)
                .alias("__std_gap"),
            in_window(c - 30, c).alias("rev_last_30"),
            in_window(c - 90, c).alias("rev_last_90"),
            in_window(c - 180, c - 90).alias("rev_prev_90"),
            col(DAY)
                .filter(col(DAY).gt(lit(c - 90)))
                .count()
                .cast(DataType::Float64)
                .alias("n_purchase_days_last_90"),
            // whole numbers: the order of the sum does not matter
            col(PURCHASE_QUANTITY).sum().alias("total_quantity"),
        ]);
        let return_value = days.group_by([col(CLIENT)]).agg([col(RETURN_VALUE)
            .sort_by([col(DAY)], SortMultipleOptions::default())
            .filter(day_sorted.clone().lt_eq(lit(c)))
            .sum()
            .alias("__ret_value")]);

        // purchase invoices: day = earliest line's day, hour = smallest hour
        let invoices = self.invoices.clone().filter(col(DAY).lt_eq(lit(c)));
        let inv = invoices
            .clone()
            .filter(col(IS_RETURN).not())
            .group_by([col(CLIENT), col(INVOICE)])
            .agg([col(DAY).min(), col(HOUR).min()])
            .with_column((((col(DAY) % lit(7)) + lit(10)) % lit(7)).alias("__weekday"));
        let n_inv = inv
            .clone()
            .group_by([col(CLIENT)])
            .agg([len().cast(DataType::Float64).alias("n_invoices")]);
        let weekday = mode(inv.clone(), "__weekday", len(), "preferred_weekday");
        let hour = mode(inv, HOUR, len(), "preferred_hour");
        let returns = invoices
            .filter(col(IS_RETURN))
            .group_by([col(CLIENT)])
            .agg([col(INVOICE)
                .n_unique()
                .cast(DataType::Float64)
                .alias("return_count")]);
        let products = self
            .products
            .clone()
            .filter(col(FIRST_DAY).lt_eq(lit(c)))
            .group_by([col(CLIENT)])
            .agg([col(N_PRODUCTS)
                .sum()
                .cast(DataType::Float64)
                .alias("distinct_products")]);

        let country = countries.columns(self.category_mode_plan(c, COUNTRY));

        let left = |a: LazyFrame, b: LazyFrame| {
            a.join(
                b,
                [col(CLIENT)],
                [col(CLIENT)],
                JoinArgs::new(JoinType::Left),
            )
        };
        let joined = [
            n_inv,
            weekday,
            hour,
            products,
            return_value,
            returns,
            country,
        ]
        .into_iter()
        .fold(base, left);
        finish(joined, c)
    }

    /// Labels over the horizon `(cutoff, cutoff + horizon]`, per client with any line
    /// there: `client_id`, `holdout_purchases`, `holdout_value`.
    /// Computed at once in one pass when the tables are collected, as
    /// [`History::features_at`] is.
    pub fn labels_at(&self, cutoff: Cutoff, horizon: Horizon) -> LazyFrame {
        if let Some(tables) = &self.collected
            && let Ok(Some(labels)) =
                crate::kernel::labels(tables, cutoff.day(), horizon.days() as i32)
        {
            return labels.lazy();
        }
        self.labels_plan(cutoff, horizon)
    }

    /// [`History::labels_at`] by polars' plan.
    pub(crate) fn labels_plan(&self, cutoff: Cutoff, horizon: Horizon) -> LazyFrame {
        let (cutoff, horizon) = (cutoff.day(), horizon.days() as i32);
        let h = self.days.clone().filter(
            col(DAY)
                .gt(lit(cutoff))
                .and(col(DAY).lt_eq(lit(cutoff + horizon))),
        );
        h.group_by([col(CLIENT)]).agg([
            col(N_PURCHASE)
                .gt(lit(0))
                .sum()
                .cast(DataType::Float64)
                .alias("holdout_purchases"),
            col(ALL_VALUE)
                .sort_by([col(DAY)], SortMultipleOptions::default())
                .filter(col(DAY).sort(SortOptions::default()).gt(lit(cutoff)))
                .sum()
                .alias("holdout_value"),
        ])
    }

    /// Features at `cutoff` with labels over `(cutoff, cutoff + horizon]`: `client_id`, the
    /// 29 [`FEATURES`], then [`LABELS`]. The out-of-time training set of the protocol is
    /// `labelled_set(cutoff - H_tr, H_tr, countries)`.
    pub fn labelled_set(
        &self,
        cutoff: Cutoff,
        horizon: Horizon,
        countries: &CountryTable,
    ) -> LazyFrame {
        let labels = self.labels_at(cutoff, horizon);
        self.features_at(cutoff, countries)
            .join(
                labels,
                [col(CLIENT)],
                [col(CLIENT)],
                JoinArgs::new(JoinType::Left),
            )
            .with_columns([
                col("holdout_purchases").fill_null(lit(0.0)),
                col("holdout_value").fill_null(lit(0.0)),
            ])
            .with_column(
                col("holdout_purchases")
                    .eq(lit(0.0))
                    .cast(DataType::Int32)
                    .alias("churned"),
            )
            .select(
                std::iter::once(col(CLIENT))
                    .chain(FEATURES.iter().map(|f| col(*f)))
                    .chain(LABELS.iter().map(|l| col(*l)))
                    .collect::<Vec<_>>(),
            )
            .sort([CLIENT], SortMultipleOptions::default())
    }
}

/// Builds the category table from lines with `day <= cutoff` (see [`CountryTable`]).
/// Reads the line table; with several cutoffs, [`History::country_table`] reads it once.
pub fn country_table(lines: LazyFrame, cutoff: Cutoff) -> PolarsResult<CountryTable> {
    History::new(lines).country_table(cutoff)
}

/// The 29 features at `cutoff` straight from the line table (see [`History::features_at`]).
pub fn features_at(lines: LazyFrame, cutoff: Cutoff, countries: &CountryTable) -> LazyFrame {
    History::new(lines).features_at(cutoff, countries)
}

/// Labels straight from the line table (see [`History::labels_at`]).
pub fn labels_at(lines: LazyFrame, cutoff: Cutoff, horizon: Horizon) -> LazyFrame {
    History::new(lines).labels_at(cutoff, horizon)
}

/// The 29 features from the per-client aggregates joined in `joined`, sorted by client.
fn finish(joined: LazyFrame, c: i32) -> LazyFrame {
    let freq = col("__n_days") - lit(1.0);
    let tr = col("total_revenue");
    let tq = col("total_quantity");
    let ret = col("__ret_value").fill_null(lit(0.0));
    let den = col("rev_last_90") + col("rev_prev_90");
    let f64c = |e: Expr| e.cast(DataType::Float64);
    let exprs = [
        col(CLIENT),
        f64c(lit(c) - col("__last")).alias("days_since_last"),
        f64c(col("__last") - col("__first")).alias("recency_lt"),
        freq.clone().alias("frequency"),
        f64c(lit(c) - col("__first")).alias("T"),
        when(freq.clone().gt(lit(0.0)))
            .then((tr.clone() - col("__first_amount")) / freq.clone())
            .otherwise(lit(0.0))
            .alias("monetary"),
        tr.clone().alias("total_revenue"),
        (tr.clone() + ret.clone()).alias("net_revenue"),
        col("n_invoices"),
        col("distinct_products"),
        tq.clone().alias("total_quantity"),
        (tq.clone() / col("n_invoices")).alias("avg_basket_size"),
        (tr.clone() / col("n_invoices")).alias("avg_invoice_value"),
        when(tq.clone().gt(lit(0.0)))
            .then(tr.clone() / tq.clone())
            .otherwise(lit(0.0))
            .alias("avg_unit_price"),
        when(freq.clone().gt(lit(0.0)))
            .then(f64c(col("__last") - col("__first")) / freq.clone())
            .otherwise(lit(0.0))
            .alias("mean_interval"),
        when(freq.clone().gt_eq(lit(2.0)))
            .then(col("__std_gap"))
            .otherwise(lit(0.0))
            .alias("std_interval"),
        f64c(freq.clone().eq(lit(0.0))).alias("single_purchase"),
        col("rev_last_30"),
        col("rev_last_90"),
        col("rev_prev_90"),
        when(den.clone().gt(lit(0.0)))
            .then((col("rev_last_90") - col("rev_prev_90")) / den)
            .otherwise(lit(0.0))
            .alias("trend_90"),
        col("n_purchase_days_last_90"),
        col("return_count"),
        when(tr.clone().gt(lit(0.0)))
            .then(-ret / tr)
            .otherwise(lit(0.0))
            .alias("return_value_share"),
        col("country_freq"),
        col("country_top1"),
        col("country_top2"),
        col("country_top3"),
        f64c(col("preferred_weekday")).alias("preferred_weekday"),
        f64c(col("preferred_hour")).alias("preferred_hour"),
    ];
    let fill: Vec<Expr> = FEATURES.iter().map(|f| filled(f)).collect();
    joined
        .select(exprs)
        .with_columns(fill)
        .sort([CLIENT], SortMultipleOptions::default())
}

/// Features at `cutoff` with labels over `(cutoff, cutoff + horizon]`: `client_id`, the 29
/// [`FEATURES`], then [`LABELS`]. The out-of-time training set of the protocol is
/// `labelled_set(lines, cutoff - H_tr, H_tr, countries)`.
pub fn labelled_set(
    lines: LazyFrame,
    cutoff: Cutoff,
    horizon: Horizon,
    countries: &CountryTable,
) -> LazyFrame {
    History::new(lines).labelled_set(cutoff, horizon, countries)
}
