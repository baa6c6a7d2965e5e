//! The 29 features and the clients' categories at a cutoff in one pass over the condensed
//! tables of [`crate::History`], in plain Rust.
//!
//! [`crate::History::features_at`]'s polars plan filters the four tables, runs seven group-bys
//! (three of them with a sort and a filter inside every group) and joins their results: on
//! Online Retail II replicated 100 times (588k clients) it took 7-8 s of a 38 s scoring run.
//! The tables are already in client order (days by client and day), so one walk over each
//! client's rows computes every feature of that client with no hash table the size of the
//! data; pieces of whole clients are walked side by side on rayon's threads.
//!
//! The result must be the plan's bit for bit (the parity and protocol tests, and every output
//! before this change, depend on it), so every value is computed as polars computes it:
//! - a sum over a client's rows is a polars group-by sum ([`GroupSum`]): 0 for no row, the
//!   value for one, polars' own compensated sum (`KahanSum`) in day order for more;
//! - the standard deviation of the gaps is polars' own `VarState` over the gaps in day order,
//!   as its group-by `std` takes it over a group's slice;
//! - a mode counts each value and keeps the most frequent, ties to the smallest;
//! - the final columns repeat the plan's arithmetic in the plan's order, then fill missing
//!   and NaN values with 0.
//!
//! The tables the plan reads are still the reference: tables not in client order (and any
//! table of another shape) are left to it, and the tests hold this kernel to it bit for bit
//! on values where a plain and a compensated sum differ and on Online Retail II.

use polars::prelude::*;
use polars_arrow::array::{Array, BooleanArray, PrimitiveArray, Utf8ViewArray};
use rayon::prelude::*;

use crate::runs::runs;
use retain_data::cols::{CATEGORY, CLIENT, DAY, HOUR, INVOICE, IS_RETURN};

use crate::CountryTable;
use crate::builder::{
    ALL_VALUE, FEATURES, FIRST_DAY, N_LINES, N_PRODUCTS, N_PURCHASE, PURCHASE_QUANTITY,
    PURCHASE_VALUE, RETURN_VALUE,
};
use crate::condense::{GroupSum, client_pieces};
use polars_compute::float_sum::FloatSum;
use polars_compute::moment::VarState;

/// The four condensed tables' columns, read in place.
struct View<'a> {
    d_client: &'a [i64],
    d_day: &'a [i32],
    d_purchases: &'a [IdxSize],
    d_value: &'a [f64],
    d_quantity: &'a [f64],
    d_returned: &'a [f64],
    d_all: &'a [f64],
    i_client: &'a [i64],
    i_invoice: &'a Utf8ViewArray,
    i_day: &'a [i32],
    i_return: &'a BooleanArray,
    i_hour: &'a PrimitiveArray<i8>,
    p_client: &'a [i64],
    p_day: &'a [i32],
    p_n: &'a [IdxSize],
    c_client: &'a [i64],
    c_category: &'a Utf8ViewArray,
    c_day: &'a [i32],
    c_n: &'a [IdxSize],
}

/// Whether `v` never decreases.
fn ascending<T: PartialOrd>(v: &[T]) -> bool {
    v.windows(2).all(|w| w[0] <= w[1])
}

/// The rows `[lo, hi)` of a client-ordered column whose clients are in `[from, to)`.
fn rows_of(client: &[i64], from: i64, to: Option<i64>) -> (usize, usize) {
    let lo = client.partition_point(|&c| c < from);
    let hi = to.map_or(client.len(), |t| client.partition_point(|&c| c < t));
    (lo, hi)
}

/// The most frequent of `values` (sorted ascending), ties to the smallest.
fn mode_of_sorted<T: PartialEq + Copy>(values: &[T]) -> Option<T> {
    let mut best: Option<(T, usize)> = None;
    let mut i = 0;
    while i < values.len() {
        let mut j = i + 1;
        while j < values.len() && values[j] == values[i] {
            j += 1;
        }
        if best.is_none_or(|(_, n)| j - i > n) {
            best = Some((values[i], j - i));
        }
        i = j;
    }
    best.map(|(v, _)| v)
}

