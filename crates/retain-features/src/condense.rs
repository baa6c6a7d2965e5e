//! The invoices, products and categories tables of [`crate::History`] in one pass over a
//! canonical line table (sorted by client, then day), in plain Rust.
//!
//! polars' group-bys on the text keys (invoice, product, category) were half the time of
//! condensing a part (0.3 s of 0.5 s per 0.8M lines of Online Retail II on 2 cores): they hash
//! every line's text against a table the size of the part. Here each client's lines are
//! contiguous, so each key is looked up in a map the size of one client's history, which
//! stays in cache. The tables hold the same rows as the group-bys gave (in another order,
//! which no reader of them depends on: they are only counted, minimised and grouped again),
//! with the same columns and types.
//!
//! The days table ([`days_table`]) is one pass too: each (client, day)'s lines are contiguous,
//! so its sums are taken as they come. They must be polars' sums bit for bit (every earlier
//! output depends on them), so they are taken as polars' group-by takes them: nothing gives
//! 0, one value gives itself, more are added in table order by compensated (Kahan)
//! summation, polars' own `KahanSum`; missing quantities are skipped. The test
//! `the_days_table_is_polars_group_by_bit_for_bit` holds it to polars' plan on values whose
//! compensated and plain sums differ.

use polars::prelude::*;
use polars_arrow::array::{BooleanArray, PrimitiveArray, Utf8ViewArray};
use rayon::prelude::*;

use crate::runs::runs;
use retain_data::cols::{CATEGORY, CLIENT, DAY, HOUR, INVOICE, IS_RETURN, PRODUCT};

use polars_utils::kahan_sum::KahanSum;
use retain_data::cols::{AMOUNT, QUANTITY};

use crate::builder::{
    ALL_VALUE, FIRST_DAY, N_LINES, N_PRODUCTS, N_PURCHASE, PURCHASE_QUANTITY, PURCHASE_VALUE,
    RETURN_VALUE,
};

/// One client's rows of the three tables, appended to growing columns.
#[derive(Default)]
struct Tables<'a> {
    inv_client: Vec<i64>,
    inv_invoice: Vec<Option<&'a str>>,
    inv_day: Vec<i32>,
    inv_return: Vec<bool>,
    inv_hour: Vec<Option<i8>>,
    prod_client: Vec<i64>,
    prod_day: Vec<i32>,
    prod_n: Vec<IdxSize>,
    cat_client: Vec<i64>,
    cat_category: Vec<Option<&'a str>>,
    cat_day: Vec<i32>,
    cat_n: Vec<IdxSize>,
}

/// The columns read, as slices and arrays.
struct Lines<'a> {
    client: &'a [i64],
    day: &'a [i32],
    is_return: &'a BooleanArray,
    hour: &'a PrimitiveArray<i8>,
    invoice: &'a Utf8ViewArray,
    product: &'a Utf8ViewArray,
    category: &'a Utf8ViewArray,
}

impl<'a> Tables<'a> {
    /// Lines `[start, end)`, whole clients.
    fn fill(&mut self, l: &Lines<'a>, start: usize, end: usize) {
        let mut invoices: PlHashMap<(Option<&str>, i32, bool), usize> = PlHashMap::new();
        let mut products: PlHashSet<&str> = PlHashSet::new();
        let mut categories: PlHashMap<Option<&str>, usize> = PlHashMap::new();
        for (s, e) in runs(l.client, start, end) {
            let c = l.client[s];
            invoices.clear();
            products.clear();
            for (d, de) in runs(l.day, s, e) {
                let day = l.day[d];
                categories.clear();
                let first_cat = self.cat_client.len();
                let mut new_products: IdxSize = 0;
                // A line's invoice and category are most often the previous line's (an
                // invoice's lines are contiguous in the file): those rows are found without a
                // lookup, the same rows the maps would give.
                let mut previous_invoice: Option<(Option<&str>, bool, usize)> = None;
                let mut previous_category: Option<(Option<&str>, usize)> = None;
                for i in d..de {
                    let ret = l.is_return.get(i).unwrap_or(false);
                    let inv = l.invoice.get(i);
                    let hour = l.hour.get(i);
                    let row = match previous_invoice {
                        Some((p, r, row)) if r == ret && p == inv => Some(row),
                        _ => invoices.get(&(inv, day, ret)).copied(),
                    };
                    match row {
                        Some(row) => {
                            let h = &mut self.inv_hour[row];
                            *h = match (*h, hour) {
                                (Some(a), Some(b)) => Some(a.min(b)),
                                (a, b) => a.or(b),
                            };
                            previous_invoice = Some((inv, ret, row));
                        }
                        None => {
                            let row = self.inv_client.len();
                            invoices.insert((inv, day, ret), row);
                            self.inv_client.push(c);
                            self.inv_invoice.push(inv);
                            self.inv_day.push(day);
                            self.inv_return.push(ret);
                            self.inv_hour.push(hour);
                            previous_invoice = Some((inv, ret, row));
                        }
                    }
                    if !ret
                        && let Some(p) = l.product.get(i)
                        && products.insert(p)
                    {
                        new_products += 1;
                    }
                    let cat = l.category.get(i);
                    let k = match previous_category {
                        Some((p, k)) if p == cat => Some(k),
                        _ => categories.get(&cat).copied(),
                    };
                    match k {
                        Some(k) => {
                            self.cat_n[first_cat + k] += 1;
                            previous_category = Some((cat, k));
                        }
                        None => {
                            let k = self.cat_client.len() - first_cat;
                            categories.insert(cat, k);
                            self.cat_client.push(c);
                            self.cat_category.push(cat);
                            self.cat_day.push(day);
                            self.cat_n.push(1);
                            previous_category = Some((cat, k));
                        }
                    }
                }
                if new_products > 0 {
                    self.prod_client.push(c);
                    self.prod_day.push(day);
                    self.prod_n.push(new_products);
                }
            }
        }
    }

