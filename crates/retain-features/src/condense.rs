//! The invoices, products and categories tables of [`crate::History`] in one pass over a
//! canonical line table (sorted by client, then day), in plain Rust.
//!
//! polars' group-bys on the text keys (invoice, product, category) were half the time of
//! condensing a part (0.3 s of 0.5 s per 0.8M lines of Online Retail II on 2 cores): they hash
//! every line's text against a table the size of the part. Here each client's lines are
//! contiguous, so each key is looked up in a map the size of one client's history, which
//! stays in cache. The tables hold the same rows as the group-bys gave (in another order,
//! which no reader of them depends on: they are only counted, minimised and grouped again),
//! with the same columns and types. The days table keeps polars' sums: their float results
//! are part of what every earlier output was, bit for bit.

use polars::prelude::*;
use rayon::prelude::*;
use retain_data::cols::{CATEGORY, CLIENT, DAY, HOUR, INVOICE, IS_RETURN, PRODUCT};

use crate::builder::{FIRST_DAY, N_LINES, N_PRODUCTS};

/// One client's rows of the three tables, appended to growing columns.
#[derive(Default)]
struct Tables {
    inv_client: Vec<i64>,
    inv_invoice: Vec<Option<String>>,
    inv_day: Vec<i32>,
    inv_return: Vec<bool>,
    inv_hour: Vec<Option<i8>>,
    prod_client: Vec<i64>,
    prod_day: Vec<i32>,
    prod_n: Vec<IdxSize>,
    cat_client: Vec<i64>,
    cat_category: Vec<Option<String>>,
    cat_day: Vec<i32>,
    cat_n: Vec<IdxSize>,
}

/// The columns read, as slices and arrays.
struct Lines<'a> {
    client: &'a [i64],
    day: &'a [i32],
    is_return: &'a BooleanChunked,
    hour: &'a Int8Chunked,
    invoice: &'a StringChunked,
    product: &'a StringChunked,
    category: &'a StringChunked,
}

impl Tables {
    /// Lines `[start, end)`, whole clients.
    fn fill(&mut self, l: &Lines<'_>, start: usize, end: usize) {
        let mut invoices: PlHashMap<(Option<&str>, i32, bool), usize> = PlHashMap::new();
        let mut products: PlHashSet<&str> = PlHashSet::new();
        let mut categories: PlHashMap<Option<&str>, usize> = PlHashMap::new();
        let mut s = start;
        while s < end {
            let c = l.client[s];
            let mut e = s + 1;
            while e < end && l.client[e] == c {
                e += 1;
            }
            invoices.clear();
            products.clear();
            let mut d = s;
            while d < e {
                let day = l.day[d];
                let mut de = d + 1;
                while de < e && l.day[de] == day {
                    de += 1;
                }
                categories.clear();
                let first_cat = self.cat_client.len();
                let mut new_products: IdxSize = 0;
                for i in d..de {
                    let ret = l.is_return.get(i).unwrap_or(false);
                    let inv = l.invoice.get(i);
                    let hour = l.hour.get(i);
                    match invoices.get(&(inv, day, ret)) {
                        Some(&row) => {
                            let h = &mut self.inv_hour[row];
                            *h = match (*h, hour) {
                                (Some(a), Some(b)) => Some(a.min(b)),
                                (a, b) => a.or(b),
                            };
                        }
                        None => {
                            invoices.insert((inv, day, ret), self.inv_client.len());
                            self.inv_client.push(c);
                            self.inv_invoice.push(inv.map(str::to_string));
                            self.inv_day.push(day);
                            self.inv_return.push(ret);
                            self.inv_hour.push(hour);
                        }
                    }
                    if !ret
                        && let Some(p) = l.product.get(i)
                        && products.insert(p)
                    {
                        new_products += 1;
                    }
                    let cat = l.category.get(i);
                    match categories.get(&cat) {
                        Some(&k) => self.cat_n[first_cat + k] += 1,
                        None => {
                            categories.insert(cat, self.cat_client.len() - first_cat);
                            self.cat_client.push(c);
                            self.cat_category.push(cat.map(str::to_string));
                            self.cat_day.push(day);
                            self.cat_n.push(1);
                        }
                    }
                }
                if new_products > 0 {
                    self.prod_client.push(c);
                    self.prod_day.push(day);
                    self.prod_n.push(new_products);
                }
                d = de;
            }
            s = e;
        }
    }

    fn append(&mut self, other: Tables) {
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

/// The invoices, products and categories tables of the canonical line table `lines` (sorted
/// by client, then day; one chunk per column), as [`crate::History::new`]'s plans define them.
pub(crate) fn text_tables(lines: &DataFrame) -> PolarsResult<[DataFrame; 3]> {
    let client = lines.column(CLIENT)?.i64()?.rechunk();
    let day = lines.column(DAY)?.i32()?.rechunk();
    let (client, day) = (client.cont_slice()?, day.cont_slice()?);
    let hour = lines.column(HOUR)?.cast(&DataType::Int8)?;
    let product = lines.column(PRODUCT)?.cast(&DataType::String)?;
    let category = lines.column(CATEGORY)?.cast(&DataType::String)?;
    let invoice = lines.column(INVOICE)?.cast(&DataType::String)?;
    let l = Lines {
        client,
        day,
        is_return: lines.column(IS_RETURN)?.bool()?,
        hour: hour.i8()?,
        invoice: invoice.str()?,
        product: product.str()?,
        category: category.str()?,
    };
    // pieces of whole clients, filled side by side, appended in order
    let n = client.len();
    let pieces = rayon::current_num_threads().max(1) * 4;
    let mut bounds = vec![0];
    for k in 1..pieces {
        let mut b = (n * k / pieces).max(*bounds.last().unwrap_or(&0));
        while b > 0 && b < n && client[b] == client[b - 1] {
            b += 1;
        }
        if b > *bounds.last().unwrap_or(&0) && b < n {
            bounds.push(b);
        }
    }
    bounds.push(n);
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