/// A client's category: the most frequent of its non-missing categories over its rows of the
/// categories table `[lo, hi)` on or before `cutoff`, weighted by lines, ties to the smallest.
fn category_of<'a>(
    v: &View<'a>,
    lo: usize,
    hi: usize,
    cutoff: i32,
    counts: &mut PlHashMap<&'a str, u64>,
) -> Option<&'a str> {
    counts.clear();
    for k in lo..hi {
        if v.c_day[k] <= cutoff
            && let Some(cat) = v.c_category.get(k)
        {
            *counts.entry(cat).or_insert(0) += u64::from(v.c_n[k]);
        }
    }
    counts
        .iter()
        .max_by(|a, b| a.1.cmp(b.1).then_with(|| b.0.cmp(a.0)))
        .map(|(cat, _)| *cat)
}

/// The columns of the four tables, `None` when a table is not in client order (the days by
/// client and day) or a column has another type or missing values where none are expected.
fn view(tables: &[DataFrame; 4]) -> Option<View<'_>> {
    let [days, invoices, products, categories] = tables;
    fn slice<'a, T: PolarsNumericType>(
        df: &'a DataFrame,
        name: &str,
        get: impl Fn(&'a Series) -> PolarsResult<&'a ChunkedArray<T>>,
    ) -> Option<&'a [T::Native]> {
        let s = df.column(name).ok()?.as_materialized_series();
        get(s).ok()?.cont_slice().ok()
    }
    fn array<'a, T: PolarsDataType>(
        df: &'a DataFrame,
        name: &str,
        get: impl Fn(&'a Series) -> PolarsResult<&'a ChunkedArray<T>>,
    ) -> Option<&'a T::Array> {
        let ca = get(df.column(name).ok()?.as_materialized_series()).ok()?;
        (ca.chunks().len() == 1).then(|| ca.downcast_iter().next())?
    }
    let v = View {
        d_client: slice(days, CLIENT, Series::i64)?,
        d_day: slice(days, DAY, Series::i32)?,
        d_purchases: slice(days, N_PURCHASE, Series::idx)?,
        d_value: slice(days, PURCHASE_VALUE, Series::f64)?,
        d_quantity: slice(days, PURCHASE_QUANTITY, Series::f64)?,
        d_returned: slice(days, RETURN_VALUE, Series::f64)?,
        d_all: slice(days, ALL_VALUE, Series::f64)?,
        i_client: slice(invoices, CLIENT, Series::i64)?,
        i_invoice: array(invoices, INVOICE, Series::str)?,
        i_day: slice(invoices, DAY, Series::i32)?,
        i_return: array(invoices, IS_RETURN, Series::bool)?,
        i_hour: array(invoices, HOUR, Series::i8)?,
        p_client: slice(products, CLIENT, Series::i64)?,
        p_day: slice(products, FIRST_DAY, Series::i32)?,
        p_n: slice(products, N_PRODUCTS, Series::idx)?,
        c_client: slice(categories, CLIENT, Series::i64)?,
        c_category: array(categories, CATEGORY, Series::str)?,
        c_day: slice(categories, DAY, Series::i32)?,
        c_n: slice(categories, N_LINES, Series::idx)?,
    };
    let days_in_order = v
        .d_client
        .windows(2)
        .zip(v.d_day.windows(2))
        .all(|(c, d)| (c[0], d[0]) < (c[1], d[1]));
    let in_order = days_in_order
        && ascending(v.i_client)
        && ascending(v.p_client)
        && ascending(v.c_client)
        && v.i_return.null_count() == 0;
    in_order.then_some(v)
}

/// The first client of each run of whole clients of the client-ordered column `client`
/// ([`client_pieces`]), ascending: the pieces every table of the history is split into by
/// client.
fn piece_starts(client: &[i64]) -> Vec<i64> {
    let bounds = client_pieces(client);
    bounds[..bounds.len() - 1]
        .iter()
        .filter_map(|&b| client.get(b).copied())
        .collect()
}

/// Per-client scratch space, reused from one client to the next.
#[derive(Default)]
struct Scratch<'a> {
    invoices: PlHashMap<Option<&'a str>, (i32, Option<i8>)>,
    returns: PlHashSet<Option<&'a str>>,
    categories: PlHashMap<&'a str, u64>,
    weekdays: Vec<i32>,
    hours: Vec<i8>,
    gaps: Vec<f64>,
    values: Vec<f64>,
}