    fn append(&mut self, other: Tables<'a>) {
        self.inv_client.extend(other.inv_client);
        self.inv_invoice.extend(other.inv_invoice);
        self.inv_day.extend(other.inv_day);
        self.inv_return.extend(other.inv_return);
        self.inv_hour.extend(other.inv_hour);
        self.prod_client.extend(other.prod_client);
        self.prod_day.extend(other.prod_day);
        self.prod_n.extend(other.prod_n);
        self.cat_client.extend(other.cat_client);
        self.cat_category.extend(other.cat_category);
        self.cat_day.extend(other.cat_day);
        self.cat_n.extend(other.cat_n);
    }
}

/// The bounds of about four runs of whole clients per thread of the client-ordered column
/// `client`, for pieces worked on side by side: `0`, the first row of each run after the
/// first, then `client.len()` (`[0, 0]` when it is empty; [`retain_data::client_pieces`]).
pub(crate) fn client_pieces(client: &[i64]) -> Vec<usize> {
    retain_data::client_pieces(client.len(), |b| client[b] == client[b - 1])
}

/// The invoices, products and categories tables of the canonical line table `lines` (sorted
/// by client, then day; one chunk per column), as [`crate::History::new`]'s plans define them.
pub(crate) fn text_tables(lines: &DataFrame) -> PolarsResult<[DataFrame; 3]> {
    let client = lines.column(CLIENT)?.i64()?.rechunk();
    let day = lines.column(DAY)?.i32()?.rechunk();
    let (client, day) = (client.cont_slice()?, day.cont_slice()?);
    let hour = lines.column(HOUR)?.cast(&DataType::Int8)?;
    let hour = hour.i8()?.rechunk();
    let is_return = lines.column(IS_RETURN)?.bool()?.rechunk();
    let text = |name: &str| -> PolarsResult<StringChunked> {
        let c = lines.column(name)?.cast(&DataType::String)?;
        Ok(c.str()?.rechunk().into_owned())
    };
    let (product, category, invoice) = (text(PRODUCT)?, text(CATEGORY)?, text(INVOICE)?);
    // (each column one chunk: its array's values read in place, and the tables' text
    // borrowed from them until the tables are built)
    let l = Lines {
        client,
        day,
        is_return: is_return.downcast_as_array(),
        hour: hour.downcast_as_array(),
        invoice: invoice.downcast_as_array(),
        product: product.downcast_as_array(),
        category: category.downcast_as_array(),
    };
    // pieces of whole clients, filled side by side, appended in order
    let bounds = client_pieces(client);
    let parts: Vec<Tables> = bounds
        .par_windows(2)
        .map(|w| {
            let mut t = Tables::default();
            t.fill(&l, w[0], w[1]);
            t
        })
        .collect();
    let mut t = Tables::default();
    for p in parts {
        t.append(p);
    }
    let invoices = DataFrame::new(
        t.inv_client.len(),
        vec![
            Column::new(CLIENT.into(), t.inv_client),
            Column::new(INVOICE.into(), t.inv_invoice),
            Column::new(DAY.into(), t.inv_day),
            Column::new(IS_RETURN.into(), t.inv_return),
            Column::new(HOUR.into(), t.inv_hour),
        ],
    )?;
    let products = DataFrame::new(
        t.prod_client.len(),
        vec![
            Column::new(CLIENT.into(), t.prod_client),
            Column::new(FIRST_DAY.into(), t.prod_day),
            Column::new(N_PRODUCTS.into(), t.prod_n),
        ],
    )?;
    let categories = DataFrame::new(
        t.cat_client.len(),
        vec![
            Column::new(CLIENT.into(), t.cat_client),
            Column::new(CATEGORY.into(), t.cat_category),
            Column::new(DAY.into(), t.cat_day),
            Column::new(N_LINES.into(), t.cat_n),
        ],
    )?;
    Ok([invoices, products, categories])
}