/// The purchase days of a client on or before the cutoff, as polars' plan reads them.
struct Days<'v> {
    day: &'v [i32],
    value: &'v [f64],
    quantity: &'v [f64],
    purchases: &'v [IdxSize],
    returned: &'v [f64],
}

impl Days<'_> {
    /// The purchase days' values with `lo < day <= hi`, summed as polars' plan sums them
    /// (`kind`, [`Window::kind`]).
    fn value_between(&self, (lo, hi): (i32, i32), kind: SumKind, scratch: &mut Vec<f64>) -> f64 {
        scratch.clear();
        for ((&d, &v), &p) in self.day.iter().zip(self.value).zip(self.purchases) {
            if p > 0 && d > lo && d <= hi {
                scratch.push(v);
            }
        }
        match kind {
            SumKind::Slice => slice_sum(scratch),
            SumKind::Picked => {
                let mut s = GroupSum::default();
                for &x in scratch.iter() {
                    s.add(Some(x));
                }
                s.sum()
            }
        }
    }
}

/// How polars' group-by sums a group's values after a filter inside the group.
///
/// The filter leaves the groups as they were when it keeps every row of the whole table:
/// the sum is then the slice sum ([`slice_sum`]). When it drops any row of any group,
/// every group becomes a list of the rows kept, summed as a plain group-by sums them
/// ([`GroupSum`]). So the kind is a property of the whole table at the cutoff, not of one
/// client: [`features`] finds it for each window before the walk.
#[derive(Clone, Copy, Debug, PartialEq)]
enum SumKind {
    Slice,
    Picked,
}

/// The purchase days `lo < day <= hi` of a window at the cutoff, and how their values sum.
#[derive(Clone, Copy)]
struct Window {
    bounds: (i32, i32),
    kind: SumKind,
}

impl Window {
    /// The window `(lo, hi]` over the days table at `cutoff`: [`SumKind::Slice`] when every
    /// purchase day on or before the cutoff is in it.
    fn new(v: &View<'_>, cutoff: i32, lo: i32, hi: i32) -> Self {
        let outside = v
            .d_day
            .par_iter()
            .zip(v.d_purchases)
            .any(|(&d, &p)| p > 0 && d <= cutoff && !(d > lo && d <= hi));
        let kind = if outside {
            SumKind::Picked
        } else {
            SumKind::Slice
        };
        Self {
            bounds: (lo, hi),
            kind,
        }
    }
}

/// The four windows the features sum: all purchase days, the last 30 and 90 days, and the
/// 90 days before those.
#[derive(Clone, Copy)]
struct Windows {
    all: Window,
    last_30: Window,
    last_90: Window,
    prev_90: Window,
}

impl Windows {
    fn at(v: &View<'_>, c: i32) -> Self {
        Self {
            all: Window::new(v, c, i32::MIN, c),
            last_30: Window::new(v, c, c - 30, c),
            last_90: Window::new(v, c, c - 90, c),
            prev_90: Window::new(v, c, c - 180, c - 90),
        }
    }
}

/// The sum of a group's values as polars' group-by takes it when an expression (a sort and
/// a filter) has made the group a slice of values: 0 for none, the value for one, and for
/// more polars' own float sum of the slice (pairwise over blocks of 128, the first
/// `len % 128` values added in order), added to 0.
fn slice_sum(values: &[f64]) -> f64 {
    match values {
        [] => 0.0,
        [x] => *x,
        _ => 0.0 + <f64 as FloatSum<f64>>::sum(values),
    }
}

/// The features (`client_id` then [`FEATURES`], by client) of the clients in `[from, to)`.
fn features_of_piece(
    v: &View<'_>,
    from: i64,
    to: Option<i64>,
    c: i32,
    windows: Windows,
    shares: &PlHashMap<&str, f64>,
    top: &[String],
) -> (Vec<i64>, Vec<[f64; FEATURES.len()]>) {
    let (d_lo, d_hi) = rows_of(v.d_client, from, to);
    let (mut i_at, i_hi) = rows_of(v.i_client, from, to);
    let (mut p_at, p_hi) = rows_of(v.p_client, from, to);
    let (mut c_at, c_hi) = rows_of(v.c_client, from, to);
    let mut scratch = Scratch::default();
    let mut clients = Vec::new();
    let mut rows = Vec::new();
    for (s, e) in runs(v.d_client, d_lo, d_hi) {
        let client = v.d_client[s];
        // the client's rows of the other tables
        let rows_of_client = |tc: &[i64], at: &mut usize, hi: usize| {
            while *at < hi && tc[*at] < client {
                *at += 1;
            }
            let lo = *at;
            while *at < hi && tc[*at] == client {
                *at += 1;
            }
            (lo, *at)
        };
        let inv = rows_of_client(v.i_client, &mut i_at, i_hi);
        let prod = rows_of_client(v.p_client, &mut p_at, p_hi);
        let cat = rows_of_client(v.c_client, &mut c_at, c_hi);
        // days on or before the cutoff (the days are in day order)
        let until = s + v.d_day[s..e].partition_point(|&d| d <= c);
        let days = Days {
            day: &v.d_day[s..until],
            value: &v.d_value[s..until],
            quantity: &v.d_quantity[s..until],
            purchases: &v.d_purchases[s..until],
            returned: &v.d_returned[s..until],
        };
        let row = client_features(
            v,
            &days,
            inv,
            prod,
            cat,
            c,
            windows,
            shares,
            top,
            &mut scratch,
        );
        if let Some(row) = row {
            clients.push(client);
            rows.push(row);
        }
    }
    (clients, rows)
}

/// One client's 29 features, `None` without a purchase day on or before the cutoff.
#[allow(clippy::too_many_arguments)]
fn client_features<'a>(
    v: &View<'a>,
    days: &Days<'_>,
    (i_lo, i_hi): (usize, usize),
    (p_lo, p_hi): (usize, usize),
    (c_lo, c_hi): (usize, usize),
    c: i32,
    windows: Windows,
    shares: &PlHashMap<&str, f64>,
    top: &[String],
    scratch: &mut Scratch<'a>,
) -> Option<[f64; FEATURES.len()]> {
    // the purchase days
    let mut first = None;
    let mut last = 0;
    let mut n_days = 0u32;
    let mut first_amount = 0.0;
    let mut last_90 = 0u32;
    let mut quantity = GroupSum::default();
    let gaps = &mut scratch.gaps;
    gaps.clear();
    let mut previous: Option<i32> = None;
    for ((&d, &value), (&q, &p)) in days
        .day
        .iter()
        .zip(days.value)
        .zip(days.quantity.iter().zip(days.purchases))
    {
        if p == 0 {
            continue;
        }
        if first.is_none() {
            first = Some(d);
            first_amount = value;
        }
        last = d;
        n_days += 1;
        if d > c - 90 {
            last_90 += 1;
        }
        quantity.add(Some(q));
        if let Some(prev) = previous {
            gaps.push(f64::from(d - prev));
        }
        previous = Some(d);
    }
    let first = first?;
    let values = &mut scratch.values;
    let sum = |w: Window, values: &mut Vec<f64>| days.value_between(w.bounds, w.kind, values);
    let total_revenue = sum(windows.all, values);
    let rev_last_30 = sum(windows.last_30, values);
    let rev_last_90 = sum(windows.last_90, values);
    let rev_prev_90 = sum(windows.prev_90, values);
    let std_gap = if n_days >= 3 { std_of(gaps) } else { None };
    // every day's return value on or before the cutoff
    let ret_value = slice_sum(days.returned);

    // the purchase invoices: first day and hour of each; the return invoices
    scratch.invoices.clear();
    scratch.returns.clear();
    for k in i_lo..i_hi {
        let day = v.i_day[k];
        if day > c {
            continue;
        }
        let invoice = v.i_invoice.get(k);
        if v.i_return.value(k) {
            scratch.returns.insert(invoice);
            continue;
        }
        let hour = v.i_hour.get(k);
        scratch
            .invoices
            .entry(invoice)
            .and_modify(|(d, h)| {
                *d = (*d).min(day);
                *h = match (*h, hour) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
            })
            .or_insert((day, hour));
    }
    let n_invoices = (!scratch.invoices.is_empty()).then_some(scratch.invoices.len() as f64);
    scratch.weekdays.clear();
    scratch.hours.clear();
    for &(day, hour) in scratch.invoices.values() {
        scratch.weekdays.push(((day % 7) + 10) % 7);
        if let Some(h) = hour {
            scratch.hours.push(h);
        }
    }
    scratch.weekdays.sort_unstable();
    scratch.hours.sort_unstable();
    let weekday = mode_of_sorted(&scratch.weekdays).map(f64::from);
    let hour = mode_of_sorted(&scratch.hours).map(f64::from);
    let return_count = (!scratch.returns.is_empty()).then_some(scratch.returns.len() as f64);

    // products first bought on or before the cutoff
    let mut products: Option<u64> = None;
    for k in p_lo..p_hi {
        if v.p_day[k] <= c {
            *products.get_or_insert(0) += u64::from(v.p_n[k]);
        }
    }

    // the category and its features
    let category = category_of(v, c_lo, c_hi, c, &mut scratch.categories);
    let country_freq = category.and_then(|cat| shares.get(cat).copied());
    let flag = |i: usize| match (top.get(i), category) {
        (Some(name), Some(cat)) => Some(f64::from(u8::from(name == cat))),
        (Some(_), None) => None,
        (None, _) => Some(0.0),
    };

    // the plan's final arithmetic, in its order
    let freq = f64::from(n_days) - 1.0;
    let tr = total_revenue;
    let tq = quantity.sum();
    let den = rev_last_90 + rev_prev_90;
    let f = |x: i32| f64::from(x);
    let when = |cond: bool, then: f64| if cond { then } else { 0.0 };
    let features: [Option<f64>; FEATURES.len()] = [
        Some(f(c - last)),
        Some(f(last - first)),
        Some(freq),
        Some(f(c - first)),
        Some(when(freq > 0.0, (tr - first_amount) / freq)),
        Some(tr),
        Some(tr + ret_value),
        n_invoices,
        products.map(|p| p as f64),
        Some(tq),
        n_invoices.map(|n| tq / n),
        n_invoices.map(|n| tr / n),
        Some(when(tq > 0.0, tr / tq)),
        Some(when(freq > 0.0, f(last - first) / freq)),
        if freq >= 2.0 { std_gap } else { Some(0.0) },
        Some(f64::from(u8::from(freq == 0.0))),
        Some(rev_last_30),
        Some(rev_last_90),
        Some(rev_prev_90),
        Some(when(den > 0.0, (rev_last_90 - rev_prev_90) / den)),
        Some(f64::from(last_90)),
        return_count,
        Some(when(tr > 0.0, -ret_value / tr)),
        country_freq,
        flag(0),
        flag(1),
        flag(2),
        weekday,
        hour,
    ];
    // missing and NaN as 0
    Some(features.map(|x| match x {
        Some(x) if !x.is_nan() => x,
        _ => 0.0,
    }))
}