/// A sum as polars' group-by takes it: 0 for a group of no row, the row's value for one (0
/// if missing), the compensated sum of the values present, in order, for more.
#[derive(Default)]
pub(crate) struct GroupSum {
    rows: usize,
    first: Option<f64>,
    kahan: KahanSum<f64>,
}

impl GroupSum {
    pub(crate) fn add(&mut self, x: Option<f64>) {
        if self.rows == 0 {
            self.first = x;
        }
        self.rows += 1;
        if let Some(x) = x {
            self.kahan += x;
        }
    }

    pub(crate) fn sum(&self) -> f64 {
        match self.rows {
            0 => 0.0,
            1 => self.first.unwrap_or(0.0),
            _ => self.kahan.sum(),
        }
    }
}

/// The days table of [`crate::History::new`] (one row per (client, day): purchase lines,
/// purchase value and quantity, return value, all value; sorted by client, then day) from
/// the canonical line table `lines` in one pass; `None` when the lines are not in client,
/// then day order (the caller then asks polars).
pub(crate) fn days_table(lines: &DataFrame) -> PolarsResult<Option<DataFrame>> {
    let client = lines.column(CLIENT)?.i64()?.rechunk();
    let day = lines.column(DAY)?.i32()?.rechunk();
    let amount = lines.column(AMOUNT)?.f64()?.rechunk();
    let quantity = lines.column(QUANTITY)?.cast(&DataType::Float64)?;
    let quantity = quantity.f64()?.rechunk();
    let is_return = lines.column(IS_RETURN)?.bool()?.rechunk();
    if client.null_count() + day.null_count() + amount.null_count() + is_return.null_count() > 0 {
        return Ok(None);
    }
    let (client, day, amount) = (
        client.cont_slice()?,
        day.cont_slice()?,
        amount.cont_slice()?,
    );
    let quantity = quantity.downcast_as_array();
    let is_return = is_return.downcast_as_array().values();
    let n = client.len();
    let sorted = (1..n).all(|i| (client[i - 1], day[i - 1]) <= (client[i], day[i]));
    if !sorted {
        return Ok(None);
    }
    let mut out_client: Vec<i64> = Vec::new();
    let mut out_day: Vec<i32> = Vec::new();
    let mut n_purchase: Vec<IdxSize> = Vec::new();
    let mut purchase_value: Vec<f64> = Vec::new();
    let mut purchase_quantity: Vec<f64> = Vec::new();
    let mut return_value: Vec<f64> = Vec::new();
    let mut all_value: Vec<f64> = Vec::new();
    let mut s = 0;
    while s < n {
        let (c, d) = (client[s], day[s]);
        let mut e = s + 1;
        while e < n && client[e] == c && day[e] == d {
            e += 1;
        }
        let (mut purchases, mut pv, mut pq, mut rv, mut all) = (
            0 as IdxSize,
            GroupSum::default(),
            GroupSum::default(),
            GroupSum::default(),
            GroupSum::default(),
        );
        for (i, &a) in (s..e).zip(&amount[s..e]) {
            all.add(Some(a));
            if is_return.get_bit(i) {
                rv.add(Some(a));
            } else {
                purchases += 1;
                pv.add(Some(a));
                pq.add(quantity.get(i));
            }
        }
        out_client.push(c);
        out_day.push(d);
        n_purchase.push(purchases);
        purchase_value.push(pv.sum());
        purchase_quantity.push(pq.sum());
        return_value.push(rv.sum());
        all_value.push(all.sum());
        s = e;
    }
    let rows = out_client.len();
    // marked sorted, as polars' sort marks its first key
    let mut out_client = Column::new(CLIENT.into(), out_client);
    out_client.set_sorted_flag(polars::series::IsSorted::Ascending);
    Ok(Some(DataFrame::new(
        rows,
        vec![
            out_client,
            Column::new(DAY.into(), out_day),
            Column::new(N_PURCHASE.into(), n_purchase),
            Column::new(PURCHASE_VALUE.into(), purchase_value),
            Column::new(PURCHASE_QUANTITY.into(), purchase_quantity),
            Column::new(RETURN_VALUE.into(), return_value),
            Column::new(ALL_VALUE.into(), all_value),
        ],
    )?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::History;

    /// Every column of `a` and `b` the same: names, types, sorted flags, and each float
    /// value bit for bit (so 0.0 and -0.0 differ).
    fn assert_same_bits(a: &DataFrame, b: &DataFrame) {
        assert_eq!(a.schema(), b.schema());
        assert_eq!(a.height(), b.height());
        for (x, y) in a.columns().iter().zip(b.columns()) {
            assert_eq!(x.is_sorted_flag(), y.is_sorted_flag(), "{}", x.name());
            if let (Ok(x), Ok(y)) = (x.f64(), y.f64()) {
                let bits = |c: &Float64Chunked| -> Vec<Option<u64>> {
                    c.iter().map(|v| v.map(f64::to_bits)).collect()
                };
                assert_eq!(bits(x), bits(y), "{}", x.name());
            } else {
                assert!(x.equals_missing(y), "{}", x.name());
            }
        }
    }

    fn lines(rows: Vec<(i64, i32, f64, Option<f64>, bool)>) -> DataFrame {
        let n = rows.len();
        let col = |name: &str, s: Series| s.with_name(name.into()).into_column();
        DataFrame::new(
            n,
            vec![
                col(
                    CLIENT,
                    Series::new("".into(), rows.iter().map(|r| r.0).collect::<Vec<_>>()),
                ),
                col(
                    DAY,
                    Series::new("".into(), rows.iter().map(|r| r.1).collect::<Vec<_>>()),
                ),
                col(
                    AMOUNT,
                    Series::new("".into(), rows.iter().map(|r| r.2).collect::<Vec<_>>()),
                ),
                col(
                    QUANTITY,
                    Series::new("".into(), rows.iter().map(|r| r.3).collect::<Vec<_>>()),
                ),
                col(
                    IS_RETURN,
                    Series::new("".into(), rows.iter().map(|r| r.4).collect::<Vec<_>>()),
                ),
            ],
        )
        .unwrap()
    }

    fn polars_days(lines: &DataFrame) -> DataFrame {
        History::new(lines.clone().lazy()).days.collect().unwrap()
    }

    #[test]
    fn the_days_table_is_polars_group_by_bit_for_bit() {
        // groups whose compensated and plain sums differ, single lines, -0.0 alone and in
        // sums, missing quantities, returns only
        let l = lines(vec![
            (1, 10, 1e16, Some(1.0), false),
            (1, 10, 1.0, Some(1e16), false),
            (1, 10, 1.0, None, false),
            (1, 10, 1.0, Some(-1e16), false),
            (1, 10, -1e16, Some(1.0), false),
            (1, 11, -0.0, None, false),
            (1, 12, -0.0, Some(-0.0), false),
            (1, 12, -0.0, Some(-0.0), false),
            (2, 10, -5.0, Some(-1.0), true),
            (2, 10, -0.0, None, true),
            (2, 11, 0.1, None, false),
            (2, 11, 0.2, Some(0.3), false),
            (2, 11, 0.3, None, false),
            (2, 11, -0.6, Some(-0.1), true),
            (3, 1, 3.0, None, false),
            (3, 1, 1e-300, None, false),
            (3, 1, 1e300, None, false),
            (3, 1, -1e300, None, false),
        ]);
        let ours = days_table(&l).unwrap().expect("lines in order");
        assert_same_bits(&ours, &polars_days(&l));
        // (a sum the test is about: 1e16 + 1 + 1 + 1 - 1e16 added plainly in order is 0)
        let pv = ours.column(PURCHASE_VALUE).unwrap().f64().unwrap().get(0);
        let plain = [1e16, 1.0, 1.0, 1.0, -1e16].iter().fold(0.0, |a, b| a + b);
        assert_eq!(plain, 0.0);
        assert_ne!(pv, Some(plain));

        // many clients of random lines over a wide range of magnitudes
        let mut x = 0x2545F4914F6CDD1Du64;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut rows = Vec::new();
        for c in 0..400i64 {
            let mut d = 0;
            for _ in 0..(next() % 40) {
                d += (next() % 3) as i32;
                let magnitude = 10f64.powi((next() % 24) as i32 - 8);
                let v = (next() % 2001) as f64 / 1000.0 - 1.0;
                let q = (next() % 5 != 0).then(|| (next() % 100) as f64 * magnitude);
                rows.push((c, d, v * magnitude, q, next() % 7 == 0));
            }
        }
        let l = lines(rows);
        assert_same_bits(&days_table(&l).unwrap().unwrap(), &polars_days(&l));
    }

    #[test]
    fn lines_out_of_order_are_left_to_polars() {
        let l = lines(vec![(2, 1, 1.0, None, false), (1, 1, 1.0, None, false)]);
        assert!(days_table(&l).unwrap().is_none());
        let l = lines(vec![(1, 2, 1.0, None, false), (1, 1, 1.0, None, false)]);
        assert!(days_table(&l).unwrap().is_none());
    }
}