/// The population standard deviation (`ddof` 0) of `values`, as polars' group-by `std`
/// takes it over a group's slice: polars' own `VarState`, `None` without a value.
fn std_of(values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut state = VarState::default();
    state.combine(&polars_compute::moment::var(&PrimitiveArray::from_slice(
        values,
    )));
    state.finalize(0).map(f64::sqrt)
}

/// The 29 features at `cutoff` of the tables of a [`crate::History`] (days, invoices,
/// products, categories) with the categories' table `countries`: what
/// [`crate::History::features_at`]'s plan gives, bit for bit; `None` when the tables are not
/// in client order (the plan then runs).
pub(crate) fn features(
    tables: &[DataFrame; 4],
    cutoff: i32,
    countries: &CountryTable,
) -> PolarsResult<Option<DataFrame>> {
    let Some(v) = view(tables) else {
        return Ok(None);
    };
    let shares = countries.shares();
    let categories = shares.column(CATEGORY)?.str()?;
    let freqs = shares.column("country_freq")?.f64()?;
    let shares: PlHashMap<&str, f64> = categories
        .iter()
        .zip(freqs.iter())
        .filter_map(|(c, f)| Some((c?, f?)))
        .collect();
    let top = countries.top();
    let windows = Windows::at(&v, cutoff);
    let starts = piece_starts(v.d_client);
    let pieces: Vec<(Vec<i64>, Vec<[f64; FEATURES.len()]>)> = (0..starts.len())
        .into_par_iter()
        .map(|k| {
            let to = starts.get(k + 1).copied();
            features_of_piece(&v, starts[k], to, cutoff, windows, &shares, top)
        })
        .collect();
    let n: usize = pieces.iter().map(|p| p.0.len()).sum();
    let mut clients = Vec::with_capacity(n);
    let mut columns: Vec<Vec<f64>> = (0..FEATURES.len()).map(|_| Vec::with_capacity(n)).collect();
    for (cl, rows) in pieces {
        clients.extend(cl);
        for row in rows {
            for (col, x) in columns.iter_mut().zip(row) {
                col.push(x);
            }
        }
    }
    let mut client = Column::new(CLIENT.into(), clients);
    client.set_sorted_flag(polars::series::IsSorted::Ascending);
    let mut out = vec![client];
    out.extend(
        FEATURES
            .iter()
            .zip(columns)
            .map(|(name, values)| Column::new((*name).into(), values)),
    );
    Ok(Some(DataFrame::new(n, out)?))
}

/// The labels over `(cutoff, cutoff + horizon]` of every client with a day there
/// (`client_id`, `holdout_purchases`, `holdout_value`, in client order): what
/// [`crate::History::labels_at`]'s plan gives (in another row order), bit for bit; `None` when
/// the tables are not in client order.
pub(crate) fn labels(
    tables: &[DataFrame; 4],
    cutoff: i32,
    horizon: i32,
) -> PolarsResult<Option<DataFrame>> {
    let Some(v) = view(tables) else {
        return Ok(None);
    };
    let end = cutoff.saturating_add(horizon);
    let starts = piece_starts(v.d_client);
    let pieces: Vec<(Vec<i64>, Vec<f64>, Vec<f64>)> = (0..starts.len())
        .into_par_iter()
        .map(|k| {
            let (lo, hi) = rows_of(v.d_client, starts[k], starts.get(k + 1).copied());
            let (mut clients, mut purchases, mut values) = (Vec::new(), Vec::new(), Vec::new());
            for (s, e) in runs(v.d_client, lo, hi) {
                // the client's days in the horizon (its days are in day order)
                let from = s + v.d_day[s..e].partition_point(|&d| d <= cutoff);
                let to = s + v.d_day[s..e].partition_point(|&d| d <= end);
                if to > from {
                    clients.push(v.d_client[s]);
                    let bought = v.d_purchases[from..to].iter().filter(|&&p| p > 0).count();
                    purchases.push(bought as f64);
                    // (the plan's filter keeps every row of the horizon: a slice sum)
                    values.push(slice_sum(&v.d_all[from..to]));
                }
            }
            (clients, purchases, values)
        })
        .collect();
    let (mut clients, mut purchases, mut values) = (Vec::new(), Vec::new(), Vec::new());
    for (c, p, x) in pieces {
        clients.extend(c);
        purchases.extend(p);
        values.extend(x);
    }
    let n = clients.len();
    Ok(Some(DataFrame::new(
        n,
        vec![
            Column::new(CLIENT.into(), clients),
            Column::new("holdout_purchases".into(), purchases),
            Column::new("holdout_value".into(), values),
        ],
    )?))
}

/// Each client's category at `cutoff` (the mode of its lines' categories on or before it,
/// ties to the smallest), as `(client_id, alias)` in client order, for every client with a
/// category: what [`crate::History::category_mode`]'s plan gives (in another row order);
/// `None` when the categories table is not in client order or of another shape.
pub(crate) fn category_modes(
    tables: &[DataFrame; 4],
    cutoff: i32,
    alias: &str,
) -> PolarsResult<Option<DataFrame>> {
    let Some(v) = view(tables) else {
        return Ok(None);
    };
    let starts = piece_starts(v.c_client);
    let pieces: Vec<(Vec<i64>, Vec<&str>)> = (0..starts.len())
        .into_par_iter()
        .map(|k| {
            let (lo, hi) = rows_of(v.c_client, starts[k], starts.get(k + 1).copied());
            let mut counts = PlHashMap::new();
            let (mut clients, mut modes) = (Vec::new(), Vec::new());
            for (s, e) in runs(v.c_client, lo, hi) {
                if let Some(cat) = category_of(&v, s, e, cutoff, &mut counts) {
                    clients.push(v.c_client[s]);
                    modes.push(cat);
                }
            }
            (clients, modes)
        })
        .collect();
    let (mut clients, mut modes) = (Vec::new(), Vec::new());
    for (c, m) in pieces {
        clients.extend(c);
        modes.extend(m);
    }
    let n = clients.len();
    Ok(Some(DataFrame::new(
        n,
        vec![
            Column::new(CLIENT.into(), clients),
            Column::new(alias.into(), modes),
        ],
    )?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::History;
    use crate::builder::COUNTRY;
    use retain_core::{Cutoff, Horizon};
    use retain_data::cols::{AMOUNT, PRODUCT, QUANTITY};

    /// Same names, types, sorted flags and values, floats by their bits (0.0 and -0.0 differ).
    fn assert_same_bits(a: &DataFrame, b: &DataFrame, what: &str) {
        assert_eq!(a.schema(), b.schema(), "{what}");
        assert_eq!(a.height(), b.height(), "{what}");
        for (x, y) in a.columns().iter().zip(b.columns()) {
            assert_eq!(
                x.is_sorted_flag(),
                y.is_sorted_flag(),
                "{what}: {}",
                x.name()
            );
            if let (Ok(x), Ok(y)) = (x.f64(), y.f64()) {
                let bits = |c: &Float64Chunked| -> Vec<Option<u64>> {
                    c.iter().map(|v| v.map(f64::to_bits)).collect()
                };
                let (bx, by) = (bits(x), bits(y));
                if let Some(i) = (0..bx.len()).find(|&i| bx[i] != by[i]) {
                    panic!(
                        "{what}: {} of row {i}: one pass {:?}, plan {:?}",
                        x.name(),
                        x.get(i),
                        y.get(i)
                    );
                }
            } else {
                assert!(x.equals_missing(y), "{what}: {}", x.name());
            }
        }
    }

    /// One line: client, day, amount, quantity, return, hour, invoice, product, category.
    type Line = (
        i64,
        i32,
        f64,
        Option<i64>,
        bool,
        Option<i8>,
        Option<String>,
        Option<String>,
        Option<String>,
    );

    fn frame(mut rows: Vec<Line>) -> DataFrame {
        rows.sort_by_key(|r| (r.0, r.1));
        let n = rows.len();
        macro_rules! column {
            ($name:expr, $i:tt) => {
                Column::new(
                    $name.into(),
                    rows.iter().map(|r| r.$i.clone()).collect::<Vec<_>>(),
                )
            };
        }
        DataFrame::new(
            n,
            vec![
                column!(CLIENT, 0),
                column!(DAY, 1),
                column!(AMOUNT, 2),
                column!(QUANTITY, 3),
                column!(IS_RETURN, 4),
                column!(HOUR, 5),
                column!(INVOICE, 6),
                column!(PRODUCT, 7),
                column!(CATEGORY, 8),
            ],
        )
        .unwrap()
    }

    /// Clients of random lines: amounts over 24 orders of magnitude (where plain and
    /// compensated sums differ), -0.0, missing hours, invoices, products and categories,
    /// invoices over two days and with returns, returns only, long histories (200+ purchase
    /// days), days before 1970, and sums whose compensated and plain results differ.
    fn lines() -> DataFrame {
        let mut x = 0x9E3779B97F4A7C15u64;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let some = |s: String| Some(s);
        let mut rows: Vec<Line> = Vec::new();
        for c in 0..500i64 {
            let long = c % 50 == 0;
            let n = if long { 400 } else { next() % 30 };
            let mut day = (next() % 300) as i32 - 100;
            let returns_only = c % 37 == 0;
            for k in 0..n {
                day += (next() % if long { 2 } else { 25 }) as i32;
                let magnitude = 10f64.powi((next() % 24) as i32 - 8);
                let amount = match next() % 50 {
                    0 => -0.0,
                    1 => 0.0,
                    _ => ((next() % 2001) as f64 / 1000.0 - 0.3) * magnitude,
                };
                let invoice = match next() % 40 {
                    0 => None,
                    _ => some(format!("{}", c * 1000 + (k / 3) as i64)),
                };
                let product = (next() % 30 != 0).then(|| format!("p{}", next() % 20));
                let category = match next() % 25 {
                    0 => None,
                    r => some(format!("country {}", r % 4 + (c as u64 % 3))),
                };
                rows.push((
                    c,
                    day,
                    amount,
                    (next() % 10 != 0).then(|| (next() % 50) as i64),
                    returns_only || next() % 9 == 0,
                    (next() % 15 != 0).then(|| (next() % 24) as i8),
                    invoice,
                    product,
                    category,
                ));
            }
        }
        // a day whose purchase value's compensated sum (4) differs from the plain sum (0),
        // the next day's value small beside it
        for (k, a) in [1e16, 1.0, 1.0, 1.0, -1e16].into_iter().enumerate() {
            let inv = some(format!("big{k}"));
            rows.push((900, 250, a, Some(1), false, Some(9), inv, None, None));
        }
        for a in [1e-3, 7.0, -1e16, 1e16] {
            let inv = some("big".into());
            let cat = some("country 1".into());
            rows.push((900, 251, a, Some(1), false, Some(9), inv, None, cat));
        }
        frame(rows)
    }

    #[test]
    fn the_features_are_the_plan_s_bit_for_bit() {
        let lines = lines();
        let h = History::of_lines(&lines, 4_000).unwrap();
        let tables = h.collected.clone().expect("collected");
        let plain = History::new(lines.clone().lazy());
        assert!(plain.collected.is_none());
        let days = lines.column(DAY).unwrap().i32().unwrap();
        let (first, last) = (days.min().unwrap(), days.max().unwrap());
        // cutoffs before the data, where every purchase day is in the last 30 days, inside,
        // and after it where one window or another holds no purchase day
        let early = [first - 1, first, first + 5, first + 29];
        let late = [
            last,
            last + 10,
            last + 45,
            last + 100,
            last + 150,
            last + 200,
        ];
        for day in early
            .into_iter()
            .chain([0, 100, 180, 250, 251, 300])
            .chain(late)
        {
            let cutoff = Cutoff::from_day(day);
            let at = h.country_table(cutoff).unwrap();
            let later = h.country_table(Cutoff::from_day(300)).unwrap();
            for (countries, which) in [
                (CountryTable::empty(), "none"),
                (at, "at"),
                (later, "later"),
            ] {
                let what = format!("cutoff {day}, countries {which}");
                let ours = features(&tables, day, &countries)
                    .unwrap()
                    .expect("tables in client order");
                let plan = h.features_plan(cutoff, &countries).collect().unwrap();
                assert_same_bits(&ours, &plan, &what);
                // and polars' plan from the lines, condensing included
                let lines_plan = plain.features_at(cutoff, &countries).collect().unwrap();
                assert_same_bits(&ours, &lines_plan, &format!("{what}, from the lines"));
                if day >= 250 {
                    assert!(ours.height() > 400, "{what}: {}", ours.height());
                }
                if day == first + 5 {
                    assert!(ours.height() > 0, "{what}");
                }
                if day == last {
                    // groups past one block of polars' pairwise float sum
                    let most = ours.column("frequency").unwrap().f64().unwrap().max();
                    assert!(most.unwrap() > 128.0, "{what}: {most:?}");
                }
            }
            let sorted = |df: DataFrame| df.sort([CLIENT], Default::default()).unwrap();
            for horizon in [1, 30, 91, 400] {
                let ours = labels(&tables, day, horizon).unwrap().unwrap();
                let plan = h
                    .labels_plan(cutoff, Horizon::new(horizon as u32).unwrap())
                    .collect()
                    .unwrap();
                assert_same_bits(&sorted(ours), &sorted(plan), &format!("labels at {day}"));
            }
            let ours = category_modes(&tables, day, COUNTRY).unwrap().unwrap();
            let plan = h.category_mode_plan(day, COUNTRY).collect().unwrap();
            assert_same_bits(&sorted(ours), &sorted(plan), &format!("modes at {day}"));
        }
    }

    #[test]
    fn tables_out_of_client_order_are_left_to_the_plan() {
        let h = History::of_lines(&lines(), 1 << 20).unwrap();
        let mut tables = (*h.collected.clone().unwrap()).clone();
        tables[2] = tables[2]
            .sort([FIRST_DAY], SortMultipleOptions::default())
            .unwrap();
        assert!(
            features(&tables, 300, &CountryTable::empty())
                .unwrap()
                .is_none()
        );
        tables[0] = tables[0]
            .sort([DAY], SortMultipleOptions::default())
            .unwrap();
        assert!(category_modes(&tables, 300, COUNTRY).unwrap().is_none());
    }
}
